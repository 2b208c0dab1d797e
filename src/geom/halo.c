/* Ghost atoms and the forward and reverse halo exchanges.
 *
 * Setup (collective, once): the P region boxes are allgathered (O(P)). Two
 * ranks are candidate peers when some periodic image of one box comes within
 * the halo width of the other; both ranks evaluate the same expression on
 * the same numbers, so they agree without talking. Every rank then walks the
 * periodic images of its owned atoms and sends each image that lies within
 * the halo of a candidate's box to it (its own box included: with few ranks
 * or small cells a rank needs images of its own atoms). Counts, then ghost
 * records, travel point-to-point between candidates only. The send lists
 * (owned atom, destination) are kept for nh_domain_forward. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domainimpl.h"
#include "geomimpl.h"

#define HALO_TAG 7301

/* A ghost as it travels: the image of atom gid shifted by n, at x. */
typedef struct ghost_rec {
  int64_t gid;
  int32_t n[3];
  int32_t z;
  double x[3];
} ghost_rec;

/* What one rank learns about the geometry of all regions. */
typedef struct halo_geo {
  double (*box)[6]; /* lo[3], hi[3] per rank; empty rank: lo > hi */
  double recip[3][3], reach[3]; /* reach_k = halo |b_k| */
  double glo[3], ghi[3];        /* bounding box of all regions */
  double flo[3], fhi[3];        /* fractional extent of that box */
  int nmin[3], nmax[3];         /* shifts between two boxes */
  double h2;
} halo_geo;

static int box_empty(const double b[6]) { return b[0] > b[3]; }

/* Candidate relation between ranks p < q: some shift n brings box p within
 * the halo of box q. Symmetric by construction (always evaluated with the
 * lower rank first), and a superset of the real traffic (small margin). */
static int boxes_near(const nh_domain *dom, const halo_geo *g, int p, int q) {
  if (p > q) return boxes_near(dom, g, q, p);
  const double *a = g->box[p], *b = g->box[q];
  if (box_empty(a) || box_empty(b)) return 0;
  double lim = dom->halo * (1 + 1e-9) + 1e-12;
  int n[3];
  for (n[0] = g->nmin[0]; n[0] <= g->nmax[0]; n[0]++)
    for (n[1] = g->nmin[1]; n[1] <= g->nmax[1]; n[1]++)
      for (n[2] = g->nmin[2]; n[2] <= g->nmax[2]; n[2]++) {
        double zero[3] = {0, 0, 0}, sh[3], s2 = 0;
        nh_image_pos(dom->lattice, zero, n, sh);
        for (int c = 0; c < 3; c++) {
          double gap = fmax(0, fmax(b[c] - (a[c + 3] + sh[c]),
                                    (a[c] + sh[c]) - b[c + 3]));
          s2 += gap * gap;
        }
        if (s2 < lim * lim) return 1;
      }
  return 0;
}

/* Fractional extent of the bounding box of all regions (from its corners)
 * and the range of shifts n that can bring one box within the halo of
 * another. A box of wrapped atoms is not inside the cell: for a skewed cell
 * its corners reach well beyond |s_k| = 0.5, so nh_image_range's bound for
 * points in the cell does not apply to boxes. */
static void frac_extent(halo_geo *g, const int pbc[3]) {
  for (int k = 0; k < 3; k++) {
    g->flo[k] = INFINITY;
    g->fhi[k] = -INFINITY;
  }
  for (int corner = 0; corner < 8; corner++) {
    double x[3], f[3];
    for (int c = 0; c < 3; c++) x[c] = (corner >> c) & 1 ? g->ghi[c] : g->glo[c];
    nh_lattice_to_frac(g->recip, x, f);
    for (int k = 0; k < 3; k++) {
      g->flo[k] = fmin(g->flo[k], f[k]);
      g->fhi[k] = fmax(g->fhi[k], f[k]);
    }
  }
  for (int k = 0; k < 3; k++) {
    double m = g->fhi[k] - g->flo[k] + g->reach[k] + 1e-9;
    g->nmax[k] = pbc[k] ? (int)fmin(floor(m), 1 << 20) : 0;
    g->nmin[k] = -g->nmax[k];
  }
}

/* Collective. The allocation is agreed on before the allgather so that a
 * failure on one rank cannot leave the others waiting. */
