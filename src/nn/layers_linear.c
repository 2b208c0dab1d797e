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

/* Rows of a kind of d = 2L+1 > 1 components are batched through panels
 * on the stack: P[c][i·d + m] = x[r0 + i]_{c,m} (channels × rows·d, so
 * that one dgemm W·P covers every row of the block). A panel holds at
 * most NN_LIN_PANEL doubles. */
#define NN_LIN_PANEL 4096

/* Rows per panel block for a kind with d components and up to mul
 * channels on either side. */
static int panel_rows(int d, int mul) {
  const int b = NN_LIN_PANEL / (d * mul);
  return b > 0 ? b : 1;
}

/* P (mul × nb·d) <- the kind at off of rows r0..r0+nb-1 of x (stride dim). */
static void gather(double *P, const double *x, size_t dim, int off, int mul,
                   int d, int nb) {
  const int ld = nb * d;
  for (int i = 0; i < nb; i++) {
    const double *xi = x + (size_t)i * dim + off;
    for (int c = 0; c < mul; c++)
      for (int m = 0; m < d; m++)
        P[c * ld + i * d + m] = xi[c * d + m];
  }
}

/* The kind at off of rows r0..r0+nb-1 of x (+)= P (add: accumulate). */
static void scatter(double *x, const double *P, size_t dim, int off, int mul,
                    int d, int nb, int add) {
  const int ld = nb * d;
  for (int i = 0; i < nb; i++) {
    double *xi = x + (size_t)i * dim + off;
    for (int c = 0; c < mul; c++)
      for (int m = 0; m < d; m++)
        xi[c * d + m] = (add ? xi[c * d + m] : 0.0) + P[c * ld + i * d + m];
  }
}

/* The parameters of output kind k: W (or NULL when no input kind has its
 * (L, parity)), b (0e only, else NULL); returns the next kind's. */
static const double *kind_params(const double *p, const nh_nn_irreps *ir_in,
                                 const nh_nn_irreps *ir_out, int k, int ki,
                                 const double **W, const double **b) {
  *W = ki >= 0 ? p : NULL;
  if (ki >= 0)
    p += (size_t)ir_out->mul[k] * ir_in->mul[ki];
  *b = is_0e(ir_out, k) ? p : NULL;
  return *b ? p + ir_out->mul[k] : p;
}

void nh_nn_linear_forward(double *out, const double *in, const double *params,
                          const nh_nn_irreps *ir_in,
                          const nh_nn_irreps *ir_out, int n) {
  // in (n, ir_in.dim), out (n, ir_out.dim); per kind, all rows at once:
  // d = 1: out_k (n, mo) = in_k (n, mi) W_kᵀ, strided in place;
  // d > 1: out_k (mo, rows·d) = W_k in_k (mi, rows·d) through panels
  const size_t di = (size_t)ir_in->dim, dout = (size_t)ir_out->dim;
  const double *p = params;
  double P[NN_LIN_PANEL], Q[NN_LIN_PANEL];
  for (int k = 0; k < ir_out->nkind; k++) {
    const int ki = nh_nn_irreps_find(ir_in, ir_out->L[k], ir_out->parity[k]);
    const int d = 2 * ir_out->L[k] + 1, mo = ir_out->mul[k];
    const int oo = ir_out->off[k], mi = ki >= 0 ? ir_in->mul[ki] : 0;
    const double *W, *b;
    p = kind_params(p, ir_in, ir_out, k, ki, &W, &b);
    if (!W || d == 1) {
      for (int i = 0; i < n; i++)
        for (int j = 0; j < mo * d; j++) /* d = 1 when there is a bias */
          out[i * dout + oo + j] = b ? b[j] : 0.0;
      if (W)
        nn_gemm('N', 'T', n, mo, mi, 1.0, in + ir_in->off[ki], (int)di, W, mi,
                1.0, out + oo, (int)dout);
      continue;
    }
    const int B = panel_rows(d, mo > mi ? mo : mi);
    for (int r0 = 0; r0 < n; r0 += B) {
      const int nb = n - r0 < B ? n - r0 : B;
      gather(P, in + r0 * di, di, ir_in->off[ki], mi, d, nb);
      nn_gemm('N', 'N', mo, nb * d, mi, 1.0, W, mi, P, nb * d, 0.0, Q, nb * d);
      scatter(out + r0 * dout, Q, dout, oo, mo, d, nb, 0);
    }
  }
}

void nh_nn_linear_backward(double *d_in, double *d_params, const double *d_out,
                           const double *in, const double *params,
                           const nh_nn_irreps *ir_in,
                           const nh_nn_irreps *ir_out, int n) {
  // dW_k += Σ_rows dy_k x_kᵀ; dx_k += W_kᵀ dy_k; db += Σ_rows dy (0e)
  const size_t di = (size_t)ir_in->dim, dout = (size_t)ir_out->dim;
  const double *p = params;
  double P[NN_LIN_PANEL], Q[NN_LIN_PANEL];
  for (int k = 0; k < ir_out->nkind; k++) {
    const int ki = nh_nn_irreps_find(ir_in, ir_out->L[k], ir_out->parity[k]);
    const int d = 2 * ir_out->L[k] + 1, mo = ir_out->mul[k];
    const int oo = ir_out->off[k], mi = ki >= 0 ? ir_in->mul[ki] : 0;
    const double *W, *b;
    const double *pk = p;
    p = kind_params(p, ir_in, ir_out, k, ki, &W, &b);
    double *dW = d_params ? d_params + (pk - params) : NULL;
    double *db = d_params && b ? d_params + (b - params) : NULL;
    if (db)
      for (int i = 0; i < n; i++)
        for (int c = 0; c < mo; c++)
          db[c] += d_out[i * dout + oo + c];
    if (!W)
      continue;
    const int io = ir_in->off[ki];
    if (d == 1) { /* strided in place */
      if (dW)
        nn_gemm('T', 'N', mo, mi, n, 1.0, d_out + oo, (int)dout, in + io,
                (int)di, 1.0, dW, mi);
      if (d_in)
        nn_gemm('N', 'N', n, mi, mo, 1.0, d_out + oo, (int)dout, W, mi, 1.0,
                d_in + io, (int)di);
      continue;
    }
    const int B = panel_rows(d, mo > mi ? mo : mi);
    for (int r0 = 0; r0 < n; r0 += B) {
      const int nb = n - r0 < B ? n - r0 : B, ld = nb * d;
      gather(Q, d_out + r0 * dout, dout, oo, mo, d, nb); /* dy (mo, ld) */
      if (dW) {
        gather(P, in + r0 * di, di, io, mi, d, nb);
        nn_gemm('N', 'T', mo, mi, ld, 1.0, Q, ld, P, ld, 1.0, dW, mi);
      }
      if (d_in) {
        nn_gemm('T', 'N', mi, ld, mo, 1.0, W, mi, Q, ld, 0.0, P, ld);
        scatter(d_in + r0 * di, P, di, io, mi, d, nb, 1);
      }
    }
  }
}
