/* Options, the uniform grid (spacing, batch ownership) and the drivers
 * nh_grid_integrate / nh_grid_h0_add for both schemes (docs/grid.md). */
#include <math.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include <string.h>

#include "gridimpl.h"

#define GRID_BATCH_MAX 16 /* bs^3 points per batch must fit xc.c's arrays */
#define GRID_HBMAX 1.5    /* largest radius of a batch of an atomic grid */

void nh_grid_opts_default(nh_grid_opts *o) {
  memset(o, 0, sizeof *o);
  o->accuracy = 1e-4 / NH_HARTREE_EV;
  o->scheme = NH_GRID_ATOMIC;
  o->spacing = 0;
  o->batch = 4;
  o->radial = 0;
  o->angular = 0;
}

/* line of key k of table t, for messages */
static int key_line(nh_toml_val *t, const char *k) {
  nh_toml_val *v = t ? nh_toml_find(t, k) : NULL;
  return v ? nh_toml_line(v) : 1;
}

nh_err nh_grid_opts_from_toml(const nh_toml *doc, nh_toml_val *tbl,
                              nh_grid_opts *o) {
  double acc, h;
  int64_t bs, nr, nt;
  char scheme[32], path[128] = "grid";
  const char *f = doc ? nh_toml_name(doc) : "input";
  nh_grid_opts_default(o);
  if (tbl)
    nh_toml_path(tbl, path, sizeof path);
  NH_CALL(nh_toml_get_double(tbl, "accuracy", o->accuracy * NH_HARTREE_EV,
                             &acc));
  NH_CALL(nh_toml_get_double(tbl, "spacing", 0, &h));
  NH_CALL(nh_toml_get_int(tbl, "batch", o->batch, &bs));
  NH_CALL(nh_toml_get_string(tbl, "scheme", "atomic", scheme,
                             sizeof scheme));
  NH_CALL(nh_toml_get_int(tbl, "radial", 0, &nr));
  NH_CALL(nh_toml_get_int(tbl, "angular", 0, &nt));
  NH_CHECK(!strcmp(scheme, "atomic") || !strcmp(scheme, "uniform") ||
               !strcmp(scheme, "hybrid"),
           NH_ERR_INPUT,
           "%s:%d: key '%s.scheme' must be \"atomic\", \"uniform\" or "
           "\"hybrid\", got \"%s\"",
           f, key_line(tbl, "scheme"), path, scheme);
  NH_CHECK(nr == 0 || (nr >= 10 && nr <= 1000), NH_ERR_INPUT,
           "%s:%d: key '%s.radial' must be 0 (from the accuracy) or in "
           "10..1000, got %lld",
           f, key_line(tbl, "radial"), path, (long long)nr);
  NH_CHECK(nt == 0 || (nt >= 2 && nt <= 200), NH_ERR_INPUT,
           "%s:%d: key '%s.angular' must be 0 (from the accuracy) or in "
           "2..200, got %lld",
           f, key_line(tbl, "angular"), path, (long long)nt);
  NH_CHECK(acc > 0 && acc <= 0.1, NH_ERR_INPUT,
           "%s:%d: key '%s.accuracy' must be in (0, 0.1] eV, got %g", f,
           key_line(tbl, "accuracy"), path, acc);
  NH_CHECK(h >= 0 && h <= 1, NH_ERR_INPUT,
           "%s:%d: key '%s.spacing' must be in [0, 1] Å (0: from the "
           "accuracy), got %g",
           f, key_line(tbl, "spacing"), path, h);
  NH_CHECK(bs >= 2 && bs <= GRID_BATCH_MAX, NH_ERR_INPUT,
           "%s:%d: key '%s.batch' must be in 2..%d, got %lld", f,
           key_line(tbl, "batch"), path, GRID_BATCH_MAX, (long long)bs);
  o->accuracy = acc / NH_HARTREE_EV;
  o->spacing = h / NH_BOHR_ANGSTROM;
  o->batch = (int)bs;
  o->scheme = !strcmp(scheme, "atomic")    ? NH_GRID_ATOMIC
              : !strcmp(scheme, "uniform") ? NH_GRID_UNIFORM
                                           : NH_GRID_HYBRID;
  o->radial = (int)nr;
  o->angular = (int)nt;
  return NH_OK;
}

/* Screening thresholds from the accuracy (docs/grid.md, calibrated with
 * the convergence table there). */
static double eps_pair_of(const nh_grid_opts *o) { return 1e-2 * o->accuracy; }
static double eps_func_of(const nh_grid_opts *o) { return 1e-2 * o->accuracy; }

