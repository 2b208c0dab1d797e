/* Atom-centred integration grids (docs/grid.md, "Atomic scheme"):
 * Mura-Knowles-type radial shells x product angular rules, Stratmann partition
 * weights over all atoms and periodic images, and batches made by cutting
 * an atom's points in halves (k-d) until they are small and compact. */
#include <math.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include <stdlib.h>
#include <string.h>

#include "gridimpl.h"

/* Stratmann, Scuseria and Frisch (1996): the cell function s(mu) is 0 for
 * mu >= A_STRAT and 1 for mu <= -A_STRAT, so an atom's weight vanishes
 * beyond its fuzzy cell and is 1 near its nucleus. */
#define A_STRAT 0.64
#define K_STRAT ((1 + A_STRAT) / (1 - A_STRAT)) /* r_B / d bound: 4.556 */
#define MK_ALPHA 5.0 /* Mura-Knowles radial scale (bohr)                */

static double strat_s(double mu) {
  if (mu <= -A_STRAT)
    return 1;
  if (mu >= A_STRAT)
    return 0;
  double v = mu / A_STRAT, v2 = v * v;
  double f = 0.5 - v * (35 + v2 * (-35 + v2 * (21 - 5 * v2))) / 32;
  return fmin(fmax(f, 0), 1); /* round-off near mu = +-a */
}

/* ------------------------------------------------------------- rules */

/* Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on the
 * three-term recurrence. */
static void gauss_legendre(int n, double *x, double *w) {
  for (int k = 0; k < n; k++) {
    double z = cos(M_PI * (k + 0.75) / (n + 0.5)), dp = 1;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = z; /* P_{n-1}, P_n */
      for (int j = 2; j <= n; j++) {
        double p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
      double dz = p1 / dp;
      z -= dz;
      if (fabs(dz) < 1e-15 && it > 0)
        break;
    }
    x[k] = z;
    w[k] = 2 / ((1 - z * z) * dp * dp);
  }
}

/* Radial shells and largest theta count from the accuracy (Hartree), when
 * not given: radial calibrated on Si8, angular on graphene, whose short
 * bonds need more directions than Si (docs/grid.md, convergence tables). */
static void atomic_sizes(const nh_grid_opts *o, int *nrad, int *nth) {
  double lg = log10(o->accuracy * NH_HARTREE_EV); /* -4 at the default */
  int nr = (int)ceil(20 - 10 * lg - 1e-9), nt = (int)ceil(4 - 7 * lg - 1e-9);
  nt = nt < 6 ? 6 : nt;
  *nrad = o->radial > 0 ? o->radial : nr;
  *nth = o->angular > 0 ? o->angular : nt;
}

/* Theta points on a shell of radius r: fewer near the nucleus, where the
 * integrand varies little over a sphere. */
static int pruned_nth(int nthmax, double r) {
  int n = (int)ceil(nthmax * fmin(1.0, 0.35 + 0.65 * r / 1.5));
  return n < 4 ? (nthmax < 4 ? nthmax : 4) : n;
}

/* Atoms within rpart of a point take part in its weights. Exact
 * Stratmann weights need all atoms C within K r_B of the point for every
 * B with r_B < K d (d: the nearest atom); 20 bohr covers the diamond
 * structure's voids (d <= 4.4 bohr) but for atoms whose cell functions are
 * tiny there. The set depends on the point only, so the weights add up
 * to 1 exactly in any case. */
double grid_atomic_rpart(double rgrid) { return fmax(rgrid, 20.0); }

void grid_atomic_free(grid_atomic *ag) {
  for (int n = 0; ag->ct && n <= ag->nthmax; n++) {
    nh_free(&ag->ct[n]);
    nh_free(&ag->wt[n]);
  }
  nh_free(&ag->ct);
  nh_free(&ag->wt);
  nh_free(&ag->r);
  nh_free(&ag->wr);
  nh_free(&ag->nth);
  memset(ag, 0, sizeof *ag);
}

