/* The one-electron driver. Entry points fill a pair_env (cf. libcint's
 * CINTEnvVars) for two groups of shells that share their primitives (one
 * shell each, or one set of the basis file each) and, for the GTH local
 * potential, a third centre; the driver loops over primitive pairs with
 * screening, builds the exponential and the 1-D Obara-Saika tables once
 * per primitive pair, contracts the Cartesian integrals of every shell
 * pair, and transforms each contracted block once to CP2K's spherical
 * functions. Nothing is allocated inside the loops. */
#include <math.h>
#include <string.h>

#include "intimpl.h"

#define LD NH_INT_LD1D
#define LD3 NH_INT_LD3
#define PI32 5.568327996831707845 /* pi^(3/2) */
#define MAXSET 64                 /* shells of one group in one call */

struct nh_int_work {
  double *buf;
  size_t cap; /* doubles */
};

typedef struct pair_env {
  int ops, d1; /* d1 = 1: tables one order higher (kinetic)        */
  const nh_int_loc *loc; /* third centre (GTH local part) or NULL  */
  const nh_int_shell *a, *b;
  int na, nb;  /* shells in each group, sharing exponents          */
  int La, Lb;  /* largest Cartesian degree l + rpow in each group  */
  int ca[MAXSET + 1], cb[MAXSET + 1]; /* Cartesian offsets of shells */
  const nh_int_cart *xa[MAXSET], *xb[MAXSET]; /* their components  */
  double ra[3], rb[3], ab[3], rab2, rab;      /* ab = rb - ra       */
  nh_int_screen screen;
} pair_env;

static void env_group(const nh_int_shell *sh, int n, int *L, int *off,
                      const nh_int_cart **xc) {
  *L = 0;
  off[0] = 0;
  for (int k = 0; k < n; k++) {
    int Lk = sh[k].l + sh[k].rpow;
    if (Lk > *L) *L = Lk;
    off[k + 1] = off[k] + nh_int_ncart(Lk);
    xc[k] = nh_int_cart_table(Lk);
  }
}

static void env_init(pair_env *env, int ops, const nh_int_loc *loc,
                     const nh_int_shell *a, int na, const double ra[3],
                     const nh_int_shell *b, int nb, const double rb[3],
                     nh_int_screen screen) {
  env->ops = ops;
  env->d1 = (!loc && (ops & NH_INT_KINETIC)) ? 1 : 0;
  env->loc = loc;
  env->a = a;
  env->b = b;
  env->na = na;
  env->nb = nb;
  env->screen = screen;
  env_group(a, na, &env->La, env->ca, env->xa);
  env_group(b, nb, &env->Lb, env->cb, env->xb);
  env->rab2 = 0.0;
  for (int k = 0; k < 3; k++) {
    env->ra[k] = ra[k];
    env->rb[k] = rb[k];
    env->ab[k] = rb[k] - ra[k];
    env->rab2 += env->ab[k] * env->ab[k];
  }
  env->rab = sqrt(env->rab2);
}

/* Adds c * (Cartesian block of shells s, t) for one primitive pair. */
static void add_cart(const pair_env *env, int s, int t, double c,
                     const double (*e)[LD * LD], const double (*tk)[LD * LD],
                     double *cs, double *ct) {
  const nh_int_cart *xa = env->xa[s], *xb = env->xb[t];
  int ldc = env->cb[env->nb], nca = env->ca[s + 1] - env->ca[s];
  int ncb = env->cb[t + 1] - env->cb[t];
  size_t o = (size_t)env->ca[s] * ldc + env->cb[t];
  for (int i = 0; i < nca; i++) {
    int ix = xa->x[i] * LD, iy = xa->y[i] * LD, iz = xa->z[i] * LD;
    double *rs = cs ? cs + o + (size_t)i * ldc : NULL;
    double *rt = ct ? ct + o + (size_t)i * ldc : NULL;
    for (int j = 0; j < ncb; j++) {
      int jx = ix + xb->x[j], jy = iy + xb->y[j], jz = iz + xb->z[j];
      double sx = e[0][jx], sy = e[1][jy], sz = e[2][jz];
      if (cs) rs[j] += c * sx * sy * sz;
      if (ct)
        rt[j] += c * (tk[0][jx] * sy * sz + sx * tk[1][jy] * sz +
                      sx * sy * tk[2][jz]);
    }
  }
}

