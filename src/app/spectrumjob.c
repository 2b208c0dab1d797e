/* What the "bands" and "dos" tasks share (spectrumjob.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nextham/sample.h"
#include "nextham/supercell.h"
#include "spectrumjob.h"

/* Replaces the recorded error by one naming where it arose. */
static nh_err rephrase(nh_err err, const char *where) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", nh_error_message());
  nh_error_clear();
  return nh_error_set(err, __FILE__, __LINE__, __func__, "%s: %s", where, msg);
}

/* line of key k of table t, for messages */
static int key_line(nh_toml_val *t, const char *k) {
  nh_toml_val *v = t ? nh_toml_find(t, k) : NULL;
  return v ? nh_toml_line(v) : 1;
}

nh_err nh_spectrum_job_sample_keys(nh_toml *doc, const char *dir,
                                   spectrum_job *j) {
  nh_toml_val *t;
  char file[1024];
  NH_CALL(nh_toml_require_table(nh_toml_root(doc), "sample", &t));
  NH_CALL(nh_toml_require_string(t, "file", file, sizeof file));
  NH_CALL(nh_toml_get_string(t, "hamiltonian", "H", j->hname, sizeof j->hname));
  int64_t m[3] = {1, 1, 1};
  NH_CALL(nh_toml_get_int_vec(t, "supercell", 3, m));
  for (int x = 0; x < 3; x++) {
    NH_CHECK(m[x] >= 1 && m[x] <= 1000, NH_ERR_INPUT,
             "%s:%d: key 'sample.supercell' wants three integers 1 .. 1000",
             nh_toml_name(doc), key_line(t, "supercell"));
    j->m[x] = (int)m[x];
  }
  nh_app_resolve_path(dir, file, j->sample, sizeof j->sample);
  return NH_OK;
}

/* The sparse solver's keys (docs/input.md, docs/solvers.md). */
static nh_err sparse_keys(nh_toml *doc, nh_toml_val *t, const char *tname,
                          const char *dir, nh_solver_opts *so) {
  const char *f = nh_toml_name(doc);
  char ordering[32], ooc_dir[512];
  double drop_ev;
  NH_CALL(nh_toml_get_double(t, "drop_tol", 0, &drop_ev));
  NH_CHECK(drop_ev >= 0 && drop_ev < 1, NH_ERR_INPUT,
           "%s:%d: key '%s.drop_tol' must be in [0, 1) eV", f,
           key_line(t, "drop_tol"), tname);
  so->drop_tol = drop_ev / NH_HARTREE_EV;
  NH_CALL(nh_toml_get_string(t, "ordering", "auto", ordering, sizeof ordering));
  nh_err err = nh_ordering_parse(ordering, &so->ordering);
  if (err) {
    char where[1200];
    snprintf(where, sizeof where, "%s:%d: key '%s.ordering'", f,
             key_line(t, "ordering"), tname);
    return rephrase(err, where);
  }
  NH_CALL(nh_toml_get_bool(t, "out_of_core", 0, &so->out_of_core));
  NH_CALL(nh_toml_get_string(t, "ooc_dir", "", ooc_dir, sizeof ooc_dir));
  if (ooc_dir[0])
    nh_app_resolve_path(dir, ooc_dir, so->ooc_dir, sizeof so->ooc_dir);
  return NH_OK;
}

