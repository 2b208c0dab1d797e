/* nextham solve, sparse path: the nbands eigenpairs of H(k) c = e S(k) c
 * nearest a target energy with SLEPc (docs/solvers.md, "Sparse
 * eigen-solver (SLEPc)"): generalized Hermitian problem, Krylov-Schur,
 * shift-and-invert about the target with a MUMPS LU of H - target S.
 *
 * PETSc and SLEPc are initialised once, on the communicator of the first
 * matrices, on top of nextham's MPI (PETSc then leaves MPI alone at
 * finalisation). PETSc's error printing and signal handler are switched off:
 * its codes become nextham errors with PETSc's message. PETSc options from
 * the environment (PETSC_OPTIONS, e.g. "-eps_view -mat_mumps_icntl_14 50")
 * are applied after nextham's settings. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slepceps.h>

#include "sparseimpl.h"

/* Relative residual tolerance of the eigenpairs: with shift-and-invert a
 * residual r gives an eigenvalue error of order r^2 |e - target|, far below
 * 1e-9 eV. */
#define NH_SPARSE_TOL 1e-10
/* Largest relative imaginary part of x^H S x SLEPc accepts. */
#define NH_SPARSE_DEFTOL 1e-10

struct nh_sparse {
  nh_bloch_petsc *bp;
  const nh_ctx *ctx;
  int nbands;
  double target;
  nh_ordering ordering;      /* asked for                      */
  nh_ordering ordering_used; /* asked of MUMPS: choose_ordering */
  int out_of_core;
  char ooc_dir[512];
  int have_k;              /* nh_sparse_set_k was called */
  double k[3];             /* its k-point */
  nh_sparse_factor_info f; /* of the last solve */
};

static int petsc_started; /* this module called SlepcInitialize */

static const char *const ordering_names[] = {"auto",  "amd",      "amf",
                                             "qamd",  "pord",     "scotch",
                                             "metis", "ptscotch", "parmetis"};
#define NH_NORDERINGS ((int)(sizeof ordering_names / sizeof *ordering_names))

const char *nh_ordering_name(nh_ordering o) {
  return (int)o >= 0 && (int)o < NH_NORDERINGS ? ordering_names[o] : "?";
}

nh_err nh_ordering_parse(const char *name, nh_ordering *o) {
  for (int i = 0; i < NH_NORDERINGS; i++)
    if (!strcmp(name, ordering_names[i])) {
      *o = (nh_ordering)i;
      return NH_OK;
    }
  NH_CHECK(0, NH_ERR_INPUT,
           "unknown ordering \"%s\" (auto, amd, amf, qamd, pord, scotch, "
           "metis, ptscotch or parmetis)",
           name);
  return NH_OK;
}

nh_err nh_petsc_error(PetscErrorCode rc, const char *file, int line,
                      const char *func, const char *expr) {
  const char *text = NULL;
  char *specific = NULL;
  PetscErrorMessage(rc, &text, &specific);
  return nh_error_set(
      NH_ERR_LIB, file, line, func, "PETSc error %d (%s) in %s%s%s", (int)rc,
      text ? text : "unknown", expr, specific && specific[0] ? ": " : "",
      specific ? specific : "");
}

