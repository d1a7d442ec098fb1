// Runtime kernels: fixed-point helpers against known values, tiny
// hand-computed cases per op, optimized kernels against the reference ones.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "runtime/kernels/optimized/elementwise_int8.h"
#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/reference/conv.h"
#include "runtime/kernels/reference/depthwise_conv.h"
#include "runtime/kernels/reference/fully_connected.h"
#include "runtime/kernels/reference/mean.h"
#include "runtime/kernels/reference/pooling.h"
#include "runtime/kernels/reference/quantize.h"
#include "runtime/kernels/reference/softmax.h"
#include "util/cpu.h"
#include "util/rng.h"

using namespace kws::rt;

namespace {

// ---- fixed point ------------------------------------------------------------

TEST(FixedPoint, QuantizeMultiplierKnownValues) {
  int32_t q;
  int s;
  QuantizeMultiplier(0.5, &q, &s);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(s, 0);
  QuantizeMultiplier(1.0, &q, &s);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(s, 1);
  QuantizeMultiplier(0.25, &q, &s);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(s, -1);
  QuantizeMultiplier(0.75, &q, &s);
  EXPECT_EQ(q, 1610612736);
  EXPECT_EQ(s, 0);
  QuantizeMultiplier(0.0, &q, &s);
  EXPECT_EQ(q, 0);
  EXPECT_EQ(s, 0);
  // frac rounds up to 1.0 → halved, exponent + 1.
  QuantizeMultiplier(1.0 - 1e-12, &q, &s);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(s, 1);
  // Far too small → zero.
  QuantizeMultiplier(1e-12, &q, &s);
  EXPECT_EQ(q, 0);
}

TEST(FixedPoint, SaturatingRoundingDoublingHighMul) {
  const int32_t mn = std::numeric_limits<int32_t>::min(), mx = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(mn, mn), mx);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(3, 1 << 30), 2);    // 1.5 → 2
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-3, 1 << 30), -1);  // −1.5 → −1 (gemmlowp's nudge, then truncation)
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-5, 1 << 30), -2);  // −2.5 → −2
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-7, 1 << 29), -2);  // −1.75 → −2
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(mx, mx), mx - 1);
}

TEST(FixedPoint, RoundingDivideByPOT) {
  EXPECT_EQ(RoundingDivideByPOT(5, 1), 3);
  EXPECT_EQ(RoundingDivideByPOT(-5, 1), -3);
  EXPECT_EQ(RoundingDivideByPOT(3, 1), 2);
  EXPECT_EQ(RoundingDivideByPOT(-3, 1), -2);
  EXPECT_EQ(RoundingDivideByPOT(4, 2), 1);
  EXPECT_EQ(RoundingDivideByPOT(6, 2), 2);   // 1.5 → 2
  EXPECT_EQ(RoundingDivideByPOT(-6, 2), -2);  // −1.5 → −2
  EXPECT_EQ(RoundingDivideByPOT(-5, 2), -1);  // −1.25 → −1
  EXPECT_EQ(RoundingDivideByPOT(7, 0), 7);
}

TEST(FixedPoint, MultiplyByQuantizedMultiplierBothRoundings) {
  int32_t q;
  int s;
  QuantizeMultiplier(0.5, &q, &s);
  EXPECT_EQ(MultiplyByQuantizedMultiplierDouble(100, q, s), 50);
  EXPECT_EQ(MultiplyByQuantizedMultiplierDouble(3, q, s), 2);
  EXPECT_EQ(MultiplyByQuantizedMultiplierDouble(-3, q, s), -1);
  EXPECT_EQ(MultiplyByQuantizedMultiplierSingle(3, q, s), 2);
  EXPECT_EQ(MultiplyByQuantizedMultiplierSingle(-3, q, s), -1);  // single rounding: ties toward +inf
  QuantizeMultiplier(0.25, &q, &s);  // shift −1: the two roundings differ on −6·0.25 = −1.5
  EXPECT_EQ(MultiplyByQuantizedMultiplierDouble(-6, q, s), -2);  // SRDHM(−6, 2^30) = −3, then −3/2 → −2
  EXPECT_EQ(MultiplyByQuantizedMultiplierSingle(-6, q, s), -1);
  QuantizeMultiplier(3.0, &q, &s);
  EXPECT_EQ(MultiplyByQuantizedMultiplierDouble(7, q, s), 21);
  QuantizeMultiplier(0.001, &q, &s);
  EXPECT_EQ(MultiplyByQuantizedMultiplierDouble(1500, q, s), 2);  // 1.5 → 2
  // Both variants agree within 1 on a sweep, and agree exactly away from ties.
  kws::Rng rng(1);
  for (int i = 0; i < 2000; ++i) {
    const double m = 1e-4 + rng.Uniform() * 2.0;
    QuantizeMultiplier(m, &q, &s);
    const int32_t x = int32_t(rng.Below(2000001)) - 1000000;
    const int32_t a = MultiplyByQuantizedMultiplierDouble(x, q, s), b = MultiplyByQuantizedMultiplierSingle(x, q, s);
    EXPECT_LE(std::abs(a - b), 1);
    EXPECT_NEAR(double(a), double(x) * m, 1.0 + std::fabs(x * m) * 1e-6);
  }
}

