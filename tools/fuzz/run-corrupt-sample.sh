#!/bin/sh
# Damages a real sample file (nextham convert cp2k of the si2 fixture) in
# ROUNDS random ways (overwritten bytes, truncation) and checks that the
# sample reader never crashes, hangs or returns insane data
# (tools/fuzz/corrupt_sample.c).
#   tools/fuzz/run-corrupt-sample.sh [BUILD_DIR] [ROUNDS, default 300] [SEED]
# BUILD_DIR (default /work/build-asan) is a configured build with nextham
# and libnextham.a; an ASan build also catches silent memory errors.
set -eu
top="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-/work/build-asan}" && pwd)"
rounds="${2:-300}" seed="${3:-1}"
work="${NH_FUZZ_DIR:-/tmp/nh-corrupt-sample}"
mkdir -p "$work"
make -s -C "$build" nextham libnextham.a
flags=$(printf 'nhprint:\n\t@echo $(CC) $(CFLAGS) $(AM_CPPFLAGS) $(DEFS) -- $(LDFLAGS) $(NH_DEPS_LIBS) $(LIBS)\n' |
        make -s -C "$build" -f Makefile -f - nhprint)
cc=${flags%% *} rest=${flags#* }
compile=${rest%% -- *} link=${rest#* -- }
$cc $compile -I"$build" -o "$work/corrupt_sample" \
  "$top/tools/fuzz/corrupt_sample.c" "$build/libnextham.a" $link
if [ ! -f "$work/si2.h5" ]; then
  "$top/tools/unpack-fixture.sh" si2 "$work"
  (cd "$work/si2" && ASAN_OPTIONS=detect_leaks=0 \
     "$build/nextham" convert cp2k si2.out -o ../si2.h5)
fi
# As tools/check-asan.sh: full stacks so that only MPI's own leaks are
# suppressed.
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=40"
export LSAN_OPTIONS="suppressions=$top/tools/sanitizers/lsan.supp:print_suppressions=0"
export OMPI_MCA_mca_base_component_disable_dlclose=1
"$work/corrupt_sample" "$work/si2.h5" "$work" "$rounds" "$seed"
