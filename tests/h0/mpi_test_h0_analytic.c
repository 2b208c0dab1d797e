/* Tests of the assembly of H0's analytic parts (src/h0/assemble.c) and of
 * the [basis] input: S against CP2K's S on every image of the CP2K fixtures
 * (tests/data/cp2k), S, T, V_nl identical for any number of ranks, the
 * core Hamiltonian T + V_loc,Gauss + V_nl against CP2K's AO matrices
 * (tests/integrals/data), exact transpose symmetry of every matrix. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nhtest_ao.h"
#include "nhtest_fixture.h"
#include "nextham/cp2k.h"
#include "nextham/h0.h"
#include "nextham/sample.h"

/* ---------------------------------------------------------------------------
 * Fixtures: rank 0 unpacks the CSR files of a CP2K run into a temporary
 * directory (once per program).
 * ------------------------------------------------------------------------- */

/* Basis options that select what a CP2K run used, kind by kind. */
static void opts_of_run(const nh_cp2k_run *run, nh_h0_basis_opts *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->file, sizeof o->file, "%s", run->basis_file);
  snprintf(o->potential_file, sizeof o->potential_file, "%s",
           run->potential_file);
  for (int k = 0; k < run->nkinds; k++) {
    nh_h0_element_choice *c = &o->choice[o->nchoice++];
    c->z = run->kinds[k].z;
    snprintf(c->basis, sizeof c->basis, "%s", run->kinds[k].basis_name);
    snprintf(c->potential, sizeof c->potential, "%s",
             run->kinds[k].potential_name);
  }
}

static void assert_symmetric(const nh_mat *m) {
  double e;
  assert_nh_ok(nh_mat_symmetry_error(m, &e));
  if (e != 0) fprintf(stderr, "%s: symmetry error %.3g\n", nh_mat_name(m), e);
  assert_true(e == 0.0);
}

/* ---------------------------------------------------------------------------
 * S against CP2K on every image, CP2K screening mode
 * ------------------------------------------------------------------------- */
