/* Backbone benchmark: domain decomposition, neighbour list and distributed
 * block-sparse matrix assembly for Si diamond supercells.
 *
 *   bench_backbone NCELL RCUT_ANG [RMAT_ANG] [NORB] [REPEAT]
 *
 * builds NCELL^3 conventional cells (8 NCELL^3 atoms, a = 5.431 Å), the
 * domain with halo RCUT, the neighbour list within RCUT (self pairs
 * included), and a matrix with one NORB x NORB block (default 13, Si
 * DZVP-MOLOPT-SR-GTH) for every pair within RMAT (default RCUT; 0: no
 * matrix). Blocks are filled with a cheap function that is exactly
 * transpose-symmetric, then assembled; nh_mat_symmetry_error (which
 * touches every block and exchanges the boundary blocks) must return 0 and
 * the Frobenius norm is printed. The whole sequence runs REPEAT times
 * (default 1) and the shortest time of each phase is reported, which
 * filters out other jobs on a shared machine. Rank 0 prints one "RESULT
 * key=value ..." line; benchmarks/run-backbone.sh turns those into the table of
 * benchmarks/README.md. Peak memory is VmHWM, the maximum over ranks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nextham/domain.h"
#include "nextham/mat.h"
#include "nextham/neighbor.h"
#include "nhtest_diamond.h"

#define A_SI_ANG 5.431

/* Times and sizes, reduced over ranks. */
typedef struct result {
  double t_domain, t_neigh, t_fill, t_assemble, t_symm, t_norm;
  /* CPU seconds of this process (max over ranks), user and system: the
   * system part is mostly the kernel zeroing fresh pages on first touch */
  double u_geom, s_geom, u_mat, s_mat;
  double mem_base, mem_neigh, mem_mat; /* VmHWM after each phase, bytes */
  double mem_sum;                      /* final VmHWM summed over ranks  */
  int64_t npairs, nblocks, nvalues, nblocks_max;
  double symerr, fro;
} result;

static double max_over(const nh_ctx *ctx, double x) {
  double y;
  MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
  return y;
}

/* CPU time is reported beside wall time because the machine is shared:
 * time during which another job held the core is not counted. */
