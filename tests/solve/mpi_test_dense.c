/* Tests of the dense eigen-solver path (ELPA 2-stage, ELPA 1-stage,
 * ScaLAPACK pzhegvx): CP2K's own band energies from its real-space
 * matrices, Mulliken weights against a serial reference, and the
 * projection of an ill-conditioned S(k) against a serial LAPACK reference
 * (zheev of S, projection, zheev). Run with 1, 2 and 3 ranks. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nextham/cp2k.h"
#include "nextham/solve.h"
#include "nhtest_bs.h"
#include "nhtest_fixture.h"
#include "scalapack.h"

static const nh_solver_kind dense_kinds[3] = {NH_SOLVER_ELPA2, NH_SOLVER_ELPA1,
                                              NH_SOLVER_SCALAPACK};

/* Solves every `stride`-th k-point of the .bs with solver `kind` and
 * returns max |E - E_cp2k| (eV) over those k-points and the printed bands. */
static double band_error(const nh_test_run *im, const bs_file *bs,
                         nh_solver_kind kind, int kgroups, int stride) {
  nh_solver_opts o;
  nh_bands *b = NULL;
  int nk = (bs->nk + stride - 1) / stride;
  double(*k)[3] = malloc((size_t)nk * sizeof *k), worst = 0;
  for (int q = 0; q < nk; q++)
    memcpy(k[q], bs->k[q * stride], sizeof k[q]);
  nh_solver_opts_default(&o);
  o.kind = kind;
  o.nbands = bs->nb;
  o.kgroups = kgroups;
  assert_nh_ok(
      nh_solve_kpoints(im->H, im->S, &o, nk, (const double(*)[3])k, &b));
  assert_int_equal(b->nk, nk);
  assert_int_equal(b->nb, bs->nb);
  for (int q = 0; q < nk; q++) {
    assert_int_equal(b->ndropped[q], 0);
    for (int n = 0; n < bs->nb; n++) {
      double d = fabs(b->e[q * b->nb + n] * NH_HARTREE_EV -
                      bs->e[q * stride * bs->nb + n]);
      if (d > worst)
        worst = d;
    }
  }
  nh_bands_destroy(&b);
  free(k);
  return worst;
}

static void check_fixture(const char *name, int stride) {
  nh_test_run im;
  bs_file bs;
  read_bs(name, &bs);
  nh_test_import(nh_test_fixture(name), &im);
  for (int s = 0; s < 3; s++)
    for (int kg = 0; kg <= 2; kg++) { /* default; one group; two groups */
      double err = band_error(&im, &bs, dense_kinds[s], kg, stride);
      if (nh_test_ctx()->rank == 0)
        printf("# %s %s kgroups %d (0: auto): max |E - E_cp2k| = %.2e eV\n",
               name, nh_solver_name(dense_kinds[s]), kg, err);
      assert_true(err < 1e-6);
    }
  nh_test_run_free(&im);
  bs_free(&bs);
}

static void test_bands_si2(void **state) {
  (void)state;
  check_fixture("si2", 1);
}

static void test_bands_graphene(void **state) {
  (void)state;
  check_fixture("graphene", 1);
}

static void test_bands_si8(void **state) {
  (void)state;
  check_fixture("si8", 5);
}

/* ---------------------------------------------------------------------------
 * Serial references: dense M(k) from the matrix blocks (gathered over
 * ranks, test only), and the projected generalized problem with zheev.
 * ------------------------------------------------------------------------- */

/* n x n column-major dense M(k) on every rank; offs from the atom order. */
static void dense_mk(const nh_mat *m, const int64_t *offs, const double k[3],
                     int n, double complex *out) {
  memset(out, 0, (size_t)n * n * sizeof *out);
  for (int64_t q = 0; q < nh_mat_nblocks(m); q++) {
    nh_block_key key;
    double *v;
    nh_mat_block(m, q, &key, &v);
    int ni = (int)(offs[key.i + 1] - offs[key.i]);
    int nj = (int)(offs[key.j + 1] - offs[key.j]);
    double arg =
        2 * M_PI * (k[0] * key.n[0] + k[1] * key.n[1] + k[2] * key.n[2]);
    double complex ph = cexp(I * arg);
    for (int a = 0; a < ni; a++)
      for (int c = 0; c < nj; c++)
        out[(offs[key.i] + a) + (size_t)n * (offs[key.j] + c)] +=
            v[a * nj + c] * ph;
  }
  MPI_Allreduce(MPI_IN_PLACE, out, 2 * n * n, MPI_DOUBLE, MPI_SUM,
                MPI_COMM_WORLD);
}

