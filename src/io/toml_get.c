/* The option layer: typed getters that mark keys as used, and the check
 * that every key in the input was read by someone. */
#include "tomlimpl.h"

#include <stdio.h>
#include <string.h>

static const char *a_type(nh_toml_type t) {
  static const char *names[] = {
      "a table",  "an array",         "a string", "an integer",
      "a float",  "a boolean",        "an offset date-time",
      "a local date-time", "a local date", "a local time"};
  return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

static nh_err type_error(const nh_toml_val *v, const char *want) {
  char path[512];
  return nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "%s:%d: key '%s' must be %s, got %s", v->doc->name,
                      v->line, nh_toml_path(v, path, sizeof path), want,
                      a_type(v->type));
}

/* Remembers that a getter asked tbl for key (for "did you mean"). */
static nh_err remember(nh_toml_val *tbl, const char *key) {
  for (size_t i = 0; i < tbl->nasked; i++)
    if (!strcmp(tbl->asked[i], key)) return NH_OK;
  if (tbl->nasked == tbl->capasked) {
    size_t cap = tbl->capasked ? 2 * tbl->capasked : 8;
    NH_CALL(nh_realloc(cap * sizeof *tbl->asked, &tbl->asked));
    tbl->capasked = cap;
  }
  NH_CALL(nh_toml_strndup(key, strlen(key), &tbl->asked[tbl->nasked]));
  tbl->nasked++;
  return NH_OK;
}

/* The value of key in tbl (NULL if tbl or the key is absent), marked used. */
static nh_err lookup(nh_toml_val *tbl, const char *key, nh_toml_val **out) {
  *out = NULL;
  NH_CHECK(key && !strchr(key, '.'), NH_ERR_ARG,
           "getters take one key, not a dotted path ('%s'): read the "
           "sub-table with nh_toml_get_table first", key ? key : "(null)");
  if (!tbl) return NH_OK;
  NH_CHECK(tbl->type == NH_TOML_TABLE, NH_ERR_ARG,
           "looking up key '%s' in a value that is not a table", key);
  NH_CALL(remember(tbl, key));
  *out = nh_toml_find(tbl, key);
  if (*out) (*out)->flags |= NH_TOML_F_USED;
  return NH_OK;
}

nh_err nh_toml_value_int(const nh_toml_val *v, int64_t *out) {
  if (v->type != NH_TOML_INT) return type_error(v, "an integer");
  *out = v->num.i;
  return NH_OK;
}

nh_err nh_toml_value_double(const nh_toml_val *v, double *out) {
  if (v->type != NH_TOML_INT && v->type != NH_TOML_FLOAT)
    return type_error(v, "a number");
  *out = nh_toml_double(v);
  return NH_OK;
}

nh_err nh_toml_get_int(nh_toml_val *tbl, const char *key, int64_t def,
                       int64_t *out) {
  nh_toml_val *v;
  NH_CALL(lookup(tbl, key, &v));
  *out = def;
  if (v) NH_CALL(nh_toml_value_int(v, out));
  return NH_OK;
}

nh_err nh_toml_get_double(nh_toml_val *tbl, const char *key, double def,
                          double *out) {
  nh_toml_val *v;
  NH_CALL(lookup(tbl, key, &v));
  *out = def;
  if (v) NH_CALL(nh_toml_value_double(v, out));
  return NH_OK;
}

nh_err nh_toml_get_bool(nh_toml_val *tbl, const char *key, int def, int *out) {
  nh_toml_val *v;
  NH_CALL(lookup(tbl, key, &v));
  *out = def;
  if (!v) return NH_OK;
  if (v->type != NH_TOML_BOOL) return type_error(v, "a boolean (true or false)");
  *out = v->num.b;
  return NH_OK;
}

