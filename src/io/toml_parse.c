/* Strict TOML 1.0 parser: one recursive-descent pass over the buffer with a
 * line counter. Syntax follows the ABNF of toml.io/en/v1.0.0; the table
 * rules (what may be defined twice, what may be extended) follow the spec's
 * prose, see the flags in tomlimpl.h. */
#include "tomlimpl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  nh_toml_buf text;    /* the key parts, back to back */
  size_t *off;  /* start of part i in text.s   */
  size_t *plen; /* length of part i            */
  size_t n, cap;
} keypath;

typedef struct {
  nh_toml *doc;
  const char *name;
  const unsigned char *p, *end;
  int line;
  nh_toml_val *cur; /* the table that key = value lines go into */
} parser;

static nh_err parse_value(parser *ps, nh_toml_val *parent, const char *key,
                          size_t keylen);
static nh_err parse_keyval(parser *ps, nh_toml_val *tbl);

/* ---------------------------------------------------------------------------
 * Errors: every message starts with "FILE:LINE: ".
 * ------------------------------------------------------------------------- */
static nh_err parse_error(const parser *ps, const char *file, int line,
                          const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static nh_err parse_error(const parser *ps, const char *file, int line,
                          const char *func, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nh_error_set(NH_ERR_INPUT, file, line, func, "%s:%d: %s", ps->name,
                      ps->line, msg);
}

#define PCHECK(cond, ps, ...)                                                  \
  do {                                                                         \
    if (!(cond))                                                               \
      return parse_error((ps), __FILE__, __LINE__, __func__, __VA_ARGS__);     \
  } while (0)

#define PCHECK_GOTO(cond, label, ps, ...)                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      err = parse_error((ps), __FILE__, __LINE__, __func__, __VA_ARGS__);      \
      goto label;                                                              \
    }                                                                          \
  } while (0)

/* A printable description of the character at p, for messages. */
static const char *describe(const parser *ps, const unsigned char *p,
                            char buf[16]) {
  if (p >= ps->end) return "end of file";
  if (*p == '\n' || *p == '\r') return "end of line";
  if (*p >= 0x20 && *p < 0x7f)
    snprintf(buf, 16, "'%c'", *p);
  else
    snprintf(buf, 16, "byte 0x%02X", *p);
  return buf;
}

/* ---------------------------------------------------------------------------
 * Growable buffers.
 * ------------------------------------------------------------------------- */
static nh_err keypath_push(keypath *k, const nh_toml_buf *part) {
  if (k->n == k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 8;
    NH_CALL(nh_realloc(cap * sizeof *k->off, &k->off));
    NH_CALL(nh_realloc(cap * sizeof *k->plen, &k->plen));
    k->cap = cap;
  }
  k->off[k->n] = k->text.len;
  k->plen[k->n] = part->len;
  k->n++;
  return nh_toml_buf_add(&k->text, part->s ? part->s : "", part->len);
}

static void keypath_free(keypath *k) {
  nh_free(&k->text.s);
  nh_free(&k->off);
  nh_free(&k->plen);
}

/* ---------------------------------------------------------------------------
 * Input checks before parsing: UTF-8 (no overlong forms, no surrogates, no
 * code point beyond U+10FFFF) and no NUL byte anywhere.
 * ------------------------------------------------------------------------- */
static nh_err check_utf8(parser *ps) {
  const unsigned char *p = ps->p, *end = ps->end;
  while (p < end) {
    unsigned c = *p;
    if (c == '\n') ps->line++;
    PCHECK(c != 0, ps, "NUL byte in input (is this a UTF-16 file?)");
    if (c < 0x80) {
      p++;
      continue;
    }
    int n = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
            : c >= 0xF0 && c <= 0xF4 ? 3 : -1;
    PCHECK(n > 0 && end - p > n, ps, "invalid UTF-8 byte 0x%02X", c);
    unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    if (c == 0xED) hi = 0x9F;      /* surrogates */
    if (c == 0xF0) lo = 0x90;      /* overlong */
    if (c == 0xF4) hi = 0x8F;      /* beyond U+10FFFF */
    PCHECK(p[1] >= lo && p[1] <= hi, ps, "invalid UTF-8 sequence");
    for (int i = 2; i <= n; i++)
      PCHECK(p[i] >= 0x80 && p[i] <= 0xBF, ps, "invalid UTF-8 sequence");
    p += n + 1;
  }
  ps->line = 1;
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Whitespace, comments, newlines.
 * ------------------------------------------------------------------------- */
static int at(const parser *ps, char c) { return ps->p < ps->end && *ps->p == c; }

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t')) ps->p++;
}

