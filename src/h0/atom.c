/* The spherical neutral pseudo-atom: a Kohn–Sham SCF in an even-tempered
 * Gaussian basis per l, with Pulay (DIIS) mixing of the density matrices
 * (docs/atom.md). */
#include "nextham/atom.h"

#include <math.h>
#include <string.h>
#include <xc.h>

#include "nextham/structure.h"
#include "radial.h"

extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a,
                   const int *lda, double *w, double *work, const int *lwork,
                   int *info);

extern void dgemm_(const char *ta, const char *tb, const int *m, const int *n,
                   const int *k, const double *alpha, const double *a,
                   const int *lda, const double *b, const int *ldb,
                   const double *beta, double *c, const int *ldc);

#define NCH (NH_GTH_LMAX + 1)
#define NDIIS 8
#define DIIS_MIX 0.5
#define SVAL_MIN 1e-10 /* overlap eigenvalues kept in the orthogonaliser */
#define MAXFUN 256     /* radial functions per channel */

/* One angular momentum channel with electrons. Its nb radial functions are
 * contractions r^l sum_p pc[p] exp(-pa[p] r^2) over the primitives
 * np0[k] <= p < np0[k + 1], each normalised (one primitive each for the
 * even-tempered basis). */
typedef struct channel {
  int l, nstate, state0; /* states state0.. of the atom belong here */
  int nb, np0[MAXFUN + 1];
  double *pa, *pc;
  double *chi, *dchi;    /* [k * n + i]: the functions and d/dr  */
  double *s, *t, *hcore; /* nb x nb: overlap, kinetic, T + V_loc + V_nl */
  double *x;             /* nb x m: canonical orthogonaliser S^-1/2 */
  int m;
  double *f, *c, *e;     /* Fock matrix, eigenvectors (nb x m), values */
  /* Density matrices in and out in the orthonormal basis X (m x m, so
   * that their elements are bounded by the occupations and the mixing
   * sees no round-off of the near-dependent Gaussians); P = X p X^T. */
  double *pin, *pout;
} channel;

typedef struct scf {
  const nh_gth *g;
  nh_atom_opts o;
  nh_atom *a;
  int nbmax, n, nch;
  channel ch[NCH];
  double *w;                        /* quadrature weights h r^3 */
  double *sigma, *exc, *vrho, *vsigma, *ex, *vx, *vs, *tmp, *v, *y;
  double *big, *pg; /* nb x n and nb x nb scratch */
  double *rc, *drc, *rt, *drt; /* core density (NLCC), total for xc */
  int np;                           /* total density-matrix elements */
  double *hist_in, *hist_res;       /* NDIIS x np */
  int nhist;
  xc_func_type fx, fc;
  int xc_ready;
} scf;

void nh_atom_opts_default(nh_atom_opts *o) {
  memset(o, 0, sizeof *o);
  o->nbasis = 40;
  o->alpha_min = 0.01;
  o->alpha_max = 0;
  o->grid_h = 0.01;
  o->eps_scf = 1e-10;
  o->max_iter = 200;
  o->eps_cut = 1e-8;
}

nh_err nh_atom_destroy(nh_atom **a) {
  if (!a || !*a) return NH_OK;
  nh_free(&(*a)->storage);
  nh_free(a);
  return NH_OK;
}

static void scf_free(scf *s) {
  for (int c = 0; c < s->nch; c++) {
    channel *ch = &s->ch[c];
    double **p[] = {&ch->chi, &ch->dchi, &ch->s,   &ch->hcore, &ch->x,
                    &ch->f,   &ch->c,    &ch->e,   &ch->pin,   &ch->pout,
                    &ch->pa,  &ch->pc,   &ch->t};
    for (size_t k = 0; k < sizeof p / sizeof p[0]; k++) nh_free(p[k]);
  }
  double **p[] = {&s->w, &s->sigma, &s->exc, &s->vrho, &s->vsigma, &s->ex,
                  &s->vx, &s->vs, &s->tmp, &s->v, &s->y, &s->hist_in,
                  &s->hist_res, &s->big, &s->pg, &s->rc, &s->drc,
                  &s->rt, &s->drt};
  for (size_t k = 0; k < sizeof p / sizeof p[0]; k++) nh_free(p[k]);
  if (s->xc_ready) {
    xc_func_end(&s->fx);
    xc_func_end(&s->fc);
  }
}

