/* Invariants of equivariant features and the TraceGrad block: an
 * unrestricted MLP z on the invariants, new equivariant features from the
 * analytic gradient of Σ z with respect to the features. */
#include <string.h>

#include "nextham/nn.h"

/* ------------------------------------------------------------------------
 * Invariants: per kind, the products Σ_m x_kcm x_kc'm of channel pairs
 * (c' = c: squared norms; c' >= c: the Gram matrix' upper triangle, row by
 * row), then the 0e channels themselves
 * --------------------------------------------------------------------- */

static int k0e(const nh_nn_irreps *ir) { return nh_nn_irreps_find(ir, 0, 1); }

/* Last partner channel of c in kind k. */
static int last(const nh_nn_irreps *ir, int k, int mode, int c) {
  return mode == NH_NN_INV_GRAM ? ir->mul[k] - 1 : c;
}

int nh_nn_invariants_dim(const nh_nn_irreps *ir, int mode) {
  int n = 0;
  for (int k = 0; k < ir->nkind; k++)
    n += mode == NH_NN_INV_GRAM ? ir->mul[k] * (ir->mul[k] + 1) / 2
                                : ir->mul[k];
  return n + (k0e(ir) >= 0 ? ir->mul[k0e(ir)] : 0);
}

void nh_nn_invariants_forward(double *out, const double *in,
                              const nh_nn_irreps *ir, int mode, int n) {
  // in (n, dim) -> out (n, nin): x_kc·x_kc' for the pairs; then x_{0e,c}
  const int nin = nh_nn_invariants_dim(ir, mode), ks = k0e(ir);
  for (int i = 0; i < n; i++) {
    const double *x = in + (size_t)i * ir->dim;
    double *q = out + (size_t)i * nin;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1;
      const double *xk = x + ir->off[k];
      for (int c = 0; c < ir->mul[k]; c++)
        for (int c2 = c; c2 <= last(ir, k, mode, c); c2++, q++) {
          *q = 0.0;
          for (int a = 0; a < d; a++)
            *q += xk[c * d + a] * xk[c2 * d + a];
        }
    }
    if (ks >= 0)
      memcpy(q, x + ir->off[ks], ir->mul[ks] * sizeof(double));
  }
}

/* d_in += (∂q/∂x)ᵀ d_out for the products only (linear = 0) or also for
 * the 0e channels (linear = 1). The products are bilinear, so with
 * x := d_g and d_out := p this is also TraceGrad's direct term. */
static void products_backward(double *d_in, const double *d_out,
                              const double *in, const nh_nn_irreps *ir,
                              int mode, int n, int linear) {
  const int nin = nh_nn_invariants_dim(ir, mode), ks = k0e(ir);
  for (int i = 0; i < n; i++) {
    const double *x = in + (size_t)i * ir->dim;
    const double *dq = d_out + (size_t)i * nin;
    double *dx = d_in + (size_t)i * ir->dim;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1, o = ir->off[k];
      for (int c = 0; c < ir->mul[k]; c++)
        for (int c2 = c; c2 <= last(ir, k, mode, c); c2++, dq++)
          for (int a = 0; a < d; a++) {
            dx[o + c * d + a] += *dq * x[o + c2 * d + a];
            dx[o + c2 * d + a] += *dq * x[o + c * d + a];
          }
    }
    if (linear && ks >= 0)
      for (int c = 0; c < ir->mul[ks]; c++)
        dx[ir->off[ks] + c] += dq[c];
  }
}

void nh_nn_invariants_backward(double *d_in, const double *d_out,
                               const double *in, const nh_nn_irreps *ir,
                               int mode, int n) {
  products_backward(d_in, d_out, in, ir, mode, n, 1);
}

/* out = J t, J = ∂invariants/∂x at x: the directional derivative. */
static void invariants_jvp(double *out, const double *t, const double *in,
                           const nh_nn_irreps *ir, int mode, int n) {
  const int nin = nh_nn_invariants_dim(ir, mode), ks = k0e(ir);
  for (int i = 0; i < n; i++) {
    const double *x = in + (size_t)i * ir->dim, *ti = t + (size_t)i * ir->dim;
    double *q = out + (size_t)i * nin;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1, o = ir->off[k];
      for (int c = 0; c < ir->mul[k]; c++)
        for (int c2 = c; c2 <= last(ir, k, mode, c); c2++, q++) {
          *q = 0.0;
          for (int a = 0; a < d; a++)
            *q += ti[o + c * d + a] * x[o + c2 * d + a] +
                  x[o + c * d + a] * ti[o + c2 * d + a];
        }
    }
    if (ks >= 0)
      memcpy(q, ti + ir->off[ks], ir->mul[ks] * sizeof(double));
  }
}

/* ------------------------------------------------------------------------
 * TraceGrad
 * --------------------------------------------------------------------- */

