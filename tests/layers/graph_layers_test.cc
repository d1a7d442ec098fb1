// The layers graph models use (add, concat, mean over one axis, reshape, swish, hard_swish,
// subspectral_norm, dilated and one-axis convolutions, spatial dropout): finite-difference gradient
// checks (check.h) and the fast kernels against plain-loop references.
#include <gtest/gtest.h>

#include <cmath>

#include "check.h"
#include "layers/add.h"
#include "layers/conv2d.h"
#include "layers/depthwise_conv2d.h"
#include "layers/gemm.h"
#include "layers/layer.h"
#include "layers/subspectral_norm.h"
#include "util/error.h"

namespace kws {
namespace {

using test::GradCheck;
using json = nlohmann::json;

// Gradient check of a multi-input layer: L = sum(out * R); din of every input and every parameter.
void GradCheckN(Layer& l, const std::vector<Shape>& shapes, int batch, uint64_t seed) {
  SetNumThreads(1);
  struct Restore { ~Restore() { SetNumThreads(0); } } restore;
  Rng rng(seed);
  l.BuildN(shapes, rng);
  const Shape os = l.OutputShapeN(shapes);
  std::vector<std::vector<float>> xs;
  for (const Shape& s : shapes) xs.push_back(test::RandomVec(size_t(batch) * s.size(), rng));
  const size_t out_n = size_t(batch) * os.size();
  std::vector<float> R = test::RandomVec(out_n, rng), out(out_n);
  auto ptrs = [&] {
    std::vector<const float*> p;
    for (auto& x : xs) p.push_back(x.data());
    return p;
  };
  auto loss = [&]() {
    l.ForwardN(ptrs(), out.data(), batch, true);
    double s = 0;
    for (size_t i = 0; i < out_n; ++i) s += double(out[i]) * R[i];
    return s;
  };
  loss();
  std::vector<std::vector<float>> din(xs.size());
  std::vector<float*> dp;
  for (size_t k = 0; k < xs.size(); ++k) din[k].assign(xs[k].size(), 0.0f), dp.push_back(din[k].data());
  l.BackwardN(ptrs(), out.data(), R.data(), dp, batch);
  for (size_t k = 0; k < xs.size(); ++k)
    test::CompareGrad(l.type() + " din" + std::to_string(k), din[k], xs[k].size(),
                      [&](size_t i, float d) { xs[k][i] += d; }, loss);
}

TEST(GraphLayers, AddSameShapesAndBroadcast) {
  auto l = MakeLayer(json{{"type", "add"}, {"name", "a"}});
  GradCheckN(*l, {{4, 5, 3}, {4, 5, 3}}, 2, 1);
  auto b = MakeLayer(json{{"type", "add"}, {"name", "b"}});
  GradCheckN(*b, {{6, 1, 3}, {6, 5, 3}, {6, 5, 3}}, 2, 2);  // BC-ResNet: (T,1,C) + (T,F,C) + shortcut
  auto c = MakeLayer(json{{"type", "add"}, {"name", "c"}});
  GradCheckN(*c, {{1, 4, 1}, {3, 4, 2}}, 2, 3);  // broadcast along H and C
}

TEST(GraphLayers, AddForwardByHand) {
  AddLayer l;
  Rng rng(1);
  l.BuildN({{2, 1, 2}, {2, 3, 2}}, rng);
  const std::vector<float> a = {1, 2, 3, 4}, b = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};
  std::vector<float> out(12);
  l.ForwardN({a.data(), b.data()}, out.data(), 1, true);
  EXPECT_EQ(out, (std::vector<float>{11, 22, 31, 42, 51, 62, 73, 84, 93, 104, 113, 124}));
  std::vector<float> da(4), db(12);
  l.BackwardN({a.data(), b.data()}, out.data(), b.data(), {da.data(), db.data()}, 1);
  EXPECT_EQ(da, (std::vector<float>{90, 120, 270, 300}));  // summed over the broadcast W axis
  EXPECT_EQ(db, b);
}

TEST(GraphLayers, AddRejectsShapesThatDoNotBroadcast) {
  auto l = MakeLayer(json{{"type", "add"}, {"name", "sum"}});
  try {
    l->OutputShapeN({{4, 5, 3}, {4, 4, 3}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("layer 'sum': cannot add shapes 4x5x3 and 4x4x3"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(l->OutputShapeN({{4, 5, 3}}), Error);  // one input
}

TEST(GraphLayers, Concat) {
  auto l = MakeLayer(json{{"type", "concat"}, {"name", "cat"}});
  GradCheckN(*l, {{3, 4, 2}, {3, 4, 3}, {3, 4, 1}}, 2, 4);
  EXPECT_THROW(l->OutputShapeN({{3, 4, 2}, {3, 5, 2}}), Error);
}

TEST(GraphLayers, MeanOverOneAxis) {
  auto w = MakeLayer(json{{"type", "mean"}, {"name", "mw"}, {"axis", "w"}});
  GradCheck(*w, {5, 4, 3}, 2, true, 5);
  EXPECT_EQ(w->OutputShape({5, 4, 3}), (Shape{5, 1, 3}));
  auto h = MakeLayer(json{{"type", "mean"}, {"name", "mh"}, {"axis", "h"}});
  GradCheck(*h, {5, 4, 3}, 2, true, 6);
  EXPECT_EQ(h->OutputShape({5, 4, 3}), (Shape{1, 4, 3}));
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, y(2);  // (1,3,2) over W -> (1,1,2)
  Rng r(1);
  w->Build({1, 3, 2}, r);
  w->Forward(x.data(), y.data(), 1, false);
  EXPECT_EQ(y, (std::vector<float>{3, 4}));
  EXPECT_THROW(MakeLayer(json{{"type", "mean"}}), Error);  // the axis is required
}

TEST(GraphLayers, Reshape) {
  auto l = MakeLayer(json{{"type", "reshape"}, {"name", "r"}, {"shape", {6, 1, -1}}});
  EXPECT_EQ(l->OutputShape({6, 4, 1}), (Shape{6, 1, 4}));
  GradCheck(*l, {6, 4, 1}, 2, true, 7);
  EXPECT_THROW(l->OutputShape({5, 3, 1}), Error);
}

TEST(GraphLayers, SwishAndHardSwish) {
  auto s = MakeLayer(json{{"type", "swish"}});
  GradCheck(*s, {3, 4, 3}, 2, true, 8, [](size_t n, Rng& rng) { return test::RandomVec(n, rng, -4, 4); });
  // Hard swish is piecewise; keep probes away from the kinks at -3 and 3.
  auto h = MakeLayer(json{{"type", "hard_swish"}});
  GradCheck(*h, {3, 4, 3}, 2, true, 9, [](size_t n, Rng& rng) {
    std::vector<float> v = test::RandomVec(n, rng, -5, 5);
    for (auto& x : v)
      if (std::fabs(std::fabs(x) - 3.0f) < 0.1f) x *= 0.5f;
    return v;
  });
  std::vector<float> x = {-4, -3, 0, 1.5f, 3, 5}, y(6);
  Rng r(1);
  h->Build({1, 1, 6}, r);
  h->Forward(x.data(), y.data(), 1, false);
  EXPECT_EQ(y, (std::vector<float>{0, 0, 0, 1.5f * 4.5f / 6.0f, 3, 5}));
}

TEST(GraphLayers, SubSpectralNorm) {
  auto t = MakeLayer(json{{"type", "subspectral_norm"}, {"name", "ssn"}, {"sub_bands", 3}});
  GradCheck(*t, {4, 6, 2}, 3, true, 10);
  auto i = MakeLayer(json{{"type", "subspectral_norm"}, {"name", "ssn"}, {"sub_bands", 2}});
  GradCheck(*i, {4, 6, 2}, 2, false, 11);
  auto h = MakeLayer(json{{"type", "subspectral_norm"}, {"name", "ssnh"}, {"sub_bands", 2}, {"axis", "h"}});
  GradCheck(*h, {4, 3, 2}, 3, true, 12);
  EXPECT_THROW(t->OutputShape({4, 5, 2}), Error);  // 5 columns do not split into 3 bands
}

// With one band SSN is BatchNorm: same outputs and gradients as the batchnorm layer.
TEST(GraphLayers, SubSpectralNormWithOneBandIsBatchNorm) {
  auto s = MakeLayer(json{{"type", "subspectral_norm"}, {"name", "s"}, {"sub_bands", 1}});
  auto b = MakeLayer(json{{"type", "batchnorm"}, {"name", "b"}});
  Rng rng(3);
  const Shape in{5, 4, 3};
  s->Build(in, rng), b->Build(in, rng);
  std::vector<float> x = test::RandomVec(2 * in.size(), rng), ys(x.size()), yb(x.size()), d = test::RandomVec(x.size(), rng);
  std::vector<float> gs(x.size()), gb(x.size());
  s->Forward(x.data(), ys.data(), 2, true), b->Forward(x.data(), yb.data(), 2, true);
  s->Backward(x.data(), ys.data(), d.data(), gs.data(), 2), b->Backward(x.data(), yb.data(), d.data(), gb.data(), 2);
  for (size_t k = 0; k < x.size(); ++k) {
    EXPECT_NEAR(ys[k], yb[k], 1e-5);
    EXPECT_NEAR(gs[k], gb[k], 1e-5);
  }
}

TEST(GraphLayers, DilatedAndOneAxisConvs) {
  auto c = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 3}, {"kernel", {3, 2}}, {"dilation", {2, 1}},
                          {"padding", "same"}});
  GradCheck(*c, {7, 5, 2}, 2, true, 13);
  auto v = MakeLayer(json{{"type", "conv2d"}, {"name", "v"}, {"filters", 2}, {"kernel", {1, 3}}, {"strides", {2, 1}},
                          {"dilation", {1, 2}}, {"use_bias", false}});
  GradCheck(*v, {5, 7, 2}, 2, true, 14);
  auto k = MakeLayer(json{{"type", "conv2d"}, {"name", "k"}, {"filters", 4}, {"kernel", {5, 1}}, {"strides", {2, 1}},
                          {"padding", "same"}});
  GradCheck(*k, {9, 3, 2}, 2, true, 15);
  auto m = MakeLayer(json{{"type", "conv2d"}, {"name", "m"}, {"filters", 2}, {"kernel", 3},
                          {"padding", {"same", "valid"}}});
  EXPECT_EQ(m->OutputShape({6, 5, 1}), (Shape{6, 3, 2}));
  GradCheck(*m, {6, 5, 1}, 2, true, 16);
  auto d = MakeLayer(json{{"type", "depthwise_conv2d"}, {"name", "d"}, {"kernel", {3, 1}}, {"dilation", {3, 1}},
                          {"padding", "same"}, {"depth_multiplier", 2}});
  GradCheck(*d, {9, 2, 3}, 2, true, 17);
  auto e = MakeLayer(json{{"type", "depthwise_conv2d"}, {"name", "e"}, {"kernel", 5}, {"padding", {"same", "valid"}},
                          {"use_bias", false}});
  EXPECT_EQ(e->OutputShape({8, 5, 3}), (Shape{8, 1, 3}));
  GradCheck(*e, {8, 5, 3}, 2, true, 18);
  EXPECT_THROW(MakeLayer(json{{"type", "conv2d"}, {"filters", 2}, {"kernel", 3}, {"dilation", 2}, {"strides", 2}}),
               Error);
}

// The dilated fast path (im2col + GEMM, batch-parallel) against the plain-loop reference.
TEST(GraphLayers, DilatedConvMatchesReference) {
  Rng rng(5);
  for (int oc : {3, 8, 16}) {
    Conv2DShape s = MakeConv2DShape({11, 7, 5}, 3, 3, 1, 1, true, false, 3, 2, oc, "t");
    s.n = 3;
    const size_t in_n = size_t(s.n) * s.ih * s.iw * s.ic, out_n = size_t(s.n) * s.oh * s.ow * s.oc;
    std::vector<float> x = test::RandomVec(in_n, rng), w = test::RandomVec(size_t(9) * s.ic * oc, rng),
                       b = test::RandomVec(size_t(oc), rng), y(out_n), yr(out_n), d = test::RandomVec(out_n, rng);
    Conv2DScratch sc;
    conv2d_forward(y.data(), x.data(), w.data(), b.data(), s, sc);
    conv2d_forward_ref(yr.data(), x.data(), w.data(), b.data(), s);
    for (size_t i = 0; i < out_n; ++i) ASSERT_NEAR(y[i], yr[i], 1e-4) << i;
    std::vector<float> dx(in_n), dxr(in_n), dw(w.size(), 0), dwr(w.size(), 0), db(b.size(), 0), dbr(b.size(), 0);
    conv2d_backward(dx.data(), dw.data(), db.data(), d.data(), x.data(), w.data(), s, sc);
    conv2d_backward_ref(dxr.data(), dwr.data(), dbr.data(), d.data(), x.data(), w.data(), s);
    for (size_t i = 0; i < in_n; ++i) ASSERT_NEAR(dx[i], dxr[i], 1e-4) << i;
    for (size_t i = 0; i < w.size(); ++i) ASSERT_NEAR(dw[i], dwr[i], 1e-3) << i;
    for (size_t i = 0; i < b.size(); ++i) ASSERT_NEAR(db[i], dbr[i], 1e-3) << i;
  }
}

// The fast depthwise kernels (rows at a time, AVX2 or plain, batch-parallel) equal the per-pixel
// reference bit for bit: same additions in the same order (sequential models keep their results).
TEST(GraphLayers, DepthwiseFastPathIsBitIdenticalToReference) {
  struct G {
    Shape in;
    int kh, kw, sh, sw, dh, dw, dm;
    bool same_h, same_w;
  };
  Rng rng(11);
  for (const G& g : {G{{9, 7, 8}, 3, 3, 1, 1, 1, 1, 1, true, true}, G{{9, 7, 12}, 3, 3, 2, 2, 1, 1, 1, true, true},
                     G{{13, 5, 20}, 3, 1, 1, 1, 4, 1, 1, true, true}, G{{6, 10, 16}, 1, 3, 1, 2, 1, 1, 1, true, true},
                     G{{8, 5, 3}, 5, 5, 1, 1, 1, 1, 1, true, false}, G{{7, 6, 5}, 3, 2, 1, 1, 1, 2, 1, false, false},
                     G{{7, 6, 3}, 3, 3, 1, 1, 1, 1, 2, true, true}}) {
    for (bool avx2 : {true, false}) {
      GemmAllowAvx2(avx2);
      Conv2DShape s = MakeConv2DShape(g.in, g.kh, g.kw, g.sh, g.sw, g.same_h, g.same_w, g.dh, g.dw, g.in.c * g.dm, "t");
      s.n = 5;
      const size_t in_n = size_t(s.n) * s.ih * s.iw * s.ic, out_n = size_t(s.n) * s.oh * s.ow * s.oc;
      const size_t wn = size_t(s.kh) * s.kw * s.oc;
      std::vector<float> x = test::RandomVec(in_n, rng), w = test::RandomVec(wn, rng), b = test::RandomVec(s.oc, rng);
      std::vector<float> d = test::RandomVec(out_n, rng), y(out_n), yr(out_n);
      depthwise_conv2d_forward(y.data(), x.data(), w.data(), b.data(), s);
      depthwise_conv2d_forward_ref(yr.data(), x.data(), w.data(), b.data(), s);
      EXPECT_EQ(y, yr) << "forward " << g.kh << "x" << g.kw << " avx2=" << avx2;
      SetNumThreads(1);  // the reference sums the weight gradient over the batch in one chunk
      std::vector<float> dx(in_n), dxr(in_n), dw(wn, 0), dwr(wn, 0), db(s.oc, 0), dbr(s.oc, 0);
      depthwise_conv2d_backward(dx.data(), dw.data(), db.data(), d.data(), x.data(), w.data(), s);
      depthwise_conv2d_backward_ref(dxr.data(), dwr.data(), dbr.data(), d.data(), x.data(), w.data(), s);
      SetNumThreads(0);
      EXPECT_EQ(dx, dxr) << "input gradient " << g.kh << "x" << g.kw << " stride " << g.sh << " avx2=" << avx2;
      EXPECT_EQ(dw, dwr) << "weight gradient " << g.kh << "x" << g.kw << " avx2=" << avx2;
      EXPECT_EQ(db, dbr);
    }
  }
  GemmAllowAvx2(true);
}

// Channel counts that are not a multiple of 8 (BC-ResNet's 12 and 20, DS-CNN-M's 172) run the portable
// GEMM arithmetic on AVX2 without FMA: the same results as the portable build, bit for bit.
TEST(GraphLayers, GemmOtherWidthsKeepThePortableArithmetic) {
  Rng rng(21);
  for (int n : {3, 4, 12, 20, 36, 60, 172})
    for (int m : {1, 7, 125})
      for (int k : {1, 12, 172}) {
        auto a = test::RandomVec(size_t(m) * k, rng), b = test::RandomVec(size_t(k) * n, rng);
        auto d = test::RandomVec(size_t(m) * n, rng);
        std::vector<float> ref(size_t(m) * n), fast(ref.size()), plain(ref.size());
        std::vector<float> tf(size_t(k) * n, 0.25f), tp(tf);
        gemm_nn_ref(ref.data(), a.data(), b.data(), m, k, n);
        GemmAllowAvx2(false);
        gemm_nn(plain.data(), a.data(), b.data(), m, k, n);
        gemm_tn_acc(tp.data(), a.data(), d.data(), m, k, n);
        EXPECT_EQ(plain, ref) << "nn m=" << m << " k=" << k << " n=" << n;
        GemmAllowAvx2(true);
        for (bool avx512 : {true, false}) {  // AVX-512 panels where the CPU has them, else AVX2 ones
          GemmAllowAvx512(avx512);
          std::fill(tf.begin(), tf.end(), 0.25f);
          gemm_nn(fast.data(), a.data(), b.data(), m, k, n);
          gemm_tn_acc(tf.data(), a.data(), d.data(), m, k, n);
          EXPECT_EQ(fast, ref) << "nn m=" << m << " k=" << k << " n=" << n << " avx512=" << avx512;
          EXPECT_EQ(tf, tp) << "tn m=" << m << " k=" << k << " n=" << n << " avx512=" << avx512;
        }
        GemmAllowAvx512(true);
      }
}

// Spatial dropout drops whole channels: per example and channel, every position is kept or zeroed.
TEST(GraphLayers, SpatialDropoutDropsChannels) {
  auto l = MakeLayer(json{{"type", "dropout"}, {"name", "sd"}, {"rate", 0.5}, {"spatial", true}});
  const Shape in{4, 3, 8};
  Rng rng(1);
  l->Build(in, rng);
  std::vector<float> x(2 * in.size(), 1.0f), y(x.size());
  l->SetSeed(7);
  l->Forward(x.data(), y.data(), 2, true);
  int dropped = 0;
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < in.c; ++c) {
      const float first = y[size_t(n) * in.size() + c];
      for (int p = 0; p < in.h * in.w; ++p) ASSERT_EQ(y[(size_t(n) * in.h * in.w + p) * in.c + c], first);
      dropped += first == 0.0f;
      if (first != 0.0f) EXPECT_EQ(first, 2.0f);
    }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 16);
  GradCheck(*l, in, 2, true, 19);
}

}  // namespace
}  // namespace kws
