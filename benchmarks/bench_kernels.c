/* Kernel micro-benchmark of the network layers (benchmarks/README.md,
 * "Kernels against peak"): GFLOP/s of the SO(2) convolution and of the
 * equivariant linear layer, forward and backward, against one large dgemm
 * in the same run. One process, no MPI; run it with OPENBLAS_NUM_THREADS=1.
 *
 *   bench_kernels [CHANNELS ...]        (default: 8 16 32)
 *   NH_BENCH_EDGES    edges per SO(2) call (default 4096, the model's chunk)
 *   NH_BENCH_ROWS     rows per linear call, in cache (default 256)
 *   NH_BENCH_BIGROWS  rows per linear call, from memory (default 32768)
 *
 * The irreps are the default model's: every (L, parity) with L <= 4 but 0o
 * (9 kinds), CHANNELS channels each. Inputs are random. Rates use CPU time
 * (user + system of the process: a shared machine inflates wall time, and
 * first-touch page faults show up as system time), best of 5 calls after
 * one warm-up call. Flops are counted as dense products (docs/nn.md,
 * "Performance"):
 *  - SO(2) forward: Σ_m 2·rows_m·K_in·K_out of per-|m| mixing plus the two
 *    rotations in and out, 2·mul·(2L+1)² per kind and rotation (the
 *    per-edge Wigner-matrix form, whatever the code does instead);
 *  - SO(2) backward: twice the mixing (dX and dW) and three rotations
 *    (recomputing the forward's, d_out in, d_in back);
 *  - linear: 2·rows·mul_out·mul_in·(2L+1) per kind forward, twice that
 *    backward (d_in and d_W).
 * The linear layer does 2·mul flops per number it reads and writes, so over
 * many rows it is bound by memory bandwidth; "roofline" is its forward flops
 * divided by the time of a plain copy loop over the same input and output
 * arrays (out[i] = 2·in[i]), the rate it would reach if it cost only its
 * memory traffic.
 * Prints a table and one "RESULT key=value ..." line per channel count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nextham/nn.h"

extern void dgemm_(const char *ta, const char *tb, const int *m, const int *n,
                   const int *k, const double *alpha, const double *a,
                   const int *lda, const double *b, const int *ldb,
                   const double *beta, double *c, const int *ldc);

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double *dalloc(size_t n, double scale) {
  double *p = malloc(sizeof(double) * (n ? n : 1));
  if (!p) {
    fprintf(stderr, "bench_kernels: out of memory\n");
    exit(1);
  }
  unsigned long long x = 0x9E3779B97F4A7C15ULL; /* xorshift64 */
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    p[i] = scale * ((double)(x >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  }
  return p;
}

/* GFLOP/s of one n³ dgemm, best of two. */
static double dgemm_rate(int n) {
  double *a = dalloc((size_t)n * n, 1e-3), *b = dalloc((size_t)n * n, 1e-3),
         *c = dalloc((size_t)n * n, 0.0);
  const double one = 1.0, zero = 0.0;
  double best = 0.0;
  for (int rep = 0; rep < 2; rep++) {
    const double t0 = cpu_seconds();
    dgemm_("N", "N", &n, &n, &n, &one, a, &n, b, &n, &zero, c, &n);
    best = fmax(best, 2.0 * n * n * (double)n / (cpu_seconds() - t0) * 1e-9);
  }
  free(a), free(b), free(c);
  return best;
}

typedef struct kernel_fn {
  void (*run)(void *ctx);
  void *ctx;
} kernel_fn;

/* Best CPU seconds of 5 calls after a warm-up. */
static double best_time(kernel_fn k) {
  k.run(k.ctx);
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = cpu_seconds();
    k.run(k.ctx);
    best = fmin(best, cpu_seconds() - t0);
  }
  return best;
}

static void check(nh_err err, const char *what) {
  if (err) {
    fprintf(stderr, "bench_kernels: %s failed (error %d)\n", what, (int)err);
    exit(1);
  }
}

typedef struct so2_bench {
  nh_nn_so2 s;
  int E;
  double *in, *out, *rad, *r, *p, *work, *d_in, *d_rad, *d_p;
} so2_bench;

