/* Edge-frame SO(2) convolution (eSCN): rotate each edge's features so the
 * edge points along ẑ, mix the m-components per |m| with weights shared by
 * all edges (after a per-edge radial modulation), rotate back. */
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

size_t nh_nn_so2_work(const nh_nn_so2 *s, int E) {
  const int dmax = s->in.dim > s->out.dim ? s->in.dim : s->out.dim;
  return (size_t)E * (nh_irreps_wigner_off(s->lmax + 1) + 2 * s->fin +
                      s->fout) + 2 * s->nmat + 2 * (size_t)dmax;
}

/* The frame. For |m| > 0 the channels of each side are ordered by sign
 * s = p(-1)^L, s = +1 kinds first, and every edge carries two rows
 *     u = (x_{+m}[s=+1], x_{-m}[s=-1]),   v = (x_{-m}[s=+1], -x_{+m}[s=-1]).
 * Then the W1/W2 structure collapses into ONE dense matrix per |m|,
 * M_m[o][i] = W (with a minus on the (s_o = +1, s_i = -1) blocks), and
 * (u, v)_out = M_m (u, v)_in: a dgemm of 2E × Ki by Ki × Ko over all
 * edges, with no structural zeros. m = 0 has the row u = x_0 only and
 * zero blocks where s_o != s_i.
 * pos[m][k]: first channel of kind k in the rows of block m;
 * xoff[m]: offset of block m in units of E; roff[m]: radial offset. */
typedef struct frame_map {
  int pos[NH_IRREPS_LMAX + 1][NH_NN_MAXKIND];
  int xoff[NH_IRREPS_LMAX + 2], roff[NH_IRREPS_LMAX + 2];
  int rpos[NH_IRREPS_LMAX + 1][NH_NN_MAXKIND]; /* radial: kind order */
} frame_map;

