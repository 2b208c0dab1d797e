/* PBE exchange-correlation through libxc (unpolarised): vrho = de/drho and
 * vsigma = de/dsigma, sigma = |grad rho|^2, of e = rho eps_xc. */
#include <string.h>

#include "gridimpl.h"

/* Below this density (electrons/bohr^3) a point has no XC: the atomic
 * densities are cut to zero at their radii, and GGA potentials of vanishing
 * densities are numerical noise. */
#define GRID_RHO_MIN 1e-10

nh_err grid_xc_init(grid_setup *g) {
  NH_CHECK(xc_func_init(&g->fx, XC_GGA_X_PBE, XC_UNPOLARIZED) == 0,
           NH_ERR_LIB, "libxc: cannot initialise GGA_X_PBE");
  if (xc_func_init(&g->fc, XC_GGA_C_PBE, XC_UNPOLARIZED) != 0) {
    xc_func_end(&g->fx);
    NH_CHECK(0, NH_ERR_LIB, "libxc: cannot initialise GGA_C_PBE");
  }
  g->xc_ready = 1;
  return NH_OK;
}

void grid_xc_end(grid_setup *g) {
  if (!g->xc_ready)
    return;
  xc_func_end(&g->fx);
  xc_func_end(&g->fc);
  g->xc_ready = 0;
}

void grid_xc_eval(grid_setup *g, grid_batch *bt) {
  int np = bt->np, n = 0;
  /* pack the points above the threshold to the front of sigma/rho copies:
   * a (rho), bx (sigma) serve as packed scratch, zk/vrho/vsigma as output */
  double *prho = bt->a, *psig = bt->bx, *ex = bt->by, *vx = bt->bz;
  double vsx[4096];
  int idx[4096];
  for (int p = 0; p < np; p++) {
    const double *gr = &bt->grho[3 * p];
    bt->sigma[p] = gr[0] * gr[0] + gr[1] * gr[1] + gr[2] * gr[2];
    bt->vrho[p] = bt->vsigma[p] = bt->zk[p] = 0;
    if (bt->rho[p] < GRID_RHO_MIN)
      continue;
    prho[n] = bt->rho[p];
    psig[n] = bt->sigma[p];
    idx[n++] = p;
  }
  if (!n)
    return;
  double ec[4096], vc[4096], vsc[4096];
  xc_gga_exc_vxc(&g->fx, n, prho, psig, ex, vx, vsx);
  xc_gga_exc_vxc(&g->fc, n, prho, psig, ec, vc, vsc);
  for (int k = 0; k < n; k++) {
    int p = idx[k];
    bt->zk[p] = ex[k] + ec[k];
    bt->vrho[p] = vx[k] + vc[k];
    bt->vsigma[p] = vsx[k] + vsc[k];
  }
}
