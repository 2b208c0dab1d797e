/* Writing the HDF5 sample file collectively (docs/hdf5-format.md). The file
 * is built under "<path>.tmp" and renamed by rank 0 once closed, so a run
 * that fails never leaves a half-written file under the final name. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "sampleimpl.h"

struct nh_sample_writer {
  nh_ctx ctx;
  char path[1024], tmp[1040];
  hid_t file, matrices;
  int64_t natoms;
};

/* Writes a whole small dataset from rank 0's buffer (others take part in
 * the collective call with an empty selection). */
static nh_err write_root(nh_sample_writer *w, hid_t loc, const char *name,
                         hid_t ftype, hid_t mtype, int rank,
                         const hsize_t *dims, const void *buf) {
  hid_t d;
  NH_CALL(nh_h5_dset_create(w->tmp, loc, name, ftype, rank, dims, &d));
  hsize_t rows = w->ctx.rank == 0 ? dims[0] : 0;
  nh_err err = nh_h5_write_rows(w->tmp, d, mtype, 0, rows,
                                rank == 2 ? dims[1] : 1, buf, 1);
  nh_h5_close(&d);
  NH_CALL(err);
  return NH_OK;
}

static nh_err write_structure(nh_sample_writer *w, const nh_structure *s) {
  hid_t g;
  NH_CALL(nh_h5_create_group(w->tmp, w->file, "structure", &g));
  nh_err err;
  double lat[3][3], (*pos)[3] = NULL;
  int n = s->natoms;
  NH_CALL_GOTO(nh_h5_attr_write_str(w->tmp, g, "source", s->source), done);
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 3; c++) lat[a][c] = s->lattice[a][c] * NH_BOHR_ANGSTROM;
  /* Local allocations are agreed on before the next collective call, so a
   * failure on one rank cannot leave the others waiting in HDF5. */
  NH_CALL_GOTO(nh_ctx_agree(&w->ctx, nh_malloc(w->ctx.rank == 0
                                                   ? (size_t)n * sizeof *pos
                                                   : 0, &pos)), done);
  for (int a = 0; w->ctx.rank == 0 && a < n; a++)
    for (int c = 0; c < 3; c++) pos[a][c] = s->pos[a][c] * NH_BOHR_ANGSTROM;
  NH_CALL_GOTO(write_root(w, g, "lattice", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                          2, (hsize_t[]){3, 3}, lat), done);
  NH_CALL_GOTO(write_root(w, g, "positions", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                          2, (hsize_t[]){(hsize_t)n, 3}, pos), done);
  NH_CALL_GOTO(write_root(w, g, "numbers", H5T_STD_I32LE, H5T_NATIVE_INT, 1,
                          (hsize_t[]){(hsize_t)n}, s->z), done);
  NH_CALL_GOTO(write_root(w, g, "pbc", H5T_STD_I32LE, H5T_NATIVE_INT, 1,
                          (hsize_t[]){3}, s->pbc), done);
done:
  nh_free(&pos);
  nh_h5_close(&g);
  return err;
}

static nh_err write_element(nh_sample_writer *w, hid_t basis,
                            const nh_element_basis *eb) {
  hid_t g;
  NH_CALL(nh_h5_create_group(w->tmp, basis, nh_element_symbol(eb->z), &g));
  nh_err err;
  int *ls = NULL, *np = NULL, ns = eb->nshell, nprim = 0;
  double *ex = NULL, *co = NULL;
  for (int k = 0; k < ns; k++) nprim += eb->shells[k].nprim;
  NH_CALL_GOTO(nh_malloc(ns * sizeof *ls, &ls), done);
  NH_CALL_GOTO(nh_malloc(ns * sizeof *np, &np), done);
  NH_CALL_GOTO(nh_malloc(nprim * sizeof *ex, &ex), done);
  NH_CALL_GOTO(nh_malloc(nprim * sizeof *co, &co), done);
  for (int k = 0, p = 0; k < ns; k++) {
    const nh_shell *sh = &eb->shells[k];
    ls[k] = sh->l;
    np[k] = sh->nprim;
    memcpy(ex + p, sh->exps, sh->nprim * sizeof *ex);
    memcpy(co + p, sh->coefs, sh->nprim * sizeof *co);
    p += sh->nprim;
  }
  NH_CALL_GOTO(nh_h5_attr_write_int(w->tmp, g, "z", eb->z), done);
  NH_CALL_GOTO(nh_h5_attr_write_str(w->tmp, g, "basis_name", eb->basis_name),
               done);
  NH_CALL_GOTO(nh_h5_attr_write_str(w->tmp, g, "potential_name",
                                    eb->potential_name), done);
  NH_CALL_GOTO(nh_h5_attr_write_double(w->tmp, g, "zval", eb->zval), done);
  NH_CALL_GOTO(nh_h5_attr_write_int(w->tmp, g, "norb", eb->norb), done);
  hsize_t dn = (hsize_t)ns, dp = (hsize_t)nprim;
  NH_CALL_GOTO(write_root(w, g, "shell_l", H5T_STD_I32LE, H5T_NATIVE_INT, 1,
                          &dn, ls), done);
  NH_CALL_GOTO(write_root(w, g, "shell_nprim", H5T_STD_I32LE, H5T_NATIVE_INT,
                          1, &dn, np), done);
  NH_CALL_GOTO(write_root(w, g, "exponents", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, &dp, ex), done);
  NH_CALL_GOTO(write_root(w, g, "coefficients", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, &dp, co), done);
done:
  nh_free(&ls);
  nh_free(&np);
  nh_free(&ex);
  nh_free(&co);
  nh_h5_close(&g);
  return err;
}

