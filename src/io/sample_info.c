/* `nextham info FILE.h5`: a summary of a sample file. Each rank scans a
 * share of every matrix (pairs for the images, values for max |value|). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sampleimpl.h"

/* A lattice image as one sortable integer. */
static int64_t image_key(const int64_t *p) {
  int64_t b = (int64_t)1 << 20;
  return ((p[2] + b) << 42) | ((p[3] + b) << 21) | (p[4] + b);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Sorts keys[0..n) and drops repeats; returns the new count. */
static int64_t unique(int64_t *keys, int64_t n) {
  qsort(keys, (size_t)n, sizeof *keys, cmp_i64);
  int64_t u = 0;
  for (int64_t k = 0; k < n; k++)
    if (u == 0 || keys[k] != keys[u - 1]) keys[u++] = keys[k];
  return u;
}

/* Distinct images among rows [r0, r1) of pairs, appended to *keys. */
static nh_err scan_images(const char *path, const nh_sample_mat *sm,
                          hsize_t r0, hsize_t r1, int64_t **keys,
                          int64_t *nkeys) {
  hsize_t ch = nh_sample_lim.pair_chunk;
  int64_t *buf = NULL;
  nh_err err;
  NH_CALL(nh_malloc(ch * 5 * sizeof *buf, &buf));
  NH_CALL_GOTO(nh_malloc(0, keys), done);
  *nkeys = 0;
  for (hsize_t c = r0; c < r1; c += ch) {
    hsize_t n = r1 - c < ch ? r1 - c : ch;
    NH_CALL_GOTO(nh_h5_read_rows(path, sm->pairs, H5T_NATIVE_INT64, c, n, 5,
                                 buf, 0), done);
    NH_CALL_GOTO(nh_realloc((size_t)(*nkeys + n) * sizeof **keys, keys), done);
    for (hsize_t k = 0; k < n; k++) (*keys)[(*nkeys)++] = image_key(buf + 5 * k);
    *nkeys = unique(*keys, *nkeys);
  }
done:
  nh_free(&buf);
  return err;
}

static nh_err scan_maxabs(const char *path, const nh_sample_mat *sm,
                          hsize_t v0, hsize_t v1, double *maxabs) {
  hsize_t ch = (hsize_t)1 << 20;
  double *buf = NULL;
  nh_err err = NH_OK;
  NH_CALL(nh_malloc(ch * sizeof *buf, &buf));
  *maxabs = 0;
  for (hsize_t c = v0; c < v1; c += ch) {
    hsize_t n = v1 - c < ch ? v1 - c : ch;
    NH_CALL_GOTO(nh_h5_read_rows(path, sm->values, H5T_NATIVE_DOUBLE, c, n, 1,
                                 buf, 0), done);
    for (hsize_t k = 0; k < n; k++)
      if (fabs(buf[k]) > *maxabs) *maxabs = fabs(buf[k]);
  }
done:
  nh_free(&buf);
  return err;
}

/* Collective: number of distinct images over all ranks' keys, on rank 0. */
static nh_err count_images(const nh_ctx *ctx, int64_t *keys, int64_t n,
                           int64_t *nimg) {
  int cnt = (int)n, *counts = NULL, *displs = NULL;
  int64_t *all = NULL;
  nh_err err = NH_OK;
  NH_CALL(nh_malloc(ctx->size * sizeof *counts, &counts));
  NH_CALL_GOTO(nh_malloc(ctx->size * sizeof *displs, &displs), done);
  MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, ctx->comm);
  int tot = 0;
  for (int r = 0; ctx->rank == 0 && r < ctx->size; r++)
    displs[r] = tot, tot += counts[r];
  NH_CALL_GOTO(nh_malloc((size_t)tot * sizeof *all, &all), done);
  MPI_Gatherv(keys, cnt, MPI_INT64_T, all, counts, displs, MPI_INT64_T, 0,
              ctx->comm);
  *nimg = ctx->rank == 0 ? unique(all, tot) : 0;
done:
  nh_free(&counts);
  nh_free(&displs);
  nh_free(&all);
  return err;
}

typedef struct mat_stats {
  char unit[32];
  int64_t nblocks, nvalues, nimages;
  double maxabs;
} mat_stats;

static nh_err matrix_stats(const nh_ctx *ctx, const char *path, hid_t file,
                           const char *name, mat_stats *st) {
  nh_sample_mat sm;
  int64_t *keys = NULL, nkeys = 0;
  double mx = 0;
  nh_err err = nh_sample_mat_open(path, file, name, &sm);
  if (!err) err = nh_h5_attr_read_str(path, sm.grp, "unit", st->unit,
                                      sizeof st->unit);
  if (!err) {
    hsize_t M = sm.nblocks, V = sm.nvalues, r = ctx->rank, P = ctx->size;
    err = scan_images(path, &sm, M * r / P, M * (r + 1) / P, &keys, &nkeys);
    if (!err) err = scan_maxabs(path, &sm, V * r / P, V * (r + 1) / P, &mx);
    st->nblocks = (int64_t)M;
    st->nvalues = (int64_t)V;
  }
  nh_sample_mat_close(&sm);
  err = nh_ctx_agree(ctx, err);
  if (!err) err = count_images(ctx, keys, nkeys, &st->nimages);
  nh_free(&keys);
  NH_CALL(err);
  NH_MPI(MPI_Allreduce(&mx, &st->maxabs, 1, MPI_DOUBLE, MPI_MAX, ctx->comm));
  return NH_OK;
}

