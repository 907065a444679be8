#!/usr/bin/env bash
# `make test-asan`: builds the gateway and the unit tests with AddressSanitizer + UBSan (and LeakSanitizer)
# in $1 (default build-asan), runs the unit and the e2e tests, and fails if any test fails or if any
# sanitizer report was written. ASan/LSan reports go to files (log_path), UBSan's are collected from
# stderr (see below), so one from a process a test started and then only stopped - the gateway under an
# e2e test - cannot pass unseen: every file under <build>/sanitizer-reports fails the run and is printed.
set -uo pipefail
build=${1:-build-asan}
jobs=${JOBS:-2}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)
reports="$build/sanitizer-reports"

cmake -S "$src" -B "$build" -G Ninja -DWARMLINE_SANITIZE=ON ${CMAKE_FLAGS:-} >/dev/null || exit 1
# Only what the tests run: the gateway (e2e) and every unit-test executable, not the benchmarks.
cmake --build "$build" -j "$jobs" --target warmline unit_tests || exit 1

rm -rf "$reports"
mkdir -p "$reports"
# halt_on_error: stop at the first finding; UBSan is also compiled non-recoverable (CMakeLists.txt).
# detect_leaks: LeakSanitizer at exit, with tests/sanitizer/lsan.supp for third-party leaks only.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export LSAN_OPTIONS="suppressions=$src/tests/sanitizer/lsan.supp:print_suppressions=0"
# GCC's UBSan runtime beside ASan ignores log_path and prints to stderr: a unit test then fails by its
# exit status, and the e2e harness copies any process's stderr with a report here (tests/e2e/harness.py).
export WARMLINE_SANITIZER_REPORTS="$reports"

status=0
start=$(date +%s)
(cd "$build" && ctest --output-on-failure -j "$jobs" -L unit) || status=1
unit_done=$(date +%s)
(cd "$build" && ctest --output-on-failure -L e2e) || status=1
end=$(date +%s)
echo "test-asan: unit tests $((unit_done - start)) s, e2e tests $((end - unit_done)) s"

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  echo "test-asan: ${#found[@]} sanitizer report(s) in $reports:"
  for f in "${found[@]}"; do
    echo "==== $f"
    head -n 60 "$f"
  done
  status=1
fi
if ((status)); then
  echo "test-asan: FAILED"
else
  echo "test-asan: passed, no sanitizer reports"
fi
exit $status
