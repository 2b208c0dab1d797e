/* nextham nn: the layers of the E(3)-equivariant network, each with its
 * forward and backward pass side by side (docs/nn.md).
 *
 * Conventions shared by every layer, in the manner of llm.c:
 *  - outputs come first in argument lists, then inputs, then parameters,
 *    then sizes;
 *  - forward overwrites its outputs; backward ACCUMULATES (+=) into d_in and
 *    d_params, so gradients of shared inputs and parameters simply add up.
 *    Any d_ pointer may be NULL when that gradient is not wanted;
 *  - a layer's parameters are one contiguous slice of the model's flat
 *    buffer, `*_nparams` doubles long; the gradient slice mirrors it;
 *  - forward and backward never allocate: scratch space is passed in, sized
 *    by the layer's `*_work` function. Backward recomputes what it needs from
 *    the forward's inputs, so no cache outlives a call (except where a
 *    `cache` argument is named);
 *  - double precision; sizes are ints, buffer lengths size_t.
 *
 * Feature layout (the same as nh_irreps_pairs'): a feature vector of an
 * irreps set `ir` has ir->dim doubles. Kind k = (L[k], parity[k]) holds
 * mul[k] channels of 2L+1 numbers; channel c, component m = -L..L sits at
 *     ir->off[k] + c·(2L+1) + (m + L)
 * with m in CP2K's real order. Kinds are ordered by L, even before odd.
 * A batch of n rows (nodes or edges) is row-major: row i at i·ir->dim.
 * Under an orthogonal R a channel of kind (L, p) turns into D^L(R)·x
 * (nh_irreps_wigner), times p·(-1)^L when det R < 0. */
#ifndef NEXTHAM_NN_H
#define NEXTHAM_NN_H

#include <stddef.h>

#include "nextham/core.h"
#include "nextham/irreps.h"

#define NH_NN_MAXKIND (2 * (NH_IRREPS_LMAX + 1))
#define NH_NN_MLP_MAXLAYER 8

/* ---------------------------------------------------------------------------
 * Irreps sets (a plain value, no allocation).
 * ------------------------------------------------------------------------- */
typedef struct nh_nn_irreps {
  int nkind, lmax, dim;
  int L[NH_NN_MAXKIND], parity[NH_NN_MAXKIND], mul[NH_NN_MAXKIND];
  int off[NH_NN_MAXKIND];
} nh_nn_irreps;

/* Kinds (L[k], parity[k] = ±1, mul[k] >= 1), sorted by L with even before
 * odd and no kind twice; fails otherwise or for L > NH_IRREPS_LMAX. */
nh_err nh_nn_irreps_set(nh_nn_irreps *ir, int nkind, const int *L,
                        const int *parity, const int *mul);
/* The same layout as a padded block's features (nh_irreps_pairs). */
void nh_nn_irreps_from_pairs(const nh_irreps_pairs *pp, nh_nn_irreps *ir);
/* Index of kind (L, parity), or -1. */
int nh_nn_irreps_find(const nh_nn_irreps *ir, int L, int parity);
/* out[n][dim] = the features in[n][dim] transformed by R: D is
 * nh_irreps_wigner(lmax >= ir->lmax, R), improper = (det R < 0).
 * out may not alias in. For tests and for augmentation. */
void nh_nn_irreps_rotate(const nh_nn_irreps *ir, const double *D, int improper,
                         int n, const double *in, double *out);

/* ---------------------------------------------------------------------------
 * Equivariant linear: channels mix only inside the same (L, parity).
 *   out[i]_k = W_k in[i]_k' (+ b_k for the 0e kind), k' the input kind of
 * the same (L, parity); output kinds with no such input get only their
 * bias (0e) or zero. Parameters, per output kind in order:
 * W_k[mul_out][mul_in] row-major (when k' exists), then b_k[mul_out] (0e).
 * Rows are batched: per block of rows (in cache) one dgemm per kind, through
 * a panel on the stack for L > 0 (docs/nn.md).
 * ------------------------------------------------------------------------- */
size_t nh_nn_linear_nparams(const nh_nn_irreps *in, const nh_nn_irreps *out);
void nh_nn_linear_forward(double *out, const double *in, const double *params,
                          const nh_nn_irreps *ir_in,
                          const nh_nn_irreps *ir_out, int n);
void nh_nn_linear_backward(double *d_in, double *d_params, const double *d_out,
                           const double *in, const double *params,
                           const nh_nn_irreps *ir_in,
                           const nh_nn_irreps *ir_out, int n);

