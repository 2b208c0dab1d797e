/* Quadrature, Hartree potential and interpolation on a log radial grid. */
#include "radial.h"

#include <math.h>

double nh_radial_integral(int n, double h, const double *r, const double *f) {
  double s = 0.5 * (f[0] * r[0] * r[0] * r[0] +
                    f[n - 1] * r[n - 1] * r[n - 1] * r[n - 1]);
  for (int i = 1; i < n - 1; i++) s += f[i] * r[i] * r[i] * r[i];
  return s * h;
}

/* int_{x_i}^{x_{i+1}} g dx from the four nearest samples (interpolating
 * cubic), one-sided at the ends of the grid. */
static double step(int n, double h, const double *g, int i) {
  if (i == 0) return h / 24 * (9 * g[0] + 19 * g[1] - 5 * g[2] + g[3]);
  if (i == n - 2)
    return h / 24 * (g[n - 4] - 5 * g[n - 3] + 19 * g[n - 2] + 9 * g[n - 1]);
  return h / 24 * (-g[i - 1] + 13 * g[i] + 13 * g[i + 1] - g[i + 2]);
}

void nh_radial_hartree(int n, double h, const double *r, const double *rho,
                       double *vh, double *q, double *work) {
  /* q: integrand 4 pi rho r^3 in x; below r[0] rho is constant. */
  for (int i = 0; i < n; i++) work[i] = 4 * M_PI * rho[i] * r[i] * r[i] * r[i];
  q[0] = work[0] / 3;
  for (int i = 0; i < n - 1; i++) q[i + 1] = q[i] + step(n, h, work, i);
  /* the outer part: integrand 4 pi rho r^2 in x, summed inwards. */
  for (int i = 0; i < n; i++) work[i] /= r[i];
  vh[n - 1] = q[n - 1] / r[n - 1];
  double outer = 0;
  for (int i = n - 2; i >= 0; i--) {
    outer += step(n, h, work, i);
    vh[i] = q[i] / r[i] + outer;
  }
}

double nh_radial_hermite(int n, double x0, double h, const double *y,
                         const double *dy, const double *r, double rr,
                         double *dydr) {
  double t = (log(rr) - x0) / h;
  int i = (int)t;
  if (i < 0) i = 0;
  if (i > n - 2) i = n - 2;
  double u = t - i, u2 = u * u, u3 = u2 * u;
  /* derivatives in x: dy/dx = r dy/dr */
  double m0 = dy[i] * r[i] * h, m1 = dy[i + 1] * r[i + 1] * h;
  double h00 = 2 * u3 - 3 * u2 + 1, h10 = u3 - 2 * u2 + u;
  double h01 = -2 * u3 + 3 * u2, h11 = u3 - u2;
  double d00 = 6 * u2 - 6 * u, d10 = 3 * u2 - 4 * u + 1;
  double d01 = -6 * u2 + 6 * u, d11 = 3 * u2 - 2 * u;
  *dydr = (d00 * y[i] + d10 * m0 + d01 * y[i + 1] + d11 * m1) / (h * rr);
  return h00 * y[i] + h10 * m0 + h01 * y[i + 1] + h11 * m1;
}
