/* Tests of the network layers (include/nextham/nn.h): for every layer a
 * central finite-difference check of backward against forward, with
 * respect to every parameter and every input (double precision, largest
 * relative error < 1e-6, printed like llm.c's test_gpt2.c); equivariance
 * under random proper and improper rotations to 1e-12; permutation
 * equivariance of the attention; TraceGrad features against a finite-
 * difference gradient of z; output blocks rotating as D^{l1} ΔH D^{l2}ᵀ. */
#include "nhtest.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "nextham/nn.h"

#define FD_TOL 1e-6
#define EQ_TOL 1e-12

/* ---------------------------------------------------------------- helpers */

static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;
static double urand(void) { /* xorshift64, uniform in [0, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static void fill(double *x, size_t n, double lo, double hi) {
  for (size_t i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * urand();
}
static double *alloc(size_t n) {
  double *p = NULL;
  assert_nh_ok(nh_calloc(n ? n : 1, sizeof(double), &p));
  return p;
}

/* A random rotation (unit quaternion), negated when improper. */
static void random_rotation(double R[9], int improper) {
  double q[4], n = 0.0;
  for (int i = 0; i < 4; i++) {
    q[i] = 2.0 * urand() - 1.0;
    n += q[i] * q[i];
  }
  n = sqrt(n);
  const double a = q[0] / n, b = q[1] / n, c = q[2] / n, d = q[3] / n;
  const double M[9] = {a * a + b * b - c * c - d * d, 2 * (b * c - a * d),
                       2 * (b * d + a * c),           2 * (b * c + a * d),
                       a * a - b * b + c * c - d * d, 2 * (c * d - a * b),
                       2 * (b * d - a * c),           2 * (c * d + a * b),
                       a * a - b * b - c * c + d * d};
  for (int i = 0; i < 9; i++)
    R[i] = improper ? -M[i] : M[i];
}

static double max_abs(const double *x, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(x[i]));
  return m;
}
static double max_diff(const double *x, const double *y, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(x[i] - y[i]));
  return m;
}
static double cpu_time(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
static double dot(const double *x, const double *y, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += x[i] * y[i];
  return s;
}

/* Central differences of loss(ctx) in every entry of x against grad[n]; the
 * error of entry i is |fd - g| / max(|fd|, |g|, 1e-2 max_j |g_j|). */
typedef double (*loss_fn)(void *ctx);
static void check_grad(const char *what, loss_fn loss, void *ctx, double *x,
                       size_t n, const double *grad) {
  const double scale = 1e-2 * max_abs(grad, n);
  double worst = 0.0, worst_abs = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double x0 = x[i], h = 1e-5 * fmax(1.0, fabs(x0));
    x[i] = x0 + h;
    const double fp = loss(ctx);
    x[i] = x0 - h;
    const double fm = loss(ctx);
    x[i] = x0;
    const double fd = (fp - fm) / (2.0 * h), diff = fabs(fd - grad[i]);
    const double den = fmax(fmax(fabs(fd), fabs(grad[i])), scale);
    worst = fmax(worst, den > 0.0 ? diff / den : diff);
    worst_abs = fmax(worst_abs, diff);
  }
  printf("  fd %-40s %5zu entries  max |g| %.3e  max diff %.2e  rel %.2e\n",
         what, n, max_abs(grad, n), worst_abs, worst);
  assert_true(max_abs(grad, n) > 0.0); /* a zero gradient checks nothing */
  assert_true(worst < FD_TOL);
}

/* Irreps sets used throughout: two parities, several L, a kind of each
 * sign s = p(-1)^L. */
static void irreps_a(nh_nn_irreps *ir) { /* 0e 1e 1o 2e 3o, dim 56 */
  const int L[] = {0, 1, 1, 2, 3}, p[] = {1, 1, -1, 1, -1}, m[] = {4, 2, 4, 4, 2};
  assert_nh_ok(nh_nn_irreps_set(ir, 5, L, p, m));
}
static void irreps_b(nh_nn_irreps *ir) { /* 0e 0o 1o 2e 2o 4e */
  const int L[] = {0, 0, 1, 2, 2, 4}, p[] = {1, -1, -1, 1, -1, 1},
            m[] = {3, 2, 2, 3, 2, 2};
  assert_nh_ok(nh_nn_irreps_set(ir, 6, L, p, m));
}

/* Rotation data: R, Wigner D and the improper flag. */
typedef struct rot {
  double R[9], D[969];
  int improper;
} rot;
static void rot_make(rot *r, int improper) {
  random_rotation(r->R, improper);
  r->improper = improper;
  assert_nh_ok(nh_irreps_wigner(NH_IRREPS_LMAX, r->R, r->D));
}
static void rotate_vecs(const rot *r, const double *v, double *out, int n) {
  for (int i = 0; i < n; i++)
    for (int a = 0; a < 3; a++)
      out[3 * i + a] = r->R[3 * a] * v[3 * i] + r->R[3 * a + 1] * v[3 * i + 1] +
                       r->R[3 * a + 2] * v[3 * i + 2];
}

static void expect_equal(const char *what, const double *x, const double *y,
                         size_t n) {
  const double d = max_diff(x, y, n), s = fmax(1.0, max_abs(x, n));
  printf("  eq %-46s max diff %.2e (|out| %.2e)\n", what, d, max_abs(x, n));
  assert_true(max_abs(x, n) > 1e-3); /* a zero output checks nothing */
  assert_true(d < EQ_TOL * s);
}

/* ------------------------------------------------------------------ tests */

static void test_irreps_set(void **state) {
  (void)state;
  nh_nn_irreps ir;
  irreps_a(&ir);
  assert_int_equal(ir.dim, 4 + 6 + 12 + 20 + 14);
  assert_int_equal(ir.off[3], 4 + 6 + 12);
  assert_int_equal(ir.lmax, 3);
  assert_int_equal(nh_nn_irreps_find(&ir, 1, -1), 2);
  assert_int_equal(nh_nn_irreps_find(&ir, 2, -1), -1);
  const int L[] = {1, 0}, p[] = {1, 1}, m[] = {1, 1};
  assert_nh_fails(nh_nn_irreps_set(&ir, 2, L, p, m), NH_ERR_ARG,
                  "out of order");
  const int L2[] = {0, 0}, p2[] = {1, 1};
  assert_nh_fails(nh_nn_irreps_set(&ir, 2, L2, p2, m), NH_ERR_ARG,
                  "out of order");
  const int p3[] = {1, 0};
  assert_nh_fails(nh_nn_irreps_set(&ir, 2, L2, p3, m), NH_ERR_ARG, "parity");
}

/* --- linear --- */
typedef struct lin_ctx {
  nh_nn_irreps in, out;
  int n;
  double *x, *p, *y, *w;
} lin_ctx;
static double lin_loss(void *c_) {
  lin_ctx *c = c_;
  nh_nn_linear_forward(c->y, c->x, c->p, &c->in, &c->out, c->n);
  return dot(c->y, c->w, (size_t)c->n * c->out.dim);
}

