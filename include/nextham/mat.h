/* nextham mat: the distributed block-sparse real-space matrix, the backbone
 * of H0, S, ΔH and H (DESIGN.md §3).
 *
 * A block is keyed by (i, j, n1, n2, n3): atoms i, j (global, 0-based) and
 * the lattice image n of j, and holds the dense norb(i) x norb(j) block
 * M(n)_ij = <phi_i(r - tau_i)| M |phi_j(r - tau_j - n.A)>, row-major.
 * The rank that owns atom i owns every block (i, ., .). Both (i, j, n) and
 * (j, i, -n) = transpose are stored (each on its owner), so that a rank
 * can form its rows of M(k) without communication.
 *
 * Storage per rank (docs/block-sparse.md): the blocks of owned atoms, their
 * values in one contiguous buffer grown by doubling, keys and offsets in an
 * array and a hash from key to block. Memory is O(blocks of owned atoms).
 * Pointers returned by nh_mat_get_block / nh_mat_block stay valid until a
 * block is created (set/add of a new key, assemble, symmetrize, axpy). */
#ifndef NEXTHAM_MAT_H
#define NEXTHAM_MAT_H

#include "nextham/core.h"
#include "nextham/domain.h"

typedef struct nh_mat nh_mat; /* opaque */

typedef struct nh_block_key {
  int64_t i, j;
  int n[3];
} nh_block_key;

/* Order of blocks: by i, then j, then n1, n2, n3 (qsort-style result). */
int nh_block_key_cmp(const nh_block_key *a, const nh_block_key *b);

/* Collective. norb_of_z[Z] is the number of orbitals of element Z
 * (array of 119; 0 for elements absent). The domain must outlive the
 * matrix. name is e.g. "H", "S", "H0" (used in messages and files).
 * Fails (NH_ERR_INPUT) if an owned or ghost atom has no orbitals. */
nh_err nh_mat_create(const nh_domain *dom, const int *norb_of_z,
                     const char *name, nh_mat **m);
nh_err nh_mat_destroy(nh_mat **m);
/* Collective. A matrix with the same layout and blocks, values copied (or
 * zeroed). Remote blocks must have been assembled. */
nh_err nh_mat_duplicate(const nh_mat *m, int copy_values, const char *name,
                        nh_mat **out);

const char *nh_mat_name(const nh_mat *m);
const nh_domain *nh_mat_domain(const nh_mat *m);
/* Orbitals of an atom owned or ghost here; -1 if this rank does not know it. */
int nh_mat_norb(const nh_mat *m, int64_t gid);
/* Optional: preallocates room for nblocks blocks and nvalues doubles in
 * total (e.g. from the neighbour list), to avoid regrowth. Local. */
nh_err nh_mat_reserve(nh_mat *m, int64_t nblocks, int64_t nvalues);
/* Checks that blocks of atoms i, j (known here) are nrow x ncol: readers
 * call it with the shapes of their data before set_block, so that a basis
 * that disagrees with norb_of_z is reported (NH_ERR_INPUT) rather than read
 * out of bounds. */
nh_err nh_mat_check_shape(const nh_mat *m, int64_t i, int64_t j, int nrow,
                          int ncol);

/* Local block access. Atom i must be owned by this rank and atom j known
 * to it (owned or ghost; otherwise the halo is too small): both are
 * NH_ERR_ARG errors naming the block. block holds norb(i) x norb(j)
 * doubles, row-major. set copies the block in (creating it if absent); add
 * accumulates (creating it as zero first); get returns a pointer into the
 * matrix storage, or NULL if the block is absent or i is not owned. */
nh_err nh_mat_set_block(nh_mat *m, int64_t i, int64_t j, const int n[3],
                        const double *block);
nh_err nh_mat_add_block(nh_mat *m, int64_t i, int64_t j, const int n[3],
                        const double *block);
double *nh_mat_get_block(const nh_mat *m, int64_t i, int64_t j, const int n[3]);

