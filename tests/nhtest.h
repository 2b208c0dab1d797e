/* Shared helpers for nextham's cmocka tests. Every test program is an MPI
 * program: NH_TEST_MAIN initialises MPI, runs the group on every rank and
 * fails if any rank failed. */
#ifndef NEXTHAM_NHTEST_H
#define NEXTHAM_NHTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <mpi.h>

#include "nextham/core.h"

/* The communicator context of the test program (MPI_COMM_WORLD). */
static inline const nh_ctx *nh_test_ctx(void) {
  static nh_ctx ctx;
  static int init;
  if (!init) {
    nh_ctx_init(MPI_COMM_WORLD, &ctx);
    ctx.verbosity = 0;
    init = 1;
  }
  return &ctx;
}

/* Asserts that a nextham call succeeds, printing its message if not. */
#define assert_nh_ok(expr)                                                     \
  do {                                                                         \
    nh_err nh_t_err_ = (expr);                                                 \
    if (nh_t_err_) {                                                           \
      nh_error_print(nh_t_err_, nh_test_ctx()->rank);                          \
      nh_error_clear();                                                        \
    }                                                                          \
    assert_int_equal(nh_t_err_, NH_OK);                                        \
  } while (0)

/* Asserts that a call fails with `code` and that its message contains
 * `needle` (e.g. the file name and line, or the key). */
#define assert_nh_fails(expr, code, needle)                                    \
  do {                                                                         \
    nh_err nh_t_err_ = (expr);                                                 \
    if (nh_t_err_ != (code) || !strstr(nh_error_message(), (needle)))          \
      fprintf(stderr, "expected error %d containing '%s', got %d: %s\n",       \
              (code), (needle), nh_t_err_, nh_error_message());                \
    assert_int_equal(nh_t_err_, (code));                                       \
    assert_non_null(strstr(nh_error_message(), (needle)));                     \
    nh_error_clear();                                                          \
  } while (0)

/* |x - y| <= tol in double precision, printing both values when not.
 * (cmocka's assert_float_equal casts to float: useless below ~1e-7.) */
#define assert_close(x, y, tol)                                                \
  do {                                                                         \
    double x_ = (x), y_ = (y);                                                 \
    if (!(fabs(x_ - y_) <= (tol)))                                             \
      fprintf(stderr, "%s = %.17g, %s = %.17g, difference %.3g > %.3g\n",     \
              #x, x_, #y, y_, fabs(x_ - y_), (double)(tol));                   \
    assert_true(fabs(x_ - y_) <= (tol));                                       \
  } while (0)

/* Path of a file under the source tree (tests/data/...). */
static inline const char *nh_test_path(const char *rel) {
  static char buf[8][1024];
  static int k;
  const char *top = getenv("NH_TOP_SRCDIR");
  char *out = buf[k++ % 8];
  snprintf(out, 1024, "%s/%s", top ? top : ".", rel);
  return out;
}

#define NH_TEST_MAIN(tests)                                                    \
  int main(int argc, char **argv) {                                            \
    MPI_Init(&argc, &argv);                                                    \
    int nh_t_fail = cmocka_run_group_tests(tests, NULL, NULL), nh_t_all = 0;   \
    MPI_Allreduce(&nh_t_fail, &nh_t_all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD); \
    MPI_Finalize();                                                            \
    return nh_t_all ? 1 : 0;                                                   \
  }

#endif
