// Finite-difference gradient checks for every layer and the loss (see check.h
// for the step size and tolerance argument).
#include <gtest/gtest.h>

#include "layers/layer.h"
#include "layers/softmax_cross_entropy.h"
#include "check.h"
#include "util/error.h"

namespace kws {
namespace {

using test::GradCheck;
using json = nlohmann::json;

// Values with |x| >= 0.1 so a +-h probe never crosses a ReLU kink.
std::vector<float> AwayFromZero(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.Uniform(0.1, 1.0)) * (rng.Uniform() < 0.5 ? -1.0f : 1.0f);
  return v;
}

TEST(GradCheck, Conv2DSameStride1) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 3}, {"kernel", {3, 3}}, {"padding", "same"}});
  GradCheck(*l, {5, 4, 2}, 2, true, 1);
}

TEST(GradCheck, Conv2DSameStride2OddSizes) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 4}, {"kernel", {3, 2}},
                          {"strides", {2, 2}}, {"padding", "same"}});
  GradCheck(*l, {7, 5, 3}, 3, true, 2);
}

TEST(GradCheck, Conv2DValidStride2NoBias) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 2}, {"kernel", {3, 3}},
                          {"strides", {2, 1}}, {"padding", "valid"}, {"use_bias", false}});
  GradCheck(*l, {8, 5, 2}, 2, true, 3);
}

TEST(GradCheck, Conv2DPointwise) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 3}, {"kernel", 1}});
  GradCheck(*l, {3, 4, 5}, 2, true, 4);
}

// 8 in / 8 out channels: the implicit-GEMM kernels (AVX2 machines) for forward, dW and din.
TEST(GradCheck, Conv2DImplicitGemmPaths) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "c"}, {"filters", 8}, {"kernel", 3}, {"padding", "same"}});
  GradCheck(*l, {5, 4, 8}, 2, true, 21);
  auto v = MakeLayer(json{{"type", "conv2d"}, {"name", "v"}, {"filters", 8}, {"kernel", {2, 3}}, {"strides", 2}});
  GradCheck(*v, {7, 6, 8}, 2, true, 22);
}

// 48 channels: Winograd F(2x2,3x3) forward and input gradient (AVX2 machines).
TEST(GradCheck, Conv2DWinograd) {
  auto l = MakeLayer(json{{"type", "conv2d"}, {"name", "w"}, {"filters", 48}, {"kernel", 3}, {"padding", "same"}});
  GradCheck(*l, {3, 5, 48}, 1, true, 23);
}

TEST(GradCheck, BatchNormTraining) {
  auto l = MakeLayer(json{{"type", "batchnorm"}, {"name", "bn"}});
  GradCheck(*l, {3, 4, 3}, 3, true, 5);
}

TEST(GradCheck, BatchNormInference) {
  auto l = MakeLayer(json{{"type", "batchnorm"}, {"name", "bn"}});
  GradCheck(*l, {3, 4, 3}, 2, false, 6);
}

TEST(GradCheck, Relu) {
  auto l = MakeLayer(json{{"type", "relu"}});
  GradCheck(*l, {3, 4, 3}, 2, true, 7, AwayFromZero);
}

TEST(GradCheck, GlobalAveragePool) {
  auto l = MakeLayer(json{{"type", "global_average_pool"}});
  GradCheck(*l, {3, 5, 4}, 2, true, 8);
}

TEST(GradCheck, Dense) {
  auto l = MakeLayer(json{{"type", "dense"}, {"name", "d"}, {"units", 3}});
  GradCheck(*l, {1, 1, 5}, 4, true, 9);
}

TEST(GradCheck, DenseOnSpatialInput) {
  auto l = MakeLayer(json{{"type", "dense"}, {"name", "d"}, {"units", 2}, {"use_bias", false}});
  GradCheck(*l, {2, 3, 2}, 3, true, 10);
}

TEST(GradCheck, DepthwiseSameStride1) {
  auto l = MakeLayer(json{{"type", "depthwise_conv2d"}, {"name", "dw"}, {"kernel", 3}, {"padding", "same"}});
  GradCheck(*l, {5, 4, 3}, 2, true, 12);
}

