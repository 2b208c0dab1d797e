#!/usr/bin/python3
"""Run one CP2K reference calculation for nextham and keep its output.

Writes a CP2K input from tools/cp2k/template.inp (settings of the verified
shared/cp2k/si2.inp), runs CP2K in a scratch directory and copies the files
nextham needs into DEST/NAME/: NAME.inp, NAME.out, every per-image CSR file
(KS and S) and the band structure NAME.bs (if a band path was given).

Idempotent: if DEST/NAME holds the same input and a complete output (the
.out ends normally and every image of its CSR table has its KS and S file)
the run is skipped. --xz packs the CSR files into one NAME-csr.tar.xz
(deterministic tar; about 20x smaller than the text files; extract with
`tar -xJf NAME-csr.tar.xz` beside NAME.out before importing).

Example (the Si2 fixture):
  tools/cp2k/make-reference.py --name si2 --structure tools/cp2k/structures/si2.cell \
      --kind Si=DZVP-MOLOPT-SR-GTH,GTH-PBE-q4 --kmesh 6 6 6 \
      --band "L 0.5 0.5 0.5; GAMMA 0 0 0; X 0.5 0 0.5" --dest tests/data/cp2k
"""
import argparse
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="CP2K PROJECT name = file prefix")
    p.add_argument("--structure", required=True,
                   help="file with a CP2K &CELL ... &END CELL and &COORD ... &END COORD")
    p.add_argument("--kind", action="append", required=True,
                   help="El=BASIS,POTENTIAL (repeat per element)")
    p.add_argument("--kmesh", nargs=3, type=int, help="Monkhorst-Pack mesh")
    p.add_argument("--gamma", action="store_true", help="&KPOINTS SCHEME GAMMA")
    p.add_argument("--max-scf", type=int, default=100,
                   help="1 = KS matrix of the atomic-guess density")
    p.add_argument("--threshold", default="1.0E-10", help="CSR THRESHOLD (Hartree)")
    p.add_argument("--binary", action="store_true", help="BINARY .TRUE. CSR files")
    p.add_argument("--band", help='band path "LABEL f1 f2 f3; LABEL ..." (B_VECTOR units)')
    p.add_argument("--band-npoints", type=int, default=8)
    p.add_argument("--added-mos", type=int, default=4)
    p.add_argument("--cutoff", type=int, default=300, help="MGRID CUTOFF (Ry)")
    p.add_argument("--smear", type=float, help="Fermi-Dirac smearing temperature (K)")
    p.add_argument("--basis-file", default="BASIS_MOLOPT")
    p.add_argument("--potential-file", default="GTH_POTENTIALS")
    p.add_argument("--dest", default=os.path.join(HERE, "..", "..", "tests", "data", "cp2k"))
    p.add_argument("--workdir", default="/tmp/nh-cp2k-runs")
    p.add_argument("--np", type=int, default=2, help="MPI ranks for CP2K")
    p.add_argument("--xz", action="store_true", help="pack the CSR files into NAME-csr.tar.xz")
    p.add_argument("--force", action="store_true", help="rerun even if complete")
    a = p.parse_args()
    if (a.kmesh is None) == (not a.gamma):
        p.error("give exactly one of --kmesh and --gamma")
    return a


def section(text, name, path):
    m = re.search(r"^[ \t]*&%s\b.*?^[ \t]*&END\s+%s\b[^\n]*" % (name, name),
                  text, re.M | re.S | re.I)
    if not m:
        sys.exit("%s: no &%s ... &END %s section" % (path, name, name))
    return "\n".join("    " + l.strip() for l in m.group(0).splitlines())


def kinds_block(kinds):
    out = []
    for k in kinds:
        m = re.fullmatch(r"([A-Z][a-z]?)=([^,\s]+),([^,\s]+)", k)
        if not m:
            sys.exit("--kind %r: expected El=BASIS,POTENTIAL" % k)
        out += ["    &KIND %s" % m.group(1), "      BASIS_SET %s" % m.group(2),
                "      POTENTIAL %s" % m.group(3), "    &END KIND"]
    return "\n".join(out)


def band_block(a):
    if not a.band:
        return ""
    lines = ["      &BAND_STRUCTURE", "        FILE_NAME %s.bs" % a.name,
             "        ADDED_MOS %d" % a.added_mos, "        &KPOINT_SET",
             "          UNITS B_VECTOR"]
    for pt in a.band.split(";"):
        f = pt.split()
        if len(f) != 4:
            sys.exit("--band point %r: expected LABEL f1 f2 f3" % pt)
        lines.append("          SPECIAL_POINT %s %s %s %s" % tuple(f))
    lines += ["          NPOINTS %d" % a.band_npoints, "        &END KPOINT_SET",
              "      &END BAND_STRUCTURE"]
    return "\n".join(lines)