nh_err nh_toml_get_string(nh_toml_val *tbl, const char *key, const char *def,
                          char *buf, size_t size) {
  char path[512];
  nh_toml_val *v;
  const char *s = def ? def : "";
  size_t len = strlen(s);
  NH_CHECK(buf && size > len, NH_ERR_ARG,
           "the buffer for key '%s' cannot hold its default", key);
  NH_CALL(lookup(tbl, key, &v));
  if (v) {
    if (v->type != NH_TOML_STRING) return type_error(v, "a string");
    s = nh_toml_string(v, &len);
    NH_CHECK(!memchr(s, '\0', len), NH_ERR_INPUT,
             "%s:%d: key '%s' must not contain a NUL character", v->doc->name,
             v->line, nh_toml_path(v, path, sizeof path));
    NH_CHECK(len < size, NH_ERR_INPUT,
             "%s:%d: key '%s' is too long (%zu bytes, at most %zu)",
             v->doc->name, v->line, nh_toml_path(v, path, sizeof path), len,
             size - 1);
  }
  memcpy(buf, s, len + 1);
  return NH_OK;
}

/* An array of exactly n elements (n = 0: any length). */
static nh_err get_array_n(nh_toml_val *tbl, const char *key, size_t n,
                          const char *what, nh_toml_val **out) {
  char path[512], want[64];
  NH_CALL(lookup(tbl, key, out));
  nh_toml_val *v = *out;
  if (!v) return NH_OK;
  if (n)
    snprintf(want, sizeof want, "an array of %zu %s", n, what);
  else
    snprintf(want, sizeof want, "an array of %s", what);
  if (v->type != NH_TOML_ARRAY) return type_error(v, want);
  NH_CHECK(!n || v->n == n, NH_ERR_INPUT,
           "%s:%d: key '%s' must be %s, got %zu element%s", v->doc->name,
           v->line, nh_toml_path(v, path, sizeof path), want, v->n,
           v->n == 1 ? "" : "s");
  return NH_OK;
}

nh_err nh_toml_get_double_vec(nh_toml_val *tbl, const char *key, size_t n,
                              double *out) {
  nh_toml_val *v;
  NH_CHECK(n > 0, NH_ERR_ARG, "nh_toml_get_double_vec: n must be positive");
  NH_CALL(get_array_n(tbl, key, n, "numbers", &v));
  for (size_t i = 0; v && i < n; i++)
    NH_CALL(nh_toml_value_double(v->items[i], &out[i]));
  return NH_OK;
}

nh_err nh_toml_get_int_vec(nh_toml_val *tbl, const char *key, size_t n,
                           int64_t *out) {
  nh_toml_val *v;
  NH_CHECK(n > 0, NH_ERR_ARG, "nh_toml_get_int_vec: n must be positive");
  NH_CALL(get_array_n(tbl, key, n, "integers", &v));
  for (size_t i = 0; v && i < n; i++)
    NH_CALL(nh_toml_value_int(v->items[i], &out[i]));
  return NH_OK;
}

nh_err nh_toml_get_double_array(nh_toml_val *tbl, const char *key,
                                double **out, size_t *n) {
  nh_err err = NH_OK;
  nh_toml_val *v;
  double *x = NULL;
  *out = NULL;
  *n = 0;
  NH_CALL(get_array_n(tbl, key, 0, "numbers", &v));
  if (!v) return NH_OK;
  NH_CALL(nh_malloc(v->n * sizeof *x, &x));
  for (size_t i = 0; i < v->n; i++)
    NH_CALL_GOTO(nh_toml_value_double(v->items[i], &x[i]), fail);
  *out = x;
  *n = v->n;
  return NH_OK;
fail:
  nh_free(&x);
  return err;
}

nh_err nh_toml_get_table(nh_toml_val *tbl, const char *key, nh_toml_val **out) {
  NH_CALL(lookup(tbl, key, out));
  if (*out && (*out)->type != NH_TOML_TABLE) {
    nh_toml_val *v = *out;
    *out = NULL;
    return type_error(v, "a table");
  }
  return NH_OK;
}

nh_err nh_toml_get_array(nh_toml_val *tbl, const char *key, nh_toml_val **out) {
  NH_CALL(lookup(tbl, key, out));
  if (*out && (*out)->type != NH_TOML_ARRAY) {
    nh_toml_val *v = *out;
    *out = NULL;
    return type_error(v, "an array");
  }
  return NH_OK;
}

void nh_toml_mark_used(nh_toml_val *v) {
  if (!v) return;
  v->flags |= NH_TOML_F_USED;
  for (size_t i = 0; i < v->n; i++) nh_toml_mark_used(v->items[i]);
}