/* Consumes a newline (LF or CRLF) if one is here; a lone CR is an error. */
static nh_err eat_newline(parser *ps, int *found) {
  *found = 0;
  if (at(ps, '\r')) {
    PCHECK(ps->p + 1 < ps->end && ps->p[1] == '\n', ps,
           "carriage return not followed by a line feed");
    ps->p++;
  }
  if (at(ps, '\n')) {
    ps->p++;
    ps->line++;
    *found = 1;
  }
  return NH_OK;
}

static nh_err skip_comment(parser *ps) {
  if (!at(ps, '#')) return NH_OK;
  for (ps->p++; ps->p < ps->end && *ps->p != '\n'; ps->p++) {
    unsigned c = *ps->p;
    if (c == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n') continue;
    PCHECK(c == '\t' || (c >= 0x20 && c != 0x7F), ps,
           "control character U+%04X in comment", c);
  }
  return NH_OK;
}

/* Whitespace, comments and newlines (inside arrays). */
static nh_err skip_blank(parser *ps) {
  for (;;) {
    int nl;
    skip_ws(ps);
    NH_CALL(skip_comment(ps));
    NH_CALL(eat_newline(ps, &nl));
    if (!nl) return NH_OK;
  }
}

/* After a key = value or a [header]: only a comment may follow. */
static nh_err expect_eol(parser *ps, const char *after) {
  char d[16];
  int nl;
  skip_ws(ps);
  NH_CALL(skip_comment(ps));
  if (ps->p >= ps->end) return NH_OK;
  NH_CALL(eat_newline(ps, &nl));
  PCHECK(nl, ps, "expected end of line after %s, found %s", after,
         describe(ps, ps->p, d));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Strings.
 * ------------------------------------------------------------------------- */
static nh_err add_utf8(parser *ps, nh_toml_buf *b, unsigned long cp) {
  char u[4];
  size_t n;
  PCHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF), ps,
         "escape \\U%08lX is not a Unicode scalar value", cp);
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return nh_toml_buf_add(b, u, n);
}

static int hexval(unsigned c) {
  if (c >= '0' && c <= '9') return (int)(c - '0');
  if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
  return -1;
}

/* An escape sequence; ps->p is on the backslash. */
static nh_err parse_escape(parser *ps, nh_toml_buf *b) {
  char d[16];
  const unsigned char *q = ps->p + 1;
  PCHECK(q < ps->end, ps, "unterminated string");
  static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
  const char *e = *q ? strchr(from, *q) : NULL;
  if (e) {
    ps->p = q + 1;
    return nh_toml_buf_addc(b, to[e - from]);
  }
  PCHECK(*q == 'u' || *q == 'U', ps, "invalid escape sequence '\\' followed by %s",
         describe(ps, q, d));
  int ndig = *q == 'u' ? 4 : 8;
  unsigned long cp = 0;
  q++;
  for (int i = 0; i < ndig; i++) {
    int h = q + i < ps->end ? hexval(q[i]) : -1;
    PCHECK(h >= 0, ps, "escape \\%c needs %d hexadecimal digits",
           ndig == 4 ? 'u' : 'U', ndig);
    cp = cp * 16 + (unsigned long)h;
  }
  ps->p = q + ndig;
  return add_utf8(ps, b, cp);
}

/* Characters allowed literally in strings: tab and non-control. */
static nh_err check_string_char(parser *ps, unsigned c) {
  PCHECK(c == '\t' || (c >= 0x20 && c != 0x7F), ps,
         "control character U+%04X in string (use an escape)", c);
  return NH_OK;
}