/* Sharpness of an element's potential: the given exponent, or
 * |V''(0)/V(0)| by a central difference. */
static double species_alpha(const nh_grid_species *sp) {
  if (sp->alpha > 0 || !sp->vna.f)
    return sp->alpha;
  const double e = 1e-3;
  double v0 = sp->vna.f(sp->vna.data, 0, NULL),
         v1 = sp->vna.f(sp->vna.data, e, NULL);
  return v0 != 0 ? fabs(2 * (v1 - v0) / (e * e) / v0) : 0;
}

/* A uniform grid integrates exp(-alpha x^2) with relative error about
 * 2 exp(-pi^2 / (alpha h^2)). The sharpest integrand is phi_i phi_j V with
 * the two sharpest basis functions: alpha = 2 zeta_max + alpha_V. The
 * prefactor 100 Ha was fitted on Si (V_na errors of 1e-3 .. 6e-9 Ha at
 * h = 0.43 .. 0.29 bohr follow 32 Ha exp(-pi^2 / (5.1 h^2)), docs/grid.md). */
double grid_spacing(const nh_basis *b,
                    const nh_grid_species *const sp[NH_MAX_Z + 1], int terms,
                    const nh_grid_opts *o) {
  if (o->spacing > 0)
    return o->spacing;
  double zmax = 0, av = 0;
  for (int z = 1; z <= NH_MAX_Z; z++) {
    const nh_element_basis *eb = b->elem[z];
    for (int s = 0; eb && s < eb->nshell; s++)
      for (int p = 0; p < eb->shells[s].nprim; p++)
        zmax = fmax(zmax, eb->shells[s].exps[p]);
    /* hybrid: the uniform part also carries the switches of V_xc, which
     * vary on the scale of the potential's core */
    int sharp = o->scheme == NH_GRID_HYBRID ? NH_GRID_VNA | NH_GRID_VXC
                                            : NH_GRID_VNA;
    if (eb && sp && sp[z] && (terms & sharp))
      av = fmax(av, species_alpha(sp[z]));
  }
  double lg = log(100.0 / o->accuracy);
  return M_PI / sqrt((2 * zmax + av) * lg);
}

static double species_radius(const nh_grid_species *sp) {
  return fmax(sp->rho.f ? sp->rho.rcut : 0,
              fmax(sp->vna.f ? sp->vna.rcut : 0,
                   sp->core.f ? sp->core.rcut : 0));
}

double nh_grid_halo(const nh_basis *b,
                    const nh_grid_species *const sp[NH_MAX_Z + 1],
                    const nh_grid_opts *o) {
  double rf = 0, rv = 0;
  for (int z = 1; z <= NH_MAX_Z; z++) {
    grid_elem *e = NULL;
    if (!b->elem[z] || !b->elem[z]->nshell)
      continue;
    if (grid_elem_prepare(b->elem[z], eps_func_of(o), &e) == NH_OK)
      rf = fmax(rf, e->rmax);
    grid_elem_destroy(&e);
    if (sp && sp[z])
      rv = fmax(rv, species_radius(sp[z]));
  }
  if (o->scheme == NH_GRID_ATOMIC) {
    double rgrid = fmax(rf, rv);
    return rgrid + fmax(rgrid, grid_atomic_rpart(rgrid)) + GRID_HBMAX +
           1e-6;
  }
  double h = grid_spacing(b, sp, 0, o); /* the coarsest: largest batches */
  double halo = rf + fmax(rf, rv) + 3.0 * o->batch * h + 1e-6;
  if (o->scheme == NH_GRID_HYBRID) /* sphere batches */
    halo = fmax(halo, GRID_HYB_R2MAX + GRID_HBMAX + fmax(rf, rv) + 1e-6);
  return halo;
}

void grid_setup_destroy(grid_setup **g) {
  if (!g || !*g)
    return;
  for (int z = 0; z <= NH_MAX_Z; z++)
    grid_elem_destroy(&(*g)->el[z]);
  nh_free(&(*g)->s);
  nh_free(&(*g)->bstart);
  nh_free(&(*g)->bnext);
  nh_free(&(*g)->hyb_r2a);
  grid_atomic_free(&(*g)->ag);
  grid_xc_end(*g);
  nh_free(g);
}

