/* k-paths (distances, labels, breaks), standard paths from spglib and
 * Monkhorst-Pack meshes. */
#include <math.h>
#include <string.h>

#include "nextham/kpoints.h"
#include "nhtest.h"

#define A_SI 5.43 /* Å, conventional cubic cell of si2 */

static void fcc_lattice(double lat[3][3], double a) {
  double L[3][3] = {{0, a / 2, a / 2}, {a / 2, 0, a / 2}, {a / 2, a / 2, 0}};
  for (int i = 0; i < 3; i++)
    for (int x = 0; x < 3; x++) lat[i][x] = L[i][x] / NH_BOHR_ANGSTROM;
}

/* CP2K's si2 path L-G-X-W-K-G, 8 intervals per segment (si2.inp) */
static void test_fcc_path(void **state) {
  (void)state;
  double lat[3][3];
  fcc_lattice(lat, A_SI);
  nh_kpoint_label pts[] = {{"L", {.5, .5, .5}, 0},   {"G", {0, 0, 0}, 0},
                           {"X", {.5, 0, .5}, 0},    {"W", {.5, .25, .75}, 0},
                           {"K", {.375, .375, .75}, 0}, {"G", {0, 0, 0}, 0}};
  nh_kpath *p;
  assert_nh_ok(nh_kpath_create(lat, 6, pts, 8, 0, &p));
  assert_int_equal(p->nk, 41);
  assert_int_equal(p->nlabels, 6);
  /* segment lengths in units of 2 pi / a (Cartesian k of each point) */
  double seg[5] = {sqrt(3) / 2, 1, 0.5, sqrt(2) / 4, 0.75 * sqrt(2)};
  double d = 0, u = 2 * M_PI / A_SI;
  for (int s = 0; s < 6; s++) {
    assert_int_equal(p->label_k[s], 8 * s);
    assert_string_equal(p->label[s], pts[s].label);
    assert_true(fabs(p->dist[8 * s] - d) < 1e-12);
    for (int x = 0; x < 3; x++) assert_true(p->k[8 * s][x] == pts[s].k[x]);
    if (s < 5) d += seg[s] * u;
  }
  /* CP2K's second point: (0.4375, 0.4375, 0.4375) at 1/8 of L-G */
  for (int x = 0; x < 3; x++) assert_true(fabs(p->k[1][x] - 0.4375) < 1e-15);
  assert_true(fabs(p->dist[1] - seg[0] * u / 8) < 1e-12);
  nh_kpath_destroy(&p);
  assert_null(p);

  /* a break: no distance across it, both points kept */
  pts[3].brk = 1;
  assert_nh_ok(nh_kpath_create(lat, 6, pts, 8, 0, &p));
  assert_int_equal(p->nk, 34);
  assert_int_equal(p->label_k[3], 17);
  assert_true(p->dist[17] == p->dist[16]);
  nh_kpath_destroy(&p);
  pts[3].brk = 0;

  /* density: ceil(length * density) intervals per segment */
  assert_nh_ok(nh_kpath_create(lat, 2, pts, 0, 10.0, &p));
  assert_int_equal(p->nk, (int)ceil(seg[0] * u * 10) + 1);
  nh_kpath_destroy(&p);

  nh_kpoint_label same[] = {{"G", {0, 0, 0}, 0}, {"G2", {0, 0, 0}, 0}};
  assert_nh_fails(nh_kpath_create(lat, 2, same, 8, 0, &p), NH_ERR_INPUT,
                  "G -> G2");
  assert_null(p);
}

static nh_structure *si2(const double lat[3][3]) {
  nh_structure *s;
  assert_nh_ok(nh_structure_create(2, &s));
  memcpy(s->lattice, lat, sizeof s->lattice);
  s->z[0] = s->z[1] = 14;
  for (int x = 0; x < 3; x++)
    s->pos[1][x] = 0.25 * (lat[0][x] + lat[1][x] + lat[2][x]);
  return s;
}

static void expect_labels(const nh_kpoint_label *p, int np, const char *want) {
  char got[256] = "";
  for (int i = 0; i < np; i++) {
    if (i) strcat(got, p[i].brk ? "|" : "-");
    strcat(got, p[i].label);
  }
  if (strcmp(got, want)) fprintf(stderr, "path %s, wanted %s\n", got, want);
  assert_string_equal(got, want);
}

/* Every special point but Gamma lies on the Brillouin-zone boundary: as
 * far from Gamma as from the nearest other reciprocal lattice vector, and
 * no nearer to any. */
