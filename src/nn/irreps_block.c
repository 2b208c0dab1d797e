/* Orbital blocks <-> irreps through the real CG table, and the padding of
 * element shell sets to a model's union shell set. */
#include <stdlib.h>
#include <string.h>

#include "nextham/irreps.h"

static nh_err check_pair(const nh_irreps_cg *cg, int l1, int l2) {
  NH_CHECK(l1 >= 0 && l2 >= 0 && l1 <= cg->lmax_in && l2 <= cg->lmax_in &&
               l1 + l2 <= cg->lmax_out,
           NH_ERR_ARG,
           "orbital block (l1 = %d, l2 = %d) needs a CG table with lmax_in >= %d "
           "and lmax_out >= %d (have %d, %d)",
           l1, l2, l1 > l2 ? l1 : l2, l1 + l2, cg->lmax_in, cg->lmax_out);
  return NH_OK;
}

nh_err nh_irreps_block_to_irreps(const nh_irreps_cg *cg, int l1, int l2,
                                 const double *B, int ldb, double *b) {
  NH_CALL(check_pair(cg, l1, l2));
  double *bl = b;
  for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
    const int t = nh_irreps_cg_triple(cg, l1, l2, L);
    for (int M = 0; M < 2 * L + 1; M++)
      bl[M] = 0.0;
    for (int i = cg->start[t]; i < cg->start[t + 1]; i++)
      bl[cg->mm[i]] += cg->val[i] * B[cg->m1[i] * ldb + cg->m2[i]];
    bl += 2 * L + 1;
  }
  return NH_OK;
}

nh_err nh_irreps_irreps_to_block(const nh_irreps_cg *cg, int l1, int l2,
                                 const double *b, double *B, int ldb) {
  NH_CALL(check_pair(cg, l1, l2));
  for (int m1 = 0; m1 < 2 * l1 + 1; m1++)
    for (int m2 = 0; m2 < 2 * l2 + 1; m2++)
      B[m1 * ldb + m2] = 0.0;
  const double *bl = b;
  for (int L = abs(l1 - l2); L <= l1 + l2; L++) {
    const int t = nh_irreps_cg_triple(cg, l1, l2, L);
    for (int i = cg->start[t]; i < cg->start[t + 1]; i++)
      B[cg->m1[i] * ldb + cg->m2[i]] += cg->val[i] * bl[cg->mm[i]];
    bl += 2 * L + 1;
  }
  return NH_OK;
}

/* ------------------------------------------------------------------------- */

/* Validates the shell lists and fills the union multiplicities per l. */
static nh_err union_counts(nh_irreps_pad *pad, const int *nshell,
                           const int *const *shell_l) {
  for (int e = 0; e < pad->nelem; e++) {
    int cnt[NH_IRREPS_LMAX + 1] = {0};
    NH_CHECK(nshell[e] >= 0, NH_ERR_ARG, "element %d has %d shells", e,
             nshell[e]);
    for (int s = 0; s < nshell[e]; s++) {
      const int l = shell_l[e][s];
      NH_CHECK(l >= 0 && l <= NH_IRREPS_LMAX, NH_ERR_INPUT,
               "element %d, shell %d has l = %d; the network supports 0..%d",
               e, s, l, NH_IRREPS_LMAX);
      cnt[l]++;
    }
    for (int l = 0; l <= NH_IRREPS_LMAX; l++)
      if (cnt[l] > pad->nshell_l[l])
        pad->nshell_l[l] = cnt[l];
  }
  return NH_OK;
}

/* Union shells ordered by l; first[l] is the first union shell of l. */
static nh_err union_layout(nh_irreps_pad *pad, int first[NH_IRREPS_LMAX + 1]) {
  pad->lmax = 0;
  for (int l = 0; l <= NH_IRREPS_LMAX; l++) {
    first[l] = pad->nshell;
    pad->nshell += pad->nshell_l[l];
    if (pad->nshell_l[l])
      pad->lmax = l;
  }
  NH_CALL(nh_malloc(pad->nshell * sizeof(int), &pad->shell_l));
  NH_CALL(nh_malloc(pad->nshell * sizeof(int), &pad->shell_off));
  for (int l = 0, s = 0; l <= NH_IRREPS_LMAX; l++)
    for (int k = 0; k < pad->nshell_l[l]; k++, s++) {
      pad->shell_l[s] = l;
      pad->shell_off[s] = pad->norb;
      pad->norb += 2 * l + 1;
    }
  return NH_OK;
}

