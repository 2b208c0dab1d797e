/* Fermi level, band gap and densities of states from band energies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nextham/spectrum.h"
#include "nextham/structure.h"

nh_err nh_spectrum_nelec(int natoms, const int *z, const double *zval_of_z,
                         double charge, double *nelec) {
  double n = 0;
  for (int a = 0; a < natoms; a++) {
    NH_CHECK(zval_of_z[z[a]] > 0, NH_ERR_INPUT,
             "no valence charge known for element %s (atom %d): the sample's "
             "basis lacks the GTH potential", nh_element_symbol(z[a]), a + 1);
    n += zval_of_z[z[a]];
  }
  n -= charge;
  NH_CHECK(n > 0, NH_ERR_INPUT,
           "charge %g leaves %g valence electrons per cell", charge, n);
  *nelec = n;
  return NH_OK;
}

typedef struct level {
  double e, occ; /* energy and electrons it holds (2 w_k) */
  int k;
} level;

static int cmp_level(const void *a, const void *b) {
  const level *x = a, *y = b;
  if (x->e != y->e) return x->e < y->e ? -1 : 1;
  return x->k - y->k;
}

/* smallest direct gap: per k, lowest level above fermi minus highest below */
static void direct_gap(int nk, int nb, const double *e, double fermi,
                       nh_spectrum_info *info) {
  info->direct_gap = INFINITY;
  info->direct_k = -1;
  for (int k = 0; k < nk; k++) {
    double lo = -INFINITY, hi = INFINITY;
    for (int b = 0; b < nb; b++) {
      double x = e[(size_t)k * nb + b];
      if (x < fermi && x > lo) lo = x;
      if (x > fermi && x < hi) hi = x;
    }
    if (hi - lo < info->direct_gap) {
      info->direct_gap = hi - lo;
      info->direct_k = k;
    }
  }
}

nh_err nh_spectrum_analyse(int nk, int nb, const double *e, const double *w,
                           double nelec, double tol, nh_spectrum_info *info) {
  memset(info, 0, sizeof *info);
  info->nelec = nelec;
  NH_CHECK(nk > 0 && nb > 0, NH_ERR_ARG, "no band energies (%d k, %d bands)",
           nk, nb);
  NH_CHECK(nelec > 0, NH_ERR_INPUT, "%g electrons per cell", nelec);
  double wsum = 0;
  for (int k = 0; k < nk; k++) wsum += w[k];
  NH_CHECK(wsum > 0, NH_ERR_ARG, "k-point weights sum to %g", wsum);
  size_t n = 0;
  level *lv;
  NH_CALL(nh_malloc((size_t)nk * nb * sizeof *lv, &lv));
  for (int k = 0; k < nk; k++)
    for (int b = 0; b < nb; b++) /* +inf: a band lost to the S(k) projection */
      if (isfinite(e[(size_t)k * nb + b]))
        lv[n++] = (level){e[(size_t)k * nb + b], 2 * w[k] / wsum, k};
  qsort(lv, n, sizeof *lv, cmp_level);
  /* round-off of summed weights must not make an exact filling look partial */
  double ctol = 1e-9 * nelec, cum = 0;
  size_t i = 0;
  while (i < n && cum + lv[i].occ < nelec - ctol) cum += lv[i++].occ;
  if (i == n) {
    nh_free(&lv);
    NH_CHECK(0, NH_ERR_INPUT,
             "%g electrons per cell but the %d bands hold only %g: increase "
             "nbands", nelec, nb, cum);
  }
  /* the degenerate group of level i: [i, j) */
  size_t j = i;
  while (j < n && lv[j].e - lv[i].e <= tol) cum += lv[j++].occ;
  info->fermi = lv[i].e;
  info->vbm = lv[j - 1].e;
  info->vbm_k = lv[j - 1].k;
  for (size_t q = j; q-- > 0 && lv[q].e >= info->vbm - tol;) /* first k on ties */
    if (lv[q].k < info->vbm_k) info->vbm_k = lv[q].k;
  if (cum <= nelec + ctol && j < n) { /* filled up to a gap */
    info->gapped = 1;
    info->cbm = lv[j].e;
    info->cbm_k = lv[j].k;
    info->gap = info->cbm - info->vbm;
    info->fermi = 0.5 * (info->vbm + info->cbm);
    direct_gap(nk, nb, e, info->fermi, info);
    info->direct = info->direct_gap - info->gap <= tol;
  } else if (j == n) {
    info->fermi = lv[n - 1].e;
  }
  nh_free(&lv);
  return NH_OK;
}

nh_err nh_broadening_parse(const char *name, nh_broadening *kind) {
  if (!strcmp(name, "gaussian"))
    *kind = NH_BROADEN_GAUSSIAN;
  else if (!strcmp(name, "fermi-dirac"))
    *kind = NH_BROADEN_FERMI_DIRAC;
  else
    NH_CHECK(0, NH_ERR_INPUT,
             "unknown broadening '%s' (known: gaussian, fermi-dirac)", name);
  return NH_OK;
}

static double kernel(nh_broadening kind, double x, double sigma) {
  if (kind == NH_BROADEN_GAUSSIAN)
    return exp(-0.5 * x * x / (sigma * sigma)) / (sigma * sqrt(2 * M_PI));
  double c = cosh(0.5 * x / sigma);
  return 1 / (4 * sigma * c * c);
}

nh_err nh_spectrum_dos(int nk, int nb, const double *e, const double *w,
                       int nproj, const double *proj, nh_broadening kind,
                       double sigma, double e0, double de, int ne,
                       double *total, double *pdos) {
  NH_CHECK(sigma > 0 && de > 0 && ne > 0, NH_ERR_INPUT,
           "DOS needs sigma > 0, de > 0 and at least one energy (got %g, %g, %d)",
           sigma, de, ne);
  NH_CHECK(nproj == 0 || (proj && pdos), NH_ERR_ARG, "projections missing");
  double wsum = 0;
  for (int k = 0; k < nk; k++) wsum += w[k];
  NH_CHECK(wsum > 0, NH_ERR_ARG, "k-point weights sum to %g", wsum);
  memset(total, 0, (size_t)ne * sizeof *total);
  if (nproj) memset(pdos, 0, (size_t)ne * nproj * sizeof *pdos);
  /* below 1e-16 of the peak: Gaussian beyond 8.6 sigma, -f' beyond 37 kT */
  double cut = (kind == NH_BROADEN_GAUSSIAN ? 8.6 : 37.0) * sigma;
  for (int k = 0; k < nk; k++)
    for (int b = 0; b < nb; b++) {
      double ekb = e[(size_t)k * nb + b], occ = 2 * w[k] / wsum;
      if (!isfinite(ekb)) continue; /* a band lost to the S(k) projection */
      long j0 = (long)ceil((ekb - cut - e0) / de), j1 = (long)floor((ekb + cut - e0) / de);
      if (j0 < 0) j0 = 0;
      if (j1 > ne - 1) j1 = ne - 1;
      const double *pw = nproj ? proj + ((size_t)k * nb + b) * nproj : NULL;
      for (long j = j0; j <= j1; j++) {
        double d = occ * kernel(kind, e0 + j * de - ekb, sigma);
        total[j] += d;
        for (int p = 0; p < nproj; p++) pdos[j * nproj + p] += d * pw[p];
      }
    }
  return NH_OK;
}
