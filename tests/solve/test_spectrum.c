/* Fermi level, gaps and DOS on band models whose answers are known. */
#include <math.h>
#include <string.h>

#include "nextham/spectrum.h"
#include "nhtest.h"

static void test_nelec(void **state) {
  (void)state;
  double zval[119] = {0}, n;
  int z[3] = {14, 14, 8};
  zval[14] = 4;
  zval[8] = 6;
  assert_nh_ok(nh_spectrum_nelec(3, z, zval, 0, &n));
  assert_true(n == 14);
  assert_nh_ok(nh_spectrum_nelec(3, z, zval, -1, &n)); /* an extra electron */
  assert_true(n == 15);
  zval[8] = 0;
  assert_nh_fails(nh_spectrum_nelec(3, z, zval, 0, &n), NH_ERR_INPUT, "element O");
}

/* two flat bands at -1 and +1: insulator, E_F mid-gap, direct gap 2 */
static void test_flat_bands(void **state) {
  (void)state;
  double e[8] = {-1, 1, -1, 1, -1, 1, -1, 1}, w[4] = {1, 1, 1, 1};
  nh_spectrum_info in;
  assert_nh_ok(nh_spectrum_analyse(4, 2, e, w, 2, 1e-9, &in));
  assert_int_equal(in.gapped, 1);
  assert_true(in.fermi == 0 && in.gap == 2 && in.vbm == -1 && in.cbm == 1);
  assert_int_equal(in.direct, 1);
  assert_int_equal(in.vbm_k, 0);
  /* four electrons fill both: no empty level, gap unknown */
  assert_nh_ok(nh_spectrum_analyse(4, 2, e, w, 4, 1e-9, &in));
  assert_int_equal(in.gapped, 0);
  assert_true(in.fermi == 1);
  assert_nh_fails(nh_spectrum_analyse(4, 2, e, w, 5, 1e-9, &in), NH_ERR_INPUT,
                  "increase nbands");
  /* a band lost to the S(k) projection (+inf) is no level at all */
  double einf[6] = {-1, 1, HUGE_VAL, -1, 1, HUGE_VAL}, dos[5];
  assert_nh_ok(nh_spectrum_analyse(2, 3, einf, w, 2, 1e-9, &in));
  assert_true(in.gapped && in.fermi == 0 && in.cbm == 1);
  assert_nh_fails(nh_spectrum_analyse(2, 3, einf, w, 4.5, 1e-9, &in),
                  NH_ERR_INPUT, "increase nbands");
  assert_nh_ok(nh_spectrum_dos(2, 3, einf, w, 0, NULL, NH_BROADEN_GAUSSIAN, 0.1,
                               -1, 0.5, 5, dos, NULL));
  assert_true(fabs(dos[4] - 2 / (0.1 * sqrt(2 * M_PI))) < 1e-12);
  /* two degenerate bands at 0 holding 2 of 4 electrons: a metal at 0 */
  double d[4] = {-1e-12, 1e-12, 0, 0};
  assert_nh_ok(nh_spectrum_analyse(2, 2, d, w, 2, 1e-9, &in));
  assert_int_equal(in.gapped, 0);
  assert_true(fabs(in.fermi) <= 1e-12);
  /* ... unless the levels are further apart than the tolerance */
  d[1] = 1e-6;
  d[3] = 1e-6;
  assert_nh_ok(nh_spectrum_analyse(2, 2, d, w, 2, 1e-9, &in));
  assert_int_equal(in.gapped, 1);
  assert_true(fabs(in.gap - 1e-6) < 1e-18);
}

/* an indirect gap: VBM at k1, CBM at k2 */
static void test_indirect(void **state) {
  (void)state;
  double e[6] = {0, 2, 0.5, 1.8, 0.2, 1.0}, w[3] = {1, 1, 1};
  nh_spectrum_info in;
  assert_nh_ok(nh_spectrum_analyse(3, 2, e, w, 2, 1e-9, &in));
  assert_int_equal(in.gapped, 1);
  assert_int_equal(in.vbm_k, 1);
  assert_int_equal(in.cbm_k, 2);
  assert_true(fabs(in.gap - 0.5) < 1e-15);
  assert_true(fabs(in.direct_gap - 0.8) < 1e-15);
  assert_int_equal(in.direct_k, 2);
  assert_int_equal(in.direct, 0);
  assert_true(fabs(in.fermi - 0.75) < 1e-15);
}

/* k-weights matter: levels 0 (w 1/4), 0.5 (3/4), 1 (1/4), 2 (3/4) */
static void test_weights(void **state) {
  (void)state;
  double e[4] = {0, 1, 0.5, 2}, w[2] = {0.25, 0.75};
  nh_spectrum_info in;
  assert_nh_ok(nh_spectrum_analyse(2, 2, e, w, 2, 1e-9, &in));
  assert_int_equal(in.gapped, 1);
  assert_true(in.vbm == 0.5 && in.cbm == 1 && in.fermi == 0.75);
  assert_int_equal(in.direct, 0);
  /* one electron: the level at 0 holds 0.5, the one at 0.5 fills past 1 */
  assert_nh_ok(nh_spectrum_analyse(2, 2, e, w, 1, 1e-9, &in));
  assert_int_equal(in.gapped, 0);
  assert_true(in.fermi == 0.5);
  /* unnormalised weights give the same */
  double w2[2] = {1, 3};
  assert_nh_ok(nh_spectrum_analyse(2, 2, e, w2, 1, 1e-9, &in));
  assert_true(in.fermi == 0.5);
}

