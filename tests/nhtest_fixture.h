/* Temporary directory and CP2K fixtures for nextham's MPI tests. The
 * fixtures (tests/data/cp2k/NAME: .out, .inp and the CSR files packed in
 * NAME-csr.tar.xz) are unpacked once per program by rank 0 into a
 * temporary directory that is removed at exit. Both calls are collective.
 * (MPI return codes are checked: PETSc turns MPI calls into expressions.) */
#ifndef NEXTHAM_NHTEST_FIXTURE_H
#define NEXTHAM_NHTEST_FIXTURE_H

#include <string.h>
#include <unistd.h>

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

#endif
