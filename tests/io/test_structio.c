/* Tests of the structure readers and writers: exact numbers from good files,
 * writer round trips, and the error (code, file, line or atoms) of every
 * malformed file in tests/data/structures/bad. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nextham/structure.h"
#include "nhtest.h"

#define ANG (1.0 / NH_BOHR_ANGSTROM) /* bohr per Å */

static const char *good(const char *name) {
  static char buf[4][1024];
  static int k;
  char *out = buf[k++ % 4];
  snprintf(out, 1024, "%s",
           nh_test_path("tests/data/structures/") /* ends with '/' */);
  strncat(out, name, 1023 - strlen(out));
  return out;
}

static const char *bad(const char *name) {
  static char rel[256];
  snprintf(rel, sizeof rel, "bad/%s", name);
  return good(rel);
}

/* |a - b| <= tol * max(1, |b|) for every component, bohr vs Å * ANG. */
static void assert_vec_ang(const double *bohr, double x, double y, double z) {
  double e[3] = {x * ANG, y * ANG, z * ANG};
  for (int k = 0; k < 3; k++) {
    if (fabs(bohr[k] - e[k]) > 1e-12 * fmax(1.0, fabs(e[k])))
      fprintf(stderr, "component %d: got %.17g, expected %.17g bohr\n", k,
              bohr[k], e[k]);
    assert_true(fabs(bohr[k] - e[k]) <= 1e-12 * fmax(1.0, fabs(e[k])));
  }
}

static void assert_pbc(const nh_structure *s, int a, int b, int c) {
  assert_int_equal(s->pbc[0], a);
  assert_int_equal(s->pbc[1], b);
  assert_int_equal(s->pbc[2], c);
}

/* Diamond Si, primitive fcc cell with a = 5.43 Å. */
static void assert_si2(const nh_structure *s) {
  assert_int_equal(s->natoms, 2);
  assert_int_equal(s->z[0], 14);
  assert_int_equal(s->z[1], 14);
  assert_vec_ang(s->lattice[0], 0, 2.715, 2.715);
  assert_vec_ang(s->lattice[1], 2.715, 0, 2.715);
  assert_vec_ang(s->lattice[2], 2.715, 2.715, 0);
  assert_vec_ang(s->pos[0], 0, 0, 0);
  assert_vec_ang(s->pos[1], 1.3575, 1.3575, 1.3575);
  assert_pbc(s, 1, 1, 1);
}

static void test_poscar_direct_and_cartesian(void **state) {
  (void)state;
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_read_poscar(good("POSCAR_si_direct"), &s));
  assert_si2(s);
  assert_non_null(strstr(s->source, "POSCAR_si_direct"));
  nh_structure_destroy(&s);
  assert_null(s);
  /* scale 5.43 applies to the lattice and to Cartesian positions */
  assert_nh_ok(nh_structure_read(good("POSCAR_si_cart_scale"), "poscar", &s));
  assert_si2(s);
  nh_structure_destroy(&s);
  /* DOS line endings */
  assert_nh_ok(nh_structure_read(good("POSCAR_si_crlf"), "auto", &s));
  assert_si2(s);
  nh_structure_destroy(&s);
}

static void test_poscar_volume_and_selective(void **state) {
  (void)state;
  nh_structure *s = NULL;
  /* -64 Å^3 on a 2x2x2 cube: scale 2, a = 4 Å; 'K' means Cartesian, scaled */
  assert_nh_ok(nh_structure_read(good("POSCAR_nacl_volume"), "auto", &s));
  assert_int_equal(s->natoms, 2);
  assert_int_equal(s->z[0], 55);
  assert_int_equal(s->z[1], 17);
  assert_vec_ang(s->lattice[0], 4, 0, 0);
  assert_vec_ang(s->lattice[2], 0, 0, 4);
  assert_vec_ang(s->pos[1], 1, 1, 1);
  assert_true(fabs(nh_lattice_volume(s->lattice) - 64 * ANG * ANG * ANG) <
              1e-10);
  nh_structure_destroy(&s);
  /* POTCAR labels Ga_d, As/hash; selective flags and velocities ignored */
  assert_nh_ok(nh_structure_read(good("CONTCAR_selective"), "auto", &s));
  assert_int_equal(s->natoms, 2);
  assert_int_equal(s->z[0], 31);
  assert_int_equal(s->z[1], 33);
  assert_vec_ang(s->lattice[1], 2.8265, 0, 2.8265);
  assert_vec_ang(s->pos[1], 1.41325, 1.41325, 1.41325);
  nh_structure_destroy(&s);
}