/* Single-line basic ("...") or literal ('...') string; ps->p on the quote. */
static nh_err parse_string_line(parser *ps, nh_toml_buf *b) {
  char q = (char)*ps->p++;
  b->len = 0;
  NH_CALL(nh_toml_buf_add(b, "", 0));
  for (;;) {
    PCHECK(ps->p < ps->end && *ps->p != '\n' &&
               !(*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n'),
           ps, "unterminated string (use %s for multi-line strings)",
           q == '"' ? "\"\"\"" : "'''");
    unsigned c = *ps->p;
    if (c == (unsigned char)q) {
      ps->p++;
      return NH_OK;
    }
    if (c == '\\' && q == '"') {
      NH_CALL(parse_escape(ps, b));
      continue;
    }
    NH_CALL(check_string_char(ps, c));
    NH_CALL(nh_toml_buf_addc(b, (char)c));
    ps->p++;
  }
}

/* A backslash at the end of a line in a multi-line basic string swallows
 * the newline and all whitespace after it. Returns *done = 0 if the
 * backslash is not followed by (whitespace and) a newline. */
static nh_err line_ending_backslash(parser *ps, int *done) {
  const unsigned char *q = ps->p + 1;
  while (q < ps->end && (*q == ' ' || *q == '\t')) q++;
  *done = q < ps->end && (*q == '\n' || *q == '\r');
  if (!*done) return NH_OK;
  ps->p = q;
  for (;;) {
    int nl;
    skip_ws(ps);
    NH_CALL(eat_newline(ps, &nl));
    if (!nl) return NH_OK;
  }
}

/* Multi-line string; ps->p on the first of three quotes. */
static nh_err parse_string_multi(parser *ps, nh_toml_buf *b) {
  char q = (char)*ps->p;
  int nl;
  ps->p += 3;
  b->len = 0;
  NH_CALL(nh_toml_buf_add(b, "", 0));
  NH_CALL(eat_newline(ps, &nl)); /* a newline right after """ is trimmed */
  for (;;) {
    PCHECK(ps->p < ps->end, ps, "unterminated multi-line string");
    unsigned c = *ps->p;
    if (c == (unsigned char)q) {
      size_t n = 0;
      while (ps->p + n < ps->end && ps->p[n] == (unsigned char)q) n++;
      if (n >= 3) { /* up to two quotes may precede the closing three */
        PCHECK(n <= 5, ps, "too many quotes at the end of a multi-line string");
        for (size_t i = 0; i < n - 3; i++) NH_CALL(nh_toml_buf_addc(b, q));
        ps->p += n;
        return NH_OK;
      }
      for (size_t i = 0; i < n; i++) NH_CALL(nh_toml_buf_addc(b, q));
      ps->p += n;
      continue;
    }
    if (c == '\\' && q == '"') {
      int done;
      NH_CALL(line_ending_backslash(ps, &done));
      if (!done) NH_CALL(parse_escape(ps, b));
      continue;
    }
    if (c == '\n' || c == '\r') { /* CRLF is stored as LF */
      NH_CALL(eat_newline(ps, &nl));
      NH_CALL(nh_toml_buf_addc(b, '\n'));
      continue;
    }
    NH_CALL(check_string_char(ps, c));
    NH_CALL(nh_toml_buf_addc(b, (char)c));
    ps->p++;
  }
}

static int is_multi(const parser *ps) {
  return ps->end - ps->p >= 3 && ps->p[1] == ps->p[0] && ps->p[2] == ps->p[0];
}

/* ---------------------------------------------------------------------------
 * Keys.
 * ------------------------------------------------------------------------- */
static int is_bare_char(unsigned c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* key = simple-key *( ws "." ws simple-key ) */
static nh_err parse_key(parser *ps, keypath *k) {
  nh_err err = NH_OK;
  char d[16];
  nh_toml_buf part = {0};
  k->n = 0;
  k->text.len = 0;
  for (;;) {
    skip_ws(ps);
    if (at(ps, '"') || at(ps, '\'')) {
      PCHECK_GOTO(!is_multi(ps), done, ps,
                  "multi-line strings cannot be keys");
      NH_CALL_GOTO(parse_string_line(ps, &part), done);
    } else {
      const unsigned char *s = ps->p;
      while (ps->p < ps->end && is_bare_char(*ps->p)) ps->p++;
      PCHECK_GOTO(ps->p > s, done, ps, "expected a key, found %s",
                  describe(ps, ps->p, d));
      part.len = 0;
      NH_CALL_GOTO(nh_toml_buf_add(&part, s, (size_t)(ps->p - s)), done);
    }
    NH_CALL_GOTO(keypath_push(k, &part), done);
    skip_ws(ps);
    if (!at(ps, '.')) break;
    ps->p++;
  }
done:
  nh_free(&part.s);
  return err;
}

/* The full path of key k in table tbl, for messages. */
static const char *key_text(const nh_toml_val *tbl, const keypath *k,
                            char *buf, size_t size) {
  char tmp[512];
  nh_toml_path(tbl, buf, size);
  size_t pos = strlen(buf);
  for (size_t i = 0; i < k->n; i++) {
    snprintf(tmp, sizeof tmp, "%.*s", (int)k->plen[i], k->text.s + k->off[i]);
    int n = snprintf(buf + pos, size - pos, "%s%s", pos ? "." : "", tmp);
    if (n < 0 || (size_t)n >= size - pos) break;
    pos += (size_t)n;
  }
  return buf;
}

/* ---------------------------------------------------------------------------
 * Table rules.
 * ------------------------------------------------------------------------- */
static const char *what(const nh_toml_val *v) {
  if (v->type == NH_TOML_TABLE)
    return v->flags & NH_TOML_F_FROZEN ? "an inline table" : "a table";
  if (v->type == NH_TOML_ARRAY)
    return v->flags & NH_TOML_F_AOT ? "an array of tables" : "an array";
  return "a value";
}

/* One step of a dotted key in `key = value`: into a table created by dotted
 * keys (or created implicitly by a header), never into one defined by a
 * header, an inline table or an array. */
static nh_err step_dotted(parser *ps, nh_toml_val *tbl, const keypath *k,
                          size_t i, nh_toml_val **next) {
  char path[512];
  const char *part = k->text.s + k->off[i];
  nh_toml_val *c = nh_toml_node_find(tbl, part, k->plen[i]);
  if (!c) {
    NH_CALL(nh_toml_node_add(ps->doc, tbl, NH_TOML_TABLE, part, k->plen[i],
                             ps->line, &c));
    c->flags |= NH_TOML_F_DOTTED;
  } else {
    PCHECK(c->type == NH_TOML_TABLE &&
               !(c->flags & (NH_TOML_F_FROZEN | NH_TOML_F_EXPLICIT)),
           ps, "cannot add keys to '%s' with a dotted key: it is %s defined "
           "on line %d", nh_toml_path(c, path, sizeof path), what(c), c->line);
    c->flags |= NH_TOML_F_DOTTED;
  }
  *next = c;
  return NH_OK;
}

/* One step of a [header] key on the way to its last part: any table that
 * is not inline, or the last table of an array of tables. */
static nh_err step_header(parser *ps, nh_toml_val *tbl, const keypath *k,
                          size_t i, nh_toml_val **next) {
  char path[512];
  const char *part = k->text.s + k->off[i];
  nh_toml_val *c = nh_toml_node_find(tbl, part, k->plen[i]);
  if (!c) {
    NH_CALL(nh_toml_node_add(ps->doc, tbl, NH_TOML_TABLE, part, k->plen[i],
                             ps->line, &c));
    c->flags |= NH_TOML_F_IMPLICIT;
  } else if (c->type == NH_TOML_ARRAY && (c->flags & NH_TOML_F_AOT)) {
    c = c->items[c->n - 1];
  } else {
    PCHECK(c->type == NH_TOML_TABLE && !(c->flags & NH_TOML_F_FROZEN), ps,
           "cannot define a table inside '%s': it is %s defined on line %d",
           nh_toml_path(c, path, sizeof path), what(c), c->line);
  }
  *next = c;
  return NH_OK;
}

/* [a.b.c] or [[a.b.c]]; ps->p is on the first '['. */
static nh_err parse_header(parser *ps) {
  nh_err err = NH_OK;
  char d[16], path[512];
  keypath k = {0};
  int aot = ps->end - ps->p >= 2 && ps->p[1] == '[';
  ps->p += aot ? 2 : 1;
  NH_CALL_GOTO(parse_key(ps, &k), done);
  PCHECK_GOTO(at(ps, ']') && (!aot || (ps->p + 1 < ps->end && ps->p[1] == ']')),
              done, ps, "expected '%s' to close the table header, found %s",
              aot ? "]]" : "]", describe(ps, ps->p, d));
  ps->p += aot ? 2 : 1;
  nh_toml_val *t = ps->doc->root;
  for (size_t i = 0; i + 1 < k.n; i++)
    NH_CALL_GOTO(step_header(ps, t, &k, i, &t), done);
  const char *last = k.text.s + k.off[k.n - 1];
  size_t lastlen = k.plen[k.n - 1];
  nh_toml_val *c = nh_toml_node_find(t, last, lastlen);
  if (aot) {
    if (!c) {
      NH_CALL_GOTO(nh_toml_node_add(ps->doc, t, NH_TOML_ARRAY, last, lastlen,
                                    ps->line, &c), done);
      c->flags |= NH_TOML_F_AOT;
    }
    PCHECK_GOTO(c->type == NH_TOML_ARRAY && (c->flags & NH_TOML_F_AOT), done,
                ps, "cannot define '%s' as an array of tables: it is %s "
                "defined on line %d", nh_toml_path(c, path, sizeof path),
                what(c), c->line);
    NH_CALL_GOTO(nh_toml_node_add(ps->doc, c, NH_TOML_TABLE, NULL, 0,
                                  ps->line, &c), done);
  } else if (!c) {
    NH_CALL_GOTO(nh_toml_node_add(ps->doc, t, NH_TOML_TABLE, last, lastlen,
                                  ps->line, &c), done);
  } else {
    /* Only a table created implicitly by an earlier header may be defined
     * now; anything else is a redefinition. */
    PCHECK_GOTO(c->type == NH_TOML_TABLE && c->flags == NH_TOML_F_IMPLICIT,
                done, ps, "table '%s' is already defined (as %s on line %d)",
                nh_toml_path(c, path, sizeof path), what(c), c->line);
    c->line = ps->line;
  }
  c->flags |= NH_TOML_F_EXPLICIT;
  ps->cur = c;
  err = expect_eol(ps, "a table header");
done:
  keypath_free(&k);
  return err;
}

/* key = value into table tbl. */
static nh_err parse_keyval(parser *ps, nh_toml_val *tbl) {
  nh_err err = NH_OK;
  char d[16], path[512];
  keypath k = {0};
  NH_CALL_GOTO(parse_key(ps, &k), done);
  PCHECK_GOTO(at(ps, '='), done, ps, "expected '=' after key '%s', found %s",
              key_text(tbl, &k, path, sizeof path),
              describe(ps, ps->p, d));
  ps->p++;
  skip_ws(ps);
  nh_toml_val *t = tbl;
  for (size_t i = 0; i + 1 < k.n; i++)
    NH_CALL_GOTO(step_dotted(ps, t, &k, i, &t), done);
  const char *last = k.text.s + k.off[k.n - 1];
  nh_toml_val *c = nh_toml_node_find(t, last, k.plen[k.n - 1]);
  PCHECK_GOTO(!c, done, ps, "key '%s' is already defined (as %s on line %d)",
              nh_toml_path(c, path, sizeof path),
              c->type == NH_TOML_TABLE || c->type == NH_TOML_ARRAY
                  ? what(c) : "a value", c->line);
  err = parse_value(ps, t, last, k.plen[k.n - 1]);
done:
  keypath_free(&k);
  return err;
}

/* ---------------------------------------------------------------------------
 * Numbers, booleans, dates and times.
 * ------------------------------------------------------------------------- */
static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }

/* Reads digits of `base` with single underscores between digits into out
 * (without underscores). Returns the number of characters read, 0 on a
 * syntax error. */
static size_t scan_digits(const char *s, size_t n, int base, nh_toml_buf *out) {
  size_t i = 0;
  int prev_digit = 0;
  for (; i < n; i++) {
    int v = hexval((unsigned char)s[i]);
    if (s[i] == '_') {
      if (!prev_digit || i + 1 >= n) return 0;
      int nv = hexval((unsigned char)s[i + 1]);
      if (nv < 0 || nv >= base) return 0;
      prev_digit = 0;
      continue;
    }
    if (v < 0 || v >= base) break;
    if (nh_toml_buf_addc(out, s[i])) return 0;
    prev_digit = 1;
  }
  return prev_digit ? i : 0;
}

static nh_err parse_integer(parser *ps, const char *tok, size_t n,
                            nh_toml_val *v) {
  nh_err err = NH_OK;
  nh_toml_buf dig = {0};
  int neg = tok[0] == '-', sign = tok[0] == '+' || tok[0] == '-';
  const char *s = tok + sign;
  size_t len = n - (size_t)sign;
  int base = 10;
  if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
    PCHECK_GOTO(!sign, done, ps, "a sign is not allowed on '%.*s'", (int)n,
                tok);
    base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
    s += 2;
    len -= 2;
  }
  size_t used = scan_digits(s, len, base, &dig);
  PCHECK_GOTO(used == len && used > 0, done, ps, "invalid integer '%.*s'",
              (int)n, tok);
  PCHECK_GOTO(base != 10 || dig.s[0] != '0' || dig.len == 1, done, ps,
              "leading zeros are not allowed in '%.*s'", (int)n, tok);
  uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, x = 0;
  for (size_t i = 0; i < dig.len; i++) {
    uint64_t h = (uint64_t)hexval((unsigned char)dig.s[i]);
    PCHECK_GOTO(x <= (limit - h) / (uint64_t)base, done, ps,
                "integer '%.*s' is out of the 64-bit range", (int)n, tok);
    x = x * (uint64_t)base + h;
  }
  v->type = NH_TOML_INT;
  v->num.i = neg ? (int64_t)(0 - x) : (int64_t)x;
done:
  nh_free(&dig.s);
  return err;
}

