/* nextham solve: options, the band container and nh_solve_kpoints, which
 * sends each solver kind to its path: dense (k-groups with block-cyclic
 * ELPA / ScaLAPACK, this file and dense.c) or sparse (SLEPc, sparse*.c).
 * docs/solvers.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "denseimpl.h"
#include "nextham/solve.h"
#include "sparse.h"

/* Memory a k-group may use per rank for its four dense matrices before the
 * default rule gives it more ranks (fewer k-groups). */
#define NH_DENSE_BYTES_PER_RANK (1024.0 * 1024 * 1024)
/* Default block-cyclic block size (ELPA and ScaLAPACK like 16..64). */
#define NH_DENSE_NBLK 32

void nh_solver_opts_default(nh_solver_opts *o) {
  memset(o, 0, sizeof *o);
  o->kind = NH_SOLVER_ELPA2;
  o->s_threshold = 1e-6;
}

static const char *const solver_names[] = {"elpa2", "elpa1", "scalapack",
                                           "slepc"};

const char *nh_solver_name(nh_solver_kind k) {
  return (unsigned)k < 4 ? solver_names[k] : "unknown";
}

nh_err nh_solver_parse(const char *name, nh_solver_kind *k) {
  for (int q = 0; q < 4; q++)
    if (strcmp(name, solver_names[q]) == 0) {
      *k = (nh_solver_kind)q;
      return NH_OK;
    }
  return nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "unknown solver \"%s\" (expected elpa2, elpa1, "
                      "scalapack or slepc)",
                      name);
}

nh_err nh_bands_destroy(nh_bands **bp) {
  nh_bands *b = bp ? *bp : NULL;
  if (!b)
    return NH_OK;
  nh_free(&b->k);
  nh_free(&b->e);
  nh_free(&b->elem_z);
  nh_free(&b->w);
  nh_free(&b->ndropped);
  nh_free(bp);
  return NH_OK;
}

/* Every rank: the result arrays, zeroed (filled by sums over ranks). */
static nh_err bands_alloc(int nk, int nb, int nelem, const int *elem_z,
                          const double (*kpts)[3], nh_bands **out) {
  nh_err err;
  nh_bands *b = NULL;
  NH_CALL(nh_calloc(1, sizeof *b, &b));
  b->nk = nk;
  b->nb = nb;
  b->nelem = nelem;
  NH_CALL_GOTO(nh_calloc((size_t)nk, sizeof *b->k, &b->k), fail);
  NH_CALL_GOTO(nh_calloc((size_t)nk * nb, sizeof *b->e, &b->e), fail);
  NH_CALL_GOTO(nh_calloc((size_t)nk, sizeof *b->ndropped, &b->ndropped), fail);
  if (nelem > 0) {
    NH_CALL_GOTO(nh_calloc((size_t)nelem, sizeof *b->elem_z, &b->elem_z), fail);
    NH_CALL_GOTO(nh_calloc((size_t)nk * nb * nelem, sizeof *b->w, &b->w), fail);
    memcpy(b->elem_z, elem_z, (size_t)nelem * sizeof *elem_z);
  }
  if (nk > 0)
    memcpy(b->k, kpts, (size_t)nk * sizeof *b->k);
  *out = b;
  return NH_OK;
fail:
  nh_bands_destroy(&b);
  return err;
}

