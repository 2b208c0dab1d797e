#!/bin/sh
# Quick start: install dependencies, build, and run the bundled example
# (import of a CP2K Si run into a sample file, then its summary) on 2 ranks.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tools/install-deps.sh"
sh "$top/tools/build.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
cd "$top/input/examples/si2-import"
mpirun --oversubscribe -np 2 "$top/build/nextham" si2-import.toml
mpirun --oversubscribe -np 2 "$top/build/nextham" info si2.h5
