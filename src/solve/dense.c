/* nextham solve, dense path: one k-group's generalized Hermitian
 * eigenproblem H c = e S c on a 2D block-cyclic layout, with ELPA (1- or
 * 2-stage) or ScaLAPACK pzhegvx, the projection of an ill-conditioned S(k)
 * and the Mulliken weights. docs/solvers.md, "Dense eigen-solvers". */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "denseimpl.h"
#include "scalapack.h"

static const int ione = 1;

void nh_dense_grid_shape(int p, int *nprow, int *npcol) {
  int r = 1;
  for (int q = 1; (long)q * q <= p; q++)
    if (p % q == 0)
      r = q;
  *nprow = r;
  *npcol = p / r;
}

/* ---------------------------------------------------------------------------
 * Set-up
 * ------------------------------------------------------------------------- */

static nh_err elpa_check(int code, const char *what) {
  NH_CHECK(code == ELPA_OK, NH_ERR_LIB, "ELPA: %s failed: %s", what,
           elpa_strerr(code));
  return NH_OK;
}

/* ELPA's library state is initialised once per process, at the first use,
 * and torn down by nh_dense_finalize (elpa_uninit forbids a later
 * elpa_init). */
static int elpa_started;

static nh_err elpa_once(void) {
  if (elpa_started)
    return NH_OK;
  NH_CHECK(elpa_init(ELPA_API_VERSION) == ELPA_OK, NH_ERR_LIB,
           "ELPA: the library does not support API version %d",
           ELPA_API_VERSION);
  elpa_started = 1;
  return NH_OK;
}

nh_err nh_dense_finalize(void) {
  int code;
  if (!elpa_started)
    return NH_OK;
  elpa_started = 0;
  elpa_uninit(&code);
  return elpa_check(code, "elpa_uninit");
}

/* elpa_set is a _Generic macro: the values must be exactly int. */
static nh_err elpa_set_int(elpa_t e, const char *key, int value) {
  int code;
  elpa_set(e, key, value, &code);
  NH_CHECK(code == ELPA_OK, NH_ERR_LIB, "ELPA: cannot set %s = %d: %s", key,
           value, elpa_strerr(code));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * ELPA 2-stage complex kernels: the names come from ELPA's own list
 * (elpa_constants.h), "ELPA_2STAGE_COMPLEX_AVX512_BLOCK1" -> "avx512_block1".
 * ------------------------------------------------------------------------- */

#define NH_KERNEL_PREFIX "ELPA_2STAGE_COMPLEX_"
#define NH_KERNEL_ENTRY(name, id, available, ...) {#name, id},
static const struct {
  const char *name;
  int id;
} elpa_kernels[] = {ELPA_FOR_ALL_2STAGE_COMPLEX_KERNELS(NH_KERNEL_ENTRY, 0)};
enum { NH_NKERNELS = sizeof elpa_kernels / sizeof elpa_kernels[0] };

static const char *kernel_suffix(int q) {
  return elpa_kernels[q].name + strlen(NH_KERNEL_PREFIX);
}

const char *nh_solver_elpa_kernel_name(int kernel) {
  static char lower[NH_NKERNELS][32];
  if (kernel == 0)
    return "default";
  for (int q = 0; q < NH_NKERNELS; q++)
    if (elpa_kernels[q].id == kernel) {
      if (!lower[q][0])
        for (size_t c = 0; c + 1 < sizeof lower[q] && kernel_suffix(q)[c]; c++)
          lower[q][c] = (char)tolower((unsigned char)kernel_suffix(q)[c]);
      return lower[q];
    }
  return "unknown";
}

nh_err nh_solver_elpa_kernel_parse(const char *name, int *kernel) {
  char list[1024] = "default";
  if (strcasecmp(name, "default") == 0) {
    *kernel = 0;
    return NH_OK;
  }
  for (int q = 0; q < NH_NKERNELS; q++) {
    if (strcasecmp(name, kernel_suffix(q)) == 0) {
      *kernel = elpa_kernels[q].id;
      return NH_OK;
    }
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, ", %s",
             nh_solver_elpa_kernel_name(elpa_kernels[q].id));
  }
  return nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                      "unknown ELPA kernel \"%s\" (expected one of: %s)", name,
                      list);
}

