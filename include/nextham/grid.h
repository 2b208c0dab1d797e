/* nextham grid: the real-space grid part of H0 (DESIGN.md §4),
 *   <phi_i| sum_a V_na,a + V_xc[rho0] |phi_j>,   rho0 = sum_a rho_a,
 * integrated in batches of points as BLAS-3 products. Three schemes
 * (docs/grid.md):
 *
 * - atomic (default): atom-centred grids (Mura-Knowles radial shells x
 *   Gauss-Legendre/uniform angular product rules, pruned) with Stratmann
 *   partition weights over all atoms and periodic images. The points of
 *   an atom's grid are integrated by the rank that owns the atom.
 * - uniform: a uniform grid over the cell (periodic along periodic
 *   directions), cut into batches of bs^3 points; a batch belongs to the
 *   rank that owns the atom nearest to its centre (ties broken by atom
 *   index and image). Kept for cross-checks.
 * - hybrid: the uniform grid with weights times 1 - sum_a h_a plus an
 *   atom-centred sphere per atom with weights times h_a, h_a a smooth
 *   radial switch that is 1 on the pseudo-core and 0 beyond r2 (<= 3.5
 *   bohr); no partition weights. A sphere is integrated by the rank that
 *   owns its atom.
 *
 * Either way every point is integrated by exactly one rank, whatever the
 * number of ranks. A rank integrates its batches with its owned and ghost
 * atoms, accumulates the atom-pair blocks locally and delivers them once
 * with nh_mat_add_remote + nh_mat_assemble. */
#ifndef NEXTHAM_GRID_H
#define NEXTHAM_GRID_H

#include "nextham/atom.h"
#include "nextham/basis.h"
#include "nextham/core.h"
#include "nextham/domain.h"
#include "nextham/gth.h"
#include "nextham/mat.h"
#include "nextham/toml.h"

enum { NH_GRID_ATOMIC = 0, NH_GRID_UNIFORM = 1, NH_GRID_HYBRID = 2 };

typedef struct nh_grid_opts {
  /* Target error per matrix element, Hartree (default 0.1 meV). It sets
   * the grid sizes (unless overridden below) and the screening thresholds. */
  double accuracy;
  int scheme;     /* NH_GRID_ATOMIC (default), NH_GRID_UNIFORM or
                     NH_GRID_HYBRID                                        */
  /* uniform and hybrid schemes */
  double spacing; /* bohr; > 0 overrides the spacing derived from accuracy */
  int batch;      /* grid points per batch edge (default 4: 64 points)     */
  /* atomic scheme (hybrid: its spheres): > 0 override the sizes derived
   * from accuracy */
  int radial;     /* radial shells (Mura-Knowles, to infinity)             */
  int angular;    /* largest number of Gauss-Legendre theta points; a shell
                     has angular x 2 angular points (exact to degree
                     2 angular - 1)                                        */
} nh_grid_opts;

/* Fills o with the defaults above. */
void nh_grid_opts_default(nh_grid_opts *o);
/* Reads the [grid] table tbl of doc (tbl NULL: defaults): accuracy (eV),
 * scheme ("atomic", "uniform" or "hybrid"), spacing (Å), batch, radial,
 * angular
 * (docs/input.md). Bad values name the file, line and
 * key (NH_ERR_INPUT). */
nh_err nh_grid_opts_from_toml(const nh_toml *doc, nh_toml_val *tbl,
                              nh_grid_opts *o);

/* A spherical function f(r) of one element with f'(r) in *d (if d is not
 * NULL) and f = 0 for r >= rcut. f NULL means zero. */
typedef double (*nh_grid_radial_fn)(const void *data, double r, double *d);
typedef struct nh_grid_fn {
  nh_grid_radial_fn f;
  const void *data;
  double rcut; /* bohr */
} nh_grid_fn;

/* The atomic functions of one element: valence density rho_a (electrons
 * per bohr^3), neutral-atom potential V_na,a (Hartree) and an optional
 * core density (non-linear core correction; it enters V_xc only). */