nh_err grid_atomic_init(grid_atomic *ag, const nh_grid_opts *o, double rgrid,
                        double rpart) {
  int nrad, nthmax;
  memset(ag, 0, sizeof *ag);
  atomic_sizes(o, &nrad, &nthmax);
  NH_CHECK(nrad >= 2 && nrad <= 10000 && nthmax >= 1 && nthmax <= 200,
           NH_ERR_ARG, "grid: atomic grid sizes out of range (radial %d, "
           "angular %d)", nrad, nthmax);
  ag->nthmax = nthmax;
  ag->rgrid = rgrid;
  ag->rpart = rpart;
  ag->npmax = o->batch * o->batch * o->batch;
  NH_CALL(nh_calloc((size_t)nrad, sizeof *ag->r, &ag->r));
  NH_CALL(nh_calloc((size_t)nrad, sizeof *ag->wr, &ag->wr));
  NH_CALL(nh_calloc((size_t)nrad, sizeof *ag->nth, &ag->nth));
  NH_CALL(nh_calloc((size_t)nthmax + 1, sizeof *ag->ct, &ag->ct));
  NH_CALL(nh_calloc((size_t)nthmax + 1, sizeof *ag->wt, &ag->wt));
  /* r = -alpha ln(1 - x^2), x = i / (N + 1): the trapezoidal rule in x
   * (Mura and Knowles 1996 use x^3, for nuclear cusps; pseudo-atoms have
   * none, and x^2 puts more shells where the cells meet: on Si it halves
   * the V_na error at equal cost, docs/grid.md); shells beyond rgrid are
   * left out */
  for (int i = 1; i <= nrad; i++) {
    double x = (double)i / (nrad + 1), x2 = x * x;
    double r = -MK_ALPHA * log(1 - x2);
    if (r > rgrid)
      break;
    double drdx = 2 * MK_ALPHA * x / (1 - x2);
    ag->r[ag->nrad] = r;
    ag->wr[ag->nrad] = r * r * drdx / (nrad + 1);
    ag->nth[ag->nrad] = pruned_nth(nthmax, r);
    ag->nrad++;
  }
  for (int i = 0; i < ag->nrad; i++) {
    int n = ag->nth[i];
    if (ag->ct[n])
      continue;
    NH_CALL(nh_malloc((size_t)n * sizeof(double), &ag->ct[n]));
    NH_CALL(nh_malloc((size_t)n * sizeof(double), &ag->wt[n]));
    gauss_legendre(n, ag->ct[n], ag->wt[n]);
  }
  return NH_OK;
}

/* ------------------------------------------------------- partition */

/* Candidate atoms of a batch sorted by their distance D from its centre;
 * distances from the current point are computed on demand (stamp). */
typedef struct part_work {
  int64_t *idx, n, cap;
  double *D, *rk;
  int64_t *stamp, now;
  int64_t capd;
  double hb;
} part_work;

typedef struct dist_idx {
  double d;
  int64_t i;
} dist_idx;

