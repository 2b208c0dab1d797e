/* Tests of the domain decomposition (RCB), the ghosts, the forward and
 * reverse halo exchanges and the distributed neighbour list, run with 1, 2 and 3 ranks.
 * The references are brute force over the full structure, which every rank
 * has in these tests. */
#include <math.h>
#include <string.h>

#include "nhtest.h"
#include "nhtest_diamond.h"
#include "nextham/domain.h"
#include "nextham/neighbor.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) { /* xorshift64*, same sequence on every rank */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

static const double A_SI = 5.431 / NH_BOHR_ANGSTROM;

/* Diamond Si, rep^3 conventional cells, atoms shifted by half a cell so that
 * wrapping moves some of them. */
static nh_structure *silicon(int rep) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_test_diamond(rep, A_SI, &s));
  for (int k = 0; k < s->natoms; k++)
    for (int c = 0; c < 3; c++) s->pos[k][c] += 0.1 * A_SI;
  return s;
}

/* A skewed triclinic cell (angles of about 50 and 110 degrees), periodic
 * along a1 and a2 only, with random atoms (fractional -1..2 in-plane). */
static nh_structure *skewed_slab(int natoms) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_create(natoms, &s));
  const double lat[3][3] = {{9.0, 0, 0}, {5.8, 6.9, 0}, {-3.1, 2.4, 11.0}};
  memcpy(s->lattice, lat, sizeof lat);
  s->pbc[2] = 0;
  for (int a = 0; a < natoms; a++) {
    double f[3] = {3 * urand() - 1, 3 * urand() - 1, urand()};
    nh_lattice_to_cart(s->lattice, f, s->pos[a]);
    s->z[a] = 1 + a % 3;
  }
  return s;
}

/* owner_all[a] for every atom, checking that each is owned exactly once. */
static int *check_ownership(const nh_domain *dom, int natoms) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  const nh_atoms *at = nh_domain_atoms(dom);
  int *count = calloc(natoms, sizeof *count), *owner = malloc(natoms * sizeof *owner);
  for (int a = 0; a < natoms; a++) owner[a] = -1;
  assert_int_equal(at->natoms_global, natoms);
  for (int64_t k = 0; k < at->nlocal; k++) {
    assert_true(k == 0 || at->gid[k] > at->gid[k - 1]); /* sorted */
    count[at->gid[k]]++;
    owner[at->gid[k]] = ctx->rank;
    assert_int_equal(at->owner[k], ctx->rank);
    assert_int_equal(nh_domain_local_index(dom, at->gid[k]), k);
    assert_int_equal(nh_domain_owner(dom, at->gid[k]), ctx->rank);
    assert_int_equal(nh_domain_index(dom, at->gid[k]), k);
  }
  /* a ghost's gid leads to its owned row, or to its first ghost row */
  for (int64_t k = at->nlocal; k < at->nlocal + at->nghost; k++) {
    int64_t r = nh_domain_index(dom, at->gid[k]);
    assert_true(r >= 0 && r <= k);
    assert_int_equal(at->gid[r], at->gid[k]);
    assert_true(r < at->nlocal || r == at->nlocal ||
                at->gid[r - 1] != at->gid[r]);
  }
  MPI_Allreduce(MPI_IN_PLACE, count, natoms, MPI_INT, MPI_SUM, ctx->comm);
  MPI_Allreduce(MPI_IN_PLACE, owner, natoms, MPI_INT, MPI_MAX, ctx->comm);
  for (int a = 0; a < natoms; a++) assert_int_equal(count[a], 1);
  free(count);
  return owner;
}

/* Owned counts (or weights) differ by at most `slack` between ranks. */
static void check_balance(const nh_domain *dom, const double *weight,
                          double slack) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  const nh_atoms *at = nh_domain_atoms(dom);
  double w = 0, wmin, wmax;
  for (int64_t k = 0; k < at->nlocal; k++) w += weight ? weight[at->gid[k]] : 1;
  MPI_Allreduce(&w, &wmin, 1, MPI_DOUBLE, MPI_MIN, ctx->comm);
  MPI_Allreduce(&w, &wmax, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
  if (wmax - wmin > slack)
    fprintf(stderr, "rank loads %g..%g (slack %g)\n", wmin, wmax, slack);
  assert_true(wmax - wmin <= slack);
}