/* Per-element maps: the k-th shell of l goes to union shell first[l] + k. */
static nh_err element_maps(nh_irreps_pad *pad, const int *nshell,
                           const int *const *shell_l,
                           const int first[NH_IRREPS_LMAX + 1]) {
  const int ne = pad->nelem;
  NH_CALL(nh_malloc((ne + 1) * sizeof(int), &pad->elem_shell_off));
  NH_CALL(nh_malloc((ne + 1) * sizeof(int), &pad->elem_orb_off));
  pad->elem_shell_off[0] = pad->elem_orb_off[0] = 0;
  for (int e = 0; e < ne; e++) {
    int norb = 0;
    for (int s = 0; s < nshell[e]; s++)
      norb += 2 * shell_l[e][s] + 1;
    pad->elem_shell_off[e + 1] = pad->elem_shell_off[e] + nshell[e];
    pad->elem_orb_off[e + 1] = pad->elem_orb_off[e] + norb;
  }
  NH_CALL(nh_malloc((pad->elem_shell_off[ne] + 1) * sizeof(int), &pad->shell_slot));
  NH_CALL(nh_malloc((pad->elem_orb_off[ne] + 1) * sizeof(int), &pad->orb_slot));
  NH_CALL(nh_calloc((size_t)ne * pad->norb + 1, 1, &pad->mask));
  NH_CALL(nh_calloc((size_t)ne * pad->nshell + 1, 1, &pad->shell_mask));
  for (int e = 0; e < ne; e++) {
    int seen[NH_IRREPS_LMAX + 1] = {0};
    int *ss = pad->shell_slot + pad->elem_shell_off[e];
    int *os = pad->orb_slot + pad->elem_orb_off[e];
    for (int s = 0, o = 0; s < nshell[e]; s++) {
      const int l = shell_l[e][s], u = first[l] + seen[l]++;
      ss[s] = u;
      pad->shell_mask[(size_t)e * pad->nshell + u] = 1;
      for (int m = 0; m < 2 * l + 1; m++, o++) {
        os[o] = pad->shell_off[u] + m;
        pad->mask[(size_t)e * pad->norb + os[o]] = 1;
      }
    }
  }
  return NH_OK;
}

nh_err nh_irreps_pad_create(int nelem, const int *nshell,
                            const int *const *shell_l, nh_irreps_pad **out) {
  NH_CHECK(nelem > 0, NH_ERR_ARG, "padding needs at least one element");
  nh_err err = NH_OK;
  nh_irreps_pad *pad = NULL;
  int first[NH_IRREPS_LMAX + 1];
  NH_CALL(nh_calloc(1, sizeof(*pad), &pad));
  pad->nelem = nelem;
  NH_CALL_GOTO(union_counts(pad, nshell, shell_l), fail);
  NH_CALL_GOTO(union_layout(pad, first), fail);
  NH_CALL_GOTO(element_maps(pad, nshell, shell_l, first), fail);
  *out = pad;
  return NH_OK;
fail:
  nh_irreps_pad_destroy(&pad);
  return err;
}

void nh_irreps_pad_destroy(nh_irreps_pad **pad) {
  if (!pad || !*pad)
    return;
  nh_irreps_pad *p = *pad;
  nh_free(&p->shell_l);
  nh_free(&p->shell_off);
  nh_free(&p->elem_shell_off);
  nh_free(&p->shell_slot);
  nh_free(&p->elem_orb_off);
  nh_free(&p->orb_slot);
  nh_free(&p->mask);
  nh_free(&p->shell_mask);
  nh_free(pad);
}

static nh_err check_elems(const nh_irreps_pad *pad, int e1, int e2) {
  NH_CHECK(e1 >= 0 && e2 >= 0 && e1 < pad->nelem && e2 < pad->nelem,
           NH_ERR_ARG, "element pair (%d, %d) outside 0..%d", e1, e2,
           pad->nelem - 1);
  return NH_OK;
}

