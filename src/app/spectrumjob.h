/* Private to src/app: what the "bands" and "dos" tasks share — the [sample]
 * table, the solver keys, loading H and S from a sample file, the solve and
 * the Fermi level. */
#ifndef NEXTHAM_APP_SPECTRUMJOB_H
#define NEXTHAM_APP_SPECTRUMJOB_H

#include "nextham/app.h"
#include "nextham/bandsio.h"
#include "nextham/basis.h"
#include "nextham/domain.h"
#include "nextham/mat.h"
#include "nextham/solve.h"
#include "nextham/spectrum.h"

typedef struct spectrum_job {
  /* keys */
  char sample[2048], hname[64];
  int m[3];             /* [sample] supercell: tile the sample first     */
  nh_solver_opts so;
  int target_set;       /* target given (eV in the input, Hartree in so)  */
  double charge;        /* net charge per cell                           */
  char output[2048];    /* HDF5 file                                     */
  int plot, plot_absolute;
  char png[2048];
  /* loaded */
  nh_structure *s;
  nh_basis *b;
  nh_domain *dom;
  nh_mat *H, *S;
  double nelec;
  int64_t norb;         /* orbitals per cell                             */
} spectrum_job;

/* [sample] file, hamiltonian and supercell. */
nh_err nh_spectrum_job_sample_keys(nh_toml *doc, const char *dir,
                                   spectrum_job *j);
/* solver, nbands, target, s_threshold, charge, output, plot, plot_file,
 * plot_absolute of table t (named tname in messages). */
nh_err nh_spectrum_job_solver_keys(nh_toml *doc, nh_toml_val *t,
                                   const char *tname, const char *dir,
                                   const char *out_default,
                                   const char *png_default, spectrum_job *j);
/* Collective: structure, basis, domain (halo from the file's pairs), H
 * (Hartree) and S, tiled into the supercell when asked; the electron count
 * (of the supercell). */
nh_err nh_spectrum_job_load(const nh_ctx *ctx, spectrum_job *j);
/* Collective: bands at nk k-points; for SLEPc without a target, the target
 * is first estimated as the Fermi level at Gamma from a dense solve. */
nh_err nh_spectrum_job_solve(const nh_ctx *ctx, spectrum_job *j, int nk,
                             const double (*k)[3], int mulliken,
                             nh_bands **bands);
/* Fermi level and gap from the electron count (dense solvers), or the
 * SLEPc target as the reference (ref->info NULL); logs them. */
nh_err nh_spectrum_job_fermi(const nh_ctx *ctx, const spectrum_job *j,
                             const nh_bands *b, const double *w,
                             nh_spectrum_info *info, nh_bandsio_ref *ref);
void nh_spectrum_job_free(spectrum_job *j);

#endif
