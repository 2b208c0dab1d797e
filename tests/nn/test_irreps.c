/* Tests of the irreps toolkit (include/nextham/irreps.h): real spherical
 * harmonics against CP2K's angular polynomials, orthonormality by
 * quadrature, the addition theorem, gradients against finite differences,
 * Wigner D against rotated harmonics, CG orthogonality and equivariance,
 * exact block decomposition, and shell padding for real basis sets. */
#include "nhtest.h"

#include <math.h>
#include <string.h>

#include "nextham/irreps.h"

#define LM NH_IRREPS_LMAX
#define NLM ((LM + 1) * (LM + 1))
#define NW 969 /* nh_irreps_wigner_off(9) */

/* ---------------------------------------------------------------- helpers */

static unsigned long long rng_state = 88172645463325252ULL;
static double urand(void) { /* xorshift64, uniform in [0, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* A random proper rotation from a random unit quaternion. */
static void random_rotation(double R[9]) {
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
  memcpy(R, M, sizeof M);
}

static void matvec3(const double R[9], const double v[3], double out[3]) {
  for (int i = 0; i < 3; i++)
    out[i] = R[3 * i] * v[0] + R[3 * i + 1] * v[1] + R[3 * i + 2] * v[2];
}

static void matmul(int n, const double *A, const double *B, double *C) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double s = 0.0;
      for (int k = 0; k < n; k++)
        s += A[i * n + k] * B[k * n + j];
      C[i * n + j] = s;
    }
}

static double dfact(int n) { /* n!! with (-1)!! = 1 */
  double f = 1.0;
  for (int k = n; k > 1; k -= 2)
    f *= k;
  return f;
}

static double legendre(int l, double t) { /* Bonnet's recurrence */
  double p0 = 1.0, p1 = t;
  if (l == 0)
    return 1.0;
  for (int k = 1; k < l; k++) {
    const double p2 = ((2 * k + 1) * t * p1 - k * p0) / (k + 1);
    p0 = p1;
    p1 = p2;
  }
  return p1;
}

/* CP2K's angular factors P_lm (CONVENTIONS.md §2), l <= 3, m = -l..l. */
static double cp2k_p(int l, int m, double x, double y, double z) {
  const double s3 = sqrt(3.0), s6 = sqrt(6.0), s10 = sqrt(10.0),
               s15 = sqrt(15.0);
  switch (10 * l + (m + l)) {
  case 0: return 1.0;
  case 10: return y;
  case 11: return z;
  case 12: return x;
  case 20: return x * y;
  case 21: return y * z;
  case 22: return (2 * z * z - x * x - y * y) / (2 * s3);
  case 23: return x * z;
  case 24: return (x * x - y * y) / 2;
  case 30: return (3 * x * x * y - y * y * y) / (2 * s6);
  case 31: return x * y * z;
  case 32: return y * (4 * z * z - x * x - y * y) / (2 * s10);
  case 33: return z * (2 * z * z - 3 * x * x - 3 * y * y) / (2 * s15);
  case 34: return x * (4 * z * z - x * x - y * y) / (2 * s10);
  case 35: return z * (x * x - y * y) / 2;
  case 36: return (x * x * x - 3 * x * y * y) / (2 * s6);
  }
  return NAN;
}

/* Gauss–Legendre nodes and weights on [-1, 1] by Newton's method. */
static void gauss_legendre(int n, double *t, double *w) {
  for (int i = 0; i < n; i++) {
    double x = cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 1.0;
    for (int it = 0; it < 100; it++) {
      double p0 = 1.0, p1 = x;
      for (int k = 1; k < n; k++) {
        const double p2 = ((2 * k + 1) * x * p1 - k * p0) / (k + 1);
        p0 = p1;
        p1 = p2;
      }
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double dx = p1 / dp;
      x -= dx;
      if (fabs(dx) < 1e-16)
        break;
    }
    t[i] = x;
    w[i] = 2.0 / ((1.0 - x * x) * dp * dp);
  }
}

/* Offset of b_L inside the irreps of an (l1, l2) block. */
static int irrep_off(int l1, int l2, int L) {
  int off = 0;
  for (int k = abs(l1 - l2); k < L; k++)
    off += 2 * k + 1;
  return off;
}

/* ------------------------------------------------- spherical harmonics */

static void test_sph_cp2k_polynomials(void **state) {
  (void)state;
  const double dirs[4][3] = {
      {0.3, -0.7, 0.5}, {1.0, 2.0, 3.0}, {-0.2, 0.1, -0.9}, {0.0, 0.0, 2.5}};
  double Y[NLM], maxerr = 0.0;
  for (int d = 0; d < 4; d++) {
    const double *r = dirs[d];
    const double n = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
    assert_nh_ok(nh_irreps_sph(3, r, Y, NULL));
    for (int l = 0; l <= 3; l++)
      for (int m = -l; m <= l; m++) {
        const double ref = sqrt(dfact(2 * l + 1) / (4 * M_PI)) *
                           cp2k_p(l, m, r[0] / n, r[1] / n, r[2] / n);
        maxerr = fmax(maxerr, fabs(Y[nh_irreps_idx(l, m)] - ref));
      }
  }
  printf("  Y_lm vs sqrt((2l+1)!!/4pi) P_lm (CP2K), l <= 3: max err %.2e\n",
         maxerr);
  assert_true(maxerr < 1e-15);
  /* hand values: Y_00, Y_1,+1(x) = sqrt(3/4pi), Y_20(z) = sqrt(5/4pi),
   * Y_3,+3(x) = sqrt(35/(32 pi)), Y_1,-1(y) = +sqrt(3/4pi) (no CS phase) */
  const double ex[3] = {2.0, 0.0, 0.0}, ey[3] = {0, 0.5, 0}, ez[3] = {0, 0, 1};
  assert_nh_ok(nh_irreps_sph(3, ex, Y, NULL));
  assert_close(Y[0], 0.28209479177387814, 1e-16);
  assert_close(Y[nh_irreps_idx(1, 1)], 0.4886025119029199, 1e-15);
  assert_close(Y[nh_irreps_idx(3, 3)], 0.5900435899266435, 1e-15);
  assert_close(Y[nh_irreps_idx(3, -3)], 0.0, 1e-16);
  assert_nh_ok(nh_irreps_sph(3, ey, Y, NULL));
  assert_close(Y[nh_irreps_idx(1, -1)], 0.4886025119029199, 1e-15);
  assert_nh_ok(nh_irreps_sph(3, ez, Y, NULL));
  assert_close(Y[nh_irreps_idx(2, 0)], 0.6307831305050401, 1e-15);
  /* l = 4 from the standard tables: Y_40, Y_44, Y_4,-4 */
  const double r[3] = {0.3, -0.7, 0.5};
  const double n = sqrt(0.83), x = r[0] / n, y = r[1] / n, z = r[2] / n;
  assert_nh_ok(nh_irreps_sph(4, r, Y, NULL));
  assert_close(Y[nh_irreps_idx(4, 0)],
                     3.0 / (16 * sqrt(M_PI)) * (35 * pow(z, 4) - 30 * z * z + 3),
                     1e-15);
  assert_close(Y[nh_irreps_idx(4, 4)],
                     3.0 / 16 * sqrt(35 / M_PI) *
                         (pow(x, 4) - 6 * x * x * y * y + pow(y, 4)),
                     1e-15);
  assert_close(Y[nh_irreps_idx(4, -4)],
                     0.75 * sqrt(35 / M_PI) * x * y * (x * x - y * y), 1e-15);
}

