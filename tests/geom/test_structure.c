/* Tests of the structure object: lifecycle, element table, lattice helpers,
 * CP2K wrapping with exact values, and every validation error. */
#include <math.h>
#include <string.h>

#include "nextham/structure.h"
#include "nhtest.h"

#define ANG (1.0 / NH_BOHR_ANGSTROM) /* bohr per Å */

static nh_structure *cubic(int natoms, double a_bohr) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_create(natoms, &s));
  for (int k = 0; k < 3; k++) s->lattice[k][k] = a_bohr;
  for (int i = 0; i < natoms; i++) s->z[i] = 14;
  snprintf(s->source, sizeof s->source, "mem.vasp");
  return s;
}

static void test_lifecycle(void **state) {
  (void)state;
  nh_structure *s = NULL, *t = NULL;
  assert_nh_ok(nh_structure_create(3, &s));
  assert_int_equal(s->natoms, 3);
  assert_int_equal(s->pbc[0] + s->pbc[1] + s->pbc[2], 3);
  for (int i = 0; i < 3; i++) assert_true(s->z[i] == 0 && s->pos[i][2] == 0);
  assert_true(s->lattice[1][1] == 0);
  s->z[2] = 8;
  s->pos[2][1] = 1.5;
  s->lattice[0][0] = 3;
  s->pbc[1] = 0;
  strcpy(s->source, "x.xyz");
  assert_nh_ok(nh_structure_copy(s, &t));
  s->pos[2][1] = 0; /* deep copy: t keeps its own arrays */
  assert_true(t->z[2] == 8 && t->pos[2][1] == 1.5 && t->lattice[0][0] == 3);
  assert_int_equal(t->pbc[1], 0);
  assert_string_equal(t->source, "x.xyz");
  assert_nh_ok(nh_structure_destroy(&s));
  assert_null(s);
  assert_nh_ok(nh_structure_destroy(&s)); /* *s NULL */
  assert_nh_ok(nh_structure_destroy(NULL));
  nh_structure_destroy(&t);
  assert_nh_fails(nh_structure_create(-1, &s), NH_ERR_ARG, "natoms = -1");
}

static void test_elements(void **state) {
  (void)state;
  for (int z = 1; z <= 118; z++)
    assert_int_equal(nh_element_number(nh_element_symbol(z)), z);
  assert_int_equal(nh_element_number("H"), 1);
  assert_int_equal(nh_element_number("Si"), 14);
  assert_int_equal(nh_element_number("Og"), 118);
  assert_int_equal(nh_element_number("si"), 0); /* case-sensitive */
  assert_int_equal(nh_element_number("Xx"), 0);
  assert_int_equal(nh_element_number(""), 0);
  assert_string_equal(nh_element_symbol(26), "Fe");
  assert_string_equal(nh_element_symbol(0), "");
  assert_string_equal(nh_element_symbol(119), "");
}

static void test_lattice(void **state) {
  (void)state;
  double lat[3][3] = {{0, 2, 2}, {2, 0, 2}, {2, 2, 0}}, rec[3][3];
  assert_true(nh_lattice_volume(lat) == 16.0);
  assert_nh_ok(nh_lattice_reciprocal(lat, rec));
  /* b1 = (a2 x a3) / V = (-4, 4, 4) / 16 */
  assert_true(rec[0][0] == -0.25 && rec[0][1] == 0.25 && rec[0][2] == 0.25);
  double tri[3][3] = {{7.1, 0.1, -0.2}, {1.0 / 3, 8.9, 0.3}, {-0.7, 0.25, 11}};
  assert_nh_ok(nh_lattice_reciprocal(tri, rec));
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 3; k++) {
      double d = tri[i][0] * rec[k][0] + tri[i][1] * rec[k][1] +
                 tri[i][2] * rec[k][2];
      assert_true(fabs(d - (i == k)) < 1e-15);
    }
  double s[3] = {0.25, -0.5, 1.75}, r[3], s2[3];
  nh_lattice_to_cart(tri, s, r);
  assert_true(fabs(r[0] - (0.25 * 7.1 - 0.5 / 3 - 1.75 * 0.7)) < 1e-14);
  nh_lattice_to_frac(rec, r, s2);
  for (int k = 0; k < 3; k++) assert_true(fabs(s2[k] - s[k]) < 1e-14);
  double left[3][3] = {{2, 0, 0}, {0, 0, 2}, {0, 2, 0}};
  assert_true(nh_lattice_volume(left) == -8.0);
  double sing[3][3] = {{1, 0, 0}, {0, 1, 0}, {1, 1, 0}};
  assert_nh_fails(nh_lattice_reciprocal(sing, rec), NH_ERR_NUMERIC,
                  "singular lattice");
}

