/* Neighbour lists by cell lists (binning) over an explicit point set, and
 * the serial periodic builder that generates the images itself.
 *
 * Binning: axis-aligned bins of edge >= rcut over the bounding box of the
 * points, so every neighbour of a centre lies in the 3x3x3 block of bins
 * around it. Points are copied in bin order so the inner loop streams
 * through contiguous memory. Two passes (count, then fill) give exact
 * allocation: no growth, no per-pair allocation. Cost O(N + pairs) plus the
 * sort of each centre's short list. */
#include "nextham/neighbor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geomimpl.h"

typedef struct bin_grid {
  double lo[3], scale[3]; /* bin index along c = (x - lo) * scale */
  int nb[3];
  int64_t nbins;
  int64_t *start;  /* nbins + 1: points of bin b are start[b]..start[b+1]-1 */
  int64_t *orig;   /* point index of the k-th point in bin order */
  double (*xs)[3]; /* positions in bin order */
} bin_grid;

static void bins_free(bin_grid *g) {
  nh_free(&g->start);
  nh_free(&g->orig);
  nh_free(&g->xs);
}

static int64_t bin_coord(const bin_grid *g, const double x[3], int c) {
  int64_t b = (int64_t)((x[c] - g->lo[c]) * g->scale[c]);
  return b < 0 ? 0 : (b >= g->nb[c] ? g->nb[c] - 1 : b);
}

static int64_t bin_of(const bin_grid *g, const double x[3]) {
  return bin_coord(g, x, 0) +
         g->nb[0] * (bin_coord(g, x, 1) + g->nb[1] * bin_coord(g, x, 2));
}

/* Chooses the bin edges: at least rcut (plus a margin, so that rounding in
 * the bin index cannot put two points closer than rcut two bins apart), and
 * no more bins than about twice the points (a tiny rcut over a large box
 * must not allocate a huge grid). */
static void bins_shape(bin_grid *g, int64_t npoints, const double lo[3],
                       const double hi[3], double rcut) {
  double h = rcut * (1 + 1e-9), limit = 2.0 * (double)npoints + 27;
  for (;;) {
    double total = 1;
    for (int c = 0; c < 3; c++) {
      double nb = floor((hi[c] - lo[c]) / h);
      g->nb[c] = nb < 1 ? 1 : (int)fmin(nb, 1 << 20);
      total *= g->nb[c];
    }
    if (total <= limit) break;
    h *= 1.25;
  }
  g->nbins = (int64_t)g->nb[0] * g->nb[1] * g->nb[2];
  for (int c = 0; c < 3; c++) {
    g->lo[c] = lo[c];
    double len = hi[c] - lo[c];
    g->scale[c] = len > 0 ? g->nb[c] / len : 0;
  }
}

static nh_err bins_build(bin_grid *g, int64_t npoints, const double (*x)[3],
                         double rcut) {
  nh_err err = NH_OK;
  int64_t *binof = NULL;
  double lo[3] = {INFINITY, INFINITY, INFINITY};
  double hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t k = 0; k < npoints; k++)
    for (int c = 0; c < 3; c++) {
      lo[c] = fmin(lo[c], x[k][c]);
      hi[c] = fmax(hi[c], x[k][c]);
    }
  if (npoints == 0)
    for (int c = 0; c < 3; c++) lo[c] = hi[c] = 0;
  bins_shape(g, npoints, lo, hi, rcut);
  NH_CALL_GOTO(nh_calloc(g->nbins + 1, sizeof *g->start, &g->start), fail);
  NH_CALL_GOTO(nh_malloc(npoints * sizeof *g->orig, &g->orig), fail);
  NH_CALL_GOTO(nh_malloc(npoints * sizeof *g->xs, &g->xs), fail);
  NH_CALL_GOTO(nh_malloc(npoints * sizeof *binof, &binof), fail);
  for (int64_t k = 0; k < npoints; k++) {
    binof[k] = bin_of(g, x[k]);
    g->start[binof[k] + 1]++;
  }
  for (int64_t b = 0; b < g->nbins; b++) g->start[b + 1] += g->start[b];
  /* counting sort, stable: within a bin points keep index order */
  for (int64_t k = 0; k < npoints; k++) {
    int64_t s = g->start[binof[k]]++;
    g->orig[s] = k;
    memcpy(g->xs[s], x[k], sizeof g->xs[s]);
  }
  for (int64_t b = g->nbins; b > 0; b--) g->start[b] = g->start[b - 1];
  g->start[0] = 0;
fail:
  nh_free(&binof);
  if (err) bins_free(g);
  return err;
}