TEST(FixedPoint, ActivationRanges) {
  int32_t lo, hi;
  ActivationRangeInt8(Activation::kRelu6, 0.05f, -10, &lo, &hi);
  EXPECT_EQ(lo, -10);
  EXPECT_EQ(hi, 110);
  ActivationRangeInt8(Activation::kRelu, 0.05f, -128, &lo, &hi);
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
  ActivationRangeInt8(Activation::kReluN1To1, 0.1f, 0, &lo, &hi);
  EXPECT_EQ(lo, -10);
  EXPECT_EQ(hi, 10);
}

// ---- CONV_2D ----------------------------------------------------------------

// input 3×3 = 1..9, filter 2×2 = [[1,0],[0,1]]: out(y,x) = in(y,x) + in(y+1,x+1).
struct ConvFixture {
  Shape4 is{1, 3, 3, 1}, fs{1, 2, 2, 1};
  std::vector<float> in{1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> f{1, 0, 0, 1};
};

TEST(Conv, FloatValidSameStrideBiasRelu) {
  ConvFixture c;
  ConvGeometry g;
  FloatAct none;
  std::vector<float> out(9);
  ref::ConvFloat(g, none, c.is, c.in.data(), c.fs, c.f.data(), nullptr, Shape4{1, 2, 2, 1}, out.data());  // VALID
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 4), (std::vector<float>{6, 8, 12, 14}));
  const float bias = 1.0f;
  ref::ConvFloat(g, none, c.is, c.in.data(), c.fs, c.f.data(), &bias, Shape4{1, 2, 2, 1}, out.data());
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 4), (std::vector<float>{7, 9, 13, 15}));
  // SAME, stride 1: total padding 1 → 0 before, 1 after.
  ref::ConvFloat(g, none, c.is, c.in.data(), c.fs, c.f.data(), nullptr, Shape4{1, 3, 3, 1}, out.data());
  EXPECT_EQ(out, (std::vector<float>{6, 8, 3, 12, 14, 6, 7, 8, 9}));
  // SAME, stride 2.
  ConvGeometry g2;
  g2.stride_h = g2.stride_w = 2;
  ref::ConvFloat(g2, none, c.is, c.in.data(), c.fs, c.f.data(), nullptr, Shape4{1, 2, 2, 1}, out.data());
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 4), (std::vector<float>{6, 3, 7, 9}));
  // ReLU clamps a negative filter's output to 0; RELU6 clamps at 6.
  const std::vector<float> neg{-1, 0, 0, 0};
  FloatAct relu{0.0f, 3.4e38f}, relu6{0.0f, 6.0f};
  ref::ConvFloat(g, relu, c.is, c.in.data(), c.fs, neg.data(), nullptr, Shape4{1, 2, 2, 1}, out.data());
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 4), (std::vector<float>{0, 0, 0, 0}));
  ref::ConvFloat(g, relu6, c.is, c.in.data(), c.fs, c.f.data(), nullptr, Shape4{1, 2, 2, 1}, out.data());
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 4), (std::vector<float>{6, 6, 6, 6}));
}

TEST(Conv, Int8PerTensorAndPerChannel) {
  // input 1×1×1×2, q = [3, 5], zero point 1 (real 1.0, 2.0 at scale 0.5).
  const std::vector<int8_t> in{3, 5};
  const Shape4 is{1, 1, 1, 2}, os{1, 1, 1, 2};
  // Two output channels: [2, −1] (scale 0.5) and [1, 1] (scale 0.25); output scale 0.25, zp −3.
  const std::vector<int8_t> f{2, -1, 1, 1};
  const Shape4 fs{2, 1, 1, 2};
  std::vector<int32_t> mult(2);
  std::vector<int> shift(2);
  QuantizeMultiplier(0.5 * 0.5 / 0.25, &mult[0], &shift[0]);   // 1.0
  QuantizeMultiplier(0.5 * 0.25 / 0.25, &mult[1], &shift[1]);  // 0.5
  QuantParams q;
  q.input_offset = -1;
  q.output_offset = -3;
  const std::vector<int32_t> bias{10, 0};
  std::vector<int8_t> out(2);
  ConvGeometry g;
  // ch0: 2·2 − 1·4 + 10 = 10 → ×1 → 10 − 3 = 7.  ch1: 2 + 4 = 6 → ×0.5 → 3 − 3 = 0.
  ref::ConvInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), bias.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{7, 0}));
  // No bias: ch0 0 → −3; ch1 3 − 3 = 0.
  ref::ConvInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), nullptr, os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-3, 0}));
  // Negative accumulator with ReLU (act_min = zero point).
  const std::vector<int32_t> neg_bias{-20, -100};
  q.act_min = -3;
  ref::ConvInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), neg_bias.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-3, -3}));
  q.act_min = -128;
  ref::ConvInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), neg_bias.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-23, -50}));  // ch0: −20 − 3; ch1: (6 − 100)·0.5 = −47 − 3
  // Per-tensor = the same multiplier on every channel.
  QuantizeMultiplier(1.0, &mult[1], &shift[1]);
  ref::ConvInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), bias.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{7, 3}));
  // XNNPACK-style requantization gives the same on exact values.
  const std::vector<float> fp{1.0f, 1.0f};
  q.fp32_scale = fp.data();
  ref::ConvInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), bias.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{7, 3}));
}

