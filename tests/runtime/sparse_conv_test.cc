// Sparse CONV_2D kernels (kernels/optimized/sparse_conv.h) against the
// reference kernels: random shapes, strides, dilations, paddings, sparsity
// 0/50/85/100%, channels 1/3/16/17; float within rounding, int8 and hybrid
// identical; every instruction-set level the CPU has (plain C++ forced too);
// NHWC / channel-planar layouts and the fused hand-off between two convs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/optimized/sparse_conv.h"
#include "runtime/kernels/reference/conv.h"
#include "runtime/kernels/reference/quantize.h"
#include "support/synthetic_model.h"
#include "util/rng.h"

namespace {

using namespace kws::rt;
using opt::Isa;
using opt::Layout;

struct Case {
  ConvGeometry g;
  Shape4 is, fs, os;
  float sparsity = 0.0f;
};

const int kChannels[] = {1, 3, 16, 17};
const float kSparsity[] = {0.0f, 0.5f, 0.85f, 1.0f};

Case MakeCase(kws::Rng& rng, int t) {
  Case c;
  const int cin = kChannels[t % 4], cout = kChannels[(t / 4) % 4];
  c.sparsity = kSparsity[(t / 2) % 4];
  c.is = Shape4{1 + int(rng.Below(2)), 2 + int(rng.Below(30)), 2 + int(rng.Below(30)), cin};
  const int kh = 1 + int(rng.Below(3)), kw = 1 + int(rng.Below(3));
  c.g.stride_h = 1 + int(rng.Below(t % 7 == 0 ? 3 : 2));
  c.g.stride_w = 1 + int(rng.Below(t % 7 == 0 ? 3 : 2));
  c.g.dilation_h = 1 + int(rng.Below(2));
  c.g.dilation_w = t % 5 == 0 ? 2 : 1;
  const bool same = rng.Below(2);
  auto dim = [&](int in, int k, int s, int d, int* pad) {
    const int eff = (k - 1) * d + 1;
    const int out = same ? (in + s - 1) / s : std::max(1, (in - eff + s) / s);
    *pad = std::max(((out - 1) * s + eff - in) / 2, 0);
    return out;
  };
  const int oh = dim(c.is.h, kh, c.g.stride_h, c.g.dilation_h, &c.g.pad_top);
  const int ow = dim(c.is.w, kw, c.g.stride_w, c.g.dilation_w, &c.g.pad_left);
  c.fs = Shape4{cout, kh, kw, cin};
  c.os = Shape4{c.is.n, oh, ow, cout};
  return c;
}

template <typename T>
void Prune(kws::Rng& rng, float sparsity, std::vector<T>* f) {
  for (auto& v : *f)
    if (rng.Uniform() < sparsity) v = T(0);
}

// NHWC → [N][C][H][W].
template <typename T>
std::vector<T> ToChw(const Shape4& s, const std::vector<T>& x) {
  std::vector<T> r(x.size());
  for (int b = 0; b < s.n; ++b)
    for (int y = 0; y < s.h; ++y)
      for (int xx = 0; xx < s.w; ++xx)
        for (int c = 0; c < s.c; ++c)
          r[size_t(((int64_t(b) * s.c + c) * s.h + y) * s.w + xx)] = x[size_t(Offset(s, b, y, xx, c))];
  return r;
}

std::vector<Isa> Levels() {
  std::vector<Isa> r = {Isa::kPlain};
  opt::SetMaxIsa(Isa::kAvx512);
  const Isa cpu = opt::ActiveIsa();
  if (cpu >= Isa::kAvx2) r.push_back(Isa::kAvx2);
  if (cpu >= Isa::kAvx512) r.push_back(Isa::kAvx512);
  return r;
}

struct IsaGuard {
  ~IsaGuard() { opt::SetMaxIsa(Isa::kAvx512); }
};

TEST(SparseConv, PlanListsExactlyTheNonZeroTaps) {
  ConvGeometry g;
  g.stride_h = g.stride_w = 2;
  g.pad_top = g.pad_left = 1;
  const Shape4 is{1, 5, 4, 2}, fs{2, 3, 3, 2}, os{1, 3, 2, 2};
  std::vector<float> f(size_t(fs.size()), 0.0f);
  f[size_t(Offset(fs, 0, 1, 2, 1))] = 0.5f;  // ky 1, kx 2, cin 1
  f[size_t(Offset(fs, 1, 0, 0, 0))] = -2.0f;
  f[size_t(Offset(fs, 1, 2, 1, 1))] = 3.0f;
  opt::SparseConvPlan p;
  opt::PrepareSparseConv(g, is, fs, os, f.data(), &p);
  ASSERT_EQ(p.nonzero(), 3);
  EXPECT_EQ(p.start, (std::vector<int32_t>{0, 1, 3}));
  EXPECT_EQ(p.hq, 3 + 1);
  EXPECT_EQ(p.wq, 2 + 1);
  // co 0: ky 1 → phase row 1, dy 0; kx 2 → phase col 0, dx 1; plane (1·2 + 0)·2 + 1 = 5.
  EXPECT_EQ(p.off[0], 5 * p.plane + 0 * p.wq + 1);
  EXPECT_EQ(p.w[0], 0.5f);
  EXPECT_EQ(p.off[1], 0);  // co 1: tap (0, 0, 0)
  // co 1: ky 2 → phase 0, dy 1; kx 1 → phase 1, dx 0; plane (0·2 + 1)·2 + 1 = 3.
  EXPECT_EQ(p.off[2], 3 * p.plane + 1 * p.wq + 0);
  EXPECT_EQ(p.w[2], 3.0f);
  EXPECT_EQ(p.span % 16, 0);
  EXPECT_GE(p.plane, p.span + p.wq + 1);
}

TEST(SparseConv, FloatMatchesReference) {
  IsaGuard guard;
  kws::Rng rng(21);
  for (int t = 0; t < 64; ++t) {
    const Case c = MakeCase(rng, t);
    std::vector<float> in(size_t(c.is.size())), f(size_t(c.fs.size())), b(size_t(c.os.c));
    for (auto& v : in) v = float(rng.Normal());
    for (auto& v : f) v = float(rng.Normal());
    for (auto& v : b) v = float(rng.Normal());
    Prune(rng, c.sparsity, &f);
    const FloatAct act = t % 2 ? FloatAct{0.0f, 6.0f} : FloatAct{};
    const float* bias = t % 3 ? b.data() : nullptr;
    std::vector<float> want(size_t(c.os.size()));
    ref::ConvFloat(c.g, act, c.is, in.data(), c.fs, f.data(), bias, c.os, want.data());
    opt::SparseConvPlan p;
    opt::PrepareSparseConv(c.g, c.is, c.fs, c.os, f.data(), &p);
    std::vector<float> scratch(p.ScratchFloats()), got(want.size());
    const std::vector<float> in_chw = ToChw(c.is, in), want_chw = ToChw(c.os, want);
    for (Isa isa : Levels()) {
      opt::SetMaxIsa(isa);
      for (int lay = 0; lay < 4; ++lay) {
        const Layout li = lay & 1 ? Layout::kChw : Layout::kNhwc, lo = lay & 2 ? Layout::kChw : Layout::kNhwc;
        std::fill(got.begin(), got.end(), -99.0f);
        opt::SparseConvFloat(p, act, li, li == Layout::kChw ? in_chw.data() : in.data(), bias, lo, got.data(),
                             scratch.data());
        const std::vector<float>& w = lo == Layout::kChw ? want_chw : want;
        for (size_t i = 0; i < w.size(); ++i)
          ASSERT_NEAR(w[i], got[i], 1e-4f * (1.0f + std::fabs(w[i])))
              << "case " << t << " isa " << int(isa) << " layouts " << lay << " index " << i;
      }
    }
  }
}

TEST(SparseConv, Int8IdenticalToReferenceBothArithmetics) {
  IsaGuard guard;
  kws::Rng rng(22);
  for (int t = 0; t < 64; ++t) {
    const Case c = MakeCase(rng, t);
    std::vector<int8_t> in(size_t(c.is.size())), f(size_t(c.fs.size()));
    for (auto& v : in) v = int8_t(int(rng.Below(256)) - 128);
    for (auto& v : f) v = int8_t(int(rng.Below(255)) - 127);
    Prune(rng, c.sparsity, &f);
    std::vector<int32_t> bias(size_t(c.os.c)), mult(size_t(c.os.c));
    std::vector<int> shift(size_t(c.os.c));
    std::vector<float> fp32(size_t(c.os.c));
    const int k = c.fs.h * c.fs.w * c.fs.c;
    for (int o = 0; o < c.os.c; ++o) {
      bias[size_t(o)] = int32_t(rng.Below(20001)) - 10000;
      const double real = (0.2 + rng.Uniform()) / (64.0 * std::sqrt(double(k)));
      QuantizeMultiplier(real, &mult[size_t(o)], &shift[size_t(o)]);
      fp32[size_t(o)] = float(real);
    }
    QuantParams q;
    q.input_offset = int32_t(rng.Below(256)) - 127;  // −zero point in [−127, 128]
    q.output_offset = int32_t(rng.Below(256)) - 128;
    if (t % 2) q.act_min = std::max(-128, q.output_offset);
    opt::SparseConvPlan p;
    opt::PrepareSparseConv(c.g, c.is, c.fs, c.os, f.data(), &p);
    ASSERT_TRUE(p.exact_int);
    std::vector<float> scratch(p.ScratchFloats());
    const std::vector<int8_t> in_chw = ToChw(c.is, in);
    for (int arith = 0; arith < 2; ++arith) {
      q.fp32_scale = arith ? fp32.data() : nullptr;
      std::vector<int8_t> want(size_t(c.os.size())), got(want.size());
      ref::ConvInt8(c.g, q, mult.data(), shift.data(), c.is, in.data(), c.fs, f.data(), t % 3 ? bias.data() : nullptr,
                    c.os, want.data());
      const std::vector<int8_t> want_chw = ToChw(c.os, want);
      for (Isa isa : Levels()) {
        opt::SetMaxIsa(isa);
        for (int lay = 0; lay < 4; ++lay) {
          const Layout li = lay & 1 ? Layout::kChw : Layout::kNhwc, lo = lay & 2 ? Layout::kChw : Layout::kNhwc;
          std::fill(got.begin(), got.end(), int8_t(99));
          opt::SparseConvInt8(p, q, mult.data(), shift.data(), li, li == Layout::kChw ? in_chw.data() : in.data(),
                              t % 3 ? bias.data() : nullptr, lo, got.data(), scratch.data());
          ASSERT_EQ(lo == Layout::kChw ? want_chw : want, got)
              << "case " << t << " arithmetic " << arith << " isa " << int(isa) << " layouts " << lay;
        }
      }
    }
  }
}

TEST(SparseConv, HybridIdenticalToReference) {
  IsaGuard guard;
  kws::Rng rng(23);
  for (int t = 0; t < 48; ++t) {
    const Case c = MakeCase(rng, t);
    std::vector<float> in(size_t(c.is.size())), b(size_t(c.os.c)), fscale(size_t(c.os.c));
    for (auto& v : in) v = t % 4 == 3 ? 0.0f : float(rng.Normal() * 2.0 + (t % 2 ? 1.0 : 0.0));
    if (t % 4 == 1)
      for (auto& v : in) v = std::max(v, 0.0f);  // post-ReLU input: zero point at −128
    const bool asym = t % 5 != 0;
    if (t % 8 == 5) {
      // Exact halves after quantization: range [−127, 127] (symmetric) or [−128, 127] (asymmetric)
      // gives scale 1 and zero point 0, so every k + 0.5 is a tie (rounded half away from zero).
      for (auto& v : in) v = float(int(rng.Below(254)) - 127) + 0.5f;
      in[0] = 127.0f;
      if (asym) in[1] = -128.0f;
    }
    std::vector<int8_t> f(size_t(c.fs.size()));
    for (auto& v : f) v = int8_t(int(rng.Below(255)) - 127);
    Prune(rng, c.sparsity, &f);
    for (auto& v : b) v = float(rng.Normal());
    for (auto& v : fscale) v = float(0.001 + 0.01 * rng.Uniform());
    const FloatAct act = t % 2 ? FloatAct{0.0f, 3.4e38f} : FloatAct{};
    // Reference: quantize each batch item, then ref::ConvHybrid.
    const int64_t per = int64_t(c.is.h) * c.is.w * c.is.c;
    std::vector<int8_t> qx(in.size());
    std::vector<float> sc(size_t(c.is.n));
    std::vector<int32_t> zp(size_t(c.is.n), 0);
    for (int i = 0; i < c.is.n; ++i) {
      if (asym)
        ref::AsymmetricQuantize(per, in.data() + i * per, qx.data() + i * per, &sc[size_t(i)], &zp[size_t(i)]);
      else
        ref::SymmetricQuantize(per, in.data() + i * per, qx.data() + i * per, &sc[size_t(i)]);
    }
    std::vector<float> want(size_t(c.os.size())), got(want.size());
    ref::ConvHybrid(c.g, act, c.is, qx.data(), sc.data(), zp.data(), c.fs, f.data(), fscale.data(),
                    t % 3 ? b.data() : nullptr, c.os, want.data());
    opt::SparseConvPlan p;
    opt::PrepareSparseConv(c.g, c.is, c.fs, c.os, f.data(), &p);
    std::vector<float> scratch(p.ScratchFloats());
    const std::vector<float> in_chw = ToChw(c.is, in), want_chw = ToChw(c.os, want);
    for (Isa isa : Levels()) {
      opt::SetMaxIsa(isa);
      for (int lay = 0; lay < 4; ++lay) {
        const Layout li = lay & 1 ? Layout::kChw : Layout::kNhwc, lo = lay & 2 ? Layout::kChw : Layout::kNhwc;
        opt::SparseConvHybrid(p, act, asym, li, li == Layout::kChw ? in_chw.data() : in.data(), fscale.data(),
                              t % 3 ? b.data() : nullptr, lo, got.data(), scratch.data());
        const std::vector<float>& w = lo == Layout::kChw ? want_chw : want;
        for (size_t i = 0; i < w.size(); ++i)
          ASSERT_NEAR(w[i], got[i], 1e-6f * (1.0f + std::fabs(w[i])))
              << "case " << t << " isa " << int(isa) << " layouts " << lay << " index " << i;
      }
    }
  }
}

// Two chained convs A → B with the fused hand-off (A writes B's phase planes,
// B reads Layout::kPlanes) against the reference kernels run one after the
// other: random widths (one and several 16-column blocks), strides 1 / 2,
// SAME / VALID, float and int8 (fp32 requantization) and float → hybrid.
TEST(SparseConv, FusedHandOffMatchesReferenceChain) {
  IsaGuard guard;
  kws::Rng rng(24);
  int fused = 0;
  for (int t = 0; t < 60; ++t) {
    Case a = MakeCase(rng, t);
    a.is.n = a.os.n = 1;
    Case b;
    b.is = a.os;
    b.sparsity = kSparsity[(t + 1) % 4];
    const int k = 1 + 2 * int(rng.Below(2));
    b.g.stride_h = 1 + int(rng.Below(2));
    b.g.stride_w = 1 + int(rng.Below(2));
    const bool same = rng.Below(3) != 0;
    auto dim = [&](int in, int s, int* pad) {
      const int out = same ? (in + s - 1) / s : std::max(1, (in - k + s) / s);
      *pad = std::max(((out - 1) * s + k - in) / 2, 0);
      return out;
    };
    const int cout = kChannels[(t / 3) % 4];
    b.fs = Shape4{cout, k, k, b.is.c};
    b.os = Shape4{1, dim(b.is.h, b.g.stride_h, &b.g.pad_top), dim(b.is.w, b.g.stride_w, &b.g.pad_left), cout};
    if (!same && (b.is.h < k || b.is.w < k)) continue;
    std::vector<float> fa(size_t(a.fs.size())), fb(size_t(b.fs.size())), ba(size_t(a.os.c)), bb(size_t(b.os.c));
    for (auto& v : fa) v = float(rng.Normal());
    for (auto& v : fb) v = float(rng.Normal());
    for (auto& v : ba) v = float(rng.Normal());
    for (auto& v : bb) v = float(rng.Normal());
    Prune(rng, a.sparsity, &fa);
    Prune(rng, b.sparsity, &fb);
    opt::SparseConvPlan pa, pb;
    opt::PrepareSparseConv(a.g, a.is, a.fs, a.os, fa.data(), &pa);
    opt::PrepareSparseConv(b.g, b.is, b.fs, b.os, fb.data(), &pb);
    if (!opt::SparseConvCanFuse(pa, pb)) continue;
    ++fused;
    std::vector<float> sa(pa.ScratchFloats()), sb(pb.ScratchFloats());
    const opt::SparseNext next{&pb, sb.data(), 0};
    const FloatAct relu{0.0f, 3.4e38f};
    std::vector<float> in(size_t(a.is.size()));
    for (auto& v : in) v = float(rng.Normal());
    std::vector<float> mid(size_t(a.os.size())), want(size_t(b.os.size())), got(want.size());
    ref::ConvFloat(a.g, relu, a.is, in.data(), a.fs, fa.data(), ba.data(), a.os, mid.data());
    // float → float
    ref::ConvFloat(b.g, FloatAct{}, b.is, mid.data(), b.fs, fb.data(), bb.data(), b.os, want.data());
    for (Isa isa : Levels()) {
      opt::SetMaxIsa(isa);
      opt::SparseConvFloat(pa, relu, Layout::kNhwc, in.data(), ba.data(), Layout::kNhwc, nullptr, sa.data(), &next);
      opt::SparseConvFloat(pb, FloatAct{}, Layout::kPlanes, nullptr, bb.data(), Layout::kNhwc, got.data(), sb.data());
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(want[i], got[i], 1e-4f * (1.0f + std::fabs(want[i]))) << "float case " << t << " isa " << int(isa);
    }
    // float → hybrid (the dynamic-range model's first two convs)
    std::vector<int8_t> qb(fb.size());
    std::vector<float> fscale(size_t(b.os.c), 0.01f);
    for (size_t i = 0; i < fb.size(); ++i) qb[i] = int8_t(std::clamp(std::lround(fb[i] * 40.0f), -127L, 127L));
    opt::SparseConvPlan pbh;
    opt::PrepareSparseConv(b.g, b.is, b.fs, b.os, qb.data(), &pbh);
    std::vector<int8_t> qmid(mid.size());
    float sc = 0.0f;
    int32_t zp = 0;
    ref::AsymmetricQuantize(int64_t(mid.size()), mid.data(), qmid.data(), &sc, &zp);
    ref::ConvHybrid(b.g, FloatAct{}, b.is, qmid.data(), &sc, &zp, b.fs, qb.data(), fscale.data(), bb.data(), b.os,
                    want.data());
    const opt::SparseNext next_h{&pbh, sb.data(), 0};
    for (Isa isa : Levels()) {
      opt::SetMaxIsa(isa);
      opt::SparseConvFloat(pa, relu, Layout::kNhwc, in.data(), ba.data(), Layout::kNhwc, nullptr, sa.data(), &next_h);
      opt::SparseConvHybrid(pbh, FloatAct{}, true, Layout::kPlanes, nullptr, fscale.data(), bb.data(), Layout::kNhwc,
                            got.data(), sb.data());
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(want[i], got[i], 1e-6f * (1.0f + std::fabs(want[i]))) << "hybrid case " << t << " isa " << int(isa);
    }
    // int8 → int8
    std::vector<int8_t> qa(fa.size()), qin(in.size());
    for (size_t i = 0; i < fa.size(); ++i) qa[i] = int8_t(std::clamp(std::lround(fa[i] * 40.0f), -127L, 127L));
    for (auto& v : qin) v = int8_t(int(rng.Below(256)) - 128);
    std::vector<int32_t> ia(size_t(a.os.c), 100), ib(size_t(b.os.c), -100), ma(size_t(a.os.c)), mb(size_t(b.os.c));
    std::vector<int> sha(size_t(a.os.c)), shb(size_t(b.os.c));
    std::vector<float> fpa(size_t(a.os.c), 0.002f), fpb(size_t(b.os.c), 0.003f);
    QuantParams qpa, qpb;
    qpa.input_offset = 5;
    qpa.output_offset = -20;
    qpa.act_min = -20;  // ReLU
    qpa.fp32_scale = fpa.data();
    qpb.input_offset = 20;  // = −(A's output zero point)
    qpb.output_offset = 3;
    qpb.fp32_scale = fpb.data();
    std::vector<int8_t> qmid8(mid.size()), want8(want.size()), got8(want.size());
    ref::ConvInt8(a.g, qpa, ma.data(), sha.data(), a.is, qin.data(), a.fs, qa.data(), ia.data(), a.os, qmid8.data());
    ref::ConvInt8(b.g, qpb, mb.data(), shb.data(), b.is, qmid8.data(), b.fs, qb.data(), ib.data(), b.os,
                  want8.data());
    opt::SparseConvPlan pa8;
    opt::PrepareSparseConv(a.g, a.is, a.fs, a.os, qa.data(), &pa8);
    const opt::SparseNext next8{&pbh, sb.data(), qpb.input_offset};
    for (Isa isa : Levels()) {
      opt::SetMaxIsa(isa);
      opt::SparseConvInt8(pa8, qpa, ma.data(), sha.data(), Layout::kNhwc, qin.data(), ia.data(), Layout::kNhwc, nullptr,
                          sa.data(), &next8);
      opt::SparseConvInt8(pbh, qpb, mb.data(), shb.data(), Layout::kPlanes, nullptr, ib.data(), Layout::kNhwc,
                          got8.data(), sb.data());
      ASSERT_EQ(want8, got8) << "int8 case " << t << " isa " << int(isa);
    }
  }
  EXPECT_GT(fused, 20);
}

// The optimized float → int8 input quantization (Interpreter::RunFloat) is
// identical to the reference one, halves / NaN / infinities / huge values included.
TEST(SparseConv, QuantizeFloatToInt8IdenticalToReference) {
  IsaGuard guard;
  kws::Rng rng(25);
  std::vector<float> x(1000);
  for (auto& v : x) v = float(rng.Normal() * 20.0);
  for (int i = 0; i < 200; ++i) x[size_t(i)] = (float(i - 100) + 0.5f) * 0.125f;  // exact ties for scale 0.125
  x[200] = std::nanf("");
  x[201] = 3.4e38f;
  x[202] = -3.4e38f;
  x[203] = 1.0f / 0.0f;
  x[204] = -1.0f / 0.0f;
  x[205] = 0.49999997f * 0.125f;
  for (float scale : {0.125f, 0.0761f, 3.0f})
    for (int32_t zp : {-128, 0, 54, 127}) {
      std::vector<int8_t> want(x.size()), got(x.size());
      for (size_t i = 0; i < x.size(); ++i) want[i] = QuantizeToInt8(x[i], scale, zp);
      for (Isa isa : Levels()) {
        opt::SetMaxIsa(isa);
        for (size_t n : {x.size(), size_t(13)}) {
          std::fill(got.begin(), got.end(), int8_t(0));
          opt::QuantizeFloatToInt8(scale, zp, int64_t(n), x.data(), got.data());
          for (size_t i = 0; i < n; ++i) ASSERT_EQ(want[i], got[i]) << "x " << x[i] << " scale " << scale << " zp " << zp;
        }
      }
    }
}

TEST(SparseConv, ForcedPortableSwitchesEveryKernelOff) {
  IsaGuard guard;
  opt::SetForcePortable(true);
  EXPECT_EQ(opt::ActiveIsa(), Isa::kPlain);
  opt::SetForcePortable(false);
  EXPECT_EQ(opt::MaxIsa(), Isa::kAvx512);
}

TEST(SparseConv, SparseOnlyWhenItPays) {
  ConvGeometry g;
  g.pad_top = g.pad_left = 1;
  const Shape4 is{1, 49, 10, 16}, fs{16, 3, 3, 16}, os{1, 49, 10, 16};
  kws::Rng rng(5);
  std::vector<float> f(size_t(fs.size()));
  for (auto& v : f) v = float(rng.Normal());
  opt::SparseConvPlan dense, pruned;
  opt::PrepareSparseConv(g, is, fs, os, f.data(), &dense);
  Prune(rng, 0.85f, &f);
  opt::PrepareSparseConv(g, is, fs, os, f.data(), &pruned);
  EXPECT_FALSE(opt::SparseConvPays(dense, false));
  EXPECT_TRUE(opt::SparseConvPays(pruned, false));
  EXPECT_TRUE(opt::SparseConvPays(pruned, true));
}

}  // namespace

