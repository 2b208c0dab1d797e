/* Tests of the distributed block-sparse matrix (src/mat), run with 1, 2 and
 * 3 ranks. Matrices are built over the neighbour pairs of Si crystals with
 * values that are a known function of (i, j, n, row, col); every global
 * quantity is compared with the same quantity computed serially from the
 * whole-structure neighbour list, so results cannot depend on the rank
 * count. */
#include <math.h>
#include <string.h>

#include "nextham/domain.h"
#include "nextham/mat.h"
#include "nextham/neighbor.h"
#include "nhtest.h"
#include "nhtest_diamond.h"

#define assert_near(a, b, tol)                                                 \
  do {                                                                         \
    double nh_t_a_ = (a), nh_t_b_ = (b);                                       \
    if (!(fabs(nh_t_a_ - nh_t_b_) <= (tol)))                                   \
      fprintf(stderr, "%s = %.17g, expected %.17g\n", #a, nh_t_a_, nh_t_b_);   \
    assert_true(fabs(nh_t_a_ - nh_t_b_) <= (tol));                             \
  } while (0)
#define assert_rel(a, b) assert_near(a, b, 1e-12 * fabs(b))

#define A_SI (5.431 / NH_BOHR_ANGSTROM) /* conventional cubic cell, bohr */
#define RCUT 8.0 /* bohr: 1st (4.44) and 2nd (7.26) shell, not 3rd (8.51) */

static int norb_of_z[119];

/* ---------------------------------------------------------------------------
 * Values. u is a coordinate of orbital r of atom i; sym() satisfies
 * sym(j, c, i, r, -n) == sym(i, r, j, c, n) bitwise (every term is built
 * from commutative operations or exact negations), so a matrix filled with
 * it has M(-n)_ji = M(n)_ij^T exactly. asym() has no symmetry.
 * ------------------------------------------------------------------------- */
static double u(int64_t i, int r) { return 0.37 * (double)i + 1.3 * r + 0.11; }

enum { F_SYM, F_ASYM, F_OVL };

static double fval(int kind, int64_t i, int r, int64_t j, int c,
                   const int n[3]) {
  double ua = u(i, r), ub = u(j, c);
  int s = n[0] + 2 * n[1] + 3 * n[2],
      n2 = n[0] * n[0] + n[1] * n[1] + n[2] * n[2];
  switch (kind) {
  case F_SYM:
    return cos(ua + ub) + 0.5 * sin(0.01 * (ua * ub)) + 0.05 * n2 +
           0.03 * ((ua - ub) * s);
  case F_ASYM:
    return sin(ua + 2 * ub + 0.3 * n[0] - 0.2 * n[1] + 0.1 * n[2]);
  default: /* overlap-like: symmetric, decaying with |n| */
    return exp(-0.05 * ((ua - ub) * (ua - ub))) / (1.0 + n2);
  }
}

/* Checksum weight: breaks every symmetry of the index space. */
static double weight(int64_t i, int r, int64_t j, int c, const int n[3]) {
  long h = 7 * i + 13 * j + 3 * r + 5 * c + 11 * n[0] + 17 * n[1] + 19 * n[2];
  return 1.0 + (double)(((h % 10) + 10) % 10) / 10.0;
}

static void fill_block(int kind, double eps, int64_t i, int nr, int64_t j,
                       int nc, const int n[3], double *b) {
  for (int r = 0; r < nr; r++)
    for (int c = 0; c < nc; c++) {
      b[r * nc + c] = fval(kind, i, r, j, c, n);
      if (eps != 0)
        b[r * nc + c] += eps * fval(F_ASYM, i, r, j, c, n);
    }
}

/* The canonical half: i < j, or i == j with n >= 0 lexicographically. */
static int in_half(int64_t i, int64_t j, const int n[3]) {
  if (i != j)
    return i < j;
  for (int d = 0; d < 3; d++)
    if (n[d] != 0)
      return n[d] > 0;
  return 1;
}

/* ---------------------------------------------------------------------------
 * Fixture: a structure, its domain, the local neighbour list (owned atoms)
 * and the serial list of all pairs.
 * ------------------------------------------------------------------------- */
typedef struct world {
  nh_structure *s;
  nh_domain *dom;
  nh_neighbors *nl, *all;
} world;

/* Si diamond, nc^3 conventional cells; every `other`-th atom (if > 0)
 * becomes carbon, so that blocks are not all square. */
static nh_structure *diamond(int nc, int other) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_test_diamond(nc, A_SI, &s));
  for (int a = 0; other > 0 && a < s->natoms; a++)
    if (a % other == other - 1) s->z[a] = 6;
  return s;
}