nh_err nh_spectrum_job_solver_keys(nh_toml *doc, nh_toml_val *t,
                                   const char *tname, const char *dir,
                                   const char *out_default,
                                   const char *png_default, spectrum_job *j) {
  char solver[32], out[1024], png[1024];
  int64_t nbands;
  double target;
  const char *f = nh_toml_name(doc);
  nh_solver_opts_default(&j->so);
  NH_CALL(nh_toml_get_string(t, "solver", "elpa2", solver, sizeof solver));
  nh_err err = nh_solver_parse(solver, &j->so.kind);
  if (err) {
    char where[1200];
    snprintf(where, sizeof where, "%s:%d: key '%s.solver'", f,
             key_line(t, "solver"), tname);
    return rephrase(err, where);
  }
  char kernel[32];
  NH_CALL(nh_toml_get_string(t, "elpa_kernel", "default", kernel, sizeof kernel));
  err = nh_solver_elpa_kernel_parse(kernel, &j->so.elpa_kernel);
  if (err) {
    char where[1200];
    snprintf(where, sizeof where, "%s:%d: key '%s.elpa_kernel'", f,
             key_line(t, "elpa_kernel"), tname);
    return rephrase(err, where);
  }
  NH_CALL(nh_toml_get_int(t, "nbands", 0, &nbands));
  NH_CHECK(nbands >= 0 && nbands < (1 << 30), NH_ERR_INPUT,
           "%s:%d: key '%s.nbands' must be >= 0", f, key_line(t, "nbands"), tname);
  NH_CHECK(nbands > 0 || j->so.kind != NH_SOLVER_SLEPC, NH_ERR_INPUT,
           "%s:%d: solver \"slepc\" needs key '%s.nbands' (the number of bands "
           "nearest the target)", f, key_line(t, "solver"), tname);
  j->so.nbands = (int)nbands;
  NH_CALL(nh_toml_get_double(t, "target", NAN, &target));
  j->target_set = !isnan(target);
  j->so.target = j->target_set ? target / NH_HARTREE_EV : 0;
  NH_CALL(nh_toml_get_double(t, "s_threshold", j->so.s_threshold, &j->so.s_threshold));
  NH_CHECK(j->so.s_threshold >= 0 && j->so.s_threshold < 1, NH_ERR_INPUT,
           "%s:%d: key '%s.s_threshold' must be in [0, 1)", f,
           key_line(t, "s_threshold"), tname);
  NH_CALL(sparse_keys(doc, t, tname, dir, &j->so));
  NH_CALL(nh_toml_get_double(t, "charge", 0, &j->charge));
  NH_CALL(nh_toml_get_string(t, "output", out_default, out, sizeof out));
  NH_CALL(nh_toml_get_bool(t, "plot", 0, &j->plot));
  NH_CALL(nh_toml_get_string(t, "plot_file", png_default, png, sizeof png));
  NH_CALL(nh_toml_get_bool(t, "plot_absolute", 0, &j->plot_absolute));
  nh_app_resolve_path(dir, out, j->output, sizeof j->output);
  nh_app_resolve_path(dir, png, j->png, sizeof j->png);
  return NH_OK;
}

static nh_err load_electrons(spectrum_job *j) {
  double zval[NH_MAX_Z + 1] = {0};
  int norb[NH_MAX_Z + 1];
  for (int z = 1; z <= NH_MAX_Z; z++)
    if (j->b->elem[z]) zval[z] = j->b->elem[z]->zval;
  nh_err err = nh_spectrum_nelec(j->s->natoms, j->s->z, zval, j->charge, &j->nelec);
  if (err) return rephrase(err, j->sample);
  nh_basis_norb_table(j->b, norb);
  j->norb = 0;
  for (int a = 0; a < j->s->natoms; a++) j->norb += norb[j->s->z[a]];
  return NH_OK;
}

static void free_cell(spectrum_job *j) {
  nh_mat_destroy(&j->H);
  nh_mat_destroy(&j->S);
  nh_domain_destroy(&j->dom);
  nh_structure_destroy(&j->s);
}

/* Replaces the loaded cell by its m1 x m2 x m3 supercell (same halo). */
static nh_err tile(const nh_ctx *ctx, spectrum_job *j, double halo) {
  nh_structure *sc = NULL;
  nh_domain *dom = NULL;
  nh_mat *H = NULL, *S = NULL;
  int norb[NH_MAX_Z + 1];
  nh_basis_norb_table(j->b, norb);
  nh_err err;
  NH_CALL_GOTO(nh_supercell_structure(j->s, j->m, &sc), fail);
  NH_CALL_GOTO(nh_domain_create(ctx, sc, NULL, halo, &dom), fail);
  NH_CALL_GOTO(nh_supercell_tile(j->H, j->s, sc, j->m, dom, norb, "H", &H), fail);
  NH_CALL_GOTO(nh_supercell_tile(j->S, j->s, sc, j->m, dom, norb, "S", &S), fail);
  free_cell(j); /* the primitive cell's; the basis stays */
  j->s = sc;
  j->dom = dom;
  j->H = H;
  j->S = S;
  return NH_OK;
fail:
  nh_mat_destroy(&S);
  nh_mat_destroy(&H);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&sc);
  return err;
}

nh_err nh_spectrum_job_load(const nh_ctx *ctx, spectrum_job *j) {
  double rh, rs;
  nh_timer_start("read sample");
  NH_CALL(nh_sample_read_structure(ctx, j->sample, &j->s));
  NH_CALL(nh_sample_read_basis(ctx, j->sample, &j->b));
  NH_CALL(nh_bandsio_pair_range(ctx, j->sample, j->hname, j->s, &rh));
  NH_CALL(nh_bandsio_pair_range(ctx, j->sample, "S", j->s, &rs));
  double halo = fmax(rh, rs) * (1 + 1e-9) + 1e-6;
  NH_CALL(nh_domain_create(ctx, j->s, NULL, halo, &j->dom));
  NH_CALL(nh_sample_read_matrix(j->sample, j->hname, j->dom, j->b,
                                1 / NH_HARTREE_EV, &j->H));
  NH_CALL(nh_sample_read_matrix(j->sample, "S", j->dom, j->b, 1, &j->S));
  nh_timer_stop("read sample");
  if (j->m[0] * j->m[1] * j->m[2] > 1) {
    nh_timer_start("supercell");
    NH_CALL(tile(ctx, j, halo));
    nh_timer_stop("supercell");
  }
  NH_CALL(load_electrons(j));
  nh_log(ctx, 1, "Sample: %s%s, %d atoms, %lld orbitals, %g valence electrons "
                 "per cell, H = /matrices/%s\n", j->sample,
         j->m[0] * j->m[1] * j->m[2] > 1 ? " tiled into a supercell" : "",
         j->s->natoms, (long long)j->norb, j->nelec, j->hname);
  return NH_OK;
}

