/* Edge-frame SO(2) convolution (eSCN): rotate each edge's features so the
 * edge points along ẑ, mix the m-components per |m| with weights shared by
 * all edges (after a per-edge radial modulation), rotate back. */
#include <math.h>
#include <string.h>

#include "nextham/nn.h"
#include "nnimpl.h"

static int sgn(const nh_nn_irreps *ir, int k) { /* p (-1)^L */
  return ir->parity[k] * (ir->L[k] % 2 ? -1 : 1);
}

/* Channels with L >= m. */
static int count_m(const nh_nn_irreps *ir, int m) {
  int n = 0;
  for (int k = 0; k < ir->nkind; k++)
    if (ir->L[k] >= m)
      n += ir->mul[k];
  return n;
}

nh_err nh_nn_so2_set(nh_nn_so2 *s, const nh_nn_irreps *in,
                     const nh_nn_irreps *out) {
  memset(s, 0, sizeof *s);
  s->in = *in;
  s->out = *out;
  s->mmax = in->lmax < out->lmax ? in->lmax : out->lmax;
  s->lmax = in->lmax > out->lmax ? in->lmax : out->lmax;
  for (int m = 0; m <= s->mmax; m++) {
    const int Ki = count_m(in, m), Ko = count_m(out, m), w = m ? 2 : 1;
    s->kin[m] = Ki;
    s->kout[m] = Ko;
    s->fin += w * Ki;
    s->fout += w * Ko;
    s->nrad += Ki;
    s->nmat += (size_t)Ko * Ki;
    for (int ko = 0; ko < out->nkind; ko++)
      for (int ki = 0; ki < in->nkind; ki++)
        if (out->L[ko] >= m && in->L[ki] >= m &&
            (m > 0 || sgn(out, ko) == sgn(in, ki)))
          s->npar += (size_t)out->mul[ko] * in->mul[ki];
  }
  NH_CHECK(s->npar > 0, NH_ERR_ARG,
           "so2: no (L, parity) pair of the input and output can couple");
  return NH_OK;
}

size_t nh_nn_so2_nparams(const nh_nn_so2 *s) { return s->npar; }

/* ------------------------------------------------------------------------
 * The frame. For |m| > 0 the channels of each side are ordered by sign
 * s = p(-1)^L, s = +1 kinds first, and every edge has two rows
 *     u = (x_{+m}[s=+1], x_{-m}[s=-1]),   v = (x_{-m}[s=+1], x_{+m}[s=-1]).
 * The W1/W2 structure then collapses into one dense matrix per |m|,
 * M_m[o][i] = W, with a minus on the (s_o = +1, s_i = -1) blocks:
 *     u_out = M_m u_in,   v_out = M~_m v_in,   M~_m[o][i] = σ_o σ_i M_m[o][i]
 * (σ = s of the channel), two dgemms of E × Ki by Ki × Ko over all edges,
 * with no structural zeros. m = 0 has the row u = x_0 only, and zero blocks
 * where s_o != s_i. Frame arrays hold, for m = 0..mmax, the u rows of all
 * edges (cap × K_m), then (m > 0) their v rows.
 * pos[m][k]: first channel of kind k in the rows of block m; plus[m]: its
 * s = +1 channels; xoff[m]: offset of block m in units of cap edges;
 * roff[m], rpos[m][k]: the same in rad[e] (kind order).
 * ------------------------------------------------------------------------ */
typedef struct frame_map {
  int pos[NH_IRREPS_LMAX + 1][NH_NN_MAXKIND], plus[NH_IRREPS_LMAX + 1];
  int xoff[NH_IRREPS_LMAX + 2], roff[NH_IRREPS_LMAX + 2];
  int rpos[NH_IRREPS_LMAX + 1][NH_NN_MAXKIND];
} frame_map;

static void frame_map_set(const nh_nn_irreps *ir, int mmax, frame_map *f) {
  f->xoff[0] = f->roff[0] = 0;
  for (int m = 0; m <= mmax; m++) {
    int n = 0, nr = 0;
    for (int pass = 1; pass >= -1; pass -= 2) {
      for (int k = 0; k < ir->nkind; k++)
        if (ir->L[k] >= m && sgn(ir, k) == pass) {
          f->pos[m][k] = n;
          n += ir->mul[k];
        }
      if (pass == 1)
        f->plus[m] = n;
    }
    for (int k = 0; k < ir->nkind; k++)
      if (ir->L[k] >= m) {
        f->rpos[m][k] = nr;
        nr += ir->mul[k];
      }
    f->xoff[m + 1] = f->xoff[m] + (m ? 2 : 1) * n;
    f->roff[m + 1] = f->roff[m] + n;
  }
}