static void zheev_all(int n, double complex *a, double *w) {
  int lwork = 4 * n, info;
  double complex *work = malloc((size_t)lwork * sizeof *work);
  double *rwork = malloc((size_t)(3 * n) * sizeof *rwork);
  zheev_("V", "U", &n, a, &n, w, work, &lwork, rwork, &info, 1, 1);
  assert_int_equal(info, 0);
  free(work);
  free(rwork);
}

/* Reference for H c = e S c projected onto the eigenvectors of S with
 * eigenvalue >= thr: returns the kept count m, energies e[0..m-1] and the
 * S-orthonormal eigenvectors c (n x m, column-major). */
static int reference_solve(int n, const double complex *h,
                           const double complex *s, double thr, double *e,
                           double complex *c) {
  double complex *u = malloc((size_t)n * n * sizeof *u);
  double complex *hp = malloc((size_t)n * n * sizeof *hp);
  double *sv = malloc((size_t)n * sizeof *sv);
  memcpy(u, s, (size_t)n * n * sizeof *u);
  zheev_all(n, u, sv);
  int nd = 0;
  while (nd < n && sv[nd] < thr)
    nd++;
  int m = n - nd;
  double complex *x = u + (size_t)n * nd; /* kept columns, scaled */
  for (int j = 0; j < m; j++)
    for (int i = 0; i < n; i++)
      x[i + (size_t)n * j] /= sqrt(sv[nd + j]);
  for (int a = 0; a < m; a++) /* hp = x^H h x */
    for (int b = 0; b < m; b++) {
      double complex sum = 0;
      for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
          sum += conj(x[i + (size_t)n * a]) * h[i + (size_t)n * j] *
                 x[j + (size_t)n * b];
      hp[a + (size_t)m * b] = sum;
    }
  zheev_all(m, hp, e);
  for (int b = 0; b < m; b++) /* c = x y */
    for (int i = 0; i < n; i++) {
      double complex sum = 0;
      for (int a = 0; a < m; a++)
        sum += x[i + (size_t)n * a] * hp[a + (size_t)m * b];
      c[i + (size_t)n * b] = sum;
    }
  free(u);
  free(hp);
  free(sv);
  return m;
}

/* w[b * nelem + e] of the reference eigenvectors. */
static void reference_mulliken(int n, int nb, const double complex *s,
                               const double complex *c, const int *elem_of_orb,
                               int nelem, double *w) {
  memset(w, 0, (size_t)nb * nelem * sizeof *w);
  for (int b = 0; b < nb; b++)
    for (int i = 0; i < n; i++) {
      double complex sc = 0;
      for (int j = 0; j < n; j++)
        sc += s[i + (size_t)n * j] * c[j + (size_t)n * b];
      w[b * nelem + elem_of_orb[i]] += creal(conj(c[i + (size_t)n * b]) * sc);
    }
}

/* Orbital offsets of the atoms of a domain (every atom's norb). */
static int64_t *atom_offsets(const nh_mat *m, int64_t natoms) {
  const nh_atoms *at = nh_domain_atoms(nh_mat_domain(m));
  int64_t *offs = calloc((size_t)natoms + 1, sizeof *offs);
  for (int64_t a = 0; a < at->nlocal; a++)
    offs[at->gid[a] + 1] = nh_mat_norb(m, at->gid[a]);
  MPI_Allreduce(MPI_IN_PLACE, offs, (int)natoms + 1, MPI_INT64_T, MPI_SUM,
                MPI_COMM_WORLD);
  for (int64_t a = 0; a < natoms; a++)
    offs[a + 1] += offs[a];
  return offs;
}

/* ---------------------------------------------------------------------------
 * Mulliken weights: h-BN (two elements) against the serial reference,
 * summed over degenerate bands (|dE| < 1e-7 Ha), where single bands are
 * not unique; Si: everything on Si.
 * ------------------------------------------------------------------------- */

