/* libFuzzer harness for the CP2K basis and GTH potential readers
 * (nh_basis_load, nh_basis_load_potential -> nh_gth_load). The input is
 * written to a temporary file; the element and name to look up are the
 * first two tokens of the first line that starts with a letter, so that
 * mutations of one entry reach its body. Both readers run on every input.
 * Checks besides the sanitizers: failures leave a message (and for the
 * basis no element installed); a basis that loads has consistent shells
 * (0 <= l <= 7, nprim >= 1, positive exponents, norb = sum of 2l+1); a
 * potential that loads has a positive valence charge and counts in range. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nextham/basis.h"
#include "nextham/gth.h"
#include "nextham/structure.h"

static char path[96];

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_basis: property violated: %s\n", what);
    abort();
  }
}

/* First "Sym NAME" header of the input; 0 if there is none. */
static int first_header(const uint8_t *d, size_t n, char name[64]) {
  size_t i = 0;
  while (i < n) {
    size_t e = i;
    while (e < n && d[e] != '\n') e++;
    char line[256];
    size_t len = e - i < sizeof line - 1 ? e - i : sizeof line - 1;
    memcpy(line, d + i, len);
    line[len] = '\0';
    char sym[8];
    if (isalpha((unsigned char)line[0]) &&
        sscanf(line, "%7s %63s", sym, name) == 2) {
      sym[0] = (char)toupper((unsigned char)sym[0]);
      for (int k = 1; sym[k]; k++) sym[k] = (char)tolower((unsigned char)sym[k]);
      int z = strlen(sym) <= 3 ? nh_element_number(sym) : 0;
      if (z > 0) return z;
    }
    i = e + 1;
  }
  return 0;
}

static void check_basis(const nh_element_basis *eb) {
  int norb = 0;
  for (int s = 0; s < eb->nshell; s++) {
    const nh_shell *sh = &eb->shells[s];
    check(sh->l >= 0 && sh->l <= 7 && sh->nprim >= 1, "bad shell");
    for (int p = 0; p < sh->nprim; p++)
      check(sh->exps[p] > 0 && isfinite(sh->coefs[p]), "bad primitive");
    norb += 2 * sh->l + 1;
  }
  check(norb == eb->norb, "norb is not the sum of 2l+1");
}

static void check_gth(const nh_gth *g) {
  check(g->zion > 0, "potential without valence charge");
  check(g->rloc > 0 && g->nloc >= 0 && g->nloc <= NH_GTH_NLOC, "bad local part");
  check(g->nl >= 0 && g->nl <= NH_GTH_LMAX + 1, "bad nl");
  for (int l = 0; l < g->nl; l++)
    check(g->rl[l] > 0 && g->nprj[l] >= 0 && g->nprj[l] <= NH_GTH_NPRJ,
          "bad projector");
  check(g->ncore >= 0 && g->ncore <= NH_GTH_NCORE, "bad NLCC");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0]) snprintf(path, sizeof path, "/tmp/nh_fuzz_basis_%d", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  char name[64] = "";
  int z = first_header(data, size, name);
  if (!z) {
    z = 14;
    snprintf(name, sizeof name, "DZVP-MOLOPT-SR-GTH");
  }
  nh_basis *b = NULL;
  check(nh_basis_create(&b) == NH_OK, "create");
  if (nh_basis_load(b, z, path, name)) {
    check(nh_error_message()[0] != '\0', "failed basis without a message");
    check(b->elem[z] == NULL, "failed basis left an element");
    nh_error_clear();
  } else {
    check(b->elem[z] && b->elem[z]->z == z, "basis not installed");
    check_basis(b->elem[z]);
  }
  nh_gth g;
  if (nh_gth_load(&g, z, path, name)) {
    check(nh_error_message()[0] != '\0', "failed potential without a message");
    nh_error_clear();
  } else {
    check_gth(&g);
    check(nh_basis_load_potential(b, z, path, name) == NH_OK,
          "nh_basis_load_potential fails where nh_gth_load succeeds");
    check(b->elem[z]->zval == g.zion, "zval differs from zion");
  }
  nh_basis_destroy(&b);
  return 0;
}