/* Parameters <-> the dense M_m. With dP == NULL, fills M from P; else
 * accumulates the adjoint, dP += (∂M/∂P)ᵀ M (M then holds dℓ/dM). */
static void walk(const nh_nn_so2 *s, const frame_map *fi, const frame_map *fo,
                 double *M, const double *P, double *dP) {
  size_t p = 0, moff = 0;
  for (int m = 0; m <= s->mmax; m++) {
    const int Ki = s->kin[m];
    double *Mm = M + moff;
    if (!dP)
      memset(Mm, 0, (size_t)s->kout[m] * Ki * sizeof(double));
    for (int ko = 0; ko < s->out.nkind; ko++) {
      if (s->out.L[ko] < m)
        continue;
      const int mo = s->out.mul[ko], so = sgn(&s->out, ko);
      for (int ki = 0; ki < s->in.nkind; ki++) {
        const int si = sgn(&s->in, ki), mi = s->in.mul[ki];
        if (s->in.L[ki] < m || (m == 0 && so != si))
          continue;
        const double sign = m > 0 && so > 0 && si < 0 ? -1.0 : 1.0;
        for (int a = 0; a < mo; a++)
          for (int b = 0; b < mi; b++) {
            const size_t w = p + (size_t)a * mi + b;
            double *mm = Mm + (size_t)(fo->pos[m][ko] + a) * Ki +
                         fi->pos[m][ki] + b;
            if (dP)
              dP[w] += sign * *mm;
            else
              *mm = sign * P[w];
          }
        p += (size_t)mo * mi;
      }
    }
    moff += (size_t)s->kout[m] * Ki;
  }
}

/* Mt (+)= M~ = σ_o σ_i M for every m > 0 (add: accumulate). The m = 0
 * block of Mt is left alone. */
static void mirror(double *Mt, const double *M, const nh_nn_so2 *s,
                   const frame_map *fi, const frame_map *fo, int add) {
  size_t moff = (size_t)s->kout[0] * s->kin[0];
  for (int m = 1; m <= s->mmax; m++) {
    const int Ki = s->kin[m], Ko = s->kout[m];
    for (int o = 0; o < Ko; o++)
      for (int i = 0; i < Ki; i++) {
        const size_t q = moff + (size_t)o * Ki + i;
        const double v = (o < fo->plus[m]) == (i < fi->plus[m]) ? M[q] : -M[q];
        Mt[q] = add ? Mt[q] + v : v;
      }
    moff += (size_t)Ko * Ki;
  }
}

/* ------------------------------------------------------------------------
 * Edge frames. R_e = Ry(-θ) Rz(-φ) takes r̂_e = (sinθ cosφ, sinθ sinφ, cosθ)
 * to ẑ (any roll about ẑ would do: the mixing commutes with it), so
 *     D(R_e) = D(Ry(-θ)) Z(-φ),   D(Ry(β)) = Jᵀ Z(β) J,
 * with Z(α) = D(Rz(α)), which only mixes m with -m (cos mα on (±m, ±m),
 * sin mα on (-m, +m), -sin mα on (+m, -m)), and J = D(Q) for the fixed
 * Q = Rx(90°) (Q ŷ = ẑ, so Q Ry(β) Qᵀ = Rz(β)). Z(β) is a sum of 2L+1
 * fixed matrices with coefficients 1, cos mβ, sin mβ, so
 *     Dy = D(Ry(-θ)) = Σ_i coef_i(θ) G_i,   G_i = Jᵀ (those matrices) J,
 * and Dy of all edges of a block is one dgemm per L,
 * (n × 2L+1)·(2L+1 × (2L+1)²). The Z(-φ) factor, O(L) per channel, is
 * applied to the features inside the rotation kernels. Layout: Dy^L of
 * the edges as row-major (2L+1)² blocks at cap·wigner_off(L);
 * phase[e] = cos mφ (m = 0..lmax), then sin mφ.
 * ------------------------------------------------------------------------ */

static size_t wigner_size(const nh_nn_so2 *s) {
  return (size_t)nh_irreps_wigner_off(s->lmax + 1);
}
static size_t basis_size(const nh_nn_so2 *s) { /* Σ_L (2L+1)³ */
  size_t n = 0;
  for (int L = 0; L <= s->lmax; L++)
    n += (size_t)(2 * L + 1) * (2 * L + 1) * (2 * L + 1);
  return n;
}
static int ncoef(const nh_nn_so2 *s) { return 2 * s->lmax + 1; }
static int nphase(const nh_nn_so2 *s) { return 2 * (s->lmax + 1); }

