/* Private to the basis module: a line reader for CP2K's data files (basis
 * sets and GTH potentials). Comments start with '#'; blank lines are
 * skipped; every content line is split into whitespace-separated tokens and
 * keeps its line number for error messages. */
#ifndef NEXTHAM_CP2KFILE_H
#define NEXTHAM_CP2KFILE_H

#include <stdio.h>

#include "nextham/core.h"

#define NH_CP2K_MAXTOK 256

typedef struct nh_cp2k_reader {
  FILE *f;
  char path[1024];
  int lineno;          /* line number of the current line (1-based) */
  char *buf;
  size_t cap;
  int ntok;
  char *tok[NH_CP2K_MAXTOK];
} nh_cp2k_reader;

/* Resolves name (see nh_basis_find_file) and opens it. */
nh_err nh_cp2k_open(const char *name, nh_cp2k_reader *r);
void nh_cp2k_close(nh_cp2k_reader *r);
/* Reads the next content line into tok[]; *eof = 1 at the end of file. */
nh_err nh_cp2k_next(nh_cp2k_reader *r, int *eof);
/* A header line starts an entry: its first token begins with a letter
 * ("Si DZVP-MOLOPT-SR-GTH ..."); data lines begin with a number. */
int nh_cp2k_is_header(const nh_cp2k_reader *r);
/* Atomic number of the element symbol of a header line, case-insensitive
 * ("SI" and "si" are Si); 0 if the token is no element. */
int nh_cp2k_header_z(const nh_cp2k_reader *r);
/* 1 if one of the names on the header line (tokens 1..) equals name,
 * ignoring case as CP2K does. */
int nh_cp2k_header_has(const nh_cp2k_reader *r, const char *name);
/* Token k as a number, with the file:line and `what` in the error. Fortran
 * exponents (1.0D-01) are accepted. */
nh_err nh_cp2k_int(const nh_cp2k_reader *r, int k, const char *what, int *v);
nh_err nh_cp2k_double(const nh_cp2k_reader *r, int k, const char *what,
                      double *v);
/* 1 if the token is a number (Fortran exponents allowed). */
int nh_cp2k_is_number(const char *tok);
/* Scans r to the header of entry `name` of element z. Missing: NH_ERR_INPUT
 * naming the entries the file has for z; kind ("basis set", "potential")
 * goes into the message. */
nh_err nh_cp2k_find_entry(nh_cp2k_reader *r, int z, const char *name,
                          const char *kind);
/* Fails with FILE:LINE unless the line has exactly n tokens. */
nh_err nh_cp2k_expect(const nh_cp2k_reader *r, int n, const char *what);

#endif