/* The atom with its grid arrays in one block. */
static nh_err atom_alloc(const nh_gth *g, const nh_atom_opts *o, int nstate,
                         double amin, nh_atom **out) {
  /* out to where the most diffuse function squared is below 1e-17 */
  double rmin = 1e-5, rmax = sqrt(20 / amin);
  int n = (int)ceil(log(rmax / rmin) / o->grid_h) + 1;
  nh_atom *a;
  NH_CALL(nh_calloc(1, sizeof *a, &a));
  nh_err err;
  NH_CALL_GOTO(nh_calloc((size_t)n * (10 + nstate), sizeof(double),
                         &a->storage), fail);
  a->z = g->z;
  a->zval = g->zion;
  a->n = n;
  a->h = o->grid_h;
  a->x0 = log(rmin);
  double **arr[] = {&a->r, &a->rho, &a->drho, &a->vloc, &a->vh,
                    &a->vna, &a->dvna, &a->q};
  for (size_t k = 0; k < sizeof arr / sizeof arr[0]; k++)
    *arr[k] = a->storage + k * n;
  a->orb = a->storage + 10 * (size_t)n;
  for (int i = 0; i < n; i++) a->r[i] = exp(a->x0 + i * a->h);
  *out = a;
  return NH_OK;
fail:
  nh_atom_destroy(&a);
  return err;
}

/* Radial overlap and kinetic energy of primitives r^l e^(-a r^2), r^l
 * e^(-b r^2): S = Gamma(l+3/2) / (2 (a+b)^(l+3/2)), T = (2l+3) ab/(a+b) S
 * (the centrifugal term included). */
static double prim_s(int l, double a, double b) {
  return tgamma(l + 1.5) / (2 * pow(a + b, l + 1.5));
}

/* Symmetric eigenproblem in place: a (n x n) becomes the vectors. */
static nh_err syev(int n, double *a, double *w) {
  int lwork = -1, info;
  double q;
  dsyev_("V", "U", &n, a, &n, w, &q, &lwork, &info);
  lwork = (int)q;
  double *work;
  NH_CALL(nh_malloc((size_t)lwork * sizeof *work, &work));
  dsyev_("V", "U", &n, a, &n, w, work, &lwork, &info);
  nh_free(&work);
  NH_CHECK(info == 0, NH_ERR_LIB, "LAPACK dsyev failed (info %d)", info);
  return NH_OK;
}

/* m_ij += sum_g w_g f_g chi_i chi_j over the grid. */
static void grid_matrix(const scf *s, const channel *ch, const double *f,
                        double *m) {
  int nb = ch->nb, n = s->n;
  double one = 1;
  for (int i = 0; i < nb; i++)
    for (int g = 0; g < n; g++)
      s->big[(size_t)i * n + g] = s->w[g] * f[g] * ch->chi[(size_t)i * n + g];
  dgemm_("T", "N", &nb, &nb, &n, &one, ch->chi, &n, s->big, &n, &one, m, &nb);
}

/* S, T and the projector overlaps <chi_k|p_i> of the channel's functions,
 * analytic, summed over primitives; normalises the functions first. */
static void channel_analytic(const nh_gth *g, channel *ch,
                             double b[][NH_GTH_NPRJ]) {
  int nb = ch->nb, l = ch->l;
  for (int k = 0; k < nb; k++) {
    double sum = 0;
    for (int p = ch->np0[k]; p < ch->np0[k + 1]; p++)
      for (int q = ch->np0[k]; q < ch->np0[k + 1]; q++)
        sum += ch->pc[p] * ch->pc[q] * prim_s(l, ch->pa[p], ch->pa[q]);
    for (int p = ch->np0[k]; p < ch->np0[k + 1]; p++) ch->pc[p] /= sqrt(sum);
  }
  int nprj = l < g->nl ? g->nprj[l] : 0;
  for (int i = 0; i < nb; i++) {
    for (int j = 0; j < nb; j++) {
      double sij = 0, tij = 0;
      for (int p = ch->np0[i]; p < ch->np0[i + 1]; p++)
        for (int q = ch->np0[j]; q < ch->np0[j + 1]; q++) {
          double a = ch->pa[p], c = ch->pa[q];
          double v = ch->pc[p] * ch->pc[q] * prim_s(l, a, c);
          sij += v;
          tij += (2 * l + 3) * a * c / (a + c) * v;
        }
      ch->s[i * nb + j] = sij;
      ch->t[i * nb + j] = tij;
    }
    for (int k = 0; k < nprj; k++) {
      b[i][k] = 0;
      for (int p = ch->np0[i]; p < ch->np0[i + 1]; p++)
        b[i][k] += ch->pc[p] * nh_gth_projector_gauss(g, l, k + 1, ch->pa[p]);
    }
  }
}