TEST(GradCheck, DepthwiseMultiplier2Stride2Valid) {
  auto l = MakeLayer(json{{"type", "depthwise_conv2d"}, {"name", "dw"}, {"kernel", {3, 2}}, {"strides", 2},
                          {"depth_multiplier", 2}});
  GradCheck(*l, {7, 6, 2}, 3, true, 13);
}

TEST(GradCheck, DepthwiseMultiplier2SameStride2OddSizes) {
  auto l = MakeLayer(json{{"type", "depthwise_conv2d"}, {"name", "dw"}, {"kernel", 3}, {"strides", 2},
                          {"padding", "same"}, {"depth_multiplier", 2}, {"use_bias", false}});
  GradCheck(*l, {5, 7, 3}, 2, true, 14);
}

TEST(GradCheck, AveragePoolValid) {
  auto l = MakeLayer(json{{"type", "average_pool2d"}, {"pool_size", {2, 3}}});
  GradCheck(*l, {5, 7, 2}, 2, true, 15);
}

TEST(GradCheck, AveragePoolSameStride1) {
  auto l = MakeLayer(json{{"type", "average_pool2d"}, {"pool_size", 3}, {"strides", 1}, {"padding", "same"}});
  GradCheck(*l, {4, 5, 2}, 2, true, 16);
}

// Distinct values 0.05 apart (shuffled), so a +-h probe never changes a window's arg-max.
std::vector<float> DistinctValues(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = 0.05f * float(i) - 0.025f * float(n);
  rng.Shuffle(v);
  return v;
}

TEST(GradCheck, MaxPoolValid) {
  auto l = MakeLayer(json{{"type", "max_pool2d"}, {"pool_size", 2}});
  GradCheck(*l, {5, 6, 2}, 2, true, 17, DistinctValues);
}

TEST(GradCheck, MaxPoolSameStride2) {
  auto l = MakeLayer(json{{"type", "max_pool2d"}, {"pool_size", 3}, {"strides", 2}, {"padding", "same"}});
  GradCheck(*l, {5, 6, 2}, 2, true, 18, DistinctValues);
}

TEST(GradCheck, DropoutTraining) {
  auto l = MakeLayer(json{{"type", "dropout"}, {"name", "drop"}, {"rate", 0.4}});
  GradCheck(*l, {3, 4, 3}, 2, true, 19);
}

TEST(GradCheck, SoftmaxCrossEntropy) {
  Rng rng(11);
  const int N = 4, C = 5;
  std::vector<float> z = test::RandomVec(N * C, rng, -2, 2), p(N * C), dz(N * C);
  std::vector<int32_t> y = {0, 3, 4, 1};
  softmax_cross_entropy_forward(p.data(), z.data(), y.data(), N, C);
  softmax_cross_entropy_backward(dz.data(), p.data(), y.data(), N, C);
  test::CompareGrad("softmax_ce dlogits", dz, z.size(), [&](size_t i, float d) { z[i] += d; },
                    [&]() { return double(softmax_cross_entropy_forward(nullptr, z.data(), y.data(), N, C)); },
                    1e-2f);
}

// Gradient check of the loss with options `o` on 5 samples of 4 classes, with random soft targets
// (one distribution per sample) when `soft`. Returns the loss at the start.
float CheckLossGradient(const std::string& what, const CrossEntropyOptions& o, uint64_t seed, bool soft,
                        std::vector<float>* z_out = nullptr, std::vector<float>* t_out = nullptr) {
  Rng rng(seed);
  const int N = 5, C = 4;
  std::vector<float> z = test::RandomVec(N * C, rng, -2, 2), p(N * C), dz(N * C), t;
  if (soft) {
    t.resize(N * C);
    for (int n = 0; n < N; ++n) {
      float sum = 0;
      for (int c = 0; c < C; ++c) sum += t[size_t(n * C + c)] = float(0.05 + rng.Uniform());
      for (int c = 0; c < C; ++c) t[size_t(n * C + c)] /= sum;
    }
  }
  const float* tp = soft ? t.data() : nullptr;
  const std::vector<int32_t> y = {0, 3, 1, 1, 2};
  const float loss = softmax_cross_entropy_forward(p.data(), z.data(), y.data(), N, C, o, tp);
  softmax_cross_entropy_backward(dz.data(), p.data(), y.data(), N, C, o, 0, tp);
  std::vector<float> z0 = z;
  test::CompareGrad(what, dz, z.size(), [&](size_t i, float d) { z[i] += d; },
                    [&]() { return double(softmax_cross_entropy_forward(nullptr, z.data(), y.data(), N, C, o, tp)); },
                    1e-2f);
  if (z_out) *z_out = z0;
  if (t_out) *t_out = t;
  return loss;
}

