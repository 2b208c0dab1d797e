#!/bin/sh
# H0 benchmarks (benchmarks/README.md, "H0"): task `h0` of the nextham binary
# (per-part timings and peak memory per rank from its summary) and
#  compare: side by side with a full CP2K SCF of the same structure on the
#           same number of ranks (Si64, Si216 diamond; graphene 8x8 = 128
#           atoms), CP2K Γ-only, DZVP-MOLOPT-SR-GTH, GTH-PBE, PBE, CP2K
#           defaults otherwise (CUTOFF 280 Ry, REL_CUTOFF 40, EPS_DEFAULT
#           1e-10, EPS_SCF 1e-5, MAX_SCF 50, SCF_GUESS ATOMIC, diagonalisation
#           with Pulay/direct mixing as CP2K chooses);
#  scaling: H0 of diamond Si with SCALING_SIZES conventional cells per edge
#           (default "5 10": 1,000 and 8,000 atoms), each run under
#           `flock /work/bigmem.lock` (more than 3 GiB in total).
# Usage: benchmarks/run-h0.sh BUILDDIR LOGFILE [compare|scaling|all]
# Env: NP (ranks, 2), H0_EXTRA (extra TOML lines for [h0], e.g. "eps = 1e-8"),
#      GRID_EXTRA (TOML lines for a [grid] table, e.g. 'scheme = "hybrid"'),
#      SCALING_SIZES, COMPARE ("si64 si216 graphene128"), WORK (scratch dir).
# Wall time and CPU time (user + sys of all ranks, /usr/bin/time) are given
# for both programs, and the load average before and after each run.
set -e
build=$(cd "${1:?usage: run-h0.sh BUILDDIR LOGFILE [compare|scaling|all]}" && pwd)
log=${2:?usage: run-h0.sh BUILDDIR LOGFILE [compare|scaling|all]}
what=${3:-all}
here=$(cd "$(dirname "$0")" && pwd)
np=${NP:-2}
work=${WORK:-/tmp/nh-bench-h0}
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1
mpi="mpiexec --oversubscribe -n $np"

