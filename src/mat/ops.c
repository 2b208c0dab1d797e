/* Algebra on block-sparse matrices: norms, scale, axpy, dot products and
 * the gauge-invariant error of DESIGN.md §1.4. Local loops run over the
 * blocks in key order so that sums are reproducible for a given layout. */
#include "matimpl.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

static nh_err same_domain(const nh_mat *a, const nh_mat *b, const char *op) {
  NH_CHECK(a->dom == b->dom, NH_ERR_ARG,
           "%s: matrices '%s' and '%s' live on different domains", op, a->name,
           b->name);
  return NH_OK;
}

/* Values of the block of b with the key of block k of a (NULL if absent);
 * errors if the shapes differ. */
static nh_err matching(const nh_mat *a, int64_t k, const nh_mat *b,
                       const double **vb) {
  const nh_mat_blk *ka = &a->blk[k];
  int64_t p = nh_mat_find(b, ka->key.i, ka->key.j, ka->key.n);
  *vb = NULL;
  if (p < 0)
    return NH_OK;
  NH_CHECK(b->blk[p].nr == ka->nr && b->blk[p].nc == ka->nc, NH_ERR_ARG,
           "block " KEYFMT " is %d x %d in '%s' but %d x %d in '%s'",
           KEYARG(ka->key.i, ka->key.j, ka->key.n), ka->nr, ka->nc, a->name,
           b->blk[p].nr, b->blk[p].nc, b->name);
  *vb = b->val + b->blk[p].off;
  return NH_OK;
}

static int64_t blk_size(const nh_mat_blk *k) { return (int64_t)k->nr * k->nc; }

nh_err nh_mat_norm_fro(const nh_mat *m, double *nrm) {
  nh_mat_sum acc = {0, 0};
  for (int64_t b = 0; b < m->nblk; b++) {
    const double *v = m->val + m->blk[b].off;
    double s = 0;
    for (int64_t q = 0; q < blk_size(&m->blk[b]); q++)
      s += v[q] * v[q];
    nh_mat_sum_add(&acc, s);
  }
  double s = nh_mat_sum_value(&acc), t;
  NH_MPI(MPI_Allreduce(&s, &t, 1, MPI_DOUBLE, MPI_SUM, m->ctx->comm));
  *nrm = sqrt(t);
  return NH_OK;
}

nh_err nh_mat_norm_max(const nh_mat *m, double *nrm) {
  double s = 0;
  for (int64_t q = 0; q < m->nval; q++)
    s = nh_mat_max(s, fabs(m->val[q]));
  NH_MPI(MPI_Allreduce(&s, nrm, 1, MPI_DOUBLE, MPI_MAX, m->ctx->comm));
  return NH_OK;
}

void nh_mat_scale(nh_mat *m, double a) {
  for (int64_t q = 0; q < m->nval; q++)
    m->val[q] *= a;
}

nh_err nh_mat_axpy(nh_mat *y, double a, const nh_mat *x) {
  NH_CALL(same_domain(y, x, "nh_mat_axpy"));
  for (int64_t b = 0; b < x->nblk; b++) {
    const nh_mat_blk *k = &x->blk[b];
    int nr, nc;
    int64_t pos;
    NH_CALL(nh_mat_check_local(y, k->key.i, k->key.j, k->key.n, &nr, &nc));
    NH_CHECK(nr == k->nr && nc == k->nc, NH_ERR_ARG,
             "nh_mat_axpy: block " KEYFMT " is %d x %d in '%s' but %d x %d "
             "in '%s'",
             KEYARG(k->key.i, k->key.j, k->key.n), k->nr, k->nc, x->name, nr,
             nc, y->name);
    NH_CALL(
        nh_mat_insert(y, k->key.i, k->key.j, k->key.n, k->nr, k->nc, 1, &pos));
    double *w = y->val + y->blk[pos].off;
    const double *v = x->val + k->off;
    for (int64_t q = 0; q < blk_size(k); q++)
      w[q] += a * v[q];
  }
  NH_CALL(nh_mat_sort(y));
  return NH_OK;
}

