/* Tests of the HDF5 sample file, run with 1, 2 and 3 ranks: round trip with
 * the current rank count, files written by one rank read by all (and the
 * reverse), atomic replacement, and clear errors for foreign, newer,
 * truncated and inconsistent files on every rank. Matrices live on Si
 * structures with the DZVP basis; block values are a known function of
 * (i, j, n, row, col). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampleimpl.h"
#include "nextham/neighbor.h"
#include "nextham/sample.h"
#include "nhtest.h"

#define A_SI (5.431 / NH_BOHR_ANGSTROM)
#define RCUT 8.0 /* bohr: first and second neighbour shells of Si */

static nh_basis *basis;

static double fval(int64_t i, int64_t j, const int n[3], int r, int c) {
  return sin(0.3 + 0.37 * i - 0.11 * j + 0.05 * n[0] - 0.07 * n[1] +
             0.13 * n[2] + 0.29 * r - 0.017 * c) /
         (1.0 + r + 0.5 * c);
}

/* Si2 primitive fcc cell (CONVENTIONS.md §7) or the 8-atom cubic cell. */
static nh_structure *silicon(int natoms) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_create(natoms, &s));
  if (natoms == 2) {
    double h = 2.715 / NH_BOHR_ANGSTROM;
    double lat[3][3] = {{0, h, h}, {h, 0, h}, {h, h, 0}};
    memcpy(s->lattice, lat, sizeof lat);
    for (int d = 0; d < 3; d++) s->pos[1][d] = 1.3575 / NH_BOHR_ANGSTROM;
  } else {
    static const double f[8][3] = {{0, 0, 0},       {0, .5, .5},
                                   {.5, 0, .5},     {.5, .5, 0},
                                   {.25, .25, .25}, {.25, .75, .75},
                                   {.75, .25, .75}, {.75, .75, .25}};
    for (int d = 0; d < 3; d++) s->lattice[d][d] = A_SI;
    for (int a = 0; a < 8; a++)
      for (int d = 0; d < 3; d++) s->pos[a][d] = (f[a][d] + 0.01 * a) * A_SI;
  }
  for (int a = 0; a < natoms; a++) s->z[a] = 14;
  s->pbc[2] = natoms == 2 ? 1 : 0; /* a slab: mixed periodicity */
  snprintf(s->source, sizeof s->source, "silicon-%d", natoms);
  return s;
}

/* A matrix over the neighbour pairs of the owned atoms. */
static nh_mat *build(const nh_domain *dom, const char *name, double scale) {
  int norb[NH_MAX_Z + 1];
  nh_basis_norb_table(basis, norb);
  nh_mat *m = NULL;
  nh_neighbors *nl = NULL;
  assert_nh_ok(nh_mat_create(dom, norb, name, &m));
  assert_nh_ok(nh_domain_neighbors(dom, RCUT, 1, &nl));
  double blk[13 * 13];
  for (int64_t p = 0; p < nl->npairs; p++) {
    const nh_pair *q = &nl->pairs[p];
    for (int r = 0; r < 13; r++)
      for (int c = 0; c < 13; c++)
        blk[13 * r + c] = scale * fval(q->i, q->j, q->n, r, c);
    assert_nh_ok(nh_mat_set_block(m, q->i, q->j, q->n, blk));
  }
  nh_neighbors_destroy(&nl);
  assert_nh_ok(nh_mat_assemble(m));
  return m;
}

/* Same blocks with values equal to within rel (0: bitwise). */
static void assert_same(const nh_mat *a, const nh_mat *b, double rel) {
  assert_int_equal(nh_mat_nblocks(a), nh_mat_nblocks(b));
  for (int64_t k = 0; k < nh_mat_nblocks(a); k++) {
    nh_block_key key;
    double *va, *vb;
    nh_mat_block(a, k, &key, &va);
    vb = nh_mat_get_block(b, key.i, key.j, key.n);
    assert_non_null(vb);
    int size = nh_mat_norb(a, key.i) * nh_mat_norb(a, key.j);
    for (int e = 0; e < size; e++) {
      if (rel == 0 && va[e] != vb[e])
        fprintf(stderr, "block %d %d: %.17g != %.17g\n", (int)key.i,
                (int)key.j, va[e], vb[e]);
      assert_true(rel == 0 ? va[e] == vb[e]
                           : fabs(va[e] - vb[e]) <= rel * fabs(vb[e]));
    }
  }
  int64_t na, nb, va_, vb_;
  assert_nh_ok(nh_mat_global_size(a, &na, &va_));
  assert_nh_ok(nh_mat_global_size(b, &nb, &vb_));
  assert_int_equal(na, nb);
  assert_int_equal(va_, vb_);
}

