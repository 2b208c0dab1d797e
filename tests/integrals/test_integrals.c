/* Tests of the integrals module: CP2K reference overlaps, normalisation,
 * kinetic energy against finite differences of the overlap, symmetry,
 * rotation (m order and signs) and translation, GTH projectors, radii. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nhtest_ao.h"
#include "nhtest.h"
#include "nextham/basis.h"
#include "nextham/integrals.h"

#define BOHR(x) ((x) / NH_BOHR_ANGSTROM)
#define MAXSH 32

/* ---------------------------------------------------------------------------
 * A minimal BASIS_MOLOPT reader, so that these tests need no other module:
 * shells of one set share one exponent array, as nh_basis lays them out.
 * ------------------------------------------------------------------------- */
typedef struct tbasis {
  int nshell, norb;
  nh_shell sh[MAXSH];
  nh_int_shell ish[MAXSH];
  int off[MAXSH]; /* first orbital of each shell */
  double store[2048];
} tbasis;

static int is_header(const char *line, const char *sym, const char *name) {
  char t[8][128];
  int n = sscanf(line, "%127s %127s %127s %127s %127s %127s %127s %127s",
                 t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
  if (n < 2 || strcmp(t[0], sym)) return 0;
  for (int k = 1; k < n; k++)
    if (!strcmp(t[k], name)) return 1;
  return 0;
}

static void load_basis(const char *sym, const char *name, double eps,
                       tbasis *b) {
  char path[1024];
  const char *dir = getenv("NEXTHAM_DATA_DIR");
  snprintf(path, sizeof path, "%s/BASIS_MOLOPT", dir ? dir : "/usr/share/cp2k");
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[4096];
  int found = 0;
  while (!found && fgets(line, sizeof line, f))
    found = line[0] != '#' && is_header(line, sym, name);
  assert_true(found);
  int nset, pos = 0;
  assert_non_null(fgets(line, sizeof line, f));
  assert_int_equal(sscanf(line, "%d", &nset), 1);
  memset(b, 0, sizeof *b);
  for (int s = 0; s < nset; s++) {
    int n, lmin, lmax, nexp, nsh[8], off = 0, used, ncol = 0;
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(sscanf(line, "%d %d %d %d%n", &n, &lmin, &lmax, &nexp,
                            &used), 4);
    for (int l = lmin; l <= lmax; l++) {
      assert_int_equal(sscanf(line + used + off, "%d%n", &nsh[l], &n), 1);
      off += n;
      ncol += nsh[l];
    }
    double *ex = &b->store[pos], *co = ex + nexp;
    pos += nexp * (1 + ncol);
    assert_true(pos <= 2048);
    for (int p = 0; p < nexp; p++) {
      char *c = fgets(line, sizeof line, f), *end;
      assert_non_null(c);
      ex[p] = strtod(c, &end);
      for (int k = 0; k < ncol; k++) co[k * nexp + p] = strtod(end, &end);
    }
    for (int l = lmin, k = 0; l <= lmax; l++)
      for (int i = 0; i < nsh[l]; i++, k++) {
        nh_shell *sh = &b->sh[b->nshell];
        sh->l = l;
        sh->nprim = nexp;
        sh->exps = ex;
        sh->coefs = co + k * nexp;
        b->off[b->nshell++] = b->norb;
        b->norb += 2 * l + 1;
      }
  }
  fclose(f);
  assert_nh_ok(nh_int_prepare(b->sh, b->nshell, eps, b->ish));
}

/* The atom-pair block out[i * ldo + j] between atoms at ra and rb. */
static void atom_block(int ops, const tbasis *a, const double ra[3],
                       const tbasis *b, const double rb[3],
                       nh_int_screen screen, double *out, int ldo) {
  for (int s = 0; s < a->nshell; s++)
    for (int t = 0; t < b->nshell; t++) {
      double *o = &out[a->off[s] * ldo + b->off[t]];
      if (ops == NH_INT_OVERLAP)
        assert_nh_ok(nh_int_overlap(&a->ish[s], ra, &b->ish[t], rb, screen, o,
                                    ldo));
      else
        assert_nh_ok(nh_int_kinetic(&a->ish[s], ra, &b->ish[t], rb, screen, o,
                                    ldo));
    }
}

/* Lattice vector n.A plus position. */
static void image_pos(const double A[3][3], const int n[3], const double *tau,
                      double *r) {
  for (int k = 0; k < 3; k++)
    r[k] = tau[k] + n[0] * A[0][k] + n[1] * A[1][k] + n[2] * A[2][k];
}

/* ---------------------------------------------------------------------------
 * (a) CP2K reference values, CONVENTIONS.md section 7.
 * ------------------------------------------------------------------------- */
typedef struct ref {
  int n[3], i, j; /* 1-based global orbitals */
  double s;
} ref;

static void check_refs(int natom, const tbasis *const *bas, double tau[][3],
                       const double A[3][3], const ref *refs, int nref,
                       nh_int_screen screen) {
  int first[8], tot = 0;
  for (int a = 0; a < natom; a++) {
    first[a] = tot;
    tot += bas[a]->norb;
  }
  for (int k = 0; k < nref; k++) {
    int ai = 0, aj = 0;
    while (ai + 1 < natom && refs[k].i - 1 >= first[ai + 1]) ai++;
    while (aj + 1 < natom && refs[k].j - 1 >= first[aj + 1]) aj++;
    double rj[3], blk[64 * 64];
    image_pos(A, refs[k].n, tau[aj], rj);
    atom_block(NH_INT_OVERLAP, bas[ai], tau[ai], bas[aj], rj, screen, blk, 64);
    double v = blk[(refs[k].i - 1 - first[ai]) * 64 + refs[k].j - 1 - first[aj]];
    printf("  ref %d: S = %.14e, CP2K %.14e, diff %.1e\n", k, v, refs[k].s,
           v - refs[k].s);
    assert_true(fabs(v - refs[k].s) < 1e-12);
  }
}

static void test_cp2k_si2(void **state) {
  (void)state;
  tbasis si;
  load_basis("Si", "DZVP-MOLOPT-SR-GTH", 1e-6, &si);
  assert_int_equal(si.norb, 13);
  double A[3][3] = {{0, BOHR(2.715), BOHR(2.715)},
                    {BOHR(2.715), 0, BOHR(2.715)},
                    {BOHR(2.715), BOHR(2.715), 0}};
  double tau[2][3] = {{0, 0, 0}, {BOHR(1.3575), BOHR(1.3575), BOHR(1.3575)}};
  const tbasis *bas[2] = {&si, &si};
  const ref refs[] = {{{0, 0, 0}, 1, 14, 2.21533846061380e-01},
                      {{0, 0, 0}, 6, 26, 1.80011287237880e-01},
                      {{0, 1, 0}, 9, 22, -1.66194421407500e-03}};
  check_refs(2, bas, tau, A, refs, 3, NH_INT_EXACT);
  check_refs(2, bas, tau, A, refs, 3, NH_INT_CP2K);
}

static void test_cp2k_n2h2(void **state) {
  (void)state;
  tbasis n, h;
  load_basis("N", "TZV2PX-MOLOPT-GTH", 1e-30, &n);
  load_basis("H", "DZVP-MOLOPT-SR-GTH", 1e-30, &h);
  assert_int_equal(n.norb, 29);
  assert_int_equal(h.norb, 5);
  double A[3][3] = {{BOHR(3.5), 0, 0}, {0, BOHR(4.0), 0}, {0, 0, BOHR(4.5)}};
  double tau[4][3] = {{0, 0, 0},
                      {BOHR(1.1), BOHR(0.2), BOHR(-0.3)},
                      {BOHR(0.3), BOHR(1.9), BOHR(1.2)},
                      {BOHR(-1.2), BOHR(-1.0), BOHR(2.0)}};
  const tbasis *bas[4] = {&n, &n, &h, &h};
  const ref refs[] = {{{0, 0, 0}, 23, 58, -1.17331141789650e-01},
                      {{0, -1, 0}, 29, 63, 3.24809457611870e-02},
                      {{-1, 0, 0}, 25, 36, 9.94225282284160e-03},
                      {{1, 0, 0}, 27, 45, -9.10004763613900e-04}};
  check_refs(4, bas, tau, A, refs, 4, NH_INT_EXACT);
  check_refs(4, bas, tau, A, refs, 4, NH_INT_CP2K);
}

/* ---------------------------------------------------------------------------
 * (b) Every contracted function has norm 1, and functions of one shell are
 * orthogonal; shells of different l on one atom are orthogonal.
 * ------------------------------------------------------------------------- */
static void test_normalisation(void **state) {
  (void)state;
  const char *sets[][2] = {{"Si", "DZVP-MOLOPT-SR-GTH"},
                           {"N", "TZV2PX-MOLOPT-GTH"},
                           {"H", "DZVP-MOLOPT-SR-GTH"},
                           {"O", "DZVP-MOLOPT-GTH"},
                           {"Fe", "DZVP-MOLOPT-SR-GTH"},
                           {"Si", "TZV2PX-MOLOPT-GTH"}};
  const double r[3] = {0.3, -1.2, 0.7};
  double worst = 0.0;
  static double blk[64 * 64];
  for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
    tbasis b;
    load_basis(sets[k][0], sets[k][1], 0, &b);
    atom_block(NH_INT_OVERLAP, &b, r, &b, r, NH_INT_EXACT, blk, 64);
    for (int s = 0; s < b.nshell; s++)
      for (int t = 0; t < b.nshell; t++)
        for (int i = 0; i < 2 * b.sh[s].l + 1; i++)
          for (int j = 0; j < 2 * b.sh[t].l + 1; j++) {
            double v = blk[(b.off[s] + i) * 64 + b.off[t] + j], want = -1;
            if (s == t) want = i == j;
            else if (b.sh[s].l != b.sh[t].l || i != j) want = 0;
            if (want >= 0) worst = fmax(worst, fabs(v - want));
          }
  }
  printf("  max |S_ii - 1|, |S_ij| (orthogonal by symmetry): %.1e\n", worst);
  assert_true(worst < 1e-13);
}