static nh_err petsc_start(MPI_Comm comm) {
  PetscBool done;
  NH_PETSC(SlepcInitialized(&done));
  if (done)
    return NH_OK;
  NH_PETSC(PetscInitialized(&done));
  if (!done)
    PETSC_COMM_WORLD = comm;
  NH_PETSC(SlepcInitializeNoArguments());
  petsc_started = 1;
  NH_PETSC(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  NH_PETSC(PetscPopSignalHandler());
  return NH_OK;
}

nh_err nh_sparse_finalize(void) {
  if (!petsc_started)
    return NH_OK;
  petsc_started = 0;
  NH_PETSC(SlepcFinalize());
  return NH_OK;
}

nh_err nh_sparse_create(const nh_mat *H, const nh_mat *S,
                        const nh_solver_opts *o, nh_sparse **sp) {
  NH_CHECK(H && S && o && sp, NH_ERR_ARG, "NULL argument");
  NH_CHECK(o->nbands > 0, NH_ERR_INPUT,
           "the sparse solver needs nbands > 0 (got %d)", o->nbands);
  NH_CHECK((int)o->ordering >= 0 && (int)o->ordering < NH_NORDERINGS,
           NH_ERR_ARG, "ordering %d out of range", (int)o->ordering);
  const nh_ctx *ctx = nh_domain_ctx(nh_mat_domain(H));
  NH_CALL(petsc_start(ctx->comm));
  nh_sparse *s = NULL;
  NH_CALL(nh_ctx_agree(ctx, nh_calloc(1, sizeof *s, &s)));
  s->ctx = ctx;
  s->nbands = o->nbands;
  s->target = o->target;
  s->ordering = o->ordering;
  s->out_of_core = o->out_of_core;
  snprintf(s->ooc_dir, sizeof s->ooc_dir, "%s", o->ooc_dir);
  nh_err err = NH_OK;
  if (o->out_of_core && o->ooc_dir[0] && access(o->ooc_dir, W_OK | X_OK))
    err = nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                       "out-of-core directory %s is not a writable directory",
                       o->ooc_dir);
  err = nh_ctx_agree(ctx, err); /* ranks may see different file systems */
  if (!err)
    err = nh_bloch_petsc_create(H, S, o->drop_tol, &s->bp);
  if (!err && o->nbands > s->bp->nglobal)
    err = nh_error_set(NH_ERR_INPUT, __FILE__, __LINE__, __func__,
                       "nbands = %d exceeds the %d orbitals", o->nbands,
                       (int)s->bp->nglobal);
  if (err) {
    nh_sparse_destroy(&s);
    return nh_error_trace(err, __FILE__, __LINE__, __func__);
  }
  *sp = s;
  return NH_OK;
}

nh_err nh_sparse_destroy(nh_sparse **sp) {
  if (!sp || !*sp)
    return NH_OK;
  nh_err err = nh_bloch_petsc_destroy(&(*sp)->bp);
  nh_free(sp);
  NH_CALL(err);
  return NH_OK;
}

/* nextham's MUMPS settings go through PETSc's options database: SLEPc
 * creates the factor matrix inside EPSSolve, too late for MatMumpsSetIcntl.
 * An option the user set (PETSC_OPTIONS, or PetscOptionsSetValue) wins:
 * nextham remembers the options it set and their values, so that it can
 * replace or remove (value NULL) its own and leave any other value alone. */
#define NH_MAX_OWN_OPTIONS 8
static struct { char name[96], value[16]; } own_options[NH_MAX_OWN_OPTIONS];
static int n_own_options;

static nh_err set_option(const char *name, const char *value) {
  int own = -1;
  for (int i = 0; i < n_own_options && own < 0; i++)
    if (!strcmp(own_options[i].name, name))
      own = i;
  char now[16] = "";
  PetscBool set;
  NH_PETSC(PetscOptionsGetString(NULL, NULL, name, now, sizeof now, &set));
  if (set && (own < 0 || strcmp(now, own_options[own].value)))
    return NH_OK; /* the user's */
  if (!value) {
    if (set)
      NH_PETSC(PetscOptionsClearValue(NULL, name));
    if (own >= 0)
      own_options[own].value[0] = 0; /* cleared: not set by us */
    return NH_OK;
  }
  if (own < 0) {
    NH_CHECK(n_own_options < NH_MAX_OWN_OPTIONS, NH_ERR_INTERNAL,
             "too many PETSc options");
    own = n_own_options++;
    snprintf(own_options[own].name, sizeof own_options[own].name, "%s", name);
  }
  snprintf(own_options[own].value, sizeof own_options[own].value, "%s", value);
  NH_PETSC(PetscOptionsSetValue(NULL, name, value));
  return NH_OK;
}