/* Contracted Cartesian blocks of all shell pairs into cs, ct (NULL when not
 * wanted), ca[na] x cb[nb], overwritten. For primitives with p = za + zb,
 * mu = za zb / p, P = (za A + zb B) / p:
 *   <a|b>   = d_a d_b exp(-mu |AB|^2) (pi/p)^(3/2) Ex Ey Ez
 *   <a|T|b> = d_a d_b exp(-mu |AB|^2) (pi/p)^(3/2)
 *             (Tx Ey Ez + Ex Ty Ez + Ex Ey Tz). */
static void contract_cart(const pair_env *env, double *cs, double *ct) {
  const nh_int_shell *a = env->a, *b = env->b;
  size_t n = (size_t)env->ca[env->na] * env->cb[env->nb];
  double e[3][LD * LD], tk[3][LD * LD];
  if (cs) memset(cs, 0, n * sizeof *cs);
  if (ct) memset(ct, 0, n * sizeof *ct);
  for (int p = 0; p < a->nprim; p++)
    for (int q = 0; q < b->nprim; q++) {
      /* the radii are those of the set, equal for all its shells */
      if (env->screen == NH_INT_CP2K && a->rad[p] + b->rad[q] < env->rab)
        continue;
      double za = a->exps[p], zb = b->exps[q], oo = 1.0 / (za + zb);
      double pref = PI32 * oo * sqrt(oo) * exp(-za * zb * oo * env->rab2);
      if (pref == 0.0) continue; /* underflow: nothing to add */
      for (int k = 0; k < 3; k++) {
        nh_int_os1d_overlap(env->La + env->d1, env->Lb + env->d1,
                            zb * oo * env->ab[k], -za * oo * env->ab[k],
                            0.5 * oo, e[k]);
        if (ct) nh_int_os1d_kinetic(env->La, env->Lb, za, zb, e[k], tk[k]);
      }
      for (int s = 0; s < env->na; s++) {
        double cp = pref * a[s].coef[p];
        for (int t = 0; t < env->nb; t++)
          if (cp * b[t].coef[q] != 0.0)
            add_cart(env, s, t, cp * b[t].coef[q], (const double(*)[LD * LD])e,
                     (const double(*)[LD * LD])tk, cs, ct);
      }
    }
}

/* Adds c * (Cartesian block of shells s, t) of the local potential for
 * one primitive pair, from the three-centre tables e. */
static void add_cart_loc(const pair_env *env, int s, int t, double c,
                         const double (*e)[LD * LD * LD3], double *cv) {
  const nh_int_cart *xa = env->xa[s], *xb = env->xb[t];
  const nh_int_loc *loc = env->loc;
  int ldc = env->cb[env->nb], nca = env->ca[s + 1] - env->ca[s];
  int ncb = env->cb[t + 1] - env->cb[t];
  double *o = cv + (size_t)env->ca[s] * ldc + env->cb[t];
  for (int i = 0; i < nca; i++)
    for (int j = 0; j < ncb; j++) {
      int jx = (xa->x[i] * LD + xb->x[j]) * LD3;
      int jy = (xa->y[i] * LD + xb->y[j]) * LD3;
      int jz = (xa->z[i] * LD + xb->z[j]) * LD3;
      double v = 0.0;
      for (int k = 0; k < loc->nterm; k++)
        v += loc->w[k] * e[0][jx + loc->px[k]] * e[1][jy + loc->py[k]] *
             e[2][jz + loc->pz[k]];
      o[(size_t)i * ldc + j] += c * v;
    }
}

/* Contracted Cartesian blocks of the local potential, like contract_cart.
 * For primitives za, zb and the potential's g, with G = za + zb + g and
 * P = (za A + zb B + g C) / G, the factor is d_a d_b (pi/G)^(3/2)
 * exp(-(za zb |AB|^2 + za g |AC|^2 + zb g |BC|^2) / G). */
