/* Output of the bands and dos tasks: HDF5 (rank 0, "<path>.tmp" renamed),
 * bands.dat for gnuplot, the PNG plot; the halo of a sample's matrices. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/h5util.h"
#include "nextham/bandsio.h"
#include "src/solve/nh_plotpath.h"

/* ---------------------------------------------------------------------------
 * Halo from the pairs of a sample's matrix
 * ------------------------------------------------------------------------- */

static nh_err pairs_range(const char *path, hid_t dset, hsize_t lo, hsize_t hi,
                          const nh_structure *s, double (*tau)[3], double *r) {
  enum { CHUNK = 1 << 16 };
  int64_t *buf;
  NH_CALL(nh_malloc(CHUNK * 5 * sizeof *buf, &buf));
  nh_err err = NH_OK;
  for (hsize_t c = lo; c < hi && !err; c += CHUNK) {
    hsize_t n = hi - c < CHUNK ? hi - c : CHUNK;
    err = nh_h5_read_rows(path, dset, H5T_NATIVE_INT64, c, n, 5, buf, 0);
    for (hsize_t q = 0; q < n && !err; q++) {
      const int64_t *p = buf + 5 * q;
      if (p[0] < 0 || p[0] >= s->natoms || p[1] < 0 || p[1] >= s->natoms) {
        err = nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                           "%s: pair row %llu names atom %lld or %lld of %d",
                           path, (unsigned long long)(c + q), (long long)p[0],
                           (long long)p[1], s->natoms);
        break;
      }
      double d2 = 0;
      for (int x = 0; x < 3; x++) {
        double d = tau[p[1]][x] - tau[p[0]][x];
        for (int k = 0; k < 3; k++) d += (double)p[2 + k] * s->lattice[k][x];
        d2 += d * d;
      }
      if (d2 > *r * *r) *r = sqrt(d2);
    }
  }
  nh_free(&buf);
  return err;
}

nh_err nh_bandsio_pair_range(const nh_ctx *ctx, const char *path,
                             const char *name, const nh_structure *s,
                             double *range) {
  hid_t file = -1, grp = -1, dset = -1;
  hsize_t dims[2] = {0, 0};
  double (*tau)[3] = NULL, r = 0;
  char gname[128];
  snprintf(gname, sizeof gname, "matrices/%s", name);
  nh_h5_quiet();
  nh_err err = nh_h5_open_file(path, ctx->comm, &file);
  if (!err) err = nh_h5_open_group(path, file, gname, &grp);
  if (!err) err = nh_h5_dset_open(path, grp, "pairs", H5T_NATIVE_INT64, 2, 5, dims, &dset);
  if (!err) err = nh_malloc((size_t)s->natoms * sizeof *tau, &tau);
  if (!err) {
    nh_structure_wrap_cp2k(s, tau);
    hsize_t lo = dims[0] * ctx->rank / ctx->size, hi = dims[0] * (ctx->rank + 1) / ctx->size;
    err = pairs_range(path, dset, lo, hi, s, tau, &r);
  }
  nh_free(&tau);
  nh_h5_close(&dset);
  nh_h5_close(&grp);
  nh_h5_close(&file);
  NH_CALL(nh_ctx_agree(ctx, err));
  NH_MPI(MPI_Allreduce(&r, range, 1, MPI_DOUBLE, MPI_MAX, ctx->comm));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * HDF5 output, rank 0
 * ------------------------------------------------------------------------- */

static nh_err write_array(const char *path, hid_t loc, const char *name,
                          hid_t ftype, hid_t mtype, int rank, hsize_t n0,
                          hsize_t n1, const void *data) {
  hid_t d = -1;
  hsize_t dims[2] = {n0, n1};
  NH_CALL(nh_h5_dset_create(path, loc, name, ftype, rank, dims, &d));
  nh_err err = nh_h5_write_rows(path, d, mtype, 0, n0, rank == 2 ? n1 : 1, data, 0);
  nh_h5_close(&d);
  return err;
}

static nh_err write_doubles(const char *path, hid_t loc, const char *name,
                            int rank, hsize_t n0, hsize_t n1, const double *x) {
  return write_array(path, loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank,
                     n0, n1, x);
}

/* values in eV from Hartree */
static nh_err write_ev(const char *path, hid_t loc, const char *name, int rank,
                       hsize_t n0, hsize_t n1, const double *ha) {
  double *ev;
  size_t n = (size_t)n0 * (rank == 2 ? n1 : 1);
  NH_CALL(nh_malloc(n * sizeof *ev, &ev));
  for (size_t q = 0; q < n; q++) ev[q] = ha[q] * NH_HARTREE_EV;
  nh_err err = write_doubles(path, loc, name, rank, n0, n1, ev);
  nh_free(&ev);
  return err;
}

static nh_err write_strings(const char *path, hid_t loc, const char *name,
                            int n, const char (*s)[16]) {
  hsize_t dim = (hsize_t)n;
  const char **p = NULL;
  NH_CALL(nh_malloc((size_t)(n ? n : 1) * sizeof *p, &p));
  for (int q = 0; q < n; q++) p[q] = s[q];
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(1, &dim, NULL), d = -1;
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  nh_err err = NH_OK;
  if (d < 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) < 0)
    err = nh_h5_fail(NH_ERR_HDF5, __FILE__, __LINE__, __func__, path, loc,
                     name, "write");
  nh_h5_close(&d);
  nh_h5_close(&sp);
  nh_h5_close(&t);
  nh_free(&p);
  return err;
}