static void test_sph_solid_and_errors(void **state) {
  (void)state;
  const double r[3] = {0.9, -1.3, 2.1};
  const double n = sqrt(0.81 + 1.69 + 4.41);
  double Y[NLM], S[NLM], maxrel = 0.0;
  assert_nh_ok(nh_irreps_sph(LM, r, Y, NULL));
  assert_nh_ok(nh_irreps_solid(LM, r, S, NULL));
  for (int l = 0; l <= LM; l++)
    for (int m = -l; m <= l; m++) {
      const int i = nh_irreps_idx(l, m);
      maxrel = fmax(maxrel, fabs(S[i] - pow(n, l) * Y[i]) / pow(n, l));
    }
  printf("  solid R_lm = r^l Y_lm, l <= 8: max rel err %.2e\n", maxrel);
  assert_true(maxrel < 1e-14);
  const double zero[3] = {0, 0, 0};
  assert_nh_ok(nh_irreps_solid(2, zero, S, NULL));
  assert_close(S[0], 0.5 / sqrt(M_PI), 1e-16);
  assert_close(S[nh_irreps_idx(2, 1)], 0.0, 0.0);
  assert_nh_fails(nh_irreps_sph(2, zero, Y, NULL), NH_ERR_ARG, "zero vector");
  assert_nh_fails(nh_irreps_sph(9, r, Y, NULL), NH_ERR_ARG, "lmax = 9");
}

/* Σ_m Y_lm(a) Y_lm(b) = (2l+1)/(4π) P_l(â·b̂), an independent check of the
 * normalisation and of every m for l <= 8. */
static void test_sph_addition_theorem(void **state) {
  (void)state;
  double maxerr = 0.0;
  for (int t = 0; t < 20; t++) {
    double a[3], b[3], Ya[NLM], Yb[NLM];
    for (int k = 0; k < 3; k++) {
      a[k] = 2 * urand() - 1;
      b[k] = 2 * urand() - 1;
    }
    assert_nh_ok(nh_irreps_sph(LM, a, Ya, NULL));
    assert_nh_ok(nh_irreps_sph(LM, b, Yb, NULL));
    const double c = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) /
                     sqrt((a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) *
                          (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]));
    for (int l = 0; l <= LM; l++) {
      double s = 0.0;
      for (int m = -l; m <= l; m++)
        s += Ya[nh_irreps_idx(l, m)] * Yb[nh_irreps_idx(l, m)];
      maxerr = fmax(maxerr, fabs(s - (2 * l + 1) / (4 * M_PI) * legendre(l, c)));
    }
  }
  printf("  addition theorem, l <= 8: max err %.2e\n", maxerr);
  assert_true(maxerr < 1e-14);
}

/* ∫ Y_lm Y_l'm' dΩ = δ by a product Gauss–Legendre (cos θ, 12 points) ×
 * trapezoid (φ, 24 points) rule, exact for the degree-16 products. */
static void test_sph_orthonormal(void **state) {
  (void)state;
  enum { NT = 12, NP = 24 };
  double t[NT], w[NT];
  static double G[NLM * NLM];
  memset(G, 0, sizeof G);
  gauss_legendre(NT, t, w);
  for (int i = 0; i < NT; i++)
    for (int j = 0; j < NP; j++) {
      const double st = sqrt(1 - t[i] * t[i]), ph = 2 * M_PI * j / NP;
      const double r[3] = {st * cos(ph), st * sin(ph), t[i]};
      double Y[NLM];
      assert_nh_ok(nh_irreps_sph(LM, r, Y, NULL));
      const double wt = w[i] * 2 * M_PI / NP;
      for (int a = 0; a < NLM; a++)
        for (int b = 0; b < NLM; b++)
          G[a * NLM + b] += wt * Y[a] * Y[b];
    }
  double maxerr = 0.0;
  for (int a = 0; a < NLM; a++)
    for (int b = 0; b < NLM; b++)
      maxerr = fmax(maxerr, fabs(G[a * NLM + b] - (a == b)));
  printf("  orthonormality by quadrature, l <= 8 (81x81): max err %.2e\n",
         maxerr);
  assert_true(maxerr < 1e-12);
}