/* cos mα, sin mα for m = 0..lmax from cos α, sin α. */
static void multiples(double c1, double s1, int lmax, double *c, double *s) {
  c[0] = 1.0, s[0] = 0.0;
  for (int m = 1; m <= lmax; m++) {
    c[m] = c[m - 1] * c1 - s[m - 1] * s1;
    s[m] = s[m - 1] * c1 + c[m - 1] * s1;
  }
}

/* G (2L+1 matrices of (2L+1)² numbers each) from J = J^L: G_0 =
 * Jᵀ e_0 e_0ᵀ J, G_{2m-1} = Jᵀ (e_m e_mᵀ + e_-m e_-mᵀ) J (the cos mβ part
 * of Z(β)), G_{2m} = Jᵀ (e_-m e_mᵀ - e_m e_-mᵀ) J (the sin mβ part). */
static void basis(const double *J, int L, double *G) {
  const int d = 2 * L + 1, d2 = d * d;
  const double *j0 = J + L * d;
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++) {
      G[a * d + b] = j0[a] * j0[b];
      for (int m = 1; m <= L; m++) {
        const double *jp = J + (L + m) * d, *jm = J + (L - m) * d;
        G[(2 * m - 1) * d2 + a * d + b] = jp[a] * jp[b] + jm[a] * jm[b];
        G[2 * m * d2 + a * d + b] = jm[a] * jp[b] - jp[a] * jm[b];
      }
    }
}

/* G of every L (basis_size doubles); J (wigner_size) is scratch. */
static nh_err bases(double *G, double *J, const nh_nn_so2 *s) {
  static const double Q[9] = {1, 0, 0, 0, 0, -1, 0, 1, 0}; /* Rx(90°) */
  NH_CALL(nh_irreps_wigner(s->lmax, Q, J));
  for (int L = 0; L <= s->lmax; L++) {
    basis(J + nh_irreps_wigner_off(L), L, G);
    G += (size_t)(2 * L + 1) * (2 * L + 1) * (2 * L + 1);
  }
  return NH_OK;
}

/* Dy of edges 0..n-1 of a block (layout above) and the phases of φ;
 * C (n × ncoef) is scratch. Fails for a zero edge vector (e0: the
 * index of edge 0 in the call, for the message). */
static nh_err frames(double *Dy, double *phase, double *C, const double *G,
                     const double *r,
                     const nh_nn_so2 *s, int n, int cap, int e0) {
  const int nc = ncoef(s), np = nphase(s);
  for (int e = 0; e < n; e++) {
    const double *v = r + 3 * (size_t)e;
    const double len = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    NH_CHECK(len > 0.0, NH_ERR_ARG, "so2: edge %d has a zero vector", e0 + e);
    const double rho = sqrt(v[0] * v[0] + v[1] * v[1]);
    double *cp = phase + (size_t)e * np, *c = C + (size_t)e * nc;
    double ct[NH_IRREPS_LMAX + 1], st[NH_IRREPS_LMAX + 1];
    multiples(rho > 0.0 ? v[0] / rho : 1.0, rho > 0.0 ? v[1] / rho : 0.0,
              s->lmax, cp, cp + s->lmax + 1);
    multiples(v[2] / len, rho / len, s->lmax, ct, st);
    c[0] = 1.0;
    for (int m = 1; m <= s->lmax; m++) /* Z(β) at β = -θ */
      c[2 * m - 1] = ct[m], c[2 * m] = -st[m];
  }
  for (int L = 0; L <= s->lmax; L++) {
    const int d = 2 * L + 1;
    const size_t o = (size_t)cap * nh_irreps_wigner_off(L);
    nn_gemm('N', 'N', n, d * d, d, 1.0, C, nc, G, d * d, 0.0, Dy + o, d * d);
    G += (size_t)d * d * d;
  }
  return NH_OK;
}

/* Edges per block: the layer runs over blocks of edges whose frame arrays
 * stay in the L2 cache (NN_SO2_BLOCK_DOUBLES), so that the rotations do
 * not wait on memory; the per-|m| dgemms of a block are still large
 * enough for BLAS. */
static int block_edges(const nh_nn_so2 *s, int E) {
  int B = (int)(NN_SO2_BLOCK_DOUBLES / (wigner_size(s) + s->fin + s->fout));
  B = B < 16 ? 16 : B > 256 ? 256 : B;
  return E < B ? (E > 0 ? E : 1) : B;
}