static void test_linear(void **state) {
  (void)state;
  lin_ctx c = {.n = 3};
  irreps_a(&c.in);
  irreps_b(&c.out);
  const size_t np = nh_nn_linear_nparams(&c.in, &c.out);
  /* 0e: 3·4 + 3 bias, 1o: 2·4, 2e: 3·4; 0o, 2o, 4e have no input */
  assert_int_equal(np, 12 + 3 + 8 + 12);
  const size_t nx = (size_t)c.n * c.in.dim, ny = (size_t)c.n * c.out.dim;
  c.x = alloc(nx), c.p = alloc(np), c.y = alloc(ny), c.w = alloc(ny);
  double *dx = alloc(nx), *dp = alloc(np), *x2 = alloc(nx), *y2 = alloc(ny),
         *y3 = alloc(ny);
  fill(c.x, nx, -1, 1), fill(c.p, np, -1, 1), fill(c.w, ny, -1, 1);
  lin_loss(&c);
  /* an exact value: channel 0 of 0e is W_00..W_03 · x_0e + b_0 */
  double ref = c.p[12];
  for (int j = 0; j < 4; j++)
    ref += c.p[j] * c.x[j];
  assert_true(fabs(c.y[0] - ref) < 1e-15);
  assert_true(max_abs(c.y + c.out.off[4], 10) == 0.0); /* 2o: no input */
  nh_nn_linear_backward(dx, dp, c.w, c.x, c.p, &c.in, &c.out, c.n);
  check_grad("linear params", lin_loss, &c, c.p, np, dp);
  check_grad("linear input", lin_loss, &c, c.x, nx, dx);
  for (int imp = 0; imp < 2; imp++) {
    rot r;
    rot_make(&r, imp);
    nh_nn_irreps_rotate(&c.in, r.D, imp, c.n, c.x, x2);
    nh_nn_linear_forward(y2, x2, c.p, &c.in, &c.out, c.n);
    nh_nn_linear_forward(c.y, c.x, c.p, &c.in, &c.out, c.n);
    nh_nn_irreps_rotate(&c.out, r.D, imp, c.n, c.y, y3);
    expect_equal(imp ? "linear, improper R" : "linear, proper R", y3, y2, ny);
  }
  nh_free(&c.x), nh_free(&c.p), nh_free(&c.y), nh_free(&c.w);
  nh_free(&dx), nh_free(&dp), nh_free(&x2), nh_free(&y2), nh_free(&y3);
}

/* The linear layer by its definition, row by row, forward and backward
 * (y = the forward, g = the output gradient; dx, dp accumulate). */
static void linear_reference(double *y, double *dx, double *dp,
                             const double *g, const double *x,
                             const double *P, const nh_nn_irreps *in,
                             const nh_nn_irreps *out, int n) {
  size_t p = 0;
  for (int k = 0; k < out->nkind; k++) {
    const int ki = nh_nn_irreps_find(in, out->L[k], out->parity[k]);
    const int d = 2 * out->L[k] + 1, mo = out->mul[k];
    const int mi = ki >= 0 ? in->mul[ki] : 0;
    const int bias = out->L[k] == 0 && out->parity[k] == 1;
    for (int i = 0; i < n; i++)
      for (int a = 0; a < mo; a++)
        for (int m = 0; m < d; m++) {
          const size_t o = (size_t)i * out->dim + out->off[k] + a * d + m;
          double t = bias ? P[p + (size_t)mo * mi + a] : 0.0;
          for (int b = 0; b < mi; b++) {
            const size_t xi = (size_t)i * in->dim + in->off[ki] + b * d + m;
            t += P[p + (size_t)a * mi + b] * x[xi];
            dp[p + (size_t)a * mi + b] += g[o] * x[xi];
            dx[xi] += P[p + (size_t)a * mi + b] * g[o];
          }
          if (bias)
            dp[p + (size_t)mo * mi + a] += g[o];
          y[o] = t;
        }
    p += (size_t)mo * mi + (bias ? mo : 0);
  }
}

/* Forward and backward over n rows (several blocks of rows inside the
 * layer) against linear_reference. */
static void linear_against_reference(const char *what, const nh_nn_irreps *in,
                                     const nh_nn_irreps *out, int n) {
  const size_t np = nh_nn_linear_nparams(in, out), nx = (size_t)n * in->dim,
               ny = (size_t)n * out->dim;
  double *x = alloc(nx), *P = alloc(np), *g = alloc(ny), *y = alloc(ny),
         *yr = alloc(ny), *dx = alloc(nx), *dxr = alloc(nx), *dp = alloc(np),
         *dpr = alloc(np);
  fill(x, nx, -1, 1), fill(P, np, -1, 1), fill(g, ny, -1, 1);
  fill(dx, nx, -1, 1), fill(dp, np, -1, 1); /* backward accumulates */
  memcpy(dxr, dx, nx * sizeof(double)), memcpy(dpr, dp, np * sizeof(double));
  nh_nn_linear_forward(y, x, P, in, out, n);
  nh_nn_linear_backward(dx, dp, g, x, P, in, out, n);
  linear_reference(yr, dxr, dpr, g, x, P, in, out, n);
  const double e[3] = {max_diff(y, yr, ny) / max_abs(yr, ny),
                       max_diff(dx, dxr, nx) / max_abs(dxr, nx),
                       max_diff(dp, dpr, np) / max_abs(dpr, np)};
  printf("  linear %-30s %4d rows  rel. diff out %.1e, d_in %.1e, d_W %.1e\n",
         what, n, e[0], e[1], e[2]);
  for (int q = 0; q < 3; q++)
    assert_true(e[q] < 1e-13);
  nh_free(&x), nh_free(&P), nh_free(&g), nh_free(&y), nh_free(&yr);
  nh_free(&dx), nh_free(&dxr), nh_free(&dp), nh_free(&dpr);
}

static void test_linear_reference(void **state) {
  (void)state;
  nh_nn_irreps a, b, big;
  irreps_a(&a);
  irreps_b(&b);
  const int L[] = {0, 1, 1, 2, 2, 3, 3, 4, 4},
            p[] = {1, 1, -1, 1, -1, 1, -1, 1, -1},
            m[] = {8, 8, 8, 8, 8, 8, 8, 8, 8};
  assert_nh_ok(nh_nn_irreps_set(&big, 9, L, p, m));
  linear_against_reference("a -> b", &a, &b, 5);
  linear_against_reference("b -> a", &b, &a, 1000);
  linear_against_reference("9 kinds x 8 (blocks of 56)", &big, &big, 150);
}

/* --- layer norm --- */
typedef struct norm_ctx {
  nh_nn_irreps ir;
  int n;
  double *x, *p, *y, *w;
} norm_ctx;
static double norm_loss(void *c_) {
  norm_ctx *c = c_;
  nh_nn_norm_forward(c->y, c->x, c->p, &c->ir, c->n);
  return dot(c->y, c->w, (size_t)c->n * c->ir.dim);
}

static void test_norm(void **state) {
  (void)state;
  norm_ctx c = {.n = 3};
  irreps_a(&c.ir);
  const size_t np = nh_nn_norm_nparams(&c.ir), nx = (size_t)c.n * c.ir.dim;
  assert_int_equal(np, 4 + 4 + 2 + 4 + 2 + 4);
  c.x = alloc(nx), c.p = alloc(np), c.y = alloc(nx), c.w = alloc(nx);
  double *dx = alloc(nx), *dp = alloc(np), *x2 = alloc(nx), *y2 = alloc(nx),
         *y3 = alloc(nx);
  fill(c.x, nx, -1, 1), fill(c.p, np, 0.5, 1.5), fill(c.w, nx, -1, 1);
  /* unit gains, zero bias: 0e has mean 0 and variance ~1, others RMS ~1 */
  for (size_t j = 0; j < np; j++)
    c.p[j] = j < np - 4 ? 1.0 : 0.0;
  norm_loss(&c);
  for (int k = 0; k < c.ir.nkind; k++) {
    const int cnt = c.ir.mul[k] * (2 * c.ir.L[k] + 1);
    double s = 0.0, s2 = 0.0;
    for (int j = 0; j < cnt; j++) {
      s += c.y[c.ir.off[k] + j];
      s2 += c.y[c.ir.off[k] + j] * c.y[c.ir.off[k] + j];
    }
    if (k == 0)
      assert_true(fabs(s) < 1e-14);
    assert_true(fabs(s2 / cnt - 1.0) < 1e-4); /* eps = 1e-6 */
  }
  fill(c.p, np, 0.5, 1.5);
  nh_nn_norm_backward(dx, dp, c.w, c.x, c.p, &c.ir, c.n);
  check_grad("norm params", norm_loss, &c, c.p, np, dp);
  check_grad("norm input", norm_loss, &c, c.x, nx, dx);
  for (int imp = 0; imp < 2; imp++) {
    rot r;
    rot_make(&r, imp);
    nh_nn_irreps_rotate(&c.ir, r.D, imp, c.n, c.x, x2);
    nh_nn_norm_forward(y2, x2, c.p, &c.ir, c.n);
    nh_nn_norm_forward(c.y, c.x, c.p, &c.ir, c.n);
    nh_nn_irreps_rotate(&c.ir, r.D, imp, c.n, c.y, y3);
    expect_equal(imp ? "norm, improper R" : "norm, proper R", y3, y2, nx);
  }
  nh_free(&c.x), nh_free(&c.p), nh_free(&c.y), nh_free(&c.w);
  nh_free(&dx), nh_free(&dp), nh_free(&x2), nh_free(&y2), nh_free(&y3);
}

