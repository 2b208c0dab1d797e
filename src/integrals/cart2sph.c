/* Cartesian -> CP2K real solid harmonic transform.
 *
 * CP2K's angular functions are P_{l,m} = S_{l,m} / sqrt((2l-1)!!), with
 * S_{l,m} the real solid harmonics of Helgaker, Jorgensen, Olsen (eq.
 * 6.4.47: S_{1,1} = x, S_{1,-1} = y, no Condon-Shortley phase), ordered
 * m = -l..l (CONVENTIONS.md sections 2-3). The tables are built once, on
 * first use, for every l <= NH_INT_LMAX and every even radial power
 * rpow <= NH_INT_RPOWMAX (r^rpow P_{l,m} for GTH projectors). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "intimpl.h"

#define NRPOW (NH_INT_RPOWMAX / 2 + 1)

static nh_int_cart cart[NH_INT_LCART + 1];
static double c2s[NH_INT_LMAX + 1][NRPOW][(2 * NH_INT_LMAX + 1) *
                                          NH_INT_NCARTMAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int cidx(int L, int lx, int lz) {
  return (L - lx) * (L - lx + 1) / 2 + lz;
}

static double binom(int n, int k) {
  if (k < 0 || k > n) return 0.0;
  double r = 1.0;
  for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
  return r;
}

static double fact(int n) { return n < 2 ? 1.0 : n * fact(n - 1); }

static double dfact(int n) { return n < 2 ? 1.0 : n * dfact(n - 2); }

/* S_{l,m} as Cartesian coefficients of degree l (HJO eq. 6.4.47-6.4.50).
 * The half-integer sum index v of m < 0 is carried as k = 2v (odd). */
static void solid_harmonic(int l, int m, double *c) {
  int am = abs(m), vm2 = m < 0;
  double n = sqrt(2.0 * fact(l + am) * fact(l - am) / (m == 0 ? 2.0 : 1.0)) /
             (pow(2.0, am) * fact(l));
  memset(c, 0, nh_int_ncart(l) * sizeof *c);
  for (int t = 0; t <= (l - am) / 2; t++)
    for (int u = 0; u <= t; u++)
      for (int k = vm2; k <= am; k += 2) {
        double sign = ((t + (k - vm2) / 2) % 2) ? -1.0 : 1.0;
        double v = sign * pow(0.25, t) * binom(l, t) * binom(l - t, am + t) *
                   binom(t, u) * binom(am, k);
        int ly = 2 * u + k, lx = 2 * t + am - ly, lz = l - 2 * t - am;
        c[cidx(l, lx, lz)] += n * v;
      }
}

/* Multiplies a polynomial of degree L by x^2 + y^2 + z^2. */
static void times_r2(int L, const double *c, double *out) {
  memset(out, 0, nh_int_ncart(L + 2) * sizeof *out);
  const nh_int_cart *ct = &cart[L];
  for (int i = 0; i < nh_int_ncart(L); i++) {
    int x = ct->x[i], z = ct->z[i];
    out[cidx(L + 2, x + 2, z)] += c[i];
    out[cidx(L + 2, x, z)] += c[i]; /* y + 2 */
    out[cidx(L + 2, x, z + 2)] += c[i];
  }
}

static void build_tables(void) {
  for (int L = 0; L <= NH_INT_LCART; L++)
    for (int lx = L, i = 0; lx >= 0; lx--)
      for (int ly = L - lx; ly >= 0; ly--, i++) {
        cart[L].x[i] = (unsigned char)lx;
        cart[L].y[i] = (unsigned char)ly;
        cart[L].z[i] = (unsigned char)(L - lx - ly);
      }
  double a[NH_INT_NCARTMAX], b[NH_INT_NCARTMAX];
  for (int l = 0; l <= NH_INT_LMAX; l++)
    for (int m = -l; m <= l; m++) {
      solid_harmonic(l, m, a);
      for (int i = 0; i < nh_int_ncart(l); i++) a[i] /= sqrt(dfact(2 * l - 1));
      for (int k = 0; k < NRPOW; k++) {
        int L = l + 2 * k, nc = nh_int_ncart(L);
        memcpy(&c2s[l][k][(m + l) * nc], a, nc * sizeof *a);
        if (k + 1 < NRPOW) {
          times_r2(L, a, b);
          memcpy(a, b, nh_int_ncart(L + 2) * sizeof *a);
        }
      }
    }
}

const nh_int_cart *nh_int_cart_table(int L) {
  pthread_once(&once, build_tables);
  return &cart[L];
}

const double *nh_int_c2s(int l, int rpow) {
  pthread_once(&once, build_tables);
  return c2s[l][rpow / 2];
}

void nh_int_solid_harmonics(int l, double x, double y, double z,
                            double *out) {
  const double *c = nh_int_c2s(l, 0);
  const nh_int_cart *ct = &cart[l];
  int nc = nh_int_ncart(l);
  double px[NH_INT_LMAX + 1], py[NH_INT_LMAX + 1], pz[NH_INT_LMAX + 1];
  px[0] = py[0] = pz[0] = 1.0;
  for (int i = 1; i <= l; i++) {
    px[i] = px[i - 1] * x;
    py[i] = py[i - 1] * y;
    pz[i] = pz[i - 1] * z;
  }
  for (int m = 0; m < 2 * l + 1; m++) {
    double v = 0.0;
    for (int i = 0; i < nc; i++)
      if (c[m * nc + i] != 0.0)
        v += c[m * nc + i] * px[ct->x[i]] * py[ct->y[i]] * pz[ct->z[i]];
    out[m] = v;
  }
}

void nh_int_shell_eval(const nh_int_shell *sh, double x, double y, double z,
                       double *out) {
  double r2 = x * x + y * y + z * z, rad = 0.0;
  for (int p = 0; p < sh->nprim; p++) rad += sh->coef[p] * exp(-sh->exps[p] * r2);
  for (int k = 0; k < sh->rpow / 2; k++) rad *= r2;
  nh_int_solid_harmonics(sh->l, x, y, z, out);
  for (int m = 0; m < 2 * sh->l + 1; m++) out[m] *= rad;
}

void nh_int_cart2sph(int la, int rpa, int lb, int rpb, const double *cart,
                     int ldc, double *out, int ld, int add) {
  const double *xa = nh_int_c2s(la, rpa), *xb = nh_int_c2s(lb, rpb);
  int nca = nh_int_ncart(la + rpa), ncb = nh_int_ncart(lb + rpb);
  double tmp[(2 * NH_INT_LMAX + 1) * NH_INT_NCARTMAX];
  for (int ma = 0; ma < 2 * la + 1; ma++)
    for (int j = 0; j < ncb; j++) {
      double v = 0.0;
      for (int i = 0; i < nca; i++)
        v += xa[ma * nca + i] * cart[(size_t)i * ldc + j];
      tmp[ma * ncb + j] = v;
    }
  for (int ma = 0; ma < 2 * la + 1; ma++)
    for (int mb = 0; mb < 2 * lb + 1; mb++) {
      double v = 0.0;
      for (int j = 0; j < ncb; j++) v += tmp[ma * ncb + j] * xb[mb * ncb + j];
      out[ma * ld + mb] = add ? out[ma * ld + mb] + v : v;
    }
}
