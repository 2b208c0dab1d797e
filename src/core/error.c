/* Error record and traceback (see core.h). One record per process: nextham
 * is single-threaded per rank, and only the first failure matters because
 * every caller returns at once. */
#include "coreimpl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NH_TRACE_MAX 32

static struct {
  int active;
  nh_err code;
  char message[2048];
  int nframes;
  char frames[NH_TRACE_MAX][160];
} rec;

static void add_frame(const char *file, int line, const char *func) {
  if (rec.nframes < NH_TRACE_MAX)
    snprintf(rec.frames[rec.nframes++], sizeof rec.frames[0], "%s() at %s:%d",
             func, file, line);
}

nh_err nh_error_set(nh_err code, const char *file, int line, const char *func,
                    const char *fmt, ...) {
  /* A second error raised while unwinding the first one (e.g. in cleanup)
   * must not hide the original cause. */
  if (rec.active) {
    add_frame(file, line, func);
    return rec.code;
  }
  rec.active = 1;
  rec.code = code;
  rec.nframes = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rec.message, sizeof rec.message, fmt, ap);
  va_end(ap);
  add_frame(file, line, func);
  return code;
}

nh_err nh_error_trace(nh_err code, const char *file, int line,
                      const char *func) {
  if (!rec.active) /* a code that came without a message: still report it */
    return nh_error_set(code, file, line, func, "error without message");
  add_frame(file, line, func);
  return code;
}

const char *nh_error_message(void) { return rec.active ? rec.message : ""; }

const char *nh_error_name(nh_err code) {
  static const char *names[NH_ERR_NCODES] = {
      "no error",    "invalid argument", "out of memory",   "input error",
      "file error",  "MPI error",        "HDF5 error",      "library error",
      "numerical error", "internal error"};
  if (code < 0 || code >= NH_ERR_NCODES) return "unknown error";
  return names[code];
}

void nh_error_print(nh_err code, int rank) {
  char who[32] = "";
  if (rank >= 0) snprintf(who, sizeof who, "[rank %d] ", rank);
  fprintf(stderr, "%snextham: %s: %s\n", who, nh_error_name(code),
          nh_error_message());
  /* The traceback is for developers (NEXTHAM_TRACEBACK=1); users need the
   * message above. */
  if (getenv("NEXTHAM_TRACEBACK"))
    for (int i = 0; i < rec.nframes; i++)
      fprintf(stderr, "%s    from %s\n", who, rec.frames[i]);
  fflush(stderr);
}

void nh_error_clear(void) {
  rec.active = 0;
  rec.code = NH_OK;
  rec.message[0] = 0;
  rec.nframes = 0;
}

/* Used by nh_ctx_agree: replace the record with a message received from the
 * rank that failed first. */
void nh_error_adopt(nh_err code, const char *message) {
  nh_error_clear();
  rec.active = 1;
  rec.code = code;
  snprintf(rec.message, sizeof rec.message, "%s", message);
}
