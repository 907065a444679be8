#!/usr/bin/env bash
# Installs the Debian packages warmline needs to build, run and test. Idempotent: when every package is
# already installed it does nothing (no apt-get update, no network). Uses sudo when not root.
# Nothing is downloaded from anywhere but Debian's archive.
# With arguments, installs those packages instead of the list below (scripts/install-load-deps.sh).
set -euo pipefail

default_packages=(
  # toolchain
  g++ cmake ninja-build pkg-config ccache make
  # libraries (see README "Dependencies" for what each is for)
  libboost1.81-dev liburing-dev libssl-dev libsrtp2-dev libopus-dev libspeexdsp-dev libsimdjson-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev libsqlite3-dev libespeak-ng-dev libsndfile1-dev
  libc-ares-dev libspandsp-dev libpugixml-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-websockets sip-tester baresip-core
  kamailio sox espeak-ng
  # test peer for DNS: the RFC 3263 resolver tests (tests/unit/sip/resolve) serve NAPTR/SRV/A from it
  dnsmasq-base
)
if [ $# -gt 0 ]; then packages=("$@"); else packages=("${default_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends --no-upgrade -o DPkg::Lock::Timeout=300 "${missing[@]}"
