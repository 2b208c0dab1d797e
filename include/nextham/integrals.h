/* nextham integrals: analytic one-electron integrals over contracted
 * spherical Gaussian shells, in CP2K's conventions (docs/integrals.md,
 * shared/cp2k/CONVENTIONS.md).
 *
 * Flow, in the manner of libcint: a basis shell (nh_shell, as read from the
 * file) is prepared once into an nh_int_shell (normalised contraction,
 * CP2K primitive radii); an entry point (nh_int_overlap, nh_int_kinetic,
 * nh_int_1e) fills a small parameter struct and calls one generic shell-pair
 * driver, which loops over primitive pairs with screening, builds 1-D
 * Obara-Saika tables and contracts Cartesian integrals, then transforms them
 * once to CP2K's real solid harmonics.
 *
 * Conventions: lengths in bohr. A block out[ma * ld + mb] holds
 * <phi_{a,ma}(r - ra) | O | phi_{b,mb}(r - rb)> with m = -l..l in CP2K order
 * (p = y, z, x; no Condon-Shortley phase). */
#ifndef NEXTHAM_INTEGRALS_H
#define NEXTHAM_INTEGRALS_H

#include "nextham/basis.h"
#include "nextham/core.h"
#include "nextham/gth.h"

#define NH_INT_LMAX 4    /* largest angular momentum of a shell            */
#define NH_INT_RPOWMAX 4 /* largest extra radial power r^(2k) (projectors) */
#define NH_INT_MAXPRIM 32
#define NH_INT_LCART (NH_INT_LMAX + NH_INT_RPOWMAX) /* Cartesian degree */

/* A shell ready for integrals. Its radial part is
 *   r^rpow * sum_p coef[p] * exp(-exps[p] r^2)
 * and its angular part CP2K's P_{l,m}(x,y,z) (CONVENTIONS.md section 2), so
 * every function has norm 1. rpow is 0 for basis functions and 2(i-1) for
 * the i-th GTH projector of angular momentum l. */
typedef struct nh_int_shell {
  int l, rpow, nprim;
  /* Adjacent shells with the same set >= 0 share their exponents (one set
   * of the basis file): nh_int_atoms computes their primitive pairs once.
   * nh_int_prepare numbers the sets; -1 marks a shell on its own. */
  int set;
  double exps[NH_INT_MAXPRIM];
  double coef[NH_INT_MAXPRIM]; /* normalised contraction coefficients d_p   */
  /* CP2K's primitive radius R_p at eps_pgf_orb (CONVENTIONS.md section 6),
   * the maximum over the shells of p's set; 0 if the primitive never
   * reaches eps; HUGE_VAL when no eps was given. */
  double rad[NH_INT_MAXPRIM];
} nh_int_shell;

typedef enum nh_int_screen {
  NH_INT_EXACT = 0, /* every primitive pair                               */
  NH_INT_CP2K = 1   /* skip a pair when rad_p + rad_q < |ra - rb|, as CP2K */
} nh_int_screen;

enum { NH_INT_OVERLAP = 1, NH_INT_KINETIC = 2 }; /* operator flags */

/* CP2K "norm type 2" contraction normalisation, the one place where
 * normalisation happens (CONVENTIONS.md section 1, generalised to an extra
 * radial power r^rpow): from the file coefficients c, the primitive-
 * normalised coefficients cprim = c 2^l (2/pi)^(3/4) zeta^((2l+3)/4) and
 * the final d = cprim / sqrt(F), F the norm of the contraction. cprim may be
 * NULL. Fails if the contraction has zero norm. */
nh_err nh_int_normalise(int l, int rpow, int nprim, const double *exps,
                        const double *c, double *cprim, double *d);

/* Prepares the shells of one element. Adjacent shells with the same
 * exponents form a set (one set of the basis file, in CP2K order), whose
 * primitive radii are maxima over its shells, as CP2K computes them. (Two
 * adjacent sets of the file with identical exponents would be merged; their
 * CP2K-mode radii could then be slightly too large.) eps_pgf_orb <= 0
 * disables the radii (HUGE_VAL). Errors name the shell. */
nh_err nh_int_prepare(const nh_shell *shells, int nshell, double eps_pgf_orb,
                      nh_int_shell *out);

/* A normalised GTH/HGH projector p^l_i (i = 1, 2, 3) with radius r_l:
 * r^(l+2(i-1)) exp(-r^2 / (2 r_l^2)) times the angular P_{l,m}, scaled to
 * norm 1 (Hartwigsen, Goedecker, Hutter 1998, eq. 3, with CP2K's real
 * angular functions). rad is HUGE_VAL. */
nh_err nh_int_projector(int l, int i, double r_l, nh_int_shell *out);

/* Outermost r at which |c| r^l exp(-zeta r^2) equals eps (0 if it never
 * reaches eps): CP2K's primitive radius. */
double nh_int_prim_radius(int l, double zeta, double c, double eps);

/* Distance beyond which every element of the (a, b) block of each operator
 * in ops is below eps in magnitude. EXACT: from a rigorous bound on every
 * primitive pair; CP2K: the smaller of that and max rad_a + max rad_b
 * (beyond which CP2K's block is exactly zero). */
double nh_int_pair_radius(const nh_int_shell *a, const nh_int_shell *b,
                          int ops, nh_int_screen screen, double eps);

