#!/bin/sh
# Backbone benchmark series (see benchmarks/README.md): Si diamond
# supercells of 10^3 .. 10^6 atoms, 1 and 2 MPI ranks.
#
#   benchmarks/run-backbone.sh [BUILDDIR] [LOG]
#
# BUILDDIR holds benchmarks/bench_backbone (default: .; build it with
# `make benchmarks`). Results are appended to LOG (default
# backbone-results.log) as RESULT lines, and a Markdown table is printed.
# Every run is skipped, with a message, when its estimated memory exceeds
# NH_BENCH_MAX_GIB (default 12) or what the machine has available minus
# 4 GiB, so that the benchmark never exhausts a shared machine.
# NH_BENCH_TABLE_ONLY=1 only prints the table of an existing LOG.
set -u
BUILD=${1:-.}
LOG=${2:-backbone-results.log}
BENCH=$BUILD/benchmarks/bench_backbone
MAXGIB=${NH_BENCH_MAX_GIB:-12}
NPS=${NH_BENCH_RANKS:-"1 2"}
MPIEXEC=${MPIEXEC:-mpiexec}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[ -x "$BENCH" ] || [ "${NH_BENCH_TABLE_ONLY:-0}" = 1 ] || { echo "no $BENCH: run 'make benchmarks' in $BUILD" >&2; exit 1; }

# Estimated bytes: per atom 64 B per neighbour pair within rcut and
# 1500 B per 13x13 block within rmat (measured: 1450-1500), pairs per atom
# from the density of Si (0.04994 / Å^3), 10 % margin, 50 MiB per rank.
estimate() { # natoms rcut rmat np
  awk -v n="$1" -v rc="$2" -v rm="$3" -v np="$4" 'BEGIN {
    rho = 0.04994; pi = 3.14159265358979
    pc = 1 + 4 / 3 * pi * rc^3 * rho; pm = (rm > 0) ? 1 + 4 / 3 * pi * rm^3 * rho : 0
    printf "%.0f", 1.1 * n * (64 * pc + 1500 * pm) + np * 50 * 2^20 }'
}

run() { # np ncell rcut rmat
  natoms=$((8 * $2 * $2 * $2))
  need=$(estimate $natoms "$3" "$4" "$1")
  avail=$(awk '/MemAvailable/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
  limit=$(awk -v a="$avail" -v m="$MAXGIB" 'BEGIN {
    l = m * 2^30; if (a - 4 * 2^30 < l) l = a - 4 * 2^30; printf "%.0f", l }')
  if [ "$need" -gt "$limit" ]; then
    echo "SKIP natoms=$natoms ranks=$1 rcut=$3 rmat=$4: needs about" \
      "$((need / 1048576)) MiB, limit $((limit / 1048576)) MiB" | tee -a "$LOG"
    return
  fi
  # best of 3 (small) or 2 runs: the shortest time per phase
  repeat=3; [ $natoms -gt 20000 ] && repeat=2
  $MPIEXEC -n "$1" "$BENCH" "$2" "$3" "$4" 13 $repeat | grep '^RESULT' | tee -a "$LOG"
}

if [ "${NH_BENCH_TABLE_ONLY:-0}" != 1 ]; then
{ echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $(getconf _NPROCESSORS_ONLN) cores," \
    "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo)"; } >> "$LOG"
for np in $NPS; do
  # DZVP-like pair cutoff, 7 Å: neighbour list and matrix up to 10^5 atoms;
  # at 10^6 atoms the matrix would need ~100 GiB, so only the list is built.
  for nc in 5 11 23; do run $np $nc 7.0 7.0; done
  run $np 50 7.0 0
  # First-neighbour shell only (2.6 Å: 4 neighbours + self): 10^3..10^6.
  for nc in 5 11 23 50; do run $np $nc 2.6 2.6; done
done
fi

# Markdown table of all RESULT lines in the log. "x" columns: user CPU
# time divided by that of the previous (10x smaller) size with the same
# ranks and cutoffs. User CPU time is the measure of the algorithms: wall
# time on a shared machine includes time other jobs held the core, and the
# system time is mostly the kernel zeroing fresh pages on first touch.
awk '/^RESULT/ {
  for (k = 2; k <= NF; k++) { split($k, kv, "="); v[kv[1]] = kv[2] }
  key = v["ranks"] " " v["rcut_ang"] " " v["rmat_ang"]
  tn = v["t_domain"] + v["t_neigh"]; un = v["user_geom"]
  tm = v["t_fill"] + v["t_assemble"] + v["t_symm"] + v["t_norm"]; um = v["user_mat"]
  xn = (key in pn && pn[key] > 0) ? sprintf("%.1f", un / pn[key]) : "-"
  xm = (key in pm && pm[key] > 0) ? sprintf("%.1f", um / pm[key]) : "-"
  pn[key] = un; pm[key] = um
  if (!hdr++) {
    print "| atoms | ranks | r_c / r_mat Å | pairs | blocks | geom wall s | geom user s | x | matrix wall s (fill + assemble + symm. error + norm) | matrix user s | x | matrix sys s | peak MiB/rank | sum MiB | B/block |"
    print "|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
  }
  printf "| %d | %d | %.1f / %.1f | %d | %d | %.2f | %.3f | %s | %.2f (%.2f + %.2f + %.2f + %.2f) | %.3f | %s | %.3f | %.0f | %.0f | %s |\n",
    v["natoms"], v["ranks"], v["rcut_ang"], v["rmat_ang"], v["pairs"], v["blocks"],
    tn, un, xn, tm, v["t_fill"], v["t_assemble"], v["t_symm"], v["t_norm"], um, xm,
    v["sys_mat"], (v["mem_mat_mib"] > 0 ? v["mem_mat_mib"] : v["mem_neigh_mib"]),
    v["mem_sum_mib"], (v["blocks"] > 0 ? v["bytes_per_block"] : "-")
}' "$LOG"