static void assert_same_structure(const nh_structure *a, const nh_structure *b) {
  assert_int_equal(a->natoms, b->natoms);
  assert_memory_equal(a->pbc, b->pbc, sizeof a->pbc);
  assert_memory_equal(a->z, b->z, a->natoms * sizeof *a->z);
  /* bohr -> Å -> bohr costs at most an ulp or two. */
  for (int k = 0; k < 3; k++)
    for (int d = 0; d < 3; d++)
      assert_true(fabs(a->lattice[k][d] - b->lattice[k][d]) <= 1e-15 * A_SI);
  for (int k = 0; k < a->natoms; k++)
    for (int d = 0; d < 3; d++)
      assert_true(fabs(a->pos[k][d] - b->pos[k][d]) <= 1e-15 * A_SI);
}

static void assert_same_basis(const nh_basis *a, const nh_basis *b) {
  assert_string_equal(a->basis_file, b->basis_file);
  assert_string_equal(a->potential_file, b->potential_file);
  const nh_element_basis *x = a->elem[14], *y = b->elem[14];
  assert_non_null(y);
  assert_string_equal(x->basis_name, y->basis_name);
  assert_string_equal(x->potential_name, y->potential_name);
  assert_true(x->zval == y->zval);
  assert_int_equal(x->norb, y->norb);
  assert_int_equal(x->nshell, y->nshell);
  for (int k = 0; k < x->nshell; k++) {
    assert_int_equal(x->shells[k].l, y->shells[k].l);
    assert_int_equal(x->shells[k].nprim, y->shells[k].nprim);
    assert_memory_equal(x->shells[k].exps, y->shells[k].exps,
                        x->shells[k].nprim * sizeof(double));
    assert_memory_equal(x->shells[k].coefs, y->shells[k].coefs,
                        x->shells[k].nprim * sizeof(double));
  }
  for (int z = 0; z <= NH_MAX_Z; z++)
    if (z != 14) assert_null(b->elem[z]);
}

static const char *fname(const char *stem) {
  static char buf[4][256];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, 256, "sample-%s-np%d.h5", stem, nh_test_ctx()->size);
  return p;
}

/* Writes S (scale 1) and H (Hartree -> eV) of structure s. */
static void write_file(const nh_ctx *ctx, const char *path,
                       const nh_structure *s) {
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, RCUT, &dom));
  nh_mat *S = build(dom, "S", 1), *H = build(dom, "H", 0.5);
  nh_sample_writer *w = NULL;
  assert_nh_ok(nh_sample_create(ctx, path, s, basis, &w));
  assert_nh_ok(nh_sample_write_matrix(w, S, "S", 1.0, "1"));
  assert_nh_ok(nh_sample_write_matrix(w, H, "H", NH_HARTREE_EV, "eV"));
  assert_nh_ok(nh_sample_close(&w));
  assert_null(w);
  nh_mat_destroy(&S);
  nh_mat_destroy(&H);
  nh_domain_destroy(&dom);
}

/* Reads everything back on ctx's ranks and compares with a direct build;
 * returns the smallest number of blocks a rank read. */
static int64_t check_file(const nh_ctx *ctx, const char *path,
                          const nh_structure *s) {
  nh_structure *s2 = NULL;
  nh_basis *b2 = NULL;
  assert_nh_ok(nh_sample_read_structure(ctx, path, &s2));
  assert_same_structure(s, s2);
  assert_string_equal(s2->source, path);
  assert_nh_ok(nh_sample_read_basis(ctx, path, &b2));
  assert_same_basis(basis, b2);
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(ctx, s2, NULL, RCUT, &dom));
  nh_mat *S = build(dom, "S", 1), *H = build(dom, "H", 0.5), *S2 = NULL,
         *H2 = NULL;
  assert_nh_ok(nh_sample_read_matrix(path, "S", dom, b2, 1.0, &S2));
  assert_nh_ok(nh_sample_read_matrix(path, "H", dom, b2, 1 / NH_HARTREE_EV, &H2));
  assert_same(S, S2, 0);
  assert_same(S2, S, 0);
  assert_same(H, H2, 4e-16);
  double f1, f2;
  assert_nh_ok(nh_mat_norm_fro(S, &f1));
  assert_nh_ok(nh_mat_norm_fro(S2, &f2));
  assert_true(f1 == f2 && f1 > 1);
  assert_string_equal(nh_mat_name(S2), "S");
  int count;
  char (*names)[64];
  assert_nh_ok(nh_sample_list_matrices(ctx, path, &count, &names));
  assert_int_equal(count, 2);
  assert_string_equal(names[0], "H");
  assert_string_equal(names[1], "S");
  nh_free(&names);
  int64_t mine = nh_mat_nblocks(S2), least;
  MPI_Allreduce(&mine, &least, 1, MPI_INT64_T, MPI_MIN, ctx->comm);
  nh_mat_destroy(&S);
  nh_mat_destroy(&H);
  nh_mat_destroy(&S2);
  nh_mat_destroy(&H2);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&s2);
  nh_basis_destroy(&b2);
  return least;
}

