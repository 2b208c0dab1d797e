/* nextham entry point: MPI start-up, the command line, and one clear error
 * message with a non-zero exit on every rank when anything fails. */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "config.h"
#include "nextham/app.h"
#include "nextham/solve.h"

static const char *usage =
    "Usage:\n"
    "  nextham INPUT.toml             run the task named in the input file\n"
    "  nextham convert cp2k RUN.out -o SAMPLE.h5 [--h0 GUESS.out]\n"
    "                                 import a CP2K k-point run (real-space\n"
    "                                 KS and S CSR files beside RUN.out)\n"
    "  nextham info FILE.h5           summary of a nextham HDF5 file\n"
    "  nextham supercell IN.h5 -o OUT.h5 --m M1 M2 M3\n"
    "                                 tile a sample's matrices into a supercell\n"
    "  nextham --help | --version\n"
    "\n"
    "Options (before the input file or subcommand):\n"
    "  -q, --quiet                    only errors and warnings\n"
    "  -v, --verbose                  debug output\n"
    "\n"
    "Run with MPI, e.g. `mpirun -np 64 nextham input.toml`. Input keys are\n"
    "documented in docs/input.md; errors name the file, line and key.\n"
    "Set NEXTHAM_TRACEBACK=1 to see where in the code an error arose.\n";

static nh_err run(nh_ctx *ctx, int argc, char **argv) {
  int a = 1;
  for (; a < argc && argv[a][0] == '-'; a++) {
    if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
      nh_log(ctx, 0, "nextham %s — DFT Hamiltonians by equivariant networks\n\n%s\n",
             PACKAGE_VERSION, usage);
      nh_app_list_tasks(ctx);
      return NH_OK;
    } else if (!strcmp(argv[a], "--version")) {
      nh_log(ctx, 0, "nextham %s\n", PACKAGE_VERSION);
      return NH_OK;
    } else if (!strcmp(argv[a], "-q") || !strcmp(argv[a], "--quiet")) {
      ctx->verbosity = 0;
    } else if (!strcmp(argv[a], "-v") || !strcmp(argv[a], "--verbose")) {
      ctx->verbosity = 2;
    } else {
      NH_CHECK(0, NH_ERR_INPUT, "unknown option '%s' (see nextham --help)",
               argv[a]);
    }
  }
  NH_CHECK(a < argc, NH_ERR_INPUT,
           "no input file given\n\n%s", usage);
  nh_log(ctx, 1, "nextham %s on %d MPI rank%s\n", PACKAGE_VERSION, ctx->size,
         ctx->size > 1 ? "s" : "");
  if (!strcmp(argv[a], "convert"))
    NH_CALL(nh_app_convert(ctx, argc - a, argv + a));
  else if (!strcmp(argv[a], "info"))
    NH_CALL(nh_app_info(ctx, argc - a, argv + a));
  else if (!strcmp(argv[a], "supercell"))
    NH_CALL(nh_app_supercell(ctx, argc - a, argv + a));
  else {
    NH_CHECK(a + 1 == argc, NH_ERR_INPUT,
             "unexpected argument '%s' after the input file", argv[a + 1]);
    NH_CALL(nh_app_run_input(ctx, argv[a]));
  }
  return NH_OK;
}

int main(int argc, char **argv) {
#ifdef __GLIBC__
  /* Large matrices and buffers are freed phase by phase (S before the
   * grid part, exchange buffers after each assembly). A fixed threshold
   * keeps them in mmap so that the memory goes back to the system;
   * glibc's adaptive threshold would move them onto the heap, where the
   * freed space stays part of the process and the peak grows. */
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  MPI_Init(&argc, &argv);
  nh_ctx ctx;
  nh_err err = nh_ctx_init(MPI_COMM_WORLD, &ctx);
  if (!err) err = run(&ctx, argc, argv);
  /* Every rank reaches this point; agreeing here makes every rank exit
   * non-zero when any failed, and rank 0 prints the first failure once. */
  nh_err all = nh_ctx_agree(&ctx, err);
  if (all && ctx.rank == 0) nh_error_print(all, -1);
  /* PETSc/SLEPc and ELPA hold global state (and MPI objects) until then. */
  nh_err fin = nh_solve_finalize();
  if (fin) {
    nh_error_print(fin, ctx.rank);
    all = fin;
  }
  MPI_Finalize();
  return all ? 1 : 0;
}
