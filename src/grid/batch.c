/* Basis functions and their gradients on the points of one batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gridimpl.h"

extern void dgesv_(const int *n, const int *nrhs, double *a, const int *lda,
                   int *ipiv, double *b, const int *ldb, int *info);

static double dfact2(int n) { /* n!!, (-1)!! = 1 */
  double f = 1;
  for (; n > 1; n -= 2)
    f *= n;
  return f;
}

/* Upper bound on |phi| of the shell at distance r (|P_lm| <= r^l /
 * sqrt((2l-1)!!)); decreasing beyond the largest peak of its terms. */
static double shell_bound(const grid_shell *s, double r) {
  double f = 0;
  for (int p = 0; p < s->nprim; p++)
    f += fabs(s->d[p]) * exp(-s->exps[p] * r * r);
  return f * pow(r, s->l) / sqrt(dfact2(2 * s->l - 1));
}

static double shell_rpeak(const grid_shell *s) {
  double rp = 0;
  for (int p = 0; p < s->nprim; p++)
    rp = fmax(rp, sqrt(s->l / (2 * s->exps[p])));
  return rp;
}

/* The bound at r, valid also inside the peak region. */
static double bound_at(const grid_shell *s, double r) {
  double rp = shell_rpeak(s);
  return r <= rp ? s->peak : shell_bound(s, r);
}

static void shell_radius(grid_shell *s, double eps) {
  double rp = shell_rpeak(s), lo = rp, hi = rp + 1;
  s->peak = 0;
  for (int k = 0; k <= 200; k++) /* bound on [0, rp]: sample, with margin */
    s->peak = fmax(s->peak, shell_bound(s, rp * k / 200.0));
  s->peak = fmax(s->peak * 1.05, shell_bound(s, rp));
  if (shell_bound(s, rp) < eps) {
    s->rad = rp;
    return;
  }
  while (shell_bound(s, hi) >= eps)
    hi *= 2;
  for (int it = 0; it < 60; it++) {
    double mid = 0.5 * (lo + hi);
    if (shell_bound(s, mid) >= eps)
      lo = mid;
    else
      hi = mid;
  }
  s->rad = hi;
}

nh_err grid_elem_prepare(const nh_element_basis *eb, double eps_func,
                         grid_elem **out) {
  nh_err err = NH_OK;
  grid_elem *e = NULL;
  nh_int_shell *ish = NULL;
  NH_CALL(nh_calloc(1, sizeof *e, &e));
  NH_CALL_GOTO(nh_calloc((size_t)eb->nshell, sizeof *e->sh, &e->sh), fail);
  NH_CALL_GOTO(nh_calloc((size_t)eb->nshell, sizeof *ish, &ish), fail);
  NH_CALL_GOTO(nh_int_prepare(eb->shells, eb->nshell, 0, ish), fail);
  e->nshell = eb->nshell;
  for (int k = 0; k < eb->nshell; k++) {
    grid_shell *s = &e->sh[k];
    NH_CHECK_GOTO(ish[k].rpow == 0 && ish[k].l <= NH_INT_LMAX, fail,
                  NH_ERR_ARG, "grid: shell %d of element %d: l = %d "
                  "unsupported", k, eb->z, ish[k].l);
    s->l = ish[k].l;
    s->nprim = ish[k].nprim;
    s->off = e->norb;
    memcpy(s->exps, ish[k].exps, sizeof s->exps);
    memcpy(s->d, ish[k].coef, sizeof s->d);
    shell_radius(s, eps_func);
    e->rmax = fmax(e->rmax, s->rad);
    e->norb += 2 * s->l + 1;
  }
  nh_free(&ish);
  *out = e;
  return NH_OK;
fail:
  nh_free(&ish);
  grid_elem_destroy(&e);
  return err;
}

void grid_elem_destroy(grid_elem **e) {
  if (!e || !*e)
    return;
  nh_free(&(*e)->sh);
  nh_free(e);
}

/* Monomial k of degree l, exponents (lx, ly, lz). */
static void mono_exps(int l, int k, int *lx, int *ly) {
  for (int a = l, i = 0; a >= 0; a--)
    for (int b = l - a; b >= 0; b--, i++)
      if (i == k) {
        *lx = a;
        *ly = b;
        return;
      }
}

/* P_{l,m} is homogeneous of degree l: its monomial coefficients follow from
 * its values on the lattice points (a, b, c), a + b + c = l (unisolvent for
 * homogeneous polynomials of degree l). */
