/* Line reader for CP2K data files (BASIS_MOLOPT, GTH_POTENTIALS, ...). */
#include "cp2kfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nextham/basis.h"
#include "nextham/structure.h"

nh_err nh_cp2k_open(const char *name, nh_cp2k_reader *r) {
  memset(r, 0, sizeof *r);
  NH_CALL(nh_basis_find_file(name, r->path, sizeof r->path));
  r->f = fopen(r->path, "r");
  NH_CHECK(r->f, NH_ERR_FILE, "cannot open %s: %s", r->path, strerror(errno));
  return NH_OK;
}

void nh_cp2k_close(nh_cp2k_reader *r) {
  if (r->f) fclose(r->f);
  r->f = NULL;
  free(r->buf);
  r->buf = NULL;
}

/* Splits the current buffer at whitespace, dropping a '#' comment. */
static nh_err tokenize(nh_cp2k_reader *r) {
  char *hash = strchr(r->buf, '#');
  if (hash) *hash = '\0';
  r->ntok = 0;
  for (char *p = strtok(r->buf, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
    NH_CHECK(r->ntok < NH_CP2K_MAXTOK, NH_ERR_FILE,
             "%s:%d: more than %d entries on one line", r->path, r->lineno,
             NH_CP2K_MAXTOK);
    r->tok[r->ntok++] = p;
  }
  return NH_OK;
}

nh_err nh_cp2k_next(nh_cp2k_reader *r, int *eof) {
  *eof = 0;
  for (;;) {
    ssize_t n = getline(&r->buf, &r->cap, r->f);
    if (n < 0) {
      NH_CHECK(!ferror(r->f), NH_ERR_FILE, "%s: read error after line %d",
               r->path, r->lineno);
      *eof = 1;
      r->ntok = 0;
      return NH_OK;
    }
    r->lineno++;
    NH_CALL(tokenize(r));
    if (r->ntok > 0) return NH_OK;
  }
}

int nh_cp2k_is_header(const nh_cp2k_reader *r) {
  return r->ntok > 0 && isalpha((unsigned char)r->tok[0][0]);
}

int nh_cp2k_header_z(const nh_cp2k_reader *r) {
  char sym[4];
  size_t n = strlen(r->tok[0]);
  if (n < 1 || n > 3) return 0;
  for (size_t k = 0; k <= n; k++)
    sym[k] = k == 0 ? (char)toupper((unsigned char)r->tok[0][k])
                    : (char)tolower((unsigned char)r->tok[0][k]);
  return nh_element_number(sym);
}

int nh_cp2k_header_has(const nh_cp2k_reader *r, const char *name) {
  for (int k = 1; k < r->ntok; k++)
    if (strcasecmp(r->tok[k], name) == 0) return 1;
  return 0;
}

nh_err nh_cp2k_expect(const nh_cp2k_reader *r, int n, const char *what) {
  NH_CHECK(r->ntok == n, NH_ERR_FILE,
           "%s:%d: malformed line: expected %d entries (%s), found %d",
           r->path, r->lineno, n, what, r->ntok);
  return NH_OK;
}

nh_err nh_cp2k_int(const nh_cp2k_reader *r, int k, const char *what, int *v) {
  NH_CHECK(k < r->ntok, NH_ERR_FILE, "%s:%d: malformed line: %s missing",
           r->path, r->lineno, what);
  char *end;
  errno = 0;
  long x = strtol(r->tok[k], &end, 10);
  NH_CHECK(*end == '\0' && errno == 0 && x >= -1000000 && x <= 1000000,
           NH_ERR_FILE, "%s:%d: malformed line: %s must be an integer, got '%s'",
           r->path, r->lineno, what, r->tok[k]);
  *v = (int)x;
  return NH_OK;
}

/* Parses a number, accepting Fortran's D exponent; 0 if it is none. */
static int parse_double(const char *tok, double *v) {
  char num[128], *end;
  snprintf(num, sizeof num, "%s", tok);
  for (char *p = num; *p; p++)
    if (*p == 'd' || *p == 'D') *p = 'e';
  errno = 0;
  *v = strtod(num, &end);
  return *end == '\0' && end != num && errno == 0 && strlen(tok) < sizeof num;
}

int nh_cp2k_is_number(const char *tok) {
  double v;
  return parse_double(tok, &v);
}

nh_err nh_cp2k_double(const nh_cp2k_reader *r, int k, const char *what,
                      double *v) {
  NH_CHECK(k < r->ntok, NH_ERR_FILE, "%s:%d: malformed line: %s missing",
           r->path, r->lineno, what);
  NH_CHECK(parse_double(r->tok[k], v), NH_ERR_FILE,
           "%s:%d: malformed line: %s must be a number, got '%s'", r->path,
           r->lineno, what, r->tok[k]);
  return NH_OK;
}

/* Appends the primary name of the current header to a list of names for
 * the error message when the requested one is missing. */
static void note_name(const nh_cp2k_reader *r, char *list, size_t len) {
  if (r->ntok < 2) return;
  size_t used = strlen(list);
  if (used + strlen(r->tok[1]) + 8 >= len) {
    if (!strstr(list, "...")) snprintf(list + used, len - used, ", ...");
    return;
  }
  snprintf(list + used, len - used, "%s%s", used ? ", " : "", r->tok[1]);
}

nh_err nh_cp2k_find_entry(nh_cp2k_reader *r, int z, const char *name,
                          const char *kind) {
  char names[1024] = "";
  int eof;
  for (;;) {
    NH_CALL(nh_cp2k_next(r, &eof));
    if (eof) break;
    if (!nh_cp2k_is_header(r) || nh_cp2k_header_z(r) != z) continue;
    if (nh_cp2k_header_has(r, name)) return NH_OK;
    note_name(r, names, sizeof names);
  }
  const char *sym = nh_element_symbol(z);
  if (!names[0])
    return nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                        "%s '%s' for %s not found: %s has no %s for %s", kind,
                        name, sym, r->path, kind, sym);
  return nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "%s '%s' for %s not found in %s; names for %s there: %s",
                      kind, name, sym, r->path, sym, names);
}