/* The ordering to ask MUMPS for. PORD exits the program ("no valid number
 * of stages in multisector") on nearly dense graphs, such as a primitive
 * cell or a small supercell within the interaction range. It worked with
 * 28 % of the columns per row (1,664 orbitals, drop_tol 1e-5 Ha) and
 * failed on dense matrices (nothing between was tried): above 30 % AMD
 * is used instead. */
static nh_err choose_ordering(nh_sparse *s) {
  s->ordering_used = s->ordering;
  if (s->ordering != NH_ORDERING_PORD)
    return NH_OK;
  int64_t nnz = 0;
  NH_CALL(nh_sparse_nnz(s, &nnz));
  if ((double)nnz / s->bp->nglobal > 0.3 * s->bp->nglobal) {
    s->ordering_used = NH_ORDERING_AMD;
    nh_log(s->ctx, 1,
           "sparse: the matrix is nearly dense, ordering amd "
           "instead of pord\n");
  }
  return NH_OK;
}

/* MUMPS ICNTL(7) of the sequential orderings, ICNTL(29) of the parallel
 * ones (MUMPS users' guide), indexed by nh_ordering; -1: not that kind. */
static const int mumps_seq_order[] = {-1, 0, 2, 6, 4, 3, 5, -1, -1};
static const int mumps_par_order[] = {-1, -1, -1, -1, -1, -1, -1, 1, 2};

/* The MUMPS controls of the ordering and of out-of-core factors, under the
 * factor's options prefix (the PC's: "st_" in SLEPc). */
static nh_err mumps_options(const nh_sparse *s, PC pc) {
  const char *prefix = NULL;
  char name[96], value[16];
  NH_PETSC(PCGetOptionsPrefix(pc, &prefix));
  nh_ordering ord = s->ordering_used;
  int seq = mumps_seq_order[ord], par = mumps_par_order[ord];
  const struct {
    int icntl, value; /* value < 0: MUMPS's default */
  } set[] = {{7, seq},
             {28, seq >= 0   ? 1
                  : par >= 0 ? 2
                             : -1},
             {29, par},
             {22, s->out_of_core ? 1 : -1}};
  for (size_t i = 0; i < sizeof set / sizeof *set; i++) {
    snprintf(name, sizeof name, "-%smat_mumps_icntl_%d", prefix ? prefix : "",
             set[i].icntl);
    snprintf(value, sizeof value, "%d", set[i].value);
    NH_CALL(set_option(name, set[i].value >= 0 ? value : NULL));
  }
  /* MUMPS reads its out-of-core directory from the environment when the
   * caller (PETSc) does not set one */
  if (s->out_of_core && s->ooc_dir[0])
    NH_CHECK(setenv("MUMPS_OOC_TMPDIR", s->ooc_dir, 1) == 0, NH_ERR_MEM,
             "cannot set MUMPS_OOC_TMPDIR");
  return NH_OK;
}

/* Krylov-Schur for the GHEP, shift-and-invert about the target with a
 * MUMPS factorisation; H - target S is formed in H's storage (same pattern
 * as S). */
