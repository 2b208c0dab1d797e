/* Accuracy of nextham's H0 against CP2K (issue 4), end to end through task
 * `h0` on the CP2K fixtures si2, graphene and hbn (tests/data/cp2k):
 *  1. against CP2K's MAX_SCF 1 Hamiltonian (the KS matrix of the atomic
 *     guess density; fixtures *-guess): the gauge MAE (< 2 meV asserted)
 *     and the MAE and max error per block type (on-site / off-site, element
 *     pair, l pair), at mu* of the whole matrix;
 *  2. against CP2K's converged H: the gauge MAE of H0 next to that of
 *     CP2K's own guess H (ratio <= 1.2 asserted);
 *  3. bands of H0 (and of CP2K's guess H) on the k-points of CP2K's .bs
 *     against CP2K's converged bands (si2, graphene): max error over all
 *     bands, over the occupied ones, and within 1 eV of E_F, raw and after
 *     the shift mu* of item 2.
 * The systems have two atoms, so the work runs on at most two ranks.
 * Default: pseudo-atoms in the basis (h0.atom = "basis", the default, as CP2K's guess),
 * grid accuracy 1e-4 eV (the default). NH_TEST_SLOW=1 adds the free atom
 * (h0.atom = "free") and grid accuracies 1e-3 and 1e-5 eV.
 * Asserted for the atom in the basis at accuracy <= 1e-4 eV (the free atom
 * misses the targets: reported only, docs/h0.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nhtest_bs.h"
#include "nhtest_fixture.h"
#include "nextham/cp2k.h"
#include "nextham/h0.h"
#include "nextham/sample.h"
#include "nextham/solve.h"

#define MEV (NH_HARTREE_EV * 1e3)
#define NE 2 /* elements per system */
#define NL 4 /* l = 0..3 */

/* ---------------------------------------------------------------------------
 * Task h0 on a CP2K input
 * ------------------------------------------------------------------------- */
static nh_err run_task(const nh_ctx *ctx, const char *text) {
  nh_toml *doc;
  char task[16];
  NH_CALL(nh_toml_parse_string("h0.toml", text, strlen(text), &doc));
  nh_err err = nh_toml_get_string(nh_toml_root(doc), "task", "", task,
                                  sizeof task); /* as nh_app_run_input */
  if (!err) err = nh_task_h0(ctx, doc, "");
  nh_toml_destroy(&doc);
  return err;
}

static double run_h0(const nh_ctx *ctx, const char *name, const char *atom,
                     double accuracy_ev, char *out, size_t len) {
  char text[2048];
  snprintf(out, len, "%s/%s-%s-%g.h5", nh_test_tmpdir(), name, atom,
           accuracy_ev);
  snprintf(text, sizeof text,
           "task = 'h0'\n[structure]\nfile = '%s/%s/%s.inp'\n[h0]\n"
           "output = '%s'\natom = '%s'\n[grid]\naccuracy = %g\n",
           nh_test_path("tests/data/cp2k"), name, name, out, atom,
           accuracy_ev);
  double t = nh_wtime();
  assert_nh_ok(run_task(ctx, text));
  return nh_wtime() - t;
}

/* ---------------------------------------------------------------------------
 * Errors per block type
 * ------------------------------------------------------------------------- */
typedef struct acc {
  double sum[2][NE][NE][NL][NL], cnt[2][NE][NE][NL][NL], max[2][NE][NE][NL][NL];
} acc;

/* l of every orbital of element z (CP2K order). */
static void orbital_l(const nh_basis *b, int z, int *l) {
  const nh_element_basis *e = b->elem[z];
  int k = 0;
  for (int s = 0; s < e->nshell; s++)
    for (int m = 0; m < 2 * e->shells[s].l + 1; m++) l[k++] = e->shells[s].l;
}

/* |h + mu s - ref| on every element of every block of ref, accumulated per
 * (on-site, element pair, l pair); reduced over comm. zlist: the elements. */
