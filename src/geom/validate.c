/* nh_structure_validate: the checks every structure passes before use. Each
 * message names the source file and the atoms at fault (1-based). */
#include "nextham/neighbor.h"
#include "nextham/structure.h"

#include <math.h>

/* Coordinates and cell vectors beyond this are taken for a unit mistake; it
 * also bounds the cell-list grid of the neighbour search. */
#define MAX_COORD_ANGSTROM 1.0e6
/* A periodic cell this skewed (a layer spacing below min_dist / MAX_SKEW)
 * would make the distance check scan (2 MAX_SKEW + 1)^3 image shifts per
 * atom or more; no sensible (reduced) cell comes close: ask for one. */
#define MAX_SKEW 20.0

static const char *src(const nh_structure *s) {
  return s->source[0] ? s->source : "(structure)";
}

static double norm(const double v[3]) {
  return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

static nh_err check_atoms(const nh_structure *s) {
  NH_CHECK(s->natoms >= 1, NH_ERR_INPUT, "%s: the structure has no atoms",
           src(s));
  for (int i = 0; i < s->natoms; i++) {
    NH_CHECK(s->z[i] >= 1 && s->z[i] <= 118, NH_ERR_INPUT,
             "%s: atom %d has an unknown atomic number %d", src(s), i + 1,
             s->z[i]);
    const double *r = s->pos[i];
    NH_CHECK(isfinite(r[0]) && isfinite(r[1]) && isfinite(r[2]), NH_ERR_INPUT,
             "%s: atom %d (%s) has a coordinate that is not a finite number",
             src(s), i + 1, nh_element_symbol(s->z[i]));
    double d = norm(r) * NH_BOHR_ANGSTROM;
    NH_CHECK(d <= MAX_COORD_ANGSTROM, NH_ERR_INPUT,
             "%s: atom %d (%s) is %.3g Å from the origin, beyond %.0e Å "
             "(wrong units?)",
             src(s), i + 1, nh_element_symbol(s->z[i]), d, MAX_COORD_ANGSTROM);
  }
  return NH_OK;
}

/* Non-singular (|det| / (|a1||a2||a3|) > 1e-8) and right-handed. */
static nh_err check_cell(const nh_structure *s) {
  double len[3], vol = nh_lattice_volume(s->lattice);
  for (int k = 0; k < 3; k++) {
    len[k] = norm(s->lattice[k]);
    NH_CHECK(isfinite(len[k]) && len[k] * NH_BOHR_ANGSTROM <= MAX_COORD_ANGSTROM,
             NH_ERR_INPUT, "%s: lattice vector a%d is not finite or longer "
             "than %.0e Å (wrong units?)", src(s), k + 1, MAX_COORD_ANGSTROM);
  }
  double rel = vol / (len[0] * len[1] * len[2]);
  NH_CHECK(len[0] > 0 && len[1] > 0 && len[2] > 0 && fabs(rel) > 1e-8,
           NH_ERR_INPUT,
           "%s: the cell is singular: lattice vectors a1, a2, a3 are (nearly) "
           "linearly dependent (det / (|a1||a2||a3|) = %.3g, volume %.6g Å^3)",
           src(s), len[0] * len[1] * len[2] > 0 ? rel : 0.0,
           vol * pow(NH_BOHR_ANGSTROM, 3));
  NH_CHECK(vol > 0, NH_ERR_INPUT,
           "%s: the cell is left-handed (det(a1, a2, a3) = %.6g Å^3 < 0): swap "
           "two lattice vectors (and, for fractional coordinates, the two "
           "matching columns)",
           src(s), vol * pow(NH_BOHR_ANGSTROM, 3));
  return NH_OK;
}

/* Along periodic directions: every lattice vector at least min_dist long
 * (else each atom is that close to its own image), and a cell not so skewed
 * that the neighbour search would need millions of images. */
static nh_err check_periodic(const nh_structure *s, double min_dist) {
  double vol = nh_lattice_volume(s->lattice);
  for (int k = 0; k < 3; k++) {
    if (!s->pbc[k]) continue;
    double len = norm(s->lattice[k]) * NH_BOHR_ANGSTROM;
    NH_CHECK(len >= min_dist * NH_BOHR_ANGSTROM, NH_ERR_INPUT,
             "%s: lattice vector a%d is %.6f Å long along a periodic "
             "direction, shorter than the minimum distance %.6f Å: every "
             "atom would be that close to its own periodic image",
             src(s), k + 1, len, min_dist * NH_BOHR_ANGSTROM);
    const double *u = s->lattice[(k + 1) % 3], *v = s->lattice[(k + 2) % 3];
    double c[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2],
                   u[0] * v[1] - u[1] * v[0]};
    double h = vol / norm(c);
    NH_CHECK(h * MAX_SKEW >= min_dist, NH_ERR_INPUT,
             "%s: the cell is extremely skewed (the layer spacing along a%d "
             "is %.3g Å): use a reduced cell",
             src(s), k + 1, h * NH_BOHR_ANGSTROM);
  }
  return NH_OK;
}