/* --- radial basis --- */
typedef struct rad_ctx {
  int nb, E;
  double rc, *r, *y, *w;
} rad_ctx;
static double rad_loss(void *c_) {
  rad_ctx *c = c_;
  nh_nn_radial_forward(c->y, c->r, c->nb, c->rc, c->E);
  return dot(c->y, c->w, (size_t)c->E * c->nb);
}

static void test_radial(void **state) {
  (void)state;
  rad_ctx c = {.nb = 8, .E = 6, .rc = 5.0};
  double r[6] = {0.3, 1.1, 2.5, 3.7, 4.6, 4.95}, y[48], w[48], dr[6] = {0};
  c.r = r, c.y = y, c.w = w;
  fill(w, 48, -1, 1);
  rad_loss(&c);
  /* e_1(rc/2) = sqrt(2/rc) · sin(π/2)/(rc/2) · u(1/2), u(1/2) = 1 - 28/64 +
   * 48/128 - 21/256 */
  const double u = 1.0 - 28.0 / 64 + 48.0 / 128 - 21.0 / 256;
  double half = 2.5, e1;
  nh_nn_radial_forward(&e1, &half, 1, 5.0, 1);
  assert_true(fabs(e1 - sqrt(2.0 / 5.0) / 2.5 * u) < 1e-15);
  /* beyond the cutoff: exactly 0, and smooth up to it */
  double far = 5.2, z[8], at = 5.0;
  nh_nn_radial_forward(z, &far, 8, 5.0, 1);
  assert_true(max_abs(z, 8) == 0.0);
  nh_nn_radial_forward(z, &at, 8, 5.0, 1);
  assert_true(max_abs(z, 8) < 1e-15);
  nh_nn_radial_backward(dr, w, r, c.nb, c.rc, c.E);
  check_grad("radial basis r", rad_loss, &c, r, 6, dr);
}

/* --- MLP (and its second-order backward) --- */
typedef struct mlp_ctx {
  nh_nn_mlp mlp;
  int rows;
  double *x, *p, *y, *w, *cache, *work, *ones, *g, *v;
} mlp_ctx;
static double mlp_loss(void *c_) {
  mlp_ctx *c = c_;
  nh_nn_mlp_forward(c->y, c->cache, c->x, c->p, &c->mlp, c->rows);
  return dot(c->y, c->w, (size_t)c->rows * c->mlp.size[c->mlp.nlayer]);
}
/* S = Σ_rows v·∇_x φ, φ = Σ_j y_j, from the first-order backward. */
static double mlp_loss_v(void *c_) {
  mlp_ctx *c = c_;
  const size_t nx = (size_t)c->rows * c->mlp.size[0];
  nh_nn_mlp_forward(c->y, c->cache, c->x, c->p, &c->mlp, c->rows);
  memset(c->g, 0, nx * sizeof(double));
  nh_nn_mlp_backward(c->g, NULL, c->ones, NULL, c->work, c->cache, c->x, c->p,
                     &c->mlp, c->rows);
  return dot(c->g, c->v, nx);
}

static void test_mlp(void **state) {
  (void)state;
  for (int depth = 1; depth <= 3; depth++) {
    const int size[] = {5, 7, 6, 3};
    int sz[4];
    for (int l = 0; l < depth; l++)
      sz[l] = size[l];
    sz[depth] = 3;
    mlp_ctx c = {.rows = 4};
    assert_nh_ok(nh_nn_mlp_set(&c.mlp, depth, sz));
    const size_t np = nh_nn_mlp_nparams(&c.mlp), nx = (size_t)c.rows * 5,
                 ny = (size_t)c.rows * 3;
    c.x = alloc(nx), c.p = alloc(np), c.y = alloc(ny), c.w = alloc(ny);
    c.cache = alloc(nh_nn_mlp_cache(&c.mlp, c.rows));
    c.work = alloc(nh_nn_mlp_work(&c.mlp, c.rows));
    c.ones = alloc(ny), c.g = alloc(nx), c.v = alloc(nx);
    double *dx = alloc(nx), *dp = alloc(np);
    fill(c.x, nx, -1, 1), fill(c.p, np, -1, 1), fill(c.w, ny, -1, 1);
    fill(c.v, nx, -1, 1);
    for (size_t j = 0; j < ny; j++)
      c.ones[j] = 1.0;
    char what[64];
    mlp_loss(&c);
    nh_nn_mlp_backward(dx, dp, c.w, NULL, c.work, c.cache, c.x, c.p, &c.mlp,
                       c.rows);
    snprintf(what, sizeof what, "mlp(%d) params", depth);
    check_grad(what, mlp_loss, &c, c.p, np, dp);
    snprintf(what, sizeof what, "mlp(%d) input", depth);
    check_grad(what, mlp_loss, &c, c.x, nx, dx);
    /* second order: backward with v (and no d_out) against FD of v·∇φ */
    memset(dx, 0, nx * sizeof(double)), memset(dp, 0, np * sizeof(double));
    mlp_loss_v(&c);
    nh_nn_mlp_backward(dx, dp, NULL, c.v, c.work, c.cache, c.x, c.p, &c.mlp,
                       c.rows);
    snprintf(what, sizeof what, "mlp(%d) v·∇φ params", depth);
    check_grad(what, mlp_loss_v, &c, c.p, np, dp);
    if (depth > 1) { /* a linear map has no second derivative in x */
      snprintf(what, sizeof what, "mlp(%d) v·∇φ input", depth);
      check_grad(what, mlp_loss_v, &c, c.x, nx, dx);
    }
    nh_free(&c.x), nh_free(&c.p), nh_free(&c.y), nh_free(&c.w);
    nh_free(&c.cache), nh_free(&c.work), nh_free(&c.ones), nh_free(&c.g);
    nh_free(&c.v), nh_free(&dx), nh_free(&dp);
  }
}

/* --- TraceGrad --- */
typedef struct tg_ctx {
  nh_nn_tracegrad tg;
  int n;
  double *f, *p, *g, *z, *wg, *wz, *cache, *work;
} tg_ctx;
static double tg_loss(void *c_) {
  tg_ctx *c = c_;
  nh_nn_tracegrad_forward(c->g, c->z, c->cache, c->work, c->f, c->p, &c->tg,
                          c->n);
  return dot(c->g, c->wg, (size_t)c->n * c->tg.ir.dim) +
         dot(c->z, c->wz, (size_t)c->n * c->tg.nz);
}
static double tg_phi(void *c_) { /* Σ z */
  tg_ctx *c = c_;
  nh_nn_tracegrad_forward(c->g, c->z, c->cache, c->work, c->f, c->p, &c->tg,
                          c->n);
  double s = 0.0;
  for (size_t j = 0; j < (size_t)c->n * c->tg.nz; j++)
    s += c->z[j];
  return s;
}

