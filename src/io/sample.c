/* Reading the HDF5 sample file with any number of ranks
 * (docs/hdf5-format.md). Structure and basis are read by every rank;
 * matrix pairs are read in chunks by every rank, each keeping the blocks of
 * the atoms it owns, so memory is O(own blocks + chunk), not O(file). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "sampleimpl.h"

nh_sample_limits nh_sample_lim = {(hsize_t)1 << 18, (hsize_t)1 << 21, 4096,
                                  (int64_t)1 << 22};

static nh_err check_format(const char *path, hid_t file) {
  char fmt[64];
  int64_t version;
  NH_CHECK(nh_h5_exists(file, "/") && H5Aexists(file, "format") > 0,
           NH_ERR_FILE, "%s is not a nextham sample file (no 'format' "
           "attribute on /)", path);
  NH_CALL(nh_h5_attr_read_str(path, file, "format", fmt, sizeof fmt));
  NH_CHECK(strcmp(fmt, NH_SAMPLE_FORMAT) == 0, NH_ERR_FILE,
           "%s is not a nextham sample file: format is '%s', expected '%s'",
           path, fmt, NH_SAMPLE_FORMAT);
  NH_CALL(nh_h5_attr_read_int(path, file, "version", &version));
  NH_CHECK(version <= NH_SAMPLE_VERSION, NH_ERR_FILE,
           "%s was written by a newer nextham (sample format version %" PRId64
           "; this build reads up to version %d): upgrade nextham",
           path, version, NH_SAMPLE_VERSION);
  NH_CHECK(version >= 1, NH_ERR_FILE, "%s: invalid format version %" PRId64,
           path, version);
  return NH_OK;
}

nh_err nh_sample_open(const nh_ctx *ctx, const char *path, hid_t *file) {
  *file = -1;
  nh_h5_quiet();
  /* H5Fopen is collective: call it on every rank only if every rank can
   * read the file, so that a missing file does not leave ranks hanging. */
  nh_err err = access(path, R_OK) == 0
                   ? NH_OK
                   : nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                                  "cannot read %s: %s", path, strerror(errno));
  NH_CALL(nh_ctx_agree(ctx, err));
  err = nh_h5_open_file(path, ctx->comm, file);
  if (!err) err = check_format(path, *file);
  err = nh_ctx_agree(ctx, err);
  if (err) nh_h5_close(file);
  NH_CALL(err);
  return NH_OK;
}

nh_err nh_sample_finish(const nh_ctx *ctx, hid_t *file, nh_err err) {
  nh_h5_close(file);
  NH_CALL(nh_ctx_agree(ctx, err));
  return NH_OK;
}

/* ---- structure -------------------------------------------------------- */

/* Opens and reads a whole small dataset of the expected shape. */
static nh_err read_whole(const char *path, hid_t loc, const char *name,
                         hid_t mtype, int rank, hsize_t rows, hsize_t width,
                         void *buf) {
  hid_t d;
  hsize_t dims[2];
  NH_CALL(nh_h5_dset_open(path, loc, name, mtype, rank, width, dims, &d));
  nh_err err = NH_OK;
  if (dims[0] != rows)
    err = nh_h5_fail(NH_ERR_FILE, __FILE__, __LINE__, __func__, path, loc,
                     name, "use (wrong number of rows) dataset");
  if (!err)
    err = nh_h5_read_rows(path, d, mtype, 0, rows, rank == 2 ? width : 1, buf,
                          0);
  nh_h5_close(&d);
  NH_CALL(err);
  return NH_OK;
}

