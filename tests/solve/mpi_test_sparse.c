/* Tests of the sparse eigen-solver path (src/solve/sparse.h): SLEPc
 * shift-and-invert on H(k), S(k) built from CP2K's real-space matrices
 * (tests/data/cp2k). References: CP2K's own band structure (.bs, eV) and a
 * serial LAPACK zhegv of the dense H(k), S(k) assembled here from the
 * blocks, independently of src/solve/bloch_petsc.c. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/solve/sparseimpl.h"
#include "nextham/cp2k.h"
#include "nextham/supercell.h"
#include "nhtest_bs.h"
#include "nhtest_fixture.h"

void zhegv_(const int *itype, const char *jobz, const char *uplo, const int *n,
            double complex *a, const int *lda, double complex *b,
            const int *ldb, double *w, double complex *work, const int *lwork,
            double *rwork, int *info, size_t ljobz, size_t luplo);

#define NB 8 /* bands nearest the target */

/* ---------------------------------------------------------------------------
 * Fixtures: unpacked once by rank 0 into a temporary directory
 * ------------------------------------------------------------------------- */

typedef struct imported {
  nh_cp2k_run *run;
  nh_structure *s;
  nh_basis *b;
  nh_domain *dom;
  nh_mat *S, *H;
  int first[64]; /* first orbital of each atom, input order */
} imported;

static void import_run(const char *name, imported *im) {
  const nh_ctx *ctx = nh_test_ctx();
  double range;
  memset(im, 0, sizeof *im);
  assert_nh_ok(nh_cp2k_read_run(ctx, nh_test_fixture(name), &im->run));
  assert_nh_ok(nh_cp2k_structure(ctx, im->run, &im->s));
  assert_nh_ok(nh_basis_create(&im->b));
  assert_nh_ok(nh_cp2k_load_basis(im->run, im->b));
  assert_nh_ok(nh_cp2k_pair_range(im->run, im->b, &range));
  assert_nh_ok(nh_domain_create(ctx, im->s, NULL, range, &im->dom));
  assert_nh_ok(nh_cp2k_import(im->run, im->dom, im->b, &im->S, &im->H));
  const nh_cp2k_run *r = im->run;
  assert_true(r->natoms < 64);
  im->first[0] = 0;
  for (int a = 0; a < r->natoms; a++)
    im->first[a + 1] = im->first[a] + r->kinds[r->kind[a]].norb;
}

static void imported_free(imported *im) {
  nh_mat_destroy(&im->H);
  nh_mat_destroy(&im->S);
  nh_domain_destroy(&im->dom);
  nh_basis_destroy(&im->b);
  nh_structure_destroy(&im->s);
  nh_cp2k_run_destroy(&im->run);
}

/* Each fixture is imported once for all tests (collective). */
static const char *const fixtures[3] = {"si2", "graphene", "hbn"};
static imported cache[3];

static const imported *fixture(const char *name) {
  for (int f = 0; f < 3; f++)
    if (strcmp(fixtures[f], name) == 0) {
      if (!cache[f].run)
        import_run(name, &cache[f]);
      return &cache[f];
    }
  fail_msg("no fixture %s", name);
  return NULL;
}

static int free_fixtures(void **state) {
  (void)state;
  for (int f = 0; f < 3; f++)
    imported_free(&cache[f]);
  return 0;
}

/* ---------------------------------------------------------------------------
 * Dense reference: H(k), S(k) summed from the blocks each rank owns, with
 * the same drop rule as docs/solvers.md, allreduced, solved by zhegv.
 * ------------------------------------------------------------------------- */

