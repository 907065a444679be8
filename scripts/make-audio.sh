#!/usr/bin/env bash
# Builds the audio warmline ships in conf/audio: the hold music (generated, see make-hold-music.py) and
# the default prompts spoken by espeak-ng (installed by install-deps.sh). Nothing is downloaded.
# Usage: scripts/make-audio.sh [OUT_DIR]   (default conf/audio)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../conf/audio}"
mkdir -p "$out"

python3 "$here/make-hold-music.py" "$out/hold-music.wav"

# Default prompts (the text must stay in step with media/prompts.hpp). espeak-ng writes 22.05 kHz; sox
# converts to 16 kHz mono 16-bit, which the clip loader resamples to the engine rate at load.
prompt() {
  local name="$1" text="$2" tmp
  tmp="$(mktemp --suffix=.wav)"
  espeak-ng -v en-us -s 160 -w "$tmp" "$text"
  sox "$tmp" -r 16000 -c 1 -b 16 "$out/$name.wav"
  rm -f "$tmp"
}
prompt please-hold "Please hold while I transfer your call."
prompt fallback "Sorry, I could not connect you. Please try again later."