/* Every element of the structure needs a basis with orbitals. */
static nh_err check_basis(const nh_structure *s, const nh_basis *b) {
  for (int a = 0; a < s->natoms; a++) {
    int z = s->z[a];
    NH_CHECK(z >= 1 && z <= NH_MAX_Z, NH_ERR_ARG, "atom %d: invalid Z %d", a,
             z);
    NH_CHECK(b->elem[z] && b->elem[z]->norb > 0, NH_ERR_INPUT,
             "no basis set for %s (atom %d of %s)", nh_element_symbol(z), a,
             s->source);
  }
  return NH_OK;
}

static nh_err write_basis(nh_sample_writer *w, const nh_structure *s,
                          const nh_basis *b) {
  int present[NH_MAX_Z + 1] = {0};
  for (int a = 0; a < s->natoms; a++) present[s->z[a]] = 1;
  hid_t g;
  NH_CALL(nh_h5_create_group(w->tmp, w->file, "basis", &g));
  nh_err err;
  int64_t *off = NULL;
  NH_CALL_GOTO(nh_h5_attr_write_str(w->tmp, g, "basis_file", b->basis_file),
               done);
  NH_CALL_GOTO(nh_h5_attr_write_str(w->tmp, g, "potential_file",
                                    b->potential_file), done);
  for (int z = 1; z <= NH_MAX_Z; z++)
    if (present[z]) NH_CALL_GOTO(write_element(w, g, b->elem[z]), done);
  NH_CALL_GOTO(nh_malloc((size_t)(s->natoms + 1) * sizeof *off, &off), done);
  off[0] = 0;
  for (int a = 0; a < s->natoms; a++) off[a + 1] = off[a] + b->elem[s->z[a]]->norb;
  NH_CALL_GOTO(write_root(w, g, "orbital_offsets", H5T_STD_I64LE,
                          H5T_NATIVE_INT64, 1,
                          (hsize_t[]){(hsize_t)s->natoms + 1}, off), done);
done:
  nh_free(&off);
  nh_h5_close(&g);
  return err;
}

static nh_err write_header(nh_sample_writer *w, const nh_structure *s,
                           const nh_basis *b) {
  NH_CALL(check_basis(s, b));
  NH_CALL(nh_h5_create_file(w->tmp, w->ctx.comm, &w->file));
  NH_CALL(nh_h5_attr_write_str(w->tmp, w->file, "format", NH_SAMPLE_FORMAT));
  NH_CALL(nh_h5_attr_write_int(w->tmp, w->file, "version", NH_SAMPLE_VERSION));
  NH_CALL(nh_h5_attr_write_str(w->tmp, w->file, "creator",
                               "nextham " PACKAGE_VERSION));
  NH_CALL(write_structure(w, s));
  NH_CALL(write_basis(w, s, b));
  NH_CALL(nh_h5_create_group(w->tmp, w->file, "matrices", &w->matrices));
  return NH_OK;
}