/* A kernel the library was built without is an input error: the user
 * chose it. */
static nh_err elpa_set_kernel(elpa_t e, int kernel) {
  int code;
  if (kernel == 0)
    return NH_OK;
  elpa_set(e, "complex_kernel", kernel, &code);
  NH_CHECK(code == ELPA_OK, NH_ERR_INPUT,
           "ELPA kernel \"%s\" is not available in the ELPA library in use "
           "(%s); its kernels are listed by elpa2_print_kernels",
           nh_solver_elpa_kernel_name(kernel), elpa_strerr(code));
  return NH_OK;
}

/* Asks a handle set up for a 1 x 1 problem on MPI_COMM_SELF: elpa_deallocate
 * of a handle never set up frees communicators it does not have. */
nh_err nh_solver_elpa_kernel_in_use(const nh_solver_opts *o, int *kernel) {
  nh_err err = NH_OK;
  int code;
  NH_CALL(elpa_once());
  elpa_t e = elpa_allocate(&code);
  NH_CALL(elpa_check(code, "elpa_allocate"));
  const char *keys[] = {"na",  "nev",         "local_nrows", "local_ncols",
                        "nblk", "process_row", "process_col"};
  const int values[] = {1, 1, 1, 1, 1, 0, 0};
  for (int q = 0; q < 7; q++)
    NH_CALL_GOTO(elpa_set_int(e, keys[q], values[q]), done);
  NH_CALL_GOTO(
      elpa_set_int(e, "mpi_comm_parent", (int)MPI_Comm_c2f(MPI_COMM_SELF)),
      done);
  NH_CALL_GOTO(elpa_check(elpa_setup(e), "elpa_setup"), done);
  /* ELPA accepts a kernel only for the 2-stage solver */
  NH_CALL_GOTO(elpa_set_int(e, "solver", ELPA_SOLVER_2STAGE), done);
  NH_CALL_GOTO(elpa_set_kernel(e, o->elpa_kernel), done);
  elpa_get(e, "complex_kernel", kernel, &code);
  NH_CHECK_GOTO(code == ELPA_OK, done, NH_ERR_LIB,
                "ELPA: cannot read complex_kernel: %s", elpa_strerr(code));
done:
  elpa_deallocate(e, &code);
  return err;
}

static nh_err dense_elpa_setup(nh_dense *d, int kernel) {
  int code;
  NH_CALL(elpa_once());
  d->elpa = elpa_allocate(&code);
  NH_CALL(elpa_check(code, "elpa_allocate"));
  NH_CALL(elpa_set_int(d->elpa, "na", d->n));
  NH_CALL(elpa_set_int(d->elpa, "nev", d->nev));
  NH_CALL(elpa_set_int(d->elpa, "local_nrows", d->nrows));
  NH_CALL(elpa_set_int(d->elpa, "local_ncols", d->ncols));
  NH_CALL(elpa_set_int(d->elpa, "nblk", d->nblk));
  NH_CALL(elpa_set_int(d->elpa, "mpi_comm_parent", (int)MPI_Comm_c2f(d->comm)));
  NH_CALL(elpa_set_int(d->elpa, "process_row", d->myrow));
  NH_CALL(elpa_set_int(d->elpa, "process_col", d->mycol));
  NH_CALL(elpa_set_int(d->elpa, "blacs_context", d->ctxt));
  NH_CALL(elpa_check(elpa_setup(d->elpa), "elpa_setup"));
  NH_CALL(elpa_set_int(d->elpa, "solver",
                       d->kind == NH_SOLVER_ELPA1 ? ELPA_SOLVER_1STAGE
                                                  : ELPA_SOLVER_2STAGE));
  if (d->kind == NH_SOLVER_ELPA2)
    NH_CALL(elpa_set_kernel(d->elpa, kernel));
  return NH_OK;
}

