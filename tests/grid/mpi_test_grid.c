/* Tests of the grid part of H0 (src/grid, docs/grid.md), run with 1, 2
 * and 3 ranks: the quadrature against analytic Gaussian integrals (V = 1
 * gives S; a Gaussian potential gives the three-centre integrals of
 * nh_int_gth_loc_add), rank-count independence, rotation covariance and the
 * GGA matrix elements against finite differences of E_xc. The atomic
 * densities and potentials here are analytic Gaussians (test data only). */
#include <math.h>
#include <string.h>

#include "nhtest.h"

#include "gridimpl.h"
#include "nextham/irreps.h"
#include "nextham/neighbor.h"
#include "nextham/structure.h"

/* ------------------------------------------------------------- helpers */

/* Gaussian test species: rho = q (a/pi)^(3/2) exp(-a r^2),
 * V = c exp(-r^2 / (2 rl^2)), cut where below 1e-15. */
typedef struct gauss {
  double q, a, c, rl;
} gauss;

static double g_rho(const void *d, double r, double *dr) {
  const gauss *g = d;
  double f = g->q * pow(g->a / M_PI, 1.5) * exp(-g->a * r * r);
  if (dr)
    *dr = -2 * g->a * r * f;
  return f;
}

static double g_vna(const void *d, double r, double *dr) {
  const gauss *g = d;
  double f = g->c * exp(-r * r / (2 * g->rl * g->rl));
  if (dr)
    *dr = -r / (g->rl * g->rl) * f;
  return f;
}

static const gauss G_O = {6, 1.2, -3.0, 0.7}, G_H = {1, 0.9, -1.0, 0.5},
                   G_SI = {4, 0.5, -1.5, 0.9};

static nh_grid_species SP[NH_MAX_Z + 1];
static const nh_grid_species *SPP[NH_MAX_Z + 1];

static void species_init(void) {
  const gauss *g[3] = {&G_O, &G_H, &G_SI};
  const int z[3] = {8, 1, 14};
  for (int k = 0; k < 3; k++) {
    double rr = sqrt(log(g[k]->q * pow(g[k]->a / M_PI, 1.5) / 1e-15) / g[k]->a);
    double rv = g[k]->rl * sqrt(2 * log(fabs(g[k]->c) / 1e-15));
    SP[z[k]].rho = (nh_grid_fn){g_rho, g[k], rr};
    SP[z[k]].vna = (nh_grid_fn){g_vna, g[k], rv};
    SPP[z[k]] = &SP[z[k]];
  }
  /* Si: a potential exponent as for a GTH rloc of 0.41 bohr (the hybrid
   * scheme's core radius r1 = 2.5 rloc = 1.02 bohr; the others estimate it
   * from V: 1/rl^2) */
  SP[14].alpha = 3.0;
}