nh_err nh_nn_tracegrad_set(nh_nn_tracegrad *tg, const nh_nn_irreps *ir,
                           int mode, int nhidden, const int *hidden, int nz) {
  NH_CHECK(nhidden >= 0 && nhidden < NH_NN_MLP_MAXLAYER, NH_ERR_ARG,
           "tracegrad: %d hidden layers, need 0..%d", nhidden,
           NH_NN_MLP_MAXLAYER - 1);
  int size[NH_NN_MLP_MAXLAYER + 1];
  memset(tg, 0, sizeof *tg);
  NH_CHECK(mode == NH_NN_INV_NORM || mode == NH_NN_INV_GRAM, NH_ERR_ARG,
           "tracegrad: invariants mode %d", mode);
  tg->ir = *ir;
  tg->mode = mode;
  tg->nin = nh_nn_invariants_dim(ir, mode);
  tg->nz = nz;
  size[0] = tg->nin;
  for (int l = 0; l < nhidden; l++)
    size[l + 1] = hidden[l];
  size[nhidden + 1] = nz;
  NH_CALL(nh_nn_mlp_set(&tg->mlp, nhidden + 1, size));
  return NH_OK;
}

size_t nh_nn_tracegrad_nparams(const nh_nn_tracegrad *tg) {
  return nh_nn_mlp_nparams(&tg->mlp);
}

size_t nh_nn_tracegrad_cache(const nh_nn_tracegrad *tg, int n) {
  return 2 * (size_t)n * tg->nin + nh_nn_mlp_cache(&tg->mlp, n);
}

size_t nh_nn_tracegrad_work(const nh_nn_tracegrad *tg, int n) {
  const size_t a = (size_t)n * tg->nz, b = 2 * (size_t)n * tg->nin;
  return (a > b ? a : b) + nh_nn_mlp_work(&tg->mlp, n);
}

void nh_nn_tracegrad_forward(double *g, double *z, double *cache, double *work,
                             const double *f, const double *params,
                             const nh_nn_tracegrad *tg, int n) {
  // f (n, dim) -> z (n, nz) invariant, g (n, dim) = ∂(Σ_j z_j)/∂f.
  // cache: z_in (n, nin), p = ∂φ/∂z_in (n, nin), the MLP's cache
  const size_t nn = (size_t)n * tg->nin;
  double *zin = cache, *p = cache + nn, *mc = cache + 2 * nn;
  double *ones = work, *mw = work + nh_nn_tracegrad_work(tg, n) -
                             nh_nn_mlp_work(&tg->mlp, n);
  nh_nn_invariants_forward(zin, f, &tg->ir, tg->mode, n);
  nh_nn_mlp_forward(z, mc, zin, params, &tg->mlp, n);
  for (size_t j = 0; j < (size_t)n * tg->nz; j++)
    ones[j] = 1.0;
  memset(p, 0, nn * sizeof(double));
  nh_nn_mlp_backward(p, NULL, ones, NULL, mw, mc, zin, params, &tg->mlp, n);
  memset(g, 0, (size_t)n * tg->ir.dim * sizeof(double));
  nh_nn_invariants_backward(g, p, f, &tg->ir, tg->mode, n); /* g = Jᵀp */
}

void nh_nn_tracegrad_backward(double *d_f, double *d_params, const double *d_g,
                              const double *d_z, double *work,
                              const double *cache, const double *f,
                              const double *params, const nh_nn_tracegrad *tg,
                              int n) {
  // g = J(f)ᵀ p(z_in(f)) with J = ∂z_in/∂f, so for a loss ℓ(g, z):
  //   ∂ℓ/∂f  = [∂(Jᵀp)/∂f at fixed p]ᵀ d_g + Jᵀ (H_φ J d_g + J_zᵀ d_z)
  //   ∂ℓ/∂θ  = ∂/∂θ (J d_g · ∇φ) + J_zᵀ d_z terms
  // the second-order terms come from nh_nn_mlp_backward with v = J d_g.
  const size_t nn = (size_t)n * tg->nin;
  const double *zin = cache, *p = cache + nn, *mc = cache + 2 * nn;
  double *dp = work, *dzin = work + nn;
  double *mw = work + nh_nn_tracegrad_work(tg, n) - nh_nn_mlp_work(&tg->mlp, n);
  if (d_g) {
    invariants_jvp(dp, d_g, f, &tg->ir, tg->mode, n);
    if (d_f) /* direct term: ∂(Jᵀp)/∂f at fixed p, bilinear products */
      products_backward(d_f, p, d_g, &tg->ir, tg->mode, n, 0);
  }
  memset(dzin, 0, nn * sizeof(double));
  nh_nn_mlp_backward(dzin, d_params, d_z, d_g ? dp : NULL, mw, mc, zin, params,
                     &tg->mlp, n);
  if (d_f)
    nh_nn_invariants_backward(d_f, dzin, f, &tg->ir, tg->mode, n);
}