/* ---------------------------------------------------------------------------
 * Independent angular functions (CONVENTIONS.md section 2) for l <= 3.
 * ------------------------------------------------------------------------- */
static void explicit_p(int l, const double *v, double *o) {
  double x = v[0], y = v[1], z = v[2];
  switch (l) {
  case 0: o[0] = 1; break;
  case 1: o[0] = y; o[1] = z; o[2] = x; break;
  case 2:
    o[0] = x * y; o[1] = y * z; o[2] = (2 * z * z - x * x - y * y) / (2 * sqrt(3.0));
    o[3] = x * z; o[4] = (x * x - y * y) / 2;
    break;
  case 3:
    o[0] = (3 * x * x * y - y * y * y) / (2 * sqrt(6.0));
    o[1] = x * y * z;
    o[2] = y * (4 * z * z - x * x - y * y) / (2 * sqrt(10.0));
    o[3] = z * (2 * z * z - 3 * x * x - 3 * y * y) / (2 * sqrt(15.0));
    o[4] = x * (4 * z * z - x * x - y * y) / (2 * sqrt(10.0));
    o[5] = z * (x * x - y * y) / 2;
    o[6] = (x * x * x - 3 * x * y * y) / (2 * sqrt(6.0));
    break;
  default:
    nh_int_solid_harmonics(l, x, y, z, o);
  }
}

static double urand(unsigned *seed) {
  *seed = *seed * 1103515245u + 12345u;
  return ((*seed >> 8) & 0xffffff) / (double)0x1000000;
}

static void test_solid_harmonics(void **state) {
  (void)state;
  unsigned seed = 7;
  double worst = 0.0;
  for (int l = 0; l <= 3; l++)
    for (int k = 0; k < 20; k++) {
      double v[3] = {urand(&seed) - .5, urand(&seed) - .5, urand(&seed) - .5};
      double a[9], b[9];
      explicit_p(l, v, a);
      nh_int_solid_harmonics(l, v[0], v[1], v[2], b);
      for (int m = 0; m < 2 * l + 1; m++) worst = fmax(worst, fabs(a[m] - b[m]));
    }
  assert_true(worst < 1e-15);
  /* l = 4: sum_m P_{4,m}^2 = r^8 / 7!! (addition theorem), and harmonic */
  for (int k = 0; k < 20; k++) {
    double v[3] = {urand(&seed) - .5, urand(&seed) - .5, urand(&seed) - .5};
    double p[9], r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2], sum = 0;
    nh_int_solid_harmonics(4, v[0], v[1], v[2], p);
    for (int m = 0; m < 9; m++) sum += p[m] * p[m];
    assert_true(fabs(sum - r2 * r2 * r2 * r2 / 105.0) < 1e-15);
  }
}

/* ---------------------------------------------------------------------------
 * Shells for the remaining tests: N TZV2PX gives s, p, d, f; a made-up
 * g shell (l = 4) and an s shell with a single tight primitive.
 * ------------------------------------------------------------------------- */
static tbasis nbas;
static nh_int_shell gsh;

static const nh_int_shell *shell_of_l(int l) {
  if (l == 4) return &gsh;
  for (int s = 0; s < nbas.nshell; s++)
    if (nbas.ish[s].l == l) return &nbas.ish[s];
  return NULL;
}

static int setup_shells(void **state) {
  (void)state;
  load_basis("N", "TZV2PX-MOLOPT-GTH", 1e-6, &nbas);
  static double ex[2] = {1.3, 0.35}, co[2] = {0.4, 0.7};
  nh_shell g = {.l = 4, .nprim = 2, .exps = ex, .coefs = co};
  return nh_int_prepare(&g, 1, 1e-6, &gsh);
}

/* ---------------------------------------------------------------------------
 * (c) T = -1/2 Laplacian over R = rb - ra of S(R), by a 5-point stencil in
 * each direction with Richardson extrapolation.
 * ------------------------------------------------------------------------- */
static double lap_fd(const nh_int_shell *a, const nh_int_shell *b,
                     const double *R, int ma, int mb, double h) {
  static const double w[5] = {-1, 16, -30, 16, -1};
  double ra[3] = {0, 0, 0}, sum = 0, blk[81];
  for (int k = 0; k < 3; k++)
    for (int s = -2; s <= 2; s++) {
      double rb[3] = {R[0], R[1], R[2]};
      rb[k] += s * h;
      assert_nh_ok(nh_int_overlap(a, ra, b, rb, NH_INT_EXACT, blk, 9));
      sum += w[s + 2] * blk[ma * 9 + mb];
    }
  return sum / (12 * h * h);
}

static void test_kinetic_fd(void **state) {
  (void)state;
  const int pairs[][2] = {{0, 0}, {1, 2}, {3, 3}, {2, 4}, {4, 1}};
  const double R[3] = {0.9, -0.6, 1.3};
  double worst = 0;
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
    const nh_int_shell *a = shell_of_l(pairs[k][0]), *b = shell_of_l(pairs[k][1]);
    double t[81], ra[3] = {0, 0, 0}, tmax = 0, err = 0;
    assert_nh_ok(nh_int_kinetic(a, ra, b, R, NH_INT_EXACT, t, 9));
    for (int i = 0; i < 2 * a->l + 1; i++)
      for (int j = 0; j < 2 * b->l + 1; j++) tmax = fmax(tmax, fabs(t[i * 9 + j]));
    for (int i = 0; i < 2 * a->l + 1; i++)
      for (int j = 0; j < 2 * b->l + 1; j++) {
        double h = 0.02, l1 = lap_fd(a, b, R, i, j, h),
               l2 = lap_fd(a, b, R, i, j, h / 2);
        double lap = (16 * l2 - l1) / 15; /* O(h^6) */
        err = fmax(err, fabs(-0.5 * lap - t[i * 9 + j]));
      }
    printf("  T vs FD, l=%d,%d: max |T| %.3e, max err %.1e (rel %.1e)\n",
           a->l, b->l, tmax, err, err / tmax);
    worst = fmax(worst, err / tmax);
  }
  assert_true(worst < 1e-7);
}

/* T on one centre: for one primitive s Gaussian, <T> = 3 zeta / 2. */
static void test_kinetic_analytic(void **state) {
  (void)state;
  double ex = 0.8, c = 1, r[3] = {0.1, 0.2, 0.3}, t;
  nh_shell s = {.l = 0, .nprim = 1, .exps = &ex, .coefs = &c};
  nh_int_shell is;
  assert_nh_ok(nh_int_prepare(&s, 1, 0, &is));
  assert_nh_ok(nh_int_kinetic(&is, r, &is, r, NH_INT_EXACT, &t, 1));
  assert_true(fabs(t - 1.5 * ex) < 1e-14);
  /* a p primitive: <T> = 5 zeta / 2 for each m */
  s.l = 1;
  double tp[9];
  assert_nh_ok(nh_int_prepare(&s, 1, 0, &is));
  assert_nh_ok(nh_int_kinetic(&is, r, &is, r, NH_INT_EXACT, tp, 3));
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      assert_true(fabs(tp[i * 3 + j] - (i == j) * 2.5 * ex) < 1e-14);
}