/* Removes the test's files (rank 0, after everyone is done with them) and
 * checks that no HDF5 file, group, dataset or attribute was left open. */
static void cleanup(const nh_ctx *ctx, const char *path) {
  MPI_Barrier(ctx->comm);
  if (ctx->rank == 0) remove(path);
  assert_int_equal(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

static int setup(void **state) {
  (void)state;
  nh_h5_quiet();
  if (nh_basis_create(&basis) ||
      nh_basis_load(basis, 14, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH") ||
      nh_basis_load_potential(basis, 14, "GTH_POTENTIALS", "GTH-PBE-q4"))
    return -1;
  return 0;
}
static int teardown(void **state) {
  (void)state;
  nh_basis_destroy(&basis);
  return 0;
}

/* Written and read with the current number of ranks (with 3 ranks and
 * Si2, one rank owns no atom and writes no block). */
static void test_round_trip(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  for (int n = 2; n <= 8; n += 6) {
    nh_structure *s = silicon(n);
    const char *path = fname(n == 2 ? "rt2" : "rt8");
    write_file(ctx, path, s);
    if (ctx->rank == 0) {
      assert_int_equal(access(path, R_OK), 0);
      char tmp[300];
      snprintf(tmp, sizeof tmp, "%s.tmp", path);
      assert_int_not_equal(access(tmp, F_OK), 0);
    }
    int64_t least = check_file(ctx, path, s);
    if (ctx->size == 3 && n == 2) assert_int_equal(least, 0); /* idle rank */
    cleanup(ctx, path);
    nh_structure_destroy(&s);
  }
}

/* Tiny pieces: pairs read 7 rows at a time, owned values in reads of at
 * most 300 doubles or 3 ranges, values written 500 doubles per round, so
 * that every boundary case of the chunked code runs on a small file. */
static void test_small_chunks(void **state) {
  const nh_sample_limits saved = nh_sample_lim;
  nh_sample_lim = (nh_sample_limits){7, 300, 3, 500};
  test_round_trip(state);
  nh_sample_lim = saved;
}

/* Stage 1: rank 0 alone (MPI_COMM_SELF) writes; stage 2: all ranks read.
 * And the reverse: the file all ranks wrote is read by rank 0 alone. */
static void test_cross_rank_count(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_ctx self;
  assert_nh_ok(nh_ctx_init(MPI_COMM_SELF, &self));
  self.verbosity = 0;
  nh_structure *s = silicon(8);
  const char *one = fname("one"), *all = fname("all");
  if (ctx->rank == 0) write_file(&self, one, s);
  MPI_Barrier(ctx->comm);
  check_file(ctx, one, s);
  write_file(ctx, all, s);
  if (ctx->rank == 0) check_file(&self, all, s);
  cleanup(ctx, one);
  cleanup(ctx, all);
  nh_structure_destroy(&s);
}

/* A failed write never replaces a good file, and leaves no .tmp behind. */
static void test_abort_keeps_old_file(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_structure *s = silicon(2);
  const char *path = fname("abort");
  write_file(ctx, path, s);
  nh_sample_writer *w = NULL;
  assert_nh_ok(nh_sample_create(ctx, path, s, basis, &w));
  nh_sample_abort(&w);
  assert_null(w);
  if (ctx->rank == 0) {
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0);
  }
  check_file(ctx, path, s);
  /* An element without a basis fails on every rank before anything is
   * created. */
  s->z[1] = 6;
  assert_nh_fails(nh_sample_create(ctx, path, s, basis, &w), NH_ERR_INPUT,
                  "no basis set for C (atom 1 of silicon-2)");
  assert_null(w);
  s->z[1] = 14;
  /* A directory that does not exist: the error names the temporary file. */
  assert_nh_fails(nh_sample_create(ctx, "no-such-dir/x.h5", s, basis, &w),
                  NH_ERR_HDF5, "no-such-dir/x.h5.tmp: cannot create the file");
  assert_null(w);
  check_file(ctx, path, s);
  cleanup(ctx, path);
  nh_structure_destroy(&s);
}

/* A matrix without blocks is a valid, empty matrix. */
static void test_empty_matrix(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_structure *s = silicon(2);
  const char *path = fname("empty");
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, RCUT, &dom));
  int norb[NH_MAX_Z + 1];
  nh_basis_norb_table(basis, norb);
  nh_mat *e = NULL, *e2 = NULL;
  assert_nh_ok(nh_mat_create(dom, norb, "E", &e));
  nh_sample_writer *w = NULL;
  assert_nh_ok(nh_sample_create(ctx, path, s, basis, &w));
  assert_nh_ok(nh_sample_write_matrix(w, e, "E", 1.0, "1"));
  assert_nh_fails(nh_sample_write_matrix(w, e, "E", 1.0, "1"), NH_ERR_ARG,
                  "matrix 'E' written twice");
  assert_nh_ok(nh_sample_close(&w));
  assert_nh_ok(nh_sample_read_matrix(path, "E", dom, basis, 1.0, &e2));
  int64_t nb, nv;
  assert_nh_ok(nh_mat_global_size(e2, &nb, &nv));
  assert_int_equal(nb, 0);
  assert_int_equal(nv, 0);
  nh_mat_destroy(&e);
  nh_mat_destroy(&e2);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&s);
  cleanup(ctx, path);
}

