/* Distributed inference (docs/model.md, "Distributed inference" and
 * "Memory of inference").
 *
 * Choice: a halo exchange of node features per layer (option b of issue 5).
 * Each rank builds the graph of its owned atoms and their edges within the
 * model cutoff (the domain's ghosts supply the source atoms), computes node
 * updates for owned atoms only, and after every layer fills the ghost rows
 * of the node features from their owners with nh_domain_forward. Edge
 * features live with the owner of the edge's centre atom and need no
 * communication. The halo is one cutoff (not layers × cutoff), nothing is
 * computed twice, and the cost is one point-to-point exchange of
 * ghosts × dim doubles per layer.
 *
 * Memory: inference streams. Per edge it keeps the edge features e (the
 * residual stream the next layer reads) and the graph; per node h and the
 * next layer's h, with ghost rows only for the ghosts that are the source
 * of an edge (the exchange runs on blocks of columns of the domain's full
 * atom table). Everything else — input features, x_e, radial features,
 * messages, the attention, the node update, the output blocks — lives per
 * chunk of destination nodes (edges sorted by destination, so a chunk
 * holds every edge into its nodes and the softmax closes inside it). The
 * last layer writes each chunk's blocks into dH at once: half of each edge's
 * block to (i, j, n) and the transposed half to (j, i, -n), directly when
 * j is owned here and through nh_mat_add_remote otherwise (one
 * nh_mat_assemble at the end). The cached path (nh_model_forward, kept for
 * training) computes the same numbers with the same calls on other row
 * counts, so the two agree to round-off. */
#include <string.h>
#include <sys/mman.h>
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

static void norb_table(const nh_model *m, int norb[NH_MAX_Z + 1]) {
  memset(norb, 0, (NH_MAX_Z + 1) * sizeof(int));
  for (int e = 0; e < m->hp.nelem; e++)
    norb[m->hp.z[e]] = m->pad->elem_orb_off[e + 1] - m->pad->elem_orb_off[e];
}

/* dH with room for the on-site blocks and one block per edge (with the
 * edge set symmetric, the partners (j, i, -n) are edges too). */
static nh_err dh_create(const nh_model *m, const nh_model_graph *g,
                        const nh_domain *dom, nh_mat **dH) {
  int norb[NH_MAX_Z + 1];
  norb_table(m, norb);
  NH_CALL(nh_mat_create(dom, norb, "dH", dH));
  int64_t nval = 0;
  for (int k = 0; k < g->nown; k++)
    nval += (int64_t)nh_mat_norb(*dH, g->gid[k]) * nh_mat_norb(*dH, g->gid[k]);
  for (int e = 0; e < g->E; e++)
    nval += (int64_t)nh_mat_norb(*dH, g->key[e].i) * nh_mat_norb(*dH, g->key[e].j);
  NH_CALL(nh_mat_reserve(*dH, (int64_t)g->nown + g->E, nval));
  return NH_OK;
}

/* Blocks of nodes i0..i0+ni-1 (padded Pn rows from 0) and edges
 * e0..e0+ne-1 (Pe rows from 0) into dH: on-site out_scale·Pn, and half of
 * each edge's block to its own key and, transposed, to the partner's. */
static nh_err put_blocks(const nh_model *m, const nh_model_graph *g,
                         nh_mat *dH, const double *Pn, int i0, int ni,
                         const double *Pe, int e0, int ne, double *B,
                         double *Bt) {
  const size_t P2 = (size_t)m->pad->norb * m->pad->norb;
  const nh_domain *dom = nh_mat_domain(dH);
  const int me = nh_domain_ctx(dom)->rank, zero[3] = {0, 0, 0};
  for (int k = 0; k < ni; k++) {
    const int64_t gid = g->gid[i0 + k];
    const int e = g->elem[i0 + k], n = nh_mat_norb(dH, gid);
    NH_CALL(nh_irreps_pad_gather(m->pad, e, e, Pn + k * P2, B, n));
    for (int q = 0; q < n * n; q++) B[q] *= m->out_scale;
    NH_CALL(nh_mat_add_block(dH, gid, gid, zero, B));
  }
  for (int q = 0; q < ne; q++) {
    const int e = e0 + q;
    const nh_block_key *k = &g->key[e];
    const int ni_ = nh_mat_norb(dH, k->i), nj = nh_mat_norb(dH, k->j);
    NH_CALL(nh_irreps_pad_gather(m->pad, g->elem[g->dst[e]], g->src_elem[e],
                                 Pe + q * P2, B, nj));
    for (int r = 0; r < ni_; r++)
      for (int c = 0; c < nj; c++) {
        B[r * nj + c] *= 0.5 * m->out_scale;
        Bt[c * ni_ + r] = B[r * nj + c];
      }
    const int mn[3] = {-k->n[0], -k->n[1], -k->n[2]};
    NH_CALL(nh_mat_add_block(dH, k->i, k->j, k->n, B));
    if (nh_domain_owner(dom, k->j) == me)
      NH_CALL(nh_mat_add_block(dH, k->j, k->i, mn, Bt));
    else
      NH_CALL(nh_mat_add_remote(dH, k->j, k->i, mn, Bt));
  }
  return NH_OK;
}