static int cmp_dist(const void *pa, const void *pb) {
  const dist_idx *a = pa, *b = pb;
  if (a->d != b->d)
    return a->d < b->d ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

static double dist(const double *x, const double *y) {
  double d[3] = {x[0] - y[0], x[1] - y[1], x[2] - y[2]};
  return sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
}

/* Sorts pw->idx[0..n) by distance from c. */
static nh_err part_sort(const grid_setup *g, const double c[3], part_work *pw) {
  dist_idx *t = NULL;
  if (pw->n > pw->capd) {
    pw->capd = pw->n;
    NH_CALL(nh_realloc((size_t)pw->capd * sizeof *pw->D, &pw->D));
    NH_CALL(nh_realloc((size_t)pw->capd * sizeof *pw->rk, &pw->rk));
    NH_CALL(nh_realloc((size_t)pw->capd * sizeof *pw->stamp, &pw->stamp));
  }
  NH_CALL(nh_malloc((size_t)(pw->n ? pw->n : 1) * sizeof *t, &t));
  for (int64_t k = 0; k < pw->n; k++)
    t[k] = (dist_idx){dist(g->at->x[pw->idx[k]], c), pw->idx[k]};
  qsort(t, (size_t)pw->n, sizeof *t, cmp_dist);
  for (int64_t k = 0; k < pw->n; k++) {
    pw->idx[k] = t[k].i;
    pw->D[k] = t[k].d;
    pw->stamp[k] = -1;
  }
  nh_free(&t);
  return NH_OK;
}

/* |r - x_k| for candidate k at the current point (pw->now). */
static double rdist(const grid_setup *g, part_work *pw, const double r[3],
                    int64_t k) {
  if (pw->stamp[k] != pw->now) {
    pw->stamp[k] = pw->now;
    pw->rk[k] = dist(g->at->x[pw->idx[k]], r);
  }
  return pw->rk[k];
}

/* Stratmann weight of table atom a at r. The atoms taking part are those
 * within rpart of r (a set that depends on r only, so the weights of all
 * atoms add up to 1 exactly); of them only atoms B with r_B < K d (d: the
 * nearest atom) can have a nonzero cell function, and only atoms C with
 * r_C < K r_B enter the product of B (mu_BC > -a). */
static double part_weight(const grid_setup *g, int64_t a, const double r[3],
                          part_work *pw) {
  const double rp = g->ag.rpart, hb = pw->hb;
  double d = HUGE_VAL, sum = 0, sa = 0;
  pw->now++;
  for (int64_t k = 0; k < pw->n && pw->D[k] - hb < d; k++)
    d = fmin(d, rdist(g, pw, r, k));
  double lim = K_STRAT * d;
  for (int64_t kb = 0; kb < pw->n && pw->D[kb] - hb < lim; kb++) {
    double rb = rdist(g, pw, r, kb), sb = 1, climit = K_STRAT * rb;
    if (rb >= lim || rb >= rp)
      continue;
    const double *xb = g->at->x[pw->idx[kb]];
    for (int64_t kc = 0; kc < pw->n && pw->D[kc] - hb < climit; kc++) {
      if (kc == kb)
        continue;
      double rc = rdist(g, pw, r, kc);
      if (rc >= rp || rc >= climit)
        continue;
      double mu = (rb - rc) / dist(xb, g->at->x[pw->idx[kc]]);
      if (mu >= A_STRAT) {
        sb = 0;
        break;
      }
      if (mu > -A_STRAT)
        sb *= strat_s(mu);
    }
    sum += sb;
    if (pw->idx[kb] == a)
      sa = sb;
  }
  return sum > 0 ? sa / sum : 0;
}

double grid_atomic_partition(const grid_setup *g, int64_t a, const double r[3],
                             const int64_t *cand, int64_t ncand) {
  part_work pw;
  memset(&pw, 0, sizeof pw);
  double w = -1;
  pw.n = pw.cap = ncand;
  if (nh_malloc((size_t)(ncand ? ncand : 1) * sizeof *pw.idx, &pw.idx) ==
      NH_OK) {
    memcpy(pw.idx, cand, (size_t)ncand * sizeof *cand);
    if (part_sort(g, r, &pw) == NH_OK)
      w = part_weight(g, a, r, &pw);
  }
  nh_free(&pw.idx);
  nh_free(&pw.D);
  nh_free(&pw.rk);
  nh_free(&pw.stamp);
  return w;
}

/* ---------------------------------------------------- atom's points */

typedef struct atom_work {
  double (*x)[3], *w;
  char *inner; /* weight 1 for sure: no partition needed */
  int *idx;
  int64_t n, cap;
  int64_t *nb, nnb, capnb; /* neighbours of the atom, by distance */
  double *rnb;
  part_work pw;
  grid_batch *bt;
  grid_batch_fn fn;
  void *arg;
  int64_t nbatch;
} atom_work;

static void atom_work_free(atom_work *aw) {
  nh_free(&aw->x);
  nh_free(&aw->w);
  nh_free(&aw->inner);
  nh_free(&aw->idx);
  nh_free(&aw->nb);
  nh_free(&aw->rnb);
  nh_free(&aw->pw.idx);
  nh_free(&aw->pw.D);
  nh_free(&aw->pw.rk);
  nh_free(&aw->pw.stamp);
}

/* Neighbours of atom a that can cut its cell within rgrid, by distance. */
static nh_err atom_neighbours(const grid_setup *g, int64_t a, atom_work *aw) {
  const double *xa = g->at->x[a];
  aw->nnb = 0;
  NH_CALL(grid_atoms_near(g, xa, 2 * g->ag.rgrid / (1 + A_STRAT), &aw->nb,
                          &aw->nnb, &aw->capnb));
  dist_idx *t = NULL;
  NH_CALL(nh_malloc((size_t)(aw->nnb + 1) * sizeof *t, &t));
  int64_t m = 0;
  for (int64_t k = 0; k < aw->nnb; k++)
    if (aw->nb[k] != a)
      t[m++] = (dist_idx){dist(g->at->x[aw->nb[k]], xa), aw->nb[k]};
  qsort(t, (size_t)m, sizeof *t, cmp_dist);
  nh_free(&aw->rnb);
  NH_CALL(nh_malloc((size_t)(m + 1) * sizeof *aw->rnb, &aw->rnb));
  for (int64_t k = 0; k < m; k++) {
    aw->nb[k] = t[k].i;
    aw->rnb[k] = t[k].d;
  }
  aw->nnb = m;
  nh_free(&t);
  return NH_OK;
}

/* All points of atom a's grid outside the region where a neighbour C
 * makes its cell function vanish (mu_aC >= a: only C closer to a than
 * 2 r / (1 + a) can), into aw. */
static nh_err atom_points(const grid_setup *g, int64_t a, atom_work *aw) {
  const grid_atomic *ag = &g->ag;
  const double *xa = g->at->x[a];
  double rnn = aw->nnb ? aw->rnb[0] : 2 * ag->rgrid / (1 + A_STRAT);
  int64_t need = 0;
  for (int i = 0; i < ag->nrad; i++)
    need += 2 * (int64_t)ag->nth[i] * ag->nth[i];
  if (need > aw->cap) {
    aw->cap = need;
    NH_CALL(nh_realloc((size_t)need * sizeof *aw->x, &aw->x));
    NH_CALL(nh_realloc((size_t)need * sizeof *aw->w, &aw->w));
    NH_CALL(nh_realloc((size_t)need * sizeof *aw->inner, &aw->inner));
    NH_CALL(nh_realloc((size_t)need * sizeof *aw->idx, &aw->idx));
  }
  aw->n = 0;
  for (int i = 0; i < ag->nrad; i++) {
    double r = ag->r[i], reach = 2 * r / (1 + A_STRAT);
    int nt = ag->nth[i], nphi = 2 * nt;
    int inner = r <= 0.5 * (1 - A_STRAT) * rnn;
    for (int k = 0; k < nt; k++) {
      double ct = ag->ct[nt][k], st = sqrt(1 - ct * ct);
      double wa = ag->wr[i] * ag->wt[nt][k] * 2 * M_PI / nphi;
      for (int l = 0; l < nphi; l++) {
        double ph = 2 * M_PI * (l + 0.5) / nphi;
        double p[3] = {xa[0] + r * st * cos(ph), xa[1] + r * st * sin(ph),
                       xa[2] + r * ct};
        int dead = 0;
        for (int64_t q = 0; q < aw->nnb && aw->rnb[q] <= reach && !dead; q++)
          dead = r - dist(g->at->x[aw->nb[q]], p) >= A_STRAT * aw->rnb[q];
        if (dead)
          continue;
        memcpy(aw->x[aw->n], p, sizeof p);
        aw->w[aw->n] = wa;
        aw->inner[aw->n] = (char)inner;
        aw->idx[aw->n] = (int)aw->n;
        aw->n++;
      }
    }
  }
  return NH_OK;
}

/* Reorders idx[0..n) so that idx[m] has the m-th smallest coordinate ax
 * (Hoare selection with the middle element as pivot). */
static void select_nth(const double (*x)[3], int *idx, int n, int m, int ax) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    double piv = x[idx[(lo + hi) / 2]][ax];
    int i = lo, j = hi;
    while (i <= j) {
      while (x[idx[i]][ax] < piv)
        i++;
      while (x[idx[j]][ax] > piv)
        j--;
      if (i <= j) {
        int t = idx[i];
        idx[i++] = idx[j];
        idx[j--] = t;
      }
    }
    if (m <= j)
      hi = j;
    else if (m >= i)
      lo = i;
    else
      return;
  }
}

