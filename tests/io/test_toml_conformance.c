/* The TOML 1.0 cases of the public conformance suite toml-test, from
 * $NH_SHARED/toml-test/tests/files-toml-1.0.0:
 *  - every valid case must parse, and its JSON encoding must equal the
 *    expected .json semantically (tables as key sets, floats numerically
 *    incl. inf/nan, integers exactly, strings byte by byte, date/time
 *    values after normalisation);
 *  - every invalid case must be rejected with a "FILE:LINE: ..." message.
 * Exits 77 (skipped) only if the suite is not there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "nextham/toml.h"

/* ---------------------------------------------------------------------------
 * A tiny JSON reader: objects, arrays and strings are all toml-test needs.
 * ------------------------------------------------------------------------- */
typedef struct jv {
  int kind; /* 'o' object, 'a' array, 's' string */
  char *s;  /* string bytes (may hold NUL) */
  size_t len;
  struct jv **items;
  char **keys;
  size_t *keylens;
  size_t n;
} jv;

typedef struct {
  const char *p, *end;
  const char *error;
} jreader;

static void jv_free(jv *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    jv_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->keylens);
  free(v->s);
  free(v);
}

static void jskip(jreader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' ||
                           *r->p == '\t'))
    r->p++;
}

static void put_utf8(char *out, size_t *n, unsigned long cp) {
  if (cp < 0x80) {
    out[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*n)++] = (char)(0xC0 | (cp >> 6));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xE0 | (cp >> 12));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    out[(*n)++] = (char)(0xF0 | (cp >> 18));
    out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static int hex4(const char *p, const char *end, unsigned long *cp) {
  *cp = 0;
  for (int i = 0; i < 4; i++) {
    if (p + i >= end) return 0;
    char c = p[i];
    int h = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (h < 0) return 0;
    *cp = *cp * 16 + (unsigned long)h;
  }
  return 1;
}

static char *jstring(jreader *r, size_t *len) {
  if (r->p >= r->end || *r->p != '"') return r->error = "expected string", NULL;
  r->p++;
  char *out = malloc((size_t)(r->end - r->p) + 1);
  size_t n = 0;
  while (r->p < r->end && *r->p != '"') {
    if (*r->p != '\\') {
      out[n++] = *r->p++;
      continue;
    }
    char c = r->p[1];
    r->p += 2;
    const char *from = "bfnrt\"\\/", *to = "\b\f\n\r\t\"\\/";
    const char *e = strchr(from, c);
    if (e && c) {
      out[n++] = to[e - from];
      continue;
    }
    unsigned long cp, lo;
    if (c != 'u' || !hex4(r->p, r->end, &cp)) break;
    r->p += 4;
    if (cp >= 0xD800 && cp < 0xDC00 && r->p + 6 <= r->end && r->p[0] == '\\' &&
        r->p[1] == 'u' && hex4(r->p + 2, r->end, &lo)) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      r->p += 6;
    }
    put_utf8(out, &n, cp);
  }
  if (r->p >= r->end || *r->p != '"') {
    free(out);
    return r->error = "bad string", NULL;
  }
  r->p++;
  out[n] = '\0';
  *len = n;
  return out;
}

static jv *jvalue(jreader *r, int depth) {
  jskip(r);
  if (r->p >= r->end || depth > 200) return r->error = "unexpected end", NULL;
  jv *v = calloc(1, sizeof *v);
  char open = *r->p;
  if (open == '"') {
    v->kind = 's';
    if (!(v->s = jstring(r, &v->len))) goto fail;
    return v;
  }
  if (open != '{' && open != '[') {
    r->error = "unsupported JSON value";
    goto fail;
  }
  v->kind = open == '{' ? 'o' : 'a';
  char close = open == '{' ? '}' : ']';
  r->p++;
  jskip(r);
  if (r->p < r->end && *r->p == close) {
    r->p++;
    return v;
  }
  for (;;) {
    v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
    if (v->kind == 'o') {
      v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
      v->keylens = realloc(v->keylens, (v->n + 1) * sizeof *v->keylens);
      jskip(r);
      v->keys[v->n] = jstring(r, &v->keylens[v->n]);
      v->items[v->n] = NULL;
      v->n++;
      if (!v->keys[v->n - 1]) goto fail;
      jskip(r);
      if (r->p >= r->end || *r->p != ':') {
        r->error = "expected ':'";
        goto fail;
      }
      r->p++;
      if (!(v->items[v->n - 1] = jvalue(r, depth + 1))) goto fail;
    } else {
      if (!(v->items[v->n] = jvalue(r, depth + 1))) goto fail;
      v->n++;
    }
    jskip(r);
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      continue;
    }
    if (r->p < r->end && *r->p == close) {
      r->p++;
      return v;
    }
    r->error = "expected ',' or end of container";
    goto fail;
  }
