# Sourced by the run-fuzz-*.sh scripts of the CP2K importer and basis
# readers: compiler flags, and fuzz NAME (build + run one harness).
# Needs clang and libclang-rt-14-dev.
top="$(cd "$(dirname "$0")/../.." && pwd)"
cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 -fno-sanitize-recover=undefined -I$top/include $(mpicc -showme:compile)"
libs="$(mpicc -showme:link) -lm"

# fuzz NAME SECONDS MAX_LEN SOURCES...: builds tools/fuzz/fuzz_NAME.c with
# SOURCES into $work/fuzz-NAME and runs it on $work/corpus-NAME (filled by
# the caller) on one core. Leaves crash-NAME-* in $work if anything breaks.
fuzz() {
  name=$1 secs=$2 maxlen=$3
  shift 3
  clang $cflags "$top/tools/fuzz/fuzz_$name.c" "$@" $libs -o "fuzz-$name"
  echo "=== fuzzing $name for $secs s ($(ls "corpus-$name" | wc -l) seeds)"
  # libFuzzer checks every input for leaks itself (-detect_leaks=1); the
  # check at exit would only list what MPI_Init left (fuzz_cp2k_out), with
  # stacks too short for the suppressions, and blame the last input.
  ASAN_OPTIONS="leak_check_at_exit=0" ./"fuzz-$name" -jobs=1 -workers=1 -max_total_time="$secs" \
    -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/crash-$name-" "corpus-$name" \
    > "fuzz-$name.out" 2>&1 || true
  log=fuzz-0.log
  [ -f "$log" ] || log="fuzz-$name.out"
  grep -E "^#[0-9]+ *(DONE|pulse|NEW)" "$log" | tail -n 1 | sed "s/^/  /"
  grep -E "ERROR|SUMMARY|Done [0-9]+ runs" "$log" | head -n 5 | sed "s/^/  /"
  [ "$log" = fuzz-0.log ] && mv -f fuzz-0.log "fuzz-$name.log"
  return 0
}

finish() {
  found=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 \
    -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*')
  if [ -n "$found" ]; then
    echo "$found"
    echo "findings above (in $work)"
    exit 1
  fi
  echo "no crashes, leaks or timeouts"
}
