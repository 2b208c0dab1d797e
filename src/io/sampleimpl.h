/* Private to the sample file code (sample.c, sample_write.c,
 * sample_info.c). */
#ifndef NEXTHAM_SAMPLEIMPL_H
#define NEXTHAM_SAMPLEIMPL_H

#include "h5util.h"
#include "nextham/sample.h"

#define NH_SAMPLE_FORMAT "nextham-sample"
#define NH_SAMPLE_VERSION 1
#define NH_SAMPLE_PAIR_CHUNK ((hsize_t)1 << 18) /* rows of pairs per read */

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
