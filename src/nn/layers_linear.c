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

/* Rows are processed in blocks, every kind of a block while it is in
 * cache (one pass over memory; kind by kind over all rows would sweep the
 * whole array once per kind). In a block, a kind of d = 2L+1 > 1
 * components goes through a panel on the stack, P[c][i·d + m] = the
 * block's row i, channel c, component m (channels × rows·d), so that one
 * dgemm W·P covers the block; the 0e and other d = 1 kinds are strided
 * dgemms in place. A panel holds at most NN_LIN_PANEL doubles. */
#define NN_LIN_PANEL 4096

/* Per output kind: its input kind (or -1), W (NULL when there is no input
 * kind of its (L, parity)), b (0e only, else NULL), as offsets into the
 * parameters; returns the rows per block. */
typedef struct lin_kind {
  int ki;
  long w, b; /* -1: none */
} lin_kind;

static int lin_plan(const nh_nn_irreps *ir_in, const nh_nn_irreps *ir_out,
                    lin_kind *t) {
  long p = 0;
  int widest = 1;
  for (int k = 0; k < ir_out->nkind; k++) {
    const int ki = nh_nn_irreps_find(ir_in, ir_out->L[k], ir_out->parity[k]);
    const int mo = ir_out->mul[k], mi = ki >= 0 ? ir_in->mul[ki] : 0;
    t[k].ki = ki, t[k].w = ki >= 0 ? p : -1;
    p += (long)mo * mi;
    t[k].b = is_0e(ir_out, k) ? p : -1;
    p += t[k].b >= 0 ? mo : 0;
    const int wk = (2 * ir_out->L[k] + 1) * (mo > mi ? mo : mi);
    if (ir_out->L[k] > 0 && ki >= 0 && wk > widest)
      widest = wk;
  }
  return NN_LIN_PANEL / widest > 0 ? NN_LIN_PANEL / widest : 1;
}

/* P (mul × nb·d) <- the kind at off of nb rows of x (stride dim), or
 * back (to_x): x (+)= P (add: accumulate). Inlined with d constant (see
 * copy_panel), so that each run of d numbers is a few vector moves. */
static inline __attribute__((always_inline)) void
panel_copy(double *P, double *x, size_t dim, int off, int mul, int d, int nb,
           int to_x, int add) {
  const int ld = nb * d;
  for (int i = 0; i < nb; i++) {
    double *xi = x + (size_t)i * dim + off;
    for (int c = 0; c < mul; c++) {
      double *restrict p = P + c * ld + i * d, *restrict q = xi + c * d;
      if (!to_x)
        memcpy(p, q, (size_t)d * sizeof(double));
      else if (!add)
        memcpy(q, p, (size_t)d * sizeof(double));
      else
        for (int m = 0; m < d; m++)
          q[m] += p[m];
    }
  }
}

/* panel_copy for d = 2L+1 (L <= 4) as a compile-time constant; NN_SIMD
 * compiles it for the wide vector units. */
NN_SIMD static void copy_panel(double *P, double *x, size_t dim, int off,
                               int mul, int d, int nb, int to_x, int add) {
  const int mode = to_x ? (add ? 2 : 1) : 0;
#define NN_PANEL_CASE(D)                                                       \
  case D:                                                                      \
    if (mode == 0)                                                             \
      panel_copy(P, x, dim, off, mul, D, nb, 0, 0);                            \
    else if (mode == 1)                                                        \
      panel_copy(P, x, dim, off, mul, D, nb, 1, 0);                            \
    else                                                                       \
      panel_copy(P, x, dim, off, mul, D, nb, 1, 1);                            \
    return;
  switch (d) {
    NN_PANEL_CASE(3)
    NN_PANEL_CASE(5)
    NN_PANEL_CASE(7)
    NN_PANEL_CASE(9)
  }
#undef NN_PANEL_CASE
  panel_copy(P, x, dim, off, mul, d, nb, to_x, add);
}

static void gather(double *P, const double *x, size_t dim, int off, int mul,
                   int d, int nb) {
  copy_panel(P, (double *)x, dim, off, mul, d, nb, 0, 0); /* x is read */
}

static void scatter(double *x, const double *P, size_t dim, int off, int mul,
                    int d, int nb, int add) {
  copy_panel((double *)P, x, dim, off, mul, d, nb, 1, add); /* P is read */
}

/* Asks for rows r0..r0+B-1 (< n) of x (row length dim) to be brought into
 * cache (for writing: write), while the block before them is computed: a
 * block touches each row once per kind, a pattern the hardware prefetcher
 * does not follow. */
static void prefetch_block(const double *x, int dim, int r0, int n, int B,
                           int write) {
  if (r0 >= n)
    return;
  const double *p = x + (size_t)r0 * dim;
  const size_t len = (size_t)(n - r0 < B ? n - r0 : B) * dim;
  for (size_t j = 0; j < len; j += 8) {
    if (write)
      __builtin_prefetch(p + j, 1);
    else
      __builtin_prefetch(p + j, 0);
  }
}

