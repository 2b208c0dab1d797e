/* nextham solve: Bloch sums H(k) = sum_n H(n) exp(+2 pi i k.n) (and S(k))
 * computed by the owners of the row atoms and sent element by element to
 * their owners in the block-cyclic layouts of the k-groups.
 *
 * Global orbital index: atoms in input order, each atom's orbitals in CP2K
 * order. Every rank learns (gid, norb, Z) of every atom with one
 * MPI_Allgatherv: O(N) ints per rank, the only global array; the matrices
 * themselves are never gathered. */
#include <complex.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "denseimpl.h"

/* One stored block of H (src 0) or S (src 1). */
typedef struct bloch_entry {
  int64_t i, j;
  int n[3];
  int src;
  const double *v;
} bloch_entry;

struct nh_bloch {
  nh_ctx ctx;
  int64_t natoms, norb;
  int64_t *offs; /* natoms + 1 */
  int *z;        /* natoms     */
  int64_t nentries, nruns;
  bloch_entry *e; /* sorted by (i, j); runs of one atom pair */
  int64_t *run;   /* nruns + 1 starts into e */
  int maxblk;     /* largest norb(i) * norb(j) */
};

/* What travels: one element of H(k) and S(k). */
typedef struct bloch_elem {
  int32_t r, c;
  double complex h, s;
} bloch_elem;

static int entry_cmp(const void *pa, const void *pb) {
  const bloch_entry *a = pa, *b = pb;
  if (a->i != b->i)
    return a->i < b->i ? -1 : 1;
  if (a->j != b->j)
    return a->j < b->j ? -1 : 1;
  return 0;
}

/* offs and z of every atom from the owners' (gid, norb, Z). */
static nh_err bloch_layout(nh_bloch *b, const nh_mat *H, const nh_mat *S) {
  nh_err err = NH_OK;
  const nh_atoms *at = nh_domain_atoms(nh_mat_domain(H));
  int P = b->ctx.size, nloc = (int)at->nlocal;
  int *counts = NULL, *displs = NULL;
  int64_t *mine = NULL, *all = NULL;
  b->natoms = at->natoms_global;
  NH_CALL_GOTO(nh_malloc(3 * (size_t)(nloc + 1) * sizeof *mine, &mine), done);
  NH_CALL_GOTO(nh_malloc(3 * (size_t)b->natoms * sizeof *all, &all), done);
  NH_CALL_GOTO(nh_malloc((size_t)P * sizeof *counts, &counts), done);
  NH_CALL_GOTO(nh_malloc((size_t)P * sizeof *displs, &displs), done);
  NH_CALL_GOTO(nh_malloc((size_t)(b->natoms + 1) * sizeof *b->offs, &b->offs),
               done);
  NH_CALL_GOTO(
      nh_malloc((size_t)(b->natoms > 0 ? b->natoms : 1) * sizeof *b->z, &b->z),
      done);
  for (int a = 0; a < nloc; a++) {
    mine[3 * a] = at->gid[a];
    mine[3 * a + 1] = nh_mat_norb(H, at->gid[a]);
    mine[3 * a + 2] = at->z[a];
    NH_CHECK_GOTO(nh_mat_norb(S, at->gid[a]) == mine[3 * a + 1], done,
                  NH_ERR_ARG,
                  "solve: atom %lld has %d orbitals in %s but %d "
                  "in %s",
                  (long long)at->gid[a], nh_mat_norb(S, at->gid[a]),
                  nh_mat_name(S), (int)mine[3 * a + 1], nh_mat_name(H));
  }
done:
  err = nh_ctx_agree(&b->ctx, err);
  if (err)
    goto out;
  int n3 = 3 * nloc;
  NH_MPI(MPI_Allgather(&n3, 1, MPI_INT, counts, 1, MPI_INT, b->ctx.comm));
  displs[0] = 0;
  for (int r = 1; r < P; r++)
    displs[r] = displs[r - 1] + counts[r - 1];
  NH_MPI(MPI_Allgatherv(mine, n3, MPI_INT64_T, all, counts, displs, MPI_INT64_T,
                        b->ctx.comm));
  int64_t *norb = b->offs + 1; /* norb[gid], then prefix sums in place */
  for (int64_t a = 0; a < b->natoms; a++) {
    norb[all[3 * a]] = all[3 * a + 1];
    b->z[all[3 * a]] = (int)all[3 * a + 2];
  }
  b->offs[0] = 0;
  for (int64_t a = 0; a < b->natoms; a++)
    b->offs[a + 1] += b->offs[a];
  b->norb = b->offs[b->natoms];
out:
  nh_free(&mine);
  nh_free(&all);
  nh_free(&counts);
  nh_free(&displs);
  return err;
}