static void contract_loc(const pair_env *env, double *cv) {
  const nh_int_shell *a = env->a, *b = env->b;
  const nh_int_loc *loc = env->loc;
  double e[3][LD * LD * LD3], ac2 = 0.0, bc2 = 0.0, g = loc->g;
  for (int k = 0; k < 3; k++) {
    ac2 += (env->ra[k] - loc->rc[k]) * (env->ra[k] - loc->rc[k]);
    bc2 += (env->rb[k] - loc->rc[k]) * (env->rb[k] - loc->rc[k]);
  }
  memset(cv, 0, (size_t)env->ca[env->na] * env->cb[env->nb] * sizeof *cv);
  for (int p = 0; p < a->nprim; p++)
    for (int q = 0; q < b->nprim; q++) {
      double za = a->exps[p], zb = b->exps[q], oo = 1.0 / (za + zb + g);
      double pref = PI32 * oo * sqrt(oo) *
                    exp(-(za * zb * env->rab2 + za * g * ac2 + zb * g * bc2) * oo);
      if (pref == 0.0) continue;
      for (int k = 0; k < 3; k++) {
        double P = (za * env->ra[k] + zb * env->rb[k] + g * loc->rc[k]) * oo;
        nh_int_os1d_overlap3(env->La, env->Lb, loc->kmax, P - env->ra[k],
                             P - env->rb[k], P - loc->rc[k], 0.5 * oo, e[k]);
      }
      for (int s = 0; s < env->na; s++) {
        double cp = pref * a[s].coef[p];
        for (int t = 0; t < env->nb; t++)
          if (cp * b[t].coef[q] != 0.0)
            add_cart_loc(env, s, t, cp * b[t].coef[q],
                         (const double(*)[LD * LD * LD3])e, cv);
      }
    }
}

/* Spherical block of shells s, t from the group's contracted array. */
static void cart_to_sph(const pair_env *env, int s, int t, const double *cart,
                        double *out, int ld, int add) {
  const nh_int_shell *a = &env->a[s], *b = &env->b[t];
  int ldc = env->cb[env->nb];
  nh_int_cart2sph(a->l, a->rpow, b->l, b->rpow,
                  cart + (size_t)env->ca[s] * ldc + env->cb[t], ldc, out, ld,
                  add);
}

/* Spherical blocks of all shell pairs of the group pair into s, t; with a
 * local potential, added to s. */
static void group_pair(const pair_env *env, double *cs, double *ct, double *s,
                       double *t, int ld) {
  int dos = env->loc || (env->ops & NH_INT_OVERLAP);
  int dot = !env->loc && (env->ops & NH_INT_KINETIC);
  if (env->loc)
    contract_loc(env, cs);
  else
    contract_cart(env, dos ? cs : NULL, dot ? ct : NULL);
  for (int i = 0, oi = 0; i < env->na; oi += 2 * env->a[i].l + 1, i++)
    for (int j = 0, oj = 0; j < env->nb; oj += 2 * env->b[j].l + 1, j++) {
      if (dos)
        cart_to_sph(env, i, j, cs, s + (size_t)oi * ld + oj, ld, env->loc != NULL);
      if (dot) cart_to_sph(env, i, j, ct, t + (size_t)oi * ld + oj, ld, 0);
    }
}

static nh_err check_shell(const nh_int_shell *s, const char *which, int k) {
  NH_CHECK(s && s->l >= 0 && s->l <= NH_INT_LMAX && s->rpow >= 0 &&
               s->rpow <= NH_INT_RPOWMAX && s->rpow % 2 == 0 &&
               s->nprim > 0 && s->nprim <= NH_INT_MAXPRIM,
           NH_ERR_ARG, "shell %s[%d] is not a prepared nh_int_shell", which,
           k);
  return NH_OK;
}

static nh_err check_call(int ops, const double *s, const double *t) {
  NH_CHECK(ops && !(ops & ~(NH_INT_OVERLAP | NH_INT_KINETIC)) &&
               (!(ops & NH_INT_OVERLAP) || s) && (!(ops & NH_INT_KINETIC) || t),
           NH_ERR_ARG, "bad operator flags %d or missing output", ops);
  return NH_OK;
}