TEST(GradCheck, SoftmaxCrossEntropyWeightedSmoothed) {
  CrossEntropyOptions o;
  o.class_weights = {0.5f, 2.0f, 1.0f, 3.0f};
  o.label_smoothing = 0.2f;
  CheckLossGradient("weighted smoothed dlogits", o, 12, false);
}

// Soft targets (distillation) on top of class weights and label smoothing.
TEST(GradCheck, SoftmaxCrossEntropySoftTargets) {
  const int N = 5, C = 4;
  CrossEntropyOptions o;
  o.class_weights = {0.5f, 2.0f, 1.0f, 3.0f};
  o.label_smoothing = 0.1f;
  o.soft_weight = 0.7f;
  std::vector<float> z, t;
  const float with = CheckLossGradient("soft-target dlogits", o, 14, true, &z, &t);
  const std::vector<int32_t> y = {0, 3, 1, 1, 2};
  // Without targets the weight is unused: the weighted smoothed loss.
  const float without = softmax_cross_entropy_forward(nullptr, z.data(), y.data(), N, C, o);
  CrossEntropyOptions no_soft = o;
  no_soft.soft_weight = 0;
  EXPECT_EQ(without, softmax_cross_entropy_forward(nullptr, z.data(), y.data(), N, C, no_soft, t.data()));
  EXPECT_GT(std::fabs(with - without), 1e-3f);
}

// Default options are the plain loss bit for bit (existing configs train bit-identically), and a
// chunked backward normalised by the whole batch equals the one-shot backward.
TEST(SoftmaxCrossEntropy, DefaultOptionsAreThePlainLossAndChunksNormaliseByTheBatch) {
  Rng rng(13);
  const int N = 6, C = 3;
  std::vector<float> z = test::RandomVec(N * C, rng, -3, 3), p(N * C), d1(N * C), d2(N * C);
  std::vector<int32_t> y = {2, 0, 1, 1, 0, 2};
  CrossEntropyOptions ones;
  ones.class_weights = {1.0f, 1.0f, 1.0f};
  const float a = softmax_cross_entropy_forward(p.data(), z.data(), y.data(), N, C);
  const float b = softmax_cross_entropy_forward(nullptr, z.data(), y.data(), N, C, ones);
  EXPECT_EQ(a, b);
  softmax_cross_entropy_backward(d1.data(), p.data(), y.data(), N, C);
  softmax_cross_entropy_backward(d2.data(), p.data(), y.data(), N, C, ones);
  EXPECT_EQ(d1, d2);
  CrossEntropyOptions w;
  w.class_weights = {1.0f, 2.0f, 0.5f};
  softmax_cross_entropy_backward(d1.data(), p.data(), y.data(), N, C, w);
  softmax_cross_entropy_backward(d2.data(), p.data(), y.data(), 2, C, w, N);
  softmax_cross_entropy_backward(d2.data() + 2 * C, p.data() + 2 * C, y.data() + 2, N - 2, C, w, N);
  EXPECT_EQ(d1, d2);
  EXPECT_THROW(softmax_cross_entropy_forward(nullptr, z.data(), y.data(), N, C, CrossEntropyOptions{{1.0f, 2.0f}, 0}),
               Error);
}

}  // namespace
}  // namespace kws
