/* nextham solve: band energies at k-points from distributed real-space
 * H(n), S(n) (DESIGN.md §6).
 *
 *   H(k) = sum_n H(n) exp(+2 pi i k.n), likewise S(k), k in fractional
 *   reciprocal coordinates (DESIGN.md §2), solved as H(k) c = e S(k) c.
 *
 * Dense path: H(k), S(k) built straight into 2D block-cyclic ScaLAPACK
 * matrices on a process grid of a k-group (sub-communicator); ELPA
 * (1- or 2-stage) or ScaLAPACK pzhegvx. k-points are spread over k-groups.
 * Sparse path: PETSc MPIAIJ complex matrices, SLEPc Krylov-Schur with
 * shift-and-invert (MUMPS) for the nbands eigenpairs nearest `target`.
 * No rank ever holds a whole matrix.
 *
 * Ill-conditioned overlap: eigenvalues of S(k) below s_threshold are
 * projected out (the problem is solved in the span of the remaining
 * eigenvectors of S), with a warning giving k and the number dropped. */
#ifndef NEXTHAM_SOLVE_H
#define NEXTHAM_SOLVE_H

#include "nextham/core.h"
#include "nextham/mat.h"

typedef enum nh_solver_kind {
  NH_SOLVER_ELPA2,     /* ELPA 2-stage (default dense) */
  NH_SOLVER_ELPA1,     /* ELPA 1-stage                 */
  NH_SOLVER_SCALAPACK, /* ScaLAPACK pzhegvx            */
  NH_SOLVER_SLEPC      /* SLEPc shift-and-invert        */
} nh_solver_kind;

typedef struct nh_solver_opts {
  nh_solver_kind kind;
  int nbands;         /* dense: lowest nbands (0 = all); sparse: nearest  */
  double target;      /* sparse: energy (Hartree) the bands are nearest to */
  double s_threshold; /* S(k) eigenvalues below are projected out (1e-6)   */
  int kgroups;        /* number of k-groups (0 = choose)                   */
  int block;          /* block-cyclic block size (0 = choose)              */
  int want_mulliken;  /* compute per-element Mulliken weights              */
  double drop_tol;    /* sparse: drop |M_ij| < drop_tol (Hartree), 0 keep  */
  int s_check;        /* dense: 1 = diagonalise S(k) at every k; 0 (default)
                         = only when its Cholesky factorisation fails or its
                         condition estimate flags it (docs/solvers.md)      */
} nh_solver_opts;

void nh_solver_opts_default(nh_solver_opts *o);
const char *nh_solver_name(nh_solver_kind k);
/* "elpa2", "elpa1", "scalapack", "slepc" -> kind; error names the value. */
nh_err nh_solver_parse(const char *name, nh_solver_kind *k);

/* Band energies for nk k-points. Every rank receives everything.
 * Dense solvers: nb = min(nbands, orbitals) (all when nbands = 0). Where
 * S(k) directions were projected out and fewer than nb remain, the missing
 * bands are +inf (HUGE_VAL) with zero Mulliken weights, so that e stays an
 * nk x nb array without NaN. */
typedef struct nh_bands {
  int nk, nb;          /* nb = bands per k-point                          */
  double (*k)[3];      /* nk, fractional reciprocal                       */
  double *e;           /* nk*nb, Hartree, ascending per k                 */
  int nelem;           /* elements for Mulliken weights (0 if none)       */
  int *elem_z;         /* nelem atomic numbers                            */
  double *w;           /* nk*nb*nelem Mulliken weights (sum 1 per band)   */
  int *ndropped;       /* nk: S(k) directions projected out               */
} nh_bands;

nh_err nh_bands_destroy(nh_bands **b);

/* Collective over the matrices' communicator. H and S on the same domain. */
nh_err nh_solve_kpoints(const nh_mat *H, const nh_mat *S,
                        const nh_solver_opts *o, int nk,
                        const double (*kpts)[3], nh_bands **bands);

#endif