/* ---------------------------------------------------------------------------
 * (d) S_AB = S_BA^T, T likewise; (f) translation invariance.
 * ------------------------------------------------------------------------- */
static void test_symmetry_translation(void **state) {
  (void)state;
  const double ra[3] = {0.4, -0.3, 1.1}, rb[3] = {-0.8, 0.9, 0.2},
               d[3] = {13.7, -5.1, 2.9};
  double sym = 0, tra = 0;
  for (int la = 0; la <= 4; la++)
    for (int lb = 0; lb <= 4; lb++) {
      const nh_int_shell *a = shell_of_l(la), *b = shell_of_l(lb);
      double s1[81], t1[81], s2[81], t2[81], s3[81], t3[81];
      double ra2[3] = {ra[0] + d[0], ra[1] + d[1], ra[2] + d[2]};
      double rb2[3] = {rb[0] + d[0], rb[1] + d[1], rb[2] + d[2]};
      assert_nh_ok(nh_int_1e(NH_INT_OVERLAP | NH_INT_KINETIC, a, ra, b, rb,
                             NH_INT_EXACT, s1, t1, 9));
      assert_nh_ok(nh_int_1e(NH_INT_OVERLAP | NH_INT_KINETIC, b, rb, a, ra,
                             NH_INT_EXACT, s2, t2, 9));
      assert_nh_ok(nh_int_1e(NH_INT_OVERLAP | NH_INT_KINETIC, a, ra2, b, rb2,
                             NH_INT_EXACT, s3, t3, 9));
      for (int i = 0; i < 2 * la + 1; i++)
        for (int j = 0; j < 2 * lb + 1; j++) {
          sym = fmax(sym, fabs(s1[i * 9 + j] - s2[j * 9 + i]));
          sym = fmax(sym, fabs(t1[i * 9 + j] - t2[j * 9 + i]));
          tra = fmax(tra, fabs(s1[i * 9 + j] - s3[i * 9 + j]));
          tra = fmax(tra, fabs(t1[i * 9 + j] - t3[i * 9 + j]));
        }
    }
  printf("  max |S_AB - S_BA^T|, T: %.1e; translation: %.1e\n", sym, tra);
  assert_true(sym < 1e-13);
  assert_true(tra < 1e-12);
}

/* ---------------------------------------------------------------------------
 * (e) Rotation: S(Q ra, Q rb) = D^la S(ra, rb) D^lb^T, with D^l(Q) fitted
 * from P(Q u) = D P(u) using the independent angular functions above.
 * ------------------------------------------------------------------------- */
static void solve(int n, double *a, double *b, int nrhs) {
  /* Gauss-Jordan with partial pivoting: a (n x n) x = b (n x nrhs) */
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(a[r * n + c]) > fabs(a[piv * n + c])) piv = r;
    for (int k = 0; k < n; k++) {
      double t = a[c * n + k]; a[c * n + k] = a[piv * n + k]; a[piv * n + k] = t;
    }
    for (int k = 0; k < nrhs; k++) {
      double t = b[c * nrhs + k]; b[c * nrhs + k] = b[piv * nrhs + k];
      b[piv * nrhs + k] = t;
    }
    for (int r = 0; r < n; r++) {
      if (r == c) continue;
      double f = a[r * n + c] / a[c * n + c];
      for (int k = 0; k < n; k++) a[r * n + k] -= f * a[c * n + k];
      for (int k = 0; k < nrhs; k++) b[r * nrhs + k] -= f * b[c * nrhs + k];
    }
  }
  for (int r = 0; r < n; r++)
    for (int k = 0; k < nrhs; k++) b[r * nrhs + k] /= a[r * n + r];
}

static void fit_wigner(int l, const double Q[3][3], double *D) {
  int n = 2 * l + 1, npt = 3 * n;
  unsigned seed = 99;
  double ata[81] = {0}, atb[81] = {0};
  for (int k = 0; k < npt; k++) {
    double u[3] = {urand(&seed) - .5, urand(&seed) - .5, urand(&seed) - .5};
    double qu[3] = {0, 0, 0}, pu[9], pq[9];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) qu[i] += Q[i][j] * u[j];
    explicit_p(l, u, pu);
    explicit_p(l, qu, pq);
    /* least squares for D^T: P(u)^T D^T = P(Qu)^T */
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        ata[i * n + j] += pu[i] * pu[j];
        atb[i * n + j] += pu[i] * pq[j];
      }
  }
  solve(n, ata, atb, n); /* atb = D^T */
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) D[i * n + j] = atb[j * n + i];
}

static void random_rotation(unsigned seed, double Q[3][3]) {
  /* from a random unit quaternion */
  double q[4], nq = 0;
  for (int k = 0; k < 4; k++) {
    q[k] = urand(&seed) - .5;
    nq += q[k] * q[k];
  }
  for (int k = 0; k < 4; k++) q[k] /= sqrt(nq);
  double w = q[0], x = q[1], y = q[2], z = q[3];
  double m[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
                    {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
                    {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}};
  memcpy(Q, m, sizeof m);
}

static void test_rotation(void **state) {
  (void)state;
  double Q[3][3], D[5][81];
  random_rotation(12345, Q);
  double orth = 0;
  for (int l = 0; l <= 4; l++) {
    fit_wigner(l, Q, D[l]);
    int n = 2 * l + 1;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        double v = 0;
        for (int k = 0; k < n; k++) v += D[l][i * n + k] * D[l][j * n + k];
        orth = fmax(orth, fabs(v - (i == j)));
      }
  }
  printf("  max |D D^T - 1|: %.1e\n", orth);
  assert_true(orth < 1e-12); /* relative normalisation of the m functions */
  const double ra[3] = {0.4, -0.3, 1.1}, rb[3] = {-0.8, 0.9, 0.2};
  double qa[3] = {0}, qb[3] = {0}, worst = 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      qa[i] += Q[i][j] * ra[j];
      qb[i] += Q[i][j] * rb[j];
    }
  for (int la = 0; la <= 4; la++)
    for (int lb = 0; lb <= 4; lb++) {
      const nh_int_shell *a = shell_of_l(la), *b = shell_of_l(lb);
      int na = 2 * la + 1, nb = 2 * lb + 1;
      double s[81], t[81], sq[81], tq[81];
      assert_nh_ok(nh_int_1e(NH_INT_OVERLAP | NH_INT_KINETIC, a, ra, b, rb,
                             NH_INT_EXACT, s, t, 9));
      assert_nh_ok(nh_int_1e(NH_INT_OVERLAP | NH_INT_KINETIC, a, qa, b, qb,
                             NH_INT_EXACT, sq, tq, 9));
      for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) {
          double vs = 0, vt = 0;
          for (int k = 0; k < na; k++)
            for (int m = 0; m < nb; m++) {
              double dd = D[la][i * na + k] * D[lb][j * nb + m];
              vs += dd * s[k * 9 + m];
              vt += dd * t[k * 9 + m];
            }
          worst = fmax(worst, fabs(vs - sq[i * 9 + j]));
          worst = fmax(worst, fabs(vt - tq[i * 9 + j]));
        }
    }
  printf("  max |S(QA,QB) - D S D^T| (S and T, l <= 4): %.1e\n", worst);
  assert_true(worst < 1e-12);
}

/* ---------------------------------------------------------------------------
 * GTH projectors: norm 1, mutual overlaps of p_1 and p_2, and the overlap
 * with a primitive against HGH's formula for the normalised radial part
 *   p_i^l(r) = sqrt(2) r^(l+2(i-1)) exp(-r^2/(2 r_l^2))
 *              / (r_l^(l+(4i-1)/2) sqrt(Gamma(l+(4i-1)/2))).
 * ------------------------------------------------------------------------- */
