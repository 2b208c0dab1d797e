/* Test helper: an independent dense reference for band energies. Every rank
 * gathers all blocks of H and S, forms H(k) = sum_n H(n) exp(+2 pi i k.n)
 * (and S(k)) as full complex matrices and solves H c = e S c with LAPACK
 * zhegv. For small test systems only. */
#ifndef NEXTHAM_TEST_DENSEREF_H
#define NEXTHAM_TEST_DENSEREF_H

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nextham/mat.h"
#include "nhtest.h"

void zhegv_(const int *itype, const char *jobz, const char *uplo, const int *n,
            double complex *a, const int *lda, double complex *b,
            const int *ldb, double *w, double complex *work, const int *lwork,
            double *rwork, int *info, size_t ljobz, size_t luplo);

typedef struct dense_ref {
  int64_t natoms, nblocks, norb;
  int64_t *first;   /* natoms + 1 orbital offsets */
  int64_t *key;     /* 5 per block */
  int64_t *off;     /* nblocks + 1 */
  double *val;
} dense_ref;

/* Collective: every block of m on every rank. */
static inline void dense_ref_gather(const nh_mat *m, int64_t natoms,
                                    dense_ref *r) {
  MPI_Comm comm = nh_domain_ctx(nh_mat_domain(m))->comm;
  int size;
  MPI_Comm_size(comm, &size);
  int64_t nb = nh_mat_nblocks(m), nv = nh_mat_nvalues(m);
  int64_t *key = malloc((size_t)(nb + 1) * 7 * sizeof *key);
  double *val = malloc((size_t)(nv + 1) * sizeof *val);
  int64_t v = 0;
  for (int64_t q = 0; q < nb; q++) {
    nh_block_key k;
    double *b;
    nh_mat_block(m, q, &k, &b);
    int64_t len = (int64_t)nh_mat_norb(m, k.i) * nh_mat_norb(m, k.j);
    int64_t kk[7] = {k.i, k.j, k.n[0], k.n[1], k.n[2], nh_mat_norb(m, k.i),
                     nh_mat_norb(m, k.j)};
    memcpy(key + 7 * q, kk, sizeof kk);
    memcpy(val + v, b, (size_t)len * sizeof *val);
    v += len;
  }
  int cnt[2] = {(int)nb * 7, (int)nv}, *all = malloc(2 * size * sizeof *all);
  int *kc = malloc(size * sizeof *kc), *kd = malloc(size * sizeof *kd);
  int *vc = malloc(size * sizeof *vc), *vd = malloc(size * sizeof *vd);
  MPI_Allgather(cnt, 2, MPI_INT, all, 2, MPI_INT, comm);
  int kt = 0, vt = 0;
  for (int p = 0; p < size; p++) {
    kc[p] = all[2 * p], kd[p] = kt, kt += kc[p];
    vc[p] = all[2 * p + 1], vd[p] = vt, vt += vc[p];
  }
  int64_t *keys = malloc((size_t)(kt + 1) * sizeof *keys);
  r->val = malloc((size_t)(vt + 1) * sizeof *r->val);
  MPI_Allgatherv(key, cnt[0], MPI_INT64_T, keys, kc, kd, MPI_INT64_T, comm);
  MPI_Allgatherv(val, cnt[1], MPI_DOUBLE, r->val, vc, vd, MPI_DOUBLE, comm);
  r->natoms = natoms;
  r->nblocks = kt / 7;
  r->key = malloc((size_t)(r->nblocks + 1) * 5 * sizeof *r->key);
  r->off = malloc((size_t)(r->nblocks + 1) * sizeof *r->off);
  r->first = calloc((size_t)natoms + 1, sizeof *r->first);
  int64_t *norb = calloc((size_t)natoms, sizeof *norb);
  r->off[0] = 0;
  for (int64_t q = 0; q < r->nblocks; q++) {
    memcpy(r->key + 5 * q, keys + 7 * q, 5 * sizeof *keys);
    norb[keys[7 * q]] = keys[7 * q + 5];
    r->off[q + 1] = r->off[q] + keys[7 * q + 5] * keys[7 * q + 6];
  }
  for (int64_t a = 0; a < natoms; a++) {
    assert_true(norb[a] > 0); /* every atom has its on-site block */
    r->first[a + 1] = r->first[a] + norb[a];
  }
  r->norb = r->first[natoms];
  free(norb), free(keys), free(key), free(val), free(all);
  free(kc), free(kd), free(vc), free(vd);
}

static inline void dense_ref_free(dense_ref *r) {
  free(r->first), free(r->key), free(r->off), free(r->val);
  memset(r, 0, sizeof *r);
}

/* M(k), norb x norb, row-major */
static inline void dense_ref_bloch(const dense_ref *r, const double k[3],
                                   double complex *M) {
  int64_t n = r->norb;
  memset(M, 0, (size_t)(n * n) * sizeof *M);
  for (int64_t q = 0; q < r->nblocks; q++) {
    const int64_t *kk = r->key + 5 * q;
    int64_t i0 = r->first[kk[0]], j0 = r->first[kk[1]];
    int64_t ni = r->first[kk[0] + 1] - i0, nj = r->first[kk[1] + 1] - j0;
    double ph = 2 * M_PI * (k[0] * kk[2] + k[1] * kk[3] + k[2] * kk[4]);
    double complex f = cexp(I * ph);
    const double *b = r->val + r->off[q];
    for (int64_t a = 0; a < ni; a++)
      for (int64_t c = 0; c < nj; c++) M[(i0 + a) * n + j0 + c] += f * b[a * nj + c];
  }
}

/* Eigenvalues (ascending, same unit as H) of H(k) c = e S(k) c. */
static inline void dense_ref_eig(const dense_ref *H, const dense_ref *S,
                                 const double k[3], double *e) {
  int n = (int)H->norb, itype = 1, lwork = -1, info;
  double complex *a = malloc((size_t)n * n * sizeof *a);
  double complex *b = malloc((size_t)n * n * sizeof *b), wq;
  double *rwork = malloc((size_t)(3 * n) * sizeof *rwork);
  dense_ref_bloch(H, k, a);
  dense_ref_bloch(S, k, b);
  zhegv_(&itype, "N", "U", &n, a, &n, b, &n, e, &wq, &lwork, rwork, &info, 1, 1);
  lwork = (int)creal(wq);
  double complex *work = malloc((size_t)lwork * sizeof *work);
  zhegv_(&itype, "N", "U", &n, a, &n, b, &n, e, work, &lwork, rwork, &info, 1, 1);
  assert_int_equal(info, 0);
  free(work), free(rwork), free(a), free(b);
}

#endif
