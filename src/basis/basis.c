/* Contracted Gaussian basis sets from CP2K basis files, per element. */
#include "nextham/basis.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp2kfile.h"
#include "nextham/gth.h"
#include "nextham/structure.h"

#define LMAX 7 /* highest l accepted in a basis file (CP2K's limit) */

nh_err nh_basis_create(nh_basis **b) {
  NH_CALL(nh_calloc(1, sizeof **b, b));
  return NH_OK;
}

static void elem_free(nh_element_basis **eb) {
  if (!*eb) return;
  nh_free(&(*eb)->shells);
  nh_free(&(*eb)->storage);
  nh_free(eb);
}

nh_err nh_basis_destroy(nh_basis **b) {
  if (!b || !*b) return NH_OK;
  for (int z = 0; z <= NH_MAX_Z; z++) elem_free(&(*b)->elem[z]);
  nh_free(b);
  return NH_OK;
}

/* An element basis with room for nshell shells and nstore doubles. */
static nh_err elem_alloc(int z, int nshell, size_t nstore,
                         nh_element_basis **out) {
  nh_element_basis *eb;
  NH_CALL(nh_calloc(1, sizeof *eb, &eb));
  eb->z = z;
  eb->nshell = nshell;
  nh_err err;
  NH_CALL_GOTO(nh_calloc((size_t)nshell, sizeof *eb->shells, &eb->shells), fail);
  NH_CALL_GOTO(nh_calloc(nstore, sizeof *eb->storage, &eb->storage), fail);
  *out = eb;
  return NH_OK;
fail:
  elem_free(&eb);
  return err;
}

/* Installs eb as the basis of its element, keeping the potential of a
 * basis it replaces. */
static void elem_install(nh_basis *b, nh_element_basis *eb) {
  nh_element_basis *old = b->elem[eb->z];
  if (old && !eb->potential_name[0]) {
    memcpy(eb->potential_name, old->potential_name, sizeof eb->potential_name);
    eb->zval = old->zval;
  }
  elem_free(&b->elem[eb->z]);
  b->elem[eb->z] = eb;
}

nh_err nh_basis_find_file(const char *name, char *path, size_t len) {
  NH_CHECK(name && name[0], NH_ERR_INPUT, "empty data file name");
  if (strchr(name, '/')) {
    snprintf(path, len, "%s", name);
    NH_CHECK(access(path, R_OK) == 0, NH_ERR_FILE,
             "cannot read data file %s", path);
    return NH_OK;
  }
  const char *env = getenv("NEXTHAM_DATA_DIR");
  const char *dirs[2] = {env && env[0] ? env : NULL, "/usr/share/cp2k"};
  for (int k = 0; k < 2; k++) {
    if (!dirs[k]) continue;
    snprintf(path, len, "%s/%s", dirs[k], name);
    if (access(path, R_OK) == 0) return NH_OK;
  }
  return nh_error_set(NH_ERR_FILE, __FILE__, __LINE__, __func__,
                      "cannot find data file '%s' in $NEXTHAM_DATA_DIR (%s) "
                      "or /usr/share/cp2k (give a path like ./%s for a file "
                      "in the current directory)",
                      name, env && env[0] ? env : "unset", name);
}

/* Exponents and raw coefficient rows of the sets of one entry, as read. */
typedef struct raw_set {
  int lmin, lmax, nexp, ncol;
  int nshell[LMAX + 1];
  double *rows; /* nexp x (1 + ncol): exponent, coefficients */
} raw_set;