/* "Si8", "N2H2": elements in order of first appearance. */
static void formula(const nh_structure *s, char *buf, size_t len) {
  int count[NH_MAX_Z + 1] = {0}, order[NH_MAX_Z + 1], nel = 0;
  for (int a = 0; a < s->natoms; a++)
    if (count[s->z[a]]++ == 0) order[nel++] = s->z[a];
  buf[0] = '\0';
  for (int k = 0; k < nel; k++) {
    size_t u = strlen(buf);
    if (count[order[k]] > 1)
      snprintf(buf + u, len - u, "%s%d", nh_element_symbol(order[k]),
               count[order[k]]);
    else
      snprintf(buf + u, len - u, "%s", nh_element_symbol(order[k]));
  }
}

static void print_header(FILE *out, const char *path, const char *creator,
                         const nh_structure *s, const nh_basis *b) {
  char f[256];
  formula(s, f, sizeof f);
  fprintf(out, "file      %s\n", path);
  fprintf(out, "format    %s version %d (written by %s)\n", NH_SAMPLE_FORMAT,
          NH_SAMPLE_VERSION, creator);
  fprintf(out, "atoms     %d  formula %s\n", s->natoms, f);
  for (int a = 0; a < 3; a++)
    fprintf(out, "%s a%d %14.8f %14.8f %14.8f\n", a ? "         " : "cell (Å) ",
            a + 1, s->lattice[a][0] * NH_BOHR_ANGSTROM,
            s->lattice[a][1] * NH_BOHR_ANGSTROM,
            s->lattice[a][2] * NH_BOHR_ANGSTROM);
  fprintf(out, "pbc       %d %d %d\n", s->pbc[0], s->pbc[1], s->pbc[2]);
  long norb = 0;
  for (int a = 0; a < s->natoms; a++) norb += b->elem[s->z[a]]->norb;
  fprintf(out, "basis     %s; potentials %s\n", b->basis_file,
          b->potential_file[0] ? b->potential_file : "-");
  for (int z = 1; z <= NH_MAX_Z; z++) {
    const nh_element_basis *e = b->elem[z];
    if (!e) continue;
    char shells[128] = "";
    for (int k = 0; k < e->nshell && strlen(shells) < 120; k++)
      shells[strlen(shells)] = "spdfghij"[e->shells[k].l];
    fprintf(out, "  %-3s %-24s %3d orbitals (%s)  %s zval %g\n",
            nh_element_symbol(z), e->basis_name, e->norb, shells,
            e->potential_name[0] ? e->potential_name : "-", e->zval);
  }
  fprintf(out, "orbitals  %ld\n", norb);
}

nh_err nh_sample_info(const nh_ctx *ctx, const char *path, FILE *out) {
  hid_t file;
  NH_CALL(nh_sample_open(ctx, path, &file));
  nh_structure *s = NULL;
  nh_basis *b = NULL;
  char creator[128] = "?", (*names)[64] = NULL;
  int count = 0;
  nh_err err = nh_sample_load_structure(path, file, &s);
  if (!err) err = nh_sample_load_basis(path, file, &b);
  if (!err && H5Aexists(file, "creator") > 0)
    err = nh_h5_attr_read_str(path, file, "creator", creator, sizeof creator);
  NH_CALL_GOTO(nh_ctx_agree(ctx, err), done);
  if (ctx->rank == 0) print_header(out, path, creator, s, b);
  nh_h5_close(&file);
  NH_CALL_GOTO(nh_sample_list_matrices(ctx, path, &count, &names), done);
  NH_CALL_GOTO(nh_sample_open(ctx, path, &file), done);
  if (ctx->rank == 0) fprintf(out, "matrices  %d\n", count);
  for (int k = 0; k < count; k++) {
    mat_stats st;
    NH_CALL_GOTO(matrix_stats(ctx, path, file, names[k], &st), done);
    if (ctx->rank == 0)
      fprintf(out, "  %-8s %10" PRId64 " blocks %12" PRId64 " values  unit %-3s"
              " %6" PRId64 " images  max |value| %.6e\n", names[k], st.nblocks,
              st.nvalues, st.unit, st.nimages, st.maxabs);
  }
  if (ctx->rank == 0) fflush(out);
done:
  nh_structure_destroy(&s);
  nh_basis_destroy(&b);
  nh_free(&names);
  NH_CALL(nh_sample_finish(ctx, &file, err));
  return NH_OK;
}