/* Basis tables, S, the core Hamiltonian T + V_loc + V_nl and the
 * orthogonaliser of one channel whose primitives are set. */
static nh_err channel_setup(scf *s, channel *ch) {
  int nb = ch->nb, n = s->n, l = ch->l;
  const double *r = s->a->r;
  size_t nn = (size_t)nb * nb;
  double **dst[] = {&ch->chi, &ch->dchi, &ch->s,    &ch->hcore, &ch->f,
                    &ch->c,   &ch->x,    &ch->pin,  &ch->pout,  &ch->e,
                    &ch->t};
  size_t sz[] = {(size_t)nb * n, (size_t)nb * n, nn, nn, nn, nn, nn, nn, nn,
                 nb, nn};
  for (int k = 0; k < 11; k++) NH_CALL(nh_calloc(sz[k], sizeof(double), dst[k]));
  const nh_gth *g = s->g;
  double b[MAXFUN][NH_GTH_NPRJ];
  channel_analytic(g, ch, b);
  for (int k = 0; k < nb; k++)
    for (int i = 0; i < n; i++) {
      double v = 0, dv = 0, rl = pow(r[i], l);
      for (int p = ch->np0[k]; p < ch->np0[k + 1]; p++) {
        double e = ch->pc[p] * rl * exp(-ch->pa[p] * r[i] * r[i]);
        v += e;
        dv += (l / r[i] - 2 * ch->pa[p] * r[i]) * e;
      }
      ch->chi[(size_t)k * n + i] = v;
      ch->dchi[(size_t)k * n + i] = dv;
    }
  memcpy(ch->hcore, ch->t, nn * sizeof(double));
  grid_matrix(s, ch, s->a->vloc, ch->hcore);
  int nprj = l < g->nl ? g->nprj[l] : 0;
  for (int i = 0; i < nb; i++)
    for (int j = 0; j < nb; j++)
      for (int p = 0; p < nprj; p++)
        for (int q = 0; q < nprj; q++)
          ch->hcore[i * nb + j] += b[i][p] * g->h[l][p][q] * b[j][q];
  /* Canonical orthogonalisation: X = U s^-1/2 over the kept eigenvalues. */
  memcpy(ch->f, ch->s, nn * sizeof(double));
  NH_CALL(syev(nb, ch->f, ch->e));
  ch->m = 0;
  for (int k = 0; k < nb; k++) {
    if (ch->e[k] < SVAL_MIN * ch->e[nb - 1]) continue;
    for (int i = 0; i < nb; i++)
      ch->x[i * nb + ch->m] = ch->f[k * nb + i] / sqrt(ch->e[k]);
    ch->m++;
  }
  NH_CHECK(ch->m >= ch->nstate, NH_ERR_INPUT,
           "atom %s (%s), l = %d: %d states to occupy but the basis spans "
           "only %d functions", nh_element_symbol(g->z), g->name, l,
           ch->nstate, ch->m);
  return NH_OK;
}

/* Diagonalises the channel's Fock matrix f: eigenvectors in c (nb x m,
 * column k at c[i * m + k]), values in e, and the density matrix pout of
 * the occupied states. */
static nh_err channel_solve(scf *s, channel *ch) {
  int nb = ch->nb, m = ch->m;
  /* f' = X^T f X (m x m) */
  double *fx = s->y, *fp = s->y + (size_t)nb * m;
  for (int i = 0; i < nb; i++)
    for (int k = 0; k < m; k++) {
      double sum = 0;
      for (int j = 0; j < nb; j++) sum += ch->f[i * nb + j] * ch->x[j * nb + k];
      fx[i * m + k] = sum;
    }
  for (int k = 0; k < m; k++)
    for (int q = 0; q < m; q++) {
      double sum = 0;
      for (int i = 0; i < nb; i++) sum += ch->x[i * nb + k] * fx[i * m + q];
      fp[k * m + q] = sum;
    }
  NH_CALL(syev(m, fp, ch->e)); /* column q of fp (row-major: fp[q*m+k]) */
  for (int i = 0; i < nb; i++)
    for (int q = 0; q < m; q++) {
      double sum = 0;
      for (int k = 0; k < m; k++) sum += ch->x[i * nb + k] * fp[q * m + k];
      ch->c[i * m + q] = sum;
    }
  memset(ch->pout, 0, (size_t)m * m * sizeof(double));
  for (int st = 0; st < ch->nstate; st++) {
    double f = s->a->occ[ch->state0 + st];
    for (int k = 0; k < m; k++)
      for (int q = 0; q < m; q++)
        ch->pout[k * m + q] += f * fp[st * m + k] * fp[st * m + q];
  }
  return NH_OK;
}