static void test_projectors(void **state) {
  (void)state;
  const double r0[3] = {0.2, 0.1, -0.4}, rl = 0.42;
  for (int l = 0; l <= 3; l++)
    for (int i = 1; i <= 3; i++) {
      nh_int_shell p, g;
      assert_nh_ok(nh_int_projector(l, i, rl, &p));
      double s[49];
      assert_nh_ok(nh_int_overlap(&p, r0, &p, r0, NH_INT_EXACT, s, 7));
      for (int a = 0; a < 2 * l + 1; a++)
        for (int b = 0; b < 2 * l + 1; b++)
          assert_true(fabs(s[a * 7 + b] - (a == b)) < 1e-13);
      /* <phi_{l,m}|p_i^l,m> for a normalised primitive r^l exp(-z r^2) */
      double z = 0.9, c = 1;
      nh_shell sh = {.l = l, .nprim = 1, .exps = &z, .coefs = &c};
      assert_nh_ok(nh_int_prepare(&sh, 1, 0, &g));
      assert_nh_ok(nh_int_overlap(&g, r0, &p, r0, NH_INT_EXACT, s, 7));
      /* radial parts: N_g r^l e^{-z r^2} and HGH's p; angular parts both
       * normalised on the sphere, so <.|.> = int N_g r^l p(r) e r^2 dr */
      double ng = sqrt(2 * pow(2 * z, l + 1.5) / tgamma(l + 1.5));
      double q = l + (4 * i - 1) / 2.0, al = z + 0.5 / (rl * rl);
      double nh = sqrt(2.0) / (pow(rl, q) * sqrt(tgamma(q)));
      int n = 2 * l + 2 * (i - 1) + 2; /* powers of r in the integrand */
      double want = ng * nh * tgamma((n + 1) / 2.0) / (2 * pow(al, (n + 1) / 2.0));
      for (int a = 0; a < 2 * l + 1; a++)
        assert_true(fabs(s[a * 7 + a] - want) < 1e-13);
    }
  nh_int_shell p;
  assert_nh_fails(nh_int_projector(1, 4, rl, &p), NH_ERR_ARG, "i=4");
}

/* nh_int_atoms (primitive pairs shared by the shells of a set) equals the
 * shell-pair entry points, also with two sets on one atom (N TZV2PX plus a
 * g shell of its own exponents). */
static void test_atoms(void **state) {
  (void)state;
  nh_int_shell sh[MAXSH + 1];
  memcpy(sh, nbas.ish, nbas.nshell * sizeof *sh);
  sh[nbas.nshell] = gsh;
  int ns = nbas.nshell + 1, nf = nbas.norb + 9, off[MAXSH + 1];
  for (int k = 0, o = 0; k < ns; o += 2 * sh[k].l + 1, k++) off[k] = o;
  nh_int_work *w = NULL;
  assert_nh_ok(nh_int_work_create(&w));
  static double s1[38 * 38], t1[38 * 38], s2[38 * 38], t2[38 * 38];
  const double ra[3] = {0.1, 0.2, -0.3}, rb[3] = {1.9, -0.7, 1.4};
  for (int mode = 0; mode < 2; mode++) {
    assert_nh_ok(nh_int_atoms(w, NH_INT_OVERLAP | NH_INT_KINETIC, sh, ns, ra,
                              sh, ns, rb, mode, s1, t1, nf));
    for (int i = 0; i < ns; i++)
      for (int j = 0; j < ns; j++)
        assert_nh_ok(nh_int_1e(NH_INT_OVERLAP | NH_INT_KINETIC, &sh[i], ra,
                               &sh[j], rb, mode, &s2[off[i] * nf + off[j]],
                               &t2[off[i] * nf + off[j]], nf));
    double d = 0;
    for (int i = 0; i < nf * nf; i++)
      d = fmax(d, fmax(fabs(s1[i] - s2[i]), fabs(t1[i] - t2[i])));
    assert_true(d < 1e-15);
  }
  /* T alone leaves s untouched */
  s1[0] = 42;
  assert_nh_ok(nh_int_atoms(w, NH_INT_KINETIC, sh, ns, ra, sh, ns, rb,
                            NH_INT_EXACT, NULL, t1, nf));
  assert_true(s1[0] == 42 && t1[0] == t2[0]);
  assert_nh_fails(nh_int_atoms(w, NH_INT_OVERLAP, sh, ns, ra, sh, ns, rb,
                               NH_INT_EXACT, s1, NULL, nf - 1),
                  NH_ERR_ARG, "ld");
  assert_nh_ok(nh_int_work_destroy(&w));
  assert_null(w);
  assert_nh_ok(nh_int_work_destroy(&w));
}

/* The basis module's shells plug in directly: nh_basis_load (sets share an
 * exponent array) and a copy with one array per shell (as nh_basis_add
 * keeps HDF5 data) give the same prepared shells as this file's reader. */
static void test_basis_module(void **state) {
  (void)state;
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  assert_nh_ok(nh_basis_load(b, 7, "BASIS_MOLOPT", "TZV2PX-MOLOPT-GTH"));
  const nh_element_basis *eb = b->elem[7];
  assert_int_equal(eb->nshell, nbas.nshell);
  nh_int_shell ish[MAXSH], icopy[MAXSH];
  nh_shell copy[MAXSH];
  static double store[MAXSH][2][NH_INT_MAXPRIM];
  assert_nh_ok(nh_int_prepare(eb->shells, eb->nshell, 1e-6, ish));
  for (int k = 0; k < eb->nshell; k++) {
    copy[k] = eb->shells[k];
    memcpy(store[k][0], copy[k].exps, copy[k].nprim * sizeof(double));
    memcpy(store[k][1], copy[k].coefs, copy[k].nprim * sizeof(double));
    copy[k].exps = store[k][0];
    copy[k].coefs = store[k][1];
  }
  assert_nh_ok(nh_int_prepare(copy, eb->nshell, 1e-6, icopy));
  for (int k = 0; k < eb->nshell; k++) {
    assert_memory_equal(&ish[k], &nbas.ish[k], sizeof ish[k]);
    assert_memory_equal(&icopy[k], &nbas.ish[k], sizeof ish[k]);
  }
  /* one set: every shell carries the set's radii */
  assert_true(ish[0].set == ish[eb->nshell - 1].set);
  assert_nh_ok(nh_basis_destroy(&b));
}

/* ---------------------------------------------------------------------------
 * Off-centre overlaps against a plain grid quadrature, with functions
 * written out independently: normalised primitives N r^l e^{-z r^2} Y and
 * HGH projectors (radial formula of the paper), Y = P_{l,m} / sqrt(4 pi /
 * (2l+1)!!) from the table above. The trapezoid rule is spectrally accurate
 * for Gaussians: h = 0.15 bohr gives ~1e-13.
 * ------------------------------------------------------------------------- */
static double dfact2(int n) { return n < 2 ? 1.0 : n * dfact2(n - 2); }

typedef struct qfun {
  int l, m, rpow; /* m index 0..2l */
  double z, norm; /* exp(-z r^2), radial normalisation */
  double c[3];
} qfun;

static double qeval(const qfun *f, double x, double y, double z) {
  double v[3] = {x - f->c[0], y - f->c[1], z - f->c[2]}, p[9];
  double r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
  explicit_p(f->l, v, p);
  return f->norm * pow(r2, 0.5 * f->rpow) * exp(-f->z * r2) * p[f->m] /
         sqrt(4 * M_PI / dfact2(2 * f->l + 1));
}

static double quad(const qfun *a, const qfun *b) {
  const double h = 0.15, lo = -8, hi = 8;
  double sum = 0;
  for (double x = lo; x <= hi; x += h)
    for (double y = lo; y <= hi; y += h)
      for (double z = lo; z <= hi; z += h)
        sum += qeval(a, x, y, z) * qeval(b, x, y, z);
  return sum * h * h * h;
}

