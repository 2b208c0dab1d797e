/* k-paths through labelled special points, standard paths from the lattice
 * (spglib + Setyawan-Curtarolo), Monkhorst-Pack meshes. */
#include <math.h>
#include <spglib.h>
#include <stdio.h>
#include <string.h>

#include "nextham/kpoints.h"

/* ---------------------------------------------------------------------------
 * Paths
 * ------------------------------------------------------------------------- */

/* |Delta k_cart| in Å^-1 between two fractional k-points */
static double kdist(const double recip[3][3], const double a[3],
                    const double b[3]) {
  double d[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++)
    for (int x = 0; x < 3; x++) d[x] += (b[i] - a[i]) * recip[i][x];
  return 2 * M_PI * sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) /
         NH_BOHR_ANGSTROM;
}

static int intervals(double len, int nseg, double density) {
  if (density <= 0) return nseg;
  int n = (int)ceil(len * density - 1e-9);
  return n < 1 ? 1 : n;
}

static nh_err kpath_alloc(int nk, int nlabels, nh_kpath **path) {
  nh_kpath *p;
  NH_CALL(nh_calloc(1, sizeof *p, &p));
  *path = p;
  p->nk = nk;
  p->nlabels = nlabels;
  NH_CALL(nh_malloc((size_t)nk * sizeof *p->k, &p->k));
  NH_CALL(nh_malloc((size_t)nk * sizeof *p->dist, &p->dist));
  NH_CALL(nh_malloc((size_t)nlabels * sizeof *p->label_k, &p->label_k));
  NH_CALL(nh_calloc((size_t)nlabels, sizeof *p->label, &p->label));
  return NH_OK;
}

nh_err nh_kpath_create(const double lat[3][3], int np,
                       const nh_kpoint_label *pts, int nseg, double density,
                       nh_kpath **path) {
  double recip[3][3];
  *path = NULL;
  NH_CHECK(np >= 2, NH_ERR_INPUT, "a k-path needs at least 2 special points, got %d", np);
  NH_CHECK(nseg >= 1 || density > 0, NH_ERR_INPUT,
           "a k-path needs at least 1 interval per segment, got %d", nseg);
  NH_CALL(nh_lattice_reciprocal(lat, recip));
  int nk = 1;
  for (int p = 1; p < np; p++) {
    if (pts[p].brk) { nk++; continue; }
    double len = kdist(recip, pts[p - 1].k, pts[p].k);
    NH_CHECK(len > 1e-10, NH_ERR_INPUT,
             "k-path segment %s -> %s (points %d, %d) has zero length",
             pts[p - 1].label, pts[p].label, p, p + 1);
    nk += intervals(len, nseg, density);
  }
  nh_err err;
  nh_kpath *P = NULL;
  NH_CALL_GOTO(kpath_alloc(nk, np, &P), fail);
  int q = 0;
  double d0 = 0;
  for (int p = 0; p < np; p++) {
    if (p == 0 || pts[p].brk) { /* a new run starts at this point */
      memcpy(P->k[q], pts[p].k, sizeof P->k[q]);
      P->dist[q++] = d0;
    } else {
      double len = kdist(recip, pts[p - 1].k, pts[p].k);
      int n = intervals(len, nseg, density);
      for (int j = 1; j <= n; j++) {
        for (int x = 0; x < 3; x++)
          P->k[q][x] = pts[p - 1].k[x] + (pts[p].k[x] - pts[p - 1].k[x]) * j / n;
        P->dist[q++] = d0 + len * j / n;
      }
      memcpy(P->k[q - 1], pts[p].k, sizeof P->k[q - 1]); /* exact end point */
      d0 += len;
    }
    P->label_k[p] = q - 1;
    snprintf(P->label[p], sizeof P->label[p], "%s", pts[p].label);
  }
  *path = P;
  return NH_OK;
fail:
  nh_kpath_destroy(&P);
  return err;
}

