/* Real spherical and solid harmonics in CP2K's basis, with gradients.
 *
 * The work is done on Racah-normalised real solid harmonics
 * S_lm = √(4π/(2l+1)) r^l Y_lm (Helgaker–Jørgensen–Olsen §6.4), which are
 * polynomials in x, y, z. They follow from S_00 = 1 by two stable upward
 * recurrences (HJO eqs. 6.4.70–6.4.73, with signs that give CP2K's
 * phase-free basis, checked against CONVENTIONS.md §2):
 *   diagonal  S_{l+1,l+1}  = c_l (x S_{l,l} − y S_{l,−l}),
 *             S_{l+1,−l−1} = c_l (y S_{l,l} + x S_{l,−l}),  c_l = √((2l+1)/(2l+2)),
 *   vertical  S_{l+1,m} = [(2l+1) z S_lm − √((l+m)(l−m)) r² S_{l−1,m}]
 *                         / √((l+m+1)(l−m+1)).
 * The vertical one is the associated-Legendre recurrence in l at fixed m,
 * which is stable upwards. Gradients are carried along by the product rule.
 */
#include <math.h>

#include "nextham/irreps.h"

/* S[(lmax+1)²] and optionally dS[3(lmax+1)²] at r (r2 = |r|² is passed so
 * that unit vectors can use exactly 1). */
static void racah_solid(int lmax, const double r[3], double r2, double *S,
                        double *dS) {
  const double x = r[0], y = r[1], z = r[2];
  S[0] = 1.0;
  if (dS)
    dS[0] = dS[1] = dS[2] = 0.0;
  for (int l = 0; l < lmax; l++) {
    const int lp = l + 1;
    /* diagonal: S_{l+1,l+1} = c (x S_ll − y S_{l,−l}),
     *           S_{l+1,−l−1} = c (y S_ll + x S_{l,−l}), c = √((2l+1)/(2l+2))
     * (for l = 0, S_{0,0} plays both roles once and c = 1). */
    const double c = l == 0 ? 1.0 : sqrt((2.0 * l + 1.0) / (2.0 * l + 2.0));
    const int ip = nh_irreps_idx(l, l), im = nh_irreps_idx(l, -l);
    const double sp = S[ip], sm = l == 0 ? 0.0 : S[im];
    const int op = nh_irreps_idx(lp, lp), om = nh_irreps_idx(lp, -lp);
    S[op] = c * (x * sp - y * sm);
    S[om] = c * (y * sp + x * sm);
    if (dS) {
      for (int k = 0; k < 3; k++) {
        const double dsp = dS[3 * ip + k], dsm = l == 0 ? 0.0 : dS[3 * im + k];
        dS[3 * op + k] = c * (x * dsp - y * dsm);
        dS[3 * om + k] = c * (y * dsp + x * dsm);
      }
      dS[3 * op + 0] += c * sp;
      dS[3 * op + 1] -= c * sm;
      dS[3 * om + 0] += c * sm;
      dS[3 * om + 1] += c * sp;
    }
    /* vertical, |m| <= l */
    for (int m = -l; m <= l; m++) {
      const double den = sqrt((double)(l + m + 1) * (l - m + 1));
      const double a = (2.0 * l + 1.0) / den;
      const double b = sqrt((double)(l + m) * (l - m)) / den;
      const int i0 = nh_irreps_idx(l, m), o = nh_irreps_idx(lp, m);
      const int i1 = b != 0.0 ? nh_irreps_idx(l - 1, m) : 0;
      const double s1 = b != 0.0 ? S[i1] : 0.0;
      S[o] = a * z * S[i0] - b * r2 * s1;
      if (dS) {
        for (int k = 0; k < 3; k++) {
          const double d1 = b != 0.0 ? dS[3 * i1 + k] : 0.0;
          dS[3 * o + k] = a * z * dS[3 * i0 + k] - b * (r2 * d1 + 2.0 * r[k] * s1);
        }
        dS[3 * o + 2] += a * S[i0];
      }
    }
  }
}

/* √((2l+1)/(4π)) turns Racah-normalised S_lm into r^l Y_lm. */
static void scale_to_unit_norm(int lmax, double *S, double *dS) {
  for (int l = 0; l <= lmax; l++) {
    const double f = sqrt((2.0 * l + 1.0) / (4.0 * M_PI));
    for (int i = l * l; i < (l + 1) * (l + 1); i++) {
      S[i] *= f;
      if (dS)
        for (int k = 0; k < 3; k++)
          dS[3 * i + k] *= f;
    }
  }
}

nh_err nh_irreps_solid(int lmax, const double r[3], double *R, double *dR) {
  NH_CHECK(lmax >= 0 && lmax <= NH_IRREPS_LMAX, NH_ERR_ARG,
           "harmonic degree lmax = %d outside 0..%d", lmax, NH_IRREPS_LMAX);
  racah_solid(lmax, r, r[0] * r[0] + r[1] * r[1] + r[2] * r[2], R, dR);
  scale_to_unit_norm(lmax, R, dR);
  return NH_OK;
}

/* Y(r) = S(u) with u = r/|r|; ∇_r Y = (∇S(u) − l S(u) u)/|r|, the tangential
 * part of ∇S(u) by Euler's theorem u·∇S(u) = l S(u). */
nh_err nh_irreps_sph(int lmax, const double r[3], double *Y, double *dY) {
  NH_CHECK(lmax >= 0 && lmax <= NH_IRREPS_LMAX, NH_ERR_ARG,
           "harmonic degree lmax = %d outside 0..%d", lmax, NH_IRREPS_LMAX);
  const double rn = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  NH_CHECK(rn > 0.0, NH_ERR_ARG, "spherical harmonics of the zero vector");
  const double u[3] = {r[0] / rn, r[1] / rn, r[2] / rn};
  racah_solid(lmax, u, 1.0, Y, dY);
  scale_to_unit_norm(lmax, Y, dY);
  if (dY)
    for (int l = 0; l <= lmax; l++)
      for (int i = l * l; i < (l + 1) * (l + 1); i++)
        for (int k = 0; k < 3; k++)
          dY[3 * i + k] = (dY[3 * i + k] - l * Y[i] * u[k]) / rn;
  return NH_OK;
}
