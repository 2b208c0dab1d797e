/* Real Clebsch–Gordan coefficients in CP2K's real basis.
 *
 * Computed from the complex (Condon–Shortley) coefficients by Racah's
 * closed formula in long double, then transformed with the unitary map U^l
 * from complex to real harmonics:
 *   Y_{l,m>0} = (Y^c_{l,-m} + (-1)^m Y^c_{l,m}) / √2,   Y_{l,0} = Y^c_{l,0},
 *   Y_{l,m<0} = i (Y^c_{l,m} - (-1)^m Y^c_{l,-m}) / √2,
 * which reproduces CP2K's signs (no Condon–Shortley phase survives):
 *   C^{LM}_{m1 m2} = Σ U^L_{M,μ} conj(U^{l1}_{m1,μ1}) conj(U^{l2}_{m2,μ2})
 *                    <l1 μ1 l2 μ2 | L μ>,   μ = μ1 + μ2.
 * The result is real when l1+l2+L is even and purely imaginary when it is
 * odd; the imaginary part is taken then (a phase −i on the whole L block,
 * which keeps the map orthogonal and symmetric under l1 <-> l2). */
#include <math.h>
#include <stdlib.h>

#include "nextham/irreps.h"

/* n! for n <= 3·NH_IRREPS_LMAX + 1, the largest Racah's formula needs. */
enum { NFACT = 3 * NH_IRREPS_LMAX + 2 };
typedef struct {
  long double f[NFACT];
} fact_table;

static void fact_init(fact_table *t) {
  t->f[0] = 1.0L;
  for (int i = 1; i < NFACT; i++)
    t->f[i] = t->f[i - 1] * i;
}

#define fact(n) (ft->f[(n)])

/* <j1 m1 j2 m2 | J M>, Racah's formula; 0 outside the selection rules. */
static long double cg_complex(const fact_table *ft, int j1, int m1, int j2,
                              int m2, int J, int M) {
  if (M != m1 + m2 || abs(m1) > j1 || abs(m2) > j2 || abs(M) > J ||
      J < abs(j1 - j2) || J > j1 + j2)
    return 0.0L;
  long double pre = (2 * J + 1) * fact(J + j1 - j2) * fact(J - j1 + j2) *
                    fact(j1 + j2 - J) / fact(j1 + j2 + J + 1);
  pre *= fact(J + M) * fact(J - M) * fact(j1 - m1) * fact(j1 + m1) *
         fact(j2 - m2) * fact(j2 + m2);
  int kmin = 0, kmax = j1 + j2 - J;
  if (j2 - J - m1 > kmin) kmin = j2 - J - m1;
  if (j1 - J + m2 > kmin) kmin = j1 - J + m2;
  if (j1 - m1 < kmax) kmax = j1 - m1;
  if (j2 + m2 < kmax) kmax = j2 + m2;
  long double s = 0.0L;
  for (int k = kmin; k <= kmax; k++) {
    const long double t = fact(k) * fact(j1 + j2 - J - k) * fact(j1 - m1 - k) *
                          fact(j2 + m2 - k) * fact(J - j2 + m1 + k) *
                          fact(J - j1 - m2 + k);
    s += (k % 2 ? -1.0L : 1.0L) / t;
  }
  return sqrtl(pre) * s;
}

/* U^l_{m,μ} as (re, im); zero unless |μ| = |m|. */
static void u_entry(int m, int mu, double *re, double *im) {
  const double h = M_SQRT1_2, sg = abs(m) % 2 ? -1.0 : 1.0;
  *re = *im = 0.0;
  if (m == 0 && mu == 0)
    *re = 1.0;
  else if (m > 0 && mu == -m)
    *re = h;
  else if (m > 0 && mu == m)
    *re = sg * h;
  else if (m < 0 && mu == m)
    *im = h;
  else if (m < 0 && mu == -m)
    *im = -sg * h;
}

/* The complex value of the real-basis coefficient (re, im). */
static void cg_real_complex(const fact_table *ft, int l1, int m1, int l2,
                            int m2, int L, int M, long double *re,
                            long double *im) {
  *re = *im = 0.0L;
  for (int s1 = -1; s1 <= 1; s1 += 2)
    for (int s2 = -1; s2 <= 1; s2 += 2) {
      const int mu1 = s1 * m1, mu2 = s2 * m2, mu = mu1 + mu2;
      if ((m1 == 0 && s1 > 0) || (m2 == 0 && s2 > 0) || abs(mu) > L)
        continue;
      const long double c = cg_complex(ft, l1, mu1, l2, mu2, L, mu);
      if (c == 0.0L)
        continue;
      double ar, ai, br, bi, cr, ci;
      u_entry(M, mu, &ar, &ai);
      u_entry(m1, mu1, &br, &bi);
      u_entry(m2, mu2, &cr, &ci);
      bi = -bi, ci = -ci; /* conjugates */
      const long double pr = (long double)br * cr - (long double)bi * ci;
      const long double pi = (long double)br * ci + (long double)bi * cr;
      *re += c * (ar * pr - ai * pi);
      *im += c * (ar * pi + ai * pr);
    }
}