/* float = dec-int ( frac [exp] / exp ), or [sign] inf / nan. */
static nh_err parse_float(parser *ps, const char *tok, size_t n,
                          nh_toml_val *v) {
  nh_err err = NH_OK;
  nh_toml_buf num = {0};
  size_t i = 0;
  v->type = NH_TOML_FLOAT;
  if (tok[0] == '+' || tok[0] == '-') {
    NH_CALL_GOTO(nh_toml_buf_addc(&num, tok[0]), done);
    i++;
  }
  if (n - i == 3 && (!memcmp(tok + i, "inf", 3) || !memcmp(tok + i, "nan", 3))) {
    v->num.d = tok[i] == 'i' ? (tok[0] == '-' ? -HUGE_VAL : HUGE_VAL)
                             : (tok[0] == '-' ? -NAN : NAN);
    goto done;
  }
  size_t m = scan_digits(tok + i, n - i, 10, &num);
  PCHECK_GOTO(m > 0, done, ps, "invalid number '%.*s'", (int)n, tok);
  PCHECK_GOTO(tok[i] != '0' || m == 1, done, ps,
              "leading zeros are not allowed in '%.*s'", (int)n, tok);
  i += m;
  if (i < n && tok[i] == '.') {
    NH_CALL_GOTO(nh_toml_buf_addc(&num, '.'), done);
    m = scan_digits(tok + i + 1, n - i - 1, 10, &num);
    PCHECK_GOTO(m > 0, done, ps, "a digit must follow the '.' in '%.*s'",
                (int)n, tok);
    i += m + 1;
  }
  if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
    NH_CALL_GOTO(nh_toml_buf_addc(&num, 'e'), done);
    i++;
    if (i < n && (tok[i] == '+' || tok[i] == '-'))
      NH_CALL_GOTO(nh_toml_buf_addc(&num, tok[i++]), done);
    m = scan_digits(tok + i, n - i, 10, &num);
    PCHECK_GOTO(m > 0, done, ps, "invalid exponent in '%.*s'", (int)n, tok);
    i += m;
  }
  PCHECK_GOTO(i == n, done, ps, "invalid number '%.*s'", (int)n, tok);
  errno = 0;
  v->num.d = strtod(num.s, NULL);
  PCHECK_GOTO(!(errno == ERANGE && isinf(v->num.d)), done, ps,
              "float '%.*s' is out of the double range", (int)n, tok);
