/* Rank-0 logging, warnings and progress lines. */
#include "nextham/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void nh_log(const nh_ctx *ctx, int level, const char *fmt, ...) {
  if (ctx->rank != 0 || ctx->verbosity < level) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fflush(stdout);
}

void nh_log_rank(const nh_ctx *ctx, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "[rank %d] ", ctx->rank);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fflush(stderr);
}

void nh_warn(const nh_ctx *ctx, const char *fmt, ...) {
  if (ctx->rank != 0) return;
  va_list ap;
  fprintf(stderr, "nextham: warning: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  fflush(stderr);
}

static void format_seconds(double s, char *buf, size_t n) {
  if (s < 0) s = 0;
  if (s < 100)
    snprintf(buf, n, "%.1f s", s);
  else if (s < 6000)
    snprintf(buf, n, "%.1f min", s / 60);
  else
    snprintf(buf, n, "%.1f h", s / 3600);
}

static void progress_print(nh_progress *p, long done) {
  double now = nh_wtime(), el = now - p->t0;
  char e[32], r[32] = "?";
  format_seconds(el, e, sizeof e);
  if (done > 0) format_seconds(el * (double)(p->total - done) / done, r, sizeof r);
  nh_log(p->ctx, 1, "  %s: %ld/%ld (%3.0f%%)  elapsed %s, left %s\n", p->what,
         done, p->total, p->total ? 100.0 * done / p->total : 100.0, e, r);
  p->last_print = now;
  p->last_done = done;
}

void nh_progress_start(nh_progress *p, const nh_ctx *ctx, const char *what,
                       long total) {
  p->ctx = ctx;
  snprintf(p->what, sizeof p->what, "%s", what);
  p->total = total;
  p->last_done = -1;
  p->t0 = p->last_print = nh_wtime();
  p->interval = 5.0;
}

void nh_progress_update(nh_progress *p, long done) {
  if (nh_wtime() - p->last_print >= p->interval) progress_print(p, done);
}

void nh_progress_finish(nh_progress *p) {
  if (p->last_done != p->total) progress_print(p, p->total);
}
