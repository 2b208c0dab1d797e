/* Temporary directory and CP2K fixtures for nextham's MPI tests. The
 * fixtures (tests/data/cp2k/NAME: .out, .inp and the CSR files packed in
 * NAME-csr.tar.xz) are unpacked once per program by rank 0 into a
 * temporary directory that is removed at exit. Both calls are collective.
 * (MPI return codes are checked: PETSc turns MPI calls into expressions.) */
#ifndef NEXTHAM_NHTEST_FIXTURE_H
#define NEXTHAM_NHTEST_FIXTURE_H

#include <string.h>
#include <unistd.h>

#include "nextham/basis.h"
#include "nextham/cp2k.h"
#include "nextham/domain.h"
#include "nextham/mat.h"
#include "nextham/structure.h"
#include "nhtest.h"

static char nh_test_tmp[256];

static void nh_test_tmp_remove(void) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", nh_test_tmp);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", nh_test_tmp);
}

/* The program's temporary directory, created on first use. */
static inline const char *nh_test_tmpdir(void) {
  if (!nh_test_tmp[0]) {
    if (nh_test_ctx()->rank == 0) {
      snprintf(nh_test_tmp, sizeof nh_test_tmp, "/tmp/nh-test-XXXXXX");
      assert_non_null(mkdtemp(nh_test_tmp));
      atexit(nh_test_tmp_remove);
    }
    assert_int_equal(MPI_Bcast(nh_test_tmp, sizeof nh_test_tmp, MPI_CHAR, 0,
                               MPI_COMM_WORLD),
                     MPI_SUCCESS);
  }
  return nh_test_tmp;
}

/* Unpacks fixture `name` (once) and returns the path of its .out. */
static inline const char *nh_test_fixture(const char *name) {
  static char names[16][32], out[16][512];
  static int n;
  for (int k = 0; k < n; k++)
    if (strcmp(names[k], name) == 0) return out[k];
  assert_true(n < 16);
  const char *tmp = nh_test_tmpdir();
  int rc = 0;
  if (nh_test_ctx()->rank == 0) {
    char cmd[2048];
    const char *src = nh_test_path("tests/data/cp2k");
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/%s' && cp '%s/%s/%s.out' '%s/%s/%s.inp' '%s/%s/' && "
             "tar -xJf '%s/%s/%s-csr.tar.xz' -C '%s/%s'",
             tmp, name, src, name, name, src, name, name, tmp, name, src, name,
             name, tmp, name);
    rc = system(cmd);
  }
  assert_int_equal(MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD), MPI_SUCCESS);
  assert_int_equal(rc, 0);
  snprintf(names[n], sizeof names[n], "%s", name);
  snprintf(out[n], sizeof out[n], "%s/%s/%s.out", tmp, name, name);
  return out[n++];
}

/* A CP2K run imported onto a domain of all ranks: S and KS (Hartree). */
typedef struct nh_test_run {
  nh_cp2k_run *run;
  nh_structure *s;
  nh_basis *b;
  nh_domain *dom;
  nh_mat *S, *H;
} nh_test_run;

/* Collective: imports the run whose .out is `out` (e.g. nh_test_fixture). */
static inline void nh_test_import(const char *out, nh_test_run *im) {
  const nh_ctx *ctx = nh_test_ctx();
  double range;
  memset(im, 0, sizeof *im);
  assert_nh_ok(nh_cp2k_read_run(ctx, out, &im->run));
  assert_nh_ok(nh_cp2k_structure(ctx, im->run, &im->s));
  assert_nh_ok(nh_basis_create(&im->b));
  assert_nh_ok(nh_cp2k_load_basis(im->run, im->b));
  assert_nh_ok(nh_cp2k_pair_range(im->run, im->b, &range));
  assert_nh_ok(nh_domain_create(ctx, im->s, NULL, range, &im->dom));
  assert_nh_ok(nh_cp2k_import(im->run, im->dom, im->b, &im->S, &im->H));
}

static inline void nh_test_run_free(nh_test_run *im) {
  nh_mat_destroy(&im->H);
  nh_mat_destroy(&im->S);
  nh_domain_destroy(&im->dom);
  nh_basis_destroy(&im->b);
  nh_structure_destroy(&im->s);
  nh_cp2k_run_destroy(&im->run);
}

#endif