double nh_nn_so2_flops(const nh_nn_so2 *s, const nh_nn_irreps *in) {
  double f = 0.0;
  for (int mm = 0; mm <= s->mmax; mm++)
    f += 2.0 * (mm ? 2 : 1) * s->kin[mm] * s->kout[mm];
  for (int k = 0; k < in->nkind; k++) {
    const double d = 2 * in->L[k] + 1;
    f += 2 * 2.0 * in->mul[k] * d * d;
  }
  return f;
}

size_t nh_nn_so2_work(const nh_nn_so2 *s, int E) {
  // see so2_ws: per edge of a block Dy, phase, C, F0..F3; then four sets
  // of M, G, J, and T (three rows of the widest side)
  const size_t cap = (size_t)block_edges(s, E);
  const int dmax = s->in.dim > s->out.dim ? s->in.dim : s->out.dim;
  return cap * (wigner_size(s) + nphase(s) + ncoef(s) + 3 * s->fin +
                s->fout) +
         4 * s->nmat + basis_size(s) + wigner_size(s) + 3 * (size_t)dmax;
}

/* ------------------------------------------------------------------------
 * Slots: where component a = L + m of channel c of kind k of edge e sits in
 * a frame array: X + base + e·K + c, with K = K_|m| and base the u or v
 * rows of block |m|, and the offset of its radial scalars in rad[e].
 * used = 0: |m| > mmax, the component plays no part.
 * ------------------------------------------------------------------------ */
typedef struct slot {
  size_t base;
  int K, rad, used;
} slot;
typedef slot slots[NH_NN_MAXKIND][2 * NH_IRREPS_LMAX + 1];

static void slots_set(const nh_nn_irreps *ir, const frame_map *f,
                      const int *K, int mmax, int cap, slots t) {
  for (int k = 0; k < ir->nkind; k++) {
    const int L = ir->L[k], sg = sgn(ir, k);
    for (int a = 0; a <= 2 * L; a++) {
      const int m = a - L, am = m < 0 ? -m : m;
      slot *q = &t[k][a];
      q->used = am <= mmax;
      if (!q->used)
        continue;
      /* m = 0: u; s > 0: +m -> u, -m -> v; s < 0: -m -> u, +m -> v */
      const int v = am > 0 && (sg > 0 ? m < 0 : m > 0);
      q->base = (size_t)cap * f->xoff[am] + (size_t)v * cap * K[am] +
                f->pos[am][k];
      q->K = K[am];
      q->rad = f->roff[am] + f->rpos[am][k];
    }
  }
}

/* ------------------------------------------------------------------------
 * Rotation kernels. With n channels per (edge, kind) a rotation is a
 * (2L+1)² by (2L+1) × n product; done per edge it is too small for BLAS,
 * so these loops work on a transposed copy (channels contiguous) over
 * blocks of NN_VEC channels, four rows at a time, compiled for the wide
 * vector units (NN_SIMD).
 * ------------------------------------------------------------------------ */

/* y[j] = s[j]·acc[j] (s NULL: acc[j]), j < nb. */
static inline __attribute__((always_inline)) void
put(double *restrict y, const double *s, const double *acc, int nb) {
  if (s)
    for (int j = 0; j < nb; j++)
      y[j] = s[j] * acc[j];
  else
    for (int j = 0; j < nb; j++)
      y[j] = acc[j];
}

/* out[r][c0 + j] = s_r[c0 + j] · Σ_i w_r[i·ws] y[i][c0 + j] for r < 4,
 * j < nb (s_r NULL: 1), with four independent accumulators (one FMA chain
 * per row would wait on its own latency). Inlined, so that NN_VEC-wide
 * blocks become vector FMAs in registers. */
static inline __attribute__((always_inline)) void
block4(double *const *out, const double *const *sc, const double *const *w,
       int ws, const double *const *y, int ni, int c0, int nb) {
  double a0[NN_VEC], a1[NN_VEC], a2[NN_VEC], a3[NN_VEC];
  for (int j = 0; j < nb; j++)
    a0[j] = a1[j] = a2[j] = a3[j] = 0.0;
  for (int i = 0; i < ni; i++) {
    const double *yi = y[i] + c0;
    const double w0 = w[0][i * ws], w1 = w[1][i * ws], w2 = w[2][i * ws],
                 w3 = w[3][i * ws];
    for (int j = 0; j < nb; j++) {
      a0[j] += w0 * yi[j];
      a1[j] += w1 * yi[j];
      a2[j] += w2 * yi[j];
      a3[j] += w3 * yi[j];
    }
  }
  put(out[0] + c0, sc[0] ? sc[0] + c0 : NULL, a0, nb);
  put(out[1] + c0, sc[1] ? sc[1] + c0 : NULL, a1, nb);
  put(out[2] + c0, sc[2] ? sc[2] + c0 : NULL, a2, nb);
  put(out[3] + c0, sc[3] ? sc[3] + c0 : NULL, a3, nb);
}