static void dense_k(const imported *im, const double k[3], double drop,
                    double complex *h, double complex *s) {
  int n = im->run->norb;
  memset(h, 0, sizeof *h * n * n);
  memset(s, 0, sizeof *s * n * n);
  for (int m = 0; m < 2; m++) {
    const nh_mat *M = m ? im->S : im->H, *O = m ? im->H : im->S;
    double complex *d = m ? s : h;
    for (int64_t b = 0; b < nh_mat_nblocks(M); b++) {
      nh_block_key key;
      double *v;
      nh_mat_block(M, b, &key, &v);
      const double *o = nh_mat_get_block(O, key.i, key.j, key.n);
      double ph =
          2 * M_PI * (k[0] * key.n[0] + k[1] * key.n[1] + k[2] * key.n[2]);
      double complex f = cexp(I * ph);
      int r0 = im->first[key.i], c0 = im->first[key.j];
      int nr = im->first[key.i + 1] - r0, nc = im->first[key.j + 1] - c0;
      for (int r = 0; r < nr; r++)
        for (int c = 0; c < nc; c++) {
          double x = v[r * nc + c], y = o ? o[r * nc + c] : 0;
          if (fabs(x) < drop && fabs(y) < drop)
            continue;
          /* zhegv is column-major: element (row, col) at col * n + row */
          d[(size_t)(c0 + c) * n + r0 + r] += f * x;
        }
    }
  }
  assert_int_equal(MPI_Allreduce(MPI_IN_PLACE, h, 2 * n * n, MPI_DOUBLE,
                                 MPI_SUM, MPI_COMM_WORLD),
                   0);
  assert_int_equal(MPI_Allreduce(MPI_IN_PLACE, s, 2 * n * n, MPI_DOUBLE,
                                 MPI_SUM, MPI_COMM_WORLD),
                   0);
}

/* All eigenvalues (Hartree, ascending); eigenvectors in h when vec. */
static void zhegv_all(int n, double complex *h, double complex *s, double *e,
                      int vec) {
  int one = 1, lwork = 4 * n, info;
  double complex *work = malloc(sizeof *work * lwork);
  double *rwork = malloc(sizeof *rwork * 3 * n);
  zhegv_(&one, vec ? "V" : "N", "U", &n, h, &n, s, &n, e, work, &lwork, rwork,
         &info, 1, 1);
  assert_int_equal(info, 0);
  free(work);
  free(rwork);
}

/* Index of the first of the NB eigenvalues nearest target (e ascending). */
static int nearest_window(const double *e, int n, double target) {
  int lo = 0;
  for (int hi = NB; hi < n; hi++, lo++)
    if (fabs(e[hi] - target) >= fabs(e[lo] - target))
      break;
  return lo;
}

/* Mid-gap (Si) or Dirac point (graphene) of a .bs: between the highest
 * occupied band nocc and the next, in Hartree. */
static double mid_gap(const bs_file *bs, int nocc) {
  double vbm = -1e9, cbm = 1e9;
  for (int q = 0; q < bs->nk; q++) {
    vbm = fmax(vbm, bs->e[q * bs->nb + nocc - 1]);
    cbm = fmin(cbm, bs->e[q * bs->nb + nocc]);
  }
  return 0.5 * (vbm + cbm) / NH_HARTREE_EV;
}

/* Options the sparse path reads (nbands, target, drop_tol); the rest are
 * the dense solvers'. */
static nh_solver_opts sparse_opts(void) {
  nh_solver_opts o;
  memset(&o, 0, sizeof o);
  o.kind = NH_SOLVER_SLEPC;
  return o;
}

/* ---------------------------------------------------------------------------
 * Bands near the Fermi level against CP2K's .bs and against zhegv
 * ------------------------------------------------------------------------- */

