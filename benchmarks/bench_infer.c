/* Network inference benchmark: ΔH of an M x M x M supercell of bulk Si
 * (2 M³ atoms) with an untrained default-size model, on the ranks of the
 * job (docs/model.md, benchmarks/README.md "Network inference").
 *
 *   bench_infer SI2.out M [LAYERS] [CHANNELS] [LMAX]
 *
 * SI2.out is the fixture tests/data/cp2k/si2 with its CSR files unpacked
 * beside it (benchmarks/run-infer.sh does that). CP2K's H stands in for H0
 * (the network's cost does not depend on the values). Blocks beyond the
 * model cutoff are dropped from the primitive matrices before tiling, so
 * that the supercell holds only what the network reads.
 *
 * Measured: the peak dgemm rate of this machine (a 1500³ dgemm on every
 * rank at once), then nh_model_predict: time for features, network and
 * assembly, atoms/s and edges/s, user CPU time (with and without the time
 * spent spinning in MPI waits, which a loaded machine inflates), and the
 * time and estimated flops of the SO(2) convolution (the dominant kernel).
 * Memory, per rank (max over ranks), kept apart:
 *   mem_setup   peak resident memory while the tiled H0 and S were built
 *               (the program's input, not the network's working memory);
 *   mem_inputs  resident memory when inference starts (H0, S, domain);
 *   mem_peak    peak resident memory during nh_model_predict (the peak
 *               counter is reset before it: /proc/self/clear_refs);
 *   mem_dh      resident growth over the call (the ΔH matrix it returns;
 *               freed heap is trimmed before RSS is read);
 *   net_kb_edge (mem_peak - mem_inputs - mem_dh) per local edge: what the
 *               network needs beyond the H0/S/ΔH matrices;
 *   alloc_kb_edge  what it allocates (nh_infer_stats.bytes_network) per
 *               local edge.
 * Rank 0 prints one "RESULT key=value ..." line. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nextham/cp2k.h"
#include "nextham/model.h"
#include "nextham/supercell.h"

extern void dgemm_(const char *ta, const char *tb, const int *m, const int *n,
                   const int *k, const double *alpha, const double *a,
                   const int *lda, const double *b, const int *ldb,
                   const double *beta, double *c, const int *ldc);

/* Resident memory of this process in MiB: VmRSS or VmHWM. */
static double status_mib(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, strlen(key))) kb = atof(line + strlen(key));
  if (f) fclose(f);
  return kb / 1024.0;
}

/* Resets VmHWM to the current VmRSS (Linux >= 4.0). */
static void reset_peak(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (f) fputs("5", f), fclose(f);
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec;
}

/* GFLOP/s of one n³ dgemm on this rank in user CPU time (all ranks run it
 * together; the machine is shared, so wall time would measure the load). */
static double dgemm_peak(const nh_ctx *ctx, int n) {
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
         *c = calloc((size_t)n * n, sizeof(double));
  for (long i = 0; i < (long)n * n; i++) a[i] = 1e-3 * (i % 7), b[i] = 1e-3 * (i % 5);
  const double one = 1, zero = 0;
  MPI_Barrier(ctx->comm);
  double best = 0;
  for (int rep = 0; rep < 2; rep++) {
    const double t0 = cpu_seconds();
    dgemm_("N", "N", &n, &n, &n, &one, a, &n, b, &n, &zero, c, &n);
    best = fmax(best, 2.0 * n * n * n / (cpu_seconds() - t0) * 1e-9);
  }
  free(a), free(b), free(c);
  return best;
}

/* GFLOP/s (user CPU time) of the model's SO(2) convolution alone, over E
 * random edges. */
static nh_err so2_rate(const nh_model *m, int E, double *gflops) {
  const nh_nn_so2 *s = &m->so2;
  double *in, *out, *rad, *r, *work;
  NH_CALL(nh_malloc(sizeof(double) * E * s->in.dim, &in));
  NH_CALL(nh_malloc(sizeof(double) * E * s->out.dim, &out));
  NH_CALL(nh_malloc(sizeof(double) * E * s->nrad, &rad));
  NH_CALL(nh_malloc(sizeof(double) * E * 3, &r));
  NH_CALL(nh_malloc(sizeof(double) * nh_nn_so2_work(s, E), &work));
  for (long i = 0; i < (long)E * s->in.dim; i++) in[i] = sin(0.37 * i);
  for (long i = 0; i < (long)E * s->nrad; i++) rad[i] = cos(0.11 * i);
  for (long i = 0; i < 3L * E; i++) r[i] = sin(1.3 * i) + 0.01;
  const double *p = m->params + m->lay.layer[0][NH_ML_SO2];
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    const double t0 = cpu_seconds();
    NH_CALL(nh_nn_so2_forward(out, work, in, rad, r, p, s, E));
    best = fmax(best, nh_nn_so2_flops(&m->so2, &m->ir) * E /
                          (cpu_seconds() - t0) * 1e-9);
  }
  nh_free(&in), nh_free(&out), nh_free(&rad), nh_free(&r), nh_free(&work);
  *gflops = best;
  return NH_OK;
}

