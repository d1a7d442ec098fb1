// Hand-computed kernel cases, fast-vs-reference conv, config round trips and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/gemm.h"
#include "layers/layer.h"
#include "layers/layer_util.h"
#include "layers/softmax_cross_entropy.h"
#include "util/error.h"
#include "util/parallel.h"
#include "check.h"

namespace kws {
namespace {

using json = nlohmann::json;

TEST(Padding, MatchesTensorFlowSame) {
  // in 5, k 3, s 2: out 3, pad_total 2 -> before 1
  EXPECT_EQ(PadAxis(5, 3, 2, true).out, 3);
  EXPECT_EQ(PadAxis(5, 3, 2, true).pad_before, 1);
  // in 4, k 3, s 2: out 2, pad_total 1 -> before 0 (TF puts the odd pad after)
  EXPECT_EQ(PadAxis(4, 3, 2, true).out, 2);
  EXPECT_EQ(PadAxis(4, 3, 2, true).pad_before, 0);
  // in 97, k 3, s 1: out 97, before 1
  EXPECT_EQ(PadAxis(97, 3, 1, true).out, 97);
  EXPECT_EQ(PadAxis(97, 3, 1, true).pad_before, 1);
  // in 20, k 5, s 3: out 7, pad_total max(18+5-20,0)=3 -> before 1
  EXPECT_EQ(PadAxis(20, 5, 3, true).out, 7);
  EXPECT_EQ(PadAxis(20, 5, 3, true).pad_before, 1);
  // VALID: in 7, k 3, s 2 -> 3
  EXPECT_EQ(PadAxis(7, 3, 2, false).out, 3);
  EXPECT_EQ(PadAxis(2, 3, 1, false).out, 0);
}

TEST(Conv2D, HandComputedSame) {
  // 1 sample, 3x3x1 input 1..9, one 3x3 filter of ones, SAME: out = sum of the 3x3 neighbourhood.
  Conv2DShape s = MakeConv2DShape({3, 3, 1}, 3, 3, 1, 1, true, 1, "t");
  s.n = 1;
  std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w(9, 1.0f), out(9);
  float bias = 0.5f;
  conv2d_forward_ref(out.data(), in.data(), w.data(), &bias, s);
  std::vector<float> want = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(out[i], want[i] + 0.5f) << i;
  Conv2DScratch sc;
  conv2d_forward(out.data(), in.data(), w.data(), &bias, s, sc);
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(out[i], want[i] + 0.5f) << i;
}

TEST(Conv2D, HandComputedStride2SamePadsAfter) {
  // 1x4x1 input [1,2,3,4], kernel 1x3 [1,10,100], stride 2, SAME: pad 0 before, 1 after
  //   out0 = 1*1 + 2*10 + 3*100 = 321;  out1 = 3*1 + 4*10 + 0*100 = 43
  Conv2DShape s = MakeConv2DShape({1, 4, 1}, 1, 3, 1, 2, true, 1, "t");
  s.n = 1;
  ASSERT_EQ(s.ow, 2);
  std::vector<float> in = {1, 2, 3, 4}, w = {1, 10, 100}, out(2);
  conv2d_forward_ref(out.data(), in.data(), w.data(), nullptr, s);
  EXPECT_FLOAT_EQ(out[0], 321);
  EXPECT_FLOAT_EQ(out[1], 43);
}

// The fast path must agree with the reference for many geometries and thread counts.
TEST(Conv2D, FastMatchesReference) {
  struct G { Shape in; int kh, kw, sh, sw; bool same; int oc, n; };
  std::vector<G> gs = {{{97, 20, 1}, 3, 3, 1, 1, true, 16, 3},  {{13, 7, 16}, 3, 3, 2, 2, true, 16, 2},
                       {{9, 6, 3}, 5, 3, 2, 1, false, 4, 5},   {{6, 6, 4}, 1, 1, 1, 1, false, 8, 2},
                       {{5, 8, 2}, 2, 4, 3, 3, true, 3, 1},    {{4, 4, 2}, 4, 4, 1, 1, false, 2, 3},
                       // implicit-GEMM paths (AVX2: OC and IC in {8,16,24,32}), stride 1 full-conv din
                       {{10, 8, 16}, 3, 3, 1, 1, true, 16, 2}, {{9, 7, 8}, 3, 3, 1, 1, false, 8, 2},
                       {{11, 9, 8}, 3, 5, 2, 2, true, 24, 2},  {{7, 6, 32}, 2, 3, 1, 1, true, 32, 3},
                       {{49, 10, 16}, 3, 3, 1, 1, true, 16, 3},
                       // the seed's first layer (1 input channel, stride 2): one-pass 3x3x1 dW kernel
                       {{97, 20, 1}, 3, 3, 2, 2, true, 16, 3},
                       // Winograd (>= 48 channels, 3x3 stride 1), odd output sizes
                       {{7, 5, 48}, 3, 3, 1, 1, true, 48, 2},  {{8, 7, 64}, 3, 3, 1, 1, false, 56, 1}};
  Rng rng(7);
  for (int variant : {0, 1, 2, 3, 4, 5}) {
    const int threads = variant + 1 > 3 ? 1 : variant + 1;
    GemmAllowAvx2(variant != 3);          // variant 3: portable kernels
    Conv2DAllowWinograd(variant != 4);    // variant 4: implicit GEMM instead of Winograd
    GemmAllowAvx512(variant != 5);        // variant 5: AVX2 kernels on AVX-512 machines
    SetNumThreads(threads);
    for (auto& g : gs) {
      Conv2DShape s = MakeConv2DShape(g.in, g.kh, g.kw, g.sh, g.sw, g.same, g.oc, "t");
      s.n = g.n;
      size_t in_n = size_t(s.n) * s.ih * s.iw * s.ic, out_n = size_t(s.n) * s.oh * s.ow * s.oc;
      size_t w_n = size_t(s.kh) * s.kw * s.ic * s.oc;
      auto x = test::RandomVec(in_n, rng), w = test::RandomVec(w_n, rng), b = test::RandomVec(s.oc, rng);
      auto dout = test::RandomVec(out_n, rng);
      std::vector<float> o1(out_n), o2(out_n), di1(in_n), di2(in_n), dw1(w_n, 0.5f), dw2(w_n, 0.5f), db1(s.oc, 1.0f),
          db2(s.oc, 1.0f);
      Conv2DScratch sc;
      conv2d_forward_ref(o1.data(), x.data(), w.data(), b.data(), s);
      conv2d_forward(o2.data(), x.data(), w.data(), b.data(), s, sc);
      conv2d_backward_ref(di1.data(), dw1.data(), db1.data(), dout.data(), x.data(), w.data(), s);
      conv2d_backward(di2.data(), dw2.data(), db2.data(), dout.data(), x.data(), w.data(), s, sc);
      auto maxdiff = [](const std::vector<float>& a, const std::vector<float>& b) {
        double m = 0;
        for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
        return m;
      };
      // Sums of up to ~1000 products of O(1) values in a different order: 1e-4 absolute.
      EXPECT_LT(maxdiff(o1, o2), 1e-4) << "out " << g.in.h << "x" << g.in.w << "x" << g.in.c;
      EXPECT_LT(maxdiff(di1, di2), 1e-4) << "din";
      EXPECT_LT(maxdiff(dw1, dw2), 2e-3) << "dweight";  // sums over N*OH*OW (up to 5820) products
      EXPECT_LT(maxdiff(db1, db2), 2e-3) << "dbias";
    }
  }
  GemmAllowAvx2(true);
  GemmAllowAvx512(true);
  SetNumThreads(0);
}

// Random geometries (incl. stride > kernel, VALID with unread rows, 1xN kernels) through
// every fast path: implicit GEMM, im2col, pointwise, full-conv and col2im din.
TEST(Conv2D, FastMatchesReferenceRandomGeometries) {
  Rng rng(123);
  const int ics[] = {1, 2, 3, 8, 16, 40}, ocs[] = {1, 3, 8, 16, 24, 32, 40, 64};
  int tested = 0;
  for (int trial = 0; trial < 300 && tested < 80; ++trial) {
    Shape in{1 + int(rng.Below(12)), 1 + int(rng.Below(12)), ics[rng.Below(6)]};
    int kh = 1 + int(rng.Below(4)), kw = 1 + int(rng.Below(4)), sh = 1 + int(rng.Below(3)), sw = 1 + int(rng.Below(3));
    bool same = rng.Below(2);
    int oc = ocs[rng.Below(8)], n = 1 + int(rng.Below(3));
    if (PadAxis(in.h, kh, sh, same).out <= 0 || PadAxis(in.w, kw, sw, same).out <= 0) continue;
    ++tested;
    Conv2DShape s = MakeConv2DShape(in, kh, kw, sh, sw, same, oc, "t");
    s.n = n;
    size_t in_n = size_t(n) * in.size(), out_n = size_t(n) * s.oh * s.ow * oc, w_n = size_t(kh) * kw * in.c * oc;
    auto x = test::RandomVec(in_n, rng), w = test::RandomVec(w_n, rng), b = test::RandomVec(oc, rng);
    auto dout = test::RandomVec(out_n, rng);
    std::vector<float> o1(out_n), o2(out_n), di1(in_n), di2(in_n), dw1(w_n, 0.0f), dw2(w_n, 0.0f), db1(oc), db2(oc);
    Conv2DScratch sc;
    conv2d_forward_ref(o1.data(), x.data(), w.data(), b.data(), s);
    conv2d_forward(o2.data(), x.data(), w.data(), b.data(), s, sc);
    conv2d_backward_ref(di1.data(), dw1.data(), db1.data(), dout.data(), x.data(), w.data(), s);
    conv2d_backward(di2.data(), dw2.data(), db2.data(), dout.data(), x.data(), w.data(), s, sc);
    auto maxdiff = [](const std::vector<float>& a, const std::vector<float>& c) {
      double m = 0;
      for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - c[i])));
      return m;
    };
    std::string g = std::to_string(in.h) + "x" + std::to_string(in.w) + "x" + std::to_string(in.c) + " k" +
                    std::to_string(kh) + "x" + std::to_string(kw) + " s" + std::to_string(sh) + "x" +
                    std::to_string(sw) + (same ? " same" : " valid") + " oc" + std::to_string(oc);
    EXPECT_LT(maxdiff(o1, o2), 1e-4) << g;
    EXPECT_LT(maxdiff(di1, di2), 1e-4) << g;
    EXPECT_LT(maxdiff(dw1, dw2), 1e-3) << g;
    EXPECT_LT(maxdiff(db1, db2), 1e-3) << g;
  }
  EXPECT_GE(tested, 60);
}

