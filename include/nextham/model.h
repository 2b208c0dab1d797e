/* nextham nn: the model object (docs/model.md). Hyper-parameters, one flat
 * parameter buffer with a table of named slices (llm.c style), the forward
 * pass over a graph and the backward pass of the whole model, the model
 * HDF5 file, input features from H0/S blocks and distributed inference.
 *
 * Architecture (per layer l = 0..layers-1, hidden irreps `ir`, node
 * features h (Ntot rows: owned then ghosts), edge features e (E rows)):
 *   x_e   = h[src] + e                      gather + edge features
 *   rad   = MLP_l(radial(|r|))              radial MLP per layer
 *   msg   = SO2_l(x_e, rad, r)              edge-frame SO(2) convolution
 *   agg   = attention_l(msg -> dst)         softmax over the edges into a node
 *   h1    = h + linear_l(agg)               node update, residual
 *   (g,z) = TraceGrad_l(norm_l(h1))
 *   h'    = h1 + g                          (ghost rows: halo exchange)
 *   e'    = e + linear_e,l(msg)             edge update, residual
 * Inputs: h = lin(H0_ii) + lin(S_ii) + embed[element] (0e),
 * e = lin(H0_ij(n)) + lin(S_ij(n)) + lin(e_k(|r|) Y_L(r̂)), blocks padded
 * and decomposed into irreps. Outputs: padded blocks Pn = sym(head_n(h)) per owned node,
 * Pe = head_e(e) per directed edge; the (i, j, n) block of ΔH is
 * (Pe(i<-j) + Pe(j<-i)ᵀ)/2, so ΔH(-n)_ji = ΔH(n)_ijᵀ exactly. */
#ifndef NEXTHAM_MODEL_H
#define NEXTHAM_MODEL_H

#include <stdint.h>

#include "nextham/basis.h"
#include "nextham/core.h"
#include "nextham/domain.h"
#include "nextham/irreps.h"
#include "nextham/mat.h"
#include "nextham/nn.h"
#include "nextham/toml.h"

#define NH_MODEL_MAXELEM 16
#define NH_MODEL_MAXLAYER 16
#define NH_MODEL_MAXSHELL 32
#define NH_MODEL_FORMAT "nextham-model"
#define NH_MODEL_VERSION 1

/* ---------------------------------------------------------------------------
 * Hyper-parameters ([model] table of the input, attributes of the file).
 * ------------------------------------------------------------------------- */
typedef struct nh_model_hparams {
  int lmax;                         /* hidden L_max (<= NH_IRREPS_LMAX)     */
  int channels[NH_IRREPS_LMAX + 1]; /* per L, both parities; multiple of heads */
  int layers, heads;
  double cutoff;                    /* bohr (input and file: Å)            */
  int nradial;                      /* Bessel functions                    */
  int radial_width;                 /* hidden width of radial and z MLPs   */
  int nelem;
  int z[NH_MODEL_MAXELEM];          /* elements in model order             */
  char basis[NH_MODEL_MAXELEM][64], potential[NH_MODEL_MAXELEM][64];
  int nshell[NH_MODEL_MAXELEM];     /* the basis' shells (l, CP2K order)   */
  int shell_l[NH_MODEL_MAXELEM][NH_MODEL_MAXSHELL];
  uint64_t seed;
  char h0_settings[1024]; /* free text "key = value; ..." of the H0 options */
} nh_model_hparams;

/* Defaults: lmax 4, 8 channels, 3 layers, 2 heads, 4 Å, 8 radial
 * functions, width 16, seed 1, no elements. */
void nh_model_hparams_default(nh_model_hparams *hp);
/* Reads [model] (table `tbl`, may be NULL: defaults) of doc: lmax,
 * channels (integer or array of lmax+1), layers, heads, cutoff (Å),
 * radial_basis, radial_width, elements (array of symbols), basis and
 * potential (a string for all, or a table Symbol = "name"), seed. Shells
 * come from b (the basis of every element must be loaded; names must
 * match). Errors name the file, line and key. */