/* Padded-block scratch B, Bt. */
static nh_err blocks_alloc(const nh_model *m, double **B, double **Bt) {
  const size_t nb = (size_t)m->pad->norb * m->pad->norb;
  NH_CALL(nh_malloc(nb * sizeof(double), B));
  NH_CALL(nh_malloc(nb * sizeof(double), Bt));
  return NH_OK;
}

nh_err nh_model_assemble(const nh_model *m, const nh_model_graph *g,
                         const nh_model_acts *a, const nh_domain *dom,
                         nh_mat **dH) {
  double *B = NULL, *Bt = NULL;
  *dH = NULL;
  nh_err err = dh_create(m, g, dom, dH);
  if (!err) err = blocks_alloc(m, &B, &Bt);
  if (!err)
    err = put_blocks(m, g, *dH, nh_model_acts_node_out(a), 0, g->nown,
                     nh_model_acts_edge_out(a), 0, g->E, B, Bt);
  nh_free(&B), nh_free(&Bt);
  err = nh_ctx_agree(nh_domain_ctx(dom), err);
  if (!err) err = nh_mat_assemble(*dH);
  if (err) nh_mat_destroy(dH);
  return err;
}

/* ---------------------------------------------------------------------------
 * The streaming forward pass
 * ------------------------------------------------------------------------- */

typedef struct stream {
  const nh_model *m;
  nh_model_graph *g; /* src renumbered to the rows of h (ghosts_compact) */
  const nh_mat *H0, *S;
  nh_mat *dH;
  int nchunk;
  int *cnode;  /* [nchunk + 1]: chunk c holds nodes cnode[c] .. cnode[c+1]-1 */
  int *first;  /* [nown + 1]: the edges into node i are first[i] .. first[i+1]-1 */
  int ce, cn;  /* most edges and nodes in a chunk */
  int nused;   /* ghosts that are the source of an edge here */
  int *ghost;  /* [nused]: their rows in the domain's atom table */
  double *h, *hnext, *e; /* [nown + nused][D], [nown][D], [E][D] */
  double *xbuf;          /* [ntot][XCOLS]: columns of h for the exchange */
  /* scratch of one chunk */
  double *xe, *msg, *t, *rb, *rad, *rc, *fin, *sh, *work, *Pn, *Pe, *B, *Bt;
  double *agg, *h1, *hn, *gg, *z, *tc;
  int *dloc;
  double bytes; /* allocated by the network, graph included */
} stream;

