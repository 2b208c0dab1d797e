#!/usr/bin/python3
"""Rebuild a CP2K band structure from its per-image CSR files and compare it
with CP2K's own .bs file: a consistency check of a reference run (image
table, CSR reading, phase convention M(k) = sum_n M(n) exp(+2 pi i k.n)).

Usage: tools/cp2k/check-bands.py RUN.out [RUN.bs]
The CSR files must be beside RUN.out (unpack NAME-csr.tar.xz there first),
e.g. for a fixture:
  d=$(mktemp -d); cp tests/data/cp2k/si8/si8.{out,bs} $d
  tar -xJf tests/data/cp2k/si8/si8-csr.tar.xz -C $d
  tools/cp2k/check-bands.py $d/si8.out
Prints the largest |E_rebuilt - E_cp2k| in eV over all k-points, for all
bands and for the occupied bands plus the first 4 empty ones.
"""
import os
import re
import sys

import numpy as np
import scipy.linalg

HARTREE_EV = 27.21138386  # CP2K 2023.1 (CODATA 2006)


def read_out(path):
    lines = open(path, errors="replace").read().splitlines()
    project = next(l.split()[-1] for l in lines if "GLOBAL| Project name" in l)
    heads = [k for k, l in enumerate(lines) if l.strip().startswith("KS CSR write|")]
    if not heads:
        sys.exit("%s: no 'KS CSR write| N periodic images' table" % path)
    h = heads[-1]
    n = int(lines[h].split("|")[1].split()[0])
    images = [tuple(int(x) for x in lines[h + 2 + k].split()[1:4]) for k in range(n)]
    norb = 0
    for k, l in enumerate(lines):
        if "Atomic kind:" in l:
            natoms = int(l.split()[-1])
            for m in lines[k:]:
                if "Number of spherical basis functions:" in m:
                    norb += natoms * int(m.split()[-1])
                    break
    return project, images, norb


def read_csr(path, norb):
    m = np.zeros((norb, norb))
    raw = open(path, "rb").read()
    if len(raw) >= 4 and np.frombuffer(raw[:4], "<i4")[0] == 16:
        rec = np.frombuffer(raw, dtype=[("h", "<i4"), ("r", "<i4"), ("c", "<i4"),
                                        ("v", "<f8"), ("t", "<i4")])
        m[rec["r"] - 1, rec["c"] - 1] = rec["v"]
    elif raw.strip():
        t = np.loadtxt(path, ndmin=2)
        m[t[:, 0].astype(int) - 1, t[:, 1].astype(int) - 1] = t[:, 2]
    return m


def read_bs(path):
    kpts, bands, occ = [], [], []
    for line in open(path):
        if line.startswith("#  Point"):
            f = line.split(":")[1].split()
            kpts.append([float(x) for x in f[:3]])
            bands.append([])
            occ.append([])
        elif not line.startswith("#") and line.strip():
            f = line.split()
            bands[-1].append(float(f[1]))
            occ[-1].append(float(f[2]))
    return np.array(kpts), np.array(bands), np.array(occ)


def main():
    out = sys.argv[1]
    d = os.path.dirname(os.path.abspath(out))
    project, images, norb = read_out(out)
    bs = sys.argv[2] if len(sys.argv) > 2 else os.path.join(d, project + ".bs")
    H = np.array([read_csr(os.path.join(d, "%s-KS_SPIN_1_R_%d-1_0.csr" % (project, k + 1)), norb)
                  for k in range(len(images))])
    S = np.array([read_csr(os.path.join(d, "%s-S_SPIN_1_R_%d-1_0.csr" % (project, k + 1)), norb)
                  for k in range(len(images))])
    n = np.array(images, dtype=float)
    kpts, ref, occ = read_bs(bs)
    nb = ref.shape[1]
    worst_all = worst_low = 0.0
    for k, e_ref, o in zip(kpts, ref, occ):
        ph = np.exp(2j * np.pi * n.dot(k))
        hk = np.tensordot(ph, H, axes=1)
        sk = np.tensordot(ph, S, axes=1)
        e = scipy.linalg.eigh(hk, sk, eigvals_only=True)[:nb] * HARTREE_EV
        diff = np.abs(e - e_ref)
        low = int((o > 1e-3).sum()) + 4
        worst_all = max(worst_all, diff.max())
        worst_low = max(worst_low, diff[:low].max())
    print("%s: %d images, %d functions, %d k-points, %d bands: max |dE| = %.2e eV "
          "(occupied + 4: %.2e eV)" % (project, len(images), norb, len(kpts), nb,
                                       worst_all, worst_low))


if __name__ == "__main__":
    main()