static double box_dist2(const double lo[3], const double hi[3],
                        const double x[3]) {
  double s = 0;
  for (int c = 0; c < 3; c++) {
    double g = x[c] < lo[c] ? lo[c] - x[c] : (x[c] > hi[c] ? x[c] - hi[c] : 0);
    s += g * g;
  }
  return s;
}

/* The ghosts are exactly the images tau_a + n.A (other than owned atoms
 * themselves) within the halo of the region, in (gid, n) order, with the
 * right positions, elements and owners. Brute force over a generous range
 * of n. */
static void check_ghosts(const nh_domain *dom, const nh_structure *s,
                         const int *owner) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  const nh_atoms *at = nh_domain_atoms(dom);
  double lo[3], hi[3], recip[3][3], halo = nh_domain_halo(dom);
  double(*tau)[3] = malloc(s->natoms * sizeof *tau);
  int m[3] = {0, 0, 0}, n[3];
  nh_domain_region(dom, lo, hi);
  nh_structure_wrap_cp2k(s, tau);
  /* the region is the bounding box of the owned, wrapped atoms */
  for (int c = 0; c < 3; c++) {
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t k = 0; k < at->nlocal; k++) {
      assert_true(at->x[k][c] == tau[at->gid[k]][c]);
      mn = fmin(mn, at->x[k][c]);
      mx = fmax(mx, at->x[k][c]);
    }
    assert_true(lo[c] == mn && hi[c] == mx);
  }
  assert_nh_ok(nh_lattice_reciprocal(s->lattice, recip));
  for (int k = 0; k < 3; k++)
    if (s->pbc[k])
      m[k] = 2 + (int)(halo * sqrt(recip[k][0] * recip[k][0] +
                                   recip[k][1] * recip[k][1] +
                                   recip[k][2] * recip[k][2]));
  int64_t g = at->nlocal;
  for (int a = 0; a < s->natoms; a++)
    for (n[0] = -m[0]; n[0] <= m[0]; n[0]++)
      for (n[1] = -m[1]; n[1] <= m[1]; n[1]++)
        for (n[2] = -m[2]; n[2] <= m[2]; n[2]++) {
          double x[3];
          for (int c = 0; c < 3; c++)
            x[c] = tau[a][c] + n[0] * s->lattice[0][c] +
                   n[1] * s->lattice[1][c] + n[2] * s->lattice[2][c];
          int origin = !n[0] && !n[1] && !n[2];
          if ((origin && owner[a] == ctx->rank) ||
              box_dist2(lo, hi, x) >= halo * halo)
            continue;
          assert_true(g < at->nlocal + at->nghost);
          assert_int_equal(at->gid[g], a);
          for (int c = 0; c < 3; c++) {
            assert_int_equal(at->image[g][c], n[c]);
            assert_true(fabs(at->x[g][c] - x[c]) < 1e-12);
          }
          assert_int_equal(at->z[g], s->z[a]);
          assert_int_equal(at->owner[g], owner[a]);
          assert_int_equal(nh_domain_owner(dom, a), owner[a]);
          g++;
        }
  assert_int_equal(g, at->nlocal + at->nghost);
  free(tau);
}

/* The union over ranks of the distributed list equals the serial list:
 * same keys, same d and r. */