static nh_err load_structure(const char *path, hid_t g, nh_structure *s) {
  double lat[3][3];
  int n = s->natoms;
  NH_CALL(read_whole(path, g, "lattice", H5T_NATIVE_DOUBLE, 2, 3, 3, lat));
  NH_CALL(read_whole(path, g, "positions", H5T_NATIVE_DOUBLE, 2, (hsize_t)n,
                     3, s->pos));
  NH_CALL(read_whole(path, g, "numbers", H5T_NATIVE_INT, 1, (hsize_t)n, 1,
                     s->z));
  NH_CALL(read_whole(path, g, "pbc", H5T_NATIVE_INT, 1, 3, 1, s->pbc));
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 3; c++) {
      NH_CHECK(isfinite(lat[a][c]), NH_ERR_FILE,
               "%s: /structure/lattice holds a non-finite value", path);
      s->lattice[a][c] = lat[a][c] / NH_BOHR_ANGSTROM;
    }
  for (int a = 0; a < n; a++) {
    for (int c = 0; c < 3; c++) {
      NH_CHECK(isfinite(s->pos[a][c]), NH_ERR_FILE,
               "%s: /structure/positions[%d] holds a non-finite value", path,
               a);
      s->pos[a][c] /= NH_BOHR_ANGSTROM;
    }
    NH_CHECK(s->z[a] >= 1 && s->z[a] <= NH_MAX_Z, NH_ERR_FILE,
             "%s: /structure/numbers[%d] = %d is no element", path, a, s->z[a]);
  }
  for (int c = 0; c < 3; c++)
    NH_CHECK(s->pbc[c] == 0 || s->pbc[c] == 1, NH_ERR_FILE,
             "%s: /structure/pbc must hold 0 or 1", path);
  return NH_OK;
}

nh_err nh_sample_load_structure(const char *path, hid_t file,
                                nh_structure **s) {
  hid_t g, d;
  hsize_t n;
  NH_CALL(nh_h5_open_group(path, file, "structure", &g));
  nh_err err;
  NH_CALL_GOTO(nh_h5_dset_open(path, g, "numbers", H5T_NATIVE_INT, 1, 0, &n,
                               &d), done);
  nh_h5_close(&d);
  NH_CHECK_GOTO(n >= 1 && n < INT32_MAX, done, NH_ERR_FILE,
                "%s: /structure/numbers has %llu atoms", path,
                (unsigned long long)n);
  NH_CALL_GOTO(nh_structure_create((int)n, s), done);
  snprintf((*s)->source, sizeof (*s)->source, "%s", path);
  NH_CALL_GOTO(load_structure(path, g, *s), done);
done:
  if (err) nh_structure_destroy(s);
  nh_h5_close(&g);
  return err;
}

nh_err nh_sample_read_structure(const nh_ctx *ctx, const char *path,
                                nh_structure **s) {
  hid_t file;
  *s = NULL;
  NH_CALL(nh_sample_open(ctx, path, &file));
  nh_err err = nh_sample_load_structure(path, file, s);
  if (err) nh_structure_destroy(s);
  NH_CALL(nh_sample_finish(ctx, &file, err));
  return NH_OK;
}

/* ---- basis ------------------------------------------------------------ */

/* Reads one /basis/<Symbol> group into a temporary element basis and adds
 * a copy to b. */
