/* Task "bands": band energies along a k-path from a sample's H(n), S(n),
 * the Fermi level and gap from the electron count, HDF5 + bands.dat output
 * and an optional plot (docs/bands.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nextham/kpoints.h"
#include "spectrumjob.h"

typedef struct bands_opts {
  int autopath;            /* path = "auto"                                */
  int np;                  /* special points given                         */
  nh_kpoint_label *pts;
  int *line;               /* input line of each point (0: automatic)      */
  const char *input;       /* input file name, for messages                */
  int64_t npoints;         /* intervals per segment                        */
  double density;          /* or points per Å^-1                           */
  char dat[2048];
} bands_opts;

/* One element of bands.path: ["L", 0.5, 0.5, 0.5] or "|" (a break). */
static nh_err path_point(const nh_toml *doc, nh_toml_val *v, int *brk,
                         nh_kpoint_label *p) {
  char where[128];
  nh_toml_path(v, where, sizeof where);
  const char *f = nh_toml_name(doc);
  if (nh_toml_type_of(v) == NH_TOML_STRING) {
    NH_CHECK(!strcmp(nh_toml_string(v, NULL), "|"), NH_ERR_INPUT,
             "%s:%d: key '%s' must be [\"label\", k1, k2, k3] or \"|\" (a break)",
             f, nh_toml_line(v), where);
    *brk = 1;
    return NH_OK;
  }
  NH_CHECK(nh_toml_type_of(v) == NH_TOML_ARRAY && nh_toml_len(v) == 4 &&
               nh_toml_type_of(nh_toml_at(v, 0)) == NH_TOML_STRING,
           NH_ERR_INPUT,
           "%s:%d: key '%s' must be [\"label\", k1, k2, k3] (fractional "
           "reciprocal coordinates) or \"|\"", f, nh_toml_line(v), where);
  const char *lab = nh_toml_string(nh_toml_at(v, 0), NULL);
  NH_CHECK(strlen(lab) > 0 && strlen(lab) < sizeof p->label, NH_ERR_INPUT,
           "%s:%d: key '%s': a label of 1 to %zu characters", f,
           nh_toml_line(v), where, sizeof p->label - 1);
  snprintf(p->label, sizeof p->label, "%s", lab);
  for (int x = 0; x < 3; x++)
    NH_CALL(nh_toml_value_double(nh_toml_at(v, (size_t)x + 1), &p->k[x]));
  p->brk = *brk;
  *brk = 0;
  return NH_OK;
}

static nh_err read_path(const nh_toml *doc, nh_toml_val *t, bands_opts *o) {
  nh_toml_val *v = t ? nh_toml_find(t, "path") : NULL;
  if (!v || nh_toml_type_of(v) == NH_TOML_STRING) {
    char s[16];
    NH_CALL(nh_toml_get_string(t, "path", "auto", s, sizeof s));
    NH_CHECK(!strcmp(s, "auto"), NH_ERR_INPUT,
             "%s:%d: key 'bands.path' must be \"auto\" or a list of "
             "[\"label\", k1, k2, k3]", nh_toml_name(doc), nh_toml_line(v));
    o->autopath = 1;
    return NH_OK;
  }
  NH_CALL(nh_toml_get_array(t, "path", &v));
  size_t n = nh_toml_len(v);
  NH_CALL(nh_calloc(n ? n : 1, sizeof *o->pts, &o->pts));
  NH_CALL(nh_calloc(n ? n : 1, sizeof *o->line, &o->line));
  int brk = 0;
  for (size_t q = 0; q < n; q++) {
    NH_CALL(path_point(doc, nh_toml_at(v, q), &brk, &o->pts[o->np]));
    o->line[o->np] = nh_toml_line(nh_toml_at(v, q));
    if (!brk) o->np++;
  }
  NH_CHECK(o->np >= 2, NH_ERR_INPUT,
           "%s:%d: key 'bands.path' needs at least 2 special points",
           nh_toml_name(doc), nh_toml_line(v));
  return NH_OK;
}

