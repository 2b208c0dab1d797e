/* Radial basis with a smooth cutoff, and the MLP on invariants (SiLU),
 * with the second-order backward TraceGrad needs. */
#include <math.h>
#include <string.h>

#include "nextham/nn.h"
#include "nnimpl.h"

/* ------------------------------------------------------------------------
 * Bessel radial basis × polynomial cutoff
 * --------------------------------------------------------------------- */

/* u(x) = 1 - 28x⁶ + 48x⁷ - 21x⁸, u' = -168 x⁵ (1-x)²; zero for x >= 1. */
static void cutoff(double x, double *u, double *du) {
  if (x >= 1.0) {
    *u = *du = 0.0;
    return;
  }
  const double x5 = x * x * x * x * x, x6 = x5 * x;
  *u = 1.0 - 28.0 * x6 + 48.0 * x6 * x - 21.0 * x6 * x * x;
  *du = -168.0 * x5 * (1.0 - x) * (1.0 - x);
}

void nh_nn_radial_forward(double *out, const double *r, int nb, double rc,
                          int E) {
  // r (E), out (E, nb)
  const double pref = sqrt(2.0 / rc);
  for (int e = 0; e < E; e++) {
    double u, du;
    cutoff(r[e] / rc, &u, &du);
    for (int k = 1; k <= nb; k++)
      out[(size_t)e * nb + k - 1] =
          pref * sin(k * M_PI * r[e] / rc) / r[e] * u;
  }
}

void nh_nn_radial_backward(double *d_r, const double *d_out, const double *r,
                           int nb, double rc, int E) {
  const double pref = sqrt(2.0 / rc);
  for (int e = 0; e < E; e++) {
    double u, du;
    cutoff(r[e] / rc, &u, &du);
    double g = 0.0;
    for (int k = 1; k <= nb; k++) {
      const double w = k * M_PI / rc, s = sin(w * r[e]), c = cos(w * r[e]);
      const double f = s / r[e];
      const double df = (w * c - f) / r[e];
      g += d_out[(size_t)e * nb + k - 1] * pref * (df * u + f * du / rc);
    }
    d_r[e] += g;
  }
}

/* ------------------------------------------------------------------------
 * MLP
 * --------------------------------------------------------------------- */

nh_err nh_nn_mlp_set(nh_nn_mlp *mlp, int nlayer, const int *size) {
  NH_CHECK(nlayer >= 1 && nlayer <= NH_NN_MLP_MAXLAYER, NH_ERR_ARG,
           "mlp: %d layers, need 1..%d", nlayer, NH_NN_MLP_MAXLAYER);
  memset(mlp, 0, sizeof *mlp);
  mlp->nlayer = nlayer;
  for (int l = 0; l <= nlayer; l++) {
    NH_CHECK(size[l] >= 1, NH_ERR_ARG, "mlp: width %d of layer %d", size[l],
             l);
    mlp->size[l] = size[l];
  }
  return NH_OK;
}

size_t nh_nn_mlp_nparams(const nh_nn_mlp *mlp) {
  size_t n = 0;
  for (int l = 1; l <= mlp->nlayer; l++)
    n += (size_t)mlp->size[l] * (mlp->size[l - 1] + 1);
  return n;
}

static size_t hidden_sum(const nh_nn_mlp *mlp) {
  size_t n = 0;
  for (int l = 1; l < mlp->nlayer; l++)
    n += mlp->size[l];
  return n;
}

static int max_width(const nh_nn_mlp *mlp) {
  int w = 0;
  for (int l = 0; l <= mlp->nlayer; l++)
    w = mlp->size[l] > w ? mlp->size[l] : w;
  return w;
}

size_t nh_nn_mlp_cache(const nh_nn_mlp *mlp, int rows) {
  return 2 * (size_t)rows * hidden_sum(mlp);
}

size_t nh_nn_mlp_work(const nh_nn_mlp *mlp, int rows) {
  return 2 * (size_t)rows * hidden_sum(mlp) + 4 * (size_t)rows * max_width(mlp);
}

void nh_nn_mlp_forward(double *out, double *cache, const double *in,
                       const double *params, const nh_nn_mlp *mlp, int rows) {
  // in (rows, size[0]) -> out (rows, size[nlayer]);
  // cache per hidden layer l: a_l (rows, size[l]) then h_l = SiLU(a_l)
  const double *h = in, *p = params;
  double *c = cache;
  for (int l = 1; l <= mlp->nlayer; l++) {
    const int n = mlp->size[l], m = mlp->size[l - 1];
    const double *W = p, *b = p + (size_t)n * m;
    p += (size_t)n * (m + 1);
    double *a = l == mlp->nlayer ? out : c;
    for (int r = 0; r < rows; r++)
      memcpy(a + (size_t)r * n, b, n * sizeof(double));
    nn_gemm('N', 'T', rows, n, m, 1.0, h, m, W, m, 1.0, a, n);
    if (l < mlp->nlayer) {
      double *hh = c + (size_t)rows * n;
      for (size_t j = 0; j < (size_t)rows * n; j++)
        hh[j] = nn_silu(a[j]);
      h = hh;
      c += 2 * (size_t)rows * n;
    }
  }
}

/* Layout helpers for backward: parameter, cache and tangent offsets. */
typedef struct mlp_map {
  size_t par[NH_NN_MLP_MAXLAYER + 2], hid[NH_NN_MLP_MAXLAYER + 2];
} mlp_map;

