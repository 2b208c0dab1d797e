#!/bin/sh
# Dense eigen-solver benchmark (see benchmarks/README.md, "Dense
# eigen-solvers"): ELPA 2-stage vs ScaLAPACK pzhegvx, time per k-point for
# tiled Si supercells of about 1,000, 4,000 and 8,000 orbitals, 2 ranks.
#
#   benchmarks/run-dense.sh [BUILDDIR] [LOG]
#
# BUILDDIR holds benchmarks/bench_dense (default: .; build it with
# `make benchmarks`). Results are appended to LOG (default
# dense-results.log) as RESULT lines and printed as a Markdown table.
# Environment: NH_BENCH_RANKS (default 2), NH_BENCH_CELLS (default
# "1x3x3 2x4x5 4x4x5": 936, 4160, 8320 orbitals), NH_BENCH_FRACTION
# (bands computed / orbitals, default 0.25: the occupied bands of Si,
# 2 of 13 per atom, and as many empty ones), NH_BENCH_MAX_GIB (default
# 12): sizes whose estimated memory exceeds it, or what the machine has
# available minus 4 GiB, are skipped with a message.
set -u
BUILD=${1:-.}
LOG=${2:-dense-results.log}
BENCH=$BUILD/benchmarks/bench_dense
NP=${NH_BENCH_RANKS:-2}
CELLS=${NH_BENCH_CELLS:-"1x3x3 2x4x5 4x4x5"}
FRACTION=${NH_BENCH_FRACTION:-0.25}
MAXGIB=${NH_BENCH_MAX_GIB:-12}
MPIEXEC=${MPIEXEC:-mpiexec}
TOP=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[ -x "$BENCH" ] || { echo "no $BENCH: run 'make benchmarks' in $BUILD" >&2; exit 1; }

tmp=$(mktemp -d /tmp/nh-bench-dense-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
cp "$TOP/tests/data/cp2k/si8/si8.out" "$TOP/tests/data/cp2k/si8/si8.inp" "$tmp/"
tar -xJf "$TOP/tests/data/cp2k/si8/si8-csr.tar.xz" -C "$tmp"

# Estimated bytes in total: 7 complex n x n matrices (4 of nextham, about 3
# of ELPA's or pzhegvx's workspace) plus 200 MiB per rank.
estimate() { # norb np
  awk -v n="$1" -v np="$2" 'BEGIN { printf "%.0f", 7 * 16 * n * n + np * 200 * 2^20 }'
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $NP ranks, fraction $FRACTION" >>"$LOG"
for c in $CELLS; do
  norb=$(echo "$c" | awk -F x '{ print 104 * $1 * $2 * $3 }')
  need=$(estimate "$norb" "$NP")
  avail=$(awk '/MemAvailable/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
  limit=$(awk -v a="$avail" -v m="$MAXGIB" 'BEGIN {
    l = m * 2^30; if (a - 4 * 2^30 < l) l = a - 4 * 2^30; printf "%.0f", l }')
  if [ "$need" -gt "$limit" ]; then
    echo "skipping $c ($norb orbitals): needs about $((need >> 20)) MiB, limit $((limit >> 20)) MiB" >&2
    continue
  fi
  echo "running $c ($norb orbitals) on $NP ranks ..." >&2
  $MPIEXEC -n "$NP" "$BENCH" "$tmp/si8.out" "$FRACTION" "$c" | grep '^RESULT' | tee -a "$LOG"
done

# Markdown table of this run's lines (ELPA first, then pzhegvx, per size).
tail -n +"$(grep -n '^# ' "$LOG" | tail -1 | cut -d: -f1)" "$LOG" | awk '
  /^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    key = v["norb"]
    if (v["solver"] == "elpa2") {
      te[key] = v["t_kpoint"]; ce[key] = v["t_cpu"]; cells[key] = v["cells"]
      nb[key] = v["nbands"]; order[++n] = key
    } else {
      ts[key] = v["t_kpoint"]; cs[key] = v["t_cpu"]; mem[key] = v["peak_mib"]
      dd[key] = v["ediff_ev"]
    }
  }
  END {
    print "| cells | orbitals | bands | ELPA 2-stage wall / CPU (s) | pzhegvx wall / CPU (s) | pzhegvx / ELPA (CPU) | max \\|dE\\| (eV) | peak MiB/rank |"
    print "|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) {
      k = order[i]
      r = (ce[k] > 0 && cs[k] != "") ? sprintf("%.2f", cs[k] / ce[k]) : "-"
      printf "| %s | %s | %s | %s / %s | %s / %s | %s | %s | %s |\n", cells[k], k, nb[k], te[k], ce[k], ts[k], cs[k], r, dd[k], mem[k]
    }
  }'