static void check_bands(const char *name, int nocc, const int *kidx, int nkq) {
  const imported *im = fixture(name);
  bs_file bs;
  read_bs(name, &bs);
  int n = im->run->norb;
  double complex *h = malloc(sizeof *h * n * n), *s = malloc(sizeof *s * n * n);
  double *ed = malloc(sizeof *ed * n), e[NB], dmax_bs = 0, dmax_la = 0;
  nh_solver_opts o = sparse_opts();
  o.nbands = NB;
  o.target = mid_gap(&bs, nocc);
  nh_sparse *sp = NULL;
  assert_nh_ok(nh_sparse_create(im->H, im->S, &o, &sp));
  int ncmp = 0;
  for (int q = 0; q < nkq; q++) {
    const double *k = bs.k[kidx[q]];
    assert_nh_ok(nh_sparse_solve_k(sp, k, e, 0, NULL, NULL));
    dense_k(im, k, 0, h, s);
    zhegv_all(n, h, s, ed, 0);
    int lo = nearest_window(ed, n, o.target);
    for (int b = 0; b < NB; b++) {
      dmax_la = fmax(dmax_la, fabs(e[b] - ed[lo + b]) * NH_HARTREE_EV);
      if (lo + b < bs.nb) {
        dmax_bs = fmax(dmax_bs, fabs(e[b] * NH_HARTREE_EV -
                                     bs.e[kidx[q] * bs.nb + lo + b]));
        ncmp++;
      }
    }
    /* identical on every rank */
    double e0[NB];
    memcpy(e0, e, sizeof e);
    assert_int_equal(MPI_Bcast(e0, NB, MPI_DOUBLE, 0, MPI_COMM_WORLD), 0);
    for (int b = 0; b < NB; b++)
      assert_true(e0[b] == e[b]);
  }
  if (nh_test_ctx()->rank == 0)
    printf("%s: %d k-points, %d bands near %.4f eV: max |dE| vs CP2K .bs "
           "%.2e eV (%d values), vs zhegv %.2e eV\n",
           name, nkq, NB, o.target * NH_HARTREE_EV, dmax_bs, ncmp, dmax_la);
  assert_true(ncmp >= nkq * NB / 2);
  assert_true(dmax_bs < 1e-6);
  assert_true(dmax_la < 1e-9);
  assert_nh_ok(nh_sparse_destroy(&sp));
  assert_null(sp);
  free(h);
  free(s);
  free(ed);
  bs_free(&bs);
}

static void test_si2_bands(void **state) {
  (void)state;
  /* L, Gamma, X (real k: LDL^T), between X and W, K (LU) */
  const int kidx[] = {0, 8, 16, 20, 32};
  check_bands("si2", 4, kidx, 5);
}

static void test_graphene_bands(void **state) {
  (void)state;
  /* Gamma, M (real k), between M and K, K (the Dirac point) */
  const int kidx[] = {0, 10, 15, 20};
  check_bands("graphene", 4, kidx, 4);
}

/* ---------------------------------------------------------------------------
 * drop_tol: the solver gives exactly the eigenvalues of the truncated
 * problem, which differ from the full one by a small, nonzero amount.
 * ------------------------------------------------------------------------- */

static void test_drop_tol(void **state) {
  (void)state;
  const imported *im = fixture("graphene");
  bs_file bs;
  read_bs("graphene", &bs);
  int n = im->run->norb;
  double complex *h = malloc(sizeof *h * n * n), *s = malloc(sizeof *s * n * n);
  double *ed = malloc(sizeof *ed * n), e0[NB], e1[NB];
  const double k[3] = {0.1, 0.27, 0}; /* no symmetry */
  const double tols[] = {1e-6, 1e-4, 1e-3};
  double prev = 0;
  nh_solver_opts o = sparse_opts();
  o.nbands = NB;
  o.target = mid_gap(&bs, 4);
  assert_nh_ok(nh_solve_sparse_k(im->H, im->S, &o, k, e0, 0, NULL, NULL));
  for (int t = 0; t < 3; t++) {
    o.drop_tol = tols[t];
    assert_nh_ok(nh_solve_sparse_k(im->H, im->S, &o, k, e1, 0, NULL, NULL));
    dense_k(im, k, tols[t], h, s);
    zhegv_all(n, h, s, ed, 0);
    int lo = nearest_window(ed, n, o.target);
    double dla = 0, dfull = 0;
    for (int b = 0; b < NB; b++) {
      dla = fmax(dla, fabs(e1[b] - ed[lo + b]) * NH_HARTREE_EV);
      dfull = fmax(dfull, fabs(e1[b] - e0[b]) * NH_HARTREE_EV);
    }
    if (nh_test_ctx()->rank == 0)
      printf("graphene drop_tol %.0e Ha: max |dE| vs full %.2e eV, vs zhegv "
             "of the truncated matrices %.2e eV\n",
             tols[t], dfull, dla);
    assert_true(dla < 1e-9);
    /* nonzero, growing with the tolerance, below 1000 tol (in eV) */
    assert_true(dfull > 0 && dfull >= prev);
    assert_true(dfull < 1000 * tols[t] * NH_HARTREE_EV);
    prev = dfull;
  }
  free(h);
  free(s);
  free(ed);
  bs_free(&bs);
}