TEST(Conv, HybridMatchesFloatClosely) {
  // Per-channel int8 weights, float input quantized asymmetrically.
  const Shape4 is{1, 1, 1, 3}, fs{2, 1, 1, 3}, os{1, 1, 1, 2};
  const std::vector<float> x{0.5f, -1.0f, 2.0f};
  const std::vector<int8_t> w{127, 0, -127, 64, 64, 64};
  const std::vector<float> ws{0.01f, 0.02f};
  const std::vector<float> bias{0.1f, -0.2f};
  std::vector<int8_t> qx(3);
  float sx;
  int32_t zx;
  ref::AsymmetricQuantize(3, x.data(), qx.data(), &sx, &zx);
  std::vector<float> out(2);
  ConvGeometry g;
  FloatAct none;
  ref::ConvHybrid(g, none, is, qx.data(), &sx, &zx, fs, w.data(), ws.data(), bias.data(), os, out.data());
  // Float: ch0 = (0.5 − 2.0)·1.27 + 0.1 = −1.805; ch1 = 1.5·1.28 − 0.2 = 1.72.
  EXPECT_NEAR(out[0], -1.805f, 0.02f);
  EXPECT_NEAR(out[1], 1.72f, 0.02f);
}

// ---- DEPTHWISE_CONV_2D -----------------------------------------------------

TEST(Depthwise, FloatAndInt8DepthMultiplier) {
  ConvGeometry g;
  g.depth_multiplier = 2;
  const Shape4 is{1, 1, 1, 2}, fs{1, 1, 1, 4}, os{1, 1, 1, 4};
  const std::vector<float> in{1, 2}, f{1, 2, 3, 4};
  std::vector<float> out(4);
  ref::DepthwiseFloat(g, FloatAct{}, is, in.data(), fs, f.data(), nullptr, os, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 6, 8}));
  const std::vector<int8_t> qi{1, 2}, qf{1, 2, 3, 4};
  std::vector<int32_t> mult(4);
  std::vector<int> shift(4);
  for (int c = 0; c < 4; ++c) QuantizeMultiplier(1.0, &mult[size_t(c)], &shift[size_t(c)]);
  std::vector<int8_t> qo(4);
  const std::vector<int32_t> bias{0, 0, 1, -1};
  ref::DepthwiseInt8(g, QuantParams{}, mult.data(), shift.data(), is, qi.data(), fs, qf.data(), bias.data(), os,
                     qo.data());
  EXPECT_EQ(qo, (std::vector<int8_t>{1, 2, 7, 7}));
}

// ---- FULLY_CONNECTED ---------------------------------------------------------

TEST(FullyConnected, FloatInt8Hybrid) {
  const std::vector<float> x{1, 2}, w{1, 1, 2, -1}, b{0.5f, 0};
  std::vector<float> y(2);
  ref::FullyConnectedFloat(FloatAct{}, 1, 2, 2, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{3.5f, 0.0f}));
  ref::FullyConnectedFloat(FloatAct{}, 1, 2, 2, x.data(), w.data(), nullptr, y.data());
  EXPECT_EQ(y, (std::vector<float>{3.0f, 0.0f}));
  // int8 with a weight offset and input offset: (w−0)(x+1).
  const std::vector<int8_t> qx{1, 2}, qw{1, 1, 2, -1};
  int32_t m;
  int s;
  QuantizeMultiplier(0.5, &m, &s);
  const std::vector<int32_t> mult{m, m};
  const std::vector<int> shift{s, s};
  QuantParams q;
  q.input_offset = 1;
  std::vector<int8_t> qy(2);
  ref::FullyConnectedInt8(q, mult.data(), shift.data(), 1, 2, 2, qx.data(), qw.data(), nullptr, qy.data());
  EXPECT_EQ(qy, (std::vector<int8_t>{3, 1}));  // (2+3)·0.5 = 2.5 → 3; (4−3)·0.5 = 0.5 → 1
  // Hybrid (symmetric input) close to float.
  std::vector<int8_t> hq(2);
  float hs;
  ref::SymmetricQuantize(2, x.data(), hq.data(), &hs);
  const std::vector<int8_t> w8{127, 127, 127, -64};
  const std::vector<float> w8s{1.0f / 127, 2.0f / 127};
  const int32_t zp0 = 0;
  ref::FullyConnectedHybrid(FloatAct{}, 1, 2, 2, hq.data(), &hs, &zp0, w8.data(), w8s.data(), b.data(), y.data());
  EXPECT_NEAR(y[0], 3.5f, 0.02f);
  EXPECT_NEAR(y[1], 0.0f, 0.03f);
}