/* Points per lattice vector: a multiple of the batch edge with step <= h. */
static void grid_dims(grid_setup *g, double h) {
  for (int d = 0; d < 3; d++) {
    double len = sqrt(g->lat[d][0] * g->lat[d][0] +
                      g->lat[d][1] * g->lat[d][1] +
                      g->lat[d][2] * g->lat[d][2]);
    g->nb[d] = (int)ceil(len / (g->bs * h) - 1e-9);
    if (g->nb[d] < 1)
      g->nb[d] = 1;
    g->n[d] = g->nb[d] * g->bs;
  }
  g->w = fabs(nh_lattice_volume(g->lat)) / ((double)g->n[0] * g->n[1] * g->n[2]);
  /* half the longest diagonal of a batch parallelepiped */
  g->hd = 0;
  for (int sx = -1; sx <= 1; sx += 2)
    for (int sy = -1; sy <= 1; sy += 2) {
      double v[3];
      for (int k = 0; k < 3; k++)
        v[k] = 0.5 * (g->lat[0][k] / g->nb[0] + sx * g->lat[1][k] / g->nb[1] +
                      sy * g->lat[2][k] / g->nb[2]);
      g->hd = fmax(g->hd, sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]));
    }
}

/* Cell list of owned + ghost atoms with bins of edge g->bin. */
static nh_err grid_bins(grid_setup *g) {
  const nh_atoms *at = g->at;
  double hi[3];
  for (int d = 0; d < 3; d++) {
    g->blo[d] = HUGE_VAL;
    hi[d] = -HUGE_VAL;
  }
  for (int64_t a = 0; a < g->nat; a++)
    for (int d = 0; d < 3; d++) {
      g->blo[d] = fmin(g->blo[d], at->x[a][d]);
      hi[d] = fmax(hi[d], at->x[a][d]);
    }
  int64_t nbins = 1;
  for (int d = 0; d < 3; d++) {
    if (!g->nat)
      g->blo[d] = hi[d] = 0;
    g->nbin[d] = (int)((hi[d] - g->blo[d]) / g->bin) + 1;
    nbins *= g->nbin[d];
  }
  NH_CALL(nh_malloc((size_t)nbins * sizeof *g->bstart, &g->bstart));
  NH_CALL(nh_malloc((size_t)(g->nat + 1) * sizeof *g->bnext, &g->bnext));
  for (int64_t k = 0; k < nbins; k++)
    g->bstart[k] = -1;
  for (int64_t a = g->nat - 1; a >= 0; a--) {
    int64_t k = 0;
    for (int d = 0; d < 3; d++)
      k = k * g->nbin[d] + (int)((at->x[a][d] - g->blo[d]) / g->bin);
    g->bnext[a] = g->bstart[k];
    g->bstart[k] = a;
  }
  return NH_OK;
}

/* Fractional coordinates of every atom as its owner computes them, so
 * that batch ownership is decided on identical numbers on every rank. */
static nh_err grid_frac(const nh_domain *dom, grid_setup *g) {
  NH_CALL(nh_calloc((size_t)(g->nat + 1), sizeof *g->s, &g->s));
  for (int64_t a = 0; a < g->at->nlocal; a++)
    nh_lattice_to_frac(g->recip, g->at->x[a], g->s[a]);
  NH_CALL(nh_domain_forward(dom, &g->s[0][0], 3));
  return NH_OK;
}

static nh_err setup_elements(const nh_basis *b, const nh_grid_opts *o,
                             grid_setup *g) {
  const nh_atoms *at = g->at;
  for (int64_t a = 0; a < g->nat; a++) {
    int z = at->z[a];
    if (g->el[z])
      continue;
    NH_CHECK(b->elem[z] && b->elem[z]->nshell > 0, NH_ERR_INPUT,
             "grid: no basis for element %s", nh_element_symbol(z));
    NH_CALL(grid_elem_prepare(b->elem[z], eps_func_of(o), &g->el[z]));
    g->rf = fmax(g->rf, g->el[z]->rmax);
    if (g->terms & (NH_GRID_VNA | NH_GRID_VXC)) {
      NH_CHECK(g->sp && g->sp[z], NH_ERR_ARG,
               "grid: no atomic density/potential for element %s",
               nh_element_symbol(z));
      g->rv = fmax(g->rv, species_radius(g->sp[z]));
    }
  }
  return NH_OK;
}

/* The largest step of the uniform grid. */
static double grid_step(const grid_setup *g) {
  double h = 0;
  for (int d = 0; d < 3; d++)
    h = fmax(h, sqrt(g->metric[d][d]) / g->n[d]);
  return h;
}

/* Hybrid scheme: r1 per element, r2 per atom. A sphere must stay out of
 * its neighbours' cores (r2_a <= R_ab - r1_b, where V_xc is not smooth
 * and the functions are sharp) and below GRID_HYB_R2MAX; its switch needs
 * GRID_HYB_WIDTH uniform steps. Where the neighbours leave less room, the
 * uniform grid is refined for all (the smallest room over all atoms, the
 * same on every rank). */
