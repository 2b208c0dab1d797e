/* The MPI context and collective agreement on errors. */
#include "coreimpl.h"

#include <stdio.h>
#include <string.h>

nh_err nh_ctx_init(MPI_Comm comm, nh_ctx *ctx) {
  ctx->comm = comm;
  NH_MPI(MPI_Comm_rank(comm, &ctx->rank));
  NH_MPI(MPI_Comm_size(comm, &ctx->size));
  ctx->verbosity = 1;
  return NH_OK;
}

nh_err nh_ctx_agree(const nh_ctx *ctx, nh_err err) {
  int mine = err ? ctx->rank : ctx->size, first;
  NH_MPI(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, ctx->comm));
  if (first == ctx->size) return NH_OK;
  /* Share the message of the first failing rank, so that rank 0 can print
   * it and every rank returns the same code. */
  char msg[2048];
  int code = err;
  if (ctx->rank == first) snprintf(msg, sizeof msg, "%s", nh_error_message());
  NH_MPI(MPI_Bcast(&code, 1, MPI_INT, first, ctx->comm));
  NH_MPI(MPI_Bcast(msg, sizeof msg, MPI_CHAR, first, ctx->comm));
  if (ctx->rank != first) nh_error_adopt(code, msg);
  return code;
}
