/* nextham solve: what band energies say — Fermi level from the electron
 * count, band gap (direct or indirect), densities of states (total and per
 * element). Pure functions on arrays, no communication; any energy unit
 * (energies, sigma and the grid must share it). docs/bands.md. */
#ifndef NEXTHAM_SPECTRUM_H
#define NEXTHAM_SPECTRUM_H

#include "nextham/core.h"

/* Valence electrons per cell from the GTH valence charges: sum over atoms of
 * zval(Z) minus `charge` (the cell's net charge; +1 removes an electron). */
nh_err nh_spectrum_nelec(int natoms, const int *z, const double *zval_of_z,
                         double charge, double *nelec);

typedef struct nh_spectrum_info {
  double nelec;      /* electrons per cell the levels were filled with      */
  double fermi;      /* Fermi level: mid-gap for an insulator, else the
                        level at which the count is reached               */
  int gapped;        /* 1: the count fills the levels up to a gap exactly  */
  double vbm, cbm;   /* highest occupied / lowest empty level (gapped)     */
  int vbm_k, cbm_k;  /* their k-point indices (first k on ties)            */
  double gap;        /* cbm - vbm, 0 unless gapped                          */
  double direct_gap; /* min over k of (lowest empty - highest occupied)    */
  int direct_k;      /* k of the smallest direct gap                       */
  int direct;        /* gapped and the gap is direct (direct_gap - gap below
                        the tolerance)                                     */
} nh_spectrum_info;

/* Zero-temperature filling, two electrons (spin) per level, level b at k
 * weighted w[k] (the weights need not sum to 1: they are normalised).
 * e is nk x nb, row k ascending; non-finite levels (bands lost to the S(k)
 * projection, +inf) are left out here and in the DOS. The occupied count N(E) = 2 sum_k w_k
 * #{b : e_kb <= E} is a step function; the Fermi level is where it reaches
 * nelec (the levels are sorted once, so the answer is exact). Levels closer
 * than `tol` count as degenerate: a degenerate group only partly filled is
 * a metal. Errors: nelec <= 0, or more electrons than 2 nb levels hold
 * (NH_ERR_INPUT: "increase nbands"). When the count fills every level the
 * gap is unknown: gapped = 0, fermi = the highest level. */
nh_err nh_spectrum_analyse(int nk, int nb, const double *e, const double *w,
                           double nelec, double tol, nh_spectrum_info *info);

typedef enum nh_broadening {
  NH_BROADEN_GAUSSIAN,   /* exp(-x^2 / 2 sigma^2) / (sigma sqrt(2 pi))   */
  NH_BROADEN_FERMI_DIRAC /* -df/dx = 1 / (4 sigma cosh^2(x / 2 sigma)),
                            sigma = kT                                   */
} nh_broadening;

/* "gaussian" | "fermi-dirac" -> kind; the error names the value. */
nh_err nh_broadening_parse(const char *name, nh_broadening *kind);

/* DOS on the uniform grid E_j = e0 + j de, j = 0 .. ne-1:
 *   total[j] = 2 sum_k w_k sum_b delta_sigma(E_j - e_kb)
 * in states per energy unit per cell (w normalised to sum 1). With nproj > 0
 * and proj (nk x nb x nproj weights, e.g. Mulliken per element, summing to
 * 1 per level), pdos[j * nproj + p] is the same sum weighted by proj. The
 * kernel is cut where it is below 1e-16 of its peak. pdos may be NULL when
 * nproj = 0. */
nh_err nh_spectrum_dos(int nk, int nb, const double *e, const double *w,
                       int nproj, const double *proj, nh_broadening kind,
                       double sigma, double e0, double de, int ne,
                       double *total, double *pdos);

#endif