static nh_err hybrid_radii(grid_setup *g) {
  const nh_atoms *at = g->at;
  int64_t *near = NULL, nn = 0, cap = 0;
  double r1max = 0, minroom = HUGE_VAL, gmin;
  for (int z = 1; z <= NH_MAX_Z; z++)
    if (g->el[z]) {
      const nh_grid_species *spz = g->sp ? g->sp[z] : NULL;
      g->hyb_r1[z] = grid_hybrid_r1(spz, spz ? species_alpha(spz) : 0);
      r1max = fmax(r1max, g->hyb_r1[z]);
    }
  NH_CALL(nh_malloc((size_t)(g->nat + 1) * sizeof *g->hyb_r2a, &g->hyb_r2a));
  for (int64_t a = 0; a < g->nat; a++) {
    double r1 = g->hyb_r1[at->z[a]], room = GRID_HYB_R2MAX - r1;
    nn = 0;
    NH_CALL(grid_atoms_near(g, at->x[a], GRID_HYB_R2MAX + r1max, &near, &nn,
                            &cap));
    for (int64_t q = 0; q < nn; q++) {
      const double *y = at->x[near[q]];
      double d = sqrt((y[0] - at->x[a][0]) * (y[0] - at->x[a][0]) +
                      (y[1] - at->x[a][1]) * (y[1] - at->x[a][1]) +
                      (y[2] - at->x[a][2]) * (y[2] - at->x[a][2]));
      if (near[q] != a)
        room = fmin(room, d - g->hyb_r1[at->z[near[q]]] - r1);
    }
    g->hyb_r2a[a] = room; /* for now */
    if (a < at->nlocal)
      minroom = fmin(minroom, room);
  }
  nh_free(&near);
  NH_MPI(MPI_Allreduce(&minroom, &gmin, 1, MPI_DOUBLE, MPI_MIN, g->ctx->comm));
  NH_CHECK(gmin > 0, NH_ERR_INPUT,
           "grid: atoms closer than the sum of their core radii (room %.3f "
           "bohr): scheme \"hybrid\" cannot be used, use \"atomic\"",
           gmin);
  if (grid_step(g) * GRID_HYB_WIDTH > gmin)
    grid_dims(g, gmin / GRID_HYB_WIDTH);
  double w = grid_step(g) * GRID_HYB_WIDTH;
  for (int64_t a = 0; a < g->nat; a++)
    g->hyb_r2a[a] = g->hyb_r1[at->z[a]] + fmin(w, g->hyb_r2a[a]);
  return NH_OK;
}

nh_err grid_setup_create(const nh_domain *dom, const nh_basis *b,
                         const nh_grid_species *const sp[NH_MAX_Z + 1],
                         int terms, const nh_grid_opts *o, grid_setup **out) {
  nh_err err = NH_OK;
  grid_setup *g = NULL;
  NH_CHECK(o->batch >= 2 && o->batch <= GRID_BATCH_MAX && o->accuracy > 0,
           NH_ERR_ARG, "grid: bad options (batch %d, accuracy %g)", o->batch,
           o->accuracy);
  NH_CALL(nh_calloc(1, sizeof *g, &g));
  g->ctx = nh_domain_ctx(dom);
  g->at = nh_domain_atoms(dom);
  g->nat = g->at->nlocal + g->at->nghost;
  g->terms = terms;
  g->sp = sp;
  g->bs = o->batch;
  g->np = o->batch * o->batch * o->batch;
  g->eps_pair = eps_pair_of(o);
  g->eps_func = eps_func_of(o);
  nh_domain_lattice(dom, g->lat, g->pbc);
  NH_CALL_GOTO(nh_lattice_reciprocal(g->lat, g->recip), fail);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      g->metric[i][j] = g->lat[i][0] * g->lat[j][0] +
                        g->lat[i][1] * g->lat[j][1] +
                        g->lat[i][2] * g->lat[j][2];
  g->scheme = o->scheme;
  NH_CALL_GOTO(grid_cart_init(&g->cart), fail);
  NH_CALL_GOTO(setup_elements(b, o, g), fail);
  double need;
  if (g->scheme == NH_GRID_ATOMIC) {
    double rgrid = fmax(g->rf, g->rv), rpart = grid_atomic_rpart(rgrid);
    NH_CALL_GOTO(grid_atomic_init(&g->ag, o, rgrid, rpart), fail);
    g->ag.hbmax = GRID_HBMAX;
    g->hd = g->ag.hbmax;
    need = rgrid + fmax(fmax(g->rf, g->rv), rpart) + g->hd;
  } else {
    grid_dims(g, grid_spacing(b, sp, terms, o));
    need = g->rf + fmax(g->rf, g->rv) + 2 * g->hd;
  }
  if (g->scheme == NH_GRID_HYBRID) {
    NH_CALL_GOTO(grid_sphere_init(&g->ag, o), fail);
    g->ag.hbmax = GRID_HBMAX;
    need = fmax(need, GRID_HYB_R2MAX + g->ag.hbmax + fmax(g->rf, g->rv));
  }
  NH_CHECK_GOTO(nh_domain_halo(dom) >= need, fail, NH_ERR_ARG,
                "grid: the domain's halo %.3f bohr is narrower than the "
                "%.3f bohr the grid needs (nh_grid_halo)",
                nh_domain_halo(dom), need);
  g->bin = fmax(g->rf, g->rv) + fmax(g->hd, g->ag.hbmax);
  NH_CALL_GOTO(grid_bins(g), fail);
  if (g->scheme == NH_GRID_HYBRID)
    NH_CALL_GOTO(hybrid_radii(g), fail);
  NH_CALL_GOTO(grid_frac(dom, g), fail);
  if (terms & NH_GRID_VXC)
    NH_CALL_GOTO(grid_xc_init(g), fail);
  *out = g;
  return NH_OK;
fail:
  grid_setup_destroy(&g);
  return err;
}

