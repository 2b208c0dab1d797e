/* Task "h0": structure in, sample file with S and H0 out (docs/input.md,
 * docs/h0.md). Reads [structure], [basis], [h0] and [grid]; every key is
 * read and checked before any work. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "nextham/app.h"
#include "nextham/atom.h"
#include "nextham/grid.h"
#include "nextham/h0.h"
#include "nextham/sample.h"

/* ---------------------------------------------------------------------------
 * [basis]
 * ------------------------------------------------------------------------- */

static nh_err read_element(nh_toml *doc, nh_toml_val *els, size_t k,
                           nh_h0_basis_opts *o) {
  char sym[16];
  size_t len;
  const char *key = nh_toml_key_at(els, k, &len);
  nh_toml_val *v = nh_toml_at(els, k);
  snprintf(sym, sizeof sym, "%.*s", (int)(len < 15 ? len : 15), key);
  int z = len < 15 ? nh_element_number(sym) : 0;
  NH_CHECK(z > 0, NH_ERR_INPUT,
           "%s:%d: key 'basis.elements.%s' is not an element symbol (e.g. "
           "Si = { basis = \"...\", potential = \"...\" })",
           nh_toml_name(doc), nh_toml_line(v), sym);
  NH_CHECK(nh_toml_type_of(v) == NH_TOML_TABLE, NH_ERR_INPUT,
           "%s:%d: key 'basis.elements.%s' must be a table { basis = ..., "
           "potential = ... }, got a %s",
           nh_toml_name(doc), nh_toml_line(v), sym,
           nh_toml_type_name(nh_toml_type_of(v)));
  nh_toml_val *t;
  NH_CALL(nh_toml_get_table(els, sym, &t));
  nh_h0_element_choice *c = &o->choice[o->nchoice++];
  c->z = z;
  NH_CALL(nh_toml_get_string(t, "basis", "", c->basis, sizeof c->basis));
  NH_CALL(nh_toml_get_string(t, "potential", "", c->potential,
                             sizeof c->potential));
  return NH_OK;
}