/* ---------------------------------------------------------------------------
 * Mulliken weights (h-BN: two elements) against the zhegv eigenvectors
 * ------------------------------------------------------------------------- */

static void test_mulliken_hbn(void **state) {
  (void)state;
  const imported *im = fixture("hbn");
  bs_file bs;
  read_bs("hbn", &bs);
  int n = im->run->norb, zs[2] = {5, 7};
  double complex *h = malloc(sizeof *h * n * n), *s = malloc(sizeof *s * n * n);
  double complex *s0 = malloc(sizeof *s0 * n * n);
  double *ed = malloc(sizeof *ed * n), e[NB], w[NB * 2], dmax = 0;
  const double k[3] = {0.13, 0.31, 0};
  nh_solver_opts o = sparse_opts();
  o.nbands = NB;
  o.target = mid_gap(&bs, 4);
  assert_nh_ok(nh_solve_sparse_k(im->H, im->S, &o, k, e, 2, zs, w));
  dense_k(im, k, 0, h, s);
  memcpy(s0, s, sizeof *s * n * n);
  zhegv_all(n, h, s, ed, 1);
  int lo = nearest_window(ed, n, o.target);
  for (int b = 0; b < NB; b++) {
    const double complex *c = h + (size_t)(lo + b) * n;
    double wd[2] = {0, 0}, tot = 0;
    for (int r = 0; r < n; r++) {
      double complex sc = 0;
      for (int q = 0; q < n; q++)
        sc += s0[(size_t)q * n + r] * c[q];
      double p = creal(conj(c[r]) * sc);
      int a = 0;
      while (im->first[a + 1] <= r)
        a++;
      wd[im->run->z[a] == 7] += p;
      tot += p;
    }
    assert_true(fabs(w[b * 2] + w[b * 2 + 1] - 1) < 1e-12);
    if (nh_test_ctx()->rank == 0)
      printf("  band %.4f eV: B %.6f N %.6f\n", e[b] * NH_HARTREE_EV, w[2 * b],
             w[2 * b + 1]);
    for (int el = 0; el < 2; el++)
      dmax = fmax(dmax, fabs(w[b * 2 + el] - wd[el] / tot));
  }
  if (nh_test_ctx()->rank == 0)
    printf("hbn: Mulliken weights of %d bands, max difference to zhegv %.2e\n",
           NB, dmax);
  assert_true(dmax < 1e-8);
  free(h);
  free(s);
  free(s0);
  free(ed);
  bs_free(&bs);
}

/* ---------------------------------------------------------------------------
 * H(k), S(k) are exactly Hermitian (with and without dropping), although
 * CP2K's on-site blocks are symmetric only to round-off (h-BN: 5e-16).
 * ------------------------------------------------------------------------- */

static double hermitian_error(Mat M) {
  Mat Mh = NULL;
  PetscReal nrm = -1;
  assert_int_equal(MatHermitianTranspose(M, MAT_INITIAL_MATRIX, &Mh), 0);
  assert_int_equal(MatAXPY(Mh, -1, M, DIFFERENT_NONZERO_PATTERN), 0);
  assert_int_equal(MatNorm(Mh, NORM_INFINITY, &nrm), 0);
  assert_int_equal(MatDestroy(&Mh), 0);
  return nrm;
}