nh_err grid_cart_init(grid_cart *c) {
  memset(c, 0, sizeof *c);
  for (int l = 0; l <= NH_INT_LMAX; l++) {
    int nm = (l + 1) * (l + 2) / 2, nrhs = 2 * l + 1, ipiv[GRID_NMONO], info;
    double a[GRID_NMONO * GRID_NMONO], rhs[GRID_NMONO * (2 * NH_INT_LMAX + 1)];
    for (int i = 0; i < nm; i++) {
      int px = 0, py = 0;
      mono_exps(l, i, &px, &py);
      double x = px, y = py, z = l - px - py, val[2 * NH_INT_LMAX + 1];
      for (int k = 0; k < nm; k++) {
        int kx = 0, ky = 0;
        mono_exps(l, k, &kx, &ky);
        a[i + k * nm] = pow(x, kx) * pow(y, ky) * pow(z, l - kx - ky);
      }
      nh_int_solid_harmonics(l, x, y, z, val);
      for (int m = 0; m < nrhs; m++)
        rhs[i + m * nm] = val[m];
    }
    dgesv_(&nm, &nrhs, a, &nm, ipiv, rhs, &nm, &info);
    NH_CHECK(info == 0, NH_ERR_INTERNAL, "grid: dgesv failed (%d) for l=%d",
             info, l);
    for (int m = 0; m < nrhs; m++)
      for (int k = 0; k < nm; k++)
        c->c[l][m][k] = rhs[k + m * nm];
  }
  return NH_OK;
}

/* Values and gradients of the 2l+1 functions of shell s at (x, y, z)
 * relative to its atom. */
static void shell_eval(const grid_shell *s, const grid_cart *c, double x,
                       double y, double z, int grad, double *f, double *fx,
                       double *fy, double *fz) {
  double r2 = x * x + y * y + z * z, rad = 0, rad1 = 0;
  for (int p = 0; p < s->nprim; p++) {
    double e = s->d[p] * exp(-s->exps[p] * r2);
    rad += e;
    rad1 -= 2 * s->exps[p] * e;
  }
  int l = s->l, nm = (l + 1) * (l + 2) / 2;
  double px[NH_INT_LMAX + 1], py[NH_INT_LMAX + 1], pz[NH_INT_LMAX + 1];
  px[0] = py[0] = pz[0] = 1;
  for (int k = 1; k <= l; k++) {
    px[k] = px[k - 1] * x;
    py[k] = py[k - 1] * y;
    pz[k] = pz[k - 1] * z;
  }
  double mo[GRID_NMONO], dx[GRID_NMONO], dy[GRID_NMONO], dz[GRID_NMONO];
  for (int a = l, k = 0; a >= 0; a--)
    for (int b = l - a; b >= 0; b--, k++) {
      int cc = l - a - b;
      mo[k] = px[a] * py[b] * pz[cc];
      dx[k] = a ? a * px[a - 1] * py[b] * pz[cc] : 0;
      dy[k] = b ? b * px[a] * py[b - 1] * pz[cc] : 0;
      dz[k] = cc ? cc * px[a] * py[b] * pz[cc - 1] : 0;
    }
  for (int m = 0; m < 2 * l + 1; m++) {
    const double *cm = c->c[l][m];
    double v = 0, vx = 0, vy = 0, vz = 0;
    for (int k = 0; k < nm; k++) {
      v += cm[k] * mo[k];
      vx += cm[k] * dx[k];
      vy += cm[k] * dy[k];
      vz += cm[k] * dz[k];
    }
    f[m] = rad * v;
    if (grad) {
      fx[m] = rad1 * x * v + rad * vx;
      fy[m] = rad1 * y * v + rad * vy;
      fz[m] = rad1 * z * v + rad * vz;
    }
  }
}

void grid_batch_free(grid_batch *bt) {
  double **d[] = {(double **)&bt->r, &bt->w, &bt->bound, &bt->phi, &bt->gx,
                  &bt->gy, &bt->gz, &bt->x, &bt->y, &bt->m, &bt->rho,
                  &bt->grho, &bt->v, &bt->sigma, &bt->vrho, &bt->vsigma,
                  &bt->zk, &bt->a, &bt->bx, &bt->by, &bt->bz};
  for (size_t k = 0; k < sizeof d / sizeof *d; k++)
    nh_free(d[k]);
  nh_free(&bt->atom);
  nh_free(&bt->col0);
  nh_free(&bt->orb);
  nh_free(&bt->cand);
  memset(bt, 0, sizeof *bt);
}

