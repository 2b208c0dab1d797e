#!/bin/sh
# Quick start: install dependencies, build, and run the bundled example on
# 2 MPI ranks: import a CP2K run of bulk Si into a sample file (structure,
# basis, S, H, H0) and print its summary.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tools/install-deps.sh"
sh "$top/tools/build.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
run="$top/build/examples/si2-import"
sh "$top/tools/unpack-fixture.sh" si2 "$run"
sh "$top/tools/unpack-fixture.sh" si2-guess "$run"
cp "$top/input/examples/si2-import/si2-import.toml" "$run/"
cd "$run"
mpirun --oversubscribe -np 2 "$top/build/nextham" si2-import.toml
mpirun --oversubscribe -np 2 "$top/build/nextham" info si2.h5
echo "quickstart: wrote $run/si2.h5"
