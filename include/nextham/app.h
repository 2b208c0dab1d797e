/* nextham app: command line, input file and task drivers. Each task reads
 * its own keys from the TOML document (strictly: unknown keys are errors)
 * and runs collectively on the context's communicator. */
#ifndef NEXTHAM_APP_H
#define NEXTHAM_APP_H

#include "nextham/core.h"
#include "nextham/structure.h"
#include "nextham/toml.h"

/* Runs the job described by an input file (task = "..."). Collective. */
void nh_app_list_tasks(const nh_ctx *ctx); /* for --help */
nh_err nh_app_run_input(const nh_ctx *ctx, const char *path);
/* Subcommands: `nextham convert cp2k ...`, `nextham info FILE.h5`. */
nh_err nh_app_convert(const nh_ctx *ctx, int argc, char **argv);
nh_err nh_app_info(const nh_ctx *ctx, int argc, char **argv);
/* `nextham supercell IN.h5 -o OUT.h5 --m M1 M2 M3` (docs/bands.md). */
nh_err nh_app_supercell(const nh_ctx *ctx, int argc, char **argv);

/* Shared by tasks: the [structure] table (file, format, min_distance) read,
 * validated, with paths relative to the directory of the input file. */
nh_err nh_app_read_structure(const nh_ctx *ctx, nh_toml_val *root,
                             const char *input_dir, nh_structure **s);
/* Resolves `name` against `dir` unless it is absolute. */
void nh_app_resolve_path(const char *dir, const char *name, char *out,
                         size_t len);

/* Tasks. Each reads all of its keys first, then calls
 * nh_toml_check_unused(doc), so that a misspelt key fails at once, before
 * any work; `dir` is the directory of the input file ("" for the cwd). */
nh_err nh_task_graph(const nh_ctx *ctx, nh_toml *doc, const char *dir);
nh_err nh_task_import(const nh_ctx *ctx, nh_toml *doc, const char *dir);
nh_err nh_task_bands(const nh_ctx *ctx, nh_toml *doc, const char *dir);
nh_err nh_task_dos(const nh_ctx *ctx, nh_toml *doc, const char *dir);

#endif
