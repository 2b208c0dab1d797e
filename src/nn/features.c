/* Input features of the model (docs/model.md): the graph of a rank's owned
 * atoms within the model cutoff, node features from on-site H0/S blocks and
 * edge features from off-site blocks, each padded to the model's union
 * shell set and decomposed into irreps. Geometry (|r|, r̂) enters the layers
 * through the radial basis and the edge frame. */
#include <string.h>

#include "nextham/model.h"
#include "nextham/neighbor.h"

void nh_model_graph_destroy(nh_model_graph **pg) {
  nh_model_graph *g = pg ? *pg : NULL;
  if (!g) return;
  nh_free(&g->elem), nh_free(&g->src_elem), nh_free(&g->gid);
  nh_free(&g->src), nh_free(&g->dst);
  nh_free(&g->r), nh_free(&g->len), nh_free(&g->key);
  nh_free(&g->node_in), nh_free(&g->edge_in);
  nh_free(pg);
}

static nh_err elem_index(const nh_model *m, int z, int64_t gid, int *e) {
  *e = z >= 0 && z <= NH_MAX_Z ? m->elem_of_z[z] : -1;
  NH_CHECK(*e >= 0, NH_ERR_INPUT,
           "atom %lld is %s, an element the model was not made for",
           (long long)gid + 1, nh_element_symbol(z));
  return NH_OK;
}

/* Features of block (i, j, n) of M (zero when absent or M is NULL) into
 * f[P], divided by the model's input scale of each kind. */
static void block_features(const nh_model *m, const nh_mat *M, int s,
                           const nh_block_key *k, int ei, int ej, double *P,
                           double *f) {
  const double *B = M ? nh_mat_get_block(M, k->i, k->j, k->n) : NULL;
  const nh_nn_irreps *ir = &m->ir_in;
  if (!B) {
    memset(f, 0, ir->dim * sizeof(double));
    return;
  }
  nh_irreps_pad_scatter(m->pad, ei, ej, B, nh_mat_norb(M, k->j), P);
  nh_irreps_pairs_to_features(m->pairs, P, f);
  for (int q = 0; q < ir->nkind; q++) {
    const double inv = 1.0 / m->in_scale[s][q];
    const int n = ir->mul[q] * (2 * ir->L[q] + 1);
    for (int c = 0; c < n; c++) f[ir->off[q] + c] *= inv;
  }
}

static nh_err graph_alloc(nh_model_graph *g) {
  NH_CALL(nh_calloc(g->nown + 1, sizeof(int), &g->elem));
  NH_CALL(nh_calloc(g->ntot + 1, sizeof(int64_t), &g->gid));
  NH_CALL(nh_calloc(g->E + 1, sizeof(int), &g->src));
  NH_CALL(nh_calloc(g->E + 1, sizeof(int), &g->dst));
  NH_CALL(nh_calloc(g->E + 1, sizeof(int), &g->src_elem));
  NH_CALL(nh_calloc(3 * (size_t)g->E + 1, sizeof(double), &g->r));
  NH_CALL(nh_calloc(g->E + 1, sizeof(double), &g->len));
  NH_CALL(nh_calloc(g->E + 1, sizeof(nh_block_key), &g->key));
  return NH_OK;
}

/* Index of (gid, image) in the domain's atom table (or its owned atom when
 * folding). */
static nh_err src_index(const nh_atoms *at, const nh_hmap *hm, const nh_pair *p,
                        int fold, int *src) {
  uint64_t k1, k2;
  const int zero[3] = {0, 0, 0};
  nh_hmap_block_key(p->j, 0, fold ? zero : p->n, &k1, &k2);
  const int64_t k = nh_hmap_get(hm, k1, k2);
  NH_CHECK(k >= 0 && (!fold || k < at->nlocal), NH_ERR_INTERNAL,
           "model: neighbour %lld (image %d %d %d) of atom %lld is not in the "
           "atom table", (long long)p->j + 1, p->n[0], p->n[1], p->n[2],
           (long long)p->i + 1);
  *src = (int)k;
  return NH_OK;
}

/* Owned atoms are sorted by gid: a binary search. */
static int owned_index(const nh_atoms *at, int64_t gid) {
  int64_t lo = 0, hi = at->nlocal - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (at->gid[mid] < gid) lo = mid + 1; else hi = mid;
  }
  return (int)lo;
}

