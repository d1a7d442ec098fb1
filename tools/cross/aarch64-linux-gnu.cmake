# Cross-compiling kws for 64-bit ARM Linux (Raspberry Pi OS 64-bit, Debian arm64) on a Debian
# x86-64 machine with multiarch arm64 libraries; tools/cross/aarch64.sh installs them, builds,
# and runs the test suites under qemu-aarch64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Test discovery (gtest_discover_tests) and ctest run the arm64 binaries through qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64)  # absolute: some tests run kws with a bare PATH
# Programs (flatc) come from the build machine; libraries and pkg-config files from the arm64 multiarch dirs.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