/* out[r][c] = s_r[c] Σ_i w_r[i·ws] y[i][c] for r < R (R a multiple of
 * 4), c < n: blocks of NN_VEC channels, then the rest. */
static inline __attribute__((always_inline)) void
small_mm(double *const *out, const double *const *sc, const double *const *w,
         int ws, int R, const double *const *y, int ni, int n) {
  for (int r = 0; r < R; r += 4) {
    int c0 = 0;
    for (; c0 + NN_VEC <= n; c0 += NN_VEC)
      block4(out + r, sc + r, w + r, ws, y, ni, c0, NN_VEC);
    if (c0 < n)
      block4(out + r, sc + r, w + r, ws, y, ni, c0, n - c0);
  }
}

/* The rows (+m, -m) of T (d × n) <- Z(±φ) applied to them, over blocks of
 * channels: dir = +1 applies Z(-φ) (rotate in), -1 Z(φ) = Z(-φ)ᵀ. */
static inline __attribute__((always_inline)) void
phase_block(double *restrict p, double *restrict q, double c, double sn,
            int nb) {
  for (int j = 0; j < nb; j++) {
    const double a = p[j], b = q[j];
    p[j] = c * a + sn * b;
    q[j] = c * b - sn * a;
  }
}
static inline __attribute__((always_inline)) void
phase_rows(double *T, int L, int n, const double *cp, const double *sp,
           int dir) {
  for (int m = 1; m <= L; m++) {
    double *p = T + (L + m) * n, *q = T + (L - m) * n;
    int c0 = 0;
    for (; c0 + NN_VEC <= n; c0 += NN_VEC)
      phase_block(p + c0, q + c0, cp[m], dir * sp[m], NN_VEC);
    if (c0 < n)
      phase_block(p + c0, q + c0, cp[m], dir * sp[m], n - c0);
  }
}

#define NN_RMAX 12 /* 2L+1 <= 9 rows, padded to a multiple of 4 */
static const double zeros[(2 * NH_IRREPS_LMAX + 1) * (2 * NH_IRREPS_LMAX + 1)];

/* The kinds of one L of one edge: one or two kinds, adjacent in the
 * feature layout, so that their channels form one n × (2L+1) block and
 * share D^L, the transposition and the phase. Kind g has mul[g] channels
 * from channel c[g], slots t[g] and slot pointers p[g][a] (NULL: unused).
 * T: scratch of d·n (the transposed block) and n (a sink for padding
 * rows); zero: n zeros. */
typedef struct lgroup {
  int L, d, nk, n, c[2], mul[2];
  const slot *t[2];
  double *p[2][2 * NH_IRREPS_LMAX + 1];
  double *T;
  const double *zero;
} lgroup;

/* Rotate in: with x' = Z(-φ) x per channel,
 *     p[a][c] = rad_a[c] · Σ_b Dy[a][b] x'_c[b]
 * for every kind, used component a and channel; x (n × d) row-major;
 * rad NULL: no modulation. */
NN_SIMD static void rot_in(const lgroup *g, const double *Dy, const double *cp,
                           const double *sp, const double *x,
                           const double *rad) {
  const int d = g->d, n = g->n;
  double *T = g->T;
  for (int b = 0; b < d; b++) /* T (d × n): channels contiguous */
    for (int c = 0; c < n; c++)
      T[b * n + c] = x[c * d + b];
  phase_rows(T, g->L, n, cp, sp, 1);
  for (int k = 0; k < g->nk; k++) {
    const double *rows[2 * NH_IRREPS_LMAX + 1], *w[NN_RMAX], *sc[NN_RMAX];
    double *out[NN_RMAX];
    for (int b = 0; b < d; b++)
      rows[b] = T + b * n + g->c[k];
    int R = 0;
    for (int a = 0; a < d; a++)
      if (g->p[k][a]) {
        w[R] = Dy + a * d, out[R] = g->p[k][a];
        sc[R++] = rad ? rad + g->t[k][a].rad : NULL;
      }
    for (; R % 4; R++) /* padding rows: zero weights, into the sink */
      w[R] = zeros, out[R] = T + d * n, sc[R] = NULL;
    small_mm(out, sc, w, 1, R, rows, d, g->mul[k]);
  }
}

