#!/usr/bin/env bash
# Installs the Debian packages warmline needs to build, run and test. Idempotent: when every package is
# already installed it does nothing (no apt-get update, no network). Uses sudo when not root.
# Nothing is downloaded from anywhere but Debian's archive, and npm's registry for the Node.js clients
# the e2e tests use (tests/e2e/node, pinned by its package-lock.json; `npm ci` runs only when
# node_modules is missing or older than the lock file).
# With arguments, installs those packages instead of the list below (scripts/install-load-deps.sh).
set -euo pipefail

default_packages=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache make
  # libraries (see README "Dependencies" for what each is for)
  libboost1.81-dev liburing-dev libssl-dev libsrtp2-dev libopus-dev libspeexdsp-dev libsimdjson-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev libsqlite3-dev libespeak-ng-dev libsndfile1-dev
  libc-ares-dev libspandsp-dev libpugixml-dev libsystemd-dev libpq-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-websockets sip-tester baresip-core
  kamailio sox espeak-ng
  # the TLS tests' self-signed certificates (test_sip_tls, test_load_tls; bench/load/scenarios/tls.py)
  openssl
  # systemd-analyze checks the shipped unit (deploy/systemd) in the e2e tests
  systemd
  # a throwaway PostgreSQL server for the call-record tests (started by the test, never as a service)
  postgresql
  # test peer for DNS: the RFC 3263 resolver tests (tests/unit/sip/resolve) serve NAPTR/SRV/A from it
  dnsmasq-base
  # the fuzz targets (tests/fuzz, `make fuzz-smoke`): clang and its libFuzzer runtime
  clang-14 libclang-rt-14-dev
  # the e2e tests' Node.js clients (tests/e2e/node: Twilio's helper library against the REST paths)
  nodejs
  # headless browser for the live-calls page test only (tests/e2e/test_ui_page.py loads /ui in it);
  # the gateway itself needs no browser
  chromium
)
if [ $# -gt 0 ]; then packages=("$@"); else packages=("${default_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# npm comes with some builds of nodejs (NodeSource's, which conflict with Debian's npm package) and is a
# package of its own with Debian's: it is asked for only when there is no npm command.
if [ $# -eq 0 ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends --no-upgrade -o DPkg::Lock::Timeout=300 "${missing[@]}"
fi

if [ $# -eq 0 ]; then
  node_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/node"
  if [ ! -f "$node_dir/node_modules/.package-lock.json" ] ||
     [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in tests/e2e/node"
    (cd "$node_dir" && npm ci --no-audit --no-fund)
  fi
fi
