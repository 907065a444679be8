#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (WARMLINE_FUZZ, in BUILD_DIR) and runs each for
# SECONDS, one after the other; `make fuzz-smoke` (part of `make test`) and `make fuzz` call it.
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]      (no TARGET: every target of tests/fuzz)
# Each target reads its checked-in corpus (tests/fuzz/corpus/<target>, never written) and keeps what it
# finds in BUILD_DIR/fuzz-corpus/<target>. A crash, sanitizer report, failed check, timeout (10 s on one
# input) or out-of-memory fails the run; its input is BUILD_DIR/fuzz-artifacts/<target>-crash-<sha1>
# (tests/fuzz/README.md says what to do with it). Prints a table of execs per target at the end.
set -euo pipefail

build_dir=${1:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs=${JOBS:-$(nproc)}
cxx=${FUZZ_CXX:-clang++-14}

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found (make deps installs clang-14 and libclang-rt-14-dev)" >&2
  exit 2
fi

start=$(date +%s)
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DWARMLINE_FUZZ=ON \
  -DWARMLINE_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$jobs" --target fuzzers
built=$(date +%s)
echo "fuzz: built the fuzzers in $((built - start)) s"

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < "$build_dir/tests/fuzz/targets.txt"; fi

mkdir -p "$build_dir/fuzz-artifacts" "$build_dir/fuzz-logs"
failed=()
rows=()
for t in "${targets[@]}"; do
  [ -n "$t" ] || continue
  fuzzer="$build_dir/tests/fuzz/${t}_fuzzer"
  corpus="$root/tests/fuzz/corpus/$t"
  [ -x "$fuzzer" ] || { echo "fuzz: no fuzzer $fuzzer" >&2; exit 2; }
  [ -d "$corpus" ] || { echo "fuzz: no corpus $corpus" >&2; exit 2; }
  dict=()
  if [ -f "$root/tests/fuzz/$t.dict" ]; then
    dict=("-dict=$root/tests/fuzz/$t.dict")
  elif [[ ! "$t" =~ ^(sip|rtp|server)_ ]]; then
    dict=("-dict=$root/tests/fuzz/agent_frames.dict")  # the agent decoders share one
  fi
  work="$build_dir/fuzz-corpus/$t"
  log="$build_dir/fuzz-logs/$t.log"
  mkdir -p "$work"
  echo "fuzz: $t for $seconds s"
  rc=0
  nice "$fuzzer" "$work" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build_dir/fuzz-artifacts/$t-" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  per_s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  rows+=("$(printf '%-16s %10s %8s %6s' "$t" "${execs:-?}" "${per_s:-?}" "${cov:-?}")")
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc); the last lines of $log:" >&2
    tail -n 40 "$log" >&2
  fi
done

echo
printf '%-16s %10s %8s %6s\n' target execs exec/s cov
printf '%s\n' "${rows[@]}"
echo "fuzz: $((${#targets[@]})) targets, $seconds s each, $(($(date +%s) - start)) s in all (build included)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build_dir/fuzz-artifacts/)" >&2
  exit 1
fi