TEST(Conv2D, BackwardIsDeterministicForAThreadCount) {
  SetNumThreads(2);
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 16}, {"kernel", 3}, {"padding", "same"}});
  Rng rng(3);
  l->Build({20, 10, 4}, rng);
  auto x = test::RandomVec(5 * 20 * 10 * 4, rng), d = test::RandomVec(5 * 20 * 10 * 16, rng);
  std::vector<float> out(d.size()), din(x.size());
  std::vector<std::vector<float>> grads;
  for (int rep = 0; rep < 2; ++rep) {
    for (Param* p : l->Params()) std::fill(p->grad.begin(), p->grad.end(), 0.0f);
    l->Forward(x.data(), out.data(), 5, true);
    l->Backward(x.data(), out.data(), d.data(), din.data(), 5);
    grads.push_back(l->Params()[0]->grad);
  }
  EXPECT_EQ(grads[0], grads[1]);
  SetNumThreads(0);
}

TEST(Layers, ConfigRoundTrips) {
  std::vector<json> cfgs = {
      {{"type", "conv2d"}, {"name", "conv2d_1"}, {"filters", 16}, {"kernel", {3, 5}}, {"strides", {2, 1}},
       {"padding", "same"}, {"use_bias", false}},
      {{"type", "batchnorm"}, {"name", "bn"}, {"momentum", 0.9}, {"epsilon", 1e-5}},
      {{"type", "relu"}},
      {{"type", "global_average_pool"}},
      {{"type", "dense"}, {"units", 3}},
      {{"type", "depthwise_conv2d"}, {"name", "dw"}, {"kernel", {3, 3}}, {"strides", {1, 2}}, {"padding", "same"},
       {"depth_multiplier", 2}, {"use_bias", false}},
      {{"type", "average_pool2d"}, {"pool_size", {2, 2}}, {"strides", {1, 1}}, {"padding", "same"}},
      {{"type", "max_pool2d"}, {"pool_size", {3, 2}}},
      {{"type", "dropout"}, {"rate", 0.25}, {"seed", 3}},
  };
  for (auto& c : cfgs) {
    auto l = MakeLayer(c);
    json j = l->Config();
    auto l2 = MakeLayer(j);
    EXPECT_EQ(l2->Config(), j) << c.dump();
    EXPECT_EQ(l->type(), c["type"].get<std::string>());
    for (auto it = c.begin(); it != c.end(); ++it) {
      if (it.key() == "kernel" || it.key() == "strides") continue;
      EXPECT_EQ(j[it.key()], it.value()) << it.key();
    }
  }
}

