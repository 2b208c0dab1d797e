/* Storage of the block-sparse matrix: blocks of owned atoms, values in one
 * growing buffer, a hash from block key to block (docs/block-sparse.md). */
#include "matimpl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Fills the table gid -> norb for every atom this rank knows and checks
 * that each has a basis. */
static nh_err build_norb_table(nh_mat *m) {
  const nh_atoms *at = nh_domain_atoms(m->dom);
  int64_t nknown = at->nlocal + at->nghost;
  NH_CALL(nh_hmap_init(&m->norb, (size_t)nknown));
  for (int64_t k = 0; k < nknown; k++) {
    int z = at->z[k];
    NH_CHECK(z >= 1 && z <= 118 && m->norb_of_z[z] > 0, NH_ERR_INPUT,
             "matrix '%s': atom %" PRId64 " (Z = %d) has no orbitals "
             "(norb_of_z[%d] = %d): is its element missing from the basis?",
             m->name, at->gid[k], z, z,
             (z >= 1 && z <= 118) ? m->norb_of_z[z] : -1);
    NH_CALL(nh_hmap_put(&m->norb, (uint64_t)at->gid[k], 0, m->norb_of_z[z]));
  }
  return NH_OK;
}

static nh_err mat_alloc(const nh_domain *dom, const int *norb_of_z,
                        const char *name, nh_mat **out) {
  nh_mat *m;
  NH_CALL(nh_calloc(1, sizeof *m, &m));
  *out = m;
  m->dom = dom;
  m->ctx = nh_domain_ctx(dom);
  snprintf(m->name, sizeof m->name, "%s", name ? name : "");
  memcpy(m->norb_of_z, norb_of_z, sizeof m->norb_of_z);
  m->sorted = 1;
  NH_CALL(nh_hmap_init(&m->index, 0));
  NH_CALL(build_norb_table(m));
  return NH_OK;
}

nh_err nh_mat_create(const nh_domain *dom, const int *norb_of_z,
                     const char *name, nh_mat **m) {
  NH_CHECK(dom && norb_of_z && m, NH_ERR_ARG, "nh_mat_create: NULL argument");
  *m = NULL;
  nh_err err =
      nh_ctx_agree(nh_domain_ctx(dom), mat_alloc(dom, norb_of_z, name, m));
  if (err) /* on every rank, also where the allocation succeeded */
    nh_mat_destroy(m);
  NH_CALL(err);
  return NH_OK;
}

nh_err nh_mat_destroy(nh_mat **m) {
  if (!m || !*m)
    return NH_OK;
  nh_mat *a = *m;
  nh_hmap_free(&a->norb);
  nh_hmap_free(&a->index);
  nh_free(&a->blk);
  nh_free(&a->val);
  nh_free(&a->pending.hdr);
  nh_free(&a->pending.val);
  nh_free(m);
  return NH_OK;
}

/* Rebuilds the key -> block hash with room for `expected` blocks. */
static nh_err index_rebuild(nh_mat *m, int64_t expected) {
  nh_hmap_free(&m->index);
  NH_CALL(nh_hmap_init(&m->index, (size_t)expected));
  for (int64_t b = 0; b < m->nblk; b++) {
    uint64_t k1, k2;
    nh_hmap_block_key(m->blk[b].key.i, m->blk[b].key.j, m->blk[b].key.n, &k1,
                      &k2);
    NH_CALL(nh_hmap_put(&m->index, k1, k2, b));
  }
  return NH_OK;
}

/* Asks Linux for transparent huge pages on a large buffer (a hint; THP is
 * often in "madvise" mode): first touch of gigabytes of values otherwise
 * costs one page fault per 4 KiB, half of the assembly time in a VM. */
static void hint_huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t page = 4096;
  uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
  uintptr_t hi = ((uintptr_t)p + bytes) & ~(page - 1);
  if (bytes >= ((size_t)1 << 24) && hi > lo)
    madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

nh_err nh_mat_reserve(nh_mat *m, int64_t nblocks, int64_t nvalues) {
  /* a hash sized at once avoids rehashing millions of keys while growing */
  if (2 * (size_t)nblocks + 2 > m->index.cap)
    NH_CALL(index_rebuild(m, nblocks));
  if (nblocks > m->capblk) {
    NH_CALL(nh_realloc((size_t)nblocks * sizeof *m->blk, &m->blk));
    m->capblk = nblocks;
  }
  if (nvalues > m->capval) {
    NH_CALL(nh_realloc((size_t)nvalues * sizeof *m->val, &m->val));
    hint_huge_pages(m->val, (size_t)nvalues * sizeof *m->val);
    m->capval = nvalues;
  }
  return NH_OK;
}