static void test_hermitian(void **state) {
  (void)state;
  const imported *im = fixture("hbn");
  const double k[3] = {0.13, 0.31, 0}, tols[2] = {0, 1e-5};
  PetscInt nz[2];
  for (int t = 0; t < 2; t++) {
    nh_bloch_petsc *bp = NULL;
    MatInfo info;
    assert_nh_ok(nh_bloch_petsc_create(im->H, im->S, tols[t], &bp));
    assert_nh_ok(nh_bloch_petsc_fill(bp, k));
    assert_int_equal(bp->nglobal, im->run->norb);
    assert_true(hermitian_error(bp->H) == 0);
    assert_true(hermitian_error(bp->S) == 0);
    assert_int_equal(MatGetInfo(bp->S, MAT_GLOBAL_SUM, &info), 0);
    nz[t] = (PetscInt)info.nz_used;
    assert_int_equal(MatGetInfo(bp->H, MAT_GLOBAL_SUM, &info), 0);
    assert_int_equal((PetscInt)info.nz_used, nz[t]);
    assert_nh_ok(nh_bloch_petsc_destroy(&bp));
  }
  /* at a real k (M of the hexagonal cell) both are exactly real */
  nh_bloch_petsc *bp = NULL;
  const double km[3] = {0.5, 0, 0};
  assert_true(nh_bloch_real_k(km) && !nh_bloch_real_k(k));
  assert_nh_ok(nh_bloch_petsc_create(im->H, im->S, 0, &bp));
  assert_nh_ok(nh_bloch_petsc_fill(bp, km));
  for (int q = 0; q < 2; q++) {
    Mat M = NULL;
    PetscReal nrm = -1;
    assert_int_equal(MatDuplicate(q ? bp->S : bp->H, MAT_COPY_VALUES, &M), 0);
    assert_int_equal(MatImaginaryPart(M), 0);
    assert_int_equal(MatNorm(M, NORM_INFINITY, &nrm), 0);
    assert_true(nrm == 0);
    assert_int_equal(MatDestroy(&M), 0);
    assert_true(hermitian_error(q ? bp->S : bp->H) == 0);
  }
  assert_nh_ok(nh_bloch_petsc_destroy(&bp));
  /* 26 x 26 for 2 atoms: dense without dropping, sparser with it */
  assert_int_equal(nz[0], 26 * 26);
  assert_true(nz[1] < nz[0]);
}

/* ---------------------------------------------------------------------------
 * Orderings and out-of-core factors: the same eigenvalues (to round-off),
 * MUMPS reports the ordering asked for, a user's PETSc option wins, and
 * nextham's own options do not leak into the next solver.
 * ------------------------------------------------------------------------- */

/* The NB eigenvalues of H, S nearest target at k with ordering ord and
 * drop_tol drop (out of core in dir when dir is not NULL), and MUMPS's
 * report of the factorisation. */
typedef struct eig_case {
  const nh_mat *H, *S;
  double target, drop;
  double k[3];
} eig_case;

static void solve_with(const eig_case *c, nh_ordering ord, const char *dir,
                       double *e, nh_sparse_factor_info *f) {
  nh_solver_opts o = sparse_opts();
  o.nbands = NB;
  o.target = c->target;
  o.drop_tol = c->drop;
  o.ordering = ord;
  o.out_of_core = dir != NULL;
  snprintf(o.ooc_dir, sizeof o.ooc_dir, "%s", dir ? dir : "");
  nh_sparse *sp = NULL;
  assert_nh_ok(nh_sparse_create(c->H, c->S, &o, &sp));
  assert_nh_ok(nh_sparse_solve_k(sp, c->k, e, 0, NULL, NULL));
  assert_nh_ok(nh_sparse_get_factor_info(sp, f));
  assert_nh_ok(nh_sparse_destroy(&sp));
  assert_true(f->entries > 0 && f->flops > 0);
  assert_int_equal(f->out_of_core, dir != NULL);
}

/* Each ordering in and out of core gives the auto ordering's eigenvalues
 * (to round-off), and MUMPS reports the ordering it was given (expect[]). */
static void check_orderings(const eig_case *c, const char *what, int n,
                            const nh_ordering *ord, const nh_ordering *expect,
                            const char *dir) {
  double e0[NB], e[NB], dmax = 0;
  nh_sparse_factor_info f0, f;
  solve_with(c, NH_ORDERING_AUTO, NULL, e0, &f0);
  assert_true(f0.ordering != NH_ORDERING_AUTO); /* MUMPS's choice, named */
  for (int i = 0; i < n; i++)
    for (int ooc = 0; ooc < 2; ooc++) {
      solve_with(c, ord[i], ooc ? dir : NULL, e, &f);
      assert_int_equal(f.ordering, expect[i]);
      for (int b = 0; b < NB; b++)
        dmax = fmax(dmax, fabs(e[b] - e0[b]) * NH_HARTREE_EV);
    }
  if (nh_test_ctx()->rank == 0)
    printf("%s: %d orderings x in/out of core: max |dE| %.2e eV; auto = %s\n",
           what, n, dmax, nh_ordering_name(f0.ordering));
  assert_true(dmax < 1e-10);
}

