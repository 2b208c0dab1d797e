/* Extended and plain XYZ: reader (first frame) and writer
 * (docs/structures.md). */
#include "structioimpl.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

/* What the comment line says. Columns count whitespace tokens of an atom
 * line. */
typedef struct xyz_head {
  int has_lattice, has_pbc;
  double lat[3][3]; /* Å */
  int pbc[3];
  int col_species, col_pos, ncols;
} xyz_head;

/* One key=value pair of the comment line. The value may be quoted with "
 * or '; a key without '=' is a flag (value ""). Returns 0 at the end. Key
 * and value are NUL-terminated in place; *p advances. */
static int next_pair(char **p, char **key, char **val) {
  char *q = *p;
  while (*q && isspace((unsigned char)*q)) q++;
  if (!*q) return 0;
  *key = q;
  while (*q && *q != '=' && !isspace((unsigned char)*q)) q++;
  *val = q; /* "" unless '=' follows */
  if (*q == '=') {
    *q++ = '\0';
    if (*q == '"' || *q == '\'') {
      char quote = *q++;
      *val = q;
      while (*q && *q != quote) q++;
    } else {
      *val = q;
      while (*q && !isspace((unsigned char)*q)) q++;
    }
  }
  if (*q) *q++ = '\0';
  *p = q;
  return 1;
}

static int parse_bool(const char *tok, int *b) {
  static const char *yes[] = {"T", "True", "1"}, *no[] = {"F", "False", "0"};
  for (int k = 0; k < 3; k++) {
    if (nh_strcasecmp_ascii(tok, yes[k]) == 0) return *b = 1, 1;
    if (nh_strcasecmp_ascii(tok, no[k]) == 0) return *b = 0, 1;
  }
  return 0;
}

static nh_err parse_lattice(const nh_text *t, char *val, xyz_head *h) {
  char *tok[9];
  int n = nh_tokenize(val, tok, 9);
  int ok = n == 9;
  for (int k = 0; ok && k < 9; k++)
    ok = nh_parse_double(tok[k], &h->lat[k / 3][k % 3]);
  NH_CHECK(ok, NH_ERR_INPUT,
           "%s:%d: Lattice must hold nine numbers \"ax ay az bx by bz cx cy "
           "cz\" (Å)",
           t->path, t->lineno);
  h->has_lattice = 1;
  return NH_OK;
}

static nh_err parse_pbc(const nh_text *t, char *val, xyz_head *h) {
  char *tok[3];
  int n = nh_tokenize(val, tok, 3);
  NH_CHECK(n == 3 && parse_bool(tok[0], &h->pbc[0]) &&
               parse_bool(tok[1], &h->pbc[1]) && parse_bool(tok[2], &h->pbc[2]),
           NH_ERR_INPUT, "%s:%d: pbc must hold three of T/F, e.g. pbc=\"T T F\"",
           t->path, t->lineno);
  h->has_pbc = 1;
  return NH_OK;
}

/* Properties=name:type:ncols:... ; finds species (S, 1 column) and pos (R, 3
 * columns) and the total number of columns. */