/* ---------------------------------------------------------------------------
 * Equivariant layer norm, per row and kind. The 0e kind: usual layer norm
 * over its channels, (x - mean)/sqrt(var + eps)·g + b. Every other kind
 * (its mean is not invariant): RMS norm, x/sqrt(<|x|²> + eps)·g, with
 * <|x|²> = Σ_{c,m} x²/(mul (2L+1)) rotation invariant. eps = NH_NN_NORM_EPS.
 * Parameters: a gain g per channel of every kind in kind order (Σ mul),
 * then the biases b[mul_0e].
 * ------------------------------------------------------------------------- */
#define NH_NN_NORM_EPS 1e-6
size_t nh_nn_norm_nparams(const nh_nn_irreps *ir);
void nh_nn_norm_forward(double *out, const double *in, const double *params,
                        const nh_nn_irreps *ir, int n);
void nh_nn_norm_backward(double *d_in, double *d_params, const double *d_out,
                         const double *in, const double *params,
                         const nh_nn_irreps *ir, int n);

/* ---------------------------------------------------------------------------
 * Radial basis of edge lengths: nb Bessel functions times a smooth cutoff,
 *   e_k(r) = sqrt(2/rc) sin(kπ r/rc)/r · u(r/rc),  k = 1..nb,
 *   u(x) = 1 - 28x⁶ + 48x⁷ - 21x⁸ for x < 1, 0 beyond
 * (u(1) = u'(1) = u''(1) = 0: energies of edges crossing the cutoff are
 * twice differentiable). No parameters. out[E][nb]; r[E] > 0 in bohr.
 * ------------------------------------------------------------------------- */
void nh_nn_radial_forward(double *out, const double *r, int nb, double rc,
                          int E);
void nh_nn_radial_backward(double *d_r, const double *d_out, const double *r,
                           int nb, double rc, int E);

/* ---------------------------------------------------------------------------
 * MLP on invariants: size[0] -> size[1] -> ... -> size[nlayer], SiLU after
 * every layer but the last. Layer l has W_l[size[l]][size[l-1]] row-major,
 * then b_l[size[l]]. Rows are batched: in[rows][size[0]] ->
 * out[rows][size[nlayer]], one dgemm per layer.
 * `cache` (nh_nn_mlp_cache doubles) keeps the hidden pre-activations and
 * activations from forward for backward; `work` is scratch for backward.
 * Used for the radial MLP, the TraceGrad z, and the trace head.
 * ------------------------------------------------------------------------- */
typedef struct nh_nn_mlp {
  int nlayer;
  int size[NH_NN_MLP_MAXLAYER + 1];
} nh_nn_mlp;

nh_err nh_nn_mlp_set(nh_nn_mlp *mlp, int nlayer, const int *size);
size_t nh_nn_mlp_nparams(const nh_nn_mlp *mlp);
size_t nh_nn_mlp_cache(const nh_nn_mlp *mlp, int rows);
size_t nh_nn_mlp_work(const nh_nn_mlp *mlp, int rows);
void nh_nn_mlp_forward(double *out, double *cache, const double *in,
                       const double *params, const nh_nn_mlp *mlp, int rows);
/* Backward of the scalar Σ_rows [ d_out·out + v·∇_in φ ],  φ = Σ_j out_j:
 * d_out (may be NULL) is the usual output gradient; v (may be NULL) adds
 * the second-order term TraceGrad needs (a Hessian-vector product, by a
 * forward tangent and one reverse sweep). With d_out = 1 and v = NULL,
 * d_in receives ∇_in φ itself. */
void nh_nn_mlp_backward(double *d_in, double *d_params, const double *d_out,
                        const double *v, double *work, const double *cache,
                        const double *in, const double *params,
                        const nh_nn_mlp *mlp, int rows);

/* ---------------------------------------------------------------------------
 * Invariants of equivariant features, per row and kind: the products
 * Σ_m x_kcm x_kc'm of channel pairs, then the 0e channels themselves.
 * NH_NN_INV_NORM: c' = c, the squared norms (Σ mul numbers);
 * NH_NN_INV_GRAM: c' >= c, the upper triangle of each kind's Gram matrix,
 * row by row (Σ mul(mul+1)/2; lets TraceGrad mix channels).
 * out[n][nh_nn_invariants_dim(ir, mode)]. Inputs of the TraceGrad MLP and
 * of the trace heads.
 * ------------------------------------------------------------------------- */