/* Bounding-box centre of points idx[0..n) and the radius around it. */
static void enclose(const atom_work *aw, const int *idx, int n, double c[3],
                    double *hb, int *ax) {
  double lo[3] = {HUGE_VAL, HUGE_VAL, HUGE_VAL},
         hi[3] = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
  for (int k = 0; k < n; k++)
    for (int d = 0; d < 3; d++) {
      lo[d] = fmin(lo[d], aw->x[idx[k]][d]);
      hi[d] = fmax(hi[d], aw->x[idx[k]][d]);
    }
  *ax = 0;
  for (int d = 0; d < 3; d++) {
    c[d] = 0.5 * (lo[d] + hi[d]);
    if (hi[d] - lo[d] > hi[*ax] - lo[*ax])
      *ax = d;
  }
  *hb = 0;
  for (int k = 0; k < n; k++)
    *hb = fmax(*hb, dist(aw->x[idx[k]], c));
  *hb = *hb * (1 + 1e-12) + 1e-12;
}

/* One batch of points (weights final) to fn. */
static nh_err emit_batch(grid_setup *g, atom_work *aw, const int *idx, int n,
                         const double c[3], double hb) {
  grid_batch *bt = aw->bt;
  for (int k = 0; k < n; k++) {
    memcpy(bt->r[k], aw->x[idx[k]], sizeof bt->r[k]);
    bt->w[k] = aw->w[idx[k]];
  }
  bt->np = n;
  memcpy(bt->c, c, sizeof bt->c);
  bt->hd = hb;
  aw->nbatch++;
  return aw->fn(g, bt, aw->arg);
}