static void test_quadrature(void **state) {
  (void)state;
  /* a d primitive at A against: an f primitive, projectors (l, i) =
   * (1, 2), (3, 2), (2, 3) at B */
  const double A[3] = {0.3, -0.4, 0.5}, B[3] = {-0.5, 0.6, -0.2}, rl = 0.7;
  double za = 0.6, zb = 0.9, one = 1;
  nh_shell sa = {.l = 2, .nprim = 1, .exps = &za, .coefs = &one};
  nh_shell sb = {.l = 3, .nprim = 1, .exps = &zb, .coefs = &one};
  nh_int_shell ia, ib[4];
  assert_nh_ok(nh_int_prepare(&sa, 1, 0, &ia));
  assert_nh_ok(nh_int_prepare(&sb, 1, 0, &ib[0]));
  const int proj[3][2] = {{1, 2}, {3, 2}, {2, 3}};
  for (int k = 0; k < 3; k++)
    assert_nh_ok(nh_int_projector(proj[k][0], proj[k][1], rl, &ib[k + 1]));
  qfun fa = {.l = 2, .z = za, .c = {A[0], A[1], A[2]},
             .norm = sqrt(2 * pow(2 * za, 3.5) / tgamma(3.5))};
  double worst = 0, vmin = 1;
  for (int k = 0; k < 4; k++) {
    qfun fb = {.l = ib[k].l, .z = ib[k].exps[0], .c = {B[0], B[1], B[2]}};
    if (k == 0) {
      fb.norm = sqrt(2 * pow(2 * zb, 4.5) / tgamma(4.5));
    } else { /* HGH: sqrt2 r^(l+2(i-1)) e^{-r^2/2rl^2} / (rl^q sqrt(Gamma q)) */
      int l = proj[k - 1][0], i = proj[k - 1][1];
      double q = l + (4 * i - 1) / 2.0;
      fb.rpow = 2 * (i - 1);
      fb.norm = sqrt(2.0) / (pow(rl, q) * sqrt(tgamma(q)));
    }
    double blk[5 * 7];
    assert_nh_ok(nh_int_overlap(&ia, A, &ib[k], B, NH_INT_EXACT, blk, 7));
    /* a few (m_a, m_b) combinations; the full block costs too long */
    const int mm[3][2] = {{0, 0}, {2, 1}, {4, 2 * ib[k].l}};
    for (int c = 0; c < 3; c++) {
      fa.m = mm[c][0];
      fb.m = mm[c][1];
      double q = quad(&fa, &fb), v = blk[fa.m * 7 + fb.m];
      worst = fmax(worst, fabs(q - v));
      vmin = fmin(vmin, fabs(v));
    }
  }
  printf("  off-centre d-f and d-projector overlaps vs grid quadrature: %.1e "
         "(smallest |value| %.1e)\n", worst, vmin);
  assert_true(worst < 1e-11);
  assert_true(vmin > 1e-3);
}

/* nh_int_shell_eval against the quadrature functions, and the atom-pair
 * radius is the largest shell-pair radius. */
static void test_eval_radius(void **state) {
  (void)state;
  double z = 0.7, one = 1, v[9], worst = 0;
  nh_shell s = {.l = 3, .nprim = 1, .exps = &z, .coefs = &one};
  nh_int_shell is, pr;
  assert_nh_ok(nh_int_prepare(&s, 1, 0, &is));
  assert_nh_ok(nh_int_projector(2, 3, 0.6, &pr));
  qfun fs = {.l = 3, .z = z, .norm = sqrt(2 * pow(2 * z, 4.5) / tgamma(4.5))};
  double q = 2 + 5.5;
  qfun fp = {.l = 2, .rpow = 4, .z = pr.exps[0],
             .norm = sqrt(2.0) / (pow(0.6, q) * sqrt(tgamma(q)))};
  unsigned seed = 3;
  for (int k = 0; k < 20; k++) {
    double x = 3 * (urand(&seed) - .5), y = 3 * (urand(&seed) - .5),
           w = 3 * (urand(&seed) - .5);
    nh_int_shell_eval(&is, x, y, w, v);
    for (fs.m = 0; fs.m < 7; fs.m++)
      worst = fmax(worst, fabs(v[fs.m] - qeval(&fs, x, y, w)));
    nh_int_shell_eval(&pr, x, y, w, v);
    for (fp.m = 0; fp.m < 5; fp.m++)
      worst = fmax(worst, fabs(v[fp.m] - qeval(&fp, x, y, w)));
  }
  assert_true(worst < 1e-14);
  double rmax = 0;
  for (int i = 0; i < nbas.nshell; i++)
    rmax = fmax(rmax, nh_int_pair_radius(&nbas.ish[i], &pr, NH_INT_OVERLAP,
                                         NH_INT_EXACT, 1e-8));
  assert_true(nh_int_atoms_radius(nbas.ish, nbas.nshell, &pr, 1, NH_INT_OVERLAP,
                                  NH_INT_EXACT, 1e-8) == rmax);
  assert_true(rmax > 5 && rmax < 30);
}

/* ---------------------------------------------------------------------------
 * Pair radius: beyond it every element is below eps (exact mode), CP2K's
 * block is exactly zero beyond max R_p + max R_q, and the radius is tight.
 * ------------------------------------------------------------------------- */
static double block_max(const nh_int_shell *a, const nh_int_shell *b, int ops,
                        double r, nh_int_screen screen) {
  double ra[3] = {0, 0, 0}, rb[3] = {r * 0.48, r * 0.6, r * 0.64}, s[81], t[81];
  assert_nh_ok(nh_int_1e(ops, a, ra, b, rb, screen, s, t, 9));
  double m = 0;
  for (int i = 0; i < 2 * a->l + 1; i++)
    for (int j = 0; j < 2 * b->l + 1; j++)
      m = fmax(m, fabs(((ops & NH_INT_OVERLAP) ? s : t)[i * 9 + j]));
  return m;
}

static void test_pair_radius(void **state) {
  (void)state;
  const double eps = 1e-10;
  for (int la = 0; la <= 4; la++)
    for (int lb = 0; lb <= 4; lb++)
      for (int op = NH_INT_OVERLAP; op <= NH_INT_KINETIC; op++) {
        const nh_int_shell *a = shell_of_l(la), *b = shell_of_l(lb);
        double r = nh_int_pair_radius(a, b, op, NH_INT_EXACT, eps);
        double worst = 0, tight = 0;
        for (double x = r; x < r + 5; x += 0.25)
          worst = fmax(worst, block_max(a, b, op, x, NH_INT_EXACT));
        /* some element still exceeds eps beyond 80% of the radius: the
         * bound is tight */
        for (double x = 0.8 * r; x < r; x += 0.02)
          tight = fmax(tight, block_max(a, b, op, x, NH_INT_EXACT));
        assert_true(worst < eps);
        assert_true(tight > eps);
        double rc = nh_int_pair_radius(a, b, op, NH_INT_CP2K, eps);
        assert_true(rc <= r);
        double amax = 0, bmax = 0;
        for (int p = 0; p < a->nprim; p++) amax = fmax(amax, a->rad[p]);
        for (int q = 0; q < b->nprim; q++) bmax = fmax(bmax, b->rad[q]);
        assert_true(block_max(a, b, op, amax + bmax + 1e-9, NH_INT_CP2K) == 0);
        if (la == lb && op == NH_INT_OVERLAP)
          printf("  l=%d: radius %.2f bohr (CP2K mode %.2f) at eps %g\n", la,
                 r, rc, eps);
      }
}

/* CP2K's primitive radius solves |c| r^l exp(-zeta r^2) = eps. */
static void test_prim_radius(void **state) {
  (void)state;
  double r = nh_int_prim_radius(2, 0.7, 3.0, 1e-6);
  assert_true(fabs(3.0 * r * r * exp(-0.7 * r * r) - 1e-6) < 1e-18);
  assert_true(r > sqrt(1 / 0.7));
  assert_true(nh_int_prim_radius(3, 1.0, 1e-9, 1e-6) == 0.0);
  assert_true(nh_int_prim_radius(0, 1.0, 0.0, 1e-6) == 0.0);
}

/* Bad input is an error with the shell named, never a crash. */
static void test_errors(void **state) {
  (void)state;
  double ex = 1, c = 1;
  nh_shell s = {.l = 5, .nprim = 1, .exps = &ex, .coefs = &c};
  nh_int_shell is;
  assert_nh_fails(nh_int_prepare(&s, 1, 0, &is), NH_ERR_ARG, "shell 0 has l=5");
  s.l = 0;
  c = 0;
  assert_nh_fails(nh_int_prepare(&s, 1, 0, &is), NH_ERR_ARG, "norm");
}

/* ---------------------------------------------------------------------------
 * CP2K fixtures (tests/data/cp2k): our S against CP2K's S on every image.
 * The cell, atoms and kinds come from NAME.inp, the image table from
 * NAME.out, the matrices from the CSR files (text or Fortran records) in
 * NAME-csr.tar.xz. The files omit |S| < THRESHOLD = 1e-10.
 * ------------------------------------------------------------------------- */
#define FIX_MAXAT 8
#define FIX_THRESHOLD 1e-10

typedef struct fixture {
  double cell[3][3], pos[FIX_MAXAT][3]; /* Å */
  char sym[FIX_MAXAT][4], kind[FIX_MAXAT][4], kbasis[FIX_MAXAT][64];
  int natom, nkind, nimg;
  int (*img)[3];
} fixture;

