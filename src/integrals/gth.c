/* GTH pseudopotential integrals: the non-local term from projector
 * overlaps, and the Gaussian part of the local potential as a three-centre
 * overlap <a| r_C^(2n) exp(-g r_C^2) |b> (computed by the driver in
 * shellpair.c from the terms built here). */
#include <math.h>
#include <string.h>

#include "intimpl.h"

nh_err nh_int_gth_projectors(const nh_gth *pp, nh_int_shell *proj,
                             int *nproj, int *nfun) {
  NH_CHECK(pp->nl >= 0 && pp->nl <= NH_GTH_LMAX + 1, NH_ERR_ARG,
           "GTH potential with %d projector channels (at most %d)", pp->nl,
           NH_GTH_LMAX + 1);
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

void nh_int_gth_nl_add(const nh_gth *pp, const double *pa, int nfa,
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

static double fact(int n) { return n < 2 ? 1.0 : n * fact(n - 1); }

/* The operator exp(-g r^2) sum_n c_n (r/rloc)^(2n), g = 1/(2 rloc^2), as
 * Cartesian terms w x^2p y^2q z^2s: (r^2)^n = sum n!/(p!q!s!) x^2p y^2q z^2s. */
static void loc_expand(const nh_gth *pp, const double rc[3],
                       nh_int_loc *loc) {
  memcpy(loc->rc, rc, sizeof loc->rc);
  loc->g = 0.5 / (pp->rloc * pp->rloc);
  loc->kmax = 2 * (pp->nloc - 1);
  loc->nterm = 0;
  for (int n = 0; n < pp->nloc; n++)
    for (int p = n; p >= 0; p--)
      for (int q = n - p; q >= 0; q--) {
        int s = n - p - q, k = loc->nterm++;
        loc->px[k] = 2 * p;
        loc->py[k] = 2 * q;
        loc->pz[k] = 2 * s;
        loc->w[k] = pp->cloc[n] / pow(pp->rloc, 2 * n) * fact(n) /
                    (fact(p) * fact(q) * fact(s));
      }
}

nh_err nh_int_gth_loc_add(nh_int_work *w, const nh_gth *pp,
                          const double rc[3], const nh_int_shell *a, int na,
                          const double ra[3], const nh_int_shell *b, int nb,
                          const double rb[3], double *v, int ld) {
  NH_CHECK(pp->nloc >= 0 && pp->nloc <= 4 && pp->rloc > 0, NH_ERR_ARG,
           "GTH local part with %d terms, rloc %g", pp->nloc, pp->rloc);
  for (int k = 0; k < na + nb; k++) {
    const nh_int_shell *sh = k < na ? &a[k] : &b[k - na];
    NH_CHECK(sh->l + sh->rpow <= NH_INT_LMAX, NH_ERR_ARG,
             "GTH local integrals take basis shells only");
  }
  if (pp->nloc == 0) return NH_OK;
  nh_int_loc loc;
  loc_expand(pp, rc, &loc);
  NH_CALL(nh_int_drive(w, 0, &loc, a, na, ra, b, nb, rb, NH_INT_EXACT, v,
                       NULL, ld));
  return NH_OK;
}

/* Each term separately, as CP2K does for its ppl radius: a sum of terms of
 * mixed sign can only be smaller than the sum of their magnitudes, which
 * is at most nloc times the largest one. */
void nh_int_gth_radii(const nh_gth *pp, double eps, double *rloc_out,
                      double *rnl_out) {
  double g = 0.5 / (pp->rloc * pp->rloc), r = 0.0;
  for (int n = 0; n < pp->nloc; n++)
    r = fmax(r, nh_int_prim_radius(2 * n, g, pp->cloc[n] / pow(pp->rloc, 2 * n),
                                   eps / pp->nloc));
  *rloc_out = r;
  r = 0.0;
  for (int l = 0; l < pp->nl; l++)
    for (int i = 1; i <= pp->nprj[l]; i++) {
      nh_int_shell p;
      if (nh_int_projector(l, i, pp->rl[l], &p)) {
        nh_error_clear(); /* unsupported projector: no radius to give */
        continue;
      }
      r = fmax(r, nh_int_prim_radius(l + p.rpow, p.exps[0], p.coef[0], eps));
    }
  *rnl_out = r;
}