/* The density matrix in the Gaussian basis, P = X p X^T, into s->pg. */
static void gauss_dm(scf *s, const channel *ch, const double *p) {
  int nb = ch->nb, m = ch->m;
  double *px = s->y; /* p X^T: m x nb */
  for (int k = 0; k < m; k++)
    for (int j = 0; j < nb; j++) {
      double sum = 0;
      for (int q = 0; q < m; q++) sum += p[k * m + q] * ch->x[j * nb + q];
      px[k * nb + j] = sum;
    }
  for (int i = 0; i < nb; i++)
    for (int j = 0; j < nb; j++) {
      double sum = 0;
      for (int k = 0; k < m; k++) sum += ch->x[i * nb + k] * px[k * nb + j];
      s->pg[i * nb + j] = sum;
    }
}

/* rho and drho of the density matrices (pin or pout). */
static void density(scf *s, int use_out) {
  int n = s->n;
  nh_atom *a = s->a;
  double one = 1, zero = 0;
  memset(a->rho, 0, n * sizeof(double));
  memset(a->drho, 0, n * sizeof(double));
  for (int c = 0; c < s->nch; c++) {
    const channel *ch = &s->ch[c];
    int nb = ch->nb;
    gauss_dm(s, ch, use_out ? ch->pout : ch->pin);
    /* big[i][g] = sum_j P_ij chi_j(g) */
    dgemm_("N", "N", &n, &nb, &nb, &one, ch->chi, &n, s->pg, &nb, &zero,
           s->big, &n);
    for (int i = 0; i < nb; i++) {
      const double *ci = ch->chi + (size_t)i * n, *di = ch->dchi + (size_t)i * n;
      const double *yi = s->big + (size_t)i * n;
      for (int g = 0; g < n; g++) {
        a->rho[g] += ci[g] * yi[g] / (4 * M_PI);
        a->drho[g] += 2 * di[g] * yi[g] / (4 * M_PI);
      }
    }
  }
}

/* Hartree and PBE terms of the current density: s->v (local potential
 * V_H + d e/d rho), s->vs (2 d e/d sigma d rho/dr, the gradient term of the
 * weak form) and the energies. The functional sees rho plus the NLCC core
 * density; the Hartree term the valence density alone. */
static void potentials(scf *s) {
  nh_atom *a = s->a;
  int n = s->n;
  for (int g = 0; g < n; g++)
    if (a->rho[g] < 0) a->rho[g] = 0; /* round-off in the far tail */
  nh_radial_hartree(n, a->h, a->r, a->rho, a->vh, a->q, s->tmp);
  for (int g = 0; g < n; g++) {
    s->rt[g] = a->rho[g] + s->rc[g];
    s->drt[g] = a->drho[g] + s->drc[g];
    s->sigma[g] = s->drt[g] * s->drt[g];
  }
  xc_gga_exc_vxc(&s->fx, n, s->rt, s->sigma, s->ex, s->vx, s->vs);
  xc_gga_exc_vxc(&s->fc, n, s->rt, s->sigma, s->exc, s->vrho, s->vsigma);
  for (int g = 0; g < n; g++) {
    s->exc[g] += s->ex[g];
    s->v[g] = a->vh[g] + s->vrho[g] + s->vx[g];
    s->vs[g] = 2 * (s->vsigma[g] + s->vs[g]) * s->drt[g];
    s->tmp[g] = s->rt[g] * s->exc[g];
  }
  a->exc = 4 * M_PI * nh_radial_integral(n, a->h, a->r, s->tmp);
  for (int g = 0; g < n; g++) s->tmp[g] = a->rho[g] * a->vh[g];
  a->ehartree = 2 * M_PI * nh_radial_integral(n, a->h, a->r, s->tmp);
}

/* f = hcore + <chi_i| v |chi_j> + int vs (chi_i chi_j)' r^2 dr, as
 * K + K^T with K_ij = sum_g w (v chi_i / 2 + vs chi_i') chi_j. */