static void expect_on_boundary(const double lat[3][3], const nh_kpoint_label *p,
                               int np) {
  double B[3][3];
  assert_nh_ok(nh_lattice_reciprocal(lat, B));
  for (int q = 0; q < np; q++) {
    double k[3] = {0, 0, 0}, d0 = 0, dmin = INFINITY;
    for (int i = 0; i < 3; i++)
      for (int x = 0; x < 3; x++) k[x] += p[q].k[i] * B[i][x];
    for (int x = 0; x < 3; x++) d0 += k[x] * k[x];
    if (d0 == 0) continue;
    for (int n0 = -2; n0 <= 2; n0++)
      for (int n1 = -2; n1 <= 2; n1++)
        for (int n2 = -2; n2 <= 2; n2++) {
          if (!n0 && !n1 && !n2) continue;
          double d = 0;
          for (int x = 0; x < 3; x++) {
            double g = n0 * B[0][x] + n1 * B[1][x] + n2 * B[2][x] - k[x];
            d += g * g;
          }
          dmin = fmin(dmin, d);
        }
    if (fabs(dmin - d0) > 1e-9 * d0)
      fprintf(stderr, "point %s (%g %g %g): |k|^2 %g, nearest G %g\n",
              p[q].label, p[q].k[0], p[q].k[1], p[q].k[2], d0, dmin);
    assert_true(fabs(dmin - d0) <= 1e-9 * d0);
  }
}

static void test_auto_fcc(void **state) {
  (void)state;
  double lat[3][3];
  fcc_lattice(lat, A_SI);
  nh_structure *s = si2(lat);
  nh_kpoint_label *p;
  int np;
  char name[32];
  assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
  assert_string_equal(name, "FCC");
  expect_labels(p, np, "G-X-W-K-G-L-U-W-L-K|U-X");
  expect_on_boundary(s->lattice, p, np);
  /* the cell is Setyawan-Curtarolo's own: coordinates as in their table */
  double W[3] = {.5, .25, .75}, U[3] = {.625, .25, .625};
  for (int x = 0; x < 3; x++) {
    assert_true(fabs(p[2].k[x] - W[x]) < 1e-12);
    assert_true(fabs(p[10].k[x] - U[x]) < 1e-12);
  }
  nh_free(&p);

  /* another primitive cell of the same crystal (vectors permuted and one
   * replaced by a sum): same labels, and X is still 2 pi / a along a cube
   * axis, L at sqrt(3) pi / a */
  double lat2[3][3];
  for (int x = 0; x < 3; x++) {
    lat2[0][x] = lat[1][x];
    lat2[1][x] = lat[2][x];
    lat2[2][x] = lat[0][x] + lat[1][x];
  }
  nh_structure *s2 = si2(lat2);
  for (int x = 0; x < 3; x++) s2->pos[1][x] = s->pos[1][x];
  assert_nh_ok(nh_kpath_auto(s2, 1e-4, &np, &p, name, sizeof name));
  expect_labels(p, np, "G-X-W-K-G-L-U-W-L-K|U-X");
  double recip[3][3];
  assert_nh_ok(nh_lattice_reciprocal(lat2, recip));
  const int xl[4] = {1, 5, 8, 11}; /* X, L, L, X */
  for (int r = 0; r < 4; r++) {
    int q = xl[r];
    double kc[3] = {0, 0, 0}, n2 = 0, mx = 0;
    for (int i = 0; i < 3; i++)
      for (int x = 0; x < 3; x++) kc[x] += p[q].k[i] * recip[i][x] / NH_BOHR_ANGSTROM;
    for (int x = 0; x < 3; x++) n2 += kc[x] * kc[x], mx = fmax(mx, fabs(kc[x]));
    if (p[q].label[0] == 'X') {
      assert_true(fabs(sqrt(n2) - 1 / A_SI) < 1e-12);
      assert_true(fabs(mx - 1 / A_SI) < 1e-12);
    } else {
      assert_true(fabs(sqrt(n2) - sqrt(3) / 2 / A_SI) < 1e-12);
    }
  }
  nh_free(&p);
  nh_structure_destroy(&s2);
  nh_structure_destroy(&s);
}