/* The blocks of M within rc (bohr) of the primitive s, on M's domain. */
static nh_err truncate(const nh_mat *M, const nh_structure *s, double rc,
                       const int *norb, const char *name, nh_mat **out) {
  double (*tau)[3] = malloc(sizeof(double[3]) * s->natoms);
  nh_structure_wrap_cp2k(s, tau);
  NH_CALL(nh_mat_create(nh_mat_domain(M), norb, name, out));
  for (int64_t k = 0; k < nh_mat_nblocks(M); k++) {
    nh_block_key key;
    double *v, r2 = 0;
    nh_mat_block(M, k, &key, &v);
    for (int c = 0; c < 3; c++) {
      double d = tau[key.j][c] - tau[key.i][c];
      for (int q = 0; q < 3; q++) d += key.n[q] * s->lattice[q][c];
      r2 += d * d;
    }
    if (r2 < rc * rc) NH_CALL(nh_mat_set_block(*out, key.i, key.j, key.n, v));
  }
  free(tau);
  return NH_OK;
}

typedef struct bench {
  nh_cp2k_run *run;
  nh_structure *s, *sc;
  nh_basis *b;
  nh_domain *dom, *scdom;
  nh_mat *S, *H, *Sc, *Hc, *S_sc, *H_sc, *dH;
  nh_model *m;
  int norb[NH_MAX_Z + 1];
} bench;

static nh_err setup(const nh_ctx *ctx, const char *out, int M, bench *B,
                    const nh_model_hparams *hp0) {
  double range;
  const int m[3] = {M, M, M};
  NH_CALL(nh_cp2k_read_run(ctx, out, &B->run));
  NH_CALL(nh_cp2k_structure(ctx, B->run, &B->s));
  NH_CALL(nh_basis_create(&B->b));
  NH_CALL(nh_cp2k_load_basis(B->run, B->b));
  NH_CALL(nh_cp2k_pair_range(B->run, B->b, &range));
  NH_CALL(nh_domain_create(ctx, B->s, NULL, range, &B->dom));
  NH_CALL(nh_cp2k_import(B->run, B->dom, B->b, &B->S, &B->H));
  nh_basis_norb_table(B->b, B->norb);
  nh_model_hparams hp = *hp0;
  NH_CALL(nh_model_hparams_from_basis(&hp, B->b));
  NH_CALL(nh_model_create(&hp, &B->m));
  const double rc = hp.cutoff + 1e-6;
  NH_CALL(truncate(B->H, B->s, rc, B->norb, "H0", &B->Hc));
  NH_CALL(truncate(B->S, B->s, rc, B->norb, "S", &B->Sc));
  NH_CALL(nh_supercell_structure(B->s, m, &B->sc));
  NH_CALL(nh_domain_create(ctx, B->sc, NULL, rc, &B->scdom));
  NH_CALL(nh_supercell_tile(B->Hc, B->s, B->sc, m, B->scdom, B->norb, "H0",
                            &B->H_sc));
  NH_CALL(nh_supercell_tile(B->Sc, B->s, B->sc, m, B->scdom, B->norb, "S",
                            &B->S_sc));
  /* the primitive's matrices are no longer needed */
  nh_mat_destroy(&B->H), nh_mat_destroy(&B->S);
  nh_mat_destroy(&B->Hc), nh_mat_destroy(&B->Sc);
  return NH_OK;
}

static void teardown(bench *B) {
  nh_mat_destroy(&B->dH), nh_mat_destroy(&B->H_sc), nh_mat_destroy(&B->S_sc);
  nh_mat_destroy(&B->Hc), nh_mat_destroy(&B->Sc);
  nh_mat_destroy(&B->H), nh_mat_destroy(&B->S);
  nh_domain_destroy(&B->scdom), nh_domain_destroy(&B->dom);
  nh_model_destroy(&B->m);
  nh_basis_destroy(&B->b);
  nh_structure_destroy(&B->sc), nh_structure_destroy(&B->s);
  nh_cp2k_run_destroy(&B->run);
}

static double max_over(const nh_ctx *ctx, double x) {
  double y;
  MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
  return y;
}