static nh_basis *basis(void) {
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  assert_nh_ok(nh_basis_load(b, 1, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  assert_nh_ok(nh_basis_load(b, 8, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  assert_nh_ok(nh_basis_load(b, 14, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  return b;
}

/* H2O of tests/data/cp2k/h2o in a 7 Å box, rotated by R (row-major) about
 * the O atom, periodic or not. */
static nh_structure *h2o(int pbc, const double *R) {
  static const double x[3][3] = {
      {0, 0, 0.1173}, {0, 0.7572, -0.4692}, {0, -0.7572, -0.4692}};
  static const int z[3] = {8, 1, 1};
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_create(3, &s));
  for (int d = 0; d < 3; d++) {
    s->lattice[d][d] = 7.0 / NH_BOHR_ANGSTROM;
    s->pbc[d] = pbc;
  }
  for (int a = 0; a < 3; a++) {
    double v[3];
    for (int d = 0; d < 3; d++)
      v[d] = (x[a][d] - x[0][d]) / NH_BOHR_ANGSTROM;
    for (int d = 0; d < 3; d++) {
      double r = R ? R[3 * d] * v[0] + R[3 * d + 1] * v[1] + R[3 * d + 2] * v[2]
                   : v[d];
      s->pos[a][d] = x[0][d] / NH_BOHR_ANGSTROM + r;
    }
    s->z[a] = z[a];
  }
  return s;
}

/* Si2, primitive fcc cell (a = 5.43 Å), periodic. */
static nh_structure *si2(void) {
  nh_structure *s = NULL;
  double a = 5.43 / NH_BOHR_ANGSTROM, h = 0.5 * a;
  double lat[3][3] = {{0, h, h}, {h, 0, h}, {h, h, 0}};
  assert_nh_ok(nh_structure_create(2, &s));
  memcpy(s->lattice, lat, sizeof lat);
  for (int d = 0; d < 3; d++)
    s->pos[1][d] = 0.25 * a;
  s->z[0] = s->z[1] = 14;
  return s;
}

/* One grid run on a communicator. */
typedef struct run {
  nh_ctx ctx;
  nh_domain *dom;
  nh_mat *m;
  nh_grid_stats st;
} run;

static void run_grid(MPI_Comm comm, const nh_structure *s, const nh_basis *b,
                     int terms, const nh_grid_opts *o, run *r) {
  int norb[NH_MAX_Z + 1];
  memset(r, 0, sizeof *r);
  assert_nh_ok(nh_ctx_init(comm, &r->ctx));
  r->ctx.verbosity = 0;
  double halo = nh_grid_halo(b, SPP, o);
  assert_nh_ok(nh_domain_create(&r->ctx, s, NULL, halo, &r->dom));
  nh_basis_norb_table(b, norb);
  assert_nh_ok(nh_mat_create(r->dom, norb, "V", &r->m));
  assert_nh_ok(nh_grid_integrate(r->dom, b, SPP, terms, o, r->m, &r->st));
}

static void run_free(run *r) {
  nh_mat_destroy(&r->m);
  nh_domain_destroy(&r->dom);
}

/* Analytic shells of every element of b (exact integrals). */
typedef struct ashells {
  nh_int_shell sh[NH_MAX_Z + 1][16];
  int n[NH_MAX_Z + 1];
} ashells;

static void ashells_init(const nh_basis *b, ashells *a) {
  memset(a, 0, sizeof *a);
  for (int z = 1; z <= NH_MAX_Z; z++)
    if (b->elem[z] && b->elem[z]->nshell) {
      assert_true(b->elem[z]->nshell <= 16);
      assert_nh_ok(nh_int_prepare(b->elem[z]->shells, b->elem[z]->nshell, 0,
                                  a->sh[z]));
      a->n[z] = b->elem[z]->nshell;
    }
}

/* Position tau_j + n.A of atom j (CP2K-wrapped). */
static void image_pos(const nh_structure *s, const double (*tau)[3], int64_t j,
                      const int n[3], double x[3]) {
  for (int d = 0; d < 3; d++)
    x[d] = tau[j][d] + n[0] * s->lattice[0][d] + n[1] * s->lattice[1][d] +
           n[2] * s->lattice[2][d];
}

/* The analytic block of (i, j, n): S if gaussv is 0, else the Gaussian
 * potentials of all atoms and their periodic images within 16 bohr of
 * both atoms (the potentials are below 1e-50 there). */
static void ref_block(const nh_structure *s, const double (*tau)[3],
                      const ashells *as, nh_int_work *w, const nh_block_key *k,
                      int gaussv, double *out) {
  int zi = s->z[k->i], zj = s->z[k->j], nc = 0;
  double rb[3];
  for (int t = 0; t < as->n[zj]; t++)
    nc += 2 * as->sh[zj][t].l + 1;
  image_pos(s, tau, k->j, k->n, rb);
  if (!gaussv) {
    assert_nh_ok(nh_int_atoms(w, NH_INT_OVERLAP, as->sh[zi], as->n[zi],
                              tau[k->i], as->sh[zj], as->n[zj], rb,
                              NH_INT_EXACT, out, NULL, nc));
    return;
  }
  int nr = 0;
  for (int t = 0; t < as->n[zi]; t++)
    nr += 2 * as->sh[zi][t].l + 1;
  memset(out, 0, (size_t)nr * nc * sizeof *out);
  int nmax[3];
  for (int d = 0; d < 3; d++)
    nmax[d] = s->pbc[d] ? 4 : 0;
  for (int c = 0; c < s->natoms; c++) {
    const gauss *g = SP[s->z[c]].vna.data;
    nh_gth pp;
    memset(&pp, 0, sizeof pp);
    pp.rloc = g->rl;
    pp.nloc = 1;
    pp.cloc[0] = g->c;
    int m[3];
    for (m[0] = -nmax[0]; m[0] <= nmax[0]; m[0]++)
      for (m[1] = -nmax[1]; m[1] <= nmax[1]; m[1]++)
        for (m[2] = -nmax[2]; m[2] <= nmax[2]; m[2]++) {
          double xc[3], da = 0, db = 0;
          image_pos(s, tau, c, m, xc);
          for (int d = 0; d < 3; d++) {
            da += (xc[d] - tau[k->i][d]) * (xc[d] - tau[k->i][d]);
            db += (xc[d] - rb[d]) * (xc[d] - rb[d]);
          }
          if (da > 256 || db > 256)
            continue;
          assert_nh_ok(nh_int_gth_loc_add(w, &pp, xc, as->sh[zi], as->n[zi],
                                          tau[k->i], as->sh[zj], as->n[zj],
                                          rb, out, nc));
        }
  }
}

/* Max |grid - analytic| over all blocks of all ranks; also checks that
 * every pair closer than rmin has a block. */
static double compare_analytic(const run *r, const nh_structure *s,
                               const nh_basis *b, int gaussv, double rmin) {
  ashells *as = malloc(sizeof *as);
  nh_int_work *w = NULL;
  double (*tau)[3] = malloc((size_t)s->natoms * sizeof *tau), err = 0, gerr;
  double ref[64 * 64];
  ashells_init(b, as);
  assert_nh_ok(nh_int_work_create(&w));
  nh_structure_wrap_cp2k(s, tau);
  for (int64_t k = 0; k < nh_mat_nblocks(r->m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(r->m, k, &key, &v);
    ref_block(s, (const double(*)[3])tau, as, w, &key, gaussv, ref);
    int n = nh_mat_norb(r->m, key.i) * nh_mat_norb(r->m, key.j);
    for (int e = 0; e < n; e++)
      err = fmax(err, fabs(v[e] - ref[e]));
  }
  nh_neighbors *nl = NULL;
  assert_nh_ok(nh_neighbors_build_periodic(s, rmin, 1, &nl));
  const nh_atoms *at = nh_domain_atoms(r->dom);
  for (int64_t p = 0; p < nl->npairs; p++)
    if (nh_domain_local_index(r->dom, nl->pairs[p].i) >= 0)
      assert_non_null(nh_mat_get_block(r->m, nl->pairs[p].i, nl->pairs[p].j,
                                       nl->pairs[p].n));
  (void)at;
  nh_neighbors_destroy(&nl);
  nh_int_work_destroy(&w);
  free(tau);
  free(as);
  MPI_Allreduce(&err, &gerr, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return gerr;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  if (nh_test_ctx()->rank)
    return;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
}

/* --------------------------------------------------------------- tests */

/* V = 1 gives the overlap matrix; the error falls with the spacing. */
static void test_unit_gives_overlap(void **state) {
  (void)state;
  nh_basis *b = basis();
  nh_grid_opts o;
  nh_structure *mol = h2o(0, NULL), *si = si2();
  double prev = HUGE_VAL;
  const double acc_ev[2] = {1e-1, 1e-2};
  for (int k = 0; k < 2; k++) {
    run r;
    nh_grid_opts_default(&o);
    o.accuracy = acc_ev[k] / NH_HARTREE_EV;
    run_grid(MPI_COMM_WORLD, mol, b, NH_GRID_UNIT, &o, &r);
    double e = compare_analytic(&r, mol, b, 0, 6.0);
    say("  H2O  V=1 vs S: accuracy %.0e eV  h = %.4f bohr  %lld points  "
        "max err %.2e (%.2e eV)\n",
        acc_ev[k], r.st.spacing, (long long)r.st.npoints, e,
        e * NH_HARTREE_EV);
    assert_true(e < fmin(prev, 1.01 * o.accuracy));
    prev = e;
    run_free(&r);
  }
  /* periodic Si2, every image block. S (products of two diffuse functions
   * reaching through many cells) is a harder integrand for the atomic
   * grids than the potentials, which decay fast: within 3x the target
   * there (docs/grid.md), within the target on the uniform grid. */
  static const char *name[3] = {"atomic", "uniform", "hybrid"};
  for (int scheme = 0; scheme < 3; scheme++) {
    run r;
    nh_grid_opts_default(&o);
    o.accuracy = 1e-2 / NH_HARTREE_EV;
    o.scheme = scheme;
    run_grid(MPI_COMM_WORLD, si, b, NH_GRID_UNIT, &o, &r);
    double e = compare_analytic(&r, si, b, 0, 12.0);
    say("  Si2  V=1 vs S (all images), %s grid: %lld points  max err %.2e "
        "Ha\n",
        name[scheme], (long long)r.st.npoints, e);
    assert_true(e < (scheme == NH_GRID_ATOMIC ? 3 : 1) * o.accuracy);
    run_free(&r);
  }
  nh_structure_destroy(&mol);
  nh_structure_destroy(&si);
  nh_basis_destroy(&b);
}

/* A Gaussian potential on every atom against the analytic three-centre
 * integrals. */
static void test_gaussian_potential(void **state) {
  (void)state;
  nh_basis *b = basis();
  nh_grid_opts o;
  nh_structure *mol = h2o(0, NULL), *si = si2();
  for (int scheme = NH_GRID_ATOMIC; scheme <= NH_GRID_HYBRID; scheme += 2) {
    nh_grid_opts_default(&o);
    o.accuracy = 1e-2 / NH_HARTREE_EV;
    o.scheme = scheme;
    run r;
    /* hybrid: periodic Si2 (in H2O the O-H bond leaves little room for the
     * switches: a fine uniform grid, too slow for a unit test) */
    const nh_structure *st = scheme == NH_GRID_HYBRID ? si : mol;
    run_grid(MPI_COMM_WORLD, st, b, NH_GRID_VNA, &o, &r);
    double e = compare_analytic(&r, st, b, 1, 6.0);
    say("  %s  Gaussian V vs three-centre integrals, %s: %lld points  max "
        "err %.2e Ha (%.2e eV)\n",
        scheme ? "Si2" : "H2O", scheme ? "hybrid" : "atomic",
        (long long)r.st.npoints, e, e * NH_HARTREE_EV);
    assert_true(e < o.accuracy);
    double nrm;
    assert_nh_ok(nh_mat_norm_max(r.m, &nrm));
    assert_true(nrm > 0.5); /* the potential is not trivially small */
    run_free(&r);
  }
  nh_structure_destroy(&mol);
  nh_structure_destroy(&si);
  nh_basis_destroy(&b);
}

/* The distributed result equals the one-rank result (computed by every
 * rank on MPI_COMM_SELF) to round-off: periodic H2O, all terms. */
static void test_rank_independence(void **state) {
  (void)state;
  nh_basis *b = basis();
  nh_grid_opts o;
  nh_structure *h2op = h2o(1, NULL), *si = si2();
  for (int scheme = NH_GRID_ATOMIC; scheme <= NH_GRID_HYBRID; scheme += 2) {
  const nh_structure *mol = scheme == NH_GRID_HYBRID ? si : h2op;
  nh_grid_opts_default(&o);
  o.accuracy = 1e-1 / NH_HARTREE_EV;
  o.scheme = scheme;
  run rw, rs;
  run_grid(MPI_COMM_WORLD, mol, b, NH_GRID_VNA | NH_GRID_VXC, &o, &rw);
  run_grid(MPI_COMM_SELF, mol, b, NH_GRID_VNA | NH_GRID_VXC, &o, &rs);
  double err = 0, gerr;
  int64_t nw, ns;
  for (int64_t k = 0; k < nh_mat_nblocks(rw.m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(rw.m, k, &key, &v);
    const double *u = nh_mat_get_block(rs.m, key.i, key.j, key.n);
    assert_non_null(u);
    int n = nh_mat_norb(rw.m, key.i) * nh_mat_norb(rw.m, key.j);
    for (int e = 0; e < n; e++)
      err = fmax(err, fabs(v[e] - u[e]));
  }
  assert_nh_ok(nh_mat_global_size(rw.m, &nw, NULL));
  ns = nh_mat_nblocks(rs.m);
  MPI_Allreduce(&err, &gerr, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  say("  periodic %s, V_na + V_xc, %s: %lld blocks, %d ranks vs 1: max "
      "diff %.2e Ha\n",
      scheme ? "Si2" : "H2O", scheme ? "hybrid" : "atomic", (long long)nw,
      nh_test_ctx()->size, gerr);
  assert_int_equal(nw, ns);
  assert_true(gerr < 1e-12);
  double sym;
  assert_nh_ok(nh_mat_symmetry_error(rw.m, &sym));
  assert_true(sym < 1e-13);
  run_free(&rw);
  run_free(&rs);
  }
  nh_structure_destroy(&h2op);
  nh_structure_destroy(&si);
  nh_basis_destroy(&b);
}

/* Block of atom pair (i, j) rotated: D_i M D_j^T, D block-diagonal over
 * the shells with the Wigner D^l of R. */
static void rotate_block(const nh_basis *b, int zi, int zj, const double *D,
                         const double *m, double *out) {
  const nh_element_basis *ei = b->elem[zi], *ej = b->elem[zj];
  int nr = ei->norb, nc = ej->norb;
  memset(out, 0, (size_t)nr * nc * sizeof *out);
  for (int s = 0, oi = 0; s < ei->nshell; oi += 2 * ei->shells[s].l + 1, s++)
    for (int t = 0, oj = 0; t < ej->nshell;
         oj += 2 * ej->shells[t].l + 1, t++) {
      int li = ei->shells[s].l, lj = ej->shells[t].l;
      const double *Di = D + nh_irreps_wigner_off(li),
                   *Dj = D + nh_irreps_wigner_off(lj);
      for (int a = 0; a < 2 * li + 1; a++)
        for (int c = 0; c < 2 * lj + 1; c++) {
          double v = 0;
          for (int p = 0; p < 2 * li + 1; p++)
            for (int q = 0; q < 2 * lj + 1; q++)
              v += Di[a * (2 * li + 1) + p] * m[(oi + p) * nc + oj + q] *
                   Dj[c * (2 * lj + 1) + q];
          out[(oi + a) * nc + oj + c] = v;
        }
    }
}

/* Largest |M'(i,j) - D M(i,j) D^T| over all blocks (a, b non-periodic H2O
 * at the same atoms), on MPI_COMM_SELF. */
static double rotation_error(const nh_basis *b, const double *R, int terms,
                             const nh_grid_opts *o) {
  nh_structure *m0 = h2o(0, NULL), *m1 = h2o(0, R);
  double D[NH_IRREPS_LMAX * NH_IRREPS_LMAX * NH_IRREPS_LMAX], err = 0;
  double rot[64 * 64];
  assert_nh_ok(nh_irreps_wigner(2, R, D));
  run r0, r1;
  run_grid(MPI_COMM_SELF, m0, b, terms, o, &r0);
  run_grid(MPI_COMM_SELF, m1, b, terms, o, &r1);
  for (int64_t k = 0; k < nh_mat_nblocks(r0.m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(r0.m, k, &key, &v);
    const double *u = nh_mat_get_block(r1.m, key.i, key.j, key.n);
    assert_non_null(u);
    rotate_block(b, m0->z[key.i], m0->z[key.j], D, v, rot);
    int n = b->elem[m0->z[key.i]]->norb * b->elem[m0->z[key.j]]->norb;
    for (int e = 0; e < n; e++)
      err = fmax(err, fabs(u[e] - rot[e]));
  }
  run_free(&r0);
  run_free(&r1);
  nh_structure_destroy(&m0);
  nh_structure_destroy(&m1);
  return err;
}

static void test_rotation(void **state) {
  (void)state;
  nh_basis *b = basis();
  /* rotation by 0.7 rad about (1, 2, 3)/|.| */
  double n[3] = {1, 2, 3}, t = 0.7, R[9];
  double nn = sqrt(14.0);
  for (int d = 0; d < 3; d++)
    n[d] /= nn;
  double c = cos(t), s = sin(t);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      R[3 * i + j] = (i == j ? c : 0) + (1 - c) * n[i] * n[j];
  R[1] -= s * n[2];
  R[2] += s * n[1];
  R[3] += s * n[2];
  R[5] -= s * n[0];
  R[6] -= s * n[1];
  R[7] += s * n[0];
  /* the convention, on the analytic S: the test's rotate_block must hold
   * to round-off there */
  {
    nh_structure *m0 = h2o(0, NULL), *m1 = h2o(0, R);
    ashells *as = malloc(sizeof *as);
    nh_int_work *w = NULL;
    double D[512], s0[64 * 64], s1[64 * 64], rot[64 * 64], e = 0;
    ashells_init(b, as);
    assert_nh_ok(nh_int_work_create(&w));
    assert_nh_ok(nh_irreps_wigner(2, R, D));
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        nh_block_key key = {.i = i, .j = j, .n = {0, 0, 0}};
        ref_block(m0, (const double(*)[3])m0->pos, as, w, &key, 0, s0);
        ref_block(m1, (const double(*)[3])m1->pos, as, w, &key, 0, s1);
        rotate_block(b, m0->z[i], m0->z[j], D, s0, rot);
        for (int k = 0; k < b->elem[m0->z[i]]->norb * b->elem[m0->z[j]]->norb;
             k++)
          e = fmax(e, fabs(s1[k] - rot[k]));
      }
    assert_true(e < 1e-12);
    nh_int_work_destroy(&w);
    free(as);
    nh_structure_destroy(&m0);
    nh_structure_destroy(&m1);
  }
  const double acc_ev[2] = {1e-1, 1e-2};
  double prev = HUGE_VAL;
  for (int k = 0; k < 2; k++) {
    nh_grid_opts o;
    nh_grid_opts_default(&o);
    o.accuracy = acc_ev[k] / NH_HARTREE_EV;
    double e = 0; /* rank 0 checks the whole molecule, the others wait */
    if (nh_test_ctx()->rank == 0)
      e = rotation_error(b, R, NH_GRID_VNA | NH_GRID_VXC, &o);
    MPI_Bcast(&e, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    say("  H2O rotated, V_na + V_xc blocks vs D V D^T: accuracy %.0e eV  "
        "max err %.2e Ha (%.2e eV)\n",
        acc_ev[k], e, e * NH_HARTREE_EV);
    assert_true(e < 2 * o.accuracy);
    assert_true(e < prev);
    prev = e;
  }
  nh_basis_destroy(&b);
}

/* <phi_i| v_xc |phi_j> = dE_xc[rho0 + eps phi_i phi_j]/d eps at 0, by a
 * fourth-order central difference on the same grid. */
static void test_xc_variational(void **state) {
  (void)state;
  nh_basis *b = basis();
  nh_structure *mol = h2o(0, NULL);
  nh_grid_opts o;
  nh_grid_opts_default(&o);
  /* tight screening (the energy is not screened, the matrix is) on a
   * small atomic grid: the check is of the GGA matrix elements, not of
   * the quadrature */
  o.accuracy = 1e-3 / NH_HARTREE_EV;
  o.radial = 30;
  o.angular = 8;
  run r;
  run_grid(MPI_COMM_WORLD, mol, b, NH_GRID_VXC, &o, &r);
  /* (atom i, orbital, atom j, orbital): O s-s, O s - O pz, O px - H s,
   * H s - H' s, O d - H p */
  const int pairs[5][4] = {{0, 0, 0, 0}, {0, 1, 0, 3}, {0, 5, 1, 0},
                           {1, 0, 2, 1}, {0, 10, 2, 3}};
  double maxrel = 0;
  for (int p = 0; p < 5; p++) {
    grid_pert pt = {.gi = pairs[p][0], .oi = pairs[p][1], .gj = pairs[p][2],
                    .oj = pairs[p][3], .nj = {0, 0, 0}};
    double e[4], h = 1e-5;
    const double f[4] = {-2, -1, 1, 2};
    for (int k = 0; k < 4; k++) {
      pt.eps = f[k] * h;
      assert_nh_ok(grid_exc(r.dom, b, SPP, &o, &pt, &e[k]));
    }
    double fd = (8 * (e[2] - e[1]) - (e[3] - e[0])) / (12 * h);
    /* the matrix element from whichever rank owns atom i */
    double v = 0, gv;
    const int n0[3] = {0, 0, 0};
    const double *blk = nh_mat_get_block(r.m, pt.gi, pt.gj, n0);
    if (blk)
      v = blk[pt.oi * nh_mat_norb(r.m, pt.gj) + pt.oj];
    MPI_Allreduce(&v, &gv, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    double rel = fabs(gv - fd) / fabs(gv);
    say("  <%d,%d|v_xc|%d,%d> = %+.10f  dE_xc/deps = %+.10f  rel %.1e\n",
        pairs[p][0], pairs[p][1], pairs[p][2], pairs[p][3], gv, fd, rel);
    assert_true(fabs(gv) > 1e-4);
    maxrel = fmax(maxrel, rel);
  }
  assert_true(maxrel < 3e-5);
  run_free(&r);
  nh_structure_destroy(&mol);
  nh_basis_destroy(&b);
}

/* A triclinic cell with 3 atoms (two elements), periodic. */
static nh_structure *triclinic(void) {
  nh_structure *s = NULL;
  double lat[3][3] = {{7.1, 0, 0}, {1.9, 6.4, 0}, {-1.3, 2.2, 6.8}};
  const double f[3][3] = {{0.1, 0.2, 0.3}, {0.45, 0.6, 0.35}, {0.8, 0.15, 0.7}};
  assert_nh_ok(nh_structure_create(3, &s));
  memcpy(s->lattice, lat, sizeof lat);
  for (int a = 0; a < 3; a++)
    for (int d = 0; d < 3; d++)
      s->pos[a][d] = f[a][0] * lat[0][d] + f[a][1] * lat[1][d] +
                     f[a][2] * lat[2][d];
  s->z[0] = 14;
  s->z[1] = 8;
  s->z[2] = 1;
  return s;
}

/* The Stratmann weights of all atoms (with images) add up to 1 at random
 * points of periodic Si2 and of a triclinic cell; an atom's weight at
 * image n is its weight at image 0 translated; every weight vanishes
 * beyond the atom-grid radius; near a nucleus the weight is 1. */
/* (200 random points, plus 6 within 0.05 bohr of a nucleus.) */
static void test_partition_of_unity(void **state) {
  (void)state;
  nh_basis *b = basis();
  nh_structure *cells[2] = {si2(), triclinic()};
  unsigned seed = 12345;
  for (int c = 0; c < 2; c++) {
    nh_grid_opts o;
    nh_grid_opts_default(&o);
    o.accuracy = 1e-2 / NH_HARTREE_EV;
    run r;
    nh_ctx ctx;
    int norb[NH_MAX_Z + 1];
    memset(&r, 0, sizeof r);
    assert_nh_ok(nh_ctx_init(MPI_COMM_SELF, &ctx));
    assert_nh_ok(nh_domain_create(&ctx, cells[c], NULL, nh_grid_halo(b, SPP, &o),
                                  &r.dom));
    nh_basis_norb_table(b, norb);
    grid_setup *g = NULL;
    assert_nh_ok(grid_setup_create(r.dom, b, SPP, NH_GRID_VNA | NH_GRID_VXC,
                                   &o, &g));
    const nh_atoms *at = g->at;
    int64_t *cand = NULL, n = 0, cap = 0;
    double maxdev = 0, maxtr = 0, rmax = 0, wfar = 0;
    for (int t = 0; t < 200; t++) {
      double f[3], x[3], sum = 0;
      for (int d = 0; d < 3; d++) {
        seed = seed * 1103515245u + 12345u;
        f[d] = (seed >> 8) / (double)(1u << 24);
      }
      nh_lattice_to_cart(g->lat, f, x);
      if (t < 6) /* near a nucleus */
        for (int d = 0; d < 3; d++)
          x[d] = at->x[t % at->nlocal][d] + 0.05 * (f[d] - 0.5);
      n = 0;
      assert_nh_ok(grid_atoms_near(g, x, g->ag.rpart, &cand, &n, &cap));
      for (int64_t k = 0; k < n; k++) {
        double w = grid_atomic_partition(g, cand[k], x, cand, n);
        assert_true(w >= 0 && w <= 1);
        sum += w;
        if (w > 0) {
          double d2 = 0;
          for (int d = 0; d < 3; d++)
            d2 += (x[d] - at->x[cand[k]][d]) * (x[d] - at->x[cand[k]][d]);
          rmax = fmax(rmax, sqrt(d2));
          if (sqrt(d2) > 6)
            wfar = fmax(wfar, w);
        }
        /* the same atom at image 0 seen from the translated point */
        int64_t a0 = -1;
        for (int64_t q = 0; q < at->nlocal; q++)
          if (at->gid[q] == at->gid[cand[k]])
            a0 = q;
        double y[3];
        for (int d = 0; d < 3; d++)
          y[d] = x[d] + at->x[a0][d] - at->x[cand[k]][d];
        int64_t *c2 = NULL, n2 = 0, cap2 = 0;
        assert_nh_ok(grid_atoms_near(g, y, g->ag.rpart, &c2, &n2, &cap2));
        if (n2 && sqrt(pow(y[0] - x[0], 2) + pow(y[1] - x[1], 2) +
                       pow(y[2] - x[2], 2)) < 2 * g->ag.rgrid)
          maxtr = fmax(maxtr, fabs(grid_atomic_partition(g, a0, y, c2, n2) - w));
        nh_free(&c2);
      }
      if (t < 6)
        assert_true(fabs(grid_atomic_partition(g, t % at->nlocal, x, cand, n) -
                         1) < 1e-15);
      maxdev = fmax(maxdev, fabs(sum - 1));
    }
    say("  %s: 200 points, |sum_A P_A - 1| <= %.1e, translation %.1e, "
        "weights > 0 up to %.2f bohr from the atom (grid radius %.2f), "
        "at most %.1e beyond 6 bohr\n",
        c ? "triclinic SiOH" : "Si2", maxdev, maxtr, rmax, g->ag.rgrid, wfar);
    assert_true(maxdev < 1e-14);
    assert_true(maxtr < 1e-12);
    assert_true(rmax < g->ag.rgrid);
    nh_free(&cand);
    grid_setup_destroy(&g);
    nh_domain_destroy(&r.dom);
    nh_structure_destroy(&cells[c]);
  }
  nh_basis_destroy(&b);
}

/* The hybrid scheme's switch: 1 inside r1, 0 outside r2, monotone, and
 * its first three derivatives vanish at both ends (C3: the uniform grid
 * sees no kink); 1 - sum_a h_a at a point near two atoms. */
static void test_hybrid_switch(void **state) {
  (void)state;
  const double r1 = 1.2, r2 = 2.7, d = 1e-3;
  assert_true(grid_hybrid_switch(0, r1, r2) == 1);
  assert_true(grid_hybrid_switch(r1, r1, r2) == 1);
  assert_true(grid_hybrid_switch(r2, r1, r2) == 0);
  assert_true(grid_hybrid_switch(5, r1, r2) == 0);
  assert_close(grid_hybrid_switch(0.5 * (r1 + r2), r1, r2), 0.5, 1e-15);
  double prev = 1;
  for (int k = 1; k <= 100; k++) {
    double h = grid_hybrid_switch(r1 + (r2 - r1) * k / 100.0, r1, r2);
    assert_true(h <= prev);
    prev = h;
  }
  /* (r - r1)^4 and (r2 - r)^4 behaviour: h(r1 + d) = 1 - O(d^4) */
  assert_true(1 - grid_hybrid_switch(r1 + d, r1, r2) < 35 * pow(d / 1.5, 4));
  assert_true(grid_hybrid_switch(r2 - d, r1, r2) < 35 * pow(d / 1.5, 4));
  assert_true(1 - grid_hybrid_switch(r1 + 0.1, r1, r2) > 1e-5);
  /* 1 - sum h over two atoms, one of them in range */
  grid_setup g;
  nh_atoms at;
  double x[2][3] = {{0, 0, 0}, {3, 0, 0}};
  int z[2] = {14, 8};
  int64_t near[2] = {0, 1};
  memset(&g, 0, sizeof g);
  memset(&at, 0, sizeof at);
  at.x = x;
  at.z = z;
  g.at = &at;
  double r2a[2] = {r2, 1.0};
  g.hyb_r1[14] = r1;
  g.hyb_r1[8] = 0.5;
  g.hyb_r2a = r2a;
  double p[3] = {0, 2.0, 0};
  assert_close(grid_hybrid_rest(&g, p, near, 2),
               1 - grid_hybrid_switch(2.0, r1, r2), 1e-15);
  double q[3] = {0.6, 0, 0}; /* inside atom 0's r1: nothing left */
  assert_true(grid_hybrid_rest(&g, q, near, 2) == 0);
}

/* Input keys and their errors. */
static void test_opts(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  nh_toml_val *t;
  nh_grid_opts o;
  const char *good = "[grid]\naccuracy = 1e-3\nspacing = 0.1\nbatch = 6\n";
  assert_nh_ok(nh_toml_parse_string("in.toml", good, strlen(good), &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "grid", &t));
  assert_nh_ok(nh_grid_opts_from_toml(doc, t, &o));
  assert_true(fabs(o.accuracy - 1e-3 / NH_HARTREE_EV) < 1e-18);
  assert_true(fabs(o.spacing - 0.1 / NH_BOHR_ANGSTROM) < 1e-15);
  assert_int_equal(o.batch, 6);
  nh_toml_destroy(&doc);
  assert_int_equal(o.scheme, NH_GRID_ATOMIC);
  const char *uni = "[grid]\nscheme = \"uniform\"\nradial = 50\n"
                    "angular = 12\n";
  assert_nh_ok(nh_toml_parse_string("in.toml", uni, strlen(uni), &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "grid", &t));
  assert_nh_ok(nh_grid_opts_from_toml(doc, t, &o));
  assert_int_equal(o.scheme, NH_GRID_UNIFORM);
  assert_int_equal(o.radial, 50);
  assert_int_equal(o.angular, 12);
  nh_toml_destroy(&doc);
  const char *hyb = "[grid]\nscheme = \"hybrid\"\n";
  assert_nh_ok(nh_toml_parse_string("in.toml", hyb, strlen(hyb), &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "grid", &t));
  assert_nh_ok(nh_grid_opts_from_toml(doc, t, &o));
  assert_int_equal(o.scheme, NH_GRID_HYBRID);
  nh_toml_destroy(&doc);
  const char *bad[3][2] = {
      {"[grid]\n\nbatch = 40\n", "in.toml:3: key 'grid.batch'"},
      {"[grid]\nscheme = \"becke\"\n", "in.toml:2: key 'grid.scheme'"},
      {"[grid]\nangular = 1\n", "in.toml:2: key 'grid.angular'"}};
  for (int k = 0; k < 3; k++) {
    assert_nh_ok(
        nh_toml_parse_string("in.toml", bad[k][0], strlen(bad[k][0]), &doc));
    assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "grid", &t));
    assert_nh_fails(nh_grid_opts_from_toml(doc, t, &o), NH_ERR_INPUT,
                    bad[k][1]);
    nh_toml_destroy(&doc);
  }
  assert_nh_ok(nh_grid_opts_from_toml(doc, NULL, &o));
  assert_true(fabs(o.accuracy * NH_HARTREE_EV - 1e-4) < 1e-15);
  assert_int_equal(o.scheme, NH_GRID_ATOMIC);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  species_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_opts),
      cmocka_unit_test(test_hybrid_switch),
      cmocka_unit_test(test_partition_of_unity),
      cmocka_unit_test(test_unit_gives_overlap),
      cmocka_unit_test(test_gaussian_potential),
      cmocka_unit_test(test_rank_independence),
      cmocka_unit_test(test_rotation),
      cmocka_unit_test(test_xc_variational),
  };
  int fail = cmocka_run_group_tests(tests, NULL, NULL), all = 0;
  MPI_Allreduce(&fail, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return all ? 1 : 0;
}
