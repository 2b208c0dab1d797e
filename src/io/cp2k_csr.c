/* Readers of CP2K's CSR matrix files (&KS_CSR_WRITE, &S_CSR_WRITE).
 * Text: one "row col value" line per stored element. Binary (BINARY .TRUE.):
 * one Fortran unformatted sequential record per element,
 * [int32 16][int32 row][int32 col][float64 value][int32 16], host byte order
 * (CP2K and nextham on the same little-endian machines). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nextham/cp2k.h"

enum { REC_PAYLOAD = 16, REC_SIZE = 24 };

static nh_err csr_reserve(nh_cp2k_csr *c, int64_t cap) {
  NH_CALL(nh_realloc((size_t)cap * sizeof *c->row, &c->row));
  NH_CALL(nh_realloc((size_t)cap * sizeof *c->col, &c->col));
  NH_CALL(nh_realloc((size_t)cap * sizeof *c->val, &c->val));
  return NH_OK;
}

static nh_err read_all(FILE *f, const char *path, char **buf, size_t *size) {
  NH_CHECK(fseek(f, 0, SEEK_END) == 0, NH_ERR_FILE, "%s: cannot seek", path);
  long n = ftell(f);
  NH_CHECK(n >= 0 && fseek(f, 0, SEEK_SET) == 0, NH_ERR_FILE,
           "%s: cannot determine the size", path);
  NH_CALL(nh_malloc((size_t)n + 1, buf));
  size_t got = fread(*buf, 1, (size_t)n, f);
  (*buf)[got] = '\0';
  if (got != (size_t)n) nh_free(buf);
  NH_CHECK(got == (size_t)n, NH_ERR_FILE, "%s: read error", path);
  *size = got;
  return NH_OK;
}

static nh_err parse_binary(const char *buf, size_t size, const char *path,
                           nh_cp2k_csr *c) {
  int64_t n = (int64_t)(size / REC_SIZE);
  NH_CALL(csr_reserve(c, n));
  for (int64_t k = 0; k < n; k++) {
    const char *rec = buf + k * REC_SIZE;
    int32_t head, tail;
    memcpy(&head, rec, 4);
    memcpy(&tail, rec + 20, 4);
    NH_CHECK(head == REC_PAYLOAD && tail == REC_PAYLOAD, NH_ERR_FILE,
             "%s: record %lld at byte %lld has length markers %d/%d, expected "
             "%d (not a CP2K binary CSR file?)",
             path, (long long)k + 1, (long long)k * REC_SIZE, (int)head,
             (int)tail, REC_PAYLOAD);
    memcpy(&c->row[k], rec + 4, 4);
    memcpy(&c->col[k], rec + 8, 4);
    memcpy(&c->val[k], rec + 12, 8);
    NH_CHECK(c->row[k] >= 1 && c->col[k] >= 1, NH_ERR_FILE,
             "%s: record %lld at byte %lld has index (%d, %d) < 1", path,
             (long long)k + 1, (long long)k * REC_SIZE, (int)c->row[k],
             (int)c->col[k]);
    /* A NaN or Inf would spread through every matrix built from it. */
    NH_CHECK(isfinite(c->val[k]), NH_ERR_FILE,
             "%s: record %lld at byte %lld has a non-finite value", path,
             (long long)k + 1, (long long)k * REC_SIZE);
  }
  NH_CHECK(size % REC_SIZE == 0, NH_ERR_FILE,
           "%s: truncated record %lld at byte %lld (%zu of %d bytes)", path,
           (long long)n + 1, (long long)n * REC_SIZE, size % REC_SIZE,
           REC_SIZE);
  c->nnz = n;
  c->binary = 1;
  return NH_OK;
}

static nh_err parse_text(char *buf, const char *path, nh_cp2k_csr *c) {
  int64_t cap = 0, n = 0;
  long lineno = 0;
  for (char *line = buf; *line;) {
    char *eol = strchr(line, '\n'), *end;
    if (eol) *eol = '\0';
    lineno++;
    char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    if (*p) {
      if (n == cap) NH_CALL(csr_reserve(c, cap = cap ? 2 * cap : 4096));
      char *q = p;
      long row = strtol(q, &end, 10);
      int ok = end > q;
      long col = strtol(q = end, &end, 10);
      ok = ok && end > q;
      double v = strtod(q = end, &end);
      ok = ok && end > q;
      while (*end == ' ' || *end == '\t' || *end == '\r') end++;
      NH_CHECK(ok && row >= 1 && col >= 1 && !*end, NH_ERR_FILE,
               "%s:%ld: expected 'row col value', got '%.60s'", path, lineno,
               line);
      NH_CHECK(row <= INT32_MAX && col <= INT32_MAX && isfinite(v),
               NH_ERR_FILE, "%s:%ld: index beyond 2^31 or non-finite value "
               "in '%.60s'", path, lineno, line);
      c->row[n] = (int32_t)row;
      c->col[n] = (int32_t)col;
      c->val[n++] = v;
    }
    line = eol ? eol + 1 : line + strlen(line);
  }
  c->nnz = n;
  return NH_OK;
}

nh_err nh_cp2k_csr_read(const char *path, nh_cp2k_csr **csr) {
  nh_err err = NH_OK;
  char *buf = NULL;
  size_t size = 0;
  *csr = NULL;
  FILE *f = fopen(path, "rb");
  NH_CHECK(f, NH_ERR_FILE, "cannot open CP2K CSR file %s", path);
  NH_CALL_GOTO(read_all(f, path, &buf, &size), done);
  NH_CALL_GOTO(nh_calloc(1, sizeof **csr, csr), done);
  int32_t marker = 0;
  if (size >= 4) memcpy(&marker, buf, 4);
  if (marker == REC_PAYLOAD)
    NH_CALL_GOTO(parse_binary(buf, size, path, *csr), done);
  else {
    /* The text parser stops at a NUL byte; the rest would be lost. */
    NH_CHECK_GOTO(strlen(buf) == size, done, NH_ERR_FILE,
                  "%s: NUL byte at offset %zu in a text CSR file", path,
                  strlen(buf));
    NH_CALL_GOTO(parse_text(buf, path, *csr), done);
  }
done:
  fclose(f);
  nh_free(&buf);
  if (err) nh_cp2k_csr_destroy(csr);
  return err;
}

nh_err nh_cp2k_csr_destroy(nh_cp2k_csr **csr) {
  if (!csr || !*csr) return NH_OK;
  nh_free(&(*csr)->row);
  nh_free(&(*csr)->col);
  nh_free(&(*csr)->val);
  nh_free(csr);
  return NH_OK;
}