nh_err nh_irreps_pad_scatter(const nh_irreps_pad *pad, int e1, int e2,
                             const double *B, int ldb, double *P) {
  NH_CALL(check_elems(pad, e1, e2));
  const int n1 = pad->elem_orb_off[e1 + 1] - pad->elem_orb_off[e1];
  const int n2 = pad->elem_orb_off[e2 + 1] - pad->elem_orb_off[e2];
  const int *s1 = pad->orb_slot + pad->elem_orb_off[e1];
  const int *s2 = pad->orb_slot + pad->elem_orb_off[e2];
  memset(P, 0, (size_t)pad->norb * pad->norb * sizeof(double));
  for (int i = 0; i < n1; i++)
    for (int j = 0; j < n2; j++)
      P[(size_t)s1[i] * pad->norb + s2[j]] = B[(size_t)i * ldb + j];
  return NH_OK;
}

nh_err nh_irreps_pad_gather(const nh_irreps_pad *pad, int e1, int e2,
                            const double *P, double *B, int ldb) {
  NH_CALL(check_elems(pad, e1, e2));
  const int n1 = pad->elem_orb_off[e1 + 1] - pad->elem_orb_off[e1];
  const int n2 = pad->elem_orb_off[e2 + 1] - pad->elem_orb_off[e2];
  const int *s1 = pad->orb_slot + pad->elem_orb_off[e1];
  const int *s2 = pad->orb_slot + pad->elem_orb_off[e2];
  for (int i = 0; i < n1; i++)
    for (int j = 0; j < n2; j++)
      B[(size_t)i * ldb + j] = P[(size_t)s1[i] * pad->norb + s2[j]];
  return NH_OK;
}

/* ------------------------------------------------------------------------- */

/* out (n1×n2, stride ldo) = A (n1×n1) B (n1×n2, stride ldb) Cᵀ (n2×n2). */
static void rotate_one(const double *A, int n1, const double *C, int n2,
                       const double *B, int ldb, double *out, int ldo) {
  enum { N = 2 * NH_IRREPS_LMAX + 1 };
  double T[N * N];
  for (int i = 0; i < n1; i++)
    for (int j = 0; j < n2; j++) {
      double s = 0.0;
      for (int k = 0; k < n1; k++)
        s += A[i * n1 + k] * B[k * ldb + j];
      T[i * N + j] = s;
    }
  for (int i = 0; i < n1; i++)
    for (int j = 0; j < n2; j++) {
      double s = 0.0;
      for (int k = 0; k < n2; k++)
        s += T[i * N + k] * C[j * n2 + k];
      out[i * ldo + j] = s;
    }
}

nh_err nh_irreps_block_rotate(const double *D, int lmax, int nr, const int *lr,
                              int nc, const int *lc, const double *B, int ldb,
                              double *out, int ldo) {
  for (int s = 0; s < nr; s++)
    NH_CHECK(lr[s] >= 0 && lr[s] <= lmax, NH_ERR_ARG,
             "row shell %d has l = %d, beyond the Wigner array (lmax %d)", s,
             lr[s], lmax);
  for (int s = 0; s < nc; s++)
    NH_CHECK(lc[s] >= 0 && lc[s] <= lmax, NH_ERR_ARG,
             "column shell %d has l = %d, beyond the Wigner array (lmax %d)", s,
             lc[s], lmax);
  for (int s1 = 0, o1 = 0; s1 < nr; o1 += 2 * lr[s1] + 1, s1++)
    for (int s2 = 0, o2 = 0; s2 < nc; o2 += 2 * lc[s2] + 1, s2++)
      rotate_one(D + nh_irreps_wigner_off(lr[s1]), 2 * lr[s1] + 1,
                 D + nh_irreps_wigner_off(lc[s2]), 2 * lc[s2] + 1,
                 B + (size_t)o1 * ldb + o2, ldb, out + (size_t)o1 * ldo + o2, ldo);
  return NH_OK;
}