static void block_errors(const nh_mat *h, const nh_mat *ref, const nh_mat *s,
                         double mu, const nh_structure *st, const nh_basis *b,
                         const int zlist[NE], MPI_Comm comm, acc *a) {
  acc loc;
  memset(&loc, 0, sizeof loc);
  for (int64_t k = 0; k < nh_mat_nblocks(ref); k++) {
    nh_block_key key;
    double *v;
    nh_mat_block(ref, k, &key, &v);
    int zi = st->z[key.i], zj = st->z[key.j], ei = zlist[1] == zi,
        ej = zlist[1] == zj;
    int on = key.i == key.j && !key.n[0] && !key.n[1] && !key.n[2];
    int li[64], lj[64], ni = b->elem[zi]->norb, nj = b->elem[zj]->norb;
    orbital_l(b, zi, li);
    orbital_l(b, zj, lj);
    const double *w = nh_mat_get_block(h, key.i, key.j, key.n);
    const double *o = nh_mat_get_block(s, key.i, key.j, key.n);
    for (int p = 0; p < ni; p++)
      for (int q = 0; q < nj; q++) {
        double e = fabs((w ? w[p * nj + q] : 0) +
                        mu * (o ? o[p * nj + q] : 0) - v[p * nj + q]);
        loc.sum[on][ei][ej][li[p]][lj[q]] += e;
        loc.cnt[on][ei][ej][li[p]][lj[q]] += 1;
        double *mx = &loc.max[on][ei][ej][li[p]][lj[q]];
        *mx = fmax(*mx, e);
      }
  }
  int n = sizeof loc.sum / sizeof(double);
  MPI_Allreduce(loc.sum[0][0][0][0], a->sum[0][0][0][0], n, MPI_DOUBLE,
                MPI_SUM, comm);
  MPI_Allreduce(loc.cnt[0][0][0][0], a->cnt[0][0][0][0], n, MPI_DOUBLE,
                MPI_SUM, comm);
  MPI_Allreduce(loc.max[0][0][0][0], a->max[0][0][0][0], n, MPI_DOUBLE,
                MPI_MAX, comm);
}

static void print_block_errors(const char *name, const acc *a,
                               const int zlist[NE]) {
  const char *lname = "spdf";
  /* per block type and element pair, all l pairs together */
  for (int on = 1; on >= 0; on--)
    for (int ei = 0; ei < NE; ei++)
      for (int ej = ei; ej < NE; ej++) {
        double s = 0, n = 0, mx = 0;
        for (int li = 0; li < NL; li++)
          for (int lj = 0; lj < NL; lj++) {
            s += a->sum[on][ei][ej][li][lj];
            n += a->cnt[on][ei][ej][li][lj];
            mx = fmax(mx, a->max[on][ei][ej][li][lj]);
          }
        if (n > 0)
          printf("    %-8s %-8s %-2s-%-2s all: MAE %8.4f meV, max %8.3f meV "
                 "(%6.0f elements)\n",
                 name, on ? "on-site" : "off-site",
                 nh_element_symbol(zlist[ei]), nh_element_symbol(zlist[ej]),
                 s / n * MEV, mx * MEV, n);
      }
  for (int on = 1; on >= 0; on--)
    for (int ei = 0; ei < NE; ei++)
      for (int ej = 0; ej < NE; ej++)
        for (int li = 0; li < NL; li++)
          for (int lj = 0; lj < NL; lj++) {
            double n = a->cnt[on][ei][ej][li][lj];
            /* (i, j, n) and (j, i, -n) are transposes: one of each pair */
            if (n == 0 || ei > ej || (ei == ej && li > lj)) continue;
            printf("    %-8s %-8s %-2s-%-2s %c-%c: MAE %8.4f meV, max %8.3f "
                   "meV (%6.0f elements)\n",
                   name, on ? "on-site" : "off-site",
                   nh_element_symbol(zlist[ei]), nh_element_symbol(zlist[ej]),
                   lname[li], lname[lj], a->sum[on][ei][ej][li][lj] / n * MEV,
                   a->max[on][ei][ej][li][lj] * MEV, n);
          }
}

/* ---------------------------------------------------------------------------
 * Bands against CP2K's .bs (format: docs/cp2k.md)
 * ------------------------------------------------------------------------- */
/* Band errors (eV) of H against the .bs, with E shifted by `shift` (eV):
 * all bands, occupied bands (nocc), bands with |E_cp2k - E_F| < 1 eV. */
typedef struct band_err {
  double all, occ, near, mean_occ;
} band_err;

