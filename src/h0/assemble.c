/* The analytic parts of H0 over the distributed neighbour graph
 * (docs/h0.md): S and T blocks per atom pair, the GTH non-local term
 * V_nl = sum_a <phi_i|p_a> h_a <p_a|phi_j> from projector overlaps
 * computed once per (basis atom, projector atom) pair, and for checks the
 * Gaussian part of V_loc as three-centre integrals.
 *
 * Geometry: every integral is computed in coordinates relative to one
 * centre (the atom i of an S/T pair, the projector atom a of V_nl), from
 * the displacement vectors of the neighbour list, which are the same on
 * every rank: results do not depend on where an atom sits in the domain. */
#include <inttypes.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "nextham/h0.h"
#include "nextham/neighbor.h"

void nh_h0_opts_default(nh_h0_opts *o) {
  o->eps = 1e-12;
  o->screen = NH_INT_EXACT;
  o->eps_pgf_orb = 1e-6;
}

/* ---------------------------------------------------------------------------
 * Species: basis, potential and prepared shells per element
 * ------------------------------------------------------------------------- */

static nh_err species_element(nh_h0_species *sp, int z, const char *bfile,
                              const char *bname, const char *pfile,
                              const char *pname, double eps_pgf_orb) {
  NH_CALL(nh_basis_load(sp->basis, z, bfile, bname));
  NH_CALL(nh_basis_load_potential(sp->basis, z, pfile, pname));
  NH_CALL(nh_malloc(sizeof *sp->gth[z], &sp->gth[z]));
  NH_CALL(nh_gth_load(sp->gth[z], z, pfile, pname));
  const nh_element_basis *eb = sp->basis->elem[z];
  NH_CALL(nh_calloc((size_t)eb->nshell, sizeof(nh_int_shell), &sp->shell[z]));
  NH_CALL(nh_int_prepare(eb->shells, eb->nshell, eps_pgf_orb, sp->shell[z]));
  NH_CALL(nh_calloc(NH_INT_GTH_MAXPROJ, sizeof(nh_int_shell), &sp->proj[z]));
  NH_CALL(nh_int_gth_projectors(sp->gth[z], sp->proj[z], &sp->nproj[z],
                                &sp->nprojfun[z]));
  return NH_OK;
}

nh_err nh_h0_species_load(const nh_structure *s, const nh_h0_basis_opts *o,
                          double eps_pgf_orb, nh_h0_species **out) {
  nh_h0_species *sp;
  nh_err err = NH_OK;
  NH_CALL(nh_calloc(1, sizeof *sp, &sp));
  NH_CALL_GOTO(nh_basis_create(&sp->basis), fail);
  for (int a = 0; a < s->natoms; a++) sp->present[s->z[a]] = 1;
  for (int z = 1; z <= NH_MAX_Z; z++) {
    if (!sp->present[z]) continue;
    const char *bname = o->basis, *pname = o->potential;
    for (int c = 0; c < o->nchoice; c++)
      if (o->choice[c].z == z) {
        if (o->choice[c].basis[0]) bname = o->choice[c].basis;
        if (o->choice[c].potential[0]) pname = o->choice[c].potential;
      }
    NH_CALL_GOTO(species_element(sp, z, o->file, bname, o->potential_file,
                                 pname, eps_pgf_orb),
                 fail);
  }
  *out = sp;
  return NH_OK;
fail:
  nh_h0_species_destroy(&sp);
  return err;
}