static nh_err geo_init(nh_domain *dom, halo_geo *g) {
  const nh_ctx *ctx = &dom->ctx;
  double mine[6], blen[3];
  NH_CALL(nh_ctx_agree(ctx, nh_malloc(ctx->size * sizeof *g->box, &g->box)));
  for (int c = 0; c < 3; c++) {
    mine[c] = dom->lo[c];
    mine[c + 3] = dom->hi[c];
  }
  NH_MPI(MPI_Allgather(mine, 6, MPI_DOUBLE, g->box, 6, MPI_DOUBLE, ctx->comm));
  NH_CALL(nh_geom_plane_inv(dom->lattice, g->recip, blen));
  for (int c = 0; c < 3; c++) {
    g->reach[c] = dom->halo * blen[c];
    g->glo[c] = INFINITY;
    g->ghi[c] = -INFINITY;
  }
  for (int p = 0; p < ctx->size; p++)
    for (int c = 0; c < 3; c++) {
      g->glo[c] = fmin(g->glo[c], g->box[p][c]);
      g->ghi[c] = fmax(g->ghi[c], g->box[p][c + 3]);
    }
  frac_extent(g, dom->pbc);
  g->h2 = dom->halo * dom->halo;
  return NH_OK;
}

/* Destinations of the images: slot 0 is this rank, slots 1.. the candidate
 * peers. Per slot the (owned index, image) pairs to send, grouped by slot. */
typedef struct send_plan {
  int ndest;
  int *dest;         /* rank of each slot */
  int64_t *off;      /* ndest + 1 */
  int64_t *k;        /* owned index of each entry */
  int (*n)[3];       /* image of each entry */
} send_plan;

static void send_plan_free(send_plan *sp) {
  nh_free(&sp->dest);
  nh_free(&sp->off);
  nh_free(&sp->k);
  nh_free(&sp->n);
}

/* Visits every image of every owned atom that some destination needs.
 * Counting pass (fill 0): off[slot + 1]++; filling pass: writes entries at
 * off[slot] (advancing it). */
static void walk_images(const nh_domain *dom, const halo_geo *g,
                        send_plan *sp, int fill) {
  const nh_atoms *at = &dom->atoms;
  for (int64_t k = 0; k < at->nlocal; k++) {
    double s[3];
    int lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0}, n[3];
    nh_lattice_to_frac(g->recip, at->x[k], s);
    for (int c = 0; c < 3; c++) {
      if (!dom->pbc[c]) continue;
      /* an image within the halo of some box has fractional coordinate
       * within reach of the boxes' extent */
      lo[c] = (int)ceil(g->flo[c] - g->reach[c] - s[c] - 1e-9);
      hi[c] = (int)floor(g->fhi[c] + g->reach[c] - s[c] + 1e-9);
    }
    for (n[0] = lo[0]; n[0] <= hi[0]; n[0]++)
      for (n[1] = lo[1]; n[1] <= hi[1]; n[1]++)
        for (n[2] = lo[2]; n[2] <= hi[2]; n[2]++) {
          double x[3];
          int origin = !n[0] && !n[1] && !n[2];
          nh_image_pos(dom->lattice, at->x[k], n, x);
          if (nh_box_dist2(g->glo, g->ghi, x) >= g->h2) continue;
          for (int d = 0; d < sp->ndest; d++) {
            const double *b = g->box[sp->dest[d]];
            if ((d == 0 && origin) || nh_box_dist2(b, b + 3, x) >= g->h2)
              continue;
            if (!fill) {
              sp->off[d + 1]++;
              continue;
            }
            int64_t e = sp->off[d]++;
            sp->k[e] = k;
            memcpy(sp->n[e], n, sizeof n);
          }
        }
  }
}

static nh_err send_plan_build(const nh_domain *dom, const halo_geo *g,
                              send_plan *sp) {
  const nh_ctx *ctx = &dom->ctx;
  NH_CALL(nh_malloc(ctx->size * sizeof *sp->dest, &sp->dest));
  sp->ndest = 0;
  sp->dest[sp->ndest++] = ctx->rank;
  for (int q = 0; q < ctx->size; q++)
    if (q != ctx->rank && boxes_near(dom, g, ctx->rank, q))
      sp->dest[sp->ndest++] = q;
  NH_CALL(nh_calloc(sp->ndest + 1, sizeof *sp->off, &sp->off));
  walk_images(dom, g, sp, 0);
  for (int d = 0; d < sp->ndest; d++) sp->off[d + 1] += sp->off[d];
  int64_t total = sp->off[sp->ndest];
  NH_CALL(nh_malloc(total * sizeof *sp->k, &sp->k));
  NH_CALL(nh_malloc(total * sizeof *sp->n, &sp->n));
  walk_images(dom, g, sp, 1); /* advances off[d] to the start of d + 1 */
  for (int d = sp->ndest; d > 0; d--) sp->off[d] = sp->off[d - 1];
  sp->off[0] = 0;
  return NH_OK;
}