nh_err nh_model_hparams_read(nh_toml *doc, nh_toml_val *tbl, const nh_basis *b,
                             nh_model_hparams *hp);
/* Checks ranges and consistency (clear NH_ERR_INPUT messages). */
nh_err nh_model_hparams_check(const nh_model_hparams *hp);
/* Fills elements, names and shells from a basis (every element it has). */
nh_err nh_model_hparams_from_basis(nh_model_hparams *hp, const nh_basis *b);

/* ---------------------------------------------------------------------------
 * The model: layer descriptors, padding, and the flat parameter buffer.
 * ------------------------------------------------------------------------- */
enum { /* slices of one layer */
  NH_ML_RMLP, NH_ML_SO2, NH_ML_ATTN, NH_ML_LIN, NH_ML_NORM, NH_ML_TG,
  NH_ML_ELIN, NH_ML_N
};

typedef struct nh_model_layout { /* offsets into params (doubles) */
  size_t embed, node_h, node_s, edge_h, edge_s, edge_sh;
  size_t layer[NH_MODEL_MAXLAYER][NH_ML_N];
  size_t head_node, head_edge, trace_node, trace_edge, end;
} nh_model_layout;

typedef struct nh_model {
  nh_model_hparams hp;
  nh_irreps_cg *cg;
  nh_irreps_pad *pad;      /* elements in model order                    */
  nh_irreps_pairs *pairs;  /* irreps of a padded block                   */
  nh_nn_irreps ir_in, ir;  /* block irreps (inputs/outputs), hidden      */
  nh_nn_irreps ir_sh;      /* e_k(|r|) Y_L(r̂): L <= lmax, (-1)^L, nradial */
  int k0e;                 /* hidden 0e kind                             */
  nh_nn_mlp rmlp;
  nh_nn_so2 so2;
  nh_nn_attn attn;
  nh_nn_tracegrad tg;
  nh_nn_mlp trace_node, trace_edge; /* tr(ΔHΔHᵀ) heads (TraceGrad's target) */
  nh_model_layout lay;
  size_t nparams;
  double *params; /* [nparams], one buffer                               */
  /* normalisation: input features are divided by in_scale[kind of ir_in]
   * (H0 then S); the output blocks are multiplied by out_scale. */
  double in_scale[2][NH_NN_MAXKIND];
  double out_scale;
  int elem_of_z[NH_MAX_Z + 1]; /* model element index, -1 absent       */
} nh_model;

/* Builds descriptors and the layout, allocates and initialises the
 * parameters deterministically from hp->seed. */
nh_err nh_model_create(const nh_model_hparams *hp, nh_model **m);
void nh_model_destroy(nh_model **m);
/* Fills the parameters from the seed (same seed -> same bits). */
void nh_model_init_params(nh_model *m);
/* Name and extent of slice k = 0.. (NULL past the end): a table of the
 * layout for logs and the model file. */
const char *nh_model_slice(const nh_model *m, int k, size_t *off, size_t *n);

/* ---------------------------------------------------------------------------
 * A graph and its inputs (features.c).
 * Nodes 0..nown-1 are computed here; nown..ntot-1 are ghosts whose
 * features come from a halo exchange. Edges point src -> dst, dst owned,
 * r[e] = x_src - x_dst (bohr); key[e] = block (i = gid of dst, j, n).
 * ------------------------------------------------------------------------- */
typedef struct nh_model_graph {
  int nown, ntot, E;
  int *elem;          /* [nown] model element index                   */
  int64_t *gid;       /* [ntot]                                        */
  int *src, *dst;     /* [E]                                           */
  int *src_elem;      /* [E] model element index of the source atom    */
  double *r, *len;    /* [E][3], [E]                                    */
  nh_block_key *key;  /* [E]                                           */
  double *node_in;    /* [2][nown][P]: H0 features, then S features of
                         every node (P = m->ir_in.dim, padded blocks);
                         NULL in a graph from nh_model_graph_topology  */
  double *edge_in;    /* [2][E][P]; NULL likewise                       */
} nh_model_graph;

