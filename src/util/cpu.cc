#include "util/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace kws::cpu {
namespace {

Isa Probe() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kPlain;
}

bool ProbeVnni() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

std::atomic<int>& MaxFlag() {
  static std::atomic<int> flag{[] {
    const char* e = std::getenv("KWS_FORCE_PORTABLE");
    return (e && *e && std::strcmp(e, "0") != 0) ? int(Isa::kPlain) : int(Isa::kAvx512);
  }()};
  return flag;
}

}  // namespace

Isa Detected() {
  static const Isa isa = Probe();
  return isa;
}

bool DetectedVnni() {
  static const bool vnni = ProbeVnni();
  return vnni;
}

Isa Max() { return Isa(MaxFlag().load(std::memory_order_relaxed)); }
void SetMax(Isa isa) { MaxFlag().store(int(isa)); }
Isa Active() {
  const Isa d = Detected(), m = Max();
  return int(d) < int(m) ? d : m;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kPlain: return "plain";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

}  // namespace kws::cpu