static void read_inp(const char *path, fixture *fx) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512], w[64], w2[64];
  int sec = 0; /* 1 cell, 2 coord, 3 kind */
  memset(fx, 0, sizeof *fx);
  while (fgets(line, sizeof line, f)) {
    double x, y, z;
    if (sscanf(line, " %63s", w) != 1) continue;
    if (!strcmp(w, "&CELL")) sec = 1;
    else if (!strcmp(w, "&COORD")) sec = 2;
    else if (!strcmp(w, "&KIND")) {
      sec = 3;
      assert_int_equal(sscanf(line, " %*s %3s", fx->kind[fx->nkind]), 1);
      fx->nkind++;
    } else if (!strcmp(w, "&END")) sec = 0;
    else if (sec == 1 && strlen(w) == 1 && strchr("ABC", w[0]) &&
             sscanf(line, " %*s %lf %lf %lf", &x, &y, &z) == 3) {
      fx->cell[w[0] - 'A'][0] = x;
      fx->cell[w[0] - 'A'][1] = y;
      fx->cell[w[0] - 'A'][2] = z;
    } else if (sec == 2 && sscanf(line, " %3s %lf %lf %lf", fx->sym[fx->natom],
                                  &x, &y, &z) == 4) {
      assert_true(fx->natom < FIX_MAXAT);
      fx->pos[fx->natom][0] = x;
      fx->pos[fx->natom][1] = y;
      fx->pos[fx->natom][2] = z;
      fx->natom++;
    } else if (sec == 3 && !strcmp(w, "BASIS_SET") &&
               sscanf(line, " %*s %63s", w2) == 1)
      strcpy(fx->kbasis[fx->nkind - 1], w2);
  }
  fclose(f);
}

/* The last "S CSR write| N periodic images" table; beyond 999 images the
 * number prints as ***, so the line order counts, not the number. */
static void read_images(const char *path, fixture *fx) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  long where = -1;
  while (fgets(line, sizeof line, f)) {
    char *p = strstr(line, "S CSR write|");
    if (p && line[0] == ' ' && strstr(line, "periodic images") && p[-1] == ' ' &&
        (p == line + 1 || p[-2] == ' ')) {
      assert_int_equal(sscanf(p + 12, "%d", &fx->nimg), 1);
      where = ftell(f);
    }
  }
  assert_true(where >= 0);
  fseek(f, where, SEEK_SET);
  assert_non_null(fgets(line, sizeof line, f)); /* column titles */
  fx->img = calloc(fx->nimg, sizeof *fx->img);
  for (int k = 0; k < fx->nimg; k++) {
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(sscanf(line, " %*s %d %d %d", &fx->img[k][0],
                            &fx->img[k][1], &fx->img[k][2]), 3);
  }
  fclose(f);
}

/* Dense norb x norb matrix of one CSR file; missing elements are 0. */
static void read_csr(const char *path, int norb, double *m) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  memset(m, 0, (size_t)norb * norb * sizeof *m);
  int32_t len;
  if (fread(&len, 4, 1, f) == 1 && len == 16) { /* Fortran records */
    do {
      int32_t rc[2], tail;
      double v;
      assert_int_equal(fread(rc, 4, 2, f), 2);
      assert_int_equal(fread(&v, 8, 1, f), 1);
      assert_int_equal(fread(&tail, 4, 1, f), 1);
      assert_int_equal(tail, 16);
      assert_true(rc[0] >= 1 && rc[0] <= norb && rc[1] >= 1 && rc[1] <= norb);
      m[(rc[0] - 1) * norb + rc[1] - 1] = v;
    } while (fread(&len, 4, 1, f) == 1);
  } else {
    rewind(f);
    int i, j;
    double v;
    while (fscanf(f, "%d %d %lf", &i, &j, &v) == 3) {
      assert_true(i >= 1 && i <= norb && j >= 1 && j <= norb);
      m[(i - 1) * norb + j - 1] = v;
    }
  }
  fclose(f);
}

/* CP2K-wrapped position: fractional s <- s - ANINT(s), in bohr. */
static void wrap_bohr(const double cell[3][3], const double *pos, double *tau) {
  double a[9], s[3] = {pos[0], pos[1], pos[2]};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) a[j * 3 + i] = cell[i][j]; /* A^T s = pos */
  solve(3, a, s, 1);
  for (int k = 0; k < 3; k++) s[k] -= round(s[k]);
  for (int k = 0; k < 3; k++)
    tau[k] = BOHR(s[0] * cell[0][k] + s[1] * cell[1][k] + s[2] * cell[2][k]);
}

/* S(n) of all atom pairs into m (norb x norb). */
static void image_matrix(int natom, const tbasis *const *bas, double tau[][3],
                         const int *first, const double A[3][3], const int n[3],
                         nh_int_screen screen, double *m, int norb) {
  for (int a = 0; a < natom; a++)
    for (int b = 0; b < natom; b++) {
      double rb[3];
      image_pos(A, n, tau[b], rb);
      atom_block(NH_INT_OVERLAP, bas[a], tau[a], bas[b], rb, screen,
                 &m[first[a] * norb + first[b]], norb);
    }
}

