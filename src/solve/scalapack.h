/* nextham solve (private): prototypes of BLACS, ScaLAPACK and LAPACK, which
 * ship no C headers (DESIGN.md §7). Declared once, here.
 *
 * Fortran routines take every argument by reference and, after the last
 * argument, one hidden length (size_t, gfortran >= 8) per CHARACTER
 * argument, in order. The BLACS grid is set up with the C BLACS interface
 * (Csys2blacs_handle takes an MPI communicator, which the Fortran
 * interface cannot). Complex numbers are double complex (Fortran
 * COMPLEX*16 has the same layout). */
#ifndef NEXTHAM_SOLVE_SCALAPACK_H
#define NEXTHAM_SOLVE_SCALAPACK_H

#include <complex.h>
#include <mpi.h>
#include <stddef.h>

/* ScaLAPACK array descriptor entries (0-based positions in desc[9]). */
enum {
  NH_DESC_CTXT = 1,
  NH_DESC_M = 2,
  NH_DESC_N = 3,
  NH_DESC_MB = 4,
  NH_DESC_NB = 5,
  NH_DESC_LLD = 8
};

/* C BLACS */
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int ctxt);
void Cblacs_freebuff(int ctxt, int wait);

/* ScaLAPACK tools */
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrc,
            const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb,
               const int *nb, const int *irsrc, const int *icsrc,
               const int *ictxt, const int *lld, int *info);
double pdlamch_(const int *ictxt, const char *cmach, size_t cmach_len);
double pzlanhe_(const char *norm, const char *uplo, const int *n,
                const double complex *a, const int *ia, const int *ja,
                const int *desca, double *work, size_t norm_len,
                size_t uplo_len);

/* Cholesky factorisation and its reciprocal condition number (1-norm). */
void pzpotrf_(const char *uplo, const int *n, double complex *a, const int *ia,
              const int *ja, const int *desca, int *info, size_t uplo_len);
void pzpocon_(const char *uplo, const int *n, const double complex *a,
              const int *ia, const int *ja, const int *desca,
              const double *anorm, double *rcond, double complex *work,
              const int *lwork, double *rwork, const int *lrwork, int *info,
              size_t uplo_len);

/* C = alpha op(A) op(B) + beta C */
void pzgemm_(const char *transa, const char *transb, const int *m, const int *n,
             const int *k, const double complex *alpha, const double complex *a,
             const int *ia, const int *ja, const int *desca,
             const double complex *b, const int *ib, const int *jb,
             const int *descb, const double complex *beta, double complex *c,
             const int *ic, const int *jc, const int *descc, size_t transa_len,
             size_t transb_len);

/* Hermitian eigenproblems */
void pzheevd_(const char *jobz, const char *uplo, const int *n,
              double complex *a, const int *ia, const int *ja, const int *desca,
              double *w, double complex *z, const int *iz, const int *jz,
              const int *descz, double complex *work, const int *lwork,
              double *rwork, const int *lrwork, int *iwork, const int *liwork,
              int *info, size_t jobz_len, size_t uplo_len);
void pzhegvx_(const int *ibtype, const char *jobz, const char *range,
              const char *uplo, const int *n, double complex *a, const int *ia,
              const int *ja, const int *desca, double complex *b, const int *ib,
              const int *jb, const int *descb, const double *vl,
              const double *vu, const int *il, const int *iu,
              const double *abstol, int *m, int *nz, double *w,
              const double *orfac, double complex *z, const int *iz,
              const int *jz, const int *descz, double complex *work,
              const int *lwork, double *rwork, const int *lrwork, int *iwork,
              const int *liwork, int *ifail, int *iclustr, double *gap,
              int *info, size_t jobz_len, size_t range_len, size_t uplo_len);

/* LAPACK (serial references in tests) */
void zheev_(const char *jobz, const char *uplo, const int *n, double complex *a,
            const int *lda, double *w, double complex *work, const int *lwork,
            double *rwork, int *info, size_t jobz_len, size_t uplo_len);

#endif