done:
  nh_free(&num.s);
  return err;
}

/* Reads exactly n digits at s[*i] into *out. */
static int fixed_digits(const char *s, size_t len, size_t *i, int n, int *out) {
  *out = 0;
  for (int k = 0; k < n; k++, (*i)++) {
    if (*i >= len || !is_digit((unsigned char)s[*i])) return 0;
    *out = *out * 10 + (s[*i] - '0');
  }
  return 1;
}

static int days_in_month(int y, int m) {
  static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : d[m - 1];
}

/* time = HH:MM:SS[.frac]; appends its normalised text. */
static nh_err parse_time(parser *ps, const char *s, size_t n, size_t *i,
                         nh_toml_buf *out) {
  int h, m, sec;
  size_t start = *i;
  PCHECK(fixed_digits(s, n, i, 2, &h) && *i < n && s[(*i)++] == ':' &&
             fixed_digits(s, n, i, 2, &m) && *i < n && s[(*i)++] == ':' &&
             fixed_digits(s, n, i, 2, &sec),
         ps, "invalid time in '%.*s' (expected HH:MM:SS)", (int)n, s);
  PCHECK(h < 24 && m < 60 && sec <= 60, ps, "time out of range in '%.*s'",
         (int)n, s);
  NH_CALL(nh_toml_buf_add(out, s + start, 8));
  if (*i < n && s[*i] == '.') {
    size_t f = ++*i;
    while (*i < n && is_digit((unsigned char)s[*i])) (*i)++;
    PCHECK(*i > f, ps, "a digit must follow the '.' in '%.*s'", (int)n, s);
    NH_CALL(nh_toml_buf_add(out, s + f - 1, *i - f + 1));
    for (size_t k = *i - f; k < 3; k++) NH_CALL(nh_toml_buf_addc(out, '0'));
  }
  return NH_OK;
}

