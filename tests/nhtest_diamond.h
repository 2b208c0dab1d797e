/* Diamond-structure crystals for tests and benchmarks: nc^3 conventional
 * cubic cells of lattice constant a (bohr), all Si, periodic, atoms in the
 * order (cell x, y, z, basis atom). Callers that need a variant (shifted
 * atoms, substituted elements) edit the result. */
#ifndef NEXTHAM_NHTEST_DIAMOND_H
#define NEXTHAM_NHTEST_DIAMOND_H

#include "nextham/structure.h"

static inline nh_err nh_test_diamond(int nc, double a, nh_structure **out) {
  static const double basis[8][3] = {
      {0, 0, 0},       {0, .5, .5},     {.5, 0, .5},     {.5, .5, 0},
      {.25, .25, .25}, {.25, .75, .75}, {.75, .25, .75}, {.75, .75, .25}};
  nh_structure *s = NULL;
  NH_CALL(nh_structure_create(8 * nc * nc * nc, &s));
  for (int d = 0; d < 3; d++)
    s->lattice[d][d] = nc * a;
  int k = 0;
  for (int x = 0; x < nc; x++)
    for (int y = 0; y < nc; y++)
      for (int z = 0; z < nc; z++)
        for (int b = 0; b < 8; b++, k++) {
          const int cell[3] = {x, y, z};
          for (int d = 0; d < 3; d++)
            s->pos[k][d] = (cell[d] + basis[b][d]) * a;
          s->z[k] = 14;
        }
  *out = s;
  return NH_OK;
}

#endif
