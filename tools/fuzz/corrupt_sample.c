/* Robustness of the HDF5 sample reader against damaged files (run by
 * run-corrupt-sample.sh). For each of N rounds, a copy of a good sample file
 * gets either 1-16 random bytes overwritten or is truncated at a random
 * offset; then structure, basis, the list of matrices and every matrix are
 * read (1 rank, MPI_COMM_SELF). A round must end with an error message or
 * with data that is self-consistent and, where the bytes it came from were
 * damaged, still sane: a valid structure, a basis with positive exponents
 * and norb matching the shells, matrices with finite values. SIGALRM after
 * 30 s flags a hang. The damaged file of a failing round is kept.
 *   corrupt_sample GOOD.h5 WORKDIR ROUNDS SEED */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nextham/domain.h"
#include "nextham/mat.h"
#include "nextham/sample.h"

static char bad[1024];
static long round_no;

static void fail(const char *what) {
  fprintf(stderr, "round %ld: %s (file kept: %s)\n", round_no, what, bad);
  exit(1);
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "hang: a read took more than 30 s\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
  _exit(2);
}

static unsigned char *slurp(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)*n);
  if (fread(buf, 1, (size_t)*n, f) != (size_t)*n) *n = 0;
  fclose(f);
  return buf;
}

/* Damages a copy of good: mode 0 overwrites bytes, mode 1 truncates. */
static void damage(const unsigned char *good, long n, int mode) {
  unsigned char *c = malloc((size_t)n);
  memcpy(c, good, (size_t)n);
  long len = n;
  if (mode == 1) {
    len = random() % n;
  } else {
    int k = 1 + (int)(random() % 16);
    long at = random() % n;
    for (int i = 0; i < k; i++) {
      /* Half the time a burst at one place, else scattered bytes. */
      long pos = (k > 8) ? (at + i) % n : random() % n;
      c[pos] = (unsigned char)random();
    }
  }
  FILE *f = fopen(bad, "wb");
  fwrite(c, 1, (size_t)len, f);
  fclose(f);
  free(c);
}

/* Finite values only (a damaged double may still be a huge number: there
 * are no checksums, so that is not detectable and is allowed). */
static void check_matrix(const nh_mat *m) {
  double mx;
  if (nh_mat_norm_max(m, &mx)) fail("norm of a matrix read fails");
  if (!isfinite(mx)) fail("matrix read with a non-finite value");
}

/* One round; returns 1 if everything read. */
static int read_all(const nh_ctx *ctx, double halo) {
  nh_structure *s = NULL;
  nh_basis *b = NULL;
  nh_domain *dom = NULL;
  int count = 0, ok = 0;
  char (*names)[64] = NULL;
  if (nh_sample_read_structure(ctx, bad, &s)) goto done;
  if (nh_structure_validate(s, NH_MIN_DIST)) fail("invalid structure read");
  if (nh_sample_read_basis(ctx, bad, &b)) goto done;
  for (int z = 1; z <= NH_MAX_Z; z++) {
    const nh_element_basis *eb = b->elem[z];
    if (!eb) continue;
    int norb = 0;
    for (int k = 0; k < eb->nshell; k++) {
      for (int p = 0; p < eb->shells[k].nprim; p++)
        if (!(eb->shells[k].exps[p] > 0 && isfinite(eb->shells[k].exps[p]) &&
              isfinite(eb->shells[k].coefs[p])))
          fail("basis read with a bad exponent or coefficient");
      norb += 2 * eb->shells[k].l + 1;
    }
    if (norb != eb->norb) fail("basis norb differs from its shells");
  }
  for (int a = 0; a < s->natoms; a++)
    if (!b->elem[s->z[a]]) fail("basis lacks an element of the structure");
  if (nh_sample_list_matrices(ctx, bad, &count, &names)) goto done;
  if (nh_domain_create(ctx, s, NULL, halo, &dom)) goto done;
  ok = 1;
  for (int k = 0; k < count && ok; k++) {
    nh_mat *m = NULL;
    if (nh_sample_read_matrix(bad, names[k], dom, b, 1.0, &m)) {
      ok = 0;
      break;
    }
    check_matrix(m);
    nh_mat_destroy(&m);
  }
done:
  if (!ok && !nh_error_message()[0]) fail("error without a message");
  nh_error_clear();
  nh_free(&names);
  nh_domain_destroy(&dom);
  nh_basis_destroy(&b);
  nh_structure_destroy(&s);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: corrupt_sample GOOD.h5 WORKDIR ROUNDS SEED\n");
    return 2;
  }
  MPI_Init(&argc, &argv);
  nh_ctx ctx;
  nh_ctx_init(MPI_COMM_SELF, &ctx);
  ctx.verbosity = 0;
  long n = 0, rounds = atol(argv[3]);
  unsigned char *good = slurp(argv[1], &n);
  if (!good || n == 0) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  srandom((unsigned)atol(argv[4]));
  snprintf(bad, sizeof bad, "%s/damaged.h5", argv[2]);
  double halo = 40.0; /* bohr; covers every pair of the si2 fixture */
  signal(SIGALRM, on_alarm);
  { /* the undamaged file must read */
    FILE *f = fopen(bad, "wb");
    fwrite(good, 1, (size_t)n, f);
    fclose(f);
    if (!read_all(&ctx, halo)) fail("the good file does not read");
  }
  long nok[2] = {0, 0}, nerr[2] = {0, 0};
  for (round_no = 1; round_no <= rounds; round_no++) {
    int mode = (int)(random() % 2);
    damage(good, n, mode);
    alarm(30);
    if (read_all(&ctx, halo))
      nok[mode]++;
    else
      nerr[mode]++;
    alarm(0);
  }
  printf("%ld rounds: overwritten bytes %ld read / %ld rejected, truncated "
         "%ld read / %ld rejected\n", rounds, nok[0], nerr[0], nok[1], nerr[1]);
  unlink(bad);
  free(good);
  MPI_Finalize();
  return 0;
}