fail:
  jv_free(v);
  return NULL;
}

static jv *jparse(const char *text, size_t len, const char **error) {
  jreader r = {text, text + len, NULL};
  jv *v = jvalue(&r, 0);
  jskip(&r);
  if (v && r.p != r.end) {
    jv_free(v);
    v = NULL;
    r.error = "trailing text";
  }
  *error = r.error;
  return v;
}

/* ---------------------------------------------------------------------------
 * Semantic comparison.
 * ------------------------------------------------------------------------- */
static const jv *jget(const jv *o, const char *key, size_t len) {
  for (size_t i = 0; i < o->n; i++)
    if (o->keylens[i] == len && !memcmp(o->keys[i], key, len))
      return o->items[i];
  return NULL;
}

/* {"type": string, "value": string} */
static int is_scalar(const jv *v) {
  if (v->kind != 'o' || v->n != 2) return 0;
  const jv *t = jget(v, "type", 4), *x = jget(v, "value", 5);
  return t && x && t->kind == 's' && x->kind == 's';
}

/* "1987-07-05 17:45:00.600z" -> "1987-07-05T17:45:00.6Z" */
static void norm_datetime(const char *s, char *out, size_t size) {
  size_t n = 0;
  for (; *s && n + 1 < size; s++) {
    char c = *s;
    out[n++] = c == ' ' || c == 't' ? 'T' : c == 'z' ? 'Z' : c;
    if (c == '.') { /* drop trailing zeros of the fraction */
      size_t start = n - 1, k = 0;
      while (s[1 + k] >= '0' && s[1 + k] <= '9') k++;
      size_t last = k;
      while (last > 0 && s[last] == '0') last--;
      if (last == 0) n = start;
      for (size_t i = 1; i <= last && n + 1 < size; i++) out[n++] = s[i];
      s += k;
    }
  }
  out[n] = '\0';
}

static int same_scalar(const jv *a, const jv *b, char *why, size_t size) {
  const jv *ta = jget(a, "type", 4), *tb = jget(b, "type", 4);
  const jv *va = jget(a, "value", 5), *vb = jget(b, "value", 5);
  if (strcmp(ta->s, tb->s)) {
    snprintf(why, size, "type %s, expected %s", ta->s, tb->s);
    return 0;
  }
  int same;
  const char *t = tb->s;
  if (!strcmp(t, "integer")) {
    same = strtoll(va->s, NULL, 10) == strtoll(vb->s, NULL, 10);
  } else if (!strcmp(t, "float")) {
    double x = strtod(va->s, NULL), y = strtod(vb->s, NULL);
    same = (isnan(x) && isnan(y)) || x == y;
  } else if (!strcmp(t, "string") || !strcmp(t, "bool")) {
    same = va->len == vb->len && !memcmp(va->s, vb->s, va->len);
  } else {
    char na[128], nb[128];
    norm_datetime(va->s, na, sizeof na);
    norm_datetime(vb->s, nb, sizeof nb);
    same = !strcmp(na, nb);
  }
  if (!same) snprintf(why, size, "%s value '%s', expected '%s'", t, va->s, vb->s);
  return same;
}

static int same(const jv *a, const jv *b, char *why, size_t size) {
  if (is_scalar(b)) {
    if (!is_scalar(a)) return snprintf(why, size, "not a scalar"), 0;
    return same_scalar(a, b, why, size);
  }
  if (a->kind != b->kind || is_scalar(a))
    return snprintf(why, size, "kind differs"), 0;
  if (a->n != b->n)
    return snprintf(why, size, "%zu entries, expected %zu", a->n, b->n), 0;
  for (size_t i = 0; i < b->n; i++) {
    const jv *x = b->kind == 'o' ? jget(a, b->keys[i], b->keylens[i])
                                 : a->items[i];
    if (!x) return snprintf(why, size, "key '%s' missing", b->keys[i]), 0;
    if (!same(x, b->items[i], why, size)) return 0;
  }
  return 1;
}

