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

[[gnu::always_inline]] inline int8_t Apply(const Requant r, int32_t x) {
  const int32_t shifted = int32_t(uint32_t(x) << r.left);
  // The low 32 bits of an arithmetic and of a logical shift are the same: the logical one vectorizes (AVX2
  // has no 64-bit arithmetic shift).
  const int32_t h = int32_t(uint64_t(int64_t(shifted) * r.q + (int64_t(1) << 30)) >> 31);
  const int32_t threshold = r.half - (h >> 31);  // + 1 when h < 0
  const int32_t v = (h >> r.right) + ((h & r.mask) > threshold ? 1 : 0);
  return int8_t(std::clamp(v, r.lo, r.hi) + r.offset);
}

// Calls run(n, x1 offset, s1, x2 offset, s2, y offset) for each run of the innermost dimension; when both
// inputs are whole (no broadcast) the tensor is one run.
template <typename Run>
[[gnu::always_inline]] inline void ForEachRun(const ref::Broadcast4& b, Run&& run) {
  bool whole = true;
  for (int d = 0; d < 4; ++d) whole = whole && (b.out[d] == 1 || (b.stride1[d] != 0 && b.stride2[d] != 0));
  if (whole) {
    run(int(b.size()), int64_t(0), 1, int64_t(0), 1, int64_t(0));
    return;
  }
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

// Whole ops in two passes over chunks of the output: the int32 values before requantization (table lookups,
// products) run by run, then the requantization over the contiguous chunk, which the compiler vectorizes.
// Runs are short (BC-ResNet's innermost dimension is 8-20 channels), so requantizing run by run would leave
// the vector unit idle; each ISA's copy holds the whole loop (no dispatch per run).
constexpr int kChunk = 1024;

template <typename Value>
[[gnu::always_inline]] inline void TwoPass(const ref::Broadcast4& b, const Requant& r, int8_t* __restrict__ y,
                                           Value&& value) {
  int32_t buf[kChunk];
  int fill = 0;
  int64_t done = 0;
  auto flush = [&] {
    for (int j = 0; j < fill; ++j) y[done + j] = Apply(r, buf[j]);
    done += fill;
    fill = 0;
  };
  ForEachRun(b, [&](int n, int64_t i1, int s1, int64_t i2, int s2, int64_t) {
    for (int k = 0; k < n;) {
      const int m = std::min(n - k, kChunk - fill);
      value(buf + fill, m, i1 + int64_t(k) * s1, s1, i2 + int64_t(k) * s2, s2);
      fill += m;
      k += m;
      if (fill == kChunk) flush();
    }
  });
  flush();
}

KWS_VARIANT_BODY void AddAllBody(const ref::Broadcast4* b, const AddInt8Tables* t, const int8_t* x1, const int8_t* x2,
                                 const Requant* r, int8_t* y) {
  TwoPass(*b, *r, y, [&](int32_t* __restrict__ out, int m, int64_t i1, int s1, int64_t i2, int s2) {
    for (int i = 0; i < m; ++i) out[i] = t->in1[x1[i1 + i * s1] + 128] + t->in2[x2[i2 + i * s2] + 128];
  });
}
KWS_AVX2_VARIANTS(void, AddAll,
                  (const ref::Broadcast4* b, const AddInt8Tables* t, const int8_t* x1, const int8_t* x2,
                   const Requant* r, int8_t* y),
                  (b, t, x1, x2, r, y))

KWS_VARIANT_BODY void MulAllBody(const ref::Broadcast4* b, int32_t o1, int32_t o2, const int8_t* x1, const int8_t* x2,
                                 const Requant* r, int8_t* y) {
  TwoPass(*b, *r, y, [&](int32_t* __restrict__ out, int m, int64_t i1, int s1, int64_t i2, int s2) {
    for (int i = 0; i < m; ++i) out[i] = (o1 + x1[i1 + i * s1]) * (o2 + x2[i2 + i * s2]);
  });
}
KWS_AVX2_VARIANTS(void, MulAll,
                  (const ref::Broadcast4* b, int32_t o1, int32_t o2, const int8_t* x1, const int8_t* x2,
                   const Requant* r, int8_t* y),
                  (b, o1, o2, x1, x2, r, y))

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
  AddAll(&b, &t, x1, x2, &r, y);
}

void MulInt8(const ref::Broadcast4& b, const ref::MulInt8Params& p, const int8_t* x1, const int8_t* x2, int8_t* y) {
  const Requant r(p.multiplier, p.shift, p.output_offset, p.act_min, p.act_max);
  MulAll(&b, p.input1_offset, p.input2_offset, x1, x2, &r, y);
}

}  // namespace kws::rt::opt