static nh_err load_element(const char *path, hid_t basis, const char *sym,
                           nh_basis *b) {
  hid_t g;
  NH_CALL(nh_h5_open_group(path, basis, sym, &g));
  nh_element_basis eb;
  memset(&eb, 0, sizeof eb);
  int *ls = NULL, *np = NULL;
  double *ex = NULL, *co = NULL;
  int64_t z, norb;
  hsize_t ns, nprim, nc;
  hid_t d;
  nh_err err;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "z", &z), done);
  NH_CHECK_GOTO(z == nh_element_number(sym), done, NH_ERR_FILE,
                "%s: /basis/%s has z = %" PRId64, path, sym, z);
  eb.z = (int)z;
  NH_CALL_GOTO(nh_h5_attr_read_str(path, g, "basis_name", eb.basis_name,
                                   sizeof eb.basis_name), done);
  NH_CALL_GOTO(nh_h5_attr_read_str(path, g, "potential_name",
                                   eb.potential_name,
                                   sizeof eb.potential_name), done);
  NH_CALL_GOTO(nh_h5_attr_read_double(path, g, "zval", &eb.zval), done);
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "norb", &norb), done);
  NH_CALL_GOTO(nh_h5_dset_open(path, g, "shell_l", H5T_NATIVE_INT, 1, 0, &ns,
                               &d), done);
  nh_h5_close(&d);
  NH_CALL_GOTO(nh_h5_dset_open(path, g, "exponents", H5T_NATIVE_DOUBLE, 1, 0,
                               &nprim, &d), done);
  nh_h5_close(&d);
  NH_CALL_GOTO(nh_h5_dset_open(path, g, "coefficients", H5T_NATIVE_DOUBLE, 1,
                               0, &nc, &d), done);
  nh_h5_close(&d);
  NH_CHECK_GOTO(ns >= 1 && ns < 10000 && nc == nprim && nprim < 1000000,
                done, NH_ERR_FILE,
                "%s: /basis/%s has %llu shells, %llu exponents and %llu "
                "coefficients", path, sym, (unsigned long long)ns,
                (unsigned long long)nprim, (unsigned long long)nc);
  NH_CALL_GOTO(nh_malloc(ns * sizeof *ls, &ls), done);
  NH_CALL_GOTO(nh_malloc(ns * sizeof *np, &np), done);
  NH_CALL_GOTO(nh_malloc(nprim * sizeof *ex, &ex), done);
  NH_CALL_GOTO(nh_malloc(nprim * sizeof *co, &co), done);
  NH_CALL_GOTO(nh_calloc(ns, sizeof *eb.shells, &eb.shells), done);
  NH_CALL_GOTO(read_whole(path, g, "shell_l", H5T_NATIVE_INT, 1, ns, 1, ls),
               done);
  NH_CALL_GOTO(read_whole(path, g, "shell_nprim", H5T_NATIVE_INT, 1, ns, 1, np),
               done);
  NH_CALL_GOTO(read_whole(path, g, "exponents", H5T_NATIVE_DOUBLE, 1, nprim, 1,
                          ex), done);
  NH_CALL_GOTO(read_whole(path, g, "coefficients", H5T_NATIVE_DOUBLE, 1,
                          nprim, 1, co), done);
  hsize_t p = 0;
  for (hsize_t k = 0; k < ns; k++) {
    NH_CHECK_GOTO(ls[k] >= 0 && ls[k] <= 7 && np[k] >= 1 &&
                      p + (hsize_t)np[k] <= nprim, done, NH_ERR_FILE,
                  "%s: /basis/%s: shell %llu has l = %d and %d primitives "
                  "(%llu exponents in all)", path, sym, (unsigned long long)k,
                  ls[k], np[k], (unsigned long long)nprim);
    for (int q = 0; q < np[k]; q++)
      NH_CHECK_GOTO(ex[p + q] > 0 && isfinite(ex[p + q]) &&
                        isfinite(co[p + q]), done, NH_ERR_FILE,
                    "%s: /basis/%s: shell %llu has a non-positive or "
                    "non-finite exponent or coefficient", path, sym,
                    (unsigned long long)k);
    eb.shells[k] = (nh_shell){ls[k], np[k], ex + p, co + p};
    p += np[k];
    eb.norb += 2 * ls[k] + 1;
  }
  eb.nshell = (int)ns;
  NH_CHECK_GOTO(p == nprim && eb.norb == norb, done, NH_ERR_FILE,
                "%s: /basis/%s: shells give %d orbitals and %llu primitives, "
                "the group says norb = %" PRId64 " with %llu exponents", path,
                sym, eb.norb, (unsigned long long)p, norb,
                (unsigned long long)nprim);
  NH_CALL_GOTO(nh_basis_add(b, &eb), done);