static void test_auto_other(void **state) {
  (void)state;
  nh_structure *s;
  nh_kpoint_label *p;
  int np;
  char name[32];
  /* bcc iron, primitive cell */
  assert_nh_ok(nh_structure_create(1, &s));
  double a = 2.87 / NH_BOHR_ANGSTROM;
  double bcc[3][3] = {{-a / 2, a / 2, a / 2}, {a / 2, -a / 2, a / 2}, {a / 2, a / 2, -a / 2}};
  memcpy(s->lattice, bcc, sizeof bcc);
  s->z[0] = 26;
  assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
  assert_string_equal(name, "BCC");
  expect_labels(p, np, "G-H-N-G-P-H|P-N");
  expect_on_boundary(s->lattice, p, np);
  nh_free(&p);
  /* simple tetragonal and orthorhombic cells */
  double tet[3][3] = {{a, 0, 0}, {0, a, 0}, {0, 0, 1.3 * a}};
  memcpy(s->lattice, tet, sizeof tet);
  assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
  assert_string_equal(name, "TET");
  expect_labels(p, np, "G-X-M-G-Z-R-A-Z|X-R|M-A");
  expect_on_boundary(s->lattice, p, np);
  nh_free(&p);
  s->lattice[1][1] = 1.1 * a;
  assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
  assert_string_equal(name, "ORC");
  expect_labels(p, np, "G-X-S-Y-G-Z-U-R-T-Z|Y-T|U-X|S-R");
  expect_on_boundary(s->lattice, p, np);
  nh_free(&p);
  /* body-centred tetragonal, c < a and c > a (primitive cells) */
  for (int v = 0; v < 2; v++) {
    double c = (v ? 1.6 : 0.7) * a;
    double bct[3][3] = {{-a / 2, a / 2, c / 2}, {a / 2, -a / 2, c / 2}, {a / 2, a / 2, -c / 2}};
    memcpy(s->lattice, bct, sizeof bct);
    assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
    assert_string_equal(name, v ? "BCT2" : "BCT1");
    expect_labels(p, np, v ? "G-X-Y-SIGMA-G-Z-SIGMA1-N-P-Y1-Z|X-P"
                           : "G-X-M-G-Z-P-N-Z1-M|X-P");
    expect_on_boundary(s->lattice, p, np);
    nh_free(&p);
  }
  /* rhombohedral, alpha below and above 90 degrees (primitive cells) */
  for (int v = 0; v < 2; v++) {
    double al = (v ? 100.0 : 57.0) * M_PI / 180, ch = cos(al / 2);
    double rhl[3][3] = {{a * ch, -a * sin(al / 2), 0}, {a * ch, a * sin(al / 2), 0},
                        {a * cos(al) / ch, 0, a * sqrt(1 - cos(al) * cos(al) / (ch * ch))}};
    memcpy(s->lattice, rhl, sizeof rhl);
    assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
    assert_string_equal(name, v ? "RHL2" : "RHL1");
    expect_labels(p, np, v ? "G-P-Z-Q-G-F-P1-Q1-L-Z" : "G-L-B1|B-Z-G-X|Q-F-P1-Z|L-P");
    expect_on_boundary(s->lattice, p, np);
    nh_free(&p);
  }
  /* triclinic: the generic path in the cell's own axes */
  double tri[3][3] = {{a, 0, 0}, {0.2 * a, 1.1 * a, 0}, {0.3 * a, 0.1 * a, 1.3 * a}};
  memcpy(s->lattice, tri, sizeof tri);
  assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
  assert_string_equal(name, "generic");
  assert_true(p[1].k[0] == 0.5 && p[1].k[1] == 0 && p[1].k[2] == 0);
  nh_free(&p);
  nh_structure_destroy(&s);

  /* graphene, a layer (not periodic along c): G-M-K-G only */
  assert_nh_ok(nh_structure_create(2, &s));
  double g = 2.46 / NH_BOHR_ANGSTROM;
  double hex[3][3] = {{g, 0, 0}, {-g / 2, g * sqrt(3) / 2, 0}, {0, 0, 15 / NH_BOHR_ANGSTROM}};
  memcpy(s->lattice, hex, sizeof hex);
  s->z[0] = s->z[1] = 6;
  s->pbc[2] = 0;
  for (int x = 0; x < 3; x++) s->pos[1][x] = (hex[0][x] + 2 * hex[1][x]) / 3;
  assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
  assert_string_equal(name, "HEX");
  expect_labels(p, np, "G-M-K-G");
  assert_true(fabs(p[2].k[0] - 1. / 3) < 1e-12 && fabs(p[2].k[1] - 1. / 3) < 1e-12);
  nh_free(&p);
  s->pbc[2] = 1;
  assert_nh_ok(nh_kpath_auto(s, 1e-4, &np, &p, name, sizeof name));
  expect_labels(p, np, "G-M-K-G-A-L-H-A|L-M|K-H");
  expect_on_boundary(s->lattice, p, np);
  nh_free(&p);
  nh_structure_destroy(&s);
}