/* Distance^2 from the centre of batch bidx to atom a, from integers and
 * the owner's fractional coordinates only: translating the batch and the
 * atom's image by the same lattice vector gives the same bits. */
static double batch_dist2(const grid_setup *g, const int bidx[3], int64_t a) {
  double f[3];
  for (int d = 0; d < 3; d++) {
    long q = (long)bidx[d] - (long)g->at->image[a][d] * g->nb[d];
    f[d] = (q + 0.5) / g->nb[d] - g->s[a][d];
  }
  double s = 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      s += f[i] * g->metric[i][j] * f[j];
  return s;
}

/* Is atom a nearer than atom b (distance, then global index, then image,
 * lexicographically: an order that translations preserve)? */
static int nearer(const grid_setup *g, double da, int64_t a, double db,
                  int64_t b) {
  if (da != db)
    return da < db;
  if (g->at->gid[a] != g->at->gid[b])
    return g->at->gid[a] < g->at->gid[b];
  for (int d = 0; d < 3; d++)
    if (g->at->image[a][d] != g->at->image[b][d])
      return g->at->image[a][d] < g->at->image[b][d];
  return 0;
}

/* Owned here: the nearest atom to the batch centre is an owned atom at
 * image 0 (owned atoms are the first nlocal rows), and within the reach
 * of the basis. */
static int batch_owned(const grid_setup *g, const int bidx[3],
                       const grid_batch *bt) {
  int64_t best = -1;
  double dbest = HUGE_VAL;
  for (int64_t q = 0; q < bt->ncand; q++) {
    int64_t a = bt->cand[q];
    double d = batch_dist2(g, bidx, a);
    if (best < 0 || nearer(g, d, a, dbest, best)) {
      best = a;
      dbest = d;
    }
  }
  double reach = g->rf + g->hd;
  return best >= 0 && best < g->at->nlocal && dbest <= reach * reach;
}

/* Hybrid scheme: the uniform weights times 1 - sum_a h_a; points of
 * weight 0 (inside an r1) are dropped. cand: atoms within g->bin of the
 * batch centre (all atoms within their r2 of a point are among them). */
static nh_err hybrid_weights(const grid_setup *g, const grid_batch *cand,
                             grid_batch *bt, int64_t **near, int64_t *cap) {
  int64_t nn = 0;
  for (int64_t q = 0; q < cand->ncand; q++) {
    int64_t a = cand->cand[q];
    const double *x = g->at->x[a];
    double d[3] = {x[0] - bt->c[0], x[1] - bt->c[1], x[2] - bt->c[2]},
           lim = g->hyb_r2a[a] + bt->hd;
    if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] >= lim * lim)
      continue;
    if (nn == *cap) {
      *cap = *cap ? 2 * *cap : 16;
      NH_CALL(nh_realloc((size_t)*cap * sizeof **near, near));
    }
    (*near)[nn++] = a;
  }
  if (!nn)
    return NH_OK;
  int m = 0;
  for (int p = 0; p < bt->np; p++) {
    double w = bt->w[p] * grid_hybrid_rest(g, bt->r[p], *near, nn);
    if (w == 0)
      continue;
    memmove(bt->r[m], bt->r[p], sizeof bt->r[m]);
    bt->w[m++] = w;
  }
  bt->np = m;
  return NH_OK;
}

