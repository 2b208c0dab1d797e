/* Private part of the domain object (include/nextham/domain.h). */
#ifndef NEXTHAM_DOMAINIMPL_H
#define NEXTHAM_DOMAINIMPL_H

#include "nextham/domain.h"

/* Communication pattern of the forward exchange, built once at creation.
 * Peer p (a rank sharing the halo, never this rank) receives, in order,
 * the owned atoms send_k[send_off[p] .. send_off[p+1]-1]; what this rank
 * receives from peer p lands at ghost indices recv_k[recv_off[p] ..]. Ghost
 * images of this rank's own atoms are copied locally (self_src -> self_dst). */
typedef struct nh_halo_plan {
  MPI_Comm comm; /* duplicate of the context's: halo tags cannot collide */
  int npeer;
  int *peer;
  int64_t *send_off, *send_k;
  int64_t *recv_off, *recv_k;
  int64_t nself;
  int64_t *self_src, *self_dst;
} nh_halo_plan;

struct nh_domain {
  nh_ctx ctx;
  double lattice[3][3];
  int pbc[3];
  double halo;
  double lo[3], hi[3]; /* region: bounding box of the owned atoms */
  nh_atoms atoms;
  nh_hmap index; /* gid -> owned index, or the first ghost of gid */
  nh_halo_plan plan;
};

/* Recursive coordinate bisection of n points into nparts parts: owner[a] in
 * 0..nparts-1 for every point. Deterministic: ties are broken by index. */
nh_err nh_rcb_partition(int64_t n, const double (*x)[3], const double *weight,
                        int nparts, int *owner);

/* Builds the ghosts of dom (owned atoms and region must be set) and the
 * halo plan. Collective. */
nh_err nh_halo_setup(nh_domain *dom);
void nh_halo_plan_free(nh_halo_plan *plan);

#endif