static nh_err read_opts(nh_toml *doc, const char *dir, bands_opts *o,
                        spectrum_job *j) {
  nh_toml_val *t;
  char dat[1024];
  const char *f = nh_toml_name(doc);
  o->input = f;
  NH_CALL(nh_spectrum_job_sample_keys(doc, dir, j));
  NH_CALL(nh_toml_get_table(nh_toml_root(doc), "bands", &t));
  NH_CALL(read_path(doc, t, o));
  NH_CALL(nh_toml_get_int(t, "npoints", 20, &o->npoints));
  NH_CALL(nh_toml_get_double(t, "density", 0, &o->density));
  NH_CHECK(o->npoints >= 1 && o->npoints <= 100000, NH_ERR_INPUT,
           "%s: key 'bands.npoints' must be 1 .. 100000", f);
  NH_CHECK(o->density >= 0, NH_ERR_INPUT, "%s: key 'bands.density' must be >= 0", f);
  NH_CALL(nh_spectrum_job_solver_keys(doc, t, "bands", dir, "bands.h5",
                                      "bands.png", j));
  NH_CALL(nh_toml_get_string(t, "dat", "bands.dat", dat, sizeof dat));
  nh_app_resolve_path(dir, dat, o->dat, sizeof o->dat);
  return NH_OK;
}

/* k-components along non-periodic directions must vanish */
static nh_err check_pbc(const nh_structure *s, const bands_opts *o) {
  for (int p = 0; p < o->np; p++)
    for (int x = 0; x < 3; x++)
      NH_CHECK(s->pbc[x] || o->pts[p].k[x] == 0, NH_ERR_INPUT,
               "%s:%d: key 'bands.path': point %s has k%d = %g but the "
               "structure is not periodic along a%d", o->input, o->line[p],
               o->pts[p].label, x + 1, o->pts[p].k[x], x + 1);
  return NH_OK;
}

static nh_err make_path(const nh_ctx *ctx, const spectrum_job *j,
                        bands_opts *o, nh_kpath **kp) {
  if (o->autopath) {
    char lat[32];
    NH_CALL(nh_kpath_auto(j->s, 1e-4, &o->np, &o->pts, lat, sizeof lat));
    char desc[512] = "";
    for (int p = 0; p < o->np; p++) {
      if (p) strcat(desc, o->pts[p].brk ? "|" : "-");
      strncat(desc, o->pts[p].label, sizeof desc - strlen(desc) - 1);
    }
    nh_log(ctx, 1, "k-path: standard path of the %s lattice: %s\n", lat, desc);
  } else {
    NH_CALL(check_pbc(j->s, o));
  }
  NH_CALL(nh_kpath_create(j->s->lattice, o->np, o->pts, (int)o->npoints,
                          o->density, kp));
  nh_log(ctx, 1, "k-path: %d special points, %d k-points, length %.4f 1/Å\n",
         o->np, (*kp)->nk, (*kp)->dist[(*kp)->nk - 1]);
  return NH_OK;
}

static nh_err bands_output(const nh_ctx *ctx, const spectrum_job *j,
                           const bands_opts *o, const nh_kpath *kp,
                           const nh_bands *b, const nh_bandsio_ref *ref) {
  nh_timer_start("output");
  NH_CALL(nh_bandsio_write_bands(ctx, j->output, kp, b, ref));
  NH_CALL(nh_bandsio_write_dat(ctx, o->dat, kp, b, ref->fermi));
  nh_timer_stop("output");
  nh_log(ctx, 1, "Output: %s, %s\n", j->output, o->dat);
  if (j->plot)
    nh_bandsio_plot(ctx, j->output, j->png, j->plot_absolute ? "--absolute" : "");
  return NH_OK;
}

nh_err nh_task_bands(const nh_ctx *ctx, nh_toml *doc, const char *dir) {
  bands_opts o = {0};
  spectrum_job j = {0};
  nh_kpath *kp = NULL;
  nh_bands *b = NULL;
  double *w = NULL;
  nh_spectrum_info info;
  nh_bandsio_ref ref;
  nh_err err;
  NH_CALL_GOTO(read_opts(doc, dir, &o, &j), done);
  NH_CALL_GOTO(nh_toml_check_unused(doc), done);
  NH_CALL_GOTO(nh_spectrum_job_load(ctx, &j), done);
  NH_CALL_GOTO(make_path(ctx, &j, &o, &kp), done);
  NH_CALL_GOTO(nh_spectrum_job_solve(ctx, &j, kp->nk, (const double(*)[3])kp->k,
                                     0, &b), done);
  NH_CALL_GOTO(nh_malloc((size_t)b->nk * sizeof *w, &w), done);
  for (int k = 0; k < b->nk; k++) w[k] = 1; /* a path: every k alike */
  NH_CALL_GOTO(nh_spectrum_job_fermi(ctx, &j, b, w, &info, &ref), done);
  NH_CALL_GOTO(bands_output(ctx, &j, &o, kp, b, &ref), done);
done:
  nh_free(&w);
  nh_bands_destroy(&b);
  nh_kpath_destroy(&kp);
  nh_free(&o.pts);
  nh_free(&o.line);
  nh_spectrum_job_free(&j);
  return err;
}