/* Points, weights, centre and radius of uniform batch bidx into bt. */
static void uniform_points(const grid_setup *g, const int bidx[3],
                           grid_batch *bt) {
  double f[3];
  for (int i = 0, p = 0; i < g->bs; i++)
    for (int j = 0; j < g->bs; j++)
      for (int k = 0; k < g->bs; k++, p++) {
        double fp[3] = {(double)(bidx[0] * g->bs + i) / g->n[0],
                        (double)(bidx[1] * g->bs + j) / g->n[1],
                        (double)(bidx[2] * g->bs + k) / g->n[2]};
        nh_lattice_to_cart(g->lat, fp, bt->r[p]);
        bt->w[p] = g->w;
      }
  bt->np = g->np;
  for (int d = 0; d < 3; d++)
    f[d] = (bidx[d] + 0.5) / g->nb[d];
  nh_lattice_to_cart(g->lat, f, bt->c);
  bt->hd = g->hd;
}

static nh_err uniform_for_batches(grid_setup *g, grid_batch *bt,
                                  grid_batch_fn fn, void *arg,
                                  int64_t *nbatch) {
  nh_err err = NH_OK;
  double lo[3], hi[3], reach = g->rf + g->hd;
  grid_batch probe;
  int64_t *near = NULL, capnear = 0;
  memset(&probe, 0, sizeof probe);
  *nbatch = 0;
  if (!g->at->nlocal)
    return NH_OK;
  for (int d = 0; d < 3; d++) {
    lo[d] = HUGE_VAL;
    hi[d] = -HUGE_VAL;
  }
  for (int64_t a = 0; a < g->at->nlocal; a++)
    for (int d = 0; d < 3; d++) {
      lo[d] = fmin(lo[d], g->at->x[a][d] - reach);
      hi[d] = fmax(hi[d], g->at->x[a][d] + reach);
    }
  /* batch index range of the box, from its corners */
  int bmin[3] = {1 << 30, 1 << 30, 1 << 30}, bmax[3] = {-(1 << 30), -(1 << 30),
                                                       -(1 << 30)};
  for (int k = 0; k < 8; k++) {
    double x[3] = {k & 1 ? hi[0] : lo[0], k & 2 ? hi[1] : lo[1],
                   k & 4 ? hi[2] : lo[2]},
           s[3];
    nh_lattice_to_frac(g->recip, x, s);
    for (int d = 0; d < 3; d++) {
      int q = (int)floor(s[d] * g->nb[d]);
      bmin[d] = q - 1 < bmin[d] ? q - 1 : bmin[d];
      bmax[d] = q + 1 > bmax[d] ? q + 1 : bmax[d];
    }
  }
  int bidx[3];
  nh_progress pr; /* by planes of batches of the rank's box */
  nh_progress_start(&pr, g->ctx, "grid, uniform batch planes",
                    (long)(bmax[0] - bmin[0] + 1));
  for (bidx[0] = bmin[0]; bidx[0] <= bmax[0]; bidx[0]++) {
    for (bidx[1] = bmin[1]; bidx[1] <= bmax[1]; bidx[1]++)
      for (bidx[2] = bmin[2]; bidx[2] <= bmax[2]; bidx[2]++) {
        double f[3], c[3];
        for (int d = 0; d < 3; d++)
          f[d] = (bidx[d] + 0.5) / g->nb[d];
        nh_lattice_to_cart(g->lat, f, c);
        if (c[0] < lo[0] || c[0] > hi[0] || c[1] < lo[1] || c[1] > hi[1] ||
            c[2] < lo[2] || c[2] > hi[2])
          continue;
        NH_CALL_GOTO(grid_batch_candidates(g, c, &probe), out);
        if (!batch_owned(g, bidx, &probe))
          continue;
        uniform_points(g, bidx, bt);
        if (g->scheme == NH_GRID_HYBRID)
          NH_CALL_GOTO(hybrid_weights(g, &probe, bt, &near, &capnear), out);
        if (!bt->np)
          continue;
        NH_CALL_GOTO(fn(g, bt, arg), out);
        (*nbatch)++;
      }
    nh_progress_update(&pr, (long)(bidx[0] - bmin[0] + 1));
  }
  nh_progress_finish(&pr);
out:
  nh_free(&probe.cand);
  nh_free(&near);
  return err;
}

