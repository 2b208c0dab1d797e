/* Recursive coordinate bisection (RCB). Every rank runs it on the same
 * wrapped positions and gets the same owners: the cut axis is the longest
 * extent of the bounding box of the current subset, the cut position is the
 * weighted split point that gives the two halves weights proportional to
 * their numbers of parts (floor(P/2) and ceil(P/2)), and points are ordered
 * by (coordinate, index), so no two points compare equal. */
#include <math.h>
#include <stdlib.h>

#include "domainimpl.h"

typedef struct rcb_key {
  double x;
  int64_t a;
} rcb_key;

static int cmp_key(const void *pa, const void *pb) {
  const rcb_key *p = pa, *q = pb;
  if (p->x != q->x) return p->x < q->x ? -1 : 1;
  return (p->a > q->a) - (p->a < q->a);
}

typedef struct rcb_ctx {
  const double (*x)[3];
  const double *w;
  int *owner;
  rcb_key *key; /* scratch, n entries */
} rcb_ctx;

static int longest_axis(const rcb_ctx *r, const int64_t *idx, int64_t n) {
  double lo[3] = {INFINITY, INFINITY, INFINITY};
  double hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int64_t k = 0; k < n; k++)
    for (int c = 0; c < 3; c++) {
      lo[c] = fmin(lo[c], r->x[idx[k]][c]);
      hi[c] = fmax(hi[c], r->x[idx[k]][c]);
    }
  int axis = 0;
  for (int c = 1; c < 3; c++)
    if (hi[c] - lo[c] > hi[axis] - lo[axis]) axis = c;
  return axis;
}

/* Number m of the sorted points that go to the lower half: the prefix whose
 * weight is closest to target (the smaller prefix on a tie). */
static int64_t split_count(const rcb_ctx *r, int64_t n, double target) {
  double cum = 0;
  for (int64_t m = 0; m < n; m++) {
    double next = cum + (r->w ? r->w[r->key[m].a] : 1.0);
    if (next >= target) return next - target < target - cum ? m + 1 : m;
    cum = next;
  }
  return n;
}

static void bisect(const rcb_ctx *r, int64_t *idx, int64_t n, int p0,
                   int np) {
  if (np == 1 || n == 0) {
    for (int64_t k = 0; k < n; k++) r->owner[idx[k]] = p0;
    return;
  }
  int axis = longest_axis(r, idx, n), nlow = np / 2;
  double total = 0;
  for (int64_t k = 0; k < n; k++) {
    r->key[k] = (rcb_key){r->x[idx[k]][axis], idx[k]};
    total += r->w ? r->w[idx[k]] : 1.0;
  }
  qsort(r->key, n, sizeof *r->key, cmp_key);
  for (int64_t k = 0; k < n; k++) idx[k] = r->key[k].a;
  int64_t m = split_count(r, n, total * nlow / np);
  bisect(r, idx, m, p0, nlow);
  bisect(r, idx + m, n - m, p0 + nlow, np - nlow);
}

nh_err nh_rcb_partition(int64_t n, const double (*x)[3], const double *weight,
                        int nparts, int *owner) {
  NH_CHECK(nparts >= 1, NH_ERR_ARG, "cannot split into %d parts", nparts);
  if (weight)
    for (int64_t a = 0; a < n; a++)
      NH_CHECK(weight[a] > 0 && isfinite(weight[a]), NH_ERR_ARG,
               "weight of atom %lld is %g; weights must be positive",
               (long long)a + 1, weight[a]);
  nh_err err = NH_OK;
  int64_t *idx = NULL;
  rcb_key *key = NULL;
  NH_CALL_GOTO(nh_malloc(n * sizeof *idx, &idx), fail);
  NH_CALL_GOTO(nh_malloc(n * sizeof *key, &key), fail);
  for (int64_t a = 0; a < n; a++) idx[a] = a;
  rcb_ctx r = {x, weight, owner, key};
  bisect(&r, idx, n, 0, nparts);
fail:
  nh_free(&idx);
  nh_free(&key);
  return err;
}
