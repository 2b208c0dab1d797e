# Sourced by the shell tests (tests/*/test_*.sh): the common set-up, the MPI runner, pass/fail counting and CP2K fixtures.
set -u
me=$(basename "$0" .sh)
: "${NEXTHAM:?run through make check}"
src="$NH_TOP_SRCDIR"
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# mpi NP ARGS...: nextham on NP ranks, killed after NH_TEST_TIMEOUT seconds
# so that a hang fails the test instead of CI.
mpi() {
  np=$1; shift
  timeout "${NH_TEST_TIMEOUT:-300}" $MPIEXEC --oversubscribe -n "$np" "$NEXTHAM" "$@"
}
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Exit 77 (skipped) when the Python used for checking HDF5 output is missing.
need_h5py() {
  $py -c 'import h5py, numpy' 2>/dev/null && return 0
  echo "$me: $py with h5py and numpy is needed (python3-h5py)"; exit 77
}

# fixture_sample FIXTURE NP: unpacks tests/data/cp2k/FIXTURE into
# $tmp/FIXTURE/ and converts it on NP ranks to the sample file
# $tmp/FIXTURE.h5; the test stops if that fails.
fixture_sample() {
  sh "$src/tools/unpack-fixture.sh" "$1" "$tmp" &&
    mpi "$2" -q convert cp2k "$tmp/$1/$1.out" -o "$tmp/$1.h5" > "$tmp/$1-convert.log" 2>&1 ||
    { cat "$tmp/$1-convert.log"; echo "$me: cannot convert fixture $1"; exit 1; }
}

# finish: the summary line and the exit status.
finish() {
  echo "$me: $fails failure(s)"
  [ "$fails" -eq 0 ]
}
