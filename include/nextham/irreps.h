/* nextham nn: the irreps toolkit. Real spherical harmonics, real
 * Clebsch–Gordan coefficients, real Wigner D matrices, the decomposition of
 * orbital blocks into irreducible parts, and the padding of element shell
 * sets to a model's union shell set. Everything is in CP2K's real basis
 * (docs/irreps.md, /work/shared/cp2k/CONVENTIONS.md §2–3):
 *   m = -l..l, m > 0 cos-type, m < 0 sin-type, no Condon–Shortley phase,
 *   p = (y, z, x).
 * Flat arrays over l = 0..lmax hold entry (l, m) at nh_irreps_idx(l, m) =
 * l² + l + m; Wigner blocks D^l sit at nh_irreps_wigner_off(l) as row-major
 * (2l+1)×(2l+1) matrices. */
#ifndef NEXTHAM_IRREPS_H
#define NEXTHAM_IRREPS_H

#include "nextham/core.h"

#define NH_IRREPS_LMAX 8 /* largest l of harmonics, D matrices and CG L */

static inline int nh_irreps_idx(int l, int m) { return l * l + l + m; }
/* Σ_{l'<l} (2l'+1)²: offset of D^l in a Wigner array; the size for lmax
 * is nh_irreps_wigner_off(lmax + 1). */
static inline int nh_irreps_wigner_off(int l) {
  return l * (2 * l - 1) * (2 * l + 1) / 3;
}
/* Parity of the irreps of an (l1, l2) orbital block under inversion. */
static inline int nh_irreps_parity(int l1, int l2) {
  return (l1 + l2) % 2 ? -1 : 1;
}

/* ---------------------------------------------------------------------------
 * Real spherical harmonics, normalised to ∫ Y_lm Y_l'm' dΩ = δ_ll' δ_mm'.
 * Relation to CP2K's angular factors: Y_lm(r̂) = √((2l+1)!!/(4π)) P_lm(r̂).
 * ------------------------------------------------------------------------- */
/* Y[(lmax+1)²] = Y_lm(r/|r|) and, when dY is not NULL, dY[3·idx + k] =
 * ∂Y_idx/∂r_k, the gradient with respect to the unnormalised r (tangential,
 * scaling as 1/|r|). Fails for lmax outside 0..8 and for r = 0. */
nh_err nh_irreps_sph(int lmax, const double r[3], double *Y, double *dY);
/* Solid harmonics R_lm(r) = |r|^l Y_lm(r/|r|) (polynomials, defined at
 * r = 0 too) and, when dR is not NULL, their gradients dR[3·idx + k]. */
nh_err nh_irreps_solid(int lmax, const double r[3], double *R, double *dR);

/* ---------------------------------------------------------------------------
 * Real Wigner D: D^l(R) Y_l(r̂) = Y_l(R r̂) for a 3×3 orthogonal R (row-major).
 * D^1(R) is R with rows and columns permuted to (y, z, x). Improper R = -R'
 * gives (-1)^l D^l(R'). Computed by the Ivanic–Ruedenberg recursion in the
 * real basis (no Euler angles, no allocation). D must hold
 * nh_irreps_wigner_off(lmax + 1) doubles. Fails unless R Rᵀ = I to 1e-8.
 * ------------------------------------------------------------------------- */
nh_err nh_irreps_wigner(int lmax, const double R[9], double *D);
/* A proper rotation R (row-major) with R r̂ = ẑ, the axis of m = 0, exact
 * to rounding for every direction: the shortest rotation about r̂ × ẑ for
 * r̂_z >= 0, that rotation of (x, -y, -z) composed with π about x for
 * r̂_z < 0. The roll about ẑ is a convention (it jumps at the equator), so
 * layers in this frame must be SO(2)-equivariant. D^l(R) turns edge
 * features into the frame and D^l(R)ᵀ back. Fails for r = 0. */
nh_err nh_irreps_edge_frame(const double r[3], double R[9]);