/* The local blocks of H and S sorted by atom pair, in runs per pair. */
static nh_err bloch_entries(nh_bloch *b, const nh_mat *H, const nh_mat *S) {
  const nh_mat *m[2] = {H, S};
  int64_t nb[2] = {nh_mat_nblocks(H), nh_mat_nblocks(S)}, k = 0;
  b->nentries = nb[0] + nb[1];
  NH_CALL(nh_malloc((size_t)(b->nentries + 1) * sizeof *b->e, &b->e));
  NH_CALL(nh_malloc((size_t)(b->nentries + 1) * sizeof *b->run, &b->run));
  for (int src = 0; src < 2; src++)
    for (int64_t q = 0; q < nb[src]; q++, k++) {
      nh_block_key key;
      double *v;
      nh_mat_block(m[src], q, &key, &v);
      b->e[k] =
          (bloch_entry){key.i, key.j, {key.n[0], key.n[1], key.n[2]}, src, v};
    }
  qsort(b->e, (size_t)b->nentries, sizeof *b->e, entry_cmp);
  b->nruns = 0;
  b->maxblk = 1;
  for (k = 0; k < b->nentries; k++) {
    if (k > 0 && entry_cmp(&b->e[k], &b->e[k - 1]) == 0)
      continue;
    b->run[b->nruns++] = k;
    int64_t sz = (b->offs[b->e[k].i + 1] - b->offs[b->e[k].i]) *
                 (b->offs[b->e[k].j + 1] - b->offs[b->e[k].j]);
    if (sz > b->maxblk)
      b->maxblk = (int)sz;
  }
  b->run[b->nruns] = b->nentries;
  return NH_OK;
}

nh_err nh_bloch_create(const nh_mat *H, const nh_mat *S, nh_bloch **out) {
  nh_err err;
  nh_bloch *b = NULL;
  *out = NULL;
  NH_CHECK(nh_mat_domain(H) == nh_mat_domain(S), NH_ERR_ARG,
           "solve: %s and %s live on different domains", nh_mat_name(H),
           nh_mat_name(S));
  NH_CALL(nh_calloc(1, sizeof *b, &b));
  b->ctx = *nh_domain_ctx(nh_mat_domain(H));
  NH_CALL_GOTO(bloch_layout(b, H, S), fail);
  err = bloch_entries(b, H, S);
  NH_CALL_GOTO(nh_ctx_agree(&b->ctx, err), fail);
  *out = b;
  return NH_OK;
fail:
  nh_bloch_destroy(&b);
  return err;
}

nh_err nh_bloch_destroy(nh_bloch **bp) {
  nh_bloch *b = bp ? *bp : NULL;
  if (!b)
    return NH_OK;
  nh_free(&b->offs);
  nh_free(&b->z);
  nh_free(&b->e);
  nh_free(&b->run);
  nh_free(bp);
  return NH_OK;
}

int64_t nh_bloch_norb(const nh_bloch *b) { return b->norb; }
int64_t nh_bloch_natoms(const nh_bloch *b) { return b->natoms; }
const int64_t *nh_bloch_offsets(const nh_bloch *b) { return b->offs; }
const int *nh_bloch_z(const nh_bloch *b) { return b->z; }

/* ---------------------------------------------------------------------------
 * Exchange
 * ------------------------------------------------------------------------- */