/* attributes of the Fermi level and gap on a group */
static nh_err write_ref(const char *path, hid_t g, const nh_bandsio_ref *ref) {
  NH_CALL(nh_h5_attr_write_double(path, g, "fermi_energy", ref->fermi * NH_HARTREE_EV));
  const nh_spectrum_info *in = ref->info;
  if (!in) return NH_OK;
  NH_CALL(nh_h5_attr_write_double(path, g, "nelec", in->nelec));
  NH_CALL(nh_h5_attr_write_int(path, g, "gapped", in->gapped));
  NH_CALL(nh_h5_attr_write_double(path, g, "gap", in->gap * NH_HARTREE_EV));
  NH_CALL(nh_h5_attr_write_int(path, g, "direct", in->direct));
  if (!in->gapped) return NH_OK;
  NH_CALL(nh_h5_attr_write_double(path, g, "direct_gap", in->direct_gap * NH_HARTREE_EV));
  NH_CALL(nh_h5_attr_write_double(path, g, "vbm", in->vbm * NH_HARTREE_EV));
  NH_CALL(nh_h5_attr_write_double(path, g, "cbm", in->cbm * NH_HARTREE_EV));
  NH_CALL(nh_h5_attr_write_int(path, g, "vbm_k", in->vbm_k));
  NH_CALL(nh_h5_attr_write_int(path, g, "cbm_k", in->cbm_k));
  return NH_OK;
}

static nh_err bands_group(const char *path, hid_t file, const nh_kpath *kp,
                          const nh_bands *b, const nh_bandsio_ref *ref) {
  hid_t g = -1;
  NH_CALL(nh_h5_create_group(path, file, "bands", &g));
  int64_t *li = NULL;
  double *ld = NULL;
  nh_err err = nh_malloc((size_t)kp->nlabels * sizeof *li, &li);
  if (!err) err = nh_malloc((size_t)kp->nlabels * sizeof *ld, &ld);
  for (int q = 0; q < kp->nlabels && !err; q++) {
    li[q] = kp->label_k[q];
    ld[q] = kp->dist[kp->label_k[q]];
  }
  if (!err) err = write_doubles(path, g, "kpoints", 2, (hsize_t)b->nk, 3, &b->k[0][0]);
  if (!err) err = write_doubles(path, g, "distance", 1, (hsize_t)kp->nk, 0, kp->dist);
  if (!err) err = write_ev(path, g, "energies", 2, (hsize_t)b->nk, (hsize_t)b->nb, b->e);
  if (!err) err = write_strings(path, g, "labels", kp->nlabels, kp->label);
  if (!err) err = write_array(path, g, "label_index", H5T_STD_I64LE, H5T_NATIVE_INT64,
                              1, (hsize_t)kp->nlabels, 0, li);
  if (!err) err = write_doubles(path, g, "label_distance", 1, (hsize_t)kp->nlabels, 0, ld);
  if (!err) err = write_ref(path, g, ref);
  nh_free(&li);
  nh_free(&ld);
  nh_h5_close(&g);
  return err;
}

