/* nextham atom: the spherical, neutral, spin-restricted Kohn–Sham pseudo-
 * atom of a GTH potential with PBE exchange-correlation (libxc), the source
 * of the neutral-atom density rho_a and potential V_na = V_loc + V_H[rho_a]
 * of H0 (DESIGN.md §4). Method, occupations and accuracy: docs/atom.md.
 *
 * The radial functions are expanded in even-tempered Gaussians
 * r^l exp(-alpha_k r^2) per l (or in a given contracted basis); S, T and
 * the projector terms are analytic,
 * the local, Hartree and XC terms are integrated on a logarithmic grid.
 * The result is a pure function of the potential and the options: callers
 * solve each element once and keep the atom. */
#ifndef NEXTHAM_ATOM_H
#define NEXTHAM_ATOM_H

#include "nextham/basis.h"
#include "nextham/core.h"
#include "nextham/gth.h"

#define NH_ATOM_MAXSTATE 8 /* occupied radial states */

typedef struct nh_atom_opts {
  int nbasis;       /* Gaussians per l (default 40)                       */
  double alpha_min; /* smallest exponent, bohr^-2 (default 0.01)          */
  double alpha_max; /* largest (default 0: 100 / r_min^2, r_min the       */
                    /* smallest of r_loc and the projector radii)          */
  double grid_h;    /* step of the grid in ln r (default 0.01)            */
  double eps_scf;   /* self-consistency: eigenvalue change and largest    */
                    /* density-matrix residual below this (default 1e-10) */
  int max_iter;     /* default 200                                        */
  double eps_cut;   /* rho and |V_na| below this beyond r_cut (1e-8)      */
  /* NULL: the even-tempered basis above. Otherwise the atom is solved in
   * the contracted shells of this basis (e.g. the calculation's MOLOPT
   * set, as CP2K's atomic guess does); nbasis, alpha_min and alpha_max are
   * then unused. It needs functions of every l that holds electrons. */
  const nh_element_basis *basis;
} nh_atom_opts;

/* Fills o with the defaults above. */
void nh_atom_opts_default(nh_atom_opts *o);

typedef struct nh_atom {
  int z;
  double zval; /* valence electrons = ionic charge of the potential */
  /* Occupied states, by l then energy: state k has angular momentum l[k],
   * occupation occ[k] electrons (spread evenly over the 2l+1 m), Kohn–Sham
   * eigenvalue eps[k] (Hartree) and radial function orb[k * n + i] at r[i],
   * normalised to int R^2 r^2 dr = 1, positive at large r. */
  int nstate;
  int l[NH_ATOM_MAXSTATE];
  double occ[NH_ATOM_MAXSTATE], eps[NH_ATOM_MAXSTATE];
  double *orb;
  /* The grid r[i] = exp(x0 + i h), i = 0..n-1, and on it: */
  int n;
  double x0, h;
  double *r;
  double *rho, *drho; /* valence density (electrons/bohr^3), d/dr        */
  double *vloc;       /* V_loc of the potential                          */
  double *vh;         /* Hartree potential of rho                        */
  double *vna, *dvna; /* V_na = V_loc + V_H and d/dr                      */
  double *q;          /* charge inside r                                  */
  /* Beyond r_cut, |rho| and |V_na| are below eps_cut: the interpolants
   * return 0 there. ncut is the number of grid points up to r_cut. */
  double rcut;
  int ncut;
  /* Energies (Hartree): total = kinetic + local + nonlocal + Hartree + xc
   * (xc of rho + the NLCC core density);
   * band = sum of occ * eps. */
  double etot, ekin, eloc, enl, ehartree, exc, eband;
  int niter; /* SCF iterations used */
  double *storage;
} nh_atom;

/* Solves the atom of potential g; o may be NULL for the defaults.
 * Electrons per l come from the potential (g->nelec) and fill the states
 * of each l in order of energy, at most 2(2l+1) per state, so that a
 * partly filled shell is fractionally occupied (B 2p1: 1/3 per m).
 * With an NLCC block, exchange and correlation act on rho + the core
 * density (nh_gth_core_density); rho, V_H and V_na stay valence-only.
 * Fails with NH_ERR_INPUT if a given basis lacks functions for an
 * occupied l, NH_ERR_NUMERIC if the SCF does not converge. */
nh_err nh_atom_solve(const nh_gth *g, const nh_atom_opts *o, nh_atom **out);
nh_err nh_atom_destroy(nh_atom **a);

/* Interpolated rho_a(r) and V_na(r) for any r >= 0 (cubic Hermite in ln r
 * from the values and exact derivatives at the grid points; constant
 * inside r[0]; 0 beyond r_cut). The derivative d/dr goes into *d if d is
 * not NULL. They only read the atom: safe to call from many threads. */
double nh_atom_rho(const nh_atom *a, double r, double *d);
double nh_atom_vna(const nh_atom *a, double r, double *d);

#endif