nh_err nh_kpath_destroy(nh_kpath **path) {
  if (!path || !*path) return NH_OK;
  nh_free(&(*path)->k);
  nh_free(&(*path)->dist);
  nh_free(&(*path)->label_k);
  nh_free(&(*path)->label);
  nh_free(path);
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Standard paths (Setyawan & Curtarolo 2010, Table/figures of each lattice).
 * Points are fractional in the reciprocal basis of their primitive cell,
 * whose vectors are the columns of `centring` in conventional coordinates.
 * A label starting with '|' starts a new run (a break before it).
 * ------------------------------------------------------------------------- */
typedef struct sc_point {
  const char *label;
  double k[3];
} sc_point;

typedef struct sc_lattice {
  const char *name;
  double centring[3][3]; /* columns: primitive vectors in conventional coords */
  const sc_point *path;
  int np;
} sc_lattice;

#define ID3 {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
static const sc_point path_cub[] = {
    {"G", {0, 0, 0}},      {"X", {0, .5, 0}},  {"M", {.5, .5, 0}},
    {"G", {0, 0, 0}},      {"R", {.5, .5, .5}}, {"X", {0, .5, 0}},
    {"|M", {.5, .5, 0}},   {"R", {.5, .5, .5}}};
static const sc_point path_fcc[] = {
    {"G", {0, 0, 0}},         {"X", {.5, 0, .5}},      {"W", {.5, .25, .75}},
    {"K", {.375, .375, .75}}, {"G", {0, 0, 0}},        {"L", {.5, .5, .5}},
    {"U", {.625, .25, .625}}, {"W", {.5, .25, .75}},   {"L", {.5, .5, .5}},
    {"K", {.375, .375, .75}}, {"|U", {.625, .25, .625}}, {"X", {.5, 0, .5}}};
static const sc_point path_bcc[] = {
    {"G", {0, 0, 0}},     {"H", {.5, -.5, .5}},   {"N", {0, 0, .5}},
    {"G", {0, 0, 0}},     {"P", {.25, .25, .25}}, {"H", {.5, -.5, .5}},
    {"|P", {.25, .25, .25}}, {"N", {0, 0, .5}}};
static const sc_point path_tet[] = {
    {"G", {0, 0, 0}},   {"X", {0, .5, 0}},   {"M", {.5, .5, 0}},
    {"G", {0, 0, 0}},   {"Z", {0, 0, .5}},   {"R", {0, .5, .5}},
    {"A", {.5, .5, .5}}, {"Z", {0, 0, .5}},  {"|X", {0, .5, 0}},
    {"R", {0, .5, .5}}, {"|M", {.5, .5, 0}}, {"A", {.5, .5, .5}}};
static const sc_point path_orc[] = {
    {"G", {0, 0, 0}},    {"X", {.5, 0, 0}},    {"S", {.5, .5, 0}},
    {"Y", {0, .5, 0}},   {"G", {0, 0, 0}},     {"Z", {0, 0, .5}},
    {"U", {.5, 0, .5}},  {"R", {.5, .5, .5}},  {"T", {0, .5, .5}},
    {"Z", {0, 0, .5}},   {"|Y", {0, .5, 0}},   {"T", {0, .5, .5}},
    {"|U", {.5, 0, .5}}, {"X", {.5, 0, 0}},    {"|S", {.5, .5, 0}},
    {"R", {.5, .5, .5}}};
static const sc_point path_hex[] = {
    {"G", {0, 0, 0}},          {"M", {.5, 0, 0}},         {"K", {1. / 3, 1. / 3, 0}},
    {"G", {0, 0, 0}},          {"A", {0, 0, .5}},         {"L", {.5, 0, .5}},
    {"H", {1. / 3, 1. / 3, .5}}, {"A", {0, 0, .5}},         {"|L", {.5, 0, .5}},
    {"M", {.5, 0, 0}},         {"|K", {1. / 3, 1. / 3, 0}}, {"H", {1. / 3, 1. / 3, .5}}};

#define NPATH(p) ((int)(sizeof p / sizeof p[0]))
#define BCC_CENTRING {{-.5, .5, .5}, {.5, -.5, .5}, {.5, .5, -.5}}
static const sc_lattice lattices[] = {
    {"CUB", ID3, path_cub, NPATH(path_cub)},
    {"FCC", {{0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}}, path_fcc, NPATH(path_fcc)},
    {"BCC", BCC_CENTRING, path_bcc, NPATH(path_bcc)},
    {"TET", ID3, path_tet, NPATH(path_tet)},
    {"ORC", ID3, path_orc, NPATH(path_orc)},
    {"HEX", ID3, path_hex, NPATH(path_hex)},
};
enum {
  LAT_CUB, LAT_FCC, LAT_BCC, LAT_TET, LAT_ORC, LAT_HEX, LAT_BCT, LAT_RHL,
  LAT_GENERIC
};

/* Bravais lattice from the space-group number and the centring letter;
 * LAT_GENERIC when no standard path is implemented. */
static int bravais(int sg, char centring) {
  if (sg >= 195) return centring == 'P' ? LAT_CUB : centring == 'F' ? LAT_FCC
                      : centring == 'I' ? LAT_BCC : LAT_GENERIC;
  if (sg >= 143) return centring == 'P' ? LAT_HEX : centring == 'R' ? LAT_RHL
                      : LAT_GENERIC;
  if (sg >= 75) return centring == 'P' ? LAT_TET : centring == 'I' ? LAT_BCT
                     : LAT_GENERIC;
  if (sg >= 16) return centring == 'P' ? LAT_ORC : LAT_GENERIC;
  return LAT_GENERIC;
}

/* Body-centred tetragonal: the points depend on c/a (BCT1 for c < a, BCT2
 * for c > a). pts must hold 12 points. */
static sc_lattice bct_lattice(double a, double c, sc_point *pts) {
  sc_lattice L = {"BCT1", BCC_CENTRING, pts, 0};
  if (c < a) {
    double e = (1 + c * c / (a * a)) / 4;
    const sc_point p[] = {
        {"G", {0, 0, 0}},    {"X", {0, 0, .5}},        {"M", {-.5, .5, .5}},
        {"G", {0, 0, 0}},    {"Z", {e, e, -e}},        {"P", {.25, .25, .25}},
        {"N", {0, .5, 0}},   {"Z1", {-e, 1 - e, e}},   {"M", {-.5, .5, .5}},
        {"|X", {0, 0, .5}},  {"P", {.25, .25, .25}}};
    L.np = NPATH(p);
    memcpy(pts, p, sizeof p);
  } else {
    double e = (1 + a * a / (c * c)) / 4, z = a * a / (2 * c * c);
    const sc_point p[] = {
        {"G", {0, 0, 0}},          {"X", {0, 0, .5}},       {"Y", {-z, z, .5}},
        {"SIGMA", {-e, e, e}},     {"G", {0, 0, 0}},        {"Z", {.5, .5, -.5}},
        {"SIGMA1", {e, 1 - e, -e}}, {"N", {0, .5, 0}},      {"P", {.25, .25, .25}},
        {"Y1", {.5, .5, -z}},      {"Z", {.5, .5, -.5}},    {"|X", {0, 0, .5}},
        {"P", {.25, .25, .25}}};
    L.name = "BCT2";
    L.np = NPATH(p);
    memcpy(pts, p, sizeof p);
  }
  return L;
}

static int inv3(const double m[3][3], double r[3][3]) {
  double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
               m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
               m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  if (fabs(det) < 1e-12) return -1;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      int i1 = (j + 1) % 3, i2 = (j + 2) % 3, j1 = (i + 1) % 3, j2 = (i + 2) % 3;
      r[i][j] = (m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]) / det;
    }
  return 0;
}