/* Cuts idx[0..n) in halves along the longest extent until a part has at
 * most npmax points within hbmax of its centre; then fn (final) or the
 * partition weights and a finer cut (!final). */
static nh_err split(grid_setup *g, int64_t a, atom_work *aw, int *idx, int n,
                    int final);

/* The partition weights of a region of points of atom a; points of zero
 * weight are dropped, the rest is cut into batches. */
static nh_err region_weights(grid_setup *g, int64_t a, atom_work *aw, int *idx,
                             int n, const double c[3], double hb) {
  part_work *pw = &aw->pw;
  int outer = 0;
  for (int k = 0; k < n && !outer; k++)
    outer = !aw->inner[idx[k]];
  if (outer) {
    pw->n = 0;
    NH_CALL(grid_atoms_near(g, c, g->ag.rpart + hb, &pw->idx, &pw->n,
                            &pw->cap));
    NH_CALL(part_sort(g, c, pw));
    pw->hb = hb;
  }
  int m = 0;
  for (int k = 0; k < n; k++) {
    int p = idx[k];
    if (!aw->inner[p])
      aw->w[p] *= part_weight(g, a, aw->x[p], pw);
    if (aw->w[p] != 0)
      idx[m++] = p;
  }
  return m ? split(g, a, aw, idx, m, 1) : NH_OK;
}

static nh_err split(grid_setup *g, int64_t a, atom_work *aw, int *idx, int n,
                    int final) {
  double c[3], hb;
  int ax;
  enclose(aw, idx, n, c, &hb, &ax);
  int np = final ? g->ag.npmax : 8 * g->ag.npmax;
  double hm = final ? g->ag.hbmax : 2 * g->ag.hbmax;
  if (n <= np && (hb <= hm || n == 1))
    return final ? emit_batch(g, aw, idx, n, c, hb)
                 : region_weights(g, a, aw, idx, n, c, hb);
  select_nth((const double(*)[3])aw->x, idx, n, n / 2, ax);
  NH_CALL(split(g, a, aw, idx, n / 2, final));
  NH_CALL(split(g, a, aw, idx + n / 2, n - n / 2, final));
  return NH_OK;
}

/* ------------------------------------------------ hybrid spheres */

/* The switch h(r): 1 for r <= r1, 0 for r >= r2 and in between the
 * degree-7 smoothstep 1 - S(t), t = (r - r1) / (r2 - r1), whose first three
 * derivatives vanish at both ends (C3). Of the switches tried on Si2 (the
 * C-infinity step e(1-t) / (e(1-t) + e(t)), e(x) = exp(-1/x), C2 and C4
 * smoothsteps, a normalised erfc) it gave the smallest V_na errors on the
 * uniform grid at widths of 1.2-1.5 bohr (docs/grid.md, "Hybrid
 * scheme"). */
double grid_hybrid_switch(double r, double r1, double r2) {
  if (r <= r1)
    return 1;
  if (r >= r2)
    return 0;
  double u = (r2 - r) / (r2 - r1);
  return u * u * u * u * (35 + u * (-84 + u * (70 - 20 * u)));
}

/* r1 of an element: the radius of the largest valence density rho_a
 * (the density hole of a pseudo-atom, where the PBE potential is not
 * smooth, lies inside it: Si 1.35, C 0.65, O 0.42 bohr), at least
 * 2 rloc = 2 / sqrt(2 alpha), the core of the local potential (H, whose
 * density peaks at the nucleus: 0.4 bohr); 0.5 bohr without either. */