/* Rotate back: x_c (+)= Z(φ) Dyᵀ y_c with y_c[a] = p[a][c] (0 for unused
 * components); accumulate: add, else overwrite. The weights of row b are
 * column b of Dy (stride d). */
NN_SIMD static void rot_out(const lgroup *g, const double *Dy,
                            const double *cp, const double *sp, double *x,
                            int accumulate) {
  const int d = g->d, n = g->n, R = (d + 3) / 4 * 4;
  double *T = g->T;
  for (int k = 0; k < g->nk; k++) {
    const double *rows[2 * NH_IRREPS_LMAX + 1], *w[NN_RMAX], *sc[NN_RMAX];
    double *out[NN_RMAX];
    for (int a = 0; a < d; a++)
      rows[a] = g->p[k][a] ? g->p[k][a] : g->zero;
    for (int b = 0; b < R; b++) { /* padding rows into the sink */
      w[b] = b < d ? Dy + b : zeros, sc[b] = NULL;
      out[b] = b < d ? T + b * n + g->c[k] : T + d * n;
    }
    small_mm(out, sc, w, d, R, rows, d, g->mul[k]);
  }
  phase_rows(T, g->L, n, cp, sp, -1);
  if (accumulate)
    for (int c = 0; c < n; c++)
      for (int b = 0; b < d; b++)
        x[c * d + b] += T[b * n + c];
  else
    for (int c = 0; c < n; c++)
      for (int b = 0; b < d; b++)
        x[c * d + b] = T[b * n + c];
}

/* ------------------------------------------------------------------------
 * A call: the workspace (nh_nn_so2_work) for blocks of cap edges,
 *   Dy | phase | C | F0 | F1 | F2 | F3 | M | Mt | dM | dMt | G | J | T,
 * frame maps and slots. F0..F3 hold frame arrays: X, -, Y, - forward;
 * Xraw, X, dY, dX backward (F2 has the output side's size). M and Mt are
 * M_m and M~_m of every m, dM and dMt their gradients.
 * ------------------------------------------------------------------------ */
typedef struct so2_ws {
  frame_map fi, fo;
  slots ti, to;
  int cap;
  double *Dy, *phase, *C, *F[4], *M, *Mt, *dM, *dMt, *G, *J, *T;
  double *zero; /* the last third of T */
} so2_ws;

static nh_err ws_set(so2_ws *w, double *work, const double *params,
                     const nh_nn_so2 *s, int E) {
  w->cap = block_edges(s, E);
  const size_t cap = (size_t)w->cap, nw = wigner_size(s);
  frame_map_set(&s->in, s->mmax, &w->fi);
  frame_map_set(&s->out, s->mmax, &w->fo);
  slots_set(&s->in, &w->fi, s->kin, s->mmax, w->cap, w->ti);
  slots_set(&s->out, &w->fo, s->kout, s->mmax, w->cap, w->to);
  w->Dy = work;
  w->phase = w->Dy + cap * nw;
  w->C = w->phase + cap * nphase(s);
  w->F[0] = w->C + cap * ncoef(s);
  w->F[1] = w->F[0] + cap * s->fin;
  w->F[2] = w->F[1] + cap * s->fin;
  w->F[3] = w->F[2] + cap * s->fout;
  w->M = w->F[3] + cap * s->fin;
  w->Mt = w->M + s->nmat;
  w->dM = w->Mt + s->nmat;
  w->dMt = w->dM + s->nmat;
  w->G = w->dMt + s->nmat;
  w->J = w->G + basis_size(s);
  w->T = w->J + nw;
  const int dmax = s->in.dim > s->out.dim ? s->in.dim : s->out.dim;
  w->zero = w->T + 2 * (size_t)dmax;
  memset(w->zero, 0, (size_t)dmax * sizeof(double));
  walk(s, &w->fi, &w->fo, w->M, params, NULL);
  mirror(w->Mt, w->M, s, &w->fi, &w->fo, 0);
  return bases(w->G, w->J, s);
}

/* The group of kinds k, k+1.. with the same L as k, for edge e of frame
 * array X; returns the next kind. */