nh_err nh_h0_species_destroy(nh_h0_species **sp) {
  if (!sp || !*sp) return NH_OK;
  for (int z = 0; z <= NH_MAX_Z; z++) {
    nh_free(&(*sp)->gth[z]);
    nh_free(&(*sp)->shell[z]);
    nh_free(&(*sp)->proj[z]);
  }
  nh_basis_destroy(&(*sp)->basis);
  nh_free(sp);
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Cut-offs
 * ------------------------------------------------------------------------- */

/* Per element pair, bohr. rnl[zb][za]: basis of zb with projectors of za;
 * rloc likewise for V_loc,Gauss of za. */
typedef struct range_tables {
  double rst[NH_MAX_Z + 1][NH_MAX_Z + 1];
  double rnl[NH_MAX_Z + 1][NH_MAX_Z + 1];
  double rloc[NH_MAX_Z + 1][NH_MAX_Z + 1];
} range_tables;

/* Distance beyond which every basis function of element z is below eps:
 * |phi| <= g_l sum_p |d_p| r^l exp(-zeta_p r^2), each of nprim terms below
 * eps / nprim. */
static double basis_radius(const nh_h0_species *sp, int z, double eps) {
  const nh_element_basis *eb = sp->basis->elem[z];
  double r = 0.0;
  for (int s = 0; s < eb->nshell; s++) {
    const nh_int_shell *sh = &sp->shell[z][s];
    for (int p = 0; p < sh->nprim; p++)
      r = fmax(r, nh_int_prim_radius(sh->l, sh->exps[p], fabs(sh->coef[p]),
                                     eps / sh->nprim));
  }
  return r;
}

static void ranges_fill(const nh_h0_species *sp, const nh_h0_opts *o,
                        int parts, range_tables *rt, nh_h0_ranges *r) {
  memset(r, 0, sizeof *r);
  for (int za = 1; za <= NH_MAX_Z; za++) {
    if (!sp->present[za]) continue;
    int na = sp->basis->elem[za]->nshell;
    double rl, rn;
    nh_int_gth_radii(sp->gth[za], o->eps, &rl, &rn);
    for (int zb = 1; zb <= NH_MAX_Z; zb++) {
      if (!sp->present[zb]) continue;
      int nb = sp->basis->elem[zb]->nshell;
      double rst = 0, rnl = 0, rloc = 0;
      if (parts & (NH_H0_S | NH_H0_T | NH_H0_VLOC))
        rst = nh_int_atoms_radius(sp->shell[za], na, sp->shell[zb], nb,
                                  (parts & NH_H0_T) ? NH_INT_OVERLAP | NH_INT_KINETIC
                                                    : NH_INT_OVERLAP,
                                  o->screen, o->eps);
      if ((parts & NH_H0_VNL) && sp->nproj[za])
        rnl = nh_int_atoms_radius(sp->shell[zb], nb, sp->proj[za],
                                  sp->nproj[za], NH_INT_OVERLAP, NH_INT_EXACT,
                                  o->eps);
      if ((parts & NH_H0_VLOC) && sp->gth[za]->nloc)
        rloc = basis_radius(sp, zb, o->eps) + rl;
      rt->rst[za][zb] = rst;
      rt->rnl[zb][za] = rnl;
      rt->rloc[zb][za] = rloc;
      r->rst_max = fmax(r->rst_max, rst);
      r->rnl_max = fmax(r->rnl_max, rnl);
      r->rloc_max = fmax(r->rloc_max, rloc);
    }
  }
  r->halo = fmax(r->rst_max, fmax(2 * r->rnl_max, 2 * r->rloc_max));
}

nh_err nh_h0_ranges_get(const nh_h0_species *sp, const nh_h0_opts *o,
                        int parts, nh_h0_ranges *r) {
  range_tables *rt;
  NH_CHECK(o->eps > 0 && o->eps < 1, NH_ERR_ARG, "h0: eps %g not in (0, 1)",
           o->eps);
  NH_CALL(nh_malloc(sizeof *rt, &rt));
  ranges_fill(sp, o, parts, rt, r);
  nh_free(&rt);
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Shared helpers
 * ------------------------------------------------------------------------- */

/* State of one assembly. */
typedef struct asm_ctx {
  const nh_domain *dom;
  const nh_ctx *ctx;
  const nh_atoms *at;
  const nh_h0_species *sp;
  const nh_h0_opts *o;
  range_tables *rt;
  nh_hmap zof; /* gid -> atomic number, for owned and ghost atoms */
  int maxnorb, maxpf;
  nh_int_work *w;
  double *b1, *b2, *b3; /* maxnorb^2 scratch blocks */
} asm_ctx;

static nh_err asm_init(asm_ctx *c, const nh_domain *dom,
                       const nh_h0_species *sp, const nh_h0_opts *o) {
  memset(c, 0, sizeof *c);
  c->dom = dom;
  c->ctx = nh_domain_ctx(dom);
  c->at = nh_domain_atoms(dom);
  c->sp = sp;
  c->o = o;
  int64_t nk = c->at->nlocal + c->at->nghost;
  NH_CALL(nh_hmap_init(&c->zof, (size_t)nk));
  for (int64_t k = 0; k < nk; k++) {
    int z = c->at->z[k];
    NH_CHECK(z >= 1 && z <= NH_MAX_Z && sp->present[z], NH_ERR_ARG,
             "h0: atom %" PRId64 " (Z = %d) has no basis", c->at->gid[k] + 1, z);
    NH_CALL(nh_hmap_put(&c->zof, (uint64_t)c->at->gid[k], 0, z));
    c->maxnorb = c->maxnorb > sp->basis->elem[z]->norb
                     ? c->maxnorb : sp->basis->elem[z]->norb;
    c->maxpf = c->maxpf > sp->nprojfun[z] ? c->maxpf : sp->nprojfun[z];
  }
  size_t nb = (size_t)c->maxnorb * c->maxnorb + 1;
  NH_CALL(nh_malloc(3 * nb * sizeof(double), &c->b1));
  c->b2 = c->b1 + nb;
  c->b3 = c->b2 + nb;
  NH_CALL(nh_int_work_create(&c->w));
  return NH_OK;
}

static void asm_free(asm_ctx *c) {
  nh_hmap_free(&c->zof);
  nh_free(&c->b1);
  nh_int_work_destroy(&c->w);
}

static int zof(const asm_ctx *c, int64_t gid) {
  return (int)nh_hmap_get(&c->zof, (uint64_t)gid, 0);
}

static int norb_z(const asm_ctx *c, int z) {
  return c->sp->basis->elem[z]->norb;
}

/* out (nc x nr) = in (nr x nc) transposed */
static void transpose(const double *in, int nr, int nc, double *out) {
  for (int r = 0; r < nr; r++)
    for (int k = 0; k < nc; k++) out[(size_t)k * nr + r] = in[(size_t)r * nc + k];
}

/* a square block made exactly symmetric: (A + A^T)/2 */
static void symmetrise(double *a, int n) {
  for (int r = 0; r < n; r++)
    for (int k = r + 1; k < n; k++) {
      double v = 0.5 * (a[r * n + k] + a[k * n + r]);
      a[r * n + k] = a[k * n + r] = v;
    }
}

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Collective: one line with the blocks computed, wall and CPU time of a
 * part (max over ranks), for benchmarks on shared machines. */
static nh_err report_part(const nh_ctx *ctx, const char *what, double nblk,
                          double wall0, double cpu0) {
  double loc[3] = {nblk, nh_wtime() - wall0, cpu_seconds() - cpu0}, sum[3],
         mx[3];
  NH_MPI(MPI_Allreduce(loc, sum, 3, MPI_DOUBLE, MPI_SUM, ctx->comm));
  NH_MPI(MPI_Allreduce(loc, mx, 3, MPI_DOUBLE, MPI_MAX, ctx->comm));
  nh_log(ctx, 1, "  %-6s %12.0f blocks computed, wall %.2f s, CPU %.2f s (max "
         "over ranks), %.2f s CPU summed\n", what, sum[0], mx[1], mx[2], sum[2]);
  return NH_OK;
}

/* sign of n in lexicographic order */
static int lexsign(const int n[3]) {
  for (int k = 0; k < 3; k++)
    if (n[k]) return n[k] > 0 ? 1 : -1;
  return 0;
}

/* ---------------------------------------------------------------------------
 * S and T: every block (i, j, n) on the owner of i, integrated in the
 * canonical orientation of its pair; the partner (j, i, -n) is the exact
 * transpose.
 * ------------------------------------------------------------------------- */

/* The orientation of a pair that is integrated: a checkerboard (i < j when
 * i + j is even, i > j when odd, as CP2K's); i = j takes n >= 0. */
static int canonical(const nh_pair *q) {
  if (q->i == q->j) return lexsign(q->n) >= 0;
  return ((q->i + q->j) % 2 == 0) == (q->i < q->j);
}
/* Positions as the domain's owners compute them: tau of every atom-table
 * row (the owner's CP2K-wrapped value, also for ghosts; a gid is found
 * with nh_domain_index) and the image position tau + n.A with the
 * domain's own formula. Both owners of a pair across a domain boundary
 * then integrate it with bitwise the same displacement. */
typedef struct tau_table {
  const nh_domain *dom;
  double (*tau)[3];
  double lat[3][3];
} tau_table;

static void tau_free(tau_table *t) { nh_free(&t->tau); }

static nh_err tau_init(const nh_domain *dom, tau_table *t) {
  const nh_atoms *at = nh_domain_atoms(dom);
  int64_t nat = at->nlocal + at->nghost;
  int pbc[3];
  memset(t, 0, sizeof *t);
  t->dom = dom;
  nh_domain_lattice(dom, t->lat, pbc);
  NH_CALL(nh_calloc((size_t)nat + 1, sizeof *t->tau, &t->tau));
  for (int64_t k = 0; k < at->nlocal; k++)
    memcpy(t->tau[k], at->x[k], sizeof t->tau[k]);
  NH_CALL(nh_domain_forward(dom, &t->tau[0][0], 3));
  return NH_OK;
}

/* d = (tau_j + n.A) - tau_i, as the neighbour list computes it. */
static void tau_disp(const tau_table *t, int64_t i, int64_t j, const int n[3],
                     double d[3]) {
  const double *ti = t->tau[nh_domain_index(t->dom, i)],
               *tj = t->tau[nh_domain_index(t->dom, j)];
  for (int c = 0; c < 3; c++)
    d[c] = (tj[c] + (n[0] * t->lat[0][c] + n[1] * t->lat[1][c] +
                     n[2] * t->lat[2][c])) - ti[c];
}

/* The S and T blocks of pair q (row atom owned here) into b1, b2. Only the
 * canonical orientation is integrated, with the displacement its own
 * owner uses; the other is its transpose. The partners (i, j, n) and
 * (j, i, -n), stored by the owners of i and j, are then exact transposes
 * and no block is sent (a pair across a domain boundary is integrated by
 * both owners). */
static nh_err st_block(asm_ctx *c, const tau_table *t, int ops,
                       const nh_pair *q, int zi, int zj) {
  const double zero[3] = {0, 0, 0};
  int ni = norb_z(c, zi), nj = norb_z(c, zj);
  if (canonical(q)) {
    NH_CALL(nh_int_atoms(c->w, ops, c->sp->shell[zi],
                         c->sp->basis->elem[zi]->nshell, zero,
                         c->sp->shell[zj], c->sp->basis->elem[zj]->nshell,
                         q->d, c->o->screen, c->b1, c->b2, nj));
    if (q->i == q->j && !lexsign(q->n)) {
      symmetrise(c->b1, ni);
      symmetrise(c->b2, ni);
    }
    return NH_OK;
  }
  const int mn[3] = {-q->n[0], -q->n[1], -q->n[2]};
  double d[3];
  tau_disp(t, q->j, q->i, mn, d);
  NH_CALL(nh_int_atoms(c->w, ops, c->sp->shell[zj],
                       c->sp->basis->elem[zj]->nshell, zero, c->sp->shell[zi],
                       c->sp->basis->elem[zi]->nshell, d, c->o->screen, c->b3,
                       c->b2, ni));
  if (ops & NH_INT_OVERLAP)
    transpose(c->b3, nj, ni, c->b1);
  if (ops & NH_INT_KINETIC) {
    memcpy(c->b3, c->b2, (size_t)ni * nj * sizeof *c->b3);
    transpose(c->b3, nj, ni, c->b2);
  }
  return NH_OK;
}

static nh_err part_st(asm_ctx *c, nh_mat *S, nh_mat *T, double rcut) {
  nh_neighbors *nl = NULL;
  tau_table tt = {0};
  nh_err err = NH_OK;
  int ops = (S ? NH_INT_OVERLAP : 0) | (T ? NH_INT_KINETIC : 0);
  double wall0 = nh_wtime(), cpu0 = cpu_seconds(), nblk = 0;
  nh_timer_start("S,T");
  NH_CALL_GOTO(tau_init(c->dom, &tt), done);
  NH_CALL_GOTO(nh_domain_neighbors(c->dom, rcut, 1, &nl), done);
  nh_progress pr;
  nh_progress_start(&pr, c->ctx, "S, T blocks", (long)nl->npairs);
  for (int64_t p = 0; p < nl->npairs; p++) {
    const nh_pair *q = &nl->pairs[p];
    if (p % 4096 == 0) nh_progress_update(&pr, (long)p);
    int zi = zof(c, q->i), zj = zof(c, q->j);
    if (q->r >= c->rt->rst[zi][zj]) continue;
    NH_CALL_GOTO(st_block(c, &tt, ops, q, zi, zj), done);
    nblk++;
    if (S) NH_CALL_GOTO(nh_mat_set_block(S, q->i, q->j, q->n, c->b1), done);
    if (T) NH_CALL_GOTO(nh_mat_set_block(T, q->i, q->j, q->n, c->b2), done);
  }
  nh_progress_finish(&pr);
done:
  tau_free(&tt);
  nh_neighbors_destroy(&nl);
  nh_timer_stop("S,T");
  err = nh_ctx_agree(c->ctx, err);
  if (!err)
    err = report_part(c->ctx, S && T ? "S,T" : S ? "S" : "T", nblk, wall0,
                      cpu0);
  return err;
}

/* ---------------------------------------------------------------------------
 * Three-centre parts, one owned potential atom a at a time: the atoms k
 * (owned or ghost, any image) within range of a, and for each pair (p, q)
 * of them, p <= q, a block C added to (k_p, k_q, n_q - n_p) and C^T to
 * (k_q, k_p, n_p - n_q); blocks of atoms this rank does not own are summed
 * here over all potential atoms and sent once (nh_mat_add_remote).
 * Contributions with a in the image -n_p of the
 * potential atom are exactly those with k_p in image 0, so every term of
 * the lattice sum is counted once.
 * ------------------------------------------------------------------------- */
typedef struct near_atom {
  int64_t gid;
  int n[3], z, norb;
  int owned;   /* the atom is owned here (its row blocks are local) */
  double d[3]; /* position relative to the potential atom */
  double *proj;  /* <phi|p_a>, norb x nprojfun (V_nl only) */
  double *hproj; /* <phi|p_a> h_a, the same shape */
  double pmax;  /* max |<phi|p_a>| */
} near_atom;

/* Contributions to blocks whose row atom is a ghost here, summed over all
 * potential atoms before they are sent (once per block, with
 * nh_mat_add_remote): memory O(ghost-row blocks), not O(contributions). */
typedef struct remote_acc {
  nh_hmap map;        /* block key -> index into keys/off */
  nh_block_key *keys;
  size_t *off;        /* offset of each block in vals */
  double *vals;
  int64_t nkeys, capkeys;
  size_t nvals, capvals;
} remote_acc;

static void acc_free(remote_acc *r) {
  nh_hmap_free(&r->map);
  nh_free(&r->keys);
  nh_free(&r->off);
  nh_free(&r->vals);
}

static nh_err acc_add(remote_acc *r, int64_t i, int64_t j, const int n[3],
                      const double *blk, size_t len) {
  uint64_t k1, k2;
  nh_hmap_block_key(i, j, n, &k1, &k2);
  int64_t k = r->map.cap ? nh_hmap_get(&r->map, k1, k2) : -1;
  if (k < 0) {
    if (!r->map.cap) NH_CALL(nh_hmap_init(&r->map, 1024));
    if (r->nkeys == r->capkeys) {
      r->capkeys = r->capkeys ? 2 * r->capkeys : 1024;
      NH_CALL(nh_realloc(r->capkeys * sizeof *r->keys, &r->keys));
      NH_CALL(nh_realloc(r->capkeys * sizeof *r->off, &r->off));
    }
    if (r->nvals + len > r->capvals) {
      while (r->nvals + len > r->capvals)
        r->capvals = r->capvals ? 2 * r->capvals : 65536;
      NH_CALL(nh_realloc(r->capvals * sizeof *r->vals, &r->vals));
    }
    k = r->nkeys++;
    r->keys[k].i = i;
    r->keys[k].j = j;
    memcpy(r->keys[k].n, n, sizeof r->keys[k].n);
    r->off[k] = r->nvals;
    memset(r->vals + r->nvals, 0, len * sizeof *r->vals);
    r->nvals += len;
    NH_CALL(nh_hmap_put(&r->map, k1, k2, k));
  }
  double *v = r->vals + r->off[k];
  for (size_t e = 0; e < len; e++) v[e] += blk[e];
  return NH_OK;
}

static nh_err acc_flush(remote_acc *r, nh_mat *m) {
  for (int64_t k = 0; k < r->nkeys; k++)
    NH_CALL(nh_mat_add_remote(m, r->keys[k].i, r->keys[k].j, r->keys[k].n,
                              r->vals + r->off[k]));
  return NH_OK;
}

static nh_err add_one(nh_mat *m, remote_acc *r, int owned, int64_t i,
                      int64_t j, const int n[3], const double *blk, size_t len) {
  if (owned)
    NH_CALL(nh_mat_add_block(m, i, j, n, blk));
  else
    NH_CALL(acc_add(r, i, j, n, blk, len));
  return NH_OK;
}

static nh_err add_contribution(nh_mat *m, remote_acc *r, const near_atom *kp,
                               const near_atom *kq, double *blk, double *tmp) {
  int n[3];
  size_t len = (size_t)kp->norb * kq->norb;
  for (int x = 0; x < 3; x++) n[x] = kq->n[x] - kp->n[x];
  NH_CALL(add_one(m, r, kp->owned, kp->gid, kq->gid, n, blk, len));
  if (kp == kq) return NH_OK;
  for (int x = 0; x < 3; x++) n[x] = -n[x];
  transpose(blk, kp->norb, kq->norb, tmp);
  NH_CALL(add_one(m, r, kq->owned, kq->gid, kp->gid, n, tmp, len));
  return NH_OK;
}

/* The pair block of kp, kq from potential atom a (element za). */
static nh_err pair_block(asm_ctx *c, int which, int za, const near_atom *kp,
                         const near_atom *kq, double *blk) {
  const double zero[3] = {0, 0, 0};
  memset(blk, 0, (size_t)kp->norb * kq->norb * sizeof *blk);
  if (which == NH_H0_VNL) {
    int npf = c->sp->nprojfun[za];
    for (int mu = 0; mu < kp->norb; mu++)
      for (int nu = 0; nu < kq->norb; nu++) {
        const double *x = kp->hproj + (size_t)mu * npf;
        const double *y = kq->proj + (size_t)nu * npf;
        double v = 0;
        for (int f = 0; f < npf; f++) v += x[f] * y[f];
        blk[(size_t)mu * kq->norb + nu] = v;
      }
  } else
    NH_CALL(nh_int_gth_loc_add(c->w, c->sp->gth[za], zero, c->sp->shell[kp->z],
                               c->sp->basis->elem[kp->z]->nshell, kp->d,
                               c->sp->shell[kq->z],
                               c->sp->basis->elem[kq->z]->nshell, kq->d, blk,
                               kq->norb));
  if (kp == kq) symmetrise(blk, kp->norb);
  return NH_OK;
}

/* hp = p h: hp[mu][(l,i,m)] = sum_j h^l_ij p[mu][(l,j,m)], columns in the
 * projector order of nh_int_gth_projectors (l, then i, then m). */
static void apply_h(const nh_gth *g, const double *p, int norb, int npf,
                    double *hp) {
  for (int mu = 0; mu < norb; mu++) {
    const double *pr = p + (size_t)mu * npf;
    double *hr = hp + (size_t)mu * npf;
    int off = 0;
    for (int l = 0; l < g->nl; l++) {
      int n = 2 * l + 1;
      for (int i = 0; i < g->nprj[l]; i++)
        for (int m = 0; m < n; m++) {
          double v = 0;
          for (int j = 0; j < g->nprj[l]; j++)
            v += g->h[l][i][j] * pr[off + j * n + m];
          hr[off + i * n + m] = v;
        }
      off += g->nprj[l] * n;
    }
  }
}

/* Atoms of pairs [p0, p1) (centre a) within range; projector overlaps. */
static nh_err gather_near(asm_ctx *c, int which, const nh_neighbors *nl,
                          int64_t p0, int64_t p1, int za, near_atom *near,
                          int *nnear, double *projbuf) {
  const double zero[3] = {0, 0, 0};
  int npf = c->sp->nprojfun[za];
  *nnear = 0;
  for (int64_t p = p0; p < p1; p++) {
    const nh_pair *q = &nl->pairs[p];
    int zk = zof(c, q->j);
    double r = which == NH_H0_VNL ? c->rt->rnl[zk][za] : c->rt->rloc[zk][za];
    if (q->r >= r) continue;
    near_atom *k = &near[(*nnear)++];
    k->gid = q->j;
    memcpy(k->n, q->n, sizeof k->n);
    memcpy(k->d, q->d, sizeof k->d);
    k->z = zk;
    k->norb = norb_z(c, zk);
    k->owned = nh_domain_local_index(c->dom, q->j) >= 0;
    k->proj = k->hproj = NULL;
    k->pmax = 0;
    if (which == NH_H0_VNL) {
      k->proj = projbuf + (size_t)(*nnear - 1) * 2 * c->maxnorb * c->maxpf;
      k->hproj = k->proj + (size_t)c->maxnorb * c->maxpf;
      NH_CALL(nh_int_atoms(c->w, NH_INT_OVERLAP, c->sp->shell[zk],
                           c->sp->basis->elem[zk]->nshell, k->d,
                           c->sp->proj[za], c->sp->nproj[za], zero,
                           NH_INT_EXACT, k->proj, NULL, npf));
      for (int e = 0; e < k->norb * npf; e++)
        k->pmax = fmax(k->pmax, fabs(k->proj[e]));
      apply_h(c->sp->gth[za], k->proj, k->norb, npf, k->hproj);
    }
  }
  return NH_OK;
}

/* hsum = sum_l (2l+1) sum_ij |h^l_ij|: every element of the V_nl block of
 * atoms p, q from one projector atom is at most hsum pmax_p pmax_q. */
static double nl_weight(const nh_gth *g) {
  double s = 0;
  for (int l = 0; l < g->nl; l++)
    for (int i = 0; i < g->nprj[l]; i++)
      for (int j = 0; j < g->nprj[l]; j++) s += (2 * l + 1) * fabs(g->h[l][i][j]);
  return s;
}

/* Pairs whose block from this potential atom is below eps in every
 * element: V_nl from the bound above; V_loc,Gauss (max |V| vmax) when the
 * atoms are beyond their S,T cut-off, where the integral of |phi_p phi_q|
 * is below eps (the pair-radius bound holds for |phi_p phi_q|), so the block
 * is below vmax eps. */
static int negligible(const asm_ctx *c, int which, double w,
                      const near_atom *kp, const near_atom *kq) {
  if (which == NH_H0_VNL) return w * kp->pmax * kq->pmax < c->o->eps;
  double d2 = 0;
  for (int x = 0; x < 3; x++)
    d2 += (kq->d[x] - kp->d[x]) * (kq->d[x] - kp->d[x]);
  double r = c->rt->rst[kp->z][kq->z];
  return d2 >= r * r;
}

static nh_err part_three(asm_ctx *c, int which, nh_mat *m, double rcut) {
  const char *timer = which == NH_H0_VNL ? "V_nl" : "V_loc";
  nh_neighbors *nl = NULL;
  near_atom *near = NULL;
  double *projbuf = NULL;
  remote_acc acc = {0};
  nh_err err = NH_OK;
  double wall0 = nh_wtime(), cpu0 = cpu_seconds(), nblk = 0;
  nh_timer_start(timer);
  NH_CALL_GOTO(nh_domain_neighbors(c->dom, rcut, 1, &nl), done);
  /* the largest neighbour count of one centre bounds the near atoms */
  int64_t maxn = 1;
  for (int64_t p0 = 0, p1; p0 < nl->npairs; p0 = p1) {
    for (p1 = p0; p1 < nl->npairs && nl->pairs[p1].i == nl->pairs[p0].i;) p1++;
    maxn = maxn > p1 - p0 ? maxn : p1 - p0;
  }
  NH_CALL_GOTO(nh_malloc((size_t)maxn * sizeof *near, &near), done);
  if (which == NH_H0_VNL)
    NH_CALL_GOTO(nh_malloc((size_t)maxn * 2 * c->maxnorb * c->maxpf * sizeof(double) + 1,
                           &projbuf),
                 done);
  nh_progress pr;
  nh_progress_start(&pr, c->ctx, which == NH_H0_VNL ? "V_nl, projector atoms"
                                                      : "V_loc, potential atoms",
                    (long)c->at->nlocal);
  int64_t p0 = 0;
  for (int64_t a = 0; a < c->at->nlocal; a++) {
    int64_t p1 = p0;
    while (p1 < nl->npairs && nl->pairs[p1].i == c->at->gid[a]) p1++;
    int za = c->at->z[a], nnear;
    int skip = which == NH_H0_VNL ? !c->sp->nproj[za] : !c->sp->gth[za]->nloc;
    if (!skip) {
      NH_CALL_GOTO(gather_near(c, which, nl, p0, p1, za, near, &nnear, projbuf),
                   done);
      double w = nl_weight(c->sp->gth[za]);
      for (int p = 0; p < nnear; p++)
        for (int q = p; q < nnear; q++) {
          if (negligible(c, which, w, &near[p], &near[q])) continue;
          nblk++;
          NH_CALL_GOTO(pair_block(c, which, za, &near[p], &near[q], c->b1), done);
          NH_CALL_GOTO(add_contribution(m, &acc, &near[p], &near[q], c->b1,
                                        c->b2),
                       done);
        }
    }
    p0 = p1;
    nh_progress_update(&pr, (long)a + 1);
  }
  nh_progress_finish(&pr);
  nh_timer_start("assemble");
  NH_CALL_GOTO(acc_flush(&acc, m), done);
  acc_free(&acc);
  NH_CALL_GOTO(nh_mat_assemble(m), done);
  /* local and delivered contributions were summed in different orders */
  NH_CALL_GOTO(nh_mat_symmetrize(m, "mean"), done);
  nh_timer_stop("assemble");
done:
  acc_free(&acc);
  nh_free(&projbuf);
  nh_free(&near);
  nh_neighbors_destroy(&nl);
  nh_timer_stop(timer);
  err = nh_ctx_agree(c->ctx, err);
  if (!err) err = report_part(c->ctx, timer, nblk, wall0, cpu0);
  return err;
}

/* ---------------------------------------------------------------------------
 * Driver
 * ------------------------------------------------------------------------- */

void nh_h0_parts_destroy(nh_h0_parts *p) {
  nh_mat_destroy(&p->S);
  nh_mat_destroy(&p->T);
  nh_mat_destroy(&p->Vnl);
  nh_mat_destroy(&p->Vloc);
}

static nh_err create_mats(const nh_domain *dom, const nh_h0_species *sp,
                          int parts, nh_h0_parts *out) {
  int norb[NH_MAX_Z + 1];
  nh_basis_norb_table(sp->basis, norb);
  /* a part whose matrix is given (nh_h0_analytic_add) goes into it */
  if ((parts & NH_H0_S) && !out->S)
    NH_CALL(nh_mat_create(dom, norb, "S", &out->S));
  if ((parts & NH_H0_T) && !out->T)
    NH_CALL(nh_mat_create(dom, norb, "T", &out->T));
  if ((parts & NH_H0_VNL) && !out->Vnl)
    NH_CALL(nh_mat_create(dom, norb, "V_nl", &out->Vnl));
  if ((parts & NH_H0_VLOC) && !out->Vloc)
    NH_CALL(nh_mat_create(dom, norb, "V_loc", &out->Vloc));
  return NH_OK;
}

static nh_err analytic_run(asm_ctx *c, int parts, const nh_h0_ranges *r,
                           nh_h0_parts *out) {
  NH_CALL(create_mats(c->dom, c->sp, parts, out));
  if (parts & (NH_H0_S | NH_H0_T) && r->rst_max > 0) {
    NH_CALL(part_st(c, out->S, out->T, r->rst_max));
    nh_timer_start("assemble");
    if (out->S) NH_CALL(nh_mat_assemble(out->S));
    if (out->T) NH_CALL(nh_mat_assemble(out->T));
    nh_timer_stop("assemble");
  }
  if (parts & NH_H0_VNL && r->rnl_max > 0)
    NH_CALL(part_three(c, NH_H0_VNL, out->Vnl, r->rnl_max));
  if (parts & NH_H0_VLOC && r->rloc_max > 0)
    NH_CALL(part_three(c, NH_H0_VLOC, out->Vloc, r->rloc_max));
  return NH_OK;
}

/* The driver of both entry points: matrices of out that are NULL are
 * created (and destroyed again on failure), the others are added into. */
static nh_err analytic(const nh_domain *dom, const nh_h0_species *sp,
                       const nh_h0_opts *o, int parts, nh_h0_parts *out) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  asm_ctx c = {0};
  nh_h0_ranges r;
  nh_err err = NH_OK;
  nh_h0_parts given = *out;
  NH_CHECK(o->eps > 0 && o->eps < 1, NH_ERR_ARG, "h0: eps %g not in (0, 1)",
           o->eps);
  NH_CALL_GOTO(asm_init(&c, dom, sp, o), done);
  NH_CALL_GOTO(nh_malloc(sizeof *c.rt, &c.rt), done);
  ranges_fill(sp, o, parts, c.rt, &r);
  NH_CHECK_GOTO(nh_domain_halo(dom) >= r.halo, done, NH_ERR_ARG,
                "h0: domain halo %.3f bohr is narrower than the %.3f bohr the "
                "assembly needs", nh_domain_halo(dom), r.halo);
  char cuts[160] = "";
  if (r.rst_max > 0)
    snprintf(cuts, sizeof cuts, "%s %.2f",
             (parts & NH_H0_S) && (parts & NH_H0_T) ? "S,T"
             : (parts & NH_H0_T)                   ? "T"
                                                   : "S",
             r.rst_max);
  if (r.rnl_max > 0)
    snprintf(cuts + strlen(cuts), sizeof cuts - strlen(cuts),
             "%sbasis-projector %.2f", *cuts ? ", " : "", r.rnl_max);
  if (r.rloc_max > 0)
    snprintf(cuts + strlen(cuts), sizeof cuts - strlen(cuts),
             "%sbasis-V_loc %.2f", *cuts ? ", " : "", r.rloc_max);
  nh_log(ctx, 1, "H0 analytic part: cut-off (bohr) %s; eps %.1e, %s screening\n",
         cuts, o->eps, o->screen == NH_INT_CP2K ? "CP2K" : "exact");
  err = analytic_run(&c, parts, &r, out);
done:
  err = nh_ctx_agree(ctx, err);
  if (err) {
    if (!given.S) nh_mat_destroy(&out->S);
    if (!given.T) nh_mat_destroy(&out->T);
    if (!given.Vnl) nh_mat_destroy(&out->Vnl);
    if (!given.Vloc) nh_mat_destroy(&out->Vloc);
  }
  nh_free(&c.rt);
  asm_free(&c);
  NH_CALL(err);
  return NH_OK;
}

nh_err nh_h0_analytic(const nh_domain *dom, const nh_h0_species *sp,
                      const nh_h0_opts *o, int parts, nh_h0_parts *out) {
  memset(out, 0, sizeof *out);
  NH_CALL(analytic(dom, sp, o, parts, out));
  return NH_OK;
}

nh_err nh_h0_analytic_add(const nh_domain *dom, const nh_h0_species *sp,
                          const nh_h0_opts *o, int part, nh_mat *m) {
  NH_CHECK(part == NH_H0_VNL || part == NH_H0_VLOC, NH_ERR_ARG,
           "nh_h0_analytic_add: part must be NH_H0_VNL or NH_H0_VLOC, not %d",
           part);
  nh_h0_parts p = {0};
  if (part == NH_H0_VNL)
    p.Vnl = m;
  else
    p.Vloc = m;
  NH_CALL(analytic(dom, sp, o, part, &p));
  return NH_OK;
}