nh_err nh_sample_create(const nh_ctx *ctx, const char *path,
                        const nh_structure *s, const nh_basis *b,
                        nh_sample_writer **w) {
  NH_CHECK(path && path[0] && s && b && w, NH_ERR_ARG,
           "nh_sample_create: NULL argument");
  *w = NULL;
  nh_sample_writer *t;
  NH_CALL(nh_calloc(1, sizeof *t, &t));
  t->ctx = *ctx;
  t->file = t->matrices = -1;
  t->natoms = s->natoms;
  snprintf(t->path, sizeof t->path, "%s", path);
  snprintf(t->tmp, sizeof t->tmp, "%s.tmp", t->path);
  nh_h5_quiet();
  nh_err err = nh_ctx_agree(ctx, write_header(t, s, b));
  if (err) {
    nh_sample_abort(&t);
    return nh_error_trace(err, __FILE__, __LINE__, __func__);
  }
  *w = t;
  return NH_OK;
}

/* The local blocks as pairs (i, j, n1, n2, n3) and value offsets that start
 * at voff; entry nb is the total vtotal, written by the last rank only. */
static nh_err local_index(const nh_mat *m, int64_t voff, int64_t vtotal,
                          int64_t **pairs, int64_t **offs) {
  int64_t nb = nh_mat_nblocks(m);
  NH_CALL(nh_malloc((size_t)nb * 5 * sizeof **pairs, pairs));
  NH_CALL(nh_malloc((size_t)(nb + 1) * sizeof **offs, offs));
  for (int64_t k = 0; k < nb; k++) {
    nh_block_key key;
    nh_mat_block(m, k, &key, NULL);
    int64_t *p = *pairs + 5 * k;
    p[0] = key.i;
    p[1] = key.j;
    for (int d = 0; d < 3; d++) p[2 + d] = key.n[d];
    (*offs)[k] = voff;
    voff += (int64_t)nh_mat_norb(m, key.i) * nh_mat_norb(m, key.j);
  }
  (*offs)[nb] = vtotal;
  return NH_OK;
}

/* Values in rounds of at most nh_sample_lim.write_round doubles per rank,
 * so that the copy buffer stays small; every rank takes part in every
 * round. */
static nh_err write_values(nh_sample_writer *w, const nh_mat *m, hid_t dset,
                           int64_t voff, int64_t nval, double scale) {
  const int64_t piece = nh_sample_lim.write_round;
  int64_t rounds = (nval + piece - 1) / piece, all;
  NH_MPI(MPI_Allreduce(&rounds, &all, 1, MPI_INT64_T, MPI_MAX, w->ctx.comm));
  double *buf = NULL;
  nh_err err;
  size_t cap = (size_t)(nval < piece ? nval : piece);
  NH_CALL_GOTO(nh_ctx_agree(&w->ctx, nh_malloc(cap * sizeof *buf, &buf)),
               fail);
  int64_t k = 0, e = 0, done = 0; /* cursor: block k, element e */
  for (int64_t r = 0; r < all; r++) {
    int64_t n = 0;
    while (n < piece && k < nh_mat_nblocks(m)) {
      nh_block_key key;
      double *v;
      nh_mat_block(m, k, &key, &v);
      int64_t size = (int64_t)nh_mat_norb(m, key.i) * nh_mat_norb(m, key.j);
      for (; e < size && n < piece; e++) buf[n++] = scale * v[e];
      if (e == size) k++, e = 0;
    }
    NH_CALL_GOTO(nh_h5_write_rows(w->tmp, dset, H5T_NATIVE_DOUBLE,
                                  (hsize_t)(voff + done), (hsize_t)n, 1, buf,
                                  1), fail);
    done += n;
  }
  err = NH_OK;
fail:
  nh_free(&buf);
  return err;
}