/* Fourth-order central differences (error O(h⁴)) of Y and of r^l Y. */
static void test_sph_gradients(void **state) {
  (void)state;
  const double pts[3][3] = {{0.3, -0.7, 0.5}, {-1.9, 0.4, 1.1}, {0.01, 0.02, -2.0}};
  const double h = 2e-4;
  double worst_y = 0.0, worst_s = 0.0;
  for (int p = 0; p < 3; p++)
    for (int solid = 0; solid < 2; solid++) {
      double F[NLM], dF[3 * NLM], Fp[4][NLM];
      nh_err (*fn)(int, const double *, double *, double *) =
          solid ? nh_irreps_solid : nh_irreps_sph;
      assert_nh_ok(fn(LM, pts[p], F, dF));
      double fd[3 * NLM];
      for (int k = 0; k < 3; k++) {
        const double st[4] = {-2, -1, 1, 2};
        for (int s = 0; s < 4; s++) {
          double r[3] = {pts[p][0], pts[p][1], pts[p][2]};
          r[k] += st[s] * h;
          assert_nh_ok(fn(LM, r, Fp[s], NULL));
        }
        for (int i = 0; i < NLM; i++)
          fd[3 * i + k] = (Fp[0][i] - 8 * Fp[1][i] + 8 * Fp[2][i] - Fp[3][i]) /
                          (12 * h);
      }
      for (int l = 0; l <= LM; l++) {
        double md = 0.0, mg = 0.0;
        for (int i = 3 * l * l; i < 3 * (l + 1) * (l + 1); i++) {
          md = fmax(md, fabs(fd[i] - dF[i]));
          mg = fmax(mg, fabs(dF[i]));
        }
        const double rel = l == 0 ? md : md / mg;
        if (solid)
          worst_s = fmax(worst_s, rel);
        else
          worst_y = fmax(worst_y, rel);
      }
    }
  printf("  gradients vs finite differences, l <= 8: rel err Y %.2e, "
         "r^l Y %.2e\n", worst_y, worst_s);
  assert_true(worst_y < 1e-8);
  assert_true(worst_s < 1e-8);
}

/* ------------------------------------------------------------- Wigner D */

static double *dblock(double *D, int l) { return D + nh_irreps_wigner_off(l); }

static void test_wigner_rotates_harmonics(void **state) {
  (void)state;
  double maxerr = 0.0;
  for (int t = 0; t < 20; t++) {
    double R[9], D[NW];
    random_rotation(R);
    if (t % 2) /* improper: inversion times a rotation */
      for (int i = 0; i < 9; i++)
        R[i] = -R[i];
    if (t == 18) { /* gimbal-lock case of Euler angles: π about x */
      const double Rx[9] = {1, 0, 0, 0, -1, 0, 0, 0, -1};
      memcpy(R, Rx, sizeof Rx);
    }
    assert_nh_ok(nh_irreps_wigner(LM, R, D));
    for (int d = 0; d < 5; d++) {
      double r[3] = {2 * urand() - 1, 2 * urand() - 1, 2 * urand() - 1}, Rr[3];
      double Y[NLM], YR[NLM];
      matvec3(R, r, Rr);
      assert_nh_ok(nh_irreps_sph(LM, r, Y, NULL));
      assert_nh_ok(nh_irreps_sph(LM, Rr, YR, NULL));
      for (int l = 0; l <= LM; l++) {
        const double *Dl = dblock(D, l);
        for (int m = 0; m < 2 * l + 1; m++) {
          double s = 0.0;
          for (int n = 0; n < 2 * l + 1; n++)
            s += Dl[m * (2 * l + 1) + n] * Y[l * l + n];
          maxerr = fmax(maxerr, fabs(s - YR[l * l + m]));
        }
      }
    }
  }
  printf("  D^l Y_l(r) = Y_l(R r), l <= 8, proper and improper: max err %.2e\n",
         maxerr);
  assert_true(maxerr < 1e-12);
}

static void test_wigner_group(void **state) {
  (void)state;
  double R1[9], R2[9], R12[9], D1[NW], D2[NW], D12[NW], P[17 * 17];
  random_rotation(R1);
  random_rotation(R2);
  for (int i = 0; i < 9; i++)
    R2[i] = -R2[i]; /* an improper one too */
  matmul(3, R1, R2, R12);
  assert_nh_ok(nh_irreps_wigner(LM, R1, D1));
  assert_nh_ok(nh_irreps_wigner(LM, R2, D2));
  assert_nh_ok(nh_irreps_wigner(LM, R12, D12));
  /* D^1 is R permuted to (y, z, x), exactly */
  static const int perm[3] = {1, 2, 0};
  for (int m = 0; m < 3; m++)
    for (int n = 0; n < 3; n++)
      assert_close(dblock(D2, 1)[3 * m + n], R2[3 * perm[m] + perm[n]], 0.0);
  double ortho = 0.0, hom = 0.0;
  for (int l = 0; l <= LM; l++) {
    const int n = 2 * l + 1;
    const double *A = dblock(D1, l);
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        double s = 0.0;
        for (int k = 0; k < n; k++)
          s += A[i * n + k] * A[j * n + k];
        ortho = fmax(ortho, fabs(s - (i == j)));
      }
    matmul(n, dblock(D1, l), dblock(D2, l), P);
    for (int i = 0; i < n * n; i++)
      hom = fmax(hom, fabs(P[i] - dblock(D12, l)[i]));
  }
  printf("  D orthogonal: %.2e; D(R1 R2) = D(R1) D(R2): %.2e (l <= 8)\n",
         ortho, hom);
  assert_true(ortho < 1e-13);
  assert_true(hom < 1e-12);
  /* rotation by a about z: the (m, -m) pair turns by m a */
  const double a = 0.3;
  const double Rz[9] = {cos(a), -sin(a), 0, sin(a), cos(a), 0, 0, 0, 1};
  assert_nh_ok(nh_irreps_wigner(LM, Rz, D1));
  const double *D8 = dblock(D1, 8);
  assert_close(D8[16 * 17 + 16], cos(8 * a), 1e-14); /* (8, 8)   */
  assert_close(D8[16 * 17 + 0], -sin(8 * a), 1e-14); /* (8, -8)  */
  assert_close(D8[0 * 17 + 16], sin(8 * a), 1e-14);  /* (-8, 8)  */
  assert_close(D8[8 * 17 + 8], 1.0, 1e-14);          /* (0, 0)   */
  const double bad[9] = {1, 0, 0, 0, 1, 0, 0, 0.1, 1};
  assert_nh_fails(nh_irreps_wigner(2, bad, D1), NH_ERR_ARG, "non-orthogonal");
}