static nh_err run(const nh_ctx *ctx, int argc, char **argv) {
  NH_CHECK(argc >= 3, NH_ERR_INPUT,
           "usage: bench_infer SI2.out M [LAYERS] [CHANNELS] [LMAX]");
  const int M = atoi(argv[2]);
  nh_model_hparams hp;
  nh_model_hparams_default(&hp);
  hp.layers = argc > 3 ? atoi(argv[3]) : 3;
  const int ch = argc > 4 ? atoi(argv[4]) : 8;
  hp.lmax = argc > 5 ? atoi(argv[5]) : 4;
  for (int l = 0; l <= NH_IRREPS_LMAX; l++) hp.channels[l] = ch;
  const double dgemm = dgemm_peak(ctx, 1500);
  bench B = {0};
  const double t0 = nh_wtime();
  nh_err err = setup(ctx, argv[1], M, &B, &hp);
  NH_CALL(nh_ctx_agree(ctx, err));
  const double tsetup = nh_wtime() - t0;
  const double mem_setup = max_over(ctx, status_mib("VmHWM:"));
  malloc_trim(0); /* freed heap back to the kernel: RSS = live data */
  const double rss0 = status_mib("VmRSS:");
  const double mem_inputs = max_over(ctx, rss0);
  reset_peak();
  nh_infer_stats st;
  nh_timer_reset();
  const double c0 = cpu_seconds();
  MPI_Barrier(ctx->comm);
  const double t1 = nh_wtime();
  NH_CALL(nh_model_predict(B.m, NULL, B.H_sc, B.S_sc, &B.dH, &st));
  const double tpred = max_over(ctx, nh_wtime() - t1);
  const double cpu = max_over(ctx, cpu_seconds() - c0);
  malloc_trim(0);
  const double peak = status_mib("VmHWM:"), rss1 = status_mib("VmRSS:");
  const double mem_peak = max_over(ctx, peak), mem_dh = max_over(ctx, rss1 - rss0);
  int64_t loc_edges = 0;
  for (int64_t k = 0; k < nh_mat_nblocks(B.dH); k++) {
    nh_block_key key;
    nh_mat_block(B.dH, k, &key, NULL);
    loc_edges += key.i != key.j || key.n[0] || key.n[1] || key.n[2];
  }
  const double ne = loc_edges > 0 ? (double)loc_edges : 1.0;
  const double net_kb = max_over(ctx, (peak - rss1) * 1048.576 / ne);
  const double alloc_kb = max_over(ctx, st.bytes_network / ne * 1e-3);
  /* compute only: the CPU time spinning in MPI waits taken out */
  const double cpu_comp = max_over(ctx, cpu_seconds() - c0 - st.cpu_comm);
  const double thalo = max_over(ctx, nh_timer_get("nn halo"));
  const double tso2 = max_over(ctx, nh_timer_get("nn so2"));
  const double ttg = max_over(ctx, nh_timer_get("nn tracegrad"));
  const double thead = max_over(ctx, nh_timer_get("nn heads"));
  const double tnet = max_over(ctx, st.seconds_network);
  const double tfeat = max_over(ctx, st.seconds_features);
  double flops = st.flops, fsum;
  MPI_Allreduce(&flops, &fsum, 1, MPI_DOUBLE, MPI_SUM, ctx->comm);
  double symerr, so2cpu = 0;
  NH_CALL(nh_mat_symmetry_error(B.dH, &symerr));
  NH_CALL(so2_rate(B.m, 8192, &so2cpu));
  if (ctx->rank == 0)
    printf("RESULT natoms=%lld edges=%lld ranks=%d lmax=%d channels=%d "
           "layers=%d nparams=%zu t_setup=%.2f t_predict=%.3f t_features=%.3f "
           "t_network=%.3f t_so2=%.3f t_tracegrad=%.3f t_heads=%.3f "
           "cpu_predict=%.3f cpu_compute=%.3f t_halo=%.3f atoms_per_s=%.1f "
           "edges_per_s=%.1f "
           "atoms_per_cpu_s=%.1f "
           "so2_gflops_wall=%.2f so2_gflops_cpu=%.2f peak_gflops_cpu=%.2f "
           "mem_setup_mib=%.0f mem_inputs_mib=%.0f mem_peak_mib=%.0f "
           "mem_dh_mib=%.0f net_kb_edge=%.2f alloc_kb_edge=%.2f "
           "sym_err=%.1e\n",
           (long long)st.atoms, (long long)st.edges, ctx->size, hp.lmax, ch,
           hp.layers, B.m->nparams, tsetup, tpred, tfeat, tnet, tso2, ttg,
           thead, cpu, cpu_comp, thalo, st.atoms / tpred, st.edges / tpred,
           st.atoms / (cpu_comp * ctx->size),
           fsum / ctx->size / tso2 * 1e-9, so2cpu, dgemm, mem_setup,
           mem_inputs, mem_peak, mem_dh, net_kb, alloc_kb, symerr);
  teardown(&B);
  return NH_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  nh_ctx ctx;
  nh_ctx_init(MPI_COMM_WORLD, &ctx);
  ctx.verbosity = 0;
  nh_err err = run(&ctx, argc, argv);
  if (err) nh_error_print(err, ctx.rank);
  MPI_Finalize();
  return err ? 1 : 0;
}
