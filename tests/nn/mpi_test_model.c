/* The model: finite-difference gradient of the whole model (parameters and
 * input features), O(3) + translation + permutation + periodic-image
 * equivariance of the predicted ΔH blocks, exact H(-n)_ji = H(n)_ijᵀ,
 * independence of the rank count, streaming inference equal to the cached
 * forward, the model file round trip and rejection
 * of models that do not fit. Inputs: S and T from the integrals module as S
 * and "H0" (both rotate exactly with the structure). */
#include <unistd.h>

#include <hdf5.h>

#include "nhtest.h"
#include "nextham/h0.h"
#include "nextham/model.h"
#include "nextham/structure.h"
#include "nextham/supercell.h"

/* ---------------------------------------------------------------------------
 * Fixtures
 * ------------------------------------------------------------------------- */

static const double CELL[3][3] = {{4.2, 0.1, 0.0}, {0.3, 4.0, 0.2}, {0.1, -0.2, 4.4}};
static const double FRAC[3][3] = {{0.02, 0.01, -0.03}, {0.27, 0.25, 0.22},
                                  {-0.25, 0.2, -0.1}};
static const int ZS[3] = {14, 14, 1};

typedef struct geom {
  double R[9];   /* rotation (row-major), may be improper */
  double t[3];   /* translation, Å */
  int lp[3];     /* new lattice vector k = R a_lp[k] */
  int perm[3];   /* new atom k = old atom perm[k] */
  int shift;     /* add a1 - a3 to old atom 0 */
} geom;

static void geom_identity(geom *g) {
  memset(g, 0, sizeof *g);
  g->R[0] = g->R[4] = g->R[8] = 1;
  for (int k = 0; k < 3; k++) g->lp[k] = g->perm[k] = k;
}

static void matvec(const double R[9], const double x[3], double y[3]) {
  for (int a = 0; a < 3; a++)
    y[a] = R[3 * a] * x[0] + R[3 * a + 1] * x[1] + R[3 * a + 2] * x[2];
}

static nh_structure *make_structure(const geom *g) {
  nh_structure *s;
  assert_nh_ok(nh_structure_create(3, &s));
  double a[3][3];
  for (int k = 0; k < 3; k++)
    for (int c = 0; c < 3; c++) a[k][c] = CELL[k][c] / NH_BOHR_ANGSTROM;
  for (int k = 0; k < 3; k++) matvec(g->R, a[g->lp[k]], s->lattice[k]);
  for (int k = 0; k < 3; k++) {
    const int o = g->perm[k];
    double x[3] = {0, 0, 0}, y[3];
    for (int c = 0; c < 3; c++)
      for (int q = 0; q < 3; q++) x[c] += FRAC[o][q] * a[q][c];
    if (g->shift && o == 0)
      for (int c = 0; c < 3; c++) x[c] += a[0][c] - a[2][c];
    matvec(g->R, x, y);
    for (int c = 0; c < 3; c++) s->pos[k][c] = y[c] + g->t[c] / NH_BOHR_ANGSTROM;
    s->z[k] = ZS[o];
  }
  snprintf(s->source, sizeof s->source, "test");
  return s;
}

static nh_h0_species *load_species(const nh_structure *s) {
  nh_h0_basis_opts bo = {.file = "BASIS_MOLOPT",
                         .potential_file = "GTH_POTENTIALS",
                         .basis = "DZVP-MOLOPT-SR-GTH",
                         .potential = "GTH-PBE"};
  nh_h0_species *sp;
  assert_nh_ok(nh_h0_species_load(s, &bo, 0, &sp));
  return sp;
}

static nh_model *make_model(const nh_basis *b) {
  nh_model_hparams hp;
  nh_model_hparams_default(&hp);
  hp.lmax = 2, hp.layers = 2, hp.heads = 2;
  for (int l = 0; l <= 2; l++) hp.channels[l] = 4;
  hp.cutoff = 3.0 / NH_BOHR_ANGSTROM;
  hp.nradial = 6, hp.radial_width = 8, hp.seed = 7;
  assert_nh_ok(nh_model_hparams_from_basis(&hp, b));
  nh_model *m;
  assert_nh_ok(nh_model_create(&hp, &m));
  return m;
}

