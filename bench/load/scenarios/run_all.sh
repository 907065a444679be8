#!/usr/bin/env bash
# `make load-all`: every load scenario in one bounded run (about 15 minutes on the 2-core machine), then
# the published report: bench/results/REPORT.md, latency.png, cpu_per_call.png and the raw records
# (results.jsonl / results.md from warmline-load, scenarios.jsonl from these scripts).
# Scenarios (bench/README.md "Load scenarios"): 1 AI streaming at LOAD_CALLS, 2 + 4 SIPp setup ramps
# (warmline without agent, with agent, Kamailio), 3 rtpengine relaying the same RTP, 5 io_uring vs epoll.
set -euo pipefail
cd "$(dirname "$0")/../../.."
LOAD_BUILD=${LOAD_BUILD:-build-load}
LOAD_URING_BUILD=${LOAD_URING_BUILD:-build-load-uring}
LOAD_CALLS=${LOAD_CALLS:-100,500,1000,2000}
LOAD_HOLD_S=${LOAD_HOLD_S:-20}
OUT=${LOAD_OUT:-bench/results}
report=$LOAD_BUILD/load-all-$(date +%Y%m%d-%H%M%S)
mkdir -p "$report"
s=bench/load/scenarios
echo "load-all: load average before: $(cut -d' ' -f1-3 /proc/loadavg); records in $report"

# Each scenario is bounded by its own limits; `timeout` is the outer guard so the whole run ends.
timeout 420 python3 $s/setup_ramp.py --report-dir "$report" --warmline "$LOAD_BUILD/warmline" || echo "load-all: setup ramp: an error (see above)"
timeout 720 python3 $s/ai_streaming.py --report-dir "$report" --calls "$LOAD_CALLS" --hold-s "$LOAD_HOLD_S" \
  --load "$LOAD_BUILD/bench/load/warmline-load" \
  --builds "epoll=$LOAD_BUILD/warmline,uring=$LOAD_URING_BUILD/warmline" || echo "load-all: AI streaming: some run had failed calls or could not start (see the report)"
timeout 300 python3 $s/rtp_relay.py --report-dir "$report" --calls "$LOAD_CALLS" --hold-s "$LOAD_HOLD_S" \
  --load "$LOAD_BUILD/bench/load/warmline-load" || echo "load-all: rtpengine relay: some run had losses or could not start (see the report)"

echo "load-all: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 $s/report.py --report-dir "$report" --out "$OUT" --calls "$LOAD_CALLS"
for f in results.jsonl results.md scenarios.jsonl; do
  [ -f "$report/$f" ] && cp "$report/$f" "$OUT/$f"
done
echo "load-all: report in $OUT/REPORT.md"
