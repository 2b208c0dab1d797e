/* Distributed inference (docs/model.md, "Distributed inference").
 *
 * Choice: a halo exchange of node features per layer (option b of issue 5).
 * Each rank builds the graph of its owned atoms and their edges within the
 * model cutoff (the domain's ghosts supply the source atoms), computes node
 * updates for owned atoms only, and after every layer fills the ghost rows
 * of the node features from their owners with nh_domain_forward. Edge
 * features live with the owner of the edge's centre atom and need no
 * communication. The halo is one cutoff (not layers × cutoff), nothing is
 * computed twice, and the cost is one point-to-point exchange of
 * ghosts × dim doubles per layer. Outputs: each rank adds half of each of
 * its edges' blocks to (i, j, n) and sends the transposed half to the owner
 * of j for (j, i, -n) — one nh_mat_assemble. */
#include <string.h>
#include <sys/resource.h>

#include "nextham/model.h"

/* User CPU seconds of this process: waits inside MPI spin, so the CPU time
 * spent in communication is measured apart from the compute. */
static double cpu_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec;
}

typedef struct exch {
  const nh_domain *dom;
  double cpu; /* accumulated CPU seconds inside the exchanges */
} exch;

static nh_err exchange(void *ctx, double *h, int width) {
  exch *x = ctx;
  const double c0 = cpu_now();
  nh_timer_start("nn halo");
  nh_err err = nh_domain_forward(x->dom, h, width);
  nh_timer_stop("nn halo");
  x->cpu += cpu_now() - c0;
  return err;
}

/* Dense-kernel flops per edge of one SO(2) convolution: the per-|m| mixing
 * (rows × K_in × K_out, as a dense dgemm) and the rotations in and out. */
static double so2_flops(const nh_model *m) {
  const nh_nn_so2 *s = &m->so2;
  double f = 0.0;
  for (int mm = 0; mm <= s->mmax; mm++)
    f += 2.0 * (mm ? 2 : 1) * s->kin[mm] * s->kout[mm];
  for (int k = 0; k < m->ir.nkind; k++) {
    const double d = 2 * m->ir.L[k] + 1;
    f += 2 * 2.0 * m->ir.mul[k] * d * d;
  }
  return f;
}

static nh_err run_network(const nh_model *m, const nh_domain *dom,
                          const nh_mat *H0, const nh_mat *S, nh_model_graph **g,
                          nh_model_acts **a, nh_infer_stats *st) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  double t0 = nh_wtime();
  nh_err err = nh_model_graph_build(m, dom, H0, S, 0, g);
  if (!err) err = nh_model_acts_create(m, *g, 0, a);
  NH_CALL(nh_ctx_agree(ctx, err));
  double t1 = nh_wtime();
  exch x = {dom, 0.0};
  nh_timer_start("network");
  NH_CALL(nh_model_forward(m, *g, *a, exchange, &x));
  nh_timer_stop("network");
  st->cpu_comm = x.cpu;
  st->seconds_features = t1 - t0;
  st->seconds_network = nh_wtime() - t1;
  st->flops = so2_flops(m) * m->hp.layers * (*g)->E;
  return NH_OK;
}

static void norb_table(const nh_model *m, int norb[NH_MAX_Z + 1]) {
  memset(norb, 0, (NH_MAX_Z + 1) * sizeof(int));
  for (int e = 0; e < m->hp.nelem; e++)
    norb[m->hp.z[e]] = m->pad->elem_orb_off[e + 1] - m->pad->elem_orb_off[e];
}

