/* Structure I/O: format dispatch and the text helpers the readers share. */
#include "structioimpl.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Dispatch. */
static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && nh_strcasecmp_ascii(s + n - m, suffix) == 0;
}

/* The format implied by the file name, or NULL. */
static const char *format_from_name(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strncmp(base, "POSCAR", 6) == 0 || strncmp(base, "CONTCAR", 7) == 0 ||
      ends_with(base, ".vasp") || ends_with(base, ".poscar"))
    return "poscar";
  if (ends_with(base, ".xyz") || ends_with(base, ".extxyz")) return "xyz";
  if (ends_with(base, ".inp")) return "cp2k";
  return NULL;
}

nh_err nh_structure_read(const char *path, const char *format,
                         nh_structure **s) {
  NH_CHECK(path && format && s, NH_ERR_ARG, "nh_structure_read: NULL argument");
  const char *fmt = format;
  if (strcmp(format, "auto") == 0) {
    fmt = format_from_name(path);
    NH_CHECK(fmt, NH_ERR_INPUT,
             "%s: cannot tell the structure format from the file name; name "
             "it POSCAR*, CONTCAR*, *.vasp, *.xyz, *.extxyz or *.inp, or give "
             "the format (poscar, xyz, cp2k) explicitly",
             path);
  }
  if (strcmp(fmt, "poscar") == 0)
    NH_CALL(nh_structure_read_poscar(path, s));
  else if (strcmp(fmt, "xyz") == 0)
    NH_CALL(nh_structure_read_xyz(path, s));
  else if (strcmp(fmt, "cp2k") == 0)
    NH_CALL(nh_structure_read_cp2k(path, s));
  else
    NH_CHECK(0, NH_ERR_INPUT,
             "%s: unknown structure format '%s' (use auto, poscar, xyz or "
             "cp2k)",
             path, format);
  return NH_OK;
}

/* ------------------------------------------------------------------------- */
/* Text files. */
nh_err nh_text_open(const char *path, nh_text *t) {
  memset(t, 0, sizeof *t);
  t->path = path;
  FILE *f = fopen(path, "rb");
  NH_CHECK(f, NH_ERR_FILE, "%s: cannot open: %s", path, strerror(errno));
  nh_err err = NH_OK;
  size_t cap = 0;
  for (;;) {
    if (t->len + 4096 + 1 > cap) {
      cap = 2 * cap + 8192;
      NH_CALL_GOTO(nh_realloc(cap, &t->buf), fail);
    }
    size_t n = fread(t->buf + t->len, 1, cap - t->len - 1, f);
    t->len += n;
    if (n == 0) break;
  }
  NH_CHECK_GOTO(!ferror(f), fail, NH_ERR_FILE, "%s: read error: %s", path,
                strerror(errno));
  t->buf[t->len] = '\0';
  NH_CHECK_GOTO(memchr(t->buf, '\0', t->len) == NULL, fail, NH_ERR_FILE,
                "%s: contains NUL bytes: not a text file", path);
  fclose(f);
  return NH_OK;
fail:
  fclose(f);
  nh_text_close(t);
  return err;
}

void nh_text_close(nh_text *t) { nh_free(&t->buf); }

char *nh_text_next(nh_text *t) {
  if (!t->buf || t->pos >= t->len) return NULL;
  char *line = t->buf + t->pos;
  char *nl = memchr(line, '\n', t->len - t->pos);
  size_t n = nl ? (size_t)(nl - line) : t->len - t->pos;
  line[n] = '\0';
  if (n > 0 && line[n - 1] == '\r') line[n - 1] = '\0';
  t->pos += n + 1;
  t->lineno++;
  return line;
}

long nh_text_lines_left(const nh_text *t) {
  long n = 0;
  for (size_t i = t->pos; i < t->len; i++) n += t->buf[i] == '\n';
  if (t->pos < t->len && t->buf[t->len - 1] != '\n') n++;
  return n;
}

/* ------------------------------------------------------------------------- */
/* Tokens and numbers. */
static int is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

