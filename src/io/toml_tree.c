/* The TOML value tree: nodes, lookup, accessors and key paths. */
#include "tomlimpl.h"

#include <stdio.h>
#include <string.h>

nh_err nh_toml_strndup(const char *s, size_t len, char **out) {
  NH_CALL(nh_malloc(len + 1, out));
  if (len) memcpy(*out, s, len);
  (*out)[len] = '\0';
  return NH_OK;
}

nh_err nh_toml_buf_add(nh_toml_buf *b, const void *data, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    NH_CALL(nh_realloc(cap, &b->s));
    b->cap = cap;
  }
  if (n) memcpy(b->s + b->len, data, n);
  b->len += n;
  b->s[b->len] = '\0';
  return NH_OK;
}

nh_err nh_toml_buf_addc(nh_toml_buf *b, char c) {
  return nh_toml_buf_add(b, &c, 1);
}

static nh_err node_append(nh_toml_val *parent, nh_toml_val *child) {
  if (parent->n == parent->cap) {
    size_t cap = parent->cap ? 2 * parent->cap : 4;
    NH_CALL(nh_realloc(cap * sizeof *parent->items, &parent->items));
    parent->cap = cap;
  }
  child->index = parent->n;
  parent->items[parent->n++] = child;
  return NH_OK;
}

nh_err nh_toml_node_add(nh_toml *doc, nh_toml_val *parent, nh_toml_type type,
                        const char *key, size_t keylen, int line,
                        nh_toml_val **out) {
  nh_err err = NH_OK;
  nh_toml_val *v = NULL;
  int depth = parent ? parent->depth + 1 : 0;
  NH_CHECK(depth <= NH_TOML_MAX_DEPTH, NH_ERR_INPUT,
           "%s:%d: tables and arrays nested deeper than %d levels", doc->name,
           line, NH_TOML_MAX_DEPTH);
  NH_CALL(nh_calloc(1, sizeof *v, &v));
  v->type = type;
  v->line = line;
  v->depth = depth;
  v->parent = parent;
  v->doc = doc;
  if (key) {
    NH_CALL_GOTO(nh_toml_strndup(key, keylen, &v->key), fail);
    v->keylen = keylen;
  }
  if (parent) NH_CALL_GOTO(node_append(parent, v), fail);
  *out = v;
  return NH_OK;
fail:
  nh_toml_node_free(v);
  return err;
}

nh_toml_val *nh_toml_node_find(const nh_toml_val *tbl, const char *key,
                               size_t keylen) {
  if (!tbl || tbl->type != NH_TOML_TABLE) return NULL;
  for (size_t i = 0; i < tbl->n; i++) {
    const nh_toml_val *c = tbl->items[i];
    if (c->keylen == keylen && memcmp(c->key, key, keylen) == 0)
      return tbl->items[i];
  }
  return NULL;
}

/* Recursion is bounded by NH_TOML_MAX_DEPTH. */
void nh_toml_node_free(nh_toml_val *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) nh_toml_node_free(v->items[i]);
  for (size_t i = 0; i < v->nasked; i++) nh_free(&v->asked[i]);
  nh_free(&v->asked);
  nh_free(&v->items);
  nh_free(&v->key);
  nh_free(&v->str);
  nh_free(&v);
}

nh_err nh_toml_destroy(nh_toml **doc) {
  if (!doc || !*doc) return NH_OK;
  nh_toml_node_free((*doc)->root);
  nh_free(&(*doc)->name);
  nh_free(doc);
  return NH_OK;
}

nh_toml_val *nh_toml_root(const nh_toml *doc) { return doc->root; }
const char *nh_toml_name(const nh_toml *doc) { return doc->name; }
nh_toml_type nh_toml_type_of(const nh_toml_val *v) { return v->type; }
int nh_toml_line(const nh_toml_val *v) { return v->line; }

const char *nh_toml_type_name(nh_toml_type t) {
  static const char *names[] = {"table",    "array",          "string",
                                "integer",  "float",          "bool",
                                "datetime", "datetime-local", "date-local",
                                "time-local"};
  return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

size_t nh_toml_len(const nh_toml_val *v) {
  return v && (v->type == NH_TOML_TABLE || v->type == NH_TOML_ARRAY) ? v->n
                                                                      : 0;
}

nh_toml_val *nh_toml_at(const nh_toml_val *v, size_t i) {
  return i < nh_toml_len(v) ? v->items[i] : NULL;
}

const char *nh_toml_key_at(const nh_toml_val *tbl, size_t i, size_t *len) {
  if (!tbl || tbl->type != NH_TOML_TABLE || i >= tbl->n) return NULL;
  if (len) *len = tbl->items[i]->keylen;
  return tbl->items[i]->key;
}

nh_toml_val *nh_toml_find(const nh_toml_val *tbl, const char *key) {
  return nh_toml_node_find(tbl, key, strlen(key));
}

int64_t nh_toml_int(const nh_toml_val *v) {
  return v->type == NH_TOML_INT ? v->num.i : 0;
}

double nh_toml_double(const nh_toml_val *v) {
  if (v->type == NH_TOML_INT) return (double)v->num.i;
  return v->type == NH_TOML_FLOAT ? v->num.d : 0.0;
}

int nh_toml_bool(const nh_toml_val *v) {
  return v->type == NH_TOML_BOOL ? v->num.b : 0;
}

const char *nh_toml_string(const nh_toml_val *v, size_t *len) {
  if (len) *len = v->str ? v->len : 0;
  return v->str ? v->str : "";
}

static int is_bare(const char *k, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = k[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* Appends the path of v to buf at *pos (recursing to the root first). */
static void path_append(const nh_toml_val *v, char *buf, size_t size,
                        size_t *pos) {
  if (!v->parent) return;
  path_append(v->parent, buf, size, pos);
  int n;
  if (!v->key)
    n = snprintf(buf + *pos, size - *pos, "[%zu]", v->index);
  else if (is_bare(v->key, v->keylen))
    n = snprintf(buf + *pos, size - *pos, "%s%s", *pos ? "." : "", v->key);
  else
    n = snprintf(buf + *pos, size - *pos, "%s\"%s\"", *pos ? "." : "",
                 v->key);
  if (n > 0) *pos += (size_t)n < size - *pos ? (size_t)n : size - *pos - 1;
}

const char *nh_toml_path(const nh_toml_val *v, char *buf, size_t size) {
  size_t pos = 0;
  if (size == 0) return buf;
  buf[0] = '\0';
  path_append(v, buf, size, &pos);
  return buf;
}
