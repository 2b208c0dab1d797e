/* nextham core: error codes and traceback, logging, progress, timers,
 * the MPI context and the unit constants every module shares. */
#ifndef NEXTHAM_CORE_H
#define NEXTHAM_CORE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------
 * Units. nextham works in atomic units (bohr, Hartree) internally and talks
 * to users in Å and eV. The constants are CP2K 2023.1's (CODATA 2006): using
 * others makes CP2K's matrices disagree with ours at the 1e-9 level.
 * ------------------------------------------------------------------------- */
#define NH_BOHR_ANGSTROM 0.52917720859 /* Å per bohr */
#define NH_HARTREE_EV 27.21138386      /* eV per Hartree */

/* ---------------------------------------------------------------------------
 * Errors, in the manner of PETSc: every fallible function returns nh_err.
 * The first failure records a message with NH_CHECK / nh_error_set; every
 * caller up the stack adds its file:line:function through NH_CALL and
 * returns. main() prints the message and the traceback once.
 * ------------------------------------------------------------------------- */
typedef int nh_err;

enum {
  NH_OK = 0,
  NH_ERR_ARG,      /* a caller broke an API contract (a bug)          */
  NH_ERR_MEM,      /* out of memory                                   */
  NH_ERR_INPUT,    /* bad user input: TOML, structure, options        */
  NH_ERR_FILE,     /* a file is missing, unreadable or corrupt        */
  NH_ERR_MPI,      /* MPI failed, or the rank layout does not fit     */
  NH_ERR_HDF5,     /* the HDF5 library failed                         */
  NH_ERR_LIB,      /* another library (ELPA, PETSc, libxc...) failed  */
  NH_ERR_NUMERIC,  /* a numerical failure (singular, not converged)   */
  NH_ERR_INTERNAL, /* an invariant of nextham itself is broken         */
  NH_ERR_NCODES
};

/* Records the first error (message formatted printf-style) and returns code. */
nh_err nh_error_set(nh_err code, const char *file, int line, const char *func,
                    const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Adds one traceback frame and returns code unchanged. */
nh_err nh_error_trace(nh_err code, const char *file, int line, const char *func);
/* The recorded message ("" when none) and the category name of a code. */
const char *nh_error_message(void);
const char *nh_error_name(nh_err code);
/* Prints "nextham error (category): message" plus the traceback to stderr,
 * prefixed with the rank when rank >= 0. */
void nh_error_print(nh_err code, int rank);
/* Forgets the recorded error (tests that provoke errors on purpose). */
void nh_error_clear(void);

#define NH_CHECK(cond, code, ...)                                              \
  do {                                                                         \
    if (!(cond))                                                               \
      return nh_error_set((code), __FILE__, __LINE__, __func__, __VA_ARGS__);  \
  } while (0)

#define NH_CALL(expr)                                                          \
  do {                                                                         \
    nh_err nh_call_err_ = (expr);                                              \
    if (nh_call_err_)                                                          \
      return nh_error_trace(nh_call_err_, __FILE__, __LINE__, __func__);       \
  } while (0)

/* Variants for functions that must release resources on failure: they store
 * the code in the local `err` and jump to `label`. */
#define NH_CHECK_GOTO(cond, label, code, ...)                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      err = nh_error_set((code), __FILE__, __LINE__, __func__, __VA_ARGS__);   \
      goto label;                                                              \
    }                                                                          \
  } while (0)

#define NH_CALL_GOTO(expr, label)                                              \
  do {                                                                         \
    err = (expr);                                                              \
    if (err) {                                                                 \
      err = nh_error_trace(err, __FILE__, __LINE__, __func__);                 \
      goto label;                                                              \
    }                                                                          \
  } while (0)

