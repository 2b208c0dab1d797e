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
    s->nmat += (size_t)w * Ko * w * Ki;
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
  return (size_t)E * (nh_irreps_wigner_off(s->lmax + 1) + 2 * s->fin +
                      2 * s->fout) + 2 * s->nmat;
}

/* Parameters <-> the dense matrices M_m (rows [+out; -out], columns
 * [+in; -in], or just out × in for m = 0). to_params = 0 fills M from P;
 * 1 accumulates the adjoint, P += ∂M/∂P ᵀ M. */
static void walk(const nh_nn_so2 *s, double *M, double *P, int to_params) {
  size_t p = 0, moff = 0;
  for (int m = 0; m <= s->mmax; m++) {
    const int Ko = s->kout[m], Ki = s->kin[m];
    const int wo = m ? 2 * Ko : Ko, wi = m ? 2 * Ki : Ki;
    double *Mm = M + moff;
    if (!to_params)
      memset(Mm, 0, (size_t)wo * wi * sizeof(double));
    int ro = 0;
    for (int ko = 0; ko < s->out.nkind; ko++) {
      if (s->out.L[ko] < m)
        continue;
      const int mo = s->out.mul[ko];
      int ci = 0;
      for (int ki = 0; ki < s->in.nkind; ki++) {
        if (s->in.L[ki] < m)
          continue;
        const int mi = s->in.mul[ki], same = sgn(&s->out, ko) == sgn(&s->in, ki);
        if (m == 0 && !same) {
          ci += mi;
          continue;
        }
        for (int a = 0; a < mo; a++)
          for (int b = 0; b < mi; b++) {
            double *w = P + p + (size_t)a * mi + b;
            double *pp = Mm + (size_t)(ro + a) * wi + ci + b;      /* +,+ */
            if (m == 0) {
              if (to_params) *w += *pp; else *pp = *w;
              continue;
            }
            double *mm = Mm + (size_t)(Ko + ro + a) * wi + Ki + ci + b; /* -,- */
            double *pm = Mm + (size_t)(ro + a) * wi + Ki + ci + b;      /* +,- */
            double *mp = Mm + (size_t)(Ko + ro + a) * wi + ci + b;      /* -,+ */
            if (same) { /* W1 */
              if (to_params) *w += *pp + *mm; else *pp = *mm = *w;
            } else {    /* W2 */
              if (to_params) *w += *mp - *pm; else { *mp = *w; *pm = -*w; }
            }
          }
        p += (size_t)mo * mi;
        ci += mi;
      }
      ro += mo;
    }
    moff += (size_t)wo * wi;
  }
}

/* pos[m][k]: first channel of kind k among the channels with L >= m;
 * xoff[m]: offset of block m per edge in units of E (Σ widths before m). */
typedef struct frame_map {
  int pos[NH_IRREPS_LMAX + 1][NH_NN_MAXKIND];
  int xoff[NH_IRREPS_LMAX + 2], roff[NH_IRREPS_LMAX + 2];
} frame_map;

static void frame_map_set(const nh_nn_irreps *ir, int mmax, frame_map *f) {
  f->xoff[0] = f->roff[0] = 0;
  for (int m = 0; m <= mmax; m++) {
    int n = 0;
    for (int k = 0; k < ir->nkind; k++)
      if (ir->L[k] >= m) {
        f->pos[m][k] = n;
        n += ir->mul[k];
      }
    f->xoff[m + 1] = f->xoff[m] + (m ? 2 : 1) * n;
    f->roff[m + 1] = f->roff[m] + n;
  }
}

