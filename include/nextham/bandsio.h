/* nextham solve: output of the "bands" and "dos" tasks (docs/bands.md):
 * an HDF5 file, a gnuplot-ready bands.dat and the PNG plot; and the halo a
 * sample's matrices need. Energies are written in eV. */
#ifndef NEXTHAM_BANDSIO_H
#define NEXTHAM_BANDSIO_H

#include "nextham/core.h"
#include "nextham/kpoints.h"
#include "nextham/solve.h"
#include "nextham/spectrum.h"
#include "nextham/structure.h"

/* Collective. Largest |tau_j + n.A - tau_i| (bohr) over the pairs of
 * /matrices/<name> of a sample file (s: its structure); each rank reads a
 * share of the pairs. The halo a domain needs to read the matrix. */
nh_err nh_bandsio_pair_range(const nh_ctx *ctx, const char *path,
                             const char *name, const nh_structure *s,
                             double *range);

/* What the energies are referred to. */
typedef struct nh_bandsio_ref {
  const nh_spectrum_info *info; /* Hartree; NULL: no electron count      */
  double fermi;                 /* Hartree, written as fermi_energy        */
} nh_bandsio_ref;

/* Collective; rank 0 writes "<path>.tmp" and renames it. Layout:
 *   /bands/kpoints (nk x 3), /bands/distance (nk, Å^-1), /bands/energies
 *   (nk x nb, eV), /bands/labels (strings), /bands/label_index (int64),
 *   /bands/label_distance; attributes of /bands: fermi_energy (eV), and with
 *   an electron count nelec, gapped, gap, direct_gap (eV), direct (0/1),
 *   vbm, cbm (eV), vbm_k, cbm_k (0-based k indices). */
nh_err nh_bandsio_write_bands(const nh_ctx *ctx, const char *path,
                              const nh_kpath *kp, const nh_bands *b,
                              const nh_bandsio_ref *ref);
/* bands.dat: a header of '#' lines (Fermi level, one "# label NAME
 * DISTANCE" line per special point), then one line per k-point: distance
 * (Å^-1) and the nb energies (eV, absolute); a blank line at each break of
 * the path so that gnuplot does not join the runs. Rank 0 writes. */
nh_err nh_bandsio_write_dat(const nh_ctx *ctx, const char *path,
                            const nh_kpath *kp, const nh_bands *b,
                            double fermi);

/* Collective; rank 0 writes. /dos/energy (ne, eV, absolute), /dos/total
 * (ne, states/eV/cell), /dos/elements/<Symbol> (ne) when nelem > 0, the
 * mesh /dos/kpoints (nk x 3) and /dos/weights (nk), /dos/energies
 * (nk x nb, eV); attributes as /bands plus broadening and sigma (eV). */
typedef struct nh_dos_data {
  int ne;
  double e0, de;          /* eV: grid E_j = e0 + j de                       */
  const double *total;    /* ne, states / eV / cell                         */
  int nelem;
  const int *elem_z;      /* nelem                                          */
  const double *pdos;     /* ne x nelem                                     */
  const char *broadening; /* "gaussian" | "fermi-dirac"                     */
  double sigma;           /* eV                                             */
  const double *w;        /* nk k-point weights                              */
} nh_dos_data;
nh_err nh_bandsio_write_dos(const nh_ctx *ctx, const char *path,
                            const nh_bands *b, const nh_dos_data *dos,
                            const nh_bandsio_ref *ref);

/* Rank 0 runs /usr/bin/python3 tools/plot_bands.py H5FILE -o PNG [args]
 * (script: $NEXTHAM_PLOT_SCRIPT, else the installed copy, else the source
 * tree's). A missing python3, matplotlib, h5py or script, or a failing
 * plot, is a warning, never an error. */
void nh_bandsio_plot(const nh_ctx *ctx, const char *h5path, const char *png,
                     const char *extra_args);

#endif