static nh_err write_matrix(nh_sample_writer *w, const nh_mat *m,
                           const char *name, double scale, const char *unit) {
  const nh_ctx *ctx = &w->ctx;
  const nh_atoms *at = nh_domain_atoms(nh_mat_domain(m));
  NH_CHECK(at->natoms_global == w->natoms, NH_ERR_ARG,
           "matrix '%s' has %" PRId64 " atoms, the structure of %s has %" PRId64,
           name, at->natoms_global, w->path, w->natoms);
  NH_CHECK(name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 &&
               strlen(name) < 64, NH_ERR_ARG, "invalid matrix name '%s'", name);
  NH_CHECK(!nh_h5_exists(w->matrices, name), NH_ERR_ARG,
           "%s: matrix '%s' written twice", w->tmp, name);
  /* Global layout: this rank's blocks start at row before[0] of pairs, its
   * values at before[1]; ranks write in rank order. */
  int64_t nb = nh_mat_nblocks(m), nv = 0, *pairs = NULL, *offs = NULL;
  for (int64_t k = 0; k < nb; k++) {
    nh_block_key key;
    nh_mat_block(m, k, &key, NULL);
    nv += (int64_t)nh_mat_norb(m, key.i) * nh_mat_norb(m, key.j);
  }
  int64_t mine[2] = {nb, nv}, before[2] = {0, 0}, total[2];
  NH_MPI(MPI_Exscan(mine, before, 2, MPI_INT64_T, MPI_SUM, ctx->comm));
  NH_MPI(MPI_Allreduce(mine, total, 2, MPI_INT64_T, MPI_SUM, ctx->comm));
  if (ctx->rank == 0) before[0] = before[1] = 0; /* Exscan leaves it undefined */
  hid_t g = -1, dp = -1, doff = -1, dv = -1;
  nh_err err;
  NH_CALL_GOTO(nh_ctx_agree(ctx, local_index(m, before[1], total[1], &pairs,
                                             &offs)), done);
  NH_CALL_GOTO(nh_h5_create_group(w->tmp, w->matrices, name, &g), done);
  NH_CALL_GOTO(nh_h5_attr_write_str(w->tmp, g, "unit", unit), done);
  NH_CALL_GOTO(nh_h5_dset_create(w->tmp, g, "pairs", H5T_STD_I64LE, 2,
                                 (hsize_t[]){(hsize_t)total[0], 5}, &dp), done);
  NH_CALL_GOTO(nh_h5_dset_create(w->tmp, g, "offsets", H5T_STD_I64LE, 1,
                                 (hsize_t[]){(hsize_t)total[0] + 1}, &doff),
               done);
  NH_CALL_GOTO(nh_h5_dset_create(w->tmp, g, "values", H5T_IEEE_F64LE, 1,
                                 (hsize_t[]){(hsize_t)total[1]}, &dv), done);
  NH_CALL_GOTO(nh_h5_write_rows(w->tmp, dp, H5T_NATIVE_INT64,
                                (hsize_t)before[0], (hsize_t)nb, 5, pairs, 1),
               done);
  int last = ctx->rank == ctx->size - 1;
  NH_CALL_GOTO(nh_h5_write_rows(w->tmp, doff, H5T_NATIVE_INT64,
                                (hsize_t)before[0], (hsize_t)(nb + last), 1,
                                offs, 1), done);
  NH_CALL_GOTO(write_values(w, m, dv, before[1], nv, scale), done);
done:
  nh_free(&pairs);
  nh_free(&offs);
  nh_h5_close(&dp);
  nh_h5_close(&doff);
  nh_h5_close(&dv);
  nh_h5_close(&g);
  return err;
}

nh_err nh_sample_write_matrix(nh_sample_writer *w, const nh_mat *m,
                              const char *name, double scale,
                              const char *unit) {
  NH_CHECK(w && m && name && unit, NH_ERR_ARG,
           "nh_sample_write_matrix: NULL argument");
  nh_timer_start("I/O");
  nh_err err = nh_ctx_agree(&w->ctx, write_matrix(w, m, name, scale, unit));
  nh_timer_stop("I/O");
  NH_CALL(err);
  return NH_OK;
}

nh_err nh_sample_close(nh_sample_writer **w) {
  nh_sample_writer *t = *w;
  if (!t) return NH_OK;
  nh_h5_close(&t->matrices);
  herr_t rc = H5Fclose(t->file);
  t->file = -1;
  nh_err err = rc < 0 ? nh_h5_fail(NH_ERR_HDF5, __FILE__, __LINE__, __func__,
                                   t->tmp, -1, NULL, "close (flush) the file")
                      : NH_OK;
  err = nh_ctx_agree(&t->ctx, err);
  if (!err && t->ctx.rank == 0 && rename(t->tmp, t->path) != 0)
    err = nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                       "cannot rename %s to %s: %s", t->tmp, t->path,
                       strerror(errno));
  err = nh_ctx_agree(&t->ctx, err);
  if (err) {
    nh_sample_abort(w);
    return nh_error_trace(err, __FILE__, __LINE__, __func__);
  }
  nh_free(w);
  return NH_OK;
}

void nh_sample_abort(nh_sample_writer **w) {
  nh_sample_writer *t = *w;
  if (!t) return;
  nh_h5_close(&t->matrices);
  nh_h5_close(&t->file);
  H5Eclear2(H5E_DEFAULT);
  MPI_Barrier(t->ctx.comm);
  if (t->ctx.rank == 0) remove(t->tmp);
  nh_free(w);
}
