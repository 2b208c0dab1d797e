#!/bin/sh
# Installs dependencies, builds, and runs the whole test suite (make check).
# Prints "N passed, N failed" at the end and exits non-zero on any failure.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tools/install-deps.sh"
sh "$top/tools/build.sh"
cd "$top/build"
status=0
make -j"$(nproc)" check || status=$?
for f in $(find tests -name '*.log' ! -name test-suite.log); do
  case "$(tail -n 1 "$f")" in FAIL*|ERROR*) echo "==== $f"; tail -n 60 "$f";; esac
done
pass=$(grep -c '^:test-result: PASS' $(find tests -name '*.trs') /dev/null | awk -F: '{s+=$NF} END {print s+0}')
fail=$(grep -cE '^:test-result: (FAIL|ERROR|XPASS)' $(find tests -name '*.trs') /dev/null | awk -F: '{s+=$NF} END {print s+0}')
skip=$(grep -c '^:test-result: SKIP' $(find tests -name '*.trs') /dev/null | awk -F: '{s+=$NF} END {print s+0}')
echo "$pass passed, $fail failed, $skip skipped"
[ "$status" -eq 0 ] && [ "$fail" -eq 0 ]