static nh_err dos_group(const char *path, hid_t file, const nh_bands *b,
                        const nh_dos_data *dos, const nh_bandsio_ref *ref) {
  hid_t g = -1, ge = -1;
  double *x = NULL;
  NH_CALL(nh_h5_create_group(path, file, "dos", &g));
  nh_err err = nh_malloc((size_t)dos->ne * sizeof *x, &x);
  for (int j = 0; j < dos->ne && !err; j++) x[j] = dos->e0 + j * dos->de;
  if (!err) err = write_doubles(path, g, "energy", 1, (hsize_t)dos->ne, 0, x);
  if (!err) err = write_doubles(path, g, "total", 1, (hsize_t)dos->ne, 0, dos->total);
  if (!err) err = write_doubles(path, g, "kpoints", 2, (hsize_t)b->nk, 3, &b->k[0][0]);
  if (!err) err = write_doubles(path, g, "weights", 1, (hsize_t)b->nk, 0, dos->w);
  if (!err) err = write_ev(path, g, "energies", 2, (hsize_t)b->nk, (hsize_t)b->nb, b->e);
  if (!err) err = nh_h5_attr_write_str(path, g, "broadening", dos->broadening);
  if (!err) err = nh_h5_attr_write_double(path, g, "sigma", dos->sigma);
  if (!err) err = write_ref(path, g, ref);
  if (!err && dos->nelem > 0) {
    err = nh_h5_create_group(path, g, "elements", &ge);
    for (int p = 0; p < dos->nelem && !err; p++) {
      for (int j = 0; j < dos->ne; j++) x[j] = dos->pdos[(size_t)j * dos->nelem + p];
      err = write_doubles(path, ge, nh_element_symbol(dos->elem_z[p]), 1,
                          (hsize_t)dos->ne, 0, x);
    }
  }
  nh_free(&x);
  nh_h5_close(&ge);
  nh_h5_close(&g);
  return err;
}

/* Rank 0: creates <path>.tmp, writes the group(s), renames. */
static nh_err write_file(const char *path, const nh_kpath *kp, const nh_bands *b,
                         const nh_dos_data *dos, const nh_bandsio_ref *ref) {
  char tmp[2048];
  hid_t f = -1;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  nh_h5_quiet();
  /* the serial driver: MPI-IO cannot write variable-length strings */
  f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  NH_H5_CHECK(f >= 0, NH_ERR_HDF5, tmp, -1, NULL, "create the file");
  nh_err err = nh_h5_attr_write_str(tmp, f, "format", "nextham-bands");
  if (!err) err = nh_h5_attr_write_int(tmp, f, "version", 1);
  if (!err && kp) err = bands_group(tmp, f, kp, b, ref);
  if (!err && dos) err = dos_group(tmp, f, b, dos, ref);
  nh_h5_close(&f);
  if (!err && rename(tmp, path) != 0)
    err = nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                       "cannot rename %s to %s: %s", tmp, path, strerror(errno));
  if (err) unlink(tmp);
  return err;
}

nh_err nh_bandsio_write_bands(const nh_ctx *ctx, const char *path,
                              const nh_kpath *kp, const nh_bands *b,
                              const nh_bandsio_ref *ref) {
  NH_CHECK(kp->nk == b->nk, NH_ERR_ARG, "%d k-points on the path, %d solved",
           kp->nk, b->nk);
  nh_err err = ctx->rank == 0 ? write_file(path, kp, b, NULL, ref) : NH_OK;
  NH_CALL(nh_ctx_agree(ctx, err));
  return NH_OK;
}

