/* Parser of CP2K's main output (.out): the parts nextham needs to interpret
 * the per-image CSR files (docs/cp2k.md lists the lines and their format). */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nextham/cp2k.h"

/* Parser state: the open file, the current line and its number. */
typedef struct out_reader {
  FILE *f;
  const char *path;
  char line[4096];
  long lineno;
} out_reader;

static int next_line(out_reader *r) {
  if (!fgets(r->line, sizeof r->line, r->f)) return 0;
  r->lineno++;
  return 1;
}

/* Copies the last whitespace-separated token of s into dst. */
static void last_token(const char *s, char *dst, size_t len) {
  const char *end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1])) end--;
  const char *start = end;
  while (start > s && !isspace((unsigned char)start[-1])) start--;
  size_t n = (size_t)(end - start) < len - 1 ? (size_t)(end - start) : len - 1;
  memcpy(dst, start, n);
  dst[n] = '\0';
}

/* The text after `key` on the line (trimmed) if the line contains key. */
static int value_after(const char *line, const char *key, char *dst,
                       size_t len) {
  const char *p = strstr(line, key);
  if (!p) return 0;
  last_token(p + strlen(key), dst, len);
  return 1;
}

static int starts_with_trimmed(const char *line, const char *prefix) {
  while (*line == ' ') line++;
  return strncmp(line, prefix, strlen(prefix)) == 0;
}

static int blank(const char *line) {
  for (; *line; line++)
    if (!isspace((unsigned char)*line)) return 0;
  return 1;
}

/* CELL| Vector a [angstrom]:  x y z  |a| = ... */
static nh_err parse_cell_vector(out_reader *r, nh_cp2k_run *run) {
  char c;
  const char *p = strstr(r->line, "Vector ");
  NH_CHECK(p && sscanf(p, "Vector %c", &c) == 1 && c >= 'a' && c <= 'c',
           NH_ERR_FILE, "%s:%ld: cannot read the cell vector line", r->path,
           r->lineno);
  const char *q = strchr(p, ':');
  double *v = run->cell[c - 'a'];
  NH_CHECK(q && sscanf(q + 1, "%lf %lf %lf", &v[0], &v[1], &v[2]) == 3,
           NH_ERR_FILE, "%s:%ld: cannot read the components of cell vector %c",
           r->path, r->lineno, c);
  return NH_OK;
}

static nh_err parse_periodicity(out_reader *r, nh_cp2k_run *run) {
  char word[16];
  last_token(r->line, word, sizeof word);
  run->pbc[0] = run->pbc[1] = run->pbc[2] = 0;
  if (strcmp(word, "NONE") == 0) return NH_OK;
  for (const char *w = word; *w; w++) {
    NH_CHECK(*w >= 'X' && *w <= 'Z', NH_ERR_FILE,
             "%s:%ld: unknown periodicity '%s'", r->path, r->lineno, word);
    run->pbc[*w - 'X'] = 1;
  }
  return NH_OK;
}

/* "  1. Atomic kind: Si    Number of atoms:   2" starts a kind; the lines of
 * that kind until the next one give its orbital basis and potential. */
static nh_err add_kind(out_reader *r, nh_cp2k_run *run) {
  int idx, natoms;
  char name[64];
  const char *p = strstr(r->line, "Atomic kind:");
  NH_CHECK(sscanf(r->line, "%d.", &idx) == 1 &&
               sscanf(p, "Atomic kind: %63s Number of atoms: %d", name,
                      &natoms) == 2,
           NH_ERR_FILE, "%s:%ld: cannot read the atomic kind line", r->path,
           r->lineno);
  NH_CHECK(idx == run->nkinds + 1, NH_ERR_FILE,
           "%s:%ld: atomic kind %d follows kind %d", r->path, r->lineno, idx,
           run->nkinds);
  NH_CALL(nh_realloc((size_t)(idx) * sizeof *run->kinds, &run->kinds));
  nh_cp2k_kind *k = &run->kinds[idx - 1];
  memset(k, 0, sizeof *k);
  snprintf(k->name, sizeof k->name, "%s", name);
  k->natoms = natoms;
  run->nkinds = idx;
  return NH_OK;
}

/* Lines inside the block of the current kind. The first "Orbital Basis Set"
 * names the orbital basis; the first "Number of spherical basis functions"
 * after it is its size (other basis sets of the kind come later). */
