/* The TOML parser and the option layer on our own cases: getters and their
 * type errors, unknown keys with suggestions, duplicates, the line numbers
 * of errors, limits (nesting, long lines) and bad bytes. */
#include <math.h>
#include <string.h>

#include "nhtest.h"
#include "nextham/toml.h"

/* Parses text (NUL-terminated) under the display name "in.toml". */
static nh_err parse(const char *text, nh_toml **doc) {
  return nh_toml_parse_string("in.toml", text, strlen(text), doc);
}

static void parse_fails(const char *text, const char *needle) {
  nh_toml *doc = NULL;
  assert_nh_fails(parse(text, &doc), NH_ERR_INPUT, needle);
  assert_null(doc);
}

/* ---------------------------------------------------------------------------
 * Getters.
 * ------------------------------------------------------------------------- */
static const char *solver_text = "[solver]\n"
                                 "nbands = 16\n"
                                 "tol = 1e-10\n"
                                 "shift = -2\n"
                                 "dense = true\n"
                                 "name = \"elpa\"\n"
                                 "kmesh = [4, 4, 2]\n"
                                 "weights = [0.25, 0.5, 1]\n"
                                 "empty = []\n";

static void test_getters(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  nh_toml_val *s, *absent;
  int64_t i;
  double x;
  int b;
  char buf[16];
  assert_nh_ok(parse(solver_text, &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "solver", &s));
  assert_non_null(s);
  assert_nh_ok(nh_toml_get_int(s, "nbands", 10, &i));
  assert_int_equal(i, 16);
  assert_nh_ok(nh_toml_get_int(s, "nkpt", 7, &i)); /* absent: default */
  assert_int_equal(i, 7);
  assert_nh_ok(nh_toml_get_double(s, "tol", 0.0, &x));
  assert_true(x == 1e-10);
  assert_nh_ok(nh_toml_get_double(s, "shift", 0.0, &x)); /* int -> float */
  assert_true(x == -2.0);
  assert_nh_ok(nh_toml_get_double(s, "mix", 0.3, &x));
  assert_true(x == 0.3);
  assert_nh_ok(nh_toml_get_bool(s, "dense", 0, &b));
  assert_int_equal(b, 1);
  assert_nh_ok(nh_toml_get_bool(s, "verbose", 0, &b));
  assert_int_equal(b, 0);
  assert_nh_ok(nh_toml_get_string(s, "name", "scalapack", buf, sizeof buf));
  assert_string_equal(buf, "elpa");
  assert_nh_ok(nh_toml_get_string(s, "other", NULL, buf, sizeof buf));
  assert_string_equal(buf, "");

  int64_t mesh[3] = {1, 1, 1};
  assert_nh_ok(nh_toml_get_int_vec(s, "kmesh", 3, mesh));
  assert_true(mesh[0] == 4 && mesh[1] == 4 && mesh[2] == 2);
  double w[3] = {9, 9, 9};
  assert_nh_ok(nh_toml_get_double_vec(s, "weights", 3, w));
  assert_true(w[0] == 0.25 && w[1] == 0.5 && w[2] == 1.0);
  double v[2] = {-1, -2};
  assert_nh_ok(nh_toml_get_double_vec(s, "origin", 2, v)); /* absent */
  assert_true(v[0] == -1 && v[1] == -2);
  double *arr;
  size_t n;
  assert_nh_ok(nh_toml_get_double_array(s, "weights", &arr, &n));
  assert_int_equal(n, 3);
  assert_true(arr[2] == 1.0);
  nh_free(&arr);
  assert_nh_ok(nh_toml_get_double_array(s, "empty", &arr, &n));
  assert_int_equal(n, 0);
  nh_free(&arr);
  assert_nh_ok(nh_toml_get_double_array(s, "none", &arr, &n));
  assert_null(arr);
  assert_int_equal(n, 0);

  /* An absent table gives every default. */
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "output", &absent));
  assert_null(absent);
  assert_nh_ok(nh_toml_get_int(absent, "every", 5, &i));
  assert_int_equal(i, 5);
  assert_nh_ok(nh_toml_check_unused(doc));
  assert_nh_ok(nh_toml_destroy(&doc));
  assert_null(doc);
  assert_nh_ok(nh_toml_destroy(&doc)); /* NULL is fine */
}

