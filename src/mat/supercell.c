/* Supercells of a real-space block-sparse matrix (include/nextham/supercell.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nextham/supercell.h"

static int floordiv(int a, int m) { return (a >= 0 ? a : a - m + 1) / m; }

nh_err nh_supercell_structure(const nh_structure *prim, const int m[3],
                              nh_structure **sc) {
  *sc = NULL;
  for (int k = 0; k < 3; k++) {
    NH_CHECK(m[k] >= 1 && m[k] <= 1000, NH_ERR_INPUT,
             "supercell size %d along a%d must be 1 .. 1000", m[k], k + 1);
    NH_CHECK(m[k] == 1 || prim->pbc[k], NH_ERR_INPUT,
             "supercell size %d along a%d, which is not periodic", m[k], k + 1);
  }
  int64_t ncell = (int64_t)m[0] * m[1] * m[2], n = ncell * prim->natoms;
  NH_CHECK(n < (1 << 30), NH_ERR_INPUT, "supercell of %lld atoms is too large",
           (long long)n);
  double (*tau)[3];
  NH_CALL(nh_malloc((size_t)prim->natoms * sizeof *tau, &tau));
  nh_structure_wrap_cp2k(prim, tau);
  nh_err err;
  nh_structure *s = NULL;
  NH_CALL_GOTO(nh_structure_create((int)n, &s), done);
  for (int k = 0; k < 3; k++) {
    s->pbc[k] = prim->pbc[k];
    for (int x = 0; x < 3; x++) s->lattice[k][x] = m[k] * prim->lattice[k][x];
  }
  snprintf(s->source, sizeof s->source, "%dx%dx%d supercell of %.200s", m[0], m[1],
           m[2], prim->source);
  for (int64_t c = 0; c < ncell; c++) {
    int t[3] = {(int)(c % m[0]), (int)(c / m[0] % m[1]), (int)(c / m[0] / m[1])};
    for (int a = 0; a < prim->natoms; a++) {
      int64_t g = a + prim->natoms * c;
      s->z[g] = prim->z[a];
      for (int x = 0; x < 3; x++)
        s->pos[g][x] = tau[a][x] + t[0] * prim->lattice[0][x] +
                       t[1] * prim->lattice[1][x] + t[2] * prim->lattice[2][x];
    }
  }
  *sc = s;
  err = NH_OK;
done:
  nh_free(&tau);
  return err;
}

nh_err nh_supercell_pair_range(const nh_mat *M, const nh_structure *prim,
                               double *range) {
  double (*tau)[3];
  NH_CALL(nh_malloc((size_t)prim->natoms * sizeof *tau, &tau));
  nh_structure_wrap_cp2k(prim, tau);
  double r = 0;
  for (int64_t q = 0; q < nh_mat_nblocks(M); q++) {
    nh_block_key key;
    nh_mat_block(M, q, &key, NULL);
    double d2 = 0;
    for (int x = 0; x < 3; x++) {
      double d = tau[key.j][x] - tau[key.i][x];
      for (int k = 0; k < 3; k++) d += key.n[k] * prim->lattice[k][x];
      d2 += d * d;
    }
    if (d2 > r * r) r = sqrt(d2);
  }
  nh_free(&tau);
  NH_MPI(MPI_Allreduce(&r, range, 1, MPI_DOUBLE, MPI_MAX,
                       nh_domain_ctx(nh_mat_domain(M))->comm));
  return NH_OK;
}

/* Every block of M on every rank: keys (i, j, n1, n2, n3), value offsets
 * (nblocks + 1) and values, sorted as the ranks hold them. */
typedef struct all_blocks {
  int64_t nblocks;
  int64_t *key, *off;
  double *val;
} all_blocks;

static void all_blocks_free(all_blocks *ab) {
  nh_free(&ab->key);
  nh_free(&ab->off);
  nh_free(&ab->val);
}

static nh_err gather_counts(MPI_Comm comm, int size, long long mine,
                            int **counts, int **displs) {
  long long *all;
  NH_CALL(nh_malloc((size_t)size * sizeof *all, &all));
  NH_CALL(nh_malloc((size_t)size * sizeof **counts, counts));
  NH_CALL(nh_malloc((size_t)size * sizeof **displs, displs));
  NH_MPI(MPI_Allgather(&mine, 1, MPI_LONG_LONG, all, 1, MPI_LONG_LONG, comm));
  long long tot = 0;
  for (int r = 0; r < size; r++) {
    (*counts)[r] = (int)all[r];
    (*displs)[r] = (int)tot;
    tot += all[r];
  }
  nh_free(&all);
  NH_CHECK(tot < 2147483647LL, NH_ERR_INPUT,
           "the matrix to tile has %lld values: too large for a primitive cell",
           tot);
  return NH_OK;
}