static int lgroup_set(lgroup *g, const so2_ws *w, const nh_nn_irreps *ir,
                      const slots t, double *X, int e, int k) {
  g->L = ir->L[k], g->d = 2 * g->L + 1, g->nk = 0, g->n = 0;
  g->T = w->T, g->zero = w->zero;
  for (; k < ir->nkind && ir->L[k] == g->L; k++, g->nk++) {
    g->c[g->nk] = g->n, g->mul[g->nk] = ir->mul[k], g->n += ir->mul[k];
    g->t[g->nk] = t[k];
    for (int a = 0; a < g->d; a++)
      g->p[g->nk][a] =
          t[k][a].used ? X + t[k][a].base + (size_t)e * t[k][a].K : NULL;
  }
  return k;
}

/* Frame arrays X of edges 0..n-1 of a block from features f (n rows of
 * ir): X = rad·pack(D f) (rad NULL: no modulation). */
static void rotate_in(double *X, const so2_ws *w, const double *f,
                      const double *rad, const nh_nn_irreps *ir,
                      const nh_nn_so2 *s, const slots t, int n) {
  const int np = nphase(s);
  for (int e = 0; e < n; e++) {
    const double *cp = w->phase + (size_t)e * np;
    for (int k = 0; k < ir->nkind;) {
      lgroup g;
      const int k0 = k;
      k = lgroup_set(&g, w, ir, t, X, e, k);
      rot_in(&g,
             w->Dy + (size_t)w->cap * nh_irreps_wigner_off(g.L) +
                 (size_t)e * g.d * g.d,
             cp, cp + s->lmax + 1, f + (size_t)e * ir->dim + ir->off[k0],
             rad ? rad + (size_t)e * s->nrad : NULL);
    }
  }
}

/* Features f (n rows of ir) (+)= unpack(Y) rotated back by Dᵀ. */
static void rotate_out(double *f, double *Y, const so2_ws *w,
                       const nh_nn_irreps *ir, const nh_nn_so2 *s,
                       const slots t, int n, int accumulate) {
  const int np = nphase(s);
  for (int e = 0; e < n; e++) {
    const double *cp = w->phase + (size_t)e * np;
    for (int k = 0; k < ir->nkind;) {
      lgroup g;
      const int k0 = k;
      k = lgroup_set(&g, w, ir, t, Y, e, k);
      rot_out(&g,
              w->Dy + (size_t)w->cap * nh_irreps_wigner_off(g.L) +
                  (size_t)e * g.d * g.d,
              cp, cp + s->lmax + 1, f + (size_t)e * ir->dim + ir->off[k0],
              accumulate);
    }
  }
}

/* The mixing of a block of n edges, Y = M X per m and row kind, as dgemms
 * of (n × Ki) by (Ki × Ko). back: dX = Mᵀ dY instead (X <- dY, Y <- dX),
 * and with dM, dM += dYᵀ X (Xm: the modulated X). */
static void mix(double *Y, const double *X, const double *Xm, double *dM,
                double *dMt, const so2_ws *w, const nh_nn_so2 *s, int n,
                int back) {
  size_t moff = 0;
  for (int m = 0; m <= s->mmax; m++) {
    const int Ki = s->kin[m], Ko = s->kout[m];
    for (int v = 0; v <= (m > 0); v++) {
      const double *Mm = (v ? w->Mt : w->M) + moff;
      const size_t xo = (size_t)w->cap * (w->fi.xoff[m] + v * Ki);
      const size_t yo = (size_t)w->cap * (w->fo.xoff[m] + v * Ko);
      if (!back) {
        nn_gemm('N', 'T', n, Ko, Ki, 1.0, X + xo, Ki, Mm, Ki, 0.0, Y + yo,
                Ko);
        continue;
      }
      nn_gemm('N', 'N', n, Ki, Ko, 1.0, X + yo, Ko, Mm, Ki, 0.0, Y + xo, Ki);
      if (dM)
        nn_gemm('T', 'N', Ko, Ki, n, 1.0, X + yo, Ko, Xm + xo, Ki, 1.0,
                (v ? dMt : dM) + moff, Ki);
    }
    moff += (size_t)Ko * Ki;
  }
}

