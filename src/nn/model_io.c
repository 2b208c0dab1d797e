/* The model file (HDF5, docs/model.md):
 *   /                 attrs format = "nextham-model", version = 1, creator
 *   /hparams          attrs lmax, layers, heads, cutoff_angstrom,
 *                     radial_basis, radial_width, seed, tracegrad;
 *                     dataset channels (lmax+1 int64)
 *   /elements/<Sym>   attrs z, index, basis_name, potential_name;
 *                     dataset shell_l (int64)
 *   /h0               attr settings (text of the H0 options)
 *   /normalisation    datasets in_scale_h0, in_scale_s (one per input kind),
 *                     attr out_scale
 *   /parameters       float64 [nparams]; attr layout (slice table)
 * Rank 0 writes <path>.tmp and renames it; every rank reads the file (it is
 * small) with its own handle. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../io/h5util.h"
#include "config.h"
#include "nextham/model.h"
#include "nextham/structure.h"

static nh_err write_i64(const char *path, hid_t loc, const char *name,
                        const int64_t *v, hsize_t n) {
  hid_t d;
  NH_CALL(nh_h5_dset_create(path, loc, name, H5T_STD_I64LE, 1, &n, &d));
  nh_err err = nh_h5_write_rows(path, d, H5T_NATIVE_INT64, 0, n, 1, v, 0);
  nh_h5_close(&d);
  return err;
}

static nh_err write_f64(const char *path, hid_t loc, const char *name,
                        const double *v, hsize_t n) {
  hid_t d;
  NH_CALL(nh_h5_dset_create(path, loc, name, H5T_IEEE_F64LE, 1, &n, &d));
  nh_err err = nh_h5_write_rows(path, d, H5T_NATIVE_DOUBLE, 0, n, 1, v, 0);
  nh_h5_close(&d);
  return err;
}

static nh_err write_hparams(const char *path, hid_t f, const nh_model *m) {
  const nh_model_hparams *hp = &m->hp;
  hid_t g;
  int64_t ch[NH_IRREPS_LMAX + 1];
  NH_CALL(nh_h5_create_group(path, f, "hparams", &g));
  nh_err err = NH_OK;
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "lmax", hp->lmax), done);
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "layers", hp->layers), done);
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "heads", hp->heads), done);
  NH_CALL_GOTO(nh_h5_attr_write_double(path, g, "cutoff_angstrom",
                                       hp->cutoff * NH_BOHR_ANGSTROM), done);
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "radial_basis", hp->nradial), done);
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "radial_width", hp->radial_width),
               done);
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "seed", (int64_t)hp->seed), done);
  NH_CALL_GOTO(nh_h5_attr_write_str(path, g, "tracegrad", "gram"), done);
  for (int l = 0; l <= hp->lmax; l++) ch[l] = hp->channels[l];
  NH_CALL_GOTO(write_i64(path, g, "channels", ch, hp->lmax + 1), done);
done:
  nh_h5_close(&g);
  return err;
}

static nh_err write_element(const char *path, hid_t els, const nh_model *m,
                            int e) {
  const nh_model_hparams *hp = &m->hp;
  hid_t g;
  int64_t sl[NH_MODEL_MAXSHELL];
  NH_CALL(nh_h5_create_group(path, els, nh_element_symbol(hp->z[e]), &g));
  nh_err err = NH_OK;
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "z", hp->z[e]), done);
  NH_CALL_GOTO(nh_h5_attr_write_int(path, g, "index", e), done);
  NH_CALL_GOTO(nh_h5_attr_write_str(path, g, "basis_name", hp->basis[e]), done);
  NH_CALL_GOTO(nh_h5_attr_write_str(path, g, "potential_name", hp->potential[e]),
               done);
  for (int s = 0; s < hp->nshell[e]; s++) sl[s] = hp->shell_l[e][s];
  NH_CALL_GOTO(write_i64(path, g, "shell_l", sl, hp->nshell[e]), done);
done:
  nh_h5_close(&g);
  return err;
}

static nh_err write_layout(const char *path, hid_t d, const nh_model *m) {
  char buf[8192] = "";
  size_t off, n, len = 0;
  const char *name;
  for (int k = 0; (name = nh_model_slice(m, k, &off, &n)); k++)
    len += snprintf(buf + len, len < sizeof buf ? sizeof buf - len : 0,
                    "%s %zu %zu\n", name, off, n);
  NH_CHECK(len < sizeof buf, NH_ERR_INTERNAL, "model: layout text too long");
  return nh_h5_attr_write_str(path, d, "layout", buf);
}

static nh_err write_body(const char *path, hid_t f, const nh_model *m) {
  hid_t els = -1, h0 = -1, nrm = -1, d = -1;
  nh_err err = NH_OK;
  NH_CALL(nh_h5_attr_write_str(path, f, "format", NH_MODEL_FORMAT));
  NH_CALL(nh_h5_attr_write_int(path, f, "version", NH_MODEL_VERSION));
  NH_CALL(nh_h5_attr_write_str(path, f, "creator", "nextham " PACKAGE_VERSION));
  NH_CALL(write_hparams(path, f, m));
  NH_CALL_GOTO(nh_h5_create_group(path, f, "elements", &els), done);
  for (int e = 0; e < m->hp.nelem; e++)
    NH_CALL_GOTO(write_element(path, els, m, e), done);
  NH_CALL_GOTO(nh_h5_create_group(path, f, "h0", &h0), done);
  NH_CALL_GOTO(nh_h5_attr_write_str(path, h0, "settings", m->hp.h0_settings),
               done);
  NH_CALL_GOTO(nh_h5_create_group(path, f, "normalisation", &nrm), done);
  NH_CALL_GOTO(write_f64(path, nrm, "in_scale_h0", m->in_scale[0],
                         m->ir_in.nkind), done);
  NH_CALL_GOTO(write_f64(path, nrm, "in_scale_s", m->in_scale[1],
                         m->ir_in.nkind), done);
  NH_CALL_GOTO(nh_h5_attr_write_double(path, nrm, "out_scale", m->out_scale),
               done);
  const hsize_t np = m->nparams;
  NH_CALL_GOTO(nh_h5_dset_create(path, f, "parameters", H5T_IEEE_F64LE, 1, &np,
                                 &d), done);
  NH_CALL_GOTO(nh_h5_write_rows(path, d, H5T_NATIVE_DOUBLE, 0, np, 1,
                                m->params, 0), done);
  NH_CALL_GOTO(write_layout(path, d, m), done);
done:
  nh_h5_close(&d), nh_h5_close(&nrm), nh_h5_close(&h0), nh_h5_close(&els);
  return err;
}

static nh_err write_rank0(const nh_model *m, const char *path) {
  char tmp[1100];
  hid_t f;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  nh_h5_quiet();
  NH_CALL(nh_h5_create_file(tmp, MPI_COMM_SELF, &f));
  nh_err err = write_body(tmp, f, m);
  nh_h5_close(&f);
  if (!err && rename(tmp, path))
    err = nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                       "%s: cannot rename %s to it", path, tmp);
  if (err) remove(tmp);
  return err;
}

nh_err nh_model_write(const nh_ctx *ctx, const nh_model *m, const char *path) {
  nh_err err = ctx->rank == 0 ? write_rank0(m, path) : NH_OK;
  NH_CALL(nh_ctx_agree(ctx, err));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------- */