#define HYB_R1_RLOC 2.0
#define HYB_R1_DEFAULT 0.5

double grid_hybrid_r1(const nh_grid_species *sp, double alpha) {
  double r1 = alpha > 0 ? HYB_R1_RLOC / sqrt(2 * alpha) : HYB_R1_DEFAULT;
  if (sp && sp->rho.f) {
    double best = sp->rho.f(sp->rho.data, 0, NULL), rbest = 0;
    for (double r = 0.01; r < 0.5 * GRID_HYB_R2MAX; r += 0.01) {
      double v = sp->rho.f(sp->rho.data, r, NULL);
      if (v > best) {
        best = v;
        rbest = r;
      }
    }
    r1 = fmax(r1, rbest);
  }
  return fmin(r1, 0.5 * GRID_HYB_R2MAX);
}

/* Shells and largest theta count of the spheres from the accuracy
 * (Hartree), when not given (docs/grid.md, "Hybrid scheme"). */
static void sphere_sizes(const nh_grid_opts *o, int *nrad, int *nth) {
  double lg = log10(o->accuracy * NH_HARTREE_EV); /* -4 at the default */
  int nr = (int)ceil(4 - 8 * lg - 1e-9), nt = (int)ceil(-4 * lg - 1e-9);
  nt = nt < 4 ? 4 : nt;
  *nrad = o->radial > 0 ? o->radial : nr;
  *nth = o->angular > 0 ? o->angular : nt;
}

/* Radial rule of the spheres: r = r2 t^2, Gauss-Legendre in t on [0, 1]
 * (shells crowd at the nucleus, where V_xc is least smooth; splitting the
 * rule at r1, where the switch starts, converged worse for V_xc on Si).
 * ag->r and ag->wr hold t^2 and the weight 2 t^5 w_t of a unit sphere;
 * radii scale with each element's r2. Gauss-Legendre rules for every
 * theta count up to nthmax (the pruning depends on the radius). */
nh_err grid_sphere_init(grid_atomic *ag, const nh_grid_opts *o) {
  int nrad, nthmax;
  memset(ag, 0, sizeof *ag);
  sphere_sizes(o, &nrad, &nthmax);
  NH_CHECK(nrad >= 2 && nrad <= 10000 && nthmax >= 1 && nthmax <= 200,
           NH_ERR_ARG, "grid: sphere sizes out of range (radial %d, "
           "angular %d)", nrad, nthmax);
  ag->nthmax = nthmax;
  ag->nrad = nrad;
  ag->npmax = o->batch * o->batch * o->batch;
  NH_CALL(nh_calloc((size_t)nrad, sizeof *ag->r, &ag->r));
  NH_CALL(nh_calloc((size_t)nrad, sizeof *ag->wr, &ag->wr));
  NH_CALL(nh_calloc((size_t)nthmax + 1, sizeof *ag->ct, &ag->ct));
  NH_CALL(nh_calloc((size_t)nthmax + 1, sizeof *ag->wt, &ag->wt));
  gauss_legendre(nrad, ag->r, ag->wr);
  for (int i = 0; i < nrad; i++) {
    double t = 0.5 * (1 + ag->r[i]), t2 = t * t;
    ag->r[i] = t2;
    ag->wr[i] *= t2 * t2 * t; /* 2 t^5 dt, dt = dx / 2 */
  }
  for (int n = 1; n <= nthmax; n++) {
    NH_CALL(nh_malloc((size_t)n * sizeof(double), &ag->ct[n]));
    NH_CALL(nh_malloc((size_t)n * sizeof(double), &ag->wt[n]));
    gauss_legendre(n, ag->ct[n], ag->wt[n]);
  }
  return NH_OK;
}

/* Radius and weight r^2 dr of sphere shell i of an element (radius r2). */
static void sphere_shell(const grid_atomic *ag, int i, double r2, double *r,
                         double *w) {
  *r = r2 * ag->r[i];
  *w = r2 * r2 * r2 * ag->wr[i];
}

/* The points of atom a's sphere with weights w_rad w_ang h_a(r) (no
 * partition), into aw. */
