/* Tests of the GTH pseudopotential module: every parameter of an entry as
 * in the file, V_loc and the HGH projectors against formulas evaluated
 * here independently, and errors with FILE:LINE. */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nhtest.h"
#include "nextham/basis.h"
#include "nextham/gth.h"
#include "nextham/structure.h"

static nh_gth load(int z, const char *file, const char *name) {
  nh_gth g;
  assert_nh_ok(nh_gth_load(&g, z, file, name));
  return g;
}

/* Si GTH-PBE-q4, as in /usr/share/cp2k/GTH_POTENTIALS:
 *     2    2
 *      0.44000000    1    -6.26928833
 *     2
 *      0.43563383    2     8.95174150    -2.70627082
 *                                         3.49378060
 *      0.49794218    1     2.43127673                 */
static void test_si_parameters(void **state) {
  (void)state;
  nh_gth g = load(14, "GTH_POTENTIALS", "gth-pbe-q4");
  assert_int_equal(g.z, 14);
  assert_int_equal(g.nl_elec, 2);
  assert_int_equal(g.nelec[0], 2);
  assert_int_equal(g.nelec[1], 2);
  assert_true(g.zion == 4);
  assert_true(g.rloc == 0.44);
  assert_int_equal(g.nloc, 1);
  assert_true(g.cloc[0] == -6.26928833);
  assert_int_equal(g.ncore, 0);
  assert_int_equal(g.nl, 2);
  assert_true(g.rl[0] == 0.43563383);
  assert_int_equal(g.nprj[0], 2);
  assert_true(g.h[0][0][0] == 8.95174150);
  assert_true(g.h[0][0][1] == -2.70627082);
  assert_true(g.h[0][1][0] == -2.70627082);
  assert_true(g.h[0][1][1] == 3.49378060);
  assert_true(g.rl[1] == 0.49794218);
  assert_int_equal(g.nprj[1], 1);
  assert_true(g.h[1][0][0] == 2.43127673);
  assert_non_null(strstr(g.file, "GTH_POTENTIALS"));
}

/* Cu GTH-PBE-q11: no local coefficients, three s projectors (the whole
 * upper triangle on three lines), l up to 2. */
static void test_cu_three_projectors(void **state) {
  (void)state;
  nh_gth g = load(29, "GTH_POTENTIALS", "GTH-PBE-q11");
  assert_int_equal(g.nl_elec, 3);
  assert_int_equal(g.nelec[2], 10);
  assert_true(g.zion == 11);
  assert_int_equal(g.nloc, 0);
  assert_int_equal(g.nl, 3);
  assert_int_equal(g.nprj[0], 3);
  const double h0[3][3] = {{9.69380507, -6.47016535, 1.93595215},
                           {-6.47016535, 11.50177396, -4.99860696},
                           {1.93595215, -4.99860696, 3.96752127}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) assert_true(g.h[0][i][j] == h0[i][j]);
  assert_int_equal(g.nprj[2], 1);
  assert_true(g.h[2][0][0] == -12.82861406);
}

/* The NLCC block is read: C GTH-NLCC-PBE-q4 "NLCC 1 / 0.2743... 1 58.70...". */
static void test_nlcc(void **state) {
  (void)state;
  nh_gth g = load(6, "NLCC_POTENTIALS", "GTH-NLCC-PBE-q4");
  assert_int_equal(g.ncore, 1);
  assert_true(g.rcore[0] == 0.274399357915869);
  assert_int_equal(g.ncc[0], 1);
  assert_true(g.ccore[0][0] == 58.7058349842360);
  assert_true(g.rloc == 0.31478662);
  assert_int_equal(g.nl, 2);
  assert_true(g.h[1][0][0] == -0.00996437);
  /* rho_c = c/(4 pi) exp(-r^2/(2 rc^2)); it holds c (2 pi)^(3/2) rc^3/(4 pi)
   * electrons (1.52 for C, of its two 1s core electrons) */
  double rc = 0.274399357915869, c = 58.7058349842360, d;
  for (double r = 0; r < 2; r += 0.13) {
    double ref = c / (4 * M_PI) * exp(-r * r / (2 * rc * rc));
    assert_close(nh_gth_core_density(&g, r, &d), ref, 1e-13 * (1 + ref));
    assert_close(d, -r / (rc * rc) * ref, 1e-12 * (1 + ref));
  }
  double q = 0, h = 1e-3;
  for (int k = 1; k < 4000; k++) {
    double r = k * h;
    q += 4 * M_PI * r * r * nh_gth_core_density(&g, r, NULL) * h;
  }
  assert_close(q, c * pow(2 * M_PI, 1.5) * rc * rc * rc / (4 * M_PI), 1e-10);
  assert_true(q > 1.5 && q < 1.55);
  nh_gth si = load(14, "GTH_POTENTIALS", "GTH-PBE-q4");
  assert_true(nh_gth_core_density(&si, 0.1, &d) == 0 && d == 0);
}

