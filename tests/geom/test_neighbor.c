/* Tests of the cell-list neighbour builder against brute force over an
 * explicitly enumerated, generous range of images, for random triclinic
 * cells (including very skewed ones), every periodicity pattern, cutoffs
 * below and well above the cell size, and edge cases. */
#include <math.h>
#include <string.h>

#include "nhtest.h"
#include "nhtest_diamond.h"
#include "nextham/neighbor.h"

/* cmocka 1.1 has no floating-point assertion */
#define assert_near(a, b, tol)                                                 \
  do {                                                                         \
    double nh_t_a_ = (a), nh_t_b_ = (b);                                       \
    if (!(fabs(nh_t_a_ - nh_t_b_) <= (tol)))                                   \
      fprintf(stderr, "%s = %.17g, expected %.17g\n", #a, nh_t_a_, nh_t_b_);   \
    assert_true(fabs(nh_t_a_ - nh_t_b_) <= (tol));                             \
  } while (0)

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double urand(void) { /* xorshift64*, uniform in [0, 1) */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

static void rotate(double lat[3][3], int axis, double t) {
  int p = (axis + 1) % 3, q = (axis + 2) % 3;
  for (int k = 0; k < 3; k++) {
    double u = lat[k][p], v = lat[k][q];
    lat[k][p] = cos(t) * u - sin(t) * v;
    lat[k][q] = sin(t) * u + cos(t) * v;
  }
}

/* Random cell: lengths 4..10 bohr, angles 50..130 degrees (rejecting
 * impossible triples), then a random rotation so no vector is axis-aligned. */
static void random_lattice(double lat[3][3]) {
  double len[3], ca, cb, cg, g;
  for (;;) {
    for (int k = 0; k < 3; k++) len[k] = 4 + 6 * urand();
    ca = cos((50 + 80 * urand()) * M_PI / 180);
    cb = cos((50 + 80 * urand()) * M_PI / 180);
    cg = cos((50 + 80 * urand()) * M_PI / 180);
    g = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg;
    if (g > 0.05) break;
  }
  double sg = sqrt(1 - cg * cg);
  double a[3][3] = {{len[0], 0, 0},
                    {len[1] * cg, len[1] * sg, 0},
                    {len[2] * cb, len[2] * (ca - cb * cg) / sg,
                     len[2] * sqrt(g) / sg}};
  memcpy(lat, a, sizeof a);
  for (int axis = 0; axis < 3; axis++) rotate(lat, axis, 2 * M_PI * urand());
}

static nh_structure *make_structure(int n, const double lat[3][3],
                                    const int pbc[3]) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_create(n, &s));
  memcpy(s->lattice, lat, sizeof s->lattice);
  memcpy(s->pbc, pbc, sizeof s->pbc);
  for (int a = 0; a < n; a++) s->z[a] = 14;
  return s;
}

/* Random positions with fractional coordinates in [-1.5, 2.5): the builder
 * must wrap them itself. */
static nh_structure *random_structure(int n, const double lat[3][3],
                                      const int pbc[3]) {
  nh_structure *s = make_structure(n, lat, pbc);
  for (int a = 0; a < n; a++) {
    double f[3] = {4 * urand() - 1.5, 4 * urand() - 1.5, 4 * urand() - 1.5};
    nh_lattice_to_cart(s->lattice, f, s->pos[a]);
  }
  return s;
}

/* All (i, j, n) with |tau_j + n.A - tau_i| < rcut, n_k over a range wider
 * than needed: 2 + rcut / (plane distance) along periodic directions. */
static nh_pair *brute_force(const nh_structure *s, double rcut,
                            int include_self, int64_t *npairs) {
  int N = s->natoms, m[3] = {0, 0, 0};
  double(*tau)[3] = malloc(N * sizeof *tau), recip[3][3];
  nh_structure_wrap_cp2k(s, tau);
  assert_nh_ok(nh_lattice_reciprocal(s->lattice, recip));
  for (int k = 0; k < 3; k++)
    if (s->pbc[k])
      m[k] = 2 + (int)(rcut * sqrt(recip[k][0] * recip[k][0] +
                                   recip[k][1] * recip[k][1] +
                                   recip[k][2] * recip[k][2]));
  size_t cap = 1024, np = 0;
  nh_pair *p = malloc(cap * sizeof *p);
  int n[3];
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      for (n[0] = -m[0]; n[0] <= m[0]; n[0]++)
        for (n[1] = -m[1]; n[1] <= m[1]; n[1]++)
          for (n[2] = -m[2]; n[2] <= m[2]; n[2]++) {
            int self = i == j && !n[0] && !n[1] && !n[2];
            if (self && !include_self) continue;
            double d[3], r2 = 0;
            for (int c = 0; c < 3; c++) {
              d[c] = tau[j][c] + n[0] * s->lattice[0][c] +
                     n[1] * s->lattice[1][c] + n[2] * s->lattice[2][c] -
                     tau[i][c];
              r2 += d[c] * d[c];
            }
            if (r2 >= rcut * rcut) continue;
            if (np == cap) p = realloc(p, (cap *= 2) * sizeof *p);
            p[np] = (nh_pair){.i = i, .j = j, .n = {n[0], n[1], n[2]},
                              .d = {d[0], d[1], d[2]}, .r = sqrt(r2)};
            np++;
          }
  qsort(p, np, sizeof *p, nh_pair_cmp);
  free(tau);
  *npairs = (int64_t)np;
  return p;
}

