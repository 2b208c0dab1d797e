/* nextham geom: neighbour lists by cell lists (binning), O(N).
 *
 * The builder works on an explicit, non-periodic point set: periodicity
 * enters through ghost atoms (periodic images) that the halo module, or
 * nh_neighbors_build_periodic for a whole structure, appends to the owned
 * atoms. This is LAMMPS' split: domain and ghosts in one module,
 * neighbour lists over "owned + ghost" points in another. */
#ifndef NEXTHAM_NEIGHBOR_H
#define NEXTHAM_NEIGHBOR_H

#include "nextham/core.h"
#include "nextham/structure.h"

/* One directed pair: centre atom i (global index), neighbour j (global
 * index) in image n, d = tau_j + n.A - tau_i (bohr), r = |d|. i == j with
 * n == 0 (the atom itself) is included when include_self is set, because
 * on-site blocks are pairs of the block matrix too. */
typedef struct nh_pair {
  int64_t i, j;
  int n[3];
  double d[3];
  double r;
} nh_pair;

typedef struct nh_neighbors {
  int64_t npairs;
  nh_pair *pairs; /* sorted by (i, j, n1, n2, n3) */
  double rcut;    /* bohr */
} nh_neighbors;

/* Points 0..ncenter-1 are centres; all npoints (centres first, then ghosts)
 * are candidates. gid[k] and image[k] give the global atom and image shift
 * of point k; x[k] its Cartesian position. Pairs with r < rcut (strictly)
 * are kept, keyed (gid[c], gid[k], image[k]) with d = x[k] - x[c]: centres
 * must sit at image 0 and have distinct gid. A point is never its own
 * neighbour unless include_self. rcut > 0. O(npoints + pairs) time, exact
 * allocation (count pass, fill pass); the pairs take 64 bytes each. */
nh_err nh_neighbors_build(int64_t ncenter, int64_t npoints,
                          const double (*x)[3], const int64_t *gid,
                          const int (*image)[3], double rcut, int include_self,
                          nh_neighbors **nl);
/* Serial convenience: every atom of s is a centre, positions are CP2K-wrapped
 * first, and all periodic images within rcut are generated (any triclinic
 * cell, mixed periodicity, rcut larger than the cell). Memory O(N + images
 * within rcut of the cell + pairs). */
nh_err nh_neighbors_build_periodic(const nh_structure *s, double rcut,
                                   int include_self, nh_neighbors **nl);
nh_err nh_neighbors_destroy(nh_neighbors **nl);

/* The order of nh_neighbors.pairs, (i, j, n1, n2, n3), as a qsort
 * comparator of two nh_pair. */
int nh_pair_cmp(const void *pa, const void *pb);

/* Integer image ranges nmin..nmax (0 along non-periodic directions) that
 * contain every shift n with |s.A + n.A - t.A| < r for fractional s, t in
 * [-0.5, 0.5]^3: the bound used to generate images for any triclinic cell. */
void nh_image_range(const double lat[3][3], const int pbc[3], double r,
                    int nmin[3], int nmax[3]);

#endif