static void test_extxyz(void **state) {
  (void)state;
  nh_structure *s = NULL;
  /* Properties=pos:R:3:forces:R:3:species:S:1:Z:I:1, quoted values */
  assert_nh_ok(nh_structure_read(good("extxyz_columns.xyz"), "auto", &s));
  assert_int_equal(s->natoms, 3);
  assert_int_equal(s->z[0], 8);
  assert_int_equal(s->z[1], 1);
  assert_int_equal(s->z[2], 1); /* "h": element symbols in any case */
  assert_vec_ang(s->lattice[0], 8, 0, 0);
  assert_vec_ang(s->lattice[1], 0, 9, 0);
  assert_vec_ang(s->lattice[2], 0, 1, 20);
  assert_vec_ang(s->pos[0], 1.0, 2.0, 3.0);
  assert_vec_ang(s->pos[2], 0.2, 2.6, 3.0);
  assert_pbc(s, 1, 1, 0);
  nh_structure_destroy(&s);
  /* Lattice without pbc: periodic in 3-D */
  assert_nh_ok(nh_structure_read(good("extxyz_lattice_only.extxyz"), "auto", &s));
  assert_si2(s);
  nh_structure_destroy(&s);
}

/* Plain XYZ: a molecule in an orthogonal box, extent + 2 x 10 Å. */
static void test_plain_xyz(void **state) {
  (void)state;
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_read(good("water.xyz"), "xyz", &s));
  assert_int_equal(s->natoms, 3);
  assert_int_equal(s->z[0], 8);
  assert_pbc(s, 0, 0, 0);
  assert_vec_ang(s->lattice[0], 20.0, 0, 0);
  assert_vec_ang(s->lattice[1], 0, 2 * 0.7572 + 20.0, 0);
  assert_vec_ang(s->lattice[2], 0, 0, 0.1173 + 0.4692 + 20.0);
  assert_vec_ang(s->pos[1], 0, 0.7572, -0.4692);
  nh_structure_destroy(&s);
}

static const char *shared_si2(void) {
  static char buf[1024];
  const char *sh = getenv("NH_SHARED");
  snprintf(buf, sizeof buf, "%s/cp2k/si2.inp", sh ? sh : "/work/shared");
  return buf;
}

static void test_cp2k_si2(void **state) {
  (void)state;
  nh_structure *s = NULL;
  if (access(shared_si2(), R_OK) != 0) skip();
  assert_nh_ok(nh_structure_read(shared_si2(), "auto", &s));
  assert_si2(s);
  nh_structure_destroy(&s);
}

/* ABC [angstrom] 2.46 2.46 20 with gamma = 120 (CP2K: a along x, b in the
 * xy plane), PERIODIC XY, UNIT bohr, kinds C1, C_2 and Hup (ELEMENT H). */
static void test_cp2k_slab(void **state) {
  (void)state;
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_read(good("slab_abc.inp"), "cp2k", &s));
  assert_int_equal(s->natoms, 3);
  assert_int_equal(s->z[0], 6);
  assert_int_equal(s->z[1], 6);
  assert_int_equal(s->z[2], 1);
  assert_pbc(s, 1, 1, 0);
  double g = 120 * 3.14159265358979323846 / 180;
  assert_vec_ang(s->lattice[0], 2.46, 0, 0);
  assert_vec_ang(s->lattice[1], 2.46 * cos(g), 2.46 * sin(g), 0);
  assert_vec_ang(s->lattice[2], 0, 0, 20.0); /* cos 90 snapped to 0 */
  assert_true(s->lattice[2][0] == 0 && s->lattice[2][1] == 0);
  assert_true(s->pos[1][1] == 2.6834545 && s->pos[2][2] == 21.0); /* bohr */
  nh_structure_destroy(&s);
}

/* Lower case, A/B/C in [bohr], SCALED .TRUE., a &CELL_REF inside &CELL that
 * must not count, and a second FORCE_EVAL (with kind Xx) that is ignored. */
static void test_cp2k_scaled(void **state) {
  (void)state;
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_read(good("scaled_two_force_evals.inp"), "auto", &s));
  assert_int_equal(s->natoms, 2);
  assert_int_equal(s->z[0], 11);
  assert_int_equal(s->z[1], 17);
  /* [bohr] 10: back to 10 bohr through Å to 1e-13 */
  for (int k = 0; k < 3; k++)
    for (int x = 0; x < 3; x++)
      assert_true(fabs(s->lattice[k][x] - (k == x ? 10.0 : 0.0)) < 1e-13);
  assert_pbc(s, 1, 1, 1);
  assert_true(s->pos[0][0] == 0 && s->pos[0][1] == 0 && s->pos[0][2] == 0);
  for (int x = 0; x < 3; x++) assert_true(fabs(s->pos[1][x] - 5.0) < 1e-13);
  nh_structure_destroy(&s);
}

