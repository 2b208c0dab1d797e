#!/bin/sh
# Sparse eigen-solver benchmark series (see benchmarks/README.md): the 20
# eigenpairs nearest the Dirac point of tiled graphene supercells at Gamma
# with SLEPc shift-and-invert (MUMPS), 2 MPI ranks.
#
#   benchmarks/run-sparse.sh [BUILDDIR] [LOG]
#
# BUILDDIR holds benchmarks/bench_sparse (default .; build it with
# `make benchmarks`). Results are appended to LOG (default
# sparse-results.log) as RESULT lines, and a Markdown table is printed.
# Sizes: M x M x 1 supercells of CP2K's 2-atom graphene (DZVP, 13 orbitals
# per atom): M = 16, 32, 64, 128 give 512, 2,048, 8,192 and 32,768 atoms
# (default "16 32 64"; 8,192 atoms need about 16 GB in core, 13.4 GiB out
# of core with PT-SCOTCH; 32,768 far more, see benchmarks/README.md). Each size
# runs with the drop tolerances in NH_BENCH_DROPS (default "1e-4 1e-5",
# Hartree; 0 keeps every element). Every process is limited to
# NH_BENCH_MAX_GIB / ranks of virtual memory (default 14 GiB in total), so
# that a run too large for the machine fails alone instead of waking the
# kernel's OOM killer on a shared machine; PETSc options may be passed in
# PETSC_OPTIONS (e.g. "-log_view"). NH_BENCH_ORDERINGS lists the MUMPS
# orderings to run (default "auto"; docs/solvers.md), NH_BENCH_OOC_DIR
# keeps the factors out of core in that directory, and NH_BENCH_LOCK names
# a lock file that every run holds (flock), so that big jobs of several
# users never run at once.
set -u
BUILD=${1:-.}
LOG=${2:-sparse-results.log}
BENCH=$BUILD/benchmarks/bench_sparse
NP=${NH_BENCH_RANKS:-2}
MAXGIB=${NH_BENCH_MAX_GIB:-14}
SIZES=${NH_BENCH_SIZES:-"16 32 64"}
DROPS=${NH_BENCH_DROPS:-"1e-4 1e-5"}
ORDERINGS=${NH_BENCH_ORDERINGS:-auto}
OOC=${NH_BENCH_OOC_DIR:-}
LOCK=${NH_BENCH_LOCK:-}
MPIEXEC=${MPIEXEC:-mpiexec}
SRC=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export PETSC_OPTIONS="${PETSC_OPTIONS:-}"
[ -x "$BENCH" ] || { echo "no $BENCH: run 'make benchmarks' in $BUILD" >&2; exit 1; }

# The fixture, unpacked once into a temporary directory.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FIX=$SRC/tests/data/cp2k/graphene
cp "$FIX/graphene.out" "$FIX/graphene.inp" "$FIX/graphene.bs" "$TMP/" &&
  tar -xJf "$FIX/graphene-csr.tar.xz" -C "$TMP" || exit 1

{ echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(nproc) cores," \
    "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo)," \
    "load $(cut -d' ' -f1 /proc/loadavg), PETSC_OPTIONS='${PETSC_OPTIONS:-}'"; } >> "$LOG"
kib=$((MAXGIB * 1048576 / NP))
run() { # the command, under the lock if there is one
  if [ -n "$LOCK" ]; then flock "$LOCK" "$@"; else "$@"; fi
}
for m in $SIZES; do
  for drop in $DROPS; do
    for ord in $ORDERINGS; do
      echo "# M=$m drop_tol=$drop ordering=$ord: start $(date -u +%H:%M:%S)," \
        "load $(cut -d' ' -f1 /proc/loadavg)" >> "$LOG"
      out=$( (ulimit -v $kib; run $MPIEXEC -n "$NP" -x OMP_NUM_THREADS \
        -x PETSC_OPTIONS ${LD_LIBRARY_PATH:+-x LD_LIBRARY_PATH} \
        "$BENCH" "$TMP/graphene.out" "$m" 20 "$drop" "$ord" $OOC) 2>&1)
      echo "# end $(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg)" >> "$LOG"
      if echo "$out" | grep -q '^RESULT'; then
        echo "$out" | grep '^RESULT' | tee -a "$LOG"
      else
        echo "FAIL M=$m drop_tol=$drop ordering=$ord ranks=$NP ($MAXGIB GiB):" \
          "$(echo "$out" | grep -m1 -i 'error' | cut -c1-200)" | tee -a "$LOG"
      fi
    done
  done
done

# Markdown table of all RESULT lines in the log.
awk '/^RESULT/ {
  for (k = 2; k <= NF; k++) { split($k, kv, "="); v[kv[1]] = kv[2] }
  if (!hdr++) {
    print "| atoms | orbitals | ranks | drop_tol Ha | nnz H(k) | ordering | out of core | factor entries | factor flops | tile s | Bloch s | SLEPc s | total s | CPU s/rank | peak MiB/rank | MUMPS MiB/rank | max error eV |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  }
  printf "| %d | %d | %d | %s | %.3g | %s | %s | %.3g | %.3g | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %s |\n",
    v["natoms"], v["norb"], v["ranks"], v["drop_tol"], v["nnz"], v["used"],
    v["ooc"] ? "yes" : "no", v["factor_entries"], v["factor_flops"],
    v["t_tile"], v["t_bloch"], v["t_slepc"], v["t_solve"], v["cpu_solve"],
    v["mem_peak_mib"], v["mumps_mem_max_mib"], v["err_ev"]
}' "$LOG"
