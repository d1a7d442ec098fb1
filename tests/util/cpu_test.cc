// util/cpu.h: the one CPU probe and its cap (KWS_FORCE_PORTABLE, tests).
#include "util/cpu.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace {

struct CapGuard {
  kws::cpu::Isa saved = kws::cpu::Max();
  ~CapGuard() { kws::cpu::SetMax(saved); }
};

TEST(Cpu, CapLowersWhatIsActive) {
  CapGuard guard;
  kws::cpu::SetMax(kws::cpu::Isa::kAvx512);
  EXPECT_EQ(kws::cpu::Active(), kws::cpu::Detected());
  kws::cpu::SetMax(kws::cpu::Isa::kPlain);
  EXPECT_EQ(kws::cpu::Active(), kws::cpu::Isa::kPlain);
  EXPECT_FALSE(kws::cpu::UseAvx2());
  EXPECT_FALSE(kws::cpu::UseAvx512());
  EXPECT_FALSE(kws::cpu::UseVnni());
  kws::cpu::SetMax(kws::cpu::Isa::kAvx2);
  EXPECT_EQ(kws::cpu::UseAvx2(), kws::cpu::Detected() >= kws::cpu::Isa::kAvx2);
  EXPECT_FALSE(kws::cpu::UseAvx512());
  EXPECT_STREQ(kws::cpu::IsaName(kws::cpu::Isa::kAvx2), "avx2");
}

// The environment variable is read once, at the first question: a test binary started with
// KWS_FORCE_PORTABLE=1 (as the portable CI run does) sees the plain path everywhere.
TEST(Cpu, ForcePortableFromTheEnvironment) {
  const char* e = std::getenv("KWS_FORCE_PORTABLE");
  if (!(e && *e && std::string(e) != "0")) GTEST_SKIP() << "run with KWS_FORCE_PORTABLE=1 to check it";
  EXPECT_EQ(kws::cpu::Active(), kws::cpu::Isa::kPlain);
}

}  // namespace
