#!/bin/sh
# Fuzzes the CP2K basis-set and GTH potential readers (nh_basis_load,
# nh_gth_load, nh_basis_load_potential) with libFuzzer + ASan + UBSan on one
# core, seeded with /usr/share/cp2k/BASIS_MOLOPT and GTH_POTENTIALS cut into
# single entries (one file per entry).
#   tools/fuzz/run-fuzz-basis.sh [seconds, default 240]
# Work files go to $NH_FUZZ_DIR (default /tmp/nh-fuzz-cp2k).
set -eu
. "$(dirname "$0")/fuzz-common.sh"
work="${NH_FUZZ_DIR:-/tmp/nh-fuzz-cp2k}"
mkdir -p "$work/corpus-basis"
cd "$work"
# A new entry starts at each line whose first character is a letter.
for f in BASIS_MOLOPT GTH_POTENTIALS; do
  awk -v out="corpus-basis/$f" '/^[A-Za-z]/ { n++ } n { print > (out "-" n) }' \
    "/usr/share/cp2k/$f"
done
fuzz basis "${1:-240}" 4096 "$top"/src/core/error.c "$top"/src/core/memory.c \
  "$top"/src/geom/structure.c "$top"/src/basis/basis.c \
  "$top"/src/basis/cp2kfile.c "$top"/src/basis/gthpot.c
finish
