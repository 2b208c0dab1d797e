/* libFuzzer harness for the structure readers. Built once per format with
 * -DNH_FUZZ_FORMAT='"poscar"' (or "xyz", "cp2k") by run-fuzz-structure.sh.
 *
 * Each input is written to a private temporary file and read. Besides the
 * sanitizers, it checks two properties: a failed read leaves the handle NULL
 * with a message, and a structure that reads must survive an extended-XYZ
 * round trip unchanged (to 1e-10 Å, or 1e-12 relative for far atoms). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nextham/structure.h"

#ifndef NH_FUZZ_FORMAT
#define NH_FUZZ_FORMAT "poscar"
#endif

static char in_path[96], out_path[96];

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_structure: property violated: %s\n", what);
    abort();
  }
}

static double diff(double a, double b) {
  return fabs(a - b) / fmax(1.0, fabs(b) * 1e-2);
}

/* Write and re-read as extended XYZ; the copy must match. Validation of
 * the copy may legitimately fail when two atoms sit within round-off of
 * the minimum distance, so only a successful re-read is compared. */
static void round_trip(const nh_structure *s) {
  nh_structure *t = NULL;
  check(nh_structure_write_xyz(s, out_path) == NH_OK, "xyz writer failed");
  if (nh_structure_read_xyz(out_path, &t) != NH_OK) {
    nh_error_clear();
    return;
  }
  check(t->natoms == s->natoms, "round trip changed natoms");
  double tol = 1e-10 / NH_BOHR_ANGSTROM;
  for (int k = 0; k < 9; k++)
    check(diff(t->lattice[k / 3][k % 3], s->lattice[k / 3][k % 3]) < tol,
          "round trip changed the lattice");
  for (int i = 0; i < s->natoms; i++) {
    check(t->z[i] == s->z[i], "round trip changed an element");
    for (int x = 0; x < 3; x++)
      check(diff(t->pos[i][x], s->pos[i][x]) < tol,
            "round trip changed a position");
  }
  for (int k = 0; k < 3; k++)
    check(t->pbc[k] == s->pbc[k], "round trip changed pbc");
  nh_structure_destroy(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!in_path[0]) {
    const char *ext = strcmp(NH_FUZZ_FORMAT, "cp2k") == 0 ? "inp"
                      : strcmp(NH_FUZZ_FORMAT, "xyz") == 0 ? "xyz"
                                                             : "vasp";
    snprintf(in_path, sizeof in_path, "/tmp/nh_fuzz_%d.%s", (int)getpid(),
             ext);
    snprintf(out_path, sizeof out_path, "/tmp/nh_fuzz_%d_out.xyz",
             (int)getpid());
  }
  FILE *f = fopen(in_path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  nh_structure *s = NULL;
  nh_err err = nh_structure_read(in_path, NH_FUZZ_FORMAT, &s);
  if (err) {
    check(s == NULL, "failed read left a structure");
    check(nh_error_message()[0] != '\0', "failed read without a message");
    nh_error_clear();
    return 0;
  }
  check(s && s->natoms >= 1, "successful read without atoms");
  check(nh_structure_validate(s, NH_MIN_DIST) == NH_OK,
        "read structure fails validation");
  round_trip(s);
  nh_structure_destroy(&s);
  return 0;
}
