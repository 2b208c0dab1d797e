/* Invariants of equivariant features and the TraceGrad block: an
 * unrestricted MLP z on the invariants, new equivariant features from the
 * analytic gradient of Σ z with respect to the features. */
#include <string.h>

#include "nextham/nn.h"

/* ------------------------------------------------------------------------
 * Invariants: squared channel norms of every kind, then the 0e channels
 * --------------------------------------------------------------------- */

static int k0e(const nh_nn_irreps *ir) { return nh_nn_irreps_find(ir, 0, 1); }

int nh_nn_invariants_dim(const nh_nn_irreps *ir) {
  int n = 0;
  for (int k = 0; k < ir->nkind; k++)
    n += ir->mul[k];
  return n + (k0e(ir) >= 0 ? ir->mul[k0e(ir)] : 0);
}

void nh_nn_invariants_forward(double *out, const double *in,
                              const nh_nn_irreps *ir, int n) {
  // in (n, dim) -> out (n, nin): |x_kc|² for all k, c; then x_{0e,c}
  const int nin = nh_nn_invariants_dim(ir), ks = k0e(ir);
  for (int i = 0; i < n; i++) {
    const double *x = in + (size_t)i * ir->dim;
    double *q = out + (size_t)i * nin;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1;
      for (int c = 0; c < ir->mul[k]; c++, q++) {
        const double *xc = x + ir->off[k] + c * d;
        *q = 0.0;
        for (int a = 0; a < d; a++)
          *q += xc[a] * xc[a];
      }
    }
    if (ks >= 0)
      memcpy(q, x + ir->off[ks], ir->mul[ks] * sizeof(double));
  }
}

void nh_nn_invariants_backward(double *d_in, const double *d_out,
                               const double *in, const nh_nn_irreps *ir,
                               int n) {
  const int nin = nh_nn_invariants_dim(ir), ks = k0e(ir);
  for (int i = 0; i < n; i++) {
    const double *x = in + (size_t)i * ir->dim;
    const double *dq = d_out + (size_t)i * nin;
    double *dx = d_in + (size_t)i * ir->dim;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1;
      for (int c = 0; c < ir->mul[k]; c++, dq++)
        for (int a = 0; a < d; a++)
          dx[ir->off[k] + c * d + a] += 2.0 * *dq * x[ir->off[k] + c * d + a];
    }
    if (ks >= 0)
      for (int c = 0; c < ir->mul[ks]; c++)
        dx[ir->off[ks] + c] += dq[c];
  }
}

/* out = J t, J = ∂invariants/∂x at x: the directional derivative. */
static void invariants_jvp(double *out, const double *t, const double *in,
                           const nh_nn_irreps *ir, int n) {
  const int nin = nh_nn_invariants_dim(ir), ks = k0e(ir);
  for (int i = 0; i < n; i++) {
    const double *x = in + (size_t)i * ir->dim, *ti = t + (size_t)i * ir->dim;
    double *q = out + (size_t)i * nin;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1;
      for (int c = 0; c < ir->mul[k]; c++, q++) {
        const int o = ir->off[k] + c * d;
        *q = 0.0;
        for (int a = 0; a < d; a++)
          *q += 2.0 * x[o + a] * ti[o + a];
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
                           int nhidden, const int *hidden, int nz) {
  NH_CHECK(nhidden >= 0 && nhidden < NH_NN_MLP_MAXLAYER, NH_ERR_ARG,
           "tracegrad: %d hidden layers, need 0..%d", nhidden,
           NH_NN_MLP_MAXLAYER - 1);
  int size[NH_NN_MLP_MAXLAYER + 1];
  memset(tg, 0, sizeof *tg);
  tg->ir = *ir;
  tg->nin = nh_nn_invariants_dim(ir);
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
  nh_nn_invariants_forward(zin, f, &tg->ir, n);
  nh_nn_mlp_forward(z, mc, zin, params, &tg->mlp, n);
  for (size_t j = 0; j < (size_t)n * tg->nz; j++)
    ones[j] = 1.0;
  memset(p, 0, nn * sizeof(double));
  nh_nn_mlp_backward(p, NULL, ones, NULL, mw, mc, zin, params, &tg->mlp, n);
  memset(g, 0, (size_t)n * tg->ir.dim * sizeof(double));
  nh_nn_invariants_backward(g, p, f, &tg->ir, n); /* g = Jᵀ p */
}

/* d_f += 2 p_kc d_g_kcm: the derivative of Jᵀp at fixed p. */
static void direct_backward(double *d_f, const double *d_g, const double *p,
                            const nh_nn_irreps *ir, int n) {
  const int nin = nh_nn_invariants_dim(ir);
  for (int i = 0; i < n; i++) {
    const double *pi = p + (size_t)i * nin;
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1;
      for (int c = 0; c < ir->mul[k]; c++, pi++)
        for (int a = 0; a < d; a++) {
          const size_t o = (size_t)i * ir->dim + ir->off[k] + c * d + a;
          d_f[o] += 2.0 * *pi * d_g[o];
        }
    }
  }
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
    invariants_jvp(dp, d_g, f, &tg->ir, n);
    if (d_f) /* direct term: g_kcm = 2 f_kcm p_kc (+ p_c for 0e) */
      direct_backward(d_f, d_g, p, &tg->ir, n);
  }
  memset(dzin, 0, nn * sizeof(double));
  nh_nn_mlp_backward(dzin, d_params, d_z, d_g ? dp : NULL, mw, mc, zin, params,
                     &tg->mlp, n);
  if (d_f)
    nh_nn_invariants_backward(d_f, dzin, f, &tg->ir, n);
}
