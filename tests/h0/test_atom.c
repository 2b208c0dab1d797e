/* Tests of the neutral pseudo-atom: eigenvalues and energies against CP2K's
 * ATOM program (tests/data/atom), H against an independent finite-
 * difference SCF written here, charge, V_na's range, interpolation,
 * convergence with basis and grid, and speed. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xc.h>

#include "nhtest.h"
#include "nextham/atom.h"
#include "nextham/basis.h"
#include "nextham/structure.h"
#include "radial.h"

#define CP2K_HARTREE_EV 27.2113838565563 /* CP2K 2023.1's [a.u.] -> [eV] */

typedef struct ref {
  int nstate, l[8];
  double eps[8]; /* from the eV column (more digits) */
  double etot, ekin, exc, ecoul, eloc, enl;
} ref;

/* Reads "Total Energy ::", the energy components and the orbital table of
 * a CP2K ATOM output. */
static ref read_ref(const char *el) {
  char rel[64], line[512];
  snprintf(rel, sizeof rel, "tests/data/atom/%s.out", el);
  FILE *f = fopen(nh_test_path(rel), "r");
  assert_non_null(f);
  ref r;
  memset(&r, 0, sizeof r);
  int in_orbitals = 0;
  const struct { const char *key; double *v; } keys[] = {
      {"Total Energy ::", &r.etot},   {"Kinetic Energy ::", &r.ekin},
      {"XC Energy ::", &r.exc},       {"Coulomb Energy ::", &r.ecoul},
      {"Local Pseudopotential Energy ::", &r.eloc},
      {"Nonlocal Pseudopotential Energy ::", &r.enl}};
  while (fgets(line, sizeof line, f)) {
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      char *p = strstr(line, keys[k].key);
      if (p) *keys[k].v = atof(p + strlen(keys[k].key));
    }
    if (strstr(line, "Orbital energies")) in_orbitals = 1;
    int st, l;
    double occ, ha, ev;
    if (in_orbitals &&
        sscanf(line, "%d %d %lf %lf %lf", &st, &l, &occ, &ha, &ev) == 5) {
      r.l[r.nstate] = l;
      r.eps[r.nstate++] = ev / CP2K_HARTREE_EV;
    }
  }
  fclose(f);
  assert_true(r.nstate > 0 && r.etot < 0);
  return r;
}

static nh_atom *solve(int z, const char *pot, const nh_atom_opts *o) {
  nh_gth g;
  assert_nh_ok(nh_gth_load(&g, z, "GTH_POTENTIALS", pot));
  nh_atom *a = NULL;
  assert_nh_ok(nh_atom_solve(&g, o, &a));
  return a;
}

/* Eigenvalues and energies of H, B, C, N, Si and Fe against CP2K ATOM;
 * the solve time per atom is printed (benchmarks time things, tests do not). */
static void test_cp2k_atoms(void **state) {
  (void)state;
  const struct { int z; const char *el, *pot; double tol_e; } atoms[] = {
      {1, "H", "GTH-PBE-q1", 1e-5},   {5, "B", "GTH-PBE-q3", 1e-5},
      {6, "C", "GTH-PBE-q4", 1e-5},   {7, "N", "GTH-PBE-q5", 1e-5},
      {14, "Si", "GTH-PBE-q4", 1e-5}, {26, "Fe", "GTH-PBE-q16", 1e-4}};
  for (size_t k = 0; k < sizeof atoms / sizeof atoms[0]; k++) {
    ref r = read_ref(atoms[k].el);
    double t0 = nh_wtime();
    nh_atom *a = solve(atoms[k].z, atoms[k].pot, NULL);
    double dt = nh_wtime() - t0, maxde = 0;
    assert_int_equal(a->nstate, r.nstate);
    /* CP2K lists states by l then energy, as nh_atom does */
    for (int s = 0; s < r.nstate; s++) {
      assert_int_equal(a->l[s], r.l[s]);
      assert_close(a->eps[s], r.eps[s], 1e-5);
      if (fabs(a->eps[s] - r.eps[s]) > maxde) maxde = fabs(a->eps[s] - r.eps[s]);
    }
    double tol = atoms[k].tol_e;
    assert_close(a->etot, r.etot, tol);
    assert_close(a->ekin, r.ekin, tol);
    assert_close(a->exc, r.exc, tol);
    assert_close(a->ehartree, r.ecoul, tol);
    assert_close(a->eloc, r.eloc, tol);
    assert_close(a->enl, r.enl, tol);
    printf("%-2s %d iterations %.3f s  max |eps - CP2K| %.1e  "
           "E %.9f (CP2K %.9f)  r_cut %.2f bohr\n",
           atoms[k].el, a->niter, dt, maxde, a->etot, r.etot, a->rcut);
    nh_atom_destroy(&a);
  }
}

