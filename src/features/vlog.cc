#include "features/vlog.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>

#include "util/cpu.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace kws {
namespace {

typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

// log of 4 doubles; lanes that are not positive normal finite numbers are
// recomputed with std::log by the caller (flagged in `bad`).
inline void Log4(const v4d& y, v4d& out, v4i& bad) {
  v4i bits;
  std::memcpy(&bits, &y, 32);
  const v4i expo = (bits >> 52) & 0x7ff;  // biased exponent
  bad = (bits < 0) | (expo == 0) | (expo == 0x7ff);
  // m in [1, 2)
  v4i mbits = (bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL;
  v4d m;
  std::memcpy(&m, &mbits, 32);
  // m > sqrt(2): use m/2 and e+1, so m is in [sqrt(1/2), sqrt(2))
  const v4i big = m > std::numbers::sqrt2;  // -1 where true
  const v4d one = {1.0, 1.0, 1.0, 1.0};
  v4d scale;
  const v4i sbits = (big & 0x3fe0000000000000LL) | (~big & 0x3ff0000000000000LL);  // 0.5 or 1.0
  std::memcpy(&scale, &sbits, 32);
  m *= scale;
  // e as a double: (expo - 1023 - big) via the 2^52 trick (no int64 -> double in AVX2)
  const v4i ebits = (expo - big) | 0x4330000000000000LL;  // big is -1 where true: expo + 1
  v4d e;
  std::memcpy(&e, &ebits, 32);
  const v4d two52 = {4503599627370496.0, 4503599627370496.0, 4503599627370496.0, 4503599627370496.0};
  e = e - two52 - 1023.0;
  const v4d s = (m - one) / (m + one), z = s * s;
  const v4d p = one + z * (1.0 / 3 + z * (1.0 / 5 + z * (1.0 / 7 + z * (1.0 / 9 + z * (1.0 / 11)))));
  out = e * std::numbers::ln2 + 2.0 * s * p;
}

KWS_VARIANT_BODY void LogOffsetImplBody(const float* x, double offset, float* out, int n) {
  const v4d off = {offset, offset, offset, offset};
  int i = 0;
  auto step = [&](const float* src, float* dst) {
    v4f xf;
    std::memcpy(&xf, src, 16);
    const v4d y = __builtin_convertvector(xf, v4d) + off;
    v4i bad;
    v4d r;
    Log4(y, r, bad);
    if (bad[0] | bad[1] | bad[2] | bad[3])
      for (int l = 0; l < 4; ++l)
        if (bad[l]) r[l] = std::log(y[l]);
    const v4f rf = __builtin_convertvector(r, v4f);
    std::memcpy(dst, &rf, 16);
  };
  for (; i + 4 <= n; i += 4) step(x + i, out + i);
  if (i < n) {
    float in4[4] = {1.0f, 1.0f, 1.0f, 1.0f}, out4[4];
    for (int j = i; j < n; ++j) in4[j - i] = x[j];
    step(in4, out4);
    for (int j = i; j < n; ++j) out[j] = out4[j - i];
  }
}
KWS_AVX2_VARIANTS(void, LogOffsetImpl, (const float* x, double offset, float* out, int n), (x, offset, out, n))

}  // namespace

void LogOffset(const float* x, double offset, float* out, int n) { LogOffsetImpl(x, offset, out, n); }

}  // namespace kws
