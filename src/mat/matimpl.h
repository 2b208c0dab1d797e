/* Private layout of nh_mat (include/nextham/mat.h), shared by the files of
 * src/mat. See docs/block-sparse.md for the storage scheme. */
#ifndef NEXTHAM_MATIMPL_H
#define NEXTHAM_MATIMPL_H

#include "nextham/mat.h"

#include <inttypes.h>
#include <math.h>

/* Block keys in messages: printf(KEYFMT, KEYARG(i, j, n)). */
#define KEYFMT "(i=%" PRId64 ", j=%" PRId64 ", n=%d %d %d)"
#define KEYARG(i, j, n) (int64_t)(i), (int64_t)(j), (n)[0], (n)[1], (n)[2]

/* max(a, b) for the hot loops: libm's fmax is an out-of-line call. */
static inline double nh_mat_max(double a, double b) { return b > a ? b : a; }

/* Compensated (Neumaier) sum of per-block partial sums: global sums over
 * 10^9 values would otherwise differ between rank counts by ~1e-9
 * relative, as the order of the additions changes with the layout. */
typedef struct nh_mat_sum {
  double s, c;
} nh_mat_sum;
static inline void nh_mat_sum_add(nh_mat_sum *a, double x) {
  double t = a->s + x;
  a->c += fabs(a->s) >= fabs(x) ? (a->s - t) + x : (x - t) + a->s;
  a->s = t;
}
static inline double nh_mat_sum_value(const nh_mat_sum *a) {
  return a->s + a->c;
}

/* One stored block: its key, where its values start in nh_mat.val and its
 * shape (norb(i) x norb(j), cached so that loops need no atom lookups). */
typedef struct nh_mat_blk {
  nh_block_key key;
  int64_t off;
  int nr, nc;
} nh_mat_blk;

/* Blocks set or added through nh_mat_set_remote / nh_mat_add_remote, kept
 * until nh_mat_assemble delivers them, in call order: one header of
 * NH_MAT_HDR int64 per block (destination rank, i, j, n1, n2, n3, rows,
 * cols, flag) and the values. */
#define NH_MAT_HDR 9
typedef struct nh_mat_pending {
  int64_t n, cap; /* blocks */
  int64_t *hdr;   /* n * NH_MAT_HDR */
  double *val;
  int64_t nval, capval; /* doubles */
} nh_mat_pending;

struct nh_mat {
  const nh_domain *dom;
  const nh_ctx *ctx;
  char name[64];
  int norb_of_z[119];
  nh_hmap norb; /* gid -> norb(gid), owned and ghost atoms */

  int64_t nblk, capblk;
  nh_mat_blk *blk; /* sorted by key when `sorted` is set */
  nh_hmap index;   /* block key -> position in blk */
  double *val;     /* all values, one growing buffer */
  int64_t nval, capval;
  int sorted;

  nh_mat_pending pending;
};

/* Position of block (i, j, n) in m->blk, or -1. */
int64_t nh_mat_find(const nh_mat *m, int64_t i, int64_t j, const int n[3]);
/* Position of block (i, j, n); if absent it is created, with zero values
 * if `zero` is set, else uninitialised for the caller to overwrite. The
 * caller has checked that i is owned and j known; nr x nc is its shape. */
nh_err nh_mat_insert(nh_mat *m, int64_t i, int64_t j, const int n[3], int nr,
                     int nc, int zero, int64_t *pos);
/* Shape of block (i, j) from the atoms known here; errors name the block. */
nh_err nh_mat_shape(const nh_mat *m, int64_t i, int64_t j, const int n[3],
                    int *nr, int *nc);
/* Checks that i is owned here and j known, and returns the shape. */
nh_err nh_mat_check_local(const nh_mat *m, int64_t i, int64_t j, const int n[3],
                          int *nr, int *nc);

/* Sorts the block table by key and re-points the hash (assemble.c and
 * ops.c call it after creating blocks). */
nh_err nh_mat_sort(nh_mat *m);

/* Sparse all-to-all of block records: nsend records with headers hdr
 * (NH_MAT_HDR int64 each, hdr[0] the destination rank) and
 * values val (hdr[6] * hdr[7] doubles each, consecutive). Returns the
 * received records ordered by source rank, then send order, with hdr[0]
 * replaced by the source rank, in new buffers the caller frees.
 * Collective; errors are agreed on by all ranks. */
nh_err nh_mat_exchange(const nh_ctx *ctx, int64_t nsend, const int64_t *hdr,
                       const double *val, int64_t *nrecv, int64_t **rhdr,
                       double **rval);

#endif