static band_err band_errors(const nh_mat *H, const nh_mat *S,
                            const bs_file *bs, int nocc, double shift) {
  nh_solver_opts o;
  nh_bands *b = NULL;
  nh_solver_opts_default(&o);
  o.kind = NH_SOLVER_SCALAPACK;
  o.nbands = bs->nb;
  assert_nh_ok(nh_solve_kpoints(H, S, &o, bs->nk, (const double(*)[3])bs->k,
                                &b));
  double vbm = -HUGE_VAL, cbm = HUGE_VAL;
  for (int q = 0; q < bs->nk; q++) {
    vbm = fmax(vbm, bs->e[q * bs->nb + nocc - 1]);
    cbm = fmin(cbm, bs->e[q * bs->nb + nocc]);
  }
  double ef = 0.5 * (vbm + cbm);
  band_err r = {0, 0, 0, 0};
  for (int q = 0; q < bs->nk; q++)
    for (int n = 0; n < bs->nb; n++) {
      double ref = bs->e[q * bs->nb + n];
      double d = fabs(b->e[q * b->nb + n] * NH_HARTREE_EV + shift - ref);
      r.all = fmax(r.all, d);
      if (n < nocc) {
        r.occ = fmax(r.occ, d);
        r.mean_occ += d / (bs->nk * nocc);
      }
      if (fabs(ref - ef) < 1.0) r.near = fmax(r.near, d);
    }
  nh_bands_destroy(&b);
  return r;
}

/* ---------------------------------------------------------------------------
 * One system
 * ------------------------------------------------------------------------- */
typedef struct sys_result {
  double mae_guess, max_guess, mae_conv, mae_guess_conv, mu_conv;
} sys_result;

static sys_result check_system(const nh_ctx *ctx, const char *name,
                               const char *atom, double accuracy_ev,
                               const char *guess_out, const char *conv_out,
                               int bands, int assert_prior) {
  char out[512];
  double secs = run_h0(ctx, name, atom, accuracy_ev, out, sizeof out);
  nh_structure *st;
  nh_basis *b;
  assert_nh_ok(nh_sample_read_structure(ctx, out, &st));
  assert_nh_ok(nh_sample_read_basis(ctx, out, &b));
  nh_cp2k_run *guess, *conv;
  assert_nh_ok(nh_cp2k_read_run(ctx, guess_out, &guess));
  assert_nh_ok(nh_cp2k_read_run(ctx, conv_out, &conv));
  double range;
  assert_nh_ok(nh_cp2k_pair_range(guess, b, &range));
  nh_domain *dom;
  assert_nh_ok(nh_domain_create(ctx, st, NULL, fmax(range, 40.0), &dom));
  nh_mat *S, *H0, *Hg, *Hc;
  assert_nh_ok(nh_sample_read_matrix(out, "S", dom, b, 1.0, &S));
  assert_nh_ok(nh_sample_read_matrix(out, "H0", dom, b, 1 / NH_HARTREE_EV, &H0));
  assert_nh_ok(nh_cp2k_import_matrix(guess, "KS", dom, b, "H_guess", &Hg));
  assert_nh_ok(nh_cp2k_import_matrix(conv, "KS", dom, b, "H_conv", &Hc));
  int zlist[NE] = {st->z[0], st->z[1]};

  /* 1. against the guess H */
  sys_result r;
  double mu, mu_gc, mx_c;
  assert_nh_ok(nh_mat_gauge(H0, Hg, S, &mu, &r.mae_guess, &r.max_guess));
  acc a;
  block_errors(H0, Hg, S, mu, st, b, zlist, ctx->comm,
               &a);
  /* 2. against the converged H */
  assert_nh_ok(nh_mat_gauge(H0, Hc, S, &r.mu_conv, &r.mae_conv, &mx_c));
  assert_nh_ok(nh_mat_gauge(Hg, Hc, S, &mu_gc, &r.mae_guess_conv, NULL));
  if (ctx->rank == 0) {
    printf("  %s, atom '%s', grid accuracy %g eV (task h0 %.2f s on %d "
           "rank(s)):\n"
           "    vs CP2K's guess H: mu* %.3f meV, gauge MAE %.4f meV, max "
           "%.3f meV\n",
           name, atom, accuracy_ev, secs, ctx->size, mu * MEV,
           r.mae_guess * MEV, r.max_guess * MEV);
    print_block_errors(name, &a, zlist);
    printf("    vs CP2K's converged H: gauge MAE of H0 %.3f meV (mu* %.1f "
           "meV), of CP2K's guess H %.3f meV (mu* %.1f meV): ratio %.4f\n",
           r.mae_conv * MEV, r.mu_conv * MEV, r.mae_guess_conv * MEV,
           mu_gc * MEV, r.mae_conv / r.mae_guess_conv);
  }
  /* 3. bands */
  if (bands) {
    bs_file bs;
    read_bs(name, &bs);
    int nocc = (int)lround(b->elem[zlist[0]]->zval + b->elem[zlist[1]]->zval) / 2;
    band_err c = band_errors(Hc, S, &bs, nocc, 0);
    band_err h = band_errors(H0, S, &bs, nocc, 0);
    band_err hs = band_errors(H0, S, &bs, nocc, r.mu_conv * NH_HARTREE_EV);
    band_err g = band_errors(Hg, S, &bs, nocc, 0);
    band_err gs = band_errors(Hg, S, &bs, nocc, mu_gc * NH_HARTREE_EV);
    if (ctx->rank == 0) {
      printf("    bands vs CP2K's converged bands (%d k-points x %d bands, "
             "%d occupied; eV): max all / occupied / |E-E_F|<1 eV / mean "
             "occupied\n",
             bs.nk, bs.nb, nocc);
      printf("      CP2K converged H  %.2e (check of the import)\n", c.all);
      printf("      H0                %.4f %.4f %.4f %.4f\n", h.all, h.occ,
             h.near, h.mean_occ);
      printf("      H0 + mu*          %.4f %.4f %.4f %.4f\n", hs.all, hs.occ,
             hs.near, hs.mean_occ);
      printf("      CP2K guess H      %.4f %.4f %.4f %.4f\n", g.all, g.occ,
             g.near, g.mean_occ);
      printf("      guess H + mu*     %.4f %.4f %.4f %.4f\n", gs.all, gs.occ,
             gs.near, gs.mean_occ);
    }
    assert_true(c.all < 1e-5);
    /* H0's absolute level differs from CP2K's by a constant (neutral
     * atoms in vacuum vs CP2K's zero average Hartree potential): after
     * the shift mu*, H0's bands are as close to the converged ones as
     * those of CP2K's own guess H (also shifted) */
    if (assert_prior) {
      assert_true(hs.occ < 1.2 * gs.occ + 0.01);
      assert_true(hs.near < 1.2 * gs.near + 0.01);
      assert_true(hs.mean_occ < 1.2 * gs.mean_occ + 0.01);
    }
    bs_free(&bs);
  }
  nh_mat_destroy(&Hc);
  nh_mat_destroy(&Hg);
  nh_mat_destroy(&H0);
  nh_mat_destroy(&S);
  nh_domain_destroy(&dom);
  nh_cp2k_run_destroy(&conv);
  nh_cp2k_run_destroy(&guess);
  nh_basis_destroy(&b);
  nh_structure_destroy(&st);
  return r;
}