/* Rank (in the communicator) of the owner of element (r, c) in group g. */
static inline int elem_dest(const nh_kgroups *kg, int g, int64_t r, int64_t c) {
  int pr = nh_bc_owner(r, kg->nblk, kg->nprow[g]);
  int pc = nh_bc_owner(c, kg->nblk, kg->npcol[g]);
  return kg->first[g] + pr * kg->npcol[g] + pc;
}

/* Elements this rank sends to each rank (the same for every k). */
static void bloch_count(const nh_bloch *b, const nh_kgroups *kg,
                        const int *has_k, int64_t *counts) {
  for (int g = 0; g < kg->ngroups; g++) {
    if (!has_k[g])
      continue;
    for (int64_t q = 0; q < b->nruns; q++) {
      const bloch_entry *e = &b->e[b->run[q]];
      for (int64_t r = b->offs[e->i]; r < b->offs[e->i + 1]; r++)
        for (int64_t c = b->offs[e->j]; c < b->offs[e->j + 1]; c++)
          counts[elem_dest(kg, g, r, c)]++;
    }
  }
}

/* Sums the blocks of run q at k into hb, sb (norb(i) x norb(j), row-major). */
static void bloch_sum_run(const nh_bloch *b, int64_t q, const double k[3],
                          double complex *hb, double complex *sb) {
  const bloch_entry *e0 = &b->e[b->run[q]];
  int64_t sz = (b->offs[e0->i + 1] - b->offs[e0->i]) *
               (b->offs[e0->j + 1] - b->offs[e0->j]);
  memset(hb, 0, (size_t)sz * sizeof *hb);
  memset(sb, 0, (size_t)sz * sizeof *sb);
  for (int64_t t = b->run[q]; t < b->run[q + 1]; t++) {
    const bloch_entry *e = &b->e[t];
    double arg = 2 * M_PI * (k[0] * e->n[0] + k[1] * e->n[1] + k[2] * e->n[2]);
    double complex ph = cos(arg) + I * sin(arg);
    double complex *dst = e->src == 0 ? hb : sb;
    for (int64_t x = 0; x < sz; x++)
      dst[x] += e->v[x] * ph;
  }
}

static void bloch_pack(const nh_bloch *b, const nh_kgroups *kg,
                       const double (*kg_k)[3], const int *has_k, int64_t *pos,
                       bloch_elem *buf, double complex *hb,
                       double complex *sb) {
  for (int g = 0; g < kg->ngroups; g++) {
    if (!has_k[g])
      continue;
    for (int64_t q = 0; q < b->nruns; q++) {
      const bloch_entry *e = &b->e[b->run[q]];
      int64_t r0 = b->offs[e->i], c0 = b->offs[e->j];
      int64_t ni = b->offs[e->i + 1] - r0, nj = b->offs[e->j + 1] - c0;
      bloch_sum_run(b, q, kg_k[g], hb, sb);
      for (int64_t a = 0; a < ni; a++)
        for (int64_t c = 0; c < nj; c++) {
          bloch_elem *el = &buf[pos[elem_dest(kg, g, r0 + a, c0 + c)]++];
          el->r = (int32_t)(r0 + a);
          el->c = (int32_t)(c0 + c);
          el->h = hb[a * nj + c];
          el->s = sb[a * nj + c];
        }
    }
  }
}

static nh_err bloch_unpack(const bloch_elem *buf, int64_t n, nh_dense *d) {
  memset(d->h, 0, (size_t)d->lld * d->ncols * sizeof *d->h);
  memset(d->s, 0, (size_t)d->lld * d->ncols * sizeof *d->s);
  for (int64_t x = 0; x < n; x++) {
    int64_t r = buf[x].r, c = buf[x].c;
    NH_CHECK(nh_bc_owner(r, d->nblk, d->nprow) == d->myrow &&
                 nh_bc_owner(c, d->nblk, d->npcol) == d->mycol,
             NH_ERR_INTERNAL,
             "Bloch exchange: element (%lld, %lld) sent to "
             "grid process (%d, %d)",
             (long long)r, (long long)c, d->myrow, d->mycol);
    size_t at = (size_t)nh_bc_local(r, d->nblk, d->nprow) +
                (size_t)nh_bc_local(c, d->nblk, d->npcol) * d->lld;
    d->h[at] = buf[x].h;
    d->s[at] = buf[x].s;
  }
  return NH_OK;
}