// ---- through the interpreter -------------------------------------------------

namespace {

// Seed-shaped models with pruned convolutions: the optimized kernel set (sparse
// convs chained through phase planes) gives the reference kernels' results —
// int8 outputs identical, float / hybrid within rounding — on every ISA level.
TEST(SparseConvInterpreter, PrunedSeedModelsMatchReferenceKernels) {
  IsaGuard guard;
  using kws::rt::Interpreter;
  using Kind = kws::rt::SyntheticModelOptions::Kind;
  for (Kind kind : {Kind::kFloat, Kind::kInt8, Kind::kHybrid})
    for (float sparsity : {0.5f, 0.85f, 1.0f})
      for (bool pools : {false, true}) {
        kws::rt::SyntheticModelOptions o;
        o.kind = kind;
        o.sparsity = sparsity;
        o.pools = pools;
        o.seed = 3;
        Interpreter it = Interpreter::FromBuffer("seed", kws::rt::MakeSyntheticModel(o));
        const std::string raw = kws::rt::SyntheticInputFloat(it.input(0).elements(), 7);
        std::vector<float> x(raw.size() / 4);
        std::memcpy(x.data(), raw.data(), raw.size());
        const size_t n = size_t(it.output(0).elements());
        const size_t bytes = it.output(0).bytes;
        it.set_kernels(kws::rt::KernelSet::kReference);
        const std::vector<float> want = it.RunFloat(x.data());
        const std::string want_raw(static_cast<const char*>(it.output_data(0)), bytes);
        it.set_kernels(kws::rt::KernelSet::kOptimized);
        for (Isa isa : Levels()) {
          opt::SetMaxIsa(isa);
          const std::vector<float> got = it.RunFloat(x.data());
          ASSERT_EQ(got.size(), n);
          const std::string what = "kind " + std::to_string(int(kind)) + " sparsity " + std::to_string(sparsity) +
                                   " pools " + std::to_string(pools) + " isa " + std::to_string(int(isa));
          if (kind == Kind::kInt8) {
            EXPECT_EQ(std::string(static_cast<const char*>(it.output_data(0)), bytes), want_raw) << what;
          } else {
            for (size_t i = 0; i < n; ++i) EXPECT_NEAR(got[i], want[i], 1e-5f) << what << " output " << i;
          }
        }
      }
}

}  // namespace
