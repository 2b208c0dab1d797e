/* Sparse eigen-solver benchmark: the NEV eigenpairs nearest the Dirac point
 * of an M x M x 1 graphene supercell at Gamma with SLEPc (shift-and-invert,
 * MUMPS), from CP2K's graphene Hamiltonian tiled exactly.
 *
 *   bench_sparse GRAPHENE.out M [NEV] [DROP_TOL] [ORDERING] [OOC_DIR]
 *
 * GRAPHENE.out is the fixture tests/data/cp2k/graphene with its CSR files
 * unpacked beside it (benchmarks/run-sparse.sh does that). The supercell
 * has 2 M^2 atoms and 26 M^2 orbitals; NEV defaults to 20, DROP_TOL
 * (Hartree, default 0) to no dropping, ORDERING (default "auto") is the
 * MUMPS ordering (nh_ordering_parse), and an OOC_DIR keeps the factors
 * out of core in that directory. The target is the Dirac point of the
 * primitive cell (CP2K's .bs: the middle of bands 4 and 5 at K).
 *
 * Accuracy is measured exactly: the supercell's eigenvalues at Gamma are
 * the primitive's at the M^2 folded k-points (i/M, j/M, 0), solved here
 * with LAPACK zhegv; the NEV nearest the target are compared with SLEPc's.
 * M is best not a multiple of 3, so that K (the Dirac point, where the
 * target lies) does not fold onto Gamma.
 *
 * Rank 0 prints one "RESULT key=value ..." line (benchmarks/run-sparse.sh
 * turns those into the table of benchmarks/README.md). Peak memory is
 * VmHWM, the maximum over ranks, after each phase. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../src/solve/sparse.h"
#include "nextham/cp2k.h"
#include "nextham/supercell.h"

void zhegv_(const int *itype, const char *jobz, const char *uplo, const int *n,
            double complex *a, const int *lda, double complex *b,
            const int *ldb, double *w, double complex *work, const int *lwork,
            double *rwork, int *info, size_t ljobz, size_t luplo);

typedef struct prim {
  nh_cp2k_run *run;
  nh_structure *s;
  nh_basis *b;
  nh_domain *dom;
  nh_mat *S, *H;
  int norb_of_z[NH_MAX_Z + 1];
  int first[3]; /* first orbital of atoms 0, 1 and the total */
} prim;

