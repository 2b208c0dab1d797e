#!/bin/sh
# Tasks "bands" and "dos" and `nextham supercell` on CP2K's Si2 run
# (tests/data/cp2k/si2): the bands along CP2K's own path reproduce si2.bs
# to 1e-6 eV with 1, 2 and 3 ranks; the HDF5 and bands.dat outputs read
# back; the DOS holds the valence electrons; bad input names file and line.
. "${NH_TOP_SRCDIR:?run through make check}/tests/testlib.sh"
need_h5py
fixture_sample si2 1
bs="$src/tests/data/cp2k/si2/si2.bs"

# CP2K's path (si2.inp: &KPOINT_SET, NPOINTS 8) and band count (ADDED_MOS 4)
bands_input() { # NAME SOLVER
  cat > "$tmp/$1.toml" <<T
task = "bands"
[sample]
file = "si2.h5"
[bands]
path = [["L", 0.5, 0.5, 0.5], ["GAMMA", 0, 0, 0], ["X", 0.5, 0, 0.5],
        ["W", 0.5, 0.25, 0.75], ["K", 0.375, 0.375, 0.75], ["GAMMA", 0, 0, 0]]
npoints = 8
nbands = 12
solver = "$2"
output = "$1.h5"
dat = "$1.dat"
T
}

# compare.py BANDS.h5 BANDS.dat si2.bs: k-points, energies against CP2K,
# bands.dat against the HDF5 file, labels and the gap attributes
cat > "$tmp/compare.py" <<'P'
import sys, h5py, numpy as np
h5, dat, bs = sys.argv[1:4]
kp, en, cur = [], [], None
for line in open(bs):
    w = line.split()
    if line.startswith("#  Point"):
        kp.append([float(x) for x in w[5:8]]); cur = []; en.append(cur)
    elif w and not line.startswith("#"):
        cur.append(float(w[1]))
kp, en = np.array(kp), np.array(en)
with h5py.File(h5, "r") as f:
    g = f["bands"]
    k, e, d = g["kpoints"][()], g["energies"][()], g["distance"][()]
    labels = [s.decode() if isinstance(s, bytes) else s for s in g["labels"][()]]
    li = g["label_index"][()]
    a = dict(g.attrs)
dk = np.abs(k - kp).max()
de = np.abs(e - en).max()
print("max |dk| = %.2e, max |dE| vs CP2K = %.2e eV over %d k-points x %d bands"
      % (dk, de, e.shape[0], e.shape[1]))
assert e.shape == en.shape, (e.shape, en.shape)
assert dk < 1e-8 and de < 1e-6
assert labels == ["L", "GAMMA", "X", "W", "K", "GAMMA"] and list(li) == [0, 8, 16, 24, 32, 40]
assert np.all(np.diff(d) > 0)
# Gamma-L is sqrt(3)/2 * 2 pi / a, a = 5.43 Å
assert abs(d[8] - np.sqrt(3) / 2 * 2 * np.pi / 5.43) < 1e-9, d[8]
# silicon: 8 electrons fill 4 bands; VBM at Gamma, indirect gap
vbm, cbm = en[:, 3].max(), en[:, 4].min()
assert a["gapped"] == 1 and a["direct"] == 0
assert abs(a["vbm"] - vbm) < 1e-6 and abs(a["cbm"] - cbm) < 1e-6
assert abs(a["fermi_energy"] - 0.5 * (vbm + cbm)) < 1e-6
rows = np.array([[float(x) for x in l.split()] for l in open(dat)
                 if l.strip() and not l.startswith("#")])
assert rows.shape == (e.shape[0], e.shape[1] + 1)
assert np.abs(rows[:, 0] - d).max() < 1e-9 and np.abs(rows[:, 1:] - e).max() < 1e-9
hdr = [l.split() for l in open(dat) if l.startswith("# label")]
assert [h[2] for h in hdr] == labels
print("gap %.6f eV (CP2K's bands: %.6f), fermi %.6f eV" % (a["gap"], cbm - vbm, a["fermi_energy"]))
P

for np_ in 1 2 3; do
  bands_input "bands$np_" elpa2
  if mpi $np_ "$tmp/bands$np_.toml" > "$tmp/bands$np_.log" 2>&1 &&
     out=$($py "$tmp/compare.py" "$tmp/bands$np_.h5" "$tmp/bands$np_.dat" "$bs" 2>&1); then
    ok "bands, elpa2, $np_ rank(s): $out"
  else
    fail "bands, elpa2, $np_ rank(s)"; tail -20 "$tmp/bands$np_.log"; echo "$out"
  fi