TEST(Layers, BadConfigsThrowUsageErrorNamingTheLayer) {
  auto expect_usage = [](const json& c, const std::string& needle) {
    try {
      MakeLayer(c);
      ADD_FAILURE() << "no error for " << c.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_usage({{"type", "conv3d"}, {"name", "x"}}, "layer 'x': unknown type 'conv3d'");
  expect_usage({{"type", "conv2d"}, {"name", "c1"}, {"kernel", 3}}, "layer 'c1': missing required field 'filters'");
  expect_usage({{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}, {"filter", 2}}, "unknown field 'filter'");
  expect_usage({{"type", "conv2d"}, {"filters", 0}, {"kernel", 3}}, "'filters'");
  expect_usage({{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"padding", "full"}}, "'padding'");
  expect_usage({{"type", "dense"}, {"units", "3"}}, "'units' must be an integer");
  expect_usage({{"type", "batchnorm"}, {"momentum", 1.5}}, "'momentum'");
  expect_usage({{"name", "n"}}, "missing string field 'type'");
  expect_usage(json::array(), "expected a table");
}

TEST(Layers, ImpossibleShapesThrow) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 2}, {"kernel", 5}});
  EXPECT_THROW(l->OutputShape({4, 10, 1}), Error);
  EXPECT_EQ(l->OutputShape({5, 10, 1}), (Shape{1, 6, 2}));
  Rng rng(1);
  EXPECT_THROW(l->Build({3, 3, 1}, rng), Error);
  try {
    l->OutputShape({4, 10, 1});
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("layer 'c'"), std::string::npos);
  }
}