nh_err grid_for_batches(grid_setup *g, grid_batch *bt, grid_batch_fn fn,
                        void *arg, int64_t *nbatch) {
  if (g->scheme == NH_GRID_ATOMIC)
    return grid_atomic_for_batches(g, bt, fn, arg, nbatch);
  NH_CALL(grid_batch_points(bt, g->np));
  NH_CALL(uniform_for_batches(g, bt, fn, arg, nbatch));
  if (g->scheme == NH_GRID_HYBRID) { /* + the spheres of the owned atoms */
    int64_t ns = 0;
    NH_CALL(grid_sphere_for_batches(g, bt, fn, arg, &ns));
    *nbatch += ns;
  }
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Drivers.
 * ------------------------------------------------------------------------- */
typedef struct run_arg {
  grid_batch bt;
  grid_acc acc;
  const grid_pert *pert;
  double exc;
  int64_t npoints;
} run_arg;

/* Point weights a (potential) and b (GGA gradient term) of a batch. */
static void batch_weights(grid_setup *g, grid_batch *bt) {
  int np = bt->np, t = g->terms;
  for (int p = 0; p < np; p++) {
    double v = (t & NH_GRID_UNIT ? 1.0 : 0.0) + (t & NH_GRID_VNA ? bt->v[p] : 0) +
               (t & NH_GRID_VXC ? bt->vrho[p] : 0);
    bt->a[p] = bt->w[p] * v;
    if (!(t & NH_GRID_VXC)) { /* grho is not computed then */
      bt->bx[p] = bt->by[p] = bt->bz[p] = 0;
      continue;
    }
    double s = 2 * bt->w[p] * bt->vsigma[p];
    bt->bx[p] = s * bt->grho[3 * p];
    bt->by[p] = s * bt->grho[3 * p + 1];
    bt->bz[p] = s * bt->grho[3 * p + 2];
  }
}

static nh_err integrate_batch(grid_setup *g, grid_batch *bt, void *varg) {
  run_arg *ra = varg;
  int xc = (g->terms & NH_GRID_VXC) != 0;
  NH_CALL(grid_batch_eval(g, xc, bt));
  if (!bt->nf)
    return NH_OK;
  ra->npoints += bt->np;
  if (g->terms & (NH_GRID_VNA | NH_GRID_VXC))
    grid_density(g, bt, xc, (g->terms & NH_GRID_VNA) != 0);
  if (xc)
    grid_xc_eval(g, bt);
  batch_weights(g, bt);
  NH_CALL(grid_vmat_batch(g, bt, &ra->acc));
  return NH_OK;
}

static void stats_fill(const grid_setup *g, double t0, int64_t nb, int64_t np,
                       nh_grid_stats *st) {
  int64_t loc[2] = {nb, np}, glob[2];
  double dt = nh_wtime() - t0, dmax;
  MPI_Allreduce(loc, glob, 2, MPI_INT64_T, MPI_SUM, g->ctx->comm);
  MPI_Allreduce(&dt, &dmax, 1, MPI_DOUBLE, MPI_MAX, g->ctx->comm);
  if (!st)
    return;
  st->spacing = 0;
  if (g->scheme == NH_GRID_ATOMIC) {
    st->n[0] = g->ag.nrad;
    st->n[1] = g->ag.nthmax;
    st->n[2] = 2 * g->ag.nthmax;
  } else
    for (int d = 0; d < 3; d++) {
      st->n[d] = g->n[d];
      st->spacing = fmax(st->spacing, sqrt(g->metric[d][d]) / g->n[d]);
    }
  st->nbatches = glob[0];
  st->npoints = glob[1];
  st->seconds = dmax;
}

nh_err nh_grid_integrate(const nh_domain *dom, const nh_basis *b,
                         const nh_grid_species *const sp[NH_MAX_Z + 1],
                         int terms, const nh_grid_opts *o, nh_mat *m,
                         nh_grid_stats *stats) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  grid_setup *g = NULL;
  run_arg ra;
  int64_t nb = 0;
  double t0 = nh_wtime();
  memset(&ra, 0, sizeof ra);
  nh_timer_start("grid");
  nh_err err = grid_setup_create(dom, b, sp, terms, o, &g);
  if (!err)
    err = grid_acc_init(&ra.acc, dom, m);
  if (!err)
    err = grid_for_batches(g, &ra.bt, integrate_batch, &ra, &nb);
  if (!err)
    err = grid_acc_deliver(&ra.acc);
  err = nh_ctx_agree(ctx, err);
  if (!err)
    err = nh_mat_assemble(m);
  if (!err)
    stats_fill(g, t0, nb, ra.npoints, stats);
  grid_batch_free(&ra.bt);
  grid_acc_free(&ra.acc);
  grid_setup_destroy(&g);
  nh_timer_stop("grid");
  NH_CALL(err);
  return NH_OK;
}

