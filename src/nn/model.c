/* The model object: hyper-parameters, the flat parameter buffer with its
 * named slices, forward over a graph and backward of the whole model
 * (docs/model.md). Layers come from nn.h; this file only chains them. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nextham/model.h"
#include "nextham/structure.h"

/* ---------------------------------------------------------------------------
 * Hyper-parameters
 * ------------------------------------------------------------------------- */

void nh_model_hparams_default(nh_model_hparams *hp) {
  memset(hp, 0, sizeof *hp);
  hp->lmax = 4;
  for (int l = 0; l <= NH_IRREPS_LMAX; l++) hp->channels[l] = 8;
  hp->layers = 3;
  hp->heads = 2;
  hp->cutoff = 4.0 / NH_BOHR_ANGSTROM;
  hp->nradial = 8;
  hp->radial_width = 16;
  hp->seed = 1;
}

nh_err nh_model_hparams_check(const nh_model_hparams *hp) {
  NH_CHECK(hp->lmax >= 0 && hp->lmax <= NH_IRREPS_LMAX, NH_ERR_INPUT,
           "model: lmax must be in 0..%d, got %d", NH_IRREPS_LMAX, hp->lmax);
  NH_CHECK(hp->heads >= 1 && hp->heads <= 64, NH_ERR_INPUT,
           "model: heads must be in 1..64, got %d", hp->heads);
  for (int l = 0; l <= hp->lmax; l++)
    NH_CHECK(hp->channels[l] >= 1 && hp->channels[l] % hp->heads == 0 &&
                 hp->channels[l] <= 1024,
             NH_ERR_INPUT,
             "model: channels of L = %d must be a positive multiple of heads "
             "(%d), at most 1024; got %d", l, hp->heads, hp->channels[l]);
  NH_CHECK(hp->layers >= 1 && hp->layers <= NH_MODEL_MAXLAYER, NH_ERR_INPUT,
           "model: layers must be in 1..%d, got %d", NH_MODEL_MAXLAYER,
           hp->layers);
  NH_CHECK(hp->cutoff > 0.5 && hp->cutoff < 50.0, NH_ERR_INPUT,
           "model: cutoff must be in (0.26, 26) Å, got %g Å",
           hp->cutoff * NH_BOHR_ANGSTROM);
  NH_CHECK(hp->nradial >= 1 && hp->nradial <= 128, NH_ERR_INPUT,
           "model: radial_basis must be in 1..128, got %d", hp->nradial);
  NH_CHECK(hp->radial_width >= 1 && hp->radial_width <= 4096, NH_ERR_INPUT,
           "model: radial_width must be in 1..4096, got %d", hp->radial_width);
  NH_CHECK(hp->nelem >= 1 && hp->nelem <= NH_MODEL_MAXELEM, NH_ERR_INPUT,
           "model: 1..%d elements needed, got %d", NH_MODEL_MAXELEM, hp->nelem);
  for (int e = 0; e < hp->nelem; e++) {
    NH_CHECK(hp->z[e] >= 1 && hp->z[e] <= NH_MAX_Z, NH_ERR_INPUT,
             "model: element %d has atomic number %d", e + 1, hp->z[e]);
    for (int f = 0; f < e; f++)
      NH_CHECK(hp->z[f] != hp->z[e], NH_ERR_INPUT,
               "model: element %s listed twice", nh_element_symbol(hp->z[e]));
    NH_CHECK(hp->nshell[e] >= 1 && hp->nshell[e] <= NH_MODEL_MAXSHELL,
             NH_ERR_INPUT, "model: element %s has %d shells (1..%d allowed)",
             nh_element_symbol(hp->z[e]), hp->nshell[e], NH_MODEL_MAXSHELL);
    for (int s = 0; s < hp->nshell[e]; s++)
      NH_CHECK(2 * hp->shell_l[e][s] <= NH_IRREPS_LMAX, NH_ERR_INPUT,
               "model: element %s has a shell of l = %d; blocks need 2l <= %d",
               nh_element_symbol(hp->z[e]), hp->shell_l[e][s], NH_IRREPS_LMAX);
  }
  return NH_OK;
}

static nh_err set_element(nh_model_hparams *hp, int e, const nh_element_basis *eb) {
  NH_CHECK(eb && eb->nshell >= 1, NH_ERR_INPUT,
           "model: element %s has no basis loaded", nh_element_symbol(hp->z[e]));
  NH_CHECK(eb->nshell <= NH_MODEL_MAXSHELL, NH_ERR_INPUT,
           "model: element %s has %d shells (at most %d)",
           nh_element_symbol(hp->z[e]), eb->nshell, NH_MODEL_MAXSHELL);
  snprintf(hp->basis[e], sizeof hp->basis[e], "%s", eb->basis_name);
  snprintf(hp->potential[e], sizeof hp->potential[e], "%s", eb->potential_name);
  hp->nshell[e] = eb->nshell;
  for (int s = 0; s < eb->nshell; s++) hp->shell_l[e][s] = eb->shells[s].l;
  return NH_OK;
}

nh_err nh_model_hparams_from_basis(nh_model_hparams *hp, const nh_basis *b) {
  hp->nelem = 0;
  for (int z = 1; z <= NH_MAX_Z; z++) {
    if (!b->elem[z]) continue;
    NH_CHECK(hp->nelem < NH_MODEL_MAXELEM, NH_ERR_INPUT,
             "model: more than %d elements", NH_MODEL_MAXELEM);
    hp->z[hp->nelem] = z;
    NH_CALL(set_element(hp, hp->nelem++, b->elem[z]));
  }
  return NH_OK;
}

/* `key` = "name" for every element or a table { Symbol = "name" }. */
static nh_err read_names(nh_toml *doc, nh_toml_val *tbl, const char *key,
                         const nh_model_hparams *hp, char (*out)[64]) {
  nh_toml_val *v = tbl ? nh_toml_find(tbl, key) : NULL;
  if (!v) return NH_OK;
  if (nh_toml_type_of(v) == NH_TOML_STRING) {
    char name[64];
    NH_CALL(nh_toml_get_string(tbl, key, "", name, sizeof name));
    for (int e = 0; e < hp->nelem; e++) snprintf(out[e], 64, "%s", name);
    return NH_OK;
  }
  nh_toml_val *t;
  NH_CALL(nh_toml_get_table(tbl, key, &t));
  for (int e = 0; e < hp->nelem; e++)
    NH_CALL(nh_toml_get_string(t, nh_element_symbol(hp->z[e]), out[e], out[e],
                               64));
  (void)doc;
  return NH_OK;
}

