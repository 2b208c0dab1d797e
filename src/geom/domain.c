/* The domain object: owned atoms by RCB, ghosts by the halo module,
 * lookups by global index, and the distributed neighbour list. */
#include <math.h>
#include <string.h>

#include "domainimpl.h"
#include "nextham/neighbor.h"

static void atoms_free(nh_atoms *at) {
  nh_free(&at->gid);
  nh_free(&at->z);
  nh_free(&at->x);
  nh_free(&at->image);
  nh_free(&at->owner);
}

/* Local: the owned atoms of this rank, in global order, with their wrapped
 * positions, and the region box. owner[] is the RCB result for all atoms. */
static nh_err take_owned(nh_domain *dom, const nh_structure *s,
                         const double (*tau)[3], const int *owner) {
  nh_atoms *at = &dom->atoms;
  int64_t n = 0;
  for (int a = 0; a < s->natoms; a++) n += owner[a] == dom->ctx.rank;
  NH_CALL(nh_malloc(n * sizeof *at->gid, &at->gid));
  NH_CALL(nh_malloc(n * sizeof *at->z, &at->z));
  NH_CALL(nh_malloc(n * sizeof *at->x, &at->x));
  NH_CALL(nh_calloc(n, sizeof *at->image, &at->image));
  NH_CALL(nh_malloc(n * sizeof *at->owner, &at->owner));
  at->nlocal = 0;
  at->natoms_global = s->natoms;
  for (int c = 0; c < 3; c++) {
    dom->lo[c] = INFINITY; /* an empty region stays lo > hi */
    dom->hi[c] = -INFINITY;
  }
  for (int a = 0; a < s->natoms; a++) {
    if (owner[a] != dom->ctx.rank) continue;
    int64_t k = at->nlocal++;
    at->gid[k] = a;
    at->z[k] = s->z[a];
    at->owner[k] = dom->ctx.rank;
    for (int c = 0; c < 3; c++) {
      at->x[k][c] = tau[a][c];
      dom->lo[c] = fmin(dom->lo[c], tau[a][c]);
      dom->hi[c] = fmax(dom->hi[c], tau[a][c]);
    }
  }
  return NH_OK;
}

/* Local: the replicated part of the setup (wrap, RCB over all atoms), of
 * which only the owned atoms are kept. */
static nh_err partition(nh_domain *dom, const nh_structure *s,
                        const double *weight) {
  nh_err err = NH_OK;
  double(*tau)[3] = NULL;
  int *owner = NULL;
  NH_CALL_GOTO(nh_malloc(s->natoms * sizeof *tau, &tau), done);
  NH_CALL_GOTO(nh_malloc(s->natoms * sizeof *owner, &owner), done);
  nh_structure_wrap_cp2k(s, tau);
  NH_CALL_GOTO(nh_rcb_partition(s->natoms, (const double(*)[3])tau, weight,
                                dom->ctx.size, owner),
               done);
  NH_CALL_GOTO(take_owned(dom, s, (const double(*)[3])tau, owner), done);
done:
  nh_free(&tau);
  nh_free(&owner);
  return err;
}

static nh_err build_index(nh_domain *dom) {
  const nh_atoms *at = &dom->atoms;
  int64_t n = at->nlocal + at->nghost;
  NH_CALL(nh_hmap_init(&dom->index, at->nlocal + at->nghost / 4 + 1));
  for (int64_t k = 0; k < n; k++)
    if (nh_hmap_get(&dom->index, (uint64_t)at->gid[k], 0) < 0)
      NH_CALL(nh_hmap_put(&dom->index, (uint64_t)at->gid[k], 0, k));
  return NH_OK;
}

