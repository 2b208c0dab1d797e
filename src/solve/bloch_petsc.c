/* nextham solve, sparse path: Bloch sums H(k) = sum_n H(n) exp(+2 pi i k.n)
 * and S(k) of the block-sparse matrices straight into PETSc MPIAIJ complex
 * matrices (docs/solvers.md, "Sparse eigen-solver (SLEPc)").
 *
 * Numbering: PETSc needs a contiguous row range per rank, so the owned atoms
 * of rank r (sorted by global index) get consecutive rows from the prefix
 * sum of the orbitals of the ranks before r. Columns belong to atoms j owned
 * or ghost here; the first row of a ghost comes from its owner through one
 * nh_domain_forward of a double per atom (exact below 2^53 rows).
 *
 * Pattern: one for both matrices, fixed for all k, preallocated exactly
 * (d_nnz/o_nnz per row). A rank builds only its own rows, so MatSetValues
 * never sends anything. With drop_tol > 0, a real-space element (i, j, n)
 * with |H(n)_ij| < drop_tol and |S(n)_ij| < drop_tol is left out of both
 * matrices, and a k-space element whose every image is left out is not
 * stored: the truncation is the same for every k and keeps H(k), S(k)
 * Hermitian (the partner (j, i, -n) holds the same values). */
#include <complex.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sparseimpl.h"

/* One real-space image n of an atom pair: H and S values (norb_i x norb_j,
 * row-major), NULL where that matrix has no block. */
typedef struct nh_bloch_ent {
  nh_block_key key;
  const double *h, *s;
} nh_bloch_ent;

/* The images ent[e0 .. e1) of pair (i, j): columns col0 .. col0 + ncol. */
typedef struct nh_bloch_group {
  int64_t e0, e1;
  PetscInt col0;
  int ncol;
} nh_bloch_group;

static int cmp_ent(const void *pa, const void *pb) {
  return nh_block_key_cmp(&((const nh_bloch_ent *)pa)->key,
                          &((const nh_bloch_ent *)pb)->key);
}

static int same_key(const nh_bloch_ent *a, const nh_bloch_ent *b) {
  return nh_block_key_cmp(&a->key, &b->key) == 0;
}

/* Row numbering: bp->atom_row, row0, nrow, nglobal, row_z; and a hash
 * gid -> first global row for every owned and ghost atom. Local failures
 * are agreed on before each collective call. */
static nh_err number_rows(nh_bloch_petsc *bp, const nh_mat *H, nh_hmap *first) {
  const nh_domain *dom = nh_mat_domain(H);
  const nh_atoms *at = nh_domain_atoms(dom);
  int64_t ntab = at->nlocal + at->nghost, nrow = 0, row0 = 0, nglobal = 0;
  NH_CALL(
      nh_ctx_agree(bp->ctx, nh_malloc((at->nlocal + 1) * sizeof *bp->atom_row,
                                      &bp->atom_row)));
  for (int64_t a = 0; a < at->nlocal; a++) {
    bp->atom_row[a] = (PetscInt)nrow;
    nrow += nh_mat_norb(H, at->gid[a]);
  }
  NH_MPI(MPI_Exscan(&nrow, &row0, 1, MPI_INT64_T, MPI_SUM, bp->comm));
  if (bp->ctx->rank == 0)
    row0 = 0; /* MPI_Exscan leaves it undefined */
  NH_MPI(MPI_Allreduce(&nrow, &nglobal, 1, MPI_INT64_T, MPI_SUM, bp->comm));
  NH_CHECK(nglobal <= PETSC_MAX_INT, NH_ERR_LIB,
           "%" PRId64 " orbitals exceed PETSc's 32-bit indices", nglobal);
  bp->atom_row[at->nlocal] = (PetscInt)nrow;
  bp->nrow = (PetscInt)nrow;
  bp->row0 = (PetscInt)row0;
  bp->nglobal = (PetscInt)nglobal;

  nh_err err = NH_OK;
  double *fr = NULL;
  NH_CALL_GOTO(nh_malloc(nrow * sizeof *bp->row_z, &bp->row_z), agree);
  for (int64_t a = 0; a < at->nlocal; a++)
    for (PetscInt r = bp->atom_row[a]; r < bp->atom_row[a + 1]; r++)
      bp->row_z[r] = at->z[a];
  NH_CALL_GOTO(nh_malloc(ntab * sizeof *fr, &fr), agree);
  for (int64_t a = 0; a < at->nlocal; a++)
    fr[a] = (double)(row0 + bp->atom_row[a]);
agree:
  NH_CALL_GOTO(nh_ctx_agree(bp->ctx, err), done);
  NH_CALL_GOTO(nh_domain_forward(dom, fr, 1), done);
  NH_CALL_GOTO(nh_hmap_init(first, (size_t)ntab), done);
  for (int64_t a = 0; a < ntab; a++)
    NH_CALL_GOTO(nh_hmap_put(first, (uint64_t)at->gid[a], 0, (int64_t)fr[a]),
                 done);
done:
  nh_free(&fr);
  return err;
}

