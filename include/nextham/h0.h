/* nextham h0: the zeroth-step Hamiltonian H0 (DESIGN.md §4, docs/h0.md)
 *
 *   H0 = T + V_nl + sum_a V_na,a + V_xc[rho0]
 *
 * This module assembles the analytic parts over the distributed neighbour
 * graph into block-sparse matrices: the overlap S, the kinetic energy T and
 * the GTH non-local term V_nl (and, for checks against CP2K's core
 * Hamiltonian only, the Gaussian part of the local pseudopotential
 * V_loc,Gauss, which in H0 belongs to V_na on the grid). The grid part
 * (sum_a V_na,a + V_xc[rho0]) is added by nextham/grid.h. Units: bohr and
 * Hartree. */
#ifndef NEXTHAM_H0_H
#define NEXTHAM_H0_H

#include "nextham/basis.h"
#include "nextham/core.h"
#include "nextham/domain.h"
#include "nextham/gth.h"
#include "nextham/integrals.h"
#include "nextham/mat.h"
#include "nextham/structure.h"
#include "nextham/toml.h"

/* ---------------------------------------------------------------------------
 * Per-element basis set and pseudopotential, selected as CP2K's &KIND
 * BASIS_SET / POTENTIAL: a default for every element and per-element
 * overrides. The input table (docs/input.md):
 *   [basis]
 *   file = "BASIS_MOLOPT"            potential_file = "GTH_POTENTIALS"
 *   default = "DZVP-MOLOPT-SR-GTH"   potential = "GTH-PBE"
 *   [basis.elements]
 *   Si = { basis = "TZV2P-MOLOPT-GTH", potential = "GTH-PBE-q4" }
 * ------------------------------------------------------------------------- */
typedef struct nh_h0_element_choice {
  int z;
  char basis[64], potential[64]; /* "" keeps the default */
} nh_h0_element_choice;

typedef struct nh_h0_basis_opts {
  char file[256], potential_file[256];
  char basis[64], potential[64]; /* defaults for every element */
  int nchoice;
  nh_h0_element_choice choice[NH_MAX_Z + 1];
} nh_h0_basis_opts;

/* Reads the [basis] table (absent: all defaults) and marks its keys used.
 * An element key that is not an element symbol, or an element entry that is
 * not a table, is an NH_ERR_INPUT error naming the file and line. */
nh_err nh_h0_read_basis_opts(nh_toml *doc, nh_h0_basis_opts *o);

/* The elements of a structure with their basis (nh_basis: CP2K order,
 * file coefficients), their GTH potential, and the shells prepared for the
 * integrals (nh_int_shell, with CP2K primitive radii when eps_pgf_orb > 0)
 * and the projector shells of the potential. */
typedef struct nh_h0_species {
  nh_basis *basis;
  nh_gth *gth[NH_MAX_Z + 1];        /* NULL for elements absent          */
  nh_int_shell *shell[NH_MAX_Z + 1]; /* basis->elem[z]->nshell shells    */
  nh_int_shell *proj[NH_MAX_Z + 1];  /* nproj[z] projector shells        */
  int nproj[NH_MAX_Z + 1], nprojfun[NH_MAX_Z + 1];
  int present[NH_MAX_Z + 1];         /* element occurs in the structure  */
} nh_h0_species;

/* Loads basis and potential of every element of s (every rank reads the
 * files; small). Errors name the file and line or the missing name with
 * the names the file has. eps_pgf_orb (> 0) sets CP2K's primitive radii
 * for the CP2K screening mode; <= 0 disables them. */
nh_err nh_h0_species_load(const nh_structure *s, const nh_h0_basis_opts *o,
                          double eps_pgf_orb, nh_h0_species **sp);
nh_err nh_h0_species_destroy(nh_h0_species **sp);

/* ---------------------------------------------------------------------------
 * Assembly of the analytic parts.
 * ------------------------------------------------------------------------- */
enum {
  NH_H0_S = 1,    /* overlap                                          */
  NH_H0_T = 2,    /* kinetic energy -1/2 nabla^2                      */
  NH_H0_VNL = 4,  /* GTH non-local projectors                         */
  NH_H0_VLOC = 8  /* Gaussian part of the GTH local potential (checks) */
};

typedef struct nh_h0_opts {
  /* Element threshold: every block (S, T) or projector overlap <phi|p>
   * left out is below eps in every element (rigorous pair radii of
   * nh_int_atoms_radius). Default 1e-12. */
  double eps;
  nh_int_screen screen; /* NH_INT_EXACT (default) or NH_INT_CP2K         */
  double eps_pgf_orb;   /* CP2K's primitive radius threshold (1e-6)      */
} nh_h0_opts;

void nh_h0_opts_default(nh_h0_opts *o);

/* Cut-offs of the assembly (bohr): rst[za][zb] for S and T blocks of an
 * element pair, rnl[zb][za] for overlaps of basis functions of zb with the
 * projectors of za (V_nl couples atoms within rnl of a common projector
 * atom, so up to 2 max rnl apart), rloc likewise for V_loc,Gauss; halo is
 * the ghost width nh_domain_create needs:
 *   halo = max(max rst, 2 max rnl [, 2 max rloc]). */
typedef struct nh_h0_ranges {
  double rst_max, rnl_max, rloc_max, halo;
} nh_h0_ranges;
nh_err nh_h0_ranges_get(const nh_h0_species *sp, const nh_h0_opts *o,
                        int parts, nh_h0_ranges *r);

/* Collective. Assembles the parts in `parts` into new matrices (the
 * pointers of parts not asked for are left NULL): S "S", T "T", V_nl
 * "V_nl", V_loc,Gauss "V_loc" (Hartree). The domain's halo must be at least
 * nh_h0_ranges_get(...).halo. Every assembled matrix holds both (i, j, n)
 * and (j, i, -n) as exact transposes; S, T do not depend on the number of
 * ranks (bitwise); V_nl and V_loc only through the order of the sums over
 * projector atoms (round-off). Progress lines and timers "S,T", "V_nl",
 * "V_loc", "assemble". */
typedef struct nh_h0_parts {
  nh_mat *S, *T, *Vnl, *Vloc;
} nh_h0_parts;
nh_err nh_h0_analytic(const nh_domain *dom, const nh_h0_species *sp,
                      const nh_h0_opts *o, int parts, nh_h0_parts *out);
void nh_h0_parts_destroy(nh_h0_parts *p);
/* Collective. Adds one three-centre part (NH_H0_VNL or NH_H0_VLOC) into an
 * existing matrix m on the same domain, e.g. T becoming H0, so that no
 * second matrix is alive (task h0's memory peak). m must hold both (i, j, n)
 * and (j, i, -n) as transposes on entry; it does afterwards. */
nh_err nh_h0_analytic_add(const nh_domain *dom, const nh_h0_species *sp,
                          const nh_h0_opts *o, int part, nh_mat *m);

/* Task "h0" (docs/input.md): structure in, sample file with S and H0 out. */
nh_err nh_task_h0(const nh_ctx *ctx, nh_toml *doc, const char *dir);

#endif