static nh_err parse_kind_line(out_reader *r, nh_cp2k_run *run,
                              int *seen_orbital) {
  if (run->nkinds == 0) return NH_OK;
  nh_cp2k_kind *k = &run->kinds[run->nkinds - 1];
  if (!*seen_orbital && strstr(r->line, "Orbital Basis Set")) {
    last_token(r->line, k->basis_name, sizeof k->basis_name);
    *seen_orbital = 1;
  } else if (*seen_orbital == 1 &&
             strstr(r->line, "Number of spherical basis functions:")) {
    NH_CHECK(sscanf(strchr(r->line, ':') + 1, "%d", &k->norb) == 1 &&
                 k->norb > 0,
             NH_ERR_FILE, "%s:%ld: cannot read the number of basis functions",
             r->path, r->lineno);
    *seen_orbital = 2;
  } else if (!k->potential_name[0]) {
    value_after(r->line, "Potential information for", k->potential_name,
                sizeof k->potential_name);
  }
  return NH_OK;
}

/* The table after "ATOMIC COORDINATES IN ANGSTROM": a header, then rows
 * "atom kind element Z x y z zeff mass" until a blank line. */
static nh_err parse_coordinates(out_reader *r, nh_cp2k_run *run) {
  int n = 0, cap = 0;
  nh_free(&run->kind);
  nh_free(&run->z);
  nh_free(&run->pos);
  int more;
  while ((more = next_line(r)) &&
         (blank(r->line) || strstr(r->line, "Element")))
    continue;
  for (; more && !blank(r->line); more = next_line(r)) {
    int idx, kind, z;
    char el[8];
    double x[3];
    NH_CHECK(sscanf(r->line, "%d %d %7s %d %lf %lf %lf", &idx, &kind, el, &z,
                    &x[0], &x[1], &x[2]) == 7,
             NH_ERR_FILE, "%s:%ld: cannot read the atom line '%.60s'", r->path,
             r->lineno, r->line);
    NH_CHECK(idx == n + 1, NH_ERR_FILE, "%s:%ld: atom %d follows atom %d",
             r->path, r->lineno, idx, n);
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      NH_CALL(nh_realloc((size_t)cap * sizeof *run->kind, &run->kind));
      NH_CALL(nh_realloc((size_t)cap * sizeof *run->z, &run->z));
      NH_CALL(nh_realloc((size_t)cap * sizeof *run->pos, &run->pos));
    }
    run->kind[n] = kind - 1;
    run->z[n] = z;
    memcpy(run->pos[n], x, sizeof x);
    n++;
  }
  NH_CHECK(n > 0, NH_ERR_FILE, "%s:%ld: the coordinate table has no atoms",
           r->path, r->lineno);
  run->natoms = n;
  return NH_OK;
}

/* "KS CSR write| 357 periodic images" (or "S CSR write|2279 ..."), a header
 * line, then one line "number X Y Z" per image. The number prints as ***
 * beyond 999, so the line order is the image index. */
static nh_err parse_image_table(out_reader *r, int (**images)[3], int *count) {
  int n;
  const char *p = strchr(r->line, '|');
  NH_CHECK(sscanf(p + 1, "%d", &n) == 1 && n > 0, NH_ERR_FILE,
           "%s:%ld: cannot read the number of periodic images", r->path,
           r->lineno);
  long head = r->lineno;
  NH_CHECK(next_line(r) && strstr(r->line, "Number"), NH_ERR_FILE,
           "%s:%ld: expected the image table header after line %ld", r->path,
           r->lineno, head);
  nh_free(images);
  /* Grown as rows arrive: a corrupt count must not allocate gigabytes. */
  for (int k = 0, cap = 0; k < n; k++) {
    char num[32];
    if (k == cap) {
      cap = cap ? (cap > n / 2 ? n : 2 * cap) : (n < 1024 ? n : 1024);
      NH_CALL(nh_realloc((size_t)cap * sizeof **images, images));
    }
    int *v = (*images)[k];
    NH_CHECK(next_line(r) && sscanf(r->line, "%31s %d %d %d", num, &v[0],
                                    &v[1], &v[2]) == 4,
             NH_ERR_FILE,
             "%s:%ld: image table of line %ld ends after %d of %d images",
             r->path, r->lineno, head, k, n);
    NH_CHECK(num[0] == '*' || atoi(num) == k + 1, NH_ERR_FILE,
             "%s:%ld: image %s where %d was expected", r->path, r->lineno, num,
             k + 1);
  }
  *count = n;
  return NH_OK;
}

