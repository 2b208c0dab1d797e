/* Real Wigner D matrices by the Ivanic–Ruedenberg recursion (J. Phys. Chem.
 * 100, 6342 (1996), with the corrections of J. Phys. Chem. A 102, 9099
 * (1998)): D^l follows from D^{l-1} and D^1 level by level, directly in
 * the real basis, so there are no Euler angles and no gimbal-lock cases. The
 * recursion is written for CP2K's order and signs; D^1 is R permuted to
 * (y, z, x). Tested in tests/nn/test_irreps.c against D^l Y_l(r̂) = Y_l(R r̂).
 */
#include <math.h>
#include <stdlib.h>

#include "nextham/irreps.h"

/* Entry (m, n) of D^l, m, n in -l..l. */
#define DL(D, l, m, n) ((D)[nh_irreps_wigner_off(l) + ((m) + (l)) * (2 * (l) + 1) + (n) + (l)])

enum { W_MAX = 2 * NH_IRREPS_LMAX + 1 };

/* The helper P of Ivanic–Ruedenberg Table 2 for level l, for every
 * (i, a, n): i in -1..1 picks a row of D^1, (a, n) an entry of D^{l-1},
 * with n stretched to the edge when |n| = l. */
static void ir_helper(const double *D, int l, double P[3][W_MAX][W_MAX]) {
  const int k = l - 1, nl = 2 * l + 1;
  for (int i = -1; i <= 1; i++)
    for (int a = -k; a <= k; a++) {
      double *p = P[i + 1][a + k];
      const double r1 = DL(D, 1, i, 1), rm = DL(D, 1, i, -1), r0 = DL(D, 1, i, 0);
      const double dk = DL(D, k, a, k), dm = DL(D, k, a, -k);
      p[0] = r1 * dm + rm * dk;
      p[nl - 1] = r1 * dk - rm * dm;
      for (int n = -k; n <= k; n++)
        p[n + l] = r0 * DL(D, k, a, n);
    }
}

/* D^l from D^{l-1} and D^1: each row m is u U + v V + w W, the three rows
 * combined from P as in Table 2 (with the 1998 correction √(1+δ_{m,-1}) in
 * V for m < 0); u, v, w split into a row part and a column part
 * 1/√den(n). */
static void ir_level(double *D, int l) {
  const int k = l - 1, nl = 2 * l + 1;
  double P[3][W_MAX][W_MAX], inv[W_MAX];
  ir_helper(D, l, P);
  for (int n = -l; n <= l; n++)
    inv[n + l] = 1.0 / sqrt(abs(n) < l ? (double)(l + n) * (l - n)
                                       : (double)(2 * l) * (2 * l - 1));
#define PR(i, a) P[(i) + 1][(a) + k]
  for (int m = -l; m <= l; m++) {
    const int am = abs(m), d = m == 0;
    const double u = sqrt((double)(l + m) * (l - m));
    const double v = 0.5 * sqrt((1.0 + d) * (l + am - 1) * (l + am)) * (1 - 2 * d);
    const double w = -0.5 * sqrt((double)(l - am - 1) * (l - am)) * (1 - d);
    const double *U = am < l ? PR(0, m) : NULL;
    const double *V1, *V2, *W1 = NULL, *W2 = NULL;
    double c1 = 1.0, c2 = 1.0, w2 = 1.0;
    if (m == 0) {
      V1 = PR(1, 1), V2 = PR(-1, -1);
    } else if (m > 0) {
      V1 = PR(1, m - 1), V2 = m == 1 ? NULL : PR(-1, -m + 1);
      c1 = m == 1 ? M_SQRT2 : 1.0, c2 = -1.0;
    } else {
      V1 = m == -1 ? NULL : PR(1, m + 1), V2 = PR(-1, -m - 1);
      c2 = m == -1 ? M_SQRT2 : 1.0;
    }
    if (w != 0.0) {
      W1 = m > 0 ? PR(1, m + 1) : PR(1, m - 1);
      W2 = m > 0 ? PR(-1, -m - 1) : PR(-1, -m + 1);
      w2 = m > 0 ? 1.0 : -1.0;
    }
    double *row = &DL(D, l, m, -l);
    for (int j = 0; j < nl; j++) {
      double s = 0.0;
      if (U)
        s += u * U[j];
      if (V1)
        s += v * c1 * V1[j];
      if (V2)
        s += v * c2 * V2[j];
      if (W1)
        s += w * (W1[j] + w2 * W2[j]);
      row[j] = s * inv[j];
    }
  }
#undef PR
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
    ir_level(D, l);
  if (sgn < 0.0) /* (-1)^l for odd l restores the improper operation */
    for (int l = 1; l <= lmax; l += 2)
      for (int i = nh_irreps_wigner_off(l); i < nh_irreps_wigner_off(l + 1); i++)
        D[i] = -D[i];
  return NH_OK;
}

/* The shortest rotation taking a unit vector u with u_z >= 0 to ẑ
 * (Rodrigues about a = u × ẑ = (u_y, -u_x, 0), |a| = sin θ, cos θ = u_z):
 * R = cos θ I + [a]× + a aᵀ / (1 + cos θ). */
static void rodrigues_to_z(double x, double y, double z, double R[9]) {
  const double c = z, f = 1.0 / (1.0 + z), ax = y, ay = -x;
  const double M[9] = {c + f * ax * ax, f * ax * ay,     ay,
                       f * ax * ay,     c + f * ay * ay, -ax,
                       -ay,             ax,              c};
  for (int i = 0; i < 9; i++)
    R[i] = M[i];
}

/* For r̂_z < 0 the Rodrigues form loses accuracy near -ẑ, so there the
 * frame is Q F with F = diag(1, -1, -1) (π about x) and Q the Rodrigues
 * rotation of F r̂, which lies in the upper half. */
nh_err nh_irreps_edge_frame(const double r[3], double R[9]) {
  const double n = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  NH_CHECK(n > 0.0, NH_ERR_ARG, "edge frame of the zero vector");
  const double x = r[0] / n, y = r[1] / n, z = r[2] / n;
  if (z >= 0.0) {
    rodrigues_to_z(x, y, z, R);
    return NH_OK;
  }
  rodrigues_to_z(x, -y, -z, R);
  for (int i = 0; i < 3; i++) { /* R = Q F: negate columns y and z */
    R[3 * i + 1] = -R[3 * i + 1];
    R[3 * i + 2] = -R[3 * i + 2];
  }
  return NH_OK;
}
