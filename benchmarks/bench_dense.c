/* Dense eigen-solver benchmark: time per k-point of ELPA 2-stage and
 * ScaLAPACK pzhegvx on tiled Si supercells of CP2K's Si8 Hamiltonian.
 *
 *   bench_dense SI8.out FRACTION M1xM2xM3 [M1xM2xM3 ...]
 *
 * SI8.out is the si8 fixture's .out with its CSR files beside it
 * (benchmarks/run-dense.sh unpacks tests/data/cp2k/si8). For every
 * supercell size, H(n) and S(n) are tiled exactly (nh_supercell_tile) and
 * the lowest FRACTION x norb bands at one generic k-point, (0.1, 0.2,
 * 0.3) in the supercell's reciprocal basis (complex H(k)), are computed by
 * each solver through nh_solve_kpoints, one k-group over all ranks.
 *
 * Environment:
 *   NH_BENCH_SOLVERS  solvers in order, SOLVER[:KERNEL] (ELPA 2-stage
 *                     kernel, nh_solver_elpa_kernel_parse); default
 *                     "elpa2 scalapack"
 *   NH_BENCH_VECTORS  1 (default): eigenvectors too, as for Mulliken
 *                     weights; 0: eigenvalues only, as for plain bands
 *   NH_BENCH_BLOCK    block-cyclic block size (default 0: nextham's choice)
 *
 * Times: the whole call (wall and CPU), the Bloch sums and the eigen-solver
 * phase, each the maximum over ranks. Every solver's energies are compared
 * with the first one's (the largest difference is printed). Rank 0 prints
 * one "RESULT key=value ..." line per size and solver; peak memory is
 * VmHWM, the maximum over ranks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nextham/cp2k.h"
#include "nextham/solve.h"
#include "nextham/supercell.h"

typedef struct prim {
  nh_cp2k_run *run;
  nh_structure *s;
  nh_basis *b;
  nh_domain *dom;
  nh_mat *S, *H;
} prim;

static nh_err prim_load(const nh_ctx *ctx, const char *out, prim *p) {
  double range;
  NH_CALL(nh_cp2k_read_run(ctx, out, &p->run));
  NH_CALL(nh_cp2k_structure(ctx, p->run, &p->s));
  NH_CALL(nh_basis_create(&p->b));
  NH_CALL(nh_cp2k_load_basis(p->run, p->b));
  NH_CALL(nh_cp2k_pair_range(p->run, p->b, &range));
  NH_CALL(nh_domain_create(ctx, p->s, NULL, range, &p->dom));
  NH_CALL(nh_cp2k_import(p->run, p->dom, p->b, &p->S, &p->H));
  return NH_OK;
}

static void prim_free(prim *p) {
  nh_mat_destroy(&p->H);
  nh_mat_destroy(&p->S);
  nh_domain_destroy(&p->dom);
  nh_basis_destroy(&p->b);
  nh_structure_destroy(&p->s);
  nh_cp2k_run_destroy(&p->run);
}

/* CPU seconds of this process: on a shared machine, wall times depend on
 * the other jobs; CPU time measures the work (and MPI's busy waiting). */