static void tracegrad_mode(int mode) {
  tg_ctx c = {.n = 3};
  nh_nn_irreps ir;
  irreps_a(&ir);
  const int hidden[] = {10, 8};
  const char *name = mode == NH_NN_INV_GRAM ? "gram" : "norms";
  char what[80];
  assert_nh_ok(nh_nn_tracegrad_set(&c.tg, &ir, mode, 2, hidden, 4));
  /* norms: Σ mul + mul_0e; Gram: Σ mul(mul+1)/2 + mul_0e */
  assert_int_equal(c.tg.nin, mode == NH_NN_INV_GRAM ? 10 + 3 + 10 + 10 + 3 + 4
                                                    : 16 + 4);
  const size_t np = nh_nn_tracegrad_nparams(&c.tg), nf = (size_t)c.n * ir.dim,
               nz = (size_t)c.n * 4;
  c.f = alloc(nf), c.p = alloc(np), c.g = alloc(nf), c.z = alloc(nz);
  c.wg = alloc(nf), c.wz = alloc(nz);
  c.cache = alloc(nh_nn_tracegrad_cache(&c.tg, c.n));
  c.work = alloc(nh_nn_tracegrad_work(&c.tg, c.n));
  double *df = alloc(nf), *dp = alloc(np), *g0 = alloc(nf), *f2 = alloc(nf),
         *g2 = alloc(nf), *g3 = alloc(nf), *z0 = alloc(nz);
  fill(c.f, nf, -1, 1), fill(c.p, np, -0.7, 0.7);
  fill(c.wg, nf, -1, 1), fill(c.wz, nz, -1, 1);
  /* the features are the gradient of Σ z: against central differences */
  tg_phi(&c);
  memcpy(g0, c.g, nf * sizeof(double));
  snprintf(what, sizeof what, "tracegrad(%s) g = ∂Σz/∂f", name);
  check_grad(what, tg_phi, &c, c.f, nf, g0);
  tg_loss(&c);
  nh_nn_tracegrad_backward(df, dp, c.wg, c.wz, c.work, c.cache, c.f, c.p,
                           &c.tg, c.n);
  snprintf(what, sizeof what, "tracegrad(%s) params", name);
  check_grad(what, tg_loss, &c, c.p, np, dp);
  snprintf(what, sizeof what, "tracegrad(%s) input", name);
  check_grad(what, tg_loss, &c, c.f, nf, df);
  /* only d_g (the pure second-order path) */
  memset(df, 0, nf * sizeof(double)), memset(dp, 0, np * sizeof(double));
  memset(c.wz, 0, nz * sizeof(double));
  tg_loss(&c);
  nh_nn_tracegrad_backward(df, dp, c.wg, NULL, c.work, c.cache, c.f, c.p,
                           &c.tg, c.n);
  snprintf(what, sizeof what, "tracegrad(%s) params, d_g only", name);
  check_grad(what, tg_loss, &c, c.p, np, dp);
  snprintf(what, sizeof what, "tracegrad(%s) input, d_g only", name);
  check_grad(what, tg_loss, &c, c.f, nf, df);
  for (int imp = 0; imp < 2; imp++) {
    rot r;
    rot_make(&r, imp);
    tg_loss(&c);
    memcpy(g0, c.g, nf * sizeof(double)), memcpy(z0, c.z, nz * sizeof(double));
    nh_nn_irreps_rotate(&ir, r.D, imp, c.n, c.f, f2);
    nh_nn_tracegrad_forward(g2, c.z, c.cache, c.work, f2, c.p, &c.tg, c.n);
    nh_nn_irreps_rotate(&ir, r.D, imp, c.n, g0, g3);
    snprintf(what, sizeof what, "tracegrad(%s) g, %s R", name,
             imp ? "improper" : "proper");
    expect_equal(what, g3, g2, nf);
    snprintf(what, sizeof what, "tracegrad(%s) z invariant, %s R", name,
             imp ? "improper" : "proper");
    expect_equal(what, z0, c.z, nz);
  }
  nh_free(&c.f), nh_free(&c.p), nh_free(&c.g), nh_free(&c.z);
  nh_free(&c.wg), nh_free(&c.wz), nh_free(&c.cache), nh_free(&c.work);
  nh_free(&df), nh_free(&dp), nh_free(&g0), nh_free(&f2), nh_free(&g2);
  nh_free(&g3), nh_free(&z0);
}

static void test_tracegrad(void **state) {
  (void)state;
  tracegrad_mode(NH_NN_INV_NORM);
  tracegrad_mode(NH_NN_INV_GRAM);
  /* Gram invariants of one row by hand: kind 1e (2 channels) */
  nh_nn_irreps ir;
  irreps_a(&ir);
  double x[56], q[40];
  for (int j = 0; j < 56; j++)
    x[j] = 0.1 * (j + 1);
  nh_nn_invariants_forward(q, x, &ir, NH_NN_INV_GRAM, 1);
  /* 1e starts at 4, after the 10 pairs of 0e; channels x[4..6], x[7..9] */
  assert_true(fabs(q[11] - (0.5 * 0.8 + 0.6 * 0.9 + 0.7 * 1.0)) < 1e-15);
  assert_true(fabs(q[10] - (0.25 + 0.36 + 0.49)) < 1e-15);
  assert_true(fabs(q[36] - 0.1) < 1e-15); /* 0e channels last */
}

/* --- SO(2) convolution --- */
typedef struct so2_ctx {
  nh_nn_so2 s;
  int E;
  double *x, *rad, *r, *p, *y, *w, *work;
} so2_ctx;
static double so2_loss(void *c_) {
  so2_ctx *c = c_;
  assert_nh_ok(nh_nn_so2_forward(c->y, c->work, c->x, c->rad, c->r, c->p,
                                 &c->s, c->E));
  return dot(c->y, c->w, (size_t)c->E * c->s.out.dim);
}

static void so2_setup(so2_ctx *c, const nh_nn_irreps *in,
                      const nh_nn_irreps *out, int E) {
  c->E = E;
  assert_nh_ok(nh_nn_so2_set(&c->s, in, out));
  const size_t nx = (size_t)E * in->dim, ny = (size_t)E * out->dim;
  c->x = alloc(nx), c->rad = alloc((size_t)E * c->s.nrad);
  c->r = alloc(3 * (size_t)E), c->p = alloc(c->s.npar);
  c->y = alloc(ny), c->w = alloc(ny);
  c->work = alloc(nh_nn_so2_work(&c->s, E));
  fill(c->x, nx, -1, 1), fill(c->rad, (size_t)E * c->s.nrad, -1, 1);
  fill(c->r, 3 * (size_t)E, -3, 3), fill(c->p, c->s.npar, -1, 1);
  fill(c->w, ny, -1, 1);
}
static void so2_free(so2_ctx *c) {
  nh_free(&c->x), nh_free(&c->rad), nh_free(&c->r), nh_free(&c->p);
  nh_free(&c->y), nh_free(&c->w), nh_free(&c->work);
}

/* The layer by its definition (nn.h), one edge at a time: frame by
 * nh_irreps_edge_frame and nh_irreps_wigner, the W1/W2 blocks of every
 * (m, out kind, in kind) straight from the parameter list. An independent
 * check of the blocked, frame-packed kernels. */
