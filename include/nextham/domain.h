/* nextham geom: distribution of atoms over ranks (recursive coordinate
 * bisection) and ghost atoms within a halo width (point-to-point exchange
 * with the ranks whose regions lie within the halo only).
 *
 * Memory: after nh_domain_create, a rank holds its owned atoms and its
 * ghosts only, O(N/P + halo). The input structure (about 32 bytes per atom)
 * is read by every rank and may be released once the domain exists. */
#ifndef NEXTHAM_DOMAIN_H
#define NEXTHAM_DOMAIN_H

#include "nextham/core.h"
#include "nextham/structure.h"

typedef struct nh_domain nh_domain; /* opaque */

/* Atom table of a rank: owned atoms first (k < nlocal, sorted by global
 * index), then ghosts (sorted by (gid, n)). A ghost is a periodic image of
 * an atom (possibly an owned one, never an owned atom itself at n = 0) whose
 * position lies within the halo width of this rank's region, the
 * axis-aligned bounding box of its owned (CP2K-wrapped) atoms. */
typedef struct nh_atoms {
  int64_t nlocal, nghost;
  int64_t natoms_global;
  int64_t *gid;   /* global atom index (input order, 0-based)            */
  int *z;         /* atomic number                                       */
  double (*x)[3]; /* bohr: CP2K-wrapped tau for owned, tau + n.A ghosts  */
  int (*image)[3];/* n of the image (0 0 0 for owned atoms)              */
  int *owner;     /* rank that owns gid                                  */
} nh_atoms;

/* Collective. weight[a] (may be NULL: all 1; else > 0) is the estimated
 * work of atom a, for balancing. halo (>= 0) is the ghost width in bohr.
 * Every rank passes the same structure and weights: the recursive coordinate
 * bisection runs redundantly on every rank (O(N log N log P) at setup) and
 * gives identical owners without communication. A rank may own no atom when
 * there are fewer atoms than ranks. */
nh_err nh_domain_create(const nh_ctx *ctx, const nh_structure *s,
                        const double *weight, double halo, nh_domain **dom);
nh_err nh_domain_destroy(nh_domain **dom);

const nh_atoms *nh_domain_atoms(const nh_domain *dom);
const nh_ctx *nh_domain_ctx(const nh_domain *dom);
void nh_domain_lattice(const nh_domain *dom, double lat[3][3], int pbc[3]);
double nh_domain_halo(const nh_domain *dom);
/* Region of this rank (bohr): lo > hi componentwise when it owns no atom. */
void nh_domain_region(const nh_domain *dom, double lo[3], double hi[3]);
/* Owner rank of a global atom that is owned here or is a ghost here; -1 if
 * this rank does not know it. O(1) (hash). */
int nh_domain_owner(const nh_domain *dom, int64_t gid);
/* Index k < nlocal of an owned atom, or -1. */
int64_t nh_domain_local_index(const nh_domain *dom, int64_t gid);
/* Row of a global atom in the atom table: the owned atom, else its first
 * ghost image; -1 if this rank does not know it. O(1) (hash). */
int64_t nh_domain_index(const nh_domain *dom, int64_t gid);

/* Fills ghost entries of a per-atom array (width doubles per atom, in the
 * atom table order) from their owners: point-to-point messages to the ranks
 * that share the halo only; send lists were built once at creation. Every
 * rank of the domain must call it (ranks without peers return at once). */
nh_err nh_domain_forward(const nh_domain *dom, double *data, int width);

/* The transpose of nh_domain_forward: adds every ghost entry of data into
 * the entry of its owned atom (on the owner rank), e.g. gradients or forces
 * that a rank computed on its ghosts. Ghost entries are left unchanged.
 * Same messages as the forward exchange in the other direction; the sum
 * over the ghosts of an atom runs in a fixed order (peers by rank, then
 * the local images), so it is deterministic for a given rank count. */
nh_err nh_domain_reverse(const nh_domain *dom, double *data, int width);

/* Neighbour list of the owned atoms against owned + ghost atoms (rcut must
 * not exceed the halo width). Pairs are keyed (i, j, n) and carry d exactly
 * as nh_neighbors_build_periodic does for the whole structure: the union
 * over ranks equals the serial list. Local, no communication. */
struct nh_neighbors;
nh_err nh_domain_neighbors(const nh_domain *dom, double rcut, int include_self,
                           struct nh_neighbors **nl);

#endif
