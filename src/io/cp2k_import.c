/* Import of a CP2K run: structure, basis and the per-image S and KS
 * matrices into nextham's block-sparse matrices (docs/cp2k.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nextham/cp2k.h"

/* Printed precision of the .out: cell components with 3 decimals, atomic
 * coordinates with 6 (Å); tolerances allow for the rounding. */
#define CELL_TOL 6e-4
#define POS_TOL 2e-6

/* ---------------------------------------------------------------------------
 * Structure
 * ------------------------------------------------------------------------- */

static nh_err structure_from_out(const nh_cp2k_run *run, nh_structure **s) {
  NH_CALL(nh_structure_create(run->natoms, s));
  for (int k = 0; k < 3; k++) {
    (*s)->pbc[k] = run->pbc[k];
    for (int d = 0; d < 3; d++)
      (*s)->lattice[k][d] = run->cell[k][d] / NH_BOHR_ANGSTROM;
  }
  for (int a = 0; a < run->natoms; a++) {
    (*s)->z[a] = run->z[a];
    for (int d = 0; d < 3; d++)
      (*s)->pos[a][d] = run->pos[a][d] / NH_BOHR_ANGSTROM;
  }
  snprintf((*s)->source, sizeof (*s)->source, "%.255s", run->out_path);
  return NH_OK;
}

/* Whether structure s (bohr) is the run's, to the printed digits. */
static nh_err check_agrees(const nh_cp2k_run *run, const nh_structure *s,
                           const char *what) {
  NH_CHECK(s->natoms == run->natoms, NH_ERR_INPUT,
           "%s has %d atoms, the CP2K output %s %d", what, s->natoms,
           run->out_path, run->natoms);
  for (int k = 0; k < 3; k++) {
    NH_CHECK(s->pbc[k] == run->pbc[k], NH_ERR_INPUT,
             "%s: periodicity along %c differs from %s", what, 'a' + k,
             run->out_path);
    for (int d = 0; d < 3; d++)
      NH_CHECK(fabs(s->lattice[k][d] * NH_BOHR_ANGSTROM - run->cell[k][d]) <=
                   CELL_TOL,
               NH_ERR_INPUT, "%s: cell vector %c differs from %s", what,
               'a' + k, run->out_path);
  }
  for (int a = 0; a < run->natoms; a++) {
    NH_CHECK(s->z[a] == run->z[a], NH_ERR_INPUT,
             "%s: atom %d is Z=%d, in %s Z=%d", what, a + 1, s->z[a],
             run->out_path, run->z[a]);
    for (int d = 0; d < 3; d++)
      NH_CHECK(fabs(s->pos[a][d] * NH_BOHR_ANGSTROM - run->pos[a][d]) <=
                   POS_TOL,
               NH_ERR_INPUT, "%s: atom %d is at another position than in %s",
               what, a + 1, run->out_path);
  }
  return NH_OK;
}

/* A path relative to CP2K's working directory, taken as the .out's. */
static void beside_out(const nh_cp2k_run *run, const char *name, char *path,
                       size_t len) {
  if (name[0] == '/')
    snprintf(path, len, "%s", name);
  else
    snprintf(path, len, "%s/%s", run->dir, name);
}