static nh_err eps_setup(const nh_sparse *s, EPS eps) {
  ST st;
  KSP ksp;
  PC pc;
  BV bv;
  NH_PETSC(EPSSetOperators(eps, s->bp->H, s->bp->S));
  NH_PETSC(EPSSetProblemType(eps, EPS_GHEP));
  NH_PETSC(EPSSetType(eps, EPSKRYLOVSCHUR));
  NH_PETSC(EPSSetWhichEigenpairs(eps, EPS_TARGET_MAGNITUDE));
  NH_PETSC(EPSSetTarget(eps, s->target));
  /* a larger subspace than SLEPc's 2 nev halves the restarts when the
   * spectrum near the target is degenerate (graphene supercells) */
  PetscInt ncv =
      PetscMin(s->bp->nglobal, PetscMax(3 * s->nbands, s->nbands + 15));
  NH_PETSC(EPSSetDimensions(eps, s->nbands, ncv, PETSC_DEFAULT));
  NH_PETSC(EPSSetTolerances(eps, NH_SPARSE_TOL, PETSC_DEFAULT));
  /* x^H S x of an exactly Hermitian S still has a round-off imaginary part
   * of order sqrt(n) eps; SLEPc's default check (10 eps) refuses it. */
  NH_PETSC(EPSGetBV(eps, &bv));
  NH_PETSC(BVSetDefiniteTolerance(bv, NH_SPARSE_DEFTOL));
  NH_PETSC(EPSGetST(eps, &st));
  NH_PETSC(STSetType(st, STSINVERT));
  NH_PETSC(STSetMatMode(st, ST_MATMODE_INPLACE));
  NH_PETSC(STSetMatStructure(st, SAME_NONZERO_PATTERN));
  NH_PETSC(STGetKSP(st, &ksp));
  NH_PETSC(KSPSetType(ksp, KSPPREONLY));
  NH_PETSC(KSPGetPC(ksp, &pc));
  /* At real k (Gamma, zone-boundary TRIM points) H - target S is real
   * symmetric: MUMPS's LDL^T (complex symmetric, SYM = 2) needs half the
   * memory and flops of LU. Elsewhere it is only Hermitian, which MUMPS
   * cannot exploit. */
  NH_PETSC(PCSetType(pc, s->bp->real_k ? PCCHOLESKY : PCLU));
  NH_PETSC(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
  NH_CALL(mumps_options(s, pc));
  NH_PETSC(EPSSetFromOptions(eps));
  return NH_OK;
}

/* Size and cost of the factorisation (MUMPS INFOG/RINFOG, the same on
 * every rank), and a warning when MUMPS did not use the ordering asked
 * for (a library built without METIS or SCOTCH falls back silently). */
static nh_err factor_info(nh_sparse *s, EPS eps) {
  ST st;
  KSP ksp;
  PC pc;
  Mat F;
  PetscInt ord, par, entries, mem_max, mem_sum, ooc;
  PetscReal flops;
  NH_PETSC(EPSGetST(eps, &st));
  NH_PETSC(STGetKSP(st, &ksp));
  NH_PETSC(KSPGetPC(ksp, &pc));
  NH_PETSC(PCFactorGetMatrix(pc, &F));
  NH_PETSC(MatMumpsGetInfog(F, 7, &ord));
  NH_PETSC(MatMumpsGetInfog(F, 32, &par));
  NH_PETSC(MatMumpsGetInfog(F, 29, &entries));
  NH_PETSC(MatMumpsGetInfog(F, 21, &mem_max));
  NH_PETSC(MatMumpsGetInfog(F, 22, &mem_sum));
  NH_PETSC(MatMumpsGetRinfog(F, 3, &flops));
  NH_PETSC(MatMumpsGetIcntl(F, 22, &ooc));
  nh_sparse_factor_info *f = &s->f;
  f->out_of_core = ooc == 1;
  f->parallel = par == 2;
  f->ordering = NH_ORDERING_AUTO;
  for (int o = 1; o < NH_NORDERINGS; o++)
    if ((f->parallel ? mumps_par_order[o] : mumps_seq_order[o]) == ord)
      f->ordering = (nh_ordering)o;
  /* INFOG(29) < 0 counts millions */
  f->entries = entries < 0 ? -1e6 * entries : (double)entries;
  f->flops = flops;
  f->mem_max_mib = mem_max * 1e6 / 1048576;
  f->mem_sum_mib = mem_sum * 1e6 / 1048576;
  nh_log(s->ctx, 2,
         "mumps: ordering %s (%s analysis), %.3g entries in the factors, "
         "%.3g flops, %.0f MiB per rank at most, %.0f MiB in all%s\n",
         nh_ordering_name(f->ordering), f->parallel ? "parallel" : "sequential",
         f->entries, f->flops, f->mem_max_mib, f->mem_sum_mib,
         f->out_of_core ? " (factors out of core)" : "");
  if (s->ordering_used != NH_ORDERING_AUTO && f->ordering != s->ordering_used)
    nh_warn(s->ctx,
            "MUMPS used the ordering %s instead of %s (not in this MUMPS "
            "library? docs/solvers.md)\n",
            nh_ordering_name(f->ordering), nh_ordering_name(s->ordering_used));
  return NH_OK;
}

/* Mulliken weights of eigenvector x: w[el] = Re sum_{r in el} conj(x_r)
 * (S x)_r / x^H S x. y is a work vector like x. */
static nh_err mulliken(const nh_sparse *s, Vec x, Vec y, int nelem,
                       const int *elem_z, double *w) {
  const PetscScalar *xv, *yv;
  double acc[120] = {0};
  NH_PETSC(MatMult(s->bp->S, x, y));
  NH_PETSC(VecGetArrayRead(x, &xv));
  NH_PETSC(VecGetArrayRead(y, &yv));
  for (PetscInt r = 0; r < s->bp->nrow; r++) {
    double p = creal(conj(xv[r]) * yv[r]);
    acc[s->bp->row_z[r]] += p;
    acc[0] += p; /* Z = 0 never occurs: the total */
  }
  NH_PETSC(VecRestoreArrayRead(x, &xv));
  NH_PETSC(VecRestoreArrayRead(y, &yv));
  NH_MPI(
      MPI_Allreduce(MPI_IN_PLACE, acc, 120, MPI_DOUBLE, MPI_SUM, s->ctx->comm));
  for (int el = 0; el < nelem; el++)
    w[el] = elem_z[el] > 0 && elem_z[el] < 120 ? acc[elem_z[el]] / acc[0] : 0;
  return NH_OK;
}

/* Eigenpairs 0 .. nbands-1 (nearest the target first) into e and w. */
static nh_err extract(const nh_sparse *s, EPS eps, double *e, int nelem,
                      const int *elem_z, double *w) {
  nh_err err = NH_OK;
  Vec x = NULL, y = NULL;
  if (w) {
    NH_PETSC(MatCreateVecs(s->bp->S, &x, &y));
  }
  for (int b = 0; b < s->nbands && !err; b++) {
    PetscScalar ev;
    NH_PETSC_GOTO(EPSGetEigenpair(eps, b, &ev, NULL, x, NULL), done);
    e[b] = creal(ev);
    if (w)
      err = mulliken(s, x, y, nelem, elem_z, w + (size_t)b * nelem);
  }
done:
  VecDestroy(&x);
  VecDestroy(&y);
  return err;
}

static nh_err solve_eps(nh_sparse *s, const double k[3], double *e, int nelem,
                        const int *elem_z, double *w) {
  nh_err err = NH_OK;
  EPS eps = NULL;
  PetscInt nconv = 0, its = 0;
  NH_PETSC(EPSCreate(s->ctx->comm, &eps));
  NH_CALL_GOTO(eps_setup(s, eps), done);
  NH_PETSC_GOTO(EPSSolve(eps), done);
  NH_PETSC_GOTO(EPSGetConverged(eps, &nconv), done);
  NH_PETSC_GOTO(EPSGetIterationNumber(eps, &its), done);
  NH_CALL_GOTO(factor_info(s, eps), done);
  nh_log(s->ctx, 2,
         "slepc: k = (%g %g %g): %d eigenpairs converged in %d "
         "restarts\n",
         k[0], k[1], k[2], (int)nconv, (int)its);
  NH_CHECK_GOTO(nconv >= s->nbands, done, NH_ERR_NUMERIC,
                "SLEPc: at k = (%g %g %g) only %d of the %d eigenpairs "
                "nearest %g Ha converged",
                k[0], k[1], k[2], (int)nconv, s->nbands, s->target);
  NH_CALL_GOTO(extract(s, eps, e, nelem, elem_z, w), done);
done:
  EPSDestroy(&eps);
  return err;
}

/* Sorts e ascending and the rows of w (nelem each) with it. */
static nh_err sort_bands(int nb, double *e, int nelem, double *w) {
  double *ew = NULL;
  int width = 1 + (w ? nelem : 0);
  NH_CALL(nh_malloc((size_t)nb * width * sizeof *ew, &ew));
  for (int b = 0; b < nb; b++) {
    ew[b * width] = e[b];
    for (int el = 0; el < width - 1; el++)
      ew[b * width + 1 + el] = w[(size_t)b * nelem + el];
  }
  /* insertion sort: nb is the number of bands wanted, small */
  for (int b = 1; b < nb; b++)
    for (int c = b; c > 0 && ew[(c - 1) * width] > ew[c * width]; c--)
      for (int t = 0; t < width; t++) {
        double tmp = ew[(c - 1) * width + t];
        ew[(c - 1) * width + t] = ew[c * width + t];
        ew[c * width + t] = tmp;
      }
  for (int b = 0; b < nb; b++) {
    e[b] = ew[b * width];
    for (int el = 0; el < width - 1; el++)
      w[(size_t)b * nelem + el] = ew[b * width + 1 + el];
  }
  nh_free(&ew);
  return NH_OK;
}

nh_err nh_sparse_set_k(nh_sparse *sp, const double k[3]) {
  NH_CHECK(sp && k, NH_ERR_ARG, "NULL argument");
  NH_CALL(nh_bloch_petsc_fill(sp->bp, k));
  NH_CALL(choose_ordering(sp));
  memcpy(sp->k, k, sizeof sp->k);
  sp->have_k = 1;
  return NH_OK;
}

nh_err nh_sparse_release(nh_sparse *sp) {
  NH_CHECK(sp, NH_ERR_ARG, "NULL argument");
  nh_bloch_petsc_release(sp->bp);
  return NH_OK;
}

nh_err nh_sparse_solve(nh_sparse *sp, double *e, int nelem, const int *elem_z,
                       double *w) {
  NH_CHECK(sp && e, NH_ERR_ARG, "NULL argument");
  NH_CHECK(sp->have_k, NH_ERR_ARG, "nh_sparse_solve before nh_sparse_set_k");
  NH_CHECK(!w || (nelem > 0 && elem_z), NH_ERR_ARG,
           "Mulliken weights need the elements");
  nh_timer_start("slepc");
  nh_err err = solve_eps(sp, sp->k, e, nelem, elem_z, w);
  nh_timer_stop("slepc");
  NH_CALL(err);
  NH_CALL(sort_bands(sp->nbands, e, nelem, w));
  return NH_OK;
}

nh_err nh_sparse_solve_k(nh_sparse *sp, const double k[3], double *e, int nelem,
                         const int *elem_z, double *w) {
  NH_CALL(nh_sparse_set_k(sp, k));
  NH_CALL(nh_sparse_solve(sp, e, nelem, elem_z, w));
  return NH_OK;
}

nh_err nh_sparse_get_factor_info(const nh_sparse *sp,
                                 nh_sparse_factor_info *f) {
  NH_CHECK(sp && f, NH_ERR_ARG, "NULL argument");
  *f = sp->f;
  return NH_OK;
}

nh_err nh_sparse_nnz(const nh_sparse *sp, int64_t *nnz) {
  MatInfo info;
  NH_PETSC(MatGetInfo(sp->bp->H, MAT_GLOBAL_SUM, &info));
  *nnz = (int64_t)info.nz_allocated;
  return NH_OK;
}

nh_err nh_solve_sparse_k(const nh_mat *H, const nh_mat *S,
                         const nh_solver_opts *o, const double k[3], double *e,
                         int nelem, const int *elem_z, double *w) {
  nh_sparse *sp = NULL;
  NH_CALL(nh_sparse_create(H, S, o, &sp));
  nh_err err = nh_sparse_solve_k(sp, k, e, nelem, elem_z, w);
  nh_sparse_destroy(&sp);
  NH_CALL(err);
  return NH_OK;
}
