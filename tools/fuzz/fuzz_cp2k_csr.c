/* libFuzzer harness for the CP2K CSR reader (nh_cp2k_csr_read), text and
 * binary: the first input byte chooses the branch (odd: the rest is
 * prefixed with a binary record marker 16 so that the binary parser runs;
 * even: the rest as is, usually text). Checks besides the sanitizers: a
 * failed read leaves NULL and a message; every triplet read has 1-based
 * indices and a finite value; binary reads hold size / 24 records. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nextham/cp2k.h"

static char path[96];

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_cp2k_csr: property violated: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0])
    snprintf(path, sizeof path, "/tmp/nh_fuzz_csr_%d.csr", (int)getpid());
  if (size < 1) return 0;
  int binary = data[0] & 1;
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t fsize = size - 1;
  if (binary) {
    int32_t marker = 16;
    fwrite(&marker, 4, 1, f);
    fsize += 4;
  }
  fwrite(data + 1, 1, size - 1, f);
  fclose(f);
  nh_cp2k_csr *c = NULL;
  if (nh_cp2k_csr_read(path, &c)) {
    check(c == NULL, "failed read left a matrix");
    check(nh_error_message()[0] != '\0', "failed read without a message");
    nh_error_clear();
    return 0;
  }
  check(c->nnz >= 0, "negative nnz");
  if (c->binary) check(c->nnz == (int64_t)(fsize / 24), "binary record count");
  for (int64_t k = 0; k < c->nnz; k++) {
    check(c->row[k] >= 1 && c->col[k] >= 1, "index below 1");
    check(isfinite(c->val[k]), "non-finite value");
  }
  nh_cp2k_csr_destroy(&c);
  check(c == NULL, "destroy did not NULL the handle");
  return 0;
}
