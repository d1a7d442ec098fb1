// FusedConvStep (train/fused_step.h) against the layer-by-layer path of kws::Model: same loss,
// probabilities, gradients and BatchNorm moving statistics up to float rounding, for several
// thread counts, with the AVX2 GEMM kernels and with the portable ones; bit-identical run to run.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "layers/gemm.h"
#include "model/model.h"
#include "train/denormals.h"
#include "train/fused_step.h"
#include "train/optimizer.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace kws {
namespace {

using json = nlohmann::json;

// Uneven geometry on purpose: odd input size, stride 2 and 1, a conv with bias, 3 classes.
json Layers(bool bias2 = false) {
  json l = json::array();
  auto block = [&](int filters, int stride, bool bias) {
    l.push_back({{"type", "conv2d"}, {"filters", filters}, {"kernel", 3}, {"strides", stride},
                 {"padding", "same"}, {"use_bias", bias}});
    l.push_back({{"type", "batchnorm"}, {"momentum", 0.9}});
    l.push_back({{"type", "relu"}});
  };
  block(8, 2, false);
  block(16, 1, bias2);
  block(16, 2, false);
  l.push_back({{"type", "global_average_pool"}});
  l.push_back({{"type", "dense"}});
  l.push_back({{"type", "softmax"}});
  return l;
}

constexpr int kH = 15, kW = 9, kClasses = 3;

struct Batch {
  std::vector<float> x;
  std::vector<int32_t> y;
};

Batch MakeBatch(int n, uint64_t seed) {
  Batch b;
  Rng rng(seed);
  b.x.resize(size_t(n) * kH * kW);
  for (auto& v : b.x) v = float(rng.Normal());
  for (int i = 0; i < n; ++i) b.y.push_back(int32_t(rng.Below(kClasses)));
  return b;
}

// Every param value/grad and buffer of a model, flattened with names.
std::vector<std::pair<std::string, std::vector<float>>> State(Model& m) {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (Param* p : m.Params()) {
    out.push_back({p->name + ":value", p->value});
    out.push_back({p->name + ":grad", p->grad});
  }
  for (Param* p : m.Buffers()) out.push_back({p->name, p->value});
  return out;
}

// Runs `steps` training steps (zero grads, forward/loss/backward, Adam) both ways and compares.
// (A conv bias right before a BatchNorm has a gradient that is zero up to rounding; Adam scales that
// noise to a full step, so runs with such a bias compare one step only.)
void CompareWithLayerPath(int threads, int batch, int steps, bool bias = false, const CrossEntropyOptions& loss = {}) {
  SetNumThreads(threads);
  FlushDenormalsScope ftz;
  Model ref = Model::Build(Layers(bias), {kH, kW, 1}, kClasses, 7);
  Model fm = Model::Build(Layers(bias), {kH, kW, 1}, kClasses, 7);
  ref.SetLossOptions(loss);
  fm.SetLossOptions(loss);
  auto fused = FusedConvStep::TryCreate(fm);
  ASSERT_TRUE(fused);
  Optimizer opt_ref(OptimizerOptions{}), opt_fused(OptimizerOptions{});
  auto pr = ref.Params(), pf = fm.Params();
  for (int step = 0; step < steps; ++step) {
    Batch b = MakeBatch(batch, 100 + step);
    // Soft targets (used when loss.soft_weight > 0): a different distribution for every sample, so a
    // chunk reading another sample's row shows.
    std::vector<float> soft(size_t(batch) * kClasses);
    Rng srng(500 + uint64_t(step));
    for (int n = 0; n < batch; ++n) {
      float sum = 0;
      for (int c = 0; c < kClasses; ++c) sum += soft[size_t(n) * kClasses + c] = float(0.05 + srng.Uniform());
      for (int c = 0; c < kClasses; ++c) soft[size_t(n) * kClasses + c] /= sum;
    }
    const float* sp = loss.soft_weight > 0 ? soft.data() : nullptr;
    ZeroGrads(pr);
    ref.Forward(b.x.data(), batch, true);
    const float loss_ref = ref.Loss(b.y.data(), batch, sp);
    ref.Backward(batch);
    ZeroGrads(pf);
    const float loss_fused = fused->Step(b.x.data(), b.y.data(), batch, sp);
    EXPECT_NEAR(loss_fused, loss_ref, 1e-5 * std::max(1.0f, std::fabs(loss_ref))) << "step " << step;
    for (int i = 0; i < batch * kClasses; ++i)
      ASSERT_NEAR(fused->probs()[i], ref.probs()[i], 1e-5) << "step " << step << " prob " << i;
    auto sr = State(ref), sf = State(fm);
    ASSERT_EQ(sr.size(), sf.size());
    for (size_t t = 0; t < sr.size(); ++t) {
      ASSERT_EQ(sr[t].first, sf[t].first);
      float scale = 0, maxdiff = 0;
      for (size_t i = 0; i < sr[t].second.size(); ++i) {
        scale = std::max(scale, std::fabs(sr[t].second[i]));
        maxdiff = std::max(maxdiff, std::fabs(sr[t].second[i] - sf[t].second[i]));
      }
      EXPECT_LE(maxdiff, 2e-4f * std::max(scale, 1e-3f))
          << sr[t].first << " step " << step << " threads " << threads << " (max |ref| " << scale << ")";
    }
    opt_ref.Step(pr, 0.01);
    opt_fused.Step(pf, 0.01);
  }
  SetNumThreads(0);
}

TEST(FusedConvStep, MatchesLayerPath) {
  for (int threads : {1, 2, 3}) CompareWithLayerPath(threads, 7, 3);
  for (int threads : {1, 2}) CompareWithLayerPath(threads, 7, 1, /*bias=*/true);
  CompareWithLayerPath(2, 1, 1);  // fewer samples than threads
}

// train.class_weights / label_smoothing reach the fused step's loss and gradients.
TEST(FusedConvStep, MatchesLayerPathWithWeightedSmoothedLoss) {
  CrossEntropyOptions loss;
  loss.class_weights.assign(size_t(kClasses), 1.0f);
  loss.class_weights[0] = 3.0f;
  loss.label_smoothing = 0.1f;
  for (int threads : {1, 2}) CompareWithLayerPath(threads, 7, 3, false, loss);
}

// Distillation's soft targets reach the fused step's loss and gradients, each sample its own row.
TEST(FusedConvStep, MatchesLayerPathWithSoftTargets) {
  CrossEntropyOptions loss;
  loss.soft_weight = 0.6f;
  loss.label_smoothing = 0.05f;
  for (int threads : {1, 2, 3}) CompareWithLayerPath(threads, 7, 3, false, loss);
}

TEST(FusedConvStep, MatchesLayerPathWithPortableKernels) {
  GemmAllowAvx2(false);  // the portable GEMM and BN loops, as on a machine without AVX-512 / AVX2
  FusedConvStepAllowAvx512(false);
  CompareWithLayerPath(2, 6, 2);
  CompareWithLayerPath(2, 6, 1, /*bias=*/true);
  GemmAllowAvx2(true);
  FusedConvStepAllowAvx512(true);
}

TEST(FusedConvStep, BitIdenticalRunToRun) {
  SetNumThreads(2);
  std::vector<std::vector<std::pair<std::string, std::vector<float>>>> runs;
  for (int r = 0; r < 2; ++r) {
    Model m = Model::Build(Layers(), {kH, kW, 1}, kClasses, 3);
    auto f = FusedConvStep::TryCreate(m);
    ASSERT_TRUE(f);
    Optimizer opt(OptimizerOptions{});
    for (int step = 0; step < 3; ++step) {
      Batch b = MakeBatch(9, step);
      ZeroGrads(m.Params());
      f->Step(b.x.data(), b.y.data(), 9);
      opt.Step(m.Params(), 0.01);
    }
    runs.push_back(State(m));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (size_t t = 0; t < runs[0].size(); ++t) EXPECT_EQ(runs[0][t].second, runs[1][t].second) << runs[0][t].first;
  SetNumThreads(0);
}

TEST(FusedConvStep, DeclinesOtherShapes) {
  json pool = Layers();
  pool.insert(pool.begin() + 3, json{{"type", "max_pool2d"}, {"pool_size", 2}});
  Model a = Model::Build(pool, {kH, kW, 1}, kClasses, 1);
  EXPECT_FALSE(FusedConvStep::TryCreate(a));
  json no_bn = json::array({json{{"type", "conv2d"}, {"filters", 4}, {"kernel", 3}},
                            json{{"type", "relu"}}, json{{"type", "global_average_pool"}},
                            json{{"type", "dense"}}});
  Model b = Model::Build(no_bn, {kH, kW, 1}, kClasses, 1);
  EXPECT_FALSE(FusedConvStep::TryCreate(b));
  Model c = Model::Build(Layers(true), {kH, kW, 1}, kClasses, 1);
  EXPECT_TRUE(FusedConvStep::TryCreate(c));
}

}  // namespace
}  // namespace kws