/* V_loc of Si q4 (one coefficient) and C q4 (two) against the formula of
 * GTH 1996 eq. (1) written out here; the derivative against central
 * differences; the limit at r = 0. */
static void test_vloc(void **state) {
  (void)state;
  nh_gth si = load(14, "GTH_POTENTIALS", "GTH-PBE-q4");
  nh_gth c = load(6, "GTH_POTENTIALS", "GTH-PBE-q4");
  const double radii[] = {1e-7, 1e-3, 0.05, 0.3, 0.44, 1.0, 2.5, 6.0, 20.0};
  for (size_t k = 0; k < sizeof radii / sizeof radii[0]; k++) {
    double r = radii[k], dv;
    double x = r / 0.44;
    double ref = -4 / r * erf(r / (sqrt(2.0) * 0.44)) +
                 exp(-0.5 * x * x) * (-6.26928833);
    assert_close(nh_gth_vloc(&si, r, &dv), ref, 1e-12 * (1 + fabs(ref)));
    double hd = 1e-5 * (r > 1e-3 ? r : 1e-3);
    double fd = (nh_gth_vloc(&si, r + hd, NULL) -
                 nh_gth_vloc(&si, r > hd ? r - hd : 0, NULL)) /
                (r + hd - (r > hd ? r - hd : 0));
    assert_close(dv, fd, 1e-6 * (1 + fabs(dv)));
    double y = r / 0.33847124;
    ref = -4 / r * erf(r / (sqrt(2.0) * 0.33847124)) +
          exp(-0.5 * y * y) * (-8.80367398 + 1.33921085 * y * y);
    assert_close(nh_gth_vloc(&c, r, NULL), ref, 1e-12 * (1 + fabs(ref)));
  }
  /* r = 0: -Z sqrt(2/pi)/r_loc + C1 */
  assert_close(nh_gth_vloc(&si, 0, NULL),
                     -4 * sqrt(2 / M_PI) / 0.44 - 6.26928833, 1e-13);
  /* far away: the bare -Z/r */
  assert_close(nh_gth_vloc(&si, 12, NULL), -4.0 / 12, 1e-15);
}

/* int_0^R f(r) dr by Simpson on a fine uniform grid. */
static double simpson(double (*f)(const nh_gth *, int, int, double, double),
                      const nh_gth *g, int l, int i, double a, double rmax) {
  int n = 20000;
  double h = rmax / n, s = 0;
  for (int k = 0; k <= n; k++) {
    double w = (k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2);
    s += w * f(g, l, i, a, k * h);
  }
  return s * h / 3;
}
static double p2r2(const nh_gth *g, int l, int i, double a, double r) {
  (void)a;
  double p = nh_gth_projector(g, l, i, r);
  return p * p * r * r;
}
static double gp(const nh_gth *g, int l, int i, double a, double r) {
  return pow(r, l) * exp(-a * r * r) * nh_gth_projector(g, l, i, r) * r * r;
}

/* HGH projectors: hand values for Si's p^0_1 and p^0_2, unit norm for
 * l = 0..3, i = 1..3, and the analytic overlap with a Gaussian. */
