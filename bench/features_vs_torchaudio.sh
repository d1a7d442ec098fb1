#!/bin/sh
# Feature speed: kws (bench_features) vs torchaudio MelSpectrogram in one run.
#   bench/features_vs_torchaudio.sh [BUILD_DIR]      (default: build)
# Needs /usr/bin/python3 with torch + torchaudio (a dev-machine tool, not CI).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
[ -x "$build/bench_features" ] || { echo "no $build/bench_features (build the bench_features target)" >&2; exit 2; }
exec /usr/bin/python3 "$here/features_vs_torchaudio.py" "$build/bench_features"