/* Forward of one block of nb rows (in, out at its first row). */
static void linear_block(double *out, const double *in, const double *params,
                         const nh_nn_irreps *ir_in,
                         const nh_nn_irreps *ir_out, const lin_kind *t,
                         int nb) {
  const int di = ir_in->dim, dout = ir_out->dim;
  double P[NN_LIN_PANEL], Q[NN_LIN_PANEL];
  for (int k = 0; k < ir_out->nkind; k++) {
    const int d = 2 * ir_out->L[k] + 1, mo = ir_out->mul[k], oo = ir_out->off[k];
    const double *W = t[k].w >= 0 ? params + t[k].w : NULL;
    const double *b = t[k].b >= 0 ? params + t[k].b : NULL;
    if (!W || d == 1) {
      for (int i = 0; i < nb; i++)
        for (int j = 0; j < mo * d; j++) /* d = 1 when there is a bias */
          out[(size_t)i * dout + oo + j] = b ? b[j] : 0.0;
      if (W)
        nn_gemm('N', 'T', nb, mo, ir_in->mul[t[k].ki], 1.0,
                in + ir_in->off[t[k].ki], di, W, ir_in->mul[t[k].ki], 1.0,
                out + oo, dout);
      continue;
    }
    const int mi = ir_in->mul[t[k].ki];
    gather(P, in, di, ir_in->off[t[k].ki], mi, d, nb);
    nn_gemm('N', 'N', mo, nb * d, mi, 1.0, W, mi, P, nb * d, 0.0, Q, nb * d);
    scatter(out, Q, dout, oo, mo, d, nb, 0);
  }
}

void nh_nn_linear_forward(double *out, const double *in, const double *params,
                          const nh_nn_irreps *ir_in,
                          const nh_nn_irreps *ir_out, int n) {
  // in (n, ir_in.dim), out (n, ir_out.dim); per block of rows and kind:
  // d = 1: out_k (rows, mo) = in_k (rows, mi) W_kᵀ, strided in place;
  // d > 1: out_k (mo, rows·d) = W_k in_k (mi, rows·d) through panels
  lin_kind t[NH_NN_MAXKIND];
  const int B = lin_plan(ir_in, ir_out, t);
  for (int r0 = 0; r0 < n; r0 += B) {
    const int nb = n - r0 < B ? n - r0 : B;
    prefetch_block(in, ir_in->dim, r0 + B, n, B, 0);
    prefetch_block(out, ir_out->dim, r0 + B, n, B, 1);
    linear_block(out + (size_t)r0 * ir_out->dim, in + (size_t)r0 * ir_in->dim,
                 params, ir_in, ir_out, t, nb);
  }
}

/* Backward of one block of nb rows. */
static void linear_block_back(double *d_in, double *d_params,
                              const double *d_out, const double *in,
                              const double *params, const nh_nn_irreps *ir_in,
                              const nh_nn_irreps *ir_out, const lin_kind *t,
                              int nb) {
  const int di = ir_in->dim, dout = ir_out->dim;
  double P[NN_LIN_PANEL], Q[NN_LIN_PANEL];
  for (int k = 0; k < ir_out->nkind; k++) {
    const int d = 2 * ir_out->L[k] + 1, mo = ir_out->mul[k], oo = ir_out->off[k];
    if (d_params && t[k].b >= 0)
      for (int i = 0; i < nb; i++)
        for (int c = 0; c < mo; c++)
          d_params[t[k].b + c] += d_out[(size_t)i * dout + oo + c];
    if (t[k].w < 0)
      continue;
    const double *W = params + t[k].w;
    double *dW = d_params ? d_params + t[k].w : NULL;
    const int mi = ir_in->mul[t[k].ki], io = ir_in->off[t[k].ki];
    if (d == 1) { /* strided in place */
      if (dW)
        nn_gemm('T', 'N', mo, mi, nb, 1.0, d_out + oo, dout, in + io, di, 1.0,
                dW, mi);
      if (d_in)
        nn_gemm('N', 'N', nb, mi, mo, 1.0, d_out + oo, dout, W, mi, 1.0,
                d_in + io, di);
      continue;
    }
    const int ld = nb * d;
    gather(Q, d_out, dout, oo, mo, d, nb); /* dy (mo, ld) */
    if (dW) {
      gather(P, in, di, io, mi, d, nb);
      nn_gemm('N', 'T', mo, mi, ld, 1.0, Q, ld, P, ld, 1.0, dW, mi);
    }
    if (d_in) {
      nn_gemm('T', 'N', mi, ld, mo, 1.0, W, mi, Q, ld, 0.0, P, ld);
      scatter(d_in, P, di, io, mi, d, nb, 1);
    }
  }
}

void nh_nn_linear_backward(double *d_in, double *d_params, const double *d_out,
                           const double *in, const double *params,
                           const nh_nn_irreps *ir_in,
                           const nh_nn_irreps *ir_out, int n) {
  // dW_k += Σ_rows dy_k x_kᵀ; dx_k += W_kᵀ dy_k; db += Σ_rows dy (0e)
  lin_kind t[NH_NN_MAXKIND];
  const int B = lin_plan(ir_in, ir_out, t);
  for (int r0 = 0; r0 < n; r0 += B) {
    prefetch_block(in, ir_in->dim, r0 + B, n, B, 0);
    prefetch_block(d_out, ir_out->dim, r0 + B, n, B, 0);
    if (d_in)
      prefetch_block(d_in, ir_in->dim, r0 + B, n, B, 1);
    linear_block_back(d_in ? d_in + (size_t)r0 * ir_in->dim : NULL, d_params,
                      d_out + (size_t)r0 * ir_out->dim,
                      in + (size_t)r0 * ir_in->dim, params, ir_in, ir_out, t,
                      n - r0 < B ? n - r0 : B);
  }
}
