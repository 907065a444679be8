#!/usr/bin/env bash
# Writes a warmline config for warmline-load to stdout, from gateway.toml.in.
# usage: make-gateway-config.sh [--sip-port 5060] [--http-port 8080] [--agent-port 8765]
#          [--rtp-ports 20000-24999] [--shards 2] [--sample-rate 8000] [--cdr PATH] [--target-port PORT]
# --target-port: bridged runs (warmline-load --bridge desk): the agent gets a target "desk" at
# sip:desk@127.0.0.1:PORT, where warmline-load --target-listen answers.
set -euo pipefail
sip_port=5060 http_port=8080 agent_port=8765 rtp_ports=20000-24999 shards=2 sample_rate=8000
cdr=${TMPDIR:-/tmp}/warmline-load-cdr.sqlite target_port=
while [ $# -gt 0 ]; do
  case "$1" in
    --sip-port) sip_port=$2 ;;
    --http-port) http_port=$2 ;;
    --agent-port) agent_port=$2 ;;
    --rtp-ports) rtp_ports=$2 ;;
    --shards) shards=$2 ;;
    --sample-rate) sample_rate=$2 ;;
    --cdr) cdr=$2 ;;
    --target-port) target_port=$2 ;;
    *) echo "make-gateway-config.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
sed -e "s|@SIP_PORT@|$sip_port|" -e "s|@HTTP_PORT@|$http_port|" -e "s|@AGENT_PORT@|$agent_port|" \
    -e "s|@RTP_PORTS@|$rtp_ports|" -e "s|@SHARDS@|$shards|" -e "s|@SAMPLE_RATE@|$sample_rate|" \
    -e "s|@CDR@|$cdr|" "$(dirname "$0")/gateway.toml.in"
if [ -n "$target_port" ]; then
  printf '\n[[agent.target]]\nname = "desk"\nuri = "sip:desk@127.0.0.1:%s"\n' "$target_port"
fi
