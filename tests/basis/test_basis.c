/* Tests of the basis module: CP2K basis sets and GTH potentials read from
 * Debian's cp2k-data, compared with the numbers printed in the files, and
 * clear errors for missing and malformed entries. */
#include <string.h>
#include <unistd.h>

#include "cp2kfile.h"
#include "nextham/basis.h"
#include "nhtest.h"

static nh_basis *load(int z, const char *name) {
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  assert_nh_ok(nh_basis_load(b, z, "BASIS_MOLOPT", name));
  return b;
}

static void assert_shells(const nh_element_basis *eb, int nshell,
                          const int *l) {
  assert_int_equal(eb->nshell, nshell);
  for (int k = 0; k < nshell; k++) assert_int_equal(eb->shells[k].l, l[k]);
}

/* Si DZVP-MOLOPT-SR-GTH: one set "2 0 2 4 2 2 1" -> s s p p d, 13 orbitals;
 * the columns of the file become the shells in order. */
static void test_si_dzvp(void **state) {
  (void)state;
  nh_basis *b = load(14, "DZVP-MOLOPT-SR-GTH");
  const nh_element_basis *si = b->elem[14];
  assert_non_null(si);
  assert_shells(si, 5, (int[]){0, 0, 1, 1, 2});
  assert_int_equal(si->norb, 13);
  assert_string_equal(si->basis_name, "DZVP-MOLOPT-SR-GTH");
  assert_string_equal(b->basis_file, "/usr/share/cp2k/BASIS_MOLOPT");
  for (int k = 0; k < 5; k++) {
    assert_int_equal(si->shells[k].nprim, 4);
    assert_ptr_equal(si->shells[k].exps, si->shells[0].exps); /* one set */
  }
  assert_true(si->shells[0].exps[0] == 1.256767641387);
  assert_true(si->shells[0].exps[3] == 0.087336883836);
  const double first_row[5] = {0.227718466600, -1.025748084300, 0.067776267500,
                               0.099785628800, 0.159026680300};
  for (int k = 0; k < 5; k++) assert_true(si->shells[k].coefs[0] == first_row[k]);
  assert_true(si->shells[4].coefs[3] == 0.550337119000);
  assert_true(si->shells[1].coefs[2] == 0.058162561600);
  int norb[NH_MAX_Z + 1];
  nh_basis_norb_table(b, norb);
  assert_int_equal(norb[14], 13);
  assert_int_equal(norb[6], 0);
  nh_basis_destroy(&b);
  assert_null(b);
  assert_nh_ok(nh_basis_destroy(&b)); /* NULL handle is fine */
}