static nh_err read_i64(const char *path, hid_t loc, const char *name,
                       int64_t *v, hsize_t n) {
  hid_t d;
  hsize_t dims[1];
  NH_CALL(nh_h5_dset_open(path, loc, name, H5T_NATIVE_INT64, 1, 0, dims, &d));
  nh_err err = NH_OK;
  if (dims[0] != n)
    err = nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                       "%s: dataset %s has %llu entries, expected %llu", path,
                       name, (unsigned long long)dims[0], (unsigned long long)n);
  else
    err = nh_h5_read_rows(path, d, H5T_NATIVE_INT64, 0, n, 1, v, 0);
  nh_h5_close(&d);
  return err;
}

static nh_err read_f64(const char *path, hid_t loc, const char *name,
                       double *v, hsize_t n) {
  hid_t d;
  hsize_t dims[1];
  NH_CALL(nh_h5_dset_open(path, loc, name, H5T_NATIVE_DOUBLE, 1, 0, dims, &d));
  nh_err err = NH_OK;
  if (dims[0] != n)
    err = nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                       "%s: dataset %s has %llu entries, but its "
                       "hyper-parameters need %llu in this nextham (a "
                       "file of a different development build, or corrupt)",
                       path, name, (unsigned long long)dims[0],
                       (unsigned long long)n);
  else
    err = nh_h5_read_rows(path, d, H5T_NATIVE_DOUBLE, 0, n, 1, v, 0);
  nh_h5_close(&d);
  return err;
}