nh_err nh_toml_require(nh_toml_val *tbl, const char *key) {
  char path[512];
  NH_CHECK(key && !strchr(key, '.'), NH_ERR_ARG,
           "getters take one key, not a dotted path ('%s')", key ? key : "(null)");
  NH_CHECK(tbl, NH_ERR_INPUT, "missing required key '%s' (its table is absent)",
           key);
  NH_CHECK(tbl->type == NH_TOML_TABLE, NH_ERR_ARG,
           "looking up key '%s' in a value that is not a table", key);
  NH_CALL(remember(tbl, key));
  nh_toml_path(tbl, path, sizeof path);
  NH_CHECK(nh_toml_find(tbl, key), NH_ERR_INPUT,
           "%s:%d: missing required key '%s%s%s'", tbl->doc->name, tbl->line,
           path, path[0] ? "." : "", key);
  return NH_OK;
}

nh_err nh_toml_require_int(nh_toml_val *tbl, const char *key, int64_t *out) {
  NH_CALL(nh_toml_require(tbl, key));
  NH_CALL(nh_toml_get_int(tbl, key, 0, out));
  return NH_OK;
}

nh_err nh_toml_require_double(nh_toml_val *tbl, const char *key, double *out) {
  NH_CALL(nh_toml_require(tbl, key));
  NH_CALL(nh_toml_get_double(tbl, key, 0.0, out));
  return NH_OK;
}

nh_err nh_toml_require_string(nh_toml_val *tbl, const char *key, char *buf,
                              size_t size) {
  NH_CALL(nh_toml_require(tbl, key));
  NH_CALL(nh_toml_get_string(tbl, key, NULL, buf, size));
  return NH_OK;
}

nh_err nh_toml_require_table(nh_toml_val *tbl, const char *key,
                             nh_toml_val **out) {
  NH_CALL(nh_toml_require(tbl, key));
  NH_CALL(nh_toml_get_table(tbl, key, out));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Unknown keys.
 * ------------------------------------------------------------------------- */
#define NH_TOML_HINT_MAX 64 /* longer keys get no suggestion */

static size_t edit_distance(const char *a, size_t na, const char *b,
                            size_t nb) {
  size_t row[NH_TOML_HINT_MAX + 1];
  for (size_t j = 0; j <= nb; j++) row[j] = j;
  for (size_t i = 1; i <= na; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= nb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[nb];
}

/* The key asked for in tbl that is nearest to `key`, if near enough. */
static const char *suggest(const nh_toml_val *tbl, const char *key,
                           size_t len) {
  const char *best = NULL;
  size_t bestd = (size_t)-1;
  if (len > NH_TOML_HINT_MAX) return NULL;
  for (size_t i = 0; i < tbl->nasked; i++) {
    size_t n = strlen(tbl->asked[i]);
    if (n > NH_TOML_HINT_MAX) continue;
    size_t d = edit_distance(key, len, tbl->asked[i], n);
    size_t allowed = (n + 2) / 3 > 1 ? (n + 2) / 3 : 1;
    if (d <= allowed && d < bestd) {
      best = tbl->asked[i];
      bestd = d;
    }
  }
  return best;
}

static nh_err check_node(const nh_toml_val *v);

static nh_err check_table(const nh_toml_val *tbl) {
  char path[512], hint[128] = "";
  for (size_t i = 0; i < tbl->n; i++) {
    const nh_toml_val *c = tbl->items[i];
    if (c->flags & NH_TOML_F_USED) {
      NH_CALL(check_node(c));
      continue;
    }
    const char *s = suggest(tbl, c->key, c->keylen);
    if (s) snprintf(hint, sizeof hint, " (did you mean '%s'?)", s);
    NH_CHECK(0, NH_ERR_INPUT, "%s:%d: unknown key '%s'%s", tbl->doc->name,
             c->line, nh_toml_path(c, path, sizeof path), hint);
  }
  return NH_OK;
}

/* Recursion is bounded by NH_TOML_MAX_DEPTH. */
static nh_err check_node(const nh_toml_val *v) {
  if (v->type == NH_TOML_TABLE) return check_table(v);
  if (v->type == NH_TOML_ARRAY)
    for (size_t i = 0; i < v->n; i++) NH_CALL(check_node(v->items[i]));
  return NH_OK;
}

nh_err nh_toml_check_unused(const nh_toml *doc) {
  NH_CALL(check_table(doc->root));
  return NH_OK;
}
