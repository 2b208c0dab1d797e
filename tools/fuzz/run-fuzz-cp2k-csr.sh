#!/bin/sh
# Fuzzes the CP2K CSR reader (nh_cp2k_csr_read), text and binary, with
# libFuzzer + ASan + UBSan on one core. Seeds: the first 100 records of a
# few CSR files of tests/data/cp2k, each as binary (leading byte 1, first
# record marker dropped: the harness puts it back) and converted to text
# (leading byte 0).
#   tools/fuzz/run-fuzz-cp2k-csr.sh [seconds, default 240]
# Work files go to $NH_FUZZ_DIR (default /tmp/nh-fuzz-cp2k).
set -eu
. "$(dirname "$0")/fuzz-common.sh"
work="${NH_FUZZ_DIR:-/tmp/nh-fuzz-cp2k}"
mkdir -p "$work/corpus-cp2k_csr" "$work/csr"
cd "$work"
for fx in si2 h2o hbn graphene; do
  tar -xJf "$top/tests/data/cp2k/$fx/$fx-csr.tar.xz" -C csr \
    "$fx-KS_SPIN_1_R_1-1_0.csr" "$fx-S_SPIN_1_R_2-1_0.csr"
done
python3 - csr corpus-cp2k_csr <<'PY'
import os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(src)):
    raw = open(os.path.join(src, f), 'rb').read()[:2400]
    open(os.path.join(dst, f + '.bin'), 'wb').write(b'\x01' + raw[4:])
    lines = []
    for k in range(len(raw) // 24):
        _, r, c, v, _ = struct.unpack_from('<iiidi', raw, 24 * k)
        lines.append('%d %d %.16E' % (r, c, v))
    open(os.path.join(dst, f + '.txt'), 'wb').write(
        b'\x00' + ('\n'.join(lines) + '\n').encode())
PY
fuzz cp2k_csr "${1:-240}" 8192 "$top"/src/core/error.c \
  "$top"/src/core/memory.c "$top"/src/io/cp2k_csr.c
finish
