/* The 1-D Obara-Saika kernels: the smallest units of the integral code.
 * A 3-D Cartesian integral over primitives is a product of three of them
 * times exp(-mu |A-B|^2) (pi/p)^(3/2) (see shellpair.c). */
#include "intimpl.h"

#define LD NH_INT_LD1D

/* Recurrences (Helgaker, Jorgensen, Olsen eq. 9.3.8-9.3.9, divided by the
 * (i, j) = (0, 0) value):
 *   E(i+1, j) = PA E(i, j) + (i E(i-1, j) + j E(i, j-1)) / 2p
 *   E(i, j+1) = PB E(i, j) + (i E(i-1, j) + j E(i, j-1)) / 2p */
void nh_int_os1d_overlap(int imax, int jmax, double pa, double pb,
                         double oo2p, double *e) {
  e[0] = 1.0;
  for (int i = 0; i < imax; i++)
    e[(i + 1) * LD] = pa * e[i * LD] + (i ? i * oo2p * e[(i - 1) * LD] : 0.0);
  for (int j = 0; j < jmax; j++)
    for (int i = 0; i <= imax; i++) {
      double v = pb * e[i * LD + j];
      if (i) v += i * oo2p * e[(i - 1) * LD + j];
      if (j) v += j * oo2p * e[i * LD + j - 1];
      e[i * LD + j + 1] = v;
    }
}

/* d/dx (x-A)^i exp(-a (x-A)^2) = i (x-A)^(i-1) - 2a (x-A)^(i+1), hence
 *   T(i, j) = 1/2 [ i j E(i-1, j-1) - 2b i E(i-1, j+1)
 *                   - 2a j E(i+1, j-1) + 4ab E(i+1, j+1) ].
 * e must hold indices up to imax+1, jmax+1. */
void nh_int_os1d_kinetic(int imax, int jmax, double a, double b,
                         const double *e, double *t) {
  for (int i = 0; i <= imax; i++)
    for (int j = 0; j <= jmax; j++) {
      double v = 4.0 * a * b * e[(i + 1) * LD + j + 1];
      if (i) v -= 2.0 * b * i * e[(i - 1) * LD + j + 1];
      if (j) v -= 2.0 * a * j * e[(i + 1) * LD + j - 1];
      if (i && j) v += (double)(i * j) * e[(i - 1) * LD + j - 1];
      t[i * LD + j] = 0.5 * v;
    }
}

/* Three-centre version (Obara, Saika 1986): with G = a + b + c and
 * P = (aA + bB + cC) / G, raising any index uses its own P-X and the same
 * 1/(2G) term over all three indices:
 *   E(i+1,j,k) = PA E + (i E(i-1,j,k) + j E(i,j-1,k) + k E(i,j,k-1)) / 2G.
 * k is raised first, then j, then i, so each step needs only done entries. */
void nh_int_os1d_overlap3(int imax, int jmax, int kmax, double pa, double pb,
                          double pc, double oo2g, double *e) {
#define E3(i, j, k) e[((i) * LD + (j)) * NH_INT_LD3 + (k)]
  for (int i = 0; i <= imax; i++)
    for (int j = 0; j <= jmax; j++)
      for (int k = 0; k <= kmax; k++) {
        double v;
        if (k) {
          v = pc * E3(i, j, k - 1);
          if (i) v += i * oo2g * E3(i - 1, j, k - 1);
          if (j) v += j * oo2g * E3(i, j - 1, k - 1);
          if (k > 1) v += (k - 1) * oo2g * E3(i, j, k - 2);
        } else if (j) {
          v = pb * E3(i, j - 1, 0);
          if (i) v += i * oo2g * E3(i - 1, j - 1, 0);
          if (j > 1) v += (j - 1) * oo2g * E3(i, j - 2, 0);
        } else if (i) {
          v = pa * E3(i - 1, 0, 0);
          if (i > 1) v += (i - 1) * oo2g * E3(i - 2, 0, 0);
        } else {
          v = 1.0;
        }
        E3(i, j, k) = v;
      }
#undef E3
}
