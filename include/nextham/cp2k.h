/* nextham io: import of CP2K reference runs (docs/cp2k.md).
 *
 * A run is the main output file (.out) of a CP2K 2023.1 calculation with
 * &DFT &PRINT &KS_CSR_WRITE / &S_CSR_WRITE REAL_SPACE .TRUE. and &KPOINTS,
 * plus its per-image CSR files beside it:
 *   <PROJECT>-KS_SPIN_1_R_<img>-1_0.csr, <PROJECT>-S_SPIN_1_R_<img>-1_0.csr
 * (text "row col value" or Fortran unformatted records, autodetected).
 * The .out holds what the CSR files lack: cell, atoms, kinds with basis and
 * potential names, and the table image index -> lattice translation n.
 * CSR file img holds M(n_img)_ij = <phi_i(r - tau_i)| M |phi_j(r - tau_j - n.A)>
 * with i, j 1-based global orbital indices (atoms in input order, CP2K's
 * orbital order within an atom) and tau CP2K's wrapped positions. */
#ifndef NEXTHAM_CP2K_H
#define NEXTHAM_CP2K_H

#include "nextham/basis.h"
#include "nextham/core.h"
#include "nextham/domain.h"
#include "nextham/mat.h"
#include "nextham/structure.h"

/* One atomic kind of the run (ATOMIC KIND INFORMATION). */
typedef struct nh_cp2k_kind {
  char name[64];           /* kind label, e.g. "Si" or "Si_surf" */
  int z;                   /* atomic number of its element        */
  char basis_name[64];     /* orbital basis set, e.g. DZVP-MOLOPT-SR-GTH */
  char potential_name[64]; /* e.g. GTH-PBE-q4                     */
  int norb;                /* number of spherical basis functions */
  int natoms;
} nh_cp2k_kind;

/* What the .out says about a run. Lengths in Å as printed: cell vectors
 * with 3 decimals, positions with 6 (nh_cp2k_structure prefers the exact
 * values of the input file when it is still beside the .out). */
typedef struct nh_cp2k_run {
  char out_path[1024];
  char dir[1024];            /* directory of the .out ("." if none)      */
  char project[256];         /* GLOBAL| Project name = CSR file prefix  */
  char input_file[256];      /* CP2K| Input file name                    */
  char basis_file[256];      /* GLOBAL| Basis set file name              */
  char potential_file[256];  /* GLOBAL| Potential file name              */
  double cell[3][3];         /* Å, rows a, b, c                          */
  int pbc[3];
  int natoms;
  int *kind;                 /* natoms, index into kinds                 */
  int *z;                    /* natoms                                   */
  double (*pos)[3];          /* natoms, Å, as in the input (unwrapped)   */
  int nkinds;
  nh_cp2k_kind *kinds;
  int norb;                  /* total spherical functions = CSR dimension */
  int nimages;
  int (*images)[3];          /* nimages; images[img-1] = n of file img   */
  double eps_pgf_orb;        /* QS| Interaction thresholds (0 if absent) */
  int scf_converged;         /* 1 if "SCF run converged" was printed     */
} nh_cp2k_run;

/* Parses a CP2K .out (every rank reads it; small). Errors name the file
 * and line: a missing section, a malformed line, or no CSR image table
 * (the run lacks &KS_CSR_WRITE REAL_SPACE .TRUE. or &KPOINTS). When the
 * table is printed more than once (geometry steps), the last one counts. */
nh_err nh_cp2k_read_run(const nh_ctx *ctx, const char *out_path,
                        nh_cp2k_run **run);
nh_err nh_cp2k_run_destroy(nh_cp2k_run **run);

/* Path of the CSR file of image img (1-based) of matrix "KS" or "S". */
nh_err nh_cp2k_csr_path(const nh_cp2k_run *run, const char *matrix, int img,
                        char *path, size_t len);

/* The raw triplets of one CSR file (1-based row, col; value as stored). */
typedef struct nh_cp2k_csr {
  int64_t nnz;
  int32_t *row, *col;
  double *val;
  int binary; /* 1 if the file held Fortran unformatted records */
} nh_cp2k_csr;

/* Reads one CSR file, text or binary (autodetected from the first record
 * marker). Errors name the file and the line (text) or the byte offset of
 * the record (binary: truncated record, wrong record length). */
nh_err nh_cp2k_csr_read(const char *path, nh_cp2k_csr **csr);
nh_err nh_cp2k_csr_destroy(nh_cp2k_csr **csr);

/* The run's structure in bohr. Takes the exact cell and positions from the
 * CP2K input named in the .out when it is beside the .out and agrees with
 * the printed values (to their printed digits); otherwise the printed values
 * with a warning (cell known to 1e-3 Å only). The error says which atom or
 * vector differs when the input disagrees with the .out. */
nh_err nh_cp2k_structure(const nh_ctx *ctx, const nh_cp2k_run *run,
                         nh_structure **s);

/* Loads into b the basis set and potential of every kind from the files the
 * run names (a file beside the .out takes precedence over the data
 * directories). Fails when two kinds of one element use different basis sets
 * or when a basis has another number of functions than CP2K printed. */
nh_err nh_cp2k_load_basis(const nh_cp2k_run *run, nh_basis *b);

/* Largest distance (bohr) of an atom pair whose block CP2K can write:
 * twice the largest primitive radius at eps_pgf_orb (CONVENTIONS.md §6),
 * plus a small margin. Use it as the halo of the domain given to
 * nh_cp2k_import. */
nh_err nh_cp2k_pair_range(const nh_cp2k_run *run, const nh_basis *b,
                          double *range);

/* Collective. Imports matrix "KS" (Hartree) or "S" into a new block-sparse
 * matrix named `name` on dom. Ranks read the image files round-robin and
 * deliver each block to the owner of its atom i; no rank keeps blocks of
 * atoms it does not own. Checks: every image file present, orbital indices
 * within the basis' total, the atoms' CP2K-wrapped positions of the domain
 * equal to the run's positions wrapped (same atom order), each block within
 * the domain's halo. Errors are agreed on by all ranks. */
nh_err nh_cp2k_import_matrix(const nh_cp2k_run *run, const char *matrix,
                             const nh_domain *dom, const nh_basis *b,
                             const char *name, nh_mat **m);
/* Both: S (unitless) and H (Hartree). */
nh_err nh_cp2k_import(const nh_cp2k_run *run, const nh_domain *dom,
                      const nh_basis *b, nh_mat **S, nh_mat **H);

/* Checks that two runs describe the same system: atoms,
 * elements, positions and cell (to the printed digits), kinds with their
 * basis sets, and the image table in the same order. */
nh_err nh_cp2k_check_same_system(const nh_cp2k_run *a, const nh_cp2k_run *b);

/* Collective. `nextham convert cp2k RUN.out -o sample.h5 [--h0 GUESS.out]`:
 * writes a sample with the structure, the basis, S, H (eV) and, when
 * h0_out_path is not NULL, H0 (eV) = the KS matrix of that run (a MAX_SCF 1
 * run of the same system). */
nh_err nh_cp2k_convert(const nh_ctx *ctx, const char *out_path,
                       const char *h0_out_path, const char *sample_path);

#endif