static nh_err read_set_header(nh_cp2k_reader *r, raw_set *s) {
  int eof, n;
  NH_CALL(nh_cp2k_next(r, &eof));
  NH_CHECK(!eof && !nh_cp2k_is_header(r), NH_ERR_FILE,
           "%s:%d: basis set ends early: expected 'n lmin lmax nexp "
           "nshell...'", r->path, r->lineno);
  NH_CALL(nh_cp2k_int(r, 0, "n", &n));
  NH_CALL(nh_cp2k_int(r, 1, "lmin", &s->lmin));
  NH_CALL(nh_cp2k_int(r, 2, "lmax", &s->lmax));
  NH_CALL(nh_cp2k_int(r, 3, "nexp", &s->nexp));
  NH_CHECK(s->lmin >= 0 && s->lmin <= s->lmax && s->lmax <= LMAX, NH_ERR_FILE,
           "%s:%d: malformed set: need 0 <= lmin <= lmax <= %d, got lmin %d "
           "lmax %d", r->path, r->lineno, LMAX, s->lmin, s->lmax);
  NH_CHECK(s->nexp >= 1, NH_ERR_FILE,
           "%s:%d: malformed set: nexp must be positive, got %d", r->path,
           r->lineno, s->nexp);
  /* CP2K ignores labels after the counts ("6s 7s ..." in some files). */
  int need = 4 + s->lmax - s->lmin + 1;
  NH_CHECK(r->ntok >= need &&
               (r->ntok == need || !nh_cp2k_is_number(r->tok[need])),
           NH_ERR_FILE,
           "%s:%d: malformed line: expected %d numbers (n lmin lmax nexp and "
           "nshell for l = %d..%d), found %d", r->path, r->lineno, need,
           s->lmin, s->lmax, r->ntok);
  s->ncol = 0;
  for (int l = s->lmin; l <= s->lmax; l++) {
    NH_CALL(nh_cp2k_int(r, 4 + l - s->lmin, "nshell", &s->nshell[l]));
    NH_CHECK(s->nshell[l] >= 0, NH_ERR_FILE, "%s:%d: negative nshell",
             r->path, r->lineno);
    s->ncol += s->nshell[l];
  }
  /* An exponent line holds 1 + ncol numbers; more cannot be read. */
  NH_CHECK(1 + s->ncol <= NH_CP2K_MAXTOK, NH_ERR_FILE,
           "%s:%d: malformed set: %d contractions, at most %d fit on a line",
           r->path, r->lineno, s->ncol, NH_CP2K_MAXTOK - 1);
  return NH_OK;
}

static nh_err read_set_rows(nh_cp2k_reader *r, raw_set *s) {
  int eof, w = 1 + s->ncol, cap = 0;
  for (int p = 0; p < s->nexp; p++) {
    /* Grown as lines arrive: a corrupt nexp must not allocate gigabytes. */
    if (p == cap) {
      cap = cap ? (cap > s->nexp / 2 ? s->nexp : 2 * cap)
                : (s->nexp < 64 ? s->nexp : 64);
      NH_CALL(nh_realloc((size_t)cap * w * sizeof(double), &s->rows));
    }
    NH_CALL(nh_cp2k_next(r, &eof));
    NH_CHECK(!eof && !nh_cp2k_is_header(r), NH_ERR_FILE,
             "%s:%d: basis set ends early: %d exponent lines expected, "
             "found %d", r->path, r->lineno, s->nexp, p);
    NH_CALL(nh_cp2k_expect(r, w, "exponent and one coefficient per shell"));
    for (int c = 0; c < w; c++)
      NH_CALL(nh_cp2k_double(r, c, c ? "coefficient" : "exponent",
                             &s->rows[p * w + c]));
    NH_CHECK(s->rows[p * w] > 0, NH_ERR_FILE,
             "%s:%d: exponent must be positive, got %g", r->path, r->lineno,
             s->rows[p * w]);
  }
  return NH_OK;
}

/* Lays the sets out in CP2K order: per set, its exponents once, then one
 * column of coefficients per shell (l = lmin..lmax, nshell(l) each). */
static nh_err build_elem(int z, int nset, const raw_set *sets,
                         nh_element_basis **out) {
  int nshell = 0;
  size_t nstore = 0;
  for (int k = 0; k < nset; k++) {
    nshell += sets[k].ncol;
    nstore += (size_t)sets[k].nexp * (1 + sets[k].ncol);
  }
  nh_element_basis *eb;
  NH_CALL(elem_alloc(z, nshell, nstore, &eb));
  double *p = eb->storage;
  nh_shell *sh = eb->shells;
  for (int k = 0; k < nset; k++) {
    const raw_set *s = &sets[k];
    int w = 1 + s->ncol, c = 0;
    double *exps = p;
    for (int e = 0; e < s->nexp; e++) *p++ = s->rows[e * w];
    for (int l = s->lmin; l <= s->lmax; l++)
      for (int i = 0; i < s->nshell[l]; i++, c++, sh++) {
        sh->l = l;
        sh->nprim = s->nexp;
        sh->exps = exps;
        sh->coefs = p;
        for (int e = 0; e < s->nexp; e++) *p++ = s->rows[e * w + 1 + c];
        eb->norb += 2 * l + 1;
      }
  }
  *out = eb;
  return NH_OK;
}