/* ---------------------------------------------------------------------------
 * The cases.
 * ------------------------------------------------------------------------- */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *s = malloc(cap);
  while ((n += fread(s + n, 1, cap - n, f)) == cap) s = realloc(s, cap *= 2);
  fclose(f);
  *len = n;
  return s;
}

static int run_valid(const char *dir, const char *rel) {
  char path[4096], jpath[4096], why[512] = "";
  nh_toml *doc = NULL;
  char *mine = NULL, *want = NULL;
  jv *a = NULL, *b = NULL;
  size_t nmine = 0, nwant = 0;
  const char *jerr = NULL;
  int ok = 0;
  snprintf(path, sizeof path, "%.2000s/%.2000s", dir, rel);
  snprintf(jpath, sizeof jpath, "%.*s.json", (int)(strlen(path) - 5), path);
  nh_err err = nh_toml_parse_file(path, &doc);
  if (err) {
    snprintf(why, sizeof why, "rejected: %s", nh_error_message());
    nh_error_clear();
    goto done;
  }
  if (nh_toml_to_json(doc, &mine, &nmine)) {
    snprintf(why, sizeof why, "JSON encoding failed: %s", nh_error_message());
    nh_error_clear();
    goto done;
  }
  if (!(want = slurp(jpath, &nwant))) {
    snprintf(why, sizeof why, "cannot read %.400s", jpath);
    goto done;
  }
  if (!(a = jparse(mine, nmine, &jerr))) {
    snprintf(why, sizeof why, "our JSON does not parse: %s", jerr);
    goto done;
  }
  if (!(b = jparse(want, nwant, &jerr))) {
    snprintf(why, sizeof why, "expected JSON does not parse: %s", jerr);
    goto done;
  }
  ok = same(a, b, why, sizeof why);
done:
  if (!ok) printf("FAIL valid %s: %s\n", rel, why);
  jv_free(a);
  jv_free(b);
  free(want);
  nh_free(&mine);
  nh_toml_destroy(&doc);
  return ok;
}

/* The message must read "PATH:LINE: ...". */
static int run_invalid(const char *dir, const char *rel) {
  char path[4096];
  nh_toml *doc = NULL;
  snprintf(path, sizeof path, "%.2000s/%.2000s", dir, rel);
  nh_err err = nh_toml_parse_file(path, &doc);
  if (!err) {
    printf("FAIL invalid %s: accepted\n", rel);
    nh_toml_destroy(&doc);
    return 0;
  }
  const char *msg = nh_error_message();
  size_t n = strlen(path);
  int ok = err == NH_ERR_INPUT && !strncmp(msg, path, n) && msg[n] == ':' &&
           msg[n + 1] >= '1' && msg[n + 1] <= '9';
  const char *p = msg + n + 1;
  while (ok && *p >= '0' && *p <= '9') p++;
  ok = ok && *p == ':';
  if (!ok) printf("FAIL invalid %s: message without FILE:LINE: %s\n", rel, msg);
  else if (getenv("NH_TOML_VERBOSE")) printf("ok %s\n", msg);
  nh_error_clear();
  return ok;
}

int main(void) {
  const char *shared = getenv("NH_SHARED");
  char dir[2048], list[4096], line[4096];
  snprintf(dir, sizeof dir, "%.2000s/toml-test/tests",
           shared && *shared ? shared : "/work/main/../shared");
  snprintf(list, sizeof list, "%s/files-toml-1.0.0", dir);
  FILE *f = fopen(list, "r");
  if (!f) {
    printf("SKIP: %s not found\n", list);
    return 77;
  }
  int nvalid = 0, okvalid = 0, ninvalid = 0, okinvalid = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    size_t n = strlen(line);
    if (n < 5 || strcmp(line + n - 5, ".toml")) continue;
    if (!strncmp(line, "valid/", 6)) {
      nvalid++;
      okvalid += run_valid(dir, line);
    } else if (!strncmp(line, "invalid/", 8)) {
      ninvalid++;
      okinvalid += run_invalid(dir, line);
    }
  }
  fclose(f);
  printf("toml-test 1.0: valid %d/%d, invalid %d/%d\n", okvalid, nvalid,
         okinvalid, ninvalid);
  return okvalid == nvalid && okinvalid == ninvalid && nvalid > 0 ? 0 : 1;
}