/* Offset date-time, local date-time, local date or local time. */
static nh_err parse_datetime(parser *ps, const char *s, size_t n,
                             nh_toml_val *v) {
  nh_err err = NH_OK;
  nh_toml_buf out = {0};
  size_t i = 0;
  if (n >= 3 && s[2] == ':') {
    NH_CALL_GOTO(parse_time(ps, s, n, &i, &out), done);
    v->type = NH_TOML_TIME_LOCAL;
  } else {
    int y, mo, d;
    PCHECK_GOTO(fixed_digits(s, n, &i, 4, &y) && i < n && s[i++] == '-' &&
                    fixed_digits(s, n, &i, 2, &mo) && i < n && s[i++] == '-' &&
                    fixed_digits(s, n, &i, 2, &d),
                done, ps, "invalid date in '%.*s' (expected YYYY-MM-DD)",
                (int)n, s);
    PCHECK_GOTO(mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo),
                done, ps, "invalid date '%.*s'", (int)n, s);
    NH_CALL_GOTO(nh_toml_buf_add(&out, s, 10), done);
    v->type = NH_TOML_DATE_LOCAL;
    if (i < n) {
      PCHECK_GOTO(s[i] == 'T' || s[i] == 't' || s[i] == ' ', done, ps,
                  "invalid date-time '%.*s'", (int)n, s);
      i++;
      NH_CALL_GOTO(nh_toml_buf_addc(&out, 'T'), done);
      NH_CALL_GOTO(parse_time(ps, s, n, &i, &out), done);
      v->type = NH_TOML_DATETIME_LOCAL;
      if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
        NH_CALL_GOTO(nh_toml_buf_addc(&out, 'Z'), done);
        v->type = NH_TOML_DATETIME;
      } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        size_t o = i++;
        PCHECK_GOTO(fixed_digits(s, n, &i, 2, &oh) && i < n && s[i++] == ':' &&
                        fixed_digits(s, n, &i, 2, &om) && oh < 24 && om < 60,
                    done, ps, "invalid time offset in '%.*s'", (int)n, s);
        NH_CALL_GOTO(nh_toml_buf_add(&out, s + o, 6), done);
        v->type = NH_TOML_DATETIME;
      }
    }
  }
  PCHECK_GOTO(i == n, done, ps, "invalid date/time '%.*s'", (int)n, s);
  v->str = out.s;
  v->len = out.len;
  out.s = NULL;