static void fock(scf *s, channel *ch) {
  int nb = ch->nb, n = s->n;
  double one = 1, zero = 0;
  for (int i = 0; i < nb; i++) {
    const double *ci = ch->chi + (size_t)i * n, *di = ch->dchi + (size_t)i * n;
    double *t = s->big + (size_t)i * n;
    for (int g = 0; g < n; g++)
      t[g] = s->w[g] * (0.5 * s->v[g] * ci[g] + s->vs[g] * di[g]);
  }
  dgemm_("T", "N", &nb, &nb, &n, &one, ch->chi, &n, s->big, &n, &zero, ch->f,
         &nb);
  for (int i = 0; i < nb; i++)
    for (int j = 0; j <= i; j++) {
      double sum = ch->f[i * nb + j] + ch->f[j * nb + i];
      ch->f[i * nb + j] = ch->f[j * nb + i] = sum;
    }
  for (size_t k = 0; k < (size_t)nb * nb; k++) ch->f[k] += ch->hcore[k];
}

/* Solves sum_j B_ij c_j + lambda = 0, sum c = 1 (Pulay) by Gaussian
 * elimination with partial pivoting; 0 if singular. */
static int diis_coef(int k, const double *bmat, double *c) {
  double a[NDIIS + 1][NDIIS + 2];
  int m = k + 1;
  for (int i = 0; i < m; i++)
    for (int j = 0; j <= m; j++) {
      if (j == m) a[i][j] = i == k ? 1 : 0;
      else if (i < k && j < k) a[i][j] = bmat[i * NDIIS + j];
      else a[i][j] = i == j ? 0 : 1;
    }
  for (int col = 0; col < m; col++) {
    int piv = col;
    for (int i = col + 1; i < m; i++)
      if (fabs(a[i][col]) > fabs(a[piv][col])) piv = i;
    if (fabs(a[piv][col]) < 1e-300) return 0;
    for (int j = 0; j <= m; j++) {
      double t = a[col][j];
      a[col][j] = a[piv][j];
      a[piv][j] = t;
    }
    for (int i = 0; i < m; i++) {
      if (i == col) continue;
      double f = a[i][col] / a[col][col];
      for (int j = col; j <= m; j++) a[i][j] -= f * a[col][j];
    }
  }
  for (int i = 0; i < k; i++) c[i] = a[i][m] / a[i][i];
  return 1;
}

/* Pulay mixing: stores (pin, pout - pin), returns the largest residual
 * element and sets the next pin. */
static double mix(scf *s) {
  int np = s->np;
  if (s->nhist == NDIIS) { /* drop the oldest */
    memmove(s->hist_in, s->hist_in + np, (size_t)(NDIIS - 1) * np * sizeof(double));
    memmove(s->hist_res, s->hist_res + np, (size_t)(NDIIS - 1) * np * sizeof(double));
    s->nhist--;
  }
  double *in = s->hist_in + (size_t)s->nhist * np;
  double *res = s->hist_res + (size_t)s->nhist * np;
  double rmax = 0;
  for (int c = 0, off = 0; c < s->nch; off += s->ch[c].m * s->ch[c].m, c++)
    for (int k = 0; k < s->ch[c].m * s->ch[c].m; k++) {
      in[off + k] = s->ch[c].pin[k];
      res[off + k] = s->ch[c].pout[k] - s->ch[c].pin[k];
      if (fabs(res[off + k]) > rmax) rmax = fabs(res[off + k]);
    }
  s->nhist++;
  double bmat[NDIIS * NDIIS], coef[NDIIS];
  for (;;) {
    int k = s->nhist;
    for (int i = 0; i < k; i++)
      for (int j = 0; j < k; j++) {
        double sum = 0;
        for (int e = 0; e < np; e++)
          sum += s->hist_res[(size_t)i * np + e] * s->hist_res[(size_t)j * np + e];
        bmat[i * NDIIS + j] = sum;
      }
    if (k == 1 || diis_coef(k, bmat, coef)) {
      if (k == 1) coef[0] = 1;
      break;
    }
    memmove(s->hist_in, s->hist_in + np, (size_t)(k - 1) * np * sizeof(double));
    memmove(s->hist_res, s->hist_res + np, (size_t)(k - 1) * np * sizeof(double));
    s->nhist--;
  }
  for (int c = 0, off = 0; c < s->nch; off += s->ch[c].m * s->ch[c].m, c++)
    for (int e = 0; e < s->ch[c].m * s->ch[c].m; e++) {
      double sum = 0;
      for (int i = 0; i < s->nhist; i++)
        sum += coef[i] * (s->hist_in[(size_t)i * np + off + e] +
                          DIIS_MIX * s->hist_res[(size_t)i * np + off + e]);
      s->ch[c].pin[e] = sum;
    }
  return rmax;
}