/* sorts nothing: checks that the reduced mesh with its weights covers the
 * full mesh exactly, every full point being a point or minus a point */
static void check_cover(const nh_kmesh *red, const nh_kmesh *full, int tr) {
  double wsum = 0;
  for (int q = 0; q < red->nk; q++) wsum += red->w[q];
  assert_true(fabs(wsum - 1) < 1e-14);
  double *got;
  assert_nh_ok(nh_calloc((size_t)red->nk, sizeof *got, &got));
  for (int f = 0; f < full->nk; f++) {
    int hits = 0;
    for (int q = 0; q < red->nk; q++)
      for (int sgn = 1; sgn >= (tr ? -1 : 1); sgn -= 2) {
        int same = 1;
        for (int x = 0; x < 3; x++) {
          double d = full->k[f][x] - sgn * red->k[q][x];
          same &= fabs(d - round(d)) < 1e-12;
        }
        if (same) {
          got[q] += full->w[f];
          hits++;
          break;
        }
      }
    assert_int_equal(hits, 1);
  }
  for (int q = 0; q < red->nk; q++) assert_true(fabs(got[q] - red->w[q]) < 1e-14);
  nh_free(&got);
}

static void test_mp_mesh(void **state) {
  (void)state;
  nh_kmesh *full, *red;
  int n4[3] = {4, 4, 4}, n3[3] = {3, 3, 3}, n2[3] = {2, 3, 1};
  /* even: 1/8, 3/8 ... no Gamma, every point paired with its negative */
  assert_nh_ok(nh_kmesh_mp(n4, NULL, 0, &full));
  assert_int_equal(full->nk, 64);
  for (int x = 0; x < 3; x++) assert_true(fabs(full->k[0][x] + 0.375) < 1e-15);
  assert_nh_ok(nh_kmesh_mp(n4, NULL, 1, &red));
  assert_int_equal(red->nk, 32);
  for (int q = 0; q < red->nk; q++) assert_true(fabs(red->w[q] - 2. / 64) < 1e-15);
  check_cover(red, full, 1);
  nh_kmesh_destroy(&full);
  nh_kmesh_destroy(&red);
  assert_null(red);
  /* odd: Gamma-centred, Gamma its own partner */
  assert_nh_ok(nh_kmesh_mp(n3, NULL, 0, &full));
  assert_nh_ok(nh_kmesh_mp(n3, NULL, 1, &red));
  assert_int_equal(red->nk, 14);
  int gamma = 0;
  for (int q = 0; q < red->nk; q++)
    if (red->k[q][0] == 0 && red->k[q][1] == 0 && red->k[q][2] == 0) {
      gamma++;
      assert_true(fabs(red->w[q] - 1. / 27) < 1e-15);
    }
  assert_int_equal(gamma, 1);
  check_cover(red, full, 1);
  nh_kmesh_destroy(&full);
  nh_kmesh_destroy(&red);
  /* a half-step shift of an odd mesh and a mixed mesh still pair up */
  double half[3] = {0.5, 0.5, 0.5}, quarter[3] = {0.25, 0, 0};
  assert_nh_ok(nh_kmesh_mp(n3, half, 0, &full));
  assert_true(fabs(full->k[0][0] - (-1. / 6)) < 1e-15);
  assert_nh_ok(nh_kmesh_mp(n3, half, 1, &red));
  check_cover(red, full, 1);
  nh_kmesh_destroy(&full);
  nh_kmesh_destroy(&red);
  assert_nh_ok(nh_kmesh_mp(n2, NULL, 0, &full));
  assert_nh_ok(nh_kmesh_mp(n2, NULL, 1, &red));
  assert_int_equal(red->nk, 3); /* (+-1/4, {-1/3, 0, 1/3}, 0) -> 3 pairs */
  check_cover(red, full, 1);
  nh_kmesh_destroy(&full);
  nh_kmesh_destroy(&red);
  /* a quarter-step shift has no k -> -k symmetry: the mesh stays whole */
  assert_nh_ok(nh_kmesh_mp(n2, quarter, 1, &red));
  assert_int_equal(red->nk, 6);
  nh_kmesh_destroy(&red);
  int bad[3] = {0, 1, 1};
  assert_nh_fails(nh_kmesh_mp(bad, NULL, 1, &red), NH_ERR_INPUT, "along b1");
  assert_null(red);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fcc_path),
      cmocka_unit_test(test_auto_fcc),
      cmocka_unit_test(test_auto_other),
      cmocka_unit_test(test_mp_mesh),
  };
  int fail = cmocka_run_group_tests(tests, NULL, NULL);
  MPI_Finalize();
  return fail ? 1 : 0;
}