/* S and T ("H0") of s on a domain of ctx. */
typedef struct inputs {
  nh_structure *s;
  nh_h0_species *sp;
  nh_domain *dom;
  nh_h0_parts p;
} inputs;

/* Takes ownership of s. */
static void inputs_make_s(const nh_ctx *ctx, nh_structure *s, const nh_model *m,
                          inputs *in) {
  in->s = s;
  in->sp = load_species(in->s);
  nh_h0_opts o;
  nh_h0_opts_default(&o);
  o.eps = 1e-8;
  nh_h0_ranges r;
  assert_nh_ok(nh_h0_ranges_get(in->sp, &o, NH_H0_S | NH_H0_T, &r));
  const double halo = fmax(r.halo, m ? m->hp.cutoff : 0) + 1e-6;
  assert_nh_ok(nh_domain_create(ctx, in->s, NULL, halo, &in->dom));
  assert_nh_ok(nh_h0_analytic(in->dom, in->sp, &o, NH_H0_S | NH_H0_T, &in->p));
}

static void inputs_make(const nh_ctx *ctx, const geom *g, const nh_model *m,
                        inputs *in) {
  inputs_make_s(ctx, make_structure(g), m, in);
}

static void inputs_free(inputs *in) {
  nh_h0_parts_destroy(&in->p);
  nh_domain_destroy(&in->dom);
  nh_h0_species_destroy(&in->sp);
  nh_structure_destroy(&in->s);
}

/* Every block of a matrix on every rank (small systems only). */
typedef struct allblk {
  int nb;
  nh_block_key *key;
  int *off;
  double *val;
} allblk;

static void gather(const nh_ctx *ctx, const nh_mat *m, allblk *a) {
  const int nb = (int)nh_mat_nblocks(m);
  int nv = 0, P = ctx->size;
  for (int k = 0; k < nb; k++) {
    nh_block_key key;
    nh_mat_block(m, k, &key, NULL);
    nv += nh_mat_norb(m, key.i) * nh_mat_norb(m, key.j);
  }
  int *cb = calloc(P, sizeof(int)), *cv = calloc(P, sizeof(int));
  int *db = calloc(P, sizeof(int)), *dv = calloc(P, sizeof(int));
  MPI_Allgather(&nb, 1, MPI_INT, cb, 1, MPI_INT, ctx->comm);
  MPI_Allgather(&nv, 1, MPI_INT, cv, 1, MPI_INT, ctx->comm);
  int tb = 0, tv = 0;
  for (int r = 0; r < P; r++) db[r] = tb, dv[r] = tv, tb += cb[r], tv += cv[r];
  nh_block_key *lk = calloc(nb + 1, sizeof *lk);
  double *lv = calloc(nv + 1, sizeof *lv);
  int *lo = calloc(nb + 1, sizeof *lo), *sz = calloc(tb + 1, sizeof *sz);
  for (int k = 0, v = 0; k < nb; k++) {
    double *b;
    nh_mat_block(m, k, &lk[k], &b);
    const int n = nh_mat_norb(m, lk[k].i) * nh_mat_norb(m, lk[k].j);
    memcpy(lv + v, b, n * sizeof(double));
    lo[k] = n, v += n;
  }
  a->nb = tb;
  a->key = calloc(tb + 1, sizeof *a->key);
  a->off = calloc(tb + 2, sizeof *a->off);
  a->val = calloc(tv + 1, sizeof *a->val);
  MPI_Datatype kt;
  MPI_Type_contiguous(sizeof(nh_block_key), MPI_BYTE, &kt);
  MPI_Type_commit(&kt);
  MPI_Allgatherv(lk, nb, kt, a->key, cb, db, kt, ctx->comm);
  MPI_Allgatherv(lo, nb, MPI_INT, sz, cb, db, MPI_INT, ctx->comm);
  MPI_Allgatherv(lv, nv, MPI_DOUBLE, a->val, cv, dv, MPI_DOUBLE, ctx->comm);
  MPI_Type_free(&kt);
  for (int k = 0; k < tb; k++) a->off[k + 1] = a->off[k] + sz[k];
  free(cb), free(cv), free(db), free(dv), free(lk), free(lv), free(lo), free(sz);
}