static void add(double *y, const double *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

/* The domain's ghosts reach a few cutoffs around a rank's region (3.4
 * ghosts per owned atom for Si at 4 Å), but only those within the cutoff
 * of an owned atom are the source of an edge. h keeps rows for those only:
 * owned atoms, then the used ghosts in table order; src is renumbered. */
static nh_err ghosts_compact(stream *s) {
  nh_model_graph *g = s->g;
  int *row;
  NH_CALL(nh_malloc((g->ntot + 1) * sizeof(int), &row));
  for (int k = 0; k < g->ntot; k++) row[k] = k < g->nown ? k : -1;
  s->nused = 0;
  for (int e = 0; e < g->E; e++)
    if (row[g->src[e]] < 0) row[g->src[e]] = g->nown + s->nused++;
  nh_err err = nh_malloc((s->nused + 1) * sizeof(int), &s->ghost);
  for (int k = g->nown; !err && k < g->ntot; k++)
    if (row[k] >= 0) s->ghost[row[k] - g->nown] = k;
  for (int e = 0; !err && e < g->E; e++) g->src[e] = row[g->src[e]];
  nh_free(&row);
  s->bytes += (s->nused + 1.0) * sizeof(int);
  return err;
}

/* Columns of h per exchange: the exchange needs rows for every atom of
 * the domain's table, so it runs on XCOLS columns at a time. */
#define XCOLS 56

/* Fills the used ghost rows of h from their owners (nh_domain_forward on
 * the full table, a block of columns at a time). */
static nh_err exchange_h(stream *s, exch *x) {
  const nh_model_graph *g = s->g;
  const int D = s->m->ir.dim;
  for (int c0 = 0; c0 < D; c0 += XCOLS) {
    const int w = D - c0 < XCOLS ? D - c0 : XCOLS;
    for (int k = 0; k < g->nown; k++)
      memcpy(s->xbuf + (size_t)k * w, s->h + (size_t)k * D + c0,
             w * sizeof(double));
    NH_CALL(exchange(x, s->xbuf, w));
    for (int r = 0; r < s->nused; r++)
      memcpy(s->h + (size_t)(g->nown + r) * D + c0,
             s->xbuf + (size_t)s->ghost[r] * w, w * sizeof(double));
  }
  return NH_OK;
}

/* Chunks of consecutive destination nodes of about `target` edges each
 * (a node's edges are never split; a chunk has at least one node). */
static nh_err chunks_make(stream *s, int target) {
  const nh_model_graph *g = s->g;
  NH_CALL(nh_calloc(g->nown + 1, sizeof(int), &s->first));
  NH_CALL(nh_calloc(g->nown + 2, sizeof(int), &s->cnode));
  for (int e = 0; e < g->E; e++) s->first[g->dst[e] + 1]++;
  for (int i = 0; i < g->nown; i++) s->first[i + 1] += s->first[i];
  s->nchunk = 0, s->ce = 1, s->cn = 1;
  for (int i = 0; i < g->nown;) {
    int j = i + 1;
    while (j < g->nown && s->first[j + 1] - s->first[i] <= target) j++;
    s->cnode[++s->nchunk] = j;
    s->ce = s->first[j] - s->first[i] > s->ce ? s->first[j] - s->first[i] : s->ce;
    s->cn = j - i > s->cn ? j - i : s->cn;
    i = j;
  }
  s->bytes += (g->nown + s->nchunk + 3.0) * sizeof(int);
  return NH_OK;
}

static nh_err stream_alloc(stream *s) {
  const nh_model *m = s->m;
  const nh_model_graph *g = s->g;
  const size_t D = m->ir.dim, P = m->ir_in.dim, ce = s->ce, cn = s->cn;
  const size_t P2 = (size_t)m->pad->norb * m->pad->norb;
  const size_t rows = ce > cn ? ce : cn;
  const size_t w[4] = {nh_nn_so2_work(&m->so2, (int)ce),
                       nh_nn_attn_work(&m->attn, (int)cn, (int)ce),
                       nh_nn_tracegrad_work(&m->tg, (int)cn),
                       nh_model_heads_work(m)};
  size_t nw = 0;
  for (int k = 0; k < 4; k++) nw = w[k] > nw ? w[k] : nw;
  struct { double **p; size_t n; } b[] = {
      {&s->h, (size_t)(g->nown + s->nused) * D},
      {&s->hnext, (size_t)g->nown * D},
      {&s->xbuf, (size_t)g->ntot * (D < XCOLS ? D : XCOLS)},
      {&s->e, (size_t)g->E * D}, {&s->xe, ce * D}, {&s->msg, ce * D},
      {&s->t, rows * D}, {&s->rb, ce * m->hp.nradial},
      {&s->rad, ce * m->so2.nrad}, {&s->rc, nh_nn_mlp_cache(&m->rmlp, (int)ce)},
      {&s->fin, 2 * rows * P}, {&s->sh, ce * m->ir_sh.dim}, {&s->work, nw},
      {&s->Pn, cn * P2}, {&s->Pe, ce * P2}, {&s->B, P2}, {&s->Bt, P2},
      {&s->agg, cn * D}, {&s->h1, cn * D}, {&s->hn, cn * D}, {&s->gg, cn * D},
      {&s->z, cn * m->tg.nz}, {&s->tc, nh_nn_tracegrad_cache(&m->tg, (int)cn)}};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++) {
    NH_CALL(nh_malloc((b[i].n + 1) * sizeof(double), b[i].p));
    s->bytes += (b[i].n + 1.0) * sizeof(double);
  }
  NH_CALL(nh_malloc((ce + 1) * sizeof(int), &s->dloc));
  s->bytes += (ce + 1.0) * sizeof(int);
  return NH_OK;
}

static void stream_free(stream *s) {
  double **b[] = {&s->h,  &s->hnext, &s->xbuf, &s->e,  &s->xe, &s->msg, &s->t,
                  &s->rb, &s->rad,   &s->rc,  &s->fin, &s->sh,  &s->work,
                  &s->Pn, &s->Pe,    &s->B,   &s->Bt,  &s->agg, &s->h1,
                  &s->hn, &s->gg,    &s->z,   &s->tc};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++) nh_free(b[i]);
  nh_free(&s->dloc), nh_free(&s->first), nh_free(&s->cnode);
  nh_free(&s->ghost);
}