done:
  nh_free(&out.s);
  return err;
}

static int is_token_char(unsigned c) {
  return is_bare_char(c) || c == '+' || c == '.' || c == ':';
}

static int looks_like_datetime(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  if (n >= 3 && is_digit(u[0]) && is_digit(u[1]) && u[2] == ':') return 1;
  return n >= 5 && is_digit(u[0]) && is_digit(u[1]) && is_digit(u[2]) &&
         is_digit(u[3]) && u[4] == '-';
}

/* A bare value: number, boolean, date or time. The token runs to the next
 * delimiter. */
static nh_err parse_bare(parser *ps, nh_toml_val *v) {
  char d[16];
  const char *s = (const char *)ps->p;
  const unsigned char *q = ps->p;
  while (q < ps->end && is_token_char(*q)) q++;
  /* "1979-05-27 07:32:00": a date, one space and a time are one value. */
  if (q - ps->p == 10 && looks_like_datetime(s, 10) && ps->end - q >= 4 &&
      q[0] == ' ' && is_digit(q[1]) && is_digit(q[2]) && q[3] == ':')
    for (q++; q < ps->end && is_token_char(*q);) q++;
  size_t n = (size_t)(q - ps->p);
  PCHECK(n > 0, ps, "expected a value, found %s", describe(ps, ps->p, d));
  ps->p = q;
  if (looks_like_datetime(s, n)) return parse_datetime(ps, s, n, v);
  if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5))) {
    v->type = NH_TOML_BOOL;
    v->num.b = s[0] == 't';
    return NH_OK;
  }
  size_t i = s[0] == '+' || s[0] == '-';
  if (n - i == 3 && (!memcmp(s + i, "inf", 3) || !memcmp(s + i, "nan", 3)))
    return parse_float(ps, s, n, v);
  PCHECK(i < n && is_digit((unsigned char)s[i]), ps, "invalid value '%.*s'%s",
         (int)n, s, i ? "" : " (strings need quotes)");
  int prefixed = n - i >= 2 && s[i] == '0' &&
                 (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b');
  if (!prefixed && (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n)))
    return parse_float(ps, s, n, v);
  return parse_integer(ps, s, n, v);
}

/* ---------------------------------------------------------------------------
 * Values.
 * ------------------------------------------------------------------------- */
static nh_err parse_array(parser *ps, nh_toml_val *arr) {
  char d[16];
  ps->p++;
  for (;;) {
    NH_CALL(skip_blank(ps));
    if (at(ps, ']')) break;
    NH_CALL(parse_value(ps, arr, NULL, 0));
    NH_CALL(skip_blank(ps));
    if (at(ps, ']')) break;
    PCHECK(at(ps, ','), ps, "expected ',' or ']' in the array, found %s",
           describe(ps, ps->p, d));
    ps->p++;
  }
  ps->p++;
  arr->flags |= NH_TOML_F_FROZEN;
  return NH_OK;
}

/* Inline tables sit on one line and have no trailing comma (TOML 1.0). */
static nh_err parse_inline_table(parser *ps, nh_toml_val *tbl) {
  char d[16];
  ps->p++;
  skip_ws(ps);
  if (!at(ps, '}')) {
    for (;;) {
      NH_CALL(parse_keyval(ps, tbl));
      skip_ws(ps);
      if (at(ps, '}')) break;
      PCHECK(at(ps, ','), ps,
             "expected ',' or '}' in the inline table, found %s (inline "
             "tables must be on one line)", describe(ps, ps->p, d));
      ps->p++;
      skip_ws(ps);
      PCHECK(!at(ps, '}'), ps, "trailing comma in an inline table");
    }
  }
  ps->p++;
  tbl->flags |= NH_TOML_F_FROZEN;
  return NH_OK;
}