static void test_light_elements(void **state) {
  (void)state;
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  assert_nh_ok(nh_basis_load(b, 1, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  assert_nh_ok(nh_basis_load(b, 5, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  assert_nh_ok(nh_basis_load(b, 6, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  assert_nh_ok(nh_basis_load(b, 7, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  const nh_element_basis *h = b->elem[1], *bo = b->elem[5], *c = b->elem[6],
                         *n = b->elem[7];
  assert_shells(h, 3, (int[]){0, 0, 1});
  assert_int_equal(h->norb, 5);
  assert_true(h->shells[0].exps[0] == 10.068468228533);
  assert_true(h->shells[0].coefs[0] == -0.033917444900);
  assert_true(h->shells[2].coefs[4] == 0.869031854000);
  assert_shells(bo, 5, (int[]){0, 0, 1, 1, 2});
  assert_int_equal(bo->norb, 13);
  assert_true(bo->shells[0].exps[0] == 3.053444073497);
  assert_true(bo->shells[4].coefs[3] == -0.981970482328);
  assert_shells(c, 5, (int[]){0, 0, 1, 1, 2});
  assert_int_equal(c->shells[0].nprim, 5);
  assert_true(c->shells[0].exps[0] == 5.605330751705);
  assert_true(c->shells[1].coefs[0] == 0.466507483200);
  assert_true(n->shells[0].exps[4] == 0.112012109029);
  assert_true(n->shells[3].coefs[4] == 1.001020469600);
  assert_int_equal(n->norb, 13);
  nh_basis_destroy(&b);
}

/* f functions: N TZV2PX-MOLOPT-GTH "2 0 3 7 3 3 2 1" -> 3 s, 3 p, 2 d, 1 f,
 * 3 + 9 + 10 + 7 = 29 functions (CONVENTIONS.md §7). */
static void test_f_functions(void **state) {
  (void)state;
  nh_basis *b = load(7, "TZV2PX-MOLOPT-GTH");
  const nh_element_basis *n = b->elem[7];
  assert_shells(n, 9, (int[]){0, 0, 0, 1, 1, 1, 2, 2, 3});
  assert_int_equal(n->norb, 29);
  assert_int_equal(n->shells[8].nprim, 7);
  assert_true(n->shells[8].exps[0] == 9.042730397298);
  assert_true(n->shells[8].coefs[0] == 0.020975689500);
  assert_true(n->shells[8].coefs[6] == 0.013120721900);
  assert_true(n->shells[6].coefs[1] == 0.037932409700);
  nh_basis_destroy(&b);
}

/* Aliases and case: "DZVP-MOLOPT-SR-GTH-q4" is the same set. */
static void test_aliases(void **state) {
  (void)state;
  nh_basis *b = load(14, "dzvp-molopt-sr-gth-Q4");
  assert_int_equal(b->elem[14]->norb, 13);
  assert_true(b->elem[14]->shells[0].coefs[0] == 0.227718466600);
  nh_basis_destroy(&b);
}

static void test_potentials(void **state) {
  (void)state;
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  assert_nh_ok(nh_basis_load(b, 14, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"));
  const struct { int z; const char *name; double zval; } pp[] = {
      {14, "GTH-PBE-q4", 4}, {6, "GTH-PBE-q4", 4}, {1, "GTH-PBE-q1", 1},
      {5, "GTH-PBE-q3", 3}, {7, "GTH-PBE-q5", 5}, {26, "GTH-PBE-q16", 16}};
  for (size_t k = 0; k < sizeof pp / sizeof pp[0]; k++) {
    assert_nh_ok(nh_basis_load_potential(b, pp[k].z, "GTH_POTENTIALS",
                                         pp[k].name));
    assert_true(b->elem[pp[k].z]->zval == pp[k].zval);
    assert_string_equal(b->elem[pp[k].z]->potential_name, pp[k].name);
  }
  assert_int_equal(b->elem[14]->norb, 13); /* the basis is kept */
  assert_int_equal(b->elem[6]->norb, 0);   /* potential only */
  /* The alias GTH-PBE of Si, and an NLCC potential. */
  assert_nh_ok(nh_basis_load_potential(b, 14, "GTH_POTENTIALS", "GTH-PBE"));
  assert_true(b->elem[14]->zval == 4);
  assert_nh_ok(nh_basis_load_potential(b, 6, "NLCC_POTENTIALS",
                                       "GTH-NLCC-PBE-q4"));
  assert_true(b->elem[6]->zval == 4);
  /* Reloading the basis keeps the potential. */
  assert_nh_ok(nh_basis_load(b, 14, "BASIS_MOLOPT", "SZV-MOLOPT-SR-GTH"));
  assert_int_equal(b->elem[14]->norb, 4);
  assert_true(b->elem[14]->zval == 4);
  nh_basis_destroy(&b);
}

static void test_missing(void **state) {
  (void)state;
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  assert_nh_fails(nh_basis_load(b, 14, "NO_SUCH_BASIS", "X"), NH_ERR_FILE,
                  "NO_SUCH_BASIS");
  assert_nh_fails(nh_basis_load(b, 14, "/nonexistent/BASIS", "X"), NH_ERR_FILE,
                  "/nonexistent/BASIS");
  /* A name that is not there: the message lists what the file has. */
  assert_nh_fails(nh_basis_load(b, 14, "BASIS_MOLOPT", "DZVP-MOLOPT-SR"),
                  NH_ERR_INPUT, "names for Si there: ");
  assert_nh_fails(nh_basis_load(b, 14, "BASIS_MOLOPT", "QZVP"), NH_ERR_INPUT,
                  "DZVP-MOLOPT-SR-GTH");
  assert_nh_fails(nh_basis_load(b, 118, "BASIS_MOLOPT", "DZVP-MOLOPT-SR-GTH"),
                  NH_ERR_INPUT, "BASIS_MOLOPT has no basis set for Og");
  assert_nh_fails(nh_basis_load_potential(b, 14, "GTH_POTENTIALS", "GTH-PBE-q12"),
                  NH_ERR_INPUT, "GTH-PBE-q4");
  assert_null(b->elem[14]);
  nh_basis_destroy(&b);
}

/* Writes text to a unique file in the build directory; returns its path. */
static const char *write_tmp(const char *tag, const char *text) {
  static char path[8][256];
  static int k;
  char *p = path[k++ % 8];
  snprintf(p, 256, "./tmp-basis-%d-%s", (int)getpid(), tag);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return p;
}

/* Two sets, the second with lmin = 1 and a general contraction: orbital
 * order is set by set, l by l, contraction by contraction. */
static void test_multiset_and_data_dir(void **state) {
  (void)state;
  const char *text =
      "# custom\n"
      "Si MINE  alias-one alias-two   # trailing comment\n"
      " 2\n"
      " 3 0 1 2 1 1\n"
      "   2.0  0.5  0.25\n"
      "   0.5  0.5D0 0.75\n"
      " 3 1 2 1 2 1\n"
      "   0.3  1.0 -1.0 1.0\n";
  const char *p = write_tmp("multi", text);
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  assert_nh_ok(nh_basis_load(b, 14, p, "ALIAS-TWO"));
  const nh_element_basis *si = b->elem[14];
  assert_shells(si, 5, (int[]){0, 1, 1, 1, 2});
  assert_int_equal(si->norb, 1 + 3 * 3 + 5);
  assert_int_equal(si->shells[0].nprim, 2);
  assert_int_equal(si->shells[2].nprim, 1);
  assert_true(si->shells[1].coefs[1] == 0.75);
  assert_true(si->shells[0].coefs[1] == 0.5);
  assert_true(si->shells[3].coefs[0] == -1.0);
  assert_true(si->shells[4].exps[0] == 0.3);
  /* Bare names are looked up in $NEXTHAM_DATA_DIR before /usr/share/cp2k. */
  char cwd[512], found[1024];
  assert_non_null(getcwd(cwd, sizeof cwd));
  setenv("NEXTHAM_DATA_DIR", cwd, 1);
  assert_nh_ok(nh_basis_find_file(p + 2, found, sizeof found));
  assert_non_null(strstr(found, cwd));
  assert_nh_ok(nh_basis_load(b, 14, p + 2, "MINE"));
  assert_int_equal(b->elem[14]->norb, 15);
  assert_nh_ok(nh_basis_find_file("BASIS_MOLOPT", found, sizeof found));
  assert_string_equal(found, "/usr/share/cp2k/BASIS_MOLOPT");
  unsetenv("NEXTHAM_DATA_DIR");
  assert_nh_fails(nh_basis_find_file(p + 2, found, sizeof found), NH_ERR_FILE,
                  "cannot find data file");
  /* nh_basis_add copies. */
  nh_basis *c = NULL;
  assert_nh_ok(nh_basis_create(&c));
  assert_nh_ok(nh_basis_add(c, b->elem[14]));
  assert_ptr_not_equal(c->elem[14]->shells[0].exps,
                       b->elem[14]->shells[0].exps);
  nh_basis_destroy(&b);
  assert_int_equal(c->elem[14]->norb, 15);
  assert_true(c->elem[14]->shells[1].coefs[1] == 0.75);
  assert_string_equal(c->elem[14]->basis_name, "MINE");
  nh_basis_destroy(&c);
  unlink(p);
}

/* Malformed entries: the error names the file and the line at fault. */
static void test_malformed(void **state) {
  (void)state;
  struct { const char *text, *needle; } bad[] = {
      {"Si X\n 1\n 2 0 0 2 1\n 1.0 0.5\n 0.5 abc\n", ":5: malformed line"},
      {"Si X\n 1\n 2 0 0 2 1\n 1.0 0.5\n 0.5\n", ":5: malformed line: expected 2"},
      {"Si X\n 1\n 2 0 1 2 1\n 1.0 0.5 1.0\n", ":3: malformed line: expected 6"},
      {"Si X\n 1\n 2 0 0 3 1\n 1.0 0.5\n 0.5 0.1\nC Y\n", ":6: basis set ends early"},
      {"Si X\n 1\n 2 2 1 1 1\n 1.0 0.5\n", ":3: malformed set"},
      {"Si X\n 1\n 2 0 0 1 1\n -1.0 0.5\n", ":4: exponent must be positive"},
      {"Si X\n 1.5\n", ":2: malformed line: number of sets must be an integer"},
      /* found by fuzzing: counts that no line can hold, or that would make
       * the reader allocate gigabytes before reading a single row */
      {"Si X\n 1\n 2 0 0 2 300\n", ":3: malformed set: 300 contractions, at "
       "most 255 fit on a line"},
      {"Si X\n 1\n 2 0 0 1000000 1\n 1.0 0.5\n", ":4: basis set ends early: "
       "1000000 exponent lines expected, found 1"},
  };
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    const char *p = write_tmp("bad", bad[k].text);
    char needle[512];
    snprintf(needle, sizeof needle, "%s%s", p, bad[k].needle);
    assert_nh_fails(nh_basis_load(b, 14, p, "X"), NH_ERR_FILE, needle);
    unlink(p);
  }
  struct { const char *text, *needle; } badpp[] = {
      /* h of a 2-projector l = 0 set needs a second line with one value */
      {"Si P\n 2 2\n 0.44 1 -6.2\n 2\n 0.43 2 8.9 -2.7\n 0.49 1 2.4\n",
       ":6: malformed line: expected 1"},
      {"Si P\n 2 2\n 0.44 2 -6.2\n 0\n", ":3: malformed line: expected 4"},
      {"Si P\n 2 2\n 0.44 1 -6.2\n 1\n 0.43 1 8.9\n 0.49 1 2.4\n",
       ":6: malformed potential: unexpected line"},
      {"Si P\n 2 x\n", ":2: malformed line: number of electrons"},
      {"Si P\n 2 2\n 0.44 1 -6.2\n", "potential ends early"},
  };
  for (size_t k = 0; k < sizeof badpp / sizeof badpp[0]; k++) {
    const char *p = write_tmp("badpp", badpp[k].text);
    assert_nh_fails(nh_basis_load_potential(b, 14, p, "P"), NH_ERR_FILE,
                    badpp[k].needle);
    unlink(p);
  }
  nh_basis_destroy(&b);
}

/* Every entry of Debian's MOLOPT basis and GTH potential files parses. */
static void load_every_entry(const char *file, int potential, int min) {
  nh_cp2k_reader r;
  assert_nh_ok(nh_cp2k_open(file, &r));
  int eof, count = 0;
  nh_basis *b = NULL;
  assert_nh_ok(nh_basis_create(&b));
  for (;;) {
    assert_nh_ok(nh_cp2k_next(&r, &eof));
    if (eof) break;
    int z = nh_cp2k_is_header(&r) ? nh_cp2k_header_z(&r) : 0;
    if (!z) continue;
    nh_err e = potential ? nh_basis_load_potential(b, z, file, r.tok[1])
                         : nh_basis_load(b, z, file, r.tok[1]);
    if (e) fprintf(stderr, "%s line %d\n", file, r.lineno);
    assert_nh_ok(e);
    count++;
  }
  nh_cp2k_close(&r);
  nh_basis_destroy(&b);
  assert_true(count >= min);
}

static void test_every_entry(void **state) {
  (void)state;
  load_every_entry("BASIS_MOLOPT", 0, 150);
  load_every_entry("GTH_POTENTIALS", 1, 300);
  load_every_entry("NLCC_POTENTIALS", 1, 10);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_si_dzvp),       cmocka_unit_test(test_light_elements),
    cmocka_unit_test(test_f_functions),   cmocka_unit_test(test_aliases),
    cmocka_unit_test(test_potentials),    cmocka_unit_test(test_missing),
    cmocka_unit_test(test_multiset_and_data_dir),
    cmocka_unit_test(test_malformed),     cmocka_unit_test(test_every_entry),
};
NH_TEST_MAIN(tests)