/* Point-to-point exchange of the counts among the candidate peers
 * (slots 1..): scount[d] out, rcount[d] in. */
static nh_err exchange_counts(MPI_Comm comm, const send_plan *sp,
                              const int64_t *scount, int64_t *rcount,
                              MPI_Request *req) {
  int nr = 0;
  for (int d = 1; d < sp->ndest; d++)
    NH_MPI(MPI_Irecv(&rcount[d], 1, MPI_INT64_T, sp->dest[d], HALO_TAG, comm,
                     &req[nr++]));
  for (int d = 1; d < sp->ndest; d++)
    NH_MPI(MPI_Isend(&scount[d], 1, MPI_INT64_T, sp->dest[d], HALO_TAG, comm,
                     &req[nr++]));
  NH_MPI(MPI_Waitall(nr, req, MPI_STATUSES_IGNORE));
  return NH_OK;
}

/* Sends the records of slot d (1..) and receives those of each peer into
 * rbuf at roff[d]. Messages are MPI_BYTE; sizes were checked to fit an int. */
static nh_err exchange_records(MPI_Comm comm, const send_plan *sp,
                               const ghost_rec *sbuf, const int64_t *roff,
                               ghost_rec *rbuf, MPI_Request *req) {
  int nr = 0;
  for (int d = 1; d < sp->ndest; d++) {
    int64_t cnt = roff[d + 1] - roff[d];
    if (cnt)
      NH_MPI(MPI_Irecv(rbuf + roff[d], (int)(cnt * sizeof *rbuf), MPI_BYTE,
                       sp->dest[d], HALO_TAG + 1, comm, &req[nr++]));
  }
  for (int d = 1; d < sp->ndest; d++) {
    int64_t cnt = sp->off[d + 1] - sp->off[d];
    if (cnt)
      NH_MPI(MPI_Isend(sbuf + sp->off[d], (int)(cnt * sizeof *sbuf), MPI_BYTE,
                       sp->dest[d], HALO_TAG + 1, comm, &req[nr++]));
  }
  NH_MPI(MPI_Waitall(nr, req, MPI_STATUSES_IGNORE));
  return NH_OK;
}

typedef struct ghost_key {
  int64_t gid;
  int n[3];
  int64_t e; /* position in the receive buffer */
} ghost_key;

static int cmp_ghost_key(const void *pa, const void *pb) {
  const ghost_key *a = pa, *b = pb;
  if (a->gid != b->gid) return a->gid < b->gid ? -1 : 1;
  for (int c = 0; c < 3; c++)
    if (a->n[c] != b->n[c]) return a->n[c] < b->n[c] ? -1 : 1;
  return 0;
}

static nh_err grow_atoms(nh_atoms *at, int64_t n) {
  NH_CALL(nh_realloc(n * sizeof *at->gid, &at->gid));
  NH_CALL(nh_realloc(n * sizeof *at->z, &at->z));
  NH_CALL(nh_realloc(n * sizeof *at->x, &at->x));
  NH_CALL(nh_realloc(n * sizeof *at->image, &at->image));
  NH_CALL(nh_realloc(n * sizeof *at->owner, &at->owner));
  return NH_OK;
}

/* Appends the received ghosts (slot 0: this rank's own images) sorted by
 * (gid, n); pos[e] receives the ghost index of buffer entry e. */
static nh_err append_ghosts(nh_domain *dom, const send_plan *sp,
                            const int64_t *roff, const ghost_rec *rbuf,
                            int64_t *pos) {
  nh_atoms *at = &dom->atoms;
  int64_t ng = roff[sp->ndest], nl = at->nlocal;
  ghost_key *key = NULL;
  NH_CALL(nh_malloc(ng * sizeof *key, &key));
  for (int64_t e = 0; e < ng; e++) {
    key[e].gid = rbuf[e].gid;
    for (int c = 0; c < 3; c++) key[e].n[c] = rbuf[e].n[c];
    key[e].e = e;
  }
  qsort(key, ng, sizeof *key, cmp_ghost_key);
  for (int64_t r = 0; r < ng; r++) pos[key[r].e] = nl + r;
  nh_free(&key);
  NH_CALL(grow_atoms(at, nl + ng));
  for (int d = 0; d < sp->ndest; d++)
    for (int64_t e = roff[d]; e < roff[d + 1]; e++) {
      int64_t k = pos[e];
      at->gid[k] = rbuf[e].gid;
      at->z[k] = rbuf[e].z;
      for (int c = 0; c < 3; c++) {
        at->x[k][c] = rbuf[e].x[c];
        at->image[k][c] = rbuf[e].n[c];
      }
      at->owner[k] = sp->dest[d];
    }
  at->nghost = ng;
  return NH_OK;
}