TEST(Layers, GlorotUniformLikeKeras) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 16}, {"kernel", 3}});
  Rng rng(5);
  l->Build({10, 10, 8}, rng);
  const Param* k = l->Params()[0];
  const double limit = std::sqrt(6.0 / (9 * 8 + 9 * 16));
  double mx = 0, sum2 = 0;
  for (float v : k->value) mx = std::max(mx, double(std::fabs(v))), sum2 += double(v) * v;
  EXPECT_LE(mx, limit);
  EXPECT_GT(mx, 0.95 * limit);
  EXPECT_NEAR(sum2 / k->value.size(), limit * limit / 3, 0.1 * limit * limit / 3);  // var of U(-l,l)
  EXPECT_TRUE(k->prunable);
  EXPECT_EQ(k->name, "c/kernel");
  EXPECT_EQ(l->Params()[1]->value, std::vector<float>(16, 0.0f));
  EXPECT_FALSE(l->Params()[1]->prunable);
}

TEST(Pools, HandComputed) {
  // 1x4x4x1 input 0..15
  std::vector<float> in(16);
  for (int i = 0; i < 16; ++i) in[i] = float(i);
  std::vector<float> out(4);
  auto mp = MakeLayer(json{{"type", "max_pool2d"}, {"pool_size", 2}});
  auto ap = MakeLayer(json{{"type", "average_pool2d"}, {"pool_size", 2}});
  Rng rng(1);
  mp->Build({4, 4, 1}, rng), ap->Build({4, 4, 1}, rng);
  mp->Forward(in.data(), out.data(), 1, false);
  EXPECT_EQ(out, (std::vector<float>{5, 7, 13, 15}));
  ap->Forward(in.data(), out.data(), 1, false);
  EXPECT_EQ(out, (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  // SAME 3x3 stride 1 average excludes padding: corner (0,0) averages {0,1,4,5} = 2.5
  auto aps = MakeLayer(json{{"type", "average_pool2d"}, {"pool_size", 3}, {"strides", 1}, {"padding", "same"}});
  aps->Build({4, 4, 1}, rng);
  std::vector<float> o16(16);
  aps->Forward(in.data(), o16.data(), 1, false);
  EXPECT_FLOAT_EQ(o16[0], 2.5f);
  EXPECT_FLOAT_EQ(o16[5], 5.0f);  // full window around (1,1): mean of 0,1,2,4,5,6,8,9,10
}

TEST(Depthwise, HandComputedMultiplier2) {
  // 1x1x2 input (a=2, b=3), 1x1 kernel, dm 2: out = [a*w00, a*w01, b*w10, b*w11] + bias
  auto l = MakeLayer(json{{"type", "depthwise_conv2d"}, {"name", "dw"}, {"kernel", 1}, {"depth_multiplier", 2}});
  Rng rng(1);
  l->Build({1, 1, 2}, rng);
  l->Params()[0]->value = {1, 10, 100, 1000};
  l->Params()[1]->value = {0.5f, 0, 0, 0};
  std::vector<float> in = {2, 3}, out(4);
  l->Forward(in.data(), out.data(), 1, false);
  EXPECT_EQ(out, (std::vector<float>{2.5f, 20, 300, 3000}));
  EXPECT_FALSE(l->Params()[0]->prunable);
  EXPECT_EQ(l->Params()[0]->name, "dw/depthwise_kernel");
}

TEST(Dropout, DeterministicInvertedScalingAndInferenceIdentity) {
  auto l = MakeLayer(json{{"type", "dropout"}, {"name", "drop"}, {"rate", 0.25}});
  Rng rng(1);
  l->Build({10, 10, 10}, rng);
  std::vector<float> in(1000, 1.0f), a(1000), b(1000);
  l->SetSeed(42);
  l->Forward(in.data(), a.data(), 1, true);
  l->SetSeed(42);
  l->Forward(in.data(), b.data(), 1, true);
  EXPECT_EQ(a, b);
  int kept = 0;
  for (float v : a) {
    EXPECT_TRUE(v == 0.0f || std::fabs(v - 1.0f / 0.75f) < 1e-6) << v;
    kept += v != 0.0f;
  }
  EXPECT_NEAR(kept, 750, 60);
  l->SetSeed(43);
  l->Forward(in.data(), b.data(), 1, true);
  EXPECT_NE(a, b);
  l->Forward(in.data(), b.data(), 1, false);
  EXPECT_EQ(b, in);
}

TEST(BatchNorm, MovingStatisticsKerasStyle) {
  BatchNormLayer bn;
  bn.name = "bn";
  Rng rng(1);
  bn.Build({1, 2, 1}, rng);
  // 2 samples x 2 positions, one channel: values 1,2,3,6 -> mean 3, biased var 3.5, unbiased 14/3
  std::vector<float> x = {1, 2, 3, 6}, out(4);
  bn.Forward(x.data(), out.data(), 2, true);
  EXPECT_NEAR(bn.moving_mean.value[0], 0.99f * 0 + 0.01f * 3, 1e-6);
  EXPECT_NEAR(bn.moving_variance.value[0], 0.99f * 1 + 0.01f * 14.0f / 3, 1e-6);
  EXPECT_NEAR(out[0], (1 - 3) / std::sqrt(3.5 + 1e-3), 1e-5);
  // Inference uses the moving statistics.
  bn.Forward(x.data(), out.data(), 2, false);
  EXPECT_NEAR(out[0], (1 - 0.03) / std::sqrt(0.99 + 0.01 * 14.0 / 3 + 1e-3), 1e-5);
}

TEST(SoftmaxCrossEntropy, HandComputed) {
  std::vector<float> z = {0, 0, std::log(2.0f), 0}, p(4);
  std::vector<int32_t> y = {1, 0};
  float loss = softmax_cross_entropy_forward(p.data(), z.data(), y.data(), 2, 2);
  // sample 0: p = (0.5, 0.5) -> -log 0.5; sample 1: p = (2/3, 1/3) -> -log(2/3)
  EXPECT_NEAR(loss, (std::log(2.0) - std::log(2.0 / 3)) / 2, 1e-6);
  EXPECT_NEAR(p[2], 2.0 / 3, 1e-6);
  std::vector<int32_t> bad = {0, 2};
  EXPECT_THROW(softmax_cross_entropy_forward(p.data(), z.data(), bad.data(), 2, 2), Error);
}

}  // namespace
}  // namespace kws