TEST(Quantize, SymmetricAsymmetricKnownValues) {
  const std::vector<float> x{-1.0f, 0.0f, 0.5f, 1.0f};
  std::vector<int8_t> q(4);
  float s;
  ref::SymmetricQuantize(4, x.data(), q.data(), &s);
  EXPECT_FLOAT_EQ(s, 1.0f / 127);
  EXPECT_EQ(q, (std::vector<int8_t>{-127, 0, 64, 127}));
  int32_t zp;
  const std::vector<float> y{0.0f, 1.0f, 2.55f};
  ref::AsymmetricQuantize(3, y.data(), q.data(), &s, &zp);
  EXPECT_NEAR(s, 0.01f, 1e-7);
  EXPECT_EQ(zp, -128);
  EXPECT_EQ(q[0], -128);
  EXPECT_EQ(q[1], -28);
  EXPECT_EQ(q[2], 127);
  const std::vector<float> zeros{0.0f, 0.0f};
  ref::SymmetricQuantize(2, zeros.data(), q.data(), &s);
  EXPECT_EQ(s, 1.0f);
  // QUANTIZE: round half away from zero (reference) vs half to even (XNNPACK).
  const std::vector<float> ties{0.5f, 1.5f, -0.5f, 2.5f};
  std::vector<int8_t> a(4), b(4);
  ref::QuantizeFloatToInt8(1.0f, 0, 4, ties.data(), a.data());
  ref::QuantizeFloatToInt8HalfEven(1.0f, 0, 4, ties.data(), b.data());
  EXPECT_EQ(a, (std::vector<int8_t>{1, 2, -1, 3}));
  EXPECT_EQ(b, (std::vector<int8_t>{0, 2, 0, 2}));
  std::vector<float> d(2);
  const std::vector<int8_t> dq{-128, 127};
  ref::DequantizeInt8(0.5f, -128, 2, dq.data(), d.data());
  EXPECT_EQ(d, (std::vector<float>{0.0f, 127.5f}));
}

// ---- pooling / mean ---------------------------------------------------------

TEST(Pooling, AverageRoundsHalfAwayFromZeroMaxClamps) {
  const Shape4 is{1, 1, 4, 1}, os{1, 1, 2, 1};
  ConvGeometry g;
  g.stride_w = 2;
  const std::vector<int8_t> in{1, 2, -1, -2};
  std::vector<int8_t> out(2);
  ref::AveragePoolInt8(g, -128, 127, 1, 2, is, in.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{2, -2}));  // 1.5 → 2, −1.5 → −2
  ref::MaxPoolInt8(g, -128, 127, 1, 2, is, in.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{2, -1}));
  ref::MaxPoolInt8(g, 0, 127, 1, 2, is, in.data(), os, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{2, 0}));
  // SAME padding: the average counts only positions inside the input.
  const std::vector<float> f{1, 2, 3, 4};
  std::vector<float> fo(4);
  ConvGeometry g1;
  ref::AveragePoolFloat(g1, FloatAct{}, 1, 2, is, f.data(), Shape4{1, 1, 4, 1}, fo.data());
  EXPECT_EQ(fo, (std::vector<float>{1.5f, 2.5f, 3.5f, 4.0f}));
}

