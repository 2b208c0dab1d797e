/* Task "graph": read a structure, distribute it over the ranks and build
 * the neighbour graph — the first steps of every later task, on their own,
 * to check a structure and the parallel layout before a large run. */
#include "nextham/app.h"
#include "nextham/domain.h"
#include "nextham/neighbor.h"

typedef struct graph_opts {
  double cutoff; /* bohr */
} graph_opts;

static nh_err read_opts(nh_toml *doc, graph_opts *o) {
  nh_toml_val *t;
  NH_CALL(nh_toml_get_table(nh_toml_root(doc), "graph", &t));
  NH_CALL(nh_toml_get_double(t, "cutoff", 8.0, &o->cutoff));
  NH_CHECK(o->cutoff > 0, NH_ERR_INPUT,
           "%s: key 'graph.cutoff' must be positive (Å)", nh_toml_name(doc));
  o->cutoff /= NH_BOHR_ANGSTROM;
  return NH_OK;
}

/* min/avg/max over ranks of one local count, printed by rank 0 */
static nh_err report(const nh_ctx *ctx, const char *what, double x) {
  double mn, mx, sum;
  NH_MPI(MPI_Allreduce(&x, &mn, 1, MPI_DOUBLE, MPI_MIN, ctx->comm));
  NH_MPI(MPI_Allreduce(&x, &mx, 1, MPI_DOUBLE, MPI_MAX, ctx->comm));
  NH_MPI(MPI_Allreduce(&x, &sum, 1, MPI_DOUBLE, MPI_SUM, ctx->comm));
  nh_log(ctx, 1, "  %-28s min %12.0f  avg %12.1f  max %12.0f  total %.0f\n",
         what, mn, sum / ctx->size, mx, sum);
  return NH_OK;
}

nh_err nh_task_graph(const nh_ctx *ctx, nh_toml *doc, const char *dir) {
  graph_opts o;
  nh_structure *s = NULL;
  nh_domain *dom = NULL;
  nh_neighbors *nl = NULL;
  nh_err err;
  NH_CALL_GOTO(read_opts(doc, &o), done);
  NH_CALL_GOTO(nh_app_read_structure(ctx, nh_toml_root(doc), dir, &s), done);
  NH_CALL_GOTO(nh_toml_check_unused(doc), done);

  nh_timer_start("distribution");
  NH_CALL_GOTO(nh_domain_create(ctx, s, NULL, o.cutoff, &dom), done);
  nh_timer_stop("distribution");
  nh_structure_destroy(&s); /* from here on, each rank holds O(N/P + halo) */

  nh_timer_start("neighbours");
  NH_CALL_GOTO(nh_domain_neighbors(dom, o.cutoff, 0, &nl), done);
  nh_timer_stop("neighbours");

  const nh_atoms *at = nh_domain_atoms(dom);
  nh_log(ctx, 1, "Neighbour graph, cutoff %.3f Å:\n", o.cutoff * NH_BOHR_ANGSTROM);
  NH_CALL_GOTO(report(ctx, "owned atoms per rank", (double)at->nlocal), done);
  NH_CALL_GOTO(report(ctx, "ghost atoms per rank", (double)at->nghost), done);
  NH_CALL_GOTO(report(ctx, "pairs (i<>j) per rank", (double)nl->npairs), done);
  double pairs = (double)nl->npairs, total;
  NH_MPI(MPI_Allreduce(&pairs, &total, 1, MPI_DOUBLE, MPI_SUM, ctx->comm));
  nh_log(ctx, 1, "  neighbours per atom (average) %.2f\n",
         total / (double)at->natoms_global);
done:
  nh_neighbors_destroy(&nl);
  nh_domain_destroy(&dom);
  nh_structure_destroy(&s);
  return err;
}
