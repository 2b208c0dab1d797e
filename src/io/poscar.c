/* VASP 5 POSCAR/CONTCAR: reader and writer (docs/structures.md). */
#include "structioimpl.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

typedef struct poscar_head {
  double scale[3];  /* per Cartesian axis, after resolving a volume */
  double lat[3][3]; /* Å, scaled */
  int nspecies;
  int *z;      /* nspecies */
  long *count; /* nspecies */
  long natoms;
  int cartesian;
} poscar_head;

/* Next line, or an error naming what was expected. */
static nh_err need_line(nh_text *t, const char *what, char **line) {
  *line = nh_text_next(t);
  NH_CHECK(*line, NH_ERR_INPUT, "%s:%d: unexpected end of file: expected %s",
           t->path, t->lineno + 1, what);
  return NH_OK;
}

/* Line 2: one scale factor (negative: target volume in Å^3) or three
 * positive per-axis factors. Resolved once the lattice is known. */
static nh_err read_scale(nh_text *t, double scale[3], int *volume) {
  char *line, *tok[4];
  NH_CALL(need_line(t, "the scale factor", &line));
  int n = nh_tokenize(line, tok, 4);
  int nval = 0;
  for (int k = 0; k < 3 && k < n && nh_parse_double(tok[k], &scale[k]); k++)
    nval++;
  NH_CHECK(nval == 1 || nval == 3, NH_ERR_INPUT,
           "%s:%d: expected the scale factor (one number, or three), found "
           "'%s'",
           t->path, t->lineno, n ? tok[0] : "");
  *volume = 0;
  if (nval == 1) {
    NH_CHECK(scale[0] != 0, NH_ERR_INPUT, "%s:%d: the scale factor is zero",
             t->path, t->lineno);
    *volume = scale[0] < 0;
    scale[1] = scale[2] = scale[0];
  } else {
    NH_CHECK(scale[0] > 0 && scale[1] > 0 && scale[2] > 0, NH_ERR_INPUT,
             "%s:%d: three scale factors must all be positive", t->path,
             t->lineno);
  }
  return NH_OK;
}

static nh_err read_vector(nh_text *t, const char *what, double v[3]) {
  char *line, *tok[3];
  NH_CALL(need_line(t, what, &line));
  int n = nh_tokenize(line, tok, 3);
  NH_CHECK(n >= 3 && nh_parse_double(tok[0], &v[0]) &&
               nh_parse_double(tok[1], &v[1]) && nh_parse_double(tok[2], &v[2]),
           NH_ERR_INPUT, "%s:%d: expected %s (three numbers)", t->path,
           t->lineno, what);
  return NH_OK;
}

/* Lines 6-7: element symbols, then counts. A VASP 5 POTCAR label such as
 * "Si_pv" or "Si/abc123" names the element before '_' or '/'. */
static nh_err read_species(nh_text *t, poscar_head *h) {
  char *line, **tok = NULL;
  long dummy;
  NH_CALL(need_line(t, "the element symbols", &line));
  int n = nh_tokenize(line, NULL, 0);
  NH_CHECK(n > 0, NH_ERR_INPUT, "%s:%d: expected the element symbols",
           t->path, t->lineno);
  NH_CALL(nh_calloc((size_t)n, sizeof *h->z, &h->z));
  NH_CALL(nh_calloc((size_t)n, sizeof *h->count, &h->count));
  NH_CALL(nh_malloc((size_t)n * sizeof *tok, &tok));
  nh_err err = NH_OK;
  h->nspecies = n;
  nh_tokenize(line, tok, n);
  NH_CHECK_GOTO(!nh_parse_int(tok[0], &dummy), done, NH_ERR_INPUT,
                "%s:%d: this line holds atom counts but no element symbols: "
                "a VASP 4 POSCAR; add a line with the element symbols (e.g. "
                "'Si O') above the counts",
                t->path, t->lineno);
  for (int k = 0; k < n; k++) {
    tok[k][strcspn(tok[k], "_/")] = '\0';
    h->z[k] = nh_element_lookup(tok[k]);
    NH_CHECK_GOTO(h->z[k], done, NH_ERR_INPUT, "%s:%d: unknown element '%s'",
                  t->path, t->lineno, tok[k]);
  }
  NH_CALL_GOTO(need_line(t, "the atom counts", &line), done);
  NH_CHECK_GOTO(nh_tokenize(line, tok, n) == n, done, NH_ERR_INPUT,
                "%s:%d: expected %d atom counts, one per element symbol",
                t->path, t->lineno, n);
  h->natoms = 0;
  for (int k = 0; k < n; k++) {
    NH_CHECK_GOTO(nh_parse_int(tok[k], &h->count[k]) && h->count[k] > 0, done,
                  NH_ERR_INPUT,
                  "%s:%d: atom count '%s' is not a positive integer", t->path,
                  t->lineno, tok[k]);
    h->natoms += h->count[k];
  }
done:
  nh_free(&tok);
  return err;
}