/* MPI return codes become nextham errors at the call site. */
#define NH_MPI(expr)                                                           \
  do {                                                                         \
    int nh_mpi_rc_ = (expr);                                                   \
    if (nh_mpi_rc_ != MPI_SUCCESS)                                             \
      return nh_error_set(NH_ERR_MPI, __FILE__, __LINE__, __func__,            \
                          "MPI call failed (code %d): %s", nh_mpi_rc_, #expr); \
  } while (0)

/* ---------------------------------------------------------------------------
 * Memory. Allocation failures are errors, never crashes; the zero-size case
 * returns a valid unique pointer so callers need not special-case it.
 * ------------------------------------------------------------------------- */
nh_err nh_malloc(size_t size, void *ptr);   /* *(void **)ptr = malloc   */
nh_err nh_calloc(size_t n, size_t size, void *ptr);
nh_err nh_realloc(size_t size, void *ptr);  /* grows *(void **)ptr      */
void nh_free(void *ptr);                    /* frees *(void **)ptr, NULLs */
/* Peak resident memory of this process in bytes (VmHWM). */
size_t nh_mem_peak(void);

/* ---------------------------------------------------------------------------
 * Context: the communicator a job runs on and rank-0 output.
 * Errors in collective code must be agreed on by all ranks with
 * nh_ctx_agree() before the next collective call, so that every rank leaves
 * together (LAMMPS' error->all); an error seen by one rank only in local
 * code aborts the job with its rank printed (error->one).
 * ------------------------------------------------------------------------- */
typedef struct nh_ctx {
  MPI_Comm comm;
  int rank, size;
  int verbosity; /* 0 quiet, 1 normal (default), 2 debug */
} nh_ctx;

nh_err nh_ctx_init(MPI_Comm comm, nh_ctx *ctx);
/* Collective: returns the first non-zero code of any rank (by rank order),
 * or 0. The message of that rank is copied to every rank, so that every
 * rank can return the same error and rank 0 can print it. */
nh_err nh_ctx_agree(const nh_ctx *ctx, nh_err err);

/* ---------------------------------------------------------------------------
 * Logging: rank 0 writes, to stdout, unless verbosity is lower than level.
 * ------------------------------------------------------------------------- */
void nh_log(const nh_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Every rank writes to stderr, prefixed with its rank (warnings, debug). */
void nh_log_rank(const nh_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void nh_warn(const nh_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Progress of a long loop on rank 0: "what: i/n (pct) elapsed, ETA". At most
 * one line per `interval` seconds, plus the final line. */
typedef struct nh_progress {
  const nh_ctx *ctx;
  char what[64];
  long total, last_done;
  double t0, last_print, interval;
} nh_progress;

void nh_progress_start(nh_progress *p, const nh_ctx *ctx, const char *what,
                       long total);
void nh_progress_update(nh_progress *p, long done);
void nh_progress_finish(nh_progress *p);

/* ---------------------------------------------------------------------------
 * Timers: named phases (neighbours, halo, integrals, ... ). Nested use of
 * different names is allowed; time of each phase accumulates. The summary is
 * collective and printed by rank 0 with min/avg/max over ranks.
 * ------------------------------------------------------------------------- */
double nh_wtime(void);
void nh_timer_start(const char *phase);
void nh_timer_stop(const char *phase);
double nh_timer_get(const char *phase); /* accumulated seconds */
void nh_timer_reset(void);
nh_err nh_timer_summary(const nh_ctx *ctx);

/* ---------------------------------------------------------------------------
 * Hash map from a 128-bit key (two uint64) to an int64 value, open
 * addressing with linear probing. Used for atom lookups by global index
 * (key gid, 0) and block lookups by (i, j, n) (see nh_hmap_block_key).
 * ------------------------------------------------------------------------- */
typedef struct nh_hmap_slot {
  uint64_t k1, k2;
  int64_t val; /* -1 marks an empty slot */
} nh_hmap_slot;

/* Slots hold key and value together: one cache line per probe. */
typedef struct nh_hmap {
  nh_hmap_slot *slot;
  size_t cap, count;
} nh_hmap;

nh_err nh_hmap_init(nh_hmap *h, size_t expected);
void nh_hmap_free(nh_hmap *h);
/* Inserts or overwrites; val must be >= 0. */
nh_err nh_hmap_put(nh_hmap *h, uint64_t k1, uint64_t k2, int64_t val);
/* Returns the value, or -1 when absent (values stored must be >= 0). */
int64_t nh_hmap_get(const nh_hmap *h, uint64_t k1, uint64_t k2);
/* Packs a block key (atoms < 2^32, |n_k| < 2^20) into two words. */
static inline void nh_hmap_block_key(int64_t i, int64_t j, const int n[3],
                                     uint64_t *k1, uint64_t *k2) {
  *k1 = ((uint64_t)i << 32) | (uint64_t)(uint32_t)j;
  *k2 = ((uint64_t)(uint32_t)(n[0] + (1 << 20)) << 42) |
        ((uint64_t)(uint32_t)(n[1] + (1 << 20)) << 21) |
        (uint64_t)(uint32_t)(n[2] + (1 << 20));
}

#endif