/* spglib's (P, centring) for the structure: conventional basis
 * (a_c b_c c_c) = (a b c) P^-1. */
/* Rhombohedral, from spglib's hexagonal setting (a, c): the obverse
 * primitive vectors (2/3,1/3,1/3), (-1/3,1/3,1/3), (-1/3,-2/3,1/3) have the
 * angle alpha; RHL1 for alpha < 90 degrees, RHL2 above. pts holds 16. */
static sc_lattice rhl_lattice(double a, double c, sc_point *pts) {
  sc_lattice L = {"RHL1",
                  {{2. / 3, -1. / 3, -1. / 3}, {1. / 3, 1. / 3, -2. / 3},
                   {1. / 3, 1. / 3, 1. / 3}}, pts, 0};
  double ca = (c * c / 9 - a * a / 6) / (a * a / 3 + c * c / 9);
  if (ca > 0) {
    double e = (1 + 4 * ca) / (2 + 4 * ca), v = 0.75 - e / 2;
    const sc_point p[] = {
        {"G", {0, 0, 0}},        {"L", {.5, 0, 0}},       {"B1", {.5, 1 - e, e - 1}},
        {"|B", {e, .5, 1 - e}},  {"Z", {.5, .5, .5}},     {"G", {0, 0, 0}},
        {"X", {v, 0, -v}},       {"|Q", {1 - v, v, 0}},   {"F", {.5, .5, 0}},
        {"P1", {1 - v, 1 - v, 1 - e}}, {"Z", {.5, .5, .5}}, {"|L", {.5, 0, 0}},
        {"P", {e, v, v}}};
    L.np = NPATH(p);
    memcpy(pts, p, sizeof p);
  } else {
    double t = tan(0.5 * acos(ca)), e = 1 / (2 * t * t), v = 0.75 - e / 2;
    const sc_point p[] = {
        {"G", {0, 0, 0}},          {"P", {1 - v, -v, 1 - v}}, {"Z", {.5, -.5, .5}},
        {"Q", {e, e, e}},          {"G", {0, 0, 0}},          {"F", {.5, -.5, 0}},
        {"P1", {v, v - 1, v - 1}}, {"Q1", {1 - e, -e, -e}},   {"L", {.5, 0, 0}},
        {"Z", {.5, -.5, .5}}};
    L.name = "RHL2";
    L.np = NPATH(p);
    memcpy(pts, p, sizeof p);
  }
  return L;
}