static void mlp_offsets(const nh_nn_mlp *mlp, int rows, mlp_map *mp) {
  mp->par[1] = 0;
  mp->hid[1] = 0;
  for (int l = 1; l <= mlp->nlayer; l++) {
    mp->par[l + 1] =
        mp->par[l] + (size_t)mlp->size[l] * (mlp->size[l - 1] + 1);
    mp->hid[l + 1] = mp->hid[l] + 2 * (size_t)rows * mlp->size[l];
  }
}

void nh_nn_mlp_backward(double *d_in, double *d_params, const double *d_out,
                        const double *v, double *work, const double *cache,
                        const double *in, const double *params,
                        const nh_nn_mlp *mlp, int rows) {
  // Reverse sweep over the graph {a_l = W_l h_{l-1} + b_l, h_l = σ(a_l)}
  // and, when v is given, its forward tangent {ȧ_l = W_l ḣ_{l-1},
  // ḣ_l = σ'(a_l) ȧ_l, ḣ_0 = v} whose output 1ᵀ ż = v·∇φ. Adjoints:
  // hb = ∂/∂h_l, hdb = ∂/∂ḣ_l; then ab = σ' hb + σ'' ȧ hdb, adb = σ' hdb.
  const int nl = mlp->nlayer, maxw = max_width(mlp);
  mlp_map mp;
  mlp_offsets(mlp, rows, &mp);
  double *tang = work; /* ȧ_l, ḣ_l at mp.hid[l], like the cache */
  double *hb = work + 2 * (size_t)rows * hidden_sum(mlp);
  double *hdb = hb + (size_t)rows * maxw, *ab = hdb + (size_t)rows * maxw;
  double *adb = ab + (size_t)rows * maxw;
#define H_(l) ((l) == 0 ? in : cache + mp.hid[l] + (size_t)rows * mlp->size[l])
#define HD_(l) ((l) == 0 ? v : tang + mp.hid[l] + (size_t)rows * mlp->size[l])
  if (v)
    for (int l = 1; l < nl; l++) {
      const int n = mlp->size[l], m = mlp->size[l - 1];
      double *adot = tang + mp.hid[l], *hdot = adot + (size_t)rows * n;
      const double *a = cache + mp.hid[l];
      nn_gemm('N', 'T', rows, n, m, 1.0, HD_(l - 1), m, params + mp.par[l], m,
              0.0, adot, n);
      for (size_t j = 0; j < (size_t)rows * n; j++)
        hdot[j] = nn_dsilu(a[j]) * adot[j];
    }
  { /* the linear top layer */
    const int n = mlp->size[nl], m = mlp->size[nl - 1];
    const double *W = params + mp.par[nl];
    double *dW = d_params ? d_params + mp.par[nl] : NULL;
    if (d_out) {
      if (dW) {
        nn_gemm('T', 'N', n, m, rows, 1.0, d_out, n, H_(nl - 1), m, 1.0, dW,
                m);
        for (int r = 0; r < rows; r++)
          for (int j = 0; j < n; j++)
            dW[(size_t)n * m + j] += d_out[(size_t)r * n + j];
      }
      nn_gemm('N', 'N', rows, m, n, 1.0, d_out, n, W, m, 0.0, hb, m);
    } else {
      memset(hb, 0, (size_t)rows * m * sizeof(double));
    }
    if (v) { /* φ = Σ_j z_j: ∂S/∂W_ji = Σ_rows ḣ_i, ∂S/∂ḣ_i = Σ_j W_ji */
      const double *hd = HD_(nl - 1);
      for (int i = 0; i < m; i++) {
        double s = 0.0, w = 0.0;
        for (int r = 0; r < rows; r++)
          s += hd[(size_t)r * m + i];
        for (int j = 0; j < n; j++) {
          w += W[(size_t)j * m + i];
          if (dW)
            dW[(size_t)j * m + i] += s;
        }
        for (int r = 0; r < rows; r++)
          hdb[(size_t)r * m + i] = w;
      }
    }
  }
  for (int l = nl - 1; l >= 1; l--) {
    const int n = mlp->size[l], m = mlp->size[l - 1];
    const double *a = cache + mp.hid[l], *adot = tang + mp.hid[l];
    const double *W = params + mp.par[l];
    for (size_t j = 0; j < (size_t)rows * n; j++) {
      ab[j] = nn_dsilu(a[j]) * hb[j];
      if (v) {
        ab[j] += nn_d2silu(a[j]) * adot[j] * hdb[j];
        adb[j] = nn_dsilu(a[j]) * hdb[j];
      }
    }
    if (d_params) {
      double *dW = d_params + mp.par[l];
      nn_gemm('T', 'N', n, m, rows, 1.0, ab, n, H_(l - 1), m, 1.0, dW, m);
      if (v)
        nn_gemm('T', 'N', n, m, rows, 1.0, adb, n, HD_(l - 1), m, 1.0, dW, m);
      for (int r = 0; r < rows; r++)
        for (int j = 0; j < n; j++)
          dW[(size_t)n * m + j] += ab[(size_t)r * n + j];
    }
    nn_gemm('N', 'N', rows, m, n, 1.0, ab, n, W, m, 0.0, hb, m);
    if (v)
      nn_gemm('N', 'N', rows, m, n, 1.0, adb, n, W, m, 0.0, hdb, m);
  }
#undef H_
#undef HD_
  if (d_in)
    for (size_t j = 0; j < (size_t)rows * mlp->size[0]; j++)
      d_in[j] += hb[j];
}
