/* Communication of the block-sparse matrix: remote blocks delivered to
 * their owners (nh_mat_assemble) and the transpose partners (j, i, -n) of
 * blocks exchanged with the owners of j (symmetrize, symmetry error). */
#include "matimpl.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <string.h>

enum { FLAG_SET = 0, FLAG_ADD = 1 };

/* ---------------------------------------------------------------------------
 * All-to-all of block records. The counts go through MPI_Alltoall, the
 * records through MPI_Alltoallv; only the records that cross ranks are
 * packed, so the memory is that of the blocks being moved.
 * ------------------------------------------------------------------------- */

static int64_t rec_size(const int64_t *h) { return h[6] * h[7]; }

/* Reorders records by destination (stable) unless they already are. */
static nh_err pack_by_dest(int np, int64_t n, const int64_t *hdr,
                           const double *val, const int64_t *nrec,
                           const int64_t *ndbl, int64_t **shdr, double **sval) {
  int grouped = 1;
  for (int64_t r = 1; r < n && grouped; r++)
    grouped = hdr[r * NH_MAT_HDR] >= hdr[(r - 1) * NH_MAT_HDR];
  if (grouped) {
    *shdr = (int64_t *)hdr;
    *sval = (double *)val;
    return NH_OK;
  }
  int64_t total = 0, *rpos, *vpos;
  for (int p = 0; p < np; p++)
    total += ndbl[p];
  NH_CALL(nh_malloc((size_t)n * NH_MAT_HDR * sizeof **shdr, shdr));
  NH_CALL(nh_malloc((size_t)total * sizeof **sval, sval));
  NH_CALL(nh_malloc(2 * (size_t)np * sizeof *rpos, &rpos));
  vpos = rpos + np;
  rpos[0] = vpos[0] = 0;
  for (int p = 1; p < np; p++) {
    rpos[p] = rpos[p - 1] + nrec[p - 1];
    vpos[p] = vpos[p - 1] + ndbl[p - 1];
  }
  const double *v = val;
  for (int64_t r = 0; r < n; r++) {
    const int64_t *h = hdr + r * NH_MAT_HDR;
    int p = (int)h[0];
    memcpy(*shdr + rpos[p]++ * NH_MAT_HDR, h, NH_MAT_HDR * sizeof *h);
    memcpy(*sval + vpos[p], v, (size_t)rec_size(h) * sizeof *v);
    vpos[p] += rec_size(h);
    v += rec_size(h);
  }
  nh_free(&rpos);
  return NH_OK;
}

/* Converts 64-bit counts to MPI's int counts and displacements. */
static nh_err to_int_counts(const nh_ctx *ctx, const int64_t *cnt, int64_t unit,
                            int *icnt, int *idsp) {
  int64_t d = 0;
  for (int p = 0; p < ctx->size; p++) {
    int64_t c = cnt[p] * unit;
    NH_CHECK(c <= INT_MAX && d + c <= INT_MAX, NH_ERR_MPI,
             "block exchange on rank %d: more than %d items in one step "
             "(use more ranks)",
             ctx->rank, INT_MAX);
    icnt[p] = (int)c;
    idsp[p] = (int)d;
    d += c;
  }
  return NH_OK;
}

typedef struct xbuf {
  int64_t *cnt; /* 4 np: records and doubles sent to p, received from p;
                   then 4 np scratch for MPI_Alltoall */
  int *ic;      /* 8 np: the same as MPI counts and displacements       */
  int64_t *shdr;
  double *sval;
} xbuf;

/* Counts per destination and records grouped by destination. */
static nh_err exchange_pack(const nh_ctx *ctx, int64_t nsend,
                            const int64_t *hdr, const double *val, xbuf *x) {
  int np = ctx->size;
  NH_CALL(nh_calloc(8 * (size_t)np, sizeof *x->cnt, &x->cnt));
  NH_CALL(nh_malloc(8 * (size_t)np * sizeof *x->ic, &x->ic));
  int64_t *nrec = x->cnt, *ndbl = x->cnt + np;
  for (int64_t r = 0; r < nsend; r++) {
    const int64_t *h = hdr + r * NH_MAT_HDR;
    NH_CHECK(h[0] >= 0 && h[0] < np, NH_ERR_INTERNAL,
             "block exchange: destination rank %" PRId64 " out of range", h[0]);
    nrec[h[0]]++;
    ndbl[h[0]] += rec_size(h);
  }
  NH_CALL(pack_by_dest(np, nsend, hdr, val, nrec, ndbl, &x->shdr, &x->sval));
  return NH_OK;
}