static nh_err find_lattice(const nh_structure *s, double symprec, int *lat,
                           double P[3][3], double abc[3]) {
  double L[3][3], recip[3][3], (*frac)[3] = NULL;
  NH_CALL(nh_lattice_reciprocal(s->lattice, recip));
  NH_CALL(nh_malloc((size_t)s->natoms * sizeof *frac, &frac));
  for (int a = 0; a < s->natoms; a++)
    nh_lattice_to_frac(recip, s->pos[a], frac[a]);
  for (int i = 0; i < 3; i++) /* spglib: lattice vectors as columns, Å */
    for (int x = 0; x < 3; x++) L[x][i] = s->lattice[i][x] * NH_BOHR_ANGSTROM;
  SpglibDataset *ds = spg_get_dataset(L, frac, s->z,
                                      s->natoms, symprec);
  nh_free(&frac);
  *lat = LAT_GENERIC;
  memcpy(P, (double[3][3])ID3, sizeof(double[3][3]));
  if (ds) {
    *lat = bravais(ds->spacegroup_number, ds->international_symbol[0]);
    memcpy(P, ds->transformation_matrix, sizeof(double[3][3]));
    for (int i = 0; i < 3; i++) /* conventional lengths (columns), Å */
      abc[i] = sqrt(ds->std_lattice[0][i] * ds->std_lattice[0][i] +
                    ds->std_lattice[1][i] * ds->std_lattice[1][i] +
                    ds->std_lattice[2][i] * ds->std_lattice[2][i]);
    spg_free_dataset(ds);
  }
  return NH_OK;
}

nh_err nh_kpath_auto(const nh_structure *s, double symprec, int *np,
                     nh_kpoint_label **pts, char *lattice_name, size_t len) {
  int lat = LAT_GENERIC;
  double P[3][3], Cinv[3][3], T[3][3], abc[3] = {1, 1, 1};
  sc_point bct[16]; /* BCT and RHL paths, built for the cell's shape */
  sc_lattice Lbct;
  *np = 0;
  *pts = NULL;
  NH_CALL(find_lattice(s, symprec, &lat, P, abc));
  const sc_lattice *L;
  if (lat == LAT_BCT || lat == LAT_RHL) { /* points depend on the shape */
    Lbct = lat == LAT_BCT ? bct_lattice(abc[0], abc[2], bct)
                          : rhl_lattice(abc[0], abc[2], bct);
    L = &Lbct;
  } else { /* BCT and RHL have no entry in the fixed table */
    L = &lattices[lat == LAT_GENERIC ? LAT_ORC : lat];
  }
  if (lat == LAT_GENERIC) /* the cell's own axes */
    memcpy(P, (double[3][3])ID3, sizeof P);
  NH_CHECK(!inv3(L->centring, Cinv), NH_ERR_INTERNAL, "singular centring");
  /* k_user = (C^-1 P)^T k_sc: k_user_j = a_j . k_cart */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      T[i][j] = 0;
      for (int m = 0; m < 3; m++) T[i][j] += Cinv[i][m] * P[m][j];
    }
  snprintf(lattice_name, len, "%s", lat == LAT_GENERIC ? "generic" : L->name);
  NH_CALL(nh_calloc((size_t)L->np, sizeof **pts, pts));
  int n = 0, brk = 0;
  for (int p = 0; p < L->np; p++) {
    const char *lab = L->path[p].label;
    double k[3];
    int keep = 1;
    brk |= lab[0] == '|';
    for (int j = 0; j < 3; j++) {
      k[j] = 0;
      for (int i = 0; i < 3; i++) k[j] += T[i][j] * L->path[p].k[i];
      if (fabs(k[j]) < 1e-12) k[j] = 0;
      if (!s->pbc[j] && k[j] != 0) keep = 0;
    }
    if (!keep) { brk = 1; continue; }
    /* a run of one point draws nothing: the new run replaces it */
    if (brk && n > 0 && (n == 1 || (*pts)[n - 1].brk)) n--;
    nh_kpoint_label *q = &(*pts)[n++];
    snprintf(q->label, sizeof q->label, "%s", lab + (lab[0] == '|'));
    memcpy(q->k, k, sizeof k);
    q->brk = brk && n > 1;
    brk = 0;
  }
  if (n > 1 && (*pts)[n - 1].brk) n--; /* trailing single point */
  *np = n;
  if (n < 2) nh_free(pts);
  NH_CHECK(n >= 2, NH_ERR_INPUT,
           "%s: no standard k-path for a structure periodic along %d%d%d",
           s->source, s->pbc[0], s->pbc[1], s->pbc[2]);
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Monkhorst-Pack meshes
 * ------------------------------------------------------------------------- */

