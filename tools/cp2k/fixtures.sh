#!/bin/sh
# Regenerates every CP2K fixture of tests/data/cp2k (see its README.md).
# Resumable: complete fixtures with an unchanged input are skipped.
# Usage (from anywhere): tools/cp2k/fixtures.sh [NAME...]   (default: all)
set -e
here=$(cd "$(dirname "$0")" && pwd)
mk="/usr/bin/python3 $here/make-reference.py --dest $here/../../tests/data/cp2k --xz"
st=$here/structures
si="Si=DZVP-MOLOPT-SR-GTH,GTH-PBE-q4"
fcc_path="L 0.5 0.5 0.5; GAMMA 0 0 0; X 0.5 0 0.5; W 0.5 0.25 0.75; K 0.375 0.375 0.75; GAMMA 0 0 0"
hex_path="GAMMA 0 0 0; M 0.5 0 0; K 0.3333333333333333 0.3333333333333333 0; GAMMA 0 0 0"
cub_path="GAMMA 0 0 0; X 0 0.5 0; M 0.5 0.5 0; GAMMA 0 0 0; R 0.5 0.5 0.5; X 0 0.5 0"

run() {
  case " ${only:-$1} " in *" $1 "*) ;; *) return 0 ;; esac
  name=$1; shift
  $mk --name "$name" "$@"
}
only="$*"

run si2 --structure $st/si2.cell --kind $si --kmesh 6 6 6 \
  --band "$fcc_path" --band-npoints 8
run si2-guess --structure $st/si2.cell --kind $si --kmesh 6 6 6 \
  --max-scf 1 --binary
run graphene --structure $st/graphene.cell \
  --kind C=DZVP-MOLOPT-SR-GTH,GTH-PBE-q4 --kmesh 9 9 1 --smear 300 \
  --band "$hex_path" --band-npoints 10
run si8 --structure $st/si8.cell --kind $si --kmesh 4 4 4 \
  --band "$cub_path" --band-npoints 6 --binary
run hbn --structure $st/hbn.cell --kind B=DZVP-MOLOPT-SR-GTH,GTH-PBE-q3 \
  --kind N=DZVP-MOLOPT-SR-GTH,GTH-PBE-q5 --kmesh 9 9 1 \
  --band "$hex_path" --band-npoints 10 --binary
run h2o --structure $st/h2o.cell --kind O=DZVP-MOLOPT-SR-GTH,GTH-PBE-q6 \
  --kind H=DZVP-MOLOPT-SR-GTH,GTH-PBE-q1 --gamma --binary
run graphene-guess --structure $st/graphene.cell \
  --kind C=DZVP-MOLOPT-SR-GTH,GTH-PBE-q4 --kmesh 9 9 1 --smear 300 \
  --max-scf 1 --binary
run hbn-guess --structure $st/hbn.cell --kind B=DZVP-MOLOPT-SR-GTH,GTH-PBE-q3 \
  --kind N=DZVP-MOLOPT-SR-GTH,GTH-PBE-q5 --kmesh 9 9 1 --max-scf 1 --binary