/* NLCC potentials: exchange and correlation see rho + rho_core; against
 * CP2K ATOM (C and Si GTH-NLCC-PBE-q4). The Hartree term and V_na stay
 * valence-only: the density still integrates to zval. */
static void test_nlcc(void **state) {
  (void)state;
  const struct { int z; const char *el; } atoms[] = {{6, "C"}, {14, "Si"}};
  for (size_t k = 0; k < 2; k++) {
    char name[32];
    snprintf(name, sizeof name, "%s_nlcc", atoms[k].el);
    ref r = read_ref(name);
    nh_gth g;
    assert_nh_ok(nh_gth_load(&g, atoms[k].z, "NLCC_POTENTIALS",
                             "GTH-NLCC-PBE-q4"));
    nh_atom *a = NULL;
    assert_nh_ok(nh_atom_solve(&g, NULL, &a));
    for (int s = 0; s < r.nstate; s++) assert_close(a->eps[s], r.eps[s], 2e-6);
    assert_close(a->etot, r.etot, 1e-5);
    assert_close(a->exc, r.exc, 1e-5);
    assert_close(a->ehartree, r.ecoul, 1e-5);
    assert_close(a->q[a->n - 1], a->zval, 1e-10);
    printf("%-2s NLCC: E %.9f (CP2K %.9f), E_xc %.9f (CP2K %.9f)\n",
           atoms[k].el, a->etot, r.etot, a->exc, r.exc);
    nh_atom_destroy(&a);
  }
}

/* The atom solved in the calculation's own contracted basis
 * (DZVP-MOLOPT-SR-GTH), against CP2K ATOM with the same basis
 * (CONTRACTED_GTO): the file's coefficients multiply normalised
 * primitives. The short-ranged molecular basis binds the free atom much
 * less than the complete one (H 1s -0.106 instead of -0.239 Ha). */
static void test_molopt_basis(void **state) {
  (void)state;
  const struct { int z; const char *el; } atoms[] = {{1, "H"}, {6, "C"},
                                                     {14, "Si"}};
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  for (size_t k = 0; k < sizeof atoms / sizeof atoms[0]; k++) {
    char name[32];
    snprintf(name, sizeof name, "%s_molopt", atoms[k].el);
    ref r = read_ref(name);
    assert_nh_ok(nh_basis_load(b, atoms[k].z, "BASIS_MOLOPT",
                               "DZVP-MOLOPT-SR-GTH"));
    nh_atom_opts o;
    nh_atom_opts_default(&o);
    o.basis = b->elem[atoms[k].z];
    nh_atom *a = solve(atoms[k].z, atoms[k].z == 1 ? "GTH-PBE-q1" : "GTH-PBE-q4",
                       &o);
    assert_int_equal(a->nstate, r.nstate);
    for (int s = 0; s < r.nstate; s++) assert_close(a->eps[s], r.eps[s], 1e-6);
    assert_close(a->etot, r.etot, 2e-6);
    assert_close(a->ekin, r.ekin, 2e-6);
    assert_close(a->ehartree, r.ecoul, 2e-6);
    assert_close(a->exc, r.exc, 2e-6);
    printf("%-2s in DZVP-MOLOPT-SR-GTH: eps", atoms[k].el);
    for (int s = 0; s < a->nstate; s++) printf(" %.7f", a->eps[s]);
    printf("  E %.9f (CP2K %.9f)\n", a->etot, r.etot);
    nh_atom_destroy(&a);
  }
  /* a basis without p functions cannot hold C's 2p electrons */
  nh_element_basis eb = *b->elem[6];
  eb.nshell = 1; /* the first shell, 2s only */
  nh_atom_opts o;
  nh_atom_opts_default(&o);
  o.basis = &eb;
  nh_gth g;
  assert_nh_ok(nh_gth_load(&g, 6, "GTH_POTENTIALS", "GTH-PBE-q4"));
  nh_atom *a = NULL;
  assert_nh_fails(nh_atom_solve(&g, &o, &a), NH_ERR_INPUT,
                  "0 functions of l = 1");
  nh_basis_destroy(&b);
}

