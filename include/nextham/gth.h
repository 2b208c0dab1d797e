/* nextham gth: Goedecker–Teter–Hutter pseudopotentials as CP2K's
 * GTH_POTENTIALS files give them (Goedecker, Teter, Hutter, PRB 54, 1703
 * (1996); Hartwigsen, Goedecker, Hutter, PRB 58, 3641 (1998), "HGH"; the
 * optional NLCC block of Willand et al., JCP 138, 104109 (2013)).
 * Atomic units throughout: bohr, Hartree. docs/atom.md has the formulas. */
#ifndef NEXTHAM_GTH_H
#define NEXTHAM_GTH_H

#include "nextham/core.h"

#define NH_GTH_LMAX 3  /* highest projector angular momentum (f)        */
#define NH_GTH_NPRJ 3  /* projectors per l (HGH: i = 1..3)               */
#define NH_GTH_NLOC 4  /* local coefficients C1..C4                      */
#define NH_GTH_NCORE 4 /* NLCC terms, and coefficients per NLCC term     */

typedef struct nh_gth {
  int z;
  char name[64];  /* the name asked for, e.g. GTH-PBE-q4 */
  char file[256]; /* the file it was read from, resolved */
  int nl_elec;                  /* entries on the first line            */
  int nelec[NH_GTH_LMAX + 1];   /* valence electrons per l (0 beyond)   */
  double zion;                  /* sum of nelec: the ionic charge       */
  /* V_loc(r) = -zion/r erf(r/(sqrt2 rloc))
   *            + exp(-r^2/(2 rloc^2)) sum_i cloc[i] (r/rloc)^(2i) */
  double rloc;
  int nloc;
  double cloc[NH_GTH_NLOC];
  /* The NLCC block as in the file (ncore = 0: none): per term k the radius
   * rcore[k] and coefficients ccore[k][0..ncc[k]) of the core density
   * (nh_gth_core_density). */
  int ncore;
  double rcore[NH_GTH_NCORE];
  int ncc[NH_GTH_NCORE];
  double ccore[NH_GTH_NCORE][NH_GTH_NCORE];
  /* Separable non-local part, l = 0..nl-1:
   * V_nl = sum_l sum_m sum_ij |p^l_i Y_lm> h[l][i][j] <p^l_j Y_lm|,
   * p^l_i from nh_gth_projector; h is symmetric (the file's upper
   * triangle, mirrored). nprj[l] may be 0 (a radius without projectors). */
  int nl;
  double rl[NH_GTH_LMAX + 1];
  int nprj[NH_GTH_LMAX + 1];
  double h[NH_GTH_LMAX + 1][NH_GTH_NPRJ][NH_GTH_NPRJ];
} nh_gth;

/* Reads potential `name` of element z from a CP2K GTH potential file
 * (GTH_POTENTIALS format, names matched ignoring case, first match wins;
 * the file is looked up as nh_basis_find_file does). Malformed entries fail
 * with NH_ERR_FILE and FILE:LINE; a missing name with NH_ERR_INPUT listing
 * the names the file has for z. */
nh_err nh_gth_load(nh_gth *g, int z, const char *file, const char *name);

/* The local potential V_loc(r) in Hartree; *dv (if not NULL) gets dV/dr.
 * Finite at r = 0 (-zion sqrt(2/pi)/rloc + C1). */
double nh_gth_vloc(const nh_gth *g, double r, double *dv);

/* The radial HGH projector p^l_i(r) (i = 1..nprj[l]) of eq. (3) of HGH:
 *   sqrt2 r^(l+2(i-1)) exp(-r^2/(2 rl^2)) / (rl^(l+(4i-1)/2) sqrt(Gamma(l+(4i-1)/2)))
 * normalised so that int_0^inf p(r)^2 r^2 dr = 1. */
double nh_gth_projector(const nh_gth *g, int l, int i, double r);

/* <r^l exp(-alpha r^2) | p^l_i>_radial = int_0^inf r^l e^(-alpha r^2)
 * p^l_i(r) r^2 dr, analytic (used for Gaussian expansions). */
double nh_gth_projector_gauss(const nh_gth *g, int l, int i, double alpha);

/* The model core density of the non-linear core correction, electrons per
 * bohr^3, as CP2K defines it from the NLCC block:
 *   rho_c(r) = 1/(4 pi) sum_k exp(-r^2/(2 rc_k^2)) sum_i ccore[k][i] (r/rc_k)^(2i)
 * (the file's c = 4 pi c_W (Z - zion) / (sqrt(2 pi) rc)^3 of Willand et
 * al., so this is their Gaussian; checked against CP2K's ATOM program).
 * 0 without NLCC; *d (if not NULL) gets d rho_c/dr. It enters only the
 * exchange-correlation functional, as rho + rho_c. */
double nh_gth_core_density(const nh_gth *g, double r, double *d);

#endif