nh_err nh_int_1e(int ops, const nh_int_shell *a, const double ra[3],
                 const nh_int_shell *b, const double rb[3],
                 nh_int_screen screen, double *s, double *t, int ld) {
  NH_CALL(check_shell(a, "a", 0));
  NH_CALL(check_shell(b, "b", 0));
  NH_CALL(check_call(ops, s, t));
  NH_CHECK(ld >= 2 * b->l + 1, NH_ERR_ARG, "ld %d < 2l+1 = %d", ld,
           2 * b->l + 1);
  pair_env env;
  env_init(&env, ops, NULL, a, 1, ra, b, 1, rb, screen);
  double cs[NH_INT_NCARTMAX * NH_INT_NCARTMAX];
  double ct[NH_INT_NCARTMAX * NH_INT_NCARTMAX];
  group_pair(&env, cs, ct, s, t, ld);
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

nh_err nh_int_work_create(nh_int_work **w) {
  NH_CALL(nh_calloc(1, sizeof **w, w));
  return NH_OK;
}

nh_err nh_int_work_destroy(nh_int_work **w) {
  if (!w || !*w) return NH_OK;
  nh_free(&(*w)->buf);
  nh_free(w);
  return NH_OK;
}

/* End of the group of shells sharing primitives that starts at k. */
static int group_end(const nh_int_shell *sh, int n, int k) {
  int e = k + 1;
  if (sh[k].set < 0) return e;
  while (e < n && e - k < MAXSET && sh[e].set == sh[k].set &&
         sh[e].nprim == sh[k].nprim &&
         !memcmp(sh[e].exps, sh[k].exps, sh[k].nprim * sizeof *sh[k].exps) &&
         !memcmp(sh[e].rad, sh[k].rad, sh[k].nprim * sizeof *sh[k].rad))
    e++;
  return e;
}

nh_err nh_int_drive(nh_int_work *w, int ops, const nh_int_loc *loc,
                    const nh_int_shell *a, int na, const double ra[3],
                    const nh_int_shell *b, int nb, const double rb[3],
                    nh_int_screen screen, double *s, double *t, int ld) {
  NH_CHECK(w, NH_ERR_ARG, "no nh_int_work given");
  if (loc)
    NH_CHECK(s, NH_ERR_ARG, "no output block");
  else
    NH_CALL(check_call(ops, s, t));
  int nfb = 0;
  for (int k = 0; k < na; k++) NH_CALL(check_shell(&a[k], "a", k));
  for (int k = 0; k < nb; k++) {
    NH_CALL(check_shell(&b[k], "b", k));
    nfb += 2 * b[k].l + 1;
  }
  NH_CHECK(ld >= nfb, NH_ERR_ARG, "ld %d < %d functions of b", ld, nfb);
  pair_env env;
  for (int ia = 0, oa = 0; ia < na;) {
    int ea = group_end(a, na, ia), ob = 0;
    for (int ib = 0; ib < nb;) {
      int eb = group_end(b, nb, ib);
      env_init(&env, ops, loc, a + ia, ea - ia, ra, b + ib, eb - ib, rb,
               screen);
      size_t n = (size_t)env.ca[env.na] * env.cb[env.nb];
      if (2 * n > w->cap) {
        NH_CALL(nh_realloc(2 * n * sizeof *w->buf, &w->buf));
        w->cap = 2 * n;
      }
      group_pair(&env, w->buf, w->buf + n, s ? s + (size_t)oa * ld + ob : NULL,
                 t ? t + (size_t)oa * ld + ob : NULL, ld);
      for (; ib < eb; ib++) ob += 2 * b[ib].l + 1;
    }
    for (; ia < ea; ia++) oa += 2 * a[ia].l + 1;
  }
  return NH_OK;
}

nh_err nh_int_atoms(nh_int_work *w, int ops, const nh_int_shell *a, int na,
                    const double ra[3], const nh_int_shell *b, int nb,
                    const double rb[3], nh_int_screen screen, double *s,
                    double *t, int ld) {
  NH_CALL(nh_int_drive(w, ops, NULL, a, na, ra, b, nb, rb, screen, s, t, ld));
  return NH_OK;
}