/* Local part of <x, y>. */
static nh_err dot_local(const nh_mat *x, const nh_mat *y, double *dot) {
  nh_mat_sum acc = {0, 0};
  for (int64_t b = 0; b < x->nblk; b++) {
    const double *vx = x->val + x->blk[b].off, *vy;
    NH_CALL(matching(x, b, y, &vy));
    double s = 0;
    if (vy)
      for (int64_t q = 0; q < blk_size(&x->blk[b]); q++)
        s += vx[q] * vy[q];
    nh_mat_sum_add(&acc, s);
  }
  *dot = nh_mat_sum_value(&acc);
  return NH_OK;
}

nh_err nh_mat_dot(const nh_mat *x, const nh_mat *y, double *dot) {
  double s = 0;
  nh_err err = same_domain(x, y, "nh_mat_dot");
  if (!err)
    err = dot_local(x, y, &s);
  NH_CALL(nh_ctx_agree(x->ctx, err));
  NH_MPI(MPI_Allreduce(&s, dot, 1, MPI_DOUBLE, MPI_SUM, x->ctx->comm));
  return NH_OK;
}

/* Local sums of |hpred + mu s - htrue| over the blocks of htrue: sum, max
 * and number of elements. */
static nh_err gauge_local(const nh_mat *hpred, const nh_mat *htrue,
                          const nh_mat *s, double mu, double sums[2],
                          int64_t *count) {
  nh_mat_sum acc = {0, 0};
  sums[1] = 0;
  *count = 0;
  for (int64_t b = 0; b < htrue->nblk; b++) {
    const double *t = htrue->val + htrue->blk[b].off, *p, *o = NULL;
    NH_CALL(matching(htrue, b, hpred, &p));
    if (s)
      NH_CALL(matching(htrue, b, s, &o));
    int64_t size = blk_size(&htrue->blk[b]);
    double sb = 0;
    for (int64_t q = 0; q < size; q++) {
      double d = fabs((p ? p[q] : 0.0) + (o ? mu * o[q] : 0.0) - t[q]);
      sb += d;
      sums[1] = nh_mat_max(sums[1], d);
    }
    nh_mat_sum_add(&acc, sb);
    *count += size;
  }
  sums[0] = nh_mat_sum_value(&acc);
  return NH_OK;
}

nh_err nh_mat_gauge(const nh_mat *hpred, const nh_mat *htrue, const nh_mat *s,
                    double *mu, double *mae, double *maxerr) {
  const nh_ctx *ctx = htrue->ctx;
  double loc[3] = {0, 0, 0}, glob[3];
  nh_err err = same_domain(htrue, hpred, "nh_mat_gauge");
  if (!err && s)
    err = same_domain(htrue, s, "nh_mat_gauge");
  /* <htrue, s>, <hpred, s>, <s, s> */
  if (!err && s)
    err = dot_local(s, htrue, &loc[0]);
  if (!err && s)
    err = dot_local(s, hpred, &loc[1]);
  if (!err && s)
    err = dot_local(s, s, &loc[2]);
  NH_CALL(nh_ctx_agree(ctx, err));
  NH_MPI(MPI_Allreduce(loc, glob, 3, MPI_DOUBLE, MPI_SUM, ctx->comm));
  *mu = glob[2] > 0 ? (glob[0] - glob[1]) / glob[2] : 0.0;

  double sums[2], gs[2];
  int64_t count, gcount;
  err = gauge_local(hpred, htrue, s, *mu, sums, &count);
  NH_CALL(nh_ctx_agree(ctx, err));
  NH_MPI(MPI_Allreduce(&sums[0], &gs[0], 1, MPI_DOUBLE, MPI_SUM, ctx->comm));
  NH_MPI(MPI_Allreduce(&sums[1], &gs[1], 1, MPI_DOUBLE, MPI_MAX, ctx->comm));
  NH_MPI(MPI_Allreduce(&count, &gcount, 1, MPI_INT64_T, MPI_SUM, ctx->comm));
  *mae = gcount ? gs[0] / (double)gcount : 0.0;
  if (maxerr)
    *maxerr = gs[1];
  return NH_OK;
}

nh_err nh_mat_global_size(const nh_mat *m, int64_t *nblocks, int64_t *nvalues) {
  int64_t loc[2] = {m->nblk, m->nval}, glob[2];
  NH_MPI(MPI_Allreduce(loc, glob, 2, MPI_INT64_T, MPI_SUM, m->ctx->comm));
  if (nblocks)
    *nblocks = glob[0];
  if (nvalues)
    *nvalues = glob[1];
  return NH_OK;
}