static void test_getter_type_errors(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  nh_toml_val *s, *t;
  int64_t i, mesh[3];
  double x, w[3];
  int b;
  char buf[4];
  assert_nh_ok(parse("[solver]\n"
                     "nbands = \"16\"\n"
                     "tol = 1.5\n"
                     "dense = 1\n"
                     "name = 'scalapack'\n"
                     "kmesh = [4, 4.0, 2]\n"
                     "weights = [1, 2]\n"
                     "sub = 3\n"
                     "nul = \"a\\u0000b\"\n"
                     "when = 2024-01-01\n",
                     &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "solver", &s));
  assert_nh_fails(nh_toml_get_int(s, "nbands", 0, &i), NH_ERR_INPUT,
                  "in.toml:2: key 'solver.nbands' must be an integer, got a "
                  "string");
  assert_nh_fails(nh_toml_get_int(s, "tol", 0, &i), NH_ERR_INPUT,
                  "in.toml:3: key 'solver.tol' must be an integer, got a "
                  "float");
  assert_nh_fails(nh_toml_get_double(s, "name", 0, &x), NH_ERR_INPUT,
                  "in.toml:5: key 'solver.name' must be a number, got a "
                  "string");
  assert_nh_fails(nh_toml_get_double(s, "when", 0, &x), NH_ERR_INPUT,
                  "in.toml:10: key 'solver.when' must be a number, got a "
                  "local date");
  assert_nh_fails(nh_toml_get_bool(s, "dense", 0, &b), NH_ERR_INPUT,
                  "in.toml:4: key 'solver.dense' must be a boolean (true or "
                  "false), got an integer");
  assert_nh_fails(nh_toml_get_string(s, "nbands", "", buf, 2), NH_ERR_INPUT,
                  "in.toml:2: key 'solver.nbands' is too long (2 bytes, at "
                  "most 1)");
  assert_nh_fails(nh_toml_get_string(s, "nul", "", buf, sizeof buf),
                  NH_ERR_INPUT, "in.toml:9: key 'solver.nul' must not contain "
                  "a NUL character");
  assert_nh_fails(nh_toml_get_string(s, "tol", "", buf, sizeof buf),
                  NH_ERR_INPUT, "must be a string, got a float");
  assert_nh_fails(nh_toml_get_int_vec(s, "kmesh", 3, mesh), NH_ERR_INPUT,
                  "in.toml:6: key 'solver.kmesh[1]' must be an integer, got "
                  "a float");
  assert_nh_fails(nh_toml_get_double_vec(s, "weights", 3, w), NH_ERR_INPUT,
                  "in.toml:7: key 'solver.weights' must be an array of 3 "
                  "numbers, got 2 elements");
  assert_nh_fails(nh_toml_get_double_vec(s, "tol", 3, w), NH_ERR_INPUT,
                  "key 'solver.tol' must be an array of 3 numbers, got a "
                  "float");
  assert_nh_fails(nh_toml_get_table(s, "sub", &t), NH_ERR_INPUT,
                  "in.toml:8: key 'solver.sub' must be a table, got an "
                  "integer");
  assert_null(t);
  assert_nh_fails(nh_toml_get_array(s, "sub", &t), NH_ERR_INPUT,
                  "must be an array, got an integer");
  assert_nh_fails(nh_toml_get_int(nh_toml_root(doc), "solver.nbands", 0, &i),
                  NH_ERR_ARG, "not a dotted path");
  /* A string default larger than the buffer is the caller's bug. */
  assert_nh_fails(nh_toml_get_string(s, "x", "longer", buf, sizeof buf),
                  NH_ERR_ARG, "cannot hold its default");
  nh_toml_destroy(&doc);
}

static void test_required(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  nh_toml_val *root, *s, *t;
  int64_t i;
  double x;
  char buf[32];
  assert_nh_ok(parse("title = 'x'\n\n[solver]\nnbands = 8\nname = 'elpa'\n",
                     &doc));
  root = nh_toml_root(doc);
  assert_nh_ok(nh_toml_require_table(root, "solver", &s));
  assert_nh_ok(nh_toml_require_int(s, "nbands", &i));
  assert_int_equal(i, 8);
  assert_nh_ok(nh_toml_require_string(s, "name", buf, sizeof buf));
  assert_string_equal(buf, "elpa");
  assert_nh_fails(nh_toml_require_double(s, "tol", &x), NH_ERR_INPUT,
                  "in.toml:3: missing required key 'solver.tol'");
  assert_nh_fails(nh_toml_require_table(root, "structure", &t), NH_ERR_INPUT,
                  "in.toml:1: missing required key 'structure'");
  assert_nh_fails(nh_toml_require_int(NULL, "n", &i), NH_ERR_INPUT,
                  "missing required key 'n'");
  nh_toml_destroy(&doc);
}