/* Iteration over local blocks, k = 0 .. nblocks-1: in creation order, and
 * sorted by key (i, j, n1, n2, n3) after nh_mat_assemble / symmetrize /
 * axpy, so that the order of the blocks of an atom i is the same for any
 * number of ranks. key and values may be NULL. */
int64_t nh_mat_nblocks(const nh_mat *m);
void nh_mat_block(const nh_mat *m, int64_t k, nh_block_key *key,
                  double **values);
int64_t nh_mat_nvalues(const nh_mat *m); /* local doubles stored */

/* Blocks may be set by any rank for atoms i it does not own through
 * nh_mat_set_remote / nh_mat_add_remote (buffered locally, no
 * communication) and are delivered to the owner of i in nh_mat_assemble
 * (collective); then blocks are sorted by key. The sender must know both
 * atoms (owned or ghost here): the owner of i is nh_domain_owner(dom, i)
 * and the shape comes from norb(i), norb(j). Owned atoms i are allowed too.
 * Delivery order: by source rank, then call order; a "set" overwrites what
 * was there (including earlier deliveries), an "add" accumulates. The
 * exchange is one MPI_Alltoall of counts and MPI_Alltoallv of the blocks;
 * at most 2^31 - 1 doubles per rank and step. */
nh_err nh_mat_set_remote(nh_mat *m, int64_t i, int64_t j, const int n[3],
                         const double *block);
nh_err nh_mat_add_remote(nh_mat *m, int64_t i, int64_t j, const int n[3],
                         const double *block);
nh_err nh_mat_assemble(nh_mat *m);

/* Collective. Completes the transpose symmetry M(-n)_ji = M(n)_ij^T: the
 * partner of block (i, j, n) is (j, i, -n), owned by the owner of j, to
 * which the transpose is sent. mode "fill" creates each missing partner as
 * the transpose and leaves existing blocks alone; "mean" does the same and
 * replaces both blocks of each existing pair by their average, so that the
 * symmetry holds exactly (an on-site block (i, i, 0) becomes (A + A^T)/2).
 * Either way, only pairs with exactly one block present are completed. */
nh_err nh_mat_symmetrize(nh_mat *m, const char *mode);
/* Collective: max |M(n)_ij - M(-n)_ji^T| over all blocks (missing blocks
 * count as zero). */
nh_err nh_mat_symmetry_error(const nh_mat *m, double *maxerr);

/* Collective norms over all blocks: Frobenius and max abs. */
nh_err nh_mat_norm_fro(const nh_mat *m, double *nrm);
nh_err nh_mat_norm_max(const nh_mat *m, double *nrm);
void nh_mat_scale(nh_mat *m, double a);
/* Y += a X. Blocks of X missing in Y are created (local, no communication).
 * X and Y must share the domain. */
nh_err nh_mat_axpy(nh_mat *y, double a, const nh_mat *x);
/* Collective: <X, Y> = sum of elementwise products over matching blocks
 * (a block missing in either counts as zero). Same domain. */
nh_err nh_mat_dot(const nh_mat *x, const nh_mat *y, double *dot);

/* Gauge (DESIGN.md §1.4). Collective.
 * mu* = <Htrue - Hpred, S> / <S, S>; gauge MAE = mean |Hpred + mu* S - Htrue|
 * over all elements of all blocks present in Htrue; maxerr likewise max.
 * Blocks of Hpred or S missing where Htrue has one count as zero; the dot
 * products run over all blocks, so mu* minimises the squared error over
 * every element of every block. All three share the domain. s may be NULL
 * (no shift: mu* = 0, plain MAE), and mu* = 0 when <S, S> = 0; maxerr may
 * be NULL. */
nh_err nh_mat_gauge(const nh_mat *hpred, const nh_mat *htrue, const nh_mat *s,
                    double *mu, double *mae, double *maxerr);

/* Collective: number of blocks and doubles over all ranks. */
nh_err nh_mat_global_size(const nh_mat *m, int64_t *nblocks, int64_t *nvalues);

#endif