nh_err nh_dense_create(MPI_Comm comm, int n, int nblk, int nev,
                       const nh_solver_opts *o, nh_dense **out) {
  nh_err err;
  nh_dense *d = NULL;
  int p, rank, info;
  *out = NULL;
  NH_CHECK(n >= 1 && nev >= 1 && nev <= n && nblk >= 1, NH_ERR_ARG,
           "dense solver: bad sizes n = %d, nev = %d, nblk = %d", n, nev, nblk);
  NH_CHECK(o->kind != NH_SOLVER_SLEPC, NH_ERR_ARG,
           "dense solver: %s is not a dense solver", nh_solver_name(o->kind));
  NH_CALL(nh_calloc(1, sizeof *d, &d));
  NH_MPI(MPI_Comm_size(comm, &p));
  NH_MPI(MPI_Comm_rank(comm, &rank));
  d->comm = comm;
  d->n = n;
  d->nblk = nblk;
  d->nev = nev;
  d->kind = o->kind;
  d->s_threshold = o->s_threshold;
  d->s_check = o->s_check;
  d->vectors = o->want_mulliken;
  nh_dense_grid_shape(p, &d->nprow, &d->npcol);
  d->blacs_sys = Csys2blacs_handle(comm);
  d->ctxt = d->blacs_sys;
  Cblacs_gridinit(&d->ctxt, "Row", d->nprow, d->npcol);
  Cblacs_gridinfo(d->ctxt, &d->nprow, &d->npcol, &d->myrow, &d->mycol);
  /* The Bloch exchange addresses grid process (r, c) as group rank
   * r * npcol + c: BLACS' row-major numbering of the communicator. */
  NH_CHECK_GOTO(d->myrow == rank / d->npcol && d->mycol == rank % d->npcol,
                fail, NH_ERR_INTERNAL,
                "BLACS placed group rank %d at (%d, %d) of a %d x %d grid",
                rank, d->myrow, d->mycol, d->nprow, d->npcol);
  int izero = 0;
  d->nrows = numroc_(&n, &nblk, &d->myrow, &izero, &d->nprow);
  d->ncols = numroc_(&n, &nblk, &d->mycol, &izero, &d->npcol);
  d->lld = d->nrows > 1 ? d->nrows : 1;
  descinit_(d->desc, &n, &n, &nblk, &nblk, &izero, &izero, &d->ctxt, &d->lld,
            &info);
  NH_CHECK_GOTO(info == 0, fail, NH_ERR_LIB,
                "ScaLAPACK descinit: argument %d is illegal", -info);
  size_t loc = (size_t)d->lld * (size_t)d->ncols;
  NH_CALL_GOTO(nh_malloc(loc * sizeof(double complex), &d->h), fail);
  NH_CALL_GOTO(nh_malloc(loc * sizeof(double complex), &d->s), fail);
  NH_CALL_GOTO(nh_malloc(loc * sizeof(double complex), &d->f), fail);
  NH_CALL_GOTO(nh_malloc(loc * sizeof(double complex), &d->z), fail);
  NH_CALL_GOTO(nh_malloc((size_t)n * sizeof(double), &d->ev), fail);
  if (d->kind == NH_SOLVER_ELPA1 || d->kind == NH_SOLVER_ELPA2)
    NH_CALL_GOTO(dense_elpa_setup(d, o->elpa_kernel), fail);
  *out = d;
  return NH_OK;
fail:
  nh_dense_destroy(&d);
  return err;
}

