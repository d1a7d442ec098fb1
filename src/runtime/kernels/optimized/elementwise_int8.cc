#include "runtime/kernels/optimized/elementwise_int8.h"

#include <algorithm>

#include "runtime/kernels/fixed_point.h"
#include "util/cpu.h"

namespace kws::rt::opt {
namespace {

static_assert(kDefaultRounding == Rounding::kDouble, "Apply below is the double rounding");

// MultiplyByQuantizedMultiplier (double rounding, fixed_point.h) + offset + clamp, without branches.
// SaturatingRoundingDoublingHighMul's nudge is +2^30 for ab >= 0 and 1 - 2^30 for ab < 0 with a division
// that truncates toward zero: both are floor((ab + 2^30) / 2^31). Its one saturating case needs a
// multiplier of INT32_MIN, which QuantizeMultiplier never makes.
struct Requant {
  int32_t q;
  int left, right;
  int32_t mask, half;  // RoundingDivideByPOT's mask and mask >> 1
  int32_t lo, hi;      // the activation range minus the output offset
  int32_t offset;
  Requant(int32_t multiplier, int shift, int32_t output_offset, int32_t act_min, int32_t act_max)
      : q(multiplier),
        left(shift > 0 ? shift : 0),
        right(shift > 0 ? 0 : -shift),
        mask(int32_t((int64_t(1) << right) - 1)),
        half(mask >> 1),
        lo(act_min - output_offset),
        hi(act_max - output_offset),
        offset(output_offset) {}
};

[[gnu::always_inline]] inline int8_t Apply(const Requant& r, int32_t x) {
  const int32_t shifted = int32_t(uint32_t(x) << r.left);
  const int32_t h = int32_t((int64_t(shifted) * r.q + (int64_t(1) << 30)) >> 31);
  const int32_t threshold = r.half - (h >> 31);  // + 1 when h < 0
  const int32_t v = (h >> r.right) + ((h & r.mask) > threshold ? 1 : 0);
  return int8_t(std::clamp(v, r.lo, r.hi) + r.offset);
}

// One run of n outputs; input i advances by s_i (0: broadcast, 1: contiguous).
KWS_VARIANT_BODY void AddRunBody(int n, const int32_t* t1, const int8_t* x1, int s1, const int32_t* t2,
                                 const int8_t* x2, int s2, const Requant* r, int8_t* y) {
  if (s1 == 1 && s2 == 1) {
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, t1[x1[i] + 128] + t2[x2[i] + 128]);
  } else if (s1 == 1 && s2 == 0) {
    const int32_t c = t2[x2[0] + 128];
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, t1[x1[i] + 128] + c);
  } else if (s1 == 0 && s2 == 1) {
    const int32_t c = t1[x1[0] + 128];
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, c + t2[x2[i] + 128]);
  } else {
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, t1[x1[i * s1] + 128] + t2[x2[i * s2] + 128]);
  }
}
KWS_AVX2_VARIANTS(void, AddRun,
                  (int n, const int32_t* t1, const int8_t* x1, int s1, const int32_t* t2, const int8_t* x2, int s2,
                   const Requant* r, int8_t* y),
                  (n, t1, x1, s1, t2, x2, s2, r, y))

KWS_VARIANT_BODY void MulRunBody(int n, int32_t o1, const int8_t* x1, int s1, int32_t o2, const int8_t* x2, int s2,
                                 const Requant* r, int8_t* y) {
  if (s1 == 1 && s2 == 1) {
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, (o1 + x1[i]) * (o2 + x2[i]));
  } else if (s1 == 1 && s2 == 0) {
    const int32_t c = o2 + x2[0];
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, (o1 + x1[i]) * c);
  } else if (s1 == 0 && s2 == 1) {
    const int32_t c = o1 + x1[0];
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, c * (o2 + x2[i]));
  } else {
    for (int i = 0; i < n; ++i) y[i] = Apply(*r, (o1 + x1[i * s1]) * (o2 + x2[i * s2]));
  }
}
KWS_AVX2_VARIANTS(void, MulRun,
                  (int n, int32_t o1, const int8_t* x1, int s1, int32_t o2, const int8_t* x2, int s2, const Requant* r,
                   int8_t* y),
                  (n, o1, x1, s1, o2, x2, s2, r, y))

// Calls run(n, x1 offset, s1, x2 offset, s2, y offset) for each run of the innermost dimension.
template <typename Run>
void ForEachRun(const ref::Broadcast4& b, Run&& run) {
  int64_t o = 0;
  for (int i0 = 0; i0 < b.out[0]; ++i0)
    for (int i1 = 0; i1 < b.out[1]; ++i1)
      for (int i2 = 0; i2 < b.out[2]; ++i2) {
        const int64_t base1 = i0 * b.stride1[0] + i1 * b.stride1[1] + i2 * b.stride1[2];
        const int64_t base2 = i0 * b.stride2[0] + i1 * b.stride2[1] + i2 * b.stride2[2];
        run(b.out[3], base1, int(b.stride1[3]), base2, int(b.stride2[3]), o);
        o += b.out[3];
      }
}

}  // namespace

void PrepareAddInt8Tables(const ref::AddInt8Params& p, AddInt8Tables* t) {
  for (int v = -128; v < 128; ++v) {
    t->in1[v + 128] =
        MultiplyByQuantizedMultiplier((p.input1_offset + v) * (1 << p.left_shift), p.input1_multiplier, p.input1_shift);
    const int32_t c =
        MultiplyByQuantizedMultiplier((p.input2_offset + v) * (1 << p.left_shift), p.input2_multiplier, p.input2_shift);
    t->in2[v + 128] = p.subtract ? -c : c;
  }
}

void AddInt8(const ref::Broadcast4& b, const ref::AddInt8Params& p, const AddInt8Tables& t, const int8_t* x1,
             const int8_t* x2, int8_t* y) {
  const Requant r(p.output_multiplier, p.output_shift, p.output_offset, p.act_min, p.act_max);
  ForEachRun(b, [&](int n, int64_t i1, int s1, int64_t i2, int s2, int64_t o) {
    AddRun(n, t.in1, x1 + i1, s1, t.in2, x2 + i2, s2, &r, y + o);
  });
}

void MulInt8(const ref::Broadcast4& b, const ref::MulInt8Params& p, const int8_t* x1, const int8_t* x2, int8_t* y) {
  const Requant r(p.multiplier, p.shift, p.output_offset, p.act_min, p.act_max);
  ForEachRun(b, [&](int n, int64_t i1, int s1, int64_t i2, int s2, int64_t o) {
    MulRun(n, p.input1_offset, x1 + i1, s1, p.input2_offset, x2 + i2, s2, &r, y + o);
  });
}

}  // namespace kws::rt::opt
