#!/bin/sh
# Runs the whole test suite (make check) under AddressSanitizer, UBSan and
# LeakSanitizer in an out-of-tree build, then lists every sanitizer report
# found in the test logs.
#   tools/check-asan.sh [BUILD_DIR, default /work/build-asan] [make check args]
# LSan ignores only the library-initialisation leaks listed in
# tools/sanitizers/lsan.supp. UBSan reports do not stop a test; they are
# collected from the logs at the end. Exit status 1 if any test failed or
# any report was found.
set -u
top="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-/work/build-asan}"
[ $# -gt 0 ] && shift
mkdir -p "$build"
cd "$build" || exit 1
if [ ! -f Makefile ]; then
  "$top/configure" -q \
    CFLAGS="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer" \
    LDFLAGS="-fsanitize=address,undefined" || exit 1
fi
make -j2 > make-asan.log 2>&1 || { tail -n 30 make-asan.log; exit 1; }
# Full (slow) unwinding: the system's MPI libraries have no frame pointers,
# and the suppressions need whole stacks; Open MPI keeps its components
# loaded so that their frames can be named at exit. mpi_test_core checks
# that a huge nh_malloc fails cleanly, so malloc must return NULL.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0:malloc_context_size=40:detect_stack_use_after_return=1"
export OMPI_MCA_mca_base_component_disable_dlclose=1
export LSAN_OPTIONS="suppressions=$top/tools/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1"
# Open MPI's shared-memory transport maps segments ASan cannot follow;
# nothing to do with nextham, but keeps the reports readable.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
make -k check "$@" > check-asan.log 2>&1
rc=$?
grep -E "^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):" check-asan.log
logs=$(find tests -name '*.log' ! -name test-suite.log)
reports=$(grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" $logs 2>/dev/null)
if [ -n "$reports" ]; then
  echo "sanitizer reports in:"
  for f in $reports; do
    echo "--- $f"
    grep -E -A 14 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$f" | head -n 60
  done
  exit 1
fi
[ $rc -eq 0 ] || exit 1
echo "no sanitizer reports"