static void so2_reference(double *out, const double *in, const double *rad,
                          const double *r, const double *P,
                          const nh_nn_so2 *s, int E) {
  const nh_nn_irreps *ii = &s->in, *io = &s->out;
  double *xr = alloc((size_t)ii->dim), *y = alloc((size_t)io->dim);
  for (int e = 0; e < E; e++) {
    double R[9], D[969];
    assert_nh_ok(nh_irreps_edge_frame(r + 3 * e, R));
    assert_nh_ok(nh_irreps_wigner(NH_IRREPS_LMAX, R, D));
    for (int k = 0; k < ii->nkind; k++) { /* x' = D x per channel */
      const int L = ii->L[k], d = 2 * L + 1;
      const double *Dl = D + nh_irreps_wigner_off(L);
      for (int c = 0; c < ii->mul[k]; c++)
        for (int a = 0; a < d; a++) {
          double t = 0.0;
          for (int b = 0; b < d; b++)
            t += Dl[a * d + b] * in[(size_t)e * ii->dim + ii->off[k] + c * d + b];
          xr[ii->off[k] + c * d + a] = t;
        }
    }
    memset(y, 0, sizeof(double) * io->dim);
    size_t p = 0;
    int roff = 0;
    for (int m = 0; m <= s->mmax; m++) {
      for (int ko = 0; ko < io->nkind; ko++) {
        const int Lo = io->L[ko], so = io->parity[ko] * (Lo % 2 ? -1 : 1);
        if (Lo < m)
          continue;
        int rpos = 0;
        for (int ki = 0; ki < ii->nkind; ki++) {
          const int Li = ii->L[ki], si = ii->parity[ki] * (Li % 2 ? -1 : 1);
          if (Li < m)
            continue;
          const int mi = ii->mul[ki], di = 2 * Li + 1, dout = 2 * Lo + 1;
          if (m > 0 || so == si) {
            for (int a = 0; a < io->mul[ko]; a++)
              for (int b = 0; b < mi; b++) {
                const double W = P[p + (size_t)a * mi + b];
                const double g = rad[(size_t)e * s->nrad + roff + rpos + b];
                const double *x = xr + ii->off[ki] + b * di + Li;
                double *yo = y + io->off[ko] + a * dout + Lo;
                if (m == 0)
                  yo[0] += W * g * x[0];
                else if (so == si) { /* W1 */
                  yo[m] += W * g * x[m];
                  yo[-m] += W * g * x[-m];
                } else { /* W2 */
                  yo[m] -= W * g * x[-m];
                  yo[-m] += W * g * x[m];
                }
              }
            p += (size_t)io->mul[ko] * mi;
          }
          rpos += mi;
        }
      }
      for (int ki = 0; ki < ii->nkind; ki++)
        roff += ii->L[ki] >= m ? ii->mul[ki] : 0;
    }
    assert_true(p == s->npar);
    for (int k = 0; k < io->nkind; k++) { /* out = Dᵀ y per channel */
      const int L = io->L[k], d = 2 * L + 1;
      const double *Dl = D + nh_irreps_wigner_off(L);
      for (int c = 0; c < io->mul[k]; c++)
        for (int b = 0; b < d; b++) {
          double t = 0.0;
          for (int a = 0; a < d; a++)
            t += Dl[a * d + b] * y[io->off[k] + c * d + a];
          out[(size_t)e * io->dim + io->off[k] + c * d + b] = t;
        }
    }
  }
  nh_free(&xr), nh_free(&y);
}

/* Forward against so2_reference, and backward over many edges (several
 * blocks inside the layer) against the sum of backward over two parts,
 * for irreps ir_in -> ir_out. */
static void so2_against_reference(const char *what, const nh_nn_irreps *in,
                                  const nh_nn_irreps *out, int E) {
  so2_ctx c;
  so2_setup(&c, in, out, E);
  c.r[0] = c.r[1] = 0.0, c.r[2] = -1.3; /* along -z and +z */
  c.r[3] = c.r[4] = 0.0, c.r[5] = 0.4;
  const size_t ny = (size_t)E * out->dim, nx = (size_t)E * in->dim,
               nr = (size_t)E * c.s.nrad;
  double *ref = alloc(ny);
  so2_loss(&c);
  so2_reference(ref, c.x, c.rad, c.r, c.p, &c.s, E);
  const double d = max_diff(ref, c.y, ny), m = max_abs(ref, ny);
  printf("  so2 %-36s %4d edges  max |out| %.3e  max diff %.2e\n", what, E, m,
         d);
  assert_true(m > 1e-3 && d < 1e-12 * m);
  /* backward in one call = backward of edges [0, 1) + [1, E) */
  double *g[2][3];
  for (int t = 0; t < 2; t++)
    g[t][0] = alloc(nx), g[t][1] = alloc(nr), g[t][2] = alloc(c.s.npar);
  assert_nh_ok(nh_nn_so2_backward(g[0][0], g[0][1], g[0][2], c.w, c.work,
                                  c.x, c.rad, c.r, c.p, &c.s, E));
  for (int e0 = 0; e0 < E; e0 = e0 ? E : 1) {
    const int n = e0 ? E - 1 : 1;
    assert_nh_ok(nh_nn_so2_backward(
        g[1][0] + (size_t)e0 * in->dim, g[1][1] + (size_t)e0 * c.s.nrad,
        g[1][2], c.w + (size_t)e0 * out->dim, c.work, c.x + (size_t)e0 * in->dim,
        c.rad + (size_t)e0 * c.s.nrad, c.r + 3 * e0, c.p, &c.s, n));
  }
  const size_t len[3] = {nx, nr, c.s.npar};
  for (int q = 0; q < 3; q++) {
    const double gm = max_abs(g[0][q], len[q]);
    assert_true(gm > 0.0 && max_diff(g[0][q], g[1][q], len[q]) < 1e-12 * gm);
  }
  for (int t = 0; t < 2; t++)
    for (int q = 0; q < 3; q++)
      nh_free(&g[t][q]);
  nh_free(&ref);
  so2_free(&c);
}

static void test_so2(void **state) {
  (void)state;
  so2_ctx c;
  nh_nn_irreps in, out;
  irreps_a(&in);
  irreps_b(&out);
  so2_setup(&c, &in, &out, 5);
  /* one edge exactly along -z and one along +z (frame special cases) */
  c.r[0] = c.r[1] = 0.0, c.r[2] = -1.7;
  c.r[3] = c.r[4] = 0.0, c.r[5] = 2.2;
  assert_int_equal(c.s.mmax, 3);
  assert_int_equal(c.s.nrad, 16 + 12 + 6 + 2);
  const size_t nx = (size_t)c.E * in.dim, ny = (size_t)c.E * out.dim,
               nr = (size_t)c.E * c.s.nrad;
  double *dx = alloc(nx), *drad = alloc(nr), *dp = alloc(c.s.npar);
  double *x2 = alloc(nx), *r2 = alloc(3 * c.E), *y2 = alloc(ny),
         *y3 = alloc(ny);
  so2_loss(&c);
  assert_nh_ok(nh_nn_so2_backward(dx, drad, dp, c.w, c.work, c.x, c.rad, c.r,
                                  c.p, &c.s, c.E));
  check_grad("so2 params", so2_loss, &c, c.p, c.s.npar, dp);
  check_grad("so2 input", so2_loss, &c, c.x, nx, dx);
  check_grad("so2 radial weights", so2_loss, &c, c.rad, nr, drad);
  for (int t = 0; t < 4; t++) {
    const int imp = t % 2;
    rot r;
    rot_make(&r, imp);
    so2_loss(&c);
    nh_nn_irreps_rotate(&in, r.D, imp, c.E, c.x, x2);
    rotate_vecs(&r, c.r, r2, c.E);
    assert_nh_ok(
        nh_nn_so2_forward(y2, c.work, x2, c.rad, r2, c.p, &c.s, c.E));
    nh_nn_irreps_rotate(&out, r.D, imp, c.E, c.y, y3);
    expect_equal(imp ? "so2, improper R" : "so2, proper R", y3, y2, ny);
  }
  /* a rotation about the edge itself leaves the frame's roll arbitrary:
   * equivariance for r along z catches a non-SO(2)-equivariant mixing */
  so2_free(&c);
  nh_free(&dx), nh_free(&drad), nh_free(&dp), nh_free(&x2), nh_free(&r2);
  nh_free(&y2), nh_free(&y3);
}

static void test_so2_reference(void **state) {
  (void)state;
  nh_nn_irreps in, out;
  irreps_a(&in);
  irreps_b(&out);
  so2_against_reference("a -> b", &in, &out, 7);
  so2_against_reference("b -> a (mmax 3, in L 4 unused)", &out, &in, 7);
  nh_nn_irreps big; /* the default model's irreps: several blocks of edges */
  const int L[] = {0, 1, 1, 2, 2, 3, 3, 4, 4},
            p[] = {1, 1, -1, 1, -1, 1, -1, 1, -1},
            m[] = {8, 8, 8, 8, 8, 8, 8, 8, 8};
  assert_nh_ok(nh_nn_irreps_set(&big, 9, L, p, m));
  so2_against_reference("L_max 4, 9 kinds x 8", &big, &big, 300);
}

