#!/bin/sh
# Fuzzes the TOML parser with libFuzzer + ASan + UBSan on one core.
#   tools/fuzz/run-fuzz-toml.sh [SECONDS]      (default 600)
# Needs clang and libclang-rt-14-dev. Builds in $FUZZ_DIR (default
# /tmp/fuzz-toml), seeds the corpus with the toml-test cases from
# $NH_SHARED (default ../shared beside the source tree) and
# tests/data/toml, and leaves crash-* files there if anything breaks.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-600}
dir=${FUZZ_DIR:-/tmp/fuzz-toml}
shared=${NH_SHARED:-$top/../shared}
mkdir -p "$dir/corpus" "$dir/seeds"

CC=${CC:-clang}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -I$top/include -I$top/src/io \
  $(mpicc -showme:compile 2>/dev/null || true)"
$CC $flags -o "$dir/fuzz_toml" "$top/tools/fuzz/fuzz_toml.c" \
  "$top"/src/io/toml_*.c "$top/src/core/error.c" "$top/src/core/memory.c" -lm

# Seeds: every conformance case (valid and invalid) and our own inputs.
n=0
for f in $(find "$shared/toml-test/tests" "$top/tests/data/toml" \
             -name '*.toml' 2>/dev/null); do
  n=$((n + 1))
  cp "$f" "$dir/seeds/seed-$n.toml"
done
echo "seeds: $n files"

# A dictionary of TOML tokens helps the mutator reach deep syntax.
cat > "$dir/toml.dict" <<'DICT'
"["
"]"
"[["
"]]"
"{"
"}"
"="
","
"."
"\""
"'"
"\"\"\""
"'''"
"#"
"\\u"
"\\U"
"true"
"false"
"inf"
"nan"
"0x"
"0o"
"0b"
"e+"
"_"
"T"
"Z"
"1979-05-27"
"07:32:00"
"+08:00"
"\x0d\x0a"
DICT

cd "$dir"
# One process on one core; -jobs=1 runs one worker that logs to fuzz-0.log.
./fuzz_toml -jobs=1 -workers=1 -max_total_time="$secs" -max_len=4096 \
  -timeout=10 -rss_limit_mb=2048 -dict=toml.dict -print_final_stats=1 \
  corpus seeds || true
tail -n 25 fuzz-0.log
if ls crash-* leak-* timeout-* oom-* >/dev/null 2>&1; then
  echo "FUZZING FOUND PROBLEMS: see $dir"; exit 1
fi
echo "no crashes, leaks, timeouts or OOMs in $secs s"
