/* The structure of a CP2K input: &FORCE_EVAL/&SUBSYS/&CELL, &COORD and the
 * ELEMENT of each &KIND (docs/structures.md). Only the first &FORCE_EVAL is
 * read; every other section is skipped. */
#include "structioimpl.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define MAX_DEPTH 64
#define PI 3.14159265358979323846
#define MAX_TOK 8

enum { SEC_OTHER, SEC_CELL, SEC_COORD, SEC_KIND, SEC_TOPOLOGY };

typedef struct cp2k_kind {
  const char *name, *element; /* point into the text buffer */
  int line, element_line;
} cp2k_kind;

typedef struct cp2k_atom {
  const char *kind;
  double v[3];
  int line;
} cp2k_atom;

typedef struct cp2k_in {
  nh_text t;
  /* open sections: names (into the buffer) and the lines that opened them */
  const char *sec[MAX_DEPTH];
  int sec_line[MAX_DEPTH], depth;
  int nforce_eval, nsubsys;
  /* &CELL: A, B, C, ABC, ALPHA_BETA_GAMMA (Å, radians), line of each */
  int cell_line, key_line[5];
  double vec[3][3], abc[3], angle[3];
  int pbc[3];
  /* &COORD */
  int coord_line, scaled;
  double coord_unit; /* Å per unit */
  cp2k_atom *atoms;
  int natoms, cap_atoms;
  cp2k_kind *kinds;
  int nkinds, cap_kinds;
  const char *coord_file;
} cp2k_in;

enum { K_A, K_B, K_C, K_ABC, K_ABG };

/* The section a keyword line belongs to, if it matters: one directly inside
 * the first FORCE_EVAL/SUBSYS. */
static int section_kind(const cp2k_in *in) {
  if (in->depth != 3 || in->nforce_eval != 1 || in->nsubsys != 1 ||
      nh_strcasecmp_ascii(in->sec[0], "FORCE_EVAL") ||
      nh_strcasecmp_ascii(in->sec[1], "SUBSYS"))
    return SEC_OTHER;
  const char *s = in->sec[2];
  if (!nh_strcasecmp_ascii(s, "CELL")) return SEC_CELL;
  if (!nh_strcasecmp_ascii(s, "COORD")) return SEC_COORD;
  if (!nh_strcasecmp_ascii(s, "KIND")) return SEC_KIND;
  if (!nh_strcasecmp_ascii(s, "TOPOLOGY")) return SEC_TOPOLOGY;
  return SEC_OTHER;
}

/* ------------------------------------------------------------------------- */
/* Units: an optional "[unit]" token before the values. */
static int length_unit(const char *u, double *ang) {
  static const struct {
    const char *name;
    double ang;
  } units[] = {{"angstrom", 1.0}, {"bohr", NH_BOHR_ANGSTROM},
               {"nm", 10.0},      {"pm", 0.01}};
  for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
    if (!nh_strcasecmp_ascii(u, units[k].name)) return *ang = units[k].ang, 1;
  return 0;
}

/* Strips "[unit]" from tok[1] if present: *u is the unit name or NULL, and
 * *first the index of the first value. */
static nh_err unit_prefix(const cp2k_in *in, char **tok, int n, char **u,
                          int *first) {
  *u = NULL;
  *first = 1;
  if (n < 2 || tok[1][0] != '[') return NH_OK;
  size_t len = strlen(tok[1]);
  NH_CHECK(len >= 3 && tok[1][len - 1] == ']', NH_ERR_INPUT,
           "%s:%d: malformed unit '%s' (write e.g. [angstrom])", in->t.path,
           in->t.lineno, tok[1]);
  tok[1][len - 1] = '\0';
  *u = tok[1] + 1;
  *first = 2;
  return NH_OK;
}

/* Three numbers after the keyword (and unit), scaled by the unit. */
static nh_err three_values(const cp2k_in *in, char **tok, int n, int angle,
                           double v[3]) {
  char *u;
  int first;
  double f = 1.0;
  NH_CALL(unit_prefix(in, tok, n, &u, &first));
  if (u && angle) {
    int deg = !nh_strcasecmp_ascii(u, "deg"), rad = !nh_strcasecmp_ascii(u, "rad");
    NH_CHECK(deg || rad, NH_ERR_INPUT,
             "%s:%d: unknown angle unit [%s] (use [deg] or [rad])", in->t.path,
             in->t.lineno, u);
    f = rad ? 180.0 / PI : 1.0;
  } else if (u) {
    NH_CHECK(length_unit(u, &f), NH_ERR_INPUT,
             "%s:%d: unknown length unit [%s] (use [angstrom] or [bohr])",
             in->t.path, in->t.lineno, u);
  }
  NH_CHECK(n == first + 3 && nh_parse_double(tok[first], &v[0]) &&
               nh_parse_double(tok[first + 1], &v[1]) &&
               nh_parse_double(tok[first + 2], &v[2]),
           NH_ERR_INPUT, "%s:%d: %s needs three numbers", in->t.path,
           in->t.lineno, tok[0]);
  for (int k = 0; k < 3; k++) v[k] *= f; /* Å, or degrees */
  return NH_OK;
}