static void so2_fwd(void *c_) {
  so2_bench *c = c_;
  check(nh_nn_so2_forward(c->out, c->work, c->in, c->rad, c->r, c->p, &c->s,
                          c->E),
        "so2 forward");
}
static void so2_bwd(void *c_) {
  so2_bench *c = c_;
  check(nh_nn_so2_backward(c->d_in, c->d_rad, c->d_p, c->out, c->work, c->in,
                           c->rad, c->r, c->p, &c->s, c->E),
        "so2 backward");
}

typedef struct lin_bench {
  nh_nn_irreps ir;
  int n;
  double *in, *out, *p, *d_in, *d_p;
} lin_bench;

static void lin_fwd(void *c_) {
  lin_bench *c = c_;
  nh_nn_linear_forward(c->out, c->in, c->p, &c->ir, &c->ir, c->n);
}
static void lin_bwd(void *c_) {
  lin_bench *c = c_;
  nh_nn_linear_backward(c->d_in, c->d_p, c->out, c->in, c->p, &c->ir, &c->ir,
                        c->n);
}

/* Dense flops of one rotation of every kind (per edge). */
static double rotation_flops(const nh_nn_irreps *ir) {
  double f = 0.0;
  for (int k = 0; k < ir->nkind; k++) {
    const double d = 2 * ir->L[k] + 1;
    f += 2.0 * ir->mul[k] * d * d;
  }
  return f;
}

static void copy2(double *y, const double *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    y[i] = 2.0 * x[i];
}

/* Best CPU seconds of the copy loop over n doubles. */
static double copy_time(double *y, const double *x, size_t n) {
  copy2(y, x, n);
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = cpu_seconds();
    copy2(y, x, n);
    best = fmin(best, cpu_seconds() - t0);
  }
  return best;
}

/* Linear forward and backward GFLOP/s over n rows; *roof: the copy
 * roofline of the forward. */
static void linear_rates(const nh_nn_irreps *ir, int n, double g[2],
                         double *roof) {
  lin_bench l = {.ir = *ir, .n = n};
  const size_t nx = (size_t)n * ir->dim, np = nh_nn_linear_nparams(ir, ir);
  l.in = dalloc(nx, 1.0), l.out = dalloc(nx, 0), l.d_in = dalloc(nx, 0);
  l.p = dalloc(np, 0.1), l.d_p = dalloc(np, 0);
  double lf = 0.0;
  for (int k = 0; k < ir->nkind; k++)
    lf += 2.0 * n * ir->mul[k] * ir->mul[k] * (2 * ir->L[k] + 1);
  g[0] = lf / best_time((kernel_fn){lin_fwd, &l}) * 1e-9;
  g[1] = 2 * lf / best_time((kernel_fn){lin_bwd, &l}) * 1e-9;
  *roof = lf / copy_time(l.d_in, l.in, nx) * 1e-9;
  free(l.in), free(l.out), free(l.d_in), free(l.p), free(l.d_p);
}

