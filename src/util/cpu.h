// The one CPU-feature probe of kws, and how every optimised path asks it.
//
//   if (kws::cpu::Active() >= kws::cpu::Isa::kAvx512) { ... AVX-512 kernel ... } else { ... plain ... }
//
// Detected() is what the processor runs (probed once with the compiler's cpuid helpers); Max() is a cap
// that tests and `KWS_FORCE_PORTABLE=1` (read at start-up) lower to kPlain, so every optimised path —
// features, training layers, the fused training step and the runtime kernels — falls back to its plain
// C++ loop; Active() = min(Detected(), Max()). SetMax() is not synchronised with running kernels: set it
// before computing.
//
// Loops written once in plain C++ that the compiler vectorises get an AVX2 + FMA (x86-64-v3) copy:
//
//   KWS_VARIANT_BODY void ScaleBody(float* x, int n) { for (...) ... }
//   KWS_AVX2_VARIANTS(void, Scale, (float* x, int n), (x, n))   // Scale(x, n) picks the copy at run time
//
// On other processors (aarch64: NEON is baseline there) Scale is the plain function.
#pragma once

namespace kws::cpu {

enum class Isa { kPlain = 0, kAvx2 = 1, kAvx512 = 2 };  // AVX2 includes FMA; AVX-512 = F, BW, VL, DQ

Isa Detected();
bool DetectedVnni();  // AVX-512 VNNI present
Isa Max();
void SetMax(Isa isa);
Isa Active();
inline bool UseAvx2() { return Active() >= Isa::kAvx2; }
inline bool UseAvx512() { return Active() >= Isa::kAvx512; }
inline bool UseVnni() { return UseAvx512() && DetectedVnni(); }
const char* IsaName(Isa isa);  // "plain", "avx2", "avx512"

}  // namespace kws::cpu

#define KWS_VARIANT_BODY [[gnu::always_inline]] inline

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KWS_AVX2_VARIANTS(ret, name, params, args)                                       \
  [[gnu::target("arch=x86-64-v3")]] ret name##Avx2 params { return name##Body args; } \
  ret name##Plain params { return name##Body args; }                                     \
  ret name params { return ::kws::cpu::UseAvx2() ? name##Avx2 args : name##Plain args; }
#else
#define KWS_AVX2_VARIANTS(ret, name, params, args) \
  ret name params { return name##Body args; }
#endif