/* The edge frame is a proper rotation taking r̂ to ẑ; there Y_l(ẑ) is
 * nonzero only at m = 0, so D^l(R) Y_l(r̂) = √((2l+1)/4π) e_0. */
static void test_edge_frame(void **state) {
  (void)state;
  const double dirs[6][3] = {{0.3, -0.7, 0.5}, {0, 0, 2}, {0, 0, -3},
                             {1e-9, -2e-9, -1}, {-1, 0, 0}, {0.2, 0.1, -0.97}};
  double maxerr = 0.0;
  for (int d = 0; d < 6; d++) {
    double R[9], Rr[3], D[NW], Y[NLM];
    assert_nh_ok(nh_irreps_edge_frame(dirs[d], R));
    matvec3(R, dirs[d], Rr);
    const double n = sqrt(Rr[0] * Rr[0] + Rr[1] * Rr[1] + Rr[2] * Rr[2]);
    maxerr = fmax(maxerr, fmax(fabs(Rr[0]) / n, fmax(fabs(Rr[1]) / n, fabs(Rr[2] / n - 1))));
    const double det = R[0] * (R[4] * R[8] - R[5] * R[7]) -
                       R[1] * (R[3] * R[8] - R[5] * R[6]) +
                       R[2] * (R[3] * R[7] - R[4] * R[6]);
    maxerr = fmax(maxerr, fabs(det - 1));
    assert_nh_ok(nh_irreps_wigner(LM, R, D)); /* also checks R Rᵀ = I */
    assert_nh_ok(nh_irreps_sph(LM, dirs[d], Y, NULL));
    for (int l = 0; l <= LM; l++) {
      const double *Dl = dblock(D, l);
      for (int m = 0; m < 2 * l + 1; m++) {
        double s = 0.0;
        for (int k = 0; k < 2 * l + 1; k++)
          s += Dl[m * (2 * l + 1) + k] * Y[l * l + k];
        maxerr = fmax(maxerr, fabs(s - (m == l) * sqrt((2 * l + 1) / (4 * M_PI))));
      }
    }
  }
  printf("  edge frame: R r/|r| = z, det R = 1, D Y(r) = Y(z): max err %.2e\n",
         maxerr);
  assert_true(maxerr < 1e-13);
  const double zero[3] = {0, 0, 0};
  double R[9];
  assert_nh_fails(nh_irreps_edge_frame(zero, R), NH_ERR_ARG, "zero vector");
}

/* ------------------------------------------------------- Clebsch–Gordan */

static nh_irreps_cg *cg4; /* l1, l2 <= 4, L <= 8 */

static int setup_cg(void **state) {
  (void)state;
  return nh_irreps_cg_create(4, 8, &cg4) ? -1 : 0;
}

static int teardown_cg(void **state) {
  (void)state;
  nh_irreps_cg_destroy(&cg4);
  return 0;
}

/* For l1 + l2 <= 8 the CG matrix [(L, M), (m1, m2)] is square and
 * orthogonal; beyond, its rows L <= 8 stay orthonormal. */
static void test_cg_orthogonal(void **state) {
  (void)state;
  nh_irreps_cg *cg8 = NULL;
  assert_nh_ok(nh_irreps_cg_create(8, 8, &cg8));
  double maxerr = 0.0;
  static double C[81 * 289];
  for (int l1 = 0; l1 <= 8; l1++)
    for (int l2 = 0; l2 <= 8; l2++) {
      const nh_irreps_cg *cg = l1 <= 4 && l2 <= 4 ? cg4 : cg8;
      const int n = (2 * l1 + 1) * (2 * l2 + 1), Lmax = l1 + l2 < 8 ? l1 + l2 : 8;
      const int nr = irrep_off(l1, l2, Lmax + 1);
      memset(C, 0, sizeof C);
      for (int L = abs(l1 - l2); L <= Lmax; L++) {
        const int t = nh_irreps_cg_triple(cg, l1, l2, L), off = irrep_off(l1, l2, L);
        for (int i = cg->start[t]; i < cg->start[t + 1]; i++)
          C[(off + cg->mm[i]) * n + cg->m1[i] * (2 * l2 + 1) + cg->m2[i]] =
              cg->val[i];
      }
      for (int i = 0; i < nr; i++)
        for (int j = 0; j < nr; j++) {
          double s = 0.0;
          for (int k = 0; k < n; k++)
            s += C[i * n + k] * C[j * n + k];
          maxerr = fmax(maxerr, fabs(s - (i == j)));
        }
      if (nr == n)
        for (int i = 0; i < n; i++)
          for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int k = 0; k < n; k++)
              s += C[k * n + i] * C[k * n + j];
            maxerr = fmax(maxerr, fabs(s - (i == j)));
          }
    }
  printf("  CG orthogonal (C Ct = I, and Ct C = I when l1 + l2 <= 8), l1, l2 <= 8: "
         "max err %.2e; nnz %d (4, 8) %d (8, 8)\n", maxerr, cg4->nnz, cg8->nnz);
  assert_true(maxerr < 1e-14);
  /* C^{00}_{l m l m'} = (-1)^l δ/√(2l+1) (Condon–Shortley complex CG signs) */
  /* 2 ulp: valgrind's libm emulation may round sqrt differently */
  assert_close(nh_irreps_cg_get(cg4, 1, 1, 1, 1, 0, 0), -1 / sqrt(3.0), 2.3e-16);
  assert_close(nh_irreps_cg_get(cg4, 2, -1, 2, -1, 0, 0), 1 / sqrt(5.0), 2.3e-16);
  assert_close(nh_irreps_cg_get(cg4, 2, -1, 2, 1, 0, 0), 0.0, 0.0);
  nh_irreps_cg_destroy(&cg8);
  assert_null(cg8);
  assert_nh_fails(nh_irreps_cg_create(9, 8, &cg8), NH_ERR_ARG, "lmax_in = 9");
}