def make_input(a):
    with open(a.structure) as f:
        st = f.read()
    if a.gamma:
        scheme = "      SCHEME GAMMA"
    else:
        scheme = "      SCHEME MONKHORST-PACK %d %d %d" % tuple(a.kmesh)
    smear = ""
    if a.smear:
        smear = ("      &SMEAR ON\n        METHOD FERMI_DIRAC\n"
                 "        ELECTRONIC_TEMPERATURE [K] %g\n      &END SMEAR" % a.smear)
    keys = {
        "PROJECT": a.name, "BASIS_FILE": a.basis_file,
        "POTENTIAL_FILE": a.potential_file, "CHARGE_SPIN": "",
        "CUTOFF": str(a.cutoff), "KPOINT_SCHEME": scheme,
        "MAX_SCF": str(a.max_scf), "ADDED_MOS": str(a.added_mos), "SMEAR": smear,
        "THRESHOLD": a.threshold, "BINARY": ".TRUE." if a.binary else ".FALSE.",
        "BAND_STRUCTURE": band_block(a), "CELL": section(st, "CELL", a.structure),
        "COORD": section(st, "COORD", a.structure), "KINDS": kinds_block(a.kind),
    }
    with open(os.path.join(HERE, "template.inp")) as f:
        text = f.read()
    for k, v in keys.items():
        text = text.replace("@%s@" % k, v)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        sys.exit("template.inp: unfilled keys %s" % left)
    # drop lines left empty by optional parts
    return "\n".join(l for l in text.splitlines() if l.strip()) + "\n"


def image_count(out_path):
    """Number of images in the CSR table of a CP2K .out (None if absent)."""
    with open(out_path, errors="replace") as f:
        for line in f:
            m = re.search(r"KS CSR write\|\s*(\d+)\s+periodic images", line)
            if m:
                return int(m.group(1))
    return None


def complete(d, name, band, xz):
    out = os.path.join(d, name + ".out")
    if not os.path.exists(out):
        return False
    with open(out, errors="replace") as f:
        if "PROGRAM ENDED AT" not in f.read():
            return False
    n = image_count(out)
    if not n:
        return False
    want = ["%s-%s_SPIN_1_R_%d-1_0.csr" % (name, m, img)
            for img in range(1, n + 1) for m in ("KS", "S")]
    if xz:
        tarball = os.path.join(d, name + "-csr.tar.xz")
        if not os.path.exists(tarball):
            return False
        have = set(subprocess.check_output(["tar", "-tJf", tarball], text=True).split())
    else:
        have = set(os.listdir(d))
    if any(w not in have for w in want):
        return False
    return not band or os.path.exists(os.path.join(d, name + ".bs"))


def main():
    a = parse_args()
    text = make_input(a)
    dest = os.path.join(os.path.abspath(a.dest), a.name)
    inp_dest = os.path.join(dest, a.name + ".inp")
    same = os.path.exists(inp_dest) and open(inp_dest).read() == text
    if same and not a.force and complete(dest, a.name, a.band, a.xz):
        print("%s: complete, skipped" % a.name)
        return
    work = os.path.join(a.workdir, a.name)
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)
    with open(os.path.join(work, a.name + ".inp"), "w") as f:
        f.write(text)
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = ["nice", "-n", "10", "mpirun", "--allow-run-as-root", "-np", str(a.np),
           "cp2k.psmp", "-i", a.name + ".inp", "-o", a.name + ".out"]
    print("%s: running %s in %s" % (a.name, " ".join(cmd), work), flush=True)
    t0 = time.time()
    with open(os.path.join(work, "cp2k.log"), "w") as log:
        rc = subprocess.call(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    dt = time.time() - t0
    if rc != 0 or not complete(work, a.name, a.band, False):
        sys.exit("%s: CP2K failed (rc %d) or output incomplete; see %s" % (a.name, rc, work))
    os.makedirs(dest, exist_ok=True)
    for old in glob.glob(os.path.join(dest, a.name + "*")):
        os.remove(old)
    keep = [a.name + ".inp", a.name + ".out"] + ([a.name + ".bs"] if a.band else [])
    for f in keep:
        shutil.copy(os.path.join(work, f), dest)
    csr = sorted(os.path.basename(f) for f in
                 glob.glob(os.path.join(work, a.name + "-*_SPIN_1_R_*.csr")))
    if a.xz:
        tarball = os.path.join(dest, a.name + "-csr.tar.xz")
        tar = ["tar", "-cf", "-", "--sort=name", "--mtime=@0", "--owner=0",
               "--group=0", "--numeric-owner", "-C", work] + csr
        with open(tarball, "wb") as dst:
            t = subprocess.Popen(tar, stdout=subprocess.PIPE)
            subprocess.check_call(["xz", "-9", "-T1", "-c"], stdin=t.stdout, stdout=dst)
            if t.wait() != 0:
                sys.exit("%s: tar failed" % a.name)
    else:
        for f in csr:
            shutil.copy(os.path.join(work, f), dest)
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(dest, "*")))
    print("%s: done in %.0f s, %d images, %.2f MB in %s" %
          (a.name, dt, image_count(os.path.join(dest, a.name + ".out")), size / 1e6, dest))


if __name__ == "__main__":
    main()