/* ---- an independent solver for H (no projectors): finite differences on a
 * uniform grid r_i = i dr (i = 1..n), u = r R, -u''/2 + V u = e u solved as
 * a tridiagonal eigenproblem (LAPACK dstevx, lowest state), the Hartree
 * potential by trapezoid sums, the PBE potential in its strong form
 * v = de/drho - (1/r^2) (r^2 2 de/dsigma rho')', linear potential mixing. */
extern void dstevx_(const char *jobz, const char *range, const int *n,
                    double *d, double *e, const double *vl, const double *vu,
                    const int *il, const int *iu, const double *abstol,
                    int *m, double *w, double *z, const int *ldz,
                    double *work, int *iwork, int *ifail, int *info);

enum { FD_R, FD_RHO, FD_DRHO, FD_SIG, FD_V, FD_VIN, FD_Q, FD_FLUX, FD_EXC,
       FD_VR, FD_VS, FD_D, FD_E, FD_Z, FD_WORK, FD_N };

/* The lowest eigenvalue of -1/2 d2/dr2 + V on the grid; u gets the state. */
static double fd_lowest(int n, double dr, double **a, const nh_gth *g) {
  for (int i = 1; i <= n; i++) {
    a[FD_D][i - 1] = 1 / (dr * dr) + nh_gth_vloc(g, a[FD_R][i], NULL) +
                     a[FD_VIN][i];
    a[FD_E][i - 1] = -0.5 / (dr * dr);
  }
  int one = 1, m, info, *iw = calloc(6 * n, sizeof(int));
  double w, vl = 0, tol = 0;
  dstevx_("V", "I", &n, a[FD_D], a[FD_E], &vl, &vl, &one, &one, &tol, &m, &w,
          a[FD_Z], &n, a[FD_WORK], iw, iw + 5 * n, &info);
  assert_int_equal(info, 0);
  free(iw);
  return w;
}