done
bands_input bands_scalapack scalapack
if mpi 2 "$tmp/bands_scalapack.toml" > "$tmp/sc.log" 2>&1 &&
   out=$($py "$tmp/compare.py" "$tmp/bands_scalapack.h5" "$tmp/bands_scalapack.dat" "$bs" 2>&1); then
  ok "bands, scalapack, 2 ranks: $out"
else fail "bands, scalapack"; tail -20 "$tmp/sc.log"; echo "$out"; fi
# an explicit ELPA kernel (generic: in every ELPA build), and a bad name
bands_input bands_kernel elpa2
echo 'elpa_kernel = "generic"' >> "$tmp/bands_kernel.toml"
if mpi 2 "$tmp/bands_kernel.toml" > "$tmp/kernel.log" 2>&1 &&
   out=$($py "$tmp/compare.py" "$tmp/bands_kernel.h5" "$tmp/bands_kernel.dat" "$bs" 2>&1); then
  ok "bands, elpa2 with elpa_kernel generic, 2 ranks: $out"
else fail "bands, elpa_kernel generic"; tail -20 "$tmp/kernel.log"; echo "$out"; fi
sed 's/^elpa_kernel = "generic"/elpa_kernel = "avx1024"/' "$tmp/bands_kernel.toml" > "$tmp/bad_kernel.toml"
mpi 2 "$tmp/bad_kernel.toml" > "$tmp/bad_kernel.log" 2>&1
grep -q "bad_kernel.toml:[0-9]*: key 'bands.elpa_kernel': unknown ELPA kernel \"avx1024\"" "$tmp/bad_kernel.log" &&
  ok "elpa2: unknown kernel refused with its line" || { fail "elpa2: bad kernel"; cat "$tmp/bad_kernel.log"; }

# Si8 (simple cubic) and graphene: the path and band count of each .bs
# header, 2 ranks, energies and k-points against CP2K
cat > "$tmp/frombs.py" <<'P'
import sys
bs, name = sys.argv[1:3]
pts, nk, nb = [], 0, 0
for line in open(bs):
    w = line.split()
    if line.startswith("# Set 1:"):
        nk, nb = int(w[6]), int(w[8])
    elif line.startswith("#  Special point"):
        pts.append('["%s", %s, %s, %s]' % (w[7], w[4], w[5], w[6]))