/* Primitive fcc cell of zinc-blende "SiC" on the Si lattice: 2 atoms,
 * cell vectors (7.26 bohr) shorter than the cutoff, so pairs of the same
 * atoms occur in several images and i == j with n != 0. */
static nh_structure *primitive(void) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_create(2, &s));
  double h = 0.5 * A_SI;
  double lat[3][3] = {{0, h, h}, {h, 0, h}, {h, h, 0}};
  memcpy(s->lattice, lat, sizeof lat);
  for (int d = 0; d < 3; d++)
    s->pos[1][d] = 0.25 * A_SI;
  s->z[0] = 14;
  s->z[1] = 6;
  return s;
}

static world *world_create(nh_structure *s) {
  world *w = calloc(1, sizeof *w);
  w->s = s;
  assert_nh_ok(nh_domain_create(nh_test_ctx(), s, NULL, RCUT, &w->dom));
  assert_nh_ok(nh_domain_neighbors(w->dom, RCUT, 1, &w->nl));
  assert_nh_ok(nh_neighbors_build_periodic(s, RCUT, 1, &w->all));
  return w;
}

static void world_destroy(world **w) {
  nh_neighbors_destroy(&(*w)->nl);
  nh_neighbors_destroy(&(*w)->all);
  nh_domain_destroy(&(*w)->dom);
  nh_structure_destroy(&(*w)->s);
  free(*w);
  *w = NULL;
}

static int setup_si(void **state) {
  norb_of_z[14] = 13;
  norb_of_z[6] = 4;
  *state = world_create(diamond(2, 0));
  return 0;
}
static int setup_sic(void **state) {
  norb_of_z[14] = 13;
  norb_of_z[6] = 4;
  *state = world_create(primitive());
  return 0;
}
static int setup_mixed(void **state) {
  norb_of_z[14] = 13;
  norb_of_z[6] = 4;
  *state = world_create(diamond(2, 5));
  return 0;
}
static int teardown(void **state) {
  world *w = *state;
  world_destroy(&w);
  return 0;
}

static int norb_global(const world *w, int64_t a) {
  return norb_of_z[w->s->z[a]];
}

/* Sets (or adds, or sets remotely the partner of) every local pair. */
enum { PUT_SET, PUT_HALF, PUT_ADD };
static nh_mat *build(const world *w, int kind, double eps, int how) {
  nh_mat *m = NULL;
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "M", &m));
  double b[13 * 13];
  for (int64_t p = 0; p < w->nl->npairs; p++) {
    const nh_pair *q = &w->nl->pairs[p];
    if (how == PUT_HALF && !in_half(q->i, q->j, q->n))
      continue;
    int nr = nh_mat_norb(m, q->i), nc = nh_mat_norb(m, q->j);
    assert_int_equal(nr, norb_global(w, q->i));
    assert_int_equal(nc, norb_global(w, q->j));
    fill_block(kind, eps, q->i, nr, q->j, nc, q->n, b);
    if (how == PUT_ADD)
      assert_nh_ok(nh_mat_add_block(m, q->i, q->j, q->n, b));
    else
      assert_nh_ok(nh_mat_set_block(m, q->i, q->j, q->n, b));
  }
  assert_nh_ok(nh_mat_assemble(m));
  return m;
}

/* Serial references over all pairs: sum of squares, checksum, max abs,
 * number of values. */
typedef struct ref {
  double ss, check, max;
  int64_t nblocks, nvalues;
} ref;

static ref serial(const world *w, int kind, double eps, int half) {
  ref R = {0};
  double b[13 * 13];
  for (int64_t p = 0; p < w->all->npairs; p++) {
    const nh_pair *q = &w->all->pairs[p];
    if (half && !in_half(q->i, q->j, q->n))
      continue;
    int nr = norb_global(w, q->i), nc = norb_global(w, q->j);
    fill_block(kind, eps, q->i, nr, q->j, nc, q->n, b);
    for (int r = 0; r < nr; r++)
      for (int c = 0; c < nc; c++) {
        double v = b[r * nc + c];
        R.ss += v * v;
        R.check += weight(q->i, r, q->j, c, q->n) * v;
        R.max = fmax(R.max, fabs(v));
      }
    R.nblocks++;
    R.nvalues += (int64_t)nr * nc;
  }
  return R;
}