/* Cube of 4 bohr: fractional coordinates are x / 4 exactly. Along periodic
 * directions s -> s - round(s), round half away from zero: 0.5 -> -0.5,
 * -0.5 -> 0.5, 0.7 -> -0.3, -1.2 -> -0.2; along non-periodic ones nothing. */
static void test_wrap_cp2k(void **state) {
  (void)state;
  nh_structure *s = cubic(2, 4.0);
  double in[2][3] = {{0.5 * 4, -0.5 * 4, 0.7 * 4}, {-1.2 * 4, 0.7 * 4, 0.5 * 4}};
  memcpy(s->pos, in, sizeof in);
  double out[2][3];
  nh_structure_wrap_cp2k(s, out);
  assert_true(out[0][0] == -2.0 && out[0][1] == 2.0);
  assert_true(fabs(out[0][2] - (-0.3 * 4)) < 1e-15);
  assert_true(fabs(out[1][0] - (-0.2 * 4)) < 1e-15);
  assert_true(fabs(out[1][1] - (-0.3 * 4)) < 1e-15);
  assert_true(out[1][2] == -2.0);
  /* non-periodic x and z: untouched, bit for bit */
  s->pbc[0] = s->pbc[2] = 0;
  nh_structure_wrap_cp2k(s, out);
  assert_true(out[0][0] == 2.0 && out[0][1] == 2.0 && out[0][2] == in[0][2]);
  assert_true(out[1][0] == in[1][0] && out[1][2] == 2.0);
  assert_true(fabs(out[1][1] - (-0.3 * 4)) < 1e-15);
  /* in place, triclinic: result within [-0.5, 0.5], shifted by lattice
   * vectors only */
  double tri[3][3] = {{5, 0, 0}, {2.5, 4.3, 0}, {1, 1, 6}}, rec[3][3];
  memcpy(s->lattice, tri, sizeof tri);
  s->pbc[0] = s->pbc[2] = 1;
  double p0[3] = {13.1, -7.7, 20.2};
  memcpy(s->pos[0], p0, sizeof p0);
  nh_structure_wrap_cp2k(s, s->pos);
  assert_nh_ok(nh_lattice_reciprocal(tri, rec));
  double f[3], f0[3];
  nh_lattice_to_frac(rec, s->pos[0], f);
  nh_lattice_to_frac(rec, p0, f0);
  for (int k = 0; k < 3; k++) {
    assert_true(f[k] >= -0.5 - 1e-12 && f[k] <= 0.5 + 1e-12);
    assert_true(fabs((f0[k] - f[k]) - round(f0[k] - f[k])) < 1e-12);
  }
  nh_structure_destroy(&s);
}

/* ------------------------------------------------------------------------- */
static void test_validate_basic(void **state) {
  (void)state;
  nh_structure *s = cubic(0, 10.0);
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: the structure has no atoms");
  nh_structure_destroy(&s);
  s = cubic(2, 10.0);
  s->pos[1][0] = 5.0;
  assert_nh_ok(nh_structure_validate(s, NH_MIN_DIST));
  s->z[1] = 0;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: atom 2 has an unknown atomic number 0");
  s->z[1] = 119;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "atom 2 has an unknown atomic number 119");
  s->z[1] = 8;
  s->pos[1][2] = NAN;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: atom 2 (O) has a coordinate that is not a finite");
  s->pos[1][2] = -INFINITY;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "atom 2 (O) has a coordinate that is not a finite");
  s->pos[1][2] = 2e6 * ANG;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "atom 2 (O) is 2e+06 Å from the origin");
  nh_structure_destroy(&s);
}