done:
  nh_free(&ls);
  nh_free(&np);
  nh_free(&ex);
  nh_free(&co);
  nh_free(&eb.shells);
  nh_h5_close(&g);
  return err;
}

/* Names of the links of a group, in name order. */
typedef struct name_list {
  int count, cap;
  char (*names)[64];
} name_list;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info,
                           void *data) {
  (void)g;
  (void)info;
  name_list *l = data;
  if (l->count == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 16;
    if (nh_realloc((size_t)l->cap * sizeof *l->names, &l->names)) return -1;
  }
  snprintf(l->names[l->count++], 64, "%s", name);
  return 0;
}

static nh_err list_links(const char *path, hid_t g, name_list *l) {
  memset(l, 0, sizeof *l);
  hsize_t idx = 0;
  herr_t rc = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, l);
  if (rc < 0) nh_free(&l->names);
  NH_H5_CHECK(rc >= 0, NH_ERR_FILE, path, g, "", "list the members of group");
  return NH_OK;
}

/* orbital_offsets must agree with the basis of the atoms' elements. */
static nh_err check_offsets(const char *path, hid_t file, hid_t g,
                            const nh_basis *b) {
  hid_t d;
  hsize_t n;
  NH_CALL(nh_h5_dset_open(path, file, "/structure/numbers", H5T_NATIVE_INT, 1,
                          0, &n, &d));
  nh_h5_close(&d);
  int *z = NULL;
  int64_t *off = NULL;
  nh_err err;
  NH_CALL_GOTO(nh_malloc(n * sizeof *z, &z), done);
  NH_CALL_GOTO(nh_malloc((n + 1) * sizeof *off, &off), done);
  NH_CALL_GOTO(read_whole(path, file, "/structure/numbers", H5T_NATIVE_INT, 1,
                          n, 1, z), done);
  NH_CALL_GOTO(read_whole(path, g, "orbital_offsets", H5T_NATIVE_INT64, 1,
                          n + 1, 1, off), done);
  NH_CHECK_GOTO(off[0] == 0, done, NH_ERR_FILE,
                "%s: /basis/orbital_offsets must start at 0", path);
  for (hsize_t a = 0; a < n; a++) {
    int ok = z[a] >= 1 && z[a] <= NH_MAX_Z && b->elem[z[a]];
    NH_CHECK_GOTO(ok, done, NH_ERR_FILE,
                  "%s: atom %llu (Z = %d) has no group in /basis", path,
                  (unsigned long long)a, z[a]);
    NH_CHECK_GOTO(off[a + 1] - off[a] == b->elem[z[a]]->norb, done,
                  NH_ERR_FILE, "%s: /basis/orbital_offsets gives atom %llu "
                  "%" PRId64 " orbitals, its basis has %d", path,
                  (unsigned long long)a, off[a + 1] - off[a],
                  b->elem[z[a]]->norb);
  }
done:
  nh_free(&z);
  nh_free(&off);
  return err;
}

nh_err nh_sample_load_basis(const char *path, hid_t file, nh_basis **b) {
  hid_t g;
  NH_CALL(nh_h5_open_group(path, file, "basis", &g));
  name_list l = {0};
  nh_err err;
  NH_CALL_GOTO(nh_basis_create(b), done);
  NH_CALL_GOTO(nh_h5_attr_read_str(path, g, "basis_file", (*b)->basis_file,
                                   sizeof (*b)->basis_file), done);
  NH_CALL_GOTO(nh_h5_attr_read_str(path, g, "potential_file",
                                   (*b)->potential_file,
                                   sizeof (*b)->potential_file), done);
  NH_CALL_GOTO(list_links(path, g, &l), done);
  for (int k = 0; k < l.count; k++) {
    if (strcmp(l.names[k], "orbital_offsets") == 0) continue;
    NH_CHECK_GOTO(nh_element_number(l.names[k]) > 0, done, NH_ERR_FILE,
                  "%s: /basis/%s is no element symbol", path, l.names[k]);
    NH_CALL_GOTO(load_element(path, g, l.names[k], *b), done);
  }
  NH_CALL_GOTO(check_offsets(path, file, g, *b), done);
done:
  if (err) nh_basis_destroy(b);
  nh_free(&l.names);
  nh_h5_close(&g);
  return err;
}