static nh_err prim_load(const nh_ctx *ctx, const char *out, prim *p) {
  double range;
  NH_CALL(nh_cp2k_read_run(ctx, out, &p->run));
  NH_CHECK(p->run->natoms == 2, NH_ERR_INPUT,
           "%s: %d atoms, expected graphene's 2", out, p->run->natoms);
  NH_CALL(nh_cp2k_structure(ctx, p->run, &p->s));
  NH_CALL(nh_basis_create(&p->b));
  NH_CALL(nh_cp2k_load_basis(p->run, p->b));
  NH_CALL(nh_cp2k_pair_range(p->run, p->b, &range));
  NH_CALL(nh_domain_create(ctx, p->s, NULL, range, &p->dom));
  NH_CALL(nh_cp2k_import(p->run, p->dom, p->b, &p->S, &p->H));
  nh_basis_norb_table(p->b, p->norb_of_z);
  p->first[0] = 0;
  for (int a = 0; a < 2; a++)
    p->first[a + 1] = p->first[a] + p->run->kinds[p->run->kind[a]].norb;
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

/* Dense H(k), S(k) of the primitive (column-major), on every rank. */
static nh_err prim_dense(const prim *p, const double k[3], double complex *h,
                         double complex *s) {
  int n = p->first[2];
  memset(h, 0, sizeof *h * n * n);
  memset(s, 0, sizeof *s * n * n);
  for (int m = 0; m < 2; m++) {
    const nh_mat *M = m ? p->S : p->H;
    double complex *d = m ? s : h;
    for (int64_t b = 0; b < nh_mat_nblocks(M); b++) {
      nh_block_key key;
      double *v;
      nh_mat_block(M, b, &key, &v);
      double ph =
          2 * M_PI * (k[0] * key.n[0] + k[1] * key.n[1] + k[2] * key.n[2]);
      double complex f = cexp(I * ph);
      int r0 = p->first[key.i], c0 = p->first[key.j];
      int nr = p->first[key.i + 1] - r0, nc = p->first[key.j + 1] - c0;
      for (int r = 0; r < nr; r++)
        for (int c = 0; c < nc; c++)
          d[(size_t)(c0 + c) * n + r0 + r] += f * v[r * nc + c];
    }
  }
  MPI_Comm comm = nh_domain_ctx(p->dom)->comm;
  NH_MPI(MPI_Allreduce(MPI_IN_PLACE, h, 2 * n * n, MPI_DOUBLE, MPI_SUM, comm));
  NH_MPI(MPI_Allreduce(MPI_IN_PLACE, s, 2 * n * n, MPI_DOUBLE, MPI_SUM, comm));
  return NH_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The nev eigenvalues nearest target of the supercell at Gamma, from the
 * primitive at the folded k-points: ref[nev], ascending (Hartree). */
static nh_err folded_reference(const prim *p, int M, double target, int nev,
                               double *ref) {
  int n = p->first[2], one = 1, lwork = 4 * n, info = 0;
  size_t nall = (size_t)M * M * n;
  double complex *h = NULL, *s = NULL, *work = NULL;
  double *e = NULL, *rwork = NULL;
  NH_CALL(nh_malloc(sizeof *h * n * n, &h));
  NH_CALL(nh_malloc(sizeof *s * n * n, &s));
  NH_CALL(nh_malloc(sizeof *work * lwork, &work));
  NH_CALL(nh_malloc(sizeof *rwork * 3 * n, &rwork));
  NH_CALL(nh_malloc(sizeof *e * nall, &e));
  for (int i = 0; i < M; i++)
    for (int j = 0; j < M; j++) {
      double k[3] = {(double)i / M, (double)j / M, 0};
      NH_CALL(prim_dense(p, k, h, s));
      zhegv_(&one, "N", "U", &n, h, &n, s, &n, e + (size_t)(i * M + j) * n,
             work, &lwork, rwork, &info, 1, 1);
      NH_CHECK(info == 0, NH_ERR_NUMERIC, "zhegv failed (info %d)", info);
    }
  qsort(e, nall, sizeof *e, cmp_double);
  size_t lo = 0; /* slide the window of nev while it gets nearer */
  for (size_t hi = nev; hi < nall; hi++, lo++)
    if (fabs(e[hi] - target) >= fabs(e[lo] - target))
      break;
  memcpy(ref, e + lo, sizeof *ref * nev);
  nh_free(&h);
  nh_free(&s);
  nh_free(&work);
  nh_free(&rwork);
  nh_free(&e);
  return NH_OK;
}

/* Dirac point from CP2K's .bs beside the .out: max of band 4 and min of
 * band 5 over its k-points, averaged (Hartree). */
static nh_err dirac_point(const nh_cp2k_run *run, double *target) {
  char path[1400], line[512];
  snprintf(path, sizeof path, "%s/%s.bs", run->dir, run->project);
  FILE *f = fopen(path, "r");
  NH_CHECK(f, NH_ERR_FILE, "cannot open %s", path);
  double vbm = -1e9, cbm = 1e9, e, occ;
  int band;
  while (fgets(line, sizeof line, f))
    if (line[0] != '#' && sscanf(line, "%d %lf %lf", &band, &e, &occ) == 3) {
      if (band == 4)
        vbm = fmax(vbm, e);
      if (band == 5)
        cbm = fmin(cbm, e);
    }
  fclose(f);
  NH_CHECK(vbm > -1e9 && cbm < 1e9, NH_ERR_FILE, "%s: no bands 4 and 5", path);
  *target = 0.5 * (vbm + cbm) / NH_HARTREE_EV;
  return NH_OK;
}

/* CPU seconds of this process (user + system), maximum over ranks: on a
 * shared machine, wall time also counts the waits for a core. */
static double cpu_max(MPI_Comm comm) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double mine = ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec +
                ru.ru_stime.tv_sec + 1e-6 * ru.ru_stime.tv_usec,
         max = 0;
  MPI_Allreduce(&mine, &max, 1, MPI_DOUBLE, MPI_MAX, comm);
  return max;
}

static double peak_mib(MPI_Comm comm) {
  double mine = (double)nh_mem_peak() / 1048576, max = 0;
  MPI_Allreduce(&mine, &max, 1, MPI_DOUBLE, MPI_MAX, comm);
  return max;
}

static nh_err run(const nh_ctx *ctx, const char *out, int M, int nev,
                  double drop_tol, const char *ordering, const char *ooc_dir) {
  prim p = {0};
  nh_structure *sc = NULL;
  nh_domain *scdom = NULL;
  nh_mat *H = NULL, *S = NULL;
  nh_sparse *sp = NULL;
  double target = 0, range, *e = NULL, *ref = NULL;
  const int m[3] = {M, M, 1};
  NH_CALL(prim_load(ctx, out, &p));
  NH_CALL(dirac_point(p.run, &target));
  NH_CALL(nh_malloc(sizeof *e * nev, &e));
  NH_CALL(nh_malloc(sizeof *ref * nev, &ref));
  double t0 = nh_wtime();
  NH_CALL(folded_reference(&p, M, target, nev, ref));
  double t_ref = nh_wtime() - t0, mem_base = peak_mib(ctx->comm);

  t0 = nh_wtime();
  NH_CALL(nh_supercell_structure(p.s, m, &sc));
  NH_CALL(nh_supercell_pair_range(p.H, p.s, &range));
  NH_CALL(nh_domain_create(ctx, sc, NULL, range, &scdom));
  NH_CALL(nh_supercell_tile(p.H, p.s, sc, m, scdom, p.norb_of_z, "H", &H));
  NH_CALL(nh_supercell_tile(p.S, p.s, sc, m, scdom, p.norb_of_z, "S", &S));
  double t_tile = nh_wtime() - t0, mem_tile = peak_mib(ctx->comm);
  int64_t nblocks, nvalues;
  NH_CALL(nh_mat_global_size(H, &nblocks, &nvalues));

  nh_solver_opts o;
  memset(&o, 0, sizeof o);
  o.kind = NH_SOLVER_SLEPC;
  o.nbands = nev;
  o.target = target;
  o.drop_tol = drop_tol;
  NH_CALL(nh_ordering_parse(ordering, &o.ordering));
  o.out_of_core = ooc_dir != NULL;
  snprintf(o.ooc_dir, sizeof o.ooc_dir, "%s", ooc_dir ? ooc_dir : "");
  const double gamma[3] = {0, 0, 0};
  nh_timer_reset();
  double c0 = cpu_max(ctx->comm);
  t0 = nh_wtime();
  NH_CALL(nh_sparse_create(H, S, &o, &sp));
  double t_setup = nh_wtime() - t0;
  t0 = nh_wtime();
  NH_CALL(nh_sparse_set_k(sp, gamma));
  double mem_bloch = peak_mib(ctx->comm);
  int64_t nnz;
  NH_CALL(nh_sparse_nnz(sp, &nnz));
  /* one k-point: the real-space matrices are not needed any more */
  NH_CALL(nh_sparse_release(sp));
  nh_mat_destroy(&H);
  nh_mat_destroy(&S);
  NH_CALL(nh_sparse_solve(sp, e, 0, NULL, NULL));
  double t_solve = nh_wtime() - t0, mem_solve = peak_mib(ctx->comm);
  double cpu_solve = cpu_max(ctx->comm) - c0; /* setup + Bloch + SLEPc */
  double t_bloch = nh_timer_get("bloch (sparse)"),
         t_slepc = nh_timer_get("slepc");
  nh_sparse_factor_info fi;
  NH_CALL(nh_sparse_get_factor_info(sp, &fi));

  double err = 0;
  for (int b = 0; b < nev; b++)
    err = fmax(err, fabs(e[b] - ref[b]));
  if (ctx->rank == 0) {
    printf("eigenvalues (eV) nearest %.6f eV, SLEPc and folded primitive:\n",
           target * NH_HARTREE_EV);
    for (int b = 0; b < nev; b++)
      printf("  %3d %14.8f %14.8f\n", b, e[b] * NH_HARTREE_EV,
             ref[b] * NH_HARTREE_EV);
    printf("RESULT natoms=%d norb=%d ranks=%d M=%d nev=%d drop_tol=%.1e "
           "blocks=%lld nnz=%.0f t_ref=%.2f t_tile=%.2f t_setup=%.2f "
           "t_bloch=%.2f t_slepc=%.2f t_solve=%.2f cpu_solve=%.2f "
           "mem_base_mib=%.0f "
           "mem_tile_mib=%.0f mem_bloch_mib=%.0f mem_peak_mib=%.0f err_ev=%.2e "
           "ordering=%s used=%s ooc=%d factor_entries=%.4g factor_flops=%.4g "
           "mumps_mem_max_mib=%.0f mumps_mem_sum_mib=%.0f\n",
           2 * M * M, 26 * M * M, ctx->size, M, nev, drop_tol,
           (long long)nblocks, (double)nnz, t_ref, t_tile, t_setup, t_bloch,
           t_slepc, t_solve, cpu_solve, mem_base, mem_tile, mem_bloch,
           mem_solve, err * NH_HARTREE_EV, ordering,
           nh_ordering_name(fi.ordering), o.out_of_core, fi.entries, fi.flops,
           fi.mem_max_mib, fi.mem_sum_mib);
    fflush(stdout);
  }
  NH_CALL(nh_sparse_destroy(&sp));
  nh_domain_destroy(&scdom);
  nh_structure_destroy(&sc);
  prim_free(&p);
  nh_free(&e);
  nh_free(&ref);
  return NH_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  nh_ctx ctx;
  nh_ctx_init(MPI_COMM_WORLD, &ctx);
  nh_err err = NH_OK;
  if (argc < 3) {
    if (ctx.rank == 0)
      fprintf(stderr,
              "usage: %s GRAPHENE.out M [NEV] [DROP_TOL] [ORDERING] "
              "[OOC_DIR]\n",
              argv[0]);
    err = NH_ERR_ARG;
  } else {
    int M = atoi(argv[2]), nev = argc > 3 ? atoi(argv[3]) : 20;
    double drop = argc > 4 ? atof(argv[4]) : 0;
    const char *ordering = argc > 5 ? argv[5] : "auto",
               *ooc_dir = argc > 6 ? argv[6] : NULL;
    err = run(&ctx, argv[1], M, nev, drop, ordering, ooc_dir);
    if (err)
      nh_error_print(err, ctx.rank);
  }
  nh_sparse_finalize();
  MPI_Finalize();
  return err ? 1 : 0;
}