/* ---------------------------------------------------------------------------
 * Unknown keys.
 * ------------------------------------------------------------------------- */
static void test_unknown_keys(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  nh_toml_val *s;
  int64_t i;
  double x;
  assert_nh_ok(parse("[solver]\nnbands = 4\nnband = 5\n", &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "solver", &s));
  assert_nh_ok(nh_toml_get_int(s, "nbands", 0, &i));
  assert_nh_ok(nh_toml_get_double(s, "tolerance", 0, &x));
  assert_nh_fails(nh_toml_check_unused(doc), NH_ERR_INPUT,
                  "in.toml:3: unknown key 'solver.nband' (did you mean "
                  "'nbands'?)");
  nh_toml_destroy(&doc);

  /* Too far from any known name: no suggestion. */
  assert_nh_ok(parse("[solver]\ncolour = 'red'\n", &doc));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "solver", &s));
  assert_nh_ok(nh_toml_get_int(s, "nbands", 0, &i));
  assert_int_equal(nh_toml_check_unused(doc), NH_ERR_INPUT);
  assert_string_equal(nh_error_message(),
                      "in.toml:2: unknown key 'solver.colour'");
  nh_error_clear();
  nh_toml_destroy(&doc);

  /* A table nobody asked for is reported by its name; the suggestion comes
   * from the keys asked for in its parent. */
  assert_nh_ok(parse("a = 1\n[solvr]\nnbands = 1\n", &doc));
  assert_nh_ok(nh_toml_get_int(nh_toml_root(doc), "a", 0, &i));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "solver", &s));
  assert_nh_fails(nh_toml_check_unused(doc), NH_ERR_INPUT,
                  "in.toml:2: unknown key 'solvr' (did you mean 'solver'?)");
  nh_toml_destroy(&doc);

  /* Keys inside arrays of tables, and free-form tables marked used. */
  assert_nh_ok(parse("[[kpath]]\nlabel = 'G'\n[[kpath]]\nlabl = 'X'\n"
                     "[species]\nSi = 'a'\nO = 'b'\n",
                     &doc));
  nh_toml_val *kp, *sp;
  char buf[8];
  assert_nh_ok(nh_toml_get_array(nh_toml_root(doc), "kpath", &kp));
  assert_int_equal(nh_toml_len(kp), 2);
  for (size_t k = 0; k < nh_toml_len(kp); k++)
    assert_nh_ok(nh_toml_get_string(nh_toml_at(kp, k), "label", "", buf,
                                    sizeof buf));
  assert_nh_ok(nh_toml_get_table(nh_toml_root(doc), "species", &sp));
  nh_toml_mark_used(sp);
  assert_nh_fails(nh_toml_check_unused(doc), NH_ERR_INPUT,
                  "in.toml:4: unknown key 'kpath[1].labl' (did you mean "
                  "'label'?)");
  nh_toml_destroy(&doc);
}

/* ---------------------------------------------------------------------------
 * The tree: order, types, lines, values.
 * ------------------------------------------------------------------------- */
