/* Internals of the grid module (src/grid): shared by grid.c (setup, the
 * uniform grid's batch ownership, drivers), atomic.c (atom-centred grids,
 * partition weights, batches), batch.c (basis functions on points),
 * density.c (rho0, V_na), xc.c (libxc) and vmat.c (BLAS-3 products,
 * accumulation). */
#ifndef NEXTHAM_GRIDIMPL_H
#define NEXTHAM_GRIDIMPL_H

#include <xc.h>

#include "nextham/grid.h"
#include "nextham/integrals.h"

#define GRID_NMONO 15 /* Cartesian monomials of degree NH_INT_LMAX */

/* A basis shell prepared for the grid: normalised contraction, the
 * Cartesian coefficients of CP2K's P_{l,m} and a radius. */
typedef struct grid_shell {
  int l, nprim, off; /* off: first orbital of the shell in its atom block */
  double exps[NH_INT_MAXPRIM], d[NH_INT_MAXPRIM];
  double rad;  /* beyond it, every |phi| of the shell is below eps_func  */
  double peak; /* an upper bound on |phi| anywhere                       */
} grid_shell;

typedef struct grid_elem {
  int nshell, norb;
  grid_shell *sh;
  double rmax; /* largest shell radius */
} grid_elem;

/* Monomial coefficients of P_{l,m}: pcart[l][m + l][k], monomial k of
 * degree l in the order lx = l..0, then ly = l-lx..0. */
typedef struct grid_cart {
  double c[NH_INT_LMAX + 1][2 * NH_INT_LMAX + 1][GRID_NMONO];
} grid_cart;

/* The atom-centred grid of one element-independent level: Mura-Knowles
 * radial shells, each with a product angular rule (Gauss-Legendre in
 * cos(theta) x uniform in phi) of nth[i] x 2 nth[i] points. */
typedef struct grid_atomic {
  int nrad;         /* radial shells kept (r <= rgrid)                    */
  double *r, *wr;   /* radius and radial weight r^2 dr of each shell      */
  int *nth;         /* theta points of each shell (pruned)                */
  int nthmax;
  /* Gauss-Legendre rules: for n = 1..nthmax, nodes ct[n][k] and weights
   * wt[n][k] (k < n); NULL for n not used. */
  double **ct, **wt;
  double rgrid;     /* radius of every atom's grid                         */
  double rpart;     /* partition: atoms within it of a point take part     */
  int npmax;        /* points per batch                                    */
  double hbmax;     /* largest batch radius                                */
} grid_atomic;

/* The grid and what a batch needs to know about atoms. */
typedef struct grid_setup {
  const nh_ctx *ctx;
  const nh_atoms *at;
  int64_t nat; /* owned + ghost */
  double lat[3][3], recip[3][3], metric[3][3];
  int pbc[3];
  int bs, np;        /* points per batch edge, per batch          */
  int n[3], nb[3];   /* points and batches per lattice vector      */
  double w;          /* volume per point                           */
  double hd;         /* largest centre-corner distance of a batch  */
  double eps_pair;   /* pair screening: skip if bound_A bound_B below */
  double eps_func;   /* shells: skip if bound below                */
  double rf, rv;     /* largest basis / potential radius           */
  int terms;
  int scheme;        /* NH_GRID_ATOMIC, NH_GRID_UNIFORM or NH_GRID_HYBRID */
  grid_atomic ag;    /* the atomic scheme's rules; hybrid: the spheres'
                        (shell radii and weights of a unit sphere)   */
  double hyb_r1[NH_MAX_Z + 1]; /* hybrid: inner switch radius per element */
  double *hyb_r2a;             /* hybrid: outer radius per table atom     */
  grid_elem *el[NH_MAX_Z + 1];
  const nh_grid_species *const *sp;
  grid_cart cart;
  double (*s)[3];    /* fractional coordinates of tau_a (ghost rows:  */
                     /* the owner's values; the image adds n)        */
  /* Cell list of owned + ghost atoms (Cartesian bins of edge bin). */
  double blo[3], bin;
  int nbin[3];
  int64_t *bstart, *bnext;
  xc_func_type fx, fc;
  int xc_ready;
} grid_setup;

