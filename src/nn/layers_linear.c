/* Irreps sets and the equivariant linear layer (channel mixing inside each
 * (L, parity) kind). */
#include <string.h>

#include "nextham/nn.h"
#include "nnimpl.h"

nh_err nh_nn_irreps_set(nh_nn_irreps *ir, int nkind, const int *L,
                        const int *parity, const int *mul) {
  NH_CHECK(nkind >= 1 && nkind <= NH_NN_MAXKIND, NH_ERR_ARG,
           "irreps: %d kinds, need 1..%d", nkind, NH_NN_MAXKIND);
  memset(ir, 0, sizeof *ir);
  ir->nkind = nkind;
  for (int k = 0; k < nkind; k++) {
    NH_CHECK(L[k] >= 0 && L[k] <= NH_IRREPS_LMAX, NH_ERR_ARG,
             "irreps: kind %d has L = %d outside 0..%d", k, L[k],
             NH_IRREPS_LMAX);
    NH_CHECK(parity[k] == 1 || parity[k] == -1, NH_ERR_ARG,
             "irreps: kind %d has parity %d, need +1 or -1", k, parity[k]);
    NH_CHECK(mul[k] >= 1, NH_ERR_ARG, "irreps: kind %d has %d channels", k,
             mul[k]);
    /* sorted by L, even (+1) before odd (-1): keys strictly increase */
    NH_CHECK(k == 0 || 2 * L[k] + (parity[k] < 0) >
                           2 * L[k - 1] + (parity[k - 1] < 0),
             NH_ERR_ARG, "irreps: kind %d (L = %d) out of order or repeated",
             k, L[k]);
    ir->L[k] = L[k];
    ir->parity[k] = parity[k];
    ir->mul[k] = mul[k];
    ir->off[k] = ir->dim;
    ir->dim += mul[k] * (2 * L[k] + 1);
    if (L[k] > ir->lmax)
      ir->lmax = L[k];
  }
  return NH_OK;
}

void nh_nn_irreps_from_pairs(const nh_irreps_pairs *pp, nh_nn_irreps *ir) {
  memset(ir, 0, sizeof *ir);
  ir->nkind = pp->nkind;
  ir->dim = pp->dim;
  for (int k = 0; k < pp->nkind; k++) {
    ir->L[k] = pp->kind_L[k];
    ir->parity[k] = pp->kind_parity[k];
    ir->mul[k] = pp->mul[k];
    ir->off[k] = pp->off[k];
    if (ir->L[k] > ir->lmax)
      ir->lmax = ir->L[k];
  }
}

int nh_nn_irreps_find(const nh_nn_irreps *ir, int L, int parity) {
  for (int k = 0; k < ir->nkind; k++)
    if (ir->L[k] == L && ir->parity[k] == parity)
      return k;
  return -1;
}

void nh_nn_irreps_rotate(const nh_nn_irreps *ir, const double *D, int improper,
                         int n, const double *in, double *out) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < ir->nkind; k++) {
      const int L = ir->L[k], d = 2 * L + 1;
      const double *Dl = D + nh_irreps_wigner_off(L);
      /* the Wigner D of an improper R already carries (-1)^L */
      const double sign = improper && ir->parity[k] * (L % 2 ? -1 : 1) < 0
                              ? -1.0 : 1.0;
      for (int c = 0; c < ir->mul[k]; c++) {
        const double *x = in + (size_t)i * ir->dim + ir->off[k] + c * d;
        double *y = out + (size_t)i * ir->dim + ir->off[k] + c * d;
        for (int a = 0; a < d; a++) {
          double s = 0.0;
          for (int b = 0; b < d; b++)
            s += Dl[a * d + b] * x[b];
          y[a] = sign * s;
        }
      }
    }
}

/* ------------------------------------------------------------------------
 * Equivariant linear
 * --------------------------------------------------------------------- */

static int is_0e(const nh_nn_irreps *ir, int k) {
  return ir->L[k] == 0 && ir->parity[k] == 1;
}

size_t nh_nn_linear_nparams(const nh_nn_irreps *in, const nh_nn_irreps *out) {
  size_t n = 0;
  for (int k = 0; k < out->nkind; k++) {
    const int ki = nh_nn_irreps_find(in, out->L[k], out->parity[k]);
    if (ki >= 0)
      n += (size_t)out->mul[k] * in->mul[ki];
    if (is_0e(out, k))
      n += out->mul[k];
  }
  return n;
}

void nh_nn_linear_forward(double *out, const double *in, const double *params,
                          const nh_nn_irreps *ir_in,
                          const nh_nn_irreps *ir_out, int n) {
  // in (n, ir_in.dim), out (n, ir_out.dim)
  // per row and kind: out_k (mul_out, 2L+1) = W_k (mul_out, mul_in) in_k'
  const double *p = params;
  for (int k = 0; k < ir_out->nkind; k++) {
    const int ki = nh_nn_irreps_find(ir_in, ir_out->L[k], ir_out->parity[k]);
    const int d = 2 * ir_out->L[k] + 1, mo = ir_out->mul[k];
    const double *W = p;
    if (ki >= 0)
      p += (size_t)mo * ir_in->mul[ki];
    const double *b = is_0e(ir_out, k) ? p : NULL;
    if (b)
      p += mo;
    for (int i = 0; i < n; i++) {
      double *y = out + (size_t)i * ir_out->dim + ir_out->off[k];
      for (int j = 0; j < mo * d; j++)
        y[j] = b ? b[j] : 0.0; /* d = 1 when there is a bias */
      if (ki >= 0)
        nn_gemm('N', 'N', mo, d, ir_in->mul[ki], 1.0, W, ir_in->mul[ki],
                in + (size_t)i * ir_in->dim + ir_in->off[ki], d, 1.0, y, d);
    }
  }
}

void nh_nn_linear_backward(double *d_in, double *d_params, const double *d_out,
                           const double *in, const double *params,
                           const nh_nn_irreps *ir_in,
                           const nh_nn_irreps *ir_out, int n) {
  size_t p = 0;
  for (int k = 0; k < ir_out->nkind; k++) {
    const int ki = nh_nn_irreps_find(ir_in, ir_out->L[k], ir_out->parity[k]);
    const int d = 2 * ir_out->L[k] + 1, mo = ir_out->mul[k];
    const size_t pw = p;
    if (ki >= 0)
      p += (size_t)mo * ir_in->mul[ki];
    const size_t pb = p;
    if (is_0e(ir_out, k))
      p += mo;
    for (int i = 0; i < n; i++) {
      const double *dy = d_out + (size_t)i * ir_out->dim + ir_out->off[k];
      if (d_params && is_0e(ir_out, k))
        for (int c = 0; c < mo; c++)
          d_params[pb + c] += dy[c];
      if (ki < 0)
        continue;
      const int mi = ir_in->mul[ki];
      const size_t xo = (size_t)i * ir_in->dim + ir_in->off[ki];
      // dW (mo, mi) += dy (mo, d) · xᵀ;  dx (mi, d) += Wᵀ dy
      if (d_params)
        nn_gemm('N', 'T', mo, mi, d, 1.0, dy, d, in + xo, d, 1.0,
                d_params + pw, mi);
      if (d_in)
        nn_gemm('T', 'N', mi, d, mo, 1.0, params + pw, mi, dy, d, 1.0,
                d_in + xo, d);
    }
  }
}
