/* Task "dos": band energies on a Monkhorst-Pack mesh, the Fermi level and
 * gap from the electron count, the total DOS and the DOS per element
 * (Mulliken), HDF5 output and an optional plot (docs/bands.md). */
#include <math.h>
#include <string.h>

#include "nextham/kpoints.h"
#include "spectrumjob.h"

typedef struct dos_opts {
  int64_t mesh[3];
  double shift[3];
  int time_reversal;
  char broadening[32];
  nh_broadening kind;
  double sigma, emin, emax, de; /* eV; emin, emax relative to E_F */
  int projected;
} dos_opts;

static nh_err read_opts(nh_toml *doc, const char *dir, dos_opts *o,
                        spectrum_job *j) {
  nh_toml_val *t;
  const char *f = nh_toml_name(doc);
  NH_CALL(nh_spectrum_job_sample_keys(doc, dir, j));
  NH_CALL(nh_toml_get_table(nh_toml_root(doc), "dos", &t));
  for (int x = 0; x < 3; x++) o->mesh[x] = 8, o->shift[x] = 0;
  NH_CALL(nh_toml_get_int_vec(t, "mesh", 3, o->mesh));
  NH_CALL(nh_toml_get_double_vec(t, "shift", 3, o->shift));
  NH_CALL(nh_toml_get_bool(t, "time_reversal", 1, &o->time_reversal));
  NH_CALL(nh_toml_get_string(t, "broadening", "gaussian", o->broadening,
                             sizeof o->broadening));
  nh_err err = nh_broadening_parse(o->broadening, &o->kind);
  if (err) {
    nh_error_clear();
    NH_CHECK(0, NH_ERR_INPUT, "%s: key 'dos.broadening' must be \"gaussian\" "
             "or \"fermi-dirac\", got \"%s\"", f, o->broadening);
  }
  NH_CALL(nh_toml_get_double(t, "sigma", 0.1, &o->sigma));
  NH_CALL(nh_toml_get_double(t, "emin", -15, &o->emin));
  NH_CALL(nh_toml_get_double(t, "emax", 10, &o->emax));
  NH_CALL(nh_toml_get_double(t, "de", 0.01, &o->de));
  NH_CALL(nh_toml_get_bool(t, "projected", 1, &o->projected));
  NH_CHECK(o->sigma > 0 && o->de > 0, NH_ERR_INPUT,
           "%s: keys 'dos.sigma' and 'dos.de' must be positive (eV)", f);
  NH_CHECK(o->emax > o->emin && (o->emax - o->emin) / o->de < 1e7,
           NH_ERR_INPUT, "%s: keys 'dos.emin' < 'dos.emax' with at most 1e7 "
           "grid points of 'dos.de'", f);
  NH_CALL(nh_spectrum_job_solver_keys(doc, t, "dos", dir, "dos.h5", "dos.png", j));
  return NH_OK;
}

static nh_err make_mesh(const nh_ctx *ctx, const nh_structure *s,
                        const dos_opts *o, nh_kmesh **mesh) {
  int n[3];
  for (int x = 0; x < 3; x++) {
    NH_CHECK(s->pbc[x] || (o->mesh[x] == 1 && o->shift[x] == 0), NH_ERR_INPUT,
             "dos.mesh: the structure is not periodic along a%d: use 1 "
             "k-point and no shift there", x + 1);
    NH_CHECK(o->mesh[x] >= 1 && o->mesh[x] <= 10000, NH_ERR_INPUT,
             "dos.mesh: %lld k-points along b%d (1 .. 10000)",
             (long long)o->mesh[x], x + 1);
    n[x] = (int)o->mesh[x];
  }
  NH_CALL(nh_kmesh_mp(n, o->shift, o->time_reversal, mesh));
  nh_log(ctx, 1, "k-mesh: %dx%dx%d Monkhorst-Pack, shift (%g, %g, %g), %d "
                 "k-points%s\n", n[0], n[1], n[2], o->shift[0], o->shift[1],
         o->shift[2], (*mesh)->nk, o->time_reversal ? " (k, -k merged)" : "");
  return NH_OK;
}

/* DOS in eV: energies converted once */
static nh_err compute_dos(const dos_opts *o, const nh_bands *b, const double *w,
                          double fermi_ev, double **total, double **pdos,
                          nh_dos_data *d) {
  size_t n = (size_t)b->nk * b->nb;
  double *ev;
  memset(d, 0, sizeof *d);
  d->e0 = fermi_ev + o->emin;
  d->de = o->de;
  d->ne = (int)floor((o->emax - o->emin) / o->de + 1e-9) + 1;
  d->nelem = o->projected ? b->nelem : 0;
  NH_CALL(nh_malloc(n * sizeof *ev, &ev));
  for (size_t q = 0; q < n; q++) ev[q] = b->e[q] * NH_HARTREE_EV;
  nh_err err = nh_malloc((size_t)d->ne * sizeof **total, total);
  if (!err && d->nelem)
    err = nh_malloc((size_t)d->ne * d->nelem * sizeof **pdos, pdos);
  if (!err)
    err = nh_spectrum_dos(b->nk, b->nb, ev, w, d->nelem, d->nelem ? b->w : NULL,
                          o->kind, o->sigma, d->e0, d->de, d->ne, *total,
                          d->nelem ? *pdos : NULL);
  nh_free(&ev);
  d->total = *total;
  d->pdos = *pdos;
  d->elem_z = b->elem_z;
  d->broadening = o->broadening;
  d->sigma = o->sigma;
  d->w = w;
  return err;
}

nh_err nh_task_dos(const nh_ctx *ctx, nh_toml *doc, const char *dir) {
  dos_opts o;
  spectrum_job j = {0};
  nh_kmesh *mesh = NULL;
  nh_bands *b = NULL;
  double *total = NULL, *pdos = NULL;
  nh_spectrum_info info;
  nh_bandsio_ref ref;
  nh_dos_data d;
  nh_err err;
  NH_CALL_GOTO(read_opts(doc, dir, &o, &j), done);
  NH_CALL_GOTO(nh_toml_check_unused(doc), done);
  NH_CALL_GOTO(nh_spectrum_job_load(ctx, &j), done);
  NH_CALL_GOTO(make_mesh(ctx, j.s, &o, &mesh), done);
  NH_CALL_GOTO(nh_spectrum_job_solve(ctx, &j, mesh->nk,
                                     (const double(*)[3])mesh->k, o.projected, &b),
               done);
  NH_CALL_GOTO(nh_spectrum_job_fermi(ctx, &j, b, mesh->w, &info, &ref), done);
  nh_timer_start("dos");
  NH_CALL_GOTO(compute_dos(&o, b, mesh->w, ref.fermi * NH_HARTREE_EV, &total,
                           &pdos, &d), done);
  nh_timer_stop("dos");
  nh_timer_start("output");
  NH_CALL_GOTO(nh_bandsio_write_dos(ctx, j.output, b, &d, &ref), done);
  nh_timer_stop("output");
  nh_log(ctx, 1, "Output: %s (%d energies from %.3f to %.3f eV)\n", j.output,
         d.ne, d.e0, d.e0 + (d.ne - 1) * d.de);
  if (j.plot)
    nh_bandsio_plot(ctx, j.output, j.png, j.plot_absolute ? "--absolute" : "");
done:
  nh_free(&total);
  nh_free(&pdos);
  nh_bands_destroy(&b);
  nh_kmesh_destroy(&mesh);
  nh_spectrum_job_free(&j);
  return err;
}
