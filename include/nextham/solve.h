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
 * eigenvectors of S), with a warning giving k and the number dropped.
 *
 * Eigenvectors are computed only when something needs them (Mulliken
 * weights, or the projection of an ill-conditioned S(k)): plain band
 * energies use ELPA's eigenvalues-only path and pzhegvx with jobz = 'N'.
 *
 * Call nh_solve_finalize() once after the last solve, before MPI_Finalize. */
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

/* Fill-reducing ordering of the sparse factorisation (MUMPS; the sequential
 * ones run on one rank during the analysis, the parallel ones on all).
 * METIS, SCOTCH and their parallel versions exist only when the MUMPS
 * library has them (docs/solvers.md); otherwise MUMPS falls back to its
 * own choice with a warning. */
typedef enum nh_ordering {
  NH_ORDERING_AUTO = 0, /* MUMPS's choice                        */
  NH_ORDERING_AMD,      /* approximate minimum degree            */
  NH_ORDERING_AMF,      /* approximate minimum fill              */
  NH_ORDERING_QAMD,     /* AMD with quasi-dense row detection    */
  NH_ORDERING_PORD,     /* PORD nested dissection (in MUMPS)     */
  NH_ORDERING_SCOTCH,   /* SCOTCH nested dissection              */
  NH_ORDERING_METIS,    /* METIS nested dissection               */
  NH_ORDERING_PTSCOTCH, /* PT-SCOTCH, parallel analysis          */
  NH_ORDERING_PARMETIS  /* ParMETIS, parallel analysis           */
} nh_ordering;

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
  nh_ordering ordering; /* sparse: fill-reducing ordering (AUTO)            */
  int out_of_core;      /* sparse: MUMPS writes the factors to ooc_dir      */
  char ooc_dir[512];    /* sparse: "" = $MUMPS_OOC_TMPDIR, else /tmp        */
  int elpa_kernel;      /* ELPA 2-stage complex kernel: 0 = ELPA's default
                           (the build's best one, or the environment
                           variable ELPA_DEFAULT_complex_kernel), else an id
                           from nh_solver_elpa_kernel_parse                  */
} nh_solver_opts;

void nh_solver_opts_default(nh_solver_opts *o);
const char *nh_solver_name(nh_solver_kind k);
/* "elpa2", "elpa1", "scalapack", "slepc" -> kind; error names the value. */
nh_err nh_solver_parse(const char *name, nh_solver_kind *k);

/* ELPA 2-stage complex kernels by ELPA's names without the
 * ELPA_2STAGE_COMPLEX_ prefix, in lower case: "default" -> 0, "generic",
 * "generic_simple", "sse_block1", "avx2_block1", "avx512_block1", ... ->
 * ELPA's id. The error lists the names. Whether the ELPA library in use has
 * the kernel is checked when a solver is set up (NH_ERR_INPUT if not). */
nh_err nh_solver_elpa_kernel_parse(const char *name, int *kernel);
/* Name of a kernel id ("default" for 0, "unknown" if none). */
const char *nh_solver_elpa_kernel_name(int kernel);
/* The kernel ELPA 2-stage uses with o->elpa_kernel in the ELPA library
 * linked at run time (ELPA's default when 0). Local, any rank. */
nh_err nh_solver_elpa_kernel_in_use(const nh_solver_opts *o, int *kernel);
/* "auto", "amd", "amf", "qamd", "pord", "scotch", "metis", "ptscotch",
 * "parmetis" -> ordering; the error names the value. */
const char *nh_ordering_name(nh_ordering o);
nh_err nh_ordering_parse(const char *name, nh_ordering *o);

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

/* Releases the solver libraries' global state: finalises SLEPc/PETSc if
 * nextham initialised them, and ELPA. Call once on every rank after the
 * last solve and before MPI_Finalize; a no-op for libraries never used.
 * No solver may run afterwards. */
nh_err nh_solve_finalize(void);

#endif
