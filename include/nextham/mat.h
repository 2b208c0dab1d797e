/* nextham mat: the distributed block-sparse real-space matrix, the backbone
 * of H0, S, ΔH and H (DESIGN.md §3).
 *
 * A block is keyed by (i, j, n1, n2, n3): atoms i, j (global, 0-based) and
 * the lattice image n of j, and holds the dense norb(i) x norb(j) block
 * M(n)_ij = <phi_i(r - tau_i)| M |phi_j(r - tau_j - n.A)>, row-major.
 * The rank that owns atom i owns every block (i, ., .). Both (i, j, n) and
 * (j, i, -n) = transpose are stored (each on its owner), so that a rank
 * can form its rows of M(k) without communication. */
#ifndef NEXTHAM_MAT_H
#define NEXTHAM_MAT_H

#include "nextham/core.h"
#include "nextham/domain.h"

typedef struct nh_mat nh_mat; /* opaque */

typedef struct nh_block_key {
  int64_t i, j;
  int n[3];
} nh_block_key;

/* Collective. norb_of_z[Z] is the number of orbitals of element Z
 * (array of 119; 0 for elements absent). The domain must outlive the
 * matrix. name is e.g. "H", "S", "H0" (used in messages and files). */
nh_err nh_mat_create(const nh_domain *dom, const int *norb_of_z,
                     const char *name, nh_mat **m);
nh_err nh_mat_destroy(nh_mat **m);
/* A matrix with the same layout and blocks, values copied (or zeroed). */
nh_err nh_mat_duplicate(const nh_mat *m, int copy_values, const char *name,
                        nh_mat **out);

const char *nh_mat_name(const nh_mat *m);
const nh_domain *nh_mat_domain(const nh_mat *m);
int nh_mat_norb(const nh_mat *m, int64_t gid); /* atom known to this rank */

/* Local block access. Atom i must be owned by this rank. set copies the
 * block in (creating it if absent); add accumulates; get returns a pointer
 * into the matrix storage, or NULL if the block is absent. */
nh_err nh_mat_set_block(nh_mat *m, int64_t i, int64_t j, const int n[3],
                        const double *block);
nh_err nh_mat_add_block(nh_mat *m, int64_t i, int64_t j, const int n[3],
                        const double *block);
double *nh_mat_get_block(const nh_mat *m, int64_t i, int64_t j, const int n[3]);

/* Iteration over local blocks in a stable order (sorted by key after
 * nh_mat_assemble). */
int64_t nh_mat_nblocks(const nh_mat *m);
void nh_mat_block(const nh_mat *m, int64_t k, nh_block_key *key,
                  double **values);
int64_t nh_mat_nvalues(const nh_mat *m); /* local doubles stored */

/* Collective. Blocks may be set by any rank for any atom i through
 * nh_mat_set_remote / nh_mat_add_remote (buffered), and are delivered
 * to their owners here; then blocks are sorted by key. */
nh_err nh_mat_set_remote(nh_mat *m, int64_t i, int64_t j, const int n[3],
                         const double *block);
nh_err nh_mat_add_remote(nh_mat *m, int64_t i, int64_t j, const int n[3],
                         const double *block);
nh_err nh_mat_assemble(nh_mat *m);

/* Collective. Completes the transpose symmetry: for every block (i, j, n)
 * creates or overwrites (j, i, -n) with its transpose, so that
 * M(-n)_ji = M(n)_ij^T holds exactly. mode "mean" averages both when both
 * exist (symmetrising round-off), "fill" only creates missing ones. */
nh_err nh_mat_symmetrize(nh_mat *m, const char *mode);
/* Collective: max |M(n)_ij - M(-n)_ji^T| over all blocks (missing blocks
 * count as zero). */
nh_err nh_mat_symmetry_error(const nh_mat *m, double *maxerr);

/* Collective norms over all blocks: Frobenius and max abs. */
nh_err nh_mat_norm_fro(const nh_mat *m, double *nrm);
nh_err nh_mat_norm_max(const nh_mat *m, double *nrm);
void nh_mat_scale(nh_mat *m, double a);
/* Y += a X. Blocks of X missing in Y are created (local, no communication). */
nh_err nh_mat_axpy(nh_mat *y, double a, const nh_mat *x);
/* Collective: <X, Y> = sum of elementwise products over matching blocks. */
nh_err nh_mat_dot(const nh_mat *x, const nh_mat *y, double *dot);

/* Gauge (DESIGN.md §1.4). Collective.
 * mu* = <Htrue - Hpred, S> / <S, S>; gauge MAE = mean |Hpred + mu* S - Htrue|
 * over all elements of all blocks present in Htrue; maxerr likewise max.
 * Blocks of Hpred or S missing where Htrue has one count as zero. */
nh_err nh_mat_gauge(const nh_mat *hpred, const nh_mat *htrue, const nh_mat *s,
                    double *mu, double *mae, double *maxerr);

/* Collective: number of blocks and doubles over all ranks. */
nh_err nh_mat_global_size(const nh_mat *m, int64_t *nblocks, int64_t *nvalues);

#endif
