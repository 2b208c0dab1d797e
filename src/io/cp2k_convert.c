/* `nextham convert cp2k`: a CP2K run (and optionally its atomic-guess run
 * for H0) to a nextham sample file. */
#include <stddef.h>

#include "nextham/cp2k.h"
#include "nextham/sample.h"

/* Everything convert builds, for one cleanup. */
typedef struct convert_state {
  nh_cp2k_run *run, *run0;
  nh_structure *s;
  nh_basis *b;
  nh_domain *dom;
  nh_mat *S, *H, *H0;
  nh_sample_writer *w;
  double range; /* halo of the domain: CP2K's pair range */
} convert_state;

static nh_err convert_setup(const nh_ctx *ctx, const char *out_path,
                            const char *h0_out_path, convert_state *st) {
  NH_CALL(nh_cp2k_read_run(ctx, out_path, &st->run));
  if (!st->run->scf_converged)
    nh_warn(ctx, "cp2k: %s: SCF not converged; H is not a converged "
            "Kohn-Sham Hamiltonian", out_path);
  if (h0_out_path) {
    NH_CALL(nh_cp2k_read_run(ctx, h0_out_path, &st->run0));
    NH_CALL(nh_cp2k_check_same_system(st->run, st->run0));
  }
  NH_CALL(nh_cp2k_structure(ctx, st->run, &st->s));
  NH_CALL(nh_basis_create(&st->b));
  NH_CALL(nh_cp2k_load_basis(st->run, st->b));
  NH_CALL(nh_cp2k_pair_range(st->run, st->b, &st->range));
  return NH_OK;
}

/* Collective from here on: every rank has the same run, structure, basis. */
static nh_err convert_write(const nh_ctx *ctx, const char *sample_path,
                            convert_state *st) {
  NH_CALL(nh_domain_create(ctx, st->s, NULL, st->range, &st->dom));
  NH_CALL(nh_cp2k_import(st->run, st->dom, st->b, &st->S, &st->H));
  if (st->run0)
    NH_CALL(nh_cp2k_import_matrix(st->run0, "KS", st->dom, st->b, "H0",
                                  &st->H0));
  NH_CALL(nh_sample_create(ctx, sample_path, st->s, st->b, &st->w));
  NH_CALL(nh_sample_write_matrix(st->w, st->S, "S", 1.0, "1"));
  NH_CALL(nh_sample_write_matrix(st->w, st->H, "H", NH_HARTREE_EV, "eV"));
  if (st->H0)
    NH_CALL(nh_sample_write_matrix(st->w, st->H0, "H0", NH_HARTREE_EV, "eV"));
  NH_CALL(nh_sample_close(&st->w));
  return NH_OK;
}

nh_err nh_cp2k_convert(const nh_ctx *ctx, const char *out_path,
                       const char *h0_out_path, const char *sample_path) {
  convert_state st = {0};
  nh_err err = nh_ctx_agree(ctx, convert_setup(ctx, out_path, h0_out_path, &st));
  if (!err) err = convert_write(ctx, sample_path, &st);
  if (err) nh_sample_abort(&st.w);
  if (!err)
    nh_log(ctx, 1, "cp2k: %s -> %s: %d atoms, %d orbitals, %d images%s\n",
           out_path, sample_path, st.run->natoms, st.run->norb,
           st.run->nimages, st.H0 ? ", with H0" : "");
  nh_mat_destroy(&st.H0);
  nh_mat_destroy(&st.H);
  nh_mat_destroy(&st.S);
  nh_domain_destroy(&st.dom);
  nh_basis_destroy(&st.b);
  nh_structure_destroy(&st.s);
  nh_cp2k_run_destroy(&st.run0);
  nh_cp2k_run_destroy(&st.run);
  NH_CALL(err);
  return NH_OK;
}
