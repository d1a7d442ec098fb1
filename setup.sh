#!/usr/bin/env bash
# kws set-up: installs every system dependency from Debian packages (and the
# npm test-only reference loaders), then builds a Release tree in build/.
# Non-interactive and idempotent: when everything is present it only rebuilds.
#
#   ./setup.sh            # dependencies + build/kws
#   ./setup.sh --bench    # also the benchmark references (PyTorch, torchaudio, ONNX Runtime)
set -euo pipefail
cd "$(dirname "$0")"

WITH_BENCH=0
for a in "$@"; do
  case "$a" in
    --bench) WITH_BENCH=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 1 ;;
  esac
done

# Build and runtime dependencies (why each: see README "Dependencies").
PKGS=(
  build-essential cmake ninja-build pkg-config git
  libeigen3-dev libsndfile1-dev libsoxr-dev libkissfft-dev libfftw3-dev
  flatbuffers-compiler libflatbuffers-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  libzip-dev zlib1g-dev libpng-dev libssl-dev libasound2-dev
  # kws search --broker / kws worker (Redis client); redis-server only for the distributed-search tests
  libhiredis-dev redis-server
  libgtest-dev libgmock-dev libbenchmark-dev
  # text-to-speech for `kws data synth` (run as external programs)
  espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts sox
  # test-only references: NumPy feature reference, Arm NN .tflite loader, clang for fuzzing
  python3 python3-numpy libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22
  clang libclang-rt-14-dev
)
# Node.js + npm (for the official TFLite wasm interpreter used in tests): the machine image may
# already ship them from another repository (nodesource's nodejs bundles npm), so only ask
# Debian for them when the commands are missing.
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)
if [ "$WITH_BENCH" = 1 ]; then
  PKGS+=(python3-torch python3-torchaudio)
fi

bash tools/apt_install.sh setup.sh "${PKGS[@]}"

# npm references for tests (official TFLite interpreter as WebAssembly) and benchmarks.
if [ -f tools/js/package.json ]; then
  if [ ! -d tools/js/node_modules ] || [ tools/js/package.json -nt tools/js/node_modules ]; then
    echo "setup.sh: installing npm test references in tools/js"
    (cd tools/js && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent)
    touch tools/js/node_modules
  fi
fi

GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j"$(nproc)"
echo "setup.sh: built $(pwd)/build/kws"