TEST(Mean, FloatAndInt8) {
  const int dims[4] = {1, 2, 2, 2};
  const bool hw[4] = {false, true, true, false};
  const std::vector<float> x{1, 10, 2, 20, 3, 30, 4, 40};
  std::vector<float> y(2);
  ref::MeanFloat(dims, hw, x.data(), y.data());
  EXPECT_EQ(y, (std::vector<float>{2.5f, 25.0f}));
  const bool last[4] = {false, false, false, true};
  std::vector<float> y4(4);
  ref::MeanFloat(dims, last, x.data(), y4.data());
  EXPECT_EQ(y4, (std::vector<float>{5.5f, 11.0f, 16.5f, 22.0f}));
  const std::vector<int8_t> q{1, 10, 2, 20, 3, 30, 4, 41};
  std::vector<int32_t> acc(2);
  std::vector<int8_t> qy(2);
  MeanInt8Params p;
  QuantizeMultiplier(1.0, &p.multiplier, &p.shift);
  p.xnn_scale = 0.25f;
  ref::MeanInt8(p, dims, hw, q.data(), acc.data(), qy.data());
  EXPECT_EQ(qy, (std::vector<int8_t>{3, 25}));  // 2.5 → 3 (half away), 25.25 → 25
  p.mode = MeanInt8Mode::kXnnpack;
  ref::MeanInt8(p, dims, hw, q.data(), acc.data(), qy.data());
  EXPECT_EQ(qy, (std::vector<int8_t>{2, 25}));  // 2.5 → 2 (half to even)
}

// ---- SOFTMAX ----------------------------------------------------------------

TEST(Softmax, Int8WithinOneStepOfFloat) {
  kws::Rng rng(3);
  for (float in_scale : {0.02f, 0.1f, 0.3f}) {
    const int rows = 20, depth = 12;
    std::vector<int8_t> x(size_t(rows * depth));
    for (auto& v : x) v = int8_t(int(rng.Below(256)) - 128);
    std::vector<float> xf(x.size()), yf(x.size());
    for (size_t i = 0; i < x.size(); ++i) xf[i] = float(x[i]) * in_scale;  // zero point 0
    ref::SoftmaxFloat(1.0f, rows, depth, xf.data(), yf.data());
    SoftmaxInt8Params p;
    PrepareSoftmaxFixedPoint(1.0f, in_scale, &p);
    std::vector<float> table(256);
    PrepareSoftmaxTable(1.0f, in_scale, table.data());
    p.table = table.data();
    std::vector<int8_t> a(x.size()), b(x.size());
    ref::SoftmaxInt8FixedPoint(p, rows, depth, x.data(), a.data());
    ref::SoftmaxInt8Table(p, rows, depth, x.data(), b.data());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_NEAR((a[i] + 128) / 256.0, yf[i], 1.0 / 256 + 1e-6) << "fixed point, scale " << in_scale;
      EXPECT_NEAR((b[i] + 128) / 256.0, yf[i], 1.0 / 256 + 1e-6) << "table, scale " << in_scale;
    }
  }
  // Float softmax sums to 1 and is stable for large inputs.
  const std::vector<float> big{1000.0f, 1000.0f};
  std::vector<float> o(2);
  ref::SoftmaxFloat(1.0f, 1, 2, big.data(), o.data());
  EXPECT_FLOAT_EQ(o[0], 0.5f);
}

TEST(Softmax, FixedPointExpKnownValues) {
  // exp(0) = 1 (saturated Q0.31), exp(−1) in Q5.26 input.
  EXPECT_EQ(fp::ExpOnNegativeValues(0), std::numeric_limits<int32_t>::max());
  const double e1 = fp::ExpOnNegativeValues(-(1 << 26)) / 2147483648.0;
  EXPECT_NEAR(e1, std::exp(-1.0), 1e-6);
  const double e = fp::ExpOnNegativeValues(-(5 << 25)) / 2147483648.0;  // −2.5
  EXPECT_NEAR(e, std::exp(-2.5), 1e-6);
  int bits;
  const int32_t r = fp::Reciprocal(3 << 19, 12, &bits);  // 3.0 in Q12.19
  EXPECT_NEAR(r / 2147483648.0 * std::pow(2.0, -bits), 1.0 / 3.0, 1e-6);
}

// ---- optimized vs reference ----------------------------------------------------

struct RandomConv {
  ConvGeometry g;
  Shape4 is, fs, os;
};

RandomConv MakeConv(kws::Rng& rng, bool depthwise) {
  RandomConv c;
  c.is = Shape4{1 + int(rng.Below(2)), 3 + int(rng.Below(12)), 3 + int(rng.Below(12)), 1 + int(rng.Below(20))};
  const int kh = 1 + int(rng.Below(3)), kw = 1 + int(rng.Below(3));
  c.g.stride_h = 1 + int(rng.Below(2));
  c.g.stride_w = 1 + int(rng.Below(2));
  c.g.dilation_h = 1 + int(rng.Below(2));
  c.g.dilation_w = 1;
  const bool same = rng.Below(2);
  auto dim = [&](int in, int k, int s, int d, int* pad) {
    const int eff = (k - 1) * d + 1;
    const int out = same ? (in + s - 1) / s : std::max(1, (in - eff + s) / s);
    *pad = std::max(((out - 1) * s + eff - in) / 2, 0);
    return out;
  };
  const int oh = dim(c.is.h, kh, c.g.stride_h, c.g.dilation_h, &c.g.pad_top);
  const int ow = dim(c.is.w, kw, c.g.stride_w, c.g.dilation_w, &c.g.pad_left);
  if (depthwise) {
    c.g.depth_multiplier = 1 + int(rng.Below(2));
    c.fs = Shape4{1, kh, kw, c.is.c * c.g.depth_multiplier};
    c.os = Shape4{c.is.n, oh, ow, c.fs.c};
  } else {
    const int cout = 1 + int(rng.Below(40));
    c.fs = Shape4{cout, kh, kw, c.is.c};
    c.os = Shape4{c.is.n, oh, ow, cout};
  }
  return c;
}