static double checksum(const nh_mat *m) {
  double s = 0, t;
  for (int64_t k = 0; k < nh_mat_nblocks(m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(m, k, &key, &v);
    int nr = nh_mat_norb(m, key.i), nc = nh_mat_norb(m, key.j);
    for (int r = 0; r < nr; r++)
      for (int c = 0; c < nc; c++)
        s += weight(key.i, r, key.j, c, key.n) * v[r * nc + c];
  }
  MPI_Allreduce(&s, &t, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return t;
}

/* Largest |M - f| over the blocks of m, all ranks. */
static double max_dev(const nh_mat *m, int kind, double eps) {
  double e = 0, g, b[13 * 13];
  for (int64_t k = 0; k < nh_mat_nblocks(m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(m, k, &key, &v);
    int nr = nh_mat_norb(m, key.i), nc = nh_mat_norb(m, key.j);
    fill_block(kind, eps, key.i, nr, key.j, nc, key.n, b);
    for (int q = 0; q < nr * nc; q++)
      e = fmax(e, fabs(v[q] - b[q]));
  }
  MPI_Allreduce(&e, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return g;
}

static void check_against_serial(const world *w, const nh_mat *m, ref R) {
  int64_t nb, nv;
  double fro, mx;
  assert_nh_ok(nh_mat_global_size(m, &nb, &nv));
  assert_int_equal(nb, R.nblocks);
  assert_int_equal(nv, R.nvalues);
  assert_nh_ok(nh_mat_norm_fro(m, &fro));
  assert_rel(fro, sqrt(R.ss));
  assert_rel(checksum(m), R.check);
  assert_nh_ok(nh_mat_norm_max(m, &mx));
  assert_true(mx == R.max);
  (void)w;
}

/* The blocks of the owned atoms come in the order of the serial list
 * (sorted by key), whatever the rank count or the order of creation. */
static void check_order(const world *w, const nh_mat *m) {
  int64_t k = 0;
  for (int64_t p = 0; p < w->all->npairs; p++) {
    const nh_pair *q = &w->all->pairs[p];
    if (nh_domain_local_index(w->dom, q->i) < 0)
      continue;
    nh_block_key key;
    assert_true(k < nh_mat_nblocks(m));
    nh_mat_block(m, k++, &key, NULL);
    assert_true(key.i == q->i && key.j == q->j);
    assert_memory_equal(key.n, q->n, sizeof key.n);
    assert_non_null(nh_mat_get_block(m, q->i, q->j, q->n));
  }
  assert_int_equal(k, nh_mat_nblocks(m));
}

/* ---------------------------------------------------------------------------
 * Tests.
 * ------------------------------------------------------------------------- */

/* Full matrix: counts, norms, checksum, block order, exact symmetry. */
static void test_build_full(void **state) {
  world *w = *state;
  nh_mat *m = build(w, F_SYM, 0, PUT_SET);
  ref R = serial(w, F_SYM, 0, 0);
  check_against_serial(w, m, R);
  assert_true(max_dev(m, F_SYM, 0) == 0);
  double e;
  assert_nh_ok(nh_mat_symmetry_error(m, &e));
  assert_true(e == 0);
  check_order(w, m);
  assert_nh_ok(nh_mat_destroy(&m));
  assert_null(m);
  assert_nh_ok(nh_mat_destroy(&m)); /* NULL handle is fine */
}

/* Diamond: 1 + 4 + 12 neighbours within 8 bohr, 13 x 13 blocks. */
static void test_diamond_counts(void **state) {
  world *w = *state;
  nh_mat *m = build(w, F_SYM, 0, PUT_SET);
  int64_t nb, nv;
  assert_nh_ok(nh_mat_global_size(m, &nb, &nv));
  assert_int_equal(nb, 64 * 17);
  assert_int_equal(nv, 64 * 17 * 169);
  nh_mat_destroy(&m);
}

/* Only the canonical half is set; "fill" must rebuild the full matrix
 * exactly (bitwise: the transposes are copies). */
static void test_symmetrize_fill(void **state) {
  world *w = *state;
  nh_mat *m = build(w, F_SYM, 0, PUT_HALF);
  ref H = serial(w, F_SYM, 0, 1), R = serial(w, F_SYM, 0, 0);
  check_against_serial(w, m, H);
  double e;
  assert_nh_ok(nh_mat_symmetry_error(m, &e));
  assert_true(e > 0.01); /* missing partners count as zero */
  assert_nh_ok(nh_mat_symmetrize(m, "fill"));
  check_against_serial(w, m, R);
  check_order(w, m);
  assert_true(max_dev(m, F_SYM, 0) == 0);
  assert_nh_ok(nh_mat_symmetry_error(m, &e));
  assert_true(e == 0);
  /* "fill" leaves existing blocks alone: an asymmetric matrix stays so. */
  nh_mat *a = build(w, F_SYM, 1e-3, PUT_SET);
  assert_nh_ok(nh_mat_symmetrize(a, "fill"));
  assert_true(max_dev(a, F_SYM, 1e-3) == 0);
  nh_mat_destroy(&a);
  nh_mat_destroy(&m);
}

/* "mean" of sym + eps*asym is sym + eps*(asym + asym^T)/2. */
static void test_symmetrize_mean(void **state) {
  world *w = *state;
  const double eps = 1e-3;
  nh_mat *m = build(w, F_SYM, eps, PUT_SET);
  double e0, e;
  assert_nh_ok(nh_mat_symmetry_error(m, &e0));
  assert_true(e0 > 1e-4 && e0 <= 2 * eps);
  /* The serial symmetry error of the same matrix. */
  double ref_e = 0, b[169], t[169];
  for (int64_t p = 0; p < w->all->npairs; p++) {
    const nh_pair *q = &w->all->pairs[p];
    int nr = norb_global(w, q->i), nc = norb_global(w, q->j);
    int mn[3] = {-q->n[0], -q->n[1], -q->n[2]};
    fill_block(F_SYM, eps, q->i, nr, q->j, nc, q->n, b);
    fill_block(F_SYM, eps, q->j, nc, q->i, nr, mn, t);
    for (int r = 0; r < nr; r++)
      for (int c = 0; c < nc; c++)
        ref_e = fmax(ref_e, fabs(b[r * nc + c] - t[c * nr + r]));
  }
  assert_true(e0 == ref_e);
  assert_nh_ok(nh_mat_symmetrize(m, "mean"));
  assert_nh_ok(nh_mat_symmetry_error(m, &e));
  assert_true(e == 0);
  double dev = 0, g;
  for (int64_t k = 0; k < nh_mat_nblocks(m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(m, k, &key, &v);
    int nr = nh_mat_norb(m, key.i), nc = nh_mat_norb(m, key.j);
    int mn[3] = {-key.n[0], -key.n[1], -key.n[2]};
    fill_block(F_SYM, eps, key.i, nr, key.j, nc, key.n, b);
    fill_block(F_SYM, eps, key.j, nc, key.i, nr, mn, t);
    for (int r = 0; r < nr; r++)
      for (int c = 0; c < nc; c++)
        dev = fmax(dev,
                   fabs(v[r * nc + c] - 0.5 * (b[r * nc + c] + t[c * nr + r])));
  }
  MPI_Allreduce(&dev, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  assert_true(g <= 1e-15);
  assert_true(max_dev(m, F_SYM, 0) <= eps);
  assert_true(max_dev(m, F_SYM, 0) > 1e-5);
  nh_mat_destroy(&m);
}

/* Asymmetry only in blocks whose partner lives on another rank (any
 * off-site block with 1 rank): rank r adds (r + 1) 1e-3 to element (0, 0)
 * of its first such block. The symmetry error is the largest of those, and
 * "mean" splits the difference between the block and its partner. */
static void test_symmetry_remote(void **state) {
  world *w = *state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_mat *m = build(w, F_SYM, 0, PUT_SET);
  double mine = 0, expect, e, *v = NULL;
  nh_block_key key = {0};
  for (int64_t k = 0; k < nh_mat_nblocks(m) && !v; k++) {
    nh_mat_block(m, k, &key, &v);
    int remote = ctx->size > 1 ? nh_domain_owner(w->dom, key.j) != ctx->rank
                               : key.i != key.j;
    if (!remote)
      v = NULL;
  }
  if (v) {
    mine = 1e-3 * (ctx->rank + 1);
    v[0] += mine;
  }
  MPI_Allreduce(&mine, &expect, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  assert_true(expect > 0);
  assert_nh_ok(nh_mat_symmetry_error(m, &e));
  assert_near(e, expect, 1e-15);
  assert_nh_ok(nh_mat_symmetrize(m, "mean"));
  assert_nh_ok(nh_mat_symmetry_error(m, &e));
  assert_true(e == 0);
  if (mine > 0) {
    int nr = nh_mat_norb(m, key.i), nc = nh_mat_norb(m, key.j);
    double b[169];
    fill_block(F_SYM, 0, key.i, nr, key.j, nc, key.n, b);
    v = nh_mat_get_block(m, key.i, key.j, key.n);
    assert_near(v[0], b[0] + 0.5 * mine, 1e-15);
    assert_near(v[1], b[1], 0);
  }
  nh_mat_destroy(&m);
}

/* Remote delivery: every rank sets its blocks locally and adds the same
 * values to the partners (j, i, -n), owned by the owners of j; each block
 * then receives exactly one remote contribution: M = 2 f. set_remote of
 * the partners alone gives M = f. On-site blocks also receive 1 on the
 * diagonal from every rank that knows the atom (owned or ghost): the sum
 * over ranks of those contributions. */
static void test_remote(void **state) {
  world *w = *state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_mat *m = NULL, *s = NULL;
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "R", &m));
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "Rs", &s));
  double b[169];
  int64_t crossing = 0;
  for (int64_t p = 0; p < w->nl->npairs; p++) {
    const nh_pair *q = &w->nl->pairs[p];
    int nr = nh_mat_norb(m, q->i), nc = nh_mat_norb(m, q->j);
    int mn[3] = {-q->n[0], -q->n[1], -q->n[2]};
    fill_block(F_SYM, 0, q->i, nr, q->j, nc, q->n, b);
    assert_nh_ok(nh_mat_set_block(m, q->i, q->j, q->n, b));
    fill_block(F_SYM, 0, q->j, nc, q->i, nr, mn, b);
    assert_nh_ok(nh_mat_add_remote(m, q->j, q->i, mn, b));
    assert_nh_ok(nh_mat_set_remote(s, q->j, q->i, mn, b));
    crossing += nh_domain_owner(w->dom, q->j) != ctx->rank;
  }
  int64_t crossing_all;
  MPI_Allreduce(&crossing, &crossing_all, 1, MPI_INT64_T, MPI_SUM,
                MPI_COMM_WORLD);
  if (ctx->size > 1)
    assert_true(crossing_all > 0);
  /* +1 on the diagonal of the on-site block of every atom known here. */
  const nh_atoms *at = nh_domain_atoms(w->dom);
  int natoms = w->s->natoms, *known = calloc(natoms, sizeof *known),
      *nknow = calloc(natoms, sizeof *nknow);
  for (int64_t k = 0; k < at->nlocal + at->nghost; k++)
    known[at->gid[k]] = 1;
  const int n0[3] = {0, 0, 0};
  for (int a = 0; a < natoms; a++) {
    if (!known[a])
      continue;
    int no = nh_mat_norb(m, a);
    memset(b, 0, sizeof b);
    for (int r = 0; r < no; r++)
      b[r * no + r] = 1;
    assert_nh_ok(nh_mat_add_remote(m, a, a, n0, b));
  }
  MPI_Allreduce(known, nknow, natoms, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  assert_nh_ok(nh_mat_assemble(m));
  assert_nh_ok(nh_mat_assemble(s));
  assert_true(max_dev(s, F_SYM, 0) == 0);
  check_order(w, m);
  check_order(w, s);
  double dev = 0, g;
  for (int64_t k = 0; k < nh_mat_nblocks(m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(m, k, &key, &v);
    int nr = nh_mat_norb(m, key.i), nc = nh_mat_norb(m, key.j);
    fill_block(F_SYM, 0, key.i, nr, key.j, nc, key.n, b);
    int onsite = key.i == key.j && !key.n[0] && !key.n[1] && !key.n[2];
    for (int r = 0; r < nr; r++)
      for (int c = 0; c < nc; c++) {
        double x = 2 * b[r * nc + c] + (onsite && r == c ? nknow[key.i] : 0);
        dev = fmax(dev, fabs(v[r * nc + c] - x));
      }
  }
  MPI_Allreduce(&dev, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  assert_true(g <= 1e-14); /* on-site: contributions summed in rank order */
  int64_t nb, nbs;
  assert_nh_ok(nh_mat_global_size(m, &nb, NULL));
  assert_nh_ok(nh_mat_global_size(s, &nbs, NULL));
  assert_int_equal(nb, w->all->npairs);
  assert_int_equal(nbs, w->all->npairs);
  free(known);
  free(nknow);
  nh_mat_destroy(&m);
  nh_mat_destroy(&s);
}

/* Delivery order is source rank, then call order. Every rank that knows
 * atom 0 sends, for its on-site block, set (r + 1)/2, set r + 1, add
 * (r + 1)/2: the last such rank's records come last, so the block ends as
 * (last + 1) + (last + 1)/2 whatever the earlier ranks sent. */
static void test_remote_order(void **state) {
  world *w = *state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_mat *m = NULL;
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "O", &m));
  const int n0[3] = {0, 0, 0};
  double b[169], half[169];
  int knows = nh_mat_norb(m, 0) > 0, last, mine = knows ? ctx->rank : -1;
  MPI_Allreduce(&mine, &last, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (knows) {
    for (int q = 0; q < 169; q++) {
      b[q] = ctx->rank + 1;
      half[q] = 0.5 * (ctx->rank + 1);
    }
    assert_nh_ok(nh_mat_set_remote(m, 0, 0, n0, half));
    assert_nh_ok(nh_mat_set_remote(m, 0, 0, n0, b));
    assert_nh_ok(nh_mat_add_remote(m, 0, 0, n0, half));
  }
  assert_nh_ok(nh_mat_assemble(m));
  const double *v = nh_mat_get_block(m, 0, 0, n0);
  if (nh_domain_local_index(w->dom, 0) >= 0) {
    assert_non_null(v);
    for (int q = 0; q < 169; q++)
      assert_true(v[q] == 1.5 * (last + 1));
  } else {
    assert_null(v);
  }
  nh_mat_destroy(&m);
}

/* Gauge: Hpred = Htrue + c S (+ noise). */
static void test_gauge(void **state) {
  world *w = *state;
  const double c = 0.37, delta = 1e-3;
  nh_mat *t = build(w, F_SYM, 0, PUT_SET), *s = build(w, F_OVL, 0, PUT_SET);
  nh_mat *p = NULL;
  assert_nh_ok(nh_mat_duplicate(t, 1, "Hpred", &p));
  assert_nh_ok(nh_mat_axpy(p, c, s));
  double mu, mae, mx;
  assert_nh_ok(nh_mat_gauge(p, t, s, &mu, &mae, &mx));
  assert_near(mu, -c, 1e-12 * c);
  assert_true(mae < 1e-14 && mx < 1e-13);
  /* With noise: compare with the serial least-squares shift and MAE. */
  nh_mat *noise = build(w, F_ASYM, 0, PUT_SET);
  assert_nh_ok(nh_mat_axpy(p, delta, noise));
  assert_nh_ok(nh_mat_gauge(p, t, s, &mu, &mae, &mx));
  double ts = 0, ps = 0, ss = 0, fb[169], fs[169], fn[169];
  for (int pass = 0; pass < 2; pass++) {
    double mu_ref = ss > 0 ? (ts - ps) / ss : 0, sum = 0, emax = 0;
    int64_t cnt = 0;
    for (int64_t q = 0; q < w->all->npairs; q++) {
      const nh_pair *e = &w->all->pairs[q];
      int nr = norb_global(w, e->i), nc = norb_global(w, e->j);
      fill_block(F_SYM, 0, e->i, nr, e->j, nc, e->n, fb);
      fill_block(F_OVL, 0, e->i, nr, e->j, nc, e->n, fs);
      fill_block(F_ASYM, 0, e->i, nr, e->j, nc, e->n, fn);
      for (int k = 0; k < nr * nc; k++) {
        double pred = fb[k] + c * fs[k] + delta * fn[k];
        if (pass == 0) {
          ts += fb[k] * fs[k];
          ps += pred * fs[k];
          ss += fs[k] * fs[k];
        } else {
          double d = fabs(pred + mu_ref * fs[k] - fb[k]);
          sum += d;
          emax = fmax(emax, d);
          cnt++;
        }
      }
    }
    if (pass == 1) {
      assert_near(mu, mu_ref, 1e-12);
      assert_near(mae, sum / cnt, 1e-12 * mae);
      assert_near(mx, emax, 1e-12);
      /* the noise moves mu by delta <noise, S>/<S, S> (about 1e-7 here) */
      assert_true(fabs(mu + c) > 1e-9 && fabs(mu + c) < delta);
      assert_true(mae > 1e-5 && mae < delta);
    }
  }
  nh_mat_destroy(&noise);
  nh_mat_destroy(&p);
  nh_mat_destroy(&s);
  nh_mat_destroy(&t);
}

/* One on-site block, by hand. S = 1 on the diagonal; Htrue = 0;
 * Hpred = diag(0, 1, ..., 12) + 0.25 at (0, 1):
 * mu* = -(0 + ... + 12)/13 = -6, |Hpred + mu* S| = |k - 6| on the
 * diagonal and 0.25 at (0, 1): MAE = (42 + 0.25)/169 = 0.25, max 6.
 * With Hpred missing: mu* = 0 / 13 = 0, MAE = max = 0; with Htrue =
 * Hpred and Hpred missing: mu* = 6, MAE = (42 + 0.25)/169 again. */
static void test_gauge_one_block(void **state) {
  world *w = *state;
  nh_mat *t, *s, *p, *e;
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "T", &t));
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "S", &s));
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "P", &p));
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "E", &e));
  const int n0[3] = {0, 0, 0};
  if (nh_domain_local_index(w->dom, 0) >= 0) {
    double one[169] = {0}, zero[169] = {0}, pred[169] = {0};
    for (int k = 0; k < 13; k++) {
      one[k * 13 + k] = 1;
      pred[k * 13 + k] = k;
    }
    pred[1] = 0.25;
    assert_nh_ok(nh_mat_set_block(s, 0, 0, n0, one));
    assert_nh_ok(nh_mat_set_block(t, 0, 0, n0, zero));
    assert_nh_ok(nh_mat_set_block(p, 0, 0, n0, pred));
  }
  double mu, mae, mx;
  assert_nh_ok(nh_mat_gauge(p, t, s, &mu, &mae, &mx));
  assert_true(mu == -6 && mae == 0.25 && mx == 6);
  assert_nh_ok(nh_mat_gauge(e, t, s, &mu, &mae, &mx));
  assert_true(mu == 0 && mae == 0 && mx == 0);
  assert_nh_ok(nh_mat_gauge(e, p, s, &mu, &mae, &mx));
  assert_true(mu == 6 && mae == 0.25 && mx == 6);
  assert_nh_ok(nh_mat_gauge(p, t, NULL, &mu, &mae, NULL));
  assert_true(mu == 0 && mae == (78 + 0.25) / 169);
  nh_mat_destroy(&t);
  nh_mat_destroy(&s);
  nh_mat_destroy(&p);
  nh_mat_destroy(&e);
}