nh_err grid_batch_points(grid_batch *bt, int npmax) {
  if (bt->npmax == npmax)
    return NH_OK;
  NH_CHECK(bt->npmax == 0, NH_ERR_INTERNAL, "grid: batch size changed");
  bt->npmax = npmax;
  NH_CALL(nh_malloc((size_t)npmax * sizeof *bt->r, &bt->r));
  double **d[] = {&bt->w,      &bt->rho, &bt->v, &bt->sigma, &bt->vrho,
                  &bt->vsigma, &bt->zk,  &bt->a, &bt->bx,    &bt->by,
                  &bt->bz};
  for (size_t k = 0; k < sizeof d / sizeof *d; k++)
    NH_CALL(nh_malloc((size_t)npmax * sizeof(double), d[k]));
  NH_CALL(nh_malloc((size_t)npmax * 3 * sizeof(double), &bt->grho));
  return NH_OK;
}

static nh_err batch_columns(grid_batch *bt, int nf) {
  if (nf <= bt->capf)
    return NH_OK;
  int cap = bt->capf ? bt->capf : 256;
  while (cap < nf)
    cap *= 2;
  size_t n1 = (size_t)bt->npmax * cap, n2 = 2 * n1;
  nh_free(&bt->phi);
  nh_free(&bt->gx);
  nh_free(&bt->gy);
  nh_free(&bt->gz);
  nh_free(&bt->x);
  nh_free(&bt->y);
  nh_free(&bt->m);
  nh_free(&bt->orb);
  NH_CALL(nh_malloc(n1 * sizeof(double), &bt->phi));
  NH_CALL(nh_malloc(n1 * sizeof(double), &bt->gx));
  NH_CALL(nh_malloc(n1 * sizeof(double), &bt->gy));
  NH_CALL(nh_malloc(n1 * sizeof(double), &bt->gz));
  NH_CALL(nh_malloc(n2 * sizeof(double), &bt->x));
  NH_CALL(nh_malloc(n2 * sizeof(double), &bt->y));
  NH_CALL(nh_malloc((size_t)cap * cap * sizeof(double), &bt->m));
  NH_CALL(nh_malloc((size_t)cap * sizeof(int), &bt->orb));
  bt->capf = cap;
  return NH_OK;
}

static nh_err batch_atoms(grid_batch *bt, int64_t n) {
  if (n <= bt->capatom)
    return NH_OK;
  int cap = bt->capatom ? bt->capatom : 64;
  while (cap < n)
    cap *= 2;
  NH_CALL(nh_realloc((size_t)cap * sizeof *bt->atom, &bt->atom));
  NH_CALL(nh_realloc((size_t)cap * sizeof *bt->bound, &bt->bound));
  NH_CALL(nh_realloc((size_t)(cap + 1) * sizeof *bt->col0, &bt->col0));
  bt->capatom = cap;
  return NH_OK;
}

nh_err grid_atoms_near(const grid_setup *g, const double x[3], double rad,
                       int64_t **list, int64_t *n, int64_t *cap) {
  int lo[3], hi[3];
  for (int d = 0; d < 3; d++) {
    lo[d] = (int)floor((x[d] - rad - g->blo[d]) / g->bin);
    hi[d] = (int)floor((x[d] + rad - g->blo[d]) / g->bin);
    lo[d] = lo[d] < 0 ? 0 : lo[d];
    hi[d] = hi[d] >= g->nbin[d] ? g->nbin[d] - 1 : hi[d];
  }
  for (int i = lo[0]; i <= hi[0]; i++)
    for (int j = lo[1]; j <= hi[1]; j++)
      for (int k = lo[2]; k <= hi[2]; k++)
        for (int64_t a = g->bstart[((int64_t)i * g->nbin[1] + j) * g->nbin[2] +
                                   k];
             a >= 0; a = g->bnext[a]) {
          const double *y = g->at->x[a];
          double d2 = (y[0] - x[0]) * (y[0] - x[0]) +
                      (y[1] - x[1]) * (y[1] - x[1]) +
                      (y[2] - x[2]) * (y[2] - x[2]);
          if (d2 > rad * rad)
            continue;
          if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            NH_CALL(nh_realloc((size_t)*cap * sizeof **list, list));
          }
          (*list)[(*n)++] = a;
        }
  return NH_OK;
}

/* Atoms within g->bin of c (their functions and potentials may reach a
 * batch of radius hd <= g->hd around c). */
nh_err grid_batch_candidates(const grid_setup *g, const double c[3],
                             grid_batch *bt) {
  bt->ncand = 0;
  return grid_atoms_near(g, c, g->bin, &bt->cand, &bt->ncand, &bt->capcand);
}