static nh_err parse_properties(const nh_text *t, char *val, xyz_head *h) {
  int col = 0, nfield = 0;
  h->col_species = h->col_pos = -1;
  for (char *p = val; *p;) {
    char *f[3];
    for (int k = 0; k < 3; k++) {
      f[k] = p;
      p += strcspn(p, ":");
      NH_CHECK(*p || k == 2, NH_ERR_INPUT,
               "%s:%d: Properties must be name:type:columns triples, e.g. "
               "species:S:1:pos:R:3",
               t->path, t->lineno);
      if (*p) *p++ = '\0';
    }
    long ncol;
    NH_CHECK(nh_parse_int(f[2], &ncol) && ncol >= 1 && ncol <= 1000 &&
                 strlen(f[1]) == 1 && strchr("SRIL", f[1][0]),
             NH_ERR_INPUT,
             "%s:%d: bad Properties entry '%s:%s:%s' (type S, R, I or L and a "
             "positive column count)",
             t->path, t->lineno, f[0], f[1], f[2]);
    if (strcmp(f[0], "species") == 0) {
      NH_CHECK(f[1][0] == 'S' && ncol == 1, NH_ERR_INPUT,
               "%s:%d: Properties: species must be species:S:1", t->path,
               t->lineno);
      h->col_species = col;
    } else if (strcmp(f[0], "pos") == 0) {
      NH_CHECK(f[1][0] == 'R' && ncol == 3, NH_ERR_INPUT,
               "%s:%d: Properties: pos must be pos:R:3", t->path, t->lineno);
      h->col_pos = col;
    }
    col += (int)ncol;
    NH_CHECK(++nfield <= 1000, NH_ERR_INPUT, "%s:%d: too many Properties",
             t->path, t->lineno);
  }
  NH_CHECK(h->col_species >= 0 && h->col_pos >= 0, NH_ERR_INPUT,
           "%s:%d: Properties must contain species:S:1 and pos:R:3", t->path,
           t->lineno);
  h->ncols = col;
  return NH_OK;
}

/* The comment line: free text is allowed (plain XYZ); only the keys
 * Lattice, pbc and Properties (any case) are interpreted. */
static nh_err parse_comment(const nh_text *t, char *line, xyz_head *h) {
  char *key, *val;
  h->col_species = 0;
  h->col_pos = 1;
  h->ncols = 4;
  while (next_pair(&line, &key, &val)) {
    if (nh_strcasecmp_ascii(key, "Lattice") == 0)
      NH_CALL(parse_lattice(t, val, h));
    else if (nh_strcasecmp_ascii(key, "pbc") == 0)
      NH_CALL(parse_pbc(t, val, h));
    else if (nh_strcasecmp_ascii(key, "Properties") == 0)
      NH_CALL(parse_properties(t, val, h));
  }
  if (h->has_lattice && !h->has_pbc) h->pbc[0] = h->pbc[1] = h->pbc[2] = 1;
  NH_CHECK(h->has_lattice || !(h->pbc[0] || h->pbc[1] || h->pbc[2]),
           NH_ERR_INPUT,
           "%s:%d: pbc has periodic directions but there is no Lattice",
           t->path, t->lineno);
  return NH_OK;
}

/* The species column: an element symbol (any case) or an atomic number. */
static int species_z(const char *tok) {
  long z;
  if (nh_parse_int(tok, &z)) return (z >= 1 && z <= 118) ? (int)z : 0;
  return nh_element_lookup(tok);
}

static nh_err read_atoms(nh_text *t, const xyz_head *h, nh_structure *s) {
  int need = h->ncols;
  char **tok = NULL;
  nh_err err = NH_OK;
  NH_CALL(nh_malloc((size_t)need * sizeof *tok, &tok));
  for (int i = 0; i < s->natoms; i++) {
    char *line = nh_text_next(t);
    NH_CHECK_GOTO(line, done, NH_ERR_INPUT,
                  "%s:%d: unexpected end of file: line 1 gives %d atoms, "
                  "found %d",
                  t->path, t->lineno + 1, s->natoms, i);
    int n = nh_tokenize(line, tok, need);
    NH_CHECK_GOTO(n >= need, done, NH_ERR_INPUT,
                  "%s:%d: atom %d has %d columns, expected %d", t->path,
                  t->lineno, i + 1, n, need);
    const char *sp = tok[h->col_species];
    s->z[i] = species_z(sp);
    NH_CHECK_GOTO(s->z[i], done, NH_ERR_INPUT,
                  "%s:%d: unknown element '%s' (atom %d)", t->path, t->lineno,
                  sp, i + 1);
    for (int x = 0; x < 3; x++) {
      double v;
      NH_CHECK_GOTO(nh_parse_double(tok[h->col_pos + x], &v), done,
                    NH_ERR_INPUT, "%s:%d: coordinate '%s' of atom %d is not a "
                    "number", t->path, t->lineno, tok[h->col_pos + x], i + 1);
      s->pos[i][x] = v * NH_ANG_TO_BOHR;
    }
  }
done:
  nh_free(&tok);
  return err;
}