/* The fixtures are unpacked on MPI_COMM_WORLD; the work runs on ranks 0, 1. */
static void check(const char *name, int bands) {
  char guess[512], conv[512];
  char gname[64];
  snprintf(gname, sizeof gname, "%s-guess", name);
  snprintf(guess, sizeof guess, "%s", nh_test_fixture(gname));
  snprintf(conv, sizeof conv, "%s", nh_test_fixture(name));
  MPI_Comm comm;
  int in = nh_test_ctx()->rank < 2;
  MPI_Comm_split(MPI_COMM_WORLD, in, 0, &comm);
  if (in) {
    nh_ctx ctx;
    assert_nh_ok(nh_ctx_init(comm, &ctx));
    ctx.verbosity = 0;
    const char *atoms[2] = {"basis", "free"};
    const double accs[3] = {1e-4, 1e-3, 1e-5};
    int slow = getenv("NH_TEST_SLOW") != NULL, nacc = slow ? 3 : 1;
    for (int a = 0; a < 1 + slow; a++)
      for (int q = 0; q < nacc; q++) {
        sys_result r = check_system(&ctx, name, atoms[a], accs[q], guess, conv,
                                    bands && q == 0, a == 0);
        /* the targets hold for the atom in the basis; the free atom misses
         * them (graphene: MAE 3.3 meV, ratio 2.6; docs/h0.md): reported */
        if (accs[q] > 1e-4 || a != 0) continue;
        assert_true(r.mae_guess * NH_HARTREE_EV < 2e-3);
        assert_true(r.mae_conv <= 1.2 * r.mae_guess_conv);
      }
  }
  MPI_Comm_free(&comm);
}

static void test_si2(void **state) {
  (void)state;
  check("si2", 1);
}
static void test_graphene(void **state) {
  (void)state;
  check("graphene", 1);
}
static void test_hbn(void **state) {
  (void)state;
  check("hbn", 0);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_si2),
      cmocka_unit_test(test_graphene),
      cmocka_unit_test(test_hbn),
  };
  MPI_Init(&argc, &argv);
  int fail = cmocka_run_group_tests(tests, NULL, NULL), any = 0;
  MPI_Allreduce(&fail, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return any ? 1 : 0;
}
