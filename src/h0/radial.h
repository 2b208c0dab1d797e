/* Private to the h0 module: functions on a logarithmic radial grid
 * r_i = exp(x0 + i h), i = 0..n-1. Integrals over r become integrals over
 * x = ln r (dr = r dx); the trapezoid rule in x is spectrally accurate for
 * the smooth, decaying integrands of a pseudo-atom. */
#ifndef NEXTHAM_RADIAL_H
#define NEXTHAM_RADIAL_H

/* int_0^inf f(r) r^2 dr by the trapezoid rule in x (f negligible at both
 * ends of the grid). */
double nh_radial_integral(int n, double h, const double *r, const double *f);

/* Hartree potential of a spherical density rho (electrons/bohr^3):
 *   vh(r) = q(r)/r + int_r^inf 4 pi rho(s) s ds,
 *   q(r)  = int_0^r 4 pi rho(s) s^2 ds (the enclosed charge),
 * by cumulative 4th-order (Lagrange four-point) quadrature in x. rho must
 * be negligible at r[n-1]; dvh/dr = -q/r^2. n >= 4; work holds n. */
void nh_radial_hartree(int n, double h, const double *r, const double *rho,
                       double *vh, double *q, double *work);

/* Cubic Hermite interpolation in x of y given with its derivative dy/dr
 * at the grid points: the value at r (r[0] <= r <= r[n-1]) into the return
 * value and dy/dr into *dydr. */
double nh_radial_hermite(int n, double x0, double h, const double *y,
                         const double *dy, const double *r, double rr,
                         double *dydr);

#endif