nh_err nh_nn_so2_forward(double *out, double *work, const double *in,
                         const double *rad, const double *r,
                         const double *params, const nh_nn_so2 *s, int E) {
  // in (E, in.dim), rad (E, nrad), r (E, 3) -> out (E, out.dim), a block
  // of edges at a time: frames, rotate in, mix, rotate back
  so2_ws w;
  NH_CALL(ws_set(&w, work, params, s, E));
  for (int e0 = 0; e0 < E; e0 += w.cap) {
    const int n = E - e0 < w.cap ? E - e0 : w.cap;
    NH_CALL(frames(w.Dy, w.phase, w.C, w.G, r + 3 * (size_t)e0, s, n, w.cap,
                   e0));
    rotate_in(w.F[0], &w, in + (size_t)e0 * s->in.dim,
              rad + (size_t)e0 * s->nrad, &s->in, s, w.ti, n);
    mix(w.F[2], w.F[0], NULL, NULL, NULL, &w, s, n, 0);
    rotate_out(out + (size_t)e0 * s->out.dim, w.F[2], &w, &s->out, s, w.to, n,
               0);
  }
  return NH_OK;
}

/* X <- rad·X over the frame rows of edges 0..n-1 of a block, every |m|
 * and input kind. With d_rad, first d_rad += Σ_± X·Xraw: the backward of
 * X = rad·Xraw, X holding dℓ/dX on entry and dℓ/dXraw on return. */
static void modulate(double *X, double *d_rad, const double *Xraw,
                     const double *rad, const nh_nn_so2 *s, const so2_ws *w,
                     int n) {
  const nh_nn_irreps *ir = &s->in;
  for (int m = 0; m <= s->mmax; m++) {
    const size_t K = (size_t)s->kin[m], vo = m ? (size_t)w->cap * K : 0;
    for (int e = 0; e < n; e++)
      for (int k = 0; k < ir->nkind; k++) {
        if (ir->L[k] < m)
          continue;
        const size_t o = (size_t)w->cap * w->fi.xoff[m] + e * K + w->fi.pos[m][k];
        const size_t ro = (size_t)e * s->nrad + w->fi.roff[m] + w->fi.rpos[m][k];
        double *u = X + o, *v = m ? u + vo : NULL;
        for (int c = 0; c < ir->mul[k]; c++) {
          if (d_rad)
            d_rad[ro + c] +=
                u[c] * Xraw[o + c] + (v ? v[c] * Xraw[o + vo + c] : 0.0);
          u[c] *= rad[ro + c];
          if (v)
            v[c] *= rad[ro + c];
        }
      }
  }
}

nh_err nh_nn_so2_backward(double *d_in, double *d_rad, double *d_params,
                          const double *d_out, double *work, const double *in,
                          const double *rad, const double *r,
                          const double *params, const nh_nn_so2 *s, int E) {
  // per block: recompute the frames, Xraw = pack(D in), X = rad·Xraw;
  // dY = pack(D d_out), dX = Mᵀ dY, dM += dY Xᵀ; then back through the
  // modulation and the rotation. dM goes to d_params at the end.
  so2_ws w;
  NH_CALL(ws_set(&w, work, params, s, E));
  double *Xr = w.F[0], *X = w.F[1], *dY = w.F[2], *dX = w.F[3];
  double *dM = d_params ? w.dM : NULL;
  if (dM)
    memset(w.dM, 0, 2 * s->nmat * sizeof(double)); /* dM and dMt */
  for (int e0 = 0; e0 < E; e0 += w.cap) {
    const int n = E - e0 < w.cap ? E - e0 : w.cap;
    const double *rd = rad + (size_t)e0 * s->nrad;
    NH_CALL(frames(w.Dy, w.phase, w.C, w.G, r + 3 * (size_t)e0, s, n, w.cap,
                   e0));
    rotate_in(Xr, &w, in + (size_t)e0 * s->in.dim, NULL, &s->in, s, w.ti, n);
    /* unpack's adjoint is pack, and the adjoint of Dᵀ is D */
    rotate_in(dY, &w, d_out + (size_t)e0 * s->out.dim, NULL, &s->out, s, w.to,
              n);
    if (dM) {
      memcpy(X, Xr, (size_t)w.cap * s->fin * sizeof(double));
      modulate(X, NULL, NULL, rd, s, &w, n);
    }
    mix(dX, dY, X, dM, w.dMt, &w, s, n, 1);
    modulate(dX, d_rad ? d_rad + (size_t)e0 * s->nrad : NULL, Xr, rd, s, &w,
             n);
    if (d_in)
      rotate_out(d_in + (size_t)e0 * s->in.dim, dX, &w, &s->in, s, w.ti, n, 1);
  }
  if (dM) {
    mirror(w.dM, w.dMt, s, &w.fi, &w.fo, 1);
    walk(s, &w.fi, &w.fo, w.dM, NULL, d_params);
  }
  return NH_OK;
}
