/* nextham basis: contracted Gaussian basis sets as CP2K reads them
 * (BASIS_MOLOPT format) and GTH pseudopotential identities, per element.
 * Orbital order is CP2K's (DESIGN.md §2): sets in file order; in a set,
 * l = lmin..lmax with nshell(l) contractions each; m = -l..l. */
#ifndef NEXTHAM_BASIS_H
#define NEXTHAM_BASIS_H

#include "nextham/core.h"

#define NH_MAX_Z 118

/* One contracted shell: angular momentum l, primitives shared with the set. */
typedef struct nh_shell {
  int l;
  int nprim;
  double *exps;  /* nprim, bohr^-2 (points into the set's exponents)     */
  double *coefs; /* nprim, as in the file (unnormalised)                 */
} nh_shell;

/* The basis of one element. */
typedef struct nh_element_basis {
  int z;
  char basis_name[64];     /* e.g. DZVP-MOLOPT-SR-GTH */
  char potential_name[64]; /* e.g. GTH-PBE-q4 */
  double zval;             /* valence charge of the potential (0 unknown) */
  int nshell;
  nh_shell *shells;        /* in CP2K order */
  int norb;                /* sum of 2l+1 */
  double *storage;         /* owns exps and coefs of all shells */
} nh_element_basis;

typedef struct nh_basis {
  nh_element_basis *elem[NH_MAX_Z + 1]; /* NULL for elements not used */
  char basis_file[256], potential_file[256];
} nh_basis;

nh_err nh_basis_create(nh_basis **b);
nh_err nh_basis_destroy(nh_basis **b);

/* Searches a CP2K basis file for the set `name` of element z ("Si"
 * DZVP-MOLOPT-SR-GTH) and adds it. A header line may list several names
 * (aliases); names match ignoring case, as in CP2K, and the first matching
 * entry wins. A bare file name is looked up in the directory
 * $NEXTHAM_DATA_DIR, then /usr/share/cp2k; a name with a '/' is a path.
 * Errors name the file and line (malformed, NH_ERR_FILE) or the element and
 * name with the names the file has for that element (missing,
 * NH_ERR_INPUT). Replaces an earlier basis of z but keeps its potential. */
nh_err nh_basis_load(nh_basis *b, int z, const char *basis_file,
                     const char *basis_name);
/* Reads the valence charge of potential `name` of element z from a CP2K GTH
 * potential file (GTH_POTENTIALS format, optional NLCC block) into
 * elem[z]->zval and potential_name; zval is the sum of the electrons per l
 * on the first line. The whole entry is parsed so that a malformed one is
 * reported with FILE:LINE. Creates elem[z] without shells if no basis was
 * loaded yet. Same file lookup and errors as nh_basis_load. */
nh_err nh_basis_load_potential(nh_basis *b, int z, const char *pot_file,
                               const char *pot_name);
/* Adds an element basis built in memory (used by the HDF5 reader). The
 * function takes a copy (shells need not share exponents); an earlier
 * basis of the same element is replaced. */
nh_err nh_basis_add(nh_basis *b, const nh_element_basis *eb);

/* norb_of_z[0..NH_MAX_Z] (0 for absent elements), for nh_mat_create. */
void nh_basis_norb_table(const nh_basis *b, int norb_of_z[NH_MAX_Z + 1]);
/* Resolves a data file name to a readable path (see nh_basis_load). */
nh_err nh_basis_find_file(const char *name, char *path, size_t len);

#endif
