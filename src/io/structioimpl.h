/* Private helpers shared by the structure readers and writers (poscar.c,
 * xyz.c, cp2k_input.c): a whole-file line reader that counts lines, a
 * whitespace tokenizer and strict number parsing. */
#ifndef NEXTHAM_STRUCTIOIMPL_H
#define NEXTHAM_STRUCTIOIMPL_H

#include <stdio.h>

#include "nextham/structure.h"

#define NH_ANG_TO_BOHR (1.0 / NH_BOHR_ANGSTROM)

/* A text file held in memory. nh_text_next returns its lines one by one,
 * NUL-terminated, without the newline (and a trailing '\r'), or NULL at the
 * end; lineno is the 1-based number of the line returned last. */
typedef struct nh_text {
  char *buf;
  size_t len, pos;
  int lineno;
  const char *path;
} nh_text;

/* Reads the whole file; rejects files with NUL bytes (not text). */
nh_err nh_text_open(const char *path, nh_text *t);
void nh_text_close(nh_text *t);
char *nh_text_next(nh_text *t);
/* Number of lines from the current position to the end of the file. */
long nh_text_lines_left(const nh_text *t);

/* Splits line in place at blanks (space, tab, \v, \f, \r); stores and
 * NUL-terminates at most max tokens, leaves the rest of the line untouched,
 * and returns how many tokens there are in all (possibly more than max). */
int nh_tokenize(char *line, char **tok, int max);

/* Strict parsing: the whole token must be a finite number in decimal
 * notation (a Fortran 'd' or 'D' exponent is accepted); returns 0 if not. */
int nh_parse_double(const char *tok, double *x);
int nh_parse_int(const char *tok, long *x);

/* Maps an element token to an atomic number, case-insensitively ("SI", "si"
 * and "Si" are silicon); 0 if unknown. */
int nh_element_lookup(const char *tok);
int nh_strcasecmp_ascii(const char *a, const char *b);

/* Atomic file writing: opens "<path>.tmp"; commit closes it and renames it
 * to path, abort closes and removes it. */
nh_err nh_wfile_open(const char *path, FILE **f);
nh_err nh_wfile_commit(const char *path, FILE **f);
void nh_wfile_abort(const char *path, FILE **f);

/* Sets s->source to path (truncated to fit). */
void nh_structure_set_source(nh_structure *s, const char *path);
/* For readers without a cell along some directions: along every k with
 * need[k], lattice row k becomes (extent of the atoms along Cartesian axis k)
 * + 2 * NH_VACUUM_ANGSTROM on Cartesian axis k. */
#define NH_VACUUM_ANGSTROM 10.0
void nh_structure_box(nh_structure *s, const int need[3]);

#endif