/* Time per edge of the SO(2) convolution, L_max = 4, 32 channels in each of
 * the kinds 0e, 1e, 1o, ..., 4e, 4o (best of 5 runs; no assertion on time,
 * the build machine is shared). */
static void test_so2_timing(void **state) {
  (void)state;
  const int L[] = {0, 1, 1, 2, 2, 3, 3, 4, 4},
            p[] = {1, 1, -1, 1, -1, 1, -1, 1, -1};
  int mul[9];
  for (int k = 0; k < 9; k++)
    mul[k] = 32;
  nh_nn_irreps ir;
  assert_nh_ok(nh_nn_irreps_set(&ir, 9, L, p, mul));
  so2_ctx c;
  const int E = 512;
  so2_setup(&c, &ir, &ir, E);
  double *dx = alloc((size_t)E * ir.dim), *drad = alloc((size_t)E * c.s.nrad),
         *dp = alloc(c.s.npar);
  double flops_gemm = 0.0; /* 2·rows·Ko·Ki per |m|, rows = E or 2E */
  for (int m = 0; m <= c.s.mmax; m++)
    flops_gemm += 2.0 * (m ? 2 : 1) * E * c.s.kout[m] * c.s.kin[m];
  /* CPU time of this thread (robust when other jobs share the cores) and
   * wall time */
  double tf = 1e30, tb = 1e30, wf = 1e30, wb = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    const double c0 = cpu_time(), w0 = nh_wtime();
    assert_nh_ok(nh_nn_so2_forward(c.y, c.work, c.x, c.rad, c.r, c.p, &c.s, E));
    const double c1 = cpu_time(), w1 = nh_wtime();
    assert_nh_ok(nh_nn_so2_backward(dx, drad, dp, c.w, c.work, c.x, c.rad, c.r,
                                    c.p, &c.s, E));
    const double c2 = cpu_time(), w2 = nh_wtime();
    tf = fmin(tf, c1 - c0), tb = fmin(tb, c2 - c1);
    wf = fmin(wf, w1 - w0), wb = fmin(wb, w2 - w1);
  }
  printf("  so2 L_max=4, 9 kinds x 32 channels (dim %d), %zu weights, %d "
         "edges, CPU (wall) time per edge:\n    forward %.1f (%.1f) us, "
         "%.2f GFLOP/s in the W_m dgemms; backward %.1f (%.1f) us\n",
         ir.dim, c.s.npar, E, 1e6 * tf / E, 1e6 * wf / E,
         flops_gemm / tf * 1e-9, 1e6 * tb / E, 1e6 * wb / E);
  so2_free(&c);
  nh_free(&dx), nh_free(&drad), nh_free(&dp);
}

/* --- attention --- */
typedef struct attn_ctx {
  nh_nn_attn at;
  int N, E, *dst;
  double *msg, *p, *y, *w, *work;
} attn_ctx;
static double attn_loss(void *c_) {
  attn_ctx *c = c_;
  nh_nn_attn_forward(c->y, c->work, c->msg, c->dst, c->p, &c->at, c->N, c->E);
  return dot(c->y, c->w, (size_t)c->N * c->at.ir.dim);
}

static void test_attn(void **state) {
  (void)state;
  nh_nn_irreps ir;
  const int L[] = {0, 1, 2}, p[] = {1, -1, 1}, m[] = {4, 2, 4};
  assert_nh_ok(nh_nn_irreps_set(&ir, 3, L, p, m));
  int dst[7] = {0, 0, 1, 2, 2, 2, 0}; /* node 3 has no incoming edge */
  attn_ctx c = {.N = 4, .E = 7, .dst = dst};
  assert_nh_ok(nh_nn_attn_set(&c.at, &ir, 2));
  const size_t np = nh_nn_attn_nparams(&c.at), nm = (size_t)c.E * ir.dim,
               ny = (size_t)c.N * ir.dim;
  assert_int_equal(np, 8);
  c.msg = alloc(nm), c.p = alloc(np), c.y = alloc(ny), c.w = alloc(ny);
  c.work = alloc(nh_nn_attn_work(&c.at, c.N, c.E));
  double *dm = alloc(nm), *dp = alloc(np), *m2 = alloc(nm), *y2 = alloc(ny),
         *y3 = alloc(ny);
  fill(c.msg, nm, -1, 1), fill(c.p, np, -1, 1), fill(c.w, ny, -1, 1);
  attn_loss(&c);
  /* one edge into node 1: weight 1, the message itself; node 3: zero */
  assert_true(max_diff(c.y + ir.dim, c.msg + 2 * ir.dim, ir.dim) < 1e-15);
  assert_true(max_abs(c.y + 3 * ir.dim, ir.dim) == 0.0);
  assert_nh_fails(nh_nn_attn_set(&c.at, &ir, 3), NH_ERR_ARG, "multiple");
  assert_nh_ok(nh_nn_attn_set(&c.at, &ir, 2));
  nh_nn_attn_backward(dm, dp, c.w, c.work, c.msg, c.dst, c.p, &c.at, c.N, c.E);
  check_grad("attention params", attn_loss, &c, c.p, np, dp);
  check_grad("attention messages", attn_loss, &c, c.msg, nm, dm);
  for (int imp = 0; imp < 2; imp++) {
    rot r;
    rot_make(&r, imp);
    attn_loss(&c);
    nh_nn_irreps_rotate(&ir, r.D, imp, c.E, c.msg, m2);
    nh_nn_attn_forward(y2, c.work, m2, c.dst, c.p, &c.at, c.N, c.E);
    nh_nn_irreps_rotate(&ir, r.D, imp, c.N, c.y, y3);
    expect_equal(imp ? "attention, improper R" : "attention, proper R", y3, y2,
                 ny);
  }
  /* permutation: node i -> pn[i], edge e -> pe[e] */
  const int pn[4] = {2, 3, 1, 0}, pe[7] = {4, 0, 6, 2, 5, 1, 3};
  int dst2[7];
  for (int e = 0; e < c.E; e++) {
    dst2[pe[e]] = pn[dst[e]];
    memcpy(m2 + (size_t)pe[e] * ir.dim, c.msg + (size_t)e * ir.dim,
           ir.dim * sizeof(double));
  }
  attn_loss(&c);
  nh_nn_attn_forward(y2, c.work, m2, dst2, c.p, &c.at, c.N, c.E);
  for (int i = 0; i < c.N; i++)
    memcpy(y3 + (size_t)pn[i] * ir.dim, c.y + (size_t)i * ir.dim,
           ir.dim * sizeof(double));
  expect_equal("attention, permuted nodes and edges", y3, y2, ny);
  nh_free(&c.msg), nh_free(&c.p), nh_free(&c.y), nh_free(&c.w);
  nh_free(&c.work), nh_free(&dm), nh_free(&dp), nh_free(&m2), nh_free(&y2);
  nh_free(&y3);
}

static void test_gather(void **state) {
  (void)state;
  const int idx[4] = {2, 0, 2, 1};
  double in[6] = {1, 2, 3, 4, 5, 6}, out[8], d_out[8] = {1, 1, 2, 2, 3, 3, 4, 4};
  double d_in[6] = {0};
  nh_nn_gather_forward(out, in, idx, 2, 4);
  const double ref[8] = {5, 6, 1, 2, 5, 6, 3, 4};
  assert_memory_equal(out, ref, sizeof ref);
  nh_nn_gather_backward(d_in, d_out, idx, 2, 4);
  const double dref[6] = {2, 2, 4, 4, 4, 4};
  assert_memory_equal(d_in, dref, sizeof dref);
}