static double fd_h_atom(const nh_gth *g, int n, double rmax) {
  double dr = rmax / (n + 1), e = 0, *a[FD_N];
  for (int k = 0; k < FD_N; k++) a[k] = calloc(5 * (n + 2), sizeof(double));
  double *r = a[FD_R], *rho = a[FD_RHO], *drho = a[FD_DRHO], *v = a[FD_V];
  xc_func_type fn[2];
  xc_func_init(&fn[0], XC_GGA_X_PBE, XC_UNPOLARIZED);
  xc_func_init(&fn[1], XC_GGA_C_PBE, XC_UNPOLARIZED);
  for (int i = 0; i <= n + 1; i++) r[i] = i * dr;
  for (int it = 0; it < 400; it++) {
    double w = fd_lowest(n, dr, a, g), de = fabs(w - e), norm = 0;
    e = w;
    for (int i = 0; i < n; i++) norm += a[FD_Z][i] * a[FD_Z][i] * dr;
    for (int i = 1; i <= n; i++)
      rho[i] = a[FD_Z][i - 1] * a[FD_Z][i - 1] / norm / (r[i] * r[i]) /
               (4 * M_PI);
    rho[0] = 1.5 * rho[1] - 0.5 * rho[2];
    /* V_H = q(r)/r + int_r^inf 4 pi rho s ds */
    double *q = a[FD_Q], outer = 0;
    for (int i = 1; i <= n + 1; i++)
      q[i] = q[i - 1] + 2 * M_PI * dr *
                            (rho[i - 1] * r[i - 1] * r[i - 1] + rho[i] * r[i] * r[i]);
    for (int i = n; i >= 1; i--) {
      outer += 2 * M_PI * dr * (rho[i] * r[i] + rho[i + 1] * r[i + 1]);
      v[i] = q[i] / r[i] + outer;
    }
    for (int i = 1; i <= n; i++) {
      drho[i] = (rho[i + 1] - rho[i - 1]) / (2 * dr);
      a[FD_SIG][i] = drho[i] * drho[i];
    }
    for (int k = 0; k < 2; k++) {
      xc_gga_exc_vxc(&fn[k], n, rho + 1, a[FD_SIG] + 1, a[FD_EXC] + 1,
                     a[FD_VR] + 1, a[FD_VS] + 1);
      for (int i = 1; i <= n; i++) {
        v[i] += a[FD_VR][i];
        a[FD_FLUX][i] = r[i] * r[i] * 2 * a[FD_VS][i] * drho[i];
      }
      for (int i = 1; i <= n; i++)
        v[i] -= (a[FD_FLUX][i + 1] - a[FD_FLUX][i - 1]) / (2 * dr) / (r[i] * r[i]);
    }
    double mixing = it < 5 ? 0.3 : 0.5;
    for (int i = 1; i <= n; i++)
      a[FD_VIN][i] = (1 - mixing) * a[FD_VIN][i] + mixing * v[i];
    if (it > 10 && de < 1e-12) break;
  }
  xc_func_end(&fn[0]);
  xc_func_end(&fn[1]);
  for (int k = 0; k < FD_N; k++) free(a[k]);
  return e;
}

/* H 1s: the Gaussian-basis atom agrees with the finite-difference solution
 * extrapolated to dr -> 0 (Richardson, O(dr^2)), and with the literature
 * value of the spin-restricted PBE GTH hydrogen, -0.2386 Ha (6.49 eV). */
static void test_h_finite_difference(void **state) {
  (void)state;
  nh_gth g;
  assert_nh_ok(nh_gth_load(&g, 1, "GTH_POTENTIALS", "GTH-PBE-q1"));
  nh_atom *a = NULL;
  assert_nh_ok(nh_atom_solve(&g, NULL, &a));
  double e1 = fd_h_atom(&g, 2000, 30.0), e2 = fd_h_atom(&g, 4000, 30.0);
  double ex = (4 * e2 - e1) / 3;
  printf("H 1s: basis %.10f  FD %.10f %.10f  extrapolated %.10f\n", a->eps[0],
         e1, e2, ex);
  assert_close(a->eps[0], ex, 2e-6);
  assert_true(fabs(e2 - ex) < fabs(e1 - ex)); /* FD converges towards it */
  assert_close(a->eps[0], -0.2386, 1e-4);
  nh_atom_destroy(&a);
}

