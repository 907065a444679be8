#!/usr/bin/env bash
# `make bench`: runs every Google Benchmark executable of the build (bench/*_bench.cpp).
# Extra arguments go to each benchmark, e.g. BENCH_ARGS=--benchmark_filter=Parse make bench.
set -euo pipefail
build=${1:-build}
status=0
for b in "$build"/bench/*_bench; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_counters_tabular=true ${BENCH_ARGS:-} || status=1
done
exit $status