nh_err nh_bandsio_write_dos(const nh_ctx *ctx, const char *path,
                            const nh_bands *b, const nh_dos_data *dos,
                            const nh_bandsio_ref *ref) {
  nh_err err = ctx->rank == 0 ? write_file(path, NULL, b, dos, ref) : NH_OK;
  NH_CALL(nh_ctx_agree(ctx, err));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * bands.dat
 * ------------------------------------------------------------------------- */

static nh_err write_dat(const char *path, const nh_kpath *kp, const nh_bands *b,
                        double fermi) {
  char tmp[2048];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  NH_CHECK(f, NH_ERR_FILE, "cannot write %s: %s", tmp, strerror(errno));
  fprintf(f, "# nextham band structure: %d k-points, %d bands\n", b->nk, b->nb);
  fprintf(f, "# columns: distance (1/Angstrom), band energies (eV, absolute)\n");
  fprintf(f, "# fermi_energy %.10f eV\n", fermi * NH_HARTREE_EV);
  for (int q = 0; q < kp->nlabels; q++)
    fprintf(f, "# label %s %.10f\n", kp->label[q], kp->dist[kp->label_k[q]]);
  for (int k = 0; k < b->nk; k++) {
    if (k > 0 && kp->dist[k] == kp->dist[k - 1]) fputc('\n', f); /* a break */
    fprintf(f, "%.10f", kp->dist[k]);
    for (int n = 0; n < b->nb; n++) {
      double e = b->e[(size_t)k * b->nb + n];
      if (isfinite(e)) fprintf(f, " %.10f", e * NH_HARTREE_EV);
      else fprintf(f, " nan"); /* a band lost to the S(k) projection */
    }
    fputc('\n', f);
  }
  int bad = ferror(f);
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    unlink(tmp);
    NH_CHECK(0, NH_ERR_FILE, "cannot write %s: %s", path, strerror(errno));
  }
  return NH_OK;
}

nh_err nh_bandsio_write_dat(const nh_ctx *ctx, const char *path,
                            const nh_kpath *kp, const nh_bands *b,
                            double fermi) {
  nh_err err = ctx->rank == 0 ? write_dat(path, kp, b, fermi) : NH_OK;
  NH_CALL(nh_ctx_agree(ctx, err));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Plot
 * ------------------------------------------------------------------------- */

static const char *plot_script(void) {
  static char buf[2048];
  const char *env = getenv("NEXTHAM_PLOT_SCRIPT");
  if (env && env[0]) return env;
  const char *cand[2] = {NH_PKGDATADIR "/plot_bands.py",
                         NH_SRCDIR "/tools/plot_bands.py"};
  for (int q = 0; q < 2; q++)
    if (access(cand[q], R_OK) == 0) {
      snprintf(buf, sizeof buf, "%s", cand[q]);
      return buf;
    }
  return NULL;
}

void nh_bandsio_plot(const nh_ctx *ctx, const char *h5path, const char *png,
                     const char *extra_args) {
  if (ctx->rank != 0) return;
  const char *py = "/usr/bin/python3", *script = plot_script();
  char cmd[8192];
  if (!script) {
    nh_warn(ctx, "plot: tools/plot_bands.py not found (set NEXTHAM_PLOT_SCRIPT); "
                 "no plot made");
    return;
  }
  snprintf(cmd, sizeof cmd, "%s -c 'import matplotlib, h5py' >/dev/null 2>&1", py);
  if (access(py, X_OK) != 0 || system(cmd) != 0) {
    nh_warn(ctx, "plot: %s with matplotlib and h5py is needed for the plot (on "
                 "Debian: apt-get install python3-matplotlib python3-h5py); no "
                 "plot made", py);
    return;
  }
  snprintf(cmd, sizeof cmd, "%s '%s' '%s' -o '%s' %s", py, script, h5path, png,
           extra_args ? extra_args : "");
  if (system(cmd) != 0)
    nh_warn(ctx, "plot: '%s' failed; no plot made", cmd);
  else
    nh_log(ctx, 1, "Plot: %s\n", png);
}
