/* Task "predict": a sample with H0 and S (e.g. the h0 task's output) and a
 * model file in, a sample with H = H0 + ΔH out (docs/input.md, docs/model.md).
 * The flow: read keys -> read structure and basis -> read (or initialise)
 * the model and check it fits -> domain with halo max(H0 range, S range,
 * cutoff) -> read H0, S -> predict ΔH -> H = H0 + ΔH -> write. */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nextham/app.h"
#include "nextham/bandsio.h"
#include "nextham/model.h"
#include "nextham/sample.h"

typedef struct predict_opts {
  char sample[1024], model[1024], output[1024], h0name[64];
  int init_model, write_delta;
  nh_toml_val *model_tbl;
} predict_opts;

static nh_err read_opts(nh_toml *doc, const char *dir, predict_opts *o) {
  nh_toml_val *t;
  char buf[1024];
  NH_CALL(nh_toml_require_table(nh_toml_root(doc), "predict", &t));
  NH_CALL(nh_toml_require_string(t, "sample", buf, sizeof buf));
  nh_app_resolve_path(dir, buf, o->sample, sizeof o->sample);
  NH_CALL(nh_toml_require_string(t, "model", buf, sizeof buf));
  nh_app_resolve_path(dir, buf, o->model, sizeof o->model);
  NH_CALL(nh_toml_get_string(t, "output", "predicted.h5", buf, sizeof buf));
  nh_app_resolve_path(dir, buf, o->output, sizeof o->output);
  NH_CALL(nh_toml_get_string(t, "h0", "H0", o->h0name, sizeof o->h0name));
  NH_CALL(nh_toml_get_bool(t, "init_model", 0, &o->init_model));
  NH_CALL(nh_toml_get_bool(t, "write_delta", 0, &o->write_delta));
  o->model_tbl = nh_toml_find(nh_toml_root(doc), "model");
  if (o->init_model)
    NH_CALL(nh_toml_get_table(nh_toml_root(doc), "model", &o->model_tbl));
  NH_CHECK(!o->model_tbl || o->init_model, NH_ERR_INPUT,
           "%s:%d: a [model] table is only read with predict.init_model = "
           "true (otherwise the hyper-parameters come from the model file)",
           nh_toml_name(doc), nh_toml_line(o->model_tbl));
  NH_CHECK(strcmp(o->sample, o->output), NH_ERR_INPUT,
           "%s: predict.output must differ from predict.sample (%s)",
           nh_toml_name(doc), o->sample);
  return NH_OK;
}

typedef struct predict_state {
  nh_structure *s;
  nh_basis *b;
  nh_model *m;
  nh_domain *dom, *netdom; /* halo: H0's range; the model cutoff */
  nh_mat *H0, *S, *dH, *H;
  nh_sample_writer *w;
} predict_state;

static void state_free(predict_state *st) {
  nh_sample_abort(&st->w);
  nh_mat_destroy(&st->H), nh_mat_destroy(&st->dH);
  nh_mat_destroy(&st->S), nh_mat_destroy(&st->H0);
  nh_domain_destroy(&st->netdom);
  nh_domain_destroy(&st->dom);
  nh_model_destroy(&st->m);
  nh_basis_destroy(&st->b);
  nh_structure_destroy(&st->s);
}

/* An untrained model from [model] and the sample's basis, written to the
 * model path (for pipelines and benchmarks before training exists). */
static nh_err init_model(const nh_ctx *ctx, nh_model_hparams *hp,
                         const predict_opts *o, predict_state *st) {
  snprintf(hp->h0_settings, sizeof hp->h0_settings,
           "basis_file = %s; potential_file = %s; h0_matrix = %s",
           st->b->basis_file, st->b->potential_file, o->h0name);
  NH_CALL(nh_model_create(hp, &st->m));
  NH_CALL(nh_model_write(ctx, st->m, o->model));
  nh_log(ctx, 1, "  initialised an untrained model (seed %" PRIu64 ") and "
         "wrote it to %s\n", hp->seed, o->model);
  return NH_OK;
}

/* Keys first (with [model] when initialising, which needs the basis),
 * then the model, the domain and the matrices. */
