#!/bin/sh
# Unpacks CP2K fixture NAME (tests/data/cp2k/NAME) into DEST/NAME: the .out,
# the .inp and every CSR file, ready for `nextham convert cp2k`.
# Usage: tools/unpack-fixture.sh NAME DEST
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
name=$1 dest=$2
src="$top/tests/data/cp2k/$name"
[ -d "$src" ] || { echo "unpack-fixture: no fixture '$name' in tests/data/cp2k" >&2; exit 1; }
mkdir -p "$dest/$name"
tar -xJf "$src/$name-csr.tar.xz" -C "$dest/$name"
cp "$src/$name.out" "$src/$name.inp" "$dest/$name/"
