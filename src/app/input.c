/* The input file: top-level keys, task dispatch, and the [structure] table
 * that most tasks share. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "nextham/app.h"
#include "nextham/h0.h"
#include "nextham/model.h"

typedef nh_err (*nh_task_fn)(const nh_ctx *, nh_toml *, const char *);

static const struct {
  const char *name;
  nh_task_fn run;
  const char *what;
} tasks[] = {
    {"graph", nh_task_graph, "structure, distribution and neighbour graph"},
    {"import", nh_task_import, "CP2K k-point run to a sample file"},
    {"bands", nh_task_bands, "band structure along a k-path"},
    {"dos", nh_task_dos, "density of states on a k-mesh"},
    {"h0", nh_task_h0, "S and the zeroth-step Hamiltonian H0 of a structure"},
    {"predict", nh_task_predict, "H = H0 + ΔH from a model and a sample with H0, S"},
};

void nh_app_list_tasks(const nh_ctx *ctx) {
  nh_log(ctx, 0, "Tasks (task = \"...\" in the input file):\n");
  for (size_t k = 0; k < sizeof tasks / sizeof tasks[0]; k++)
    nh_log(ctx, 0, "  %-10s %s\n", tasks[k].name, tasks[k].what);
}

void nh_app_resolve_path(const char *dir, const char *name, char *out,
                         size_t len) {
  if (name[0] == '/' || !dir[0])
    snprintf(out, len, "%s", name);
  else
    snprintf(out, len, "%s/%s", dir, name);
}

nh_err nh_app_read_structure(const nh_ctx *ctx, nh_toml_val *root,
                             const char *dir, nh_structure **s) {
  nh_toml_val *t;
  char file[1024], format[32], path[2048];
  double mind;
  NH_CALL(nh_toml_require_table(root, "structure", &t));
  NH_CALL(nh_toml_require_string(t, "file", file, sizeof file));
  NH_CALL(nh_toml_get_string(t, "format", "auto", format, sizeof format));
  NH_CALL(nh_toml_get_double(t, "min_distance", 0.5, &mind));
  NH_CHECK(mind > 0, NH_ERR_INPUT, "%s: key 'structure.min_distance' must be positive",
           "input");
  nh_app_resolve_path(dir, file, path, sizeof path);
  nh_timer_start("read structure");
  NH_CALL(nh_structure_read(path, format, s));
  NH_CALL(nh_structure_validate(*s, mind / NH_BOHR_ANGSTROM));
  nh_timer_stop("read structure");
  NH_CHECK(ctx->size <= (*s)->natoms, NH_ERR_MPI,
           "%d MPI ranks for %d atoms in %s: use at most %d ranks", ctx->size,
           (*s)->natoms, path, (*s)->natoms);
  nh_log(ctx, 1, "Structure: %s, %d atoms, periodic %c%c%c\n", path,
         (*s)->natoms, (*s)->pbc[0] ? 'x' : '-', (*s)->pbc[1] ? 'y' : '-',
         (*s)->pbc[2] ? 'z' : '-');
  return NH_OK;
}

static nh_err find_task(const nh_toml *doc, const char *name, nh_task_fn *fn) {
  char known[256] = "";
  for (size_t k = 0; k < sizeof tasks / sizeof tasks[0]; k++) {
    if (!strcmp(tasks[k].name, name)) {
      *fn = tasks[k].run;
      return NH_OK;
    }
    strcat(known, k ? ", " : "");
    strcat(known, tasks[k].name);
  }
  nh_toml_val *v = nh_toml_find(nh_toml_root(doc), "task");
  NH_CHECK(0, NH_ERR_INPUT, "%s:%d: unknown task '%s' (known: %s)",
           nh_toml_name(doc), v ? nh_toml_line(v) : 1, name, known);
}

/* Every rank parses the same file, so input errors arise on all ranks
 * alike; nh_ctx_agree still guards against a file only some ranks see. */
static nh_err read_input(const nh_ctx *ctx, const char *path, nh_toml **doc,
                         nh_task_fn *fn) {
  char task[64];
  nh_err err = nh_toml_parse_file(path, doc);
  NH_CALL(nh_ctx_agree(ctx, err));
  nh_toml_val *root = nh_toml_root(*doc);
  NH_CALL(nh_toml_require_string(root, "task", task, sizeof task));
  NH_CALL(find_task(*doc, task, fn));
  nh_log(ctx, 1, "Input: %s, task %s\n", path, task);
  return NH_OK;
}

nh_err nh_app_run_input(const nh_ctx *ctx, const char *path) {
  nh_toml *doc = NULL;
  nh_task_fn fn = NULL;
  nh_err err;
  char dirbuf[1024];
  snprintf(dirbuf, sizeof dirbuf, "%s", path);
  const char *dir = dirname(dirbuf);
  nh_timer_start("total");
  NH_CALL_GOTO(read_input(ctx, path, &doc, &fn), done);
  err = fn(ctx, doc, strcmp(dir, ".") ? dir : "");
  NH_CALL_GOTO(nh_ctx_agree(ctx, err), done);
  nh_timer_stop("total");
  NH_CALL_GOTO(nh_timer_summary(ctx), done);
done:
  nh_toml_destroy(&doc);
  return err;
}