/* ---------------------------------------------------------------------------
 * Real Clebsch–Gordan coefficients C^{LM}_{l1 m1 l2 m2} for l1, l2 <= lmax_in
 * and |l1-l2| <= L <= min(l1+l2, lmax_out), stored sparsely: the nonzeros of
 * triple (l1, l2, L) are entries start[t] .. start[t+1]-1 with
 * t = nh_irreps_cg_triple(cg, l1, l2, L); m1, m2, M are stored shifted by
 * +l1, +l2, +L (0-based row indices). For each (l1, l2) with l1+l2 <= lmax_out
 * the (2l1+1)(2l2+1) square matrix [(L,M), (m1,m2)] is orthogonal. They are
 * the Condon–Shortley complex coefficients taken through the unitary
 * complex -> real map, with the phase -i on blocks with l1+l2+L odd, so that
 * Σ C Y_l1 Y_l2 = √((2l1+1)(2l2+1)/(4π(2L+1))) <l1 0 l2 0|L 0> Y_L and
 * C^{LM}_{l2 m2 l1 m1} = (-1)^{l1+l2-L} C^{LM}_{l1 m1 l2 m2}.
 * ------------------------------------------------------------------------- */
typedef struct nh_irreps_cg {
  int lmax_in, lmax_out;
  int *start;                  /* [ntriple + 1] */
  unsigned char *m1, *m2, *mm; /* [nnz] m1+l1, m2+l2, M+L */
  double *val;                 /* [nnz] */
  int nnz;
} nh_irreps_cg;

nh_err nh_irreps_cg_create(int lmax_in, int lmax_out, nh_irreps_cg **cg);
void nh_irreps_cg_destroy(nh_irreps_cg **cg);
static inline int nh_irreps_cg_triple(const nh_irreps_cg *cg, int l1, int l2,
                                      int L) {
  return (l1 * (cg->lmax_in + 1) + l2) * (cg->lmax_out + 1) + L;
}
/* One coefficient (0 outside the selection rules); a linear scan, for tests
 * and set-up code, not for inner loops. */
double nh_irreps_cg_get(const nh_irreps_cg *cg, int l1, int m1, int l2, int m2,
                        int L, int M);

/* ---------------------------------------------------------------------------
 * Orbital block <-> irreps. B is a (2l1+1)×(2l2+1) block in CP2K order, row
 * stride ldb; b holds (2l1+1)(2l2+1) numbers: b_L for L = |l1-l2| .. l1+l2 in
 * turn, each 2L+1 long, b_LM = Σ C^{LM}_{l1 m1 l2 m2} B_{m1 m2}. Every b_L has
 * parity nh_irreps_parity(l1, l2). The two maps are transposes and inverses
 * of each other (so each is the other's backward pass). A rotated block
 * D^{l1} B D^{l2}ᵀ gives D^L b_L; the transposed block Bᵀ (l2, l1) gives
 * (-1)^{l1+l2-L} b_L. Needs l1, l2 <= cg->lmax_in, l1 + l2 <= cg->lmax_out.
 * ------------------------------------------------------------------------- */
nh_err nh_irreps_block_to_irreps(const nh_irreps_cg *cg, int l1, int l2,
                                 const double *B, int ldb, double *b);
nh_err nh_irreps_irreps_to_block(const nh_irreps_cg *cg, int l1, int l2,
                                 const double *b, double *B, int ldb);

/* Rotates an orbital block shell pair by shell pair: out = D^{l_r} B D^{l_c}ᵀ
 * for row shells lr[0..nr-1] and column shells lc[0..nc-1] (l values in
 * order, CP2K layout inside each shell). D is a Wigner array with
 * lmax >= every l. out may be B (in place). For tests of equivariance and
 * for rotating whole atom-pair blocks; no allocation. */
nh_err nh_irreps_block_rotate(const double *D, int lmax, int nr, const int *lr,
                              int nc, const int *lc, const double *B, int ldb,
                              double *out, int ldo);

/* ---------------------------------------------------------------------------
 * Padding of element shell sets to the model's union shell set. The union
 * has, for each l, as many shells as the element with most shells of that l;
 * it is ordered by l, then by the rank of the shell among those of its l in
 * the element (the k-th p shell of any element goes to union p shell k).
 * Padded orbitals: union shells in order, m = -l..l inside each.
 * ------------------------------------------------------------------------- */