static nh_err gather_blocks(const nh_mat *M, all_blocks *ab) {
  const nh_ctx *ctx = nh_domain_ctx(nh_mat_domain(M));
  int64_t nb = nh_mat_nblocks(M), nv = 0;
  int64_t *key = NULL, *len = NULL, *lens = NULL;
  double *val = NULL;
  int *kc = NULL, *kd = NULL, *vc = NULL, *vd = NULL;
  memset(ab, 0, sizeof *ab);
  nh_err err;
  NH_CALL_GOTO(nh_malloc((size_t)nb * 5 * sizeof *key, &key), done);
  NH_CALL_GOTO(nh_malloc((size_t)nb * sizeof *len, &len), done);
  NH_CALL_GOTO(nh_malloc((size_t)nh_mat_nvalues(M) * sizeof *val, &val), done);
  for (int64_t q = 0; q < nb; q++) {
    nh_block_key k;
    double *v;
    nh_mat_block(M, q, &k, &v);
    int64_t kk[5] = {k.i, k.j, k.n[0], k.n[1], k.n[2]};
    memcpy(key + 5 * q, kk, sizeof kk);
    len[q] = (int64_t)nh_mat_norb(M, k.i) * nh_mat_norb(M, k.j);
    memcpy(val + nv, v, (size_t)len[q] * sizeof *val);
    nv += len[q];
  }
  NH_CALL_GOTO(gather_counts(ctx->comm, ctx->size, (long long)nb * 5, &kc, &kd), done);
  NH_CALL_GOTO(gather_counts(ctx->comm, ctx->size, (long long)nv, &vc, &vd), done);
  int last = ctx->size - 1;
  ab->nblocks = (kd[last] + kc[last]) / 5;
  int64_t nvtot = vd[last] + vc[last];
  NH_CALL_GOTO(nh_malloc((size_t)ab->nblocks * 5 * sizeof *ab->key, &ab->key), done);
  NH_CALL_GOTO(nh_malloc((size_t)(ab->nblocks + 1) * sizeof *ab->off, &ab->off), done);
  NH_CALL_GOTO(nh_malloc((size_t)nvtot * sizeof *ab->val, &ab->val), done);
  NH_CALL_GOTO(nh_malloc((size_t)ab->nblocks * sizeof *lens, &lens), done);
  int rc = MPI_Allgatherv(key, (int)nb * 5, MPI_INT64_T, ab->key, kc, kd,
                          MPI_INT64_T, ctx->comm);
  for (int r = 0; r < ctx->size; r++) kc[r] /= 5, kd[r] /= 5;
  if (rc == MPI_SUCCESS)
    rc = MPI_Allgatherv(len, (int)nb, MPI_INT64_T, lens, kc, kd, MPI_INT64_T,
                        ctx->comm);
  if (rc == MPI_SUCCESS)
    rc = MPI_Allgatherv(val, (int)nv, MPI_DOUBLE, ab->val, vc, vd, MPI_DOUBLE,
                        ctx->comm);
  NH_CHECK_GOTO(rc == MPI_SUCCESS, done, NH_ERR_MPI,
                "MPI_Allgatherv of the blocks to tile failed (code %d)", rc);
  ab->off[0] = 0;
  for (int64_t q = 0; q < ab->nblocks; q++) ab->off[q + 1] = ab->off[q] + lens[q];
  err = NH_OK;
done:
  nh_free(&key);
  nh_free(&len);
  nh_free(&val);
  nh_free(&kc);
  nh_free(&kd);
  nh_free(&vc);
  nh_free(&vd);
  nh_free(&lens);
  if (err) all_blocks_free(ab);
  return err;
}

/* R of each supercell atom: its position minus its CP2K-wrapped position,
 * in supercell lattice vectors, wrapped exactly as the domain wraps. */