/* The 3j-based value <l1 0 l2 0 | L 0> by its closed formula. */
static double cg000(int l1, int l2, int L) {
  const int g2 = l1 + l2 + L, g = g2 / 2;
  if (g2 % 2)
    return 0.0;
  double f[40];
  f[0] = 1;
  for (int i = 1; i < 40; i++)
    f[i] = f[i - 1] * i;
  const double w3 = ((g % 2) ? -1 : 1) *
                    sqrt(f[g2 - 2 * l1] * f[g2 - 2 * l2] * f[g2 - 2 * L] / f[g2 + 1]) *
                    f[g] / (f[g - l1] * f[g - l2] * f[g - L]);
  return (((l1 - l2) % 2) ? -1 : 1) * sqrt(2 * L + 1.0) * w3;
}

/* Coupling Y_l1(r̂) Y_l2(r̂) to L gives √((2l1+1)(2l2+1)/(4π(2L+1)))
 * <l1 0 l2 0|L 0> Y_L(r̂): the real table is consistent with the harmonics,
 * including the sign. */
static void test_cg_couples_harmonics(void **state) {
  (void)state;
  double maxerr = 0.0;
  for (int p = 0; p < 4; p++) {
    const double r[3] = {2 * urand() - 1, 2 * urand() - 1, 2 * urand() - 1};
    double Y[NLM];
    assert_nh_ok(nh_irreps_sph(LM, r, Y, NULL));
    for (int l1 = 0; l1 <= 4; l1++)
      for (int l2 = 0; l2 <= 4; l2++) {
        double B[81], b[81];
        for (int i = 0; i < 2 * l1 + 1; i++)
          for (int j = 0; j < 2 * l2 + 1; j++)
            B[i * (2 * l2 + 1) + j] = Y[l1 * l1 + i] * Y[l2 * l2 + j];
        assert_nh_ok(nh_irreps_block_to_irreps(cg4, l1, l2, B, 2 * l2 + 1, b));
        for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
          const double k = sqrt((2 * l1 + 1) * (2 * l2 + 1) / (4 * M_PI * (2 * L + 1))) *
                           cg000(l1, l2, L);
          for (int M = 0; M < 2 * L + 1; M++)
            maxerr = fmax(maxerr, fabs(b[irrep_off(l1, l2, L) + M] - k * Y[L * L + M]));
        }
      }
  }
  printf("  CG couples Y_l1 Y_l2 into k Y_L (l1, l2 <= 4): max err %.2e\n", maxerr);
  assert_true(maxerr < 1e-14);
}

/* C (D^{l1} ⊗ D^{l2}) = ± D^L C, with + for proper R and (-1)^{l1+l2+L} for
 * improper R (the parity of an (l1, l2) product is (-1)^{l1+l2}). */
static void test_cg_equivariant(void **state) {
  (void)state;
  double maxerr = 0.0;
  for (int t = 0; t < 4; t++) {
    double R[9], D[NW];
    random_rotation(R);
    if (t >= 2)
      for (int i = 0; i < 9; i++)
        R[i] = -R[i];
    assert_nh_ok(nh_irreps_wigner(LM, R, D));
    for (int l1 = 0; l1 <= 4; l1++)
      for (int l2 = 0; l2 <= 4; l2++)
        for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
          const int n1 = 2 * l1 + 1, n2 = 2 * l2 + 1, nL = 2 * L + 1;
          const double *A = dblock(D, l1), *B = dblock(D, l2), *DL = dblock(D, L);
          const double sg = t >= 2 && (l1 + l2 + L) % 2 ? -1.0 : 1.0;
          for (int M = -L; M <= L; M++)
            for (int m1 = 0; m1 < n1; m1++)
              for (int m2 = 0; m2 < n2; m2++) {
                double lhs = 0.0, rhs = 0.0; /* [C (A⊗B)]_{M,(m1 m2)}, [D C] */
                for (int k1 = 0; k1 < n1; k1++)
                  for (int k2 = 0; k2 < n2; k2++)
                    lhs += nh_irreps_cg_get(cg4, l1, k1 - l1, l2, k2 - l2, L, M) *
                           A[k1 * n1 + m1] * B[k2 * n2 + m2];
                for (int K = 0; K < nL; K++)
                  rhs += DL[(M + L) * nL + K] *
                         nh_irreps_cg_get(cg4, l1, m1 - l1, l2, m2 - l2, L, K - L);
                maxerr = fmax(maxerr, fabs(lhs - sg * rhs));
              }
        }
  }
  printf("  CG equivariance C (D1 x D2) = D^L C, l1, l2 <= 4, L <= 8: max err %.2e\n",
         maxerr);
  assert_true(maxerr < 1e-12);
}

/* -------------------------------------------------------- orbital blocks */

static void random_block(int n, double *B) {
  for (int i = 0; i < n; i++)
    B[i] = 2 * urand() - 1;
}

