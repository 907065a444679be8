#!/usr/bin/env bash
# `make run`: the reference agent (examples/agent.py with examples/demo.agent) plus the gateway with
# conf/warmline.toml. Ctrl-C (or SIGTERM) drains the gateway and stops the agent.
set -euo pipefail
bin=${1:-build/warmline}
cd "$(dirname "$0")/.."
# Debian's python3 has python3-websockets; a pyenv/venv python3 earlier on PATH may not.
py=/usr/bin/python3

"$bin" check-config conf/warmline.toml >/dev/null

$py examples/agent.py --listen 127.0.0.1:8765 --script examples/demo.agent &
agent=$!
trap 'kill "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true' EXIT

cat <<'MSG'
warmline demo: call sip:demo@127.0.0.1:5060 from a softphone (baresip, linphone) on this machine.
  The agent greets you; press 1 to be cold-transferred to "Support" (sip:support@127.0.0.1:5062),
  2 to hang up. HTTP API: curl http://127.0.0.1:8080/v1/calls
  Ctrl-C drains and stops.
MSG
"$bin" --config conf/warmline.toml &
gw=$!
trap 'kill -TERM "$gw" 2>/dev/null || true' INT TERM
wait "$gw" || true
wait "$gw" 2>/dev/null || true