static void allblk_free(allblk *a) {
  free(a->key), free(a->off), free(a->val);
}

static const double *find(const allblk *a, int64_t i, int64_t j, const int n[3]) {
  for (int k = 0; k < a->nb; k++)
    if (a->key[k].i == i && a->key[k].j == j && a->key[k].n[0] == n[0] &&
        a->key[k].n[1] == n[1] && a->key[k].n[2] == n[2])
      return a->val + a->off[k];
  return NULL;
}

/* ΔH of the structure g on ctx, gathered to every rank. */
/* netdom: run the network on a domain with halo = cutoff (as the task
 * does) instead of H0's. */
static void predict_s(const nh_ctx *ctx, const nh_model *m, nh_structure *s,
                      allblk *out, double *sym, int netdom) {
  inputs in;
  inputs_make_s(ctx, s, m, &in);
  nh_mat *dH;
  nh_infer_stats st;
  nh_domain *nd = NULL;
  if (netdom) assert_nh_ok(nh_domain_create(ctx, in.s, NULL, m->hp.cutoff, &nd));
  assert_nh_ok(nh_model_predict(m, nd, in.p.T, in.p.S, &dH, &st));
  nh_domain_destroy(&nd);
  if (sym) assert_nh_ok(nh_mat_symmetry_error(dH, sym));
  gather(ctx, dH, out);
  nh_mat_destroy(&dH);
  inputs_free(&in);
}

static void predict(const nh_ctx *ctx, const nh_model *m, const geom *g,
                    allblk *out, double *sym) {
  predict_s(ctx, m, make_structure(g), out, sym, 0);
}

/* ---------------------------------------------------------------------------
 * Finite differences of the whole model (rank 0, folded serial graph)
 * ------------------------------------------------------------------------- */

typedef struct fd {
  nh_model *m;
  nh_model_graph *g;
  nh_model_acts *a;
  double *wn, *we, *wtn, *wte;
  size_t nn, ne;
} fd;

static double loss(fd *f) {
  assert_nh_ok(nh_model_forward(f->m, f->g, f->a, NULL, NULL));
  const double *Pn = nh_model_acts_node_out(f->a), *Pe = nh_model_acts_edge_out(f->a);
  double s = 0;
  for (size_t i = 0; i < f->nn; i++) s += f->wn[i] * Pn[i];
  for (size_t i = 0; i < f->ne; i++) s += f->we[i] * Pe[i];
  const double *Tn = nh_model_acts_node_trace(f->a), *Te = nh_model_acts_edge_trace(f->a);
  for (int i = 0; i < f->g->nown; i++) s += f->wtn[i] * Tn[i];
  for (int i = 0; i < f->g->E; i++) s += f->wte[i] * Te[i];
  return s;
}

/* Finite differences on a spread of entries of x[0..n); returns the worst
 * relative error |fd - g| / max(|fd|, |g|, floor), floor = 1% of the
 * largest |g| of the slice or 1e-4 of the whole gradient's, whichever is
 * larger (round-off of the differences is about 1e-11 |loss|). */
static double check(fd *f, double *x, size_t n, const double *grad, int nsample,
                    double gmax) {
  double worst = 0;
  const size_t step = n / nsample > 0 ? n / nsample : 1;
  for (size_t i = (n > 3 ? 3 : 0) % (step ? step : 1); i < n; i += step) {
    const double x0 = x[i], h = 1e-4 * fmax(1, fabs(x0));
    double l[4];
    const double at[4] = {-2, -1, 1, 2};
    for (int q = 0; q < 4; q++) {
      x[i] = x0 + at[q] * h;
      l[q] = loss(f);
    }
    x[i] = x0;
    /* fourth-order central stencil: truncation O(h⁴) */
    const double d = (l[0] - 8 * l[1] + 8 * l[2] - l[3]) / (12 * h);
    const double den = fmax(fmax(fabs(d), fabs(grad[i])), 0.01 * gmax);
    if (den > 0 && fabs(d - grad[i]) / den > 1e-6 && getenv("NH_DEBUG"))
      printf("    entry %zu of %zu: fd %.10e grad %.10e\n", i, n, d, grad[i]);
    if (den > 0) worst = fmax(worst, fabs(d - grad[i]) / den);
  }
  return worst;
}