static void test_tree(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  char path[64];
  assert_nh_ok(nh_toml_parse_file(nh_test_path("tests/data/toml/input.toml"),
                                  &doc));
  nh_toml_val *root = nh_toml_root(doc);
  const char *order[] = {"title", "structure", "solver", "kpath"};
  assert_int_equal(nh_toml_len(root), 4);
  for (size_t k = 0; k < 4; k++)
    assert_string_equal(nh_toml_key_at(root, k, NULL), order[k]);
  nh_toml_val *solver = nh_toml_find(root, "solver");
  assert_int_equal(nh_toml_type_of(solver), NH_TOML_TABLE);
  assert_int_equal(nh_toml_line(solver), 8);
  nh_toml_val *shift = nh_toml_find(solver, "shift");
  assert_int_equal(nh_toml_type_of(shift), NH_TOML_FLOAT);
  assert_int_equal(nh_toml_line(shift), 11);
  assert_true(nh_toml_double(shift) == -0.5);
  nh_toml_val *kpath = nh_toml_find(root, "kpath");
  assert_int_equal(nh_toml_type_of(kpath), NH_TOML_ARRAY);
  nh_toml_val *k1 = nh_toml_find(nh_toml_at(kpath, 1), "k");
  assert_int_equal(nh_toml_line(k1), 21);
  assert_string_equal(nh_toml_path(nh_toml_at(k1, 2), path, sizeof path),
                      "kpath[1].k[2]");
  assert_int_equal(nh_toml_type_of(nh_toml_at(k1, 1)), NH_TOML_INT);
  assert_string_equal(nh_toml_type_name(NH_TOML_DATE_LOCAL), "date-local");
  nh_toml_destroy(&doc);

  /* Values: integer bounds and bases, floats, special floats, strings. */
  assert_nh_ok(parse("max = 9223372036854775807\n"
                     "min = -9223372036854775808\n"
                     "hex = 0xDEAD_beef\noct = 0o755\nbin = 0b1101\n"
                     "f = 6.022_140_76e23\ng = -0.0\npinf = +inf\nnn = -nan\n"
                     "s = \"tab\\tq\\\"\\u00e9\\U0001F600\"\n"
                     "lit = 'C:\\path'\n"
                     "ml = \"\"\"\nab \\\n   cd\"\"\"\"\"\n"
                     "dt = 1979-05-27 07:32:00.5z\n"
                     "\"quoted key\".x = 1\n",
                     &doc));
  root = nh_toml_root(doc);
  assert_true(nh_toml_int(nh_toml_find(root, "max")) == INT64_MAX);
  assert_true(nh_toml_int(nh_toml_find(root, "min")) == INT64_MIN);
  assert_true(nh_toml_int(nh_toml_find(root, "hex")) == 0xDEADBEEF);
  assert_true(nh_toml_int(nh_toml_find(root, "oct")) == 0755);
  assert_true(nh_toml_int(nh_toml_find(root, "bin")) == 13);
  assert_true(nh_toml_double(nh_toml_find(root, "f")) == 6.02214076e23);
  assert_true(signbit(nh_toml_double(nh_toml_find(root, "g"))));
  assert_true(isinf(nh_toml_double(nh_toml_find(root, "pinf"))));
  assert_true(isnan(nh_toml_double(nh_toml_find(root, "nn"))));
  assert_string_equal(nh_toml_string(nh_toml_find(root, "s"), NULL),
                      "tab\tq\"\xC3\xA9\xF0\x9F\x98\x80");
  assert_string_equal(nh_toml_string(nh_toml_find(root, "lit"), NULL),
                      "C:\\path");
  assert_string_equal(nh_toml_string(nh_toml_find(root, "ml"), NULL),
                      "ab cd\"\"");
  nh_toml_val *dt = nh_toml_find(root, "dt");
  assert_int_equal(nh_toml_type_of(dt), NH_TOML_DATETIME);
  assert_string_equal(nh_toml_string(dt, NULL), "1979-05-27T07:32:00.500Z");
  assert_non_null(nh_toml_find(nh_toml_find(root, "quoted key"), "x"));
  nh_toml_destroy(&doc);
}

static void test_json(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  char *json;
  size_t len;
  assert_nh_ok(parse("b = [1, 'x', {c = 2.5}]\n[a]\nt = true\n", &doc));
  assert_nh_ok(nh_toml_to_json(doc, &json, &len));
  assert_string_equal(
      json, "{\"b\": [{\"type\": \"integer\", \"value\": \"1\"}, "
            "{\"type\": \"string\", \"value\": \"x\"}, "
            "{\"c\": {\"type\": \"float\", \"value\": \"2.5\"}}], "
            "\"a\": {\"t\": {\"type\": \"bool\", \"value\": \"true\"}}}");
  assert_int_equal(len, strlen(json));
  nh_free(&json);
  nh_toml_destroy(&doc);
}

/* ---------------------------------------------------------------------------
 * Errors and their lines.
 * ------------------------------------------------------------------------- */
static void test_duplicates(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  parse_fails("a = 1\nb = 2\na = 3\n",
              "in.toml:3: key 'a' is already defined (as a value on line 1)");
  parse_fails("[t]\nx.y = 1\n[t.x]\n",
              "in.toml:3: table 't.x' is already defined");
  parse_fails("[t]\n[t]\n", "in.toml:2: table 't' is already defined");
  parse_fails("t = {x = 1}\nt.y = 2\n", "in.toml:2: cannot add keys to 't'");
  parse_fails("[[a]]\n[a]\n", "in.toml:2: table 'a' is already defined");
  assert_nh_fails(nh_toml_parse_file(
                      nh_test_path("tests/data/toml/duplicate-key.toml"), &doc),
                  NH_ERR_INPUT, "duplicate-key.toml:3: key 'a' is already");
  assert_nh_fails(nh_toml_parse_file(
                      nh_test_path("tests/data/toml/table-twice.toml"), &doc),
                  NH_ERR_INPUT, "table-twice.toml:3: table 't' is already");
  /* Allowed: [a] after [a.b], sub-tables of dotted tables. */
  assert_nh_ok(parse("[a.b]\nx = 1\n[a]\ny = 2\n", &doc));
  nh_toml_destroy(&doc);
  assert_nh_ok(parse("[f]\napple.color = 1\n[f.apple.texture]\ns = 1\n",
                     &doc));
  nh_toml_destroy(&doc);
}