nh_err nh_sample_read_basis(const nh_ctx *ctx, const char *path,
                            nh_basis **b) {
  hid_t file;
  *b = NULL;
  NH_CALL(nh_sample_open(ctx, path, &file));
  nh_err err = nh_sample_load_basis(path, file, b);
  NH_CALL(nh_sample_finish(ctx, &file, err));
  return NH_OK;
}

/* ---- matrices --------------------------------------------------------- */

void nh_sample_mat_close(nh_sample_mat *sm) {
  nh_h5_close(&sm->pairs);
  nh_h5_close(&sm->offsets);
  nh_h5_close(&sm->values);
  nh_h5_close(&sm->grp);
}

/* The error for a matrix that is not in the file lists those that are. */
static nh_err missing_matrix(const char *path, hid_t file, const char *name) {
  char have[512] = "";
  hid_t g;
  name_list l = {0};
  if (nh_h5_open_group(path, file, "matrices", &g) == NH_OK) {
    if (list_links(path, g, &l) == NH_OK)
      for (int k = 0; k < l.count; k++)
        snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s",
                 k ? ", " : "", l.names[k]);
    nh_h5_close(&g);
  }
  nh_free(&l.names);
  nh_error_clear();
  return nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "%s has no matrix '%s' (it has: %s)", path, name,
                      have[0] ? have : "none");
}

nh_err nh_sample_mat_open(const char *path, hid_t file, const char *name,
                          nh_sample_mat *sm) {
  sm->grp = sm->pairs = sm->offsets = sm->values = -1;
  char gname[128];
  snprintf(gname, sizeof gname, "/matrices/%s", name);
  if (!nh_h5_exists(file, "/matrices") || !nh_h5_exists(file, gname))
    return missing_matrix(path, file, name);
  hsize_t dp[2], doff, dv;
  nh_err err;
  NH_CALL_GOTO(nh_h5_open_group(path, file, gname, &sm->grp), fail);
  NH_CALL_GOTO(nh_h5_dset_open(path, sm->grp, "pairs", H5T_NATIVE_INT64, 2, 5,
                               dp, &sm->pairs), fail);
  NH_CALL_GOTO(nh_h5_dset_open(path, sm->grp, "offsets", H5T_NATIVE_INT64, 1,
                               0, &doff, &sm->offsets), fail);
  NH_CALL_GOTO(nh_h5_dset_open(path, sm->grp, "values", H5T_NATIVE_DOUBLE, 1,
                               0, &dv, &sm->values), fail);
  NH_CHECK_GOTO(doff == dp[0] + 1, fail, NH_ERR_FILE,
                "%s: %s/pairs has %llu rows but %s/offsets has %llu entries "
                "(expected %llu)", path, gname, (unsigned long long)dp[0],
                gname, (unsigned long long)doff,
                (unsigned long long)dp[0] + 1);
  sm->nblocks = dp[0];
  sm->nvalues = dv;
  return NH_OK;
fail:
  nh_sample_mat_close(sm);
  return err;
}

/* Per-atom atomic numbers of the file (every rank, O(N)). */
static nh_err load_numbers(const char *path, hid_t file, int64_t natoms,
                           int **z) {
  hid_t d;
  hsize_t n;
  NH_CALL(nh_h5_dset_open(path, file, "/structure/numbers", H5T_NATIVE_INT, 1,
                          0, &n, &d));
  nh_h5_close(&d);
  NH_CHECK((int64_t)n == natoms, NH_ERR_INPUT,
           "%s has %llu atoms, the domain %" PRId64, path,
           (unsigned long long)n, natoms);
  NH_CALL(nh_malloc(n * sizeof **z, z));
  NH_CALL(read_whole(path, file, "/structure/numbers", H5T_NATIVE_INT, 1, n, 1,
                     *z));
  return NH_OK;
}