nh_err nh_domain_create(const nh_ctx *ctx, const nh_structure *s,
                        const double *weight, double halo, nh_domain **dom) {
  NH_CHECK(ctx && s && dom, NH_ERR_ARG, "context, structure or output NULL");
  NH_CHECK(s->natoms >= 1, NH_ERR_ARG, "structure %s has no atoms", s->source);
  NH_CHECK(halo >= 0 && isfinite(halo), NH_ERR_ARG,
           "halo width must be >= 0 and finite, got %g bohr", halo);
  nh_err err = NH_OK;
  nh_domain *d = NULL;
  NH_CALL(nh_calloc(1, sizeof *d, &d));
  d->ctx = *ctx;
  d->plan.comm = MPI_COMM_NULL;
  memcpy(d->lattice, s->lattice, sizeof d->lattice);
  memcpy(d->pbc, s->pbc, sizeof d->pbc);
  d->halo = halo;
  NH_CALL_GOTO(nh_ctx_agree(ctx, partition(d, s, weight)), fail);
  NH_CHECK_GOTO(MPI_Comm_dup(ctx->comm, &d->plan.comm) == MPI_SUCCESS, fail,
                NH_ERR_MPI, "cannot duplicate the communicator");
  NH_CALL_GOTO(nh_halo_setup(d), fail);
  NH_CALL_GOTO(nh_ctx_agree(ctx, build_index(d)), fail);
  *dom = d;
  return NH_OK;
fail:
  nh_domain_destroy(&d);
  return err;
}

nh_err nh_domain_destroy(nh_domain **dom) {
  if (!dom || !*dom) return NH_OK;
  nh_domain *d = *dom;
  atoms_free(&d->atoms);
  if (d->index.cap) nh_hmap_free(&d->index);
  nh_halo_plan_free(&d->plan);
  if (d->plan.comm != MPI_COMM_NULL) MPI_Comm_free(&d->plan.comm);
  nh_free(dom);
  return NH_OK;
}

const nh_atoms *nh_domain_atoms(const nh_domain *dom) { return &dom->atoms; }
const nh_ctx *nh_domain_ctx(const nh_domain *dom) { return &dom->ctx; }
double nh_domain_halo(const nh_domain *dom) { return dom->halo; }

void nh_domain_lattice(const nh_domain *dom, double lat[3][3], int pbc[3]) {
  memcpy(lat, dom->lattice, sizeof dom->lattice);
  memcpy(pbc, dom->pbc, sizeof dom->pbc);
}

void nh_domain_region(const nh_domain *dom, double lo[3], double hi[3]) {
  memcpy(lo, dom->lo, sizeof dom->lo);
  memcpy(hi, dom->hi, sizeof dom->hi);
}

int nh_domain_owner(const nh_domain *dom, int64_t gid) {
  int64_t k = nh_hmap_get(&dom->index, (uint64_t)gid, 0);
  return k < 0 ? -1 : dom->atoms.owner[k];
}

int64_t nh_domain_index(const nh_domain *dom, int64_t gid) {
  return nh_hmap_get(&dom->index, (uint64_t)gid, 0);
}

int64_t nh_domain_local_index(const nh_domain *dom, int64_t gid) {
  int64_t k = nh_hmap_get(&dom->index, (uint64_t)gid, 0);
  return k >= 0 && k < dom->atoms.nlocal ? k : -1;
}

/* Owned atoms are the centres (image 0, wrapped), owned + ghosts the
 * candidates: every neighbour within rcut <= halo of an owned atom is an
 * image within the halo of the region, hence present. Keys are (gid, n),
 * exactly those of the serial nh_neighbors_build_periodic. */
nh_err nh_domain_neighbors(const nh_domain *dom, double rcut, int include_self,
                           struct nh_neighbors **nl) {
  NH_CHECK(dom && nl, NH_ERR_ARG, "domain or output is NULL");
  NH_CHECK(rcut <= dom->halo, NH_ERR_ARG,
           "neighbour cutoff %g bohr exceeds the halo width %g bohr", rcut,
           dom->halo);
  const nh_atoms *at = &dom->atoms;
  NH_CALL(nh_neighbors_build(at->nlocal, at->nlocal + at->nghost,
                             (const double(*)[3])at->x, at->gid,
                             (const int(*)[3])at->image, rcut, include_self,
                             nl));
  return NH_OK;
}