static void compare_fixture(const char *name) {
  char dir[64], rel[256], cmd[1024];
  snprintf(rel, sizeof rel, "tests/data/cp2k/%s/%s.inp", name, name);
  FILE *probe = fopen(nh_test_path(rel), "r");
  if (!probe) {
    printf("  %s: fixture absent, skipped\n", name);
    return;
  }
  fclose(probe);
  fixture fx;
  read_inp(nh_test_path(rel), &fx);
  snprintf(rel, sizeof rel, "tests/data/cp2k/%s/%s.out", name, name);
  read_images(nh_test_path(rel), &fx);
  static tbasis kb[FIX_MAXAT];
  const tbasis *bas[FIX_MAXAT];
  double tau[FIX_MAXAT][3], A[3][3];
  int first[FIX_MAXAT + 1] = {0};
  for (int k = 0; k < fx.nkind; k++)
    load_basis(fx.kind[k], fx.kbasis[k], 1e-6, &kb[k]);
  for (int a = 0; a < fx.natom; a++) {
    int k = 0;
    while (k < fx.nkind && strcmp(fx.kind[k], fx.sym[a])) k++;
    assert_true(k < fx.nkind);
    bas[a] = &kb[k];
    first[a + 1] = first[a] + bas[a]->norb;
    wrap_bohr(fx.cell, fx.pos[a], tau[a]);
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) A[i][j] = BOHR(fx.cell[i][j]);
  int norb = first[fx.natom];
  strcpy(dir, "/tmp/nh-int-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(rel, sizeof rel, "tests/data/cp2k/%s/%s-csr.tar.xz", name, name);
  snprintf(cmd, sizeof cmd, "tar -xJf '%s' -C '%s' --wildcards '*-S_SPIN_1_R_*'",
           nh_test_path(rel), dir);
  assert_int_equal(system(cmd), 0);
  double *ref = malloc(sizeof(double) * norb * norb);
  double *blk = malloc(sizeof(double) * norb * norb);
  double dx = 0, dc = 0, absent = 0;
  long nval = 0;
  for (int g = 0; g < fx.nimg; g++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s-S_SPIN_1_R_%d-1_0.csr", dir, name, g + 1);
    read_csr(path, norb, ref);
    remove(path);
    image_matrix(fx.natom, bas, tau, first, A, fx.img[g], NH_INT_CP2K,
                 blk, norb);
    for (int i = 0; i < norb * norb; i++) {
      if (ref[i] != 0) {
        dc = fmax(dc, fabs(blk[i] - ref[i]));
        nval++;
      } else
        absent = fmax(absent, fabs(blk[i]));
    }
    image_matrix(fx.natom, bas, tau, first, A, fx.img[g], NH_INT_EXACT,
                 blk, norb);
    for (int i = 0; i < norb * norb; i++)
      if (ref[i] != 0) dx = fmax(dx, fabs(blk[i] - ref[i]));
  }
  rmdir(dir);
  printf("  %s: %d images, %ld values; max |S - S_CP2K|: CP2K screening %.1e, "
         "exact %.1e; max |S| where CP2K wrote none %.1e\n",
         name, fx.nimg, nval, dc, dx, absent);
  assert_true(dc < 1e-13);
  /* exact integrals differ by CP2K's own screening error, which reaches
   * 1.4e-9 in hbn (CONVENTIONS.md section 6) */
  assert_true(dx < 2e-9);
  assert_true(absent < FIX_THRESHOLD);
  free(ref);
  free(blk);
  free(fx.img);
}

static void test_cp2k_fixtures(void **state) {
  (void)state;
  compare_fixture("si2");
  compare_fixture("graphene");
  compare_fixture("hbn");
  compare_fixture("h2o");
  compare_fixture("si8");
}

/* ---------------------------------------------------------------------------
 * CP2K's overlap, kinetic energy and core Hamiltonian matrices of a
 * molecule, printed with &AO_MATRICES (tests/integrals/data/README.md):
 * N2H2Si2 in a 25 Å box at Γ; N TZV2PX-MOLOPT-GTH (with f), H and Si
 * DZVP-MOLOPT-SR-GTH; GTH-PBE potentials (Si with two s projectors and an
 * off-diagonal h); eps_pgf_orb 1e-6. The printed Γ matrix is the sum over
 * images; in a 25 Å box only n = 0 contributes.
 * ------------------------------------------------------------------------- */
#define AO_N 94
#define AO_NAT 6

/* A minimal GTH_POTENTIALS reader, independent of nh_gth_load (checked
 * against it in test_gth_projectors): after the header line, the electrons per
 * l on one line, then a stream of numbers: rloc nloc c_1..c_nloc nl, and
 * per channel r_l nprj and the upper triangle of h row by row. */
static void load_gth(const char *sym, const char *name, nh_gth *pp) {
  char path[1024], line[1024];
  const char *dir = getenv("NEXTHAM_DATA_DIR");
  snprintf(path, sizeof path, "%s/GTH_POTENTIALS", dir ? dir : "/usr/share/cp2k");
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  int found = 0;
  while (!found && fgets(line, sizeof line, f))
    found = line[0] != '#' && is_header(line, sym, name);
  assert_true(found);
  memset(pp, 0, sizeof *pp);
  assert_non_null(fgets(line, sizeof line, f));
  char *p = line, *end;
  for (long n = strtol(p, &end, 10); end != p; n = strtol(p, &end, 10)) {
    pp->zion += n;
    p = end;
  }
  double tok[64];
  int nt = 0;
  while (nt < 60 && fgets(line, sizeof line, f) && line[0] != '#') {
    p = line;
    for (double x = strtod(p, &end); end != p; x = strtod(p, &end)) {
      tok[nt++] = x;
      p = end;
    }
  }
  fclose(f);
  int k = 0;
  pp->rloc = tok[k++];
  pp->nloc = (int)tok[k++];
  for (int i = 0; i < pp->nloc; i++) pp->cloc[i] = tok[k++];
  pp->nl = (int)tok[k++];
  for (int l = 0; l < pp->nl; l++) {
    pp->rl[l] = tok[k++];
    pp->nprj[l] = (int)tok[k++];
    for (int i = 0; i < pp->nprj[l]; i++)
      for (int j = i; j < pp->nprj[l]; j++)
        pp->h[l][i][j] = pp->h[l][j][i] = tok[k++];
  }
  assert_int_equal(k, nt);
}

/* Compares S, T and H_core of one run; the maxima of |ours - CP2K| in the
 * exact and CP2K-screening modes go to ds, dt, dh. */
static void compare_ao_run(const char *file, double ds[2], double dt[2],
                           double dh[2]) {
  static double sref[AO_N * AO_N], tref[AO_N * AO_N], href[AO_N * AO_N],
      s[AO_N * AO_N], t[AO_N * AO_N], h[AO_N * AO_N];
  const char *path = nh_test_path(file);
  nh_test_read_ao_matrix(path, "OVERLAP MATRIX", AO_N, sref);
  nh_test_read_ao_matrix(path, "KINETIC ENERGY MATRIX", AO_N, tref);
  nh_test_read_ao_matrix(path, "CORE HAMILTONIAN MATRIX", AO_N, href);
  static tbasis n, hy, si;
  load_basis("N", "TZV2PX-MOLOPT-GTH", 1e-6, &n);
  load_basis("H", "DZVP-MOLOPT-SR-GTH", 1e-6, &hy);
  load_basis("Si", "DZVP-MOLOPT-SR-GTH", 1e-6, &si);
  nh_gth pn, ph, psi;
  load_gth("N", "GTH-PBE-q5", &pn);
  load_gth("H", "GTH-PBE-q1", &ph);
  load_gth("Si", "GTH-PBE-q4", &psi);
  assert_true(psi.zion == 4 && psi.nprj[0] == 2 && psi.h[0][0][1] == -2.70627082);
  const tbasis *bas[AO_NAT] = {&n, &n, &hy, &hy, &si, &si};
  const nh_gth *pp[AO_NAT] = {&pn, &pn, &ph, &ph, &psi, &psi};
  const double pos[AO_NAT][3] = {{0, 0, 0},       {1.1, 0.2, -0.3},
                                 {0.3, 1.9, 1.2}, {-1.2, -1.0, 2.0},
                                 {2.5, -1.5, 1.0}, {-1.0, 2.5, -1.8}};
  double tau[AO_NAT][3];
  int first[AO_NAT + 1] = {0};
  for (int a = 0; a < AO_NAT; a++) {
    for (int k = 0; k < 3; k++) tau[a][k] = BOHR(pos[a][k]);
    first[a + 1] = first[a] + bas[a]->norb;
  }
  assert_int_equal(first[AO_NAT], AO_N);
  /* <phi|p> of every atom with the projectors of every atom */
  static double proj[AO_NAT][AO_NAT][29 * 32];
  int npf[AO_NAT];
  nh_int_work *w;
  assert_nh_ok(nh_int_work_create(&w));
  for (int c = 0; c < AO_NAT; c++) {
    nh_int_shell ps[NH_INT_GTH_MAXPROJ];
    int nps;
    assert_nh_ok(nh_int_gth_projectors(pp[c], ps, &nps, &npf[c]));
    for (int a = 0; a < AO_NAT && nps; a++)
      assert_nh_ok(nh_int_atoms(w, NH_INT_OVERLAP, bas[a]->ish, bas[a]->nshell,
                                tau[a], ps, nps, tau[c], NH_INT_EXACT,
                                proj[a][c], NULL, npf[c]));
  }
  double hmax = 0, vmax = 0, time = 0;
  ds[0] = ds[1] = dt[0] = dt[1] = dh[0] = dh[1] = 0;
  for (int mode = 0; mode < 2; mode++) {
    double t0 = nh_wtime();
    for (int a = 0; a < AO_NAT; a++)
      for (int b = 0; b < AO_NAT; b++) {
        int o = first[a] * AO_N + first[b];
        assert_nh_ok(nh_int_atoms(w, NH_INT_OVERLAP | NH_INT_KINETIC,
                                  bas[a]->ish, bas[a]->nshell, tau[a],
                                  bas[b]->ish, bas[b]->nshell, tau[b], mode,
                                  &s[o], &t[o], AO_N));
        for (int i = 0; i < bas[a]->norb; i++)
          memcpy(&h[o + i * AO_N], &t[o + i * AO_N],
                 bas[b]->norb * sizeof(double));
        for (int c = 0; c < AO_NAT; c++) {
          assert_nh_ok(nh_int_gth_loc_add(w, pp[c], tau[c], bas[a]->ish,
                                          bas[a]->nshell, tau[a], bas[b]->ish,
                                          bas[b]->nshell, tau[b], &h[o], AO_N));
          nh_int_gth_nl_add(pp[c], proj[a][c], bas[a]->norb, proj[b][c],
                            bas[b]->norb, npf[c], &h[o], AO_N);
        }
      }
    time += nh_wtime() - t0;
    for (int i = 0; i < AO_N * AO_N; i++) {
      ds[mode] = fmax(ds[mode], fabs(s[i] - sref[i]));
      dt[mode] = fmax(dt[mode], fabs(t[i] - tref[i]));
      dh[mode] = fmax(dh[mode], fabs(h[i] - href[i]));
      hmax = fmax(hmax, fabs(href[i]));
      vmax = fmax(vmax, fabs(href[i] - tref[i]));
    }
  }
  assert_nh_ok(nh_int_work_destroy(&w));
  printf("  %s, max |ours - CP2K| (exact / CP2K screening):\n    S %.1e / "
         "%.1e, T %.1e / %.1e, H_core = T + V_loc,Gauss + V_nl %.1e / %.1e "
         "(max |H_core| %.1f, max |V_pp| %.1f Ha)\n",
         file, ds[0], ds[1], dt[0], dt[1], dh[0], dh[1], hmax, vmax);
  printf("    S, T, V_loc, V_nl of all 36 atom pairs with 6 PP atoms: %.1f ms "
         "per build\n", 500 * time);
}


/* Projector shells of a GTH potential: order, counts, errors. */
static void test_gth_projectors(void **state) {
  (void)state;
  nh_gth si, si_lib;
  load_gth("Si", "GTH-PBE-q4", &si);
  /* the library's reader (alias GTH-PBE) gives the same parameters */
  assert_nh_ok(nh_gth_load(&si_lib, 14, "GTH_POTENTIALS", "GTH-PBE"));
  assert_true(si_lib.zion == si.zion && si_lib.rloc == si.rloc &&
              si_lib.nloc == si.nloc && si_lib.nl == si.nl);
  for (int i = 0; i < si.nloc; i++) assert_true(si_lib.cloc[i] == si.cloc[i]);
  for (int l = 0; l < si.nl; l++) {
    assert_true(si_lib.rl[l] == si.rl[l] && si_lib.nprj[l] == si.nprj[l]);
    for (int i = 0; i < si.nprj[l]; i++)
      for (int j = 0; j < si.nprj[l]; j++)
        assert_true(si_lib.h[l][i][j] == si.h[l][i][j]);
  }
  nh_int_shell ps[NH_INT_GTH_MAXPROJ];
  int np, nf;
  assert_nh_ok(nh_int_gth_projectors(&si, ps, &np, &nf));
  assert_int_equal(np, 3);
  assert_int_equal(nf, 5);
  assert_true(ps[0].l == 0 && ps[0].rpow == 0 && ps[1].l == 0 &&
              ps[1].rpow == 2 && ps[2].l == 1 && ps[2].rpow == 0);
  assert_true(fabs(ps[2].exps[0] - 0.5 / (0.49794218 * 0.49794218)) < 1e-15);
  /* radii: V_loc,Gauss below eps beyond rloc_out; projector radial parts
   * below eps beyond rnl_out */
  double rl, rn, v[5];
  nh_int_gth_radii(&si, 1e-10, &rl, &rn);
  assert_true(rl > 1 && rl < 10 && rn > 1 && rn < 10);
  for (double r = rl + 1e-9; r < rl + 3; r += 0.1) {
    double x = r / si.rloc;
    assert_true(fabs(si.cloc[0] * exp(-0.5 * x * x)) < 1e-10);
  }
  for (int k = 0; k < np; k++)
    for (double r = rn + 1e-9; r < rn + 3; r += 0.1) {
      nh_int_shell_eval(&ps[k], 0, 0, r, v); /* on z: P_{l,0} = r^l / sqrt((2l-1)!!) */
      for (int m = 0; m < 2 * ps[k].l + 1; m++) assert_true(fabs(v[m]) < 1e-10);
    }
  si.nprj[1] = 4;
  assert_nh_fails(nh_int_gth_projectors(&si, ps, &np, &nf), NH_ERR_ARG,
                  "l=1 has 4 projectors");
}

static void test_cp2k_core_hamiltonian(void **state) {
  (void)state;
  double ds[2], dt[2], dh[2];
  /* default thresholds (eps_pgf_orb 1e-6, eps_ppl 1e-2): S and T equal
   * CP2K's with its overlap screening emulated; H_core differs by CP2K's
   * pseudopotential screening (not emulated) */
  compare_ao_run("tests/integrals/data/nhsi-ao.txt.xz", ds, dt, dh);
  assert_true(ds[1] < 1e-14);
  assert_true(dt[1] < 1e-13);
  assert_true(ds[0] < 1e-10);
  assert_true(dt[0] < 1e-9);
  assert_true(dh[0] < 5e-8);
  /* EPS_PGF_ORB, EPS_PPL, EPS_PPNL 1e-30: everything exact */
  compare_ao_run("tests/integrals/data/nhsi-tight-ao.txt.xz", ds, dt, dh);
  assert_true(ds[0] < 1e-14);
  assert_true(dt[0] < 1e-13);
  assert_true(dh[0] < 1e-13);
}

/* ---------------------------------------------------------------------------
 * Timing: all shell-pair blocks (S and T) of Si2 DZVP within the CP2K
 * pair radius, as an H0 build would compute them.
 * ------------------------------------------------------------------------- */
static void test_timing_si(void **state) {
  (void)state;
  tbasis si;
  load_basis("Si", "DZVP-MOLOPT-SR-GTH", 1e-6, &si);
  double A[3][3] = {{0, BOHR(2.715), BOHR(2.715)},
                    {BOHR(2.715), 0, BOHR(2.715)},
                    {BOHR(2.715), BOHR(2.715), 0}};
  double tau[2][3] = {{0, 0, 0}, {BOHR(1.3575), BOHR(1.3575), BOHR(1.3575)}};
  double rmax = 0;
  for (int s = 0; s < si.nshell; s++)
    for (int t = 0; t < si.nshell; t++)
      rmax = fmax(rmax, nh_int_pair_radius(&si.ish[s], &si.ish[t],
                                           NH_INT_OVERLAP | NH_INT_KINETIC,
                                           NH_INT_CP2K, 1e-12));
  /* the atom pairs and images within rmax */
  static double rj[4096][3];
  static int ai[4096];
  int nblk = 0;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      for (int n0 = -6; n0 <= 6; n0++)
        for (int n1 = -6; n1 <= 6; n1++)
          for (int n2 = -6; n2 <= 6; n2++) {
            int n[3] = {n0, n1, n2};
            double d2 = 0;
            image_pos(A, n, tau[j], rj[nblk]);
            for (int k = 0; k < 3; k++)
              d2 += (rj[nblk][k] - tau[i][k]) * (rj[nblk][k] - tau[i][k]);
            if (d2 > rmax * rmax) continue;
            ai[nblk++] = i;
            assert_true(nblk < 4096);
          }
  static double s1[13 * 13], t1[13 * 13], s2[13 * 13], t2[13 * 13];
  nh_int_work *w;
  assert_nh_ok(nh_int_work_create(&w));
  double dt[2] = {0, 0}, diff = 0;
  const int ops = NH_INT_OVERLAP | NH_INT_KINETIC, nrep = 3;
  for (int rep = 0; rep < nrep; rep++)
    for (int b = 0; b < nblk; b++) {
      double t0 = nh_wtime();
      for (int x = 0; x < si.nshell; x++)
        for (int y = 0; y < si.nshell; y++)
          assert_nh_ok(nh_int_1e(ops, &si.ish[x], tau[ai[b]], &si.ish[y], rj[b],
                                 NH_INT_CP2K, &s1[si.off[x] * 13 + si.off[y]],
                                 &t1[si.off[x] * 13 + si.off[y]], 13));
      double t1w = nh_wtime();
      assert_nh_ok(nh_int_atoms(w, ops, si.ish, si.nshell, tau[ai[b]], si.ish,
                                si.nshell, rj[b], NH_INT_CP2K, s2, t2, 13));
      dt[0] += t1w - t0;
      dt[1] += nh_wtime() - t1w;
      for (int k = 0; k < 169; k++)
        diff = fmax(diff, fmax(fabs(s1[k] - s2[k]), fabs(t1[k] - t2[k])));
    }
  assert_nh_ok(nh_int_work_destroy(&w));
  long npair = (long)nrep * nblk * si.nshell * si.nshell;
  printf("  Si2 DZVP, S+T, CP2K screening, %d atom blocks (13x13) within "
         "%.2f bohr:\n    per shell pair (nh_int_1e): %.2f us per shell pair, "
         "%.1f us per block\n    per atom pair (nh_int_atoms): %.2f us per "
         "shell pair, %.1f us per block\n",
         nblk, rmax, 1e6 * dt[0] / npair, 1e6 * dt[0] / (nrep * nblk),
         1e6 * dt[1] / npair, 1e6 * dt[1] / (nrep * nblk));
  assert_true(diff < 1e-15);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cp2k_si2),
      cmocka_unit_test(test_cp2k_n2h2),
      cmocka_unit_test(test_normalisation),
      cmocka_unit_test(test_solid_harmonics),
      cmocka_unit_test(test_kinetic_fd),
      cmocka_unit_test(test_kinetic_analytic),
      cmocka_unit_test(test_symmetry_translation),
      cmocka_unit_test(test_rotation),
      cmocka_unit_test(test_projectors),
      cmocka_unit_test(test_atoms),
      cmocka_unit_test(test_basis_module),
      cmocka_unit_test(test_quadrature),
      cmocka_unit_test(test_eval_radius),
      cmocka_unit_test(test_pair_radius),
      cmocka_unit_test(test_prim_radius),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_cp2k_fixtures),
      cmocka_unit_test(test_gth_projectors),
      cmocka_unit_test(test_cp2k_core_hamiltonian),
      cmocka_unit_test(test_timing_si),
  };
  MPI_Init(&argc, &argv);
  int fail = cmocka_run_group_tests(tests, setup_shells, NULL);
  MPI_Finalize();
  return fail ? 1 : 0;
}