static nh_err check_format(const char *path, hid_t f) {
  char fmt[64] = "";
  int64_t ver;
  nh_err err = nh_h5_attr_read_str(path, f, "format", fmt, sizeof fmt);
  NH_CHECK(!err && !strcmp(fmt, NH_MODEL_FORMAT), NH_ERR_FILE,
           "%s is not a nextham model file (attribute format = \"%s\", "
           "expected \"%s\")", path, fmt, NH_MODEL_FORMAT);
  NH_CALL(nh_h5_attr_read_int(path, f, "version", &ver));
  NH_CHECK(ver <= NH_MODEL_VERSION, NH_ERR_FILE,
           "%s is a model file of format version %lld, written by a newer "
           "nextham; this build reads versions up to %d: upgrade nextham",
           path, (long long)ver, NH_MODEL_VERSION);
  NH_CHECK(ver >= 1, NH_ERR_FILE, "%s: invalid model format version %lld",
           path, (long long)ver);
  return NH_OK;
}

static nh_err read_hparams(const char *path, hid_t f, nh_model_hparams *hp) {
  hid_t g;
  int64_t v, ch[NH_IRREPS_LMAX + 1];
  double cut;
  nh_model_hparams_default(hp);
  NH_CALL(nh_h5_open_group(path, f, "hparams", &g));
  nh_err err = NH_OK;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "lmax", &v), done);
  NH_CHECK_GOTO(v >= 0 && v <= NH_IRREPS_LMAX, done, NH_ERR_FILE,
                "%s: hparams lmax = %lld out of range", path, (long long)v);
  hp->lmax = (int)v;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "layers", &v), done);
  hp->layers = (int)v;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "heads", &v), done);
  hp->heads = (int)v;
  NH_CALL_GOTO(nh_h5_attr_read_double(path, g, "cutoff_angstrom", &cut), done);
  hp->cutoff = cut / NH_BOHR_ANGSTROM;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "radial_basis", &v), done);
  hp->nradial = (int)v;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "radial_width", &v), done);
  hp->radial_width = (int)v;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "seed", &v), done);
  hp->seed = (uint64_t)v;
  NH_CALL_GOTO(read_i64(path, g, "channels", ch, hp->lmax + 1), done);
  for (int l = 0; l <= hp->lmax; l++) hp->channels[l] = (int)ch[l];
done:
  nh_h5_close(&g);
  return err;
}

static herr_t count_link(hid_t loc, const char *name, const H5L_info_t *info,
                         void *data) {
  (void)loc, (void)name, (void)info;
  ++*(int *)data;
  return 0;
}

static nh_err read_element(const char *path, hid_t els, const char *sym,
                           nh_model_hparams *hp) {
  hid_t g;
  int64_t z, idx, sl[NH_MODEL_MAXSHELL];
  hsize_t dims[1];
  NH_CALL(nh_h5_open_group(path, els, sym, &g));
  nh_err err = NH_OK;
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "z", &z), done);
  NH_CALL_GOTO(nh_h5_attr_read_int(path, g, "index", &idx), done);
  NH_CHECK_GOTO(idx >= 0 && idx < hp->nelem && z >= 1 && z <= NH_MAX_Z, done,
                NH_ERR_FILE, "%s: /elements/%s has index %lld, z %lld", path,
                sym, (long long)idx, (long long)z);
  hp->z[idx] = (int)z;
  NH_CALL_GOTO(nh_h5_attr_read_str(path, g, "basis_name", hp->basis[idx], 64),
               done);
  NH_CALL_GOTO(nh_h5_attr_read_str(path, g, "potential_name",
                                   hp->potential[idx], 64), done);
  hid_t d;
  NH_CALL_GOTO(nh_h5_dset_open(path, g, "shell_l", H5T_NATIVE_INT64, 1, 0, dims,
                               &d), done);
  nh_h5_close(&d);
  NH_CHECK_GOTO(dims[0] >= 1 && dims[0] <= NH_MODEL_MAXSHELL, done, NH_ERR_FILE,
                "%s: /elements/%s has %llu shells", path, sym,
                (unsigned long long)dims[0]);
  hp->nshell[idx] = (int)dims[0];
  NH_CALL_GOTO(read_i64(path, g, "shell_l", sl, dims[0]), done);
  for (int s = 0; s < hp->nshell[idx]; s++) hp->shell_l[idx][s] = (int)sl[s];
done:
  nh_h5_close(&g);
  return err;
}