static void test_projectors(void **state) {
  (void)state;
  nh_gth g = load(14, "GTH_POTENTIALS", "GTH-PBE-q4");
  /* p^0_1(r) = sqrt2 exp(-r^2/(2 rs^2)) / (rs^(3/2) sqrt(Gamma(3/2))),
   * Gamma(3/2) = sqrt(pi)/2; p^0_2 = sqrt2 r^2 e^.. / (rs^(7/2)
   * sqrt(Gamma(7/2))), Gamma(7/2) = 15 sqrt(pi)/8. */
  double rs = 0.43563383, r = 0.5, e = exp(-r * r / (2 * rs * rs));
  assert_close(nh_gth_projector(&g, 0, 1, r),
                     sqrt(2.0) * e / (pow(rs, 1.5) * sqrt(sqrt(M_PI) / 2)),
                     1e-13);
  assert_close(nh_gth_projector(&g, 0, 2, r),
                     sqrt(2.0) * r * r * e /
                         (pow(rs, 3.5) * sqrt(15 * sqrt(M_PI) / 8)),
                     1e-13);
  nh_gth t = g;
  for (int l = 0; l <= 3; l++) {
    t.rl[l] = 0.3 + 0.1 * l;
    for (int i = 1; i <= 3; i++) {
      assert_close(simpson(p2r2, &t, l, i, 0, 12), 1.0, 1e-10);
      for (double a = 0.1; a < 20; a *= 3.7) {
        double ref = simpson(gp, &t, l, i, a, 12);
        assert_close(nh_gth_projector_gauss(&t, l, i, a), ref,
                           1e-10 * (1 + fabs(ref)));
      }
    }
  }
}

/* Writes text to a unique file in the build directory; returns its path. */
static const char *write_tmp(const char *text) {
  static char path[256];
  snprintf(path, sizeof path, "./test_gth_bad_%d.txt", (int)getpid());
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void test_errors(void **state) {
  (void)state;
  nh_gth g;
  assert_nh_fails(nh_gth_load(&g, 14, "GTH_POTENTIALS", "GTH-PBE-q12"),
                  NH_ERR_INPUT, "names for Si there: ");
  assert_nh_fails(nh_gth_load(&g, 14, "NO_SUCH_FILE", "X"), NH_ERR_FILE,
                  "NO_SUCH_FILE");
  struct { const char *text, *needle; } bad[] = {
      {"Si P\n 2 2\n 0.44 1 -6.2\n 2\n 0.43 4 1 2 3 4\n", ":5: number of "
                                                          "projectors must "
                                                          "be 0..3"},
      {"Si P\n 2 2\n 0.44 5 1 2 3 4 5\n", ":3: number of local coefficients"},
      {"Si P\n 2 2 0 0 1\n", ":2: electrons given for more than l = 0..3"},
      {"Si P\n 2 2\n 0.44 1 -6.2\n 2\n 0.43 2 8.9 -2.7\n 0.49 1 2.4\n",
       ":6: malformed line: expected 1"},
      {"Si P\n 2 2\n 0.44 1 -6.2\n 1\n 0.43 1 8.9\n 0.49 1 2.4\n",
       ":6: malformed potential: unexpected line"},
      {"Si P\n 0 0\n 0.44 1 -6.2\n 0\n", "has no valence electrons"},
      {"Si P\n 2 2\n -0.44 1 -6.2\n 0\n", ":3: r_loc must be positive"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    const char *p = write_tmp(bad[k].text);
    char needle[512];
    snprintf(needle, sizeof needle, "%s", bad[k].needle);
    assert_nh_fails(nh_gth_load(&g, 14, p, "P"), NH_ERR_FILE, needle);
    unlink(p);
  }
}

/* Every entry of the GTH files in cp2k-data loads, with zion the sum of
 * the electrons and a symmetric h. */
static void test_every_entry(void **state) {
  (void)state;
  const char *files[] = {"GTH_POTENTIALS", "NLCC_POTENTIALS"};
  int count = 0;
  for (int f = 0; f < 2; f++) {
    char path[1024], line[4096];
    assert_nh_ok(nh_basis_find_file(files[f], path, sizeof path));
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof line, fp)) {
      char sym[8], name[128];
      if (!isalpha((unsigned char)line[0]) ||
          sscanf(line, "%7s %127s", sym, name) != 2)
        continue;
      int z = nh_element_number(sym);
      if (!z) continue;
      nh_gth g;
      assert_nh_ok(nh_gth_load(&g, z, files[f], name));
      int sum = 0;
      for (int l = 0; l < g.nl_elec; l++) sum += g.nelec[l];
      assert_true(g.zion == sum);
      for (int l = 0; l < g.nl; l++)
        for (int i = 0; i < g.nprj[l]; i++)
          for (int j = 0; j < g.nprj[l]; j++)
            assert_true(g.h[l][i][j] == g.h[l][j][i]);
      count++;
    }
    fclose(fp);
  }
  assert_true(count > 300);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_si_parameters), cmocka_unit_test(test_cu_three_projectors),
    cmocka_unit_test(test_nlcc),          cmocka_unit_test(test_vloc),
    cmocka_unit_test(test_projectors),    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_every_entry),
};

NH_TEST_MAIN(tests)
