/* <phi_i| V |phi_j> of one batch as BLAS-3 products, and the local block
 * accumulator that is delivered to the owners once at the end.
 *
 * With a_p = w V(r_p) (V the local potential plus vrho) and
 * b_p = 2 w vsigma grad rho (the GGA term integrated by parts), the batch
 * contributes sum_p a_p phi_i phi_j + b_p . grad(phi_i phi_j)
 *   = Z_i^T Phi_j + Phi_i^T Z_j,   Z = diag(a/2) Phi + sum_k diag(b_k) G_k,
 * i.e. X^T Y with X = [Z; Phi], Y = [Phi; Z] stacked along the points.
 * The batch atoms are sorted by their largest function bound, so the atoms
 * B >= A with bound_A bound_B >= eps_pair are a contiguous range and each
 * atom A costs one dgemm (its columns against that range). */
#include <math.h>
#include <string.h>

#include "gridimpl.h"

extern void dgemm_(const char *ta, const char *tb, const int *m, const int *n,
                   const int *k, const double *alpha, const double *a,
                   const int *lda, const double *b, const int *ldb,
                   const double *beta, double *c, const int *ldc);

nh_err grid_acc_init(grid_acc *a, const nh_domain *dom, nh_mat *m) {
  memset(a, 0, sizeof *a);
  a->m = m;
  a->rank = nh_domain_ctx(dom)->rank;
  NH_CALL(nh_hmap_init(&a->map, 1024));
  return NH_OK;
}

static void acc_free_hash(grid_acc *a) {
  nh_hmap_free(&a->map);
  nh_free(&a->key);
  nh_free(&a->nr);
  nh_free(&a->nc);
  nh_free(&a->off);
  nh_free(&a->val);
  a->nblk = a->capblk = a->nval = a->capval = 0;
}

void grid_acc_free(grid_acc *a) {
  acc_free_hash(a);
  nh_free(&a->zero);
  memset(a, 0, sizeof *a);
}

/* The hash block (i, j, n), created as zero if absent. */
static nh_err acc_block(grid_acc *a, int64_t i, int64_t j, const int n[3],
                        int nr, int nc, double **blk) {
  uint64_t k1, k2;
  nh_hmap_block_key(i, j, n, &k1, &k2);
  int64_t k = nh_hmap_get(&a->map, k1, k2);
  if (k >= 0) {
    *blk = a->val + a->off[k];
    return NH_OK;
  }
  if (a->nblk == a->capblk) {
    int64_t cap = a->capblk ? 2 * a->capblk : 256;
    NH_CALL(nh_realloc((size_t)cap * sizeof *a->key, &a->key));
    NH_CALL(nh_realloc((size_t)cap * sizeof *a->nr, &a->nr));
    NH_CALL(nh_realloc((size_t)cap * sizeof *a->nc, &a->nc));
    NH_CALL(nh_realloc((size_t)cap * sizeof *a->off, &a->off));
    a->capblk = cap;
  }
  int64_t size = (int64_t)nr * nc;
  if (a->nval + size > a->capval) {
    int64_t cap = a->capval ? 2 * a->capval : 1 << 16;
    while (cap < a->nval + size)
      cap *= 2;
    NH_CALL(nh_realloc((size_t)cap * sizeof *a->val, &a->val));
    a->capval = cap;
  }
  k = a->nblk++;
  a->key[k] = (nh_block_key){.i = i, .j = j, .n = {n[0], n[1], n[2]}};
  a->nr[k] = nr;
  a->nc[k] = nc;
  a->off[k] = a->nval;
  memset(a->val + a->nval, 0, (size_t)size * sizeof *a->val);
  a->nval += size;
  NH_CALL(nh_hmap_put(&a->map, k1, k2, k));
  *blk = a->val + a->off[k];
  return NH_OK;
}

/* Where the block of atom-table entries (ka, kb) at image offset n goes:
 * the target matrix when the row atom is owned here (created as zero if
 * absent), else the hash. The pointer is valid until the next creation. */
static nh_err dest_block(grid_acc *a, const nh_atoms *at, int64_t ka,
                         int64_t kb, const int n[3], int nr, int nc,
                         double **blk) {
  if (at->owner[ka] != a->rank)
    return acc_block(a, at->gid[ka], at->gid[kb], n, nr, nc, blk);
  *blk = nh_mat_get_block(a->m, at->gid[ka], at->gid[kb], n);
  if (*blk)
    return NH_OK;
  if (a->nzero < (int64_t)nr * nc) {
    a->nzero = (int64_t)nr * nc;
    nh_free(&a->zero);
    NH_CALL(nh_calloc((size_t)a->nzero, sizeof *a->zero, &a->zero));
  }
  NH_CALL(nh_mat_add_block(a->m, at->gid[ka], at->gid[kb], n, a->zero));
  *blk = nh_mat_get_block(a->m, at->gid[ka], at->gid[kb], n);
  return NH_OK;
}