nh_err nh_dense_destroy(nh_dense **dp) {
  nh_dense *d = dp ? *dp : NULL;
  if (!d)
    return NH_OK;
  if (d->elpa) {
    int code;
    elpa_deallocate(d->elpa, &code);
  }
  nh_free(&d->h);
  nh_free(&d->s);
  nh_free(&d->f);
  nh_free(&d->z);
  nh_free(&d->ev);
  /* BLACS' asynchronous sends keep their MPI requests, and with them the
   * grid's communicator, alive until completed and freed here: without
   * this, gridexit's MPI_Comm_free cannot release the communicator. */
  Cblacs_freebuff(d->ctxt, 1);
  Cblacs_gridexit(d->ctxt);
  Cfree_blacs_system_handle(d->blacs_sys);
  nh_free(dp);
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static size_t dense_local(const nh_dense *d) {
  return (size_t)d->lld * (size_t)d->ncols;
}

static void dense_copy(const nh_dense *d, double complex *dst,
                       const double complex *src) {
  memcpy(dst, src, dense_local(d) * sizeof(double complex));
}

/* C(1:m, 1:n) = op(A)(:, ja..) op(B)(:, jb..) (1-based first columns). */
static void dense_gemm(const char *ta, const char *tb, int m, int n, int k,
                       const double complex *a, int ja, const int *desca,
                       const double complex *b, int jb, const int *descb,
                       double complex *c, const int *descc) {
  const double complex one = 1, zero = 0;
  pzgemm_(ta, tb, &m, &n, &k, &one, a, &ione, &ja, desca, b, &ione, &jb, descb,
          &zero, c, &ione, &ione, descc, 1, 1);
}

/* All eigenpairs of the m x m matrix a (descriptor desc; destroyed): values
 * into w (ascending), vectors into z (same descriptor). */
static nh_err dense_heevd(const int *desc, int m, double complex *a, double *w,
                          double complex *z) {
  nh_err err = NH_OK;
  int lwork = -1, lrwork = -1, liwork = -1, info, iq[8];
  double complex wq[8]; /* queries may write past the first element */
  double rq[8];
  double complex *work = NULL;
  double *rwork = NULL;
  int *iwork = NULL;
  pzheevd_("V", "U", &m, a, &ione, &ione, desc, w, z, &ione, &ione, desc, wq,
           &lwork, rq, &lrwork, iq, &liwork, &info, 1, 1);
  NH_CHECK(info == 0, NH_ERR_LIB,
           "ScaLAPACK pzheevd workspace query failed (info %d)", info);
  lwork = (int)creal(wq[0]) + 1;
  lrwork = (int)rq[0] + 1;
  liwork = iq[0] > 1 ? iq[0] : 1;
  NH_CALL_GOTO(nh_malloc((size_t)lwork * sizeof *work, &work), done);
  NH_CALL_GOTO(nh_malloc((size_t)lrwork * sizeof *rwork, &rwork), done);
  NH_CALL_GOTO(nh_malloc((size_t)liwork * sizeof *iwork, &iwork), done);
  pzheevd_("V", "U", &m, a, &ione, &ione, desc, w, z, &ione, &ione, desc, work,
           &lwork, rwork, &lrwork, iwork, &liwork, &info, 1, 1);
  NH_CHECK_GOTO(info == 0, done, info < 0 ? NH_ERR_LIB : NH_ERR_NUMERIC,
                "ScaLAPACK pzheevd (order %d) failed: info %d (%s)", m, info,
                info < 0 ? "illegal argument" : "eigenvalues did not converge");
done:
  nh_free(&work);
  nh_free(&rwork);
  nh_free(&iwork);
  return err;
}

/* ---------------------------------------------------------------------------
 * Is S(k) safe for a Cholesky-based solver? pzpotrf on a copy (d->f), then
 * the 1-norm condition estimate: est = 1 / ||S^-1||_1 (estimated) lies in
 * [lambda_min / sqrt(n), lambda_min] up to the estimator's slack (a factor
 * of a few), so est < 10 s_threshold flags every S(k) whose smallest
 * eigenvalue is below s_threshold, plus some false alarms, which only cost
 * an S(k) diagonalisation.
 * ------------------------------------------------------------------------- */

static nh_err dense_cholesky_check(nh_dense *d, int *project) {
  nh_err err = NH_OK;
  int info, n = d->n;
  double anorm, rcond;
  int lrwork = 2 * (d->nrows + d->ncols + 2 * d->nblk) + d->nblk + 16;
  int lwork = 2 * (d->nrows + d->ncols + 2 * d->nblk) +
              d->nblk * (d->nprow + d->npcol) + d->ncols + d->nblk + 16;
  double *rwork = NULL;
  double complex *work = NULL;
  NH_CALL_GOTO(nh_malloc((size_t)lrwork * sizeof *rwork, &rwork), done);
  NH_CALL_GOTO(nh_malloc((size_t)lwork * sizeof *work, &work), done);
  anorm = pzlanhe_("1", "U", &n, d->s, &ione, &ione, d->desc, rwork, 1, 1);
  dense_copy(d, d->f, d->s);
  pzpotrf_("U", &n, d->f, &ione, &ione, d->desc, &info, 1);
  NH_CHECK_GOTO(info >= 0, done, NH_ERR_LIB,
                "ScaLAPACK pzpotrf: argument %d is illegal", -info);
  *project = info > 0;
  if (*project)
    goto done;
  pzpocon_("U", &n, d->f, &ione, &ione, d->desc, &anorm, &rcond, work, &lwork,
           rwork, &lrwork, &info, 1);
  NH_CHECK_GOTO(info == 0, done, NH_ERR_LIB,
                "ScaLAPACK pzpocon: argument %d is illegal", -info);
  *project = rcond * anorm < 10 * d->s_threshold;
done:
  nh_free(&rwork);
  nh_free(&work);
  return err;
}

/* ---------------------------------------------------------------------------
 * The two Cholesky-based solvers: h, f = copy of s (both destroyed) -> ev, z.
 * ------------------------------------------------------------------------- */

static nh_err dense_solve_elpa(nh_dense *d) {
  int code;
  if (d->vectors)
    elpa_generalized_eigenvectors_dc(d->elpa, d->h, d->f, d->ev, d->z, 0,
                                     &code);
  else
    elpa_generalized_eigenvalues_dc(d->elpa, d->h, d->f, d->ev, 0, &code);
  NH_CHECK(code == ELPA_OK, NH_ERR_LIB,
           "ELPA %s generalized eigen-solver failed (order %d): %s",
           d->kind == NH_SOLVER_ELPA1 ? "1-stage" : "2-stage", d->n,
           elpa_strerr(code));
  return NH_OK;
}

/* pzhegvx's info is a bit set (ScaLAPACK's documentation of PZHEGVX);
 * nzwant: the eigenvectors asked for (0 with jobz = 'N'). */
static nh_err pzhegvx_info(int info, int n, int nev, int m, int nz,
                           int nzwant) {
  NH_CHECK(info >= 0, NH_ERR_LIB, "ScaLAPACK pzhegvx: argument %d is illegal",
           -info);
  NH_CHECK(!(info & 16), NH_ERR_NUMERIC,
           "ScaLAPACK pzhegvx: S(k) is not positive definite (Cholesky "
           "failed); set s_check to project it");
  NH_CHECK(!(info & 1) && !(info & 8), NH_ERR_NUMERIC,
           "ScaLAPACK pzhegvx: eigenvalues or eigenvectors did not converge "
           "(info %d, order %d)",
           info, n);
  NH_CHECK(!(info & 2) && !(info & 4), NH_ERR_NUMERIC,
           "ScaLAPACK pzhegvx: eigenvectors of clustered eigenvalues could "
           "not be reorthogonalised (info %d, order %d)",
           info, n);
  NH_CHECK(m == nev && nz == nzwant, NH_ERR_NUMERIC,
           "ScaLAPACK pzhegvx found %d of %d eigenvalues and %d of %d "
           "eigenvectors",
           m, nev, nz, nzwant);
  return NH_OK;
}

static nh_err dense_solve_pzhegvx(nh_dense *d) {
  nh_err err = NH_OK;
  const int ibtype = 1, il = 1, iu = d->nev, p = d->nprow * d->npcol;
  const double vl = 0, vu = 0, orfac = 1e-3; /* ScaLAPACK's default */
  double abstol = 2 * pdlamch_(&d->ctxt, "S", 1), *rwork = NULL, *gap = NULL;
  double complex *work = NULL;
  const char *jobz = d->vectors ? "V" : "N";
  int m = 0, nz = 0, info, lwork = -1, lrwork = -1, liwork = -1;
  /* Workspace queries write more than the first element (seen: pzhegvx
   * clobbers a scalar's neighbour), hence small arrays. */
  double complex wq[8];
  double rq[8];
  int iq[8];
  int *iwork = NULL, *ifail = NULL, *iclustr = NULL;
  NH_CALL_GOTO(nh_malloc((size_t)d->n * sizeof *ifail, &ifail), done);
  NH_CALL_GOTO(nh_malloc(2 * (size_t)p * sizeof *iclustr, &iclustr), done);
  NH_CALL_GOTO(nh_malloc((size_t)p * sizeof *gap, &gap), done);
  pzhegvx_(&ibtype, jobz, "I", "U", &d->n, d->h, &ione, &ione, d->desc, d->f,
           &ione, &ione, d->desc, &vl, &vu, &il, &iu, &abstol, &m, &nz, d->ev,
           &orfac, d->z, &ione, &ione, d->desc, wq, &lwork, rq, &lrwork, iq,
           &liwork, ifail, iclustr, gap, &info, 1, 1, 1);
  NH_CHECK_GOTO(info == 0, done, NH_ERR_LIB,
                "ScaLAPACK pzhegvx workspace query failed (info %d)", info);
  /* The query returns the minimum. Eigenvectors of a cluster of close
   * eigenvalues (within 1e-3 ||H||, hundreds in the dense spectrum of a
   * supercell) are reorthogonalised on one process, which needs
   * (cluster size - 1) x n more reals: room for one cluster of all nev. */
  int64_t lr = (int64_t)rq[0] + 1;
  if (d->vectors)
    lr += (int64_t)(d->nev - 1) * d->n;
  NH_CHECK_GOTO(lr <= INT_MAX, done, NH_ERR_INPUT,
                "ScaLAPACK pzhegvx: %d bands of %d orbitals need more "
                "workspace than an int counts; use ELPA",
                d->nev, d->n);
  lwork = (int)creal(wq[0]) + 1;
  lrwork = (int)lr;
  liwork = iq[0] > 1 ? iq[0] : 1;
  NH_CALL_GOTO(nh_malloc((size_t)lwork * sizeof *work, &work), done);
  NH_CALL_GOTO(nh_malloc((size_t)lrwork * sizeof *rwork, &rwork), done);
  NH_CALL_GOTO(nh_malloc((size_t)liwork * sizeof *iwork, &iwork), done);
  pzhegvx_(&ibtype, jobz, "I", "U", &d->n, d->h, &ione, &ione, d->desc, d->f,
           &ione, &ione, d->desc, &vl, &vu, &il, &iu, &abstol, &m, &nz, d->ev,
           &orfac, d->z, &ione, &ione, d->desc, work, &lwork, rwork, &lrwork,
           iwork, &liwork, ifail, iclustr, gap, &info, 1, 1, 1);
  NH_CALL_GOTO(pzhegvx_info(info, d->n, d->nev, m, nz, d->vectors ? d->nev : 0),
               done);
done:
  nh_free(&work);
  nh_free(&rwork);
  nh_free(&iwork);
  nh_free(&ifail);
  nh_free(&iclustr);
  nh_free(&gap);
  return err;
}

/* ---------------------------------------------------------------------------
 * Projection: S = U diag(s) U^H; keep the m = n - nd eigenvectors with
 * s >= s_threshold, X = U_kept diag(1 / sqrt(s)), solve the standard
 * problem (X^H H X) y = e y and return c = X y (S-orthonormal).
 * Buffers: f <- S, z <- U -> X; f <- H X; h <- X^H H X; f <- Y; h <- X Y -> z.
 * ------------------------------------------------------------------------- */

static nh_err dense_solve_projected(nh_dense *d, int *ndropped, double *smin) {
  int n = d->n, nd = 0, info, izero = 0;
  int descm[9];
  dense_copy(d, d->f, d->s);
  NH_CALL(dense_heevd(d->desc, n, d->f, d->ev, d->z));
  *smin = d->ev[0];
  while (nd < n && d->ev[nd] < d->s_threshold)
    nd++;
  NH_CHECK(nd < n, NH_ERR_NUMERIC,
           "S(k) has no eigenvalue above s_threshold = %g (largest %g)",
           d->s_threshold, d->ev[n - 1]);
  int m = n - nd, nk = d->nev < m ? d->nev : m;
  /* The m x m projected matrices get their own descriptor (ScaLAPACK's
   * eigen-solvers refuse a leading block of a larger matrix); they fit in
   * the n x n buffers. */
  int mrows = numroc_(&m, &d->nblk, &d->myrow, &izero, &d->nprow);
  int lldm = mrows > 1 ? mrows : 1;
  descinit_(descm, &m, &m, &d->nblk, &d->nblk, &izero, &izero, &d->ctxt, &lldm,
            &info);
  NH_CHECK(info == 0, NH_ERR_LIB, "ScaLAPACK descinit: argument %d is illegal",
           -info);
  for (int lc = 0; lc < d->ncols; lc++) {
    int64_t gc = nh_bc_global(lc, d->mycol, d->nblk, d->npcol);
    if (gc < nd)
      continue;
    double scale = 1 / sqrt(d->ev[gc]);
    for (int lr = 0; lr < d->nrows; lr++)
      d->z[lr + (size_t)lc * d->lld] *= scale;
  }
  dense_gemm("N", "N", n, m, n, d->h, 1, d->desc, d->z, nd + 1, d->desc, d->f,
             d->desc);
  dense_gemm("C", "N", m, m, n, d->z, nd + 1, d->desc, d->f, 1, d->desc, d->h,
             descm);
  NH_CALL(dense_heevd(descm, m, d->h, d->ev, d->f));
  if (d->vectors) {
    dense_gemm("N", "N", n, nk, m, d->z, nd + 1, d->desc, d->f, 1, descm, d->h,
               d->desc);
    dense_copy(d, d->z, d->h);
    for (int lc = 0; lc < d->ncols; lc++)
      if (nh_bc_global(lc, d->mycol, d->nblk, d->npcol) >= nk)
        memset(d->z + (size_t)lc * d->lld, 0, (size_t)d->nrows * sizeof *d->z);
  }
  for (int b = m; b < d->nev; b++)
    d->ev[b] = HUGE_VAL;
  *ndropped = nd;
  return NH_OK;
}

nh_err nh_dense_solve(nh_dense *d, int *ndropped, double *smin) {
  int project = d->s_check;
  *ndropped = 0;
  *smin = NAN;
  if (!project)
    NH_CALL(dense_cholesky_check(d, &project));
  if (project)
    return dense_solve_projected(d, ndropped, smin);
  dense_copy(d, d->f, d->s);
  if (d->kind == NH_SOLVER_SCALAPACK)
    NH_CALL(dense_solve_pzhegvx(d));
  else
    NH_CALL(dense_solve_elpa(d));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Mulliken weights
 * ------------------------------------------------------------------------- */

nh_err nh_dense_mulliken(nh_dense *d, const int *elem_of_lrow, int nelem,
                         double *w) {
  int nw = d->nev * nelem;
  NH_CHECK(d->vectors, NH_ERR_INTERNAL,
           "Mulliken weights need a solver set up with eigenvectors");
  memset(w, 0, (size_t)nw * sizeof *w);
  dense_gemm("N", "N", d->n, d->nev, d->n, d->s, 1, d->desc, d->z, 1, d->desc,
             d->f, d->desc);
  for (int lc = 0; lc < d->ncols; lc++) {
    int64_t b = nh_bc_global(lc, d->mycol, d->nblk, d->npcol);
    if (b >= d->nev)
      continue;
    const double complex *c = d->z + (size_t)lc * d->lld;
    const double complex *sc = d->f + (size_t)lc * d->lld;
    for (int lr = 0; lr < d->nrows; lr++)
      if (elem_of_lrow[lr] >= 0)
        w[b * nelem + elem_of_lrow[lr]] += creal(conj(c[lr]) * sc[lr]);
  }
  NH_MPI(MPI_Allreduce(MPI_IN_PLACE, w, nw, MPI_DOUBLE, MPI_SUM, d->comm));
  return NH_OK;
}