/* State of reading one matrix. */
typedef struct mat_reader {
  const char *path, *name;
  const nh_domain *dom;
  nh_sample_mat sm;
  const int *z;
  int norb[NH_MAX_Z + 1];
  double scale;
  nh_mat *m;
  int64_t *pairs, *offs; /* chunk buffers */
  /* owned blocks of the chunk: row index, value ranges */
  int nown;
  int64_t *own;
  hsize_t *roff, *rlen;
  double *vbuf;
} mat_reader;


/* Checks every row of a chunk of pairs against the basis; the same checks
 * run on every rank, so a bad file fails everywhere. */
static nh_err check_chunk(const mat_reader *r, hsize_t c0, hsize_t n) {
  int64_t natoms = nh_domain_atoms(r->dom)->natoms_global;
  for (hsize_t k = 0; k < n; k++) {
    const int64_t *p = r->pairs + 5 * k;
    unsigned long long row = (unsigned long long)(c0 + k);
    NH_CHECK(p[0] >= 0 && p[0] < natoms && p[1] >= 0 && p[1] < natoms,
             NH_ERR_FILE, "%s: /matrices/%s/pairs row %llu: atoms (%" PRId64
             ", %" PRId64 ") out of range 0..%" PRId64, r->path, r->name, row,
             p[0], p[1], natoms - 1);
    for (int d = 2; d < 5; d++)
      NH_CHECK(p[d] > -(1 << 20) && p[d] < (1 << 20), NH_ERR_FILE,
               "%s: /matrices/%s/pairs row %llu: image out of range", r->path,
               r->name, row);
    int64_t size = (int64_t)r->norb[r->z[p[0]]] * r->norb[r->z[p[1]]];
    int64_t have = r->offs[k + 1] - r->offs[k];
    NH_CHECK(have == size, NH_ERR_FILE,
             "%s: /matrices/%s block %llu (i %" PRId64 ", j %" PRId64
             ", n %" PRId64 " %" PRId64 " %" PRId64 ") has %" PRId64
             " values in offsets, expected norb(i) x norb(j) = %" PRId64,
             r->path, r->name, row, p[0], p[1], p[2], p[3], p[4], have, size);
  }
  return NH_OK;
}

/* Reads the values of the owned blocks own[a..b) in one call and stores
 * them in the matrix. */
