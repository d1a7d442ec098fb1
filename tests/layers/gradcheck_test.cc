// Finite-difference gradient checks for every layer and the loss (see check.h
// for the step size and tolerance argument).
#include <gtest/gtest.h>

#include "layers/layer.h"
#include "layers/softmax_cross_entropy.h"
#include "check.h"

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

}  // namespace
}  // namespace kws
