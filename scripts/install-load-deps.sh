#!/usr/bin/env bash
# Installs the Debian packages only the load scenarios need (`make load-*`, bench/README.md "Load
# scenarios"): gnuplot for the report's PNGs and rtpengine's userspace daemon as the RTP relay peer.
# Kept out of install-deps.sh: building, `make test` and `make bench` never need them.
# rtpengine-daemon only: never the kernel module (rtpengine-kernel-dkms / -iptables), the scenarios run
# rtpengine with --table=-1 (userspace forwarding). Idempotent: does nothing when all are installed.
set -euo pipefail

bash "$(dirname "$0")/install-deps.sh" gnuplot-nox rtpengine-daemon
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
# The package enables a systemd unit that would hold ports on a real host; the scenarios start their own
# rtpengine on 127.0.0.1, so a packaged instance is neither needed nor wanted.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now rtpengine-daemon.service >/dev/null 2>&1 || true
fi
