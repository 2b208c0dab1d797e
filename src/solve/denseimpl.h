/* nextham solve, dense path (private to src/solve): one k-group's 2D
 * block-cyclic ScaLAPACK layout, its generalized eigen-solver (ELPA 1/2-stage
 * or pzhegvx) with the projection of an ill-conditioned S(k), Mulliken
 * weights, and the Bloch sums that fill its matrices. docs/solvers.md. */
#ifndef NEXTHAM_SOLVE_DENSEIMPL_H
#define NEXTHAM_SOLVE_DENSEIMPL_H

#include <complex.h>
#include <elpa/elpa.h>

#include "nextham/core.h"
#include "nextham/mat.h"
#include "nextham/solve.h"

/* Solver of one k-group: BLACS grid (as square as possible, row-major
 * numbering: group rank = prow * npcol + pcol), matrices of order n in
 * nblk x nblk blocks, and four local work matrices of lld x ncols
 * (column-major): h and s receive H(k), S(k); s survives the solve (for the
 * Mulliken weights); f is scratch; z receives the eigenvectors. */
typedef struct nh_dense {
  MPI_Comm comm; /* the k-group (not owned)  */
  int blacs_sys, ctxt;
  int nprow, npcol, myrow, mycol;
  int n, nblk, nev;
  int nrows, ncols, lld; /* local rows, columns, leading dimension */
  int desc[9];
  nh_solver_kind kind;
  double s_threshold;
  int s_check;
  int vectors; /* eigenvectors wanted (o->want_mulliken); else values only */
  elpa_t elpa; /* ELPA kinds only */
  double complex *h, *s, *f, *z;
  double *ev; /* n; the lowest nev are the result (+inf past the kept) */
} nh_dense;

/* Collective over comm. n >= 1, 1 <= nev <= n, nblk >= 1. Eigenvectors
 * are computed only if o->want_mulliken; o->elpa_kernel for ELPA 2-stage. */
nh_err nh_dense_create(MPI_Comm comm, int n, int nblk, int nev,
                       const nh_solver_opts *o, nh_dense **d);
nh_err nh_dense_destroy(nh_dense **d);
/* ELPA's global state (nh_solve_finalize). */
nh_err nh_dense_finalize(void);

/* Grid shape for p ranks: nprow <= npcol, nprow * npcol = p, nprow the
 * largest divisor of p not above sqrt(p). */
void nh_dense_grid_shape(int p, int *nprow, int *npcol);

/* Block-cyclic maps of a global index g (0-based) along a dimension of
 * nproc processes: owner process and local index there. */
static inline int nh_bc_owner(int64_t g, int nblk, int nproc) {
  return (int)((g / nblk) % nproc);
}
static inline int nh_bc_local(int64_t g, int nblk, int nproc) {
  return (int)((g / ((int64_t)nblk * nproc)) * nblk + g % nblk);
}
/* Global index of local index l on process p. */
static inline int64_t nh_bc_global(int l, int p, int nblk, int nproc) {
  return ((int64_t)(l / nblk) * nproc + p) * nblk + l % nblk;
}

/* Collective over the group. Solves H c = e S c for the lowest nev pairs
 * from d->h (destroyed) and d->s (kept). Decides on a projection of S(k):
 * always when s_check, else when the Cholesky factorisation of S fails or
 * its condition estimate says the smallest eigenvalue may be below 10 x
 * s_threshold. On return d->ev[0..nev-1] (Hartree, ascending; +inf for
 * bands past the kept dimension), if d->vectors d->z the S-orthonormal
 * eigenvectors (columns 0..nev-1, zero past the kept dimension; otherwise
 * d->z is scratch), *ndropped the number of
 * S(k) directions projected out and *smin the smallest S(k) eigenvalue
 * (NAN when S was not diagonalised). Library failures are NH_ERR_LIB,
 * numerical ones NH_ERR_NUMERIC; the same on every rank of the group. */
nh_err nh_dense_solve(nh_dense *d, int *ndropped, double *smin);

/* Collective over the group; d->vectors. Mulliken weights of the nev bands
 * in d->z:
 * w[b * nelem + e] = sum over rows i of element e of Re(conj(c_ib) (S c_b)_i),
 * with elem_of_lrow[l] the element index of local row l (-1: none). Uses
 * d->f as scratch. Identical on every rank of the group. */
nh_err nh_dense_mulliken(nh_dense *d, const int *elem_of_lrow, int nelem,
                         double *w);

/* ---------------------------------------------------------------------------
 * Bloch sums straight into the block-cyclic matrices of every k-group.
 * ------------------------------------------------------------------------- */

/* The k-groups of a communicator: group g is the contiguous rank range
 * [first[g], first[g + 1]) with a grid nprow[g] x npcol[g] (from
 * nh_dense_grid_shape); grid process (r, c) of group g is rank
 * first[g] + r * npcol[g] + c of the communicator. */
typedef struct nh_kgroups {
  int ngroups, mygroup;
  int *first, *nprow, *npcol; /* ngroups + 1, ngroups, ngroups */
  int nblk;                   /* block size, common to all groups */
} nh_kgroups;

/* Orbital layout (every rank holds it: O(N) ints, N = atoms) and the
 * local blocks of H and S sorted by atom pair. */
typedef struct nh_bloch nh_bloch;

/* Collective over the domain's ranks. H and S share the domain. */
nh_err nh_bloch_create(const nh_mat *H, const nh_mat *S, nh_bloch **b);
nh_err nh_bloch_destroy(nh_bloch **b);
int64_t nh_bloch_norb(const nh_bloch *b); /* total orbitals          */
int64_t nh_bloch_natoms(const nh_bloch *b);
const int64_t *nh_bloch_offsets(const nh_bloch *b); /* natoms + 1       */
const int *nh_bloch_z(const nh_bloch *b);           /* natoms atomic numbers */

/* Collective over the domain's ranks: H(k_g), S(k_g) of every group g with
 * has_k[g] into the matrices of its solver; this rank's group solver d
 * (filled when has_k[mygroup]). One MPI_Alltoallv of (row, col, H, S)
 * elements, summed over n by the sender; no rank holds more than its
 * share of the groups' matrices plus its own blocks' Bloch sums. */
nh_err nh_bloch_fill(const nh_bloch *b, const nh_kgroups *kg,
                     const double (*kg_k)[3], const int *has_k, nh_dense *d);

#endif
