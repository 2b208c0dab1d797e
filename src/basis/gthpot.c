/* GTH pseudopotentials: the full entry of a CP2K GTH_POTENTIALS file, the
 * local potential and the HGH projectors (docs/atom.md). */
#include "nextham/gth.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "cp2kfile.h"
#include "nextham/basis.h"
#include "nextham/structure.h"

/* Next content line of the entry; fails with `what` if the entry ends. */
static nh_err next_in_entry(nh_cp2k_reader *r, const char *what) {
  int eof;
  NH_CALL(nh_cp2k_next(r, &eof));
  NH_CHECK(!eof && !nh_cp2k_is_header(r), NH_ERR_FILE,
           "%s:%d: potential ends early: %s", r->path, r->lineno, what);
  return NH_OK;
}

/* One projector block: "r nprj h11 h12 .. h1n", then n-1 lines with the
 * rest of the upper triangle of h (n-1 values, n-2, ...). */
static nh_err read_projector(nh_cp2k_reader *r, int l, nh_gth *g) {
  char what[64];
  snprintf(what, sizeof what, "projector of l = %d missing", l);
  NH_CALL(next_in_entry(r, what));
  NH_CALL(nh_cp2k_double(r, 0, "projector radius", &g->rl[l]));
  NH_CHECK(g->rl[l] > 0, NH_ERR_FILE, "%s:%d: projector radius must be positive",
           r->path, r->lineno);
  int n;
  NH_CALL(nh_cp2k_int(r, 1, "number of projectors", &n));
  NH_CHECK(n >= 0 && n <= NH_GTH_NPRJ, NH_ERR_FILE,
           "%s:%d: number of projectors must be 0..%d, got %d", r->path,
           r->lineno, NH_GTH_NPRJ, n);
  g->nprj[l] = n;
  NH_CALL(nh_cp2k_expect(r, 2 + n, "radius, nprj and the first row of h"));
  for (int i = 0; i < n; i++) {
    if (i > 0) {
      snprintf(what, sizeof what, "row %d of h for l = %d missing", i + 1, l);
      NH_CALL(next_in_entry(r, what));
      NH_CALL(nh_cp2k_expect(r, n - i, "one row of the upper triangle of h"));
    }
    int k0 = i ? 0 : 2;
    for (int j = i; j < n; j++) {
      NH_CALL(nh_cp2k_double(r, k0 + j - i, "projector coefficient",
                             &g->h[l][i][j]));
      g->h[l][j][i] = g->h[l][i][j];
    }
  }
  return NH_OK;
}

/* Optional non-linear core correction after the local part: "NLCC n",
 * then n lines "r_core nexp c(1..nexp)"; leaves the reader on the next line. */
static nh_err read_nlcc(nh_cp2k_reader *r, nh_gth *g) {
  int eof;
  NH_CALL(nh_cp2k_expect(r, 2, "NLCC and the number of core terms"));
  NH_CALL(nh_cp2k_int(r, 1, "number of NLCC terms", &g->ncore));
  NH_CHECK(g->ncore >= 0 && g->ncore <= NH_GTH_NCORE, NH_ERR_FILE,
           "%s:%d: number of NLCC terms must be 0..%d", r->path, r->lineno,
           NH_GTH_NCORE);
  for (int k = 0; k < g->ncore; k++) {
    NH_CALL(nh_cp2k_next(r, &eof));
    NH_CHECK(!eof, NH_ERR_FILE, "%s: potential ends early in NLCC", r->path);
    NH_CALL(nh_cp2k_double(r, 0, "NLCC r_core", &g->rcore[k]));
    NH_CALL(nh_cp2k_int(r, 1, "NLCC nexp", &g->ncc[k]));
    NH_CHECK(g->ncc[k] >= 0 && g->ncc[k] <= NH_GTH_NCORE, NH_ERR_FILE,
             "%s:%d: NLCC nexp must be 0..%d", r->path, r->lineno,
             NH_GTH_NCORE);
    NH_CALL(nh_cp2k_expect(r, 2 + g->ncc[k], "r_core, nexp and coefficients"));
    for (int i = 0; i < g->ncc[k]; i++)
      NH_CALL(nh_cp2k_double(r, 2 + i, "NLCC value", &g->ccore[k][i]));
  }
  NH_CALL(nh_cp2k_next(r, &eof));
  NH_CHECK(!eof, NH_ERR_FILE, "%s: potential ends early after NLCC", r->path);
  return NH_OK;
}