/* Sorted union of the block keys of H and S, with value pointers. */
static nh_err collect_entries(nh_bloch_petsc *bp, const nh_mat *H,
                              const nh_mat *S) {
  int64_t nh = nh_mat_nblocks(H), ns = nh_mat_nblocks(S), n = 0;
  NH_CALL(nh_malloc((nh + ns) * sizeof *bp->ent, &bp->ent));
  for (int m = 0; m < 2; m++) {
    const nh_mat *M = m ? S : H;
    for (int64_t b = 0; b < (m ? ns : nh); b++, n++) {
      nh_block_key key;
      double *v;
      nh_mat_block(M, b, &key, &v);
      nh_bloch_ent *e = &bp->ent[n];
      e->key = key;
      e->h = m ? NULL : v;
      e->s = m ? v : NULL;
    }
  }
  qsort(bp->ent, (size_t)n, sizeof *bp->ent, cmp_ent);
  int64_t u = 0; /* merge the H and S entries of one key */
  for (int64_t e = 0; e < n; e++) {
    if (u > 0 && same_key(&bp->ent[u - 1], &bp->ent[e])) {
      if (bp->ent[e].h)
        bp->ent[u - 1].h = bp->ent[e].h;
      if (bp->ent[e].s)
        bp->ent[u - 1].s = bp->ent[e].s;
    } else {
      bp->ent[u++] = bp->ent[e];
    }
  }
  bp->nent = u;
  return NH_OK;
}

static int kept(const nh_bloch_ent *e, int idx, double tol) {
  return (e->h && fabs(e->h[idx]) >= tol) || (e->s && fabs(e->s[idx]) >= tol);
}

/* With drop_tol > 0: element (r, c) of a pair is stored when some image
 * keeps it; in an on-site pair (i = j) also when some image keeps (c, r),
 * so that the pattern is symmetric although CP2K's on-site blocks are
 * symmetric only to round-off. */
static int stored(const nh_bloch_petsc *bp, const nh_bloch_group *gr, int r,
                  int c) {
  int nj = gr->ncol, onsite = bp->ent[gr->e0].key.i == bp->ent[gr->e0].key.j;
  for (int64_t e = gr->e0; e < gr->e1; e++)
    if (kept(&bp->ent[e], r * nj + c, bp->drop_tol) ||
        (onsite && kept(&bp->ent[e], c * nj + r, bp->drop_tol)))
      return 1;
  return 0;
}

/* Groups of entries with the same (i, j), per owned atom, and the exact
 * number of stored elements of every local row in and off the diagonal
 * part (the columns of this rank's rows). */
static nh_err build_pattern(nh_bloch_petsc *bp, const nh_mat *H,
                            const nh_hmap *first, PetscInt *d_nnz,
                            PetscInt *o_nnz) {
  const nh_domain *dom = nh_mat_domain(H);
  NH_CALL(nh_calloc(bp->nlocal + 1, sizeof *bp->gstart, &bp->gstart));
  NH_CALL(nh_malloc(bp->nent * sizeof *bp->group, &bp->group));
  int64_t g = 0, a = 0;
  for (int64_t e = 0; e < bp->nent; g++) {
    const nh_bloch_ent *ei = &bp->ent[e];
    int64_t a_i = nh_domain_local_index(dom, ei->key.i);
    NH_CHECK(a_i >= a, NH_ERR_INTERNAL,
             "block of atom %" PRId64 " not owned or out of order", ei->key.i);
    for (; a < a_i; a++)
      bp->gstart[a + 1] = g;
    int64_t f = e;
    while (f < bp->nent && bp->ent[f].key.i == ei->key.i &&
           bp->ent[f].key.j == ei->key.j)
      f++;
    int64_t c0 = nh_hmap_get(first, (uint64_t)ei->key.j, 0);
    NH_CHECK(c0 >= 0, NH_ERR_INTERNAL, "atom %" PRId64 " unknown here",
             ei->key.j);
    bp->group[g] =
        (nh_bloch_group){e, f, (PetscInt)c0, nh_mat_norb(H, ei->key.j)};
    e = f;
  }
  for (; a < bp->nlocal; a++)
    bp->gstart[a + 1] = g;
  bp->ngroups = g;

  bp->maxcols = 0;
  for (a = 0; a < bp->nlocal; a++) {
    int ni = bp->atom_row[a + 1] - bp->atom_row[a], cols = 0;
    for (g = bp->gstart[a]; g < bp->gstart[a + 1]; g++) {
      const nh_bloch_group *gr = &bp->group[g];
      int local = nh_domain_owner(dom, bp->ent[gr->e0].key.j) == bp->ctx->rank;
      cols += gr->ncol;
      for (int r = 0; r < ni; r++) {
        int cnt = gr->ncol;
        if (bp->drop_tol > 0) {
          cnt = 0;
          for (int c = 0; c < gr->ncol; c++)
            cnt += stored(bp, gr, r, c);
        }
        (local ? d_nnz : o_nnz)[bp->atom_row[a] + r] += cnt;
      }
    }
    if (cols > bp->maxcols)
      bp->maxcols = cols;
  }
  return NH_OK;
}

