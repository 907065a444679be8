#!/usr/bin/env bash
# Builds what the load scenarios run: warmline and warmline-load (RelWithDebInfo, no tests) in
# LOAD_BUILD, and with `uring` also warmline with -DWARMLINE_IO_URING=ON in LOAD_URING_BUILD.
# Installs the load-only Debian packages first (scripts/install-load-deps.sh). Used by the top
# Makefile's load-* targets.
set -euo pipefail
cd "$(dirname "$0")/../../.."
LOAD_BUILD=${LOAD_BUILD:-build-load}
LOAD_URING_BUILD=${LOAD_URING_BUILD:-build-load-uring}
JOBS=${JOBS:-$(nproc)}
flags=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARMLINE_TESTS=OFF)

bash scripts/install-deps.sh
bash scripts/install-load-deps.sh
cmake -S . -B "$LOAD_BUILD" "${flags[@]}" >/dev/null
cmake --build "$LOAD_BUILD" --target warmline warmline-load -j "$JOBS"
if [ "${1:-}" = uring ]; then
  cmake -S . -B "$LOAD_URING_BUILD" "${flags[@]}" -DWARMLINE_IO_URING=ON >/dev/null
  cmake --build "$LOAD_URING_BUILD" --target warmline -j "$JOBS"
fi