TEST(Optimized, ConvFloatMatchesReference) {
  kws::Rng rng(7);
  for (int t = 0; t < 60; ++t) {
    RandomConv c = MakeConv(rng, false);
    if (t % 5 == 0) {  // pointwise fast path
      c.fs.h = c.fs.w = 1;
      c.g = ConvGeometry{};
      c.os.h = c.is.h;
      c.os.w = c.is.w;
    }
    std::vector<float> in(size_t(c.is.size())), f(size_t(c.fs.size())), b(size_t(c.os.c));
    for (auto& v : in) v = float(rng.Normal());
    for (auto& v : f) v = float(rng.Normal());
    for (auto& v : b) v = float(rng.Normal());
    std::vector<float> a(size_t(c.os.size())), o(a.size());
    std::vector<float> col(opt::ConvIm2colElements(c.g, c.is, c.fs, c.os) + 1);
    const FloatAct act = t % 2 ? FloatAct{0.0f, 6.0f} : FloatAct{};
    ref::ConvFloat(c.g, act, c.is, in.data(), c.fs, f.data(), b.data(), c.os, a.data());
    opt::ConvFloat(c.g, act, c.is, in.data(), c.fs, f.data(), b.data(), c.os, o.data(), col.data());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], o[i], 1e-4f * (1.0f + std::fabs(a[i]))) << "case " << t;
    // Direct kernel (AVX-512 when available, else its portable fallback) on packed weights.
    std::vector<float> hwio(f.size()), d(a.size());
    opt::PackFilterHWIO(c.fs, f.data(), hwio.data());
    opt::ConvFloatDirect(c.g, act, c.is, in.data(), c.fs, hwio.data(), t % 3 ? b.data() : nullptr, c.os, d.data());
    if (t % 3 == 0)  // without bias: compare against the reference without bias
      ref::ConvFloat(c.g, act, c.is, in.data(), c.fs, f.data(), nullptr, c.os, a.data());
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_NEAR(a[i], d[i], 1e-4f * (1.0f + std::fabs(a[i]))) << "direct, case " << t << " avx512 " << opt::HasAvx512();
  }
}

TEST(Optimized, ConvInt8IdenticalToReference) {
  kws::Rng rng(8);
  for (int t = 0; t < 60; ++t) {
    const RandomConv c = MakeConv(rng, false);
    std::vector<int8_t> in(size_t(c.is.size())), f(size_t(c.fs.size()));
    for (auto& v : in) v = int8_t(int(rng.Below(256)) - 128);
    for (auto& v : f) v = rng.Below(3) == 0 ? 0 : int8_t(int(rng.Below(255)) - 127);  // some pruned zeros
    std::vector<int32_t> b(size_t(c.os.c)), mult(size_t(c.os.c)), sums(size_t(c.os.c), 0);
    std::vector<int> shift(size_t(c.os.c));
    const int64_t k = int64_t(c.fs.h) * c.fs.w * c.fs.c;
    for (int oc = 0; oc < c.os.c; ++oc) {
      b[size_t(oc)] = int32_t(rng.Below(20001)) - 10000;
      QuantizeMultiplier(0.0005 + rng.Uniform() * 0.01, &mult[size_t(oc)], &shift[size_t(oc)]);
      for (int64_t i = 0; i < k; ++i) sums[size_t(oc)] += f[size_t(oc * k + i)];
    }
    QuantParams q;
    q.input_offset = int32_t(rng.Below(256)) - 128;
    q.output_offset = int32_t(rng.Below(256)) - 128;
    q.act_min = t % 2 ? q.output_offset : -128;
    std::vector<int8_t> a(size_t(c.os.size())), o(a.size());
    std::vector<int8_t> col(opt::ConvIm2colElements(c.g, c.is, c.fs, c.os) + 1);
    ref::ConvInt8(c.g, q, mult.data(), shift.data(), c.is, in.data(), c.fs, f.data(), b.data(), c.os, a.data());
    opt::ConvInt8(c.g, q, mult.data(), shift.data(), c.is, in.data(), c.fs, f.data(), sums.data(), b.data(), c.os,
                  o.data(), col.data());
    ASSERT_EQ(a, o) << "case " << t << (opt::HasVnni() ? " (VNNI)" : " (plain)");
  }
}

