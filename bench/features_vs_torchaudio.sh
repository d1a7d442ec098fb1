#!/bin/sh
# Feature speed (issue 2): kws (bench_features) vs torchaudio MelSpectrogram, interleaved in one run;
# prints kws us/clip, torchaudio us/clip, their ratio, the FFT-only time, log-mel/FFT, and the whole
# shared pool on 2 threads.
#   bench/features_vs_torchaudio.sh [BUILD_DIR] [--rounds N] [--reps N] [--no-pool]   (default: build)
# Needs /usr/bin/python3 with torch + torchaudio (a dev-machine tool, not CI).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
case "$1" in ""|-*) ;; *) build=$1; shift ;; esac
[ -x "$build/bench_features" ] || { echo "no $build/bench_features (build the bench_features target)" >&2; exit 2; }
exec /usr/bin/python3 "$here/features_vs_torchaudio.py" "$build/bench_features" "$@"