/* nextham's ICNTL(7) of the last solve is gone: auto is MUMPS's choice
 * again; and an option the user set wins over nextham's ordering. */
static void check_options_reset(const eig_case *c) {
  double e[NB];
  nh_sparse_factor_info f0, f;
  solve_with(c, NH_ORDERING_AUTO, NULL, e, &f0);
  solve_with(c, NH_ORDERING_QAMD, NULL, e, &f);
  assert_int_equal(f.ordering, NH_ORDERING_QAMD);
  solve_with(c, NH_ORDERING_AUTO, NULL, e, &f);
  assert_int_equal(f.ordering, f0.ordering);
  assert_int_equal(PetscOptionsSetValue(NULL, "-st_mat_mumps_icntl_7", "0"), 0);
  solve_with(c, NH_ORDERING_QAMD, NULL, e, &f);
  assert_int_equal(f.ordering, NH_ORDERING_AMD);
  assert_int_equal(PetscOptionsClearValue(NULL, "-st_mat_mumps_icntl_7"), 0);
}

static void test_orderings(void **state) {
  (void)state;
  const imported *im = fixture("graphene");
  bs_file bs;
  read_bs("graphene", &bs);
  char dir[64] = "/tmp/nh_ooc_XXXXXX";
  if (nh_test_ctx()->rank == 0)
    assert_non_null(mkdtemp(dir));
  assert_int_equal(MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD), 0);
  /* the primitive cell at Gamma (LDL^T) and at a general k (LU); PORD is
   * replaced by AMD on so small a matrix */
  const nh_ordering ord[] = {NH_ORDERING_AMD, NH_ORDERING_AMF, NH_ORDERING_QAMD,
                             NH_ORDERING_PORD};
  const nh_ordering small[] = {NH_ORDERING_AMD, NH_ORDERING_AMF,
                               NH_ORDERING_QAMD, NH_ORDERING_AMD};
  eig_case c = {im->H, im->S, mid_gap(&bs, 4), 0, {0, 0, 0}};
  check_orderings(&c, "graphene at Gamma", 4, ord, small, dir);
  c.k[0] = 0.1;
  c.k[1] = 0.27;
  check_orderings(&c, "graphene at (0.1 0.27)", 4, ord, small, dir);
  check_options_reset(&c);
  /* PORD itself on an 8 x 8 supercell (1,664 orbitals) at Gamma */
  const nh_ctx *ctx = nh_test_ctx();
  const int m[3] = {8, 8, 1};
  int norb[NH_MAX_Z + 1];
  double range;
  nh_structure *sc = NULL;
  nh_domain *dom = NULL;
  nh_mat *H = NULL, *S = NULL;
  nh_basis_norb_table(im->b, norb);
  assert_nh_ok(nh_supercell_structure(im->s, m, &sc));
  assert_nh_ok(nh_supercell_pair_range(im->H, im->s, &range));
  assert_nh_ok(nh_domain_create(ctx, sc, NULL, range, &dom));
  assert_nh_ok(nh_supercell_tile(im->H, im->s, sc, m, dom, norb, "H", &H));
  assert_nh_ok(nh_supercell_tile(im->S, im->s, sc, m, dom, norb, "S", &S));
  /* target between clusters of (nearly) degenerate bands, so that the NB
   * nearest do not depend on which members of a cluster converge first */
  eig_case big = {H, S, -0.86 / NH_HARTREE_EV, 1e-5, {0, 0, 0}};
  const nh_ordering pord = NH_ORDERING_PORD;
  check_orderings(&big, "graphene 8x8 at Gamma", 1, &pord, &pord, dir);
  nh_mat_destroy(&H);
  nh_mat_destroy(&S);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&sc);
  MPI_Barrier(MPI_COMM_WORLD);
  if (ctx->rank == 0)
    assert_int_equal(rmdir(dir), 0); /* empty: MUMPS removed its files */
  bs_free(&bs);
}