static void frame_map_set(const nh_nn_irreps *ir, int mmax, frame_map *f) {
  f->xoff[0] = f->roff[0] = 0;
  for (int m = 0; m <= mmax; m++) {
    int n = 0, nr = 0;
    for (int pass = 1; pass >= -1; pass -= 2)
      for (int k = 0; k < ir->nkind; k++)
        if (ir->L[k] >= m && sgn(ir, k) == pass) {
          f->pos[m][k] = n;
          n += ir->mul[k];
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

/* All channels of a kind at once: T (mul, d) = X (mul, d) D^Lᵀ, i.e.
 * every channel x -> D^L x (back = 0); or T (+)= X D^L, every channel
 * x -> D^Lᵀ x (back = 1, beta 0 or 1). */
static void rot(const double *Dl, int d, int mul, int back, const double *X,
                double *T, double beta) {
  nn_gemm('N', back ? 'N' : 'T', mul, d, d, 1.0, X, d, Dl, d, beta, T, d);
}

/* Edge frames: D[e] = wigner(lmax, edge_frame(r_e)). */
static nh_err frames(double *D, const double *r, const nh_nn_so2 *s, int E) {
  const int nw = nh_irreps_wigner_off(s->lmax + 1);
  for (int e = 0; e < E; e++) {
    double R[9];
    NH_CALL(nh_irreps_edge_frame(r + 3 * (size_t)e, R));
    NH_CALL(nh_irreps_wigner(s->lmax, R, D + (size_t)e * nw));
  }
  return NH_OK;
}

/* Frame rows of one channel: y (2L+1 components in the frame) <-> the
 * u, v entries of block m, for a kind of sign sg. scale multiplies. */
static void pack(double *row, int K, int pos, int m, int L, int sg,
                 double scale, const double *y) {
  if (m == 0) {
    row[pos] = scale * y[L];
  } else if (sg > 0) {
    row[pos] = scale * y[L + m];
    row[K + pos] = scale * y[L - m];
  } else {
    row[pos] = scale * y[L - m];
    row[K + pos] = -scale * y[L + m];
  }
}
static void unpack(double *y, const double *row, int K, int pos, int m, int L,
                   int sg, double scale) {
  if (m == 0) {
    y[L] = scale * row[pos];
  } else if (sg > 0) {
    y[L + m] = scale * row[pos];
    y[L - m] = scale * row[K + pos];
  } else {
    y[L - m] = scale * row[pos];
    y[L + m] = -scale * row[K + pos];
  }
}

/* Block m of edge e in a frame array (rows u then v for m > 0). */
static double *block(double *X, const frame_map *f, int m, int K, int E,
                     int e) {
  return X + (size_t)E * f->xoff[m] + (size_t)e * (m ? 2 * K : K);
}

/* X = the modulated frame rows of every edge, from in, D and rad. */
static void rotate_in(double *X, double *tmp, const double *D,
                      const double *in, const double *rad, const nh_nn_so2 *s,
                      const frame_map *f, int E) {
  const nh_nn_irreps *ir = &s->in;
  const int nw = nh_irreps_wigner_off(s->lmax + 1);
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ir->nkind; k++) {
      const int L = ir->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      rot(D + (size_t)e * nw + nh_irreps_wigner_off(L), d, ir->mul[k], 0,
          in + (size_t)e * ir->dim + ir->off[k], tmp, 0.0);
      for (int c = 0; c < ir->mul[k]; c++) {
        const double *y = tmp + c * d;
        for (int m = 0; m <= top; m++)
          pack(block(X, f, m, s->kin[m], E, e), s->kin[m], f->pos[m][k] + c,
               m, L, sgn(ir, k),
               rad[(size_t)e * s->nrad + f->roff[m] + f->rpos[m][k] + c], y);
      }
    }
}

nh_err nh_nn_so2_forward(double *out, double *work, const double *in,
                         const double *rad, const double *r,
                         const double *params, const nh_nn_so2 *s, int E) {
  // in (E, in.dim), rad (E, nrad), r (E, 3) -> out (E, out.dim)
  // work: D (E, nw) | X (E, fin) | Y (E, fout) | M (nmat) | tmp (dim)
  const int nw = nh_irreps_wigner_off(s->lmax + 1);
  double *D = work, *X = D + (size_t)E * nw, *Y = X + (size_t)E * s->fin;
  double *M = Y + (size_t)E * s->fout, *tmp = M + s->nmat;
  frame_map fi, fo;
  frame_map_set(&s->in, s->mmax, &fi);
  frame_map_set(&s->out, s->mmax, &fo);
  NH_CALL(frames(D, r, s, E));
  rotate_in(X, tmp, D, in, rad, s, &fi, E);
  walk(s, &fi, &fo, M, params, NULL);
  size_t moff = 0;
  for (int m = 0; m <= s->mmax; m++) { /* Y_m (rows, Ko) = X_m (rows, Ki) M_mᵀ */
    const int Ki = s->kin[m], Ko = s->kout[m], rows = (m ? 2 : 1) * E;
    nn_gemm('N', 'T', rows, Ko, Ki, 1.0, X + (size_t)E * fi.xoff[m], Ki,
            M + moff, Ki, 0.0, Y + (size_t)E * fo.xoff[m], Ko);
    moff += (size_t)Ko * Ki;
  }
  const nh_nn_irreps *ir = &s->out;
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ir->nkind; k++) {
      const int L = ir->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      memset(tmp, 0, (size_t)ir->mul[k] * d * sizeof(double));
      for (int c = 0; c < ir->mul[k]; c++)
        for (int m = 0; m <= top; m++)
          unpack(tmp + c * d, block(Y, &fo, m, s->kout[m], E, e), s->kout[m],
                 fo.pos[m][k] + c, m, L, sgn(ir, k), 1.0);
      rot(D + (size_t)e * nw + nh_irreps_wigner_off(L), d, ir->mul[k], 1, tmp,
          out + (size_t)e * ir->dim + ir->off[k], 0.0);
    }
  return NH_OK;
}

nh_err nh_nn_so2_backward(double *d_in, double *d_rad, double *d_params,
                          const double *d_out, double *work, const double *in,
                          const double *rad, const double *r,
                          const double *params, const nh_nn_so2 *s, int E) {
  // recompute D, X and M; then dY = pack(D d_out), dX_m = dY_m M_m,
  // dM_m = dY_mᵀ X_m, and back through the modulation and the rotation.
  // work: D (E, nw) | X (E, fin) | dY (E, fout) | dX (E, fin) | M | dM |
  //       tmp, tmp2 (dim)
  const int nw = nh_irreps_wigner_off(s->lmax + 1);
  const int dmax = s->in.dim > s->out.dim ? s->in.dim : s->out.dim;
  double *D = work, *X = D + (size_t)E * nw, *dY = X + (size_t)E * s->fin;
  double *dX = dY + (size_t)E * s->fout, *M = dX + (size_t)E * s->fin;
  double *dM = M + s->nmat, *tmp = dM + s->nmat, *tmp2 = tmp + dmax;
  frame_map fi, fo;
  frame_map_set(&s->in, s->mmax, &fi);
  frame_map_set(&s->out, s->mmax, &fo);
  NH_CALL(frames(D, r, s, E));
  rotate_in(X, tmp, D, in, rad, s, &fi, E);
  walk(s, &fi, &fo, M, params, NULL);
  const nh_nn_irreps *io = &s->out;
  for (int e = 0; e < E; e++) /* unpack's adjoint is pack */
    for (int k = 0; k < io->nkind; k++) {
      const int L = io->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      rot(D + (size_t)e * nw + nh_irreps_wigner_off(L), d, io->mul[k], 0,
          d_out + (size_t)e * io->dim + io->off[k], tmp, 0.0);
      for (int c = 0; c < io->mul[k]; c++)
        for (int m = 0; m <= top; m++)
          pack(block(dY, &fo, m, s->kout[m], E, e), s->kout[m],
               fo.pos[m][k] + c, m, L, sgn(io, k), 1.0, tmp + c * d);
    }
  size_t moff = 0;
  for (int m = 0; m <= s->mmax; m++) {
    const int Ki = s->kin[m], Ko = s->kout[m], rows = (m ? 2 : 1) * E;
    const double *dYm = dY + (size_t)E * fo.xoff[m];
    nn_gemm('N', 'N', rows, Ki, Ko, 1.0, dYm, Ko, M + moff, Ki, 0.0,
            dX + (size_t)E * fi.xoff[m], Ki);
    if (d_params)
      nn_gemm('T', 'N', Ko, Ki, rows, 1.0, dYm, Ko, X + (size_t)E * fi.xoff[m],
              Ki, 0.0, dM + moff, Ki);
    moff += (size_t)Ko * Ki;
  }
  if (d_params)
    walk(s, &fi, &fo, dM, NULL, d_params);
  const nh_nn_irreps *ii = &s->in;
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ii->nkind; k++) {
      const int L = ii->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      const double *Dl = D + (size_t)e * nw + nh_irreps_wigner_off(L);
      const size_t xo = (size_t)e * ii->dim + ii->off[k];
      rot(Dl, d, ii->mul[k], 0, in + xo, tmp, 0.0);
      memset(tmp2, 0, (size_t)ii->mul[k] * d * sizeof(double));
      for (int c = 0; c < ii->mul[k]; c++) {
        const double *y = tmp + c * d;
        double *dy = tmp2 + c * d;
        for (int m = 0; m <= top; m++) {
          /* pack is linear in rad·y: unpack the frame gradient into g_y,
           * then d_rad = g_y·y over the ±m components, dy = rad·g_y */
          double gy[2 * NH_IRREPS_LMAX + 1];
          const size_t ri = (size_t)e * s->nrad + fi.roff[m] + fi.rpos[m][k] + c;
          unpack(gy, block(dX, &fi, m, s->kin[m], E, e), s->kin[m],
                 fi.pos[m][k] + c, m, L, sgn(ii, k), 1.0);
          double g = gy[L + m] * y[L + m];
          dy[L + m] = rad[ri] * gy[L + m];
          if (m) {
            g += gy[L - m] * y[L - m];
            dy[L - m] = rad[ri] * gy[L - m];
          }
          if (d_rad)
            d_rad[ri] += g;
        }
      }
      if (d_in)
        rot(Dl, d, ii->mul[k], 1, tmp2, d_in + xo, 1.0);
    }
  return NH_OK;
}