static double maxabs(const double *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

static void test_gradient(void **state) {
  (void)state;
  if (nh_test_ctx()->rank != 0) return;
  nh_ctx self;
  assert_nh_ok(nh_ctx_init(MPI_COMM_SELF, &self));
  self.verbosity = 0;
  geom g0;
  geom_identity(&g0);
  inputs in;
  nh_structure *s = make_structure(&g0);
  nh_h0_species *sp = load_species(s);
  fd f;
  f.m = make_model(sp->basis);
  inputs_make(&self, &g0, f.m, &in);
  assert_nh_ok(nh_model_graph_build(f.m, in.dom, in.p.T, in.p.S, 1, &f.g));
  assert_true(f.g->E > 6 && f.g->ntot == 3);
  nh_model_set_edge_chunk(3); /* several chunks of the radial MLP + SO(2) */
  assert_nh_ok(nh_model_acts_create(f.m, f.g, &f.a));
  nh_model_set_edge_chunk(0);
  const size_t P2 = (size_t)f.m->pad->norb * f.m->pad->norb, P = f.m->ir_in.dim;
  f.nn = f.g->nown * P2, f.ne = f.g->E * P2;
  f.wn = malloc(f.nn * sizeof(double)), f.we = malloc(f.ne * sizeof(double));
  srand(5);
  /* S and T blocks are axial about their edge, so the pseudo-tensor kinds
   * (1e, 2o) of the first layer are exactly zero, where the RMS norm's
   * slope is 1/sqrt(eps) and central differences lose their accuracy.
   * Generic inputs: add noise to every input feature. */
  for (size_t i = 0; i < 2 * P * f.g->nown; i++)
    f.g->node_in[i] += 0.1 * (rand() / (double)RAND_MAX - 0.5);
  for (size_t i = 0; i < 2 * P * f.g->E; i++)
    f.g->edge_in[i] += 0.1 * (rand() / (double)RAND_MAX - 0.5);
  for (size_t i = 0; i < f.nn; i++) f.wn[i] = rand() / (double)RAND_MAX - 0.5;
  for (size_t i = 0; i < f.ne; i++) f.we[i] = rand() / (double)RAND_MAX - 0.5;
  f.wtn = malloc(f.g->nown * sizeof(double)), f.wte = malloc(f.g->E * sizeof(double));
  for (int i = 0; i < f.g->nown; i++) f.wtn[i] = rand() / (double)RAND_MAX - 0.5;
  for (int i = 0; i < f.g->E; i++) f.wte[i] = rand() / (double)RAND_MAX - 0.5;
  const size_t nin = 2 * P * f.g->nown, ein = 2 * P * f.g->E;
  double *dp = calloc(f.m->nparams, sizeof(double));
  double *dn = calloc(nin, sizeof(double)), *de = calloc(ein, sizeof(double));
  loss(&f);
  assert_nh_ok(nh_model_backward(f.m, f.g, f.a, f.wn, f.we, f.wtn, f.wte, dp,
                                 dn, de));
  const double gp = maxabs(dp, f.m->nparams);
  assert_true(gp > 0);
  size_t off, n;
  const char *name;
  double worst = 0;
  for (int k = 0; (name = nh_model_slice(f.m, k, &off, &n)); k++) {
    const double e = check(&f, f.m->params + off, n, dp + off, 12,
                           fmax(maxabs(dp + off, n), 1e-2 * gp));
    assert_true(maxabs(dp + off, n) > 0); /* every slice gets a gradient */
    printf("  FD %-22s %6zu params, worst rel err %.2e\n", name, n, e);
    worst = fmax(worst, e);
  }
  const double en = check(&f, f.g->node_in, nin, dn, 60, maxabs(dn, nin));
  const double ee = check(&f, f.g->edge_in, ein, de, 60, maxabs(de, ein));
  printf("  FD whole model: params %.2e, node inputs %.2e, edge inputs %.2e "
         "(%zu params, %d edges)\n", worst, en, ee, f.m->nparams, f.g->E);
  assert_true(worst < 1e-6 && en < 1e-6 && ee < 1e-6);
  assert_true(maxabs(dn, nin) > 0 && maxabs(de, ein) > 0);
  free(dp), free(dn), free(de), free(f.wn), free(f.we), free(f.wtn), free(f.wte);
  nh_model_acts_destroy(&f.a);
  nh_model_graph_destroy(&f.g);
  nh_model_destroy(&f.m);
  inputs_free(&in);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
}

/* ---------------------------------------------------------------------------
 * Equivariance
 * ------------------------------------------------------------------------- */

static void random_rotation(double R[9], int improper, unsigned seed) {
  /* Gram-Schmidt of a fixed pseudo-random matrix */
  srand(seed);
  double A[9];
  for (int i = 0; i < 9; i++) A[i] = rand() / (double)RAND_MAX - 0.5;
  for (int r = 0; r < 3; r++) {
    for (int q = 0; q < r; q++) {
      double d = 0;
      for (int c = 0; c < 3; c++) d += A[3 * r + c] * A[3 * q + c];
      for (int c = 0; c < 3; c++) A[3 * r + c] -= d * A[3 * q + c];
    }
    double nr = 0;
    for (int c = 0; c < 3; c++) nr += A[3 * r + c] * A[3 * r + c];
    for (int c = 0; c < 3; c++) A[3 * r + c] /= sqrt(nr);
  }
  const double det = A[0] * (A[4] * A[8] - A[5] * A[7]) -
                     A[1] * (A[3] * A[8] - A[5] * A[6]) +
                     A[2] * (A[3] * A[7] - A[4] * A[6]);
  const double sgn = (det > 0) == !improper ? 1 : -1;
  for (int i = 0; i < 9; i++) R[i] = sgn * A[i];
}

static void shells_of(const nh_basis *b, int z, int *n, int *l) {
  *n = b->elem[z]->nshell;
  for (int s = 0; s < *n; s++) l[s] = b->elem[z]->shells[s].l;
}

/* Largest |new - D old Dᵀ| over the blocks of `ref` (keys mapped by g). */
static double compare(const allblk *ref, const allblk *got, const geom *g,
                      const nh_basis *b) {
  double D[NH_IRREPS_LMAX * 100], err = 0;
  int inv[3];
  for (int k = 0; k < 3; k++) inv[g->perm[k]] = k;
  assert_nh_ok(nh_irreps_wigner(2, g->R, D));
  assert_int_equal(ref->nb, got->nb);
  for (int k = 0; k < ref->nb; k++) {
    const nh_block_key *key = &ref->key[k];
    int n[3], nr, nc, lr[32], lc[32];
    for (int q = 0; q < 3; q++) n[q] = key->n[g->lp[q]];
    const double *B = find(got, inv[key->i], inv[key->j], n);
    assert_non_null(B);
    shells_of(b, ZS[key->i], &nr, lr);
    shells_of(b, ZS[key->j], &nc, lc);
    const int ni = b->elem[ZS[key->i]]->norb, nj = b->elem[ZS[key->j]]->norb;
    double *rot = malloc(ni * nj * sizeof(double));
    assert_nh_ok(nh_irreps_block_rotate(D, 2, nr, lr, nc, lc,
                                        ref->val + ref->off[k], nj, rot, nj));
    for (int q = 0; q < ni * nj; q++) err = fmax(err, fabs(rot[q] - B[q]));
    free(rot);
  }
  return err;
}

static void test_equivariance(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  geom g0;
  geom_identity(&g0);
  nh_structure *s = make_structure(&g0);
  nh_h0_species *sp = load_species(s);
  nh_model *m = make_model(sp->basis);
  allblk ref;
  double sym;
  predict(ctx, m, &g0, &ref, &sym);
  assert_true(sym == 0.0); /* exact by construction */
  double scale = 0;
  for (int q = 0; q < ref.off[ref.nb]; q++) scale = fmax(scale, fabs(ref.val[q]));
  assert_true(scale > 1e-3);
  struct { const char *what; int improper, perm, shift; } cases[] = {
      {"proper rotation + translation", 0, 0, 0},
      {"improper rotation + translation", 1, 0, 0},
      {"permutation of atoms", -1, 1, 0},
      {"atom shifted by a lattice vector", -1, 0, 1}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    geom g;
    geom_identity(&g);
    if (cases[c].improper >= 0) {
      random_rotation(g.R, cases[c].improper, 11 + c);
      g.t[0] = 0.2, g.t[1] = -0.15, g.t[2] = 0.1;
      if (cases[c].improper) g.lp[0] = 1, g.lp[1] = 0; /* keep right-handed */
    }
    if (cases[c].perm) g.perm[0] = 2, g.perm[1] = 0, g.perm[2] = 1;
    g.shift = cases[c].shift;
    allblk got;
    predict(ctx, m, &g, &got, &sym);
    const double err = compare(&ref, &got, &g, sp->basis);
    if (ctx->rank == 0)
      printf("  equivariance, %s: max |dH' - D dH Dᵀ| = %.2e (max |dH| %.2e)\n",
             cases[c].what, err, scale);
    assert_true(err < 1e-10);
    assert_true(sym == 0.0);
    allblk_free(&got);
  }
  allblk_free(&ref);
  nh_model_destroy(&m);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
}

/* ---------------------------------------------------------------------------
 * Rank count, model file
 * ------------------------------------------------------------------------- */

static void test_ranks(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_ctx self;
  assert_nh_ok(nh_ctx_init(MPI_COMM_SELF, &self));
  self.verbosity = 0;
  geom g0;
  geom_identity(&g0);
  nh_structure *s = make_structure(&g0);
  nh_h0_species *sp = load_species(s);
  nh_model *m = make_model(sp->basis);
  /* a 2 x 2 x 1 supercell: 12 atoms, so that every rank owns several;
   * all ranks with the network on a halo = cutoff domain, one rank on H0's */
  const int mm[3] = {2, 2, 1};
  nh_structure *sc1, *sc2;
  assert_nh_ok(nh_supercell_structure(s, mm, &sc1));
  assert_nh_ok(nh_supercell_structure(s, mm, &sc2));
  allblk all, one;
  nh_model_set_edge_chunk(5); /* chunks end at different edges per rank */
  predict_s(ctx, m, sc1, &all, NULL, 1);
  nh_model_set_edge_chunk(0);
  predict_s(&self, m, sc2, &one, NULL, 0);
  double err = 0;
  assert_int_equal(all.nb, one.nb);
  for (int k = 0; k < one.nb; k++) {
    const double *B = find(&all, one.key[k].i, one.key[k].j, one.key[k].n);
    assert_non_null(B);
    for (int q = one.off[k]; q < one.off[k + 1]; q++)
      err = fmax(err, fabs(one.val[q] - B[q - one.off[k]]));
  }
  if (ctx->rank == 0)
    printf("  %d ranks vs 1 rank, 12 atoms: %d blocks, max difference %.2e\n",
           ctx->size, all.nb, err);
  assert_true(err <= 1e-12);
  allblk_free(&all), allblk_free(&one);
  nh_model_destroy(&m);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
}

/* Ghost rows of the cached path, as infer.c fills them. */
static nh_err exchange_rows(void *dom, double *h, int width) {
  return nh_domain_forward(dom, h, width);
}

/* Streaming inference (nh_model_predict: chunks of destination nodes, no
 * kept activations) against the cached forward (nh_model_forward with
 * every activation + nh_model_assemble) on the same ranks: the same blocks
 * and the same values to round-off, with chunks of a few edges. */
static void test_stream(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  geom g0;
  geom_identity(&g0);
  nh_structure *s = make_structure(&g0);
  nh_h0_species *sp = load_species(s);
  nh_model *m = make_model(sp->basis);
  const int mm[3] = {2, 2, 1};
  nh_structure *sc;
  assert_nh_ok(nh_supercell_structure(s, mm, &sc));
  inputs in;
  inputs_make_s(ctx, sc, m, &in);
  nh_domain *nd;
  assert_nh_ok(nh_domain_create(ctx, in.s, NULL, m->hp.cutoff, &nd));
  double dmax = 0, vmax = 0;
  for (int chunk = 1; chunk <= 64; chunk *= 8) { /* 1, 8, 64 edges */
    nh_model_set_edge_chunk(chunk);
    nh_mat *dH, *ref;
    nh_infer_stats st;
    assert_nh_ok(nh_model_predict(m, nd, in.p.T, in.p.S, &dH, &st));
    nh_model_graph *g;
    nh_model_acts *a;
    assert_nh_ok(nh_model_graph_build(m, nd, in.p.T, in.p.S, 0, &g));
    assert_nh_ok(nh_model_acts_create(m, g, &a));
    assert_nh_ok(nh_model_forward(m, g, a, exchange_rows, nd));
    assert_nh_ok(nh_model_assemble(m, g, a, in.dom, &ref));
    allblk got, want;
    gather(ctx, dH, &got);
    gather(ctx, ref, &want);
    assert_int_equal(got.nb, want.nb);
    assert_true(st.edges > 12 && st.atoms == 12 && st.bytes_network > 0);
    for (int k = 0; k < want.nb; k++) {
      const double *B = find(&got, want.key[k].i, want.key[k].j, want.key[k].n);
      assert_non_null(B);
      for (int q = want.off[k]; q < want.off[k + 1]; q++) {
        dmax = fmax(dmax, fabs(want.val[q] - B[q - want.off[k]]));
        vmax = fmax(vmax, fabs(want.val[q]));
      }
    }
    double sym;
    assert_nh_ok(nh_mat_symmetry_error(dH, &sym));
    assert_true(sym == 0.0);
    allblk_free(&got), allblk_free(&want);
    nh_model_acts_destroy(&a);
    nh_model_graph_destroy(&g);
    nh_mat_destroy(&dH), nh_mat_destroy(&ref);
  }
  nh_model_set_edge_chunk(0);
  if (ctx->rank == 0)
    printf("  streaming vs cached forward, %d ranks: max difference %.2e "
           "(max |dH| %.2e)\n", ctx->size, dmax, vmax);
  assert_true(vmax > 1e-3);
  assert_true(dmax <= 1e-14 * vmax);
  nh_domain_destroy(&nd);
  inputs_free(&in);
  nh_model_destroy(&m);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
}

static void tmp_name(const nh_ctx *ctx, const char *tag, char *buf, size_t n) {
  long pid = getpid();
  MPI_Bcast(&pid, 1, MPI_LONG, 0, ctx->comm);
  snprintf(buf, n, "/tmp/nh-model-%ld-%s.h5", pid, tag);
}

static void set_version(const char *path, int64_t v) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
  assert_true(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
  H5Aclose(a), H5Fclose(f);
}

static void truncate_copy(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  fseek(in, 0, SEEK_END);
  const long n = ftell(in) / 2;
  fseek(in, 0, SEEK_SET);
  char *buf = malloc(n);
  assert_int_equal(fread(buf, 1, n, in), n);
  fwrite(buf, 1, n, out);
  fclose(in), fclose(out), free(buf);
}

static void test_file(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  geom g0;
  geom_identity(&g0);
  nh_structure *s = make_structure(&g0);
  nh_h0_species *sp = load_species(s);
  nh_model *m = make_model(sp->basis), *r = NULL;
  snprintf(m->hp.h0_settings, sizeof m->hp.h0_settings,
           "basis_file = BASIS_MOLOPT; potential_file = GTH_POTENTIALS");
  m->out_scale = 0.75, m->in_scale[0][1] = 2.0;
  char path[256], bad[256];
  tmp_name(ctx, "rt", path, sizeof path);
  assert_nh_ok(nh_model_write(ctx, m, path));
  assert_nh_ok(nh_model_read(ctx, path, &r));
  assert_int_equal(r->nparams, m->nparams);
  assert_memory_equal(r->params, m->params, m->nparams * sizeof(double));
  assert_true(r->out_scale == 0.75 && r->in_scale[0][1] == 2.0);
  assert_string_equal(r->hp.h0_settings, m->hp.h0_settings);
  assert_true(r->hp.cutoff == m->hp.cutoff || fabs(r->hp.cutoff - m->hp.cutoff) < 1e-14);
  assert_nh_ok(nh_model_check_basis(r, path, sp->basis, "sample.h5"));
  allblk a, b;
  predict(ctx, m, &g0, &a, NULL);
  predict(ctx, r, &g0, &b, NULL);
  assert_int_equal(a.nb, b.nb);
  assert_memory_equal(a.val, b.val, a.off[a.nb] * sizeof(double));
  allblk_free(&a), allblk_free(&b);
  /* a newer format version */
  tmp_name(ctx, "new", bad, sizeof bad);
  assert_nh_ok(nh_model_write(ctx, m, bad));
  if (ctx->rank == 0) set_version(bad, 2);
  MPI_Barrier(ctx->comm);
  nh_model *x = NULL;
  assert_nh_fails(nh_model_read(ctx, bad, &x), NH_ERR_FILE, "upgrade nextham");
  assert_null(x);
  /* a truncated file */
  char cut[256];
  tmp_name(ctx, "cut", cut, sizeof cut);
  if (ctx->rank == 0) truncate_copy(path, cut);
  MPI_Barrier(ctx->comm);
  assert_nh_fails(nh_model_read(ctx, cut, &x), NH_ERR_FILE, cut);
  /* other elements: the sample has O, the model does not */
  nh_basis *b2;
  assert_nh_ok(nh_basis_create(&b2));
  assert_nh_ok(nh_basis_load(b2, 8, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  assert_nh_fails(nh_model_check_basis(r, path, b2, "water.h5"), NH_ERR_INPUT,
                  "no element O");
  /* another basis for Si */
  nh_basis *b3;
  assert_nh_ok(nh_basis_create(&b3));
  assert_nh_ok(nh_basis_load(b3, 14, "BASIS_MOLOPT", "SZV-MOLOPT-SR-GTH"));
  assert_nh_fails(nh_model_check_basis(r, path, b3, "szv.h5"), NH_ERR_INPUT,
                  "SZV-MOLOPT-SR-GTH");
  nh_basis_destroy(&b2), nh_basis_destroy(&b3);
  MPI_Barrier(ctx->comm);
  if (ctx->rank == 0) remove(path), remove(bad), remove(cut);
  nh_model_destroy(&r);
  nh_model_destroy(&m);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
}

static void test_hparams(void **state) {
  (void)state;
  geom g0;
  geom_identity(&g0);
  nh_structure *s = make_structure(&g0);
  nh_h0_species *sp = load_species(s);
  const char *good = "[model]\nlmax = 3\nchannels = [8, 4, 4, 2]\nlayers = 3\n"
                     "heads = 2\ncutoff = 5.0\nelements = [\"Si\", \"H\"]\n"
                     "basis = \"DZVP-MOLOPT-SR-GTH\"\nseed = 42\n";
  nh_toml *doc;
  nh_toml_val *t;
  nh_model_hparams hp;
  assert_nh_ok(nh_toml_parse_string("in.toml", good, strlen(good), &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "model", &t));
  assert_nh_ok(nh_model_hparams_read(doc, t, sp->basis, &hp));
  assert_nh_ok(nh_toml_check_unused(doc));
  assert_int_equal(hp.lmax, 3);
  assert_int_equal(hp.channels[3], 2);
  assert_int_equal(hp.z[1], 1);
  assert_close(hp.cutoff * NH_BOHR_ANGSTROM, 5.0, 1e-14);
  nh_model *a, *b;
  assert_nh_ok(nh_model_create(&hp, &a));
  assert_nh_ok(nh_model_create(&hp, &b));
  assert_memory_equal(a->params, b->params, a->nparams * sizeof(double));
  nh_model_destroy(&a), nh_model_destroy(&b);
  nh_toml_destroy(&doc);
  const char *bad = "[model]\nheads = 3\nchannels = 4\n";
  assert_nh_ok(nh_toml_parse_string("bad.toml", bad, strlen(bad), &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "model", &t));
  assert_nh_fails(nh_model_hparams_read(doc, t, sp->basis, &hp), NH_ERR_INPUT,
                  "bad.toml: [model]: model: channels of L = 0 must be a "
                  "positive multiple of heads (3)");
  nh_toml_destroy(&doc);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hparams), cmocka_unit_test(test_gradient),
      cmocka_unit_test(test_equivariance), cmocka_unit_test(test_ranks),
      cmocka_unit_test(test_stream), cmocka_unit_test(test_file)};
  int fail = cmocka_run_group_tests(tests, NULL, NULL), all = 0;
  MPI_Allreduce(&fail, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return all ? 1 : 0;
}