/* The same for two atoms: the largest nh_int_pair_radius over all shell
 * pairs (a neighbour-list cutoff for the atom pair). */
double nh_int_atoms_radius(const nh_int_shell *a, int na, const nh_int_shell *b,
                           int nb, int ops, nh_int_screen screen, double eps);

/* The (2la+1) x (2lb+1) blocks of the operators in ops: s receives the
 * overlap (if ops & NH_INT_OVERLAP), t the kinetic energy -1/2 nabla^2 in
 * Hartree (if ops & NH_INT_KINETIC); element (ma, mb) at [ma * ld + mb].
 * Blocks are overwritten. */
nh_err nh_int_1e(int ops, const nh_int_shell *a, const double ra[3],
                 const nh_int_shell *b, const double rb[3],
                 nh_int_screen screen, double *s, double *t, int ld);
nh_err nh_int_overlap(const nh_int_shell *a, const double ra[3],
                      const nh_int_shell *b, const double rb[3],
                      nh_int_screen screen, double *s, int ld);
nh_err nh_int_kinetic(const nh_int_shell *a, const double ra[3],
                      const nh_int_shell *b, const double rb[3],
                      nh_int_screen screen, double *t, int ld);

/* The whole block between two atoms: shells a[0..na) at ra (functions in
 * shell order, 2l+1 each) and b[0..nb) at rb, into s and/or t with leading
 * dimension ld, as nh_int_1e per shell pair but with the primitive-pair
 * work (exponential, 1-D tables) done once per pair of sets. w holds
 * scratch space; one per thread. */
typedef struct nh_int_work nh_int_work;
nh_err nh_int_work_create(nh_int_work **w);
nh_err nh_int_work_destroy(nh_int_work **w);
nh_err nh_int_atoms(nh_int_work *w, int ops, const nh_int_shell *a, int na,
                    const double ra[3], const nh_int_shell *b, int nb,
                    const double rb[3], nh_int_screen screen, double *s,
                    double *t, int ld);

/* ---------------------------------------------------------------------------
 * GTH pseudopotentials (Goedecker, Teter, Hutter 1996; Hartwigsen,
 * Goedecker, Hutter 1998) as in CP2K's GTH_POTENTIALS:
 *   V_loc(r) = -zion/r erf(r / (sqrt2 rloc))
 *              + exp(-r^2 / (2 rloc^2)) sum_{i<nloc} cloc[i] (r/rloc)^(2i)
 *   V_nl     = sum_l sum_{ij} sum_m |p^l_{i,m}> h^l_{ij} <p^l_{j,m}|
 * with the projectors of nh_int_projector; the parameters are an nh_gth
 * (nextham/gth.h, read by nh_gth_load). CP2K's core Hamiltonian holds
 * T, the Gaussian part of V_loc (the erf part is the Gaussian core charge
 * in the Hartree potential) and V_nl.
 * ------------------------------------------------------------------------- */
#define NH_INT_GTH_MAXPROJ 12 /* projector shells of one element */

/* The projector shells of pp in the order l = 0..nl-1, i = 1..nprj[l]
 * (proj holds NH_INT_GTH_MAXPROJ); *nfun = sum of 2l+1 over them. */
nh_err nh_int_gth_projectors(const nh_gth *pp, nh_int_shell *proj,
                             int *nproj, int *nfun);

/* v[mu * ld + nu] += sum_l sum_ij h^l_ij sum_m pa[mu * ldp + (l,i,m)]
 * pb[nu * ldp + (l,j,m)]: the non-local term between atoms a (nfa
 * functions) and b from one pseudopotential atom, given the blocks
 * <phi|p> of each atom with that atom's projectors (nh_int_atoms with the
 * shells of nh_int_gth_projectors), columns in projector order. */
void nh_int_gth_nl_add(const nh_gth *pp, const double *pa, int nfa,
                       const double *pb, int nfb, int ldp, double *v, int ld);

/* v += <a| Gaussian part of V_loc of the atom at rc |b> for all shell
 * pairs of atoms a and b (three-centre Obara-Saika, no screening; the
 * shells of a set share their primitive pairs, as in nh_int_atoms). */
nh_err nh_int_gth_loc_add(nh_int_work *w, const nh_gth *pp,
                          const double rc[3], const nh_int_shell *a, int na,
                          const double ra[3], const nh_int_shell *b, int nb,
                          const double rb[3], double *v, int ld);

/* Radii beyond which the Gaussian part of V_loc (*rloc_out) and every
 * projector's radial part, r^(l+2(i-1)) times its normalisation and
 * exp(-r^2/(2 r_l^2)) (*rnl_out), fall below eps: the atoms of a
 * pseudopotential that can touch a basis pair (for neighbour lists). */
void nh_int_gth_radii(const nh_gth *pp, double eps, double *rloc_out,
                      double *rnl_out);

/* CP2K's angular functions P_{l,m}(x, y, z) for m = -l..l into out[2l+1]
 * (0 <= l <= NH_INT_LMAX), e.g. for basis functions on a grid. */
void nh_int_solid_harmonics(int l, double x, double y, double z, double *out);

/* The 2l+1 functions of a shell centred at the origin, at (x, y, z):
 * r^rpow sum_p d_p exp(-zeta_p r^2) P_{l,m}(x, y, z), m = -l..l. */
void nh_int_shell_eval(const nh_int_shell *sh, double x, double y, double z,
                       double *out);

#endif