/* Charge, neutrality and V_na's range for Si and B (fractional 2p1). */
static void test_density_and_vna(void **state) {
  (void)state;
  const struct { int z; const char *pot; } atoms[] = {{14, "GTH-PBE-q4"},
                                                      {5, "GTH-PBE-q3"}};
  for (int k = 0; k < 2; k++) {
    nh_atom *a = solve(atoms[k].z, atoms[k].pot, NULL);
    int n = a->n;
    double *f = calloc(n, sizeof *f);
    for (int i = 0; i < n; i++) f[i] = 4 * M_PI * a->rho[i];
    assert_close(nh_radial_integral(n, a->h, a->r, f), a->zval, 1e-10);
    assert_close(a->q[n - 1], a->zval, 1e-10);
    /* orbitals are normalised and positive outside (the non-local s
     * projector of B leaves a tiny inner node, -3e-4 at the origin; the
     * Gaussian tails oscillate at 1e-9 beyond 20 bohr); rho is their
     * occupied sum */
    for (int s = 0; s < a->nstate; s++) {
      const double *o = a->orb + (size_t)s * n;
      for (int i = 0; i < n; i++) f[i] = o[i] * o[i];
      assert_close(nh_radial_integral(n, a->h, a->r, f), 1.0, 1e-10);
      for (int i = 0; i < n; i++)
        if (a->r[i] > 1 && a->r[i] < 8) assert_true(o[i] > 0);
    }
    for (int i = 0; i < n; i += 7) {
      double sum = 0;
      for (int s = 0; s < a->nstate; s++)
        sum += a->occ[s] * a->orb[s * n + i] * a->orb[s * n + i] / (4 * M_PI);
      assert_close(a->rho[i], sum, 1e-12 * (1 + sum));
    }
    /* V_na = V_loc + V_H; beyond r_cut it and rho are below 1e-8 while
     * V_loc alone is the bare -Z/r there */
    assert_true(a->rcut > 5 && a->rcut < 20);
    for (int i = 0; i < n; i++) {
      assert_close(a->vna[i], a->vloc[i] + a->vh[i], 1e-14);
      if (a->r[i] >= a->rcut) {
        assert_true(fabs(a->vna[i]) < 1e-8 && fabs(a->rho[i]) < 1e-8);
        assert_true(fabs(a->vloc[i] + a->zval / a->r[i]) < 1e-12);
      }
    }
    /* inside, V_na is attractive at the core and not small */
    assert_true(nh_atom_vna(a, 0.5, NULL) < -0.1);
    assert_true(nh_atom_vna(a, a->rcut * 1.01, NULL) == 0);
    assert_true(nh_atom_rho(a, a->rcut * 1.01, NULL) == 0);
    printf("Z=%d r_cut %.3f bohr, V_na(0) %.6f Ha, rho(0) %.6f\n", a->z,
           a->rcut, nh_atom_vna(a, 0, NULL), nh_atom_rho(a, 0, NULL));
    free(f);
    nh_atom_destroy(&a);
  }
}

/* Converged in basis and grid: 40 vs 60 Gaussians, grid step 0.01 vs
 * 0.005; interpolation between the points of the coarse grid agrees with
 * the fine grid (whose odd points are the coarse midpoints). */
static void test_convergence_and_interpolation(void **state) {
  (void)state;
  nh_atom_opts o;
  nh_atom_opts_default(&o);
  nh_atom *a = solve(6, "GTH-PBE-q4", &o);
  o.nbasis = 60;
  nh_atom *b = solve(6, "GTH-PBE-q4", &o);
  o.nbasis = 40;
  o.grid_h = 0.005;
  nh_atom *c = solve(6, "GTH-PBE-q4", &o);
  for (int s = 0; s < a->nstate; s++) {
    assert_close(a->eps[s], b->eps[s], 1e-9);
    assert_close(a->eps[s], c->eps[s], 2e-9);
  }
  assert_close(a->etot, b->etot, 1e-9);
  assert_close(a->etot, c->etot, 1e-8);
  double maxr = 0, maxv = 0;
  for (int i = 1; i < c->n && c->r[i] < a->rcut; i += 2) {
    double r = c->r[i], drho, dv;
    double rho = nh_atom_rho(a, r, &drho), v = nh_atom_vna(a, r, &dv);
    maxr = fmax(maxr, fabs(rho - c->rho[i]) / (1e-3 + fabs(c->rho[i])));
    maxv = fmax(maxv, fabs(v - c->vna[i]));
    assert_close(drho, c->drho[i], 1e-6 * (1 + fabs(c->drho[i])));
    assert_close(dv, c->dvna[i], 1e-6 * (1 + fabs(c->dvna[i])));
  }
  printf("C: interpolation vs fine grid: rho rel %.1e, V_na %.1e Ha\n", maxr,
         maxv);
  assert_true(maxr < 1e-7 && maxv < 1e-7);
  /* the derivative is that of the interpolant: central differences */
  for (double r = 0.05; r < 8; r *= 1.7) {
    double d, hd = 1e-6 * r;
    nh_atom_vna(a, r, &d);
    double fd = (nh_atom_vna(a, r + hd, NULL) - nh_atom_vna(a, r - hd, NULL)) /
                (2 * hd);
    assert_close(d, fd, 1e-6 * (1 + fabs(d)));
  }
  nh_atom_destroy(&a);
  nh_atom_destroy(&b);
  nh_atom_destroy(&c);
}