/* First line: electrons per l; the ionic charge is their sum. */
static nh_err read_electrons(nh_cp2k_reader *r, nh_gth *g) {
  NH_CALL(next_in_entry(r, "expected electrons per l"));
  NH_CHECK(r->ntok <= NH_GTH_LMAX + 1, NH_ERR_FILE,
           "%s:%d: electrons given for more than l = 0..%d", r->path,
           r->lineno, NH_GTH_LMAX);
  g->nl_elec = r->ntok;
  for (int k = 0; k < r->ntok; k++) {
    NH_CALL(nh_cp2k_int(r, k, "number of electrons", &g->nelec[k]));
    NH_CHECK(g->nelec[k] >= 0, NH_ERR_FILE,
             "%s:%d: negative number of electrons", r->path, r->lineno);
    g->zion += g->nelec[k];
  }
  return NH_OK;
}

/* Local part: "r_loc nexp C1 .. Cnexp". */
static nh_err read_local(nh_cp2k_reader *r, nh_gth *g) {
  NH_CALL(next_in_entry(r, "expected r_loc line"));
  NH_CALL(nh_cp2k_double(r, 0, "r_loc", &g->rloc));
  NH_CHECK(g->rloc > 0, NH_ERR_FILE, "%s:%d: r_loc must be positive",
           r->path, r->lineno);
  NH_CALL(nh_cp2k_int(r, 1, "number of local coefficients", &g->nloc));
  NH_CHECK(g->nloc >= 0 && g->nloc <= NH_GTH_NLOC, NH_ERR_FILE,
           "%s:%d: number of local coefficients must be 0..%d", r->path,
           r->lineno, NH_GTH_NLOC);
  NH_CALL(nh_cp2k_expect(r, 2 + g->nloc, "r_loc, nexp and the coefficients"));
  for (int k = 0; k < g->nloc; k++)
    NH_CALL(nh_cp2k_double(r, 2 + k, "local coefficient", &g->cloc[k]));
  return NH_OK;
}

/* The body of a GTH entry, the reader standing on its header. */
static nh_err read_entry(nh_cp2k_reader *r, nh_gth *g) {
  int eof;
  NH_CALL(read_electrons(r, g));
  NH_CALL(read_local(r, g));
  NH_CALL(nh_cp2k_next(r, &eof));
  if (!eof && strcasecmp(r->tok[0], "NLCC") == 0) NH_CALL(read_nlcc(r, g));
  NH_CHECK(!eof && !nh_cp2k_is_header(r), NH_ERR_FILE,
           "%s:%d: potential ends early: expected the number of projector "
           "sets", r->path, r->lineno);
  NH_CALL(nh_cp2k_expect(r, 1, "number of projector sets"));
  NH_CALL(nh_cp2k_int(r, 0, "number of projector sets", &g->nl));
  NH_CHECK(g->nl >= 0 && g->nl <= NH_GTH_LMAX + 1, NH_ERR_FILE,
           "%s:%d: number of projector sets must be 0..%d", r->path,
           r->lineno, NH_GTH_LMAX + 1);
  for (int l = 0; l < g->nl; l++) NH_CALL(read_projector(r, l, g));
  /* The entry must end here: the next content line is another header. */
  NH_CALL(nh_cp2k_next(r, &eof));
  NH_CHECK(eof || nh_cp2k_is_header(r), NH_ERR_FILE,
           "%s:%d: malformed potential: unexpected line after the last "
           "projector (wrong count of projectors or coefficients above?)",
           r->path, r->lineno);
  return NH_OK;
}