static void run(int C, int E, int n, int nbig, double peak) {
  const int L[] = {0, 1, 1, 2, 2, 3, 3, 4, 4},
            p[] = {1, 1, -1, 1, -1, 1, -1, 1, -1};
  int mul[9];
  for (int k = 0; k < 9; k++)
    mul[k] = C;
  nh_nn_irreps ir;
  check(nh_nn_irreps_set(&ir, 9, L, p, mul), "irreps");

  so2_bench s = {.E = E};
  check(nh_nn_so2_set(&s.s, &ir, &ir), "so2 set");
  s.in = dalloc((size_t)E * ir.dim, 1.0), s.out = dalloc((size_t)E * ir.dim, 0);
  s.rad = dalloc((size_t)E * s.s.nrad, 0.7), s.r = dalloc(3 * (size_t)E, 2.0);
  for (int e = 0; e < E; e++) /* no zero edge vector */
    s.r[3 * e + 2] += 0.01;
  s.p = dalloc(s.s.npar, 0.1), s.work = dalloc(nh_nn_so2_work(&s.s, E), 0);
  s.d_in = dalloc((size_t)E * ir.dim, 0), s.d_rad = dalloc((size_t)E * s.s.nrad, 0);
  s.d_p = dalloc(s.s.npar, 0);
  double mix = 0.0;
  for (int m = 0; m <= s.s.mmax; m++)
    mix += 2.0 * (m ? 2 : 1) * s.s.kin[m] * s.s.kout[m];
  const double rot = rotation_flops(&ir);
  const double ff = E * (mix + 2 * rot), fb = E * (2 * mix + 3 * rot);
  const double tf = best_time((kernel_fn){so2_fwd, &s});
  const double tb = best_time((kernel_fn){so2_bwd, &s});

  double gs[2], gb[2], roof, roof_small;
  linear_rates(&ir, n, gs, &roof_small);
  linear_rates(&ir, nbig, gb, &roof);
  const double g[2] = {ff / tf * 1e-9, fb / tb * 1e-9};
  printf("| %d | %d | %.2f | %.1f (%.1f×) | %.1f (%.1f×) | %.1f (%.1f×) | "
         "%.1f (%.1f×) | %.1f (%.1f×) | %.1f | %.1f |\n",
         C, ir.dim, 1e6 * tf / E, g[0], peak / g[0], g[1], peak / g[1], gs[0],
         peak / gs[0], gs[1], peak / gs[1], gb[0], peak / gb[0], roof, peak);
  printf("RESULT channels=%d dim=%d edges=%d rows=%d bigrows=%d "
         "so2_fwd_us_per_edge=%.3f so2_bwd_us_per_edge=%.3f "
         "so2_fwd_gflops=%.2f so2_bwd_gflops=%.2f lin_fwd_gflops=%.2f "
         "lin_bwd_gflops=%.2f lin_big_fwd_gflops=%.2f lin_big_bwd_gflops=%.2f "
         "lin_big_roofline_gflops=%.2f dgemm_gflops=%.2f\n",
         C, ir.dim, E, n, nbig, 1e6 * tf / E, 1e6 * tb / E, g[0], g[1], gs[0],
         gs[1], gb[0], gb[1], roof, peak);
  double *b[] = {s.in, s.out, s.rad, s.r, s.p, s.work, s.d_in, s.d_rad, s.d_p};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++)
    free(b[i]);
}

int main(int argc, char **argv) {
  const char *ev = getenv("NH_BENCH_EDGES"), *rv = getenv("NH_BENCH_ROWS"),
             *bv = getenv("NH_BENCH_BIGROWS");
  const int E = ev ? atoi(ev) : 4096, n = rv ? atoi(rv) : 256,
            nbig = bv ? atoi(bv) : 32768;
  if (E < 1 || n < 1 || nbig < 1) {
    fprintf(stderr, "bench_kernels: NH_BENCH_EDGES, NH_BENCH_ROWS and "
                    "NH_BENCH_BIGROWS must be positive\n");
    return 1;
  }
  const char *nt = getenv("OPENBLAS_NUM_THREADS");
  if (!nt || atoi(nt) != 1)
    fprintf(stderr, "bench_kernels: set OPENBLAS_NUM_THREADS=1 (CPU time "
                    "then measures one core)\n");
  const double peak = dgemm_rate(1500);
  printf("SO(2) convolution over %d edges; linear layer over %d rows (in "
         "cache) and %d rows (from memory); GFLOP/s in CPU time, (×: below "
         "the 1500³ dgemm)\n\n",
         E, n, nbig);
  printf("| channels | dim | SO(2) fwd µs/edge | SO(2) fwd GFLOP/s | "
         "SO(2) bwd GFLOP/s | linear fwd GFLOP/s | linear bwd GFLOP/s | "
         "linear fwd, %d rows | its copy roofline | dgemm GFLOP/s |\n",
         nbig);
  printf("|---|---|---|---|---|---|---|---|---|---|\n");
  if (argc < 2) {
    const int C[] = {8, 16, 32};
    for (int i = 0; i < 3; i++)
      run(C[i], E, n, nbig, peak);
  }
  for (int i = 1; i < argc; i++) {
    const int C = atoi(argv[i]);
    if (C < 1) {
      fprintf(stderr, "bench_kernels: bad channel count '%s'\n", argv[i]);
      return 1;
    }
    run(C, E, n, nbig, peak);
  }
  return 0;
}