static void test_block_roundtrip_and_transpose(void **state) {
  (void)state;
  double rt = 0.0, tr = 0.0;
  for (int l1 = 0; l1 <= 4; l1++)
    for (int l2 = 0; l2 <= 4; l2++) {
      const int n1 = 2 * l1 + 1, n2 = 2 * l2 + 1;
      double B[81], B2[81], Bt[81], b[81], bt[81];
      random_block(n1 * n2, B);
      assert_nh_ok(nh_irreps_block_to_irreps(cg4, l1, l2, B, n2, b));
      assert_nh_ok(nh_irreps_irreps_to_block(cg4, l1, l2, b, B2, n2));
      for (int i = 0; i < n1 * n2; i++)
        rt = fmax(rt, fabs(B2[i] - B[i]));
      for (int i = 0; i < n1; i++)
        for (int j = 0; j < n2; j++)
          Bt[j * n1 + i] = B[i * n2 + j];
      assert_nh_ok(nh_irreps_block_to_irreps(cg4, l2, l1, Bt, n1, bt));
      for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
        const double sg = (l1 + l2 - L) % 2 ? -1.0 : 1.0;
        const int off = irrep_off(l1, l2, L);
        for (int M = 0; M < 2 * L + 1; M++)
          tr = fmax(tr, fabs(bt[off + M] - sg * b[off + M]));
      }
    }
  printf("  block -> irreps -> block round trip: %.2e; transpose rule: %.2e\n",
         rt, tr);
  assert_true(rt < 1e-14);
  assert_true(tr < 1e-14);
  /* a block inside a larger matrix (stride 20) and a block too large */
  double big[20 * 7], b[49], back[20 * 7];
  random_block(20 * 7, big);
  memcpy(back, big, sizeof big);
  assert_nh_ok(nh_irreps_block_to_irreps(cg4, 3, 3, big + 5, 20, b));
  assert_nh_ok(nh_irreps_irreps_to_block(cg4, 3, 3, b, back + 5, 20));
  for (int i = 0; i < 20 * 7; i++)
    assert_close(back[i], big[i], 1e-14);
  assert_nh_fails(nh_irreps_block_to_irreps(cg4, 5, 1, big, 20, b), NH_ERR_ARG,
                  "lmax_in >= 5");
}

/* Two vectors u, v (p shells, CP2K order y, z, x): the p-p block u vᵀ
 * splits into -(u·v)/√3, (u×v)/√2 and the symmetric traceless rest. */
static void test_block_pp_physics(void **state) {
  (void)state;
  const double u[3] = {0.3, -1.2, 0.8}, v[3] = {1.1, 0.4, -0.5}; /* x, y, z */
  static const int perm[3] = {1, 2, 0};
  double B[9], b[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      B[3 * i + j] = u[perm[i]] * v[perm[j]];
  assert_nh_ok(nh_irreps_block_to_irreps(cg4, 1, 1, B, 3, b));
  const double dot = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
  const double cr[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                        u[0] * v[1] - u[1] * v[0]};
  assert_close(b[0], -dot / sqrt(3.0), 1e-15);
  for (int k = 0; k < 3; k++) /* b_1 = (u×v)/√2 in (y, z, x) order */
    assert_close(b[1 + k], cr[perm[k]] / sqrt(2.0), 1e-15);
  /* b_2 is traceless symmetric: b_2,0 = (2 u_z v_z - u_x v_x - u_y v_y)/√6 */
  assert_close(b[4 + 2], (2 * u[2] * v[2] - u[0] * v[0] - u[1] * v[1]) / sqrt(6.0),
                     1e-15);
}

/* D^{l1} B D^{l2}ᵀ decomposes into D^L b_L (times parity (-1)^{l1+l2+L}
 * for improper R). */
static void test_block_rotation(void **state) {
  (void)state;
  double maxerr = 0.0;
  for (int t = 0; t < 4; t++) {
    double R[9], D[NW];
    random_rotation(R);
    const int improper = t % 2;
    if (improper)
      for (int i = 0; i < 9; i++)
        R[i] = -R[i];
    assert_nh_ok(nh_irreps_wigner(LM, R, D));
    for (int l1 = 0; l1 <= 4; l1++)
      for (int l2 = 0; l2 <= 4; l2++) {
        const int n1 = 2 * l1 + 1, n2 = 2 * l2 + 1;
        double B[81], T[81], Br[81], b[81], br[81];
        random_block(n1 * n2, B);
        const double *A = dblock(D, l1), *C = dblock(D, l2);
        for (int i = 0; i < n1; i++) /* T = B C^T */
          for (int j = 0; j < n2; j++) {
            double s = 0.0;
            for (int k = 0; k < n2; k++)
              s += B[i * n2 + k] * C[j * n2 + k];
            T[i * n2 + j] = s;
          }
        for (int i = 0; i < n1; i++) /* Br = A T */
          for (int j = 0; j < n2; j++) {
            double s = 0.0;
            for (int k = 0; k < n1; k++)
              s += A[i * n1 + k] * T[k * n2 + j];
            Br[i * n2 + j] = s;
          }
        double Br2[81];
        assert_nh_ok(nh_irreps_block_rotate(D, LM, 1, &l1, 1, &l2, B, n2, Br2, n2));
        for (int i = 0; i < n1 * n2; i++)
          maxerr = fmax(maxerr, fabs(Br2[i] - Br[i]));
        assert_nh_ok(nh_irreps_block_to_irreps(cg4, l1, l2, B, n2, b));
        assert_nh_ok(nh_irreps_block_to_irreps(cg4, l1, l2, Br, n2, br));
        for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
          const int off = irrep_off(l1, l2, L), nL = 2 * L + 1;
          const double sg = improper && (l1 + l2 + L) % 2 ? -1.0 : 1.0;
          const double *DL = dblock(D, L);
          for (int M = 0; M < nL; M++) {
            double s = 0.0;
            for (int K = 0; K < nL; K++)
              s += DL[M * nL + K] * b[off + K];
            maxerr = fmax(maxerr, fabs(br[off + M] - sg * s));
          }
        }
      }
  }
  printf("  rotated block D1 B D2t -> D^L b_L (with parity): max err %.2e\n",
         maxerr);
  assert_true(maxerr < 1e-12);
}

/* --------------------------------------------------------------- padding */

