/* nextham solve, sparse path (private to src/solve): the nbands eigenpairs
 * of H(k) c = e S(k) c nearest o->target, with H(k), S(k) as PETSc MPIAIJ
 * complex matrices and SLEPc Krylov-Schur + shift-and-invert (MUMPS LU).
 * See docs/solvers.md, "Sparse eigen-solver (SLEPc)".
 *
 * Every function is collective over the matrices' communicator (the
 * domain's). PETSc and SLEPc are initialised on first use, on top of the
 * MPI nextham already initialised (PETSc never finalises MPI). */
#ifndef NEXTHAM_SOLVE_SPARSE_H
#define NEXTHAM_SOLVE_SPARSE_H

#include "nextham/core.h"
#include "nextham/mat.h"
#include "nextham/solve.h"

typedef struct nh_sparse nh_sparse; /* opaque: renumbering, pattern, EPS */

/* Collective. Sets up the solver for H, S (same domain): initialises
 * PETSc/SLEPc if needed, numbers the orbitals in contiguous row ranges per
 * rank, exchanges the numbering of ghost atoms and preallocates the MPIAIJ
 * pattern. Uses o->nbands (> 0), o->target (Hartree), o->drop_tol,
 * o->ordering, o->out_of_core and o->ooc_dir. */
nh_err nh_sparse_create(const nh_mat *H, const nh_mat *S,
                        const nh_solver_opts *o, nh_sparse **sp);
nh_err nh_sparse_destroy(nh_sparse **sp);

/* Collective. One k-point (fractional reciprocal): e[nbands] in Hartree,
 * ascending, identical on every rank. When w is not NULL, w[b*nelem + el]
 * is the Mulliken weight of element elem_z[el] in band b
 * (sum_el w = 1); atoms of an element not listed count nowhere.
 * Fails (NH_ERR_NUMERIC) when fewer than nbands eigenpairs converge,
 * naming k and the count; PETSc/SLEPc failures are NH_ERR_LIB with
 * PETSc's message. Same as nh_sparse_set_k followed by nh_sparse_solve. */
nh_err nh_sparse_solve_k(nh_sparse *sp, const double k[3], double *e, int nelem,
                         const int *elem_z, double *w);

/* The two halves of nh_sparse_solve_k, so that a caller with one k-point
 * can free the real-space matrices before the factorisation: set_k builds
 * H(k), S(k); release forgets H and S (they may then be destroyed, and
 * set_k fails); solve works on the H(k), S(k) of the last set_k. */
nh_err nh_sparse_set_k(nh_sparse *sp, const double k[3]);
nh_err nh_sparse_release(nh_sparse *sp);
nh_err nh_sparse_solve(nh_sparse *sp, double *e, int nelem, const int *elem_z,
                       double *w);

/* The factorisation of the last solve (MUMPS's statistics, the same on
 * every rank; all 0 before the first solve). */
typedef struct nh_sparse_factor_info {
  nh_ordering ordering; /* the ordering MUMPS used                 */
  int parallel;         /* 1: parallel analysis (ICNTL(28) = 2)    */
  int out_of_core;      /* 1: factors on disk (ICNTL(22) = 1)      */
  double entries;       /* entries in the factors, all ranks       */
  double flops;         /* flops of the factorisation, all ranks   */
  double mem_max_mib;   /* MUMPS memory of the factorisation: the  */
  double mem_sum_mib;   /* largest rank's and the sum              */
} nh_sparse_factor_info;
nh_err nh_sparse_get_factor_info(const nh_sparse *sp, nh_sparse_factor_info *f);

/* Collective: elements stored in H(k) (the same in S(k)) over all ranks. */
nh_err nh_sparse_nnz(const nh_sparse *sp, int64_t *nnz);

/* Collective convenience: create, solve one k-point, destroy. */
nh_err nh_solve_sparse_k(const nh_mat *H, const nh_mat *S,
                         const nh_solver_opts *o, const double k[3], double *e,
                         int nelem, const int *elem_z, double *w);

/* Collective over the communicator of the first nh_sparse_create (PETSc's
 * world): finalises SLEPc/PETSc if this module initialised them. Call it
 * before MPI_Finalize; a no-op when the sparse path was never used. */
nh_err nh_sparse_finalize(void);

#endif