static void check_mulliken_hbn(const nh_test_run *im, nh_solver_kind kind) {
  const double k[3][3] = {{0, 0, 0}, {0.5, 0, 0}, {0.21, 0.13, 0}};
  nh_solver_opts o;
  nh_bands *b = NULL;
  int natoms = im->s->natoms;
  int64_t *offs = atom_offsets(im->H, natoms);
  int n = (int)offs[natoms], nb = 8;
  nh_solver_opts_default(&o);
  o.kind = kind;
  o.nbands = nb;
  o.want_mulliken = 1;
  assert_nh_ok(nh_solve_kpoints(im->H, im->S, &o, 3, k, &b));
  assert_int_equal(b->nelem, 2);
  assert_int_equal(b->elem_z[0], 5);
  assert_int_equal(b->elem_z[1], 7);
  int *eo = malloc((size_t)n * sizeof *eo);
  for (int a = 0; a < natoms; a++)
    for (int64_t i = offs[a]; i < offs[a + 1]; i++)
      eo[i] = im->s->z[a] == 5 ? 0 : 1;
  double complex *h = malloc((size_t)n * n * sizeof *h),
                 *s = malloc((size_t)n * n * sizeof *s);
  double complex *c = malloc((size_t)n * n * sizeof *c);
  double *e = malloc((size_t)n * sizeof *e),
         *w = malloc((size_t)n * 2 * sizeof *w);
  double worst = 0;
  for (int q = 0; q < 3; q++) {
    dense_mk(im->H, offs, k[q], n, h);
    dense_mk(im->S, offs, k[q], n, s);
    assert_int_equal(reference_solve(n, h, s, 1e-12, e, c), n);
    reference_mulliken(n, nb, s, c, eo, 2, w);
    const double *bw = b->w + (size_t)q * nb * 2, *be = b->e + (size_t)q * nb;
    for (int n0 = 0; n0 < nb;) {
      int n1 = n0 + 1;
      while (n1 < nb && be[n1] - be[n1 - 1] < 1e-7)
        n1++;
      for (int el = 0; el < 2; el++) {
        double ref = 0, got = 0;
        for (int t = n0; t < n1; t++) {
          ref += w[t * 2 + el];
          got += bw[t * 2 + el];
        }
        if (n1 < nb || n1 - n0 == 1) /* a cluster cut at nb is not unique */
          worst = fmax(worst, fabs(ref - got));
      }
      for (int t = n0; t < n1; t++) {
        assert_true(fabs(be[t] - e[t]) < 1e-10);
        assert_true(fabs(bw[2 * t] + bw[2 * t + 1] - 1) < 1e-10);
      }
      n0 = n1;
    }
  }
  if (nh_test_ctx()->rank == 0)
    printf("# hbn Mulliken %s: max |w - w_ref| = %.2e\n", nh_solver_name(kind),
           worst);
  assert_true(worst < 1e-9);
  /* the lowest band of h-BN at Gamma leans to N (measured: B 0.467,
   * N 0.533 in this basis) */
  assert_true(fabs(b->w[0] - 0.467) < 1e-3 && fabs(b->w[1] - 0.533) < 1e-3);
  nh_bands_destroy(&b);
  free(offs);
  free(eo);
  free(h);
  free(s);
  free(c);
  free(e);
  free(w);
}

static void test_mulliken(void **state) {
  (void)state;
  nh_test_run im;
  nh_test_import(nh_test_fixture("hbn"), &im);
  for (int s = 0; s < 3; s++)
    check_mulliken_hbn(&im, dense_kinds[s]);
  nh_test_run_free(&im);
  /* Si: one element, every weight 1 */
  const double k[2][3] = {{0, 0, 0}, {0.5, 0.25, 0.75}};
  nh_solver_opts o;
  nh_bands *b = NULL;
  nh_test_import(nh_test_fixture("si2"), &im);
  nh_solver_opts_default(&o);
  o.want_mulliken = 1;
  o.kgroups = 1;
  assert_nh_ok(nh_solve_kpoints(im.H, im.S, &o, 2, k, &b));
  assert_int_equal(b->nb, 26);
  assert_int_equal(b->nelem, 1);
  assert_int_equal(b->elem_z[0], 14);
  for (int x = 0; x < b->nk * b->nb; x++)
    assert_true(fabs(b->w[x] - 1) < 1e-10);
  nh_bands_destroy(&b);
  /* s_check = 1 diagonalises S(k) of a well-conditioned Si: nothing is
   * dropped and the bands are those of the Cholesky path */
  nh_bands *b2 = NULL;
  o.want_mulliken = 0;
  assert_nh_ok(nh_solve_kpoints(im.H, im.S, &o, 2, k, &b));
  o.s_check = 1;
  assert_nh_ok(nh_solve_kpoints(im.H, im.S, &o, 2, k, &b2));
  for (int x = 0; x < b->nk * b->nb; x++)
    assert_true(fabs(b->e[x] - b2->e[x]) < 1e-11);
  assert_int_equal(b2->ndropped[0] + b2->ndropped[1], 0);
  nh_bands_destroy(&b);
  nh_bands_destroy(&b2);
  nh_test_run_free(&im);
}

