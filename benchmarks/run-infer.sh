#!/bin/sh
# Network inference benchmark series (see benchmarks/README.md "Network
# inference"): an untrained default-size model (L_max 4, 8 channels per
# (L, parity), 3 layers, cutoff 4 Å) on M x M x M supercells of CP2K's
# 2-atom Si cell, with 1 and 2 MPI ranks.
#
#   benchmarks/run-infer.sh [BUILDDIR] [LOG]
#
# BUILDDIR holds benchmarks/bench_infer (default .; `make benchmarks`).
# RESULT lines are appended to LOG (default infer-results.log) and two
# Markdown tables (time, memory) are printed. Sizes in NH_BENCH_SIZES
# (default "8 17 37": 1,024, 9,826 and 101,306 atoms), ranks in
# NH_BENCH_RANKS (default "1 2"). Each process is limited to
# NH_BENCH_MAX_GIB / ranks of virtual memory (default 16 GiB in total) so
# that a size too large fails alone. With NH_BENCH_LOCK=FILE, every run of
# M >= 20 (more than 3 GiB) holds `flock FILE`, so that two large jobs on a
# shared machine never run at once.
set -u
BUILD=${1:-.}
LOG=${2:-infer-results.log}
BENCH=$BUILD/benchmarks/bench_infer
RANKS=${NH_BENCH_RANKS:-"1 2"}
MAXGIB=${NH_BENCH_MAX_GIB:-16}
SIZES=${NH_BENCH_SIZES:-"8 17 37"}
LOCK=${NH_BENCH_LOCK:-}
MPIEXEC=${MPIEXEC:-mpiexec}
SRC=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[ -x "$BENCH" ] || { echo "no $BENCH: run 'make benchmarks' in $BUILD" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sh "$SRC/tools/unpack-fixture.sh" si2 "$TMP" > /dev/null || exit 1

{ echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(getconf _NPROCESSORS_ONLN) cores," \
    "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo)," \
    "load $(cut -d' ' -f1 /proc/loadavg)"; } >> "$LOG"
for m in $SIZES; do
  for np in $RANKS; do
    kib=$((MAXGIB * 1048576 / np))
    run="$MPIEXEC -n $np $BENCH $TMP/si2/si2.out $m"
    [ -n "$LOCK" ] && [ "$m" -ge 20 ] && run="flock $LOCK $run"
    out=$( (ulimit -v $kib; $run) 2>&1)
    if echo "$out" | grep -q '^RESULT'; then
      echo "$out" | grep '^RESULT' | tee -a "$LOG"
    else
      echo "FAIL M=$m ranks=$np ($MAXGIB GiB):" \
        "$(echo "$out" | grep -m1 -i 'error' | cut -c1-200)" | tee -a "$LOG"
    fi
  done
done

awk '/^RESULT/ {
  for (k = 2; k <= NF; k++) { split($k, kv, "="); v[kv[1]] = kv[2] }
  if (!hdr++) {
    print "| atoms | edges | ranks | predict s (wall) | CPU s/rank | compute CPU s/rank | network s | SO(2) s | halo s | atoms/s | edges/s | atoms/CPU-s | SO(2) GFLOP/s (CPU) | dgemm GFLOP/s (CPU) | peak MiB/rank |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  }
  printf "| %d | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.3f | %.0f | %.0f | %.0f | %.1f | %.1f | %.0f |\n",
    v["natoms"], v["edges"], v["ranks"], v["t_predict"], v["cpu_predict"],
    v["cpu_compute"], v["t_network"], v["t_so2"], v["t_halo"],
    v["atoms_per_s"], v["edges_per_s"],
    v["atoms_per_cpu_s"], v["so2_gflops_cpu"], v["peak_gflops_cpu"],
    v["mem_peak_mib"]
}' "$LOG"
echo
awk '/^RESULT/ {
  for (k = 2; k <= NF; k++) { split($k, kv, "="); v[kv[1]] = kv[2] }
  if (!hdr++) {
    print "| atoms | edges | ranks | setup peak MiB/rank | inputs MiB/rank | predict peak MiB/rank | dH MiB/rank | network kB/edge (resident) | network kB/edge (allocated) |"
    print "|---|---|---|---|---|---|---|---|---|"
  }
  printf "| %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |\n",
    v["natoms"], v["edges"], v["ranks"], v["mem_setup_mib"],
    v["mem_inputs_mib"], v["mem_peak_mib"], v["mem_dh_mib"],
    v["net_kb_edge"], v["alloc_kb_edge"]
}' "$LOG"