/* ------------------------------------------------------------------------- */
static void assert_same(const nh_structure *a, const nh_structure *b,
                        double tol_bohr) {
  assert_int_equal(a->natoms, b->natoms);
  double worst = 0;
  for (int k = 0; k < 3; k++)
    for (int x = 0; x < 3; x++)
      worst = fmax(worst, fabs(a->lattice[k][x] - b->lattice[k][x]));
  for (int i = 0; i < a->natoms; i++) {
    assert_int_equal(a->z[i], b->z[i]);
    for (int x = 0; x < 3; x++)
      worst = fmax(worst, fabs(a->pos[i][x] - b->pos[i][x]));
  }
  if (worst > tol_bohr) fprintf(stderr, "round trip off by %g bohr\n", worst);
  assert_true(worst <= tol_bohr);
}

/* A triclinic cell with awkward numbers and interleaved elements (the POSCAR
 * writer must keep atom order with repeated species groups). */
static nh_structure *awkward(void) {
  nh_structure *s = NULL;
  assert_nh_ok(nh_structure_create(5, &s));
  double lat[3][3] = {{7.123456789012345, 0.1, -0.2},
                      {1.0 / 3.0, 8.987654321, 0.3},
                      {-0.7, 0.25, 11.1111111111}};
  memcpy(s->lattice, lat, sizeof lat);
  int z[5] = {14, 8, 14, 14, 1};
  for (int i = 0; i < 5; i++) {
    s->z[i] = z[i];
    s->pos[i][0] = 1.1 * i + 1.0 / 7.0;
    s->pos[i][1] = -0.3 * i * i + 2.0 / 3.0;
    s->pos[i][2] = 2.2 * i + 1e-3 / 9.0;
  }
  s->pbc[2] = 0;
  snprintf(s->source, sizeof s->source, "awkward");
  return s;
}

static void test_round_trips(void **state) {
  (void)state;
  char xyz[64], poscar[64];
  snprintf(xyz, sizeof xyz, "structio_rt_%d.xyz", (int)getpid());
  snprintf(poscar, sizeof poscar, "structio_rt_%d.vasp", (int)getpid());
  nh_structure *s = awkward(), *t = NULL;
  assert_nh_ok(nh_structure_validate(s, NH_MIN_DIST));
  assert_nh_ok(nh_structure_write_xyz(s, xyz));
  assert_nh_ok(nh_structure_read(xyz, "auto", &t));
  assert_same(s, t, 1e-10 * ANG);
  assert_pbc(t, 1, 1, 0);
  nh_structure_destroy(&t);
  assert_nh_ok(nh_structure_write_poscar(s, poscar));
  assert_nh_ok(nh_structure_read(poscar, "auto", &t));
  assert_same(s, t, 1e-10 * ANG);
  assert_pbc(t, 1, 1, 1); /* POSCAR is always periodic */
  nh_structure_destroy(&t);
  /* no temporary left behind */
  char tmp[80];
  snprintf(tmp, sizeof tmp, "%s.tmp", xyz);
  assert_int_equal(access(tmp, F_OK), -1);
  remove(xyz);
  remove(poscar);
  nh_structure_destroy(&s);
}

/* ------------------------------------------------------------------------- */
/* Each malformed file: the reader fails with code and every needle (file
 * name with line, atoms, ...) in the message, and leaves *s NULL. */
static void expect_fail(const char *file, const char *format, nh_err code,
                        const char *needle1, const char *needle2) {
  nh_structure *s = NULL;
  nh_err e = nh_structure_read(bad(file), format, &s);
  const char *m = nh_error_message();
  int ok = e == code && strstr(m, needle1) && (!needle2 || strstr(m, needle2));
  if (!ok)
    fprintf(stderr, "%s: expected error %d with '%s' and '%s', got %d: %s\n",
            file, code, needle1, needle2 ? needle2 : "", e, m);
  nh_error_clear();
  assert_true(ok);
  assert_null(s);
}

static void test_bad_poscar(void **state) {
  (void)state;
  const nh_err IN = NH_ERR_INPUT;
  expect_fail("POSCAR_empty", "auto", IN, "POSCAR_empty:1:", "empty file");
  expect_fail("POSCAR_truncated", "auto", IN, "POSCAR_truncated:9:",
              "3 atoms");
  expect_fail("POSCAR_nonnumeric", "auto", IN, "POSCAR_nonnumeric:10:",
              "atom 2 (Si)");
  expect_fail("POSCAR_unknown_element", "auto", IN,
              "POSCAR_unknown_element:6:", "unknown element 'Xx'");
  expect_fail("POSCAR_vasp4", "auto", IN, "POSCAR_vasp4:6:",
              "add a line with the element symbols");
  expect_fail("POSCAR_counts_mismatch", "auto", IN,
              "POSCAR_counts_mismatch:7:", "expected 2 atom counts");
  expect_fail("POSCAR_bad_mode", "auto", IN, "POSCAR_bad_mode:8:",
              "'Fractional'");
  expect_fail("POSCAR_singular", "auto", IN, "POSCAR_singular:",
              "singular");
  expect_fail("POSCAR_lefthanded", "auto", IN, "POSCAR_lefthanded:",
              "swap two lattice vectors");
  expect_fail("POSCAR_image_close", "auto", IN,
              "POSCAR_image_close: atoms 1 (Si) and 2 (Si) are 0.400000 Å",
              "periodic boundary");
}