/* The list must equal brute force: same keys in the same (sorted) order,
 * same d and r to 1e-12 bohr. Returns the number of pairs. */
static int64_t check_against_brute(const nh_structure *s, double rcut,
                                   int include_self) {
  nh_neighbors *nl = NULL;
  assert_nh_ok(nh_neighbors_build_periodic(s, rcut, include_self, &nl));
  int64_t nref;
  nh_pair *ref = brute_force(s, rcut, include_self, &nref);
  if (nl->npairs != nref)
    fprintf(stderr, "pbc %d%d%d rcut %g: %lld pairs, brute force %lld\n",
            s->pbc[0], s->pbc[1], s->pbc[2], rcut, (long long)nl->npairs,
            (long long)nref);
  assert_int_equal(nl->npairs, nref);
  double maxdiff = 0;
  for (int64_t q = 0; q < nref; q++) {
    const nh_pair *a = &nl->pairs[q], *b = &ref[q];
    assert_int_equal(nh_pair_cmp(a, b), 0);
    for (int c = 0; c < 3; c++) maxdiff = fmax(maxdiff, fabs(a->d[c] - b->d[c]));
    maxdiff = fmax(maxdiff, fabs(a->r - b->r));
    assert_true(a->r < rcut);
  }
  assert_true(maxdiff < 1e-12);
  assert_near(nl->rcut, rcut, 0);
  free(ref);
  nh_neighbors_destroy(&nl);
  assert_null(nl);
  return nref;
}

/* Smallest distance between lattice planes and largest cell vector. */
static void cell_scales(const double lat[3][3], double *hmin, double *lmax) {
  double recip[3][3];
  assert_nh_ok(nh_lattice_reciprocal(lat, recip));
  *hmin = INFINITY;
  *lmax = 0;
  for (int k = 0; k < 3; k++) {
    double b = sqrt(recip[k][0] * recip[k][0] + recip[k][1] * recip[k][1] +
                    recip[k][2] * recip[k][2]);
    *hmin = fmin(*hmin, 1 / b);
    *lmax = fmax(*lmax, sqrt(lat[k][0] * lat[k][0] + lat[k][1] * lat[k][1] +
                             lat[k][2] * lat[k][2]));
  }
}

static const int patterns[][3] = {{1, 1, 1}, {1, 1, 0}, {1, 0, 0},
                                  {0, 0, 0}, {0, 1, 1}, {1, 0, 1}};

static void test_random_cells(void **state) {
  (void)state;
  int64_t total = 0;
  for (int trial = 0; trial < 6; trial++) {
    double lat[3][3], hmin, lmax;
    random_lattice(lat);
    cell_scales(lat, &hmin, &lmax);
    for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
      nh_structure *s = random_structure(7 + trial, lat, patterns[p]);
      total += check_against_brute(s, 0.8 * hmin, 0);
      total += check_against_brute(s, 2.5 * lmax, trial % 2);
      nh_structure_destroy(&s);
    }
  }
  assert_true(total > 10000); /* the cases are not vacuous */
}

/* A unimodular transform of a cubic lattice: the same lattice, but a cell
 * whose vectors make angles far from 90 degrees (down to ~10 degrees). */
