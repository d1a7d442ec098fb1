#!/usr/bin/env bash
# Soak test for `kws listen` (run by hand, not in CTest): pipes a synthetic
# one-hour s16le 16 kHz stream (noise at about -40 dBFS, so the VAD keeps the model
# running on every hop, plus a 500 Hz burst every 7 s) into `kws listen` on stdin
# and reports peak memory at the start and at the end, and VmRSS every 10
# minutes of audio (it must not grow).
#
#   bench/soak_listen.sh [MODEL.tflite] [MINUTES]     (default: seed-shaped model, 60 min)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${KWS_BUILD:-$here/build}
minutes=${2:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=${1:-}
if [[ -z "$model" ]]; then
  model=$tmp/seed.tflite
  "$build/bench_stream" --write-model="$model"
fi
mkfifo "$tmp/pcm"
/usr/bin/python3 - "$minutes" > "$tmp/pcm" <<'PY' &
import sys, numpy as np
minutes = float(sys.argv[1])
rng = np.random.default_rng(1)
out = sys.stdout.buffer
t = np.arange(16000) / 16000.0
for s in range(int(minutes * 60)):
    x = 0.01 * rng.standard_normal(16000)
    if s % 7 == 3:
        x[3200:12800] += 0.3 * np.sin(2 * np.pi * 500 * t[3200:12800])
    try:
        out.write((np.clip(x, -1, 1) * 32767).astype('<i2').tobytes())
    except BrokenPipeError:
        break
PY
gen=$!
start=$(date +%s.%N)
"$build/kws" listen --model "$model" --json < "$tmp/pcm" > "$tmp/detections.jsonl" 2> "$tmp/summary.txt" &
pid=$!
: > "$tmp/rss.txt"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || true)
  [[ -n "$rss" ]] && echo "$(date +%s) $rss" >> "$tmp/rss.txt"
  sleep 5
done
wait "$pid"
rc=$?
wait "$gen" || true
end=$(date +%s.%N)
echo "exit code: $rc"
echo "wall: $(echo "$end - $start" | bc) s for $minutes min of audio (limited by the generator and the pipe)"
echo "detections: $(wc -l < "$tmp/detections.jsonl")"
echo "VmRSS samples (KB): first $(head -1 "$tmp/rss.txt" | cut -d' ' -f2), min $(cut -d' ' -f2 "$tmp/rss.txt" | sort -n | head -1), max $(cut -d' ' -f2 "$tmp/rss.txt" | sort -n | tail -1), last $(tail -1 "$tmp/rss.txt" | cut -d' ' -f2) ($(wc -l < "$tmp/rss.txt") samples)"
echo "summary: $(tail -1 "$tmp/summary.txt")"
