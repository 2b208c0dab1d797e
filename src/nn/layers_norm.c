/* Equivariant layer norm: a usual layer norm on the 0e channels, an RMS
 * norm (no mean, which would not be invariant) on every other kind. */
#include <math.h>

#include "nextham/nn.h"

static int is_0e(const nh_nn_irreps *ir, int k) {
  return ir->L[k] == 0 && ir->parity[k] == 1;
}

size_t nh_nn_norm_nparams(const nh_nn_irreps *ir) {
  size_t n = 0;
  for (int k = 0; k < ir->nkind; k++)
    n += ir->mul[k] * (is_0e(ir, k) ? 2 : 1);
  return n;
}

/* Offset of the 0e bias in the parameters (after all gains). */
static size_t bias_off(const nh_nn_irreps *ir) {
  size_t n = 0;
  for (int k = 0; k < ir->nkind; k++)
    n += ir->mul[k];
  return n;
}

/* Mean (0e only) and 1/sqrt(var + eps) of kind k of one row. */
static void stats(const double *x, const nh_nn_irreps *ir, int k, double *mean,
                  double *rstd) {
  const int cnt = ir->mul[k] * (2 * ir->L[k] + 1);
  double m = 0.0, v = 0.0;
  if (is_0e(ir, k)) {
    for (int j = 0; j < cnt; j++)
      m += x[j];
    m /= cnt;
  }
  for (int j = 0; j < cnt; j++)
    v += (x[j] - m) * (x[j] - m);
  *mean = m;
  *rstd = 1.0 / sqrt(v / cnt + NH_NN_NORM_EPS);
}

void nh_nn_norm_forward(double *out, const double *in, const double *params,
                        const nh_nn_irreps *ir, int n) {
  // in, out (n, dim); params: g[Σ mul], b[mul_0e]
  const double *b = params + bias_off(ir);
  for (int i = 0; i < n; i++) {
    const double *g = params;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1;
      const double *x = in + (size_t)i * ir->dim + ir->off[k];
      double *y = out + (size_t)i * ir->dim + ir->off[k];
      double mean, rstd;
      stats(x, ir, k, &mean, &rstd);
      for (int c = 0; c < ir->mul[k]; c++)
        for (int a = 0; a < d; a++)
          y[c * d + a] = (x[c * d + a] - mean) * rstd * g[c] +
                         (is_0e(ir, k) ? b[c] : 0.0);
      g += ir->mul[k];
    }
  }
}

void nh_nn_norm_backward(double *d_in, double *d_params, const double *d_out,
                         const double *in, const double *params,
                         const nh_nn_irreps *ir, int n) {
  const size_t pb = bias_off(ir);
  for (int i = 0; i < n; i++) {
    size_t pg = 0;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1, cnt = ir->mul[k] * d;
      const size_t o = (size_t)i * ir->dim + ir->off[k];
      const double *x = in + o, *dy = d_out + o, *g = params + pg;
      double mean, rstd;
      stats(x, ir, k, &mean, &rstd);
      // two reductions over the kind: <dx̂> (0e only) and <dx̂ · x̂>
      double dmean = 0.0, dproj = 0.0;
      for (int j = 0; j < cnt; j++) {
        const double dn = g[j / d] * dy[j];
        dmean += dn;
        dproj += dn * (x[j] - mean) * rstd;
      }
      dmean = is_0e(ir, k) ? dmean / cnt : 0.0;
      dproj /= cnt;
      for (int j = 0; j < cnt; j++) {
        const double xn = (x[j] - mean) * rstd;
        if (d_params) {
          d_params[pg + j / d] += xn * dy[j];
          if (is_0e(ir, k))
            d_params[pb + j] += dy[j];
        }
        if (d_in)
          d_in[o + j] += (g[j / d] * dy[j] - dmean - xn * dproj) * rstd;
      }
      pg += ir->mul[k];
    }
  }
}
