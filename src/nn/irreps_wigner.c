/* Real Wigner D matrices by the Ivanic–Ruedenberg recursion (J. Phys. Chem.
 * 100, 6342 (1996), with the corrections of J. Phys. Chem. A 102, 9099
 * (1998)): D^l follows from D^{l-1} and D^1 entry by entry, directly in the
 * real basis, so there are no Euler angles and no gimbal-lock cases. The
 * recursion is written for CP2K's order and signs; D^1 is R permuted to
 * (y, z, x). Tested in tests/nn/test_irreps.c against D^l Y_l(r̂) = Y_l(R r̂).
 */
#include <math.h>
#include <stdlib.h>

#include "nextham/irreps.h"

/* Entry (m, n) of D^l, m, n in -l..l. */
#define DL(D, l, m, n) ((D)[nh_irreps_wigner_off(l) + ((m) + (l)) * (2 * (l) + 1) + (n) + (l)])

/* The helper P of Ivanic–Ruedenberg Table 2: i in -1..1 picks a row of D^1,
 * (a, b) an entry of D^{l-1} (b stretched to the edge when |b| = l). */
static double ir_p(const double *D, int i, int l, int a, int b) {
  const int k = l - 1;
  if (b == l)
    return DL(D, 1, i, 1) * DL(D, k, a, k) - DL(D, 1, i, -1) * DL(D, k, a, -k);
  if (b == -l)
    return DL(D, 1, i, 1) * DL(D, k, a, -k) + DL(D, 1, i, -1) * DL(D, k, a, k);
  return DL(D, 1, i, 0) * DL(D, k, a, b);
}

static double ir_entry(const double *D, int l, int m, int n) {
  const int am = abs(m), d = m == 0;
  const double den = abs(n) < l ? (double)(l + n) * (l - n)
                                 : (double)(2 * l) * (2 * l - 1);
  const double u = sqrt((double)(l + m) * (l - m) / den);
  const double v = 0.5 * sqrt((1.0 + d) * (l + am - 1) * (l + am) / den) *
                   (1 - 2 * d);
  const double w = -0.5 * sqrt((double)(l - am - 1) * (l - am) / den) * (1 - d);
  double s = 0.0;
  if (u != 0.0)
    s += u * ir_p(D, 0, l, m, n);
  if (v != 0.0) {
    double V;
    if (m == 0)
      V = ir_p(D, 1, l, 1, n) + ir_p(D, -1, l, -1, n);
    else if (m > 0)
      V = ir_p(D, 1, l, m - 1, n) * sqrt(1.0 + (m == 1)) -
          (m == 1 ? 0.0 : ir_p(D, -1, l, -m + 1, n));
    else
      V = (m == -1 ? 0.0 : ir_p(D, 1, l, m + 1, n)) +
          ir_p(D, -1, l, -m - 1, n) * sqrt(1.0 + (m == -1));
    s += v * V;
  }
  if (w != 0.0) {
    const double W = m > 0 ? ir_p(D, 1, l, m + 1, n) + ir_p(D, -1, l, -m - 1, n)
                           : ir_p(D, 1, l, m - 1, n) - ir_p(D, -1, l, -m + 1, n);
    s += w * W;
  }
  return s;
}

nh_err nh_irreps_wigner(int lmax, const double R[9], double *D) {
  NH_CHECK(lmax >= 0 && lmax <= NH_IRREPS_LMAX, NH_ERR_ARG,
           "Wigner matrix degree lmax = %d outside 0..%d", lmax, NH_IRREPS_LMAX);
  double dev = 0.0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0.0;
      for (int k = 0; k < 3; k++)
        s += R[3 * i + k] * R[3 * j + k];
      dev = fmax(dev, fabs(s - (i == j)));
    }
  NH_CHECK(dev < 1e-8, NH_ERR_ARG,
           "Wigner matrix of a non-orthogonal 3x3 matrix (|R Rt - I| = %.3g)",
           dev);
  const double det = R[0] * (R[4] * R[8] - R[5] * R[7]) -
                     R[1] * (R[3] * R[8] - R[5] * R[6]) +
                     R[2] * (R[3] * R[7] - R[4] * R[6]);
  const double sgn = det < 0.0 ? -1.0 : 1.0; /* improper: work with -R */
  static const int perm[3] = {1, 2, 0};      /* m = -1, 0, 1 -> y, z, x */
  D[0] = 1.0;
  if (lmax == 0)
    return NH_OK;
  for (int m = -1; m <= 1; m++)
    for (int n = -1; n <= 1; n++)
      DL(D, 1, m, n) = sgn * R[3 * perm[m + 1] + perm[n + 1]];
  for (int l = 2; l <= lmax; l++)
    for (int m = -l; m <= l; m++)
      for (int n = -l; n <= l; n++)
        DL(D, l, m, n) = ir_entry(D, l, m, n);
  if (sgn < 0.0) /* (-1)^l for odd l restores the improper operation */
    for (int l = 1; l <= lmax; l += 2)
      for (int i = nh_irreps_wigner_off(l); i < nh_irreps_wigner_off(l + 1); i++)
        D[i] = -D[i];
  return NH_OK;
}