static nh_err wrap_shifts(const nh_structure *sc, int (**R)[3]) {
  double (*tau)[3] = NULL, recip[3][3];
  NH_CALL(nh_lattice_reciprocal(sc->lattice, recip));
  NH_CALL(nh_malloc((size_t)sc->natoms * sizeof *tau, &tau));
  NH_CALL(nh_malloc((size_t)sc->natoms * sizeof **R, R));
  nh_structure_wrap_cp2k(sc, tau);
  for (int g = 0; g < sc->natoms; g++) {
    double d[3], f[3];
    for (int x = 0; x < 3; x++) d[x] = sc->pos[g][x] - tau[g][x];
    nh_lattice_to_frac(recip, d, f);
    for (int k = 0; k < 3; k++) (*R)[g][k] = (int)lround(f[k]);
  }
  nh_free(&tau);
  return NH_OK;
}

/* The blocks of supercell atom g (owned here) from the primitive's blocks
 * of atom a = g mod natoms: ab blocks order[first[a] .. first[a+1]). */
static nh_err tile_atom(nh_mat *out, const all_blocks *ab, const int64_t *first,
                        const int64_t *order, int natoms, const int m[3],
                        int (*R)[3], int64_t g) {
  int64_t a = g % natoms, c = g / natoms;
  int t[3] = {(int)(c % m[0]), (int)(c / m[0] % m[1]), (int)(c / m[0] / m[1])};
  for (int64_t p = first[a]; p < first[a + 1]; p++) {
    const int64_t *k = ab->key + 5 * order[p];
    int tb[3], n[3];
    for (int x = 0; x < 3; x++) {
      int u = t[x] + (int)k[2 + x];
      n[x] = floordiv(u, m[x]);
      tb[x] = u - m[x] * n[x];
    }
    int64_t gb = k[1] + natoms * (tb[0] + (int64_t)m[0] * (tb[1] + (int64_t)m[1] * tb[2]));
    for (int x = 0; x < 3; x++) n[x] += R[gb][x] - R[g][x];
    NH_CALL(nh_mat_set_block(out, g, gb, n, ab->val + ab->off[order[p]]));
  }
  return NH_OK;
}

/* Local: the gathered blocks indexed by atom i (counting sort). */
static nh_err index_by_atom(const all_blocks *ab, int natoms, int64_t **first,
                            int64_t **order) {
  int64_t *fill;
  NH_CALL(nh_calloc((size_t)natoms + 1, sizeof **first, first));
  NH_CALL(nh_malloc((size_t)(ab->nblocks ? ab->nblocks : 1) * sizeof **order, order));
  for (int64_t q = 0; q < ab->nblocks; q++) (*first)[ab->key[5 * q] + 1]++;
  for (int a = 0; a < natoms; a++) (*first)[a + 1] += (*first)[a];
  NH_CALL(nh_malloc((size_t)natoms * sizeof *fill, &fill));
  memcpy(fill, *first, (size_t)natoms * sizeof *fill);
  for (int64_t q = 0; q < ab->nblocks; q++) (*order)[fill[ab->key[5 * q]]++] = q;
  nh_free(&fill);
  return NH_OK;
}

nh_err nh_supercell_tile(const nh_mat *M, const nh_structure *prim,
                         const nh_structure *sc, const int m[3],
                         const nh_domain *scdom, const int *norb_of_z,
                         const char *name, nh_mat **out) {
  const nh_ctx *ctx = nh_domain_ctx(scdom);
  all_blocks ab;
  int (*R)[3] = NULL;
  int64_t *first = NULL, *order = NULL;
  *out = NULL;
  NH_CHECK(sc->natoms == (int64_t)prim->natoms * m[0] * m[1] * m[2], NH_ERR_ARG,
           "supercell of %d atoms is not %dx%dx%d times %d", sc->natoms, m[0],
           m[1], m[2], prim->natoms);
  NH_CALL(gather_blocks(M, &ab));
  nh_err err = wrap_shifts(sc, &R);
  if (!err) err = index_by_atom(&ab, prim->natoms, &first, &order);
  err = nh_ctx_agree(ctx, err); /* local setup, before the collective create */
  if (!err) {
    err = nh_mat_create(scdom, norb_of_z, name, out);
    const nh_atoms *at = nh_domain_atoms(scdom);
    for (int64_t l = 0; !err && l < at->nlocal; l++)
      err = tile_atom(*out, &ab, first, order, prim->natoms, m, R, at->gid[l]);
    /* a local failure (a halo too small for a block) is agreed on */
    err = nh_ctx_agree(ctx, err);
  }
  if (!err) err = nh_mat_assemble(*out); /* sorts the blocks by key */
  if (err) nh_mat_destroy(out);
  nh_free(&order);
  nh_free(&first);
  nh_free(&R);
  all_blocks_free(&ab);
  NH_CALL(err);
  return NH_OK;
}
