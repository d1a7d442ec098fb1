// Compile-time CPU helpers shared by the vectorised loops.
//
//   KWS_CLONES_AVX2 void Loop(const float* x, float* y, int n) { ... plain C++ ... }
//
// On x86-64 (GCC/clang) the function is compiled twice, for the baseline and for x86-64-v3
// (AVX2 + FMA), and the loader picks the clone the CPU supports (gnu::target_clones). Elsewhere
// (aarch64: NEON is baseline there) it is one ordinary function.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KWS_CLONES_AVX2 [[gnu::target_clones("arch=x86-64-v3", "default")]]
#else
#define KWS_CLONES_AVX2
#endif