static nh_err read_channels(nh_toml *doc, nh_toml_val *tbl,
                            nh_model_hparams *hp) {
  nh_toml_val *v = tbl ? nh_toml_find(tbl, "channels") : NULL;
  if (!v) return NH_OK;
  if (nh_toml_type_of(v) != NH_TOML_ARRAY) {
    int64_t c;
    NH_CALL(nh_toml_get_int(tbl, "channels", 8, &c));
    for (int l = 0; l <= NH_IRREPS_LMAX; l++) hp->channels[l] = (int)c;
    return NH_OK;
  }
  int64_t c[NH_IRREPS_LMAX + 1];
  NH_CHECK(nh_toml_len(v) == (size_t)hp->lmax + 1, NH_ERR_INPUT,
           "%s:%d: key 'model.channels' must have lmax + 1 = %d entries, got "
           "%zu", nh_toml_name(doc), nh_toml_line(v), hp->lmax + 1,
           nh_toml_len(v));
  NH_CALL(nh_toml_get_int_vec(tbl, "channels", hp->lmax + 1, c));
  for (int l = 0; l <= hp->lmax; l++) hp->channels[l] = (int)c[l];
  return NH_OK;
}

static nh_err read_elements(nh_toml *doc, nh_toml_val *tbl, const nh_basis *b,
                            nh_model_hparams *hp) {
  nh_toml_val *arr;
  NH_CALL(nh_toml_get_array(tbl, "elements", &arr));
  if (!arr) return nh_model_hparams_from_basis(hp, b);
  hp->nelem = (int)nh_toml_len(arr);
  NH_CHECK(hp->nelem >= 1 && hp->nelem <= NH_MODEL_MAXELEM, NH_ERR_INPUT,
           "%s:%d: key 'model.elements' needs 1..%d symbols, got %d",
           nh_toml_name(doc), nh_toml_line(arr), NH_MODEL_MAXELEM, hp->nelem);
  for (int e = 0; e < hp->nelem; e++) {
    nh_toml_val *v = nh_toml_at(arr, e);
    const char *sym = nh_toml_type_of(v) == NH_TOML_STRING
                          ? nh_toml_string(v, NULL) : "";
    hp->z[e] = nh_element_number(sym);
    NH_CHECK(hp->z[e] > 0, NH_ERR_INPUT,
             "%s:%d: key 'model.elements[%d]' must be an element symbol",
             nh_toml_name(doc), nh_toml_line(v), e);
    NH_CHECK(b->elem[hp->z[e]], NH_ERR_INPUT,
             "%s:%d: element %s of 'model.elements' has no basis loaded",
             nh_toml_name(doc), nh_toml_line(v), sym);
    NH_CALL(set_element(hp, e, b->elem[hp->z[e]]));
  }
  return NH_OK;
}