/* Damages a copy of a good file on rank 0 with serial HDF5. */
enum { CUT_HALF, DROP_VALUES, SHORT_OFFSETS, BAD_OFFSET, DUPLICATE,
       NAN_VALUE, BAD_FORMAT, NEW_VERSION };

static void copy_file(const char *from, const char *to, double fraction) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  fseek(in, 0, SEEK_END);
  long n = (long)(ftell(in) * fraction);
  fseek(in, 0, SEEK_SET);
  char buf[4096];
  for (long k = 0; k < n;) {
    size_t want = n - k < (long)sizeof buf ? (size_t)(n - k) : sizeof buf;
    size_t got = fread(buf, 1, want, in);
    assert_true(got > 0);
    fwrite(buf, 1, got, out);
    k += (long)got;
  }
  fclose(in);
  fclose(out);
}

static void damage(const char *good, const char *bad, int how) {
  copy_file(good, bad, how == CUT_HALF ? 0.5 : 1.0);
  if (how == CUT_HALF) return;
  hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  if (how == DROP_VALUES) {
    assert_true(H5Ldelete(f, "/matrices/S/values", H5P_DEFAULT) >= 0);
  } else if (how == SHORT_OFFSETS) {
    hid_t d = H5Dopen2(f, "/matrices/S/offsets", H5P_DEFAULT), sp;
    sp = H5Dget_space(d);
    hsize_t n;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    assert_true(H5Ldelete(f, "/matrices/S/offsets", H5P_DEFAULT) >= 0);
    hsize_t m = n - 1;
    sp = H5Screate_simple(1, &m, NULL);
    d = H5Dcreate2(f, "/matrices/S/offsets", H5T_STD_I64LE, sp, H5P_DEFAULT,
                   H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(sp);
    H5Dclose(d);
  } else if (how == BAD_OFFSET) {
    hid_t d = H5Dopen2(f, "/matrices/S/offsets", H5P_DEFAULT);
    int64_t o[2];
    hsize_t st = 0, cnt = 2;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &st, NULL, &cnt, NULL);
    assert_true(H5Dread(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, o) >= 0);
    o[1] += 1;
    assert_true(H5Dwrite(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, o) >= 0);
    H5Sclose(fs);
    H5Sclose(ms);
    H5Dclose(d);
  } else if (how == DUPLICATE) { /* row 1 of pairs := row 0 */
    hid_t d = H5Dopen2(f, "/matrices/S/pairs", H5P_DEFAULT);
    int64_t p[10];
    hsize_t st[2] = {0, 0}, cnt[2] = {2, 5};
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(2, cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
    assert_true(H5Dread(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, p) >= 0);
    memcpy(p + 5, p, 5 * sizeof *p);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, p) >= 0);
    H5Sclose(fs);
    H5Sclose(ms);
    H5Dclose(d);
  } else if (how == NAN_VALUE) { /* values[1] := NaN */
    hid_t d = H5Dopen2(f, "/matrices/S/values", H5P_DEFAULT);
    double v = NAN;
    hsize_t st = 1, cnt = 1;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &st, NULL, &cnt, NULL);
    assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, &v) >= 0);
    H5Sclose(fs);
    H5Sclose(ms);
    H5Dclose(d);
  } else if (how == BAD_FORMAT) {
    H5Adelete(f, "format");
    assert_nh_ok(nh_h5_attr_write_str(bad, f, "format", "deeph"));
  } else {
    H5Adelete(f, "version");
    assert_nh_ok(nh_h5_attr_write_int(bad, f, "version", 2));
  }
  H5Fclose(f);
}