static nh_err read_owned(mat_reader *r, int a, int b) {
  int nr = 0;
  for (int q = a; q < b; q++) {
    int64_t k = r->own[q];
    hsize_t off = (hsize_t)r->offs[k], len = (hsize_t)(r->offs[k + 1] - off);
    if (nr && r->roff[nr - 1] + r->rlen[nr - 1] == off)
      r->rlen[nr - 1] += len; /* contiguous with the previous block */
    else
      r->roff[nr] = off, r->rlen[nr++] = len;
  }
  NH_CALL(nh_h5_read_ranges(r->path, r->sm.values, H5T_NATIVE_DOUBLE, nr,
                            r->roff, r->rlen, r->vbuf));
  double *v = r->vbuf;
  for (int q = a; q < b; q++) {
    const int64_t *p = r->pairs + 5 * r->own[q];
    int64_t size = r->offs[r->own[q] + 1] - r->offs[r->own[q]];
    int n[3] = {(int)p[2], (int)p[3], (int)p[4]};
    NH_CHECK(nh_mat_norb(r->m, p[1]) > 0, NH_ERR_INPUT,
             "%s: block (%" PRId64 ", %" PRId64 ", %d %d %d) of matrix '%s': "
             "atom %" PRId64 " is not known on rank %d: the domain's halo "
             "(%.3f bohr) is narrower than the pairs of the file", r->path,
             p[0], p[1], n[0], n[1], n[2], r->name, p[1],
             nh_domain_ctx(r->dom)->rank, nh_domain_halo(r->dom));
    NH_CHECK(!nh_mat_get_block(r->m, p[0], p[1], n), NH_ERR_FILE,
             "%s: /matrices/%s holds block (%" PRId64 ", %" PRId64
             ", %d %d %d) twice", r->path, r->name, p[0], p[1], n[0], n[1],
             n[2]);
    for (int64_t e = 0; e < size; e++) {
      /* No checksums in the file: a damaged value is caught here at least
       * when it is no number (HDF5 stores raw IEEE doubles). */
      NH_CHECK(isfinite(v[e]), NH_ERR_FILE,
               "%s: /matrices/%s block (%" PRId64 ", %" PRId64 ", %d %d %d) "
               "holds a non-finite value", r->path, r->name, p[0], p[1], n[0],
               n[1], n[2]);
      v[e] *= r->scale;
    }
    NH_CALL(nh_mat_set_block(r->m, p[0], p[1], n, v));
    v += size;
  }
  return NH_OK;
}

/* One chunk of pairs: read, check, keep the owned blocks. */
static nh_err read_chunk(mat_reader *r, hsize_t c0, hsize_t n) {
  NH_CALL(nh_h5_read_rows(r->path, r->sm.pairs, H5T_NATIVE_INT64, c0, n, 5,
                          r->pairs, 0));
  NH_CALL(nh_h5_read_rows(r->path, r->sm.offsets, H5T_NATIVE_INT64, c0, n + 1,
                          1, r->offs, 0));
  NH_CHECK(c0 > 0 || r->offs[0] == 0, NH_ERR_FILE,
           "%s: /matrices/%s/offsets must start at 0", r->path, r->name);
  NH_CHECK(c0 + n < r->sm.nblocks || (hsize_t)r->offs[n] == r->sm.nvalues,
           NH_ERR_FILE, "%s: /matrices/%s/offsets ends at %" PRId64 " but "
           "values has %llu entries", r->path, r->name, r->offs[n],
           (unsigned long long)r->sm.nvalues);
  NH_CALL(check_chunk(r, c0, n));
  r->nown = 0;
  for (hsize_t k = 0; k < n; k++)
    if (nh_domain_local_index(r->dom, r->pairs[5 * k]) >= 0)
      r->own[r->nown++] = (int64_t)k;
  /* Batches bounded in values and ranges. */
  for (int a = 0; a < r->nown;) {
    int b = a;
    hsize_t vals = 0;
    while (b < r->nown && b - a < nh_sample_lim.read_ranges) {
      hsize_t len = (hsize_t)(r->offs[r->own[b] + 1] - r->offs[r->own[b]]);
      if (b > a && vals + len > nh_sample_lim.read_values) break;
      vals += len;
      b++;
    }
    NH_CALL(read_owned(r, a, b));
    a = b;
  }
  return NH_OK;
}