/* Reads the entry following the header the reader stands on. */
static nh_err read_entry(nh_cp2k_reader *r, int z, nh_element_basis **out) {
  int eof, nset;
  NH_CALL(nh_cp2k_next(r, &eof));
  NH_CHECK(!eof && !nh_cp2k_is_header(r), NH_ERR_FILE,
           "%s:%d: basis set ends early: expected the number of sets",
           r->path, r->lineno);
  NH_CALL(nh_cp2k_expect(r, 1, "number of sets"));
  NH_CALL(nh_cp2k_int(r, 0, "number of sets", &nset));
  NH_CHECK(nset >= 1 && nset <= 1000, NH_ERR_FILE,
           "%s:%d: number of sets must be 1..1000, got %d", r->path, r->lineno,
           nset);
  raw_set *sets;
  NH_CALL(nh_calloc((size_t)nset, sizeof *sets, &sets));
  nh_err err = NH_OK;
  for (int k = 0; k < nset && !err; k++) {
    err = read_set_header(r, &sets[k]);
    if (!err) err = read_set_rows(r, &sets[k]);
  }
  if (!err) err = build_elem(z, nset, sets, out);
  for (int k = 0; k < nset; k++) nh_free(&sets[k].rows);
  nh_free(&sets);
  if (err) return nh_error_trace(err, __FILE__, __LINE__, __func__);
  return NH_OK;
}

nh_err nh_basis_load(nh_basis *b, int z, const char *basis_file,
                     const char *basis_name) {
  NH_CHECK(z >= 1 && z <= NH_MAX_Z, NH_ERR_ARG, "invalid atomic number %d", z);
  NH_CHECK(basis_name && basis_name[0], NH_ERR_INPUT,
           "no basis set name given for %s", nh_element_symbol(z));
  nh_cp2k_reader r;
  NH_CALL(nh_cp2k_open(basis_file, &r));
  nh_element_basis *eb = NULL;
  nh_err err = NH_OK;
  NH_CALL_GOTO(nh_cp2k_find_entry(&r, z, basis_name, "basis set"), done);
  NH_CALL_GOTO(read_entry(&r, z, &eb), done);
  snprintf(eb->basis_name, sizeof eb->basis_name, "%s", basis_name);
  snprintf(b->basis_file, sizeof b->basis_file, "%.255s", r.path);
  elem_install(b, eb);
done:
  nh_cp2k_close(&r);
  return err;
}

nh_err nh_basis_load_potential(nh_basis *b, int z, const char *pot_file,
                               const char *pot_name) {
  NH_CHECK(z >= 1 && z <= NH_MAX_Z, NH_ERR_ARG, "invalid atomic number %d", z);
  nh_gth g;
  NH_CALL(nh_gth_load(&g, z, pot_file, pot_name));
  if (!b->elem[z]) NH_CALL(elem_alloc(z, 0, 0, &b->elem[z]));
  snprintf(b->elem[z]->potential_name, sizeof b->elem[z]->potential_name,
           "%s", pot_name);
  b->elem[z]->zval = g.zion;
  snprintf(b->potential_file, sizeof b->potential_file, "%s", g.file);
  return NH_OK;
}

nh_err nh_basis_add(nh_basis *b, const nh_element_basis *src) {
  NH_CHECK(src->z >= 1 && src->z <= NH_MAX_Z, NH_ERR_ARG,
           "invalid atomic number %d", src->z);
  size_t nstore = 0;
  for (int k = 0; k < src->nshell; k++) nstore += 2 * (size_t)src->shells[k].nprim;
  nh_element_basis *eb;
  NH_CALL(elem_alloc(src->z, src->nshell, nstore, &eb));
  memcpy(eb->basis_name, src->basis_name, sizeof eb->basis_name);
  memcpy(eb->potential_name, src->potential_name, sizeof eb->potential_name);
  eb->zval = src->zval;
  double *p = eb->storage;
  for (int k = 0; k < src->nshell; k++) {
    const nh_shell *s = &src->shells[k];
    nh_shell *d = &eb->shells[k];
    d->l = s->l;
    d->nprim = s->nprim;
    d->exps = p;
    memcpy(p, s->exps, s->nprim * sizeof *p);
    p += s->nprim;
    d->coefs = p;
    memcpy(p, s->coefs, s->nprim * sizeof *p);
    p += s->nprim;
    eb->norb += 2 * s->l + 1;
  }
  elem_free(&b->elem[eb->z]);
  b->elem[eb->z] = eb;
  return NH_OK;
}

void nh_basis_norb_table(const nh_basis *b, int norb_of_z[NH_MAX_Z + 1]) {
  for (int z = 0; z <= NH_MAX_Z; z++)
    norb_of_z[z] = b->elem[z] ? b->elem[z]->norb : 0;
}