/* ---------------------------------------------------------------------------
 * Ill-conditioned overlap: a synthetic crystal of 2 atoms in a cubic cell,
 * each with three normalised s Gaussians of exponents 0.3, 1 and 1 + delta.
 * S(n)_ij is their exact overlap, H(n)_ij a kinetic-energy-like term plus
 * on-site levels (both satisfy M(-n)_ji = M(n)_ij), so S(k) is a Gram
 * matrix whose two smallest eigenvalues vanish as delta -> 0.
 * ------------------------------------------------------------------------- */

#define CELL 6.0  /* bohr */
#define RCUT 16.0 /* bohr: overlaps beyond are below 1e-15 */

static const double model_pos[2][3] = {{0, 0, 0}, {1.5, 1.2, 0.9}};

static void model_block(int i, int j, const int n[3], double delta, double *hs,
                        double *ss) {
  const double alpha[3] = {0.3, 1.0, 1.0 + delta}, eps[3] = {-0.5, -0.2, -0.2};
  double d2 = 0;
  for (int x = 0; x < 3; x++) {
    double d = model_pos[j][x] + n[x] * CELL - model_pos[i][x];
    d2 += d * d;
  }
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      double p = alpha[a] + alpha[b], mu = alpha[a] * alpha[b] / p;
      double s = pow(2 * sqrt(alpha[a] * alpha[b]) / p, 1.5) * exp(-mu * d2);
      ss[3 * a + b] = s;
      hs[3 * a + b] = mu * (3 - 2 * mu * d2) * s + 0.5 * (eps[a] + eps[b]) * s;
    }
}

typedef struct model {
  nh_structure *s;
  nh_domain *dom;
  nh_mat *H, *S;
} model;

static void model_build(double delta, model *md) {
  const nh_ctx *ctx = nh_test_ctx();
  int norb_of_z[119] = {0};
  norb_of_z[1] = 3;
  memset(md, 0, sizeof *md);
  assert_nh_ok(nh_structure_create(2, &md->s));
  for (int x = 0; x < 3; x++)
    md->s->lattice[x][x] = CELL;
  for (int a = 0; a < 2; a++) {
    md->s->z[a] = 1;
    memcpy(md->s->pos[a], model_pos[a], sizeof model_pos[a]);
  }
  assert_nh_ok(nh_domain_create(ctx, md->s, NULL, RCUT, &md->dom));
  assert_nh_ok(nh_mat_create(md->dom, norb_of_z, "H", &md->H));
  assert_nh_ok(nh_mat_create(md->dom, norb_of_z, "S", &md->S));
  const nh_atoms *at = nh_domain_atoms(md->dom);
  int nmax = (int)ceil(RCUT / CELL) + 1;
  for (int64_t l = 0; l < at->nlocal; l++)
    for (int j = 0; j < 2; j++)
      for (int n0 = -nmax; n0 <= nmax; n0++)
        for (int n1 = -nmax; n1 <= nmax; n1++)
          for (int n2 = -nmax; n2 <= nmax; n2++) {
            int i = (int)at->gid[l], n[3] = {n0, n1, n2};
            double d2 = 0, hb[9], sb[9];
            for (int x = 0; x < 3; x++) {
              double d = model_pos[j][x] + n[x] * CELL - model_pos[i][x];
              d2 += d * d;
            }
            if (d2 >= RCUT * RCUT)
              continue;
            model_block(i, j, n, delta, hb, sb);
            assert_nh_ok(nh_mat_set_block(md->H, i, j, n, hb));
            assert_nh_ok(nh_mat_set_block(md->S, i, j, n, sb));
          }
  assert_nh_ok(nh_mat_assemble(md->H));
  assert_nh_ok(nh_mat_assemble(md->S));
}