static void check_neighbors(const nh_domain *dom, const nh_structure *s,
                            double rcut, int include_self) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  nh_neighbors *mine = NULL, *ref = NULL;
  assert_nh_ok(nh_domain_neighbors(dom, rcut, include_self, &mine));
  assert_nh_ok(nh_neighbors_build_periodic(s, rcut, include_self, &ref));
  int cnt = (int)(mine->npairs * sizeof(nh_pair)), *cnts = NULL, *displ = NULL;
  cnts = malloc(ctx->size * sizeof *cnts);
  displ = malloc(ctx->size * sizeof *displ);
  MPI_Allgather(&cnt, 1, MPI_INT, cnts, 1, MPI_INT, ctx->comm);
  int64_t total = 0;
  for (int p = 0; p < ctx->size; p++) {
    displ[p] = (int)total;
    total += cnts[p];
  }
  nh_pair *all = malloc(total ? total : 1);
  MPI_Allgatherv(mine->pairs, cnt, MPI_BYTE, all, cnts, displ, MPI_BYTE,
                 ctx->comm);
  int64_t np = total / (int64_t)sizeof(nh_pair);
  qsort(all, np, sizeof *all, nh_pair_cmp);
  assert_int_equal(np, ref->npairs);
  assert_true(ref->npairs > s->natoms); /* not vacuous */
  double maxdiff = 0;
  for (int64_t q = 0; q < np; q++) {
    assert_int_equal(nh_pair_cmp(&all[q], &ref->pairs[q]), 0);
    for (int c = 0; c < 3; c++)
      maxdiff = fmax(maxdiff, fabs(all[q].d[c] - ref->pairs[q].d[c]));
    maxdiff = fmax(maxdiff, fabs(all[q].r - ref->pairs[q].r));
  }
  assert_true(maxdiff <= 1e-12);
  /* the local list is sorted and its centres are the owned atoms */
  for (int64_t q = 0; q < mine->npairs; q++) {
    assert_true(nh_domain_local_index(dom, mine->pairs[q].i) >= 0);
    assert_true(q == 0 || nh_pair_cmp(&mine->pairs[q - 1], &mine->pairs[q]) < 0);
  }
  free(all);
  free(cnts);
  free(displ);
  nh_neighbors_destroy(&mine);
  nh_neighbors_destroy(&ref);
}

/* Owners write f(gid, c) into their atoms; after the forward exchange every
 * ghost holds its atom's values. */
static void check_forward(const nh_domain *dom) {
  const nh_atoms *at = nh_domain_atoms(dom);
  const int width = 3;
  int64_t n = at->nlocal + at->nghost;
  double *data = malloc((n ? n : 1) * width * sizeof *data);
  for (int64_t k = 0; k < n; k++)
    for (int c = 0; c < width; c++)
      data[k * width + c] = k < at->nlocal ? 1000.0 * at->gid[k] + c : NAN;
  assert_nh_ok(nh_domain_forward(dom, data, width));
  for (int64_t k = 0; k < n; k++)
    for (int c = 0; c < width; c++)
      assert_true(data[k * width + c] == 1000.0 * at->gid[k] + c);
  assert_nh_ok(nh_domain_forward(dom, data, 0));
  free(data);
}

/* Reverse exchange, exactly: with 1 in every entry, each owned atom ends
 * with 1 + the number of its ghost images over all ranks (counted here by
 * an allreduce); and it is the transpose of the forward exchange:
 * <F y, x> = <y, R x> for random x, y, summed over ranks. */
static void check_reverse(const nh_domain *dom) {
  const nh_atoms *at = nh_domain_atoms(dom);
  const int width = 2;
  int64_t n = at->nlocal + at->nghost, N = at->natoms_global;
  double *ones = malloc((n ? n : 1) * width * sizeof *ones);
  double *copies = calloc(N, sizeof *copies);
  for (int64_t k = 0; k < n * width; k++) ones[k] = 1;
  for (int64_t k = at->nlocal; k < n; k++) copies[at->gid[k]] += 1;
  MPI_Comm comm = nh_test_ctx()->comm;
  assert_int_equal(MPI_Allreduce(MPI_IN_PLACE, copies, (int)N, MPI_DOUBLE,
                                 MPI_SUM, comm), MPI_SUCCESS);
  assert_nh_ok(nh_domain_reverse(dom, ones, width));
  for (int64_t k = 0; k < n; k++)
    for (int c = 0; c < width; c++)
      assert_true(ones[k * width + c] ==
                  (k < at->nlocal ? 1 + copies[at->gid[k]] : 1));

  double *x = malloc((n ? n : 1) * width * sizeof *x);
  double *y = malloc((n ? n : 1) * width * sizeof *y);
  srand(17 + (unsigned)nh_test_ctx()->rank);
  for (int64_t k = 0; k < n * width; k++) {
    x[k] = rand() / (double)RAND_MAX - 0.5;
    y[k] = k < at->nlocal * width ? rand() / (double)RAND_MAX - 0.5 : 0;
  }
  double fy_x = 0, y_rx = 0;
  assert_nh_ok(nh_domain_forward(dom, y, width));
  for (int64_t k = 0; k < n * width; k++) fy_x += y[k] * x[k];
  assert_nh_ok(nh_domain_reverse(dom, x, width));
  for (int64_t k = 0; k < at->nlocal * width; k++) y_rx += y[k] * x[k];
  double d[2] = {fy_x, y_rx};
  assert_int_equal(MPI_Allreduce(MPI_IN_PLACE, d, 2, MPI_DOUBLE, MPI_SUM,
                                 comm), MPI_SUCCESS);
  assert_close(d[0], d[1], 1e-12 * (1 + fabs(d[0])));
  free(ones);
  free(copies);
  free(x);
  free(y);
}