static void check_cp2k_overlap(const char *name) {
  const nh_ctx *ctx = nh_test_ctx();
  nh_cp2k_run *run;
  nh_structure *s;
  nh_h0_species *sp;
  nh_h0_basis_opts bo;
  nh_h0_opts o;
  nh_h0_ranges r;
  nh_domain *dom;
  nh_h0_parts parts;
  nh_mat *ref, *diff;
  assert_nh_ok(nh_cp2k_read_run(ctx, nh_test_fixture(name), &run));
  assert_nh_ok(nh_cp2k_structure(ctx, run, &s));
  opts_of_run(run, &bo);
  nh_h0_opts_default(&o);
  o.screen = NH_INT_CP2K;
  o.eps_pgf_orb = run->eps_pgf_orb;
  assert_true(o.eps_pgf_orb == 1e-6);
  assert_nh_ok(nh_h0_species_load(s, &bo, o.eps_pgf_orb, &sp));
  assert_nh_ok(nh_h0_ranges_get(sp, &o, NH_H0_S, &r));
  double range;
  assert_nh_ok(nh_cp2k_pair_range(run, sp->basis, &range));
  assert_nh_ok(nh_domain_create(ctx, s, NULL, fmax(range, r.halo), &dom));
  assert_nh_ok(nh_h0_analytic(dom, sp, &o, NH_H0_S, &parts));
  assert_null(parts.T);
  assert_null(parts.Vnl);
  assert_nh_ok(nh_cp2k_import_matrix(run, "S", dom, sp->basis, "S_cp2k", &ref));
  /* every block CP2K wrote exists in ours, or lies below eps; on every
   * value CP2K wrote, the difference */
  long missing = 0;
  double missing_max = 0, dwritten = 0;
  for (int64_t k = 0; k < nh_mat_nblocks(ref); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(ref, k, &key, &v);
    const double *w = nh_mat_get_block(parts.S, key.i, key.j, key.n);
    int n = nh_mat_norb(ref, key.i) * nh_mat_norb(ref, key.j);
    for (int e = 0; e < n; e++) {
      if (!w) missing_max = fmax(missing_max, fabs(v[e]));
      else if (v[e] != 0) dwritten = fmax(dwritten, fabs(v[e] - w[e]));
    }
    missing += !w;
  }
  assert_true(missing_max < o.eps);
  double dw;
  MPI_Allreduce(&dwritten, &dw, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  /* elementwise on every image, blocks missing on either side as zero:
   * CP2K's files drop values below their THRESHOLD 1e-10 */
  double dmax, smax;
  int64_t nours, nref, vals;
  assert_nh_ok(nh_mat_duplicate(parts.S, 1, "diff", &diff));
  assert_nh_ok(nh_mat_axpy(diff, -1.0, ref));
  assert_nh_ok(nh_mat_norm_max(diff, &dmax));
  assert_nh_ok(nh_mat_norm_max(parts.S, &smax));
  assert_nh_ok(nh_mat_global_size(parts.S, &nours, &vals));
  assert_nh_ok(nh_mat_global_size(ref, &nref, &vals));
  long all_missing;
  MPI_Allreduce(&missing, &all_missing, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (ctx->rank == 0)
    printf("  %-8s S: %ld blocks (CP2K %ld, %ld of CP2K's absent, all < "
           "%.0e), max |S - S_CP2K| %.2e on the values CP2K wrote, %.2e "
           "everywhere\n",
           name, (long)nours, (long)nref, all_missing, o.eps, dw, dmax);
  assert_true(dw < 1e-13);
  assert_true(dmax <= 1e-10);
  assert_true(smax > 0.999 && smax < 1.0 + 1e-12); /* diagonal of S is 1 */
  assert_symmetric(parts.S);
  nh_mat_destroy(&diff);
  nh_mat_destroy(&ref);
  nh_h0_parts_destroy(&parts);
  nh_domain_destroy(&dom);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
  nh_cp2k_run_destroy(&run);
}

static void test_cp2k_si2(void **state) {
  (void)state;
  check_cp2k_overlap("si2");
}
static void test_cp2k_graphene(void **state) {
  (void)state;
  check_cp2k_overlap("graphene");
}
static void test_cp2k_hbn(void **state) {
  (void)state;
  check_cp2k_overlap("hbn");
}
static void test_cp2k_h2o(void **state) {
  (void)state;
  check_cp2k_overlap("h2o");
}

/* ---------------------------------------------------------------------------
 * Independence of the number of ranks: the distributed matrices against the
 * same assembly on MPI_COMM_SELF (one rank holding everything).
 * ------------------------------------------------------------------------- */

/* A small triclinic Si4H2O cell: three elements, d and p projectors, an
 * off-diagonal h (Si), an atom outside CP2K's wrapped range. */
static void mixed_structure(nh_structure **out) {
  const double A = 1.0 / NH_BOHR_ANGSTROM;
  const double lat[3][3] = {{5.6, 0.0, 0.0}, {0.7, 5.9, 0.0}, {0.4, -0.5, 6.3}};
  const double pos[7][3] = {{0.0, 0.0, 0.0}, {1.4, 1.4, 1.5},
                            {2.9, 3.0, 0.1}, {4.2, 0.2, 3.1},
                            {0.3, 4.4, 4.8}, {-0.6, 2.8, 4.2},
                            {6.1, 2.0, 2.0}};
  const int z[7] = {14, 14, 14, 14, 1, 1, 8};
  nh_structure *s;
  assert_nh_ok(nh_structure_create(7, &s));
  for (int a = 0; a < 3; a++)
    for (int x = 0; x < 3; x++) s->lattice[a][x] = lat[a][x] * A;
  for (int a = 0; a < 7; a++) {
    s->z[a] = z[a];
    for (int x = 0; x < 3; x++) s->pos[a][x] = pos[a][x] * A;
  }
  assert_nh_ok(nh_structure_validate(s, NH_MIN_DIST));
  *out = s;
}

/* Every local block of m equals the block of ref (which holds all blocks),
 * to tol (0: bitwise); the global block counts agree. */
static double compare_to_serial(const nh_mat *m, const nh_mat *ref, double tol) {
  double dmax = 0;
  for (int64_t k = 0; k < nh_mat_nblocks(m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(m, k, &key, &v);
    const double *w = nh_mat_get_block(ref, key.i, key.j, key.n);
    assert_non_null(w);
    int n = nh_mat_norb(m, key.i) * nh_mat_norb(m, key.j);
    for (int e = 0; e < n; e++) dmax = fmax(dmax, fabs(v[e] - w[e]));
  }
  double all;
  MPI_Allreduce(&dmax, &all, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  int64_t nb, nbref, nv;
  assert_nh_ok(nh_mat_global_size(m, &nb, &nv));
  nbref = nh_mat_nblocks(ref); /* serial: every block is local */
  assert_int_equal(nb, nbref);
  if (all > tol)
    fprintf(stderr, "%s: max difference to the serial result %.3g\n",
            nh_mat_name(m), all);
  assert_true(all <= tol);
  return all;
}

/* V_nl blocks (i, j, n) by brute force over every projector atom a and
 * image m within r of both atoms, straight from the integrals: an
 * independent check of the image bookkeeping of the assembly. Returns the
 * largest difference to m_nl (serial, all blocks local). */
static double vnl_brute_force(const nh_structure *s, const nh_h0_species *sp,
                              const nh_mat *vnl, double r) {
  double (*tau)[3] = malloc(s->natoms * sizeof *tau);
  assert_non_null(tau);
  nh_structure_wrap_cp2k(s, tau);
  const int ns[3][3] = {{0, 0, 0}, {1, 0, 0}, {0, -1, 1}};
  static double pi[32 * 64], pj[32 * 64], blk[32 * 32];
  nh_int_work *w;
  assert_nh_ok(nh_int_work_create(&w));
  double dmax = 0;
  int nterms = 0;
  for (int i = 0; i < s->natoms; i++)
    for (int j = 0; j < s->natoms; j++)
      for (int t = 0; t < 3; t++) {
        int zi = s->z[i], zj = s->z[j];
        int ni = sp->basis->elem[zi]->norb, nj = sp->basis->elem[zj]->norb;
        double rj[3];
        for (int x = 0; x < 3; x++)
          rj[x] = tau[j][x] + ns[t][0] * s->lattice[0][x] +
                  ns[t][1] * s->lattice[1][x] + ns[t][2] * s->lattice[2][x];
        memset(blk, 0, sizeof blk);
        for (int a = 0; a < s->natoms; a++) {
          int za = s->z[a], npf = sp->nprojfun[za];
          if (!sp->nproj[za]) continue;
          for (int m0 = -4; m0 <= 4; m0++)
            for (int m1 = -4; m1 <= 4; m1++)
              for (int m2 = -4; m2 <= 4; m2++) {
                double ra[3], di = 0, dj = 0;
                for (int x = 0; x < 3; x++) {
                  ra[x] = tau[a][x] + m0 * s->lattice[0][x] +
                          m1 * s->lattice[1][x] + m2 * s->lattice[2][x];
                  di += (ra[x] - tau[i][x]) * (ra[x] - tau[i][x]);
                  dj += (ra[x] - rj[x]) * (ra[x] - rj[x]);
                }
                if (di >= r * r || dj >= r * r) continue;
                assert_nh_ok(nh_int_atoms(w, NH_INT_OVERLAP, sp->shell[zi],
                                          sp->basis->elem[zi]->nshell, tau[i],
                                          sp->proj[za], sp->nproj[za], ra,
                                          NH_INT_EXACT, pi, NULL, npf));
                assert_nh_ok(nh_int_atoms(w, NH_INT_OVERLAP, sp->shell[zj],
                                          sp->basis->elem[zj]->nshell, rj,
                                          sp->proj[za], sp->nproj[za], ra,
                                          NH_INT_EXACT, pj, NULL, npf));
                nh_int_gth_nl_add(sp->gth[za], pi, ni, pj, nj, npf, blk, nj);
                nterms++;
              }
        }
        const double *v = nh_mat_get_block(vnl, i, j, ns[t]);
        for (int e = 0; e < ni * nj; e++)
          dmax = fmax(dmax, fabs(blk[e] - (v ? v[e] : 0.0)));
      }
  assert_true(nterms > 1000);
  assert_nh_ok(nh_int_work_destroy(&w));
  free(tau);
  return dmax;
}

static void test_ranks(void **state) {
  (void)state;
  const nh_ctx *ctx = nh_test_ctx();
  nh_ctx self;
  assert_nh_ok(nh_ctx_init(MPI_COMM_SELF, &self));
  self.verbosity = 0;
  nh_structure *s;
  mixed_structure(&s);
  nh_h0_basis_opts bo = {.file = "BASIS_MOLOPT",
                         .potential_file = "GTH_POTENTIALS",
                         .basis = "DZVP-MOLOPT-SR-GTH",
                         .potential = "GTH-PBE"};
  nh_h0_species *sp;
  assert_nh_ok(nh_h0_species_load(s, &bo, 0, &sp));
  /* Si: s (2, off-diagonal h) and p; O: s only (its p channel has no
   * projector); H: none */
  assert_true(sp->nproj[14] == 3 && sp->nproj[8] == 1 && sp->nproj[1] == 0);
  nh_h0_opts o;
  nh_h0_opts_default(&o);
  o.eps = 1e-10;
  const int all = NH_H0_S | NH_H0_T | NH_H0_VNL;
  nh_h0_ranges r;
  assert_nh_ok(nh_h0_ranges_get(sp, &o, all, &r));
  nh_domain *dom, *dom1;
  nh_h0_parts p, p1;
  double t0 = nh_wtime();
  assert_nh_ok(nh_domain_create(ctx, s, NULL, r.halo, &dom));
  assert_nh_ok(nh_h0_analytic(dom, sp, &o, all, &p));
  double t1 = nh_wtime();
  assert_nh_ok(nh_domain_create(&self, s, NULL, r.halo, &dom1));
  assert_nh_ok(nh_h0_analytic(dom1, sp, &o, all, &p1));
  double dS = compare_to_serial(p.S, p1.S, 0.0);
  double dT = compare_to_serial(p.T, p1.T, 0.0);
  double dN = compare_to_serial(p.Vnl, p1.Vnl, 1e-14);
  double dB = vnl_brute_force(s, sp, p1.Vnl, r.rnl_max);
  assert_true(dB < 1e-9);
  assert_symmetric(p.S);
  assert_symmetric(p.T);
  assert_symmetric(p.Vnl);
  double nS, nT, nN;
  assert_nh_ok(nh_mat_norm_fro(p.S, &nS));
  assert_nh_ok(nh_mat_norm_fro(p.T, &nT));
  assert_nh_ok(nh_mat_norm_fro(p.Vnl, &nN));
  int64_t nb, nv;
  assert_nh_ok(nh_mat_global_size(p.Vnl, &nb, &nv));
  if (ctx->rank == 0)
    printf("  Si4H2O, %d ranks vs 1: max diff S %.1e, T %.1e, V_nl %.1e, "
           "|S| %.6f |T| %.6f |V_nl| %.6f; %ld V_nl "
           "blocks; cut-offs S,T %.2f, V_nl %.2f, halo %.2f bohr; "
           "%.2f s\n",
           ctx->size, dS, dT, dN, nS, nT, nN, (long)nb, r.rst_max,
           r.rnl_max, r.halo,
           t1 - t0);
  if (ctx->rank == 0)
    printf("    both builds: S,T %.2f s, V_nl %.2f s, assemble %.2f s; V_nl "
           "against brute force over projector atoms and images (3 x 49 "
           "blocks): %.1e\n",
           nh_timer_get("S,T"), nh_timer_get("V_nl"), nh_timer_get("assemble"),
           dB);
  nh_h0_parts_destroy(&p);
  nh_h0_parts_destroy(&p1);
  nh_domain_destroy(&dom);
  nh_domain_destroy(&dom1);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
}

/* ---------------------------------------------------------------------------
 * Core Hamiltonian against CP2K's &AO_MATRICES (tests/integrals/data): the
 * N2H2Si2 molecule in a 25 Å box at Γ, so the printed matrix is the sum of
 * our blocks over images.
 * ------------------------------------------------------------------------- */
#define AO_N 94

/* Σ_n M(n) as a dense matrix on every rank (orbital offsets first[]). */
static void gamma_dense(const nh_mat *m, const int *first, double scale,
                        double *g) {
  static double loc[AO_N * AO_N];
  memset(loc, 0, sizeof loc);
  for (int64_t k = 0; k < nh_mat_nblocks(m); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(m, k, &key, &v);
    int ni = nh_mat_norb(m, key.i), nj = nh_mat_norb(m, key.j);
    for (int a = 0; a < ni; a++)
      for (int b = 0; b < nj; b++)
        loc[(first[key.i] + a) * AO_N + first[key.j] + b] += v[a * nj + b];
  }
  double *tmp = malloc(sizeof loc);
  assert_non_null(tmp);
  MPI_Allreduce(loc, tmp, AO_N * AO_N, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  for (int e = 0; e < AO_N * AO_N; e++) g[e] += scale * tmp[e];
  free(tmp);
}

static void check_core_hamiltonian(const char *file, double tol_h) {
  const nh_ctx *ctx = nh_test_ctx();
  const double pos[6][3] = {{0, 0, 0},       {1.1, 0.2, -0.3},
                            {0.3, 1.9, 1.2}, {-1.2, -1.0, 2.0},
                            {2.5, -1.5, 1.0}, {-1.0, 2.5, -1.8}};
  const int z[6] = {7, 7, 1, 1, 14, 14};
  nh_structure *s;
  assert_nh_ok(nh_structure_create(6, &s));
  for (int x = 0; x < 3; x++) s->lattice[x][x] = 25.0 / NH_BOHR_ANGSTROM;
  for (int a = 0; a < 6; a++) {
    s->z[a] = z[a];
    for (int x = 0; x < 3; x++) s->pos[a][x] = pos[a][x] / NH_BOHR_ANGSTROM;
  }
  nh_h0_basis_opts bo = {.file = "BASIS_MOLOPT",
                         .potential_file = "GTH_POTENTIALS",
                         .basis = "DZVP-MOLOPT-SR-GTH",
                         .potential = "GTH-PBE",
                         .nchoice = 1,
                         .choice = {{7, "TZV2PX-MOLOPT-GTH", ""}}};
  nh_h0_species *sp;
  assert_nh_ok(nh_h0_species_load(s, &bo, 0, &sp));
  nh_h0_opts o;
  nh_h0_opts_default(&o);
  const int all = NH_H0_S | NH_H0_T | NH_H0_VNL | NH_H0_VLOC;
  nh_h0_ranges r;
  assert_nh_ok(nh_h0_ranges_get(sp, &o, all, &r));
  nh_domain *dom;
  nh_h0_parts p;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, r.halo, &dom));
  assert_nh_ok(nh_h0_analytic(dom, sp, &o, all, &p));
  int first[7] = {0};
  for (int a = 0; a < 6; a++) first[a + 1] = first[a] + sp->basis->elem[z[a]]->norb;
  assert_int_equal(first[6], AO_N);
  static double sref[AO_N * AO_N], tref[AO_N * AO_N], href[AO_N * AO_N],
      sg[AO_N * AO_N], tg[AO_N * AO_N], hg[AO_N * AO_N];
  const char *path = nh_test_path(file);
  nh_test_read_ao_matrix(path, "OVERLAP MATRIX", AO_N, sref);
  nh_test_read_ao_matrix(path, "KINETIC ENERGY MATRIX", AO_N, tref);
  nh_test_read_ao_matrix(path, "CORE HAMILTONIAN MATRIX", AO_N, href);
  memset(sg, 0, sizeof sg);
  memset(tg, 0, sizeof tg);
  memset(hg, 0, sizeof hg);
  gamma_dense(p.S, first, 1.0, sg);
  gamma_dense(p.T, first, 1.0, tg);
  gamma_dense(p.T, first, 1.0, hg);
  gamma_dense(p.Vloc, first, 1.0, hg);
  gamma_dense(p.Vnl, first, 1.0, hg);
  double ds = 0, dt = 0, dh = 0, vmax = 0;
  for (int e = 0; e < AO_N * AO_N; e++) {
    ds = fmax(ds, fabs(sg[e] - sref[e]));
    dt = fmax(dt, fabs(tg[e] - tref[e]));
    dh = fmax(dh, fabs(hg[e] - href[e]));
    vmax = fmax(vmax, fabs(href[e] - tref[e]));
  }
  if (ctx->rank == 0)
    printf("  %s: max |ours - CP2K| S %.1e, T %.1e, H_core = T + V_loc,Gauss "
           "+ V_nl %.1e (max |V_pp| %.2f Ha)\n", file, ds, dt, dh, vmax);
  assert_true(vmax > 1.0);
  assert_true(dh < tol_h);
  nh_h0_parts_destroy(&p);
  nh_domain_destroy(&dom);
  nh_h0_species_destroy(&sp);
  nh_structure_destroy(&s);
  if (strstr(file, "tight")) {
    assert_true(ds < 1e-14);
    assert_true(dt < 1e-13);
  }
}

static void test_core_hamiltonian(void **state) {
  (void)state;
  /* EPS_PGF_ORB, EPS_PPL, EPS_PPNL 1e-30: exact integrals on both sides */
  check_core_hamiltonian("tests/integrals/data/nhsi-tight-ao.txt.xz", 1e-13);
  /* default thresholds: CP2K's own screening of S, T (1e-10) and of the
   * pseudopotential (1.4e-8) */
  check_core_hamiltonian("tests/integrals/data/nhsi-ao.txt.xz", 5e-8);
}

/* ---------------------------------------------------------------------------
 * [basis] input
 * ------------------------------------------------------------------------- */
static nh_err parse_basis(const char *text, nh_h0_basis_opts *o) {
  nh_toml *doc;
  NH_CALL(nh_toml_parse_string("in.toml", text, strlen(text), &doc));
  nh_err err = nh_h0_read_basis_opts(doc, o);
  if (!err) err = nh_toml_check_unused(doc);
  nh_toml_destroy(&doc);
  return err;
}

static void test_basis_input(void **state) {
  (void)state;
  nh_h0_basis_opts o;
  assert_nh_ok(parse_basis("# no [basis]\n", &o));
  assert_string_equal(o.file, "BASIS_MOLOPT");
  assert_string_equal(o.potential_file, "GTH_POTENTIALS");
  assert_string_equal(o.basis, "DZVP-MOLOPT-SR-GTH");
  assert_string_equal(o.potential, "GTH-PBE");
  assert_int_equal(o.nchoice, 0);
  assert_nh_ok(parse_basis("[basis]\ndefault = 'SZV-MOLOPT-GTH'\n"
                           "[basis.elements]\n"
                           "Si = { basis = 'TZV2P-MOLOPT-GTH' }\n"
                           "H = { potential = 'GTH-PBE-q1' }\n", &o));
  assert_string_equal(o.basis, "SZV-MOLOPT-GTH");
  assert_int_equal(o.nchoice, 2);
  assert_true(o.choice[0].z == 14 && o.choice[1].z == 1);
  assert_string_equal(o.choice[0].basis, "TZV2P-MOLOPT-GTH");
  assert_string_equal(o.choice[0].potential, "");
  assert_string_equal(o.choice[1].potential, "GTH-PBE-q1");
  assert_nh_fails(parse_basis("[basis.elements]\nXx = { basis = 'a' }\n", &o),
                  NH_ERR_INPUT, "in.toml:2: key 'basis.elements.Xx' is not an "
                  "element symbol");
  assert_nh_fails(parse_basis("[basis.elements]\nsi = { basis = 'a' }\n", &o),
                  NH_ERR_INPUT, "'basis.elements.si' is not an element");
  assert_nh_fails(parse_basis("[basis.elements]\nSi = 'DZVP'\n", &o),
                  NH_ERR_INPUT, "in.toml:2: key 'basis.elements.Si' must be a "
                  "table");
  assert_nh_fails(parse_basis("[basis.elements]\nSi = { basis = 'a', "
                              "potentail = 'b' }\n", &o),
                  NH_ERR_INPUT, "potentail");
  assert_nh_fails(parse_basis("[basis]\nfiel = 'x'\n", &o), NH_ERR_INPUT,
                  "unknown key 'basis.fiel'");
  /* a name the file lacks: the error lists what the file has */
  nh_structure *s;
  mixed_structure(&s);
  nh_h0_species *sp = NULL;
  assert_nh_ok(parse_basis("[basis.elements]\nO = { basis = 'NO-SUCH-BASIS' }\n",
                           &o));
  assert_nh_fails(nh_h0_species_load(s, &o, 0, &sp), NH_ERR_INPUT,
                  "NO-SUCH-BASIS");
  assert_null(sp);
  nh_structure_destroy(&s);
}

/* ---------------------------------------------------------------------------
 * Task h0 end to end on Si2 (coarse grid): the sample file holds S, H0, T
 * and V_nl; S and T equal the assembly, H0 - T - V_nl is the grid part,
 * and H0 is close to CP2K's atomic-guess Hamiltonian (si2-guess fixture).
 * ------------------------------------------------------------------------- */
static nh_err run_task(const nh_ctx *ctx, const char *text) {
  nh_toml *doc;
  char task[16];
  NH_CALL(nh_toml_parse_string("h0.toml", text, strlen(text), &doc));
  nh_err err = nh_toml_get_string(nh_toml_root(doc), "task", "", task,
                                  sizeof task); /* as nh_app_run_input */
  if (!err) err = nh_task_h0(ctx, doc, "");
  nh_toml_destroy(&doc);
  return err;
}

static void task_on(MPI_Comm comm, const char *guess_out);

/* Si2 has two atoms: the task runs on at most two ranks. */
static void test_task(void **state) {
  (void)state;
  const char *guess = nh_test_fixture("si2-guess");
  char guess_out[512];
  snprintf(guess_out, sizeof guess_out, "%s", guess);
  nh_test_fixture("si2");
  MPI_Comm comm;
  int in = nh_test_ctx()->rank < 2;
  MPI_Comm_split(MPI_COMM_WORLD, in, 0, &comm);
  if (in) task_on(comm, guess_out);
  MPI_Comm_free(&comm);
}

static void task_on(MPI_Comm comm, const char *guess_out) {
  nh_ctx tctx, *ctx = &tctx;
  assert_nh_ok(nh_ctx_init(comm, &tctx));
  tctx.verbosity = 0;
  char text[2048], out[512];
  snprintf(out, sizeof out, "%s/si2-h0.h5", nh_test_tmpdir());
  snprintf(text, sizeof text,
           "task = 'h0'\n[structure]\nfile = '%s'\n[h0]\noutput = '%s'\n"
           "write_parts = true\natom = 'basis'\n[grid]\nspacing = 0.25\n",
           nh_test_path("tests/data/cp2k/si2/si2.inp"), out);
  assert_nh_ok(run_task(ctx, text));
  int count;
  char(*names)[64];
  assert_nh_ok(nh_sample_list_matrices(ctx, out, &count, &names));
  assert_int_equal(count, 4);
  assert_string_equal(names[0], "H0");
  assert_string_equal(names[1], "S");
  assert_string_equal(names[2], "T");
  assert_string_equal(names[3], "V_nl");
  nh_free(&names);
  /* read back on a domain of the run's halo */
  nh_structure *s;
  nh_basis *b;
  assert_nh_ok(nh_sample_read_structure(ctx, out, &s));
  assert_nh_ok(nh_sample_read_basis(ctx, out, &b));
  assert_string_equal(b->elem[14]->potential_name, "GTH-PBE");
  assert_true(b->elem[14]->zval == 4);
  nh_domain *dom;
  assert_nh_ok(nh_domain_create(ctx, s, NULL, 40.0, &dom));
  nh_mat *S, *T, *V, *H0, *G, *ref;
  assert_nh_ok(nh_sample_read_matrix(out, "S", dom, b, 1.0, &S));
  assert_nh_ok(nh_sample_read_matrix(out, "T", dom, b, 1 / NH_HARTREE_EV, &T));
  assert_nh_ok(nh_sample_read_matrix(out, "V_nl", dom, b, 1 / NH_HARTREE_EV, &V));
  assert_nh_ok(nh_sample_read_matrix(out, "H0", dom, b, 1 / NH_HARTREE_EV, &H0));
  assert_symmetric(H0);
  /* the grid part G = H0 - T - V_nl: present, symmetric, of the size of
   * the neutral-atom potential */
  double gmax, tmax;
  assert_nh_ok(nh_mat_duplicate(H0, 1, "G", &G));
  assert_nh_ok(nh_mat_axpy(G, -1.0, T));
  assert_nh_ok(nh_mat_axpy(G, -1.0, V));
  assert_nh_ok(nh_mat_norm_max(G, &gmax));
  assert_nh_ok(nh_mat_norm_max(T, &tmax));
  assert_true(gmax > 0.1 && gmax < 10);
  assert_true(tmax > 0.1 && tmax < 10);
  /* against CP2K's atomic-guess KS matrix of the same cell */
  nh_cp2k_run *run;
  assert_nh_ok(nh_cp2k_read_run(ctx, guess_out, &run));
  assert_nh_ok(nh_cp2k_import_matrix(run, "KS", dom, b, "H_guess", &ref));
  double mu, mae, mx;
  assert_nh_ok(nh_mat_gauge(H0, ref, S, &mu, &mae, &mx));
  if (ctx->rank == 0)
    printf("  task h0, Si2 (grid spacing 0.25 Å, atom in the basis): vs "
           "CP2K's guess H: mu* %.4f eV, gauge MAE %.3f meV, max %.1f meV; "
           "max |grid part| %.3f Ha\n",
           mu * NH_HARTREE_EV, mae * NH_HARTREE_EV * 1e3,
           mx * NH_HARTREE_EV * 1e3, gmax);
  assert_true(mae * NH_HARTREE_EV < 2e-3);
  nh_cp2k_run_destroy(&run);
  nh_mat_destroy(&ref);
  nh_mat_destroy(&G);
  nh_mat_destroy(&H0);
  nh_mat_destroy(&V);
  nh_mat_destroy(&T);
  nh_mat_destroy(&S);
  nh_domain_destroy(&dom);
  nh_basis_destroy(&b);
  nh_structure_destroy(&s);
  /* input errors, before any work */
  assert_nh_fails(run_task(ctx, "task = 'h0'\n[structure]\nfile = 'x.xyz'\n"
                           "[h0]\nscreening = 'fast'\n"),
                  NH_ERR_INPUT, "'h0.screening' must be");
  assert_nh_fails(run_task(ctx, "task = 'h0'\n[structure]\nfile = 'x.xyz'\n"
                           "[h0]\natom = 'big'\n"),
                  NH_ERR_INPUT, "'h0.atom' must be");
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basis_input),
      cmocka_unit_test(test_cp2k_si2),
      cmocka_unit_test(test_cp2k_graphene),
      cmocka_unit_test(test_cp2k_hbn),
      cmocka_unit_test(test_cp2k_h2o),
      cmocka_unit_test(test_ranks),
      cmocka_unit_test(test_core_hamiltonian),
      cmocka_unit_test(test_task),
  };
  MPI_Init(&argc, &argv);
  int fail = cmocka_run_group_tests(tests, NULL, NULL), any = 0;
  MPI_Allreduce(&fail, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return any ? 1 : 0;
}