TEST(Optimized, DepthwiseAndFullyConnectedFloatMatchReference) {
  kws::Rng rng(9);
  for (int t = 0; t < 40; ++t) {
    const RandomConv c = MakeConv(rng, true);
    std::vector<float> in(size_t(c.is.size())), f(size_t(c.fs.size())), b(size_t(c.os.c));
    for (auto& v : in) v = float(rng.Normal());
    for (auto& v : f) v = float(rng.Normal());
    for (auto& v : b) v = float(rng.Normal());
    std::vector<float> a(size_t(c.os.size())), o(a.size());
    ref::DepthwiseFloat(c.g, FloatAct{}, c.is, in.data(), c.fs, f.data(), b.data(), c.os, a.data());
    opt::DepthwiseFloat(c.g, FloatAct{}, c.is, in.data(), c.fs, f.data(), b.data(), c.os, o.data());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], o[i], 1e-4f * (1.0f + std::fabs(a[i]))) << "case " << t;
  }
  for (int t = 0; t < 20; ++t) {
    const int batches = 1 + int(rng.Below(3)), depth = 1 + int(rng.Below(300)), units = 1 + int(rng.Below(20));
    std::vector<float> x(static_cast<size_t>(batches * depth)), w(static_cast<size_t>(units * depth)), b(static_cast<size_t>(units));
    for (auto& v : x) v = float(rng.Normal());
    for (auto& v : w) v = float(rng.Normal());
    for (auto& v : b) v = float(rng.Normal());
    std::vector<float> a(size_t(batches * units)), o(a.size());
    ref::FullyConnectedFloat(FloatAct{}, batches, depth, units, x.data(), w.data(), b.data(), a.data());
    opt::FullyConnectedFloat(FloatAct{}, batches, depth, units, x.data(), w.data(), b.data(), o.data());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], o[i], 1e-4f * (1.0f + std::fabs(a[i])));
  }
}

// int8 ADD/SUB/MUL: the table-and-run kernels against the reference ones, bit for bit, on every broadcast
// pattern BC-ResNet uses ((T,1,C) + (T,F,C), (1,1,C) · (T,F,C), same shapes) and odd ones, random scales
// (output multipliers with left and right shifts), offsets and fused activations, under each ISA.
TEST(Optimized, ElementwiseInt8IdenticalToReference) {
  kws::Rng rng(17);
  const std::vector<std::pair<std::vector<int>, std::vector<int>>> shapes = {
      {{1, 98, 20, 8}, {1, 98, 1, 8}}, {{1, 98, 1, 8}, {1, 98, 20, 8}}, {{1, 1, 1, 12}, {1, 49, 10, 12}},
      {{1, 49, 10, 12}, {1, 49, 10, 12}}, {{3, 1, 5, 1}, {1, 4, 1, 7}}, {{5}, {2, 3, 5}}, {{1}, {1, 9, 3, 2}}};
  const kws::cpu::Isa saved = kws::cpu::Max();  // KWS_FORCE_PORTABLE=1 lowers it: then both runs are plain
  const std::vector<kws::cpu::Isa> isas = {kws::cpu::Isa::kPlain, saved};
  for (const auto& [sa, sb] : shapes)
    for (int trial = 0; trial < 6; ++trial) {
      ref::Broadcast4 b;
      ASSERT_TRUE(ref::MakeBroadcast4(sa, sb, &b));
      auto fill = [&](const std::vector<int>& shape) {
        int64_t n = 1;
        for (int d : shape) n *= d;
        std::vector<int8_t> v(static_cast<size_t>(n), 0);
        for (auto& x : v) x = int8_t(int(rng.Below(256)) - 128);
        return v;
      };
      const std::vector<int8_t> x1 = fill(sa), x2 = fill(sb);
      const float s1 = float(rng.Uniform(0.002, 0.2)), s2 = float(rng.Uniform(0.002, 0.2));
      const float so = float(rng.Uniform(0.0005, 0.5));  // output multipliers above and below 1
      const int32_t z1 = int32_t(rng.Below(256)) - 128, z2 = int32_t(rng.Below(256)) - 128;
      const int32_t zo = int32_t(rng.Below(256)) - 128;
      const Activation act = trial % 3 == 0 ? Activation::kRelu : trial % 3 == 1 ? Activation::kRelu6 : Activation::kNone;
      ref::AddInt8Params ap;
      ref::PrepareAddInt8(s1, s2, so, /*subtract=*/trial % 2 == 1, &ap);
      ap.input1_offset = -z1;
      ap.input2_offset = -z2;
      ap.output_offset = zo;
      ActivationRangeInt8(act, so, zo, &ap.act_min, &ap.act_max);
      ref::MulInt8Params mp;
      QuantizeMultiplier(double(s1) * double(s2) / double(so) * (trial < 3 ? 1.0 : 300.0), &mp.multiplier, &mp.shift);
      mp.input1_offset = -z1;
      mp.input2_offset = -z2;
      mp.output_offset = zo;
      ActivationRangeInt8(act, so, zo, &mp.act_min, &mp.act_max);
      opt::AddInt8Tables tables;
      opt::PrepareAddInt8Tables(ap, &tables);
      std::vector<int8_t> want_add(size_t(b.size())), want_mul(size_t(b.size()));
      ref::AddInt8(b, ap, x1.data(), x2.data(), want_add.data());
      ref::MulInt8(b, mp, x1.data(), x2.data(), want_mul.data());
      for (kws::cpu::Isa isa : isas) {
        kws::cpu::SetMax(isa);
        std::vector<int8_t> got_add(want_add.size(), 0), got_mul(want_mul.size(), 0);
        opt::AddInt8(b, ap, tables, x1.data(), x2.data(), got_add.data());
        opt::MulInt8(b, mp, x1.data(), x2.data(), got_mul.data());
        EXPECT_EQ(got_add, want_add) << "ADD shapes " << sa.size() << "/" << sb.size() << " trial " << trial << " isa "
                                     << kws::cpu::IsaName(isa);
        EXPECT_EQ(got_mul, want_mul) << "MUL trial " << trial << " isa " << kws::cpu::IsaName(isa);
      }
      kws::cpu::SetMax(saved);
    }
}