/* Optional "Selective dynamics", then Direct or Cartesian (first letter d, or
 * c/k, any case). */
static nh_err read_mode(nh_text *t, int *cartesian) {
  char *line, *tok[1];
  NH_CALL(need_line(t, "Direct or Cartesian", &line));
  int n = nh_tokenize(line, tok, 1);
  if (n > 0 && tolower((unsigned char)tok[0][0]) == 's') {
    NH_CALL(need_line(t, "Direct or Cartesian", &line));
    n = nh_tokenize(line, tok, 1);
  }
  char c = n > 0 ? (char)tolower((unsigned char)tok[0][0]) : '\0';
  NH_CHECK(c == 'd' || c == 'c' || c == 'k', NH_ERR_INPUT,
           "%s:%d: expected 'Direct' or 'Cartesian' (or 'Selective "
           "dynamics'), found '%s'",
           t->path, t->lineno, n ? tok[0] : "");
  *cartesian = c != 'd';
  return NH_OK;
}

static nh_err read_head(nh_text *t, poscar_head *h) {
  int volume;
  NH_CHECK(nh_text_next(t), NH_ERR_INPUT, "%s:1: empty file", t->path);
  NH_CALL(read_scale(t, h->scale, &volume));
  static const char *what[3] = {"lattice vector a1", "lattice vector a2",
                                "lattice vector a3"};
  for (int k = 0; k < 3; k++) NH_CALL(read_vector(t, what[k], h->lat[k]));
  if (volume) {
    double v = fabs(nh_lattice_volume(h->lat));
    NH_CHECK(v > 0, NH_ERR_INPUT,
             "%s:2: a negative scale factor gives the volume, but the cell "
             "is singular",
             t->path);
    h->scale[0] = h->scale[1] = h->scale[2] = cbrt(-h->scale[0] / v);
  }
  for (int k = 0; k < 3; k++)
    for (int x = 0; x < 3; x++) h->lat[k][x] *= h->scale[x];
  NH_CALL(read_species(t, h));
  NH_CALL(read_mode(t, &h->cartesian));
  return NH_OK;
}

/* Positions, in file order; extra columns (selective-dynamics flags, labels)
 * and anything after the last atom (velocities) are ignored. */
static nh_err read_atoms(nh_text *t, const poscar_head *h, nh_structure *s) {
  long i = 0;
  for (int k = 0; k < h->nspecies; k++)
    for (long c = 0; c < h->count[k]; c++, i++) {
      char *line, *tok[3];
      double v[3];
      line = nh_text_next(t);
      NH_CHECK(line, NH_ERR_INPUT,
               "%s:%d: unexpected end of file: the counts give %ld atoms but "
               "only %ld coordinate lines follow",
               t->path, t->lineno + 1, h->natoms, i);
      int n = nh_tokenize(line, tok, 3);
      NH_CHECK(n >= 3 && nh_parse_double(tok[0], &v[0]) &&
                   nh_parse_double(tok[1], &v[1]) &&
                   nh_parse_double(tok[2], &v[2]),
               NH_ERR_INPUT,
               "%s:%d: expected three coordinates of atom %ld (%s)", t->path,
               t->lineno, i + 1, nh_element_symbol(h->z[k]));
      double r[3];
      if (h->cartesian)
        for (int x = 0; x < 3; x++) r[x] = v[x] * h->scale[x];
      else
        nh_lattice_to_cart(h->lat, v, r);
      for (int x = 0; x < 3; x++) s->pos[i][x] = r[x] * NH_ANG_TO_BOHR;
      s->z[i] = h->z[k];
    }
  return NH_OK;
}

