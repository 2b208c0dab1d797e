#!/bin/sh
# Command-line behaviour: help/version, and bad input of every kind gives one
# clear message (file, line, key) and a non-zero exit on every rank.
NH_TEST_TIMEOUT=120
. "${NH_TOP_SRCDIR:?run through make check}/tests/testlib.sh"

# expect NP EXPECTED_STATUS NEEDLE ARGS...: runs nextham on NP ranks, checks
# the exit status (0 or non-zero) and that stdout+stderr contain NEEDLE.
expect() {
  np=$1 want=$2 needle=$3; shift 3
  out=$(mpi "$np" "$@" 2>&1); rc=$?
  ok=1
  if [ "$want" = 0 ]; then [ $rc -eq 0 ] || ok=0; else [ $rc -ne 0 ] || ok=0; fi
  printf '%s' "$out" | grep -qF -- "$needle" || ok=0
  # an error is printed once, not once per rank
  if [ "$want" != 0 ] && [ "$(printf '%s\n' "$out" | grep -c 'nextham: ')" -ne 1 ]; then ok=0; fi
  if [ $ok = 1 ]; then echo "ok: $np rank(s): $*"; else
    echo "FAIL: $np rank(s): $* (exit $rc, wanted '$needle')"; printf '%s\n' "$out" | head -20
    fails=$((fails + 1)); fi
}

expect 1 0 "nextham 0." --version
expect 1 0 "Usage:" --help
expect 2 1 "unknown option '--bogus'" --bogus
expect 2 1 "no input file given"
expect 2 1 "missing.toml" "$tmp/missing.toml"

cp "$src/input/examples/si-graph/si64.vasp" "$tmp/"
cat > "$tmp/syntax.toml" <<'T'
task = "graph"
[structure]
file = "si64.vasp
T
expect 2 1 "syntax.toml:3:" "$tmp/syntax.toml"

cat > "$tmp/unknown.toml" <<'T'
task = "graph"
[structure]
file = "si64.vasp"
[graph]
cutof = 6.0
T
for np in 1 2 3; do expect $np 1 "unknown.toml:5: unknown key 'graph.cutof' (did you mean 'cutoff'?)" "$tmp/unknown.toml"; done

cat > "$tmp/type.toml" <<'T'
task = "graph"
[structure]
file = "si64.vasp"
[graph]
cutoff = "large"
T
expect 2 1 "type.toml:5: key 'graph.cutoff' must be a number" "$tmp/type.toml"

printf 'task = "bands2"\n' > "$tmp/task.toml"
expect 2 1 "task.toml:1: unknown task 'bands2'" "$tmp/task.toml"

printf 'task = "graph"\n[structure]\nfile = "nothere.vasp"\n' > "$tmp/nofile.toml"
expect 2 1 "nothere.vasp" "$tmp/nofile.toml"

# unknown element, and atoms too close (through the periodic boundary)
sed 's/^Si$/Xq/' "$tmp/si64.vasp" > "$tmp/bad-element.vasp"
printf 'task = "graph"\n[structure]\nfile = "bad-element.vasp"\n' > "$tmp/element.toml"
expect 2 1 "bad-element.vasp" "$tmp/element.toml"
cat > "$tmp/close.vasp" <<'T'
two atoms 0.3 Å apart through the cell boundary
1.0
5.0 0.0 0.0
0.0 5.0 0.0
0.0 0.0 5.0
Si
2
Cartesian
0.1 1.0 1.0
4.8 1.0 1.0
T
printf 'task = "graph"\n[structure]\nfile = "close.vasp"\n' > "$tmp/close.toml"
expect 2 1 "close.vasp" "$tmp/close.toml"

# more ranks than atoms
cat > "$tmp/two.vasp" <<'T'
Si2
1.0
0.0 2.715 2.715
2.715 0.0 2.715
2.715 2.715 0.0
Si
2
Direct
0.0 0.0 0.0
0.25 0.25 0.25
T
printf 'task = "graph"\n[structure]\nfile = "two.vasp"\n' > "$tmp/two.toml"
expect 3 1 "use at most 2 ranks" "$tmp/two.toml"
expect 2 0 "Neighbour graph" "$tmp/two.toml"

# the graph is the same for 1, 2 and 3 ranks
for np in 1 2 3; do
  mpi $np "$src/input/examples/si-graph/si-graph.toml" > "$tmp/graph$np.out" 2>&1 ||
    { echo "FAIL: graph example with $np ranks"; cat "$tmp/graph$np.out"; fails=$((fails + 1)); }
  grep 'neighbours per atom' "$tmp/graph$np.out" > "$tmp/nb$np" || fails=$((fails + 1))
done
if cmp -s "$tmp/nb1" "$tmp/nb2" && cmp -s "$tmp/nb1" "$tmp/nb3"; then
  echo "ok: graph identical for 1, 2, 3 ranks: $(cat "$tmp/nb1")"
else echo "FAIL: graph differs between rank counts"; cat "$tmp"/nb?; fails=$((fails + 1)); fi
# against a brute-force count (plain python, no numpy needed)
want=$(python3 "$src/tests/app/brute_neighbors.py" "$src/input/examples/si-graph/si64.vasp" 8.0)
if [ -z "$want" ]; then echo "FAIL: brute-force reference did not run"; fails=$((fails + 1))
else
  if grep -q "neighbours per atom (average) $want" "$tmp/graph1.out"; then echo "ok: $want neighbours per atom, as brute force"
  else echo "FAIL: brute force says $want neighbours per atom"; cat "$tmp/nb1"; fails=$((fails + 1)); fi
fi

# the import example: a sample file from a CP2K run, its summary, and a
# failed re-run (a CSR file missing) that must leave the good file alone
sh "$src/tools/unpack-fixture.sh" si2 "$tmp/imp" && sh "$src/tools/unpack-fixture.sh" si2-guess "$tmp/imp" &&
  cp "$src/input/examples/si2-import/si2-import.toml" "$tmp/imp/" || fails=$((fails + 1))
expect 2 0 "Timing summary" "$tmp/imp/si2-import.toml"
expect 2 0 "Si2" info "$tmp/imp/si2.h5"
sum=$(cksum < "$tmp/imp/si2.h5")
rm "$tmp/imp/si2/si2-S_SPIN_1_R_7-1_0.csr"
expect 2 1 "si2-S_SPIN_1_R_7-1_0.csr" "$tmp/imp/si2-import.toml"
if [ "$(cksum < "$tmp/imp/si2.h5")" = "$sum" ] && [ ! -e "$tmp/imp/si2.h5.tmp" ]; then
  echo "ok: failed import left the earlier si2.h5 untouched"
else echo "FAIL: failed import changed si2.h5 or left si2.h5.tmp"; fails=$((fails + 1)); fi

finish
