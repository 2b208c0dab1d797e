/* Multi-head equivariant graph attention: invariant logits from the 0e
 * channels of each edge message, softmax over the edges into a node,
 * equivariant values summed with those weights. And the node -> edge
 * gather. */
#include <math.h>
#include <string.h>

#include "nextham/nn.h"
#include "nnimpl.h"

nh_err nh_nn_attn_set(nh_nn_attn *at, const nh_nn_irreps *ir, int nhead) {
  memset(at, 0, sizeof *at);
  at->ir = *ir;
  at->nhead = nhead;
  at->k0e = nh_nn_irreps_find(ir, 0, 1);
  NH_CHECK(at->k0e >= 0, NH_ERR_ARG,
           "attention: the messages need 0e channels for the logits");
  NH_CHECK(nhead >= 1, NH_ERR_ARG, "attention: %d heads", nhead);
  for (int k = 0; k < ir->nkind; k++)
    NH_CHECK(ir->mul[k] % nhead == 0, NH_ERR_ARG,
             "attention: kind %d (L = %d) has %d channels, not a multiple of "
             "%d heads", k, ir->L[k], ir->mul[k], nhead);
  return NH_OK;
}

size_t nh_nn_attn_nparams(const nh_nn_attn *at) {
  return (size_t)at->nhead * at->ir.mul[at->k0e];
}

size_t nh_nn_attn_work(const nh_nn_attn *at, int N, int E) {
  return 2 * (size_t)at->nhead * ((size_t)N + E);
}

/* alpha (E, H): the softmax weights; nmax, nsum (N, H) scratch. */
static void weights(double *alpha, double *nmax, double *nsum,
                    const double *msg, const int *dst, const double *a,
                    const nh_nn_attn *at, int N, int E) {
  const int H = at->nhead, n0 = at->ir.mul[at->k0e];
  const int o0 = at->ir.off[at->k0e], dim = at->ir.dim;
  for (size_t j = 0; j < (size_t)N * H; j++) {
    nmax[j] = -INFINITY;
    nsum[j] = 0.0;
  }
  for (int e = 0; e < E; e++)
    for (int h = 0; h < H; h++) {
      double l = 0.0;
      for (int c = 0; c < n0; c++)
        l += a[h * n0 + c] * nn_silu(msg[(size_t)e * dim + o0 + c]);
      alpha[(size_t)e * H + h] = l;
      double *mx = nmax + (size_t)dst[e] * H + h;
      *mx = l > *mx ? l : *mx;
    }
  for (int e = 0; e < E; e++)
    for (int h = 0; h < H; h++) {
      double *al = alpha + (size_t)e * H + h;
      *al = exp(*al - nmax[(size_t)dst[e] * H + h]);
      nsum[(size_t)dst[e] * H + h] += *al;
    }
  for (int e = 0; e < E; e++)
    for (int h = 0; h < H; h++)
      alpha[(size_t)e * H + h] /= nsum[(size_t)dst[e] * H + h];
}

void nh_nn_attn_forward(double *out, double *work, const double *msg,
                        const int *dst, const double *params,
                        const nh_nn_attn *at, int N, int E) {
  // msg (E, dim), dst (E) -> out (N, dim); params a (H, mul_0e)
  // work: alpha (E, H) | unused (E, H) | nmax (N, H) | nsum (N, H)
  const int H = at->nhead;
  const nh_nn_irreps *ir = &at->ir;
  double *alpha = work, *nmax = work + 2 * (size_t)E * H;
  double *nsum = nmax + (size_t)N * H;
  weights(alpha, nmax, nsum, msg, dst, params, at, N, E);
  memset(out, 0, (size_t)N * ir->dim * sizeof(double));
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1, mul = ir->mul[k];
      const double *x = msg + (size_t)e * ir->dim + ir->off[k];
      double *y = out + (size_t)dst[e] * ir->dim + ir->off[k];
      for (int c = 0; c < mul; c++) {
        const double al = alpha[(size_t)e * H + c * H / mul];
        for (int m = 0; m < d; m++)
          y[c * d + m] += al * x[c * d + m];
      }
    }
}

void nh_nn_attn_backward(double *d_msg, double *d_params, const double *d_out,
                         double *work, const double *msg, const int *dst,
                         const double *params, const nh_nn_attn *at, int N,
                         int E) {
  const int H = at->nhead, n0 = at->ir.mul[at->k0e], o0 = at->ir.off[at->k0e];
  const nh_nn_irreps *ir = &at->ir;
  double *alpha = work, *dal = work + (size_t)E * H;
  double *nsum = work + 2 * (size_t)E * H, *S = nsum + (size_t)N * H;
  weights(alpha, nsum, S, msg, dst, params, at, N, E);
  // values: dα_eh = Σ_{c in h, m} d_out[dst] msg[e]; d_msg += α d_out[dst]
  memset(dal, 0, (size_t)E * H * sizeof(double));
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ir->nkind; k++) {
      const int d = 2 * ir->L[k] + 1, mul = ir->mul[k];
      const size_t xo = (size_t)e * ir->dim + ir->off[k];
      const double *dy = d_out + (size_t)dst[e] * ir->dim + ir->off[k];
      for (int c = 0; c < mul; c++) {
        const int h = c * H / mul;
        const double al = alpha[(size_t)e * H + h];
        for (int m = 0; m < d; m++) {
          dal[(size_t)e * H + h] += dy[c * d + m] * msg[xo + c * d + m];
          if (d_msg)
            d_msg[xo + c * d + m] += al * dy[c * d + m];
        }
      }
    }
  // softmax: dλ = α (dα - Σ_{e' into i} α dα)
  memset(S, 0, (size_t)N * H * sizeof(double));
  for (int e = 0; e < E; e++)
    for (int h = 0; h < H; h++)
      S[(size_t)dst[e] * H + h] += alpha[(size_t)e * H + h] * dal[(size_t)e * H + h];
  for (int e = 0; e < E; e++)
    for (int h = 0; h < H; h++) {
      const double dl = alpha[(size_t)e * H + h] *
                        (dal[(size_t)e * H + h] - S[(size_t)dst[e] * H + h]);
      for (int c = 0; c < n0; c++) {
        const double s = msg[(size_t)e * ir->dim + o0 + c];
        if (d_params)
          d_params[h * n0 + c] += dl * nn_silu(s);
        if (d_msg)
          d_msg[(size_t)e * ir->dim + o0 + c] += dl * params[h * n0 + c] *
                                                 nn_dsilu(s);
      }
    }
}

void nh_nn_gather_forward(double *out, const double *in, const int *idx,
                          int dim, int E) {
  for (int e = 0; e < E; e++)
    memcpy(out + (size_t)e * dim, in + (size_t)idx[e] * dim,
           dim * sizeof(double));
}

void nh_nn_gather_backward(double *d_in, const double *d_out, const int *idx,
                           int dim, int E) {
  for (int e = 0; e < E; e++)
    for (int j = 0; j < dim; j++)
      d_in[(size_t)idx[e] * dim + j] += d_out[(size_t)e * dim + j];
}