typedef struct scan_args {
  const bin_grid *g;
  const int64_t *gid;
  const int (*image)[3];
  double rc2;
  int include_self;
} scan_args;

/* Visits the candidates of centre point c (bin position s in bin order):
 * counts them, and also writes them to out when out is not NULL. */
static int64_t scan_centre(const scan_args *a, int64_t s, nh_pair *out) {
  const bin_grid *g = a->g;
  const double *xc = g->xs[s];
  int64_t c = g->orig[s], bc[3], count = 0;
  for (int d = 0; d < 3; d++) bc[d] = bin_coord(g, xc, d);
  int64_t x0 = bc[0] > 0 ? bc[0] - 1 : 0;
  int64_t x1 = bc[0] + 1 < g->nb[0] ? bc[0] + 1 : bc[0];
  for (int64_t z = bc[2] - 1; z <= bc[2] + 1; z++) {
    if (z < 0 || z >= g->nb[2]) continue;
    for (int64_t y = bc[1] - 1; y <= bc[1] + 1; y++) {
      if (y < 0 || y >= g->nb[1]) continue;
      /* bins x0..x1 of one row are contiguous in bin order */
      int64_t row = g->nb[0] * (y + g->nb[1] * z);
      int64_t t0 = g->start[row + x0], t1 = g->start[row + x1 + 1];
      for (int64_t t = t0; t < t1; t++) {
        double d0 = g->xs[t][0] - xc[0], d1 = g->xs[t][1] - xc[1],
               d2 = g->xs[t][2] - xc[2];
        double r2 = d0 * d0 + d1 * d1 + d2 * d2;
        if (r2 >= a->rc2 || (t == s && !a->include_self)) continue;
        if (out) {
          nh_pair *p = &out[count];
          int64_t k = g->orig[t];
          p->i = a->gid[c];
          p->j = a->gid[k];
          memcpy(p->n, a->image[k], sizeof p->n);
          p->d[0] = d0;
          p->d[1] = d1;
          p->d[2] = d2;
          p->r = sqrt(r2);
        }
        count++;
      }
    }
  }
  return count;
}

int nh_pair_cmp(const void *pa, const void *pb) {
  const nh_pair *a = pa, *b = pb;
  if (a->i != b->i) return a->i < b->i ? -1 : 1;
  if (a->j != b->j) return a->j < b->j ? -1 : 1;
  for (int c = 0; c < 3; c++)
    if (a->n[c] != b->n[c]) return a->n[c] < b->n[c] ? -1 : 1;
  return 0;
}

/* A centre has a few dozen pairs: insertion sort beats qsort's overhead;
 * long lists (large rcut) fall back to qsort. */
static void sort_pairs(nh_pair *p, int64_t n) {
  if (n > 48) {
    qsort(p, n, sizeof *p, nh_pair_cmp);
    return;
  }
  for (int64_t a = 1; a < n; a++) {
    nh_pair t = p[a];
    int64_t b = a;
    for (; b > 0 && nh_pair_cmp(&p[b - 1], &t) > 0; b--) p[b] = p[b - 1];
    p[b] = t;
  }
}

typedef struct gid_index {
  int64_t gid, k;
} gid_index;

static int cmp_gid_index(const void *pa, const void *pb) {
  const gid_index *a = pa, *b = pb;
  if (a->gid != b->gid) return a->gid < b->gid ? -1 : 1;
  return (a->k > b->k) - (a->k < b->k);
}

/* Offsets of each centre's pairs in the output, in the order of the centres'
 * global indices (the output is sorted by i). off has ncenter + 1 entries;
 * on input off[c] holds the count of centre c. */
static nh_err centre_offsets(int64_t ncenter, const int64_t *gid,
                             int64_t *off) {
  gid_index *order = NULL;
  NH_CALL(nh_malloc(ncenter * sizeof *order, &order));
  for (int64_t c = 0; c < ncenter; c++) order[c] = (gid_index){gid[c], c};
  qsort(order, ncenter, sizeof *order, cmp_gid_index);
  int64_t total = 0;
  for (int64_t r = 0; r < ncenter; r++) {
    int64_t c = order[r].k, n = off[c];
    off[c] = total;
    total += n;
  }
  off[ncenter] = total;
  nh_free(&order);
  return NH_OK;
}