static nh_err load(const nh_ctx *ctx, nh_toml *doc, const predict_opts *o,
                   predict_state *st) {
  double rh, rs;
  nh_model_hparams hp;
  NH_CALL(nh_sample_read_structure(ctx, o->sample, &st->s));
  NH_CALL(nh_sample_read_basis(ctx, o->sample, &st->b));
  if (o->init_model) NH_CALL(nh_model_hparams_read(doc, o->model_tbl, st->b, &hp));
  NH_CALL(nh_toml_check_unused(doc));
  if (o->init_model)
    NH_CALL(init_model(ctx, &hp, o, st));
  else
    NH_CALL(nh_model_read(ctx, o->model, &st->m));
  NH_CALL(nh_model_check_basis(st->m, o->model, st->b, o->sample));
  NH_CALL(nh_bandsio_pair_range(ctx, o->sample, o->h0name, st->s, &rh));
  NH_CALL(nh_bandsio_pair_range(ctx, o->sample, "S", st->s, &rs));
  const double cut = st->m->hp.cutoff;
  const double halo = fmax(fmax(rh, rs) * (1 + 1e-9) + 1e-6, cut);
  NH_CALL(nh_domain_create(ctx, st->s, NULL, halo, &st->dom));
  if (halo > cut) /* the network exchanges only the ghosts within the cutoff */
    NH_CALL(nh_domain_create(ctx, st->s, NULL, cut, &st->netdom));
  NH_CALL(nh_sample_read_matrix(o->sample, o->h0name, st->dom, st->b,
                                1 / NH_HARTREE_EV, &st->H0));
  NH_CALL(nh_sample_read_matrix(o->sample, "S", st->dom, st->b, 1, &st->S));
  return NH_OK;
}

static nh_err write_output(const nh_ctx *ctx, const predict_opts *o,
                           predict_state *st) {
  NH_CALL(nh_sample_create(ctx, o->output, st->s, st->b, &st->w));
  NH_CALL(nh_sample_write_matrix(st->w, st->S, "S", 1.0, "1"));
  NH_CALL(nh_sample_write_matrix(st->w, st->H0, "H0", NH_HARTREE_EV, "eV"));
  NH_CALL(nh_sample_write_matrix(st->w, st->H, "H", NH_HARTREE_EV, "eV"));
  if (o->write_delta)
    NH_CALL(nh_sample_write_matrix(st->w, st->dH, "dH", NH_HARTREE_EV, "eV"));
  NH_CALL(nh_sample_close(&st->w));
  return NH_OK;
}

static nh_err run(const nh_ctx *ctx, nh_toml *doc, const char *dir,
                  predict_state *st) {
  predict_opts o = {0};
  NH_CALL(read_opts(doc, dir, &o));
  nh_timer_start("read sample");
  NH_CALL(load(ctx, doc, &o, st));
  nh_timer_stop("read sample");
  nh_log(ctx, 1, "Model %s: %zu parameters, lmax %d, %d layers, cutoff %.3f Å\n",
         o.model, st->m->nparams, st->m->hp.lmax, st->m->hp.layers,
         st->m->hp.cutoff * NH_BOHR_ANGSTROM);
  nh_infer_stats is;
  NH_CALL(nh_model_predict(st->m, st->netdom, st->H0, st->S, &st->dH, &is));
  NH_CALL(nh_mat_duplicate(st->H0, 1, "H", &st->H));
  NH_CALL(nh_mat_axpy(st->H, 1.0, st->dH));
  double nd, sym;
  NH_CALL(nh_mat_norm_max(st->dH, &nd));
  NH_CALL(nh_mat_symmetry_error(st->H, &sym));
  nh_log(ctx, 1, "Predicted ΔH: %" PRId64 " atoms, %" PRId64 " edges, network "
         "%.3f s (%.0f atoms/s), max |ΔH| %.4g eV, symmetry error of H %.1e "
         "eV\n", is.atoms, is.edges, is.seconds_network,
         is.atoms / fmax(is.seconds_network, 1e-9), nd * NH_HARTREE_EV,
         sym * NH_HARTREE_EV);
  nh_timer_start("write");
  NH_CALL(write_output(ctx, &o, st));
  nh_timer_stop("write");
  nh_log(ctx, 1, "Wrote %s (S, H0, H%s)\n", o.output,
         o.write_delta ? ", dH" : "");
  return NH_OK;
}

nh_err nh_task_predict(const nh_ctx *ctx, nh_toml *doc, const char *dir) {
  predict_state st = {0};
  nh_err err = nh_ctx_agree(ctx, run(ctx, doc, dir, &st));
  state_free(&st);
  NH_CALL(err);
  return NH_OK;
}
