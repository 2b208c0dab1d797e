/* rho0 = sum_a rho_a(|r - R_a|) (+ core densities), its gradient and
 * sum_a V_na,a on the points of a batch, over the candidate atoms (owned
 * and ghost atoms, i.e. all periodic images within reach). */
#include <math.h>
#include <string.h>

#include "gridimpl.h"

/* Adds f(|r - x|) (and f' (r - x)/|r - x| to grad if grad) over points. */
static void add_radial(const nh_grid_fn *fn, const double x[3], int np,
                       const double (*r)[3], double *val, double *grad) {
  for (int p = 0; p < np; p++) {
    double d[3] = {r[p][0] - x[0], r[p][1] - x[1], r[p][2] - x[2]};
    double rr = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]), df = 0;
    if (rr >= fn->rcut)
      continue;
    val[p] += fn->f(fn->data, rr, grad ? &df : NULL);
    if (grad && rr > 0)
      for (int k = 0; k < 3; k++)
        grad[3 * p + k] += df * d[k] / rr;
  }
}

void grid_density(const grid_setup *g, grid_batch *bt, int need_rho,
                  int need_v) {
  int np = bt->np;
  memset(bt->rho, 0, (size_t)np * sizeof *bt->rho);
  memset(bt->grho, 0, (size_t)np * 3 * sizeof *bt->grho);
  memset(bt->v, 0, (size_t)np * sizeof *bt->v);
  for (int64_t q = 0; q < bt->ncand; q++) {
    int64_t a = bt->cand[q];
    const nh_grid_species *sp = g->sp[g->at->z[a]];
    const double *x = g->at->x[a];
    if (need_rho && sp->rho.f)
      add_radial(&sp->rho, x, np, (const double(*)[3])bt->r, bt->rho,
                 bt->grho);
    if (need_rho && sp->core.f)
      add_radial(&sp->core, x, np, (const double(*)[3])bt->r, bt->rho,
                 bt->grho);
    if (need_v && sp->vna.f)
      add_radial(&sp->vna, x, np, (const double(*)[3])bt->r, bt->v, NULL);
  }
}

/* Column of orbital o of the batch atom with global index gid at image
 * img, or -1. */
static int find_col(const grid_setup *g, const grid_batch *bt, int64_t gid,
                    const int img[3], int o) {
  for (int k = 0; k < bt->natom; k++) {
    int64_t a = bt->atom[k];
    if (g->at->gid[a] != gid || memcmp(g->at->image[a], img, sizeof(int[3])))
      continue;
    for (int c = bt->col0[k]; c < bt->col0[k + 1]; c++)
      if (bt->orb[c] == o)
        return c;
  }
  return -1;
}

void grid_density_perturb(const grid_setup *g, grid_batch *bt,
                          const grid_pert *p) {
  static const int zero[3] = {0, 0, 0};
  int ci = find_col(g, bt, p->gi, zero, p->oi);
  int cj = find_col(g, bt, p->gj, p->nj, p->oj);
  if (ci < 0 || cj < 0)
    return;
  int np = bt->np;
  const double *fi = bt->phi + (size_t)ci * np, *fj = bt->phi + (size_t)cj * np;
  const double *gi[3] = {bt->gx + (size_t)ci * np, bt->gy + (size_t)ci * np,
                         bt->gz + (size_t)ci * np};
  const double *gj[3] = {bt->gx + (size_t)cj * np, bt->gy + (size_t)cj * np,
                         bt->gz + (size_t)cj * np};
  for (int q = 0; q < np; q++) {
    bt->rho[q] += p->eps * fi[q] * fj[q];
    for (int k = 0; k < 3; k++)
      bt->grho[3 * q + k] += p->eps * (gi[k][q] * fj[q] + fi[q] * gj[k][q]);
  }
}