static nh_err fill_graph(const nh_model *m, const nh_atoms *at,
                         const nh_neighbors *nl, const nh_mat *H0, int fold,
                         nh_model_graph *g, nh_hmap *hm) {
  for (int64_t k = 0; k < g->ntot; k++) {
    uint64_t k1, k2;
    g->gid[k] = at->gid[k];
    nh_hmap_block_key(at->gid[k], 0, at->image[k], &k1, &k2);
    NH_CALL(nh_hmap_put(hm, k1, k2, k));
  }
  const int zero[3] = {0, 0, 0};
  for (int k = 0; k < g->nown; k++) {
    NH_CALL(elem_index(m, at->z[k], at->gid[k], &g->elem[k]));
    NH_CHECK(nh_mat_get_block(H0, at->gid[k], at->gid[k], zero), NH_ERR_INPUT,
             "model: %s has no on-site block of atom %lld", nh_mat_name(H0),
             (long long)at->gid[k] + 1);
  }
  for (int e = 0; e < g->E; e++) {
    const nh_pair *p = &nl->pairs[e];
    NH_CALL(src_index(at, hm, p, fold, &g->src[e]));
    g->dst[e] = owned_index(at, p->i);
    NH_CHECK(e == 0 || g->dst[e] >= g->dst[e - 1], NH_ERR_INTERNAL,
             "model: neighbour pairs are not sorted by their centre atom");
    NH_CALL(elem_index(m, at->z[g->src[e]], p->j, &g->src_elem[e]));
    g->key[e] = (nh_block_key){p->i, p->j, {p->n[0], p->n[1], p->n[2]}};
    memcpy(g->r + 3 * e, p->d, sizeof p->d);
    g->len[e] = p->r;
  }
  return NH_OK;
}

nh_err nh_model_graph_topology(const nh_model *m, const nh_domain *dom,
                               const nh_mat *H0, int fold,
                               nh_model_graph **out) {
  nh_err err;
  nh_model_graph *g = NULL;
  nh_neighbors *nl = NULL;
  nh_hmap hm = {0};
  const nh_atoms *at = nh_domain_atoms(dom);
  *out = NULL;
  NH_CHECK(nh_domain_halo(dom) >= m->hp.cutoff, NH_ERR_ARG,
           "model: the domain's halo (%g bohr) is smaller than the model "
           "cutoff (%g bohr)", nh_domain_halo(dom), m->hp.cutoff);
  NH_CHECK(!fold || at->nlocal == at->natoms_global, NH_ERR_ARG,
           "model: a folded graph needs every atom on one rank");
  NH_CALL(nh_domain_neighbors(dom, m->hp.cutoff, 0, &nl));
  NH_CALL_GOTO(nh_calloc(1, sizeof *g, &g), fail);
  g->nown = (int)at->nlocal;
  g->ntot = fold ? g->nown : (int)(at->nlocal + at->nghost);
  g->E = (int)nl->npairs;
  NH_CALL_GOTO(graph_alloc(g), fail);
  NH_CALL_GOTO(nh_hmap_init(&hm, at->nlocal + at->nghost + 1), fail);
  NH_CALL_GOTO(fill_graph(m, at, nl, H0, fold, g, &hm), fail);
  nh_hmap_free(&hm);
  nh_neighbors_destroy(&nl);
  *out = g;
  return NH_OK;
fail:
  nh_hmap_free(&hm);
  nh_neighbors_destroy(&nl);
  nh_model_graph_destroy(&g);
  return err;
}

nh_err nh_model_node_features(const nh_model *m, const nh_model_graph *g,
                              const nh_mat *H0, const nh_mat *S, int i0, int n,
                              double *f) {
  const size_t P = m->ir_in.dim;
  double *pad;
  NH_CALL(nh_malloc((size_t)m->pad->norb * m->pad->norb * sizeof(double), &pad));
  for (int k = 0; k < n; k++) {
    const int64_t gid = g->gid[i0 + k];
    const nh_block_key key = {gid, gid, {0, 0, 0}};
    const int e = g->elem[i0 + k];
    block_features(m, H0, 0, &key, e, e, pad, f + k * P);
    block_features(m, S, 1, &key, e, e, pad, f + (n + k) * P);
  }
  nh_free(&pad);
  return NH_OK;
}

nh_err nh_model_edge_features(const nh_model *m, const nh_model_graph *g,
                              const nh_mat *H0, const nh_mat *S, int e0, int n,
                              double *f) {
  const size_t P = m->ir_in.dim;
  double *pad;
  NH_CALL(nh_malloc((size_t)m->pad->norb * m->pad->norb * sizeof(double), &pad));
  for (int k = 0; k < n; k++) {
    const int e = e0 + k, ei = g->elem[g->dst[e]], ej = g->src_elem[e];
    block_features(m, H0, 0, &g->key[e], ei, ej, pad, f + k * P);
    block_features(m, S, 1, &g->key[e], ei, ej, pad, f + (n + k) * P);
  }
  nh_free(&pad);
  return NH_OK;
}

nh_err nh_model_graph_build(const nh_model *m, const nh_domain *dom,
                            const nh_mat *H0, const nh_mat *S, int fold,
                            nh_model_graph **out) {
  nh_err err;
  nh_model_graph *g = NULL;
  const size_t P = m->ir_in.dim;
  NH_CALL(nh_model_graph_topology(m, dom, H0, fold, &g));
  NH_CALL_GOTO(nh_calloc(2 * P * g->nown + 1, sizeof(double), &g->node_in), fail);
  NH_CALL_GOTO(nh_calloc(2 * P * g->E + 1, sizeof(double), &g->edge_in), fail);
  NH_CALL_GOTO(nh_model_node_features(m, g, H0, S, 0, g->nown, g->node_in), fail);
  NH_CALL_GOTO(nh_model_edge_features(m, g, H0, S, 0, g->E, g->edge_in), fail);
  *out = g;
  return NH_OK;
fail:
  nh_model_graph_destroy(&g);
  return err;
}