nh_err nh_neighbors_build(int64_t ncenter, int64_t npoints,
                          const double (*x)[3], const int64_t *gid,
                          const int (*image)[3], double rcut, int include_self,
                          nh_neighbors **nl) {
  NH_CHECK(nl, NH_ERR_ARG, "nl is NULL");
  NH_CHECK(rcut > 0 && isfinite(rcut), NH_ERR_ARG,
           "neighbour cutoff must be positive and finite, got %g", rcut);
  NH_CHECK(ncenter >= 0 && ncenter <= npoints, NH_ERR_ARG,
           "ncenter %lld outside 0..npoints %lld", (long long)ncenter,
           (long long)npoints);
  nh_err err = NH_OK;
  bin_grid g = {0};
  int64_t *off = NULL;
  nh_neighbors *res = NULL;
  NH_CALL_GOTO(nh_calloc(1, sizeof *res, &res), fail);
  res->rcut = rcut;
  NH_CALL_GOTO(bins_build(&g, npoints, x, rcut), fail);
  NH_CALL_GOTO(nh_calloc(ncenter + 1, sizeof *off, &off), fail);
  scan_args a = {&g, gid, image, rcut * rcut, include_self};
  /* centres in bin order: neighbouring centres touch the same bins */
  for (int64_t s = 0; s < npoints; s++)
    if (g.orig[s] < ncenter) off[g.orig[s]] = scan_centre(&a, s, NULL);
  NH_CALL_GOTO(centre_offsets(ncenter, gid, off), fail);
  res->npairs = off[ncenter];
  NH_CALL_GOTO(nh_malloc(res->npairs * sizeof *res->pairs, &res->pairs), fail);
  for (int64_t s = 0; s < npoints; s++) {
    int64_t c = g.orig[s];
    if (c >= ncenter) continue;
    int64_t n = scan_centre(&a, s, res->pairs + off[c]);
    sort_pairs(res->pairs + off[c], n);
  }
  *nl = res;
  res = NULL;
fail:
  bins_free(&g);
  nh_free(&off);
  nh_neighbors_destroy(&res);
  return err;
}

nh_err nh_neighbors_destroy(nh_neighbors **nl) {
  if (!nl || !*nl) return NH_OK;
  nh_free(&(*nl)->pairs);
  nh_free(nl);
  return NH_OK;
}

nh_err nh_geom_plane_inv(const double lat[3][3], double recip[3][3],
                         double blen[3]) {
  NH_CALL(nh_lattice_reciprocal(lat, recip));
  for (int k = 0; k < 3; k++)
    blen[k] = sqrt(recip[k][0] * recip[k][0] + recip[k][1] * recip[k][1] +
                   recip[k][2] * recip[k][2]);
  return NH_OK;
}

/* A vector v = f.A has |v| >= |f_k| / |b_k|. For s, t in [-0.5, 0.5] the
 * k-th fractional component of s + n - t lies within |n_k| - 1 of zero at
 * best, so |n_k| - 1 < r |b_k| is necessary; |b_k| = |a_l x a_m| / V. */
void nh_image_range(const double lat[3][3], const int pbc[3], double r,
                    int nmin[3], int nmax[3]) {
  for (int k = 0; k < 3; k++) {
    const double *u = lat[(k + 1) % 3], *w = lat[(k + 2) % 3];
    double cx = u[1] * w[2] - u[2] * w[1], cy = u[2] * w[0] - u[0] * w[2],
           cz = u[0] * w[1] - u[1] * w[0];
    double vol = fabs(lat[k][0] * cx + lat[k][1] * cy + lat[k][2] * cz);
    nmin[k] = nmax[k] = 0;
    if (!pbc[k] || vol == 0) continue;
    double blen = sqrt(cx * cx + cy * cy + cz * cz) / vol;
    double m = floor(r * blen * (1 + 1e-12) + 1e-9) + 1;
    nmax[k] = (int)fmin(m, 1 << 20);
    nmin[k] = -nmax[k];
  }
}

/* ---------------------------------------------------------------------------
 * Serial periodic builder: wrapped atoms are the centres (image 0), every
 * other image that can lie within rcut of some centre is a ghost point.
 * ------------------------------------------------------------------------- */

typedef struct image_gen {
  const double (*lat)[3];
  const double (*tau)[3];
  double recip[3][3], reach[3]; /* reach_k = rcut |b_k| (fractional) */
  double clo[3], chi[3], keep2; /* centre bounding box, (rcut + margin)^2 */
  int pbc[3], nmin[3], nmax[3];
} image_gen;

/* Range of n_k for atom a: an image with fractional f = s + n can be within
 * rcut of a centre (|f_c| <= 0.5) only if |s_k + n_k| < 0.5 + reach_k. */