/* SLEPc needs an energy to look near: the Fermi level at Gamma, dense */
static nh_err estimate_target(const nh_ctx *ctx, spectrum_job *j) {
  NH_CHECK(j->norb <= 20000, NH_ERR_INPUT,
           "solver \"slepc\" with %lld orbitals needs key 'target' (eV): the "
           "dense estimate at Gamma is limited to 20000 orbitals",
           (long long)j->norb);
  nh_solver_opts o = j->so;
  o.kind = NH_SOLVER_ELPA2;
  o.nbands = 0;
  o.want_mulliken = 0;
  const double gamma[1][3] = {{0, 0, 0}};
  const double w = 1;
  nh_bands *b = NULL;
  nh_spectrum_info in;
  NH_CALL(nh_solve_kpoints(j->H, j->S, &o, 1, gamma, &b));
  nh_err err = nh_spectrum_analyse(1, b->nb, b->e, &w, j->nelec, 1e-9, &in);
  nh_bands_destroy(&b);
  NH_CALL(err);
  j->so.target = in.fermi;
  nh_log(ctx, 1, "SLEPc target: %.6f eV (Fermi level at Gamma, dense)\n",
         in.fermi * NH_HARTREE_EV);
  return NH_OK;
}

nh_err nh_spectrum_job_solve(const nh_ctx *ctx, spectrum_job *j, int nk,
                             const double (*k)[3], int mulliken,
                             nh_bands **bands) {
  if (j->so.kind == NH_SOLVER_SLEPC && !j->target_set)
    NH_CALL(estimate_target(ctx, j));
  j->so.want_mulliken = mulliken;
  nh_log(ctx, 1, "Solving %d k-point%s with %s%s\n", nk, nk == 1 ? "" : "s",
         nh_solver_name(j->so.kind), mulliken ? " (Mulliken weights)" : "");
  nh_timer_start("solve");
  NH_CALL(nh_solve_kpoints(j->H, j->S, &j->so, nk, k, bands));
  nh_timer_stop("solve");
  int dropped = 0;
  for (int q = 0; q < nk; q++) dropped += (*bands)->ndropped[q] > 0;
  if (dropped)
    nh_warn(ctx, "S(k) was ill-conditioned at %d of %d k-points: directions "
                 "with eigenvalues below %g were projected out", dropped, nk,
            j->so.s_threshold);
  return NH_OK;
}

nh_err nh_spectrum_job_fermi(const nh_ctx *ctx, const spectrum_job *j,
                             const nh_bands *b, const double *w,
                             nh_spectrum_info *info, nh_bandsio_ref *ref) {
  if (j->so.kind == NH_SOLVER_SLEPC) {
    ref->info = NULL;
    ref->fermi = j->so.target;
    nh_log(ctx, 1, "Reference energy: the SLEPc target %.6f eV (no electron "
                   "count with a partial spectrum)\n", ref->fermi * NH_HARTREE_EV);
    return NH_OK;
  }
  NH_CALL(nh_spectrum_analyse(b->nk, b->nb, b->e, w, j->nelec,
                              1e-6 / NH_HARTREE_EV, info));
  ref->info = info;
  ref->fermi = info->fermi;
  const double ev = NH_HARTREE_EV;
  nh_log(ctx, 1, "Fermi level: %.6f eV (%g electrons per cell)\n",
         info->fermi * ev, j->nelec);
  if (info->gapped)
    nh_log(ctx, 1, "Band gap: %.6f eV, %s (VBM %.6f eV at k-point %d, CBM "
                   "%.6f eV at k-point %d; smallest direct gap %.6f eV at "
                   "k-point %d)\n", info->gap * ev,
           info->direct ? "direct" : "indirect", info->vbm * ev,
           info->vbm_k + 1, info->cbm * ev, info->cbm_k + 1,
           info->direct_gap * ev, info->direct_k + 1);
  else
    nh_log(ctx, 1, "Band gap: none (metallic filling, or no empty band "
                   "computed)\n");
  return NH_OK;
}

void nh_spectrum_job_free(spectrum_job *j) {
  free_cell(j);
  nh_basis_destroy(&j->b);
}
