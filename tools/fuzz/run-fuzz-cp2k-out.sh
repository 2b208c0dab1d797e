#!/bin/sh
# Fuzzes the CP2K .out parser (nh_cp2k_read_run) with libFuzzer + ASan +
# UBSan on one core, seeded with the .out files of tests/data/cp2k.
#   tools/fuzz/run-fuzz-cp2k-out.sh [seconds, default 240]
# Work files go to $NH_FUZZ_DIR (default /tmp/nh-fuzz-cp2k).
set -eu
. "$(dirname "$0")/fuzz-common.sh"
work="${NH_FUZZ_DIR:-/tmp/nh-fuzz-cp2k}"
mkdir -p "$work/corpus-cp2k_out"
cd "$work"
cp "$top"/tests/data/cp2k/*/*.out corpus-cp2k_out/
fuzz cp2k_out "${1:-240}" 65536 "$top"/src/core/error.c \
  "$top"/src/core/memory.c "$top"/src/core/ctx.c "$top"/src/core/log.c \
  "$top"/src/core/timer.c "$top"/src/io/cp2k_out.c
finish