// int8 DEPTHWISE_CONV_2D: the optimized kernel (vectorized channel loops, an AVX2 copy) against the reference,
// bit for bit, with both requantizations, depth multipliers 1 and 2, strides, dilation and padding, per ISA.
TEST(Optimized, DepthwiseInt8IdenticalToReference) {
  kws::Rng rng(23);
  const kws::cpu::Isa saved = kws::cpu::Max();
  for (int trial = 0; trial < 8; ++trial) {
    ConvGeometry g;
    g.depth_multiplier = trial % 4 == 3 ? 2 : 1;
    g.stride_h = 1 + trial % 2;
    g.dilation_w = trial % 3 == 2 ? 2 : 1;
    g.pad_top = 1;
    g.pad_left = 1;
    const int cin = trial < 4 ? 64 : 12, cout = cin * g.depth_multiplier;
    const Shape4 is{1, 13, 7, cin}, fs{1, 3, 3, cout};
    const Shape4 os{1, (is.h + 2 - 3) / g.stride_h + 1, (is.w + 2 - 1 - 2 * g.dilation_w) / 1 + 1, cout};
    auto fill = [&](size_t n) {
      std::vector<int8_t> v(n, 0);
      for (auto& x : v) x = int8_t(int(rng.Below(256)) - 128);
      return v;
    };
    const std::vector<int8_t> in = fill(size_t(is.h) * is.w * is.c), f = fill(size_t(fs.h) * fs.w * fs.c);
    const size_t nc = static_cast<size_t>(cout);
    std::vector<int32_t> bias(nc, 0), mult(nc, 0);
    std::vector<int> shift(nc, 0);
    std::vector<float> scale(nc, 0.0f);
    for (int c = 0; c < cout; ++c) {
      bias[size_t(c)] = int32_t(rng.Below(2000)) - 1000;
      const double m = rng.Uniform(0.0005, 0.02);
      QuantizeMultiplier(m, &mult[size_t(c)], &shift[size_t(c)]);
      scale[size_t(c)] = float(m);
    }
    QuantParams q;
    q.input_offset = int32_t(rng.Below(256)) - 128;
    q.output_offset = int32_t(rng.Below(256)) - 128;
    if (trial % 2 == 1) q.fp32_scale = scale.data();
    std::vector<int8_t> want(static_cast<size_t>(os.h) * os.w * os.c, 0);
    ref::DepthwiseInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), bias.data(), os, want.data());
    for (kws::cpu::Isa isa : {kws::cpu::Isa::kPlain, saved}) {
      kws::cpu::SetMax(isa);
      std::vector<int8_t> got(want.size(), 0);
      opt::DepthwiseInt8(g, q, mult.data(), shift.data(), is, in.data(), fs, f.data(), bias.data(), os, got.data());
      EXPECT_EQ(got, want) << "trial " << trial << " isa " << kws::cpu::IsaName(isa);
    }
    kws::cpu::SetMax(saved);
  }
}

}  // namespace