static void model_free(model *md) {
  nh_mat_destroy(&md->H);
  nh_mat_destroy(&md->S);
  nh_domain_destroy(&md->dom);
  nh_structure_destroy(&md->s);
}

/* Projected bands of the model against the serial reference, every solver;
 * expect `dropped` directions projected out at every k-point. */
static void check_projection(double delta, int s_check, int dropped) {
  const double k[3][3] = {{0, 0, 0}, {0.5, 0.5, 0.5}, {0.1, -0.2, 0.3}};
  const int n = 6;
  model md;
  model_build(delta, &md);
  int64_t offs[3] = {0, 3, 6};
  double complex h[36], s[36], c[36];
  double eref[3][6], w[12];
  int eo[6] = {0, 0, 0, 0, 0, 0};
  for (int q = 0; q < 3; q++) {
    dense_mk(md.H, offs, k[q], n, h);
    dense_mk(md.S, offs, k[q], n, s);
    assert_int_equal(reference_solve(n, h, s, 1e-6, eref[q], c), n - dropped);
    reference_mulliken(n, n - dropped, s, c, eo, 1, w);
    for (int b = 0; b < n - dropped; b++)
      assert_true(fabs(w[b] - 1) < 1e-8);
  }
  for (int sv = 0; sv < 3; sv++) {
    nh_solver_opts o;
    nh_bands *b = NULL;
    nh_solver_opts_default(&o);
    o.kind = dense_kinds[sv];
    o.s_check = s_check;
    o.want_mulliken = 1;
    assert_nh_ok(nh_solve_kpoints(md.H, md.S, &o, 3, k, &b));
    assert_int_equal(b->nb, n);
    double worst = 0;
    for (int q = 0; q < 3; q++) {
      assert_int_equal(b->ndropped[q], dropped);
      for (int t = 0; t < n; t++) {
        double e = b->e[q * n + t], wt = b->w[q * n + t];
        if (t < n - dropped) {
          worst = fmax(worst, fabs(e - eref[q][t]));
          assert_true(fabs(wt - 1) < 1e-8);
        } else {
          assert_true(isinf(e) && e > 0);
          assert_true(wt == 0);
        }
      }
    }
    if (nh_test_ctx()->rank == 0)
      printf("# model delta %g s_check %d %s: %d dropped, max |E - E_ref| = "
             "%.2e Ha\n",
             delta, s_check, nh_solver_name(o.kind), dropped, worst);
    assert_true(worst < 1e-9);
    nh_bands_destroy(&b);
  }
  model_free(&md);
}

static void test_ill_conditioned(void **state) {
  (void)state;
  check_projection(0.3, 0, 0);  /* well separated: plain Cholesky path */
  check_projection(0.3, 1, 0);  /* forced S analysis, nothing to drop  */
  check_projection(1e-5, 0, 2); /* near duplicates: detected, dropped  */
  check_projection(0.0, 0, 2);  /* exact duplicates                    */
}

/* ---------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------- */

static void test_options(void **state) {
  (void)state;
  nh_solver_opts o;
  nh_solver_kind k;
  nh_solver_opts_default(&o);
  assert_int_equal(o.kind, NH_SOLVER_ELPA2);
  assert_true(o.s_threshold == 1e-6);
  assert_int_equal(o.s_check, 0);
  for (int q = 0; q < 4; q++) {
    assert_nh_ok(nh_solver_parse(nh_solver_name((nh_solver_kind)q), &k));
    assert_int_equal(k, q);
  }
  assert_nh_fails(nh_solver_parse("lapack", &k), NH_ERR_INPUT, "\"lapack\"");
}

/* ---------------------------------------------------------------------------
 * Eigenvalues only (no Mulliken weights) vs with eigenvectors
 * ------------------------------------------------------------------------- */

