/* Private parts of the integrals module: Cartesian component tables, the
 * Cartesian -> spherical transform and the 1-D Obara-Saika kernels. */
#ifndef NEXTHAM_INTIMPL_H
#define NEXTHAM_INTIMPL_H

#include "nextham/integrals.h"

/* Leading dimension of the 1-D tables: indices 0..NH_INT_LCART + 1 (the +1
 * for the derivatives of the kinetic energy). */
#define NH_INT_LD1D (NH_INT_LCART + 2)
#define NH_INT_NCARTMAX ((NH_INT_LCART + 1) * (NH_INT_LCART + 2) / 2)

static inline int nh_int_ncart(int L) { return (L + 1) * (L + 2) / 2; }

/* Cartesian components of degree L, in the order lx = L..0, then
 * ly = L-lx..0 (lz = L-lx-ly): index (L-lx)(L-lx+1)/2 + lz. */
typedef struct nh_int_cart {
  unsigned char x[NH_INT_NCARTMAX], y[NH_INT_NCARTMAX], z[NH_INT_NCARTMAX];
} nh_int_cart;
const nh_int_cart *nh_int_cart_table(int L);

/* Dense (2l+1) x ncart(l+rpow) matrix, row m: r^rpow P_{l,m} expanded in the
 * Cartesian monomials of degree l+rpow. */
const double *nh_int_c2s(int l, int rpow);

/* out[ma * ld + mb] (+)= sum_ij C_a[ma][i] cart[i * ldc + j] C_b[mb][j]
 * for shells (la, rpa), (lb, rpb); add = 0 overwrites. */
void nh_int_cart2sph(int la, int rpa, int lb, int rpb, const double *cart,
                     int ldc, double *out, int ld, int add);

/* 1-D overlap table e[i * NH_INT_LD1D + j] = int (x-A)^i (x-B)^j
 * exp(-p (x-P)^2) dx / sqrt(pi/p), for i <= imax, j <= jmax, with
 * pa = P-A, pb = P-B and oo2p = 1/(2p). */
void nh_int_os1d_overlap(int imax, int jmax, double pa, double pb,
                         double oo2p, double *e);
/* 1-D kinetic table t[i][j] = 1/2 <d/dx a_i | d/dx b_j> in the same units
 * for i <= imax, j <= jmax, from an overlap table e filled up to imax+1,
 * jmax+1; a, b the exponents. */
void nh_int_os1d_kinetic(int imax, int jmax, double a, double b,
                         const double *e, double *t);

/* 1-D three-centre overlap table e[(i * NH_INT_LD1D + j) * NH_INT_LD3 + k]
 * = int (x-A)^i (x-B)^j (x-C)^k exp(-G (x-P)^2) dx / sqrt(pi/G), where
 * exp(-G (x-P)^2) is the product of the three Gaussians without its
 * constant factor, for
 * i <= imax, j <= jmax, k <= kmax, with pa = P-A, pb = P-B, pc = P-C,
 * oo2g = 1/(2G). */
#define NH_INT_LD3 8
void nh_int_os1d_overlap3(int imax, int jmax, int kmax, double pa, double pb,
                          double pc, double oo2g, double *e);

/* The Gaussian part of a GTH local potential as a third centre:
 * exp(-g |r-C|^2) sum_t w[t] (x-Cx)^px[t] (y-Cy)^py[t] (z-Cz)^pz[t],
 * with even powers up to kmax (gth.c builds it). */
typedef struct nh_int_loc {
  double rc[3], g;
  int kmax, nterm;
  int px[20], py[20], pz[20];
  double w[20];
} nh_int_loc;

/* The generic driver behind nh_int_atoms and nh_int_gth_loc_add: all shell
 * pairs of atoms a and b, grouped by sets. With loc == NULL it computes the
 * operators in ops (into s, t, overwritten); with loc it adds <a|loc|b> to
 * s (ops ignored). */
nh_err nh_int_drive(nh_int_work *w, int ops, const nh_int_loc *loc,
                    const nh_int_shell *a, int na, const double ra[3],
                    const nh_int_shell *b, int nb, const double rb[3],
                    nh_int_screen screen, double *s, double *t, int ld);

#endif
