/* nextham solve: k-points for band structures and densities of states.
 *
 * k-points are fractional reciprocal coordinates: k_cart = 2 pi sum_i k_i b_i
 * with a_i . b_j = delta_ij (DESIGN.md §2). Distances along a path are
 * |Delta k_cart| in Å^-1 (docs/bands.md). */
#ifndef NEXTHAM_KPOINTS_H
#define NEXTHAM_KPOINTS_H

#include <stddef.h>

#include "nextham/core.h"
#include "nextham/structure.h"

/* A special point of a path. brk = 1: the path jumps to this point from the
 * previous one (written "K|U" in the Setyawan-Curtarolo notation); the
 * first point's brk is ignored. Labels are ASCII; "G" stands for Gamma. */
typedef struct nh_kpoint_label {
  char label[16];
  double k[3];
  int brk;
} nh_kpoint_label;

/* A path sampled for a band structure. */
typedef struct nh_kpath {
  int nk;
  double (*k)[3];     /* nk fractional k-points                          */
  double *dist;       /* nk cumulative distance, Å^-1 (no jump at breaks) */
  int nlabels;        /* one per special point                           */
  int *label_k;       /* nlabels: index of the k-point of each label     */
  char (*label)[16];  /* nlabels                                          */
} nh_kpath;

/* Samples a path through np >= 2 special points. Each segment between two
 * consecutive points (except across a break) gets `nseg` intervals, or, when
 * density > 0, max(1, ceil(length * density)) intervals (density in points
 * per Å^-1). The end point of a segment is the start of the next one (not
 * repeated); across a break both points are kept, at the same distance.
 * lat: rows a1, a2, a3 in bohr. A segment of zero length is an error
 * (NH_ERR_INPUT naming the two labels). */
nh_err nh_kpath_create(const double lat[3][3], int np,
                       const nh_kpoint_label *pts, int nseg, double density,
                       nh_kpath **path);
nh_err nh_kpath_destroy(nh_kpath **path);

/* The standard path of the structure's lattice (Setyawan & Curtarolo,
 * Comput. Mater. Sci. 49, 299 (2010)), found with spglib (symprec in Å):
 * cubic P, F, I; tetragonal P, I (BCT1 c < a, BCT2 c > a); orthorhombic P;
 * hexagonal (and trigonal P); rhombohedral (RHL1 alpha < 90, RHL2 above).
 * Other lattices get the generic path G-X-S-Y-G-Z-U-R-T-Z in the cell's own
 * reciprocal basis (X = (1/2,0,0), Y = (0,1/2,0), Z = (0,0,1/2), S, T, U,
 * R the face and body centres) with a warning in *lattice_name. Points are
 * returned in the fractional reciprocal coordinates of s->lattice. Along a
 * non-periodic direction a point with a non-zero component is dropped and
 * the path broken there (a 2-D hexagonal layer gives G-M-K-G). *pts is
 * allocated (free with nh_free). lattice_name receives e.g. "FCC". Labels
 * are ASCII: "G" for Gamma, "SIGMA", "SIGMA1" for BCT2's Sigma points. */
nh_err nh_kpath_auto(const nh_structure *s, double symprec, int *np,
                     nh_kpoint_label **pts, char *lattice_name, size_t len);

/* A k-point mesh with weights (sum 1). */
typedef struct nh_kmesh {
  int nk;
  double (*k)[3]; /* fractional, each component in (-1/2, 1/2]           */
  double *w;      /* weights, sum 1                                       */
} nh_kmesh;

/* Monkhorst-Pack mesh n1 x n2 x n3: k_i = (r_i + s_i - (n_i - 1)/2) / n_i,
 * r_i = 0 .. n_i - 1, i.e. Gamma-centred for odd n_i and shifted by half a
 * step for even n_i (Monkhorst & Pack 1976), plus an optional shift s_i in
 * units of the mesh step (NULL: none). With time_reversal, k and -k (equal
 * band energies since H(-k) = H(k)*) are merged into one point of double
 * weight; this needs 2 s_i integer (else the mesh stays complete). Points
 * are in order r3 fastest; a merged point keeps the place of the first. */
nh_err nh_kmesh_mp(const int n[3], const double *shift, int time_reversal,
                   nh_kmesh **mesh);
nh_err nh_kmesh_destroy(nh_kmesh **mesh);

#endif
