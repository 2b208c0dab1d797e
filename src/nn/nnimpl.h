/* Private helpers of the nn layers: a row-major dgemm, SiLU, and the
 * attribute that compiles the small vectorised kernels for several x86-64
 * levels (docs/nn.md, "Performance"). */
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

/* The few loops that cannot be BLAS calls (per-edge rotations, the
 * gathers of the linear layer) are written over blocks of NN_VEC channels.
 * On x86-64 with GCC, NN_SIMD compiles such a function for baseline
 * x86-64, AVX2+FMA and AVX-512 and picks one at load time, so a default
 * -O2 build still uses the wide units; elsewhere it is empty. */
#define NN_VEC 8
/* Doubles of the frame arrays of one block of edges in the SO(2) layer. */
#ifndef NN_SO2_BLOCK_DOUBLES
#define NN_SO2_BLOCK_DOUBLES 65536
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&         \
    __GNUC__ >= 11
#define NN_SIMD                                                                \
  __attribute__((target_clones("default", "arch=x86-64-v3",                   \
                               "arch=x86-64-v4")))
#else
#define NN_SIMD
#endif

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