/* Collective: the elements present (ascending Z) from the owned atoms. */
static nh_err elements_present(const nh_mat *H, int *nelem, int elem_z[119]) {
  const nh_domain *dom = nh_mat_domain(H);
  const nh_atoms *at = nh_domain_atoms(dom);
  int present[119] = {0};
  for (int64_t a = 0; a < at->nlocal; a++)
    if (at->z[a] > 0 && at->z[a] < 119)
      present[at->z[a]] = 1;
  NH_MPI(MPI_Allreduce(MPI_IN_PLACE, present, 119, MPI_INT, MPI_MAX,
                       nh_domain_ctx(dom)->comm));
  *nelem = 0;
  for (int z = 1; z < 119; z++)
    if (present[z])
      elem_z[(*nelem)++] = z;
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Sparse path: k-points one after the other on all ranks.
 * ------------------------------------------------------------------------- */

static nh_err solve_sparse(const nh_mat *H, const nh_mat *S,
                           const nh_solver_opts *o, nh_bands *b) {
  nh_err err = NH_OK;
  nh_sparse *sp = NULL;
  NH_CHECK(o->nbands > 0, NH_ERR_INPUT,
           "solver slepc needs nbands > 0 (the eigenpairs nearest target)");
  NH_CALL(nh_sparse_create(H, S, o, &sp));
  for (int k = 0; k < b->nk; k++)
    NH_CALL_GOTO(nh_sparse_solve_k(
                     sp, b->k[k], b->e + (size_t)k * b->nb, b->nelem, b->elem_z,
                     b->w ? b->w + (size_t)k * b->nb * b->nelem : NULL),
                 done);
done:
  nh_sparse_destroy(&sp);
  return err;
}

/* ---------------------------------------------------------------------------
 * Dense path
 * ------------------------------------------------------------------------- */

/* Default number of k-groups: as many as there are ranks and k-points, as
 * long as a group's four n x n complex matrices fit in
 * NH_DENSE_BYTES_PER_RANK per rank. */
static int choose_kgroups(const nh_solver_opts *o, int P, int nk, int64_t n) {
  int g, cap = P < nk ? P : nk;
  if (o->kgroups > 0) {
    g = o->kgroups;
  } else {
    double bytes = 4.0 * 16.0 * (double)n * (double)n;
    int pmin = (int)ceil(bytes / NH_DENSE_BYTES_PER_RANK);
    g = P / (pmin > 1 ? pmin : 1);
  }
  if (g > cap)
    g = cap;
  return g > 1 ? g : 1;
}

static void kgroups_free(nh_kgroups *kg) {
  nh_free(&kg->first);
  nh_free(&kg->nprow);
  nh_free(&kg->npcol);
}

/* Contiguous rank ranges of near-equal size; block size so that every
 * process row and column of every grid holds at least one block. */
static nh_err kgroups_init(const nh_ctx *ctx, int ngroups, int64_t n, int block,
                           nh_kgroups *kg) {
  int widest = 1;
  memset(kg, 0, sizeof *kg);
  kg->ngroups = ngroups;
  NH_CALL(nh_malloc((size_t)(ngroups + 1) * sizeof *kg->first, &kg->first));
  NH_CALL(nh_malloc((size_t)ngroups * sizeof *kg->nprow, &kg->nprow));
  NH_CALL(nh_malloc((size_t)ngroups * sizeof *kg->npcol, &kg->npcol));
  for (int g = 0; g <= ngroups; g++)
    kg->first[g] = (int)((int64_t)g * ctx->size / ngroups);
  for (int g = 0; g < ngroups; g++) {
    nh_dense_grid_shape(kg->first[g + 1] - kg->first[g], &kg->nprow[g],
                        &kg->npcol[g]);
    if (kg->npcol[g] > widest)
      widest = kg->npcol[g];
    if (ctx->rank >= kg->first[g] && ctx->rank < kg->first[g + 1])
      kg->mygroup = g;
  }
  if (block > 0) {
    kg->nblk = block;
  } else {
    int64_t fit = n / widest;
    kg->nblk = fit < NH_DENSE_NBLK ? (fit > 1 ? (int)fit : 1) : NH_DENSE_NBLK;
  }
  return NH_OK;
}

/* Element index (into elem_z) of each local row of the group's layout. */
static nh_err rows_elements(const nh_dense *d, const nh_bloch *b, int nelem,
                            const int *elem_z, int **out) {
  const int64_t *offs = nh_bloch_offsets(b);
  const int *z = nh_bloch_z(b);
  int64_t natoms = nh_bloch_natoms(b);
  NH_CALL(nh_malloc((size_t)(d->nrows > 0 ? d->nrows : 1) * sizeof **out, out));
  for (int lr = 0; lr < d->nrows; lr++) {
    int64_t r = nh_bc_global(lr, d->myrow, d->nblk, d->nprow), lo = 0,
            hi = natoms - 1;
    while (lo < hi) { /* last atom with offs[atom] <= r */
      int64_t mid = (lo + hi + 1) / 2;
      if (offs[mid] <= r)
        lo = mid;
      else
        hi = mid - 1;
    }
    (*out)[lr] = -1;
    for (int e = 0; e < nelem; e++)
      if (elem_z[e] == z[lo])
        (*out)[lr] = e;
  }
  return NH_OK;
}

typedef struct dense_run {
  const nh_ctx *ctx;
  nh_ctx gctx; /* the k-group */
  nh_kgroups kg;
  nh_bloch *bloch;
  nh_dense *d;
  int *elem_of_lrow;
} dense_run;

/* Solves this group's k-point `ik` and, on the group's first rank, stores
 * the results into b (the other ranks leave zeros for the final sums). */
static nh_err dense_one_k(dense_run *r, const nh_solver_opts *o, int ik,
                          nh_bands *b) {
  int nd;
  double smin;
  nh_dense *d = r->d;
  double *w = b->w ? b->w + (size_t)ik * b->nb * b->nelem : NULL;
  nh_timer_start("solve: dense eigen-solver");
  nh_err err = nh_dense_solve(d, &nd, &smin);
  nh_timer_stop("solve: dense eigen-solver");
  NH_CALL(err);
  if (nd > 0)
    nh_warn(&r->gctx,
            "S(k) at k = (%.6f, %.6f, %.6f) has %d eigenvalue(s) "
            "below s_threshold = %g (smallest %.3e): projected out, %d of "
            "%d directions kept",
            b->k[ik][0], b->k[ik][1], b->k[ik][2], nd, o->s_threshold, smin,
            d->n - nd, d->n);
  if (w)
    NH_CALL(nh_dense_mulliken(d, r->elem_of_lrow, b->nelem, w));
  if (r->gctx.rank != 0) {
    if (w)
      memset(w, 0, (size_t)b->nb * b->nelem * sizeof *w);
    return NH_OK;
  }
  memcpy(b->e + (size_t)ik * b->nb, d->ev, (size_t)b->nb * sizeof *b->e);
  b->ndropped[ik] = nd;
  return NH_OK;
}

static nh_err dense_rounds(dense_run *r, const nh_solver_opts *o, nh_bands *b) {
  nh_err err = NH_OK;
  int G = r->kg.ngroups, nrounds = (b->nk + G - 1) / G;
  int *has_k = NULL;
  double(*kg_k)[3] = NULL;
  nh_progress prog;
  NH_CALL(nh_calloc((size_t)G, sizeof *has_k, &has_k));
  NH_CALL_GOTO(nh_calloc((size_t)G, sizeof *kg_k, &kg_k), done);
  nh_progress_start(&prog, r->ctx, "k-points", b->nk);
  for (int round = 0; round < nrounds; round++) {
    for (int g = 0; g < G; g++) {
      int ik = round * G + g;
      has_k[g] = ik < b->nk;
      if (has_k[g])
        memcpy(kg_k[g], b->k[ik], sizeof kg_k[g]);
    }
    NH_CALL_GOTO(
        nh_bloch_fill(r->bloch, &r->kg, (const double(*)[3])kg_k, has_k, r->d),
        done);
    if (has_k[r->kg.mygroup])
      err = dense_one_k(r, o, round * G + r->kg.mygroup, b);
    NH_CALL_GOTO(nh_ctx_agree(r->ctx, err), done);
    nh_progress_update(
        &prog, (long)(round + 1) * G < b->nk ? (long)(round + 1) * G : b->nk);
  }
  nh_progress_finish(&prog);
  NH_MPI(MPI_Allreduce(MPI_IN_PLACE, b->e, b->nk * b->nb, MPI_DOUBLE, MPI_SUM,
                       r->ctx->comm));
  NH_MPI(MPI_Allreduce(MPI_IN_PLACE, b->ndropped, b->nk, MPI_INT, MPI_SUM,
                       r->ctx->comm));
  if (b->w)
    NH_MPI(MPI_Allreduce(MPI_IN_PLACE, b->w, b->nk * b->nb * b->nelem,
                         MPI_DOUBLE, MPI_SUM, r->ctx->comm));
done:
  nh_free(&has_k);
  nh_free(&kg_k);
  return err;
}

static nh_err dense_setup(dense_run *r, const nh_solver_opts *o, int nk, int nb,
                          const nh_bands *b) {
  nh_err err = NH_OK;
  int64_t n = nh_bloch_norb(r->bloch);
  int ngroups = choose_kgroups(o, r->ctx->size, nk, n);
  NH_CALL(kgroups_init(r->ctx, ngroups, n, o->block, &r->kg));
  NH_MPI(
      MPI_Comm_split(r->ctx->comm, r->kg.mygroup, r->ctx->rank, &r->gctx.comm));
  NH_CALL(nh_ctx_init(r->gctx.comm, &r->gctx));
  r->gctx.verbosity = r->ctx->verbosity;
  err = nh_dense_create(r->gctx.comm, (int)n, r->kg.nblk, nb, o, &r->d);
  if (!err && b->nelem > 0)
    err = rows_elements(r->d, r->bloch, b->nelem, b->elem_z, &r->elem_of_lrow);
  NH_CALL(nh_ctx_agree(r->ctx, err));
  int kernel = 0;
  if (o->kind == NH_SOLVER_ELPA2)
    NH_CALL(nh_solver_elpa_kernel_in_use(o, &kernel));
  nh_log(r->ctx, 2,
         "solve: %d orbitals, %d k-point(s), %d band(s), %d "
         "k-group(s), grid %d x %d, block %d, solver %s%s%s, %s\n",
         (int)n, nk, nb, ngroups, r->kg.nprow[0], r->kg.npcol[0], r->kg.nblk,
         nh_solver_name(o->kind), kernel ? ", ELPA kernel " : "",
         kernel ? nh_solver_elpa_kernel_name(kernel) : "",
         o->want_mulliken ? "eigenvectors" : "eigenvalues only");
  return NH_OK;
}

static void dense_run_free(dense_run *r) {
  nh_dense_destroy(&r->d);
  if (r->gctx.comm != MPI_COMM_NULL)
    MPI_Comm_free(&r->gctx.comm);
  nh_bloch_destroy(&r->bloch);
  kgroups_free(&r->kg);
  nh_free(&r->elem_of_lrow);
}

nh_err nh_solve_kpoints(const nh_mat *H, const nh_mat *S,
                        const nh_solver_opts *o, int nk,
                        const double (*kpts)[3], nh_bands **bands) {
  nh_err err = NH_OK;
  const nh_ctx *ctx = nh_domain_ctx(nh_mat_domain(H));
  int nelem = 0, elem_z[119];
  nh_bands *b = NULL;
  dense_run r;
  *bands = NULL;
  NH_CHECK(nk >= 0 && (nk == 0 || kpts), NH_ERR_ARG, "solve: bad k-points");
  NH_CHECK(o->s_threshold > 0, NH_ERR_INPUT,
           "s_threshold must be positive (got %g)", o->s_threshold);
  if (o->want_mulliken)
    NH_CALL(elements_present(H, &nelem, elem_z));
  if (o->kind == NH_SOLVER_SLEPC) {
    NH_CALL(bands_alloc(nk, o->nbands, nelem, elem_z, kpts, &b));
    NH_CALL_GOTO(solve_sparse(H, S, o, b), fail);
    *bands = b;
    return NH_OK;
  }
  memset(&r, 0, sizeof r);
  r.ctx = ctx;
  r.gctx.comm = MPI_COMM_NULL;
  NH_CALL(nh_bloch_create(H, S, &r.bloch));
  int64_t n = nh_bloch_norb(r.bloch);
  NH_CHECK_GOTO(n >= 1 && n < INT32_MAX, out, NH_ERR_INPUT,
                "solve: %lld orbitals do not fit the dense solvers",
                (long long)n);
  int nb = o->nbands > 0 && o->nbands < n ? o->nbands : (int)n;
  NH_CALL_GOTO(bands_alloc(nk, nb, nelem, elem_z, kpts, &b), out);
  if (nk > 0) {
    NH_CALL_GOTO(dense_setup(&r, o, nk, nb, b), out);
    NH_CALL_GOTO(dense_rounds(&r, o, b), out);
  }
out:
  dense_run_free(&r);
  if (err)
    goto fail;
  *bands = b;
  return NH_OK;
fail:
  nh_bands_destroy(&b);
  return err;
}

nh_err nh_solve_finalize(void) {
  NH_CALL(nh_sparse_finalize());
  NH_CALL(nh_dense_finalize());
  return NH_OK;
}