static void test_corrupt_files(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_structure *s = silicon(2), *s2 = NULL;
  const char *good = fname("good"), *bad = fname("bad");
  write_file(ctx, good, s);
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, RCUT, &dom));
  nh_mat *m = NULL;
  nh_basis *b2 = NULL;
  struct { int how; nh_err code; const char *needle; } cases[] = {
      {CUT_HALF, NH_ERR_FILE, "truncated file: eof = "},
      {DROP_VALUES, NH_ERR_FILE, "cannot find dataset /matrices/S/values"},
      {SHORT_OFFSETS, NH_ERR_FILE, "/matrices/S/offsets has"},
      {BAD_OFFSET, NH_ERR_FILE,
       "has 170 values in offsets, expected norb(i) x norb(j) = 169"},
      {DUPLICATE, NH_ERR_FILE, "twice"},
      /* found by tools/fuzz/run-corrupt-sample.sh: NaN was read as data */
      {NAN_VALUE, NH_ERR_FILE, "holds a non-finite value"},
      {BAD_FORMAT, NH_ERR_FILE, "format is 'deeph', expected 'nextham-sample'"},
      {NEW_VERSION, NH_ERR_FILE, "newer nextham (sample format version 2"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    if (ctx->rank == 0) damage(good, bad, cases[k].how);
    MPI_Barrier(ctx->comm);
    char needle[512];
    snprintf(needle, sizeof needle, "%s", bad);
    if (cases[k].how == CUT_HALF || cases[k].how >= BAD_FORMAT)
      assert_nh_fails(nh_sample_read_structure(ctx, bad, &s2), cases[k].code,
                      needle);
    assert_null(s2);
    nh_err e = nh_sample_read_matrix(bad, "S", dom, basis, 1, &m);
    if (e != cases[k].code || !strstr(nh_error_message(), cases[k].needle) ||
        !strstr(nh_error_message(), bad))
      fprintf(stderr, "case %zu: %s\n", k, nh_error_message());
    assert_int_equal(e, cases[k].code);
    assert_non_null(strstr(nh_error_message(), cases[k].needle));
    assert_non_null(strstr(nh_error_message(), bad));
    nh_error_clear();
    assert_null(m);
  }
  /* Missing file and missing matrix; a basis that disagrees with the file. */
  assert_nh_fails(nh_sample_read_basis(ctx, "no-such-file.h5", &b2),
                  NH_ERR_FILE, "cannot read no-such-file.h5");
  assert_nh_fails(nh_sample_read_matrix(good, "H0", dom, basis, 1, &m),
                  NH_ERR_INPUT, "has no matrix 'H0' (it has: H, S)");
  assert_nh_ok(nh_basis_create(&b2));
  assert_nh_ok(nh_basis_load(b2, 14, "BASIS_MOLOPT", "SZV-MOLOPT-SR-GTH"));
  nh_domain *dom2 = NULL;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, RCUT, &dom2));
  assert_nh_fails(nh_sample_read_matrix(good, "S", dom2, b2, 1, &m),
                  NH_ERR_FILE, "expected norb(i) x norb(j) = 16");
  nh_domain_destroy(&dom2);
  nh_basis_destroy(&b2);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&s);
  cleanup(ctx, good);
  cleanup(ctx, bad);
}

/* Reads everything of a file that may be damaged: each read either fails
 * with a message or gives data that passes the reader's checks. */
