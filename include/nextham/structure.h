/* nextham geom: the atomic structure (lattice, positions, elements,
 * periodicity) and its validation. Internal units are bohr. */
#ifndef NEXTHAM_STRUCTURE_H
#define NEXTHAM_STRUCTURE_H

#include "nextham/core.h"

typedef struct nh_structure {
  int natoms;
  double lattice[3][3]; /* bohr; rows are a1, a2, a3 (always non-singular,
                           also along non-periodic directions: a box) */
  double (*pos)[3];     /* natoms x 3, bohr, Cartesian, as read (unwrapped) */
  int *z;               /* natoms atomic numbers */
  int pbc[3];           /* 1 if periodic along a_k */
  char source[256];     /* file it came from, for messages */
} nh_structure;

/* Allocates arrays for natoms atoms, zeroed; lattice zero, pbc = 1 1 1. */
nh_err nh_structure_create(int natoms, nh_structure **s);
nh_err nh_structure_destroy(nh_structure **s); /* accepts NULL and *s NULL */
nh_err nh_structure_copy(const nh_structure *src, nh_structure **dst);

/* Reads a structure file. format is "poscar", "xyz" (extended XYZ), "cp2k"
 * (the &CELL/&COORD of a CP2K input) or "auto" (from the file name:
 * POSCAR*, CONTCAR*, *.vasp, *.poscar -> poscar; *.xyz, *.extxyz -> xyz;
 * *.inp -> cp2k). Errors (NH_ERR_INPUT for bad content, NH_ERR_FILE for an
 * unreadable file) name the file and line. The result is validated with
 * NH_MIN_DIST. Formats, units and conventions: docs/structures.md. */
nh_err nh_structure_read(const char *path, const char *format, nh_structure **s);
nh_err nh_structure_read_poscar(const char *path, nh_structure **s);
nh_err nh_structure_read_xyz(const char *path, nh_structure **s);
nh_err nh_structure_read_cp2k(const char *path, nh_structure **s);
/* Writers (Å, 15 decimals, written to "<path>.tmp" then renamed): extended
 * XYZ with Lattice and pbc; POSCAR v5 Cartesian (always 3-D periodic: the
 * pbc flags are not kept). Reading back gives the structure to 1e-12 Å. */
nh_err nh_structure_write_xyz(const nh_structure *s, const char *path);
nh_err nh_structure_write_poscar(const nh_structure *s, const char *path);

/* Checks: at least one atom, known elements (1..118), finite coordinates
 * and lattice vectors within 1e6 Å, right-handed non-singular cell
 * (det / (|a1||a2||a3|) > 1e-8), no two atoms closer than min_dist (bohr;
 * the default NH_MIN_DIST is 0.5 Å) including through periodic images (so
 * periodic lattice vectors are at least min_dist long, and periodic layer
 * spacings at least min_dist / 20, which bounds the image search).
 * min_dist <= 0 skips the distance checks. O(N) with cell lists
 * (nh_neighbors_build_periodic). Messages name s->source and the atoms
 * (1-based, with element symbols) at fault; code NH_ERR_INPUT. */
#define NH_MIN_DIST (0.5 / NH_BOHR_ANGSTROM)
nh_err nh_structure_validate(const nh_structure *s, double min_dist);

/* Lattice helpers. recip: rows b_k with a_i . b_k = delta_ik (no 2 pi). */
double nh_lattice_volume(const double lat[3][3]); /* signed det */
nh_err nh_lattice_reciprocal(const double lat[3][3], double recip[3][3]);
void nh_lattice_to_frac(const double recip[3][3], const double r[3], double s[3]);
void nh_lattice_to_cart(const double lat[3][3], const double s[3], double r[3]);

/* CP2K's wrapped positions (DESIGN.md §2): along periodic directions the
 * fractional coordinate s -> s - round(s) (half away from zero), i.e. in
 * [-0.5, 0.5]; computed as r - n.A, so atoms that need no shift keep their
 * coordinates bit for bit. Non-periodic directions are untouched. pos_out
 * may equal s->pos. */
void nh_structure_wrap_cp2k(const nh_structure *s, double (*pos_out)[3]);

/* Element symbol <-> atomic number. Symbols are case-sensitive as in the
 * periodic table ("Si"); returns 0 / "" for unknown. */
int nh_element_number(const char *symbol);
const char *nh_element_symbol(int z);

#endif