/* Keeps the slots with traffic as the forward plan. */
static nh_err make_plan(nh_halo_plan *pl, const send_plan *sp,
                        const int64_t *roff, const int64_t *pos) {
  int np = 0;
  int64_t ns = 0, nr = 0;
  for (int d = 1; d < sp->ndest; d++)
    if (sp->off[d + 1] > sp->off[d] || roff[d + 1] > roff[d]) np++;
  NH_CALL(nh_malloc(np * sizeof *pl->peer, &pl->peer));
  NH_CALL(nh_malloc((np + 1) * sizeof *pl->send_off, &pl->send_off));
  NH_CALL(nh_malloc((np + 1) * sizeof *pl->recv_off, &pl->recv_off));
  NH_CALL(nh_malloc((sp->off[sp->ndest] - sp->off[1]) * sizeof *pl->send_k,
                    &pl->send_k));
  NH_CALL(nh_malloc((roff[sp->ndest] - roff[1]) * sizeof *pl->recv_k,
                    &pl->recv_k));
  pl->npeer = 0;
  pl->send_off[0] = pl->recv_off[0] = 0;
  for (int d = 1; d < sp->ndest; d++) {
    if (sp->off[d + 1] == sp->off[d] && roff[d + 1] == roff[d]) continue;
    for (int64_t e = sp->off[d]; e < sp->off[d + 1]; e++)
      pl->send_k[ns++] = sp->k[e];
    for (int64_t e = roff[d]; e < roff[d + 1]; e++) pl->recv_k[nr++] = pos[e];
    pl->peer[pl->npeer++] = sp->dest[d];
    pl->send_off[pl->npeer] = ns;
    pl->recv_off[pl->npeer] = nr;
  }
  pl->nself = sp->off[1];
  NH_CALL(nh_malloc(pl->nself * sizeof *pl->self_src, &pl->self_src));
  NH_CALL(nh_malloc(pl->nself * sizeof *pl->self_dst, &pl->self_dst));
  for (int64_t e = 0; e < pl->nself; e++) {
    pl->self_src[e] = sp->k[e];
    pl->self_dst[e] = pos[e];
  }
  return NH_OK;
}

/* The records to send, slot by slot (slot 0, this rank's own ghosts, is
 * also written: it is copied to the receive buffer locally). */
static void pack_records(const nh_domain *dom, const send_plan *sp,
                         ghost_rec *sbuf) {
  const nh_atoms *at = &dom->atoms;
  for (int64_t e = 0; e < sp->off[sp->ndest]; e++) {
    int64_t k = sp->k[e];
    sbuf[e].gid = at->gid[k];
    sbuf[e].z = at->z[k];
    for (int c = 0; c < 3; c++) sbuf[e].n[c] = sp->n[e][c];
    nh_image_pos(dom->lattice, at->x[k], sp->n[e], sbuf[e].x);
  }
}

/* Local checks of one rank before the record exchange: message sizes must
 * fit MPI's int counts. */
static nh_err check_sizes(const send_plan *sp, const int64_t *roff) {
  const int64_t lim = INT_MAX / (int64_t)sizeof(ghost_rec);
  for (int d = 1; d < sp->ndest; d++)
    NH_CHECK(sp->off[d + 1] - sp->off[d] <= lim && roff[d + 1] - roff[d] <= lim,
             NH_ERR_MPI, "halo message to rank %d exceeds %lld ghosts; "
             "use more ranks or a smaller halo", sp->dest[d], (long long)lim);
  return NH_OK;
}

typedef struct halo_work {
  halo_geo g;
  send_plan sp;
  int64_t *scount, *rcount, *roff, *pos;
  ghost_rec *sbuf, *rbuf;
  MPI_Request *req;
} halo_work;

static void halo_work_free(halo_work *w) {
  nh_free(&w->g.box);
  send_plan_free(&w->sp);
  nh_free(&w->scount);
  nh_free(&w->rcount);
  nh_free(&w->roff);
  nh_free(&w->pos);
  nh_free(&w->sbuf);
  nh_free(&w->rbuf);
  nh_free(&w->req);
}