static void test_ordering_names(void **state) {
  (void)state;
  for (int o = 0; o <= NH_ORDERING_PARMETIS; o++) {
    nh_ordering back = NH_ORDERING_AUTO;
    assert_nh_ok(nh_ordering_parse(nh_ordering_name((nh_ordering)o), &back));
    assert_int_equal(back, o);
  }
  nh_ordering x;
  assert_nh_fails(nh_ordering_parse("nd", &x), NH_ERR_INPUT,
                  "unknown ordering \"nd\"");
  /* an out-of-core directory that is not there is an input error */
  const imported *im = fixture("si2");
  nh_solver_opts o = sparse_opts();
  o.nbands = 4;
  o.out_of_core = 1;
  snprintf(o.ooc_dir, sizeof o.ooc_dir, "/nonexistent/nh_ooc");
  nh_sparse *sp = NULL;
  assert_nh_fails(nh_sparse_create(im->H, im->S, &o, &sp), NH_ERR_INPUT,
                  "/nonexistent/nh_ooc is not a writable directory");
  assert_null(sp);
}

/* ---------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------- */

static void test_errors(void **state) {
  (void)state;
  const imported *im = fixture("si2");
  nh_solver_opts o = sparse_opts();
  double e[40], k[3] = {0, 0, 0};
  nh_sparse *sp = NULL;
  o.nbands = 0;
  assert_nh_fails(nh_sparse_create(im->H, im->S, &o, &sp), NH_ERR_INPUT,
                  "nbands > 0");
  o.nbands = 27;
  assert_nh_fails(nh_sparse_create(im->H, im->S, &o, &sp), NH_ERR_INPUT,
                  "exceeds the 26 orbitals");
  assert_null(sp);
  /* A PETSc failure (an unknown spectral transformation from the options
   * database) comes back as NH_ERR_LIB with PETSc's message. */
  o.nbands = 4;
  assert_int_equal(PetscOptionsSetValue(NULL, "-st_type", "no_such_st"), 0);
  assert_nh_fails(nh_solve_sparse_k(im->H, im->S, &o, k, e, 0, NULL, NULL),
                  NH_ERR_LIB, "no_such_st");
  assert_int_equal(PetscOptionsClearValue(NULL, "-st_type"), 0);
  assert_nh_ok(nh_solve_sparse_k(im->H, im->S, &o, k, e, 0, NULL, NULL));
  /* set_k, release, solve: the same bands; set_k after release fails */
  double e2[4];
  assert_nh_ok(nh_sparse_create(im->H, im->S, &o, &sp));
  assert_nh_fails(nh_sparse_solve(sp, e2, 0, NULL, NULL), NH_ERR_ARG,
                  "before nh_sparse_set_k");
  assert_nh_ok(nh_sparse_set_k(sp, k));
  assert_nh_ok(nh_sparse_release(sp));
  assert_nh_ok(nh_sparse_solve(sp, e2, 0, NULL, NULL));
  for (int b = 0; b < 4; b++)
    assert_true(fabs(e2[b] - e[b]) < 1e-13);
  assert_nh_fails(nh_sparse_set_k(sp, k), NH_ERR_ARG, "released");
  assert_nh_ok(nh_sparse_destroy(&sp));
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_si2_bands), cmocka_unit_test(test_graphene_bands),
      cmocka_unit_test(test_drop_tol),  cmocka_unit_test(test_mulliken_hbn),
      cmocka_unit_test(test_hermitian), cmocka_unit_test(test_errors),
      cmocka_unit_test(test_orderings), cmocka_unit_test(test_ordering_names),
  };
  MPI_Init(&argc, &argv);
  int fail = cmocka_run_group_tests(tests, NULL, free_fixtures), all = 0;
  if (MPI_Allreduce(&fail, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD))
    all = 1;
  if (nh_solve_finalize())
    all = 1;
  MPI_Finalize();
  return all ? 1 : 0;
}