static void atom_range(const image_gen *ig, const double tau[3], int lo[3],
                       int hi[3]) {
  double s[3];
  nh_lattice_to_frac(ig->recip, tau, s);
  for (int k = 0; k < 3; k++) {
    lo[k] = hi[k] = 0;
    if (!ig->pbc[k]) continue;
    double eps = 1e-9;
    lo[k] = (int)fmax(ceil(-0.5 - ig->reach[k] - s[k] - eps), ig->nmin[k]);
    hi[k] = (int)fmin(floor(0.5 + ig->reach[k] - s[k] + eps), ig->nmax[k]);
  }
}

/* Counts (out NULL) or writes the ghost images of atom a (n != 0) that lie
 * within rcut of the centres' bounding box. */
static int64_t atom_images(const image_gen *ig, int64_t a, double (*x)[3],
                           int64_t *gid, int (*image)[3]) {
  int lo[3], hi[3], n[3];
  int64_t count = 0;
  atom_range(ig, ig->tau[a], lo, hi);
  for (n[0] = lo[0]; n[0] <= hi[0]; n[0]++)
    for (n[1] = lo[1]; n[1] <= hi[1]; n[1]++)
      for (n[2] = lo[2]; n[2] <= hi[2]; n[2]++) {
        if (!n[0] && !n[1] && !n[2]) continue;
        double p[3];
        nh_image_pos(ig->lat, ig->tau[a], n, p);
        if (nh_box_dist2(ig->clo, ig->chi, p) >= ig->keep2) continue;
        if (x) {
          memcpy(x[count], p, sizeof p);
          gid[count] = a;
          memcpy(image[count], n, sizeof n);
        }
        count++;
      }
  return count;
}

static nh_err image_gen_init(image_gen *ig, const nh_structure *s,
                             const double (*tau)[3], double rcut) {
  double blen[3];
  ig->lat = (const double(*)[3])s->lattice;
  ig->tau = tau;
  NH_CALL(nh_geom_plane_inv(s->lattice, ig->recip, blen));
  memcpy(ig->pbc, s->pbc, sizeof ig->pbc);
  nh_image_range(s->lattice, s->pbc, rcut, ig->nmin, ig->nmax);
  for (int k = 0; k < 3; k++) {
    ig->reach[k] = rcut * blen[k];
    ig->clo[k] = INFINITY;
    ig->chi[k] = -INFINITY;
  }
  for (int a = 0; a < s->natoms; a++)
    for (int c = 0; c < 3; c++) {
      ig->clo[c] = fmin(ig->clo[c], tau[a][c]);
      ig->chi[c] = fmax(ig->chi[c], tau[a][c]);
    }
  /* a filter only: keep images at the boundary, the binning decides */
  ig->keep2 = rcut * rcut * (1 + 1e-10) + 1e-300;
  return NH_OK;
}

nh_err nh_neighbors_build_periodic(const nh_structure *s, double rcut,
                                   int include_self, nh_neighbors **nl) {
  NH_CHECK(s && nl, NH_ERR_ARG, "structure or output is NULL");
  NH_CHECK(rcut > 0 && isfinite(rcut), NH_ERR_ARG,
           "neighbour cutoff must be positive and finite, got %g", rcut);
  nh_err err = NH_OK;
  int64_t N = s->natoms, npts = N;
  double(*x)[3] = NULL;
  int64_t *gid = NULL;
  int(*image)[3] = NULL;
  image_gen ig;
  NH_CALL_GOTO(nh_malloc(N * sizeof *x, &x), fail);
  nh_structure_wrap_cp2k(s, x);
  NH_CALL_GOTO(image_gen_init(&ig, s, (const double(*)[3])x, rcut), fail);
  for (int64_t a = 0; a < N; a++) npts += atom_images(&ig, a, NULL, NULL, NULL);
  NH_CALL_GOTO(nh_realloc(npts * sizeof *x, &x), fail);
  ig.tau = (const double(*)[3])x;
  NH_CALL_GOTO(nh_malloc(npts * sizeof *gid, &gid), fail);
  NH_CALL_GOTO(nh_calloc(npts, sizeof *image, &image), fail);
  for (int64_t a = 0; a < N; a++) gid[a] = a;
  for (int64_t a = 0, k = N; a < N; a++)
    k += atom_images(&ig, a, x + k, gid + k, image + k);
  NH_CALL_GOTO(nh_neighbors_build(N, npts, (const double(*)[3])x, gid,
                                  (const int(*)[3])image, rcut, include_self,
                                  nl),
               fail);
fail:
  nh_free(&x);
  nh_free(&gid);
  nh_free(&image);
  return err;
}