static void test_pad_basis_sets(void **state) {
  (void)state;
  /* H DZVP (s,s,p), C and Si DZVP (s,s,p,p,d), N TZV2PX (s×3,p×3,d×2,f),
   * and a two-set element (s,p),(s,p) whose shells interleave */
  const int H[] = {0, 0, 1}, C[] = {0, 0, 1, 1, 2}, Si[] = {0, 0, 1, 1, 2},
            N[] = {0, 0, 0, 1, 1, 1, 2, 2, 3}, X[] = {0, 1, 0, 1};
  const int *shells[5] = {H, C, Si, N, X};
  const int nshell[5] = {3, 5, 5, 9, 4};
  nh_irreps_pad *pad = NULL;
  assert_nh_ok(nh_irreps_pad_create(5, nshell, shells, &pad));
  assert_int_equal(pad->nshell, 9);
  assert_int_equal(pad->norb, 29);
  assert_int_equal(pad->lmax, 3);
  const int nl[4] = {3, 3, 2, 1}, off[9] = {0, 1, 2, 3, 6, 9, 12, 17, 22};
  for (int l = 0; l < 4; l++)
    assert_int_equal(pad->nshell_l[l], nl[l]);
  for (int s = 0; s < 9; s++)
    assert_int_equal(pad->shell_off[s], off[s]);
  const int slotH[5] = {0, 1, 3, 4, 5};
  const int slotC[13] = {0, 1, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16};
  const int slotX[8] = {0, 3, 4, 5, 1, 6, 7, 8};
  const int norb[5] = {5, 13, 13, 29, 8};
  for (int e = 0; e < 5; e++) {
    assert_int_equal(pad->elem_orb_off[e + 1] - pad->elem_orb_off[e], norb[e]);
    int nm = 0;
    for (int o = 0; o < pad->norb; o++)
      nm += pad->mask[e * pad->norb + o];
    assert_int_equal(nm, norb[e]);
  }
  for (int i = 0; i < 5; i++)
    assert_int_equal(pad->orb_slot[pad->elem_orb_off[0] + i], slotH[i]);
  for (int i = 0; i < 13; i++) {
    assert_int_equal(pad->orb_slot[pad->elem_orb_off[1] + i], slotC[i]);
    assert_int_equal(pad->orb_slot[pad->elem_orb_off[2] + i], slotC[i]);
  }
  for (int i = 0; i < 29; i++)
    assert_int_equal(pad->orb_slot[pad->elem_orb_off[3] + i], i);
  for (int i = 0; i < 8; i++)
    assert_int_equal(pad->orb_slot[pad->elem_orb_off[4] + i], slotX[i]);
  assert_int_equal(pad->shell_slot[pad->elem_shell_off[4] + 2], 1); /* 2nd s */
  assert_int_equal(pad->shell_slot[pad->elem_shell_off[4] + 3], 4); /* 2nd p */
  assert_int_equal(pad->shell_mask[0 * 9 + 3], 1);                  /* H p1 */
  assert_int_equal(pad->shell_mask[0 * 9 + 4], 0);                  /* H p2 */
  assert_int_equal(pad->mask[0 * 29 + 2], 0);                       /* H s3 */
  /* scatter an H–C block into the padded 29×29 block and back */
  double B[5 * 13], P[29 * 29], B2[5 * 13];
  random_block(5 * 13, B);
  assert_nh_ok(nh_irreps_pad_scatter(pad, 0, 1, B, 13, P));
  assert_close(P[3 * 29 + 12], B[2 * 13 + 8], 0.0); /* H p_y, C d_-2 */
  double outside = 0.0;
  for (int i = 0; i < 29; i++)
    for (int j = 0; j < 29; j++)
      if (!pad->mask[0 * 29 + i] || !pad->mask[1 * 29 + j])
        outside = fmax(outside, fabs(P[i * 29 + j]));
  assert_close(outside, 0.0, 0.0);
  assert_nh_ok(nh_irreps_pad_gather(pad, 0, 1, P, B2, 13));
  assert_memory_equal(B, B2, sizeof B);
  assert_nh_fails(nh_irreps_pad_scatter(pad, 0, 5, B, 13, P), NH_ERR_ARG,
                  "(0, 5)");
  nh_irreps_pad_destroy(&pad);
  assert_null(pad);
  nh_irreps_pad_destroy(&pad); /* NULL is fine */
  const int G[] = {0, 9};
  const int *bad[1] = {G};
  const int nbad[1] = {2};
  assert_nh_fails(nh_irreps_pad_create(1, nbad, bad, &pad), NH_ERR_INPUT,
                  "l = 9");
  assert_null(pad);
}

/* Features of whole padded blocks for the H, C, Si, N model: layout by
 * kind, exact round trip, equivariance, and zeros where an element pair
 * lacks a shell. */