/* One batch: points with weights, the shells of atoms that reach it
 * (columns) and scratch. Columns of batch atom k are col0[k] ..
 * col0[k+1]-1. Arrays per point hold npmax entries. */
typedef struct grid_batch {
  int np, npmax;
  double (*r)[3];
  double *w;       /* quadrature weight of each point (partition included) */
  double c[3], hd; /* a centre and a radius enclosing every point           */
  int natom, capatom;
  int64_t *atom;   /* index in the atom table                        */
  double *bound;   /* largest function bound of the atom in the batch */
  int *col0;       /* natom + 1                                       */
  int nf, capf;
  int *orb;        /* orbital of column c in its atom block           */
  double *phi, *gx, *gy, *gz; /* np x nf, column-major              */
  double *x, *y;   /* [Z; Phi] and [Phi; Z]: 2np x nf                */
  double *m;       /* one dgemm row block                              */
  int64_t *cand;   /* candidate atoms (cell list)                     */
  int64_t ncand, capcand;
  double *rho, *grho, *v, *sigma, *vrho, *vsigma, *zk; /* per point  */
  double *a, *bx, *by, *bz; /* weights of Phi and of the gradients     */
} grid_batch;

/* Where a batch's blocks go: blocks whose row atom is owned here are added
 * straight into the target matrix m; the others (row atom owned by another
 * rank) are summed in a local hash, (i, j, n) -> dense block, and sent to
 * their owners once at the end. Memory beyond m is then only the blocks
 * of rows owned elsewhere, not a second copy of the rank's share. */
typedef struct grid_acc {
  nh_mat *m;
  int rank; /* rows of atoms with at->owner == rank go straight into m */
  double *zero;       /* zeros for creating blocks in m */
  int64_t nzero;
  nh_hmap map;
  nh_block_key *key;
  int *nr, *nc;
  int64_t *off;
  int64_t nblk, capblk;
  double *val;
  int64_t nval, capval;
} grid_acc;

/* A perturbation rho -> rho + eps phi_i phi_j (orbital oi of atom gi at
 * image 0, orbital oj of atom gj at image nj), for the finite-difference
 * test of the XC matrix elements. */
typedef struct grid_pert {
  int64_t gi, gj;
  int oi, oj, nj[3];
  double eps;
} grid_pert;

/* grid.c */
nh_err grid_setup_create(const nh_domain *dom, const nh_basis *b,
                         const nh_grid_species *const sp[NH_MAX_Z + 1],
                         int terms, const nh_grid_opts *o, grid_setup **g);
void grid_setup_destroy(grid_setup **g);
/* Calls fn for every batch owned here, in a fixed order, with the points,
 * weights, centre and radius of bt set (either scheme). */
typedef nh_err (*grid_batch_fn)(grid_setup *g, grid_batch *bt, void *arg);
nh_err grid_for_batches(grid_setup *g, grid_batch *bt, grid_batch_fn fn,
                        void *arg, int64_t *nbatch);
/* The spacing for options o, basis b (largest exponent) and the potentials
 * of sp if terms include V_na, bohr. */
double grid_spacing(const nh_basis *b,
                    const nh_grid_species *const sp[NH_MAX_Z + 1], int terms,
                    const nh_grid_opts *o);

/* atomic.c */
/* The rules of the atomic scheme for options o and radius rgrid. */
nh_err grid_atomic_init(grid_atomic *ag, const nh_grid_opts *o, double rgrid,
                        double rpart);
void grid_atomic_free(grid_atomic *ag);
/* The partition radius (bohr) used with grid radius rgrid. */
double grid_atomic_rpart(double rgrid);
/* Calls fn for every batch of the grids of the atoms owned here. */
nh_err grid_atomic_for_batches(grid_setup *g, grid_batch *bt, grid_batch_fn fn,
                               void *arg, int64_t *nbatch);
/* The Stratmann weight of atom a (a table index) at point r with the
 * atoms cand[0..ncand) (all atoms within rpart of r must be among them). */
double grid_atomic_partition(const grid_setup *g, int64_t a, const double r[3],
                             const int64_t *cand, int64_t ncand);