/* Collective: the counts of every pair of ranks (MPI_Alltoall), then the
 * receive buffers. */
static nh_err exchange_counts(const nh_ctx *ctx, xbuf *x, int64_t *nrecv,
                              int64_t **rhdr, double **rval) {
  int np = ctx->size;
  int64_t *c = x->cnt, *pairs = x->cnt + 4 * np;
  for (int p = 0; p < np; p++) {
    pairs[2 * p] = c[p];
    pairs[2 * p + 1] = c[np + p];
  }
  int rc = MPI_Alltoall(pairs, 2, MPI_INT64_T, pairs + 2 * np, 2, MPI_INT64_T,
                        ctx->comm);
  int64_t nr = 0, nv = 0;
  for (int p = 0; p < np; p++) {
    c[2 * np + p] = pairs[2 * np + 2 * p];
    c[3 * np + p] = pairs[2 * np + 2 * p + 1];
    nr += c[2 * np + p];
    nv += c[3 * np + p];
  }
  NH_CHECK(rc == MPI_SUCCESS, NH_ERR_MPI,
           "MPI_Alltoall of block counts failed");
  int *ic = x->ic;
  NH_CALL(to_int_counts(ctx, c, NH_MAT_HDR, ic, ic + np));
  NH_CALL(to_int_counts(ctx, c + np, 1, ic + 2 * np, ic + 3 * np));
  NH_CALL(to_int_counts(ctx, c + 2 * np, NH_MAT_HDR, ic + 4 * np, ic + 5 * np));
  NH_CALL(to_int_counts(ctx, c + 3 * np, 1, ic + 6 * np, ic + 7 * np));
  NH_CALL(nh_malloc((size_t)nr * NH_MAT_HDR * sizeof **rhdr, rhdr));
  NH_CALL(nh_malloc((size_t)nv * sizeof **rval, rval));
  *nrecv = nr;
  return NH_OK;
}

static nh_err exchange_data(const nh_ctx *ctx, const xbuf *x, int64_t *rhdr,
                            double *rval) {
  int np = ctx->size, *ic = x->ic;
  NH_MPI(MPI_Alltoallv(x->shdr, ic, ic + np, MPI_INT64_T, rhdr, ic + 4 * np,
                       ic + 5 * np, MPI_INT64_T, ctx->comm));
  NH_MPI(MPI_Alltoallv(x->sval, ic + 2 * np, ic + 3 * np, MPI_DOUBLE, rval,
                       ic + 6 * np, ic + 7 * np, MPI_DOUBLE, ctx->comm));
  int64_t r = 0;
  for (int p = 0; p < np; p++)
    for (int64_t q = 0; q < x->cnt[2 * np + p]; q++, r++)
      rhdr[r * NH_MAT_HDR] = p;
  return NH_OK;
}