static void check_all(const nh_structure *s, const double *weight,
                      double halo, double slack) {
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(nh_test_ctx(), s, weight, halo, &dom));
  int *owner = check_ownership(dom, s->natoms);
  check_balance(dom, weight, slack);
  check_ghosts(dom, s, owner);
  check_forward(dom);
  check_reverse(dom);
  check_neighbors(dom, s, halo, 0);
  check_neighbors(dom, s, 0.6 * halo, 1);
  assert_int_equal(nh_domain_owner(dom, s->natoms + 5), -1);
  assert_int_equal(nh_domain_local_index(dom, -1), -1);
  assert_int_equal(nh_domain_index(dom, s->natoms + 5), -1);
  free(owner);
  nh_domain_destroy(&dom);
  assert_null(dom);
}

/* Si 3x3x3 (216 atoms): equal shares for 1, 2, 3 ranks (216 = 2 x 108 =
 * 3 x 72), ghosts within 8 bohr. */
static void test_silicon(void **state) {
  (void)state;
  nh_structure *s = silicon(3);
  check_all(s, NULL, 8.0, 0);
  nh_structure_destroy(&s);
}

/* Si 1x1x1 with a halo of twice the cell: every rank needs many images,
 * including images of its own atoms. */
static void test_small_cell(void **state) {
  (void)state;
  nh_structure *s = silicon(1);
  check_all(s, NULL, 2 * A_SI, 1);
  nh_structure_destroy(&s);
}

static void test_skewed_slab(void **state) {
  (void)state;
  nh_structure *s = skewed_slab(61);
  check_all(s, NULL, 7.0, 1);  /* 61 atoms: shares differ by at most 1 */
  check_all(s, NULL, 15.0, 1); /* halo larger than the cell */
  nh_structure_destroy(&s);
}

/* Weighted RCB: the loads (not the counts) balance, to within the largest
 * weight per cut. */
static void test_weights(void **state) {
  (void)state;
  nh_structure *s = silicon(2);
  double *w = malloc(s->natoms * sizeof *w);
  for (int a = 0; a < s->natoms; a++) w[a] = a % 2 ? 3.0 : 1.0;
  check_all(s, w, 9.0, 2 * 3.0);
  for (int a = 0; a < s->natoms; a++) w[a] = s->pos[a][0] < A_SI ? 4.0 : 1.0;
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(nh_test_ctx(), s, w, 6.0, &dom));
  check_balance(dom, w, 2 * 4.0);
  nh_domain_destroy(&dom);
  w[3] = -1;
  assert_nh_fails(nh_domain_create(nh_test_ctx(), s, w, 6.0, &dom), NH_ERR_ARG,
                  "weight of atom 4");
  assert_null(dom);
  free(w);
  nh_structure_destroy(&s);
}

/* Fewer atoms than ranks: some ranks own nothing; results are unchanged. */
static void test_tiny(void **state) {
  (void)state;
  nh_structure *s = skewed_slab(2);
  check_all(s, NULL, 12.0, 1);
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(nh_test_ctx(), s, NULL, 12.0, &dom));
  nh_neighbors *nl = NULL;
  assert_nh_fails(nh_domain_neighbors(dom, 12.5, 0, &nl), NH_ERR_ARG,
                  "exceeds the halo width");
  nh_domain_destroy(&dom);
  nh_structure_destroy(&s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_silicon),     cmocka_unit_test(test_small_cell),
    cmocka_unit_test(test_skewed_slab), cmocka_unit_test(test_weights),
    cmocka_unit_test(test_tiny),
};
NH_TEST_MAIN(tests)
