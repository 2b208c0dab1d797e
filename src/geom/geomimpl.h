/* Private helpers of the geom module (neighbour lists, domain, halo). */
#ifndef NEXTHAM_GEOMIMPL_H
#define NEXTHAM_GEOMIMPL_H

#include <math.h>

#include "nextham/core.h"

/* x = tau + n.A. The serial builder and the halo exchange both call this one
 * function, so that a ghost's position is bitwise the position the serial
 * list uses and distributed pairs carry exactly the serial d. */
static inline void nh_image_pos(const double lat[3][3], const double tau[3],
                                const int n[3], double x[3]) {
  for (int c = 0; c < 3; c++)
    x[c] = tau[c] + (n[0] * lat[0][c] + n[1] * lat[1][c] + n[2] * lat[2][c]);
}

/* Squared distance from point x to the axis-aligned box [lo, hi]. */
static inline double nh_box_dist2(const double lo[3], const double hi[3],
                                  const double x[3]) {
  double s = 0;
  for (int c = 0; c < 3; c++) {
    double g = x[c] < lo[c] ? lo[c] - x[c] : (x[c] > hi[c] ? x[c] - hi[c] : 0);
    s += g * g;
  }
  return s;
}

/* Lengths |b_k| of the reciprocal vectors (a_i . b_k = delta_ik): 1/|b_k| is
 * the distance between neighbouring lattice planes spanned by the other two
 * vectors, which bounds how many images a sphere of radius r can cross. */
nh_err nh_geom_plane_inv(const double lat[3][3], double recip[3][3],
                         double blen[3]);

#endif