static void test_bad_xyz(void **state) {
  (void)state;
  const nh_err IN = NH_ERR_INPUT;
  expect_fail("empty.xyz", "auto", IN, "empty.xyz:1:", "empty file");
  expect_fail("wrong_count.xyz", "auto", IN, "wrong_count.xyz:1:",
              "gives 4 atoms but only 3 lines");
  expect_fail("truncated_line.xyz", "auto", IN, "truncated_line.xyz:4:",
              "atom 2 has 3 columns");
  expect_fail("bad_lattice.xyz", "auto", IN, "bad_lattice.xyz:2:",
              "Lattice must hold nine numbers");
  expect_fail("bad_pbc.xyz", "auto", IN, "bad_pbc.xyz:2:", "pbc must");
  expect_fail("pbc_without_lattice.xyz", "auto", IN,
              "pbc_without_lattice.xyz:2:", "no Lattice");
  expect_fail("no_pos_property.xyz", "auto", IN, "no_pos_property.xyz:2:",
              "pos:R:3");
  expect_fail("unknown_element.xyz", "auto", IN, "unknown_element.xyz:4:",
              "unknown element 'Xx' (atom 2)");
  expect_fail("close_atoms.xyz", "auto", IN,
              "close_atoms.xyz: atoms 2 (H) and 3 (H) are 0.300000 Å apart",
              "closer than 0.500000 Å");
}

static void test_bad_cp2k(void **state) {
  (void)state;
  const nh_err IN = NH_ERR_INPUT;
  expect_fail("empty.inp", "auto", IN, "empty.inp:", "no &FORCE_EVAL");
  expect_fail("short_vector.inp", "auto", IN, "short_vector.inp:",
              "lattice vector a1 is 0.400000 Å long");
  expect_fail("unclosed.inp", "auto", IN, "unclosed.inp:",
              "&END SUBSYS closes &COORD opened on line 6");
  expect_fail("unknown_kind.inp", "auto", IN, "unknown_kind.inp:8:",
              "unknown element 'Xx1'");
  expect_fail("missing_c.inp", "auto", IN, "missing_c.inp:3:",
              "needs all of A, B and C");
  expect_fail("bad_unit.inp", "auto", IN, "bad_unit.inp:4:",
              "unknown length unit [furlong]");
  expect_fail("bad_coord.inp", "auto", IN, "bad_coord.inp:8:",
              "'Kind x y z'");
  expect_fail("preprocessor.inp", "auto", IN, "preprocessor.inp:1:",
              "preprocessor");
  expect_fail("no_cell.inp", "auto", IN, "no_cell.inp:", "no &CELL");
  expect_fail("end_mismatch.inp", "auto", IN, "end_mismatch.inp:5:",
              "&END COORD closes &CELL opened on line 3");
}

static void test_dispatch_errors(void **state) {
  (void)state;
  nh_structure *s = NULL;
  assert_nh_fails(nh_structure_read("structure.dat", "auto", &s), NH_ERR_INPUT,
                  "structure.dat: cannot tell the structure format");
  assert_nh_fails(nh_structure_read(good("water.xyz"), "cif", &s),
                  NH_ERR_INPUT, "unknown structure format 'cif'");
  assert_nh_fails(nh_structure_read("no_such_file.xyz", "auto", &s),
                  NH_ERR_FILE, "no_such_file.xyz: cannot open");
  assert_null(s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_poscar_direct_and_cartesian),
    cmocka_unit_test(test_poscar_volume_and_selective),
    cmocka_unit_test(test_extxyz),
    cmocka_unit_test(test_plain_xyz),
    cmocka_unit_test(test_cp2k_si2),
    cmocka_unit_test(test_cp2k_slab),
    cmocka_unit_test(test_cp2k_scaled),
    cmocka_unit_test(test_round_trips),
    cmocka_unit_test(test_bad_poscar),
    cmocka_unit_test(test_bad_xyz),
    cmocka_unit_test(test_bad_cp2k),
    cmocka_unit_test(test_dispatch_errors),
};
NH_TEST_MAIN(tests)