/* States per channel from the electrons per l, lowest first. */
static nh_err occupations(scf *s, nh_atom *a) {
  const nh_gth *g = s->g;
  a->nstate = 0;
  s->nch = 0;
  for (int l = 0; l < g->nl_elec; l++) {
    if (g->nelec[l] == 0) continue;
    channel *ch = &s->ch[s->nch++];
    ch->l = l;
    ch->state0 = a->nstate;
    double left = g->nelec[l], cap = 2 * (2 * l + 1);
    while (left > 0) {
      NH_CHECK(a->nstate < NH_ATOM_MAXSTATE, NH_ERR_INPUT,
               "potential %s of %s: more than %d occupied states", g->name,
               nh_element_symbol(g->z), NH_ATOM_MAXSTATE);
      a->l[a->nstate] = l;
      a->occ[a->nstate++] = left < cap ? left : cap;
      left -= cap;
      ch->nstate++;
    }
  }
  return NH_OK;
}

/* The radial functions of each channel: the contracted shells of o.basis
 * with the channel's l, or o.nbasis even-tempered Gaussians from alpha_min
 * to alpha_max; *amin gets the smallest exponent. */
static nh_err channel_functions(scf *s, double *amin) {
  const nh_gth *g = s->g;
  const nh_element_basis *eb = s->o.basis;
  double amax = s->o.alpha_max;
  if (amax <= 0) { /* resolve the sharpest feature of the potential */
    double rm = g->rloc;
    for (int l = 0; l < g->nl; l++)
      if (g->rl[l] < rm) rm = g->rl[l];
    amax = 100 / (rm * rm);
  }
  *amin = HUGE_VAL;
  s->nbmax = 0;
  for (int c = 0; c < s->nch; c++) {
    channel *ch = &s->ch[c];
    int nprim = 0;
    ch->nb = eb ? 0 : s->o.nbasis;
    for (int k = 0; eb && k < eb->nshell; k++)
      if (eb->shells[k].l == ch->l) {
        ch->nb++;
        nprim += eb->shells[k].nprim;
      }
    if (!eb) nprim = ch->nb;
    NH_CHECK(ch->nb >= 1 && ch->nb <= MAXFUN, NH_ERR_INPUT,
             "atom %s: basis %s has %d functions of l = %d for its %g "
             "electrons (1..%d needed)", nh_element_symbol(g->z),
             eb ? eb->basis_name : "(even-tempered)", ch->nb, ch->l,
             (double)g->nelec[ch->l], MAXFUN);
    NH_CALL(nh_calloc(nprim, sizeof(double), &ch->pa));
    NH_CALL(nh_calloc(nprim, sizeof(double), &ch->pc));
    int p = 0, f = 0;
    for (int k = 0; eb && k < eb->nshell; k++) {
      const nh_shell *sh = &eb->shells[k];
      if (sh->l != ch->l) continue;
      ch->np0[f++] = p;
      /* the file's coefficients multiply normalised primitives */
      for (int q = 0; q < sh->nprim; q++, p++) {
        ch->pa[p] = sh->exps[q];
        ch->pc[p] = sh->coefs[q] * pow(sh->exps[q], (2 * sh->l + 3) / 4.0);
      }
    }
    double beta = pow(amax / s->o.alpha_min, 1.0 / (ch->nb - 1));
    for (; !eb && f < ch->nb; f++, p++) {
      ch->np0[f] = p;
      ch->pa[p] = s->o.alpha_min * pow(beta, f);
      ch->pc[p] = 1;
    }
    ch->np0[f] = p;
    for (int q = 0; q < nprim; q++) {
      NH_CHECK(ch->pa[q] > 0, NH_ERR_INPUT, "atom %s: basis exponent %g",
               nh_element_symbol(g->z), ch->pa[q]);
      if (ch->pa[q] < *amin) *amin = ch->pa[q];
    }
    if (ch->nb > s->nbmax) s->nbmax = ch->nb;
  }
  return NH_OK;
}

/* Grid work arrays, libxc, channels and the starting density
 * (the occupied states of the bare core Hamiltonian). */