/* XC energy of a batch, sum_p w rho e_xc, with the optional perturbation. */
static nh_err exc_batch(grid_setup *g, grid_batch *bt, void *varg) {
  run_arg *ra = varg;
  NH_CALL(grid_batch_eval(g, 1, bt));
  if (!bt->nf)
    return NH_OK;
  grid_density(g, bt, 1, 0);
  if (ra->pert)
    grid_density_perturb(g, bt, ra->pert);
  grid_xc_eval(g, bt);
  for (int p = 0; p < bt->np; p++)
    ra->exc += bt->w[p] * bt->rho[p] * bt->zk[p];
  return NH_OK;
}

nh_err grid_exc(const nh_domain *dom, const nh_basis *b,
                const nh_grid_species *const sp[NH_MAX_Z + 1],
                const nh_grid_opts *o, const grid_pert *p, double *exc) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  grid_setup *g = NULL;
  run_arg ra;
  int64_t nb;
  memset(&ra, 0, sizeof ra);
  ra.pert = p;
  nh_err err = grid_setup_create(dom, b, sp, NH_GRID_VXC, o, &g);
  if (!err)
    err = grid_for_batches(g, &ra.bt, exc_batch, &ra, &nb);
  err = nh_ctx_agree(ctx, err);
  grid_batch_free(&ra.bt);
  grid_setup_destroy(&g);
  NH_CALL(err);
  NH_MPI(MPI_Allreduce(&ra.exc, exc, 1, MPI_DOUBLE, MPI_SUM, ctx->comm));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * The neutral pseudo-atom as a species.
 * ------------------------------------------------------------------------- */
static double atom_rho(const void *a, double r, double *d) {
  return nh_atom_rho(a, r, d);
}
static double atom_vna(const void *a, double r, double *d) {
  return nh_atom_vna(a, r, d);
}
static double gth_core(const void *g, double r, double *d) {
  return nh_gth_core_density(g, r, d);
}

/* Where the core density falls below 1e-12 for good (it is a Gaussian
 * times a polynomial: scan outwards from far away). */
static double core_radius(const nh_gth *g) {
  double r = 60;
  while (r > 0 && fabs(nh_gth_core_density(g, r, NULL)) < 1e-12)
    r -= 0.05;
  return r + 0.05;
}

void nh_grid_species_atom(const nh_atom *atom, const nh_gth *gth,
                          nh_grid_species *sp) {
  memset(sp, 0, sizeof *sp);
  sp->rho = (nh_grid_fn){atom_rho, atom, atom->rcut};
  sp->vna = (nh_grid_fn){atom_vna, atom, atom->rcut};
  if (gth)
    sp->alpha = 1 / (2 * gth->rloc * gth->rloc);
  if (gth && gth->ncore > 0)
    sp->core = (nh_grid_fn){gth_core, gth, core_radius(gth)};
}

/* The species of every element with an atom, into store/sp. */
static void h0_species(const nh_atom *const atom[NH_MAX_Z + 1],
                       const nh_gth *const gth[NH_MAX_Z + 1],
                       nh_grid_species *store,
                       const nh_grid_species *sp[NH_MAX_Z + 1]) {
  for (int z = 0; z <= NH_MAX_Z; z++) {
    sp[z] = NULL;
    if (z && atom[z]) {
      nh_grid_species_atom(atom[z], gth ? gth[z] : NULL, &store[z]);
      sp[z] = &store[z];
    }
  }
}

double nh_grid_h0_halo(const nh_basis *b,
                       const nh_atom *const atom[NH_MAX_Z + 1],
                       const nh_gth *const gth[NH_MAX_Z + 1],
                       const nh_grid_opts *o) {
  nh_grid_species store[NH_MAX_Z + 1];
  const nh_grid_species *sp[NH_MAX_Z + 1];
  h0_species(atom, gth, store, sp);
  return nh_grid_halo(b, sp, o);
}

nh_err nh_grid_h0_add(const nh_domain *dom, const nh_basis *b,
                      const nh_atom *const atom[NH_MAX_Z + 1],
                      const nh_gth *const gth[NH_MAX_Z + 1],
                      const nh_grid_opts *o, nh_mat *h0, nh_grid_stats *stats) {
  nh_err err = NH_OK;
  nh_grid_species *store = NULL;
  const nh_grid_species *sp[NH_MAX_Z + 1];
  NH_CALL(nh_calloc(NH_MAX_Z + 1, sizeof *store, &store));
  h0_species(atom, gth, store, sp);
  NH_CALL_GOTO(nh_grid_integrate(dom, b, sp, NH_GRID_VNA | NH_GRID_VXC, o, h0,
                                 stats),
               out);
out:
  nh_free(&store);
  return err;
}