lock=""
say() { echo "$*" | tee -a "$log"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# Structures: POSCAR and CP2K &CELL/&COORD from one Python generator.
# diamond Si, a = 5.431 Å, n^3 conventional cells; graphene a = 2.46 Å,
# n x n supercell of the primitive cell, 15 Å vacuum.
gen() { # NAME KIND N
  /usr/bin/python3 - "$work/$1" "$2" "$3" <<'EOF'
import sys
out, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "si":
    a = 5.431
    basis = [(0, 0, 0), (0, .5, .5), (.5, 0, .5), (.5, .5, 0),
             (.25, .25, .25), (.25, .75, .75), (.75, .25, .75), (.75, .75, .25)]
    lat = [[a * n, 0, 0], [0, a * n, 0], [0, 0, a * n]]
    frac = [((i + b[0]) / n, (j + b[1]) / n, (k + b[2]) / n)
            for i in range(n) for j in range(n) for k in range(n) for b in basis]
    el = "Si"
else:
    a, c = 2.46, 15.0
    lat = [[a * n, 0, 0], [-a * n / 2, a * n * 3 ** .5 / 2, 0], [0, 0, c]]
    frac = [((i + b[0]) / n, (j + b[1]) / n, 0)
            for i in range(n) for j in range(n) for b in [(0, 0), (1 / 3, 2 / 3)]]
    el = "C"
with open(out + ".poscar", "w") as f:
    f.write("%s %d atoms\n1.0\n" % (el, len(frac)))
    for v in lat:
        f.write("%.10f %.10f %.10f\n" % tuple(v))
    f.write("%s\n%d\nDirect\n" % (el, len(frac)))
    for p in frac:
        f.write("%.10f %.10f %.10f\n" % p)
with open(out + ".cp2k", "w") as f:
    f.write("&CELL\n")
    for lab, v in zip("ABC", lat):
        f.write("  %s %.10f %.10f %.10f\n" % ((lab,) + tuple(v)))
    f.write("&END CELL\n&COORD\n  SCALED\n")
    for p in frac:
        f.write("  %s %.10f %.10f %.10f\n" % ((el,) + p))
    f.write("&END COORD\n")
EOF
}

# task h0 on NAME (POSCAR from gen); prints one table row.
run_h0() { # NAME
  name=$1
  cat > "$work/$name-h0.toml" <<EOF
task = "h0"
[structure]
file = "$name.poscar"
[h0]
output = "$name-h0.h5"
${H0_EXTRA:-}
[grid]
${GRID_EXTRA:-}
EOF
  l0=$(load)
  (cd "$work" && $lock /usr/bin/time -f "TIME %e %U %S %M" $mpi \
    "$build/nextham" "$name-h0.toml") > "$work/$name-h0.log" 2>&1 ||
    { tail -20 "$work/$name-h0.log" | tee -a "$log"; return 1; }
  l1=$(load)
  rm -f "$work/$name-h0.h5"
  cat "$work/$name-h0.log" >> "$log"
  /usr/bin/python3 - "$work/$name-h0.log" "$l0" "$l1" <<'EOF' | tee -a "$log"
import re, sys
t = open(sys.argv[1]).read()
def timer(name):
    m = re.search(r"^\s+%s\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)" % re.escape(name), t, re.M)
    return float(m.group(3)) if m else float("nan")
def cpu(*parts):  # summed over the report lines of these parts
    v = [float(x) for p in parts for x in re.findall(
        r"^\s+%s\s.*CPU [\d.]+ s \(max over ranks\), ([\d.]+) s CPU summed"
        % re.escape(p), t, re.M)]
    return sum(v) if v else float("nan")
w = re.search(r"^TIME (\S+) (\S+) (\S+) (\S+)", t, re.M)
mem = re.search(r"peak memory per rank \(max\): ([\d.]+) MiB", t)
g = re.search(r"grid: spacing ([\d.]+) bohr", t)
nat = re.search(r"Structure: .*, (\d+) atoms", t)
print("H0 %s atoms: wall %.1f s, CPU %.1f s (user+sys, all ranks); timers "
      "(max over ranks) total %.1f, S,T %.2f, V_nl %.2f, atoms %.2f, grid %.1f, "
      "write %.2f s; S,T CPU %.2f, V_nl CPU %.2f s (summed); grid spacing %s "
      "bohr; peak memory per rank %s MiB (time: max RSS %.0f MiB); load %s -> %s"
      % (nat.group(1) if nat else "?", float(w.group(1)),
         float(w.group(2)) + float(w.group(3)), timer("total"), timer("S,T"),
         timer("V_nl"), timer("atoms"), timer("grid"), timer("write"),
         cpu("S,T", "S", "T"), cpu("V_nl"), g.group(1) if g else "?",
         mem.group(1) if mem else "?", float(w.group(4)) / 1024,
         sys.argv[2], sys.argv[3]))
EOF
}

# a full CP2K SCF of NAME (Γ, defaults); prints one row.
run_cp2k() { # NAME ELEMENT POTENTIAL
  name=$1
  cat > "$work/$name-cp2k.inp" <<EOF
&GLOBAL
  PROJECT $name-cp2k
  RUN_TYPE ENERGY
  PRINT_LEVEL MEDIUM
&END GLOBAL
&FORCE_EVAL
  METHOD QS
  &DFT
    BASIS_SET_FILE_NAME BASIS_MOLOPT
    POTENTIAL_FILE_NAME GTH_POTENTIALS
    &SCF
      SCF_GUESS ATOMIC
      &PRINT
        &RESTART OFF
        &END RESTART
      &END PRINT
    &END SCF
    &XC
      &XC_FUNCTIONAL PBE
      &END XC_FUNCTIONAL
    &END XC
  &END DFT
  &SUBSYS
$(cat "$work/$name.cp2k")
    &KIND $2
      BASIS_SET DZVP-MOLOPT-SR-GTH
      POTENTIAL $3
    &END KIND
  &END SUBSYS
&END FORCE_EVAL
EOF
  l0=$(load)
  (cd "$work" && /usr/bin/time -f "TIME %e %U %S %M" mpirun --allow-run-as-root \
    -np "$np" cp2k.psmp -i "$name-cp2k.inp" -o "$name-cp2k.out") \
    > "$work/$name-cp2k.log" 2>&1 ||
    { tail -20 "$work/$name-cp2k.log" | tee -a "$log"; return 1; }
  l1=$(load)
  /usr/bin/python3 - "$work/$name-cp2k.log" "$work/$name-cp2k.out" "$l0" "$l1" <<'EOF' | tee -a "$log"
import re, sys
t = open(sys.argv[1]).read()
o = open(sys.argv[2]).read()
w = re.search(r"^TIME (\S+) (\S+) (\S+) (\S+)", t, re.M)
steps = re.findall(r"\*\*\* SCF run converged in\s+(\d+) steps", o)
nconv = re.search(r"SCF run NOT converged", o)
tot = re.search(r"^ CP2K\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)", o, re.M)
cut = re.search(r"QS\| Density cutoff \[a\.u\.\]:\s+([\d.]+)", o)
eps = re.search(r"eps_pgf_orb:\s+(\S+)", o)
print("CP2K: wall %.1f s, CPU %.1f s (user+sys, all ranks), CP2K total %s s; "
      "SCF %s; cutoff %s Ry, eps_pgf_orb %s; max RSS per rank %.0f MiB; load %s -> %s"
      % (float(w.group(1)), float(w.group(2)) + float(w.group(3)),
         tot.group(1) if tot else "?",
         ("converged in %s steps" % steps[-1]) if steps else
         ("NOT converged" if nconv else "?"),
         "%.0f" % (2 * float(cut.group(1))) if cut else "?",
         eps.group(1) if eps else "?",
         float(w.group(4)) / 1024, sys.argv[3], sys.argv[4]))
EOF
}

say "# run-h0.sh $what, $(date -u '+%Y-%m-%d %H:%M UTC'), $(hostname), $np ranks"
say "# commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo ?), load $(load)"

if [ "$what" = compare ] || [ "$what" = all ]; then
  for sys_ in ${COMPARE:-si64 si216 graphene128}; do
    case $sys_ in
      si64) gen si64 si 2; el=Si; pot=GTH-PBE-q4 ;;
      si216) gen si216 si 3; el=Si; pot=GTH-PBE-q4 ;;
      graphene128) gen graphene128 graphene 8; el=C; pot=GTH-PBE-q4 ;;
      *) echo "unknown system $sys_"; exit 1 ;;
    esac
    say "## $sys_"
    run_h0 "$sys_"
    run_cp2k "$sys_" "$el" "$pot"
    /usr/bin/python3 - "$log" <<'EOF' | tee -a "$log"
import re, sys
t = open(sys.argv[1]).read()
h = re.findall(r"^H0 .*wall ([\d.]+) s, CPU ([\d.]+) s", t, re.M)[-1]
c = re.findall(r"^CP2K: wall ([\d.]+) s, CPU ([\d.]+) s", t, re.M)[-1]
print("RATIO H0 / CP2K SCF: wall %.2f %%, CPU %.2f %%"
      % (100 * float(h[0]) / float(c[0]), 100 * float(h[1]) / float(c[1])))
EOF
  done
fi

if [ "$what" = scaling ] || [ "$what" = all ]; then
  for n in ${SCALING_SIZES:-5 10}; do
    gen "si$n" si "$n"
    say "## scaling: Si, $n^3 conventional cells ($((8 * n * n * n)) atoms)"
    lock="flock /work/bigmem.lock" run_h0 "si$n" ||
      say "si$n: failed (see $work/si$n-h0.log)"
  done
fi