/* On-site blocks, then each edge's half and its transpose for the reverse. */
static nh_err assemble(const nh_model *m, const nh_model_graph *g,
                       const nh_model_acts *a, nh_mat *dH, double *B,
                       double *Bt) {
  const size_t P2 = (size_t)m->pad->norb * m->pad->norb;
  const double *Pn = nh_model_acts_node_out(a), *Pe = nh_model_acts_edge_out(a);
  const int zero[3] = {0, 0, 0};
  for (int k = 0; k < g->nown; k++) {
    const int e = g->elem[k], n = nh_mat_norb(dH, g->gid[k]);
    NH_CALL(nh_irreps_pad_gather(m->pad, e, e, Pn + k * P2, B, n));
    for (int q = 0; q < n * n; q++) B[q] *= m->out_scale;
    NH_CALL(nh_mat_add_block(dH, g->gid[k], g->gid[k], zero, B));
  }
  for (int e = 0; e < g->E; e++) {
    const nh_block_key *k = &g->key[e];
    const int ni = nh_mat_norb(dH, k->i), nj = nh_mat_norb(dH, k->j);
    NH_CALL(nh_irreps_pad_gather(m->pad, g->elem[g->dst[e]], g->src_elem[e],
                                 Pe + e * P2, B, nj));
    for (int r = 0; r < ni; r++)
      for (int c = 0; c < nj; c++) {
        B[r * nj + c] *= 0.5 * m->out_scale;
        Bt[c * ni + r] = B[r * nj + c];
      }
    const int mn[3] = {-k->n[0], -k->n[1], -k->n[2]};
    NH_CALL(nh_mat_add_block(dH, k->i, k->j, k->n, B));
    NH_CALL(nh_mat_add_remote(dH, k->j, k->i, mn, Bt));
  }
  return NH_OK;
}

/* The network's domain must own the same atoms as H0's (recursive
 * bisection does not depend on the halo, so a domain of the same structure
 * and weights does). */
static nh_err same_owned(const nh_domain *a, const nh_domain *b) {
  const nh_atoms *x = nh_domain_atoms(a), *y = nh_domain_atoms(b);
  NH_CHECK(x->nlocal == y->nlocal && x->natoms_global == y->natoms_global &&
               !memcmp(x->gid, y->gid, x->nlocal * sizeof(int64_t)),
           NH_ERR_ARG, "model: the network's domain owns other atoms than "
           "H0's (make both from the same structure and weights)");
  return NH_OK;
}

nh_err nh_model_predict(const nh_model *m, const nh_domain *netdom,
                        const nh_mat *H0, const nh_mat *S, nh_mat **dH,
                        nh_infer_stats *st) {
  nh_err err = NH_OK;
  const nh_domain *hdom = nh_mat_domain(H0);
  const nh_domain *dom = netdom ? netdom : hdom;
  const nh_ctx *ctx = nh_domain_ctx(dom);
  *dH = NULL;
  NH_CALL(nh_ctx_agree(ctx, same_owned(dom, hdom)));
  nh_model_graph *g = NULL;
  nh_model_acts *a = NULL;
  double *B = NULL, *Bt = NULL;
  int norb[NH_MAX_Z + 1];
  memset(st, 0, sizeof *st);
  NH_CALL_GOTO(run_network(m, dom, H0, S, &g, &a, st), done);
  double t0 = nh_wtime();
  norb_table(m, norb);
  NH_CALL_GOTO(nh_mat_create(hdom, norb, "dH", dH), done);
  const size_t nb = (size_t)m->pad->norb * m->pad->norb;
  err = nh_malloc(nb * sizeof(double), &B);
  if (!err) err = nh_malloc(nb * sizeof(double), &Bt);
  if (!err) err = assemble(m, g, a, *dH, B, Bt);
  NH_CALL_GOTO(nh_ctx_agree(ctx, err), done);
  const double c0 = cpu_now();
  NH_CALL_GOTO(nh_mat_assemble(*dH), done);
  st->cpu_comm += cpu_now() - c0;
  st->seconds_assemble = nh_wtime() - t0;
  int64_t loc[2] = {g->nown, g->E}, glob[2];
  MPI_Allreduce(loc, glob, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
  st->atoms = glob[0], st->edges = glob[1];
done:
  if (err) nh_mat_destroy(dH);
  nh_free(&B), nh_free(&Bt);
  nh_model_acts_destroy(&a);
  nh_model_graph_destroy(&g);
  return err;
}