static nh_err read_elements(const char *path, hid_t f, nh_model_hparams *hp) {
  hid_t els;
  NH_CALL(nh_h5_open_group(path, f, "elements", &els));
  int n = 0;
  H5Literate(els, H5_INDEX_NAME, H5_ITER_INC, NULL, count_link, &n);
  nh_err err = NH_OK;
  NH_CHECK_GOTO(n >= 1 && n <= NH_MODEL_MAXELEM, done, NH_ERR_FILE,
                "%s: /elements has %d entries", path, n);
  hp->nelem = n;
  for (int z = 1; z <= NH_MAX_Z; z++) {
    const char *sym = nh_element_symbol(z);
    if (nh_h5_exists(els, sym)) NH_CALL_GOTO(read_element(path, els, sym, hp), done);
  }
done:
  nh_h5_close(&els);
  return err;
}

static nh_err read_rest(const char *path, hid_t f, nh_model *m) {
  hid_t g;
  NH_CALL(nh_h5_open_group(path, f, "h0", &g));
  nh_err err = nh_h5_attr_read_str(path, g, "settings", m->hp.h0_settings,
                                   sizeof m->hp.h0_settings);
  nh_h5_close(&g);
  NH_CALL(err);
  NH_CALL(nh_h5_open_group(path, f, "normalisation", &g));
  err = read_f64(path, g, "in_scale_h0", m->in_scale[0], m->ir_in.nkind);
  if (!err) err = read_f64(path, g, "in_scale_s", m->in_scale[1], m->ir_in.nkind);
  if (!err) err = nh_h5_attr_read_double(path, g, "out_scale", &m->out_scale);
  nh_h5_close(&g);
  NH_CALL(err);
  return read_f64(path, f, "parameters", m->params, m->nparams);
}

static nh_err read_local(const char *path, nh_model **out) {
  hid_t f;
  nh_model_hparams hp;
  nh_h5_quiet();
  NH_CALL(nh_h5_open_file(path, MPI_COMM_SELF, &f));
  nh_err err = check_format(path, f);
  if (!err) err = read_hparams(path, f, &hp);
  if (!err) err = read_elements(path, f, &hp);
  if (!err) {
    err = nh_model_create(&hp, out);
    if (err) { /* the file is at fault: say which */
      char msg[512];
      snprintf(msg, sizeof msg, "%s", nh_error_message());
      nh_error_clear();
      err = nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                         "%s: invalid hyper-parameters: %s", path, msg);
    }
  }
  if (!err) err = read_rest(path, f, *out);
  nh_h5_close(&f);
  if (err) nh_model_destroy(out);
  return err;
}

nh_err nh_model_read(const nh_ctx *ctx, const char *path, nh_model **m) {
  *m = NULL;
  nh_err err = read_local(path, m);
  err = nh_ctx_agree(ctx, err);
  if (err) nh_model_destroy(m);
  return err ? nh_error_trace(err, __FILE__, __LINE__, __func__) : NH_OK;
}

nh_err nh_model_check_basis(const nh_model *m, const char *model_path,
                            const nh_basis *b, const char *sample_path) {
  for (int z = 1; z <= NH_MAX_Z; z++) {
    const nh_element_basis *eb = b->elem[z];
    if (!eb) continue;
    const int e = m->elem_of_z[z];
    NH_CHECK(e >= 0, NH_ERR_INPUT,
             "the model %s has no element %s, which %s contains (model "
             "elements: %d); use a model trained for these elements",
             model_path, nh_element_symbol(z), sample_path, m->hp.nelem);
    NH_CHECK(!strcasecmp(eb->basis_name, m->hp.basis[e]), NH_ERR_INPUT,
             "the model %s uses basis %s for %s but %s has %s; compute H0 in "
             "the model's basis or use a model for %s", model_path,
             m->hp.basis[e], nh_element_symbol(z), sample_path, eb->basis_name,
             eb->basis_name);
    NH_CHECK(!eb->potential_name[0] || !m->hp.potential[e][0] ||
                 !strcasecmp(eb->potential_name, m->hp.potential[e]),
             NH_ERR_INPUT,
             "the model %s uses potential %s for %s but %s has %s",
             model_path, m->hp.potential[e], nh_element_symbol(z), sample_path,
             eb->potential_name);
    int same = eb->nshell == m->hp.nshell[e];
    for (int s = 0; same && s < eb->nshell; s++)
      same = eb->shells[s].l == m->hp.shell_l[e][s];
    NH_CHECK(same, NH_ERR_INPUT,
             "the shells of %s %s in %s differ from those the model %s was "
             "made for", nh_element_symbol(z), eb->basis_name, sample_path,
             model_path);
  }
  return NH_OK;
}
