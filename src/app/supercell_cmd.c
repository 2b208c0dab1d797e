/* Subcommand `nextham supercell IN.h5 -o OUT.h5 --m M1 M2 M3`: a sample file
 * with every matrix of IN.h5 tiled exactly into the M1 x M2 x M3 supercell
 * (include/nextham/supercell.h, docs/bands.md). */
#include <stdlib.h>
#include <string.h>

#include "nextham/bandsio.h"
#include "nextham/sample.h"
#include "nextham/supercell.h"
#include "spectrumjob.h"

static const char *usage = "usage: nextham supercell IN.h5 -o OUT.h5 --m M1 M2 M3";

typedef struct tiling {
  nh_structure *prim, *sc;
  nh_basis *b;
  nh_domain *dom, *scdom;
  int norb[NH_MAX_Z + 1];
  int count;
  char (*names)[64];
} tiling;

static nh_err parse_args(int argc, char **argv, const char **in,
                         const char **out, int m[3]) {
  *in = *out = NULL;
  m[0] = m[1] = m[2] = 0;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "-o") && a + 1 < argc) {
      *out = argv[++a];
    } else if (!strcmp(argv[a], "--m") && a + 3 < argc) {
      for (int x = 0; x < 3; x++) {
        char *end;
        long v = strtol(argv[++a], &end, 10);
        NH_CHECK(*end == 0 && v >= 1 && v <= 1000, NH_ERR_INPUT,
                 "supercell: --m wants three integers 1 .. 1000, got '%s'", argv[a]);
        m[x] = (int)v;
      }
    } else {
      NH_CHECK(argv[a][0] != '-' && !*in, NH_ERR_INPUT,
               "supercell: unexpected argument '%s'\n%s", argv[a], usage);
      *in = argv[a];
    }
  }
  NH_CHECK(*in && *out && m[0] > 0, NH_ERR_INPUT, "%s", usage);
  return NH_OK;
}

/* Collective: structure, basis and both domains (the halo of every matrix) */
static nh_err setup(const nh_ctx *ctx, const char *in, const int m[3],
                    tiling *t) {
  double halo = 0;
  NH_CALL(nh_sample_read_structure(ctx, in, &t->prim));
  NH_CALL(nh_sample_read_basis(ctx, in, &t->b));
  NH_CALL(nh_sample_list_matrices(ctx, in, &t->count, &t->names));
  NH_CHECK(t->count > 0, NH_ERR_INPUT, "%s holds no matrices to tile", in);
  for (int q = 0; q < t->count; q++) {
    double r;
    NH_CALL(nh_bandsio_pair_range(ctx, in, t->names[q], t->prim, &r));
    if (r > halo) halo = r;
  }
  halo = halo * (1 + 1e-9) + 1e-6;
  NH_CALL(nh_supercell_structure(t->prim, m, &t->sc));
  NH_CALL(nh_domain_create(ctx, t->prim, NULL, halo, &t->dom));
  NH_CALL(nh_domain_create(ctx, t->sc, NULL, halo, &t->scdom));
  nh_basis_norb_table(t->b, t->norb);
  return NH_OK;
}

static nh_err tile_one(const char *in, const tiling *t, const int m[3],
                       const char *name, nh_sample_writer *w) {
  nh_mat *M = NULL, *T = NULL;
  nh_err err;
  NH_CALL_GOTO(nh_sample_read_matrix(in, name, t->dom, t->b, 1, &M), done);
  NH_CALL_GOTO(nh_supercell_tile(M, t->prim, t->sc, m, t->scdom, t->norb,
                                 name, &T), done);
  nh_mat_destroy(&M);
  /* values stay in the file's unit: S is unitless, Hamiltonians are eV */
  NH_CALL_GOTO(nh_sample_write_matrix(w, T, name, 1, strcmp(name, "S") ? "eV" : "1"),
               done);
done:
  nh_mat_destroy(&M);
  nh_mat_destroy(&T);
  return err;
}

/* Collective. Reads IN.h5, writes the tiled sample to out. */
static nh_err tile_file(const nh_ctx *ctx, const char *in, const char *out,
                        const int m[3]) {
  tiling t = {0};
  nh_sample_writer *w = NULL;
  nh_err err;
  NH_CALL_GOTO(setup(ctx, in, m, &t), done);
  NH_CALL_GOTO(nh_sample_create(ctx, out, t.sc, t.b, &w), done);
  for (int q = 0; q < t.count; q++)
    NH_CALL_GOTO(tile_one(in, &t, m, t.names[q], w), done);
  NH_CALL_GOTO(nh_sample_close(&w), done);
  nh_log(ctx, 1, "supercell: %s -> %s: %dx%dx%d, %d -> %d atoms, %d matrices\n",
         in, out, m[0], m[1], m[2], t.prim->natoms, t.sc->natoms, t.count);
done:
  if (err) nh_sample_abort(&w);
  nh_free(&t.names);
  nh_domain_destroy(&t.scdom);
  nh_domain_destroy(&t.dom);
  nh_basis_destroy(&t.b);
  nh_structure_destroy(&t.sc);
  nh_structure_destroy(&t.prim);
  return err;
}

nh_err nh_app_supercell(const nh_ctx *ctx, int argc, char **argv) {
  const char *in, *out;
  int m[3];
  NH_CALL(parse_args(argc, argv, &in, &out, m));
  nh_timer_start("total");
  NH_CALL(tile_file(ctx, in, out, m));
  nh_timer_stop("total");
  NH_CALL(nh_timer_summary(ctx));
  return NH_OK;
}