/* The closest pair i <= j with r < min_dist; reports it and how many such
 * pairs there are. */
static nh_err check_distances(const nh_structure *s, double min_dist) {
  nh_neighbors *nl = NULL;
  NH_CALL(nh_neighbors_build_periodic(s, min_dist, 0, &nl));
  const nh_pair *best = NULL;
  int64_t count = 0;
  for (int64_t p = 0; p < nl->npairs; p++) {
    const nh_pair *q = &nl->pairs[p];
    if (q->i > q->j || q->r >= min_dist) continue;
    count++;
    if (!best || q->r < best->r) best = q;
  }
  if (!best) {
    nh_neighbors_destroy(&nl);
    return NH_OK;
  }
  nh_pair b = *best;
  nh_neighbors_destroy(&nl);
  int i = (int)b.i, j = (int)b.j;
  const char *si = nh_element_symbol(s->z[i]), *sj = nh_element_symbol(s->z[j]);
  double r = b.r * NH_BOHR_ANGSTROM, dmin = min_dist * NH_BOHR_ANGSTROM;
  NH_CHECK(i != j, NH_ERR_INPUT,
           "%s: atom %d (%s) is %.6f Å from its own periodic image (image "
           "%d %d %d), closer than %.6f Å: the cell is too small",
           src(s), i + 1, si, r, b.n[0], b.n[1], b.n[2], dmin);
  /* The pair list works on wrapped positions; whether the pair is close
   * through a boundary is judged from the positions as given. */
  double direct = 0;
  for (int x = 0; x < 3; x++)
    direct += (s->pos[j][x] - s->pos[i][x]) * (s->pos[j][x] - s->pos[i][x]);
  NH_CHECK(fabs(sqrt(direct) - b.r) > 1e-9 * fmax(1.0, b.r), NH_ERR_INPUT,
           "%s: atoms %d (%s) and %d (%s) are %.6f Å apart, closer than %.6f "
           "Å (%lld pair(s) too close)",
           src(s), i + 1, si, j + 1, sj, r, dmin, (long long)count);
  NH_CHECK(0, NH_ERR_INPUT,
           "%s: atoms %d (%s) and %d (%s) are %.6f Å apart through the "
           "periodic boundary, closer than %.6f Å (%lld pair(s) too close)",
           src(s), i + 1, si, j + 1, sj, r, dmin, (long long)count);
  return NH_OK;
}

nh_err nh_structure_validate(const nh_structure *s, double min_dist) {
  NH_CHECK(s, NH_ERR_ARG, "nh_structure_validate: NULL structure");
  NH_CALL(check_atoms(s));
  NH_CALL(check_cell(s));
  if (min_dist > 0) {
    NH_CALL(check_periodic(s, min_dist));
    NH_CALL(check_distances(s, min_dist));
  }
  return NH_OK;
}