static int logical_value(const char *tok, int *b) {
  static const char *yes[] = {".TRUE.", "T", "TRUE", "YES", "Y", "ON"};
  static const char *no[] = {".FALSE.", "F", "FALSE", "NO", "N", "OFF"};
  for (int k = 0; k < 6; k++) {
    if (!nh_strcasecmp_ascii(tok, yes[k])) return *b = 1, 1;
    if (!nh_strcasecmp_ascii(tok, no[k])) return *b = 0, 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------- */
/* &CELL keywords. */
static nh_err cell_periodic(cp2k_in *in, char **tok, int n) {
  static const char *names[] = {"XYZ", "XY", "XZ", "YZ", "X", "Y", "Z", "NONE"};
  static const int flags[][3] = {{1, 1, 1}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1},
                                 {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}};
  for (int k = 0; n == 2 && k < 8; k++)
    if (!nh_strcasecmp_ascii(tok[1], names[k])) {
      memcpy(in->pbc, flags[k], sizeof in->pbc);
      return NH_OK;
    }
  NH_CHECK(0, NH_ERR_INPUT,
           "%s:%d: PERIODIC must be one of XYZ, XY, XZ, YZ, X, Y, Z, NONE",
           in->t.path, in->t.lineno);
  return NH_OK;
}

static nh_err cell_keyword(cp2k_in *in, char **tok, int n) {
  static const char *keys[5] = {"A", "B", "C", "ABC", "ALPHA_BETA_GAMMA"};
  const char *path = in->t.path;
  int line = in->t.lineno;
  for (int k = 0; k < 5; k++) {
    if (nh_strcasecmp_ascii(tok[0], keys[k])) continue;
    NH_CHECK(!in->key_line[k], NH_ERR_INPUT,
             "%s:%d: %s given twice in &CELL (first on line %d)", path, line,
             keys[k], in->key_line[k]);
    in->key_line[k] = line;
    double *v = k < 3 ? in->vec[k] : k == K_ABC ? in->abc : in->angle;
    NH_CALL(three_values(in, tok, n, k == K_ABG, v));
    return NH_OK;
  }
  if (!nh_strcasecmp_ascii(tok[0], "PERIODIC"))
    NH_CALL(cell_periodic(in, tok, n));
  else if (!nh_strcasecmp_ascii(tok[0], "CELL_FILE_NAME"))
    NH_CHECK(0, NH_ERR_INPUT,
             "%s:%d: CELL_FILE_NAME is not supported: give the cell with A, "
             "B, C or ABC",
             path, line);
  else if (!nh_strcasecmp_ascii(tok[0], "MULTIPLE_UNIT_CELL"))
    NH_CHECK(n == 4 && !strcmp(tok[1], "1") && !strcmp(tok[2], "1") &&
                 !strcmp(tok[3], "1"),
             NH_ERR_INPUT,
             "%s:%d: MULTIPLE_UNIT_CELL is not supported: write out the "
             "supercell",
             path, line);
  return NH_OK;
}

/* CP2K's convention for ABC and ALPHA_BETA_GAMMA (cell_methods.F,
 * set_cell_param): a along x, b in the xy plane; cosines and sines within
 * machine epsilon of 0 or +-1 are snapped so that right angles are exact. */
static double snap(double c) {
  const double eps = 2.220446049250313e-16;
  if (fabs(c) < eps) return 0.0;
  if (fabs(fabs(c) - 1.0) < eps) return c > 0 ? 1.0 : -1.0;
  return c;
}

static nh_err cell_from_abc(const cp2k_in *in, double lat[3][3]) {
  double deg = PI / 180.0;
  double al = in->angle[0] * deg, be = in->angle[1] * deg,
         ga = in->angle[2] * deg;
  double ca = snap(cos(al)), cb = snap(cos(be)), cg = snap(cos(ga)),
         sg = snap(sin(ga));
  NH_CHECK(sg != 0 && in->abc[0] > 0 && in->abc[1] > 0 && in->abc[2] > 0,
           NH_ERR_INPUT,
           "%s:%d: ABC must be positive and gamma neither 0 nor 180 degrees",
           in->t.path, in->key_line[K_ABC]);
  double cy = (ca - cg * cb) / sg, cz2 = 1.0 - cb * cb - cy * cy;
  NH_CHECK(cz2 > 0, NH_ERR_INPUT,
           "%s:%d: ALPHA_BETA_GAMMA %g %g %g do not form a cell", in->t.path,
           in->key_line[K_ABG] ? in->key_line[K_ABG] : in->key_line[K_ABC],
           in->angle[0], in->angle[1], in->angle[2]);
  double u[3][3] = {{1, 0, 0}, {cg, sg, 0}, {cb, cy, sqrt(cz2)}};
  for (int k = 0; k < 3; k++)
    for (int x = 0; x < 3; x++) lat[k][x] = u[k][x] * in->abc[k];
  return NH_OK;
}

/* The cell in Å: ABC (+ ALPHA_BETA_GAMMA, default 90 90 90) wins over A, B,
 * C, as in CP2K. */
static nh_err cell_matrix(const cp2k_in *in, double lat[3][3]) {
  const char *path = in->t.path;
  if (in->key_line[K_ABC]) return cell_from_abc(in, lat);
  int have = !!in->key_line[K_A] + !!in->key_line[K_B] + !!in->key_line[K_C];
  NH_CHECK(have == 3, NH_ERR_INPUT,
           "%s:%d: &CELL needs all of A, B and C, or ABC (%s)", path,
           in->cell_line,
           have ? "some of A, B, C are missing" : "none is given");
  memcpy(lat, in->vec, sizeof in->vec);
  return NH_OK;
}

/* ------------------------------------------------------------------------- */
/* &COORD lines: UNIT, SCALED, or "kind x y z [molecule [residue]]". */
static nh_err coord_line(cp2k_in *in, char **tok, int n) {
  const char *path = in->t.path;
  int line = in->t.lineno;
  if (!nh_strcasecmp_ascii(tok[0], "UNIT")) {
    NH_CHECK(n == 2 && length_unit(tok[1], &in->coord_unit), NH_ERR_INPUT,
             "%s:%d: UNIT must be angstrom or bohr", path, line);
    return NH_OK;
  }
  if (!nh_strcasecmp_ascii(tok[0], "SCALED")) {
    in->scaled = 1;
    NH_CHECK(n == 1 || (n == 2 && logical_value(tok[1], &in->scaled)),
             NH_ERR_INPUT, "%s:%d: SCALED takes .TRUE. or .FALSE.", path,
             line);
    return NH_OK;
  }
  cp2k_atom a = {.kind = tok[0], .line = line};
  NH_CHECK(n >= 4 && n <= 6 && nh_parse_double(tok[1], &a.v[0]) &&
               nh_parse_double(tok[2], &a.v[1]) &&
               nh_parse_double(tok[3], &a.v[2]),
           NH_ERR_INPUT,
           "%s:%d: expected an atom 'Kind x y z' in &COORD", path, line);
  if (in->natoms == in->cap_atoms) {
    in->cap_atoms = 2 * in->cap_atoms + 64;
    NH_CALL(nh_realloc((size_t)in->cap_atoms * sizeof *in->atoms, &in->atoms));
  }
  in->atoms[in->natoms++] = a;
  return NH_OK;
}

static nh_err kind_open(cp2k_in *in, char **tok, int n) {
  NH_CHECK(n == 2, NH_ERR_INPUT, "%s:%d: &KIND needs one name, e.g. &KIND Si",
           in->t.path, in->t.lineno);
  if (in->nkinds == in->cap_kinds) {
    in->cap_kinds = 2 * in->cap_kinds + 8;
    NH_CALL(nh_realloc((size_t)in->cap_kinds * sizeof *in->kinds, &in->kinds));
  }
  in->kinds[in->nkinds++] =
      (cp2k_kind){.name = tok[1], .element = NULL, .line = in->t.lineno};
  return NH_OK;
}

static nh_err keyword_line(cp2k_in *in, char **tok, int n) {
  switch (section_kind(in)) {
  case SEC_CELL: NH_CALL(cell_keyword(in, tok, n)); break;
  case SEC_COORD: NH_CALL(coord_line(in, tok, n)); break;
  case SEC_KIND:
    if (!nh_strcasecmp_ascii(tok[0], "ELEMENT")) {
      cp2k_kind *k = &in->kinds[in->nkinds - 1];
      NH_CHECK(n == 2, NH_ERR_INPUT, "%s:%d: ELEMENT needs one symbol",
               in->t.path, in->t.lineno);
      k->element = tok[1];
      k->element_line = in->t.lineno;
    }
    break;
  case SEC_TOPOLOGY:
    if (!nh_strcasecmp_ascii(tok[0], "COORD_FILE_NAME") && n >= 2)
      in->coord_file = tok[1];
    break;
  default: break;
  }
  return NH_OK;
}

/* ------------------------------------------------------------------------- */
/* Sections. */
static nh_err section_open(cp2k_in *in, char **tok, int n) {
  const char *path = in->t.path;
  int line = in->t.lineno;
  NH_CHECK(in->depth < MAX_DEPTH, NH_ERR_INPUT,
           "%s:%d: sections nested deeper than %d", path, line, MAX_DEPTH);
  const char *name = tok[0] + 1;
  NH_CHECK(name[0], NH_ERR_INPUT, "%s:%d: '&' without a section name", path,
           line);
  if (in->depth == 0 && !nh_strcasecmp_ascii(name, "FORCE_EVAL"))
    in->nforce_eval++;
  if (in->depth == 1 && in->nforce_eval == 1 &&
      !nh_strcasecmp_ascii(in->sec[0], "FORCE_EVAL") &&
      !nh_strcasecmp_ascii(name, "SUBSYS"))
    in->nsubsys++;
  in->sec[in->depth] = name;
  in->sec_line[in->depth] = line;
  in->depth++;
  switch (section_kind(in)) {
  case SEC_CELL:
    NH_CHECK(!in->cell_line, NH_ERR_INPUT,
             "%s:%d: a second &CELL (the first is on line %d)", path, line,
             in->cell_line);
    in->cell_line = line;
    break;
  case SEC_COORD:
    NH_CHECK(!in->coord_line, NH_ERR_INPUT,
             "%s:%d: a second &COORD (the first is on line %d)", path, line,
             in->coord_line);
    in->coord_line = line;
    break;
  case SEC_KIND: NH_CALL(kind_open(in, tok, n)); break;
  default: break;
  }
  return NH_OK;
}

static nh_err section_close(cp2k_in *in, char **tok, int n) {
  const char *path = in->t.path;
  int line = in->t.lineno;
  NH_CHECK(in->depth > 0, NH_ERR_INPUT, "%s:%d: &END without an open section",
           path, line);
  const char *open = in->sec[in->depth - 1];
  NH_CHECK(n == 1 || !nh_strcasecmp_ascii(tok[1], open), NH_ERR_INPUT,
           "%s:%d: &END %s closes &%s opened on line %d", path, line,
           n > 1 ? tok[1] : "", open, in->sec_line[in->depth - 1]);
  in->depth--;
  return NH_OK;
}

static nh_err parse(cp2k_in *in) {
  char *line, *tok[MAX_TOK];
  while ((line = nh_text_next(&in->t))) {
    line[strcspn(line, "#!")] = '\0';
    NH_CHECK(!strchr(line, '$') || section_kind(in) == SEC_OTHER,
             NH_ERR_INPUT,
             "%s:%d: CP2K variables ($) are not supported: expand the input "
             "first",
             in->t.path, in->t.lineno);
    int n = nh_tokenize(line, tok, MAX_TOK);
    if (n == 0) continue;
    NH_CHECK(tok[0][0] != '@', NH_ERR_INPUT,
             "%s:%d: the CP2K preprocessor (%s) is not supported: expand the "
             "input first",
             in->t.path, in->t.lineno, tok[0]);
    if (n > MAX_TOK) n = MAX_TOK;
    if (tok[0][0] == '&' && !nh_strcasecmp_ascii(tok[0], "&END"))
      NH_CALL(section_close(in, tok, n));
    else if (tok[0][0] == '&')
      NH_CALL(section_open(in, tok, n));
    else
      NH_CALL(keyword_line(in, tok, n));
  }
  NH_CHECK(in->depth == 0, NH_ERR_INPUT,
           "%s:%d: &%s is not closed (missing &END)", in->t.path,
           in->sec_line[in->depth - 1], in->sec[in->depth - 1]);
  return NH_OK;
}

/* ------------------------------------------------------------------------- */
/* Kind name -> element: the ELEMENT of its &KIND, else the name without
 * trailing digits and underscores (Si1 -> Si). */
static nh_err atom_element(const cp2k_in *in, const cp2k_atom *a, int *z) {
  for (int k = 0; k < in->nkinds; k++) {
    const cp2k_kind *kd = &in->kinds[k];
    if (nh_strcasecmp_ascii(kd->name, a->kind) || !kd->element) continue;
    *z = nh_element_lookup(kd->element);
    NH_CHECK(*z, NH_ERR_INPUT, "%s:%d: unknown ELEMENT '%s'", in->t.path,
             kd->element_line, kd->element);
    return NH_OK;
  }
  char sym[8];
  size_t n = strlen(a->kind);
  while (n > 0 && (isdigit((unsigned char)a->kind[n - 1]) || a->kind[n - 1] == '_'))
    n--;
  *z = 0;
  if (n > 0 && n < sizeof sym) {
    memcpy(sym, a->kind, n);
    sym[n] = '\0';
    *z = nh_element_lookup(sym);
  }
  NH_CHECK(*z, NH_ERR_INPUT,
           "%s:%d: unknown element '%s': kind names must be element symbols "
           "(optionally followed by digits or '_'), or have a &KIND %s "
           "section with ELEMENT <symbol>",
           in->t.path, a->line, a->kind, a->kind);
  return NH_OK;
}

static nh_err check_sections(const cp2k_in *in) {
  const char *path = in->t.path;
  NH_CHECK(in->nforce_eval > 0, NH_ERR_INPUT, "%s: no &FORCE_EVAL section",
           path);
  NH_CHECK(in->nsubsys > 0, NH_ERR_INPUT,
           "%s: the first &FORCE_EVAL has no &SUBSYS", path);
  NH_CHECK(in->nsubsys == 1, NH_ERR_INPUT,
           "%s: the first &FORCE_EVAL has %d &SUBSYS sections", path,
           in->nsubsys);
  NH_CHECK(in->cell_line, NH_ERR_INPUT,
           "%s: &FORCE_EVAL/&SUBSYS has no &CELL", path);
  NH_CHECK(in->coord_line || !in->coord_file, NH_ERR_INPUT,
           "%s: coordinates from TOPOLOGY/COORD_FILE_NAME (%s) are not "
           "supported: put them in &COORD",
           path, in->coord_file);
  NH_CHECK(in->coord_line, NH_ERR_INPUT,
           "%s: &FORCE_EVAL/&SUBSYS has no &COORD", path);
  NH_CHECK(in->natoms > 0, NH_ERR_INPUT, "%s:%d: &COORD holds no atoms", path,
           in->coord_line);
  return NH_OK;
}

static nh_err build(const cp2k_in *in, nh_structure **s) {
  double lat[3][3];
  nh_structure *r = NULL;
  nh_err err;
  NH_CALL(check_sections(in));
  NH_CALL(cell_matrix(in, lat));
  for (int k = 0; k < 3; k++)
    for (int x = 0; x < 3; x++) lat[k][x] *= NH_ANG_TO_BOHR;
  NH_CALL(nh_structure_create(in->natoms, &r));
  memcpy(r->lattice, lat, sizeof lat);
  memcpy(r->pbc, in->pbc, sizeof r->pbc);
  for (int i = 0; i < in->natoms; i++) {
    const cp2k_atom *a = &in->atoms[i];
    NH_CALL_GOTO(atom_element(in, a, &r->z[i]), fail);
    if (in->scaled)
      nh_lattice_to_cart(lat, a->v, r->pos[i]);
    else
      for (int x = 0; x < 3; x++)
        r->pos[i][x] = a->v[x] * in->coord_unit * NH_ANG_TO_BOHR;
  }
  nh_structure_set_source(r, in->t.path);
  *s = r;
  return NH_OK;
fail:
  nh_structure_destroy(&r);
  return err;
}

nh_err nh_structure_read_cp2k(const char *path, nh_structure **s) {
  NH_CHECK(path && s, NH_ERR_ARG, "nh_structure_read_cp2k: NULL argument");
  cp2k_in in = {.pbc = {1, 1, 1}, .coord_unit = 1.0, .angle = {90, 90, 90}};
  nh_structure *r = NULL;
  nh_err err = NH_OK;
  NH_CALL(nh_text_open(path, &in.t));
  NH_CALL_GOTO(parse(&in), done);
  NH_CALL_GOTO(build(&in, &r), done);
  NH_CALL_GOTO(nh_structure_validate(r, NH_MIN_DIST), done);
  *s = r;
  r = NULL;
done:
  nh_structure_destroy(&r);
  nh_free(&in.atoms);
  nh_free(&in.kinds);
  nh_text_close(&in.t);
  return err;
}
