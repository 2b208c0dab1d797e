/* Shell preparation: CP2K's contraction normalisation (the only place
 * where coefficients are scaled), primitive radii for CP2K's screening and
 * GTH projectors as shells. */
#include <math.h>
#include <string.h>

#include "intimpl.h"

static double dfact(int n) { return n < 2 ? 1.0 : n * dfact(n - 2); }

/* CP2K's "norm type 2" (CONVENTIONS.md section 1). Each file coefficient
 * multiplies a radially normalised primitive (cprim); the contraction as a
 * whole is then scaled to norm 1. With the angular integral
 * int P_{l,m}^2 dOmega = 4 pi / (2l+1)!!, the same for every m, and
 * n = l + rpow,
 *   F = 4 pi / (2l+1)!! * sum_pq cprim_p cprim_q Gamma(n + 3/2)
 *                                  / (2 (zeta_p + zeta_q)^(n + 3/2)),
 * which for rpow = 0 is CP2K's pi^(3/2) / 2^l sum_pq ... (zp+zq)^-(l+3/2). */
nh_err nh_int_normalise(int l, int rpow, int nprim, const double *exps,
                        const double *c, double *cprim, double *d) {
  NH_CHECK(l >= 0 && l <= NH_INT_LMAX && rpow >= 0 && rpow % 2 == 0 &&
               rpow <= NH_INT_RPOWMAX && nprim > 0 && nprim <= NH_INT_MAXPRIM,
           NH_ERR_ARG, "unsupported shell: l=%d rpow=%d nprim=%d", l, rpow,
           nprim);
  double cp[NH_INT_MAXPRIM], f = 0.0, n = l + rpow + 1.5;
  for (int p = 0; p < nprim; p++) {
    NH_CHECK(exps[p] > 0.0, NH_ERR_ARG, "exponent %d is %g, must be > 0", p,
             exps[p]);
    cp[p] = c[p] * pow(2.0, l) * pow(2.0 / M_PI, 0.75) *
            pow(exps[p], (2.0 * l + 3.0) / 4.0);
  }
  for (int p = 0; p < nprim; p++)
    for (int q = 0; q < nprim; q++)
      f += cp[p] * cp[q] / pow(exps[p] + exps[q], n);
  f *= 4.0 * M_PI / dfact(2 * l + 1) * tgamma(n) / 2.0;
  NH_CHECK(f > 0.0 && isfinite(f), NH_ERR_ARG,
           "contraction of l=%d has norm %g: coefficients all zero?", l, f);
  for (int p = 0; p < nprim; p++) {
    d[p] = cp[p] / sqrt(f);
    if (cprim) cprim[p] = cp[p];
  }
  return NH_OK;
}

/* log of |c| r^l exp(-zeta r^2), safe from underflow. */
static double log_prim(int l, double zeta, double lc, double r) {
  return lc + (l ? l * log(r) : 0.0) - zeta * r * r;
}

double nh_int_prim_radius(int l, double zeta, double c, double eps) {
  if (c == 0.0 || eps <= 0.0) return c == 0.0 ? 0.0 : HUGE_VAL;
  double lc = log(fabs(c)), le = log(eps);
  double lo = l ? sqrt(0.5 * l / zeta) : 0.0; /* the maximum */
  if (log_prim(l, zeta, lc, lo) < le) return 0.0;
  double hi = lo + 1.0;
  while (log_prim(l, zeta, lc, hi) >= le) hi *= 2.0;
  /* bisection to the last bit: the radius decides CP2K's screening */
  for (int it = 0; it < 200; it++) {
    double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (log_prim(l, zeta, lc, mid) >= le)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

/* Adjacent shells with the same exponents belong to one set: nh_basis_load
 * lays a set out with one shared array, nh_basis_add (HDF5) with copies. */
static int same_exponents(const nh_shell *a, const nh_shell *b) {
  return a->nprim == b->nprim &&
         (a->exps == b->exps ||
          !memcmp(a->exps, b->exps, a->nprim * sizeof *a->exps));
}

nh_err nh_int_prepare(const nh_shell *shells, int nshell, double eps_pgf_orb,
                      nh_int_shell *out) {
  double cprim[NH_INT_MAXPRIM];
  for (int s = 0; s < nshell; s++) {
    const nh_shell *sh = &shells[s];
    nh_int_shell *o = &out[s];
    memset(o, 0, sizeof *o);
    NH_CHECK(sh->l >= 0 && sh->l <= NH_INT_LMAX, NH_ERR_ARG,
             "shell %d has l=%d; integrals support l <= %d", s, sh->l,
             NH_INT_LMAX);
    NH_CHECK(sh->nprim > 0 && sh->nprim <= NH_INT_MAXPRIM, NH_ERR_ARG,
             "shell %d has %d primitives; at most %d supported", s, sh->nprim,
             NH_INT_MAXPRIM);
    o->l = sh->l;
    o->nprim = sh->nprim;
    o->set = s > 0 && same_exponents(&shells[s - 1], sh) ? out[s - 1].set : s;
    memcpy(o->exps, sh->exps, sh->nprim * sizeof *o->exps);
    NH_CALL(nh_int_normalise(sh->l, 0, sh->nprim, sh->exps, sh->coefs, cprim,
                             o->coef));
    for (int p = 0; p < sh->nprim; p++)
      o->rad[p] = eps_pgf_orb > 0 ? nh_int_prim_radius(sh->l, sh->exps[p],
                                                       cprim[p], eps_pgf_orb)
                                  : HUGE_VAL;
  }
  /* R_p is a property of the set: the maximum over its shells */
  for (int s = 0; s < nshell; s++)
    for (int t = 0; t < nshell; t++)
      if (out[t].set == out[s].set)
        for (int p = 0; p < out[s].nprim; p++)
          out[s].rad[p] = fmax(out[s].rad[p], out[t].rad[p]);
  return NH_OK;
}

nh_err nh_int_projector(int l, int i, double r_l, nh_int_shell *out) {
  NH_CHECK(i >= 1 && 2 * (i - 1) <= NH_INT_RPOWMAX && r_l > 0.0, NH_ERR_ARG,
           "unsupported GTH projector i=%d (1..%d) r_l=%g", i,
           NH_INT_RPOWMAX / 2 + 1, r_l);
  memset(out, 0, sizeof *out);
  out->l = l;
  out->rpow = 2 * (i - 1);
  out->nprim = 1;
  out->set = -1;
  out->exps[0] = 0.5 / (r_l * r_l);
  out->rad[0] = HUGE_VAL;
  double one = 1.0;
  NH_CALL(nh_int_normalise(l, out->rpow, 1, out->exps, &one, NULL, out->coef));
  return NH_OK;
}