/* Total-energy sanity. The parts add up; E_H = 1/2 int rho V_H; and the
 * double-counting identity of a converged SCF,
 *   sum occ eps = E_kin + E_loc + E_nl + 2 E_H + int v_xc rho,
 * holds with int v_xc rho = int (de/drho rho + 2 de/dsigma rho'^2) 4 pi r^2 dr
 * computed here with libxc from the atom's density. */
static void test_energy_sanity(void **state) {
  (void)state;
  nh_atom *a = solve(14, "GTH-PBE-q4", NULL);
  int n = a->n;
  double *f = calloc(n, sizeof *f), *sig = calloc(n, sizeof *sig);
  double *e = calloc(n, sizeof *e), *vr = calloc(n, sizeof *vr),
         *vs = calloc(n, sizeof *vs);
  for (int i = 0; i < n; i++) f[i] = 4 * M_PI * a->rho[i] * a->vh[i];
  assert_close(a->ehartree, 0.5 * nh_radial_integral(n, a->h, a->r, f),
                     1e-12);
  double sum = 0;
  for (int s = 0; s < a->nstate; s++) sum += a->occ[s] * a->eps[s];
  assert_close(a->eband, sum, 1e-12);
  assert_close(a->etot,
                     a->ekin + a->eloc + a->enl + a->ehartree + a->exc, 1e-12);
  for (int i = 0; i < n; i++) sig[i] = a->drho[i] * a->drho[i];
  int ids[2] = {XC_GGA_X_PBE, XC_GGA_C_PBE};
  double vxc = 0, exc = 0;
  for (int k = 0; k < 2; k++) {
    xc_func_type fn;
    assert_int_equal(xc_func_init(&fn, ids[k], XC_UNPOLARIZED), 0);
    xc_gga_exc_vxc(&fn, n, a->rho, sig, e, vr, vs);
    xc_func_end(&fn);
    for (int i = 0; i < n; i++) f[i] = 4 * M_PI * (vr[i] * a->rho[i] + 2 * vs[i] * sig[i]);
    vxc += nh_radial_integral(n, a->h, a->r, f);
    for (int i = 0; i < n; i++) f[i] = 4 * M_PI * e[i] * a->rho[i];
    exc += nh_radial_integral(n, a->h, a->r, f);
  }
  assert_close(a->exc, exc, 1e-12);
  double rhs = a->ekin + a->eloc + a->enl + 2 * a->ehartree + vxc;
  printf("Si: E %.10f  band %.10f  double counting off by %.1e\n", a->etot,
         a->eband, a->eband - rhs);
  assert_close(a->eband, rhs, 1e-9);
  free(f); free(sig); free(e); free(vr); free(vs);
  nh_atom_destroy(&a);
}

static void test_errors(void **state) {
  (void)state;
  nh_gth g;
  nh_atom *a = NULL;
  assert_nh_ok(nh_gth_load(&g, 6, "GTH_POTENTIALS", "GTH-PBE-q4"));
  nh_atom_opts o;
  nh_atom_opts_default(&o);
  o.max_iter = 3;
  assert_nh_fails(nh_atom_solve(&g, &o, &a), NH_ERR_NUMERIC,
                  "SCF not converged in 3 iterations");
  assert_null(a);
  nh_atom_opts_default(&o);
  o.nbasis = 2;
  assert_nh_fails(nh_atom_solve(&g, &o, &a), NH_ERR_ARG, "nbasis must be");
  assert_nh_ok(nh_atom_destroy(&a));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp2k_atoms),
    cmocka_unit_test(test_molopt_basis),
    cmocka_unit_test(test_nlcc),
    cmocka_unit_test(test_h_finite_difference),
    cmocka_unit_test(test_density_and_vna),
    cmocka_unit_test(test_convergence_and_interpolation),
    cmocka_unit_test(test_energy_sanity),
    cmocka_unit_test(test_errors),
};

NH_TEST_MAIN(tests)