/* dot, axpy (creating blocks), scale, duplicate. */
static void test_algebra(void **state) {
  world *w = *state;
  nh_mat *x = build(w, F_SYM, 0, PUT_SET), *y = build(w, F_OVL, 0, PUT_HALF);
  double dot, ref_dot = 0, ss = 0, fb[169], fs[169];
  for (int64_t q = 0; q < w->all->npairs; q++) {
    const nh_pair *e = &w->all->pairs[q];
    int nr = norb_global(w, e->i), nc = norb_global(w, e->j);
    fill_block(F_SYM, 0, e->i, nr, e->j, nc, e->n, fb);
    fill_block(F_OVL, 0, e->i, nr, e->j, nc, e->n, fs);
    int half = in_half(e->i, e->j, e->n);
    for (int k = 0; k < nr * nc; k++) {
      if (half)
        ref_dot += fb[k] * fs[k];
      double v = 0.5 * ((half ? fs[k] : 0) + 2 * fb[k]);
      ss += v * v;
    }
  }
  assert_nh_ok(nh_mat_dot(x, y, &dot));
  assert_rel(dot, ref_dot);
  assert_nh_ok(nh_mat_dot(y, x, &dot));
  assert_rel(dot, ref_dot);
  nh_mat *z = NULL;
  assert_nh_ok(nh_mat_duplicate(y, 0, "Z", &z));
  assert_string_equal(nh_mat_name(z), "Z");
  assert_nh_ok(nh_mat_dot(z, x, &dot));
  assert_true(dot == 0);
  int64_t nb, nv, nbz, nvz;
  assert_nh_ok(nh_mat_global_size(y, &nb, &nv));
  assert_nh_ok(nh_mat_global_size(z, &nbz, &nvz));
  assert_true(nb == nbz && nv == nvz && nb < w->all->npairs);
  /* y = 0.5 (y + 2 x): every block exists afterwards. */
  assert_nh_ok(nh_mat_axpy(y, 2, x));
  nh_mat_scale(y, 0.5);
  assert_nh_ok(nh_mat_global_size(y, &nb, NULL));
  assert_int_equal(nb, w->all->npairs);
  double dev = 0, g, fro;
  for (int64_t k = 0; k < nh_mat_nblocks(y); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(y, k, &key, &v);
    int nr = nh_mat_norb(y, key.i), nc = nh_mat_norb(y, key.j);
    fill_block(F_SYM, 0, key.i, nr, key.j, nc, key.n, fb);
    fill_block(F_OVL, 0, key.i, nr, key.j, nc, key.n, fs);
    int half = in_half(key.i, key.j, key.n);
    for (int q = 0; q < nr * nc; q++)
      dev = fmax(dev, fabs(v[q] - 0.5 * ((half ? fs[q] : 0) + 2 * fb[q])));
  }
  MPI_Allreduce(&dev, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  assert_true(g == 0);
  assert_nh_ok(nh_mat_norm_fro(y, &fro));
  assert_rel(fro, sqrt(ss));
  nh_mat *d = NULL;
  assert_nh_ok(nh_mat_duplicate(y, 1, "D", &d));
  assert_nh_ok(nh_mat_axpy(d, -1, y));
  assert_nh_ok(nh_mat_norm_max(d, &fro));
  assert_true(fro == 0);
  nh_mat_destroy(&d);
  nh_mat_destroy(&z);
  nh_mat_destroy(&x);
  nh_mat_destroy(&y);
}

static void test_errors(void **state) {
  world *w = *state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_mat *m = NULL;
  assert_nh_ok(nh_mat_create(w->dom, norb_of_z, "H", &m));
  const int n0[3] = {0, 0, 0};
  double b[169] = {0};
  const nh_atoms *at = nh_domain_atoms(w->dom);
  /* An atom not owned here: a ghost owned elsewhere, or an index beyond
   * the structure when this rank owns everything. */
  int64_t other = w->s->natoms + 7;
  for (int64_t k = at->nlocal; k < at->nlocal + at->nghost; k++)
    if (at->owner[k] != ctx->rank)
      other = at->gid[k];
  assert_nh_fails(nh_mat_set_block(m, other, other, n0, b), NH_ERR_ARG,
                  "is not owned");
  assert_null(nh_mat_get_block(m, other, other, n0));
  if (at->nlocal > 0) {
    int64_t mine = at->gid[0];
    assert_nh_fails(nh_mat_add_block(m, mine, 1000000, n0, b), NH_ERR_ARG,
                    "atom j = 1000000 is neither owned nor a ghost");
    assert_nh_fails(nh_mat_check_shape(m, mine, mine, 13, 12), NH_ERR_INPUT,
                    "is 13 x 13 in the basis, but 13 x 12 was given");
    assert_nh_ok(nh_mat_check_shape(m, mine, mine, 13, 13));
    assert_int_equal(nh_mat_norb(m, 1000000), -1);
    assert_nh_fails(nh_mat_set_remote(m, 1000000, mine, n0, b), NH_ERR_ARG,
                    "remote blocks must concern atoms the sender owns");
  }
  assert_int_equal(nh_mat_nblocks(m), 0);
  /* A remote block buffered on the last rank only: duplicate must fail on
   * every rank (collectively, not hang), and work after assembly. */
  nh_mat *dup = NULL;
  if (ctx->rank == ctx->size - 1 && at->nlocal > 0)
    assert_nh_ok(nh_mat_set_remote(m, at->gid[0], at->gid[0], n0, b));
  assert_nh_fails(nh_mat_duplicate(m, 1, "D", &dup), NH_ERR_ARG,
                  "remote blocks not yet assembled");
  assert_null(dup);
  assert_nh_ok(nh_mat_assemble(m));
  assert_nh_ok(nh_mat_duplicate(m, 1, "D", &dup));
  int64_t nb;
  assert_nh_ok(nh_mat_global_size(dup, &nb, NULL));
  assert_int_equal(nb, 1);
  nh_mat_destroy(&dup);
  assert_nh_fails(nh_mat_symmetrize(m, "average"), NH_ERR_ARG,
                  "\"fill\" or \"mean\"");
  /* Collective failures: every rank gets the same error. */
  int no_si[119] = {0};
  nh_mat *bad = NULL;
  assert_nh_fails(nh_mat_create(w->dom, no_si, "S", &bad), NH_ERR_INPUT,
                  "has no orbitals");
  assert_null(bad);
  nh_mat *other_dom = NULL;
  world *w2 = world_create(primitive());
  assert_nh_ok(nh_mat_create(w2->dom, norb_of_z, "X", &other_dom));
  double dot;
  assert_nh_fails(nh_mat_dot(m, other_dom, &dot), NH_ERR_ARG,
                  "live on different domains");
  nh_mat_destroy(&other_dom);
  world_destroy(&w2);
  nh_mat_destroy(&m);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const struct CMUnitTest si[] = {
      cmocka_unit_test(test_build_full),
      cmocka_unit_test(test_diamond_counts),
      cmocka_unit_test(test_symmetrize_fill),
      cmocka_unit_test(test_symmetrize_mean),
      cmocka_unit_test(test_symmetry_remote),
      cmocka_unit_test(test_remote),
      cmocka_unit_test(test_remote_order),
      cmocka_unit_test(test_gauge),
      cmocka_unit_test(test_gauge_one_block),
      cmocka_unit_test(test_algebra),
      cmocka_unit_test(test_errors),
  };
  /* Si/C structures with non-square blocks, images of the same pair, and
   * (primitive cell, 3 ranks) ranks that own no atom. */
  const struct CMUnitTest mixed[] = {
      cmocka_unit_test(test_build_full),
      cmocka_unit_test(test_symmetrize_fill),
      cmocka_unit_test(test_symmetrize_mean),
      cmocka_unit_test(test_symmetry_remote),
      cmocka_unit_test(test_remote),
      cmocka_unit_test(test_gauge),
      cmocka_unit_test(test_algebra),
  };
  int fail = cmocka_run_group_tests_name("si64", si, setup_si, teardown);
  fail +=
      cmocka_run_group_tests_name("sic_mixed", mixed, setup_mixed, teardown);
  fail +=
      cmocka_run_group_tests_name("sic_primitive", mixed, setup_sic, teardown);
  int all = 0;
  MPI_Allreduce(&fail, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return all ? 1 : 0;
}
