#!/bin/sh
# Dense eigen-solver benchmark (see benchmarks/README.md, "Dense
# eigen-solvers"): ELPA 2-stage vs ScaLAPACK pzhegvx, time per k-point for
# tiled Si supercells of about 1,000, 4,000 and 8,000 orbitals, 2 ranks;
# optionally ELPA 2-stage from a second build linked against an ELPA with
# SIMD kernels (tools/build-elpa.sh) side by side.
#
#   benchmarks/run-dense.sh [BUILDDIR] [LOG]
#
# BUILDDIR holds benchmarks/bench_dense (default: .; build it with
# `make benchmarks`). Results are appended to LOG (default
# dense-results.log) as RESULT lines and printed as a Markdown table.
# Environment: NH_BENCH_SIMD_BUILD (a second build directory, configured
# with ELPA_CFLAGS/ELPA_LIBS of the SIMD ELPA: its ELPA 2-stage runs after
# the first build's solvers at every size), NH_BENCH_VECTORS (default
# "1 0": with eigenvectors, as for Mulliken weights, and eigenvalues only,
# as for plain bands), NH_BENCH_BLOCK (block size, default nextham's 32),
# NH_BENCH_RANKS (default 2), NH_BENCH_CELLS (default "1x3x3 2x4x5 4x4x5":
# 936, 4160, 8320 orbitals), NH_BENCH_FRACTION (bands computed / orbitals,
# default 0.25: the occupied bands of Si, 2 of 13 per atom, and as many
# empty ones), NH_BENCH_MAX_GIB (default 16): sizes whose estimated memory
# exceeds it, or what the machine has available minus 2 GiB, are skipped
# with a message. Runs above 3 GiB belong under `flock /work/bigmem.lock`
# on a shared machine.
set -u
BUILD=${1:-.}
LOG=${2:-dense-results.log}
SIMD=${NH_BENCH_SIMD_BUILD:-}
NP=${NH_BENCH_RANKS:-2}
CELLS=${NH_BENCH_CELLS:-"1x3x3 2x4x5 4x4x5"}
VECTORS=${NH_BENCH_VECTORS:-"1 0"}
FRACTION=${NH_BENCH_FRACTION:-0.25}
MAXGIB=${NH_BENCH_MAX_GIB:-16}
MPIEXEC=${MPIEXEC:-mpiexec}
TOP=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# A rank waiting for a descheduled partner yields instead of spinning, so
# that on a loaded machine its CPU time counts work, not polling.
export OMPI_MCA_mpi_yield_when_idle=1
for b in "$BUILD" $SIMD; do
  [ -x "$b/benchmarks/bench_dense" ] ||
    { echo "no $b/benchmarks/bench_dense: run 'make benchmarks' in $b" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/nh-bench-dense-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
cp "$TOP/tests/data/cp2k/si8/si8.out" "$TOP/tests/data/cp2k/si8/si8.inp" "$tmp/"
tar -xJf "$TOP/tests/data/cp2k/si8/si8-csr.tar.xz" -C "$tmp"

# Estimated bytes in total, from the measured peaks (7.5 GiB per rank at
# 8,320 orbitals on 2 ranks): 14.5 complex n x n matrices (nextham's four,
# the solver's workspace and the Bloch-sum exchange buffers, which hold
# (row, col, H, S) per element) plus 200 MiB per rank.
estimate() { # norb np
  awk -v n="$1" -v np="$2" 'BEGIN { printf "%.0f", 14.5 * 16 * n * n + np * 200 * 2^20 }'
}

run() { # build solvers cells vectors
  NH_BENCH_SOLVERS="$2" NH_BENCH_VECTORS="$4" \
    $MPIEXEC -n "$NP" "$1/benchmarks/bench_dense" "$tmp/si8.out" "$FRACTION" "$3" |
    grep '^RESULT' | sed "s|\$| build=$(basename "$1")|" | tee -a "$LOG"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $NP ranks, fraction $FRACTION, load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"
for c in $CELLS; do
  norb=$(echo "$c" | awk -F x '{ print 104 * $1 * $2 * $3 }')
  need=$(estimate "$norb" "$NP")
  avail=$(awk '/MemAvailable/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
  limit=$(awk -v a="$avail" -v m="$MAXGIB" 'BEGIN {
    l = m * 2^30; if (a - 2 * 2^30 < l) l = a - 2 * 2^30; printf "%.0f", l }')
  if [ "$need" -gt "$limit" ]; then
    echo "skipping $c ($norb orbitals): needs about $((need >> 20)) MiB, limit $((limit >> 20)) MiB" >&2
    continue
  fi
  for v in $VECTORS; do
    echo "running $c ($norb orbitals), vectors $v, on $NP ranks (load $(cut -d' ' -f1 /proc/loadavg)) ..." >&2
    run "$BUILD" "elpa2 scalapack" "$c" "$v"
    [ -z "$SIMD" ] || run "$SIMD" "elpa2" "$c" "$v"
  done
done
echo "# end $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOG"

# Markdown table of this run's lines: per size and vectors setting, ELPA
# 2-stage of the first build, of the SIMD build, pzhegvx.
tail -n +"$(grep -n '^# [0-9]' "$LOG" | tail -1 | cut -d: -f1)" "$LOG" | awk -v simd="$([ -n "$SIMD" ] && basename "$SIMD")" '
  /^RESULT/ {
    delete v
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    key = v["norb"] " " v["vectors"]
    if (!(key in seen)) { seen[key] = 1; order[++n] = key; cells[key] = v["cells"]; nb[key] = v["nbands"] }
    s = v["solver"] == "scalapack" ? "p" : (v["build"] == simd ? "s" : "e")
    t[key, s] = v["t_kpoint"] " / " v["t_cpu"]; cpu[key, s] = v["t_cpu"]
    eig[key, s] = v["t_eig"]; kern[key, s] = v["kernel"]
    if (v["peak_mib"] > mem[key]) mem[key] = v["peak_mib"]
    if (v["ediff_ev"] + 0 > dd[key] + 0) dd[key] = v["ediff_ev"]
  }
  function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
  END {
    print "| cells | orbitals | bands | vectors | ELPA 2-stage, " (simd ? "first build" : "") " wall / CPU (s) | ELPA 2-stage, SIMD build wall / CPU (s) | pzhegvx wall / CPU (s) | pzhegvx / ELPA (CPU) | pzhegvx / ELPA SIMD (CPU) | eigen-solver wall: ELPA, ELPA SIMD, pzhegvx (s) | max \\|dE\\| (eV) | peak MiB/rank |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, kk, " ")
      printf "| %s | %s | %s | %s | %s (%s) | %s (%s) | %s | %s | %s | %s, %s, %s | %s | %s |\n", cells[k], kk[1], nb[k], kk[2] ? "yes" : "no",
        t[k, "e"], kern[k, "e"], (k, "s") in t ? t[k, "s"] : "-", kern[k, "s"], t[k, "p"],
        ratio(cpu[k, "p"], cpu[k, "e"]), ratio(cpu[k, "p"], cpu[k, "s"]),
        eig[k, "e"], eig[k, "s"], eig[k, "p"], dd[k], mem[k]
    }
  }'