static nh_err sphere_points(const grid_setup *g, int64_t a, atom_work *aw) {
  const grid_atomic *ag = &g->ag;
  const double *xa = g->at->x[a];
  int z = g->at->z[a];
  double r1 = g->hyb_r1[z], r2 = g->hyb_r2a[a];
  int64_t need = 0;
  for (int i = 0; i < ag->nrad; i++) {
    double r, wr;
    sphere_shell(ag, i, r2, &r, &wr);
    int nt = pruned_nth(ag->nthmax, r);
    need += 2 * (int64_t)nt * nt;
  }
  if (need > aw->cap) {
    aw->cap = need;
    NH_CALL(nh_realloc((size_t)need * sizeof *aw->x, &aw->x));
    NH_CALL(nh_realloc((size_t)need * sizeof *aw->w, &aw->w));
    NH_CALL(nh_realloc((size_t)need * sizeof *aw->idx, &aw->idx));
  }
  aw->n = 0;
  for (int i = 0; i < ag->nrad; i++) {
    double r, wr;
    sphere_shell(ag, i, r2, &r, &wr);
    double hs = grid_hybrid_switch(r, r1, r2);
    int nt = pruned_nth(ag->nthmax, r), nphi = 2 * nt;
    if (hs <= 0)
      continue;
    for (int k = 0; k < nt; k++) {
      double ct = ag->ct[nt][k], st = sqrt(1 - ct * ct);
      double wa = wr * hs * ag->wt[nt][k] * 2 * M_PI / nphi;
      for (int l = 0; l < nphi; l++) {
        double ph = 2 * M_PI * (l + 0.5) / nphi;
        double *p = aw->x[aw->n];
        p[0] = xa[0] + r * st * cos(ph);
        p[1] = xa[1] + r * st * sin(ph);
        p[2] = xa[2] + r * ct;
        aw->w[aw->n] = wa;
        aw->idx[aw->n] = (int)aw->n;
        aw->n++;
      }
    }
  }
  return NH_OK;
}

/* The batches of the owned atoms' own grids: the atom-centred grids with
 * partition weights (sphere = 0) or the hybrid scheme's spheres, whose
 * weights are final (sphere = 1). */
static nh_err atoms_for_batches(grid_setup *g, grid_batch *bt,
                                grid_batch_fn fn, void *arg, int sphere,
                                int64_t *nbatch) {
  nh_err err = NH_OK;
  atom_work aw;
  memset(&aw, 0, sizeof aw);
  aw.bt = bt;
  aw.fn = fn;
  aw.arg = arg;
  NH_CALL(grid_batch_points(bt, g->ag.npmax));
  nh_progress pr;
  nh_progress_start(&pr, g->ctx,
                    sphere ? "grid, spheres of atoms"
                           : "grid, atom-centred grids of atoms",
                    (long)g->at->nlocal);
  for (int64_t a = 0; a < g->at->nlocal; a++) {
    if (sphere) {
      NH_CALL_GOTO(sphere_points(g, a, &aw), out);
    } else {
      NH_CALL_GOTO(atom_neighbours(g, a, &aw), out);
      NH_CALL_GOTO(atom_points(g, a, &aw), out);
    }
    if (aw.n)
      NH_CALL_GOTO(split(g, a, &aw, aw.idx, (int)aw.n, sphere), out);
    nh_progress_update(&pr, (long)a + 1);
  }
  nh_progress_finish(&pr);
out:
  *nbatch = aw.nbatch;
  atom_work_free(&aw);
  return err;
}

nh_err grid_atomic_for_batches(grid_setup *g, grid_batch *bt, grid_batch_fn fn,
                               void *arg, int64_t *nbatch) {
  NH_CALL(atoms_for_batches(g, bt, fn, arg, 0, nbatch));
  return NH_OK;
}

nh_err grid_sphere_for_batches(grid_setup *g, grid_batch *bt, grid_batch_fn fn,
                               void *arg, int64_t *nbatch) {
  NH_CALL(atoms_for_batches(g, bt, fn, arg, 1, nbatch));
  return NH_OK;
}

double grid_hybrid_rest(const grid_setup *g, const double r[3],
                        const int64_t *near, int64_t nnear) {
  double s = 0;
  for (int64_t q = 0; q < nnear; q++) {
    int64_t a = near[q];
    int z = g->at->z[a];
    s += grid_hybrid_switch(dist(r, g->at->x[a]), g->hyb_r1[z], g->hyb_r2a[a]);
  }
  return 1 - s;
}