/* y[d] = D^L x (transpose = 0) or D^Lᵀ x (transpose = 1). */
static void rot(const double *Dl, int d, int transpose, const double *x,
                double *y) {
  for (int a = 0; a < d; a++) {
    double t = 0.0;
    for (int b = 0; b < d; b++)
      t += (transpose ? Dl[b * d + a] : Dl[a * d + b]) * x[b];
    y[a] = t;
  }
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

/* X_m[e] = rad · (D x)_{±m} for every edge, m <= mmax. */
static void rotate_in(double *X, const double *D, const double *in,
                      const double *rad, const nh_nn_so2 *s,
                      const frame_map *f, int E) {
  const nh_nn_irreps *ir = &s->in;
  const int nw = nh_irreps_wigner_off(s->lmax + 1);
  double y[2 * NH_IRREPS_LMAX + 1];
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ir->nkind; k++) {
      const int L = ir->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      for (int c = 0; c < ir->mul[k]; c++) {
        rot(D + (size_t)e * nw + nh_irreps_wigner_off(L), d, 0,
            in + (size_t)e * ir->dim + ir->off[k] + c * d, y);
        for (int m = 0; m <= top; m++) {
          const int pos = f->pos[m][k] + c, Ki = s->kin[m];
          const double rv = rad[(size_t)e * s->nrad + f->roff[m] + pos];
          double *Xm = X + (size_t)E * f->xoff[m] + (size_t)e * (m ? 2 * Ki : Ki);
          Xm[pos] = rv * y[L + m];
          if (m)
            Xm[Ki + pos] = rv * y[L - m];
        }
      }
    }
}

nh_err nh_nn_so2_forward(double *out, double *work, const double *in,
                         const double *rad, const double *r,
                         const double *params, const nh_nn_so2 *s, int E) {
  // in (E, in.dim), rad (E, nrad), r (E, 3) -> out (E, out.dim)
  // work: D (E, nw) | X (E, fin) | Y (E, fout) | M (nmat)
  const int nw = nh_irreps_wigner_off(s->lmax + 1);
  double *D = work, *X = D + (size_t)E * nw, *Y = X + (size_t)E * s->fin;
  double *M = Y + (size_t)E * s->fout;
  frame_map fi, fo;
  frame_map_set(&s->in, s->mmax, &fi);
  frame_map_set(&s->out, s->mmax, &fo);
  NH_CALL(frames(D, r, s, E));
  rotate_in(X, D, in, rad, s, &fi, E);
  walk(s, M, (double *)params, 0);
  size_t moff = 0;
  for (int m = 0; m <= s->mmax; m++) { /* Y_m (E, wo) = X_m (E, wi) M_mᵀ */
    const int wi = (m ? 2 : 1) * s->kin[m], wo = (m ? 2 : 1) * s->kout[m];
    nn_gemm('N', 'T', E, wo, wi, 1.0, X + (size_t)E * fi.xoff[m], wi, M + moff,
            wi, 0.0, Y + (size_t)E * fo.xoff[m], wo);
    moff += (size_t)wo * wi;
  }
  const nh_nn_irreps *ir = &s->out;
  double y[2 * NH_IRREPS_LMAX + 1];
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ir->nkind; k++) {
      const int L = ir->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      for (int c = 0; c < ir->mul[k]; c++) {
        memset(y, 0, d * sizeof(double));
        for (int m = 0; m <= top; m++) {
          const int pos = fo.pos[m][k] + c, Ko = s->kout[m];
          const double *Ym =
              Y + (size_t)E * fo.xoff[m] + (size_t)e * (m ? 2 * Ko : Ko);
          y[L + m] = Ym[pos];
          if (m)
            y[L - m] = Ym[Ko + pos];
        }
        rot(D + (size_t)e * nw + nh_irreps_wigner_off(L), d, 1, y,
            out + (size_t)e * ir->dim + ir->off[k] + c * d);
      }
    }
  return NH_OK;
}