enum { NH_NN_INV_NORM = 0, NH_NN_INV_GRAM = 1 };
int nh_nn_invariants_dim(const nh_nn_irreps *ir, int mode);
void nh_nn_invariants_forward(double *out, const double *in,
                              const nh_nn_irreps *ir, int mode, int n);
void nh_nn_invariants_backward(double *d_in, const double *d_out,
                               const double *in, const nh_nn_irreps *ir,
                               int mode, int n);

/* ---------------------------------------------------------------------------
 * TraceGrad block. Per row: z_in = invariants(f), z = MLP(z_in) (unrestricted,
 * mlp.size[0] = nh_nn_invariants_dim), and new equivariant features
 *     g = ∂φ/∂f,  φ = Σ_j z_j,
 * of the same irreps as f (the gradient of an invariant is equivariant:
 * g_kcm = Σ_c' ∂φ/∂(f_kc·f_kc') f_kc'm (×2 on the diagonal) + ∂φ/∂f_c for
 * 0e). The trace head is an MLP on z with one output per block
 * (tr(ΔH ΔHᵀ)); it is a plain nh_nn_mlp.
 * Backward needs the MLP's second derivatives (nh_nn_mlp_backward with v).
 * cache: nh_nn_tracegrad_cache doubles kept from forward to backward.
 * ------------------------------------------------------------------------- */
typedef struct nh_nn_tracegrad {
  nh_nn_irreps ir;
  nh_nn_mlp mlp;
  int mode, nin, nz;
} nh_nn_tracegrad;

/* mode: NH_NN_INV_NORM or NH_NN_INV_GRAM; hidden[0..nhidden-1]: hidden
 * widths of the z MLP; nz outputs. */
nh_err nh_nn_tracegrad_set(nh_nn_tracegrad *tg, const nh_nn_irreps *ir,
                           int mode, int nhidden, const int *hidden, int nz);
size_t nh_nn_tracegrad_nparams(const nh_nn_tracegrad *tg);
size_t nh_nn_tracegrad_cache(const nh_nn_tracegrad *tg, int n);
size_t nh_nn_tracegrad_work(const nh_nn_tracegrad *tg, int n);
/* g[n][ir.dim], z[n][nz] from f[n][ir.dim]. */
void nh_nn_tracegrad_forward(double *g, double *z, double *cache, double *work,
                             const double *f, const double *params,
                             const nh_nn_tracegrad *tg, int n);
/* d_g, d_z: gradients of the loss w.r.t. g and z (either may be NULL). */
void nh_nn_tracegrad_backward(double *d_f, double *d_params, const double *d_g,
                              const double *d_z, double *work,
                              const double *cache, const double *f,
                              const double *params, const nh_nn_tracegrad *tg,
                              int n);

/* ---------------------------------------------------------------------------
 * Edge-frame SO(2) convolution (eSCN / EquiformerV2). Per edge e:
 *  1. rotate in[e] into the edge frame, x' = D(R_e) x, R_e r̂_e = ẑ;
 *  2. modulate: x'_kcm *= rad[e][·] (one radial scalar per input channel and
 *     |m|, from a radial MLP; layout below);
 *  3. mix per |m| <= mmax = min(lmax_in, lmax_out) with weights shared by all
 *     edges: y_{+m} = W1 x_{+m} - W2 x_{-m}, y_{-m} = W2 x_{+m} + W1 x_{-m},
 *     y_0 = W0 x_0 — the tensor product with Y(ẑ), O(L³) instead of O(L⁶);
 *  4. rotate back, out[e] = D(R_e)ᵀ y.
 * Parity: with s = p(-1)^L, an (out kind, in kind) pair has W0 and W1 blocks
 * when s_in s_out = +1 and W2 blocks when s_in s_out = -1 (mirror symmetry
 * about planes through the edge); that makes the map O(3)-equivariant.
 * The layer runs over blocks of edges that fit in cache: per block, the
 * frames are BLAS-3 (D(R_e) from fixed matrices), step 3 is two dgemms per
 * |m| (channels grouped by s so that the W1/W2 structure is a dense
 * matrix), and steps 1 and 4 are vectorised loops (docs/nn.md). R_e is any
 * rotation with R_e r̂_e = ẑ: the result does not depend on its roll.
 * Parameters: for m = 0..mmax, for each output kind with L >= m, for each
 * input kind with L >= m whose block exists: W[mul_out][mul_in].
 * rad[e] layout (nrad numbers): for m = 0..mmax, input kinds with L >= m in
 * order, their channels. Edge vectors are data: no gradient w.r.t. r.
 * ------------------------------------------------------------------------- */