/* --- output heads --- */
typedef struct head_ctx {
  nh_nn_irreps in;
  const nh_irreps_pairs *pp;
  int n;
  double *x, *p, *P, *w, *work;
} head_ctx;
static double head_loss(void *c_) {
  head_ctx *c = c_;
  nh_nn_head_forward(c->P, c->work, c->x, c->p, &c->in, c->pp, c->n);
  return dot(c->P, c->w, (size_t)c->n * c->pp->norb * c->pp->norb);
}

static void test_heads(void **state) {
  (void)state;
  /* two elements: s s p d and s p p; union s s p p d (13 orbitals) */
  const int l0[] = {0, 0, 1, 2}, l1[] = {0, 1, 1};
  const int nshell[] = {4, 3};
  const int *shell_l[] = {l0, l1};
  nh_irreps_pad *pad = NULL;
  nh_irreps_cg *cg = NULL;
  nh_irreps_pairs *pp = NULL;
  assert_nh_ok(nh_irreps_pad_create(2, nshell, shell_l, &pad));
  assert_nh_ok(nh_irreps_cg_create(pad->lmax, 2 * pad->lmax, &cg));
  assert_nh_ok(nh_irreps_pairs_create(pad, cg, &pp));
  head_ctx c = {.pp = pp, .n = 3};
  nh_nn_irreps hid;
  const int L[] = {0, 1, 1, 2, 2, 3, 3, 4},
            p[] = {1, 1, -1, 1, -1, 1, -1, 1}, m[] = {3, 2, 2, 2, 2, 2, 2, 2};
  assert_nh_ok(nh_nn_irreps_set(&hid, 8, L, p, m));
  c.in = hid;
  const int norb = pp->norb;
  const size_t np = nh_nn_head_nparams(&hid, pp), nx = (size_t)c.n * hid.dim,
               nP = (size_t)c.n * norb * norb;
  c.x = alloc(nx), c.p = alloc(np), c.P = alloc(nP), c.w = alloc(nP);
  c.work = alloc((size_t)c.n * pp->dim);
  double *dx = alloc(nx), *dp = alloc(np), *x2 = alloc(nx), *P2 = alloc(nP),
         *P3 = alloc(nP);
  fill(c.x, nx, -1, 1), fill(c.p, np, -1, 1), fill(c.w, nP, -1, 1);
  head_loss(&c);
  /* tr(ΔH ΔHᵀ) of each block = Σ of the squared norms of its irreps (the
   * CG map is orthogonal): the trace head's target is an invariant */
  for (int i = 0; i < c.n; i++) {
    const double *Pi = c.P + (size_t)i * norb * norb;
    const double *fi = c.work + (size_t)i * pp->dim;
    const double tr = dot(Pi, Pi, (size_t)norb * norb);
    assert_true(tr > 1.0 && fabs(tr - dot(fi, fi, pp->dim)) < 1e-13 * tr);
  }
  nh_nn_head_backward(dx, dp, c.w, c.work, c.x, c.p, &hid, pp, c.n);
  check_grad("head params", head_loss, &c, c.p, np, dp);
  check_grad("head input", head_loss, &c, c.x, nx, dx);
  for (int imp = 0; imp < 2; imp++) {
    rot r;
    rot_make(&r, imp);
    head_loss(&c);
    nh_nn_irreps_rotate(&hid, r.D, imp, c.n, c.x, x2);
    nh_nn_head_forward(P2, c.work, x2, c.p, &hid, pp, c.n);
    for (int i = 0; i < c.n; i++) /* D^{l1} ΔH D^{l2}ᵀ shell pair by pair */
      assert_nh_ok(nh_irreps_block_rotate(
          r.D, NH_IRREPS_LMAX, pad->nshell, pad->shell_l, pad->nshell,
          pad->shell_l, c.P + (size_t)i * norb * norb, norb,
          P3 + (size_t)i * norb * norb, norb));
    expect_equal(imp ? "head blocks, improper R" : "head blocks, proper R", P3,
                 P2, nP);
  }
  nh_free(&c.x), nh_free(&c.p), nh_free(&c.P), nh_free(&c.w);
  nh_free(&c.work), nh_free(&dx), nh_free(&dp), nh_free(&x2), nh_free(&P2);
  nh_free(&P3);
  nh_irreps_pairs_destroy(&pp);
  nh_irreps_cg_destroy(&cg);
  nh_irreps_pad_destroy(&pad);
}


/* --- a whole transformer block, composed from the layers over one flat
 * parameter buffer (the way the model will use them):
 *   x_e = h[src]; rad = MLP(radial(|r|)); m = SO2(x_e, rad, r);
 *   a = attention(m -> dst); h1 = h + linear(a); (g, z) = TraceGrad(norm(h1));
 *   out = h1 + g.  Loss w·out + wz·z. */
typedef struct blk {
  nh_nn_irreps ir, irm;
  nh_nn_mlp rmlp;
  nh_nn_so2 so2;
  nh_nn_attn at;
  nh_nn_tracegrad tg;
  int N, E, nb, src[7], dst[7];
  double rc, pos[12], r[21], len[7];
  size_t off[7]; /* rmlp, so2, attn, lin, norm, tg, end */
  double *h, *p, *w, *wz;
  /* activations */
  double *xe, *rb, *rad, *rcache, *msg, *agg, *h1, *hn, *g, *z, *out, *tcache;
  double *work;
  /* gradients */
  double *dh, *dp, *dxe, *drad, *drb, *dmsg, *dagg, *dh1, *dhn, *dout;
} blk;

static void blk_geometry(blk *b) {
  for (int e = 0; e < b->E; e++) {
    double l2 = 0.0;
    for (int a = 0; a < 3; a++) {
      b->r[3 * e + a] = b->pos[3 * b->src[e] + a] - b->pos[3 * b->dst[e] + a];
      l2 += b->r[3 * e + a] * b->r[3 * e + a];
    }
    b->len[e] = sqrt(l2);
  }
}

static double blk_forward(void *b_) {
  blk *b = b_;
  const int N = b->N, E = b->E;
  blk_geometry(b);
  nh_nn_gather_forward(b->xe, b->h, b->src, b->ir.dim, E);
  nh_nn_radial_forward(b->rb, b->len, b->nb, b->rc, E);
  nh_nn_mlp_forward(b->rad, b->rcache, b->rb, b->p + b->off[0], &b->rmlp, E);
  assert_nh_ok(nh_nn_so2_forward(b->msg, b->work, b->xe, b->rad, b->r,
                                 b->p + b->off[1], &b->so2, E));
  nh_nn_attn_forward(b->agg, b->work, b->msg, b->dst, b->p + b->off[2], &b->at,
                     N, E);
  nh_nn_linear_forward(b->h1, b->agg, b->p + b->off[3], &b->irm, &b->ir, N);
  for (int j = 0; j < N * b->ir.dim; j++)
    b->h1[j] += b->h[j];
  nh_nn_norm_forward(b->hn, b->h1, b->p + b->off[4], &b->ir, N);
  nh_nn_tracegrad_forward(b->g, b->z, b->tcache, b->work, b->hn,
                          b->p + b->off[5], &b->tg, N);
  for (int j = 0; j < N * b->ir.dim; j++)
    b->out[j] = b->h1[j] + b->g[j];
  return dot(b->out, b->w, (size_t)N * b->ir.dim) +
         dot(b->z, b->wz, (size_t)N * b->tg.nz);
}