static void test_error_lines(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  parse_fails("x = @\n", "in.toml:1: expected a value, found '@'");
  parse_fails("a = 1\nb = 2\n\n# c\nd = 1_\n", "in.toml:5: invalid integer");
  parse_fails("a = 1\r\nb = 2\r\nc = 3 4\r\n",
              "in.toml:3: expected end of line after a value, found '4'");
  assert_nh_ok(parse("a = 1\nb = 2", &doc));
  nh_toml_destroy(&doc);
  parse_fails("a = 1\nb = 2\nc = tru", "in.toml:3: invalid value 'tru'");
  /* Inside multi-line strings: the line of the fault, not of the key. */
  parse_fails("s = \"\"\"\none\ntwo \\q\n\"\"\"\n",
              "in.toml:3: invalid escape sequence");
  parse_fails("s = '''\none\ntwo\n", "in.toml:4: unterminated multi-line");
  parse_fails("s = \"\"\"\none\ntwo\x01\n\"\"\"\n",
              "in.toml:3: control character U+0001 in string");
  parse_fails("a = [\n1,\n2\n3]\n", "in.toml:4: expected ',' or ']'");
  assert_nh_fails(nh_toml_parse_file(
                      nh_test_path("tests/data/toml/bad-escape-multiline.toml"),
                      &doc),
                  NH_ERR_INPUT, "bad-escape-multiline.toml:3: invalid escape");
  parse_fails("x = 9223372036854775808\n", "in.toml:1: integer "
              "'9223372036854775808' is out of the 64-bit range");
  parse_fails("x = -9223372036854775809\n", "out of the 64-bit range");
  parse_fails("x = 0x8000000000000000\n", "out of the 64-bit range");
  parse_fails("x = 1e400\n", "in.toml:1: float '1e400' is out of the double");
  parse_fails("x = 007\n", "leading zeros are not allowed in '007'");
  parse_fails("x = {a = 1,}\n", "trailing comma in an inline table");
  parse_fails("x = 1979-02-29\n", "invalid date '1979-02-29'");
  parse_fails("a = \"b\n", "in.toml:1: unterminated string");
  parse_fails("a = \"\\ud800\"\n", "is not a Unicode scalar value");
}

static void test_empty_and_missing(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  assert_nh_ok(nh_toml_parse_string("empty", "", 0, &doc));
  assert_int_equal(nh_toml_len(nh_toml_root(doc)), 0);
  assert_nh_ok(nh_toml_check_unused(doc));
  nh_toml_destroy(&doc);
  assert_nh_ok(parse("\xEF\xBB\xBF  # only a comment\r\n\n\t\n", &doc));
  assert_int_equal(nh_toml_len(nh_toml_root(doc)), 0);
  assert_string_equal(nh_toml_name(doc), "in.toml");
  nh_toml_destroy(&doc);
  assert_nh_fails(nh_toml_parse_file("/nonexistent/dir/run.toml", &doc),
                  NH_ERR_FILE, "cannot open '/nonexistent/dir/run.toml'");
  assert_null(doc);
}

/* ---------------------------------------------------------------------------
 * Limits and bad bytes.
 * ------------------------------------------------------------------------- */
static char *repeat(const char *head, const char *unit, size_t n,
                    const char *tail) {
  size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(hl + n * ul + tl + 1);
  memcpy(s, head, hl);
  for (size_t i = 0; i < n; i++) memcpy(s + hl + i * ul, unit, ul);
  memcpy(s + hl + n * ul, tail, tl + 1);
  return s;
}

