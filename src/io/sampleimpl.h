/* Private to the sample file code (sample.c, sample_write.c,
 * sample_info.c). */
#ifndef NEXTHAM_SAMPLEIMPL_H
#define NEXTHAM_SAMPLEIMPL_H

#include "h5util.h"
#include "nextham/sample.h"

#define NH_SAMPLE_FORMAT "nextham-sample"
#define NH_SAMPLE_VERSION 1
/* Sizes of the pieces the sample code reads and writes at a time; tests
 * shrink them to exercise chunk boundaries on small files. */
typedef struct nh_sample_limits {
  hsize_t pair_chunk;  /* rows of pairs read at a time (2^18)          */
  hsize_t read_values; /* doubles per read of owned values (2^21)      */
  int read_ranges;     /* ranges per read of owned values (4096)       */
  int64_t write_round; /* doubles per rank and collective write (2^22) */
} nh_sample_limits;
extern nh_sample_limits nh_sample_lim;

/* Collective: opens a sample file for reading on ctx->comm and checks its
 * format and version; all ranks succeed or fail together. */
nh_err nh_sample_open(const nh_ctx *ctx, const char *path, hid_t *file);
/* Collective: closes and agrees on err. */
nh_err nh_sample_finish(const nh_ctx *ctx, hid_t *file, nh_err err);
/* Local: the structure and basis of an open file. */
nh_err nh_sample_load_structure(const char *path, hid_t file,
                                nh_structure **s);
nh_err nh_sample_load_basis(const char *path, hid_t file, nh_basis **b);
/* Local: opens /matrices/<name> and its three datasets and checks their
 * shapes agree; *nblocks = M, *nvalues = V. */
typedef struct nh_sample_mat {
  hid_t grp, pairs, offsets, values;
  hsize_t nblocks, nvalues;
} nh_sample_mat;
nh_err nh_sample_mat_open(const char *path, hid_t file, const char *name,
                          nh_sample_mat *sm);
void nh_sample_mat_close(nh_sample_mat *sm);

#endif