typedef struct nh_nn_so2 {
  nh_nn_irreps in, out;
  int mmax, lmax;        /* lmax = max of both sets (Wigner size)     */
  int kin[NH_IRREPS_LMAX + 1], kout[NH_IRREPS_LMAX + 1]; /* channels, L>=m */
  int fin, fout;         /* frame vector lengths (|m| <= mmax)        */
  int nrad;
  size_t npar, nmat;     /* parameters; doubles of the dense W_m      */
} nh_nn_so2;

nh_err nh_nn_so2_set(nh_nn_so2 *so2, const nh_nn_irreps *in,
                     const nh_nn_irreps *out);
size_t nh_nn_so2_nparams(const nh_nn_so2 *so2);
/* Doubles of work for E edges; it stops growing at one block of edges. */
size_t nh_nn_so2_work(const nh_nn_so2 *so2, int E);
/* Dense-kernel flops per edge of one forward pass on features of irreps
 * `in`: the per-|m| mixing (as a dense dgemm, K_in × K_out) and the
 * rotations in and out. The number benchmarks rate the kernel by. */
double nh_nn_so2_flops(const nh_nn_so2 *so2, const nh_nn_irreps *in);
/* out[E][out.dim] from in[E][in.dim], rad[E][nrad], r[E][3] (nonzero). */
nh_err nh_nn_so2_forward(double *out, double *work, const double *in,
                         const double *rad, const double *r,
                         const double *params, const nh_nn_so2 *so2, int E);
nh_err nh_nn_so2_backward(double *d_in, double *d_rad, double *d_params,
                          const double *d_out, double *work, const double *in,
                          const double *rad, const double *r,
                          const double *params, const nh_nn_so2 *so2, int E);

/* ---------------------------------------------------------------------------
 * Multi-head equivariant graph attention: messages msg[E][ir.dim] on edges
 * (from the SO(2) convolution) are summed into their destination nodes,
 *     out[i]_kcm = Σ_{e: dst[e] = i} α_{e,h(c)} msg[e]_kcm,
 * with channel c of kind k in head h(c) = c·H/mul_k (every mul_k a multiple
 * of H), and α the softmax over the edges into i of invariant logits
 *     λ_{e,h} = Σ_c a_{h,c} SiLU(msg[e]_{0e,c}).
 * Parameters: a[H][mul_0e]. Nodes without edges get 0. Gather of node
 * features onto edges (for the source side) is nh_nn_gather.
 * ------------------------------------------------------------------------- */
typedef struct nh_nn_attn {
  nh_nn_irreps ir;
  int nhead, k0e;
} nh_nn_attn;

nh_err nh_nn_attn_set(nh_nn_attn *at, const nh_nn_irreps *ir, int nhead);
size_t nh_nn_attn_nparams(const nh_nn_attn *at);
size_t nh_nn_attn_work(const nh_nn_attn *at, int N, int E);
void nh_nn_attn_forward(double *out, double *work, const double *msg,
                        const int *dst, const double *params,
                        const nh_nn_attn *at, int N, int E);
void nh_nn_attn_backward(double *d_msg, double *d_params, const double *d_out,
                         double *work, const double *msg, const int *dst,
                         const double *params, const nh_nn_attn *at, int N,
                         int E);
/* out[e][dim] = in[idx[e]][dim]; backward scatter-adds. */
void nh_nn_gather_forward(double *out, const double *in, const int *idx,
                          int dim, int E);
void nh_nn_gather_backward(double *d_in, const double *d_out, const int *idx,
                           int dim, int E);

/* ---------------------------------------------------------------------------
 * Output heads: an equivariant linear map from hidden features to the
 * irreps of a padded block (nh_irreps_pairs), then the exact CG map to the
 * padded norb×norb block P[n][norb²] (nh_irreps_pairs_to_block); the
 * caller takes element blocks out with nh_irreps_pad_gather. The same head
 * serves nodes (on-site ΔH) and edges (off-site ΔH). work: n·pairs->dim.
 * ------------------------------------------------------------------------- */
size_t nh_nn_head_nparams(const nh_nn_irreps *in, const nh_irreps_pairs *pp);
void nh_nn_head_forward(double *P, double *work, const double *in,
                        const double *params, const nh_nn_irreps *ir_in,
                        const nh_irreps_pairs *pp, int n);
void nh_nn_head_backward(double *d_in, double *d_params, const double *d_P,
                         double *work, const double *in, const double *params,
                         const nh_nn_irreps *ir_in, const nh_irreps_pairs *pp,
                         int n);

#endif