/* Batch atoms by decreasing bound (ties by table index): pairs worth
 * computing then form a prefix of each row (vmat.c). */
typedef struct bound_atom {
  double bound;
  int64_t atom;
} bound_atom;

static int cmp_bound(const void *pa, const void *pb) {
  const bound_atom *a = pa, *b = pb;
  if (a->bound != b->bound)
    return a->bound > b->bound ? -1 : 1;
  return a->atom < b->atom ? -1 : a->atom > b->atom;
}

static nh_err batch_sort(grid_batch *bt) {
  bound_atom *t = NULL;
  NH_CALL(nh_malloc((size_t)bt->natom * sizeof *t, &t));
  for (int k = 0; k < bt->natom; k++)
    t[k] = (bound_atom){bt->bound[k], bt->atom[k]};
  qsort(t, (size_t)bt->natom, sizeof *t, cmp_bound);
  for (int k = 0; k < bt->natom; k++) {
    bt->bound[k] = t[k].bound;
    bt->atom[k] = t[k].atom;
  }
  nh_free(&t);
  return NH_OK;
}

nh_err grid_batch_eval(grid_setup *g, int grad, grid_batch *bt) {
  const nh_atoms *at = g->at;
  const double *c = bt->c;
  NH_CALL(grid_batch_candidates(g, c, bt));
  /* atoms whose shells reach the batch, with their largest bound */
  bt->natom = 0;
  for (int64_t q = 0; q < bt->ncand; q++) {
    int64_t a = bt->cand[q];
    const grid_elem *el = g->el[at->z[a]];
    double d = sqrt((c[0] - at->x[a][0]) * (c[0] - at->x[a][0]) +
                    (c[1] - at->x[a][1]) * (c[1] - at->x[a][1]) +
                    (c[2] - at->x[a][2]) * (c[2] - at->x[a][2])),
           dmin = fmax(d - bt->hd, 0), bmax = 0;
    if (dmin > el->rmax)
      continue;
    for (int s = 0; s < el->nshell; s++)
      if (dmin <= el->sh[s].rad)
        bmax = fmax(bmax, bound_at(&el->sh[s], dmin));
    if (bmax <= 0)
      continue;
    NH_CALL(batch_atoms(bt, bt->natom + 1));
    bt->atom[bt->natom] = a;
    bt->bound[bt->natom++] = bmax;
  }
  bt->nf = 0;
  if (!bt->natom)
    return NH_OK;
  NH_CALL(batch_sort(bt));
  /* columns: shells that reach the batch, atom by atom */
  int nf = 0;
  for (int k = 0; k < bt->natom; k++)
    nf += g->el[at->z[bt->atom[k]]]->norb;
  NH_CALL(batch_columns(bt, nf));
  int np = bt->np, col = 0;
  double f[2 * NH_INT_LMAX + 1], fx[2 * NH_INT_LMAX + 1],
      fy[2 * NH_INT_LMAX + 1], fz[2 * NH_INT_LMAX + 1];
  for (int k = 0; k < bt->natom; k++) {
    int64_t a = bt->atom[k];
    const grid_elem *el = g->el[at->z[a]];
    double d = sqrt((c[0] - at->x[a][0]) * (c[0] - at->x[a][0]) +
                    (c[1] - at->x[a][1]) * (c[1] - at->x[a][1]) +
                    (c[2] - at->x[a][2]) * (c[2] - at->x[a][2])),
           dmin = fmax(d - bt->hd, 0);
    bt->col0[k] = col;
    for (int s = 0; s < el->nshell; s++) {
      const grid_shell *sh = &el->sh[s];
      if (dmin > sh->rad)
        continue;
      int nm = 2 * sh->l + 1;
      for (int p = 0; p < np; p++) {
        shell_eval(sh, &g->cart, bt->r[p][0] - at->x[a][0],
                   bt->r[p][1] - at->x[a][1], bt->r[p][2] - at->x[a][2], grad,
                   f, fx, fy, fz);
        for (int m = 0; m < nm; m++) {
          size_t o = (size_t)(col + m) * np + p;
          bt->phi[o] = f[m];
          if (grad) {
            bt->gx[o] = fx[m];
            bt->gy[o] = fy[m];
            bt->gz[o] = fz[m];
          }
        }
      }
      for (int m = 0; m < nm; m++)
        bt->orb[col + m] = sh->off + m;
      col += nm;
    }
  }
  bt->col0[bt->natom] = col;
  bt->nf = col;
  return NH_OK;
}
