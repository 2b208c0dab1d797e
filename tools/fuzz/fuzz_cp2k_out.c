/* libFuzzer harness for the CP2K .out parser (nh_cp2k_read_run).
 * Built by run-fuzz-cp2k.sh. MPI is initialised once (the parser only logs
 * through the context); the context is a 1-rank MPI_COMM_SELF.
 *
 * Each input is written to a private temporary file and read. Besides the
 * sanitizers it checks: a failed read leaves the handle NULL with a message;
 * a run that reads is self-consistent (what check_run promises: atoms and
 * kinds present, kinds in range, image 1 = (0 0 0), norb the sum over atoms)
 * and its CSR paths can be formed. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nextham/cp2k.h"

static char path[96];
static nh_ctx ctx;

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_cp2k_out: property violated: %s\n", what);
    abort();
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  MPI_Init(argc, argv);
  nh_ctx_init(MPI_COMM_SELF, &ctx);
  ctx.verbosity = 0;
  snprintf(path, sizeof path, "/tmp/nh_fuzz_cp2k_%d/run.out", (int)getpid());
  char dir[96];
  snprintf(dir, sizeof dir, "/tmp/nh_fuzz_cp2k_%d", (int)getpid());
  mkdir(dir, 0700);
  return 0;
}

static void check_run(const nh_cp2k_run *run) {
  check(run->project[0] != '\0', "no project");
  check(run->natoms > 0 && run->nkinds > 0, "no atoms or kinds");
  check(run->nimages > 0 && run->images[0][0] == 0 && run->images[0][1] == 0 &&
            run->images[0][2] == 0, "image 1 is not (0 0 0)");
  long norb = 0;
  for (int a = 0; a < run->natoms; a++) {
    check(run->kind[a] >= 0 && run->kind[a] < run->nkinds, "kind out of range");
    const nh_cp2k_kind *k = &run->kinds[run->kind[a]];
    check(k->z == run->z[a], "kind and atom disagree on Z");
    check(k->z >= 1 && k->z <= NH_MAX_Z, "Z out of range");
    check(k->norb > 0 && k->basis_name[0], "kind without basis");
    norb += k->norb;
  }
  check(norb == run->norb, "norb is not the sum over atoms");
  char csr[2048];
  check(nh_cp2k_csr_path(run, "KS", run->nimages, csr, sizeof csr) == NH_OK,
        "cannot form the CSR path of the last image");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  nh_cp2k_run *run = NULL;
  if (nh_cp2k_read_run(&ctx, path, &run)) {
    check(run == NULL, "failed read left a run");
    check(nh_error_message()[0] != '\0', "failed read without a message");
    nh_error_clear();
    return 0;
  }
  check_run(run);
  nh_cp2k_run_destroy(&run);
  check(run == NULL, "destroy did not NULL the handle");
  return 0;
}