static nh_err create_mat(nh_bloch_petsc *bp, const PetscInt *d_nnz,
                         const PetscInt *o_nnz, Mat *M) {
  NH_PETSC(MatCreate(bp->comm, M));
  NH_PETSC(MatSetSizes(*M, bp->nrow, bp->nrow, bp->nglobal, bp->nglobal));
  NH_PETSC(MatSetType(*M, MATAIJ));
  NH_PETSC(MatSeqAIJSetPreallocation(*M, 0, d_nnz));
  NH_PETSC(MatMPIAIJSetPreallocation(*M, 0, d_nnz, 0, o_nnz));
  NH_PETSC(MatSetOption(*M, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  return NH_OK;
}

/* Local part of nh_bloch_petsc_create: entries, groups, nnz per row. */
static nh_err local_pattern(nh_bloch_petsc *bp, const nh_mat *H,
                            const nh_mat *S, const nh_hmap *first,
                            PetscInt **d_nnz, PetscInt **o_nnz) {
  NH_CALL(collect_entries(bp, H, S));
  NH_CALL(nh_calloc(bp->nrow, sizeof **d_nnz, d_nnz));
  NH_CALL(nh_calloc(bp->nrow, sizeof **o_nnz, o_nnz));
  NH_CALL(build_pattern(bp, H, first, *d_nnz, *o_nnz));
  return NH_OK;
}

nh_err nh_bloch_petsc_create(const nh_mat *H, const nh_mat *S, double drop_tol,
                             nh_bloch_petsc **out) {
  NH_CHECK(H && S && out, NH_ERR_ARG, "NULL argument");
  NH_CHECK(nh_mat_domain(H) == nh_mat_domain(S), NH_ERR_ARG,
           "%s and %s are on different domains", nh_mat_name(H),
           nh_mat_name(S));
  NH_CHECK(drop_tol >= 0, NH_ERR_ARG, "drop_tol %g < 0", drop_tol);
  const nh_ctx *ctx = nh_domain_ctx(nh_mat_domain(H));
  nh_err err = NH_OK;
  nh_bloch_petsc *bp = NULL;
  nh_hmap first = {0};
  PetscInt *d_nnz = NULL, *o_nnz = NULL;
  NH_CALL(nh_ctx_agree(ctx, nh_calloc(1, sizeof *bp, &bp)));
  bp->ctx = ctx;
  bp->comm = ctx->comm;
  bp->drop_tol = drop_tol;
  bp->nlocal = nh_domain_atoms(nh_mat_domain(H))->nlocal;
  nh_timer_start("bloch (sparse)");
  NH_CALL_GOTO(number_rows(bp, H, &first), done);
  NH_CALL_GOTO(
      nh_ctx_agree(ctx, local_pattern(bp, H, S, &first, &d_nnz, &o_nnz)), done);
  NH_CALL_GOTO(create_mat(bp, d_nnz, o_nnz, &bp->H), done);
  NH_CALL_GOTO(create_mat(bp, d_nnz, o_nnz, &bp->S), done);
done:
  nh_timer_stop("bloch (sparse)");
  nh_hmap_free(&first);
  nh_free(&d_nnz);
  nh_free(&o_nnz);
  if (err)
    nh_bloch_petsc_destroy(&bp);
  *out = bp;
  return err;
}

/* exp(+2 pi i k.n); exactly (-1)^(2 k.n) when 2k is integral (real_k), so
 * that H(k), S(k) are exactly real symmetric there. */
static PetscScalar phase(const double k[3], const int n[3], int real_k) {
  if (real_k) {
    long m = 0;
    for (int d = 0; d < 3; d++)
      m += lround(2 * k[d]) * n[d];
    return m % 2 ? -1 : 1;
  }
  double ph = 2 * M_PI * (k[0] * n[0] + k[1] * n[1] + k[2] * n[2]);
  return cos(ph) + I * sin(ph);
}

/* (M + M^H) / 2 of an on-site pair's n x n part of the rows (stride ld):
 * exactly Hermitian, real diagonal. */
static void hermitize(PetscScalar *m, int n, size_t ld) {
  for (int r = 0; r < n; r++)
    for (int c = r; c < n; c++) {
      PetscScalar x = 0.5 * (m[r * ld + c] + conj(m[c * ld + r]));
      m[r * ld + c] = x;
      m[c * ld + r] = conj(x);
    }
}

/* Sums the images of pair gr into columns off .. off + ncol of the rows
 * (ni x ld). Exact Hermitian symmetry: pair (i, j), i < j, runs over n
 * ascending and its partner (j, i) over -n ascending, i.e. its own images
 * descending, so both add the same terms (conjugated: cos and sin of -x are
 * exactly cos x and -sin x) in the same order; on-site pairs are made
 * Hermitian explicitly. */
static void sum_pair(const nh_bloch_petsc *bp, const nh_bloch_group *gr, int ni,
                     const double k[3], size_t ld, int off, PetscScalar *hv,
                     PetscScalar *sv, char *keep) {
  int nj = gr->ncol;
  const nh_bloch_ent *first = &bp->ent[gr->e0];
  int down = first->key.i > first->key.j, onsite = first->key.i == first->key.j;
  for (int64_t q = 0; q < gr->e1 - gr->e0; q++) {
    const nh_bloch_ent *en = &bp->ent[down ? gr->e1 - 1 - q : gr->e0 + q];
    PetscScalar f = phase(k, en->key.n, bp->real_k);
    for (int r = 0; r < ni; r++)
      for (int c = 0; c < nj; c++) {
        int idx = r * nj + c;
        size_t o = r * ld + off + c;
        if (bp->drop_tol > 0) {
          if (!kept(en, idx, bp->drop_tol))
            continue;
          keep[o] = 1;
        }
        if (en->h)
          hv[o] += f * en->h[idx];
        if (en->s)
          sv[o] += f * en->s[idx];
      }
  }
  if (!onsite)
    return;
  hermitize(hv + off, ni, ld);
  hermitize(sv + off, ni, ld);
  if (bp->drop_tol > 0)
    for (int r = 0; r < ni; r++)
      for (int c = 0; c < ni; c++)
        keep[r * ld + off + c] |= keep[c * ld + off + r];
}

/* Rows of owned atom a: H(k), S(k) into hv, sv (ni x ncols, row-major),
 * the stored elements marked in keep, the global columns in cols. */
static void sum_atom(const nh_bloch_petsc *bp, int64_t a, const double k[3],
                     int ncols, PetscScalar *hv, PetscScalar *sv, char *keep,
                     PetscInt *cols) {
  int ni = bp->atom_row[a + 1] - bp->atom_row[a], off = 0;
  memset(hv, 0, (size_t)ni * ncols * sizeof *hv);
  memset(sv, 0, (size_t)ni * ncols * sizeof *sv);
  memset(keep, bp->drop_tol > 0 ? 0 : 1, (size_t)ni * ncols);
  for (int64_t g = bp->gstart[a]; g < bp->gstart[a + 1]; g++) {
    const nh_bloch_group *gr = &bp->group[g];
    for (int c = 0; c < gr->ncol; c++)
      cols[off + c] = gr->col0 + c;
    sum_pair(bp, gr, ni, k, (size_t)ncols, off, hv, sv, keep);
    off += gr->ncol;
  }
}

/* Local part of nh_bloch_petsc_fill: MatSetValues of this rank's rows. */
static nh_err set_rows(nh_bloch_petsc *bp, const double k[3]) {
  nh_err err = NH_OK;
  int m = bp->maxcols, mrow = 0;
  for (int64_t a = 0; a < bp->nlocal; a++)
    if (bp->atom_row[a + 1] - bp->atom_row[a] > mrow)
      mrow = bp->atom_row[a + 1] - bp->atom_row[a];
  PetscScalar *hv = NULL, *sv = NULL;
  PetscInt *cols = NULL, *rc = NULL;
  char *keep = NULL;
  NH_CALL_GOTO(nh_malloc((size_t)mrow * m * sizeof *hv, &hv), done);
  NH_CALL_GOTO(nh_malloc((size_t)mrow * m * sizeof *sv, &sv), done);
  NH_CALL_GOTO(nh_malloc((size_t)mrow * m, &keep), done);
  NH_CALL_GOTO(nh_malloc((size_t)m * sizeof *cols, &cols), done);
  NH_CALL_GOTO(nh_malloc((size_t)m * sizeof *rc, &rc), done);
  for (int64_t a = 0; a < bp->nlocal; a++) {
    int ni = bp->atom_row[a + 1] - bp->atom_row[a], ncols = 0;
    for (int64_t g = bp->gstart[a]; g < bp->gstart[a + 1]; g++)
      ncols += bp->group[g].ncol;
    sum_atom(bp, a, k, ncols, hv, sv, keep, cols);
    for (int r = 0; r < ni; r++) {
      PetscInt row = bp->row0 + bp->atom_row[a] + r, n = 0;
      size_t o = (size_t)r * ncols;
      for (int c = 0; c < ncols; c++) /* compact the stored elements */
        if (keep[o + c]) {
          rc[n] = cols[c];
          hv[o + n] = hv[o + c];
          sv[o + n] = sv[o + c];
          n++;
        }
      NH_PETSC_GOTO(MatSetValues(bp->H, 1, &row, n, rc, hv + o, INSERT_VALUES),
                    done);
      NH_PETSC_GOTO(MatSetValues(bp->S, 1, &row, n, rc, sv + o, INSERT_VALUES),
                    done);
    }
  }
done:
  nh_free(&hv);
  nh_free(&sv);
  nh_free(&keep);
  nh_free(&cols);
  nh_free(&rc);
  return err;
}

/* Assembles both and records whether they are (complex) symmetric, which
 * lets the solver use a symmetric factorisation (see sparse.c). */
static nh_err assemble(nh_bloch_petsc *bp) {
  PetscBool sym = bp->real_k ? PETSC_TRUE : PETSC_FALSE;
  Mat m[2] = {bp->H, bp->S};
  for (int q = 0; q < 2; q++) {
    NH_PETSC(MatAssemblyBegin(m[q], MAT_FINAL_ASSEMBLY));
    NH_PETSC(MatAssemblyEnd(m[q], MAT_FINAL_ASSEMBLY));
    NH_PETSC(MatSetOption(m[q], MAT_SYMMETRIC, sym));
  }
  return NH_OK;
}

int nh_bloch_real_k(const double k[3]) {
  for (int d = 0; d < 3; d++)
    if (fabs(2 * k[d] - nearbyint(2 * k[d])) > 1e-12)
      return 0;
  return 1;
}

nh_err nh_bloch_petsc_fill(nh_bloch_petsc *bp, const double k[3]) {
  NH_CHECK(bp->ent, NH_ERR_ARG,
           "H(k), S(k) requested after the real-space matrices were released");
  bp->real_k = nh_bloch_real_k(k);
  nh_timer_start("bloch (sparse)");
  nh_err err = nh_ctx_agree(bp->ctx, set_rows(bp, k));
  if (!err)
    err = assemble(bp);
  nh_timer_stop("bloch (sparse)");
  NH_CALL(err);
  return NH_OK;
}

void nh_bloch_petsc_release(nh_bloch_petsc *bp) {
  nh_free(&bp->gstart);
  nh_free(&bp->group);
  nh_free(&bp->ent);
}

nh_err nh_bloch_petsc_destroy(nh_bloch_petsc **bp) {
  if (!bp || !*bp)
    return NH_OK;
  nh_bloch_petsc *b = *bp;
  nh_err err = NH_OK;
  if (b->H)
    err = MatDestroy(&b->H) ? NH_ERR_LIB : err;
  if (b->S)
    err = MatDestroy(&b->S) ? NH_ERR_LIB : err;
  nh_free(&b->row_z);
  nh_free(&b->atom_row);
  nh_bloch_petsc_release(b);
  nh_free(bp);
  NH_CHECK(!err, NH_ERR_LIB, "MatDestroy failed");
  return NH_OK;
}
