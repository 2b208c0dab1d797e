/* The atomic structure object, the element table, lattice helpers and CP2K's
 * wrapping convention. Formats live in src/io (poscar.c, xyz.c, cp2k_input.c),
 * validation in validate.c. */
#include "nextham/structure.h"

#include <math.h>
#include <string.h>

nh_err nh_structure_create(int natoms, nh_structure **s) {
  NH_CHECK(s, NH_ERR_ARG, "nh_structure_create: NULL handle");
  NH_CHECK(natoms >= 0, NH_ERR_ARG, "nh_structure_create: natoms = %d < 0",
           natoms);
  nh_structure *t = NULL;
  nh_err err;
  NH_CALL(nh_calloc(1, sizeof *t, &t));
  t->natoms = natoms;
  for (int k = 0; k < 3; k++) t->pbc[k] = 1;
  NH_CALL_GOTO(nh_calloc((size_t)natoms, sizeof *t->pos, &t->pos), fail);
  NH_CALL_GOTO(nh_calloc((size_t)natoms, sizeof *t->z, &t->z), fail);
  *s = t;
  return NH_OK;
fail:
  nh_structure_destroy(&t);
  return err;
}

nh_err nh_structure_destroy(nh_structure **s) {
  if (!s || !*s) return NH_OK;
  nh_free(&(*s)->pos);
  nh_free(&(*s)->z);
  nh_free(s);
  return NH_OK;
}

nh_err nh_structure_copy(const nh_structure *src, nh_structure **dst) {
  NH_CHECK(src && dst, NH_ERR_ARG, "nh_structure_copy: NULL argument");
  nh_structure *t = NULL;
  NH_CALL(nh_structure_create(src->natoms, &t));
  memcpy(t->lattice, src->lattice, sizeof t->lattice);
  memcpy(t->pbc, src->pbc, sizeof t->pbc);
  memcpy(t->source, src->source, sizeof t->source);
  memcpy(t->pos, src->pos, (size_t)src->natoms * sizeof *t->pos);
  memcpy(t->z, src->z, (size_t)src->natoms * sizeof *t->z);
  *dst = t;
  return NH_OK;
}

/* ------------------------------------------------------------------------- */
/* Elements 1..118. */
static const char *const element_symbols[119] = {
    "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na",
    "Mg", "Al", "Si", "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",
    "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br",
    "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag",
    "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
    "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
    "Hf", "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi",
    "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U",  "Np", "Pu", "Am",
    "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh",
    "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

int nh_element_number(const char *symbol) {
  if (!symbol || !symbol[0]) return 0;
  for (int z = 1; z <= 118; z++)
    if (strcmp(symbol, element_symbols[z]) == 0) return z;
  return 0;
}

const char *nh_element_symbol(int z) {
  return (z >= 1 && z <= 118) ? element_symbols[z] : "";
}

/* ------------------------------------------------------------------------- */
/* Lattice helpers. */
static void cross(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

double nh_lattice_volume(const double lat[3][3]) {
  double c[3];
  cross(lat[1], lat[2], c);
  return lat[0][0] * c[0] + lat[0][1] * c[1] + lat[0][2] * c[2];
}

/* recip rows b_k = (a_{k+1} x a_{k+2}) / V; returns 0 for a singular lattice. */
static int reciprocal(const double lat[3][3], double recip[3][3]) {
  double v = nh_lattice_volume(lat);
  if (v == 0 || !isfinite(v)) return 0;
  for (int k = 0; k < 3; k++) {
    cross(lat[(k + 1) % 3], lat[(k + 2) % 3], recip[k]);
    for (int x = 0; x < 3; x++) recip[k][x] /= v;
  }
  return 1;
}

nh_err nh_lattice_reciprocal(const double lat[3][3], double recip[3][3]) {
  NH_CHECK(reciprocal(lat, recip), NH_ERR_NUMERIC,
           "cannot invert a singular lattice (volume %g bohr^3)",
           nh_lattice_volume(lat));
  return NH_OK;
}

void nh_lattice_to_frac(const double recip[3][3], const double r[3],
                        double s[3]) {
  for (int k = 0; k < 3; k++)
    s[k] = recip[k][0] * r[0] + recip[k][1] * r[1] + recip[k][2] * r[2];
}

void nh_lattice_to_cart(const double lat[3][3], const double s[3],
                        double r[3]) {
  for (int x = 0; x < 3; x++)
    r[x] = s[0] * lat[0][x] + s[1] * lat[1][x] + s[2] * lat[2][x];
}

/* r -> r - n.A with n_k = round(s_k) (C's round() rounds half away from zero,
 * as Fortran's ANINT) along periodic directions. Subtracting whole lattice
 * vectors, rather than rebuilding r from the wrapped s, leaves atoms that need
 * no shift bit-identical; the result equals CP2K's s.A to rounding. A singular
 * lattice (never one that passed validation) leaves positions unchanged. */
void nh_structure_wrap_cp2k(const nh_structure *s, double (*pos_out)[3]) {
  double recip[3][3];
  int ok = reciprocal(s->lattice, recip);
  for (int i = 0; i < s->natoms; i++) {
    double r[3] = {s->pos[i][0], s->pos[i][1], s->pos[i][2]}, f[3];
    if (ok) {
      nh_lattice_to_frac(recip, r, f);
      for (int k = 0; k < 3; k++) {
        double n = s->pbc[k] ? round(f[k]) : 0.0;
        if (n == 0 || !isfinite(n)) continue;
        for (int x = 0; x < 3; x++) r[x] -= n * s->lattice[k][x];
      }
    }
    for (int x = 0; x < 3; x++) pos_out[i][x] = r[x];
  }
}
