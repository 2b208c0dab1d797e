/* Shell-pair radius: the distance beyond which a whole block is below a
 * threshold, from a rigorous bound (for neighbour cutoffs).
 *
 * Angular bound: sum_m S_{l,m}^2 = r^(2l) (addition theorem), so
 * |P_{l,m}| <= g_l r^l with g_l = 1/sqrt((2l-1)!!), and the surface
 * gradient obeys sum_m |grad_S Y_lm|^2 = l(l+1) sum_m Y_lm^2, so
 * |grad (r^rpow P_{l,m})| <= g_l (L + sqrt(l(l+1))) r^(L-1), L = l + rpow.
 * Radial bound: with rho_A = |r-A|, rho_B = |r-B|, R = |A-B|,
 *   int rho_A^i rho_B^j exp(-a rho_A^2 - b rho_B^2)
 *     <= exp(-mu R^2) sum_{s,t} C(i,s) C(j,t) (bR/p)^(i-s) (aR/p)^(j-t)
 *                       M(s+t),   M(n) = 2 pi Gamma((n+3)/2) / p^((n+3)/2),
 * from rho_A <= |r-P| + bR/p and rho_B <= |r-P| + aR/p. Every term is a
 * polynomial in R with non-negative coefficients times exp(-mu R^2). */
#include <math.h>

#include "intimpl.h"

static double binom(int n, int k) {
  double r = 1.0;
  for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
  return r;
}

static double dfact(int n) { return n < 2 ? 1.0 : n * dfact(n - 2); }

/* The radial bound above, for i, j >= 0. */
static double moment_bound(int i, int j, double a, double b, double r) {
  double p = a + b, ra = b * r / p, rb = a * r / p, sum = 0.0;
  for (int s = 0; s <= i; s++)
    for (int t = 0; t <= j; t++) {
      double n = s + t + 3.0;
      sum += binom(i, s) * binom(j, t) * pow(ra, i - s) * pow(rb, j - t) *
             2.0 * M_PI * tgamma(0.5 * n) / pow(p, 0.5 * n);
    }
  return exp(-a * b / p * r * r) * sum;
}

/* Bound on |<a_p|O|b_q>| for one primitive pair at distance r, without
 * the coefficients and angular factors g_la g_lb. */
static double prim_bound(int ops, int la, int La, double za, int lb, int Lb,
                         double zb, double r) {
  double v = 0.0;
  if (ops & NH_INT_OVERLAP) v = moment_bound(La, Lb, za, zb, r);
  if (ops & NH_INT_KINETIC) {
    /* 1/2 int |grad a| |grad b| with |grad a| <= ga rho^(La-1) + 2 za
     * rho^(La+1) (times g_la) */
    double ga = La ? La + sqrt(la * (la + 1.0)) : 0.0;
    double gb = Lb ? Lb + sqrt(lb * (lb + 1.0)) : 0.0;
    double k = 4.0 * za * zb * moment_bound(La + 1, Lb + 1, za, zb, r);
    if (ga) k += ga * 2.0 * zb * moment_bound(La - 1, Lb + 1, za, zb, r);
    if (gb) k += gb * 2.0 * za * moment_bound(La + 1, Lb - 1, za, zb, r);
    if (ga && gb) k += ga * gb * moment_bound(La - 1, Lb - 1, za, zb, r);
    v = fmax(v, 0.5 * k);
  }
  return v;
}

/* Bound on every element of the block at distance r; primitive pairs that
 * the screening mode skips at r contribute nothing. */
static double block_bound(const nh_int_shell *a, const nh_int_shell *b,
                          int ops, nh_int_screen screen, double r) {
  int La = a->l + a->rpow, Lb = b->l + b->rpow;
  double g = 1.0 / sqrt(dfact(2 * a->l - 1) * dfact(2 * b->l - 1)), sum = 0.0;
  for (int p = 0; p < a->nprim; p++)
    for (int q = 0; q < b->nprim; q++) {
      if (screen == NH_INT_CP2K && a->rad[p] + b->rad[q] < r) continue;
      sum += fabs(a->coef[p] * b->coef[q]) *
             prim_bound(ops, a->l, La, a->exps[p], b->l, Lb, b->exps[q], r);
    }
  return g * sum;
}

double nh_int_pair_radius(const nh_int_shell *a, const nh_int_shell *b,
                          int ops, nh_int_screen screen, double eps) {
  /* beyond r0 every term R^k exp(-mu R^2) decreases, and screened pairs
   * only drop out, so the bound decreases monotonically */
  int kmax = a->l + a->rpow + b->l + b->rpow + 2;
  double r0 = 0.0;
  for (int p = 0; p < a->nprim; p++)
    for (int q = 0; q < b->nprim; q++) {
      double za = a->exps[p], zb = b->exps[q];
      r0 = fmax(r0, sqrt(kmax * (za + zb) / (2.0 * za * zb)));
    }
  if (block_bound(a, b, ops, screen, r0) < eps) return r0;
  double lo = r0, hi = 2.0 * r0 + 1.0;
  while (block_bound(a, b, ops, screen, hi) >= eps) {
    lo = hi;
    hi *= 2.0;
  }
  for (int it = 0; it < 60 && hi - lo > 1e-10 * hi; it++) {
    double mid = 0.5 * (lo + hi);
    if (block_bound(a, b, ops, screen, mid) >= eps)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

double nh_int_atoms_radius(const nh_int_shell *a, int na, const nh_int_shell *b,
                           int nb, int ops, nh_int_screen screen, double eps) {
  double r = 0.0;
  for (int i = 0; i < na; i++)
    for (int j = 0; j < nb; j++)
      r = fmax(r, nh_int_pair_radius(&a[i], &b[j], ops, screen, eps));
  return r;
}