static nh_err read_all_chunks(mat_reader *r) {
  const nh_ctx *ctx = nh_domain_ctx(r->dom);
  hsize_t ch = nh_sample_lim.pair_chunk;
  int maxnorb = 0;
  for (int zz = 0; zz <= NH_MAX_Z; zz++)
    if (r->norb[zz] > maxnorb) maxnorb = r->norb[zz];
  hsize_t vcap = nh_sample_lim.read_values + (hsize_t)maxnorb * maxnorb;
  nh_err err = nh_malloc(ch * 5 * sizeof *r->pairs, &r->pairs);
  if (!err) err = nh_malloc((ch + 1) * sizeof *r->offs, &r->offs);
  if (!err) err = nh_malloc(ch * sizeof *r->own, &r->own);
  size_t nr = (size_t)nh_sample_lim.read_ranges;
  if (!err) err = nh_malloc(nr * sizeof *r->roff, &r->roff);
  if (!err) err = nh_malloc(nr * sizeof *r->rlen, &r->rlen);
  if (!err) err = nh_malloc(vcap * sizeof *r->vbuf, &r->vbuf);
  NH_CALL(nh_ctx_agree(ctx, err));
  /* Every rank walks the same chunks and agrees after each one, so that a
   * failure on any rank stops all of them at the same point. */
  for (hsize_t c0 = 0; c0 < r->sm.nblocks || c0 == 0; c0 += ch) {
    hsize_t n = r->sm.nblocks - c0 < ch ? r->sm.nblocks - c0 : ch;
    NH_CALL(nh_ctx_agree(ctx, read_chunk(r, c0, n)));
    if (n == 0) break;
  }
  return NH_OK;
}

static void reader_free(mat_reader *r) {
  nh_free(&r->pairs);
  nh_free(&r->offs);
  nh_free(&r->own);
  nh_free(&r->roff);
  nh_free(&r->rlen);
  nh_free(&r->vbuf);
  nh_sample_mat_close(&r->sm);
}

nh_err nh_sample_read_matrix(const char *path, const char *name,
                             const nh_domain *dom, const nh_basis *b,
                             double scale, nh_mat **m) {
  NH_CHECK(path && name && dom && b && m, NH_ERR_ARG,
           "nh_sample_read_matrix: NULL argument");
  const nh_ctx *ctx = nh_domain_ctx(dom);
  *m = NULL;
  hid_t file;
  NH_CALL(nh_sample_open(ctx, path, &file));
  nh_timer_start("I/O");
  mat_reader r = {.path = path, .name = name, .dom = dom, .scale = scale};
  r.sm.grp = r.sm.pairs = r.sm.offsets = r.sm.values = -1;
  int *z = NULL;
  nh_basis_norb_table(b, r.norb);
  nh_err err = load_numbers(path, file, nh_domain_atoms(dom)->natoms_global, &z);
  for (int64_t a = 0; !err && a < nh_domain_atoms(dom)->natoms_global; a++)
    if (r.norb[z[a]] <= 0)
      err = nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                         "%s: atom %" PRId64 " is %s, which has no basis",
                         path, a, nh_element_symbol(z[a]));
  if (!err) err = nh_sample_mat_open(path, file, name, &r.sm);
  r.z = z;
  NH_CALL_GOTO(nh_ctx_agree(ctx, err), done);
  NH_CALL_GOTO(nh_mat_create(dom, r.norb, name, &r.m), done);
  NH_CALL_GOTO(read_all_chunks(&r), done);
  NH_CALL_GOTO(nh_mat_assemble(r.m), done);
  *m = r.m;
  r.m = NULL;
done:
  nh_mat_destroy(&r.m);
  reader_free(&r);
  nh_free(&z);
  nh_timer_stop("I/O");
  NH_CALL(nh_sample_finish(ctx, &file, err));
  return NH_OK;
}

nh_err nh_sample_list_matrices(const nh_ctx *ctx, const char *path,
                               int *count, char (**names)[64]) {
  hid_t file, g = -1;
  *count = 0;
  *names = NULL;
  NH_CALL(nh_sample_open(ctx, path, &file));
  name_list l = {0};
  nh_err err = NH_OK;
  if (nh_h5_exists(file, "matrices")) {
    err = nh_h5_open_group(path, file, "matrices", &g);
    if (!err) err = list_links(path, g, &l);
    nh_h5_close(&g);
  }
  if (!err && !l.names) err = nh_malloc(0, &l.names);
  if (err) nh_free(&l.names);
  NH_CALL(nh_sample_finish(ctx, &file, err));
  *count = l.count;
  *names = l.names;
  return NH_OK;
}