static nh_err read_count(nh_text *t, long *natoms) {
  char *line = nh_text_next(t), *tok[2];
  NH_CHECK(line, NH_ERR_INPUT, "%s:1: empty file", t->path);
  int n = nh_tokenize(line, tok, 2);
  NH_CHECK(n == 1 && nh_parse_int(tok[0], natoms) && *natoms >= 1,
           NH_ERR_INPUT,
           "%s:1: expected the number of atoms (a positive integer) alone on "
           "the first line",
           t->path);
  /* Bounds the allocation by the file size before trusting the count. */
  long left = nh_text_lines_left(t) - 1; /* after the comment line */
  NH_CHECK(*natoms <= left, NH_ERR_INPUT,
           "%s:1: the first line gives %ld atoms but only %ld lines follow "
           "the comment line",
           t->path, *natoms, left < 0 ? 0 : left);
  return NH_OK;
}

nh_err nh_structure_read_xyz(const char *path, nh_structure **s) {
  NH_CHECK(path && s, NH_ERR_ARG, "nh_structure_read_xyz: NULL argument");
  nh_text t;
  xyz_head h = {0};
  nh_structure *r = NULL;
  long natoms;
  nh_err err;
  NH_CALL(nh_text_open(path, &t));
  NH_CALL_GOTO(read_count(&t, &natoms), fail);
  char *comment = nh_text_next(&t);
  NH_CALL_GOTO(parse_comment(&t, comment, &h), fail);
  NH_CALL_GOTO(nh_structure_create((int)natoms, &r), fail);
  NH_CALL_GOTO(read_atoms(&t, &h, r), fail);
  memcpy(r->pbc, h.pbc, sizeof r->pbc);
  if (h.has_lattice) {
    for (int k = 0; k < 3; k++)
      for (int x = 0; x < 3; x++)
        r->lattice[k][x] = h.lat[k][x] * NH_ANG_TO_BOHR;
  } else {
    nh_structure_box(r, (const int[3]){1, 1, 1});
  }
  nh_structure_set_source(r, path);
  NH_CALL_GOTO(nh_structure_validate(r, NH_MIN_DIST), fail);
  nh_text_close(&t);
  *s = r;
  return NH_OK;
fail:
  nh_text_close(&t);
  nh_structure_destroy(&r);
  return err;
}

/* ------------------------------------------------------------------------- */
nh_err nh_structure_write_xyz(const nh_structure *s, const char *path) {
  NH_CHECK(s && path, NH_ERR_ARG, "nh_structure_write_xyz: NULL argument");
  FILE *f;
  NH_CALL(nh_wfile_open(path, &f));
  fprintf(f, "%d\nLattice=\"", s->natoms);
  for (int k = 0; k < 9; k++)
    fprintf(f, "%s%.15f", k ? " " : "",
            s->lattice[k / 3][k % 3] * NH_BOHR_ANGSTROM);
  fprintf(f, "\" Properties=species:S:1:pos:R:3 pbc=\"%c %c %c\"\n",
          s->pbc[0] ? 'T' : 'F', s->pbc[1] ? 'T' : 'F', s->pbc[2] ? 'T' : 'F');
  for (int i = 0; i < s->natoms; i++)
    fprintf(f, "%-3s %22.15f %22.15f %22.15f\n", nh_element_symbol(s->z[i]),
            s->pos[i][0] * NH_BOHR_ANGSTROM, s->pos[i][1] * NH_BOHR_ANGSTROM,
            s->pos[i][2] * NH_BOHR_ANGSTROM);
  NH_CALL(nh_wfile_commit(path, &f));
  return NH_OK;
}