nh_err nh_gth_load(nh_gth *g, int z, const char *file, const char *name) {
  NH_CHECK(z >= 1 && z <= NH_MAX_Z, NH_ERR_ARG, "invalid atomic number %d", z);
  NH_CHECK(name && name[0], NH_ERR_INPUT, "no potential name given for %s",
           nh_element_symbol(z));
  memset(g, 0, sizeof *g);
  g->z = z;
  snprintf(g->name, sizeof g->name, "%s", name);
  nh_cp2k_reader r;
  NH_CALL(nh_cp2k_open(file, &r));
  snprintf(g->file, sizeof g->file, "%.255s", r.path);
  nh_err err = NH_OK;
  NH_CALL_GOTO(nh_cp2k_find_entry(&r, z, name, "potential"), done);
  NH_CALL_GOTO(read_entry(&r, g), done);
  NH_CHECK_GOTO(g->zion > 0, done, NH_ERR_FILE,
                "%s: potential %s of %s has no valence electrons", r.path,
                name, nh_element_symbol(z));
done:
  nh_cp2k_close(&r);
  return err;
}

/* erf(a r)/r and its r-derivative, by series where a r is small (the
 * closed form of the derivative cancels there). */
static double erf_over_r(double a, double r, double *d) {
  double x = a * r;
  if (x < 1e-2) {
    double x2 = x * x, c = 2 * a / sqrt(M_PI);
    *d = c * a * x * (-2.0 / 3 + x2 * (2.0 / 5 - x2 * (1.0 / 7)));
    return c * (1 - x2 / 3 + x2 * x2 / 10 - x2 * x2 * x2 / 42);
  }
  double e = erf(x) / r;
  *d = (2 * a / sqrt(M_PI) * exp(-x * x) - e) / r;
  return e;
}

double nh_gth_vloc(const nh_gth *g, double r, double *dv) {
  double de, e = erf_over_r(1 / (M_SQRT2 * g->rloc), r, &de);
  double t = r / g->rloc, t2 = t * t, gauss = exp(-0.5 * t2);
  double poly = 0, dpoly = 0; /* in t2 */
  for (int i = g->nloc - 1; i >= 0; i--) {
    dpoly = dpoly * t2 + poly;
    poly = poly * t2 + g->cloc[i];
  }
  /* d/dr [gauss poly(t2)] = gauss (dpoly - poly/2) 2 t / rloc */
  if (dv)
    *dv = -g->zion * de + gauss * (dpoly - 0.5 * poly) * 2 * t / g->rloc;
  return -g->zion * e + gauss * poly;
}

double nh_gth_projector(const nh_gth *g, int l, int i, double r) {
  double rl = g->rl[l], q = l + (4 * i - 1) / 2.0;
  return M_SQRT2 * pow(r, l + 2 * (i - 1)) * exp(-0.5 * r * r / (rl * rl)) /
         (pow(rl, q) * sqrt(tgamma(q)));
}

double nh_gth_projector_gauss(const nh_gth *g, int l, int i, double alpha) {
  /* int r^(2l+2i) exp(-p r^2) dr = Gamma(l+i+1/2) / (2 p^(l+i+1/2)) */
  double rl = g->rl[l], q = l + (4 * i - 1) / 2.0, s = l + i + 0.5;
  double p = alpha + 0.5 / (rl * rl);
  return M_SQRT2 / (pow(rl, q) * sqrt(tgamma(q))) * tgamma(s) /
         (2 * pow(p, s));
}

double nh_gth_core_density(const nh_gth *g, double r, double *d) {
  double rho = 0, drho = 0;
  for (int k = 0; k < g->ncore; k++) {
    double t = r / g->rcore[k], t2 = t * t, gauss = exp(-0.5 * t2);
    double poly = 0, dpoly = 0; /* in t2 */
    for (int i = g->ncc[k] - 1; i >= 0; i--) {
      dpoly = dpoly * t2 + poly;
      poly = poly * t2 + g->ccore[k][i];
    }
    rho += gauss * poly;
    drho += gauss * (dpoly - 0.5 * poly) * 2 * t / g->rcore[k];
  }
  if (d) *d = drho / (4 * M_PI);
  return rho / (4 * M_PI);
}