static nh_err mat_copy(const nh_mat *src, int copy_values, nh_mat *m) {
  NH_CALL(nh_mat_reserve(m, src->nblk, src->nval));
  if (src->nblk) { /* an empty matrix may hold NULL arrays */
    memcpy(m->blk, src->blk, (size_t)src->nblk * sizeof *m->blk);
    if (copy_values)
      memcpy(m->val, src->val, (size_t)src->nval * sizeof *m->val);
    else
      memset(m->val, 0, (size_t)src->nval * sizeof *m->val);
  }
  m->nblk = src->nblk;
  m->nval = src->nval;
  m->sorted = src->sorted;
  NH_CALL(index_rebuild(m, m->nblk));
  return NH_OK;
}

nh_err nh_mat_duplicate(const nh_mat *src, int copy_values, const char *name,
                        nh_mat **out) {
  NH_CHECK(src && out, NH_ERR_ARG, "nh_mat_duplicate: NULL argument");
  *out = NULL;
  nh_err err = NH_OK;
  if (src->pending.n)
    err = nh_error_set(NH_ERR_ARG, __FILE__, __LINE__, __func__,
                       "nh_mat_duplicate: matrix '%s' has %" PRId64
                       " remote blocks not yet assembled (call "
                       "nh_mat_assemble first)",
                       src->name, src->pending.n);
  if (!err)
    err = mat_alloc(src->dom, src->norb_of_z, name, out);
  if (!err)
    err = mat_copy(src, copy_values, *out);
  err = nh_ctx_agree(src->ctx, err);
  if (err)
    nh_mat_destroy(out);
  NH_CALL(err);
  return NH_OK;
}

const char *nh_mat_name(const nh_mat *m) { return m->name; }
const nh_domain *nh_mat_domain(const nh_mat *m) { return m->dom; }

int nh_mat_norb(const nh_mat *m, int64_t gid) {
  if (gid < 0)
    return -1;
  return (int)nh_hmap_get(&m->norb, (uint64_t)gid, 0);
}

int64_t nh_mat_find(const nh_mat *m, int64_t i, int64_t j, const int n[3]) {
  uint64_t k1, k2;
  nh_hmap_block_key(i, j, n, &k1, &k2);
  return nh_hmap_get(&m->index, k1, k2);
}

nh_err nh_mat_shape(const nh_mat *m, int64_t i, int64_t j, const int n[3],
                    int *nr, int *nc) {
  const nh_ctx *ctx = m->ctx;
  *nr = nh_mat_norb(m, i);
  *nc = nh_mat_norb(m, j);
  NH_CHECK(*nr > 0, NH_ERR_ARG,
           "matrix '%s', block " KEYFMT " on rank %d: atom %" PRId64
           " is neither owned nor a ghost here",
           m->name, KEYARG(i, j, n), ctx->rank, i);
  NH_CHECK(*nc > 0, NH_ERR_ARG,
           "matrix '%s', block " KEYFMT " on rank %d: atom j = %" PRId64
           " is neither owned nor a ghost here (halo %.3f bohr narrower "
           "than the pair distance?)",
           m->name, KEYARG(i, j, n), ctx->rank, j, nh_domain_halo(m->dom));
  for (int d = 0; d < 3; d++)
    NH_CHECK(n[d] > -(1 << 20) && n[d] < (1 << 20), NH_ERR_ARG,
             "matrix '%s', block " KEYFMT ": image out of range", m->name,
             KEYARG(i, j, n));
  return NH_OK;
}

nh_err nh_mat_check_local(const nh_mat *m, int64_t i, int64_t j, const int n[3],
                          int *nr, int *nc) {
  NH_CHECK(nh_domain_local_index(m->dom, i) >= 0, NH_ERR_ARG,
           "matrix '%s', block " KEYFMT ": atom i = %" PRId64 " is not owned "
           "by rank %d (owner %d); use nh_mat_set_remote/add_remote",
           m->name, KEYARG(i, j, n), i, m->ctx->rank,
           nh_domain_owner(m->dom, i));
  NH_CALL(nh_mat_shape(m, i, j, n, nr, nc));
  return NH_OK;
}

nh_err nh_mat_check_shape(const nh_mat *m, int64_t i, int64_t j, int nrow,
                          int ncol) {
  const int n0[3] = {0, 0, 0};
  int nr, nc;
  NH_CALL(nh_mat_shape(m, i, j, n0, &nr, &nc));
  NH_CHECK(nr == nrow && nc == ncol, NH_ERR_INPUT,
           "matrix '%s': block of atoms i=%" PRId64 ", j=%" PRId64
           " is %d x %d "
           "in the basis, but %d x %d was given",
           m->name, i, j, nr, nc, nrow, ncol);
  return NH_OK;
}

