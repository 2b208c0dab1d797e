/* Private helpers of the nn layers: a row-major dgemm and SiLU. */
#ifndef NEXTHAM_NNIMPL_H
#define NEXTHAM_NNIMPL_H

#include <math.h>

extern void dgemm_(const char *ta, const char *tb, const int *m, const int *n,
                   const int *k, const double *alpha, const double *a,
                   const int *lda, const double *b, const int *ldb,
                   const double *beta, double *c, const int *ldc);

/* Row-major C[M×N] = alpha·op(A)·op(B) + beta·C, ta/tb 'N' or 'T'. A
 * row-major matrix is the column-major transpose, so swap the operands. */
static inline void nn_gemm(char ta, char tb, int M, int N, int K, double alpha,
                           const double *A, int lda, const double *B, int ldb,
                           double beta, double *C, int ldc) {
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0) { /* dgemm would be fine, but keep beta semantics explicit */
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++)
        C[(size_t)i * ldc + j] *= beta;
    return;
  }
  dgemm_(&tb, &ta, &N, &M, &K, &alpha, B, &ldb, A, &lda, &beta, C, &ldc);
}

static inline double nn_sigmoid(double a) { return 1.0 / (1.0 + exp(-a)); }
static inline double nn_silu(double a) { return a * nn_sigmoid(a); }
static inline double nn_dsilu(double a) {
  const double s = nn_sigmoid(a);
  return s * (1.0 + a * (1.0 - s));
}
static inline double nn_d2silu(double a) {
  const double s = nn_sigmoid(a);
  return s * (1.0 - s) * (2.0 + a * (1.0 - 2.0 * s));
}

#endif