nh_err nh_cp2k_structure(const nh_ctx *ctx, const nh_cp2k_run *run,
                         nh_structure **s) {
  char inp[2048];
  nh_structure *fromin = NULL;
  beside_out(run, run->input_file, inp, sizeof inp);
  *s = NULL;
  if (run->input_file[0] && access(inp, R_OK) == 0) {
    nh_err err = nh_structure_read_cp2k(inp, &fromin);
    if (err) {
      nh_warn(ctx, "cp2k: cannot take the structure from the input %s (%s); "
              "using the values printed in %s (cell to 1e-3 Å)", inp,
              nh_error_message(), run->out_path);
      nh_error_clear();
    } else {
      err = check_agrees(run, fromin, inp);
      if (!err) {
        *s = fromin;
        return NH_OK;
      }
      nh_structure_destroy(&fromin);
      return nh_error_trace(err, __FILE__, __LINE__, __func__);
    }
  } else {
    nh_warn(ctx, "cp2k: input %s not found; using the cell and positions "
            "printed in %s (cell to 1e-3 Å)", inp, run->out_path);
  }
  NH_CALL(structure_from_out(run, s));
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Basis
 * ------------------------------------------------------------------------- */

/* A data file named by the run: beside the .out if there, else by name. */
static void data_file(const nh_cp2k_run *run, const char *name, char *path,
                      size_t len) {
  beside_out(run, name, path, len);
  if (access(path, R_OK) != 0) snprintf(path, len, "%s", name);
}

nh_err nh_cp2k_load_basis(const nh_cp2k_run *run, nh_basis *b) {
  char bfile[2048], pfile[2048];
  data_file(run, run->basis_file, bfile, sizeof bfile);
  data_file(run, run->potential_file, pfile, sizeof pfile);
  for (int k = 0; k < run->nkinds; k++) {
    const nh_cp2k_kind *kd = &run->kinds[k];
    const nh_element_basis *eb = b->elem[kd->z];
    if (eb && strcmp(eb->basis_name, kd->basis_name) == 0) continue;
    NH_CHECK(!eb, NH_ERR_INPUT,
             "%s: kinds of %s use basis sets %s and %s; nextham has one "
             "basis per element", run->out_path, nh_element_symbol(kd->z),
             eb ? eb->basis_name : "", kd->basis_name);
    NH_CALL(nh_basis_load(b, kd->z, bfile, kd->basis_name));
    if (kd->potential_name[0])
      NH_CALL(nh_basis_load_potential(b, kd->z, pfile, kd->potential_name));
    eb = b->elem[kd->z];
    NH_CHECK(eb->norb == kd->norb, NH_ERR_INPUT,
             "basis %s of %s from %s has %d functions, but CP2K used %d "
             "(%s, kind %s): wrong basis file?", kd->basis_name,
             nh_element_symbol(kd->z), bfile, eb->norb, kd->norb,
             run->out_path, kd->name);
  }
  return NH_OK;
}

/* Outermost r with |c| r^l exp(-zeta r^2) = eps, or 0 if never reached. */
static double primitive_radius(double c, int l, double zeta, double eps) {
  double lc = log(fabs(c)) - log(eps);
  if (l == 0) return lc > 0 ? sqrt(lc / zeta) : 0;
  double r0 = sqrt(l / (2 * zeta)), hi = 2 * r0 + 1;
  if (lc + l * log(r0) - zeta * r0 * r0 <= 0) return 0;
  while (lc + l * log(hi) - zeta * hi * hi > 0) hi *= 2;
  double lo = r0;
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
    double mid = 0.5 * (lo + hi);
    if (lc + l * log(mid) - zeta * mid * mid > 0)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

nh_err nh_cp2k_pair_range(const nh_cp2k_run *run, const nh_basis *b,
                          double *range) {
  NH_CHECK(run->eps_pgf_orb > 0, NH_ERR_FILE,
           "%s: no 'QS| Interaction thresholds: eps_pgf_orb' line",
           run->out_path);
  double rmax = 0;
  for (int k = 0; k < run->nkinds; k++) {
    const nh_element_basis *eb = b->elem[run->kinds[k].z];
    NH_CHECK(eb, NH_ERR_ARG, "no basis loaded for element %s",
             nh_element_symbol(run->kinds[k].z));
    for (int s = 0; s < eb->nshell; s++) {
      const nh_shell *sh = &eb->shells[s];
      for (int p = 0; p < sh->nprim; p++) {
        /* primitive-normalised coefficient (CONVENTIONS.md §1) */
        double zeta = sh->exps[p];
        double c = sh->coefs[p] * pow(2.0, sh->l) * pow(2 / M_PI, 0.75) *
                   pow(zeta, (2 * sh->l + 3) / 4.0);
        double r = primitive_radius(c, sh->l, zeta, run->eps_pgf_orb);
        if (r > rmax) rmax = r;
      }
    }
  }
  *range = 2 * rmax * (1 + 1e-6) + 1e-3;
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Matrices
 * ------------------------------------------------------------------------- */

/* Per-atom data every rank keeps while importing: O(natoms + norb). */
typedef struct atom_map {
  int natoms, norb;
  int *first;     /* natoms + 1: first orbital (0-based) of each atom   */
  int *atom_of;   /* norb: atom of each orbital                        */
  double (*tau)[3]; /* natoms: CP2K-wrapped positions, bohr            */
} atom_map;

static void atom_map_free(atom_map *am) {
  nh_free(&am->first);
  nh_free(&am->atom_of);
  nh_free(&am->tau);
}

static void wrap_cp2k(const double lat[3][3], const double rec[3][3],
                      const int pbc[3], const double x[3], double out[3]) {
  double s[3];
  nh_lattice_to_frac(rec, x, s);
  for (int d = 0; d < 3; d++)
    if (pbc[d]) s[d] -= round(s[d]);
  nh_lattice_to_cart(lat, s, out);
}

static nh_err atom_map_build(const nh_cp2k_run *run, const nh_basis *b,
                             const nh_domain *dom, atom_map *am) {
  int norb_of_z[NH_MAX_Z + 1], pbc[3];
  double lat[3][3], rec[3][3];
  nh_basis_norb_table(b, norb_of_z);
  nh_domain_lattice(dom, lat, pbc);
  NH_CALL(nh_lattice_reciprocal(lat, rec));
  am->natoms = run->natoms;
  NH_CALL(nh_malloc((size_t)(run->natoms + 1) * sizeof *am->first, &am->first));
  NH_CALL(nh_malloc((size_t)run->natoms * sizeof *am->tau, &am->tau));
  am->first[0] = 0;
  for (int a = 0; a < run->natoms; a++) {
    int z = run->z[a];
    NH_CHECK(norb_of_z[z] == run->kinds[run->kind[a]].norb, NH_ERR_INPUT,
             "%s: atom %d (%s) has %d functions in CP2K, %d in the basis "
             "given: wrong basis?", run->out_path, a + 1, nh_element_symbol(z),
             run->kinds[run->kind[a]].norb, norb_of_z[z]);
    am->first[a + 1] = am->first[a] + norb_of_z[z];
    double x[3];
    for (int d = 0; d < 3; d++) x[d] = run->pos[a][d] / NH_BOHR_ANGSTROM;
    wrap_cp2k(lat, rec, pbc, x, am->tau[a]);
  }
  am->norb = am->first[run->natoms];
  NH_CALL(nh_malloc((size_t)am->norb * sizeof *am->atom_of, &am->atom_of));
  for (int a = 0; a < run->natoms; a++)
    for (int o = am->first[a]; o < am->first[a + 1]; o++) am->atom_of[o] = a;
  return NH_OK;
}

/* The domain must hold the run's atoms in the same order at CP2K's wrapped
 * positions (the same lattice translation may differ only by rounding of
 * the printed coordinates). */
static nh_err check_domain(const nh_cp2k_run *run, const nh_domain *dom,
                           const atom_map *am) {
  const nh_atoms *at = nh_domain_atoms(dom);
  NH_CHECK(at->natoms_global == run->natoms, NH_ERR_INPUT,
           "the domain has %lld atoms, CP2K run %s has %d",
           (long long)at->natoms_global, run->out_path, run->natoms);
  for (int64_t k = 0; k < at->nlocal; k++) {
    int64_t a = at->gid[k];
    NH_CHECK(at->z[k] == run->z[a], NH_ERR_INPUT,
             "atom %lld is Z=%d in the domain, Z=%d in %s (atom order?)",
             (long long)a + 1, at->z[k], run->z[a], run->out_path);
    double d2 = 0;
    for (int d = 0; d < 3; d++)
      d2 += (at->x[k][d] - am->tau[a][d]) * (at->x[k][d] - am->tau[a][d]);
    NH_CHECK(sqrt(d2) * NH_BOHR_ANGSTROM <= 10 * POS_TOL, NH_ERR_INPUT,
             "atom %lld: wrapped position (%.6f %.6f %.6f) Å differs from "
             "CP2K's (%.6f %.6f %.6f) Å of %s", (long long)a + 1,
             at->x[k][0] * NH_BOHR_ANGSTROM, at->x[k][1] * NH_BOHR_ANGSTROM,
             at->x[k][2] * NH_BOHR_ANGSTROM, am->tau[a][0] * NH_BOHR_ANGSTROM,
             am->tau[a][1] * NH_BOHR_ANGSTROM,
             am->tau[a][2] * NH_BOHR_ANGSTROM, run->out_path);
  }
  return NH_OK;
}

/* Blocks of one image being collected: pair (i, j) -> slot. */
typedef struct image_blocks {
  nh_hmap slot;
  int64_t nblk, cap, nval, capval;
  int64_t (*pair)[2];
  int64_t *off;
  double *val;
} image_blocks;

static void image_blocks_free(image_blocks *ib) {
  nh_hmap_free(&ib->slot);
  nh_free(&ib->pair);
  nh_free(&ib->off);
  nh_free(&ib->val);
}

/* Slot of block (i, j), created zeroed when new. */
static nh_err block_slot(image_blocks *ib, const atom_map *am, int64_t i,
                         int64_t j, int64_t *slot) {
  const int n0[3] = {0, 0, 0};
  uint64_t k1, k2;
  nh_hmap_block_key(i, j, n0, &k1, &k2);
  *slot = nh_hmap_get(&ib->slot, k1, k2);
  if (*slot >= 0) return NH_OK;
  int64_t size = (int64_t)(am->first[i + 1] - am->first[i]) *
                 (am->first[j + 1] - am->first[j]);
  if (ib->nblk == ib->cap) {
    ib->cap = ib->cap ? 2 * ib->cap : 256;
    NH_CALL(nh_realloc((size_t)ib->cap * sizeof *ib->pair, &ib->pair));
    NH_CALL(nh_realloc((size_t)ib->cap * sizeof *ib->off, &ib->off));
  }
  if (ib->nval + size > ib->capval) {
    while (ib->nval + size > ib->capval)
      ib->capval = ib->capval ? 2 * ib->capval : 65536;
    NH_CALL(nh_realloc((size_t)ib->capval * sizeof *ib->val, &ib->val));
  }
  memset(ib->val + ib->nval, 0, (size_t)size * sizeof *ib->val);
  *slot = ib->nblk++;
  ib->pair[*slot][0] = i;
  ib->pair[*slot][1] = j;
  ib->off[*slot] = ib->nval;
  ib->nval += size;
  NH_CALL(nh_hmap_put(&ib->slot, k1, k2, *slot));
  return NH_OK;
}

/* Sorts the triplets of one CSR file into the blocks of owned atoms i. */
static nh_err collect_image(const nh_cp2k_csr *csr, const char *path,
                            const atom_map *am, const nh_domain *dom,
                            image_blocks *ib) {
  for (int64_t k = 0; k < csr->nnz; k++) {
    int r = csr->row[k] - 1, c = csr->col[k] - 1;
    NH_CHECK(r < am->norb && c < am->norb, NH_ERR_INPUT,
             "%s: element %lld has orbital index (%d, %d) beyond the %d "
             "functions of the basis: wrong basis file?", path,
             (long long)k + 1, r + 1, c + 1, am->norb);
    int64_t i = am->atom_of[r], j = am->atom_of[c], slot;
    if (nh_domain_local_index(dom, i) < 0) continue;
    NH_CALL(block_slot(ib, am, i, j, &slot));
    int ncol = am->first[j + 1] - am->first[j];
    ib->val[ib->off[slot] + (int64_t)(r - am->first[i]) * ncol +
            (c - am->first[j])] = csr->val[k];
  }
  return NH_OK;
}

/* Distance |tau_j + n.A - tau_i| in bohr. */
static double block_distance(const atom_map *am, const double lat[3][3],
                             int64_t i, int64_t j, const int n[3]) {
  double d2 = 0;
  for (int d = 0; d < 3; d++) {
    double x = am->tau[j][d] - am->tau[i][d];
    for (int k = 0; k < 3; k++) x += n[k] * lat[k][d];
    d2 += x * x;
  }
  return sqrt(d2);
}

static nh_err store_image(nh_mat *m, const image_blocks *ib,
                          const atom_map *am, const nh_domain *dom,
                          const int n[3], const char *path) {
  int pbc[3];
  double lat[3][3], halo = nh_domain_halo(dom);
  nh_domain_lattice(dom, lat, pbc);
  for (int64_t s = 0; s < ib->nblk; s++) {
    int64_t i = ib->pair[s][0], j = ib->pair[s][1];
    double dist = block_distance(am, lat, i, j, n);
    NH_CHECK(dist <= halo, NH_ERR_INPUT,
             "%s: block of atoms %lld and %lld at distance %.3f Å exceeds the "
             "domain's halo of %.3f Å (use nh_cp2k_pair_range)", path,
             (long long)i + 1, (long long)j + 1, dist * NH_BOHR_ANGSTROM,
             halo * NH_BOHR_ANGSTROM);
    NH_CALL(nh_mat_set_block(m, i, j, n, ib->val + ib->off[s]));
  }
  return NH_OK;
}

/* The home-cell file holds the on-site diagonal, so its largest index is
 * the dimension CP2K used; catches CSR files left by another run. */
static nh_err check_dimension(const nh_cp2k_csr *csr, const char *path,
                              const atom_map *am) {
  int32_t dim = 0;
  for (int64_t k = 0; k < csr->nnz; k++)
    if (csr->row[k] > dim) dim = csr->row[k];
  NH_CHECK(dim == am->norb, NH_ERR_INPUT,
           "%s has %d functions, the run's basis %d: CSR files of another "
           "run, or the wrong basis file?", path, (int)dim, am->norb);
  return NH_OK;
}

/* Local part of the import: every image file, own blocks only. */
static nh_err import_local(const nh_cp2k_run *run, const char *matrix,
                           const nh_domain *dom, const atom_map *am,
                           nh_mat *m) {
  nh_err err = NH_OK;
  image_blocks ib = {0};
  nh_cp2k_csr *csr = NULL;
  char path[2048];
  NH_CALL_GOTO(nh_hmap_init(&ib.slot, 0), done);
  for (int img = 1; img <= run->nimages; img++) {
    NH_CALL_GOTO(nh_cp2k_csr_path(run, matrix, img, path, sizeof path), done);
    NH_CALL_GOTO(nh_cp2k_csr_read(path, &csr), done);
    if (img == 1) NH_CALL_GOTO(check_dimension(csr, path, am), done);
    NH_CALL_GOTO(collect_image(csr, path, am, dom, &ib), done);
    NH_CALL_GOTO(store_image(m, &ib, am, dom, run->images[img - 1], path),
                 done);
    nh_cp2k_csr_destroy(&csr);
    nh_hmap_free(&ib.slot);
    NH_CALL_GOTO(nh_hmap_init(&ib.slot, ib.nblk), done);
    ib.nblk = ib.nval = 0;
  }
done:
  nh_cp2k_csr_destroy(&csr);
  image_blocks_free(&ib);
  return err;
}

nh_err nh_cp2k_import_matrix(const nh_cp2k_run *run, const char *matrix,
                             const nh_domain *dom, const nh_basis *b,
                             const char *name, nh_mat **m) {
  const nh_ctx *ctx = nh_domain_ctx(dom);
  int norb_of_z[NH_MAX_Z + 1];
  atom_map am = {0};
  *m = NULL;
  nh_timer_start("cp2k import");
  nh_err err = atom_map_build(run, b, dom, &am);
  if (!err) err = check_domain(run, dom, &am);
  err = nh_ctx_agree(ctx, err);
  if (!err) {
    nh_basis_norb_table(b, norb_of_z);
    err = nh_mat_create(dom, norb_of_z, name, m);
  }
  if (!err) err = nh_ctx_agree(ctx, import_local(run, matrix, dom, &am, *m));
  if (!err) err = nh_mat_assemble(*m);
  atom_map_free(&am);
  nh_timer_stop("cp2k import");
  if (err) nh_mat_destroy(m);
  NH_CALL(err);
  return NH_OK;
}

nh_err nh_cp2k_import(const nh_cp2k_run *run, const nh_domain *dom,
                      const nh_basis *b, nh_mat **S, nh_mat **H) {
  NH_CALL(nh_cp2k_import_matrix(run, "S", dom, b, "S", S));
  nh_err err = nh_cp2k_import_matrix(run, "KS", dom, b, "H", H);
  if (err) nh_mat_destroy(S);
  NH_CALL(err);
  return NH_OK;
}

/* ---------------------------------------------------------------------------
 * Two runs of one system; conversion to a sample file
 * ------------------------------------------------------------------------- */

nh_err nh_cp2k_check_same_system(const nh_cp2k_run *a, const nh_cp2k_run *b) {
  const char *pa = a->out_path, *pb = b->out_path;
  NH_CHECK(a->natoms == b->natoms && a->nkinds == b->nkinds, NH_ERR_INPUT,
           "%s and %s describe different systems (%d/%d atoms, %d/%d kinds)",
           pa, pb, a->natoms, b->natoms, a->nkinds, b->nkinds);
  for (int k = 0; k < 3; k++)
    for (int d = 0; d < 3; d++)
      NH_CHECK(a->cell[k][d] == b->cell[k][d] && a->pbc[k] == b->pbc[k],
               NH_ERR_INPUT, "%s and %s have different cells", pa, pb);
  for (int i = 0; i < a->natoms; i++)
    NH_CHECK(a->z[i] == b->z[i] && a->kind[i] == b->kind[i] &&
                 memcmp(a->pos[i], b->pos[i], sizeof a->pos[i]) == 0,
             NH_ERR_INPUT, "atom %d differs between %s and %s", i + 1, pa, pb);
  for (int k = 0; k < a->nkinds; k++)
    NH_CHECK(strcmp(a->kinds[k].basis_name, b->kinds[k].basis_name) == 0 &&
                 a->kinds[k].norb == b->kinds[k].norb,
             NH_ERR_INPUT, "kind %s has basis %s in %s but %s in %s",
             a->kinds[k].name, a->kinds[k].basis_name, pa,
             b->kinds[k].basis_name, pb);
  NH_CHECK(a->nimages == b->nimages &&
               memcmp(a->images, b->images,
                      (size_t)a->nimages * sizeof *a->images) == 0,
           NH_ERR_INPUT, "%s and %s have different image tables (%d and %d "
           "images): different cutoffs or EPS_DEFAULT?", pa, pb, a->nimages,
           b->nimages);
  return NH_OK;
}
