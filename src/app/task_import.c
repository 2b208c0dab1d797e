/* Task "import" and subcommand `nextham convert cp2k`: a CP2K k-point run
 * (real-space KS and S CSR files) to a nextham sample file. */
#include <string.h>

#include "nextham/app.h"
#include "nextham/cp2k.h"

nh_err nh_task_import(const nh_ctx *ctx, nh_toml *doc, const char *dir) {
  nh_toml_val *t;
  char out[1024], guess[1024], sample[1024];
  char out_p[2048], guess_p[2048], sample_p[2048];
  NH_CALL(nh_toml_require_table(nh_toml_root(doc), "import", &t));
  NH_CALL(nh_toml_require_string(t, "cp2k_output", out, sizeof out));
  NH_CALL(nh_toml_get_string(t, "guess_output", "", guess, sizeof guess));
  NH_CALL(nh_toml_require_string(t, "output", sample, sizeof sample));
  NH_CALL(nh_toml_check_unused(doc));
  nh_app_resolve_path(dir, out, out_p, sizeof out_p);
  nh_app_resolve_path(dir, guess, guess_p, sizeof guess_p);
  nh_app_resolve_path(dir, sample, sample_p, sizeof sample_p);
  NH_CALL(nh_cp2k_convert(ctx, out_p, guess[0] ? guess_p : NULL, sample_p));
  return NH_OK;
}

nh_err nh_app_convert(const nh_ctx *ctx, int argc, char **argv) {
  const char *run = NULL, *h0 = NULL, *out = NULL;
  NH_CHECK(argc >= 2 && !strcmp(argv[1], "cp2k"), NH_ERR_INPUT,
           "usage: nextham convert cp2k RUN.out -o SAMPLE.h5 [--h0 GUESS.out]");
  for (int a = 2; a < argc; a++) {
    if (!strcmp(argv[a], "-o") && a + 1 < argc)
      out = argv[++a];
    else if (!strcmp(argv[a], "--h0") && a + 1 < argc)
      h0 = argv[++a];
    else {
      NH_CHECK(argv[a][0] != '-' && !run, NH_ERR_INPUT,
               "convert cp2k: unexpected argument '%s'", argv[a]);
      run = argv[a];
    }
  }
  NH_CHECK(run && out, NH_ERR_INPUT,
           "usage: nextham convert cp2k RUN.out -o SAMPLE.h5 [--h0 GUESS.out]");
  nh_timer_start("total");
  NH_CALL(nh_cp2k_convert(ctx, run, h0, out));
  nh_timer_stop("total");
  NH_CALL(nh_timer_summary(ctx));
  return NH_OK;
}