static void cpu_now(double *user, double *sys) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  *user = (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec;
  *sys = (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

static double phase_end(const nh_ctx *ctx, double t0) {
  MPI_Barrier(ctx->comm);
  return nh_wtime() - t0;
}

/* One block per pair within rmat: v(r, c) = (1 + r + c) w(i, j, n) with a
 * weight symmetric under (i, j, n) -> (j, i, -n) in exact arithmetic, so
 * that the matrix is exactly transpose-symmetric. */
static nh_err fill(nh_mat *m, const nh_neighbors *nl, double rmat, int norb) {
  int64_t nb = 0;
  for (int64_t p = 0; p < nl->npairs; p++)
    nb += nl->pairs[p].r < rmat;
  NH_CALL(nh_mat_reserve(m, nb, nb * norb * norb));
  double *b;
  NH_CALL(nh_malloc((size_t)norb * norb * sizeof *b, &b));
  for (int64_t p = 0; p < nl->npairs; p++) {
    const nh_pair *q = &nl->pairs[p];
    if (q->r >= rmat)
      continue;
    double w = 1.0 / (1.0 + (double)((q->i + q->j) % 7) + abs(q->n[0]) +
                      abs(q->n[1]) + abs(q->n[2]));
    for (int r = 0; r < norb; r++)
      for (int c = 0; c < norb; c++)
        b[r * norb + c] = (1 + r + c) * w;
    nh_err err = nh_mat_set_block(m, q->i, q->j, q->n, b);
    if (err) {
      nh_free(&b);
      NH_CALL(err);
    }
  }
  nh_free(&b);
  return NH_OK;
}

static nh_err run(const nh_ctx *ctx, int ncell, double rcut, double rmat,
                  int norb, result *res) {
  nh_structure *s = NULL;
  nh_domain *dom = NULL;
  nh_neighbors *nl = NULL;
  nh_mat *m = NULL;
  memset(res, 0, sizeof *res);
  NH_CALL(nh_test_diamond(ncell, A_SI_ANG / NH_BOHR_ANGSTROM, &s));
  res->mem_base = max_over(ctx, (double)nh_mem_peak());

  MPI_Barrier(ctx->comm);
  double u0, s0, u1, s1;
  cpu_now(&u0, &s0);
  double t0 = nh_wtime();
  NH_CALL(nh_domain_create(ctx, s, NULL, rcut, &dom));
  res->t_domain = phase_end(ctx, t0);
  NH_CALL(nh_structure_destroy(&s)); /* the domain keeps what it needs */

  t0 = nh_wtime();
  NH_CALL(nh_domain_neighbors(dom, rcut, 1, &nl));
  res->t_neigh = phase_end(ctx, t0);
  cpu_now(&u1, &s1);
  res->u_geom = max_over(ctx, u1 - u0);
  res->s_geom = max_over(ctx, s1 - s0);
  MPI_Allreduce(&nl->npairs, &res->npairs, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
  res->mem_neigh = max_over(ctx, (double)nh_mem_peak());

  if (rmat > 0) {
    int norb_of_z[119] = {0};
    norb_of_z[14] = norb;
    NH_CALL(nh_mat_create(dom, norb_of_z, "bench", &m));
    cpu_now(&u0, &s0);
    t0 = nh_wtime();
    NH_CALL(fill(m, nl, rmat, norb));
    res->t_fill = phase_end(ctx, t0);
    t0 = nh_wtime();
    NH_CALL(nh_mat_assemble(m));
    res->t_assemble = phase_end(ctx, t0);
    t0 = nh_wtime();
    NH_CALL(nh_mat_symmetry_error(m, &res->symerr));
    res->t_symm = phase_end(ctx, t0);
    t0 = nh_wtime();
    NH_CALL(nh_mat_norm_fro(m, &res->fro));
    res->t_norm = phase_end(ctx, t0);
    cpu_now(&u1, &s1);
    res->u_mat = max_over(ctx, u1 - u0);
    res->s_mat = max_over(ctx, s1 - s0);
    NH_CALL(nh_mat_global_size(m, &res->nblocks, &res->nvalues));
    int64_t nb = nh_mat_nblocks(m);
    MPI_Allreduce(&nb, &res->nblocks_max, 1, MPI_INT64_T, MPI_MAX, ctx->comm);
    res->mem_mat = max_over(ctx, (double)nh_mem_peak());
  }
  double mine = (double)nh_mem_peak();
  MPI_Allreduce(&mine, &res->mem_sum, 1, MPI_DOUBLE, MPI_SUM, ctx->comm);
  nh_mat_destroy(&m);
  nh_neighbors_destroy(&nl);
  nh_domain_destroy(&dom);
  return NH_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  nh_ctx ctx;
  nh_err err = nh_ctx_init(MPI_COMM_WORLD, &ctx);
  if (argc < 3) {
    if (ctx.rank == 0)
      fprintf(stderr, "usage: %s NCELL RCUT_ANG [RMAT_ANG] [NORB] [REPEAT]\n",
              argv[0]);
    MPI_Finalize();
    return 2;
  }
  int ncell = atoi(argv[1]);
  double rcut = atof(argv[2]) / NH_BOHR_ANGSTROM;
  double rmat = argc > 3 ? atof(argv[3]) / NH_BOHR_ANGSTROM : rcut;
  int norb = argc > 4 ? atoi(argv[4]) : 13;
  int repeat = argc > 5 ? atoi(argv[5]) : 1;
  result r, best;
  for (int k = 0; k < repeat && !err; k++) {
    err = run(&ctx, ncell, rcut, rmat, norb, &r);
    if (k == 0)
      best = r;
    best.t_domain = fmin(best.t_domain, r.t_domain);
    best.t_neigh = fmin(best.t_neigh, r.t_neigh);
    best.t_fill = fmin(best.t_fill, r.t_fill);
    best.t_assemble = fmin(best.t_assemble, r.t_assemble);
    best.t_symm = fmin(best.t_symm, r.t_symm);
    best.t_norm = fmin(best.t_norm, r.t_norm);
    best.u_geom = fmin(best.u_geom, r.u_geom);
    best.s_geom = fmin(best.s_geom, r.s_geom);
    best.u_mat = fmin(best.u_mat, r.u_mat);
    best.s_mat = fmin(best.s_mat, r.s_mat);
  }
  r = best;
  if (err) {
    nh_error_print(err, ctx.rank);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  const double mib = 1024.0 * 1024.0;
  double per_block =
      r.nblocks_max ? (r.mem_mat - r.mem_neigh) / r.nblocks_max : 0;
  if (ctx.rank == 0)
    printf("RESULT natoms=%d ranks=%d rcut_ang=%.3f rmat_ang=%.3f norb=%d "
           "pairs=%lld blocks=%lld values=%lld t_domain=%.3f t_neigh=%.3f "
           "t_fill=%.3f t_assemble=%.3f t_symm=%.3f t_norm=%.3f "
           "user_geom=%.3f sys_geom=%.3f user_mat=%.3f sys_mat=%.3f "
           "repeat=%d mem_base_mib=%.1f mem_neigh_mib=%.1f mem_mat_mib=%.1f "
           "mem_sum_mib=%.1f "
           "bytes_per_block=%.0f symerr=%.3g fro=%.12e\n",
           8 * ncell * ncell * ncell, ctx.size, rcut * NH_BOHR_ANGSTROM,
           rmat * NH_BOHR_ANGSTROM, norb, (long long)r.npairs,
           (long long)r.nblocks, (long long)r.nvalues, r.t_domain, r.t_neigh,
           r.t_fill, r.t_assemble, r.t_symm, r.t_norm, r.u_geom, r.s_geom,
           r.u_mat, r.s_mat, repeat, r.mem_base / mib, r.mem_neigh / mib,
           r.mem_mat / mib, r.mem_sum / mib, per_block, r.symerr, r.fro);
  MPI_Finalize();
  return 0;
}