nh_err nh_model_hparams_read(nh_toml *doc, nh_toml_val *tbl, const nh_basis *b,
                             nh_model_hparams *hp) {
  int64_t v;
  double cut;
  nh_model_hparams_default(hp);
  NH_CALL(nh_toml_get_int(tbl, "lmax", hp->lmax, &v));
  hp->lmax = (int)v;
  NH_CHECK(hp->lmax >= 0 && hp->lmax <= NH_IRREPS_LMAX, NH_ERR_INPUT,
           "%s: key 'model.lmax' must be in 0..%d, got %d", nh_toml_name(doc),
           NH_IRREPS_LMAX, hp->lmax);
  NH_CALL(read_channels(doc, tbl, hp));
  NH_CALL(nh_toml_get_int(tbl, "layers", hp->layers, &v));
  hp->layers = (int)v;
  NH_CALL(nh_toml_get_int(tbl, "heads", hp->heads, &v));
  hp->heads = (int)v;
  NH_CALL(nh_toml_get_double(tbl, "cutoff", hp->cutoff * NH_BOHR_ANGSTROM, &cut));
  hp->cutoff = cut / NH_BOHR_ANGSTROM;
  NH_CALL(nh_toml_get_int(tbl, "radial_basis", hp->nradial, &v));
  hp->nradial = (int)v;
  NH_CALL(nh_toml_get_int(tbl, "radial_width", hp->radial_width, &v));
  hp->radial_width = (int)v;
  NH_CALL(nh_toml_get_int(tbl, "seed", 1, &v));
  hp->seed = (uint64_t)v;
  NH_CALL(read_elements(doc, tbl, b, hp));
  char want[NH_MODEL_MAXELEM][64];
  memcpy(want, hp->basis, sizeof want);
  NH_CALL(read_names(doc, tbl, "basis", hp, want));
  for (int e = 0; e < hp->nelem; e++)
    NH_CHECK(!strcasecmp(want[e], hp->basis[e]), NH_ERR_INPUT,
             "%s: key 'model.basis' asks for %s %s but the loaded basis is %s",
             nh_toml_name(doc), nh_element_symbol(hp->z[e]), want[e],
             hp->basis[e]);
  NH_CALL(read_names(doc, tbl, "potential", hp, hp->potential));
  nh_err err = nh_model_hparams_check(hp);
  if (err) { /* the same message, with the input file in front */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", nh_error_message());
    nh_error_clear();
    return nh_error_set(err, __FILE__, __LINE__, __func__, "%s: [model]: %s",
                        nh_toml_name(doc), msg);
  }
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Creation, layout, initialisation
 * ------------------------------------------------------------------------- */

static nh_err make_pad(nh_model *m) {
  const int *sl[NH_MODEL_MAXELEM];
  for (int e = 0; e < m->hp.nelem; e++) sl[e] = m->hp.shell_l[e];
  NH_CALL(nh_irreps_pad_create(m->hp.nelem, m->hp.nshell, sl, &m->pad));
  NH_CALL(nh_irreps_cg_create(m->pad->lmax, 2 * m->pad->lmax, &m->cg));
  NH_CALL(nh_irreps_pairs_create(m->pad, m->cg, &m->pairs));
  nh_nn_irreps_from_pairs(m->pairs, &m->ir_in);
  return NH_OK;
}

static nh_err make_layers(nh_model *m) {
  const nh_model_hparams *hp = &m->hp;
  int L[NH_NN_MAXKIND], p[NH_NN_MAXKIND], mul[NH_NN_MAXKIND], nk = 0;
  /* every (L, parity) but 0o: no orbital block has a pseudo-scalar part, so
   * 0o would stay exactly zero in the first layer, where the RMS norm's
   * derivative at zero (1/sqrt(eps) = 1000) would amplify its gradient */
  for (int l = 0; l <= hp->lmax; l++)
    for (int s = 0; s < (l ? 2 : 1); s++) {
      L[nk] = l, p[nk] = s ? -1 : 1, mul[nk] = hp->channels[l];
      nk++;
    }
  NH_CALL(nh_nn_irreps_set(&m->ir, nk, L, p, mul));
  m->k0e = nh_nn_irreps_find(&m->ir, 0, 1);
  /* edge geometry: e_k(|r|) Y_L(r̂), L <= lmax, one kind (L, (-1)^L) with
   * a channel per radial function */
  for (int l = 0; l <= hp->lmax; l++)
    L[l] = l, p[l] = l % 2 ? -1 : 1, mul[l] = hp->nradial;
  NH_CALL(nh_nn_irreps_set(&m->ir_sh, hp->lmax + 1, L, p, mul));
  NH_CALL(nh_nn_so2_set(&m->so2, &m->ir, &m->ir));
  const int rs[3] = {hp->nradial, hp->radial_width, m->so2.nrad};
  NH_CALL(nh_nn_mlp_set(&m->rmlp, 2, rs));
  NH_CALL(nh_nn_attn_set(&m->attn, &m->ir, hp->heads));
  NH_CALL(nh_nn_tracegrad_set(&m->tg, &m->ir, NH_NN_INV_GRAM, 1,
                              &hp->radial_width, hp->channels[0]));
  /* trace heads: tr(ΔHΔHᵀ) of on-site blocks from the last TraceGrad z,
   * of edge blocks from the squared norms of the final edge features */
  const int tn[3] = {m->tg.nz, hp->radial_width, 1};
  const int te[3] = {nh_nn_invariants_dim(&m->ir, NH_NN_INV_NORM),
                     hp->radial_width, 1};
  NH_CALL(nh_nn_mlp_set(&m->trace_node, 2, tn));
  NH_CALL(nh_nn_mlp_set(&m->trace_edge, 2, te));
  return NH_OK;
}

static void make_layout(nh_model *m) {
  nh_model_layout *y = &m->lay;
  size_t o = 0, lin_in = nh_nn_linear_nparams(&m->ir_in, &m->ir);
  y->embed = o, o += (size_t)m->hp.nelem * m->hp.channels[0];
  y->node_h = o, o += lin_in;
  y->node_s = o, o += lin_in;
  y->edge_h = o, o += lin_in;
  y->edge_s = o, o += lin_in;
  y->edge_sh = o, o += nh_nn_linear_nparams(&m->ir_sh, &m->ir);
  const size_t n[NH_ML_N] = {
      nh_nn_mlp_nparams(&m->rmlp),  nh_nn_so2_nparams(&m->so2),
      nh_nn_attn_nparams(&m->attn), nh_nn_linear_nparams(&m->ir, &m->ir),
      nh_nn_norm_nparams(&m->ir),   nh_nn_tracegrad_nparams(&m->tg),
      nh_nn_linear_nparams(&m->ir, &m->ir)};
  for (int l = 0; l < m->hp.layers; l++)
    for (int k = 0; k < NH_ML_N; k++) y->layer[l][k] = o, o += n[k];
  y->head_node = o, o += nh_nn_head_nparams(&m->ir, m->pairs);
  y->head_edge = o, o += nh_nn_head_nparams(&m->ir, m->pairs);
  y->trace_node = o, o += nh_nn_mlp_nparams(&m->trace_node);
  y->trace_edge = o, o += nh_nn_mlp_nparams(&m->trace_edge);
  y->end = o;
  m->nparams = o;
}

nh_err nh_model_create(const nh_model_hparams *hp, nh_model **out) {
  nh_err err;
  nh_model *m = NULL;
  *out = NULL;
  NH_CALL(nh_model_hparams_check(hp));
  NH_CALL(nh_calloc(1, sizeof *m, &m));
  m->hp = *hp;
  NH_CALL_GOTO(make_pad(m), fail);
  NH_CALL_GOTO(make_layers(m), fail);
  make_layout(m);
  NH_CALL_GOTO(nh_calloc(m->nparams, sizeof(double), &m->params), fail);
  for (int s = 0; s < 2; s++)
    for (int k = 0; k < NH_NN_MAXKIND; k++) m->in_scale[s][k] = 1.0;
  m->out_scale = 1.0;
  for (int z = 0; z <= NH_MAX_Z; z++) m->elem_of_z[z] = -1;
  for (int e = 0; e < hp->nelem; e++) m->elem_of_z[hp->z[e]] = e;
  nh_model_init_params(m);
  *out = m;
  return NH_OK;
fail:
  nh_model_destroy(&m);
  return err;
}

void nh_model_destroy(nh_model **pm) {
  nh_model *m = pm ? *pm : NULL;
  if (!m) return;
  nh_irreps_pairs_destroy(&m->pairs);
  nh_irreps_pad_destroy(&m->pad);
  nh_irreps_cg_destroy(&m->cg);
  nh_free(&m->params);
  nh_free(pm);
}

/* splitmix64: a fixed, portable stream from the seed. */
static double rand_uniform(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0; /* [-1, 1) */
}

static void fill(double *p, size_t n, double a, uint64_t *s) {
  for (size_t i = 0; i < n; i++) p[i] = a * rand_uniform(s);
}

/* An MLP: W_l uniform in ±sqrt(3/fan_in), biases 0. */
static void init_mlp(double *p, const nh_nn_mlp *mlp, uint64_t *s) {
  for (int l = 1; l <= mlp->nlayer; l++) {
    const size_t nw = (size_t)mlp->size[l] * mlp->size[l - 1];
    fill(p, nw, sqrt(3.0 / mlp->size[l - 1]), s);
    memset(p + nw, 0, mlp->size[l] * sizeof(double));
    p += nw + mlp->size[l];
  }
}

/* Channel-mixing maps: ±sqrt(3/fan) with fan the channels of the widest
 * kind (a variance-preserving start for every kind). */
static void init_linear(double *p, size_t n, const nh_nn_irreps *in,
                        double gain, uint64_t *s) {
  int fan = 1;
  for (int k = 0; k < in->nkind; k++) fan = in->mul[k] > fan ? in->mul[k] : fan;
  fill(p, n, gain * sqrt(3.0 / fan), s);
}

void nh_model_init_params(nh_model *m) {
  uint64_t s = m->hp.seed;
  const nh_model_layout *y = &m->lay;
  double *p = m->params;
  const size_t lin_in = nh_nn_linear_nparams(&m->ir_in, &m->ir);
  fill(p + y->embed, y->node_h - y->embed, 1.0, &s);
  init_linear(p + y->node_h, 4 * lin_in, &m->ir_in, 1.0, &s);
  init_linear(p + y->edge_sh, y->layer[0][0] - y->edge_sh, &m->ir_sh, 1.0, &s);
  for (int l = 0; l < m->hp.layers; l++) {
    const size_t *o = y->layer[l];
    init_mlp(p + o[NH_ML_RMLP], &m->rmlp, &s);
    int kin = 0;
    for (int k = 0; k < m->ir.nkind; k++) kin += m->ir.mul[k];
    fill(p + o[NH_ML_SO2], o[NH_ML_ATTN] - o[NH_ML_SO2], sqrt(3.0 / kin), &s);
    fill(p + o[NH_ML_ATTN], o[NH_ML_LIN] - o[NH_ML_ATTN], 0.5, &s);
    init_linear(p + o[NH_ML_LIN], o[NH_ML_NORM] - o[NH_ML_LIN], &m->ir, 0.5, &s);
    size_t ng = 0; /* norm: gains 1, biases 0 */
    for (int k = 0; k < m->ir.nkind; k++) ng += m->ir.mul[k];
    for (size_t i = 0; i < o[NH_ML_TG] - o[NH_ML_NORM]; i++)
      p[o[NH_ML_NORM] + i] = i < ng ? 1.0 : 0.0;
    init_mlp(p + o[NH_ML_TG], &m->tg.mlp, &s);
    init_linear(p + o[NH_ML_ELIN], nh_nn_linear_nparams(&m->ir, &m->ir), &m->ir,
                0.5, &s);
  }
  init_linear(p + y->head_node, y->trace_node - y->head_node, &m->ir, 0.1, &s);
  init_mlp(p + y->trace_node, &m->trace_node, &s);
  init_mlp(p + y->trace_edge, &m->trace_edge, &s);
}

const char *nh_model_slice(const nh_model *m, int k, size_t *off, size_t *n) {
  static const char *top[] = {"embed",     "node_in_h0", "node_in_s",
                              "edge_in_h0", "edge_in_s",  "edge_in_sh"};
  static const char *per[NH_ML_N] = {"radial_mlp", "so2",  "attention",
                                     "node_linear", "norm", "tracegrad",
                                     "edge_linear"};
  static char name[64];
  const nh_model_layout *y = &m->lay;
  const size_t o5[7] = {y->embed,  y->node_h,  y->node_s,     y->edge_h,
                        y->edge_s, y->edge_sh, y->layer[0][0]};
  const int nl = m->hp.layers * NH_ML_N;
  if (k < 6) {
    *off = o5[k], *n = o5[k + 1] - o5[k];
    return top[k];
  }
  k -= 6;
  if (k < nl) {
    const int l = k / NH_ML_N, j = k % NH_ML_N;
    const size_t next = j + 1 < NH_ML_N ? y->layer[l][j + 1]
                        : l + 1 < m->hp.layers ? y->layer[l + 1][0]
                                               : y->head_node;
    *off = y->layer[l][j], *n = next - *off;
    snprintf(name, sizeof name, "layer%d.%s", l, per[j]);
    return name;
  }
  k -= nl;
  if (k == 0) { *off = y->head_node, *n = y->head_edge - y->head_node; return "head_node"; }
  if (k == 1) { *off = y->head_edge, *n = y->trace_node - y->head_edge; return "head_edge"; }
  if (k == 2) { *off = y->trace_node, *n = y->trace_edge - y->trace_node; return "trace_node"; }
  if (k == 3) { *off = y->trace_edge, *n = y->end - y->trace_edge; return "trace_edge"; }
  return NULL;
}

/* ---------------------------------------------------------------------------
 * Activations: layer l's buffers sit at l·size (inference streams instead,
 * infer.c).
 * ------------------------------------------------------------------------- */
#define HCHUNK 256  /* rows per head call: bounds the head's work buffer */
/* Edges per radial MLP + SO(2) call: bounds their work buffers. */
static int edge_chunk = 4096;

void nh_model_set_edge_chunk(int n) { edge_chunk = n > 0 ? n : 4096; }
int nh_model_edge_chunk(void) { return edge_chunk; }

struct nh_model_acts {
  int nown, ntot, E, L;
  size_t hs, es, ns, rs, rcs, zs, tcs; /* per-layer sizes */
  size_t rc1;                          /* radial MLP cache of one chunk */
  int ec;                              /* edges per chunk               */
  double *h, *e, *xe, *rad, *rcache, *msg, *agg, *h1, *hn, *g, *z, *tcache;
  double *rb, *tmp, *work, *Pn, *Pe;
  double *Tn, *Te, *tn_cache, *te_inv, *te_cache; /* trace heads */
  double *shbuf; /* HCHUNK rows of e_k Y_L features and their image */
  /* backward */
  double *dh, *dh1, *dhn, *dagg, *dmsg, *dxe, *de, *drad, *dsym;
  double *dz, *dinv, *twork; /* trace heads' backward */
};

#define AT(a, buf, sz, l) ((a)->buf + (size_t)(l) * (a)->sz)

nh_err nh_model_acts_create(const nh_model *m, const nh_model_graph *g,
                            nh_model_acts **out) {
  nh_err err;
  nh_model_acts *a = NULL;
  NH_CALL(nh_calloc(1, sizeof *a, &a));
  const size_t D = m->ir.dim, P2 = (size_t)m->pairs->norb * m->pairs->norb;
  const int L = m->hp.layers;
  a->nown = g->nown, a->ntot = g->ntot, a->E = g->E, a->L = L;
  a->hs = g->ntot * D, a->es = g->E * D, a->ns = g->nown * D;
  /* radial features and the radial MLP's cache of every chunk */
  a->ec = edge_chunk;
  const int nc = (g->E + a->ec - 1) / a->ec;
  a->rc1 = nh_nn_mlp_cache(&m->rmlp, a->ec);
  a->rs = (size_t)nc * a->ec * m->so2.nrad, a->rcs = nc * a->rc1;
  a->zs = (size_t)g->nown * m->tg.nz, a->tcs = nh_nn_tracegrad_cache(&m->tg, g->nown);
  const int ec = g->E < a->ec ? g->E : a->ec;
  size_t nw = nh_nn_so2_work(&m->so2, ec);
  nw = fmax(nw, nh_nn_attn_work(&m->attn, g->nown, g->E));
  nw = fmax(nw, nh_nn_mlp_work(&m->rmlp, ec));
  nw = fmax(nw, nh_nn_tracegrad_work(&m->tg, g->nown));
  nw = fmax(nw, nh_model_heads_work(m));
  struct { double **p; size_t n; } b[] = {
      {&a->h, (L + 1) * a->hs}, {&a->e, (L + 1) * a->es},
      {&a->xe, L * a->es}, {&a->rad, L * a->rs}, {&a->rcache, L * a->rcs},
      {&a->msg, L * a->es}, {&a->agg, L * a->ns}, {&a->h1, L * a->ns},
      {&a->hn, L * a->ns}, {&a->g, L * a->ns}, {&a->z, L * a->zs},
      {&a->tcache, L * a->tcs}, {&a->rb, (size_t)g->E * m->hp.nradial},
      {&a->tmp, a->es}, {&a->work, nw}, {&a->Pn, g->nown * P2},
      {&a->Pe, g->E * P2}, {&a->Tn, g->nown}, {&a->Te, g->E},
      {&a->tn_cache, nh_nn_mlp_cache(&m->trace_node, g->nown)},
      {&a->te_inv, (size_t)g->E * m->trace_edge.size[0]},
      {&a->te_cache, nh_nn_mlp_cache(&m->trace_edge, g->E)},
      {&a->shbuf, (size_t)HCHUNK * (m->ir_sh.dim + D)}};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++)
    NH_CALL_GOTO(nh_calloc(b[i].n ? b[i].n : 1, sizeof(double), b[i].p), fail);
  *out = a;
  return NH_OK;
fail:
  nh_model_acts_destroy(&a);
  return err;
}