int nh_block_key_cmp(const nh_block_key *a, const nh_block_key *b) {
  if (a->i != b->i)
    return a->i < b->i ? -1 : 1;
  if (a->j != b->j)
    return a->j < b->j ? -1 : 1;
  for (int d = 0; d < 3; d++)
    if (a->n[d] != b->n[d])
      return a->n[d] < b->n[d] ? -1 : 1;
  return 0;
}

nh_err nh_mat_insert(nh_mat *m, int64_t i, int64_t j, const int n[3], int nr,
                     int nc, int zero, int64_t *pos) {
  *pos = nh_mat_find(m, i, j, n);
  if (*pos >= 0)
    return NH_OK;
  int64_t size = (int64_t)nr * nc;
  if (m->nblk == m->capblk)
    NH_CALL(nh_mat_reserve(m, m->capblk ? 2 * m->capblk : 64, 0));
  if (m->nval + size > m->capval) {
    int64_t cap = m->capval ? 2 * m->capval : 4096;
    while (cap < m->nval + size)
      cap *= 2;
    NH_CALL(nh_mat_reserve(m, 0, cap));
  }
  nh_mat_blk *b = &m->blk[m->nblk];
  b->key.i = i;
  b->key.j = j;
  memcpy(b->key.n, n, sizeof b->key.n);
  b->off = m->nval;
  b->nr = nr;
  b->nc = nc;
  if (zero)
    memset(m->val + b->off, 0, (size_t)size * sizeof *m->val);
  if (m->nblk > 0 && nh_block_key_cmp(&m->blk[m->nblk - 1].key, &b->key) > 0)
    m->sorted = 0;
  uint64_t k1, k2;
  nh_hmap_block_key(i, j, n, &k1, &k2);
  NH_CALL(nh_hmap_put(&m->index, k1, k2, m->nblk));
  *pos = m->nblk++;
  m->nval += size;
  return NH_OK;
}

static nh_err put_block(nh_mat *m, int64_t i, int64_t j, const int n[3],
                        const double *block, int add) {
  int nr, nc;
  int64_t pos;
  NH_CALL(nh_mat_check_local(m, i, j, n, &nr, &nc));
  NH_CALL(nh_mat_insert(m, i, j, n, nr, nc, add, &pos));
  double *v = m->val + m->blk[pos].off;
  int64_t size = (int64_t)nr * nc;
  if (add)
    for (int64_t k = 0; k < size; k++)
      v[k] += block[k];
  else
    memcpy(v, block, (size_t)size * sizeof *v);
  return NH_OK;
}

nh_err nh_mat_set_block(nh_mat *m, int64_t i, int64_t j, const int n[3],
                        const double *block) {
  NH_CALL(put_block(m, i, j, n, block, 0));
  return NH_OK;
}

nh_err nh_mat_add_block(nh_mat *m, int64_t i, int64_t j, const int n[3],
                        const double *block) {
  NH_CALL(put_block(m, i, j, n, block, 1));
  return NH_OK;
}

double *nh_mat_get_block(const nh_mat *m, int64_t i, int64_t j,
                         const int n[3]) {
  int64_t pos = nh_mat_find(m, i, j, n);
  return pos < 0 ? NULL : m->val + m->blk[pos].off;
}

int64_t nh_mat_nblocks(const nh_mat *m) { return m->nblk; }
int64_t nh_mat_nvalues(const nh_mat *m) { return m->nval; }

void nh_mat_block(const nh_mat *m, int64_t k, nh_block_key *key,
                  double **values) {
  if (key)
    *key = m->blk[k].key;
  if (values)
    *values = m->val + m->blk[k].off;
}

static int blk_cmp(const void *a, const void *b) {
  return nh_block_key_cmp(&((const nh_mat_blk *)a)->key,
                          &((const nh_mat_blk *)b)->key);
}

/* Sorts the block table by key (values stay in place) and re-points the
 * hash. Keys are unique, so the order is fully determined by the set of
 * blocks, independent of insertion order and rank count. */
nh_err nh_mat_sort(nh_mat *m) {
  if (m->sorted)
    return NH_OK;
  qsort(m->blk, (size_t)m->nblk, sizeof *m->blk, blk_cmp);
  for (int64_t b = 0; b < m->nblk; b++) {
    uint64_t k1, k2;
    nh_hmap_block_key(m->blk[b].key.i, m->blk[b].key.j, m->blk[b].key.n, &k1,
                      &k2);
    NH_CALL(nh_hmap_put(&m->index, k1, k2, b));
  }
  m->sorted = 1;
  return NH_OK;
}