/* Appends the nonzeros of triple (l1, l2, L) to cg (capacity *cap). For real
 * harmonics only |M| = |m1| + |m2| or ||m1| - |m2|| can couple. */
static nh_err add_triple(nh_irreps_cg *cg, int *cap, const fact_table *ft,
                         int l1, int l2, int L) {
  const int odd = (l1 + l2 + L) % 2;
  for (int m1 = -l1; m1 <= l1; m1++)
    for (int m2 = -l2; m2 <= l2; m2++) {
      const int s = abs(m1) + abs(m2), d = abs(abs(m1) - abs(m2));
      const int cand[4] = {-s, -d, d, s};
      for (int c = 0; c < 4; c++) {
        const int M = cand[c];
        if (abs(M) > L || (c > 0 && M == cand[c - 1]))
          continue;
        long double re, im;
        cg_real_complex(ft, l1, m1, l2, m2, L, M, &re, &im);
        const double keep = (double)(odd ? im : re), drop = (double)(odd ? re : im);
        NH_CHECK(fabs(drop) < 1e-14, NH_ERR_INTERNAL,
                 "real CG (%d %d %d) has a complex phase (%.3g)", l1, l2, L, drop);
        if (fabs(keep) < 1e-13)
          continue;
        if (cg->nnz == *cap) {
          *cap = 2 * *cap + 256;
          NH_CALL(nh_realloc(*cap * sizeof(double), &cg->val));
          NH_CALL(nh_realloc(*cap, &cg->m1));
          NH_CALL(nh_realloc(*cap, &cg->m2));
          NH_CALL(nh_realloc(*cap, &cg->mm));
        }
        cg->m1[cg->nnz] = (unsigned char)(m1 + l1);
        cg->m2[cg->nnz] = (unsigned char)(m2 + l2);
        cg->mm[cg->nnz] = (unsigned char)(M + L);
        cg->val[cg->nnz++] = keep;
      }
    }
  return NH_OK;
}

nh_err nh_irreps_cg_create(int lmax_in, int lmax_out, nh_irreps_cg **out) {
  NH_CHECK(lmax_in >= 0 && lmax_in <= NH_IRREPS_LMAX && lmax_out >= 0 &&
               lmax_out <= NH_IRREPS_LMAX,
           NH_ERR_ARG, "CG table for lmax_in = %d, lmax_out = %d (allowed 0..%d)",
           lmax_in, lmax_out, NH_IRREPS_LMAX);
  nh_err err = NH_OK;
  nh_irreps_cg *cg = NULL;
  int cap = 0;
  fact_table ft;
  fact_init(&ft);
  NH_CALL(nh_calloc(1, sizeof(*cg), &cg));
  cg->lmax_in = lmax_in;
  cg->lmax_out = lmax_out;
  const int ntriple = (lmax_in + 1) * (lmax_in + 1) * (lmax_out + 1);
  NH_CALL_GOTO(nh_calloc(ntriple + 1, sizeof(int), &cg->start), fail);
  for (int l1 = 0; l1 <= lmax_in; l1++)
    for (int l2 = 0; l2 <= lmax_in; l2++)
      for (int L = 0; L <= lmax_out; L++) {
        const int t = nh_irreps_cg_triple(cg, l1, l2, L);
        cg->start[t] = cg->nnz;
        if (L >= abs(l1 - l2) && L <= l1 + l2)
          NH_CALL_GOTO(add_triple(cg, &cap, &ft, l1, l2, L), fail);
      }
  cg->start[ntriple] = cg->nnz;
  *out = cg;
  return NH_OK;
fail:
  nh_irreps_cg_destroy(&cg);
  return err;
}

void nh_irreps_cg_destroy(nh_irreps_cg **cg) {
  if (!cg || !*cg)
    return;
  nh_free(&(*cg)->start);
  nh_free(&(*cg)->m1);
  nh_free(&(*cg)->m2);
  nh_free(&(*cg)->mm);
  nh_free(&(*cg)->val);
  nh_free(cg);
}

double nh_irreps_cg_get(const nh_irreps_cg *cg, int l1, int m1, int l2, int m2,
                        int L, int M) {
  if (l1 < 0 || l2 < 0 || L < 0 || l1 > cg->lmax_in || l2 > cg->lmax_in ||
      L > cg->lmax_out || abs(m1) > l1 || abs(m2) > l2 || abs(M) > L)
    return 0.0;
  const int t = nh_irreps_cg_triple(cg, l1, l2, L);
  for (int i = cg->start[t]; i < cg->start[t + 1]; i++)
    if (cg->m1[i] == m1 + l1 && cg->m2[i] == m2 + l2 && cg->mm[i] == M + L)
      return cg->val[i];
  return 0.0;
}