/* Local: send lists and count buffers. */
static nh_err prepare_sends(nh_domain *dom, halo_work *w) {
  int nd;
  NH_CALL(send_plan_build(dom, &w->g, &w->sp));
  nd = w->sp.ndest;
  NH_CALL(nh_malloc(nd * sizeof *w->scount, &w->scount));
  NH_CALL(nh_calloc(nd, sizeof *w->rcount, &w->rcount));
  NH_CALL(nh_malloc((nd + 1) * sizeof *w->roff, &w->roff));
  NH_CALL(nh_malloc(2 * nd * sizeof *w->req, &w->req));
  NH_CALL(nh_malloc(w->sp.off[nd] * sizeof *w->sbuf, &w->sbuf));
  for (int d = 0; d < nd; d++) w->scount[d] = w->sp.off[d + 1] - w->sp.off[d];
  pack_records(dom, &w->sp, w->sbuf);
  return NH_OK;
}

/* Local: receive buffer, with this rank's own images copied in. */
static nh_err prepare_recvs(halo_work *w) {
  int nd = w->sp.ndest;
  w->rcount[0] = w->scount[0];
  w->roff[0] = 0;
  for (int d = 0; d < nd; d++) w->roff[d + 1] = w->roff[d] + w->rcount[d];
  NH_CALL(check_sizes(&w->sp, w->roff));
  NH_CALL(nh_malloc(w->roff[nd] * sizeof *w->rbuf, &w->rbuf));
  NH_CALL(nh_malloc(w->roff[nd] * sizeof *w->pos, &w->pos));
  memcpy(w->rbuf, w->sbuf, w->scount[0] * sizeof *w->rbuf);
  return NH_OK;
}

nh_err nh_halo_setup(nh_domain *dom) {
  const nh_ctx *ctx = &dom->ctx;
  MPI_Comm comm = dom->plan.comm;
  nh_err err = NH_OK;
  halo_work w = {0};
  NH_CALL_GOTO(geo_init(dom, &w.g), done);
  NH_CALL_GOTO(nh_ctx_agree(ctx, prepare_sends(dom, &w)), done);
  NH_CALL_GOTO(exchange_counts(comm, &w.sp, w.scount, w.rcount, w.req), done);
  NH_CALL_GOTO(nh_ctx_agree(ctx, prepare_recvs(&w)), done);
  NH_CALL_GOTO(exchange_records(comm, &w.sp, w.sbuf, w.roff, w.rbuf, w.req),
               done);
  nh_free(&w.sbuf);
  err = append_ghosts(dom, &w.sp, w.roff, w.rbuf, w.pos);
  if (!err) err = make_plan(&dom->plan, &w.sp, w.roff, w.pos);
  NH_CALL_GOTO(nh_ctx_agree(ctx, err), done);
done:
  halo_work_free(&w);
  return err;
}

void nh_halo_plan_free(nh_halo_plan *pl) {
  nh_free(&pl->peer);
  nh_free(&pl->send_off);
  nh_free(&pl->send_k);
  nh_free(&pl->recv_off);
  nh_free(&pl->recv_k);
  nh_free(&pl->self_src);
  nh_free(&pl->self_dst);
  pl->npeer = 0;
  pl->nself = 0;
}

/* Packs, exchanges and unpacks; buffers hold width doubles per atom. */
static nh_err forward_exchange(const nh_halo_plan *pl, double *data,
                               int width, double *sbuf, double *rbuf,
                               MPI_Request *req) {
  int nr = 0;
  for (int64_t e = 0; e < pl->send_off[pl->npeer]; e++)
    memcpy(sbuf + e * width, data + pl->send_k[e] * width,
           width * sizeof *data);
  for (int p = 0; p < pl->npeer; p++) {
    int64_t cnt = (pl->recv_off[p + 1] - pl->recv_off[p]) * width;
    if (cnt)
      NH_MPI(MPI_Irecv(rbuf + pl->recv_off[p] * width, (int)cnt, MPI_DOUBLE,
                       pl->peer[p], HALO_TAG + 2, pl->comm, &req[nr++]));
  }
  for (int p = 0; p < pl->npeer; p++) {
    int64_t cnt = (pl->send_off[p + 1] - pl->send_off[p]) * width;
    if (cnt)
      NH_MPI(MPI_Isend(sbuf + pl->send_off[p] * width, (int)cnt, MPI_DOUBLE,
                       pl->peer[p], HALO_TAG + 2, pl->comm, &req[nr++]));
  }
  for (int64_t e = 0; e < pl->nself; e++)
    memcpy(data + pl->self_dst[e] * width, data + pl->self_src[e] * width,
           width * sizeof *data);
  NH_MPI(MPI_Waitall(nr, req, MPI_STATUSES_IGNORE));
  for (int64_t e = 0; e < pl->recv_off[pl->npeer]; e++)
    memcpy(data + pl->recv_k[e] * width, rbuf + e * width,
           width * sizeof *data);
  return NH_OK;
}