/* X = [Z; Phi], Y = [Phi; Z] from the point weights a (and b if grad). */
static void build_xy(grid_batch *bt, int grad) {
  int np = bt->np;
  for (int c = 0; c < bt->nf; c++) {
    const double *f = bt->phi + (size_t)c * np;
    double *x = bt->x + (size_t)c * 2 * np, *y = bt->y + (size_t)c * 2 * np;
    for (int p = 0; p < np; p++)
      x[p] = 0.5 * bt->a[p] * f[p];
    if (grad) {
      const double *gx = bt->gx + (size_t)c * np, *gy = bt->gy + (size_t)c * np,
                   *gz = bt->gz + (size_t)c * np;
      for (int p = 0; p < np; p++)
        x[p] += bt->bx[p] * gx[p] + bt->by[p] * gy[p] + bt->bz[p] * gz[p];
    }
    memcpy(x + np, f, (size_t)np * sizeof *f);
    memcpy(y, f, (size_t)np * sizeof *f);
    memcpy(y + np, x, (size_t)np * sizeof *f);
  }
}

/* Adds M (rows: columns of batch atom ka, cols: columns ca..) into the
 * blocks (A, B) and, for B != A, (B, A). */
static nh_err scatter(const grid_setup *g, const grid_batch *bt, int ka,
                      int kend, grid_acc *acc) {
  const nh_atoms *at = g->at;
  int64_t a = bt->atom[ka];
  int r0 = bt->col0[ka], nra = bt->col0[ka + 1] - r0, cbase = r0;
  int na = g->el[at->z[a]]->norb;
  for (int kb = ka; kb < kend; kb++) {
    int64_t b = bt->atom[kb];
    int nb = g->el[at->z[b]]->norb, c0 = bt->col0[kb], c1 = bt->col0[kb + 1];
    int n[3], nt[3];
    for (int d = 0; d < 3; d++) {
      n[d] = at->image[b][d] - at->image[a][d];
      nt[d] = -n[d];
    }
    double *blk;
    NH_CALL(dest_block(acc, at, a, b, n, na, nb, &blk));
    for (int c = c0; c < c1; c++) {
      const double *mc = bt->m + (size_t)(c - cbase) * nra;
      int ob = bt->orb[c];
      for (int r = 0; r < nra; r++)
        blk[bt->orb[r0 + r] * nb + ob] += mc[r];
    }
    if (kb == ka)
      continue;
    NH_CALL(dest_block(acc, at, b, a, nt, nb, na, &blk));
    for (int c = c0; c < c1; c++) {
      const double *mc = bt->m + (size_t)(c - cbase) * nra;
      double *row = blk + bt->orb[c] * na;
      for (int r = 0; r < nra; r++)
        row[bt->orb[r0 + r]] += mc[r];
    }
  }
  return NH_OK;
}

/* The pair threshold of the batch: eps_pair for the uniform scheme, whose
 * batches all have the same volume. On atomic grids, whose batches range
 * from tiny (near nuclei) to large, a pair is dropped where the bound on
 * its integrand density, bound_A bound_B max_p |V_p|, is below
 * eps_pair / GRID_VREF: the dropped part of an element is then at most
 * that density times the volume where the pair is that small, whatever
 * the batch sizes (|V_p| = (|a_p| + |b_p|) / w_p). */
#define GRID_VREF 2.0 /* bohr^3: a uniform batch at the default spacing */
static double pair_threshold(const grid_setup *g, const grid_batch *bt) {
  if (g->scheme != NH_GRID_ATOMIC)
    return g->eps_pair;
  double vmax = 0;
  for (int p = 0; p < bt->np; p++)
    if (bt->w[p] != 0)
      vmax = fmax(vmax, (fabs(bt->a[p]) + fabs(bt->bx[p]) + fabs(bt->by[p]) +
                         fabs(bt->bz[p])) /
                            fabs(bt->w[p]));
  return vmax > 0 ? g->eps_pair / (GRID_VREF * vmax) : HUGE_VAL;
}

nh_err grid_vmat_batch(grid_setup *g, grid_batch *bt, grid_acc *acc) {
  int grad = (g->terms & NH_GRID_VXC) != 0, k2 = 2 * bt->np;
  const double one = 1, zero = 0, eps = pair_threshold(g, bt);
  build_xy(bt, grad);
  for (int ka = 0; ka < bt->natom; ka++) {
    int kend = ka + 1;
    if (bt->bound[ka] * bt->bound[ka] < eps)
      break; /* and so are all later pairs */
    while (kend < bt->natom && bt->bound[ka] * bt->bound[kend] >= eps)
      kend++;
    int r0 = bt->col0[ka], nra = bt->col0[ka + 1] - r0,
        ncol = bt->col0[kend] - r0;
    if (!nra)
      continue;
    dgemm_("T", "N", &nra, &ncol, &k2, &one, bt->x + (size_t)r0 * k2, &k2,
           bt->y + (size_t)r0 * k2, &k2, &zero, bt->m, &nra);
    NH_CALL(scatter(g, bt, ka, kend, acc));
  }
  return NH_OK;
}

nh_err grid_acc_deliver(grid_acc *a) {
  for (int64_t k = 0; k < a->nblk; k++)
    NH_CALL(nh_mat_add_remote(a->m, a->key[k].i, a->key[k].j, a->key[k].n,
                              a->val + a->off[k]));
  acc_free_hash(a);
  return NH_OK;
}
