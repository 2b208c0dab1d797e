#!/usr/bin/python3
"""Plot the band structure and/or DOS of a nextham output file (docs/bands.md).

usage: plot_bands.py FILE.h5 [FILE2.h5] -o OUT.png [--absolute]
                     [--emin E] [--emax E] [--title TEXT]

FILE.h5 holds /bands (task "bands") and/or /dos (task "dos"); given both, the
DOS is drawn to the right of the bands. Energies are relative to the Fermi
level (dashed line at 0) unless --absolute. Needs matplotlib and h5py.
"""
import argparse
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

GREEK = {"G": "Γ", "GAMMA": "Γ", "Gamma": "Γ", "Γ": "Γ", "SIGMA": "Σ",
         "SIGMA1": "Σ$_1$",
         "DELTA": "Δ", "LAMBDA": "Λ"}


def read(paths):
    bands = dos = None
    for p in paths:
        with h5py.File(p, "r") as f:
            if "bands" in f:
                g = f["bands"]
                labels = [s.decode() if isinstance(s, bytes) else str(s)
                          for s in g["labels"][()]]
                bands = dict(dist=g["distance"][()], e=g["energies"][()],
                             labels=labels, ldist=g["label_distance"][()],
                             fermi=float(g.attrs["fermi_energy"]))
            if "dos" in f:
                g = f["dos"]
                el = {}
                if "elements" in g:
                    el = {k: g["elements"][k][()] for k in g["elements"]}
                dos = dict(e=g["energy"][()], total=g["total"][()], el=el,
                           fermi=float(g.attrs["fermi_energy"]))
    return bands, dos


def tick_labels(labels, ldist):
    """Labels at equal distance (a break of the path) become 'K|U'."""
    ticks, names = [], []
    for lab, d in zip(labels, ldist):
        lab = GREEK.get(lab, lab)
        if ticks and abs(d - ticks[-1]) < 1e-9:
            if names[-1] != lab:
                names[-1] += "|" + lab
        else:
            ticks.append(d)
            names.append(lab)
    return ticks, names


def plot_bands(ax, b, shift):
    x, e = b["dist"], b["e"] - shift
    # runs of the path: a break repeats the distance
    cuts = [0] + [i for i in range(1, len(x)) if x[i] == x[i - 1]] + [len(x)]
    for a, z in zip(cuts[:-1], cuts[1:]):
        ax.plot(x[a:z], e[a:z], color="C0", lw=1.0)
    ticks, names = tick_labels(b["labels"], b["ldist"])
    for t in ticks:
        ax.axvline(t, color="0.6", lw=0.6)
    ax.set_xticks(ticks)
    ax.set_xticklabels(names)
    ax.set_xlim(x[0], x[-1])
    ax.axhline(b["fermi"] - shift, color="k", ls="--", lw=0.7)


def plot_dos(ax, d, shift, vertical):
    e = d["e"] - shift
    # the total solid and wide, elements dashed on top (one element = total)
    curves = [("total", d["total"], "0.3", "-", 2.2)] + \
        [(k, v, "C%d" % (i + 1), "--", 1.0)
         for i, (k, v) in enumerate(sorted(d["el"].items()))]
    for name, y, c, ls, lw in curves:
        xy = (y, e) if vertical else (e, y)
        ax.plot(*xy, color=c, ls=ls, lw=lw, label=name)
    line = ax.axhline if vertical else ax.axvline
    line(d["fermi"] - shift, color="k", ls="--", lw=0.7)
    if len(curves) > 1:
        ax.legend(fontsize="small")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--absolute", action="store_true")
    ap.add_argument("--emin", type=float)
    ap.add_argument("--emax", type=float)
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    bands, dos = read(a.files)
    if bands is None and dos is None:
        sys.exit("plot_bands.py: no /bands or /dos in " + ", ".join(a.files))
    ref = bands if bands is not None else dos
    shift = 0.0 if a.absolute else ref["fermi"]
    ylabel = "E (eV)" if a.absolute else "E − E$_F$ (eV)"
    emin = a.emin if a.emin is not None else (ref["fermi"] - shift - 12)
    emax = a.emax if a.emax is not None else (ref["fermi"] - shift + 8)
    if bands is not None and dos is not None:
        fig, (ax, ax2) = plt.subplots(1, 2, sharey=True, figsize=(8, 5),
                                      gridspec_kw=dict(width_ratios=[3, 1]))
        plot_bands(ax, bands, shift)
        plot_dos(ax2, dos, shift, vertical=True)
        ax2.set_xlabel("DOS (states/eV/cell)")
    elif bands is not None:
        fig, ax = plt.subplots(figsize=(6, 5))
        plot_bands(ax, bands, shift)
    else:
        fig, ax = plt.subplots(figsize=(7, 4))
        plot_dos(ax, dos, shift, vertical=False)
        ax.set_xlim(emin, emax)
        ax.set_xlabel(ylabel)
        ax.set_ylabel("DOS (states/eV/cell)")
    if bands is not None:
        ax.set_ylim(emin, emax)
        ax.set_ylabel(ylabel)
    if a.title:
        fig.suptitle(a.title)
    fig.tight_layout()
    fig.savefig(a.output, dpi=150)


if __name__ == "__main__":
    main()