/* int counts and displacements for MPI, refusing what does not fit. */
static nh_err to_int(const int64_t *c64, int P, int *c, int *displ,
                     int64_t *total) {
  *total = 0;
  for (int r = 0; r < P; r++) {
    NH_CHECK(*total + c64[r] <= INT_MAX, NH_ERR_MPI,
             "Bloch exchange: more than %d elements to send or receive on "
             "one rank; use more ranks per k-group",
             INT_MAX);
    c[r] = (int)c64[r];
    displ[r] = (int)*total;
    *total += c64[r];
  }
  return NH_OK;
}

nh_err nh_bloch_fill(const nh_bloch *b, const nh_kgroups *kg,
                     const double (*kg_k)[3], const int *has_k, nh_dense *d) {
  nh_err err = NH_OK;
  int P = b->ctx.size;
  int64_t *c64 = NULL, *pos = NULL, nsend = 0, nrecv = 0;
  int *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL;
  bloch_elem *sbuf = NULL, *rbuf = NULL;
  double complex *hb = NULL, *sb = NULL;
  MPI_Datatype t = MPI_DATATYPE_NULL;
  nh_timer_start("solve: Bloch sums");
  NH_CALL_GOTO(nh_calloc((size_t)P, sizeof *c64, &c64), local);
  NH_CALL_GOTO(nh_malloc((size_t)P * sizeof *pos, &pos), local);
  NH_CALL_GOTO(nh_malloc(4 * (size_t)P * sizeof *sc, &sc), local);
  sd = sc + P;
  rc = sc + 2 * P;
  rd = sc + 3 * P;
  bloch_count(b, kg, has_k, c64);
  NH_CALL_GOTO(to_int(c64, P, sc, sd, &nsend), local);
  for (int r = 0; r < P; r++)
    pos[r] = sd[r];
  NH_CALL_GOTO(nh_malloc((size_t)nsend * sizeof *sbuf, &sbuf), local);
  NH_CALL_GOTO(nh_malloc((size_t)b->maxblk * sizeof *hb, &hb), local);
  NH_CALL_GOTO(nh_malloc((size_t)b->maxblk * sizeof *sb, &sb), local);
  bloch_pack(b, kg, kg_k, has_k, pos, sbuf, hb, sb);
local:
  NH_CALL_GOTO(nh_ctx_agree(&b->ctx, err), done);
  NH_MPI(MPI_Alltoall(sc, 1, MPI_INT, rc, 1, MPI_INT, b->ctx.comm));
  for (int r = 0; r < P; r++)
    c64[r] = rc[r];
  err = to_int(c64, P, rc, rd, &nrecv);
  if (!err)
    err = nh_malloc((size_t)nrecv * sizeof *rbuf, &rbuf);
  NH_CALL_GOTO(nh_ctx_agree(&b->ctx, err), done);
  NH_MPI(MPI_Type_contiguous((int)sizeof(bloch_elem), MPI_BYTE, &t));
  NH_MPI(MPI_Type_commit(&t));
  NH_MPI(MPI_Alltoallv(sbuf, sc, sd, t, rbuf, rc, rd, t, b->ctx.comm));
  if (d && has_k[kg->mygroup])
    err = bloch_unpack(rbuf, nrecv, d);
  NH_CALL_GOTO(nh_ctx_agree(&b->ctx, err), done);
done:
  if (t != MPI_DATATYPE_NULL)
    MPI_Type_free(&t);
  nh_free(&c64);
  nh_free(&pos);
  nh_free(&sc);
  nh_free(&sbuf);
  nh_free(&rbuf);
  nh_free(&hb);
  nh_free(&sb);
  nh_timer_stop("solve: Bloch sums");
  return err;
}