void nh_model_acts_destroy(nh_model_acts **pa) {
  nh_model_acts *a = pa ? *pa : NULL;
  if (!a) return;
  double **b[] = {&a->h,   &a->e,   &a->xe,  &a->rad,    &a->rcache, &a->msg,
                  &a->agg, &a->h1,  &a->hn,  &a->g,      &a->z,      &a->tcache,
                  &a->rb,  &a->tmp, &a->work, &a->Pn,    &a->Pe,     &a->dh,
                  &a->dh1, &a->dhn, &a->dagg, &a->dmsg,  &a->dxe,    &a->de,
                  &a->drad, &a->dsym, &a->Tn,  &a->Te,    &a->tn_cache,
                  &a->te_inv, &a->te_cache, &a->dz, &a->dinv, &a->twork,
                  &a->shbuf};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++) nh_free(b[i]);
  nh_free(pa);
}

double *nh_model_acts_node_out(const nh_model_acts *a) { return a->Pn; }
double *nh_model_acts_edge_out(const nh_model_acts *a) { return a->Pe; }
double *nh_model_acts_node_trace(const nh_model_acts *a) { return a->Tn; }
double *nh_model_acts_edge_trace(const nh_model_acts *a) { return a->Te; }

static void add(double *y, const double *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

/* P <- (P + Pᵀ)/2 for each norb×norb row block. */
static void symmetrize(double *P, int n, int norb) {
  for (int i = 0; i < n; i++) {
    double *B = P + (size_t)i * norb * norb;
    for (int r = 0; r < norb; r++)
      for (int c = r + 1; c < norb; c++) {
        const double s = 0.5 * (B[r * norb + c] + B[c * norb + r]);
        B[r * norb + c] = B[c * norb + r] = s;
      }
  }
}

size_t nh_model_heads_work(const nh_model *m) {
  return (size_t)HCHUNK * m->pairs->dim;
}

void nh_model_heads(const nh_model *m, double *Pn, double *Pe, double *work,
                    const double *h, int n, const double *e, int ne) {
  const size_t D = m->ir.dim, P2 = (size_t)m->pairs->norb * m->pairs->norb;
  const double *p = m->params;
  for (int i = 0; i < n; i += HCHUNK) {
    const int k = n - i < HCHUNK ? n - i : HCHUNK;
    nh_nn_head_forward(Pn + i * P2, work, h + i * D, p + m->lay.head_node,
                       &m->ir, m->pairs, k);
  }
  symmetrize(Pn, n, m->pairs->norb);
  for (int i = 0; i < ne; i += HCHUNK) {
    const int k = ne - i < HCHUNK ? ne - i : HCHUNK;
    nh_nn_head_forward(Pe + i * P2, work, e + i * D, p + m->lay.head_edge,
                       &m->ir, m->pairs, k);
  }
}

nh_err nh_model_edge_geometry(const nh_model *m, const nh_model_graph *g,
                              const double *rb, int e0, int n, double *f) {
  const nh_nn_irreps *ir = &m->ir_sh;
  double Y[(NH_IRREPS_LMAX + 1) * (NH_IRREPS_LMAX + 1)];
  for (int e = 0; e < n; e++) {
    NH_CALL(nh_irreps_sph(m->hp.lmax, g->r + 3 * (size_t)(e0 + e), Y, NULL));
    const double *rbe = rb + (size_t)e * m->hp.nradial;
    double *fe = f + (size_t)e * ir->dim;
    for (int L = 0; L <= m->hp.lmax; L++)
      for (int k = 0; k < m->hp.nradial; k++)
        for (int q = 0; q < 2 * L + 1; q++)
          fe[ir->off[L] + k * (2 * L + 1) + q] = rbe[k] * Y[L * L + q];
  }
  return NH_OK;
}

/* h = lin(H0_ii) + lin(S_ii) + embed[element];
 * e = lin(H0_ij) + lin(S_ij) + lin(e_k(|r|) Y_L(r̂)). */
static nh_err inputs_forward(const nh_model *m, const nh_model_graph *g,
                             nh_model_acts *a) {
  const double *p = m->params;
  const size_t P = m->ir_in.dim, D = m->ir.dim;
  const int c0 = m->ir.mul[m->k0e], o0 = m->ir.off[m->k0e];
  double *h = a->h, *e = a->e, *tn = a->agg, *te = a->xe;
  nh_nn_linear_forward(h, g->node_in, p + m->lay.node_h, &m->ir_in, &m->ir, g->nown);
  nh_nn_linear_forward(tn, g->node_in + g->nown * P, p + m->lay.node_s, &m->ir_in,
                       &m->ir, g->nown);
  add(h, tn, g->nown * D);
  for (int i = 0; i < g->nown; i++)
    add(h + i * D + o0, p + m->lay.embed + (size_t)g->elem[i] * c0, c0);
  nh_nn_linear_forward(e, g->edge_in, p + m->lay.edge_h, &m->ir_in, &m->ir, g->E);
  nh_nn_linear_forward(te, g->edge_in + g->E * P, p + m->lay.edge_s, &m->ir_in,
                       &m->ir, g->E);
  add(e, te, g->E * D);
  double *f = a->shbuf, *t = a->shbuf + (size_t)HCHUNK * m->ir_sh.dim;
  for (int e0 = 0; e0 < g->E; e0 += HCHUNK) {
    const int n = g->E - e0 < HCHUNK ? g->E - e0 : HCHUNK;
    NH_CALL(nh_model_edge_geometry(m, g, a->rb + (size_t)e0 * m->hp.nradial,
                                   e0, n, f));
    nh_nn_linear_forward(t, f, p + m->lay.edge_sh, &m->ir_sh, &m->ir, n);
    add(e + (size_t)e0 * D, t, (size_t)n * D);
  }
  return NH_OK;
}

/* Tn = MLP(z of the last TraceGrad), Te = MLP(squared norms of final e). */
static void traces_forward(const nh_model *m, const nh_model_graph *g,
                           nh_model_acts *a) {
  const int L = m->hp.layers;
  nh_nn_mlp_forward(a->Tn, a->tn_cache, AT(a, z, zs, L - 1),
                    m->params + m->lay.trace_node, &m->trace_node, g->nown);
  nh_nn_invariants_forward(a->te_inv, AT(a, e, es, L), &m->ir, NH_NN_INV_NORM,
                           g->E);
  nh_nn_mlp_forward(a->Te, a->te_cache, a->te_inv,
                    m->params + m->lay.trace_edge, &m->trace_edge, g->E);
}

/* msg = SO2(x_e, MLP(rb), r), a->ec edges at a time: chunk k's radial
 * features and cache sit at k·ec rows / k·rc1. */
static nh_err edges_forward(const nh_model *m, const nh_model_graph *g,
                            nh_model_acts *a, double *rad, double *rc,
                            const double *xe, double *msg, const size_t *o) {
  const size_t D = m->ir.dim, nr = m->so2.nrad;
  for (int k = 0; k * a->ec < g->E; k++) {
    const int e0 = k * a->ec, n = g->E - e0 < a->ec ? g->E - e0 : a->ec;
    double *rk = rad + (size_t)e0 * nr, *ck = rc + k * a->rc1;
    nh_nn_mlp_forward(rk, ck, a->rb + (size_t)e0 * m->hp.nradial,
                      m->params + o[NH_ML_RMLP], &m->rmlp, n);
    nh_timer_start("nn so2");
    nh_err err = nh_nn_so2_forward(msg + e0 * D, a->work, xe + e0 * D, rk,
                                   g->r + 3 * (size_t)e0,
                                   m->params + o[NH_ML_SO2], &m->so2, n);
    nh_timer_stop("nn so2");
    NH_CALL(err);
  }
  return NH_OK;
}

nh_err nh_model_forward(const nh_model *m, const nh_model_graph *g,
                        nh_model_acts *a, nh_model_exchange_fn ex, void *exctx) {
  const int D = m->ir.dim, N = g->nown, E = g->E;
  NH_CHECK(a->nown == N && a->ntot == g->ntot && a->E == E, NH_ERR_ARG,
           "model: activations were made for another graph");
  NH_CHECK(ex || g->ntot == N, NH_ERR_ARG, "model: ghosts need an exchange");
  nh_nn_radial_forward(a->rb, g->len, m->hp.nradial, m->hp.cutoff, E);
  NH_CALL(inputs_forward(m, g, a));
  if (ex) NH_CALL(ex(exctx, a->h, D));
  for (int l = 0; l < m->hp.layers; l++) {
    const size_t *o = m->lay.layer[l];
    const double *p = m->params;
    double *h = AT(a, h, hs, l), *e = AT(a, e, es, l), *xe = AT(a, xe, es, l);
    double *rad = AT(a, rad, rs, l), *rc = AT(a, rcache, rcs, l);
    double *msg = AT(a, msg, es, l), *agg = AT(a, agg, ns, l);
    double *h1 = AT(a, h1, ns, l), *hn = AT(a, hn, ns, l), *gg = AT(a, g, ns, l);
    double *z = AT(a, z, zs, l), *tc = AT(a, tcache, tcs, l);
    double *hx = AT(a, h, hs, l + 1), *ex1 = AT(a, e, es, l + 1);
    nh_nn_gather_forward(xe, h, g->src, D, E);
    add(xe, e, (size_t)E * D);
    NH_CALL(edges_forward(m, g, a, rad, rc, xe, msg, o));
    nh_nn_attn_forward(agg, a->work, msg, g->dst, p + o[NH_ML_ATTN], &m->attn, N, E);
    nh_nn_linear_forward(h1, agg, p + o[NH_ML_LIN], &m->ir, &m->ir, N);
    add(h1, h, (size_t)N * D);
    nh_nn_norm_forward(hn, h1, p + o[NH_ML_NORM], &m->ir, N);
    nh_timer_start("nn tracegrad");
    nh_nn_tracegrad_forward(gg, z, tc, a->work, hn, p + o[NH_ML_TG], &m->tg, N);
    nh_timer_stop("nn tracegrad");
    for (size_t j = 0; j < (size_t)N * D; j++) hx[j] = h1[j] + gg[j];
    if (ex) NH_CALL(ex(exctx, hx, D));
    nh_nn_linear_forward(a->tmp, msg, p + o[NH_ML_ELIN], &m->ir, &m->ir, E);
    for (size_t j = 0; j < (size_t)E * D; j++) ex1[j] = e[j] + a->tmp[j];
  }
  nh_timer_start("nn heads");
  nh_model_heads(m, a->Pn, a->Pe, a->work, AT(a, h, hs, m->hp.layers), g->nown,
                 AT(a, e, es, m->hp.layers), g->E);
  traces_forward(m, g, a);
  nh_timer_stop("nn heads");
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Backward
 * ------------------------------------------------------------------------- */

static nh_err grads_alloc(const nh_model *m, nh_model_acts *a) {
  if (a->dh) return NH_OK;
  NH_CALL(nh_calloc(a->hs + 1, sizeof(double), &a->dh));
  NH_CALL(nh_calloc(a->hs + 1, sizeof(double), &a->dh1));
  NH_CALL(nh_calloc(a->ns + 1, sizeof(double), &a->dhn));
  NH_CALL(nh_calloc(a->ns + 1, sizeof(double), &a->dagg));
  NH_CALL(nh_calloc(a->es + 1, sizeof(double), &a->dmsg));
  NH_CALL(nh_calloc(a->es + 1, sizeof(double), &a->dxe));
  NH_CALL(nh_calloc(a->es + 1, sizeof(double), &a->de));
  NH_CALL(nh_calloc((size_t)a->ec * m->so2.nrad, sizeof(double), &a->drad));
  NH_CALL(nh_calloc((size_t)HCHUNK * m->pairs->norb * m->pairs->norb,
                    sizeof(double), &a->dsym));
  NH_CALL(nh_calloc((size_t)a->nown * m->tg.nz + 1, sizeof(double), &a->dz));
  NH_CALL(nh_calloc((size_t)a->E * m->trace_edge.size[0] + 1, sizeof(double),
                    &a->dinv));
  const size_t tw = fmax(nh_nn_mlp_work(&m->trace_node, a->nown),
                         nh_nn_mlp_work(&m->trace_edge, a->E));
  NH_CALL(nh_calloc(tw + 1, sizeof(double), &a->twork));
  return NH_OK;
}

static void heads_backward(const nh_model *m, nh_model_acts *a, const double *dPn,
                           const double *dPe, double *dp) {
  const size_t D = m->ir.dim, P2 = (size_t)m->pairs->norb * m->pairs->norb;
  const int norb = m->pairs->norb;
  const double *p = m->params;
  const double *h = AT(a, h, hs, a->L), *e = AT(a, e, es, a->L);
  double *ds = a->dsym; /* symmetrised node gradient, HCHUNK rows at a time */
  for (int i = 0; i < a->nown; i += HCHUNK) {
    const int n = a->nown - i < HCHUNK ? a->nown - i : HCHUNK;
    for (int k = 0; k < n; k++) /* Pn = (P + Pᵀ)/2: d_P = (d + dᵀ)/2 */
      for (int r = 0; r < norb; r++)
        for (int c = 0; c < norb; c++)
          ds[k * P2 + r * norb + c] = 0.5 * (dPn[(i + k) * P2 + r * norb + c] +
                                             dPn[(i + k) * P2 + c * norb + r]);
    nh_nn_head_backward(a->dh + i * D, dp + m->lay.head_node, ds, a->work,
                        h + i * D, p + m->lay.head_node, &m->ir, m->pairs, n);
  }
  for (int i = 0; i < a->E; i += HCHUNK) {
    const int n = a->E - i < HCHUNK ? a->E - i : HCHUNK;
    nh_nn_head_backward(a->de + i * D, dp + m->lay.head_edge, dPe + i * P2,
                        a->work, e + i * D, p + m->lay.head_edge, &m->ir,
                        m->pairs, n);
  }
}

static nh_err layer_backward(const nh_model *m, const nh_model_graph *g,
                             nh_model_acts *a, int l, const double *dz,
                             double *dp) {
  const size_t *o = m->lay.layer[l];
  const double *p = m->params;
  const int N = g->nown, E = g->E, D = m->ir.dim;
  const size_t nd = (size_t)N * D, ed = (size_t)E * D;
  // e' = e + lin_e(msg): de passes through; d_msg from the edge linear
  memset(a->dmsg, 0, ed * sizeof(double));
  nh_nn_linear_backward(a->dmsg, dp + o[NH_ML_ELIN], a->de, AT(a, msg, es, l),
                        p + o[NH_ML_ELIN], &m->ir, &m->ir, E);
  // h' = h1 + TraceGrad(norm(h1))
  memcpy(a->dh1, a->dh, nd * sizeof(double));
  memset(a->dhn, 0, nd * sizeof(double));
  nh_nn_tracegrad_backward(a->dhn, dp + o[NH_ML_TG], a->dh, dz, a->work,
                           AT(a, tcache, tcs, l), AT(a, hn, ns, l),
                           p + o[NH_ML_TG], &m->tg, N);
  nh_nn_norm_backward(a->dh1, dp + o[NH_ML_NORM], a->dhn, AT(a, h1, ns, l),
                      p + o[NH_ML_NORM], &m->ir, N);
  // h1 = h + lin(agg): dh1 becomes d h (residual) after the linear's backward
  memset(a->dagg, 0, nd * sizeof(double));
  nh_nn_linear_backward(a->dagg, dp + o[NH_ML_LIN], a->dh1, AT(a, agg, ns, l),
                        p + o[NH_ML_LIN], &m->ir, &m->ir, N);
  nh_nn_attn_backward(a->dmsg, dp + o[NH_ML_ATTN], a->dagg, a->work,
                      AT(a, msg, es, l), g->dst, p + o[NH_ML_ATTN], &m->attn, N, E);
  memset(a->dxe, 0, ed * sizeof(double));
  const double *xe = AT(a, xe, es, l), *rad = AT(a, rad, rs, l);
  const double *rc = AT(a, rcache, rcs, l);
  for (int k = 0; k * a->ec < E; k++) { /* the chunks of edges_forward */
    const int e0 = k * a->ec, n = E - e0 < a->ec ? E - e0 : a->ec;
    const size_t nr = m->so2.nrad;
    memset(a->drad, 0, n * nr * sizeof(double));
    NH_CALL(nh_nn_so2_backward(a->dxe + (size_t)e0 * D, a->drad,
                               dp + o[NH_ML_SO2], a->dmsg + (size_t)e0 * D,
                               a->work, xe + (size_t)e0 * D, rad + e0 * nr,
                               g->r + 3 * (size_t)e0, p + o[NH_ML_SO2],
                               &m->so2, n));
    nh_nn_mlp_backward(NULL, dp + o[NH_ML_RMLP], a->drad, NULL, a->work,
                       rc + k * a->rc1, a->rb + (size_t)e0 * m->hp.nradial,
                       p + o[NH_ML_RMLP], &m->rmlp, n);
  }
  // x_e = h[src] + e
  add(a->de, a->dxe, ed);
  nh_nn_gather_backward(a->dh1, a->dxe, g->src, D, E);
  double *t = a->dh; /* dh1 is now d h of layer l */
  a->dh = a->dh1, a->dh1 = t;
  return NH_OK;
}

static nh_err inputs_backward(const nh_model *m, const nh_model_graph *g,
                              nh_model_acts *a, double *dp, double *dn,
                              double *de) {
  const double *p = m->params;
  const size_t P = m->ir_in.dim, D = m->ir.dim;
  const int c0 = m->ir.mul[m->k0e], o0 = m->ir.off[m->k0e];
  for (int i = 0; i < g->nown; i++)
    add(dp + m->lay.embed + (size_t)g->elem[i] * c0, a->dh + i * D + o0, c0);
  nh_nn_linear_backward(dn, dp + m->lay.node_h, a->dh, g->node_in, p + m->lay.node_h,
                        &m->ir_in, &m->ir, g->nown);
  nh_nn_linear_backward(dn ? dn + g->nown * P : NULL, dp + m->lay.node_s, a->dh,
                        g->node_in + g->nown * P, p + m->lay.node_s, &m->ir_in,
                        &m->ir, g->nown);
  nh_nn_linear_backward(de, dp + m->lay.edge_h, a->de, g->edge_in, p + m->lay.edge_h,
                        &m->ir_in, &m->ir, g->E);
  nh_nn_linear_backward(de ? de + g->E * P : NULL, dp + m->lay.edge_s, a->de,
                        g->edge_in + g->E * P, p + m->lay.edge_s, &m->ir_in,
                        &m->ir, g->E);
  double *f = a->shbuf; /* the geometry features are recomputed */
  for (int e0 = 0; e0 < g->E; e0 += HCHUNK) {
    const int n = g->E - e0 < HCHUNK ? g->E - e0 : HCHUNK;
    NH_CALL(nh_model_edge_geometry(m, g, a->rb + (size_t)e0 * m->hp.nradial,
                                   e0, n, f));
    nh_nn_linear_backward(NULL, dp + m->lay.edge_sh, a->de + (size_t)e0 * D, f,
                          p + m->lay.edge_sh, &m->ir_sh, &m->ir, n);
  }
  return NH_OK;
}

/* Trace heads: d_Tn -> d z of the last layer (a->dz, returned or NULL),
 * d_Te -> d e of the last layer (accumulated into a->de). */
static const double *traces_backward(const nh_model *m, const nh_model_graph *g,
                                     nh_model_acts *a, const double *d_Tn,
                                     const double *d_Te, double *dp) {
  const int L = m->hp.layers;
  if (d_Te) {
    memset(a->dinv, 0, (size_t)g->E * m->trace_edge.size[0] * sizeof(double));
    nh_nn_mlp_backward(a->dinv, dp + m->lay.trace_edge, d_Te, NULL, a->twork,
                       a->te_cache, a->te_inv, m->params + m->lay.trace_edge,
                       &m->trace_edge, g->E);
    nh_nn_invariants_backward(a->de, a->dinv, AT(a, e, es, L), &m->ir,
                              NH_NN_INV_NORM, g->E);
  }
  if (!d_Tn) return NULL;
  memset(a->dz, 0, (size_t)g->nown * m->tg.nz * sizeof(double));
  nh_nn_mlp_backward(a->dz, dp + m->lay.trace_node, d_Tn, NULL, a->twork,
                     a->tn_cache, AT(a, z, zs, L - 1),
                     m->params + m->lay.trace_node, &m->trace_node, g->nown);
  return a->dz;
}

nh_err nh_model_backward(const nh_model *m, const nh_model_graph *g,
                         nh_model_acts *a, const double *d_Pn,
                         const double *d_Pe, const double *d_Tn,
                         const double *d_Te, double *d_params,
                         double *d_node_in, double *d_edge_in) {
  NH_CHECK(g->ntot == g->nown, NH_ERR_ARG,
           "model: backward needs a folded graph (no ghosts)");
  NH_CALL(grads_alloc(m, a));
  memset(a->dh, 0, a->hs * sizeof(double));
  memset(a->de, 0, a->es * sizeof(double));
  heads_backward(m, a, d_Pn, d_Pe, d_params);
  const double *dz = traces_backward(m, g, a, d_Tn, d_Te, d_params);
  for (int l = m->hp.layers - 1; l >= 0; l--)
    NH_CALL(layer_backward(m, g, a, l, l == m->hp.layers - 1 ? dz : NULL,
                           d_params));
  NH_CALL(inputs_backward(m, g, a, d_params, d_node_in, d_edge_in));
  return NH_OK;
}
