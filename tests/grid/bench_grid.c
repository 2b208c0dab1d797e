/* Benchmark and convergence runs of the grid part of H0 with real neutral
 * pseudo-atoms (nh_atom_solve, GTH-PBE), for docs/grid.md. Not a test.
 *
 *   bench_grid si NC [ACC_EV]    Si diamond, NC^3 conventional cells: time
 *                                per atom of nh_grid_h0_add
 *   bench_grid graphene NC [ACC_EV]  graphene (a = 2.46 Å, 15 Å between
 *                                layers), NC x NC primitive cells, the same
 *   bench_grid conv graphene     conv on the graphene primitive cell
 *   bench_grid conv WHAT [H]     WHAT = h2o or si8: max |V(acc) - V(ref)|
 *                                for accuracies 1e-2..1e-5 eV against a
 *                                reference at 1e-7 eV with spacing H bohr
 *                                (default 0.2)
 *                                WHAT = si2: the primitive cell
 * Environment: NH_GRID_BATCH = points per batch edge; NH_GRID_TERMS = 1
 * (V_na), 2 (V_xc) or 3 (both, default); NH_GRID_SCHEME = atomic,
 * uniform or hybrid; NH_GRID_RADIAL, NH_GRID_ANGULAR = atomic sizes;
 * NH_GRID_HLIST = "h1 h2 ..." (bohr): conv runs these spacings instead of
 * the accuracies; NH_GRID_REF = "N n": the conv reference is the atomic
 * grid N x n; NH_GRID_LEVELS = "N:n N:n ...": conv runs these atomic
 * levels (accuracy 1e-4 eV) instead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nextham/grid.h"
#include "nextham/structure.h"
#include "nhtest_diamond.h"

#define CHECK(x)                                                               \
  do {                                                                         \
    nh_err e_ = (x);                                                           \
    if (e_) {                                                                  \
      nh_error_print(e_, 0);                                                   \
      MPI_Abort(MPI_COMM_WORLD, 1);                                            \
    }                                                                          \
  } while (0)

static nh_gth GTH[NH_MAX_Z + 1];
static double CPU; /* CPU seconds of the last grid run, this rank */
static nh_atom *ATOM[NH_MAX_Z + 1];

