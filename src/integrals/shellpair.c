/* Shell-pair driver of the one-electron integrals: entry points fill a
 * pair_env (cf. libcint's CINTEnvVars), the driver loops over primitive
 * pairs with screening, contracts Cartesian integrals built from 1-D
 * Obara-Saika tables, and transforms the contracted block once to CP2K's
 * spherical functions. No allocation: everything lives on the stack. */
#include <math.h>
#include <string.h>

#include "intimpl.h"

#define LD NH_INT_LD1D
#define PI32 5.568327996831707845 /* pi^(3/2) */

typedef struct pair_env {
  int ops;
  const nh_int_shell *a, *b;
  double ab[3]; /* rb - ra */
  double rab2, rab;
  int La, Lb;   /* Cartesian degrees l + rpow */
  int d1;       /* 1 if the 1-D tables need one order more (kinetic) */
  nh_int_screen screen;
} pair_env;

/* Contracted Cartesian blocks cs, ct (nca x ncb), overwritten. For a
 * primitive pair with p = za + zb, mu = za zb / p, P = (za A + zb B) / p:
 *   <a|b> = d_a d_b exp(-mu |AB|^2) (pi/p)^(3/2) Ex Ey Ez
 *   <a|T|b> = d_a d_b exp(-mu |AB|^2) (pi/p)^(3/2)
 *             (Tx Ey Ez + Ex Ty Ez + Ex Ey Tz). */
static void contract_cart(const pair_env *env, double *cs, double *ct) {
  const nh_int_shell *a = env->a, *b = env->b;
  const nh_int_cart *ca = nh_int_cart_table(env->La);
  const nh_int_cart *cb = nh_int_cart_table(env->Lb);
  int nca = nh_int_ncart(env->La), ncb = nh_int_ncart(env->Lb);
  int dos = env->ops & NH_INT_OVERLAP, dot = env->ops & NH_INT_KINETIC;
  double e[3][LD * LD], t[3][LD * LD];
  if (dos) memset(cs, 0, nca * ncb * sizeof *cs);
  if (dot) memset(ct, 0, nca * ncb * sizeof *ct);
  for (int p = 0; p < a->nprim; p++)
    for (int q = 0; q < b->nprim; q++) {
      if (env->screen == NH_INT_CP2K && a->rad[p] + b->rad[q] < env->rab)
        continue;
      double za = a->exps[p], zb = b->exps[q], oo = 1.0 / (za + zb);
      double pref = a->coef[p] * b->coef[q] * PI32 * oo * sqrt(oo) *
                    exp(-za * zb * oo * env->rab2);
      if (pref == 0.0) continue; /* underflow: nothing to add */
      for (int k = 0; k < 3; k++) {
        nh_int_os1d_overlap(env->La + env->d1, env->Lb + env->d1,
                            zb * oo * env->ab[k], -za * oo * env->ab[k],
                            0.5 * oo, e[k]);
        if (dot) nh_int_os1d_kinetic(env->La, env->Lb, za, zb, e[k], t[k]);
      }
      for (int i = 0; i < nca; i++) {
        int ix = ca->x[i] * LD, iy = ca->y[i] * LD, iz = ca->z[i] * LD;
        for (int j = 0; j < ncb; j++) {
          int jx = ix + cb->x[j], jy = iy + cb->y[j], jz = iz + cb->z[j];
          double sx = e[0][jx], sy = e[1][jy], sz = e[2][jz];
          if (dos) cs[i * ncb + j] += pref * sx * sy * sz;
          if (dot)
            ct[i * ncb + j] += pref * (t[0][jx] * sy * sz + sx * t[1][jy] * sz +
                                       sx * sy * t[2][jz]);
        }
      }
    }
}

/* out[ma * ld + mb] = sum_ij C_a[ma][i] cart[i][j] C_b[mb][j]. */
static void cart_to_sph(const pair_env *env, const double *cart, double *out,
                        int ld) {
  const nh_int_shell *a = env->a, *b = env->b;
  const double *ca = nh_int_c2s(a->l, a->rpow), *cb = nh_int_c2s(b->l, b->rpow);
  int nca = nh_int_ncart(env->La), ncb = nh_int_ncart(env->Lb);
  int na = 2 * a->l + 1, nb = 2 * b->l + 1;
  double tmp[(2 * NH_INT_LMAX + 1) * NH_INT_NCARTMAX];
  for (int ma = 0; ma < na; ma++)
    for (int j = 0; j < ncb; j++) {
      double v = 0.0;
      for (int i = 0; i < nca; i++) v += ca[ma * nca + i] * cart[i * ncb + j];
      tmp[ma * ncb + j] = v;
    }
  for (int ma = 0; ma < na; ma++)
    for (int mb = 0; mb < nb; mb++) {
      double v = 0.0;
      for (int j = 0; j < ncb; j++) v += tmp[ma * ncb + j] * cb[mb * ncb + j];
      out[ma * ld + mb] = v;
    }
}

static nh_err check_shell(const nh_int_shell *s, const char *which) {
  NH_CHECK(s && s->l >= 0 && s->l <= NH_INT_LMAX && s->rpow >= 0 &&
               s->rpow <= NH_INT_RPOWMAX && s->rpow % 2 == 0 &&
               s->nprim > 0 && s->nprim <= NH_INT_MAXPRIM,
           NH_ERR_ARG, "shell %s is not a prepared nh_int_shell", which);
  return NH_OK;
}

nh_err nh_int_1e(int ops, const nh_int_shell *a, const double ra[3],
                 const nh_int_shell *b, const double rb[3],
                 nh_int_screen screen, double *s, double *t, int ld) {
  NH_CALL(check_shell(a, "a"));
  NH_CALL(check_shell(b, "b"));
  NH_CHECK(ops && !(ops & ~(NH_INT_OVERLAP | NH_INT_KINETIC)) &&
               (!(ops & NH_INT_OVERLAP) || s) &&
               (!(ops & NH_INT_KINETIC) || t) && ld >= 2 * b->l + 1,
           NH_ERR_ARG, "bad operator flags %d, output or ld %d", ops, ld);
  pair_env env = {.ops = ops, .a = a, .b = b, .screen = screen,
                  .La = a->l + a->rpow, .Lb = b->l + b->rpow,
                  .d1 = (ops & NH_INT_KINETIC) ? 1 : 0};
  for (int k = 0; k < 3; k++) {
    env.ab[k] = rb[k] - ra[k];
    env.rab2 += env.ab[k] * env.ab[k];
  }
  env.rab = sqrt(env.rab2);
  double cs[NH_INT_NCARTMAX * NH_INT_NCARTMAX];
  double ct[NH_INT_NCARTMAX * NH_INT_NCARTMAX];
  contract_cart(&env, cs, ct);
  if (ops & NH_INT_OVERLAP) cart_to_sph(&env, cs, s, ld);
  if (ops & NH_INT_KINETIC) cart_to_sph(&env, ct, t, ld);
  return NH_OK;
}

nh_err nh_int_overlap(const nh_int_shell *a, const double ra[3],
                      const nh_int_shell *b, const double rb[3],
                      nh_int_screen screen, double *s, int ld) {
  NH_CALL(nh_int_1e(NH_INT_OVERLAP, a, ra, b, rb, screen, s, NULL, ld));
  return NH_OK;
}

nh_err nh_int_kinetic(const nh_int_shell *a, const double ra[3],
                      const nh_int_shell *b, const double rb[3],
                      nh_int_screen screen, double *t, int ld) {
  NH_CALL(nh_int_1e(NH_INT_KINETIC, a, ra, b, rb, screen, NULL, t, ld));
  return NH_OK;
}