nh_err nh_nn_so2_backward(double *d_in, double *d_rad, double *d_params,
                          const double *d_out, double *work, const double *in,
                          const double *rad, const double *r,
                          const double *params, const nh_nn_so2 *s, int E) {
  // recompute D, X and M; then dY = D d_out, dX_m = dY_m M_m,
  // dM_m = dY_mᵀ X_m, and back through the modulation and the rotation.
  const int nw = nh_irreps_wigner_off(s->lmax + 1);
  double *D = work, *X = D + (size_t)E * nw, *dY = X + (size_t)E * s->fin;
  double *M = dY + (size_t)E * s->fout, *dX = M + s->nmat;
  double *dM = dX + (size_t)E * s->fin; /* nmat, then dY's twin unused */
  frame_map fi, fo;
  frame_map_set(&s->in, s->mmax, &fi);
  frame_map_set(&s->out, s->mmax, &fo);
  NH_CALL(frames(D, r, s, E));
  rotate_in(X, D, in, rad, s, &fi, E);
  walk(s, M, (double *)params, 0);
  double y[2 * NH_IRREPS_LMAX + 1], dy[2 * NH_IRREPS_LMAX + 1];
  const nh_nn_irreps *io = &s->out;
  for (int e = 0; e < E; e++)
    for (int k = 0; k < io->nkind; k++) {
      const int L = io->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      for (int c = 0; c < io->mul[k]; c++) {
        rot(D + (size_t)e * nw + nh_irreps_wigner_off(L), d, 0,
            d_out + (size_t)e * io->dim + io->off[k] + c * d, y);
        for (int m = 0; m <= top; m++) {
          const int pos = fo.pos[m][k] + c, Ko = s->kout[m];
          double *dYm =
              dY + (size_t)E * fo.xoff[m] + (size_t)e * (m ? 2 * Ko : Ko);
          dYm[pos] = y[L + m];
          if (m)
            dYm[Ko + pos] = y[L - m];
        }
      }
    }
  size_t moff = 0;
  for (int m = 0; m <= s->mmax; m++) {
    const int wi = (m ? 2 : 1) * s->kin[m], wo = (m ? 2 : 1) * s->kout[m];
    const double *dYm = dY + (size_t)E * fo.xoff[m];
    double *Xm = X + (size_t)E * fi.xoff[m];
    nn_gemm('N', 'N', E, wi, wo, 1.0, dYm, wo, M + moff, wi, 0.0,
            dX + (size_t)E * fi.xoff[m], wi);
    if (d_params)
      nn_gemm('T', 'N', wo, wi, E, 1.0, dYm, wo, Xm, wi, 0.0, dM + moff, wi);
    moff += (size_t)wo * wi;
  }
  if (d_params)
    walk(s, dM, d_params, 1);
  const nh_nn_irreps *ii = &s->in;
  for (int e = 0; e < E; e++)
    for (int k = 0; k < ii->nkind; k++) {
      const int L = ii->L[k], d = 2 * L + 1, top = L < s->mmax ? L : s->mmax;
      const double *Dl = D + (size_t)e * nw + nh_irreps_wigner_off(L);
      for (int c = 0; c < ii->mul[k]; c++) {
        const size_t xo = (size_t)e * ii->dim + ii->off[k] + c * d;
        rot(Dl, d, 0, in + xo, y);
        memset(dy, 0, d * sizeof(double));
        for (int m = 0; m <= top; m++) {
          const int pos = fi.pos[m][k] + c, Ki = s->kin[m];
          const size_t ri = (size_t)e * s->nrad + fi.roff[m] + pos;
          const double *dXm =
              dX + (size_t)E * fi.xoff[m] + (size_t)e * (m ? 2 * Ki : Ki);
          double g = dXm[pos] * y[L + m];
          dy[L + m] = rad[ri] * dXm[pos];
          if (m) {
            g += dXm[Ki + pos] * y[L - m];
            dy[L - m] = rad[ri] * dXm[Ki + pos];
          }
          if (d_rad)
            d_rad[ri] += g;
        }
        if (d_in) {
          double t[2 * NH_IRREPS_LMAX + 1];
          rot(Dl, d, 1, dy, t);
          for (int a = 0; a < d; a++)
            d_in[xo + a] += t[a];
        }
      }
    }
  return NH_OK;
}