/* Ghost values go back to the peers that own them (the forward receive
 * list is the send list here) and are added to the owned entries. */
static nh_err reverse_exchange(const nh_halo_plan *pl, double *data,
                               int width, double *sbuf, double *rbuf,
                               MPI_Request *req) {
  int nr = 0;
  for (int64_t e = 0; e < pl->recv_off[pl->npeer]; e++)
    memcpy(sbuf + e * width, data + pl->recv_k[e] * width,
           width * sizeof *data);
  for (int p = 0; p < pl->npeer; p++) {
    int64_t cnt = (pl->send_off[p + 1] - pl->send_off[p]) * width;
    if (cnt)
      NH_MPI(MPI_Irecv(rbuf + pl->send_off[p] * width, (int)cnt, MPI_DOUBLE,
                       pl->peer[p], HALO_TAG + 3, pl->comm, &req[nr++]));
  }
  for (int p = 0; p < pl->npeer; p++) {
    int64_t cnt = (pl->recv_off[p + 1] - pl->recv_off[p]) * width;
    if (cnt)
      NH_MPI(MPI_Isend(sbuf + pl->recv_off[p] * width, (int)cnt, MPI_DOUBLE,
                       pl->peer[p], HALO_TAG + 3, pl->comm, &req[nr++]));
  }
  NH_MPI(MPI_Waitall(nr, req, MPI_STATUSES_IGNORE));
  for (int64_t e = 0; e < pl->send_off[pl->npeer]; e++)
    for (int c = 0; c < width; c++)
      data[pl->send_k[e] * width + c] += rbuf[e * width + c];
  for (int64_t e = 0; e < pl->nself; e++)
    for (int c = 0; c < width; c++)
      data[pl->self_src[e] * width + c] += data[pl->self_dst[e] * width + c];
  return NH_OK;
}

typedef nh_err (*exchange_fn)(const nh_halo_plan *, double *, int, double *,
                              double *, MPI_Request *);

/* Collective over the peers only: buffers for either direction (the send
 * and receive lists swap roles), then the exchange. */
static nh_err halo_exchange(const nh_domain *dom, double *data, int width,
                            exchange_fn fn) {
  NH_CHECK(dom && width >= 0, NH_ERR_ARG, "bad domain or width %d", width);
  const nh_halo_plan *pl = &dom->plan;
  int64_t lim = INT_MAX / (width ? width : 1);
  for (int p = 0; p < pl->npeer; p++)
    NH_CHECK(pl->send_off[p + 1] - pl->send_off[p] <= lim &&
                 pl->recv_off[p + 1] - pl->recv_off[p] <= lim,
             NH_ERR_MPI, "halo message of %d doubles per atom too large",
             width);
  if (!width) return NH_OK;
  nh_err err = NH_OK;
  double *sbuf = NULL, *rbuf = NULL;
  MPI_Request *req = NULL;
  int64_t nsend = pl->send_off[pl->npeer], nrecv = pl->recv_off[pl->npeer];
  int64_t nbuf = nsend > nrecv ? nsend : nrecv;
  NH_CALL_GOTO(nh_malloc(nbuf * width * sizeof *sbuf, &sbuf), done);
  NH_CALL_GOTO(nh_malloc(nbuf * width * sizeof *rbuf, &rbuf), done);
  NH_CALL_GOTO(nh_malloc(2 * pl->npeer * sizeof *req, &req), done);
  NH_CALL_GOTO(fn(pl, data, width, sbuf, rbuf, req), done);
done:
  nh_free(&sbuf);
  nh_free(&rbuf);
  nh_free(&req);
  return err;
}

nh_err nh_domain_forward(const nh_domain *dom, double *data, int width) {
  return halo_exchange(dom, data, width, forward_exchange);
}

nh_err nh_domain_reverse(const nh_domain *dom, double *data, int width) {
  return halo_exchange(dom, data, width, reverse_exchange);
}