typedef struct nh_irreps_pad {
  int nelem;
  int lmax;                          /* largest l of the union       */
  int nshell_l[NH_IRREPS_LMAX + 1];  /* union shells per l           */
  int nshell;                        /* union shells                 */
  int *shell_l;                      /* [nshell] l of union shell    */
  int *shell_off;                    /* [nshell] first padded orbital */
  int norb;                          /* padded orbitals              */
  int *elem_shell_off;  /* [nelem+1] element e's shells in shell_slot */
  int *shell_slot;      /* union shell of each element shell           */
  int *elem_orb_off;    /* [nelem+1] element e's orbitals in orb_slot   */
  int *orb_slot;        /* padded orbital of each element orbital       */
  unsigned char *mask;  /* [nelem·norb] 1 where element e has the orbital */
  unsigned char *shell_mask; /* [nelem·nshell] 1 where e has the shell  */
} nh_irreps_pad;

/* shell_l[e][0..nshell[e]-1] are element e's shell l values in CP2K order. */
nh_err nh_irreps_pad_create(int nelem, const int *nshell,
                            const int *const *shell_l, nh_irreps_pad **pad);
void nh_irreps_pad_destroy(nh_irreps_pad **pad);
/* Orbital block B (element e1 rows × e2 columns, stride ldb) into the padded
 * norb×norb block P (row-major, zero where masked), and back. */
nh_err nh_irreps_pad_scatter(const nh_irreps_pad *pad, int e1, int e2,
                             const double *B, int ldb, double *P);
nh_err nh_irreps_pad_gather(const nh_irreps_pad *pad, int e1, int e2,
                            const double *P, double *B, int ldb);

/* ---------------------------------------------------------------------------
 * Irreps of a whole padded block: every union shell pair (s1, s2) gives b_L,
 * L = |l1-l2|..l1+l2, of parity (-1)^{l1+l2}. They are grouped by kind
 * (L, parity), ordered by L and even before odd; kind k holds mul[k]
 * channels of 2L+1 numbers at off[k] + c (2L+1) + (M+L) of a feature vector
 * of dim = norb² numbers. The channels of a kind come from the pairs
 * (s1, s2) in row-major order; chan_s1/chan_s2[chan[k] + c] name them (to
 * build masks per element pair from pad->shell_mask). The CG table must
 * outlive the object and have lmax_in >= pad->lmax, lmax_out >= 2 pad->lmax.
 * ------------------------------------------------------------------------- */
typedef struct nh_irreps_pairs {
  const nh_irreps_cg *cg;
  int norb, nshell;
  int nkind;
  int kind_L[2 * (NH_IRREPS_LMAX + 1)], kind_parity[2 * (NH_IRREPS_LMAX + 1)];
  int mul[2 * (NH_IRREPS_LMAX + 1)], off[2 * (NH_IRREPS_LMAX + 1)];
  int chan[2 * (NH_IRREPS_LMAX + 1) + 1]; /* first channel of kind k      */
  int *chan_s1, *chan_s2;                 /* [chan[nkind]] shell pair      */
  int *shell_l, *shell_off;               /* copies of the pad's           */
  int *pair_off; /* [nshell²·(NH_IRREPS_LMAX+1)]: feature offset of b_L of
                    pair (s1, s2) at (s1·nshell + s2)·(LMAX+1) + L       */
  int dim;
} nh_irreps_pairs;

nh_err nh_irreps_pairs_create(const nh_irreps_pad *pad, const nh_irreps_cg *cg,
                              nh_irreps_pairs **pairs);
void nh_irreps_pairs_destroy(nh_irreps_pairs **pairs);
/* Padded norb×norb block P (row-major) -> features f[dim], and back; the
 * two maps are orthogonal transposes of each other (each is the other's
 * backward pass). A padded block rotated by nh_irreps_block_rotate with
 * pad->shell_l on both sides gives features rotated by D^L in each channel,
 * times parity·(-1)^L for improper R. */
void nh_irreps_pairs_to_features(const nh_irreps_pairs *pairs, const double *P,
                                 double *f);
void nh_irreps_pairs_to_block(const nh_irreps_pairs *pairs, const double *f,
                              double *P);

#endif