/* h = lin(H0_ii) + lin(S_ii) + embed and e = lin(H0_ij) + lin(S_ij) +
 * lin(e_k Y_L) of chunk c, in the order of the cached path. */
static nh_err chunk_inputs(stream *s, int c) {
  const nh_model *m = s->m;
  const nh_model_graph *g = s->g;
  const double *p = m->params;
  const size_t D = m->ir.dim, P = m->ir_in.dim;
  const int n0 = s->cnode[c], nn = s->cnode[c + 1] - n0;
  const int e0 = s->first[n0], ne = s->first[n0 + nn] - e0;
  const int c0 = m->ir.mul[m->k0e], o0 = m->ir.off[m->k0e];
  double *h = s->h + (size_t)n0 * D, *e = s->e + (size_t)e0 * D;
  NH_CALL(nh_model_node_features(m, g, s->H0, s->S, n0, nn, s->fin));
  nh_nn_linear_forward(h, s->fin, p + m->lay.node_h, &m->ir_in, &m->ir, nn);
  nh_nn_linear_forward(s->t, s->fin + nn * P, p + m->lay.node_s, &m->ir_in,
                       &m->ir, nn);
  add(h, s->t, (size_t)nn * D);
  for (int i = 0; i < nn; i++)
    add(h + i * D + o0, p + m->lay.embed + (size_t)g->elem[n0 + i] * c0, c0);
  NH_CALL(nh_model_edge_features(m, g, s->H0, s->S, e0, ne, s->fin));
  nh_nn_linear_forward(e, s->fin, p + m->lay.edge_h, &m->ir_in, &m->ir, ne);
  nh_nn_linear_forward(s->t, s->fin + ne * P, p + m->lay.edge_s, &m->ir_in,
                       &m->ir, ne);
  add(e, s->t, (size_t)ne * D);
  nh_nn_radial_forward(s->rb, g->len + e0, m->hp.nradial, m->hp.cutoff, ne);
  NH_CALL(nh_model_edge_geometry(m, g, s->rb, e0, ne, s->sh));
  nh_nn_linear_forward(s->t, s->sh, p + m->lay.edge_sh, &m->ir_sh, &m->ir, ne);
  add(e, s->t, (size_t)ne * D);
  return NH_OK;
}

/* Layer l on chunk c: messages of its edges, attention into its nodes, the
 * node update into hnext, the edge update of e in place; in the last
 * layer, the output blocks into dH. */
static nh_err chunk_layer(stream *s, int l, int c) {
  const nh_model *m = s->m;
  const nh_model_graph *g = s->g;
  const size_t *o = m->lay.layer[l], D = m->ir.dim;
  const double *p = m->params;
  const int n0 = s->cnode[c], nn = s->cnode[c + 1] - n0;
  const int e0 = s->first[n0], ne = s->first[n0 + nn] - e0;
  double *e = s->e + (size_t)e0 * D, *hx = s->hnext + (size_t)n0 * D;
  for (int k = 0; k < ne; k++) { /* x_e = h[src] + e */
    const double *hs = s->h + (size_t)g->src[e0 + k] * D;
    double *x = s->xe + (size_t)k * D;
    for (size_t j = 0; j < D; j++) x[j] = hs[j] + e[(size_t)k * D + j];
    s->dloc[k] = g->dst[e0 + k] - n0;
  }
  nh_nn_radial_forward(s->rb, g->len + e0, m->hp.nradial, m->hp.cutoff, ne);
  nh_nn_mlp_forward(s->rad, s->rc, s->rb, p + o[NH_ML_RMLP], &m->rmlp, ne);
  nh_timer_start("nn so2");
  nh_err err = nh_nn_so2_forward(s->msg, s->work, s->xe, s->rad, g->r + 3 * (size_t)e0,
                                 p + o[NH_ML_SO2], &m->so2, ne);
  nh_timer_stop("nn so2");
  NH_CALL(err);
  nh_nn_attn_forward(s->agg, s->work, s->msg, s->dloc, p + o[NH_ML_ATTN],
                     &m->attn, nn, ne);
  nh_nn_linear_forward(s->h1, s->agg, p + o[NH_ML_LIN], &m->ir, &m->ir, nn);
  add(s->h1, s->h + (size_t)n0 * D, (size_t)nn * D);
  nh_nn_norm_forward(s->hn, s->h1, p + o[NH_ML_NORM], &m->ir, nn);
  nh_timer_start("nn tracegrad");
  nh_nn_tracegrad_forward(s->gg, s->z, s->tc, s->work, s->hn, p + o[NH_ML_TG],
                          &m->tg, nn);
  nh_timer_stop("nn tracegrad");
  for (size_t j = 0; j < (size_t)nn * D; j++) hx[j] = s->h1[j] + s->gg[j];
  nh_nn_linear_forward(s->t, s->msg, p + o[NH_ML_ELIN], &m->ir, &m->ir, ne);
  add(e, s->t, (size_t)ne * D);
  if (l < m->hp.layers - 1) return NH_OK;
  nh_timer_start("nn heads");
  nh_model_heads(m, s->Pn, s->Pe, s->work, hx, nn, e, ne);
  err = put_blocks(m, g, s->dH, s->Pn, n0, nn, s->Pe, e0, ne, s->B, s->Bt);
  nh_timer_stop("nn heads");
  return err;
}