int nh_tokenize(char *line, char **tok, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    while (*p && is_blank(*p)) p++;
    if (!*p) break;
    int keep = n < max;
    if (keep) tok[n] = p;
    n++;
    while (*p && !is_blank(*p)) p++;
    if (!*p) break;
    if (keep) *p = '\0';
    p++;
  }
  return n;
}

int nh_parse_double(const char *tok, double *x) {
  char buf[64];
  size_t n = strlen(tok);
  if (n == 0 || n >= sizeof buf) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = tok[i];
    if (!(isdigit((unsigned char)c) || c == '+' || c == '-' || c == '.' ||
          c == 'e' || c == 'E' || c == 'd' || c == 'D'))
      return 0;
    buf[i] = (c == 'd' || c == 'D') ? 'e' : c;
  }
  buf[n] = '\0';
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (end != buf + n || !isfinite(v) || errno == ERANGE) return 0;
  *x = v;
  return 1;
}

int nh_parse_int(const char *tok, long *x) {
  char *end;
  errno = 0;
  if (!tok[0] || is_blank(tok[0])) return 0;
  long v = strtol(tok, &end, 10);
  if (*end || errno == ERANGE || v > INT_MAX || v < INT_MIN) return 0;
  *x = v;
  return 1;
}

int nh_strcasecmp_ascii(const char *a, const char *b) {
  for (;; a++, b++) {
    int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
    if (ca != cb) return ca - cb;
    if (!ca) return 0;
  }
}

int nh_element_lookup(const char *tok) {
  char sym[4];
  size_t n = strlen(tok);
  if (n == 0 || n > 3) return 0;
  for (size_t i = 0; i < n; i++)
    sym[i] = i ? (char)tolower((unsigned char)tok[i])
               : (char)toupper((unsigned char)tok[i]);
  sym[n] = '\0';
  return nh_element_number(sym);
}

/* ------------------------------------------------------------------------- */
/* Atomic writes. */
static void tmp_name(const char *path, char *buf, size_t n) {
  snprintf(buf, n, "%s.tmp", path);
}

nh_err nh_wfile_open(const char *path, FILE **f) {
  char tmp[4096];
  NH_CHECK(strlen(path) + 5 < sizeof tmp, NH_ERR_ARG, "path too long: %s",
           path);
  tmp_name(path, tmp, sizeof tmp);
  *f = fopen(tmp, "w");
  NH_CHECK(*f, NH_ERR_FILE, "%s: cannot open for writing: %s", tmp,
           strerror(errno));
  return NH_OK;
}

nh_err nh_wfile_commit(const char *path, FILE **f) {
  char tmp[4096];
  tmp_name(path, tmp, sizeof tmp);
  int bad = ferror(*f);
  bad |= fclose(*f) != 0;
  *f = NULL;
  if (bad) remove(tmp);
  NH_CHECK(!bad, NH_ERR_FILE, "%s: write failed: %s", tmp, strerror(errno));
  NH_CHECK(rename(tmp, path) == 0, NH_ERR_FILE, "cannot rename %s to %s: %s",
           tmp, path, strerror(errno));
  return NH_OK;
}

void nh_wfile_abort(const char *path, FILE **f) {
  char tmp[4096];
  if (!*f) return;
  fclose(*f);
  *f = NULL;
  tmp_name(path, tmp, sizeof tmp);
  remove(tmp);
}

/* ------------------------------------------------------------------------- */
void nh_structure_set_source(nh_structure *s, const char *path) {
  snprintf(s->source, sizeof s->source, "%s", path);
}

void nh_structure_box(nh_structure *s, const int need[3]) {
  for (int k = 0; k < 3; k++) {
    if (!need[k]) continue;
    double lo = 0, hi = 0;
    for (int i = 0; i < s->natoms; i++) {
      double x = s->pos[i][k];
      if (i == 0 || x < lo) lo = x;
      if (i == 0 || x > hi) hi = x;
    }
    for (int x = 0; x < 3; x++) s->lattice[k][x] = 0;
    s->lattice[k][k] = hi - lo + 2 * NH_VACUUM_ANGSTROM * NH_ANG_TO_BOHR;
  }
}
