#!/usr/bin/env bash
# The long fuzz run (`make fuzz`): every fuzz target for FUZZ_SECONDS each
# (default 300), seeded from tests/fuzz/corpus/<name>/. New inputs go to a scratch
# corpus under the build dir, never into the checked-in seeds. Exits non-zero on the
# first crash or leak; the crashing input is left in the build dir.
#   usage: tests/fuzz/run-long.sh [build-dir]   (default build/debug)
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build/debug}"
secs="${FUZZ_SECONDS:-300}"
# every fuzz_<name>.c beside this script is a target
targets=$(cd "$src" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
for t in $targets; do
  bin="$build/tests/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "run-long: $bin missing (configure with -DTRI_FUZZ=ON and clang)" >&2
    exit 1
  fi
  scratch="$build/fuzz-corpus/$t"
  mkdir -p "$scratch"
  echo "run-long: fuzz_$t for ${secs}s"
  (cd "$build" && ASAN_OPTIONS=detect_leaks=1 "./tests/fuzz_$t" -max_total_time="$secs" \
      -rss_limit_mb=2048 -print_final_stats=1 "fuzz-corpus/$t" "$src/corpus/$t")
done
echo "run-long: all targets ran ${secs}s without a finding"