nh_err nh_h0_read_basis_opts(nh_toml *doc, nh_h0_basis_opts *o) {
  nh_toml_val *t, *els;
  memset(o, 0, sizeof *o);
  NH_CALL(nh_toml_get_table(nh_toml_root(doc), "basis", &t));
  NH_CALL(nh_toml_get_string(t, "file", "BASIS_MOLOPT", o->file, sizeof o->file));
  NH_CALL(nh_toml_get_string(t, "potential_file", "GTH_POTENTIALS",
                             o->potential_file, sizeof o->potential_file));
  NH_CALL(nh_toml_get_string(t, "default", "DZVP-MOLOPT-SR-GTH", o->basis,
                             sizeof o->basis));
  NH_CALL(nh_toml_get_string(t, "potential", "GTH-PBE", o->potential,
                             sizeof o->potential));
  NH_CALL(nh_toml_get_table(t, "elements", &els));
  size_t n = els ? nh_toml_len(els) : 0;
  NH_CHECK(n <= NH_MAX_Z, NH_ERR_INPUT, "%s: [basis.elements] has %zu entries",
           nh_toml_name(doc), n);
  for (size_t k = 0; k < n; k++) NH_CALL(read_element(doc, els, k, o));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * [h0]
 * ------------------------------------------------------------------------- */

typedef struct h0_task_opts {
  char output[1024];
  nh_h0_opts h0;
  int write_parts;     /* also T and V_nl as matrices of the sample */
  int atom_in_basis;   /* solve the pseudo-atoms in the calculation's basis */
  nh_grid_opts grid;
} h0_task_opts;

static nh_err read_h0_opts(nh_toml *doc, h0_task_opts *o) {
  nh_toml_val *t;
  char screen[16];
  nh_h0_opts_default(&o->h0);
  NH_CALL(nh_toml_get_table(nh_toml_root(doc), "h0", &t));
  NH_CALL(nh_toml_get_string(t, "output", "h0.h5", o->output, sizeof o->output));
  NH_CALL(nh_toml_get_double(t, "eps", 1e-12, &o->h0.eps));
  NH_CALL(nh_toml_get_string(t, "screening", "exact", screen, sizeof screen));
  NH_CALL(nh_toml_get_double(t, "eps_pgf_orb", 1e-6, &o->h0.eps_pgf_orb));
  NH_CALL(nh_toml_get_bool(t, "write_parts", 0, &o->write_parts));
  char atom[16];
  NH_CALL(nh_toml_get_string(t, "atom", "basis", atom, sizeof atom));
  NH_CHECK(!strcmp(atom, "free") || !strcmp(atom, "basis"), NH_ERR_INPUT,
           "%s: key 'h0.atom' must be \"free\" or \"basis\", got \"%s\"",
           nh_toml_name(doc), atom);
  o->atom_in_basis = !strcmp(atom, "basis");
  nh_toml_val *g;
  NH_CALL(nh_toml_get_table(nh_toml_root(doc), "grid", &g));
  NH_CALL(nh_grid_opts_from_toml(doc, g, &o->grid));
  NH_CHECK(o->h0.eps > 0 && o->h0.eps < 1e-3, NH_ERR_INPUT,
           "%s: key 'h0.eps' must be in (0, 1e-3), got %g", nh_toml_name(doc),
           o->h0.eps);
  NH_CHECK(o->h0.eps_pgf_orb > 0 && o->h0.eps_pgf_orb < 1, NH_ERR_INPUT,
           "%s: key 'h0.eps_pgf_orb' must be in (0, 1), got %g",
           nh_toml_name(doc), o->h0.eps_pgf_orb);
  NH_CHECK(!strcmp(screen, "exact") || !strcmp(screen, "cp2k"), NH_ERR_INPUT,
           "%s: key 'h0.screening' must be \"exact\" or \"cp2k\", got \"%s\"",
           nh_toml_name(doc), screen);
  o->h0.screen = strcmp(screen, "cp2k") ? NH_INT_EXACT : NH_INT_CP2K;
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------------- */

typedef struct h0_state {
  nh_structure *s;
  nh_h0_species *sp;
  nh_atom *atom[NH_MAX_Z + 1];
  nh_grid_species gsp[NH_MAX_Z + 1];
  nh_domain *dom;
  nh_h0_parts parts; /* S */
  nh_h0_parts tk;    /* T, computed after S is written and freed */
  nh_h0_parts nl;    /* V_nl, only with write_parts */
  nh_mat *H0;
  int64_t nblk, nval; /* size of S, for the report */
  nh_sample_writer *w;
} h0_state;

static void state_free(h0_state *st) {
  nh_sample_abort(&st->w);
  nh_mat_destroy(&st->H0);
  nh_h0_parts_destroy(&st->parts);
  nh_h0_parts_destroy(&st->tk);
  nh_h0_parts_destroy(&st->nl);
  nh_domain_destroy(&st->dom);
  for (int z = 0; z <= NH_MAX_Z; z++) nh_atom_destroy(&st->atom[z]);
  nh_h0_species_destroy(&st->sp);
  nh_structure_destroy(&st->s);
}

/* The neutral pseudo-atom of every element (docs/atom.md), in an
 * even-tempered basis ("free") or in the calculation's basis ("basis", as
 * CP2K's atomic guess). */
static nh_err solve_atoms(const nh_ctx *ctx, h0_state *st, int in_basis) {
  nh_timer_start("atoms");
  for (int z = 1; z <= NH_MAX_Z; z++) {
    if (!st->sp->present[z]) continue;
    nh_atom_opts ao;
    nh_atom_opts_default(&ao);
    if (in_basis) ao.basis = st->sp->basis->elem[z];
    NH_CALL(nh_atom_solve(st->sp->gth[z], &ao, &st->atom[z]));
    nh_grid_species_atom(st->atom[z], st->sp->gth[z], &st->gsp[z]);
    nh_log(ctx, 1, "  atom %-2s: E = %.8f Ha, %d SCF iterations, rho and V_na "
           "vanish beyond %.2f bohr\n", nh_element_symbol(z), st->atom[z]->etot,
           st->atom[z]->niter, st->atom[z]->rcut);
  }
  nh_timer_stop("atoms");
  return NH_OK;
}

static nh_err report_sizes(const nh_ctx *ctx, const h0_state *st) {
  int64_t nblk, nval;
  double sym;
  NH_CALL(nh_mat_global_size(st->H0, &nblk, &nval));
  NH_CALL(nh_mat_symmetry_error(st->H0, &sym));
  nh_log(ctx, 1, "S: %" PRId64 " blocks, %.1f MB; H0: %" PRId64 " blocks, "
         "%.1f MB; symmetry error of H0 %.1e Ha; peak memory of rank 0 %.1f "
         "MB\n", st->nblk, st->nval * 8.0 / 1048576.0, nblk,
         nval * 8.0 / 1048576.0, sym, nh_mem_peak() / 1048576.0);
  return NH_OK;
}

/* H0 = T + V_nl + the grid part sum_a V_na,a + V_xc[rho0] (nextham/grid.h). */
static nh_err build_h0(const nh_ctx *ctx, h0_state *st, const h0_task_opts *o) {
  if (o->write_parts) { /* T and V_nl are kept for the file */
    NH_CALL(nh_h0_analytic(st->dom, st->sp, &o->h0, NH_H0_VNL, &st->nl));
    NH_CALL(nh_mat_duplicate(st->tk.T, 1, "H0", &st->H0));
    NH_CALL(nh_mat_axpy(st->H0, 1.0, st->nl.Vnl));
  } else { /* T becomes H0 and V_nl goes straight into it: one matrix */
    st->H0 = st->tk.T;
    st->tk.T = NULL;
    NH_CALL(nh_h0_analytic_add(st->dom, st->sp, &o->h0, NH_H0_VNL, st->H0));
  }
  const nh_atom *atom[NH_MAX_Z + 1];
  const nh_gth *gth[NH_MAX_Z + 1];
  for (int z = 0; z <= NH_MAX_Z; z++) {
    atom[z] = st->atom[z];
    gth[z] = st->sp->gth[z];
  }
  nh_grid_stats gs;
  nh_timer_start("grid");
  NH_CALL(nh_grid_h0_add(st->dom, st->sp->basis, atom, gth, &o->grid, st->H0,
                         &gs));
  /* the grid's round-off breaks M(-n)_ji = M(n)_ij^T at 1e-16: restore it */
  NH_CALL(nh_mat_symmetrize(st->H0, "mean"));
  nh_timer_stop("grid");
  nh_log(ctx, 1, "  grid: spacing %.4f bohr, %d x %d x %d points, %" PRId64
         " points in %" PRId64 " batches integrated, %.2f s\n", gs.spacing,
         gs.n[0], gs.n[1], gs.n[2], gs.npoints, gs.nbatches, gs.seconds);
  return NH_OK;
}

/* S goes to the sample file as soon as it is known and is freed: the grid
 * part, the memory peak, then holds H0 only (T, V_nl with write_parts). */
static nh_err write_s(const nh_ctx *ctx, const char *path, h0_state *st) {
  nh_timer_start("write");
  NH_CALL(nh_mat_global_size(st->parts.S, &st->nblk, &st->nval));
  NH_CALL(nh_sample_create(ctx, path, st->s, st->sp->basis, &st->w));
  NH_CALL(nh_sample_write_matrix(st->w, st->parts.S, "S", 1.0, "1"));
  nh_mat_destroy(&st->parts.S);
  nh_timer_stop("write");
  return NH_OK;
}

static nh_err write_h0(const nh_ctx *ctx, const char *path, h0_state *st,
                       int write_parts) {
  nh_timer_start("write");
  NH_CALL(nh_sample_write_matrix(st->w, st->H0, "H0", NH_HARTREE_EV, "eV"));
  if (write_parts) {
    NH_CALL(nh_sample_write_matrix(st->w, st->tk.T, "T", NH_HARTREE_EV, "eV"));
    NH_CALL(nh_sample_write_matrix(st->w, st->nl.Vnl, "V_nl", NH_HARTREE_EV,
                                   "eV"));
  }
  NH_CALL(nh_sample_close(&st->w));
  nh_timer_stop("write");
  nh_log(ctx, 1, "Wrote %s: S, H0 (eV)%s\n", path,
         write_parts ? ", T, V_nl (eV)" : "");
  return NH_OK;
}

static nh_err h0_run(const nh_ctx *ctx, nh_toml *doc, const char *dir,
                     h0_state *st) {
  h0_task_opts o;
  nh_h0_basis_opts bo;
  char path[2048];
  nh_h0_ranges r;
  const int parts = NH_H0_S | NH_H0_T | NH_H0_VNL;
  NH_CALL(nh_h0_read_basis_opts(doc, &bo));
  NH_CALL(read_h0_opts(doc, &o));
  NH_CALL(nh_app_read_structure(ctx, nh_toml_root(doc), dir, &st->s));
  NH_CALL(nh_toml_check_unused(doc));
  nh_app_resolve_path(dir, o.output, path, sizeof path);

  nh_timer_start("basis");
  NH_CALL(nh_h0_species_load(st->s, &bo,
                             o.h0.screen == NH_INT_CP2K ? o.h0.eps_pgf_orb : 0,
                             &st->sp));
  NH_CALL(nh_h0_ranges_get(st->sp, &o.h0, parts, &r));
  nh_timer_stop("basis");
  NH_CALL(solve_atoms(ctx, st, o.atom_in_basis));
  const nh_grid_species *gsp[NH_MAX_Z + 1];
  for (int z = 0; z <= NH_MAX_Z; z++) gsp[z] = st->atom[z] ? &st->gsp[z] : NULL;
  double halo = fmax(r.halo, nh_grid_halo(st->sp->basis, gsp, &o.grid));
  for (int z = 1; z <= NH_MAX_Z; z++)
    if (st->sp->present[z])
      nh_log(ctx, 1, "  %-2s %s (%d functions), %s (zion %g)\n",
             nh_element_symbol(z), st->sp->basis->elem[z]->basis_name,
             st->sp->basis->elem[z]->norb, st->sp->gth[z]->name,
             st->sp->gth[z]->zion);

  nh_timer_start("distribution");
  NH_CALL(nh_domain_create(ctx, st->s, NULL, halo, &st->dom));
  nh_timer_stop("distribution");
  /* one matrix at a time (S is written and freed before T is built, V_nl
   * and the grid part go into T = H0): the peak is one matrix with its
   * assembly buffers */
  NH_CALL(nh_h0_analytic(st->dom, st->sp, &o.h0, NH_H0_S, &st->parts));
  NH_CALL(write_s(ctx, path, st));
  NH_CALL(nh_h0_analytic(st->dom, st->sp, &o.h0, NH_H0_T, &st->tk));
  NH_CALL(build_h0(ctx, st, &o));
  NH_CALL(report_sizes(ctx, st));
  NH_CALL(write_h0(ctx, path, st, o.write_parts));
  return NH_OK;
}

nh_err nh_task_h0(const nh_ctx *ctx, nh_toml *doc, const char *dir) {
  h0_state st = {0};
  nh_err err = nh_ctx_agree(ctx, h0_run(ctx, doc, dir, &st));
  state_free(&st);
  NH_CALL(err);
  return NH_OK;
}