/* One pass over the file; each recognised line fills part of run. */
static nh_err scan(out_reader *r, nh_cp2k_run *run, int (**s_images)[3],
                   int *s_count) {
  int seen_orbital = 0, in_kinds = 0;
  while (next_line(r)) {
    const char *l = r->line;
    if (starts_with_trimmed(l, "CP2K| Input file name"))
      last_token(l, run->input_file, sizeof run->input_file);
    else if (starts_with_trimmed(l, "GLOBAL| Basis set file name"))
      last_token(l, run->basis_file, sizeof run->basis_file);
    else if (starts_with_trimmed(l, "GLOBAL| Potential file name"))
      last_token(l, run->potential_file, sizeof run->potential_file);
    else if (starts_with_trimmed(l, "GLOBAL| Project name"))
      last_token(l, run->project, sizeof run->project);
    else if (starts_with_trimmed(l, "CELL| Vector"))
      NH_CALL(parse_cell_vector(r, run));
    else if (starts_with_trimmed(l, "CELL| Periodicity"))
      NH_CALL(parse_periodicity(r, run));
    else if (strstr(l, "ATOMIC KIND INFORMATION")) {
      in_kinds = 1;
      run->nkinds = 0;
    } else if (in_kinds && strstr(l, "Atomic kind:")) {
      NH_CALL(add_kind(r, run));
      seen_orbital = 0;
    } else if (in_kinds && (strstr(l, "MOLECULE KIND INFORMATION") ||
                            strstr(l, "TOTAL NUMBERS AND MAXIMUM NUMBERS")))
      in_kinds = 0;
    else if (in_kinds)
      NH_CALL(parse_kind_line(r, run, &seen_orbital));
    else if (strstr(l, "ATOMIC COORDINATES IN") &&
             (strstr(l, "NGSTROM") || strstr(l, "ngstrom")))
      NH_CALL(parse_coordinates(r, run));
    else if (strstr(l, "Interaction thresholds: eps_pgf_orb:"))
      run->eps_pgf_orb = strtod(strrchr(l, ':') + 1, NULL);
    else if (strstr(l, "SCF run converged"))
      run->scf_converged = 1;
    else if (starts_with_trimmed(l, "KS CSR write|"))
      NH_CALL(parse_image_table(r, &run->images, &run->nimages));
    else if (starts_with_trimmed(l, "S CSR write|"))
      NH_CALL(parse_image_table(r, s_images, s_count));
  }
  NH_CHECK(!ferror(r->f), NH_ERR_FILE, "%s: read error after line %ld",
           r->path, r->lineno);
  return NH_OK;
}

/* Consistency of what was read; names what is missing. */
static nh_err check_run(const nh_cp2k_run *run, int (*s_images)[3],
                        int s_count) {
  const char *p = run->out_path;
  NH_CHECK(run->project[0], NH_ERR_FILE,
           "%s: no 'GLOBAL| Project name' line: not a CP2K output?", p);
  NH_CHECK(run->natoms > 0, NH_ERR_FILE,
           "%s: no 'ATOMIC COORDINATES IN ANGSTROM' table (PRINT_LEVEL below "
           "MEDIUM?)", p);
  NH_CHECK(run->nkinds > 0, NH_ERR_FILE,
           "%s: no 'ATOMIC KIND INFORMATION' section (PRINT_LEVEL below "
           "MEDIUM?)", p);
  NH_CHECK(run->nimages > 0, NH_ERR_FILE,
           "%s: no 'KS CSR write| N periodic images' table: the run needs "
           "&DFT &PRINT &KS_CSR_WRITE with REAL_SPACE .TRUE. and &KPOINTS "
           "(SCHEME GAMMA for Gamma-only)", p);
  const int *n0 = run->images[0];
  NH_CHECK(n0[0] == 0 && n0[1] == 0 && n0[2] == 0, NH_ERR_FILE,
           "%s: image 1 is (%d %d %d), expected (0 0 0)", p, n0[0], n0[1],
           n0[2]);
  NH_CHECK(s_count == 0 ||
               (s_count == run->nimages &&
                memcmp(s_images, run->images,
                       (size_t)s_count * sizeof *s_images) == 0),
           NH_ERR_FILE, "%s: the S and KS image tables differ", p);
  for (int k = 0; k < run->nkinds; k++)
    NH_CHECK(run->kinds[k].basis_name[0] && run->kinds[k].norb > 0,
             NH_ERR_FILE, "%s: kind %s has no orbital basis set", p,
             run->kinds[k].name);
  return NH_OK;
}

