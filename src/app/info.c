/* Subcommand `nextham info FILE.h5`. */
#include <stdio.h>

#include "nextham/app.h"
#include "nextham/sample.h"

nh_err nh_app_info(const nh_ctx *ctx, int argc, char **argv) {
  NH_CHECK(argc == 2, NH_ERR_INPUT, "usage: nextham info FILE.h5");
  NH_CALL(nh_sample_info(ctx, argv[1], stdout));
  return NH_OK;
}