nh_err nh_mat_exchange(const nh_ctx *ctx, int64_t nsend, const int64_t *hdr,
                       const double *val, int64_t *nrecv, int64_t **rhdr,
                       double **rval) {
  xbuf x = {0};
  *rhdr = NULL;
  *rval = NULL;
  *nrecv = 0;
  nh_err err = nh_ctx_agree(ctx, exchange_pack(ctx, nsend, hdr, val, &x));
  if (!err)
    err = nh_ctx_agree(ctx, exchange_counts(ctx, &x, nrecv, rhdr, rval));
  if (!err)
    err = exchange_data(ctx, &x, *rhdr, *rval);
  if (x.shdr != hdr)
    nh_free(&x.shdr);
  if (x.sval != val)
    nh_free(&x.sval);
  nh_free(&x.cnt);
  nh_free(&x.ic);
  if (err) {
    nh_free(rhdr);
    nh_free(rval);
    *nrecv = 0;
  }
  NH_CALL(err);
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Remote blocks.
 * ------------------------------------------------------------------------- */

static nh_err pending_push(nh_mat *m, int64_t i, int64_t j, const int n[3],
                           const double *block, int flag) {
  nh_mat_pending *q = &m->pending;
  int owner = nh_domain_owner(m->dom, i), nr, nc;
  NH_CHECK(owner >= 0, NH_ERR_ARG,
           "matrix '%s', remote block " KEYFMT " on rank %d: atom i is "
           "unknown here; remote blocks must concern atoms the sender owns "
           "or has as ghosts",
           m->name, KEYARG(i, j, n), m->ctx->rank);
  NH_CALL(nh_mat_shape(m, i, j, n, &nr, &nc));
  int64_t size = (int64_t)nr * nc;
  if (q->n == q->cap) {
    q->cap = q->cap ? 2 * q->cap : 64;
    NH_CALL(nh_realloc((size_t)q->cap * NH_MAT_HDR * sizeof *q->hdr, &q->hdr));
  }
  if (q->nval + size > q->capval) {
    int64_t cap = q->capval ? 2 * q->capval : 4096;
    while (cap < q->nval + size)
      cap *= 2;
    NH_CALL(nh_realloc((size_t)cap * sizeof *q->val, &q->val));
    q->capval = cap;
  }
  int64_t *h = q->hdr + q->n * NH_MAT_HDR;
  int64_t rec[NH_MAT_HDR] = {owner, i, j, n[0], n[1], n[2], nr, nc, flag};
  memcpy(h, rec, sizeof rec);
  memcpy(q->val + q->nval, block, (size_t)size * sizeof *block);
  q->n++;
  q->nval += size;
  return NH_OK;
}

nh_err nh_mat_set_remote(nh_mat *m, int64_t i, int64_t j, const int n[3],
                         const double *block) {
  NH_CALL(pending_push(m, i, j, n, block, FLAG_SET));
  return NH_OK;
}

nh_err nh_mat_add_remote(nh_mat *m, int64_t i, int64_t j, const int n[3],
                         const double *block) {
  NH_CALL(pending_push(m, i, j, n, block, FLAG_ADD));
  return NH_OK;
}

/* Stores one received record (key from hdr[1..5]) into a block owned here:
 * set, add, fill (create only if absent) or mean (average with the block
 * if present, else create). */
enum { APPLY_SET, APPLY_ADD, APPLY_FILL, APPLY_MEAN };

static nh_err apply_record(nh_mat *m, const int64_t *h, const double *v,
                           int how) {
  int n[3] = {(int)h[3], (int)h[4], (int)h[5]}, nr, nc;
  int64_t pos, size = h[6] * h[7];
  NH_CALL(nh_mat_check_local(m, h[1], h[2], n, &nr, &nc));
  NH_CHECK(nr == h[6] && nc == h[7], NH_ERR_ARG,
           "matrix '%s', block " KEYFMT " from rank %" PRId64 " is %" PRId64
           " x %" PRId64 " but %d x %d on rank %d (norb_of_z differs "
           "between ranks?)",
           m->name, KEYARG(h[1], h[2], n), h[0], h[6], h[7], nr, nc,
           m->ctx->rank);
  int existed = nh_mat_find(m, h[1], h[2], n) >= 0;
  NH_CALL(nh_mat_insert(m, h[1], h[2], n, nr, nc, how == APPLY_ADD, &pos));
  double *b = m->val + m->blk[pos].off;
  if (how == APPLY_ADD)
    for (int64_t k = 0; k < size; k++)
      b[k] += v[k];
  else if (how == APPLY_MEAN && existed)
    for (int64_t k = 0; k < size; k++)
      b[k] = 0.5 * (b[k] + v[k]);
  else if (how != APPLY_FILL || !existed)
    memcpy(b, v, (size_t)size * sizeof *v);
  return NH_OK;
}

static nh_err apply_received(nh_mat *m, int64_t nrecv, const int64_t *rhdr,
                             const double *rval, int how) {
  for (int64_t r = 0; r < nrecv; r++) {
    const int64_t *h = rhdr + r * NH_MAT_HDR;
    int rec_how = how;
    if (how == APPLY_SET)
      rec_how = h[8] == FLAG_ADD ? APPLY_ADD : APPLY_SET;
    NH_CALL(apply_record(m, h, rval, rec_how));
    rval += rec_size(h);
  }
  return NH_OK;
}

nh_err nh_mat_assemble(nh_mat *m) {
  int64_t nrecv;
  int64_t *rhdr = NULL;
  double *rval = NULL;
  NH_CALL(nh_mat_exchange(m->ctx, m->pending.n, m->pending.hdr, m->pending.val,
                          &nrecv, &rhdr, &rval));
  /* The buffers are released: a matrix filled remotely once must not keep
   * a second copy of its blocks. */
  nh_free(&m->pending.hdr);
  nh_free(&m->pending.val);
  memset(&m->pending, 0, sizeof m->pending);
  nh_err err = apply_received(m, nrecv, rhdr, rval, APPLY_SET);
  nh_free(&rhdr);
  nh_free(&rval);
  if (!err)
    err = nh_mat_sort(m);
  NH_CALL(nh_ctx_agree(m->ctx, err));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Transpose partners. The partner of (i, j, n) is (j, i, -n), owned by the
 * owner of j, which this rank knows because j is owned or a ghost here.
 * ------------------------------------------------------------------------- */

static void transpose(int nr, int nc, const double *a, double *at) {
  for (int r = 0; r < nr; r++)
    for (int c = 0; c < nc; c++)
      at[(int64_t)c * nr + r] = a[(int64_t)r * nc + c];
}

/* Packs, for every block whose partner lives on another rank, the record
 * (owner of j, j, i, -n, nc, nr) with the transposed values. */
static nh_err pack_partners(const nh_mat *m, int64_t *nsend, int64_t **hdr,
                            double **val) {
  int me = m->ctx->rank;
  int64_t ns = 0, nv = 0;
  for (int64_t b = 0; b < m->nblk; b++) {
    const nh_mat_blk *k = &m->blk[b];
    if (nh_domain_owner(m->dom, k->key.j) != me) {
      ns++;
      nv += (int64_t)k->nr * k->nc;
    }
  }
  NH_CALL(nh_malloc((size_t)ns * NH_MAT_HDR * sizeof **hdr, hdr));
  NH_CALL(nh_malloc((size_t)nv * sizeof **val, val));
  ns = nv = 0;
  for (int64_t b = 0; b < m->nblk; b++) {
    const nh_mat_blk *k = &m->blk[b];
    int owner = nh_domain_owner(m->dom, k->key.j);
    if (owner == me)
      continue;
    NH_CHECK(owner >= 0, NH_ERR_INTERNAL,
             "matrix '%s': owner of atom %" PRId64 " unknown", m->name,
             k->key.j);
    int64_t rec[NH_MAT_HDR] = {owner,        k->key.j,     k->key.i,
                               -k->key.n[0], -k->key.n[1], -k->key.n[2],
                               k->nc,        k->nr,        0};
    memcpy(*hdr + ns * NH_MAT_HDR, rec, sizeof rec);
    transpose(k->nr, k->nc, m->val + k->off, *val + nv);
    ns++;
    nv += (int64_t)k->nr * k->nc;
  }
  *nsend = ns;
  return NH_OK;
}

/* Exchanges the transposed blocks whose partners live elsewhere. */
static nh_err exchange_partners(const nh_mat *m, int64_t *nrecv, int64_t **rhdr,
                                double **rval) {
  int64_t ns = 0, *hdr = NULL;
  double *val = NULL;
  nh_err err = m->pending.n
                   ? nh_error_set(NH_ERR_ARG, __FILE__, __LINE__, __func__,
                                  "matrix '%s' has remote "
                                  "blocks not yet assembled",
                                  m->name)
                   : pack_partners(m, &ns, &hdr, &val);
  err = nh_ctx_agree(m->ctx, err);
  if (!err)
    err = nh_mat_exchange(m->ctx, ns, hdr, val, nrecv, rhdr, rval);
  nh_free(&hdr);
  nh_free(&val);
  NH_CALL(err);
  return NH_OK;
}

/* Pairs whose both blocks live here, from the original values. Blocks
 * created here are appended after nb0 and are never visited as b. */
static nh_err symmetrize_local(nh_mat *m, int mean) {
  int me = m->ctx->rank;
  int64_t nb0 = m->nblk;
  for (int64_t b = 0; b < nb0; b++) {
    nh_block_key k = m->blk[b].key;
    if (nh_domain_owner(m->dom, k.j) != me)
      continue;
    int nr = m->blk[b].nr, nc = m->blk[b].nc,
        mn[3] = {-k.n[0], -k.n[1], -k.n[2]};
    int64_t p = nh_mat_find(m, k.j, k.i, mn);
    if (p < 0) {
      NH_CALL(nh_mat_insert(m, k.j, k.i, mn, nc, nr, 0, &p));
      transpose(nr, nc, m->val + m->blk[b].off, m->val + m->blk[p].off);
    } else if (mean && p >= b) { /* each pair once; p == b: on-site, n = 0 */
      double *a = m->val + m->blk[b].off, *at = m->val + m->blk[p].off;
      for (int r = 0; r < nr; r++)
        for (int c = (p == b ? r + 1 : 0); c < nc; c++) {
          double s = 0.5 * (a[r * nc + c] + at[c * nr + r]);
          a[r * nc + c] = at[c * nr + r] = s;
        }
    }
  }
  return NH_OK;
}

nh_err nh_mat_symmetrize(nh_mat *m, const char *mode) {
  int mean = mode && strcmp(mode, "mean") == 0;
  NH_CHECK(mean || (mode && strcmp(mode, "fill") == 0), NH_ERR_ARG,
           "nh_mat_symmetrize: mode must be \"fill\" or \"mean\", not \"%s\"",
           mode ? mode : "(null)");
  int64_t nrecv;
  int64_t *rhdr = NULL;
  double *rval = NULL;
  NH_CALL(exchange_partners(m, &nrecv, &rhdr, &rval));
  nh_err err = symmetrize_local(m, mean);
  if (!err)
    err = apply_received(m, nrecv, rhdr, rval, mean ? APPLY_MEAN : APPLY_FILL);
  nh_free(&rhdr);
  nh_free(&rval);
  if (!err)
    err = nh_mat_sort(m);
  NH_CALL(nh_ctx_agree(m->ctx, err));
  return NH_OK;
}

/* max |a - b^T| over an nr x nc block a and an nc x nr block b (b NULL:
 * max |a|). */
static double diff_t(int nr, int nc, const double *a, const double *b) {
  double e = 0;
  for (int r = 0; r < nr; r++)
    for (int c = 0; c < nc; c++)
      e = nh_mat_max(e, fabs(a[r * nc + c] - (b ? b[c * nr + r] : 0.0)));
  return e;
}

nh_err nh_mat_symmetry_error(const nh_mat *m, double *maxerr) {
  int64_t nrecv;
  int64_t *rhdr = NULL;
  double *rval = NULL, e = 0;
  NH_CALL(exchange_partners(m, &nrecv, &rhdr, &rval));
  int me = m->ctx->rank;
  for (int64_t b = 0; b < m->nblk; b++) {
    const nh_mat_blk *k = &m->blk[b];
    if (nh_domain_owner(m->dom, k->key.j) != me)
      continue;
    int mn[3] = {-k->key.n[0], -k->key.n[1], -k->key.n[2]};
    int64_t p = nh_mat_find(m, k->key.j, k->key.i, mn);
    e = nh_mat_max(e, diff_t(k->nr, k->nc, m->val + k->off,
                             p < 0 ? NULL : m->val + m->blk[p].off));
  }
  /* A received record is the transpose of the partner: compare it with
   * the block it names, untransposed (or with zero if that is absent). */
  const double *v = rval;
  for (int64_t r = 0; r < nrecv; r++) {
    const int64_t *h = rhdr + r * NH_MAT_HDR;
    int n[3] = {(int)h[3], (int)h[4], (int)h[5]};
    const double *own = nh_mat_get_block(m, h[1], h[2], n);
    for (int64_t q = 0; q < rec_size(h); q++)
      e = nh_mat_max(e, fabs(v[q] - (own ? own[q] : 0.0)));
    v += rec_size(h);
  }
  nh_free(&rhdr);
  nh_free(&rval);
  NH_MPI(MPI_Allreduce(&e, maxerr, 1, MPI_DOUBLE, MPI_MAX, m->ctx->comm));
  return NH_OK;
}
