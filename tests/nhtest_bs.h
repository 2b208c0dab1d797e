/* Reader of CP2K's band-structure files (.bs, docs/cp2k.md) of the test
 * fixtures: "#  Point i  Spin 1:  k1 k2 k3 weight", then one
 * "band energy[eV] occupation" line per band. */
#ifndef NEXTHAM_NHTEST_BS_H
#define NEXTHAM_NHTEST_BS_H

#include <string.h>

#include "nhtest.h"

typedef struct bs_file {
  int nk, nb;
  double (*k)[3]; /* fractional, reciprocal basis */
  double *e;      /* nk x nb, eV */
} bs_file;

/* Reads tests/data/cp2k/NAME/NAME.bs; every k-point must list nb bands. */
static inline void read_bs(const char *name, bs_file *bs) {
  char path[512], line[512];
  snprintf(path, sizeof path, "%s/%s/%s.bs", nh_test_path("tests/data/cp2k"),
           name, name);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  memset(bs, 0, sizeof *bs);
  int cap = 0, ne = 0;
  while (fgets(line, sizeof line, f)) {
    double k[3], e;
    int band;
    if (strncmp(line, "#  Point", 8) == 0) {
      char *colon = strchr(line, ':');
      assert_non_null(colon);
      assert_int_equal(sscanf(colon + 1, "%lf %lf %lf", &k[0], &k[1], &k[2]),
                       3);
      bs->k = realloc(bs->k, (size_t)(bs->nk + 1) * sizeof *bs->k);
      memcpy(bs->k[bs->nk++], k, sizeof k);
    } else if (line[0] != '#' && sscanf(line, "%d %lf", &band, &e) == 2) {
      if (bs->nk == 1) bs->nb = band;
      if (ne == cap)
        bs->e = realloc(bs->e, (size_t)(cap = 2 * cap + 64) * sizeof *bs->e);
      bs->e[ne++] = e;
    }
  }
  fclose(f);
  assert_true(bs->nk > 0 && bs->nb > 0);
  assert_int_equal(ne, bs->nk * bs->nb);
}

static inline void bs_free(bs_file *bs) {
  free(bs->k);
  free(bs->e);
}

#endif
