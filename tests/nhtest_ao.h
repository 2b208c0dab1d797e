/* Reader of CP2K's &DFT &PRINT &AO_MATRICES output (xz-compressed), for
 * tests that compare integrals with CP2K's overlap, kinetic and core
 * Hamiltonian matrices (docs of the format: shared/cp2k/CONVENTIONS.md §8). */
#ifndef NEXTHAM_NHTEST_AO_H
#define NEXTHAM_NHTEST_AO_H

#include <string.h>

#include "nhtest.h"

/* Reads section `title` (e.g. "KINETIC ENERGY MATRIX") into the n x n
 * row-major m: chunks of a header row of column indices, then rows
 * "index atom element label values...". Every element must be present. */
static inline void nh_test_read_ao_matrix(const char *path, const char *title,
                                          int n, double *m) {
  char cmd[1200], line[1024];
  snprintf(cmd, sizeof cmd, "xz -dc '%s'", path);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  int in = 0, cols[8] = {0}, ncol = 0, seen = 0;
  while (fgets(line, sizeof line, f)) {
    if (strstr(line, "MATRIX")) {
      in = strstr(line, title) != NULL;
      continue;
    }
    if (!in) continue;
    int v[8], nv = sscanf(line, "%d %d %d %d %d %d %d %d", &v[0], &v[1],
                          &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    char el[8], lab[16];
    int row, at, used;
    if (nv >= 1 &&
        sscanf(line, "%d %d %7s %15s%n", &row, &at, el, lab, &used) == 4) {
      char *p = line + used, *end;
      for (int c = 0; c < ncol; c++, p = end) {
        double x = strtod(p, &end);
        assert_true(end != p);
        m[(row - 1) * n + cols[c] - 1] = x;
        seen++;
      }
    } else if (nv >= 1) {
      ncol = nv;
      memcpy(cols, v, sizeof cols);
    }
  }
  pclose(f);
  assert_int_equal(seen, n * n);
}

#endif