/* A value as the new child `key` of parent (an array element if key is
 * NULL). */
static nh_err parse_value(parser *ps, nh_toml_val *parent, const char *key,
                          size_t keylen) {
  nh_err err = NH_OK;
  nh_toml_buf b = {0};
  nh_toml_val *v;
  char c = ps->p < ps->end ? (char)*ps->p : '\n';
  nh_toml_type type = c == '[' ? NH_TOML_ARRAY
                      : c == '{' ? NH_TOML_TABLE
                      : c == '"' || c == '\'' ? NH_TOML_STRING
                                              : NH_TOML_INT;
  NH_CALL(nh_toml_node_add(ps->doc, parent, type, key, keylen, ps->line, &v));
  if (type == NH_TOML_ARRAY) return parse_array(ps, v);
  if (type == NH_TOML_TABLE) return parse_inline_table(ps, v);
  if (type == NH_TOML_INT) return parse_bare(ps, v);
  if (is_multi(ps))
    NH_CALL_GOTO(parse_string_multi(ps, &b), done);
  else
    NH_CALL_GOTO(parse_string_line(ps, &b), done);
  NH_CALL_GOTO(nh_toml_strndup(b.s, b.len, &v->str), done);
  v->len = b.len;
done:
  nh_free(&b.s);
  return err;
}

/* ---------------------------------------------------------------------------
 * The document.
 * ------------------------------------------------------------------------- */
static nh_err parse_document(parser *ps) {
  if (ps->end - ps->p >= 3 && !memcmp(ps->p, "\xEF\xBB\xBF", 3)) ps->p += 3;
  while (ps->p < ps->end) {
    NH_CALL(skip_blank(ps));
    if (ps->p >= ps->end) break;
    if (at(ps, '['))
      NH_CALL(parse_header(ps));
    else {
      NH_CALL(parse_keyval(ps, ps->cur));
      NH_CALL(expect_eol(ps, "a value"));
    }
  }
  return NH_OK;
}

nh_err nh_toml_parse_string(const char *name, const char *text, size_t len,
                            nh_toml **doc) {
  nh_err err = NH_OK;
  nh_toml *d = NULL;
  NH_CHECK(name && (text || !len) && doc, NH_ERR_ARG,
           "nh_toml_parse_string: NULL argument");
  NH_CHECK(len <= NH_TOML_MAX_SIZE, NH_ERR_INPUT,
           "%s:1: input of %zu bytes is larger than the limit of %u bytes",
           name, len, NH_TOML_MAX_SIZE);
  NH_CALL(nh_calloc(1, sizeof *d, &d));
  NH_CALL_GOTO(nh_toml_strndup(name, strlen(name), &d->name), fail);
  NH_CALL_GOTO(nh_toml_node_add(d, NULL, NH_TOML_TABLE, NULL, 0, 1, &d->root),
               fail);
  d->root->flags = NH_TOML_F_EXPLICIT;
  parser ps = {.doc = d,
               .name = d->name,
               .p = (const unsigned char *)text,
               .end = (const unsigned char *)text + len,
               .line = 1,
               .cur = d->root};
  NH_CALL_GOTO(check_utf8(&ps), fail);
  NH_CALL_GOTO(parse_document(&ps), fail);
  *doc = d;
  return NH_OK;
fail:
  nh_toml_destroy(&d);
  return err;
}

nh_err nh_toml_parse_file(const char *path, nh_toml **doc) {
  nh_err err = NH_OK;
  char *text = NULL;
  size_t len = 0, cap = 4096;
  NH_CHECK(path && doc, NH_ERR_ARG, "nh_toml_parse_file: NULL argument");
  FILE *f = fopen(path, "rb");
  NH_CHECK(f, NH_ERR_FILE, "cannot open '%s': %s", path, strerror(errno));
  NH_CALL_GOTO(nh_malloc(cap, &text), done);
  for (;;) {
    len += fread(text + len, 1, cap - len, f);
    if (len < cap) break;
    NH_CHECK_GOTO(cap <= NH_TOML_MAX_SIZE, done, NH_ERR_INPUT,
                  "%s:1: file is larger than the limit of %u bytes", path,
                  NH_TOML_MAX_SIZE);
    cap *= 2;
    NH_CALL_GOTO(nh_realloc(cap, &text), done);
  }
  NH_CHECK_GOTO(!ferror(f), done, NH_ERR_FILE, "cannot read '%s': %s", path,
                strerror(errno));
  NH_CALL_GOTO(nh_toml_parse_string(path, text, len, doc), done);
done:
  fclose(f);
  nh_free(&text);
  return err;
}
