#!/usr/bin/env bash
# Cross-builds kws for 64-bit ARM Linux (Raspberry Pi OS 64-bit / Debian arm64) on a Debian 12
# x86-64 machine and runs the whole test suite under qemu-aarch64 (user-mode emulation).
#   bash tools/cross/aarch64.sh            # installs what it needs (sudo), builds build-arm64/, runs ctest
#   bash tools/cross/aarch64.sh --no-test  # build only; copy build-arm64/kws to the Pi
# The arm64 libraries come from Debian's multiarch packages (dpkg --add-architecture arm64); the
# build machine's own packages are untouched. On a Pi itself, use ./setup.sh as on any machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN_TESTS=1
[ "${1:-}" = "--no-test" ] && RUN_TESTS=0

PKGS=(qemu-user g++-aarch64-linux-gnu flatbuffers-compiler libeigen3-dev libcli11-dev nlohmann-json3-dev
  libsndfile1-dev:arm64 libsoxr-dev:arm64 libfftw3-dev:arm64 libkissfft-dev:arm64 libzip-dev:arm64
  zlib1g-dev:arm64 libpng-dev:arm64 libssl-dev:arm64 libasound2-dev:arm64 libflatbuffers-dev:arm64
  libtomlplusplus-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64)
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO dpkg --add-architecture arm64  # apt_install.sh updates the package lists before installing
fi
bash tools/apt_install.sh aarch64.sh "${PKGS[@]}"

GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
cmake -S . -B build-arm64 "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=tools/cross/aarch64-linux-gnu.cmake -DKWS_BUILD_BENCH=OFF
cmake --build build-arm64 -j"$(nproc)"
file build-arm64/kws
if [ "$RUN_TESTS" = 1 ]; then
  ctest --test-dir build-arm64 -j"$(nproc)" --timeout 900 --output-on-failure
fi