/* Atoms of the table within radius rad of x (cell list), appended to
 * *list (capacity *cap, count *n). */
nh_err grid_atoms_near(const grid_setup *g, const double x[3], double rad,
                       int64_t **list, int64_t *n, int64_t *cap);

/* Hybrid scheme (atomic.c): the switch h(r), 1 for r <= r1, 0 for
 * r >= r2, a degree-7 smoothstep (C3) in between. */
#define GRID_HYB_R2MAX 3.5 /* bohr: no element's r2 is larger */
double grid_hybrid_switch(double r, double r1, double r2);
#define GRID_HYB_WIDTH 6.0 /* r2 - r1 in uniform grid steps */
/* r1 of an element with species sp (may be NULL) whose potential has
 * exponent alpha (bohr^-2; 0: unknown). */
double grid_hybrid_r1(const nh_grid_species *sp, double alpha);
/* The sphere rule for options o (a unit sphere: radii scale with r2). */
nh_err grid_sphere_init(grid_atomic *ag, const nh_grid_opts *o);
/* Calls fn for every batch of the spheres of the atoms owned here. */
nh_err grid_sphere_for_batches(grid_setup *g, grid_batch *bt, grid_batch_fn fn,
                               void *arg, int64_t *nbatch);
/* 1 - sum_a h_a(|r - x_a|) over the atoms near[0..nnear) (table indices;
 * all atoms within their r2 of r must be among them): the uniform grid's
 * share. */
double grid_hybrid_rest(const grid_setup *g, const double r[3],
                        const int64_t *near, int64_t nnear);

/* batch.c */
nh_err grid_elem_prepare(const nh_element_basis *eb, double eps_func,
                         grid_elem **out);
void grid_elem_destroy(grid_elem **e);
nh_err grid_cart_init(grid_cart *c);
void grid_batch_free(grid_batch *bt);
/* Per-point arrays for up to npmax points (sized once). */
nh_err grid_batch_points(grid_batch *bt, int npmax);
/* The owned and ghost atoms in the 27 cell-list bins around the point c
 * (all atoms within g->bin of it) into bt->cand. */
nh_err grid_batch_candidates(const grid_setup *g, const double c[3],
                             grid_batch *bt);
/* For the points of bt (r, w, c, hd set): candidate atoms, and the shells
 * that reach it with values (and gradients if grad). Leaves bt->nf = 0 if
 * none reaches. */
nh_err grid_batch_eval(grid_setup *g, int grad, grid_batch *bt);

/* density.c: rho0 (+ core), its gradient and sum V_na on the points. */
void grid_density(const grid_setup *g, grid_batch *bt, int need_rho,
                  int need_v);
/* Adds eps phi_i phi_j (and its gradient) to rho if the batch holds both. */
void grid_density_perturb(const grid_setup *g, grid_batch *bt,
                          const grid_pert *p);

/* xc.c */
nh_err grid_xc_init(grid_setup *g);
void grid_xc_end(grid_setup *g);
/* vrho, vsigma (and zk, energy per electron) at the points; zero where
 * rho is below the threshold. */
void grid_xc_eval(grid_setup *g, grid_batch *bt);

/* vmat.c */
nh_err grid_acc_init(grid_acc *a, const nh_domain *dom, nh_mat *m);
void grid_acc_free(grid_acc *a);
/* Adds the batch's contribution sum_p a_p phi_i phi_j + b_p . grad(phi_i
 * phi_j) to the accumulator. */
nh_err grid_vmat_batch(grid_setup *g, grid_batch *bt, grid_acc *acc);
/* Sends the blocks of rows owned elsewhere to their owners (buffered in m
 * until nh_mat_assemble) and frees the hash. */
nh_err grid_acc_deliver(grid_acc *a);

/* XC energy (Hartree) of rho0 + the perturbation, over all ranks. */
nh_err grid_exc(const nh_domain *dom, const nh_basis *b,
                const nh_grid_species *const sp[NH_MAX_Z + 1],
                const nh_grid_opts *o, const grid_pert *p, double *exc);

#endif
