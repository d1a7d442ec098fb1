// Deterministic, portable random numbers (xoshiro256** seeded by splitmix64).
// std::*_distribution differ between standard libraries, so kws draws its own:
// the same seed gives the same numbers on every platform and compiler.
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace kws {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Seed(seed); }
  void Seed(uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // [0, 1)
  double Uniform() { return double(Next() >> 11) * (1.0 / 9007199254740992.0); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // [0, n)
  uint64_t Below(uint64_t n) { return n ? Next() % n : 0; }
  double Normal() {  // Box-Muller, one value per call (no cached state: simpler to reason about)
    double u1 = Uniform(), u2 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  void Shuffle(std::vector<T>& v) {  // Fisher-Yates
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[Below(i)]);
  }
  // An independent stream derived from this one's seed and a tag (e.g. epoch, clip index).
  static Rng Derive(uint64_t seed, uint64_t tag) { return Rng(seed * 0x100000001B3ull ^ (tag + 0x51ED27ull)); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace kws
