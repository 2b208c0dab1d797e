/* Named phase timers and the end-of-run timing summary. */
#include "nextham/core.h"

#include <stdio.h>
#include <string.h>

#define NH_MAX_PHASES 64

static struct phase {
  char name[32];
  double total, started;
  long calls;
  int running;
} phases[NH_MAX_PHASES];
static int nphases;

double nh_wtime(void) { return MPI_Wtime(); }

static struct phase *find(const char *name) {
  for (int i = 0; i < nphases; i++)
    if (strcmp(phases[i].name, name) == 0) return &phases[i];
  if (nphases == NH_MAX_PHASES) return NULL; /* silently untimed */
  struct phase *p = &phases[nphases++];
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s", name);
  return p;
}

void nh_timer_start(const char *name) {
  struct phase *p = find(name);
  if (!p) return;
  p->started = nh_wtime();
  p->running = 1;
}

void nh_timer_stop(const char *name) {
  struct phase *p = find(name);
  if (!p || !p->running) return;
  p->total += nh_wtime() - p->started;
  p->calls++;
  p->running = 0;
}

double nh_timer_get(const char *name) {
  struct phase *p = find(name);
  return p ? p->total : 0.0;
}

void nh_timer_reset(void) { nphases = 0; }

/* Ranks may have timed different phases (rank 0 alone reads input), so the
 * phase table is taken from rank 0 and every rank reports its own value for
 * each name (zero if it never ran that phase). */
nh_err nh_timer_summary(const nh_ctx *ctx) {
  int n = nphases;
  char names[NH_MAX_PHASES][32];
  NH_MPI(MPI_Bcast(&n, 1, MPI_INT, 0, ctx->comm));
  if (ctx->rank == 0)
    for (int i = 0; i < n; i++) memcpy(names[i], phases[i].name, 32);
  NH_MPI(MPI_Bcast(names, 32 * n, MPI_CHAR, 0, ctx->comm));
  double mine[NH_MAX_PHASES], mn[NH_MAX_PHASES], mx[NH_MAX_PHASES],
      sum[NH_MAX_PHASES];
  for (int i = 0; i < n; i++) {
    mine[i] = 0;
    for (int j = 0; j < nphases; j++)
      if (strcmp(phases[j].name, names[i]) == 0) mine[i] = phases[j].total;
  }
  NH_MPI(MPI_Reduce(mine, mn, n, MPI_DOUBLE, MPI_MIN, 0, ctx->comm));
  NH_MPI(MPI_Reduce(mine, mx, n, MPI_DOUBLE, MPI_MAX, 0, ctx->comm));
  NH_MPI(MPI_Reduce(mine, sum, n, MPI_DOUBLE, MPI_SUM, 0, ctx->comm));
  double peak = (double)nh_mem_peak(), peakmax;
  NH_MPI(MPI_Reduce(&peak, &peakmax, 1, MPI_DOUBLE, MPI_MAX, 0, ctx->comm));
  nh_log(ctx, 1, "\nTiming summary (seconds, over %d rank%s)\n", ctx->size,
         ctx->size > 1 ? "s" : "");
  nh_log(ctx, 1, "  %-24s %10s %10s %10s\n", "phase", "min", "avg", "max");
  for (int i = 0; i < n; i++)
    nh_log(ctx, 1, "  %-24s %10.3f %10.3f %10.3f\n", names[i], mn[i],
           sum[i] / ctx->size, mx[i]);
  nh_log(ctx, 1, "  peak memory per rank (max): %.1f MiB\n", peakmax / 1048576.0);
  return NH_OK;
}