static void read_damaged(const nh_ctx *ctx, const char *path,
                         const nh_domain *dom) {
  nh_structure *s = NULL;
  nh_basis *b = NULL;
  nh_mat *m = NULL;
  const char *names[2] = {"S", "H"};
  nh_err e = nh_sample_read_structure(ctx, path, &s);
  if (!e) e = nh_sample_read_basis(ctx, path, &b);
  for (int k = 0; k < 2 && !e; k++) {
    e = nh_sample_read_matrix(path, names[k], dom, basis, 1.0, &m);
    double mx = 0;
    if (!e) assert_nh_ok(nh_mat_norm_max(m, &mx));
    assert_true(isfinite(mx));
    nh_mat_destroy(&m);
  }
  if (e) {
    assert_non_null(strstr(nh_error_message(), path));
    nh_error_clear();
  }
  assert_null(m);
  nh_structure_destroy(&s);
  nh_basis_destroy(&b);
}

/* A fixed sequence of damaged copies (a deterministic slice of
 * tools/fuzz/run-corrupt-sample.sh): 16-byte bursts at pseudo-random
 * places and truncations; nothing may crash, hang or read NaN, and every
 * truncated file must be refused. */
static void test_damaged_bytes(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_structure *s = silicon(2);
  const char *good = fname("dmg-good"), *bad = fname("dmg-bad");
  write_file(ctx, good, s);
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, RCUT, &dom));
  FILE *f = fopen(good, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  uint64_t x = 88172645463325252ull; /* xorshift64, same on every rank */
  for (int round = 0; round < 40; round++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int cut = round % 4 == 3;
    long at = (long)(x % (uint64_t)n);
    if (ctx->rank == 0) {
      unsigned char *c = malloc((size_t)n);
      memcpy(c, buf, (size_t)n);
      for (int k = 0; k < 16 && !cut; k++)
        c[(at + k) % n] = (unsigned char)(x >> (k % 8 * 8));
      f = fopen(bad, "wb");
      fwrite(c, 1, (size_t)(cut ? at : n), f);
      fclose(f);
      free(c);
    }
    MPI_Barrier(ctx->comm);
    if (cut) {
      nh_structure *t = NULL;
      assert_int_equal(nh_sample_read_structure(ctx, bad, &t), NH_ERR_FILE);
      nh_error_clear();
    } else {
      read_damaged(ctx, bad, dom);
    }
  }
  free(buf);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&s);
  cleanup(ctx, good);
  cleanup(ctx, bad);
}

/* `nextham info`: numbers checked against the matrices themselves. */
static void test_info(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_structure *s = silicon(8);
  const char *path = fname("info");
  write_file(ctx, path, s);
  nh_domain *dom = NULL;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, RCUT, &dom));
  nh_mat *S = build(dom, "S", 1);
  double mx;
  int64_t nb, nv;
  assert_nh_ok(nh_mat_norm_max(S, &mx));
  assert_nh_ok(nh_mat_global_size(S, &nb, &nv));
  FILE *out = tmpfile();
  assert_nh_ok(nh_sample_info(ctx, path, out));
  if (ctx->rank == 0) {
    char text[8192] = "", line[64];
    rewind(out);
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = '\0';
    assert_non_null(strstr(text, "atoms     8  formula Si8"));
    assert_non_null(strstr(text, "pbc       1 1 0"));
    assert_non_null(strstr(text, "13 orbitals (ssppd)  GTH-PBE-q4 zval 4"));
    assert_non_null(strstr(text, "orbitals  104"));
    snprintf(line, sizeof line, "%10lld blocks %12lld values  unit 1  ",
             (long long)nb, (long long)nv);
    if (!strstr(text, line)) fprintf(stderr, "%s\n---\n%s\n", text, line);
    assert_non_null(strstr(text, line));
    snprintf(line, sizeof line, "max |value| %.6e", mx);
    assert_non_null(strstr(text, line));
    /* Slab, 8 bohr: images -1..1 along a1 and a2 only, not a3. */
    assert_non_null(strstr(text, "     9 images"));
  }
  fclose(out);
  nh_mat_destroy(&S);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&s);
  cleanup(ctx, path);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_small_chunks),
    cmocka_unit_test(test_cross_rank_count),
    cmocka_unit_test(test_abort_keeps_old_file),
    cmocka_unit_test(test_empty_matrix),
    cmocka_unit_test(test_corrupt_files),
    cmocka_unit_test(test_damaged_bytes),
    cmocka_unit_test(test_info),
};

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int fail = cmocka_run_group_tests(tests, setup, teardown), all = 0;
  MPI_Allreduce(&fail, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return all ? 1 : 0;
}