static void blk_backward(blk *b) {
  const int N = b->N, E = b->E;
  const size_t nh = (size_t)N * b->ir.dim;
  /* every gradient buffer starts at zero, every backward accumulates */
  memset(b->dp, 0, b->off[6] * sizeof(double));
  memset(b->dh, 0, nh * sizeof(double));
  memset(b->dxe, 0, (size_t)E * b->ir.dim * sizeof(double));
  memset(b->drad, 0, (size_t)E * b->so2.nrad * sizeof(double));
  memset(b->drb, 0, (size_t)E * b->nb * sizeof(double));
  memset(b->dmsg, 0, (size_t)E * b->irm.dim * sizeof(double));
  memset(b->dagg, 0, (size_t)N * b->irm.dim * sizeof(double));
  memset(b->dhn, 0, nh * sizeof(double));
  memcpy(b->dh1, b->w, nh * sizeof(double)); /* out = h1 + g */
  nh_nn_tracegrad_backward(b->dhn, b->dp + b->off[5], b->w, b->wz, b->work,
                           b->tcache, b->hn, b->p + b->off[5], &b->tg, N);
  nh_nn_norm_backward(b->dh1, b->dp + b->off[4], b->dhn, b->h1,
                      b->p + b->off[4], &b->ir, N);
  for (size_t j = 0; j < nh; j++) /* h1 = h + linear(agg) */
    b->dh[j] += b->dh1[j];
  nh_nn_linear_backward(b->dagg, b->dp + b->off[3], b->dh1, b->agg,
                        b->p + b->off[3], &b->irm, &b->ir, N);
  nh_nn_attn_backward(b->dmsg, b->dp + b->off[2], b->dagg, b->work, b->msg,
                      b->dst, b->p + b->off[2], &b->at, N, E);
  assert_nh_ok(nh_nn_so2_backward(b->dxe, b->drad, b->dp + b->off[1], b->dmsg,
                                  b->work, b->xe, b->rad, b->r,
                                  b->p + b->off[1], &b->so2, E));
  nh_nn_mlp_backward(b->drb, b->dp + b->off[0], b->drad, NULL, b->work,
                     b->rcache, b->rb, b->p + b->off[0], &b->rmlp, E);
  nh_nn_gather_backward(b->dh, b->dxe, b->src, b->ir.dim, E);
}

static void test_block(void **state) {
  (void)state;
  blk b = {.N = 4, .E = 7, .nb = 6, .rc = 6.0,
           .src = {1, 2, 0, 3, 0, 1, 2}, .dst = {0, 0, 1, 1, 2, 3, 3}};
  irreps_a(&b.ir);
  const int Lm[] = {0, 1, 2, 2}, pm[] = {1, -1, 1, -1}, mm[] = {4, 2, 2, 2};
  assert_nh_ok(nh_nn_irreps_set(&b.irm, 4, Lm, pm, mm));
  assert_nh_ok(nh_nn_so2_set(&b.so2, &b.ir, &b.irm));
  const int rs[] = {b.nb, 8, b.so2.nrad}, hidden[] = {12};
  assert_nh_ok(nh_nn_mlp_set(&b.rmlp, 2, rs));
  assert_nh_ok(nh_nn_attn_set(&b.at, &b.irm, 2));
  assert_nh_ok(nh_nn_tracegrad_set(&b.tg, &b.ir, NH_NN_INV_GRAM, 1, hidden, 3));
  /* the flat parameter buffer and its named slices */
  const size_t np[6] = {nh_nn_mlp_nparams(&b.rmlp), nh_nn_so2_nparams(&b.so2),
                        nh_nn_attn_nparams(&b.at),
                        nh_nn_linear_nparams(&b.irm, &b.ir),
                        nh_nn_norm_nparams(&b.ir),
                        nh_nn_tracegrad_nparams(&b.tg)};
  for (int i = 0; i < 6; i++)
    b.off[i + 1] = b.off[i] + np[i];
  const int N = b.N, E = b.E, D = b.ir.dim, DM = b.irm.dim;
  size_t nw = nh_nn_so2_work(&b.so2, E);
  nw = fmax(nw, nh_nn_attn_work(&b.at, N, E));
  nw = fmax(nw, nh_nn_mlp_work(&b.rmlp, E));
  nw = fmax(nw, nh_nn_tracegrad_work(&b.tg, N));
  b.h = alloc(N * D), b.p = alloc(b.off[6]), b.w = alloc(N * D);
  b.wz = alloc(N * 3), b.xe = alloc(E * D), b.rb = alloc(E * b.nb);
  b.rad = alloc(E * b.so2.nrad), b.rcache = alloc(nh_nn_mlp_cache(&b.rmlp, E));
  b.msg = alloc(E * DM), b.agg = alloc(N * DM), b.h1 = alloc(N * D);
  b.hn = alloc(N * D), b.g = alloc(N * D), b.z = alloc(N * 3);
  b.out = alloc(N * D), b.tcache = alloc(nh_nn_tracegrad_cache(&b.tg, N));
  b.work = alloc(nw), b.dh = alloc(N * D), b.dp = alloc(b.off[6]);
  b.dxe = alloc(E * D), b.drad = alloc(E * b.so2.nrad), b.drb = alloc(E * b.nb);
  b.dmsg = alloc(E * DM), b.dagg = alloc(N * DM), b.dh1 = alloc(N * D);
  b.dhn = alloc(N * D), b.dout = alloc(N * D);
  fill(b.pos, 12, -1.5, 1.5), fill(b.h, N * D, -1, 1);
  fill(b.p, b.off[6], -0.5, 0.5), fill(b.w, N * D, -1, 1);
  fill(b.wz, N * 3, -1, 1);
  for (size_t j = b.off[4]; j < b.off[5]; j++) /* norm gains near 1 */
    b.p[j] += 1.0;
  blk_forward(&b);
  blk_backward(&b);
  check_grad("block, all parameters", blk_forward, &b, b.p, b.off[6], b.dp);
  check_grad("block, node features", blk_forward, &b, b.h, N * D, b.dh);
  /* equivariance of the whole block: rotate positions and features */
  double *h0 = alloc(N * D), *o0 = alloc(N * D), *o1 = alloc(N * D),
         *z0 = alloc(N * 3), pos0[12];
  memcpy(h0, b.h, N * D * sizeof(double)), memcpy(pos0, b.pos, sizeof pos0);
  for (int imp = 0; imp < 2; imp++) {
    rot r;
    rot_make(&r, imp);
    memcpy(b.h, h0, N * D * sizeof(double)), memcpy(b.pos, pos0, sizeof pos0);
    blk_forward(&b);
    nh_nn_irreps_rotate(&b.ir, r.D, imp, N, b.out, o0);
    memcpy(z0, b.z, N * 3 * sizeof(double));
    nh_nn_irreps_rotate(&b.ir, r.D, imp, N, h0, b.h);
    rotate_vecs(&r, pos0, b.pos, N);
    for (int a = 0; a < 3; a++) /* and translate: only differences count */
      for (int i = 0; i < N; i++)
        b.pos[3 * i + a] += 0.37 * (a + 1);
    blk_forward(&b);
    memcpy(o1, b.out, N * D * sizeof(double));
    expect_equal(imp ? "block, improper R + translation"
                     : "block, proper R + translation", o0, o1, N * D);
    expect_equal(imp ? "block z invariant, improper R"
                     : "block z invariant, proper R", z0, b.z, N * 3);
  }
  double **bufs[] = {&b.h, &b.p, &b.w, &b.wz, &b.xe, &b.rb, &b.rad, &b.rcache,
                     &b.msg, &b.agg, &b.h1, &b.hn, &b.g, &b.z, &b.out,
                     &b.tcache, &b.work, &b.dh, &b.dp, &b.dxe, &b.drad,
                     &b.drb, &b.dmsg, &b.dagg, &b.dh1, &b.dhn, &b.dout,
                     &h0, &o0, &o1, &z0};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
    nh_free(bufs[i]);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_irreps_set), cmocka_unit_test(test_linear),
      cmocka_unit_test(test_norm),       cmocka_unit_test(test_radial),
      cmocka_unit_test(test_mlp),        cmocka_unit_test(test_tracegrad),
      cmocka_unit_test(test_linear_reference),
      cmocka_unit_test(test_so2_reference),
      cmocka_unit_test(test_so2),        cmocka_unit_test(test_so2_timing),
      cmocka_unit_test(test_attn),       cmocka_unit_test(test_gather),
      cmocka_unit_test(test_heads),      cmocka_unit_test(test_block),
  };
  const int fail = cmocka_run_group_tests(tests, NULL, NULL);
  MPI_Finalize();
  return fail ? 1 : 0;
}