static void test_skewed_cell(void **state) {
  (void)state;
  const double a = 6.0;
  const double lat[3][3] = {{a, 0, 0}, {3 * a, a, 0}, {-2 * a, 4 * a, a}};
  for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
    nh_structure *s = random_structure(6, lat, patterns[p]);
    check_against_brute(s, 0.9 * a, 0);
    check_against_brute(s, 2.2 * a, 1);
    nh_structure_destroy(&s);
  }
  /* physics: in the skewed cell the lattice is still simple cubic, so a
   * single atom has exactly 6 neighbours at a, 12 at a sqrt2, 8 at a sqrt3 */
  const int pbc[3] = {1, 1, 1};
  nh_structure *s = make_structure(1, lat, pbc);
  s->pos[0][0] = 0.3;
  nh_neighbors *nl = NULL;
  assert_nh_ok(nh_neighbors_build_periodic(s, 1.8 * a, 0, &nl));
  int shell[3] = {0, 0, 0};
  for (int64_t q = 0; q < nl->npairs; q++)
    for (int m = 1; m <= 3; m++)
      if (fabs(nl->pairs[q].r - a * sqrt(m)) < 1e-9) shell[m - 1]++;
  assert_int_equal(nl->npairs, 26);
  assert_int_equal(shell[0], 6);
  assert_int_equal(shell[1], 12);
  assert_int_equal(shell[2], 8);
  nh_neighbors_destroy(&nl);
  nh_structure_destroy(&s);
}

/* Diamond Si: 4 nearest neighbours at a sqrt3/4, 12 next at a/sqrt2. */
static nh_structure *silicon(int rep) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_test_diamond(rep, 5.431 / NH_BOHR_ANGSTROM, &s));
  return s;
}

static void test_silicon_shells(void **state) {
  (void)state;
  const double a = 5.431 / NH_BOHR_ANGSTROM;
  for (int rep = 1; rep <= 2; rep++) {
    nh_structure *s = silicon(rep);
    int N = s->natoms;
    nh_neighbors *nl = NULL;
    assert_nh_ok(nh_neighbors_build_periodic(s, 0.55 * a, 0,
                                             &nl));
    assert_int_equal(nl->npairs, 4 * N);
    for (int64_t q = 0; q < nl->npairs; q++)
      assert_near(nl->pairs[q].r, a * sqrt(3) / 4, 1e-12);
    nh_neighbors_destroy(&nl);
    assert_nh_ok(nh_neighbors_build_periodic(s, 0.75 * a, 1, &nl));
    assert_int_equal(nl->npairs, 17 * N); /* self + 4 + 12 */
    nh_neighbors_destroy(&nl);
    check_against_brute(s, 1.2 * a, 1);
    nh_structure_destroy(&s);
  }
}

/* The self pair (i, i, 0) appears exactly when asked for, with r = 0. */
static void test_include_self(void **state) {
  (void)state;
  double lat[3][3];
  random_lattice(lat);
  const int pbc[3] = {1, 1, 0};
  nh_structure *s = random_structure(9, lat, pbc);
  nh_neighbors *with = NULL, *without = NULL;
  assert_nh_ok(nh_neighbors_build_periodic(s, 7.0, 1, &with));
  assert_nh_ok(nh_neighbors_build_periodic(s, 7.0, 0, &without));
  assert_int_equal(with->npairs, without->npairs + s->natoms);
  int nself = 0;
  for (int64_t q = 0; q < with->npairs; q++) {
    const nh_pair *p = &with->pairs[q];
    if (p->i == p->j && !p->n[0] && !p->n[1] && !p->n[2]) {
      nself++;
      assert_true(p->r == 0 && p->d[0] == 0 && p->d[1] == 0 && p->d[2] == 0);
    }
  }
  assert_int_equal(nself, s->natoms);
  for (int64_t q = 0; q < without->npairs; q++)
    assert_true(without->pairs[q].r > 0);
  nh_neighbors_destroy(&with);
  nh_neighbors_destroy(&without);
  nh_structure_destroy(&s);
}

/* One atom: only its own images; a tiny cutoff: nothing but self pairs. */
static void test_one_atom_and_tiny_cutoff(void **state) {
  (void)state;
  double lat[3][3];
  random_lattice(lat);
  const int pbc[3] = {1, 1, 1};
  nh_structure *s = random_structure(1, lat, pbc);
  int64_t n = check_against_brute(s, 25.0, 0);
  assert_true(n > 50);
  for (int self = 0; self <= 1; self++) {
    nh_neighbors *nl = NULL;
    assert_nh_ok(nh_neighbors_build_periodic(s, 1e-8, self, &nl));
    assert_int_equal(nl->npairs, self);
    nh_neighbors_destroy(&nl);
  }
  nh_structure_destroy(&s);
  s = random_structure(40, lat, pbc);
  nh_neighbors *nl = NULL;
  assert_nh_ok(nh_neighbors_build_periodic(s, 1e-6, 1, &nl));
  assert_int_equal(nl->npairs, 40);
  for (int64_t q = 0; q < nl->npairs; q++) assert_int_equal(nl->pairs[q].i, q);
  nh_neighbors_destroy(&nl);
  nh_structure_destroy(&s);
}