/* Gives the whole pages of [p, p + bytes) back to the kernel: the edge
 * features of chunks whose blocks are in dH are dead, so dH grows in the
 * last layer while e shrinks, and the peak is not their sum. */
static void release(void *p, size_t bytes) {
#ifdef MADV_DONTNEED
  const uintptr_t page = 4096;
  const uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
  const uintptr_t hi = ((uintptr_t)p + bytes) & ~(page - 1);
  if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
#else
  (void)p, (void)bytes;
#endif
}

/* The layers over all chunks, with the halo exchange between layers. */
static nh_err stream_run(stream *s, exch *x) {
  const nh_model *m = s->m;
  const size_t D = m->ir.dim;
  const int last = m->hp.layers - 1;
  for (int c = 0; c < s->nchunk; c++) NH_CALL(chunk_inputs(s, c));
  NH_CALL(exchange_h(s, x));
  for (int l = 0; l < last; l++) {
    for (int c = 0; c < s->nchunk; c++) NH_CALL(chunk_layer(s, l, c));
    memcpy(s->h, s->hnext, (size_t)s->g->nown * D * sizeof(double));
    NH_CALL(exchange_h(s, x));
  }
  for (int c = 0; c < s->nchunk; c++) {
    NH_CALL(chunk_layer(s, last, c));
    const int e0 = s->first[s->cnode[c]], e1 = s->first[s->cnode[c + 1]];
    release(s->e + (size_t)e0 * D, (size_t)(e1 - e0) * D * sizeof(double));
  }
  return NH_OK;
}

/* Bytes of a topology-only graph. */
static double graph_bytes(const nh_model_graph *g) {
  return g->nown * (double)sizeof(int) + g->ntot * (double)sizeof(int64_t) +
         g->E * (3.0 * sizeof(int) + 4.0 * sizeof(double) + sizeof(nh_block_key));
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
  memset(st, 0, sizeof *st);
  NH_CALL(nh_ctx_agree(ctx, same_owned(dom, hdom)));
  nh_model_graph *g = NULL;
  stream s = {.m = m, .H0 = H0, .S = S};
  exch x = {dom, 0.0};
  const double t0 = nh_wtime();
  err = nh_model_graph_topology(m, dom, H0, 0, &g);
  if (!err) s.g = g, s.bytes = graph_bytes(g);
  if (!err) err = ghosts_compact(&s);
  if (!err) err = chunks_make(&s, nh_model_edge_chunk());
  if (!err) err = stream_alloc(&s);
  if (!err) err = dh_create(m, g, hdom, dH);
  s.dH = *dH;
  NH_CALL_GOTO(nh_ctx_agree(ctx, err), done);
  const double t1 = nh_wtime();
  nh_timer_start("network");
  err = stream_run(&s, &x);
  nh_timer_stop("network");
  NH_CALL_GOTO(nh_ctx_agree(ctx, err), done);
  const double t2 = nh_wtime();
  st->bytes_network = s.bytes;
  stream_free(&s); /* before the assemble, which receives blocks */
  const double c0 = cpu_now();
  NH_CALL_GOTO(nh_mat_assemble(*dH), done);
  st->cpu_comm = x.cpu + cpu_now() - c0;
  st->seconds_features = t1 - t0;
  st->seconds_network = t2 - t1;
  st->seconds_assemble = nh_wtime() - t2;
  st->flops = nh_nn_so2_flops(&m->so2, &m->ir) * m->hp.layers * g->E;
  int64_t loc[2] = {g->nown, g->E}, glob[2];
  MPI_Allreduce(loc, glob, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
  st->atoms = glob[0], st->edges = glob[1];
done:
  if (err) nh_mat_destroy(dH);
  stream_free(&s);
  nh_model_graph_destroy(&g);
  return err;
}
