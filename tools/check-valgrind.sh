#!/bin/sh
# valgrind memcheck over the serial test programs of `make check` and a
# 2-rank run of the MPI tests of the backbone, in an out-of-tree -O1 build.
#   tools/check-valgrind.sh [BUILD_DIR, default /work/build-valgrind]
# Open MPI's noise is suppressed with its openmpi-valgrind.supp, its leaks
# from MPI_Init/MPI_Finalize with tools/sanitizers/valgrind.supp. Errors and
# definitely/indirectly lost blocks count; "possibly lost" and "still
# reachable" (Open MPI's and HDF5's global state) are not shown.
# Logs: BUILD_DIR/valgrind/<test>[.<pid>].log. Exit 1 on any failure/report.
set -u
top="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-/work/build-valgrind}"
mkdir -p "$build"
cd "$build" || exit 1
[ -f Makefile ] || "$top/configure" -q CFLAGS="-g -O1" || exit 1
make -j2 > make-valgrind.log 2>&1 && make -j2 check TESTS= >> make-valgrind.log 2>&1 ||
  { tail -n 30 make-valgrind.log; exit 1; }
rm -rf valgrind
mkdir valgrind
# What make check exports (Makefile.am, AM_TESTS_ENVIRONMENT).
export NH_TOP_SRCDIR="$top" NH_TOP_BUILDDIR="$(pwd)" NEXTHAM="$(pwd)/nextham" \
  NH_SHARED="${NH_SHARED:-$top/../shared}" OMPI_ALLOW_RUN_AS_ROOT=1 \
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
vg="valgrind --tool=memcheck --leak-check=full \
 --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
 --error-exitcode=42 --num-callers=30 \
 --suppressions=/usr/share/openmpi/openmpi-valgrind.supp \
 --suppressions=$top/tools/sanitizers/valgrind.supp"
status=0
report() { # name exit-status
  errs=$(cat valgrind/"$1".*log | grep "ERROR SUMMARY" |
         awk '{s += $4} END {print s + 0}')
  lost=$(cat valgrind/"$1".*log | grep -E "(definitely|indirectly) lost:" |
         awk '{gsub(",", "", $4); s += $4} END {print s + 0}')
  res=ok
  [ "$2" -eq 0 ] || { res="FAILED (exit $2)"; status=1; }
  [ "$errs" -eq 0 ] || status=1
  echo "$1: $res, $errs valgrind errors, $lost bytes definitely/indirectly lost"
}
serial=$(printf 'nhprint:\n\t@echo $(TESTS)\n' |
         make -s -f Makefile -f - nhprint | tr ' ' '\n' | grep -v -e '/mpi_' -e '\.sh$')
for t in $serial; do
  n=$(basename "$t")
  timeout 3600 $vg --log-file="valgrind/$n.log" "./$t" > "valgrind/$n.out" 2>&1
  report "$n" $?
done
for n in core/mpi_test_core geom/mpi_test_domain mat/mpi_test_mat \
         io/mpi_test_sample io/mpi_test_cp2k; do
  b=$(basename "$n")
  timeout 3600 mpiexec --oversubscribe -n 2 $vg \
    --log-file="valgrind/$b.%p.log" "./tests/$n" > "valgrind/$b.out" 2>&1
  report "$b" $?
done
exit $status