/* Collective-free. Graph of the domain's owned atoms and edges within the
 * model cutoff (no self edge), inputs from H0 and S (Hartree, 1; S may be
 * NULL: zero). fold: ghosts are replaced by their atom (src = owned index;
 * only when every atom is owned, e.g. one rank) so that ntot = nown — the
 * form the backward pass needs. The domain halo must be >= cutoff. Edges
 * come sorted by their destination (dst non-decreasing). */
nh_err nh_model_graph_build(const nh_model *m, const nh_domain *dom,
                            const nh_mat *H0, const nh_mat *S, int fold,
                            nh_model_graph **g);
/* The same graph without the input features (node_in = edge_in = NULL):
 * 76 bytes per edge instead of 2.8 kB (default model, Si). H0 is only
 * checked for the on-site blocks. Streaming inference computes the
 * features chunk by chunk with the two functions below. */
nh_err nh_model_graph_topology(const nh_model *m, const nh_domain *dom,
                               const nh_mat *H0, int fold, nh_model_graph **g);
/* Input features of nodes i0..i0+n-1 (f[2][n][P], the layout of node_in
 * for n rows) and of edges e0..e0+n-1 (f[2][n][P]). */
nh_err nh_model_node_features(const nh_model *m, const nh_model_graph *g,
                              const nh_mat *H0, const nh_mat *S, int i0, int n,
                              double *f);
nh_err nh_model_edge_features(const nh_model *m, const nh_model_graph *g,
                              const nh_mat *H0, const nh_mat *S, int e0, int n,
                              double *f);
void nh_model_graph_destroy(nh_model_graph **g);

/* ---------------------------------------------------------------------------
 * Forward and backward (model.c).
 * ------------------------------------------------------------------------- */
typedef struct nh_model_acts nh_model_acts;
/* Every layer's activations, as backward needs them (training, tests):
 * about 20 kB per edge for the default model. Inference does not use them
 * (nh_model_predict streams). */
nh_err nh_model_acts_create(const nh_model *m, const nh_model_graph *g,
                            nh_model_acts **a);
void nh_model_acts_destroy(nh_model_acts **a);
/* Outputs: Pn[nown][norb²] (symmetric padded on-site blocks), Pe[E][norb²]
 * (one per directed edge; combined with its reverse by the caller). */
double *nh_model_acts_node_out(const nh_model_acts *a);
double *nh_model_acts_edge_out(const nh_model_acts *a);
/* Trace heads: Tn[nown] predicts tr(ΔH_ii ΔH_iiᵀ) of on-site blocks (an MLP
 * on the last TraceGrad z), Te[E] that of each directed edge's block (an
 * MLP on the squared norms of its final features). Invariant; supervised
 * in training, not used by inference. */
double *nh_model_acts_node_trace(const nh_model_acts *a);
double *nh_model_acts_edge_trace(const nh_model_acts *a);

/* Fills ghost rows (width doubles per node) of node features; NULL when
 * ntot == nown. */
typedef nh_err (*nh_model_exchange_fn)(void *ctx, double *h, int width);

/* Edges per call of the radial MLP and the SO(2) convolution (default
 * 4096; n <= 0 restores it): bounds their scratch to O(chunk) instead of
 * O(E). Read when activations are created and by nh_model_predict (its
 * chunks of destination nodes hold about this many edges). For tests and
 * tuning. */
void nh_model_set_edge_chunk(int n);
int nh_model_edge_chunk(void);

/* Pieces of the forward pass that inference (infer.c) shares:
 * the output heads on rows of final features, Pn[n][norb²] (symmetrised)
 * from h[n][dim] and Pe[ne][norb²] from e[ne][dim], with work of
 * nh_model_heads_work(m) doubles; and the geometry features
 * f[n][ir_sh.dim] = e_k(|r|) Y_LM(r̂) of edges e0..e0+n-1 from their
 * radial basis rb[n][nradial]. */