static void nesting_ok(const char *head, const char *open, const char *close,
                       size_t n, int ok) {
  char *s = repeat(head, open, n, "");
  char *t = repeat(s, close, n, "\n");
  nh_toml *doc = NULL;
  if (ok) {
    assert_nh_ok(parse(t, &doc));
    nh_toml_destroy(&doc);
  } else {
    assert_nh_fails(parse(t, &doc), NH_ERR_INPUT,
                    "in.toml:1: tables and arrays nested deeper than 100");
  }
  free(s);
  free(t);
}

static void test_nesting(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  nesting_ok("a = ", "[", "]", NH_TOML_MAX_DEPTH, 1);
  nesting_ok("a = ", "[", "]", NH_TOML_MAX_DEPTH + 1, 0);
  nesting_ok("a = ", "[", "]", 100000, 0); /* no stack overflow */
  nesting_ok("a = ", "{b = ", "}", 100000, 0);
  char *s = repeat("a", ".a", 100000, " = 1\n");
  assert_nh_fails(parse(s, &doc), NH_ERR_INPUT, "nested deeper than 100");
  free(s);
  s = repeat("[a", ".a", 100000, "]\n");
  assert_nh_fails(parse(s, &doc), NH_ERR_INPUT, "nested deeper than 100");
  free(s);
  /* Many elements are fine. */
  s = repeat("a = [", "1,", 100000, "]\n");
  assert_nh_ok(parse(s, &doc));
  assert_int_equal(nh_toml_len(nh_toml_find(nh_toml_root(doc), "a")), 100000);
  nh_toml_destroy(&doc);
  free(s);
}

static void test_long_lines(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  size_t n = 1000000, len;
  char *s = repeat("k = \"", "x", n, "\"\nnext = 1\n");
  assert_nh_ok(parse(s, &doc));
  nh_toml_string(nh_toml_find(nh_toml_root(doc), "k"), &len);
  assert_int_equal(len, n);
  nh_toml_destroy(&doc);
  free(s);
  s = repeat("", "k", 100000, " = 1\nx = 2 2\n");
  assert_nh_fails(parse(s, &doc), NH_ERR_INPUT, "in.toml:2: expected end");
  free(s);
}

static void test_bad_bytes(void **state) {
  (void)state;
  nh_toml *doc = NULL;
  const char nul[] = "a = 1\nb = \"x\0y\"\n";
  assert_nh_fails(nh_toml_parse_string("in.toml", nul, sizeof nul - 1, &doc),
                  NH_ERR_INPUT, "in.toml:2: NUL byte in input");
  assert_nh_fails(nh_toml_parse_file(
                      nh_test_path("tests/data/toml/nul-byte.toml"), &doc),
                  NH_ERR_INPUT, "nul-byte.toml:3: NUL byte");
  assert_nh_fails(nh_toml_parse_file(
                      nh_test_path("tests/data/toml/invalid-utf8.toml"), &doc),
                  NH_ERR_INPUT, "invalid-utf8.toml:2: invalid UTF-8");
  parse_fails("a = 1\n\n# \xC0\x80 overlong\n", "in.toml:3: invalid UTF-8");
  parse_fails("a = '\xED\xA0\x80'\n", "in.toml:1: invalid UTF-8"); /* D800 */
  parse_fails("a = '\xF4\x90\x80\x80'\n", "in.toml:1: invalid UTF-8");
  parse_fails("a = '\xE2\x82'", "in.toml:1: invalid UTF-8"); /* cut short */
  parse_fails("a = 1\rb = 2\n", "carriage return not followed by a line feed");
  parse_fails("a = 'x\x7fy'\n", "control character U+007F in string");
  /* Valid multi-byte text passes through unchanged. */
  assert_nh_ok(parse("\"\xCE\xB1\" = '\xE2\x84\xAB \xF0\x9F\x98\x80'\n", &doc));
  assert_string_equal(
      nh_toml_string(nh_toml_find(nh_toml_root(doc), "\xCE\xB1"), NULL),
      "\xE2\x84\xAB \xF0\x9F\x98\x80");
  nh_toml_destroy(&doc);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_getters),
    cmocka_unit_test(test_getter_type_errors),
    cmocka_unit_test(test_required),
    cmocka_unit_test(test_unknown_keys),
    cmocka_unit_test(test_tree),
    cmocka_unit_test(test_json),
    cmocka_unit_test(test_duplicates),
    cmocka_unit_test(test_error_lines),
    cmocka_unit_test(test_empty_and_missing),
    cmocka_unit_test(test_nesting),
    cmocka_unit_test(test_long_lines),
    cmocka_unit_test(test_bad_bytes),
};

NH_TEST_MAIN(tests)
