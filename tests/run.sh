#!/usr/bin/env bash
# Builds and runs the whole test suite: a normal build, an AddressSanitizer +
# UndefinedBehaviorSanitizer build, a ThreadSanitizer build, and a short run
# of every fuzz target.
#   tests/run.sh            everything (what CI runs)
#   tests/run.sh --quick    the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh --test

jobs=$(nproc)
fuzz_seconds=${RELAIS_FUZZ_SECONDS:-60}

# Every build here holds to zero warnings (RELAIS_WERROR); a user's build
# (deploy/dev-server.sh) does not fail on a new compiler's warning.
suite() {  # name, extra cmake arguments...
  local name=$1
  shift
  echo "== $name build"
  cmake -S . -B "build/$name" -G Ninja -DRELAIS_WERROR=ON "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
  echo "== $name tests"
  (cd "build/$name" && ctest -j "$jobs" --output-on-failure --timeout 900)
}

suite normal -DCMAKE_BUILD_TYPE=RelWithDebInfo
[ "${1:-}" = "--quick" ] && exit 0

ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  suite sanitize -DCMAKE_BUILD_TYPE=Debug -DRELAIS_SANITIZE=ON

# ThreadSanitizer on the same tests, the real server among them. A report in
# any process (a server killed at the end of a passing test included) fails
# the run: each process writes its reports to a file of its own.
tsan_reports=$PWD/build/tsan/reports
rm -rf "$tsan_reports"
mkdir -p "$tsan_reports"
tsan_report_count() {
  cat "$tsan_reports"/tsan* 2> /dev/null | grep -c '^WARNING: ThreadSanitizer' || true
}
# Shown however the suite ends: a failed test's reports are its best clue.
trap '[ "$(tsan_report_count)" -eq 0 ] || cat "$tsan_reports"/tsan*' EXIT
TSAN_OPTIONS="log_path=$tsan_reports/tsan second_deadlock_stack=1" \
  suite tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELAIS_SANITIZE=thread
trap - EXIT
if [ "$(tsan_report_count)" -ne 0 ]; then
  cat "$tsan_reports"/tsan*
  echo "== tsan: $(tsan_report_count) reports"
  exit 1
fi
echo "== tsan: no reports"

echo "== fuzz build (clang)"
cmake -S . -B build/fuzz -G Ninja -DRELAIS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELAIS_WERROR=ON >/dev/null
cmake --build build/fuzz -j "$jobs"
passed=0
failed=0
for target in decode dispatch websocket token search_text session_text; do
  # The saved corpus first, as it is (a regression there is a bug found
  # before), then fresh inputs for a while.
  if ! build/fuzz/tests/fuzz/fuzz_"$target" -runs=0 tests/fuzz/corpus/"$target" \
       > "build/fuzz/replay_$target.log" 2>&1; then
    failed=$((failed + 1))
    echo "== fuzz_$target: the saved corpus fails"
    tail -40 "build/fuzz/replay_$target.log"
    continue
  fi
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/"$target"/* "$corpus"/
  echo "== fuzz_$target for ${fuzz_seconds}s"
  if build/fuzz/tests/fuzz/fuzz_"$target" -max_total_time="$fuzz_seconds" -timeout=30 \
       -print_final_stats=1 "$corpus" > "build/fuzz/fuzz_$target.log" 2>&1; then
    passed=$((passed + 1))
    grep -E "^(Done|stat::number_of_executed_units)" "build/fuzz/fuzz_$target.log" || true
  else
    failed=$((failed + 1))
    tail -40 "build/fuzz/fuzz_$target.log"
  fi
  rm -rf "$corpus"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