print('task = "bands"\n[sample]\nfile = "%s.h5"\n[bands]' % name)
print("path = [%s]" % ", ".join(pts))
print("npoints = %d\nnbands = %d" % ((nk - 1) // (len(pts) - 1), nb))
print('output = "%s-bands.h5"\ndat = "%s-bands.dat"' % (name, name))
P
cat > "$tmp/compare_bs.py" <<'P'
import sys, h5py, numpy as np
kp, en, cur = [], [], None
for line in open(sys.argv[2]):
    w = line.split()
    if line.startswith("#  Point"):
        kp.append([float(x) for x in w[5:8]]); cur = []; en.append(cur)
    elif w and not line.startswith("#"):
        cur.append(float(w[1]))
with h5py.File(sys.argv[1], "r") as f:
    k, e = f["bands/kpoints"][()], f["bands/energies"][()]
dk, de = np.abs(k - np.array(kp)).max(), np.abs(e - np.array(en)).max()
print("max |dk| = %.1e, max |dE| vs CP2K = %.2e eV (%d x %d)" % (dk, de, e.shape[0], e.shape[1]))
assert dk < 1e-8 and de < 1e-6
P
for name in si8 graphene; do
  d="$src/tests/data/cp2k/$name"
  fixture_sample "$name" 2
  $py "$tmp/frombs.py" "$d/$name.bs" "$name" > "$tmp/$name.toml"
  if mpi 2 "$tmp/$name.toml" > "$tmp/$name.log" 2>&1 &&
     out=$($py "$tmp/compare_bs.py" "$tmp/$name-bands.h5" "$d/$name.bs" 2>&1); then
    ok "$name, 2 ranks: $out"
  else fail "$name"; tail -20 "$tmp/$name.log"; echo "$out"; fi
done

# graphene as a layer (pbc along a3 switched off in the sample): the
# automatic path stays in the plane, and a point off the plane is refused
$py -c "import h5py; f = h5py.File('$tmp/graphene.h5', 'r+'); f['structure/pbc'][2] = 0; f.close()"
printf 'task = "bands"\n[sample]\nfile = "graphene.h5"\n[bands]\nnpoints = 3\noutput = "layer.h5"\ndat = "layer.dat"\n' > "$tmp/layer.toml"
mpi 2 "$tmp/layer.toml" > "$tmp/layer.log" 2>&1 &&
  grep -q "standard path of the HEX lattice: G-M-K-G$" "$tmp/layer.log" &&
  ok "layer: automatic path G-M-K-G" || { fail "layer path"; cat "$tmp/layer.log"; }
printf 'task = "bands"\n[sample]\nfile = "graphene.h5"\n[bands]\npath = [["G", 0, 0, 0],\n  ["A", 0, 0, 0.5]]\n' > "$tmp/layer2.toml"
mpi 2 "$tmp/layer2.toml" > "$tmp/layer2.log" 2>&1
grep -q "layer2.toml:6: key 'bands.path': point A has k3 = 0.5 but the structure is not periodic along a3" "$tmp/layer2.log" &&
  ok "layer: k3 != 0 refused" || { fail "layer: k3 != 0"; cat "$tmp/layer2.log"; }

# SLEPc: the 6 bands nearest 6 eV at every k-point, against CP2K's (with
# the QAMD ordering and the factors out of core: the same bands)
bands_input bands_slepc slepc
sed -i 's/^nbands = 12/nbands = 6\ntarget = 6.0\nordering = "qamd"\nout_of_core = true\nooc_dir = "."/' "$tmp/bands_slepc.toml"
if mpi 2 "$tmp/bands_slepc.toml" > "$tmp/slepc.log" 2>&1 &&
   out=$($py - "$tmp/bands_slepc.h5" "$bs" <<'P' 2>&1
import sys, h5py, numpy as np
en, cur = [], None
for line in open(sys.argv[2]):
    if line.startswith("#  Point"):
        cur = []; en.append(cur)
    elif line.strip() and not line.startswith("#"):
        cur.append(float(line.split()[1]))
with h5py.File(sys.argv[1], "r") as f:
    e = f["bands/energies"][()]
    ef = f["bands"].attrs["fermi_energy"]
err = 0
for k, ref in enumerate(en):
    ref = np.array(ref)
    near = np.sort(ref[np.argsort(np.abs(ref - 6.0))[:6]])
    err = max(err, np.abs(np.sort(e[k]) - near).max())
print("max |dE| vs CP2K = %.2e eV (6 bands nearest 6 eV, 41 k-points)" % err)
assert err < 1e-6 and abs(ef - 6.0) < 1e-12
P
); then ok "bands, slepc, 2 ranks: $out"
else fail "bands, slepc"; tail -20 "$tmp/slepc.log"; echo "$out"; fi
sed 's/^ordering = "qamd"/ordering = "nd"/' "$tmp/bands_slepc.toml" > "$tmp/bad_order.toml"
mpi 2 "$tmp/bad_order.toml" > "$tmp/bad_order.log" 2>&1
grep -q "bad_order.toml:[0-9]*: key 'bands.ordering': unknown ordering \"nd\"" "$tmp/bad_order.log" &&
  ok "slepc: unknown ordering refused with its line" || { fail "slepc: bad ordering"; cat "$tmp/bad_order.log"; }

# automatic path and a plot (a warning, not a failure, without matplotlib)
cat > "$tmp/auto.toml" <<'T'
task = "bands"
[sample]
file = "si2.h5"
[bands]
npoints = 4
output = "auto.h5"
dat = "auto.dat"
plot = true
plot_file = "auto.png"
T
if mpi 2 "$tmp/auto.toml" > "$tmp/auto.log" 2>&1 &&
   grep -q "standard path of the FCC lattice: G-X-W-K-G-L-U-W-L-K|U-X" "$tmp/auto.log"; then
  if [ -s "$tmp/auto.png" ] || grep -q "warning: plot" "$tmp/auto.log"; then ok "automatic FCC path, plot"
  else fail "no plot and no warning"; cat "$tmp/auto.log"; fi
else fail "automatic path"; cat "$tmp/auto.log"; fi

# DOS: 2 ranks, the occupied states hold the 8 electrons, Si is everything
cat > "$tmp/dos.toml" <<'T'
task = "dos"
[sample]
file = "si2.h5"
[dos]
mesh = [4, 4, 4]
sigma = 0.05
de = 0.005
T
if mpi 2 "$tmp/dos.toml" > "$tmp/dos.log" 2>&1 &&
   out=$($py - "$tmp/dos.h5" <<'P' 2>&1
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    g = f["dos"]
    E, T, si, w = g["energy"][()], g["total"][()], g["elements/Si"][()], g["weights"][()]
    ef, gap = g.attrs["fermi_energy"], g.attrs["gap"]
    n = len(g["kpoints"][()])
de = E[1] - E[0]
below = T[E < ef].sum() * de
print("%d k-points (4x4x4 with k,-k merged), electrons below E_F %.8f, gap %.4f eV" % (n, below, gap))
assert n == 32 and abs(w.sum() - 1) < 1e-12
assert abs(below - 8) < 1e-6
assert np.abs(si - T).max() < 1e-9 * T.max()
P
); then ok "dos, 2 ranks: $out"; else fail "dos"; tail -20 "$tmp/dos.log"; echo "$out"; fi

# [sample] supercell: the 2x2x2 supercell at Gamma holds the primitive
# cell's Gamma bands (si2.bs point 9) among its 208
cat > "$tmp/tiled.toml" <<'T'
task = "bands"
[sample]
file = "si2.h5"
supercell = [2, 2, 2]
[bands]
path = [["G", 0, 0, 0], ["X", 0.5, 0, 0.5]]
npoints = 1
output = "tiled.h5"
dat = "tiled.dat"
T
if mpi 3 "$tmp/tiled.toml" > "$tmp/tiled.log" 2>&1 &&
   out=$($py - "$tmp/tiled.h5" "$bs" <<'P' 2>&1
import sys, h5py, numpy as np
blocks = open(sys.argv[2]).read().split("#  Point ")[1:]
g = [float(l.split()[1]) for l in blocks[8].splitlines()[2:] if l.strip()]
with h5py.File(sys.argv[1], "r") as f:
    e = f["bands/energies"][0]
err = max(np.abs(e - x).min() for x in g)
print("%d bands at Gamma; CP2K's 12 primitive Gamma bands found to %.1e eV" % (len(e), err))
assert len(e) == 208 and err < 1e-6
P
); then ok "supercell key, 3 ranks: $out"; else fail "supercell key"; tail -20 "$tmp/tiled.log"; echo "$out"; fi

# supercell subcommand: 2x1x1 doubles atoms and blocks
if mpi 2 supercell "$tmp/si2.h5" -o "$tmp/si4.h5" --m 2 1 1 > "$tmp/sc.log" 2>&1 &&
   mpi 1 info "$tmp/si4.h5" > "$tmp/info.log" 2>&1 && grep -q "atoms     4" "$tmp/info.log"; then
  ok "supercell 2x1x1: $(grep -E '^  H ' "$tmp/info.log")"
else fail "supercell"; cat "$tmp/sc.log" "$tmp/info.log"; fi
mpi 1 supercell "$tmp/si2.h5" -o "$tmp/x.h5" --m 2 x 1 > "$tmp/bad.log" 2>&1 &&
  fail "supercell accepted --m 2 x 1" || { grep -q "three integers" "$tmp/bad.log" && ok "supercell --m 2 x 1 refused"; } || fail "supercell message"

# bad input: the file, line and key
cat > "$tmp/bad1.toml" <<'T'
task = "bands"
[sample]
file = "si2.h5"
[bands]
npoint = 8
T
mpi 2 "$tmp/bad1.toml" > "$tmp/bad1.log" 2>&1
grep -q "bad1.toml:5: unknown key 'bands.npoint' (did you mean 'npoints'?)" "$tmp/bad1.log" &&
  ok "misspelt key" || { fail "misspelt key"; cat "$tmp/bad1.log"; }
cat > "$tmp/bad2.toml" <<'T'
task = "bands"
[sample]
file = "si2.h5"
[bands]
path = [["G", 0, 0, 0],
        ["X", 0.5, 0]]
T
mpi 2 "$tmp/bad2.toml" > "$tmp/bad2.log" 2>&1
grep -q "bad2.toml:6: key 'bands.path\[1\]' must be" "$tmp/bad2.log" &&
  ok "malformed path point" || { fail "malformed path point"; cat "$tmp/bad2.log"; }
cat > "$tmp/bad3.toml" <<'T'
task = "dos"
[sample]
file = "si2.h5"
[dos]
solver = "lapack"
T
mpi 2 "$tmp/bad3.toml" > "$tmp/bad3.log" 2>&1
grep -q "bad3.toml:5: key 'dos.solver'" "$tmp/bad3.log" &&
  ok "unknown solver" || { fail "unknown solver"; cat "$tmp/bad3.log"; }

finish
