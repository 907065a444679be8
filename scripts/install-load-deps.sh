#!/usr/bin/env bash
# Installs the Debian packages only the load scenarios need (`make load-*`, bench/README.md "Load
# scenarios"): gnuplot for the report's PNGs and rtpengine's userspace daemon as the RTP relay peer.
# Kept out of install-deps.sh: building, `make test` and `make bench` never need them.
# rtpengine-daemon only: never the kernel module (rtpengine-kernel-dkms / -iptables), the scenarios run
# rtpengine with --table=-1 (userspace forwarding). Idempotent: does nothing when all are installed.
set -euo pipefail

packages=(gnuplot-nox rtpengine-daemon)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-load-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends --no-upgrade -o DPkg::Lock::Timeout=300 "${packages[@]}"
# The package enables a systemd unit that would hold ports on a real host; the scenarios start their own
# rtpengine on 127.0.0.1, so a packaged instance is neither needed nor wanted.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now rtpengine-daemon.service >/dev/null 2>&1 || true
fi