static void test_validate_cell(void **state) {
  (void)state;
  nh_structure *s = cubic(1, 10.0);
  s->lattice[2][0] = 10.0, s->lattice[2][1] = 10.0, s->lattice[2][2] = 0;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: the cell is singular");
  /* nearly singular: det / (|a1||a2||a3|) = 1e-9 */
  s->lattice[2][2] = 1e-9 * sqrt(200.0);
  assert_nh_fails(nh_structure_validate(s, 0), NH_ERR_INPUT,
                  "the cell is singular");
  s->lattice[2][2] = 1e-7 * sqrt(200.0); /* 1e-7: accepted */
  assert_nh_ok(nh_structure_validate(s, 0));
  memset(s->lattice, 0, sizeof s->lattice);
  s->lattice[0][1] = s->lattice[1][0] = s->lattice[2][2] = 10.0;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: the cell is left-handed");
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "swap two lattice vectors");
  s->lattice[0][0] = NAN;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "lattice vector a1 is not finite");
  nh_structure_destroy(&s);
}

static void test_validate_distances(void **state) {
  (void)state;
  nh_structure *s = cubic(3, 10.0 * ANG);
  s->z[1] = 8;
  s->pos[1][0] = 2.0 * ANG;
  s->pos[2][0] = 2.3 * ANG; /* 0.3 Å from atom 2 */
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: atoms 2 (O) and 3 (Si) are 0.300000 Å apart");
  assert_nh_ok(nh_structure_validate(s, 0.25 * ANG)); /* smaller min_dist */
  assert_nh_ok(nh_structure_validate(s, 0));          /* no distance check */
  /* atom 3 0.4 Å from the image of atom 1 across the x boundary */
  s->pos[2][0] = 9.6 * ANG;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "atoms 1 (Si) and 3 (Si) are 0.400000 Å apart through the "
                  "periodic boundary");
  /* not periodic along x: no image, so fine */
  s->pbc[0] = 0;
  assert_nh_ok(nh_structure_validate(s, NH_MIN_DIST));
  nh_structure_destroy(&s);
}

static void test_validate_periodic_vectors(void **state) {
  (void)state;
  nh_structure *s = cubic(1, 10.0 * ANG);
  s->lattice[1][1] = 0.45 * ANG;
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: lattice vector a2 is 0.450000 Å long along a "
                  "periodic direction");
  s->pbc[1] = 0; /* a short box vector along a non-periodic direction is ok */
  assert_nh_ok(nh_structure_validate(s, NH_MIN_DIST));
  /* every vector long, but a2 - a1 = (0.3, 0.3, 0) Å: the atom meets its
   * own image */
  s->pbc[1] = 1;
  double lat[3][3] = {{5 * ANG, 0, 0}, {5.3 * ANG, 0.3 * ANG, 0}, {0, 0, 5 * ANG}};
  memcpy(s->lattice, lat, sizeof lat);
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: atom 1 (Si) is 0.424264 Å from its own periodic "
                  "image");
  /* a3 = (1000, 0, 0.01) Å: planes (a2, a3) 5e-5 Å apart, below 0.5 / 20 Å */
  double skew[3][3] = {{5 * ANG, 0, 0}, {0, 5 * ANG, 0}, {1000 * ANG, 0, 0.01 * ANG}};
  memcpy(s->lattice, skew, sizeof skew);
  assert_nh_fails(nh_structure_validate(s, NH_MIN_DIST), NH_ERR_INPUT,
                  "mem.vasp: the cell is extremely skewed (the layer spacing "
                  "along a1 is 5e-05 Å)");
  nh_structure_destroy(&s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_lifecycle),
    cmocka_unit_test(test_elements),
    cmocka_unit_test(test_lattice),
    cmocka_unit_test(test_wrap_cp2k),
    cmocka_unit_test(test_validate_basic),
    cmocka_unit_test(test_validate_cell),
    cmocka_unit_test(test_validate_distances),
    cmocka_unit_test(test_validate_periodic_vectors),
};
NH_TEST_MAIN(tests)
