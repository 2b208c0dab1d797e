/* nextham solve, sparse path: internals shared by src/solve/sparse.c and
 * src/solve/bloch_petsc.c (PETSc types; kept out of sparse.h so that the
 * solve dispatch needs no PETSc header). */
#ifndef NEXTHAM_SOLVE_SPARSEIMPL_H
#define NEXTHAM_SOLVE_SPARSEIMPL_H

#include <petscmat.h>

#include "sparse.h"

/* PETSc error codes become NH_ERR_LIB at the call site, with PETSc's
 * message (PETSc's own printing is switched off by nh_sparse_create). */
nh_err nh_petsc_error(PetscErrorCode rc, const char *file, int line,
                      const char *func, const char *expr);
#define NH_PETSC(expr)                                                         \
  do {                                                                         \
    PetscErrorCode nh_petsc_rc_ = (expr);                                      \
    if (nh_petsc_rc_)                                                          \
      return nh_petsc_error(nh_petsc_rc_, __FILE__, __LINE__, __func__,        \
                            #expr);                                            \
  } while (0)
#define NH_PETSC_GOTO(expr, label)                                             \
  do {                                                                         \
    PetscErrorCode nh_petsc_rc_ = (expr);                                      \
    if (nh_petsc_rc_) {                                                        \
      err = nh_petsc_error(nh_petsc_rc_, __FILE__, __LINE__, __func__, #expr); \
      goto label;                                                              \
    }                                                                          \
  } while (0)

/* H(k), S(k) of a pair of block-sparse matrices as PETSc MPIAIJ matrices
 * with one fixed pattern (docs/solvers.md): the owned atoms of a rank,
 * sorted by global index, get consecutive rows from the rank's offset. */
struct nh_bloch_group; /* (i, j) atom pair and its images n */
typedef struct nh_bloch_petsc {
  const nh_ctx *ctx; /* the domain's */
  MPI_Comm comm;
  PetscInt nrow, row0, nglobal; /* local rows, first global row, total  */
  int *row_z;                   /* nrow: atomic number of the row's atom */
  Mat H, S;                     /* values of the last nh_bloch_petsc_fill */
  double drop_tol;
  /* pattern: groups of owned atom a are group[gstart[a] .. gstart[a+1]) */
  int64_t nlocal, ngroups, nent;
  int64_t *gstart;
  PetscInt *atom_row; /* nlocal + 1: first local row of each owned atom */
  struct nh_bloch_group *group;
  struct nh_bloch_ent *ent;
  int maxcols; /* largest number of columns of an atom's rows */
  int real_k;  /* the last k had 2k integral: H(k), S(k) real */
} nh_bloch_petsc;

/* Collective. Keeps pointers into H and S: they must not gain blocks while
 * bp exists. drop_tol >= 0 (see docs/solvers.md). */
nh_err nh_bloch_petsc_create(const nh_mat *H, const nh_mat *S, double drop_tol,
                             nh_bloch_petsc **bp);
/* Whether 2k is integral (Gamma, zone-boundary TRIM points): there every
 * phase is exactly +-1 and H(k), S(k) are real symmetric. */
int nh_bloch_real_k(const double k[3]);
/* Collective: bp->H, bp->S = H(k), S(k), assembled, flagged
 * MAT_SYMMETRIC when real. */
nh_err nh_bloch_petsc_fill(nh_bloch_petsc *bp, const double k[3]);
/* Local: frees the pattern, which points into H and S; fill then fails. */
void nh_bloch_petsc_release(nh_bloch_petsc *bp);
nh_err nh_bloch_petsc_destroy(nh_bloch_petsc **bp);

#endif