static void test_values_only(void **state) {
  (void)state;
  const double k[2][3] = {{0, 0, 0}, {0.1, 0.2, 0.3}};
  nh_test_run im;
  nh_test_import(nh_test_fixture("si8"), &im);
  for (int s = 0; s < 3; s++) {
    nh_solver_opts o;
    nh_bands *b[2] = {NULL, NULL};
    nh_solver_opts_default(&o);
    o.kind = dense_kinds[s];
    o.nbands = 40;
    for (int v = 0; v < 2; v++) {
      o.want_mulliken = v;
      assert_nh_ok(nh_solve_kpoints(im.H, im.S, &o, 2, k, &b[v]));
    }
    assert_null(b[0]->w);
    double worst = 0;
    for (int x = 0; x < 2 * 40; x++)
      worst = fmax(worst, fabs(b[0]->e[x] - b[1]->e[x]) * NH_HARTREE_EV);
    if (nh_test_ctx()->rank == 0)
      printf("# si8 %s: values only vs with vectors: max |dE| = %.2e eV\n",
             nh_solver_name(o.kind), worst);
    assert_true(worst < 1e-10);
    nh_bands_destroy(&b[0]);
    nh_bands_destroy(&b[1]);
  }
  nh_test_run_free(&im);
}

/* ---------------------------------------------------------------------------
 * ELPA 2-stage kernels: names, and every kernel the linked ELPA has
 * reproduces CP2K's bands (with eigenvectors: the kernels are the
 * back-transformation's). Debian's ELPA has the generic ones only; an ELPA
 * built by tools/build-elpa.sh also has SSE/AVX/AVX2/AVX-512.
 * ------------------------------------------------------------------------- */

static void test_elpa_kernels(void **state) {
  (void)state;
  int id, used, available = 0;
  assert_nh_ok(nh_solver_elpa_kernel_parse("default", &id));
  assert_int_equal(id, 0);
  assert_nh_ok(nh_solver_elpa_kernel_parse("AVX512_block1", &id));
  assert_string_equal(nh_solver_elpa_kernel_name(id), "avx512_block1");
  assert_nh_fails(nh_solver_elpa_kernel_parse("avx1024", &id), NH_ERR_INPUT,
                  "generic_simple");
  assert_string_equal(nh_solver_elpa_kernel_name(-7), "unknown");
  bs_file bs;
  nh_test_run im;
  read_bs("si2", &bs);
  nh_test_import(nh_test_fixture("si2"), &im);
  nh_solver_opts o;
  nh_solver_opts_default(&o);
  assert_nh_ok(nh_solver_elpa_kernel_in_use(&o, &used));
  if (nh_test_ctx()->rank == 0)
    printf("# ELPA's default complex kernel: %s\n",
           nh_solver_elpa_kernel_name(used));
  for (int kernel = 1; kernel < 64; kernel++) {
    const char *name = nh_solver_elpa_kernel_name(kernel);
    if (strcmp(name, "unknown") == 0 || strstr(name, "gpu"))
      continue;
    o.elpa_kernel = kernel;
    if (nh_solver_elpa_kernel_in_use(&o, &used) != NH_OK) {
      nh_error_clear();
      continue; /* not in this ELPA build */
    }
    assert_int_equal(used, kernel);
    o.nbands = bs.nb;
    o.want_mulliken = 1;
    nh_bands *b = NULL;
    assert_nh_ok(nh_solve_kpoints(im.H, im.S, &o, bs.nk,
                                  (const double(*)[3])bs.k, &b));
    double worst = 0;
    for (int x = 0; x < bs.nk * bs.nb; x++)
      worst = fmax(worst, fabs(b->e[x] * NH_HARTREE_EV - bs.e[x]));
    if (nh_test_ctx()->rank == 0)
      printf("# si2 elpa2 kernel %s: max |E - E_cp2k| = %.2e eV\n", name,
             worst);
    assert_true(worst < 1e-6);
    nh_bands_destroy(&b);
    available++;
  }
  assert_true(available >= 1); /* ELPA's default kernel at least */
  nh_test_run_free(&im);
  bs_free(&bs);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_options),     cmocka_unit_test(test_ill_conditioned),
    cmocka_unit_test(test_bands_si2),   cmocka_unit_test(test_bands_graphene),
    cmocka_unit_test(test_bands_si8),   cmocka_unit_test(test_mulliken),
    cmocka_unit_test(test_values_only), cmocka_unit_test(test_elpa_kernels),
};

/* The solver libraries' global state goes before MPI_Finalize. */
static int finalize_solvers(void **state) {
  (void)state;
  return nh_solve_finalize() == NH_OK ? 0 : -1;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int fail = cmocka_run_group_tests(tests, NULL, finalize_solvers), all = 0;
  MPI_Allreduce(&fail, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return all ? 1 : 0;
}
