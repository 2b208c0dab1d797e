/* libFuzzer harness for the TOML parser (tools/fuzz/run-fuzz-toml.sh).
 * Every input is parsed; a document that parses is also encoded to JSON,
 * and every key of every table is read with every getter, so that the
 * type errors and check_unused run on hostile trees too. Errors are
 * expected; crashes, leaks and undefined behaviour are not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nextham/toml.h"

static void read_all(nh_toml_val *tbl) {
  char buf[32];
  for (size_t i = 0; i < nh_toml_len(tbl); i++) {
    size_t len;
    const char *key = nh_toml_key_at(tbl, i, &len);
    int64_t n, v3[3];
    double x, *arr, d3[3];
    int b;
    size_t na;
    nh_toml_val *sub;
    if (strlen(key) != len) continue; /* keys holding NUL: not addressable */
    nh_toml_get_int(tbl, key, 0, &n);
    nh_toml_get_double(tbl, key, 0, &x);
    nh_toml_get_bool(tbl, key, 0, &b);
    nh_toml_get_string(tbl, key, "", buf, sizeof buf);
    nh_toml_get_int_vec(tbl, key, 3, v3);
    nh_toml_get_double_vec(tbl, key, 3, d3);
    if (!nh_toml_get_double_array(tbl, key, &arr, &na)) nh_free(&arr);
    nh_error_clear();
    if (!nh_toml_get_table(tbl, key, &sub) && sub && (i % 2 == 0))
      read_all(sub); /* leave every other table unread for check_unused */
    nh_error_clear();
  }
  nh_toml_require(tbl, "required");
  nh_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nh_toml *doc = NULL;
  if (nh_toml_parse_string("fuzz.toml", (const char *)data, size, &doc)) {
    nh_error_clear();
    return 0;
  }
  char *json = NULL;
  size_t len;
  if (!nh_toml_to_json(doc, &json, &len)) {
    if (strlen(json) > len) abort(); /* the length must be exact */
    nh_free(&json);
  }
  read_all(nh_toml_root(doc));
  nh_toml_check_unused(doc);
  nh_error_clear();
  nh_toml_destroy(&doc);
  return 0;
}