static double cpu_time(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double max_over_ranks(const nh_ctx *ctx, double x) {
  MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
  return x;
}

/* The solvers of NH_BENCH_SOLVERS with the other settings. */
typedef struct bench_cfg {
  int n;
  nh_solver_opts o[8];
} bench_cfg;

static nh_err bench_config(bench_cfg *c) {
  const char *env = getenv("NH_BENCH_SOLVERS");
  char list[256], *save = NULL;
  snprintf(list, sizeof list, "%s", env ? env : "elpa2 scalapack");
  const char *v = getenv("NH_BENCH_VECTORS"), *blk = getenv("NH_BENCH_BLOCK");
  c->n = 0;
  for (char *t = strtok_r(list, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
    NH_CHECK(c->n < 8, NH_ERR_INPUT, "NH_BENCH_SOLVERS: at most 8 solvers");
    nh_solver_opts *o = &c->o[c->n++];
    char *colon = strchr(t, ':');
    nh_solver_opts_default(o);
    if (colon) {
      *colon = '\0';
      NH_CALL(nh_solver_elpa_kernel_parse(colon + 1, &o->elpa_kernel));
    }
    NH_CALL(nh_solver_parse(t, &o->kind));
    o->kgroups = 1;
    o->want_mulliken = v ? atoi(v) != 0 : 1;
    o->block = blk ? atoi(blk) : 0;
  }
  NH_CHECK(c->n > 0, NH_ERR_INPUT, "NH_BENCH_SOLVERS is empty");
  return NH_OK;
}

/* One supercell: tile, then each solver once. */
static nh_err bench_size(const nh_ctx *ctx, const prim *p, const int m[3],
                         double fraction, const bench_cfg *cfg) {
  const double k[1][3] = {{0.1, 0.2, 0.3}};
  int norb_of_z[NH_MAX_Z + 1];
  double range, t0 = nh_wtime();
  nh_structure *sc = NULL;
  nh_domain *dom = NULL;
  nh_mat *H = NULL, *S = NULL;
  nh_bands *b[8] = {NULL};
  nh_basis_norb_table(p->b, norb_of_z);
  NH_CALL(nh_supercell_structure(p->s, m, &sc));
  NH_CALL(nh_supercell_pair_range(p->H, p->s, &range));
  NH_CALL(nh_domain_create(ctx, sc, NULL, range, &dom));
  NH_CALL(nh_supercell_tile(p->H, p->s, sc, m, dom, norb_of_z, "H", &H));
  NH_CALL(nh_supercell_tile(p->S, p->s, sc, m, dom, norb_of_z, "S", &S));
  double t_tile = max_over_ranks(ctx, nh_wtime() - t0);
  int norb = 0;
  for (int a = 0; a < sc->natoms; a++)
    norb += norb_of_z[sc->z[a]];
  for (int s = 0; s < cfg->n; s++) {
    nh_solver_opts o = cfg->o[s];
    int kernel = 0;
    o.nbands = (int)ceil(fraction * norb);
    if (o.kind == NH_SOLVER_ELPA2)
      NH_CALL(nh_solver_elpa_kernel_in_use(&o, &kernel));
    nh_timer_reset();
    MPI_Barrier(ctx->comm);
    t0 = nh_wtime();
    double c0 = cpu_time();
    NH_CALL(nh_solve_kpoints(H, S, &o, 1, k, &b[s]));
    double t_all = max_over_ranks(ctx, nh_wtime() - t0);
    double t_cpu = max_over_ranks(ctx, cpu_time() - c0);
    double t_bloch = max_over_ranks(ctx, nh_timer_get("solve: Bloch sums"));
    double t_eig =
        max_over_ranks(ctx, nh_timer_get("solve: dense eigen-solver"));
    double mem = max_over_ranks(ctx, (double)nh_mem_peak());
    double diff = 0;
    for (int q = 0; q < b[s]->nb; q++)
      diff = fmax(diff, fabs(b[s]->e[q] - b[0]->e[q]) * NH_HARTREE_EV);
    if (ctx->rank == 0)
      printf("RESULT cells=%dx%dx%d atoms=%d norb=%d nbands=%d ranks=%d "
             "solver=%s kernel=%s vectors=%d block=%d t_tile=%.2f "
             "t_kpoint=%.2f t_cpu=%.2f t_bloch=%.3f t_eig=%.2f "
             "peak_mib=%.0f ediff_ev=%.1e\n",
             m[0], m[1], m[2], sc->natoms, norb, o.nbands, ctx->size,
             nh_solver_name(o.kind),
             kernel ? nh_solver_elpa_kernel_name(kernel) : "-",
             o.want_mulliken, o.block, t_tile, t_all, t_cpu, t_bloch, t_eig,
             mem / (1 << 20), diff);
    fflush(stdout);
  }
  for (int s = 0; s < cfg->n; s++)
    nh_bands_destroy(&b[s]);
  nh_mat_destroy(&H);
  nh_mat_destroy(&S);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&sc);
  return NH_OK;
}

int main(int argc, char **argv) {
  nh_ctx ctx;
  prim p;
  nh_err err;
  MPI_Init(&argc, &argv);
  nh_ctx_init(MPI_COMM_WORLD, &ctx);
  ctx.verbosity = 0;
  if (argc < 4) {
    if (ctx.rank == 0)
      fprintf(stderr, "usage: bench_dense SI8.out FRACTION M1xM2xM3 ...\n");
    MPI_Finalize();
    return 2;
  }
  bench_cfg cfg;
  memset(&p, 0, sizeof p);
  err = bench_config(&cfg);
  if (!err)
    err = prim_load(&ctx, argv[1], &p);
  for (int a = 3; !err && a < argc; a++) {
    int m[3];
    if (sscanf(argv[a], "%dx%dx%d", &m[0], &m[1], &m[2]) != 3) {
      err = nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                         "bad supercell \"%s\" (expected e.g. 2x2x2)", argv[a]);
      break;
    }
    err = bench_size(&ctx, &p, m, atof(argv[2]), &cfg);
  }
  if (err)
    nh_error_print(err, ctx.rank);
  prim_free(&p);
  if (nh_solve_finalize())
    err = NH_ERR_LIB;
  MPI_Finalize();
  return err ? 1 : 0;
}