/* Element of each kind from its atoms; total orbital count. */
static nh_err finish_run(nh_cp2k_run *run) {
  int *count = NULL;
  NH_CALL(nh_calloc((size_t)run->nkinds, sizeof *count, &count));
  long norb = 0;
  for (int a = 0; a < run->natoms; a++) {
    int k = run->kind[a];
    if (k < 0 || k >= run->nkinds) {
      nh_free(&count);
      NH_CHECK(0, NH_ERR_FILE, "%s: atom %d has kind %d of %d", run->out_path,
               a + 1, k + 1, run->nkinds);
    }
    int z = run->z[a], kz = run->kinds[k].z;
    if (z < 1 || z > NH_MAX_Z || (kz && kz != z) ||
        norb + run->kinds[k].norb > INT_MAX) {
      nh_free(&count);
      NH_CHECK(0, NH_ERR_FILE, "%s: atom %d: atomic number %d (kind %s: %d) "
               "out of range or orbital count beyond 2^31", run->out_path,
               a + 1, z, run->kinds[k].name, kz);
    }
    run->kinds[k].z = z;
    norb += run->kinds[k].norb;
    count[k]++;
  }
  run->norb = (int)norb;
  for (int k = 0; k < run->nkinds; k++)
    if (count[k] != run->kinds[k].natoms) {
      int c = count[k];
      nh_free(&count);
      NH_CHECK(0, NH_ERR_FILE, "%s: kind %s lists %d atoms, the coordinates %d",
               run->out_path, run->kinds[k].name, run->kinds[k].natoms, c);
    }
  nh_free(&count);
  return NH_OK;
}

static void set_dir(nh_cp2k_run *run, const char *out_path) {
  snprintf(run->out_path, sizeof run->out_path, "%s", out_path);
  const char *slash = strrchr(out_path, '/');
  if (!slash)
    snprintf(run->dir, sizeof run->dir, ".");
  else
    snprintf(run->dir, sizeof run->dir, "%.*s",
             (int)(slash - out_path) > 0 ? (int)(slash - out_path) : 1,
             out_path);
}

nh_err nh_cp2k_read_run(const nh_ctx *ctx, const char *out_path,
                        nh_cp2k_run **run) {
  nh_err err = NH_OK;
  out_reader r = {.path = out_path};
  int (*s_images)[3] = NULL, s_count = 0;
  *run = NULL;
  r.f = fopen(out_path, "r");
  NH_CHECK(r.f, NH_ERR_FILE, "cannot open CP2K output %s", out_path);
  NH_CALL_GOTO(nh_calloc(1, sizeof **run, run), done);
  set_dir(*run, out_path);
  NH_CALL_GOTO(scan(&r, *run, &s_images, &s_count), done);
  NH_CALL_GOTO(check_run(*run, s_images, s_count), done);
  NH_CALL_GOTO(finish_run(*run), done);
  if (ctx)
    nh_log(ctx, 2, "cp2k: %s: project %s, %d atoms, %d kinds, %d orbitals, "
           "%d images\n", out_path, (*run)->project, (*run)->natoms,
           (*run)->nkinds, (*run)->norb, (*run)->nimages);
done:
  fclose(r.f);
  nh_free(&s_images);
  if (err) nh_cp2k_run_destroy(run);
  return err;
}

nh_err nh_cp2k_run_destroy(nh_cp2k_run **run) {
  if (!run || !*run) return NH_OK;
  nh_free(&(*run)->kind);
  nh_free(&(*run)->z);
  nh_free(&(*run)->pos);
  nh_free(&(*run)->kinds);
  nh_free(&(*run)->images);
  nh_free(run);
  return NH_OK;
}

nh_err nh_cp2k_csr_path(const nh_cp2k_run *run, const char *matrix, int img,
                        char *path, size_t len) {
  NH_CHECK(img >= 1 && img <= run->nimages, NH_ERR_ARG,
           "image %d outside 1..%d", img, run->nimages);
  int n = snprintf(path, len, "%s/%s-%s_SPIN_1_R_%d-1_0.csr", run->dir,
                   run->project, matrix, img);
  NH_CHECK(n > 0 && (size_t)n < len, NH_ERR_ARG, "CSR path too long");
  return NH_OK;
}
