#!/bin/sh
# Fuzzes the three structure readers with libFuzzer + ASan + UBSan, one after
# the other, seeded with tests/data/structures (and si2.inp if present).
#   tools/fuzz/run-fuzz-structure.sh [seconds per reader, default 180]
# Needs clang and libclang-rt-14-dev. Work files go to $NH_FUZZ_DIR
# (default /tmp/nh-fuzz-structure); crashes are saved there as crash-*.
set -eu
secs="${1:-180}"
top="$(cd "$(dirname "$0")/../.." && pwd)"
work="${NH_FUZZ_DIR:-/tmp/nh-fuzz-structure}"
shared="${NH_SHARED:-$top/../shared}"
mkdir -p "$work"
cd "$work"

# config.h is not needed by these sources; MPI only for core's headers.
cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 -fno-sanitize-recover=undefined -I$top/include $(mpicc -showme:compile)"
libs="$(mpicc -showme:link) -lm"
srcs="$top/src/core/error.c $top/src/core/memory.c $top/src/geom/neighbor.c \
 $top/src/geom/structure.c $top/src/geom/validate.c $top/src/io/structio.c \
 $top/src/io/poscar.c $top/src/io/xyz.c $top/src/io/cp2k_input.c"

data="$top/tests/data/structures"
for fmt in poscar xyz cp2k; do
  mkdir -p "corpus-$fmt"
  case $fmt in
    poscar) cp "$data"/POSCAR_* "$data"/CONTCAR_* "$data"/bad/POSCAR_* "corpus-$fmt"/ ;;
    xyz) cp "$data"/*.xyz "$data"/*.extxyz "$data"/bad/*.xyz "corpus-$fmt"/ ;;
    cp2k) cp "$data"/*.inp "$data"/bad/*.inp "corpus-$fmt"/
          [ -f "$shared/cp2k/si2.inp" ] && cp "$shared/cp2k/si2.inp" "corpus-$fmt"/ ;;
  esac
  clang $cflags -DNH_FUZZ_FORMAT="\"$fmt\"" "$top/tools/fuzz/fuzz_structure.c" \
    $srcs $libs -o "fuzz-$fmt"
  echo "=== fuzzing the $fmt reader for $secs s"
  ./"fuzz-$fmt" -jobs=1 -workers=1 -max_total_time="$secs" -max_len=8192 \
    -timeout=10 -rss_limit_mb=2048 -dict="$top/tools/fuzz/structure.dict" \
    -artifact_prefix="$work/crash-$fmt-" "corpus-$fmt" > "fuzz-$fmt.out" 2>&1 || true
  tail -n 3 fuzz-0.log 2>/dev/null | sed "s/^/  /"
  mv -f fuzz-0.log "fuzz-$fmt.log" 2>/dev/null || true
done
ls "$work"/crash-* 2>/dev/null && { echo "crashes found"; exit 1; }
echo "no crashes"