static void test_pairs_features(void **state) {
  (void)state;
  const int H[] = {0, 0, 1}, C[] = {0, 0, 1, 1, 2}, N[] = {0, 0, 0, 1, 1, 1, 2, 2, 3};
  const int *shells[3] = {H, C, N};
  const int nshell[3] = {3, 5, 9};
  nh_irreps_pad *pad = NULL;
  nh_irreps_pairs *pp = NULL;
  assert_nh_ok(nh_irreps_pad_create(3, nshell, shells, &pad));
  assert_nh_ok(nh_irreps_pairs_create(pad, cg4, &pp));
  assert_int_equal(pp->dim, 29 * 29);
  assert_int_equal(pp->nkind, 12); /* 0e..6e, 1o..5o (df gives 5o at most) */
  assert_int_equal(pp->kind_L[0], 0);
  assert_int_equal(pp->kind_parity[0], 1);
  assert_int_equal(pp->mul[0], 9 + 9 + 4 + 1); /* ss, pp, dd, ff */
  assert_int_equal(pp->kind_L[1], 1);
  assert_int_equal(pp->kind_parity[1], 1);
  assert_int_equal(pp->mul[1], 9 + 4 + 1); /* pp, dd, ff */
  assert_int_equal(pp->kind_parity[2], -1);
  assert_int_equal(pp->mul[2], 18 + 12 + 4); /* sp ps, pd dp, df fd */
  assert_int_equal(pp->kind_L[11], 6);
  assert_int_equal(pp->mul[11], 1); /* ff only */
  static double P[29 * 29], P2[29 * 29], Pr[29 * 29], f[29 * 29], fr[29 * 29];
  random_block(29 * 29, P);
  nh_irreps_pairs_to_features(pp, P, f);
  nh_irreps_pairs_to_block(pp, f, P2);
  double rt = 0.0, rot = 0.0;
  for (int i = 0; i < 29 * 29; i++)
    rt = fmax(rt, fabs(P2[i] - P[i]));
  for (int t = 0; t < 2; t++) {
    double R[9], D[NW];
    random_rotation(R);
    if (t)
      for (int i = 0; i < 9; i++)
        R[i] = -R[i];
    assert_nh_ok(nh_irreps_wigner(LM, R, D));
    memcpy(Pr, P, sizeof P);
    assert_nh_ok(nh_irreps_block_rotate(D, LM, pad->nshell, pad->shell_l,
                                        pad->nshell, pad->shell_l, Pr, 29, Pr, 29));
    nh_irreps_pairs_to_features(pp, Pr, fr);
    for (int k = 0; k < pp->nkind; k++) {
      const int L = pp->kind_L[k], nL = 2 * L + 1;
      const double sg = t && pp->kind_parity[k] * (L % 2 ? -1 : 1) < 0 ? -1.0 : 1.0;
      const double *DL = dblock(D, L);
      for (int c = 0; c < pp->mul[k]; c++)
        for (int M = 0; M < nL; M++) {
          double s = 0.0;
          for (int K = 0; K < nL; K++)
            s += DL[M * nL + K] * f[pp->off[k] + c * nL + K];
          rot = fmax(rot, fabs(fr[pp->off[k] + c * nL + M] - sg * s));
        }
    }
  }
  printf("  padded block -> features: round trip %.2e, rotation %.2e "
         "(dim 841, 12 kinds)\n", rt, rot);
  assert_true(rt < 1e-14);
  assert_true(rot < 1e-12);
  /* an H–C block: channels whose shells H or C lack are exactly zero */
  double B[5 * 13];
  random_block(5 * 13, B);
  assert_nh_ok(nh_irreps_pad_scatter(pad, 0, 1, B, 13, P));
  nh_irreps_pairs_to_features(pp, P, f);
  int nzero = 0, nlive = 0;
  for (int k = 0; k < pp->nkind; k++)
    for (int c = 0; c < pp->mul[k]; c++) {
      const int s1 = pp->chan_s1[pp->chan[k] + c], s2 = pp->chan_s2[pp->chan[k] + c];
      const int live = pad->shell_mask[0 * pad->nshell + s1] &&
                       pad->shell_mask[1 * pad->nshell + s2];
      double mx = 0.0;
      for (int M = 0; M < 2 * pp->kind_L[k] + 1; M++)
        mx = fmax(mx, fabs(f[pp->off[k] + c * (2 * pp->kind_L[k] + 1) + M]));
      if (live) {
        nlive++;
        assert_true(mx > 0.0);
      } else {
        nzero++;
        assert_close(mx, 0.0, 0.0);
      }
    }
  assert_int_equal(nlive + nzero, pp->chan[pp->nkind]);
  nh_irreps_pairs_destroy(&pp);
  assert_null(pp);
  nh_irreps_cg *small = NULL;
  assert_nh_ok(nh_irreps_cg_create(3, 4, &small));
  assert_nh_fails(nh_irreps_pairs_create(pad, small, &pp), NH_ERR_ARG,
                  "lmax_out >= 6");
  nh_irreps_cg_destroy(&small);
  nh_irreps_pad_destroy(&pad);
}

/* ------------------------------------------------------------- timings */

static void test_timings(void **state) {
  (void)state;
  double Y[NLM], dY[3 * NLM], D[NW], R[9], b[81], B[81], acc = 0.0;
  random_rotation(R);
  random_block(81, B);
  const int n = 20000;
  double t0 = nh_wtime();
  for (int i = 0; i < n; i++) {
    const double r[3] = {1.0 + 1e-6 * i, -0.5, 0.25};
    nh_irreps_sph(LM, r, Y, dY);
    acc += Y[NLM - 1];
  }
  const double tsph = (nh_wtime() - t0) / n;
  t0 = nh_wtime();
  for (int i = 0; i < n; i++) {
    nh_irreps_wigner(LM, R, D);
    acc += D[NW - 1];
  }
  const double twig = (nh_wtime() - t0) / n;
  t0 = nh_wtime();
  for (int i = 0; i < n; i++) {
    nh_irreps_block_to_irreps(cg4, 4, 4, B, 9, b);
    acc += b[80];
  }
  const double tblk = (nh_wtime() - t0) / n;
  printf("  per call: Y+grad l<=8 %.2f us, Wigner D l<=8 %.2f us, "
         "(4,4) block -> irreps %.2f us (checksum %.3g)\n",
         1e6 * tsph, 1e6 * twig, 1e6 * tblk, acc);
  assert_true(isfinite(acc));
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sph_cp2k_polynomials),
      cmocka_unit_test(test_sph_solid_and_errors),
      cmocka_unit_test(test_sph_addition_theorem),
      cmocka_unit_test(test_sph_orthonormal),
      cmocka_unit_test(test_sph_gradients),
      cmocka_unit_test(test_wigner_rotates_harmonics),
      cmocka_unit_test(test_wigner_group),
      cmocka_unit_test(test_edge_frame),
      cmocka_unit_test(test_cg_orthogonal),
      cmocka_unit_test(test_cg_couples_harmonics),
      cmocka_unit_test(test_cg_equivariant),
      cmocka_unit_test(test_block_roundtrip_and_transpose),
      cmocka_unit_test(test_block_pp_physics),
      cmocka_unit_test(test_block_rotation),
      cmocka_unit_test(test_pad_basis_sets),
      cmocka_unit_test(test_pairs_features),
      cmocka_unit_test(test_timings),
  };
  MPI_Init(&argc, &argv);
  const int fail = cmocka_run_group_tests(tests, setup_cg, teardown_cg);
  MPI_Finalize();
  return fail ? 1 : 0;
}
