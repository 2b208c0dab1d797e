/* GTH pseudopotential integrals: the non-local term from projector
 * overlaps, and the Gaussian part of the local potential as a three-centre
 * overlap <a| r_C^(2n) exp(-g r_C^2) |b>. */
#include <math.h>
#include <string.h>

#include "intimpl.h"

#define LD NH_INT_LD1D
#define LD3 NH_INT_LD3
#define PI32 5.568327996831707845 /* pi^(3/2) */

nh_err nh_int_gth_projectors(const nh_int_gth *pp, nh_int_shell *proj,
                             int *nproj, int *nfun) {
  NH_CHECK(pp->nl >= 0 && pp->nl <= NH_INT_GTH_LMAX + 1, NH_ERR_ARG,
           "GTH potential with %d projector channels (at most %d)", pp->nl,
           NH_INT_GTH_LMAX + 1);
  *nproj = *nfun = 0;
  for (int l = 0; l < pp->nl; l++) {
    NH_CHECK(pp->nprj[l] >= 0 && pp->nprj[l] <= 3, NH_ERR_ARG,
             "GTH channel l=%d has %d projectors (0..3)", l, pp->nprj[l]);
    for (int i = 1; i <= pp->nprj[l]; i++) {
      NH_CALL(nh_int_projector(l, i, pp->rl[l], &proj[(*nproj)++]));
      *nfun += 2 * l + 1;
    }
  }
  return NH_OK;
}

void nh_int_gth_nl_add(const nh_int_gth *pp, const double *pa, int nfa,
                       const double *pb, int nfb, int ldp, double *v, int ld) {
  int off = 0; /* first column of channel l */
  for (int l = 0; l < pp->nl; l++) {
    int n = 2 * l + 1, np = pp->nprj[l];
    for (int i = 0; i < np; i++)
      for (int j = 0; j < np; j++) {
        double h = pp->h[l][i][j];
        if (h == 0.0) continue;
        const double *ca = pa + off + i * n, *cb = pb + off + j * n;
        for (int mu = 0; mu < nfa; mu++)
          for (int nu = 0; nu < nfb; nu++) {
            double s = 0.0;
            for (int m = 0; m < n; m++)
              s += ca[(size_t)mu * ldp + m] * cb[(size_t)nu * ldp + m];
            v[(size_t)mu * ld + nu] += h * s;
          }
      }
    off += np * n;
  }
}

/* The operator exp(-g r^2) sum_n c_n (r/rloc)^(2n) written as Cartesian
 * terms w x^(2p) y^(2q) z^(2s): (r^2)^n = sum n!/(p!q!s!) x^2p y^2q z^2s. */
typedef struct loc_terms {
  int n, px[20], py[20], pz[20];
  double w[20];
} loc_terms;

static double fact(int n) { return n < 2 ? 1.0 : n * fact(n - 1); }

static void loc_expand(const nh_int_gth *pp, loc_terms *lt) {
  lt->n = 0;
  for (int n = 0; n < pp->nloc; n++)
    for (int p = n; p >= 0; p--)
      for (int q = n - p; q >= 0; q--) {
        int s = n - p - q, k = lt->n++;
        lt->px[k] = 2 * p;
        lt->py[k] = 2 * q;
        lt->pz[k] = 2 * s;
        lt->w[k] = pp->cloc[n] / pow(pp->rloc, 2 * n) * fact(n) /
                   (fact(p) * fact(q) * fact(s));
      }
}

/* Adds <a|V|b> for one shell pair. Per primitive pair, with G = za+zb+g,
 * the prefactor is d_a d_b (pi/G)^(3/2)
 * exp(-(za zb |AB|^2 + za g |AC|^2 + zb g |BC|^2) / G). */
static void loc_pair(const nh_int_gth *pp, const loc_terms *lt,
                     const double *rc, const nh_int_shell *a, const double *ra,
                     const nh_int_shell *b, const double *rb, double *v,
                     int ld) {
  int La = a->l + a->rpow, Lb = b->l + b->rpow, K = 2 * (pp->nloc - 1);
  int nca = nh_int_ncart(La), ncb = nh_int_ncart(Lb);
  const nh_int_cart *xa = nh_int_cart_table(La), *xb = nh_int_cart_table(Lb);
  double g = 0.5 / (pp->rloc * pp->rloc), ab2 = 0, ac2 = 0, bc2 = 0;
  for (int k = 0; k < 3; k++) {
    ab2 += (ra[k] - rb[k]) * (ra[k] - rb[k]);
    ac2 += (ra[k] - rc[k]) * (ra[k] - rc[k]);
    bc2 += (rb[k] - rc[k]) * (rb[k] - rc[k]);
  }
  double cart[NH_INT_NCARTMAX * NH_INT_NCARTMAX];
  double e[3][LD * LD * LD3];
  memset(cart, 0, sizeof(double) * nca * ncb);
  for (int p = 0; p < a->nprim; p++)
    for (int q = 0; q < b->nprim; q++) {
      double za = a->exps[p], zb = b->exps[q], oo = 1.0 / (za + zb + g);
      double pref = a->coef[p] * b->coef[q] * PI32 * oo * sqrt(oo) *
                    exp(-(za * zb * ab2 + za * g * ac2 + zb * g * bc2) * oo);
      if (pref == 0.0) continue;
      for (int k = 0; k < 3; k++) {
        double P = (za * ra[k] + zb * rb[k] + g * rc[k]) * oo;
        nh_int_os1d_overlap3(La, Lb, K, P - ra[k], P - rb[k], P - rc[k],
                             0.5 * oo, e[k]);
      }
      for (int i = 0; i < nca; i++)
        for (int j = 0; j < ncb; j++) {
          int jx = (xa->x[i] * LD + xb->x[j]) * LD3;
          int jy = (xa->y[i] * LD + xb->y[j]) * LD3;
          int jz = (xa->z[i] * LD + xb->z[j]) * LD3;
          double s = 0.0;
          for (int t = 0; t < lt->n; t++)
            s += lt->w[t] * e[0][jx + lt->px[t]] * e[1][jy + lt->py[t]] *
                 e[2][jz + lt->pz[t]];
          cart[i * ncb + j] += pref * s;
        }
    }
  nh_int_cart2sph(a->l, a->rpow, b->l, b->rpow, cart, ncb, v, ld, 1);
}

nh_err nh_int_gth_loc_add(const nh_int_gth *pp, const double rc[3],
                          const nh_int_shell *a, int na, const double ra[3],
                          const nh_int_shell *b, int nb, const double rb[3],
                          double *v, int ld) {
  NH_CHECK(pp->nloc >= 0 && pp->nloc <= 4 && pp->rloc > 0, NH_ERR_ARG,
           "GTH local part with %d terms, rloc %g", pp->nloc, pp->rloc);
  if (pp->nloc == 0) return NH_OK;
  loc_terms lt;
  loc_expand(pp, &lt);
  for (int i = 0, oa = 0; i < na; oa += 2 * a[i].l + 1, i++)
    for (int j = 0, ob = 0; j < nb; ob += 2 * b[j].l + 1, j++) {
      NH_CHECK(a[i].l + a[i].rpow <= NH_INT_LMAX &&
                   b[j].l + b[j].rpow <= NH_INT_LMAX,
               NH_ERR_ARG, "GTH local integrals take basis shells only");
      loc_pair(pp, &lt, rc, &a[i], ra, &b[j], rb, v + (size_t)oa * ld + ob,
               ld);
    }
  return NH_OK;
}
