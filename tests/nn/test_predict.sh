#!/bin/sh
# Task "predict" end to end on CP2K's Si2 run (tests/data/cp2k/si2), with
# CP2K's H standing in for H0: an untrained model is initialised and
# written, then read back on 1, 2 and 3 ranks. Checks: H = H0 + dH (to the
# rounding of the eV conversion),
# dH has exactly the on-site blocks and the pairs within the cutoff, dH(-n)_ji
# = dH(n)_ij^T exactly, H independent of the rank count, and the errors for
# a stray [model] table and a model file of a newer format version.
. "${NH_TOP_SRCDIR:?run through make check}/tests/testlib.sh"
need_h5py
fixture_sample si2 1

cat > "$tmp/init.toml" <<T
task = "predict"
[predict]
sample = "si2.h5"
h0 = "H"
model = "model.h5"
output = "pred1.h5"
init_model = true
write_delta = true
[model]
lmax = 4
channels = 4
layers = 2
heads = 2
cutoff = 4.0
seed = 5
T
for np in 2 3; do
  sed -e '/init_model/d' -e '/^\[model\]/,$d' -e "s/pred1/pred$np/" \
    "$tmp/init.toml" > "$tmp/p$np.toml"
done
if mpi 1 "$tmp/init.toml" > "$tmp/init.log" 2>&1 &&
   mpi 2 -q "$tmp/p2.toml" > "$tmp/p2.log" 2>&1 &&
   mpi 3 -q "$tmp/p3.toml" > "$tmp/p3.log" 2>&1; then
  ok "predict ran on 1, 2 and 3 ranks ($(grep -o 'Predicted.*' "$tmp/init.log"))"
else
  cat "$tmp/init.log" "$tmp/p2.log" "$tmp/p3.log"; fail "predict runs"
fi

cat > "$tmp/check.py" <<'P'
import sys, h5py, numpy as np
def load(path, name):
    with h5py.File(path, "r") as f:
        g = f["matrices/" + name]
        p, o, v = g["pairs"][()], g["offsets"][()], g["values"][()]
        return {tuple(int(x) for x in p[k]): v[o[k]:o[k + 1]] for k in range(len(p))}
d = sys.argv[1]
H0, H1, dH = load(d + "/pred1.h5", "H0"), load(d + "/pred1.h5", "H"), load(d + "/pred1.h5", "dH")
with h5py.File(d + "/pred1.h5", "r") as f:
    lat = f["structure/lattice"][()]; pos = f["structure/positions"][()]
rec = np.linalg.inv(lat)
s = pos @ rec; s -= np.round(s); tau = s @ lat        # CP2K-wrapped, Å
within = {k for k in H0 if np.linalg.norm(tau[k[1]] + np.array(k[2:]) @ lat - tau[k[0]]) < 4.0}
assert set(dH) == within, (len(dH), len(within))
err = max(np.abs(H1[k] - H0[k] - dH.get(k, 0)).max() for k in H1)
assert err < 1e-12, err              # H = H0 + dH (each rounded to eV once)
n = 13
sym = max(np.abs(dH[k].reshape(n, n) - dH[(k[1], k[0], -k[2], -k[3], -k[4])].reshape(n, n).T).max() for k in dH)
assert sym == 0.0, sym
big = max(np.abs(v).max() for v in dH.values())
assert big > 1e-3, big
for r in ("2", "3"):
    Hr = load(d + "/pred%s.h5" % r, "H")
    diff = max(np.abs(Hr[k] - H1[k]).max() for k in H1)
    assert set(Hr) == set(H1) and diff < 3e-11, (r, diff)   # 1e-12 Ha
print("dH: %d blocks (%d within 4 A), max |dH| %.3g eV, H = H0 + dH to %.1e eV, "
      "symmetric exactly; 2 and 3 ranks agree" % (len(dH), len(within), big, err))
P
if out=$($py "$tmp/check.py" "$tmp" 2>&1); then ok "$out"; else echo "$out"; fail "outputs"; fi

# a [model] table without init_model is an input error naming file and line
sed '/init_model/d' "$tmp/init.toml" > "$tmp/stray.toml"
if mpi 1 "$tmp/stray.toml" > "$tmp/stray.log" 2>&1; then
  fail "stray [model] accepted"
elif grep -q 'stray.toml:8: a \[model\] table is only read' "$tmp/stray.log"; then
  ok "stray [model] table rejected with file and line"
else cat "$tmp/stray.log"; fail "message for a stray [model]"; fi

# a model file of a newer format version
$py -c "import h5py; f = h5py.File('$tmp/model.h5', 'r+'); f.attrs['version'] = 2"
if mpi 2 "$tmp/p2.toml" > "$tmp/new.log" 2>&1; then
  fail "newer model version accepted"
elif grep -q 'format version 2.*upgrade nextham' "$tmp/new.log"; then
  ok "newer model version rejected: upgrade nextham"
else cat "$tmp/new.log"; fail "message for a newer model version"; fi

finish