static void element(nh_basis *b, int z, const char *pot) {
  CHECK(nh_basis_load(b, z, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  CHECK(nh_gth_load(&GTH[z], z, "GTH_POTENTIALS", pot));
  CHECK(nh_atom_solve(&GTH[z], NULL, &ATOM[z]));
}

/* Si diamond (a = 5.43 Å), nc^3 conventional cells. */
static nh_structure *diamond(int nc) {
  nh_structure *s = NULL;
  CHECK(nh_test_diamond(nc, 5.43 / NH_BOHR_ANGSTROM, &s));
  return s;
}

/* Graphene, nc x nc primitive cells (a = 2.46 Å), layers 15 Å apart
 * (the cell of benchmarks/run-h0.sh). */
static nh_structure *graphene(int nc) {
  nh_structure *s = NULL;
  double a = 2.46 / NH_BOHR_ANGSTROM, c = 15.0 / NH_BOHR_ANGSTROM;
  double lat[3][3] = {{a, 0, 0}, {-0.5 * a, 0.5 * sqrt(3.0) * a, 0}, {0, 0, c}};
  CHECK(nh_structure_create(2 * nc * nc, &s));
  for (int d = 0; d < 3; d++)
    for (int k = 0; k < 3; k++)
      s->lattice[d][k] = (d < 2 ? nc : 1) * lat[d][k];
  for (int i = 0, n = 0; i < nc; i++)
    for (int j = 0; j < nc; j++)
      for (int b = 0; b < 2; b++, n++) {
        double f[2] = {i + (b ? 2.0 : 1.0) / 3, j + (b ? 1.0 : 2.0) / 3};
        for (int d = 0; d < 3; d++)
          s->pos[n][d] = f[0] * lat[0][d] + f[1] * lat[1][d] + 0.5 * lat[2][d];
        s->z[n] = 6;
      }
  return s;
}

static nh_structure *h2o(void) {
  static const double x[3][3] = {
      {0, 0, 0.1173}, {0, 0.7572, -0.4692}, {0, -0.7572, -0.4692}};
  nh_structure *s = NULL;
  CHECK(nh_structure_create(3, &s));
  for (int d = 0; d < 3; d++) {
    s->lattice[d][d] = 7.0 / NH_BOHR_ANGSTROM;
    s->pbc[d] = 0;
  }
  for (int a = 0; a < 3; a++)
    for (int d = 0; d < 3; d++)
      s->pos[a][d] = x[a][d] / NH_BOHR_ANGSTROM;
  s->z[0] = 8;
  s->z[1] = s->z[2] = 1;
  return s;
}

static void run(const nh_ctx *ctx, const nh_structure *s, const nh_basis *b,
                double acc_ev, double h, nh_domain **dom, nh_mat **m,
                nh_grid_stats *st) {
  nh_grid_opts o;
  nh_grid_species sp[NH_MAX_Z + 1];
  const nh_grid_species *spp[NH_MAX_Z + 1] = {0};
  int norb[NH_MAX_Z + 1];
  nh_grid_opts_default(&o);
  o.accuracy = acc_ev / NH_HARTREE_EV;
  o.spacing = h;
  if (getenv("NH_GRID_BATCH"))
    o.batch = atoi(getenv("NH_GRID_BATCH"));
  const char *sch = getenv("NH_GRID_SCHEME");
  if (sch)
    o.scheme = !strcmp(sch, "uniform")  ? NH_GRID_UNIFORM
               : !strcmp(sch, "hybrid") ? NH_GRID_HYBRID
                                        : NH_GRID_ATOMIC;
  if (getenv("NH_GRID_RADIAL"))
    o.radial = atoi(getenv("NH_GRID_RADIAL"));
  if (getenv("NH_GRID_ANGULAR"))
    o.angular = atoi(getenv("NH_GRID_ANGULAR"));
  for (int z = 1; z <= NH_MAX_Z; z++)
    if (ATOM[z]) {
      nh_grid_species_atom(ATOM[z], &GTH[z], &sp[z]);
      spp[z] = &sp[z];
    }
  const nh_gth *gth[NH_MAX_Z + 1];
  for (int z = 0; z <= NH_MAX_Z; z++)
    gth[z] = ATOM[z] ? &GTH[z] : NULL;
  double halo = nh_grid_h0_halo(b, (const nh_atom *const *)ATOM, gth, &o);
  if (fabs(halo - nh_grid_halo(b, spp, &o)) > 1e-12)
    MPI_Abort(MPI_COMM_WORLD, 2);
  CHECK(nh_domain_create(ctx, s, NULL, halo, dom));
  nh_basis_norb_table(b, norb);
  CHECK(nh_mat_create(*dom, norb, "V", m));
  const char *t = getenv("NH_GRID_TERMS"); /* 1 V_na, 2 V_xc, 3 both */
  clock_t c0 = clock();
  if (t) /* one term */
    CHECK(nh_grid_integrate(*dom, b, spp, atoi(t), &o, *m, st));
  else /* the product path */
    CHECK(nh_grid_h0_add(*dom, b, (const nh_atom *const *)ATOM, gth, &o, *m,
                         st));
  CPU = (double)(clock() - c0) / CLOCKS_PER_SEC;
}

/* max |x - y| over the blocks of y (same domain layout not required:
 * blocks are looked up by key). */
static double maxdiff(const nh_mat *x, const nh_mat *y) {
  double e = 0, g;
  for (int64_t k = 0; k < nh_mat_nblocks(y); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(y, k, &key, &v);
    const double *u = nh_mat_get_block(x, key.i, key.j, key.n);
    int n = nh_mat_norb(y, key.i) * nh_mat_norb(y, key.j);
    for (int i = 0; i < n; i++)
      if (fabs((u ? u[i] : 0) - v[i]) > e) {
        e = fabs((u ? u[i] : 0) - v[i]);
        if (getenv("NH_GRID_WHERE"))
          printf("    max so far: block (%lld,%lld,[%d %d %d]) element %d: "
                 "%.3e of %.6f\n", (long long)key.i, (long long)key.j,
                 key.n[0], key.n[1], key.n[2], i, e, v[i]);
      }
  }
  MPI_Allreduce(&e, &g, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return g;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  nh_ctx ctx;
  CHECK(nh_ctx_init(MPI_COMM_WORLD, &ctx));
  nh_basis *b = NULL;
  CHECK(nh_basis_create(&b));
  if (argc >= 3 && (!strcmp(argv[1], "si") || !strcmp(argv[1], "graphene"))) {
    int si = !strcmp(argv[1], "si");
    element(b, si ? 14 : 6, "GTH-PBE-q4");
    nh_structure *s = si ? diamond(atoi(argv[2])) : graphene(atoi(argv[2]));
    double acc = argc > 3 ? atof(argv[3]) : 1e-4;
    nh_domain *dom;
    nh_mat *m;
    nh_grid_stats st;
    run(&ctx, s, b, acc, 0, &dom, &m, &st);
    if (!ctx.rank)
      printf("%s%d  ranks %d  accuracy %.0e eV  h %.4f bohr  grid %dx%dx%d  "
             "%lld batches  %lld points  wall %.2f s  CPU (rank 0) %.2f s  %.1f ms CPU "
             "per atom per rank\n",
             si ? "Si" : "C", s->natoms, ctx.size, acc, st.spacing, st.n[0], st.n[1], st.n[2],
             (long long)st.nbatches, (long long)st.npoints, st.seconds, CPU,
             1e3 * CPU * ctx.size / s->natoms);
    nh_mat_destroy(&m);
    nh_domain_destroy(&dom);
    nh_structure_destroy(&s);
  } else if (argc >= 3 && !strcmp(argv[1], "conv")) {
    nh_structure *s;
    double href = argc > 3 ? atof(argv[3]) : 0.2;
    if (!strcmp(argv[2], "h2o")) {
      element(b, 8, "GTH-PBE-q6");
      element(b, 1, "GTH-PBE-q1");
      s = h2o();
    } else if (!strcmp(argv[2], "graphene")) {
      element(b, 6, "GTH-PBE-q4");
      s = graphene(1);
    } else {
      element(b, 14, "GTH-PBE-q4");
      s = diamond(1);
      if (!strcmp(argv[2], "si2")) { /* the primitive cell */
        double a = 5.43 / NH_BOHR_ANGSTROM, h = 0.5 * a;
        double lat[3][3] = {{0, h, h}, {h, 0, h}, {h, h, 0}};
        s->natoms = 2;
        memcpy(s->lattice, lat, sizeof lat);
        for (int d = 0; d < 3; d++)
          s->pos[1][d] = 0.25 * a;
      }
    }
    nh_domain *d0;
    nh_mat *m0;
    nh_grid_stats st;
    /* NH_GRID_REF="NR NT": the reference is the atomic grid of NR shells
     * and NT theta points; NH_GRID_LEVELS="NR:NT NR:NT ...": atomic levels
     * to compare */
    const char *ref = getenv("NH_GRID_REF"), *lev = getenv("NH_GRID_LEVELS");
    if (ref) {
      char buf[64];
      setenv("NH_GRID_SCHEME", "atomic", 1);
      snprintf(buf, sizeof buf, "%d", atoi(ref));
      setenv("NH_GRID_RADIAL", buf, 1);
      snprintf(buf, sizeof buf, "%d", atoi(strchr(ref, ' ') + 1));
      setenv("NH_GRID_ANGULAR", buf, 1);
    }
    run(&ctx, s, b, 1e-7, href, &d0, &m0, &st);
    if (ref) {
      unsetenv("NH_GRID_RADIAL");
      unsetenv("NH_GRID_ANGULAR");
      unsetenv("NH_GRID_SCHEME");
    }
    if (!ctx.rank)
      printf("reference 1e-7 eV: h %.4f bohr, %lld points, %.2f s\n",
             st.spacing, (long long)st.npoints, st.seconds);
    for (char *e; lev && *lev; lev = e) { /* atomic levels */
      char buf[16];
      int nr = (int)strtol(lev, &e, 10), nt = 0;
      if (*e == ':')
        nt = (int)strtol(e + 1, &e, 10);
      if (!nr || !nt)
        break;
      setenv("NH_GRID_SCHEME", "atomic", 1);
      snprintf(buf, sizeof buf, "%d", nr);
      setenv("NH_GRID_RADIAL", buf, 1);
      snprintf(buf, sizeof buf, "%d", nt);
      setenv("NH_GRID_ANGULAR", buf, 1);
      nh_domain *d;
      nh_mat *m;
      run(&ctx, s, b, 1e-4, 0, &d, &m, &st);
      double e1 = maxdiff(m, m0);
      if (!ctx.rank)
        printf("| %d | %d | %lld | %.2e | %.2f | %.2f |\n", nr, nt,
               (long long)st.npoints, e1 * NH_HARTREE_EV * 1e3, st.seconds,
               CPU);
      nh_mat_destroy(&m);
      nh_domain_destroy(&d);
    }
    const char *hl = lev ? NULL : getenv("NH_GRID_HLIST"); /* spacings */
    double hs[8];
    int nh = 0;
    for (char *e; hl && *hl && nh < 8; hl = e)
      hs[nh++] = strtod(hl, &e);
    for (int k = 0; k < (nh ? nh : lev ? 0 : 4); k++) {
      nh_domain *d;
      nh_mat *m;
      double acc = nh ? 1e-7 : 1e-2 / pow(10, k);
      run(&ctx, s, b, acc, nh ? hs[k] : 0, &d, &m, &st);
      double e = maxdiff(m, m0);
      if (!ctx.rank)
        printf("| %.0e | %.4f | %lld | %.2e | %.2f |\n", acc, st.spacing,
               (long long)st.npoints, e * NH_HARTREE_EV * 1e3, st.seconds);
      nh_mat_destroy(&m);
      nh_domain_destroy(&d);
    }
    nh_mat_destroy(&m0);
    nh_domain_destroy(&d0);
    nh_structure_destroy(&s);
  }
  for (int z = 0; z <= NH_MAX_Z; z++)
    nh_atom_destroy(&ATOM[z]);
  nh_basis_destroy(&b);
  MPI_Finalize();
  return 0;
}
