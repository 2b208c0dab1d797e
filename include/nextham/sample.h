/* nextham io: the HDF5 sample file (structure, basis, block-sparse
 * matrices), written collectively with parallel HDF5 from any number of
 * ranks and readable with any other number. Schema: docs/hdf5-format.md.
 *
 *   /                       attrs: format = "nextham-sample", version = 1,
 *                                  creator = "nextham <version>"
 *   /structure              attr source (file the structure came from)
 *   /structure/lattice      3x3 float64, Å, rows a1 a2 a3
 *   /structure/positions    Nx3 float64, Å, Cartesian (as given in the input)
 *   /structure/numbers      N int32
 *   /structure/pbc          3 int32
 *   /basis                  attrs basis_file, potential_file
 *   /basis/<Symbol>         attrs z, basis_name, potential_name, zval, norb;
 *                           datasets shell_l (nshell int32), shell_nprim
 *                           (nshell int32), exponents and coefficients
 *                           (sum nprim float64, bohr^-2 and file values)
 *   /basis/orbital_offsets  N+1 int64: first orbital of each atom
 *   /matrices/<name>        attr unit ("eV" or "1")
 *   /matrices/<name>/pairs  Mx5 int64 (i, j, n1, n2, n3), atoms 0-based
 *   /matrices/<name>/offsets M+1 int64 into values
 *   /matrices/<name>/values float64, row-major blocks; Hamiltonians in eV,
 *                           CP2K orbital order
 *
 * Blocks are written in rank order (each rank its own, sorted); readers
 * must not assume a global order. Files are written to "<path>.tmp" and
 * renamed when complete, so a failed run never replaces a good file. */
#ifndef NEXTHAM_SAMPLE_H
#define NEXTHAM_SAMPLE_H

#include <stdio.h>

#include "nextham/basis.h"
#include "nextham/core.h"
#include "nextham/domain.h"
#include "nextham/mat.h"
#include "nextham/structure.h"

typedef struct nh_sample_writer nh_sample_writer;

/* Collective. Creates <path>.tmp, writes structure and basis (every rank
 * passes the same structure and basis; rank 0's are written). On failure
 * nothing is left behind and *w is NULL. */
nh_err nh_sample_create(const nh_ctx *ctx, const char *path,
                        const nh_structure *s, const nh_basis *b,
                        nh_sample_writer **w);
/* Collective. Writes matrix m under /matrices/<name>; `scale` multiplies
 * values on the way out (NH_HARTREE_EV for Hamiltonians held in Hartree,
 * 1 for S) and `unit` is stored as an attribute. Each rank writes its own
 * blocks (possibly none). After a failure, call nh_sample_abort. */
nh_err nh_sample_write_matrix(nh_sample_writer *w, const nh_mat *m,
                              const char *name, double scale,
                              const char *unit);
/* Collective. Closes and renames <path>.tmp to <path> (rank 0, after all
 * ranks closed it); frees the writer, also on failure (then the .tmp file
 * is removed). */
nh_err nh_sample_close(nh_sample_writer **w);
/* Collective. On failure: closes and removes <path>.tmp. */
void nh_sample_abort(nh_sample_writer **w);

/* Collective readers. Structure and basis are read by every rank. */
nh_err nh_sample_read_structure(const nh_ctx *ctx, const char *path,
                                nh_structure **s);
nh_err nh_sample_read_basis(const nh_ctx *ctx, const char *path,
                            nh_basis **b);
/* Collective over the domain's ranks. Reads /matrices/<name> into a new
 * matrix on the given domain (each rank keeps the blocks of its atoms; the
 * halo must cover the pairs of the file); values are multiplied by `scale`
 * (1/NH_HARTREE_EV to get Hartree back). Memory O(own blocks + a chunk of
 * 2^18 pairs). Every block is checked against norb(i) x norb(j) of b. */
nh_err nh_sample_read_matrix(const char *path, const char *name,
                             const nh_domain *dom, const nh_basis *b,
                             double scale, nh_mat **m);
/* Collective. Names of the matrices present (in name order); *names is
 * freed with nh_free. */
nh_err nh_sample_list_matrices(const nh_ctx *ctx, const char *path,
                               int *count, char (**names)[64]);
/* Collective (`nextham info FILE.h5`). Rank 0 prints to out the format and
 * version, number of atoms, formula, cell (Å), pbc, the basis of each
 * element, and per matrix: blocks, values, unit, number of lattice images
 * and max |value|. Every rank reads a share of each matrix. */
nh_err nh_sample_info(const nh_ctx *ctx, const char *path, FILE *out);

#endif