/* Atoms exactly on cell faces, edges and corners (fractional 0, +-0.5, 1):
 * a simple cubic arrangement with spacing a/2; pairs at exactly rcut are
 * excluded (r < rcut). */
static void test_boundaries(void **state) {
  (void)state;
  const double a = 8.0;
  const double lat[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, a}};
  const int pbc[3] = {1, 1, 1};
  nh_structure *s = make_structure(8, lat, pbc);
  for (int k = 0; k < 8; k++) {
    double f[3];
    for (int c = 0; c < 3; c++) f[c] = 0.5 * ((k >> c) & 1);
    if (k % 3 == 0) f[0] += 1; /* 1.0 or 1.5 */
    if (k % 3 == 1) f[1] -= 1; /* -1.0 or -0.5 */
    nh_lattice_to_cart(s->lattice, f, s->pos[k]);
  }
  nh_neighbors *nl = NULL;
  assert_nh_ok(nh_neighbors_build_periodic(s, 0.5 * a, 0, &nl));
  assert_int_equal(nl->npairs, 0); /* the spacing equals rcut: excluded */
  nh_neighbors_destroy(&nl);
  assert_nh_ok(nh_neighbors_build_periodic(s, 0.5 * a * (1 + 1e-9), 0, &nl));
  assert_int_equal(nl->npairs, 8 * 6);
  nh_neighbors_destroy(&nl);
  check_against_brute(s, 0.5 * a * (1 + 1e-9), 1);
  check_against_brute(s, 1.3 * a, 0);
  const int slab[3] = {1, 1, 0};
  memcpy(s->pbc, slab, sizeof slab);
  check_against_brute(s, 1.3 * a, 0);
  nh_structure_destroy(&s);
}

/* The explicit-point builder: centres first, ghosts after; keys come from
 * gid and image, not from point indices. */
static void test_explicit_points(void **state) {
  (void)state;
  const double x[4][3] = {{0, 0, 0}, {1.5, 0, 0}, {0, 2.5, 0}, {-1, 0, 0}};
  const int64_t gid[4] = {7, 3, 3, 7};
  const int image[4][3] = {{0, 0, 0}, {0, 0, 0}, {0, 1, 0}, {-1, 0, 0}};
  nh_neighbors *nl = NULL;
  assert_nh_ok(nh_neighbors_build(2, 4, x, gid, image, 2.0, 0, &nl));
  /* centre 3 (point 1): 7 at d -1.5; centre 7 (point 0): 3 at 1.5, 7(-1) */
  assert_int_equal(nl->npairs, 3);
  assert_int_equal(nl->pairs[0].i, 3);
  assert_int_equal(nl->pairs[0].j, 7);
  assert_near(nl->pairs[0].d[0], -1.5, 0);
  assert_int_equal(nl->pairs[1].i, 7);
  assert_int_equal(nl->pairs[1].j, 3);
  assert_int_equal(nl->pairs[2].j, 7);
  assert_int_equal(nl->pairs[2].n[0], -1);
  assert_near(nl->pairs[2].r, 1.0, 0);
  nh_neighbors_destroy(&nl);
  assert_nh_fails(nh_neighbors_build(2, 4, x, gid, image, 0.0, 0, &nl),
                  NH_ERR_ARG, "cutoff must be positive");
  assert_nh_ok(nh_neighbors_build(0, 0, x, gid, image, 1.0, 1, &nl));
  assert_int_equal(nl->npairs, 0);
  nh_neighbors_destroy(&nl);
}

static void test_image_range(void **state) {
  (void)state;
  const double lat[3][3] = {{10, 0, 0}, {0, 10, 0}, {0, 0, 4}};
  const int pbc[3] = {1, 1, 0};
  int lo[3], hi[3];
  nh_image_range(lat, pbc, 5.0, lo, hi);
  assert_int_equal(hi[0], 1);
  assert_int_equal(lo[1], -1);
  assert_int_equal(hi[2], 0); /* not periodic */
  nh_image_range(lat, pbc, 25.0, lo, hi);
  assert_int_equal(hi[0], 3);
  assert_int_equal(lo[0], -3);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_image_range),
    cmocka_unit_test(test_explicit_points),
    cmocka_unit_test(test_random_cells),
    cmocka_unit_test(test_skewed_cell),
    cmocka_unit_test(test_silicon_shells),
    cmocka_unit_test(test_include_self),
    cmocka_unit_test(test_one_atom_and_tiny_cutoff),
    cmocka_unit_test(test_boundaries),
};
NH_TEST_MAIN(tests)