typedef struct nh_grid_species {
  nh_grid_fn rho, vna, core;
  /* Exponent alpha (bohr^-2) of a Gaussian exp(-alpha r^2) as sharp as
   * the sharpest part of V_na (for GTH: 1/(2 rloc^2)); it enters the grid
   * spacing. 0: estimated as |V''(0)/V(0)| (twice the Gaussian fit at the
   * centre, on the safe side). */
  double alpha;
} nh_grid_species;

/* Terms of the potential to integrate (bit flags). */
enum {
  NH_GRID_VNA = 1,  /* sum_a V_na,a                                   */
  NH_GRID_VXC = 2,  /* PBE V_xc[rho0 (+ core)] with the gradient term  */
  NH_GRID_UNIT = 4  /* V = 1 (gives S: a check of the quadrature)      */
};

/* What a run did (global numbers, the same on every rank). */
typedef struct nh_grid_stats {
  /* uniform: the largest grid step along a lattice vector (bohr) and the
   * points along each lattice vector (periodic; per box length along
   * non-periodic directions); hybrid: the same (after any refinement).
   * atomic: spacing 0 and n = (radial shells, largest theta and phi points
   * of a shell). */
  double spacing;
  int n[3];
  int64_t npoints;  /* points integrated (with a nonzero weight, in     */
  int64_t nbatches; /* batches touching a basis function)               */
  double seconds;   /* wall time of the slowest rank                   */
} nh_grid_stats;

/* Collective. Adds <phi_i| V |phi_j> for the terms in `terms` to m
 * (Hartree), creating the blocks it touches. sp[Z] must be set for every
 * element present when terms include VNA or VXC. Every element present
 * needs a basis in b. The domain's halo must be at least
 * nh_grid_halo(...) (NH_ERR_ARG otherwise). stats may be NULL. */
nh_err nh_grid_integrate(const nh_domain *dom, const nh_basis *b,
                         const nh_grid_species *const sp[NH_MAX_Z + 1],
                         int terms, const nh_grid_opts *o, nh_mat *m,
                         nh_grid_stats *stats);

/* The H0 entry point: V_na and PBE V_xc of the neutral pseudo-atoms
 * atom[Z] (nh_atom_solve); gth[Z] (array or entries may be NULL) adds the
 * NLCC core density of potentials that have one. Collective. */
nh_err nh_grid_h0_add(const nh_domain *dom, const nh_basis *b,
                      const nh_atom *const atom[NH_MAX_Z + 1],
                      const nh_gth *const gth[NH_MAX_Z + 1],
                      const nh_grid_opts *o, nh_mat *h0, nh_grid_stats *stats);

/* The species of nh_grid_h0_add, for callers that need nh_grid_integrate
 * or nh_grid_halo (data points to atom and gth, which must outlive sp).
 * gth (may be NULL) gives alpha = 1/(2 rloc^2) and the NLCC density. */
void nh_grid_species_atom(const nh_atom *atom, const nh_gth *gth,
                          nh_grid_species *sp);

/* nh_grid_halo for the species of nh_grid_h0_add (same arguments). */
double nh_grid_h0_halo(const nh_basis *b,
                       const nh_atom *const atom[NH_MAX_Z + 1],
                       const nh_gth *const gth[NH_MAX_Z + 1],
                       const nh_grid_opts *o);

/* The halo (bohr) a domain needs for nh_grid_integrate with basis b,
 * species sp (may be NULL: basis only) and options o. uniform: the largest
 * basis function radius r_f plus the larger of r_f and the potential radii
 * r_V, plus one batch diagonal. atomic: the atom-grid radius max(r_f, r_V)
 * plus the larger of that and the partition radius, plus the largest
 * batch radius. hybrid: the uniform halo, at least the largest sphere
 * radius plus a batch radius plus max(r_f, r_V). Local, the same on every
 * rank. */
double nh_grid_halo(const nh_basis *b,
                    const nh_grid_species *const sp[NH_MAX_Z + 1],
                    const nh_grid_opts *o);

#endif