static nh_err scf_setup(scf *s) {
  const nh_gth *g = s->g;
  nh_atom *a = s->a;
  int n = s->n = a->n;
  double **arr[] = {&s->w,   &s->sigma, &s->exc, &s->vrho,
                    &s->vsigma, &s->ex, &s->vx, &s->vs,
                    &s->tmp, &s->v,     &s->rc,  &s->drc,
                    &s->rt,  &s->drt};
  for (size_t k = 0; k < sizeof arr / sizeof arr[0]; k++)
    NH_CALL(nh_calloc(n, sizeof(double), arr[k]));
  for (int i = 0; i < n; i++) s->w[i] = a->h * a->r[i] * a->r[i] * a->r[i];
  s->w[0] *= 0.5;
  s->w[n - 1] *= 0.5;
  for (int i = 0; i < n; i++) {
    a->vloc[i] = nh_gth_vloc(g, a->r[i], NULL);
    s->rc[i] = nh_gth_core_density(g, a->r[i], &s->drc[i]);
  }
  NH_CHECK(xc_func_init(&s->fx, XC_GGA_X_PBE, XC_UNPOLARIZED) == 0,
           NH_ERR_LIB, "libxc: cannot initialise PBE exchange");
  if (xc_func_init(&s->fc, XC_GGA_C_PBE, XC_UNPOLARIZED) != 0) {
    xc_func_end(&s->fx);
    NH_CHECK(0, NH_ERR_LIB, "libxc: cannot initialise PBE correlation");
  }
  s->xc_ready = 1;
  int nb = s->nbmax;
  NH_CALL(nh_calloc(2 * (size_t)nb * nb, sizeof(double), &s->y));
  NH_CALL(nh_calloc((size_t)nb * nb, sizeof(double), &s->pg));
  NH_CALL(nh_calloc((size_t)nb * n, sizeof(double), &s->big));
  s->np = 0;
  for (int c = 0; c < s->nch; c++) {
    channel *ch = &s->ch[c];
    NH_CALL(channel_setup(s, ch));
    memcpy(ch->f, ch->hcore, (size_t)ch->nb * ch->nb * sizeof(double));
    NH_CALL(channel_solve(s, ch));
    memcpy(ch->pin, ch->pout, (size_t)ch->m * ch->m * sizeof(double));
    s->np += ch->m * ch->m;
  }
  NH_CALL(nh_calloc((size_t)NDIIS * s->np, sizeof(double), &s->hist_in));
  NH_CALL(nh_calloc((size_t)NDIIS * s->np, sizeof(double), &s->hist_res));
  return NH_OK;
}

/* One SCF step from the pin's: Fock matrices, eigenstates, pout's; the
 * largest eigenvalue change into *de. */
static nh_err scf_step(scf *s, double *de) {
  nh_atom *a = s->a;
  density(s, 0);
  potentials(s);
  *de = 0;
  for (int c = 0; c < s->nch; c++) {
    channel *ch = &s->ch[c];
    fock(s, ch);
    NH_CALL(channel_solve(s, ch));
    for (int st = 0; st < ch->nstate; st++) {
      double e = ch->e[st], *old = &a->eps[ch->state0 + st];
      if (fabs(e - *old) > *de) *de = fabs(e - *old);
      *old = e;
    }
  }
  return NH_OK;
}

/* Makes a radial function positive in its tail (the outermost point where
 * it is above 1e-6 of its largest magnitude). */
static void orient(double *f, int n) {
  double big = 0;
  for (int g = 0; g < n; g++) big = fmax(big, fabs(f[g]));
  int g = n - 1;
  while (g > 0 && fabs(f[g]) < 1e-6 * big) g--;
  if (f[g] < 0)
    for (int i = 0; i < n; i++) f[i] = -f[i];
}