size_t nh_model_heads_work(const nh_model *m);
void nh_model_heads(const nh_model *m, double *Pn, double *Pe, double *work,
                    const double *h, int n, const double *e, int ne);
nh_err nh_model_edge_geometry(const nh_model *m, const nh_model_graph *g,
                              const double *rb, int e0, int n, double *f);

nh_err nh_model_forward(const nh_model *m, const nh_model_graph *g,
                        nh_model_acts *a, nh_model_exchange_fn ex, void *exctx);
/* Backward of the scalar <d_Pn, Pn> + <d_Pe, Pe> + <d_Tn, Tn> + <d_Te, Te>
 * (d_Tn, d_Te may be NULL): accumulates into d_params
 * [nparams] and, if not NULL, d_node_in / d_edge_in (the graph's input
 * layout). Needs a folded graph (ntot == nown). */
nh_err nh_model_backward(const nh_model *m, const nh_model_graph *g,
                         nh_model_acts *a, const double *d_Pn,
                         const double *d_Pe, const double *d_Tn,
                         const double *d_Te, double *d_params,
                         double *d_node_in, double *d_edge_in);

/* ---------------------------------------------------------------------------
 * Model file (model_io.c): HDF5, docs/model.md. Written by rank 0 to
 * <path>.tmp and renamed; read by every rank.
 * ------------------------------------------------------------------------- */
nh_err nh_model_write(const nh_ctx *ctx, const nh_model *m, const char *path);
nh_err nh_model_read(const nh_ctx *ctx, const char *path, nh_model **m);
/* The model fits a sample: every element of the basis is in the model with
 * the same basis name, potential name and shells. Errors name both. */
nh_err nh_model_check_basis(const nh_model *m, const char *model_path,
                            const nh_basis *b, const char *sample_path);

/* ---------------------------------------------------------------------------
 * Distributed inference (infer.c). Collective. dH (new, on H0's domain)
 * receives ΔH (Hartree) for the on-site blocks and every pair within the
 * cutoff: block (i, j, n) = out_scale (Pe(i<-j) + Pe(j<-i)ᵀ)/2 (the
 * owner of j sends its half). The network runs on netdom, a domain of the
 * same structure with halo >= cutoff (its ghosts are the ones exchanged
 * per layer), or on H0's domain when netdom is NULL. H0's halo (the
 * range of its blocks) is usually much wider than the cutoff: a netdom
 * with halo = cutoff exchanges and stores far fewer ghosts.
 * Inference streams (docs/model.md, "Memory of inference"): per edge it
 * keeps only the edge features e and the graph (about 3.2 kB for the
 * default model); x_e, messages, input features and output blocks live
 * per chunk of destination nodes, and the blocks go straight into dH.
 * Predictions equal those of nh_model_forward + nh_model_assemble to
 * round-off.
 * ------------------------------------------------------------------------- */
/* ΔH on dom (a domain owning the same atoms as g's, e.g. H0's) from the
 * outputs of nh_model_forward, combined as nh_model_predict does: the
 * cached path's prediction (training's loss, tests). Collective. */
nh_err nh_model_assemble(const nh_model *m, const nh_model_graph *g,
                         const nh_model_acts *a, const nh_domain *dom,
                         nh_mat **dH);

typedef struct nh_infer_stats {
  int64_t atoms, edges;    /* global                                 */
  double seconds_features, seconds_network, seconds_assemble;
  double flops;            /* SO(2) flops of this rank (estimate)    */
  double cpu_comm;         /* user CPU s in the halo exchanges and the
                              final assemble (MPI waits spin)        */
  double bytes_network;    /* bytes the network allocated on this rank
                              (graph, node and edge features, chunk
                              scratch; not H0, S, dH)                */
} nh_infer_stats;
nh_err nh_model_predict(const nh_model *m, const nh_domain *netdom,
                        const nh_mat *H0, const nh_mat *S, nh_mat **dH,
                        nh_infer_stats *st);

/* Task "predict" (docs/input.md). */
nh_err nh_task_predict(const nh_ctx *ctx, nh_toml *doc, const char *dir);

#endif