nh_err nh_structure_read_poscar(const char *path, nh_structure **s) {
  NH_CHECK(path && s, NH_ERR_ARG, "nh_structure_read_poscar: NULL argument");
  nh_text t;
  poscar_head h = {0};
  nh_structure *r = NULL;
  nh_err err;
  NH_CALL(nh_text_open(path, &t));
  NH_CALL_GOTO(read_head(&t, &h), fail);
  /* Bounds the allocation by the file size before trusting the counts. */
  NH_CHECK_GOTO(h.natoms <= nh_text_lines_left(&t) && h.natoms < INT_MAX, fail, NH_ERR_INPUT,
                "%s:%d: the counts give %ld atoms but only %ld lines follow",
                path, t.lineno + 1, h.natoms, nh_text_lines_left(&t));
  NH_CALL_GOTO(nh_structure_create((int)h.natoms, &r), fail);
  NH_CALL_GOTO(read_atoms(&t, &h, r), fail);
  for (int k = 0; k < 3; k++)
    for (int x = 0; x < 3; x++) r->lattice[k][x] = h.lat[k][x] * NH_ANG_TO_BOHR;
  nh_structure_set_source(r, path);
  NH_CALL_GOTO(nh_structure_validate(r, NH_MIN_DIST), fail);
  nh_text_close(&t);
  nh_free(&h.z);
  nh_free(&h.count);
  *s = r;
  return NH_OK;
fail:
  nh_text_close(&t);
  nh_free(&h.z);
  nh_free(&h.count);
  nh_structure_destroy(&r);
  return err;
}

/* ------------------------------------------------------------------------- */
/* Writer: VASP 5, Cartesian Å, scale 1. Consecutive atoms of one element form
 * one species group, so atom order survives a round trip. */
static void write_groups(FILE *f, const nh_structure *s, int counts) {
  for (int i = 0; i < s->natoms;) {
    int j = i;
    while (j < s->natoms && s->z[j] == s->z[i]) j++;
    if (counts)
      fprintf(f, " %d", j - i);
    else
      fprintf(f, " %s", nh_element_symbol(s->z[i]));
    i = j;
  }
  fputc('\n', f);
}

nh_err nh_structure_write_poscar(const nh_structure *s, const char *path) {
  NH_CHECK(s && path, NH_ERR_ARG, "nh_structure_write_poscar: NULL argument");
  NH_CHECK(s->natoms > 0, NH_ERR_ARG, "%s: cannot write a POSCAR without atoms",
           path);
  FILE *f;
  NH_CALL(nh_wfile_open(path, &f));
  fprintf(f, "written by nextham from %s\n1.0\n",
          s->source[0] ? s->source : "(memory)");
  for (int k = 0; k < 3; k++)
    fprintf(f, " %22.15f %22.15f %22.15f\n",
            s->lattice[k][0] * NH_BOHR_ANGSTROM,
            s->lattice[k][1] * NH_BOHR_ANGSTROM,
            s->lattice[k][2] * NH_BOHR_ANGSTROM);
  write_groups(f, s, 0);
  write_groups(f, s, 1);
  fprintf(f, "Cartesian\n");
  for (int i = 0; i < s->natoms; i++)
    fprintf(f, " %22.15f %22.15f %22.15f\n", s->pos[i][0] * NH_BOHR_ANGSTROM,
            s->pos[i][1] * NH_BOHR_ANGSTROM, s->pos[i][2] * NH_BOHR_ANGSTROM);
  NH_CALL(nh_wfile_commit(path, &f));
  return NH_OK;
}