static double wrap_half(double x) { /* into (-1/2, 1/2] */
  x -= floor(x + 0.5);
  if (x <= -0.5 + 1e-12) x += 1;
  if (fabs(x) < 1e-14) x = 0;
  return x;
}

nh_err nh_kmesh_mp(const int n[3], const double *shift, int time_reversal,
                   nh_kmesh **mesh) {
  double s[3] = {0, 0, 0};
  *mesh = NULL;
  if (shift) memcpy(s, shift, sizeof s);
  for (int i = 0; i < 3; i++)
    NH_CHECK(n[i] >= 1 && n[i] <= 10000, NH_ERR_INPUT,
             "k-mesh size %d along b%d must be 1 .. 10000", n[i], i + 1);
  int64_t ntot = (int64_t)n[0] * n[1] * n[2];
  NH_CHECK(ntot < (1 << 28), NH_ERR_INPUT, "k-mesh of %lld points is too large",
           (long long)ntot);
  /* -k is on the mesh iff r' = -r - 2c - 2s is an integer (c = -(n-1)/2) */
  int off[3];
  for (int i = 0; i < 3; i++) {
    double o = -(n[i] - 1) + 2 * s[i];
    if (fabs(o - round(o)) > 1e-9) time_reversal = 0;
    off[i] = (int)round(o);
  }
  nh_err err;
  nh_kmesh *m = NULL;
  int *partner = NULL;
  NH_CALL_GOTO(nh_calloc(1, sizeof *m, &m), fail);
  NH_CALL_GOTO(nh_malloc((size_t)ntot * sizeof *m->k, &m->k), fail);
  NH_CALL_GOTO(nh_malloc((size_t)ntot * sizeof *m->w, &m->w), fail);
  NH_CALL_GOTO(nh_malloc((size_t)ntot * sizeof *partner, &partner), fail);
  for (int64_t q = 0; q < ntot; q++) partner[q] = -1;
  for (int r0 = 0; r0 < n[0]; r0++)
    for (int r1 = 0; r1 < n[1]; r1++)
      for (int r2 = 0; r2 < n[2]; r2++) {
        int r[3] = {r0, r1, r2}, rm[3];
        int64_t q = ((int64_t)r0 * n[1] + r1) * n[2] + r2;
        if (time_reversal && partner[q] >= 0) { /* -k seen: double weight */
          m->w[partner[q]] += 1.0 / (double)ntot;
          continue;
        }
        for (int i = 0; i < 3; i++) {
          m->k[m->nk][i] = wrap_half((r[i] + s[i] - 0.5 * (n[i] - 1)) / n[i]);
          rm[i] = ((-r[i] - off[i]) % n[i] + n[i]) % n[i];
        }
        m->w[m->nk] = 1.0 / (double)ntot;
        partner[((int64_t)rm[0] * n[1] + rm[1]) * n[2] + rm[2]] = m->nk++;
      }
  nh_free(&partner);
  *mesh = m;
  return NH_OK;
fail:
  nh_free(&partner);
  nh_kmesh_destroy(&m);
  return err;
}

nh_err nh_kmesh_destroy(nh_kmesh **mesh) {
  if (!mesh || !*mesh) return NH_OK;
  nh_free(&(*mesh)->k);
  nh_free(&(*mesh)->w);
  nh_free(mesh);
  return NH_OK;
}