/* free electrons in 1-D, e = k^2 on N points of (-1/2, 1/2]: with nelec
 * electrons the occupied k reach |k| = nelec / 4 and E_F = (nelec/4)^2
 * (an odd N puts k = 0 on the mesh; each |k| > 0 is a pair) */
static void test_free_electrons(void **state) {
  (void)state;
  enum { N = 401 };
  double e[N], w[N];
  for (int q = 0; q < N; q++) {
    double k = (q - N / 2) / (double)N;
    e[q] = k * k;
    w[q] = 1.0 / N;
  }
  nh_spectrum_info in;
  /* 201 levels of 2/N electrons fill 402/401 electrons: k up to 100/401 */
  assert_nh_ok(nh_spectrum_analyse(N, 1, e, w, 402.0 / N, 1e-15, &in));
  double kf = 100.0 / N, kn = 101.0 / N;
  assert_int_equal(in.gapped, 1);
  assert_true(fabs(in.vbm - kf * kf) < 1e-16);
  assert_true(fabs(in.fermi - 0.5 * (kf * kf + kn * kn)) < 1e-16);
  /* half filling (1 electron): the pair at 100/401 is half full: metal */
  assert_nh_ok(nh_spectrum_analyse(N, 1, e, w, 1.0, 1e-15, &in));
  assert_int_equal(in.gapped, 0);
  assert_true(fabs(in.fermi - kf * kf) < 1e-16);
}

static void test_dos(void **state) {
  (void)state;
  enum { NK = 7, NB = 5, NE = 3001 };
  double e[NK * NB], w[NK], proj[NK * NB * 2];
  double *tot, *pd;
  assert_nh_ok(nh_malloc(NE * sizeof *tot, &tot));
  assert_nh_ok(nh_malloc(NE * 2 * sizeof *pd, &pd));
  unsigned seed = 12345;
  for (int q = 0; q < NK * NB; q++) {
    seed = seed * 1103515245u + 12345u;
    e[q] = -5 + 10 * (double)(seed >> 8) / (double)(1u << 24);
    proj[2 * q] = (double)(q % 3) / 3;
    proj[2 * q + 1] = 1 - proj[2 * q];
  }
  for (int k = 0; k < NK; k++) w[k] = 1 + k; /* normalised inside */
  double e0 = -15, de = 0.01;
  for (int kind = 0; kind < 2; kind++) {
    double sigma = kind ? 0.05 : 0.1;
    assert_nh_ok(nh_spectrum_dos(NK, NB, e, w, 2, proj, (nh_broadening)kind,
                                 sigma, e0, de, NE, tot, pd));
    /* integrates to 2 NB states per cell; projections add up to the total */
    double sum = 0, psum = 0;
    for (int j = 0; j < NE; j++) {
      sum += tot[j] * de;
      psum += (pd[2 * j] + pd[2 * j + 1]) * de;
      assert_true(fabs(pd[2 * j] + pd[2 * j + 1] - tot[j]) <= 1e-12 * (1 + tot[j]));
    }
    if (fabs(sum - 2 * NB) > 1e-8) fprintf(stderr, "kind %d: %.12f\n", kind, sum);
    assert_true(fabs(sum - 2 * NB) < 1e-8);
    assert_true(fabs(psum - 2 * NB) < 1e-8);
  }
  /* flat bands at -1, +1, two electrons: the DOS below E_F = 0 holds 2,
   * and the peak is 2 / (sigma sqrt(2 pi)) */
  double f[4] = {-1, 1, -1, 1}, w2[2] = {1, 1}, below = 0, sigma = 0.1;
  assert_nh_ok(nh_spectrum_dos(2, 2, f, w2, 0, NULL, NH_BROADEN_GAUSSIAN, sigma,
                               -3, de, 601, tot, NULL));
  for (int j = 0; j < 300; j++) below += tot[j] * de;
  below += 0.5 * tot[300] * de; /* E = 0 is the edge of the integral */
  assert_true(fabs(below - 2) < 1e-10);
  assert_true(fabs(tot[200] - 2 / (sigma * sqrt(2 * M_PI))) < 1e-9);
  nh_broadening b;
  assert_nh_ok(nh_broadening_parse("fermi-dirac", &b));
  assert_int_equal(b, NH_BROADEN_FERMI_DIRAC);
  assert_nh_fails(nh_broadening_parse("lorentz", &b), NH_ERR_INPUT, "'lorentz'");
  assert_nh_fails(nh_spectrum_dos(2, 2, f, w2, 0, NULL, NH_BROADEN_GAUSSIAN, 0,
                                  -3, de, 601, tot, NULL), NH_ERR_INPUT, "sigma");
  nh_free(&tot);
  nh_free(&pd);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nelec),        cmocka_unit_test(test_flat_bands),
      cmocka_unit_test(test_indirect),     cmocka_unit_test(test_weights),
      cmocka_unit_test(test_free_electrons), cmocka_unit_test(test_dos),
  };
  int fail = cmocka_run_group_tests(tests, NULL, NULL);
  MPI_Finalize();
  return fail ? 1 : 0;
}