namespace kws {
namespace {

// The fast GEMM kernels (AVX2 when available, portable otherwise) against the plain loops.
TEST(Gemm, FastMatchesReferenceBothPaths) {
  Rng rng(9);
  // path 0: AVX-512 where the CPU has it (N % 16 == 0), 1: AVX2 only, 2: portable
  for (int path : {0, 1, 2}) {
    const bool avx2 = path < 2;
    GemmAllowAvx2(avx2);
    GemmAllowAvx512(path == 0);
    for (int n : {1, 3, 4, 8, 16, 24, 32, 40, 48, 64, 80, 144})
      for (int m : {1, 5, 13, 490})
        for (int k : {1, 9, 17, 144}) {
          auto a = test::RandomVec(size_t(m) * k, rng), b = test::RandomVec(size_t(k) * n, rng);
          auto d = test::RandomVec(size_t(m) * n, rng);
          std::vector<float> c1(size_t(m) * n), c2(size_t(m) * n), t1(size_t(k) * n, 0.25f), t2(t1);
          gemm_nn_ref(c1.data(), a.data(), b.data(), m, k, n);
          gemm_nn(c2.data(), a.data(), b.data(), m, k, n);
          gemm_tn_acc_ref(t1.data(), a.data(), d.data(), m, k, n);
          gemm_tn_acc(t2.data(), a.data(), d.data(), m, k, n);
          double e1 = 0, e2 = 0;
          for (size_t i = 0; i < c1.size(); ++i) e1 = std::max(e1, double(std::fabs(c1[i] - c2[i])));
          for (size_t i = 0; i < t1.size(); ++i) e2 = std::max(e2, double(std::fabs(t1[i] - t2[i])));
          // sums of up to 490 products of U(-1,1) values (magnitude <= ~20): float reordering error
          EXPECT_LT(e1, 1e-4) << "nn m=" << m << " k=" << k << " n=" << n << " path=" << path;
          EXPECT_LT(e2, 1e-4) << "tn m=" << m << " k=" << k << " n=" << n << " path=" << path;
        }
  }
  GemmAllowAvx2(true);
  GemmAllowAvx512(true);
}

}  // namespace
}  // namespace kws
