/* nextham mat: exact supercells of a real-space matrix (docs/bands.md).
 *
 * The m1 x m2 x m3 supercell has lattice rows m_k a_k. Atom a of the
 * primitive cell in cell t = (t1, t2, t3), 0 <= t_k < m_k, becomes atom
 *   a + natoms (t1 + m1 (t2 + m2 t3))
 * at tau_a + t.A (tau_a: the primitive's CP2K-wrapped position). Block
 * (a, b, n) of the primitive, seen from cell t, connects (a, t) with
 * (b, t_b) where t + n = t_b + m n' (componentwise floor division), in
 * supercell image n' corrected for the wrapping of both atoms into the
 * supercell. Every matrix element is copied exactly: the supercell's
 * eigenvalues at K are the primitive's at the k with m k = K mod 1. */
#ifndef NEXTHAM_SUPERCELL_H
#define NEXTHAM_SUPERCELL_H

#include "nextham/core.h"
#include "nextham/mat.h"
#include "nextham/structure.h"

/* The supercell structure (positions as above, in bohr; pbc and z of the
 * primitive). m_k >= 1, and 1 along non-periodic directions. */
nh_err nh_supercell_structure(const nh_structure *prim, const int m[3],
                              nh_structure **sc);

/* Collective. Largest |tau_j + n.A - tau_i| (bohr) over the blocks of M
 * (prim: the structure M's domain was made from). The halo a domain needs
 * to hold M, and its supercell. */
nh_err nh_supercell_pair_range(const nh_mat *M, const nh_structure *prim,
                               double *range);

/* Collective over both domains' communicator (the same one). Tiles M (on a
 * domain of prim) into a new matrix named `name` on scdom, a domain of
 * sc = nh_supercell_structure(prim, m) whose halo covers
 * nh_supercell_pair_range(M). Every rank receives a copy of all blocks of
 * M (the primitive is small) and fills the blocks of its own supercell
 * atoms; no communication of supercell blocks. */
nh_err nh_supercell_tile(const nh_mat *M, const nh_structure *prim,
                         const nh_structure *sc, const int m[3],
                         const nh_domain *scdom, const int *norb_of_z,
                         const char *name, nh_mat **out);

#endif
