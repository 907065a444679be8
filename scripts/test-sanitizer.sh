#!/usr/bin/env bash
# `make test-asan` / `make test-tsan`: builds the gateway and the unit tests with a sanitizer in $2 and runs
# the unit and the e2e tests; fails if any test fails or if any sanitizer report was written.
#   $1 = asan: AddressSanitizer + UBSan (and LeakSanitizer), default build folder build-asan
#   $1 = tsan: ThreadSanitizer, default build folder build-tsan
# Reports go to files (log_path), and the e2e harness copies any process's stderr that holds one (see
# below), so a report from a process a test started and then only stopped - the gateway under an e2e
# test - cannot pass unseen: every file under <build>/sanitizer-reports fails the run and is printed.
set -uo pipefail
kind=${1:-asan}
case "$kind" in
  asan) flag=-DWARMLINE_SANITIZE=ON ;;
  tsan) flag=-DWARMLINE_TSAN=ON ;;
  *) echo "usage: $0 asan|tsan [build-folder]" >&2; exit 2 ;;
esac
build=${2:-build-$kind}
jobs=${JOBS:-2}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)
reports="$build/sanitizer-reports"

cmake -S "$src" -B "$build" -G Ninja "$flag" ${CMAKE_FLAGS:-} >/dev/null || exit 1
# Only what the tests run: the gateway and the load generator (e2e) and every unit-test executable, not
# the benchmarks.
cmake --build "$build" -j "$jobs" --target warmline warmline-load unit_tests || exit 1

rm -rf "$reports"
mkdir -p "$reports"
# halt_on_error: stop at the first finding; UBSan is also compiled non-recoverable (CMakeLists.txt).
# detect_leaks: LeakSanitizer at exit, with tests/sanitizer/lsan.supp for third-party leaks only.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export LSAN_OPTIONS="suppressions=$src/tests/sanitizer/lsan.supp:print_suppressions=0"
# ThreadSanitizer: every data race or lock-order inversion is a finding; tests/sanitizer/tsan.supp holds
# only third-party suppressions, each with its reason.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan:suppressions=$src/tests/sanitizer/tsan.supp:print_suppressions=0"
# GCC's UBSan runtime beside ASan ignores log_path and prints to stderr: a unit test then fails by its
# exit status, and the e2e harness copies any process's stderr with a report here (tests/e2e/harness.py).
export WARMLINE_SANITIZER_REPORTS="$reports"

status=0
start=$(date +%s)
(cd "$build" && ctest --output-on-failure -j "$jobs" -L unit) || status=1
unit_done=$(date +%s)
(cd "$build" && ctest --output-on-failure -L e2e) || status=1
end=$(date +%s)
echo "test-$kind: unit tests $((unit_done - start)) s, e2e tests $((end - unit_done)) s"

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  echo "test-$kind: ${#found[@]} sanitizer report(s) in $reports:"
  for f in "${found[@]}"; do
    echo "==== $f"
    head -n 60 "$f"
  done
  status=1
fi
if ((status)); then
  echo "test-$kind: FAILED"
else
  echo "test-$kind: passed, no sanitizer reports"
fi
exit $status
