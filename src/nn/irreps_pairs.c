/* Irreps of a whole padded block, grouped by kind (L, parity): the bridge
 * between padded H0/S/ΔH blocks and the network's equivariant features. */
#include <stdlib.h>
#include <string.h>

#include "nextham/irreps.h"

enum { NKIND_MAX = 2 * (NH_IRREPS_LMAX + 1), LSTRIDE = NH_IRREPS_LMAX + 1 };

/* Kind slot of (L, parity): even before odd within each L. */
static int kind_slot(int L, int parity) { return 2 * L + (parity < 0); }

/* Multiplicity of every kind slot, then kinds in slot order with offsets. */
static void count_kinds(nh_irreps_pairs *pp, int slot_kind[NKIND_MAX]) {
  int smul[NKIND_MAX] = {0};
  for (int s1 = 0; s1 < pp->nshell; s1++)
    for (int s2 = 0; s2 < pp->nshell; s2++) {
      const int l1 = pp->shell_l[s1], l2 = pp->shell_l[s2];
      for (int L = abs(l1 - l2); L <= l1 + l2; L++)
        smul[kind_slot(L, nh_irreps_parity(l1, l2))]++;
    }
  pp->nkind = pp->dim = 0;
  pp->chan[0] = 0;
  for (int sl = 0; sl < NKIND_MAX; sl++) {
    slot_kind[sl] = -1;
    if (!smul[sl])
      continue;
    const int k = pp->nkind++, L = sl / 2;
    slot_kind[sl] = k;
    pp->kind_L[k] = L;
    pp->kind_parity[k] = sl % 2 ? -1 : 1;
    pp->mul[k] = smul[sl];
    pp->off[k] = pp->dim;
    pp->dim += smul[sl] * (2 * L + 1);
    pp->chan[k + 1] = pp->chan[k] + smul[sl];
  }
}

/* Channels of each kind in row-major (s1, s2) order. */
static void assign_channels(nh_irreps_pairs *pp, const int slot_kind[NKIND_MAX]) {
  int next[NKIND_MAX] = {0};
  for (int s1 = 0; s1 < pp->nshell; s1++)
    for (int s2 = 0; s2 < pp->nshell; s2++) {
      const int l1 = pp->shell_l[s1], l2 = pp->shell_l[s2];
      for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
        const int k = slot_kind[kind_slot(L, nh_irreps_parity(l1, l2))];
        const int c = next[k]++;
        pp->chan_s1[pp->chan[k] + c] = s1;
        pp->chan_s2[pp->chan[k] + c] = s2;
        pp->pair_off[(s1 * pp->nshell + s2) * LSTRIDE + L] =
            pp->off[k] + c * (2 * L + 1);
      }
    }
}

nh_err nh_irreps_pairs_create(const nh_irreps_pad *pad, const nh_irreps_cg *cg,
                              nh_irreps_pairs **out) {
  NH_CHECK(cg->lmax_in >= pad->lmax && cg->lmax_out >= 2 * pad->lmax,
           NH_ERR_ARG,
           "shells up to l = %d need a CG table with lmax_in >= %d and "
           "lmax_out >= %d (have %d, %d)",
           pad->lmax, pad->lmax, 2 * pad->lmax, cg->lmax_in, cg->lmax_out);
  nh_err err = NH_OK;
  nh_irreps_pairs *pp = NULL;
  int slot_kind[NKIND_MAX];
  NH_CALL(nh_calloc(1, sizeof(*pp), &pp));
  pp->cg = cg;
  pp->norb = pad->norb;
  pp->nshell = pad->nshell;
  const size_t ns = pad->nshell, npair = ns * ns;
  NH_CALL_GOTO(nh_malloc(ns * sizeof(int), &pp->shell_l), fail);
  NH_CALL_GOTO(nh_malloc(ns * sizeof(int), &pp->shell_off), fail);
  memcpy(pp->shell_l, pad->shell_l, ns * sizeof(int));
  memcpy(pp->shell_off, pad->shell_off, ns * sizeof(int));
  count_kinds(pp, slot_kind);
  NH_CALL_GOTO(nh_malloc(pp->chan[pp->nkind] * sizeof(int), &pp->chan_s1), fail);
  NH_CALL_GOTO(nh_malloc(pp->chan[pp->nkind] * sizeof(int), &pp->chan_s2), fail);
  NH_CALL_GOTO(nh_malloc(npair * LSTRIDE * sizeof(int), &pp->pair_off), fail);
  assign_channels(pp, slot_kind);
  NH_CHECK_GOTO(pp->dim == pad->norb * pad->norb, fail, NH_ERR_INTERNAL,
                "pair irreps hold %d numbers for %d padded orbitals", pp->dim,
                pad->norb);
  *out = pp;
  return NH_OK;
fail:
  nh_irreps_pairs_destroy(&pp);
  return err;
}

void nh_irreps_pairs_destroy(nh_irreps_pairs **pairs) {
  if (!pairs || !*pairs)
    return;
  nh_free(&(*pairs)->chan_s1);
  nh_free(&(*pairs)->chan_s2);
  nh_free(&(*pairs)->shell_l);
  nh_free(&(*pairs)->shell_off);
  nh_free(&(*pairs)->pair_off);
  nh_free(pairs);
}

void nh_irreps_pairs_to_features(const nh_irreps_pairs *pp, const double *P,
                                 double *f) {
  const nh_irreps_cg *cg = pp->cg;
  const int n = pp->norb;
  for (int s1 = 0; s1 < pp->nshell; s1++)
    for (int s2 = 0; s2 < pp->nshell; s2++) {
      const int l1 = pp->shell_l[s1], l2 = pp->shell_l[s2];
      const double *B = P + (size_t)pp->shell_off[s1] * n + pp->shell_off[s2];
      const int *po = pp->pair_off + (s1 * pp->nshell + s2) * LSTRIDE;
      for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
        const int t = nh_irreps_cg_triple(cg, l1, l2, L);
        double *b = f + po[L];
        for (int M = 0; M < 2 * L + 1; M++)
          b[M] = 0.0;
        for (int i = cg->start[t]; i < cg->start[t + 1]; i++)
          b[cg->mm[i]] += cg->val[i] * B[cg->m1[i] * n + cg->m2[i]];
      }
    }
}

void nh_irreps_pairs_to_block(const nh_irreps_pairs *pp, const double *f,
                              double *P) {
  const nh_irreps_cg *cg = pp->cg;
  const int n = pp->norb;
  memset(P, 0, (size_t)n * n * sizeof(double));
  for (int s1 = 0; s1 < pp->nshell; s1++)
    for (int s2 = 0; s2 < pp->nshell; s2++) {
      const int l1 = pp->shell_l[s1], l2 = pp->shell_l[s2];
      double *B = P + (size_t)pp->shell_off[s1] * n + pp->shell_off[s2];
      const int *po = pp->pair_off + (s1 * pp->nshell + s2) * LSTRIDE;
      for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
        const int t = nh_irreps_cg_triple(cg, l1, l2, L);
        const double *b = f + po[L];
        for (int i = cg->start[t]; i < cg->start[t + 1]; i++)
          B[cg->m1[i] * n + cg->m2[i]] += cg->val[i] * b[cg->mm[i]];
      }
    }
}
