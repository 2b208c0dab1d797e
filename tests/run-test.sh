#!/bin/sh
# Test launcher for `make check`. Programs whose name starts with mpi_ run
# with 1, 2 and 3 MPI ranks in turn and must pass with each; other programs
# run once as a single rank. Exit 77 means skipped.
prog="$1"; shift
case "$(basename "$prog")" in
  mpi_*)
    for np in 1 2 3; do
      echo "=== $prog with $np rank(s)"
      timeout 900 ${MPIEXEC:-mpiexec} --oversubscribe -n $np "$prog" "$@"
      rc=$?
      [ $rc -eq 0 ] || { echo "=== FAILED with $np rank(s) (exit $rc)"; exit $rc; }
    done ;;
  *) exec "$prog" "$@" ;;
esac