/* Orbitals, final density and potentials, energies and r_cut. */
static nh_err finish(scf *s) {
  nh_atom *a = s->a;
  int n = s->n;
  density(s, 1);
  potentials(s);
  a->ekin = a->eloc = a->enl = a->eband = 0;
  for (int c = 0; c < s->nch; c++) {
    channel *ch = &s->ch[c];
    int nb = ch->nb;
    memset(ch->f, 0, (size_t)nb * nb * sizeof(double));
    grid_matrix(s, ch, a->vloc, ch->f); /* V_loc alone */
    gauss_dm(s, ch, ch->pout);
    for (int i = 0; i < nb; i++)
      for (int j = 0; j < nb; j++) {
        double p = s->pg[i * nb + j], t = ch->t[i * nb + j];
        a->ekin += p * t;
        a->eloc += p * ch->f[i * nb + j];
        a->enl += p * (ch->hcore[i * nb + j] - t - ch->f[i * nb + j]);
      }
    for (int st = 0; st < ch->nstate; st++) {
      int k = ch->state0 + st;
      a->eband += a->occ[k] * a->eps[k];
      double *orb = a->orb + (size_t)k * n;
      for (int i = 0; i < nb; i++) {
        double cik = ch->c[i * ch->m + st];
        const double *chi = ch->chi + (size_t)i * n;
        for (int g = 0; g < n; g++) orb[g] += cik * chi[g];
      }
      orient(orb, n);
    }
  }
  a->etot = a->ekin + a->eloc + a->enl + a->ehartree + a->exc;
  int last = 0;
  for (int i = 0; i < n; i++) {
    double dvloc;
    nh_gth_vloc(s->g, a->r[i], &dvloc);
    a->vna[i] = a->vloc[i] + a->vh[i];
    a->dvna[i] = dvloc - a->q[i] / (a->r[i] * a->r[i]);
    if (fabs(a->rho[i]) >= s->o.eps_cut || fabs(a->vna[i]) >= s->o.eps_cut)
      last = i;
  }
  a->ncut = last + 2 < n ? last + 2 : n;
  a->rcut = a->r[a->ncut - 1];
  return NH_OK;
}

static nh_err check_opts(const nh_gth *g, const nh_atom_opts *o) {
  NH_CHECK(o->nbasis >= 4 && o->nbasis <= 256, NH_ERR_ARG,
           "atom: nbasis must be 4..256, got %d", o->nbasis);
  NH_CHECK(o->alpha_min > 0 && o->grid_h > 0 && o->grid_h <= 0.1 &&
               o->eps_scf > 0 && o->max_iter > 0 && o->eps_cut > 0,
           NH_ERR_ARG, "atom: invalid options");
  NH_CHECK(g->zion > 0, NH_ERR_ARG, "potential %s has no electrons", g->name);
  return NH_OK;
}

nh_err nh_atom_solve(const nh_gth *g, const nh_atom_opts *o, nh_atom **out) {
  *out = NULL;
  scf s;
  memset(&s, 0, sizeof s);
  s.g = g;
  if (o) s.o = *o;
  else nh_atom_opts_default(&s.o);
  NH_CALL(check_opts(g, &s.o));
  nh_err err;
  nh_atom occ; /* the states, before the atom's size is known */
  memset(&occ, 0, sizeof occ);
  double amin;
  NH_CALL_GOTO(occupations(&s, &occ), fail);
  NH_CALL_GOTO(channel_functions(&s, &amin), fail);
  NH_CALL_GOTO(atom_alloc(g, &s.o, occ.nstate, amin, &s.a), fail);
  memcpy(s.a->l, occ.l, sizeof occ.l);
  memcpy(s.a->occ, occ.occ, sizeof occ.occ);
  s.a->nstate = occ.nstate;
  NH_CALL_GOTO(scf_setup(&s), fail);
  double de = 0, res = 0;
  int it;
  for (it = 1; it <= s.o.max_iter; it++) {
    NH_CALL_GOTO(scf_step(&s, &de), fail);
    res = mix(&s);
    if (de < s.o.eps_scf && res < s.o.eps_scf) break;
  }
  NH_CHECK_GOTO(it <= s.o.max_iter, fail, NH_ERR_NUMERIC,
                "atom %s (%s): SCF not converged in %d iterations "
                "(eigenvalue change %.2e, density residual %.2e)",
                nh_element_symbol(g->z), g->name, s.o.max_iter, de, res);
  s.a->niter = it;
  NH_CALL_GOTO(finish(&s), fail);
  scf_free(&s);
  *out = s.a;
  return NH_OK;
fail:
  scf_free(&s);
  nh_atom_destroy(&s.a);
  return err;
}

static double interp(const nh_atom *a, const double *y, const double *dy,
                     double r, double *d) {
  double dd = 0, v = 0;
  if (r < a->r[0]) v = y[0];
  else if (r < a->rcut)
    v = nh_radial_hermite(a->ncut, a->x0, a->h, y, dy, a->r, r, &dd);
  if (d) *d = dd;
  return v;
}

double nh_atom_rho(const nh_atom *a, double r, double *d) {
  return interp(a, a->rho, a->drho, r, d);
}

double nh_atom_vna(const nh_atom *a, double r, double *d) {
  return interp(a, a->vna, a->dvna, r, d);
}
