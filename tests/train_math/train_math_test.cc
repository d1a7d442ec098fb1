// Optimizer, learning-rate schedule and pruning math, checked against values
// worked out by hand (the arithmetic is in the comments).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/depthwise_conv2d.h"
#include "layers/layer.h"
#include "train/optimizer.h"
#include "train/pruning.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/rng.h"

namespace kws {
namespace {

using json = nlohmann::json;

Param P(const std::string& name, std::vector<float> v) {
  Param p;
  p.name = name;
  p.dims = {int(v.size())};
  p.value = v;
  p.grad.assign(v.size(), 0.0f);
  return p;
}

// ---------------------------------------------------------------------------
// Optimizers
// ---------------------------------------------------------------------------
TEST(Adam, KerasUpdateByHand) {
  // w = 1, g = 0.5 every step, lr = 0.1, Keras defaults.
  // t=1: m = 0.05, v = 0.001*0.25 = 2.5e-4, alpha = 0.1*sqrt(1-0.999)/(1-0.9) = sqrt(1e-3) = 0.0316227766
  //      w -= 0.05*0.0316227766/(sqrt(2.5e-4) + 1e-7) = 0.1 * 0.0158113883/(0.0158113883+1e-7)
  //      w = 1 - 0.0999993675 = 0.9000006325
  Param p = P("d/kernel", {1.0f});
  Optimizer opt(OptimizerOptions{});
  p.grad = {0.5f};
  opt.Step({&p}, 0.1);
  EXPECT_NEAR(p.value[0], 0.9000006325, 2e-7);
  // t=2: m = 0.05 + (0.5-0.05)*0.1 = 0.095; v = 2.5e-4 + (0.25-2.5e-4)*0.001 = 4.9975e-4
  //      alpha = 0.1*sqrt(1-0.998001)/(1-0.81) = 0.1*0.0447101778/0.19 = 0.0235316725
  //      step = 0.095*0.0235316725/(0.0223550889+1e-7) = 0.0999995527...
  opt.Step({&p}, 0.1);
  const double step2 = 0.095 * (0.1 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.81)) / (std::sqrt(4.9975e-4) + 1e-7);
  EXPECT_NEAR(step2, 0.09999955, 1e-7);  // the hand value above
  // float32 arithmetic (as TF: float32(1 - 0.999) = 0.0010000467, beta powers in float32) moves
  // the result ~3e-7 away from exact math.
  EXPECT_NEAR(p.value[0], 0.9000006325 - step2, 1e-6);
  EXPECT_EQ(opt.steps(), 2);
}

TEST(Adam, EpsilonPlacementIsKerasNotTorch) {
  // With a tiny gradient the epsilon placement dominates: g = 1e-6, lr = 1, t = 1.
  // Keras: alpha = sqrt(0.001)/0.1 = 0.316227766; m = 1e-7; sqrt(v) = sqrt(0.001)*1e-6 = 3.16227766e-8
  //        step = 1e-7*0.316227766/(3.16227766e-8 + 1e-7) = 0.240253
  // torch: step = (m/0.1)/(sqrt(v/0.001) + 1e-7) = 1e-6/(1e-6+1e-7) = 0.909091
  Param p = P("k", {0.0f});
  p.grad = {1e-6f};
  Optimizer opt(OptimizerOptions{});
  opt.Step({&p}, 1.0);
  EXPECT_NEAR(-p.value[0], 0.240253, 1e-5);
}

TEST(Sgd, MomentumKerasFormula) {
  // velocity = 0.9*velocity - 0.1*g;  w += velocity;  g = 1 each step
  // v1 = -0.1 (w 0.9), v2 = -0.19 (w 0.71), v3 = -0.271 (w 0.439)
  OptimizerOptions o;
  o.type = "sgd", o.momentum = 0.9;
  Optimizer opt(o);
  Param p = P("k", {1.0f});
  std::vector<float> want = {0.9f, 0.71f, 0.439f};
  for (float w : want) {
    p.grad = {1.0f};
    opt.Step({&p}, 0.1);
    EXPECT_NEAR(p.value[0], w, 1e-6);
  }
  // Nesterov: w += 0.9*v - 0.1*g: w1 = 1 - 0.09 - 0.1 = 0.81, w2 = 0.81 + 0.9*(-0.19) - 0.1 = 0.539
  o.nesterov = true;
  Optimizer nes(o);
  Param q = P("k", {1.0f});
  q.grad = {1.0f};
  nes.Step({&q}, 0.1);
  EXPECT_NEAR(q.value[0], 0.81, 1e-6);
  nes.Step({&q}, 0.1);
  EXPECT_NEAR(q.value[0], 0.539, 1e-6);
}

TEST(Optimizer, WeightDecayKernelsOnlyByDefault) {
  // plain SGD lr 0.1, weight_decay 0.5, zero gradient: kernel 1 -> 1 - 0.1*0.5*1 = 0.95; bias untouched
  OptimizerOptions o;
  o.type = "sgd", o.weight_decay = 0.5;
  Param k = P("conv/kernel", {1.0f}), b = P("conv/bias", {1.0f}), dk = P("dw/depthwise_kernel", {2.0f});
  Optimizer(o).Step({&k, &b, &dk}, 0.1);
  EXPECT_FLOAT_EQ(k.value[0], 0.95f);
  EXPECT_FLOAT_EQ(b.value[0], 1.0f);
  EXPECT_FLOAT_EQ(dk.value[0], 1.9f);
  o.decay_all_params = true;
  Optimizer(o).Step({&b}, 0.1);
  EXPECT_FLOAT_EQ(b.value[0], 0.95f);
}

TEST(Optimizer, MaskedWeightsStayZero) {
  Param p = P("c/kernel", {0.0f, 1.0f, 0.0f});
  p.mask = {0, 1, 0};
  for (const char* type : {"adam", "sgd"}) {
    OptimizerOptions o;
    o.type = type, o.momentum = 0.9;
    Optimizer opt(o);
    for (int i = 0; i < 5; ++i) {
      p.grad = {-1.0f, -1.0f, 3.0f};
      opt.Step({&p}, 0.1);
      EXPECT_EQ(p.value[0], 0.0f);
      EXPECT_EQ(p.value[2], 0.0f);
      EXPECT_GT(p.value[1], 1.0f);
    }
  }
}

TEST(Optimizer, OptionsValidateAndParse) {
  auto o = OptimizerOptions::FromJson(json{{"type", "sgd"}, {"momentum", 0.9}, {"weight_decay", 1e-4}});
  EXPECT_EQ(o.type, "sgd");
  EXPECT_DOUBLE_EQ(o.momentum, 0.9);
  EXPECT_EQ(OptimizerOptions::FromJson(o.ToJson()).ToJson(), o.ToJson());
  EXPECT_THROW(OptimizerOptions::FromJson(json{{"type", "rmsprop"}}), Error);
  EXPECT_THROW(OptimizerOptions::FromJson(json{{"beta_1", 0.9}}), Error);
  EXPECT_THROW(OptimizerOptions::FromJson(json{{"momentum", 1.5}}), Error);
}

// ---------------------------------------------------------------------------
// Learning-rate schedules
// ---------------------------------------------------------------------------
TEST(LrSchedule, KerasSemantics) {
  LrSchedule c;
  EXPECT_DOUBLE_EQ(c(12345), 0.01);
  // PolynomialDecay(0.01, 100, 1e-5, power=1): step 50 -> 0.00999*0.5 + 1e-5 = 0.005005
  auto p = LrSchedule::FromJson(json{{"type", "polynomial"}, {"initial", 0.01}, {"end", 1e-5}, {"decay_steps", 100}});
  EXPECT_DOUBLE_EQ(p(0), 0.01);
  EXPECT_NEAR(p(50), 0.005005, 1e-12);
  EXPECT_NEAR(p(100), 1e-5, 1e-15);
  EXPECT_NEAR(p(1000), 1e-5, 1e-15);  // held after decay_steps (cycle=False)
  p.power = 2;  // step 50: 0.00999*0.25 + 1e-5 = 0.0025075
  EXPECT_NEAR(p(50), 0.0025075, 1e-12);
  // CosineDecay(1, 10, alpha=0.1): step 5 -> 0.9*0.5 + 0.1 = 0.55; step 10 -> 0.1
  auto cs = LrSchedule::FromJson(json{{"type", "cosine"}, {"initial", 1.0}, {"decay_steps", 10}, {"alpha", 0.1}});
  EXPECT_NEAR(cs(0), 1.0, 1e-12);
  EXPECT_NEAR(cs(5), 0.55, 1e-12);
  EXPECT_NEAR(cs(10), 0.1, 1e-12);
  EXPECT_NEAR(cs(20), 0.1, 1e-12);
  // ExponentialDecay(1, 10, 0.5): step 5 -> 0.5^0.5
  auto ex = LrSchedule::FromJson(json{{"type", "exponential"}, {"initial", 1.0}, {"decay_steps", 10}, {"decay_rate", 0.5}});
  EXPECT_NEAR(ex(5), std::sqrt(0.5), 1e-12);
  EXPECT_THROW(LrSchedule::FromJson(json{{"type", "step"}}), Error);
  EXPECT_THROW(LrSchedule::FromJson(json{{"type", "polynomial"}, {"decay_steps", 0}}), Error);
  EXPECT_THROW(LrSchedule::FromJson(json{{"initial", 0.01}, {"warmup", 3}}), Error);
  EXPECT_EQ(LrSchedule::FromJson(p.ToJson()).ToJson(), p.ToJson());
}

// ---------------------------------------------------------------------------
// Magnitude pruning
// ---------------------------------------------------------------------------
TEST(PruningSchedule, PolynomialDecayTfmot) {
  // PolynomialDecay(0.2, 0.85, begin 0, end 1000, power 3, frequency 100)
  PruningSchedule s;
  EXPECT_TRUE(s.ShouldPrune(0));
  EXPECT_FALSE(s.ShouldPrune(50));
  EXPECT_TRUE(s.ShouldPrune(100));
  EXPECT_TRUE(s.ShouldPrune(500));
  EXPECT_TRUE(s.ShouldPrune(1000));
  EXPECT_FALSE(s.ShouldPrune(1100));
  EXPECT_FALSE(s.ShouldPrune(2000));
  EXPECT_NEAR(s.Sparsity(0), 0.2, 1e-12);
  EXPECT_NEAR(s.Sparsity(100), 0.85 - 0.65 * 0.729, 1e-12);  // 0.37615
  EXPECT_NEAR(s.Sparsity(500), 0.85 - 0.65 * 0.125, 1e-12);  // 0.76875
  EXPECT_NEAR(s.Sparsity(1000), 0.85, 1e-12);
  EXPECT_NEAR(s.Sparsity(2000), 0.85, 1e-12);
  // begin 200: steps before begin never prune; (step - begin) % frequency
  s.begin_step = 200, s.end_step = 700, s.frequency = 50;
  EXPECT_FALSE(s.ShouldPrune(100));
  EXPECT_FALSE(s.ShouldPrune(199));
  EXPECT_TRUE(s.ShouldPrune(200));
  EXPECT_TRUE(s.ShouldPrune(250));
  EXPECT_FALSE(s.ShouldPrune(260));
  EXPECT_NEAR(s.Sparsity(100), 0.2, 1e-12);
}

TEST(PruningSchedule, ConstantSparsity) {
  auto s = PruningSchedule::FromJson(json{{"type", "constant"}, {"target_sparsity", 0.5}, {"begin_step", 10},
                                          {"end_step", -1}, {"frequency", 5}});
  EXPECT_FALSE(s.ShouldPrune(5));
  EXPECT_TRUE(s.ShouldPrune(10));
  EXPECT_TRUE(s.ShouldPrune(1000000));
  EXPECT_FALSE(s.ShouldPrune(1000001));
  EXPECT_DOUBLE_EQ(s.Sparsity(0), 0.5);
  EXPECT_EQ(PruningSchedule::FromJson(s.ToJson()).ToJson(), s.ToJson());
  EXPECT_THROW(PruningSchedule::FromJson(json{{"final_sparsity", 1.0}}), Error);
  EXPECT_THROW(PruningSchedule::FromJson(json{{"begin_step", 10}, {"end_step", 10}}), Error);
  EXPECT_THROW(PruningSchedule::FromJson(json{{"frequency", 0}}), Error);
  EXPECT_THROW(PruningSchedule::FromJson(json{{"sparsity", 0.5}}), Error);
}

TEST(Pruning, KeptCountRounding) {
  EXPECT_EQ(KeptCount(100, 0.37615), 62u);  // 62.385
  EXPECT_EQ(KeptCount(100, 0.76875), 23u);  // 23.125
  EXPECT_EQ(KeptCount(10, 0.25), 8u);       // 7.5 -> 8 (half to even)
  EXPECT_EQ(KeptCount(10, 0.35), 6u);       // 6.5 -> 6 (half to even, as tf.math.round)
  EXPECT_EQ(KeptCount(10, 0.95), 1u);       // 0.5 -> 0 -> at least 1
  EXPECT_EQ(KeptCount(3, 0.99), 1u);
  EXPECT_EQ(KeptCount(144, 0.0), 144u);
}

TEST(Pruning, MasksFollowScheduleAtChosenSteps) {
  // 100 weights with distinct magnitudes 1..100 (sign alternating, shuffled);
  // at each pruning step exactly the KeptCount largest survive.
  Rng rng(3);
  std::vector<float> w(100);
  for (int i = 0; i < 100; ++i) w[i] = float(i + 1) * (i % 2 ? -1.0f : 1.0f);
  rng.Shuffle(w);
  Param k = P("c/kernel", w);
  k.prunable = true;
  Param b = P("c/bias", {0.001f, 0.0f});  // not prunable: untouched
  PruningSchedule s;
  struct Case { long step; bool update; size_t kept; };
  // step 0: 0.2 -> 80; 50: no update; 100: 62; 500: 23; 1000: 15; 2000: no update (past end)
  std::vector<Case> cases = {{0, true, 80}, {50, false, 80}, {100, true, 62}, {500, true, 23}, {1000, true, 15},
                             {2000, false, 15}};
  for (auto& c : cases) {
    EXPECT_EQ(UpdatePruningMasks({&k, &b}, s, c.step), c.update) << c.step;
    size_t kept = std::accumulate(k.mask.begin(), k.mask.end(), size_t(0));
    EXPECT_EQ(kept, c.kept) << "step " << c.step;
    for (size_t i = 0; i < 100; ++i) {
      const bool large = std::fabs(w[i]) > float(100 - c.kept);  // the kept set is magnitudes > 100-kept
      EXPECT_EQ(k.mask[i] != 0, large) << "step " << c.step << " i " << i;
      EXPECT_EQ(k.value[i], large ? w[i] : 0.0f);
    }
    EXPECT_TRUE(b.mask.empty());
    EXPECT_EQ(b.value, (std::vector<float>{0.001f, 0.0f}));
  }
  auto rep = SparsityReport({&k, &b});
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(rep[0].name, "c/kernel");
  EXPECT_EQ(rep[0].zeros, 85u);
  EXPECT_DOUBLE_EQ(rep[0].sparsity, 0.85);
  StripMasks({&k});
  EXPECT_TRUE(k.mask.empty());
}

TEST(Pruning, TiesKeepEveryWeightAtTheThreshold) {
  // |w| = 3,2,2,2,1 at sparsity 0.6: k = 2, threshold = 2 -> TFMOT keeps all >= 2 (4 weights)
  auto m = MagnitudeMask({3, -2, 2, 2, 1}, 0.6);
  EXPECT_EQ(m, (std::vector<uint8_t>{1, 1, 1, 1, 0}));
}

TEST(Pruning, PrunedWeightsStayZeroThroughTraining) {
  Rng rng(5);
  Param k = P("c/kernel", std::vector<float>(50));
  for (auto& v : k.value) v = float(rng.Uniform(-1, 1));
  k.prunable = true;
  PruningSchedule s;
  s.type = "constant", s.final_sparsity = 0.5, s.begin_step = 0, s.end_step = -1, s.frequency = 100;
  Optimizer opt(OptimizerOptions{});
  for (long step = 0; step < 150; ++step) {
    UpdatePruningMasks({&k}, s, step);
    for (auto& g : k.grad) g = float(rng.Uniform(-1, 1));
    opt.Step({&k}, 0.01);
    size_t zeros = SparsityReport({&k})[0].zeros;
    EXPECT_GE(zeros, 25u) << step;
  }
}

// ---------------------------------------------------------------------------
// Structured pruning
// ---------------------------------------------------------------------------
std::vector<std::unique_ptr<Layer>> SmallNet(Shape in, Rng& rng, bool dense_on_spatial) {
  std::vector<std::unique_ptr<Layer>> L;
  L.push_back(MakeLayer(json{{"type", "conv2d"}, {"name", "c1"}, {"filters", 6}, {"kernel", 3}, {"padding", "same"}}));
  L.push_back(MakeLayer(json{{"type", "batchnorm"}, {"name", "bn1"}}));
  L.push_back(MakeLayer(json{{"type", "relu"}, {"name", "r1"}}));
  L.push_back(MakeLayer(json{{"type", "conv2d"}, {"name", "c2"}, {"filters", 5}, {"kernel", 3}, {"strides", 2},
                             {"padding", "same"}}));
  L.push_back(MakeLayer(json{{"type", "batchnorm"}, {"name", "bn2"}}));
  L.push_back(MakeLayer(json{{"type", "relu"}, {"name", "r2"}}));
  if (!dense_on_spatial) L.push_back(MakeLayer(json{{"type", "global_average_pool"}, {"name", "gap"}}));
  L.push_back(MakeLayer(json{{"type", "dense"}, {"name", "fc"}, {"units", 3}}));
  Shape s = in;
  for (auto& l : L) {
    l->Build(s, rng);
    for (Param* p : l->Params())
      for (auto& v : p->value) v += float(rng.Uniform(-0.3, 0.3));
    for (Param* p : l->Buffers())
      for (auto& v : p->value) v += float(rng.Uniform(0.0, 0.5));
    s = l->OutputShape(s);
  }
  return L;
}

std::vector<float> RunNet(std::vector<std::unique_ptr<Layer>>& L, const std::vector<float>& x, int batch) {
  std::vector<float> cur = x;
  for (auto& l : L) {
    Shape os = l->OutputShape(l->input_shape);
    std::vector<float> out(size_t(batch) * os.size());
    l->Forward(cur.data(), out.data(), batch, false);
    cur.swap(out);
  }
  return cur;
}

// Removing filters == zeroing them (kernel column, bias, BN gamma/beta so the
// channel is exactly 0 after BN+ReLU... plus the next layer's input rows).
void CheckRemovalEqualsZeroing(size_t conv_index, bool dense_on_spatial) {
  Rng rng(11);
  Shape in{9, 6, 2};
  auto A = SmallNet(in, rng, dense_on_spatial);
  Rng rng2(11);
  auto B = SmallNet(in, rng2, dense_on_spatial);
  auto x = std::vector<float>(3 * in.size());
  for (auto& v : x) v = float(rng.Uniform(-1, 1));

  auto l1 = FilterL1Norms(*A[conv_index]);
  auto keep = SelectFiltersByL1(l1, int(l1.size()) - 2);
  ASSERT_EQ(keep.size(), l1.size() - 2);
  // Zero the dropped channels in B: conv kernel column + bias, and the next layer's input rows.
  auto* cb = dynamic_cast<Conv2DLayer*>(B[conv_index].get());
  const int F = cb->filters;
  for (int f = 0; f < F; ++f) {
    if (std::find(keep.begin(), keep.end(), f) != keep.end()) continue;
    for (size_t i = f; i < cb->kernel.value.size(); i += F) cb->kernel.value[i] = 0;
    cb->bias.value[f] = 0;
    for (size_t j = conv_index + 1; j < B.size(); ++j) {
      if (auto* c = dynamic_cast<Conv2DLayer*>(B[j].get())) {  // kernel (KH,KW,F,OC): rows with channel f
        const int oc = c->filters;
        for (size_t i = 0; i < c->kernel.value.size(); ++i)
          if (int(i / oc) % F == f) c->kernel.value[i] = 0;
        break;
      }
      if (auto* d = dynamic_cast<DenseLayer*>(B[j].get())) {  // rows p*F + f
        for (size_t i = 0; i < d->kernel.value.size(); ++i)
          if (int(i / d->units) % F == f) d->kernel.value[i] = 0;
        break;
      }
    }
  }
  auto want = RunNet(B, x, 3);
  auto kept = PruneFiltersL1(A, conv_index, 0.0, int(l1.size()) - 2);
  EXPECT_EQ(kept, keep);
  EXPECT_EQ(dynamic_cast<Conv2DLayer*>(A[conv_index].get())->filters, F - 2);
  auto* bn = dynamic_cast<BatchNormLayer*>(A[conv_index + 1].get());
  EXPECT_EQ(bn->gamma.value.size(), size_t(F - 2));
  EXPECT_EQ(bn->moving_variance.value.size(), size_t(F - 2));
  auto got = RunNet(A, x, 3);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
  // Shapes still chain.
  EXPECT_NO_THROW(OutputShapeOf(A, in));
}

TEST(StructuredPruning, RemovingFiltersEqualsZeroingThem) {
  // BN of a dropped channel sees an all-zero input: its output is beta - gamma*mean/sqrt(var+eps),
  // a constant that the zeroed next-layer rows ignore. So outputs match exactly up to float order.
  CheckRemovalEqualsZeroing(0, false);  // conv -> bn -> relu -> conv
  CheckRemovalEqualsZeroing(3, false);  // conv -> bn -> relu -> gap -> dense
  CheckRemovalEqualsZeroing(3, true);   // conv -> bn -> relu -> dense on a spatial input
}

TEST(StructuredPruning, FollowsChannelsThroughDepthwise) {
  // conv(6) -> bn -> relu -> depthwise(dm 2) -> bn -> relu -> max_pool -> conv(5) -> gap -> dense(3)
  auto make = [](Rng& rng) {
    std::vector<std::unique_ptr<Layer>> L;
    L.push_back(MakeLayer(json{{"type", "conv2d"}, {"name", "c1"}, {"filters", 6}, {"kernel", 3}, {"padding", "same"}}));
    L.push_back(MakeLayer(json{{"type", "batchnorm"}, {"name", "bn1"}}));
    L.push_back(MakeLayer(json{{"type", "relu"}, {"name", "r1"}}));
    L.push_back(MakeLayer(json{{"type", "depthwise_conv2d"}, {"name", "dw"}, {"kernel", 3}, {"padding", "same"},
                               {"depth_multiplier", 2}}));
    L.push_back(MakeLayer(json{{"type", "batchnorm"}, {"name", "bn2"}}));
    L.push_back(MakeLayer(json{{"type", "relu"}, {"name", "r2"}}));
    L.push_back(MakeLayer(json{{"type", "max_pool2d"}, {"name", "mp"}, {"pool_size", 2}}));
    L.push_back(MakeLayer(json{{"type", "conv2d"}, {"name", "c2"}, {"filters", 5}, {"kernel", 3}, {"padding", "same"}}));
    L.push_back(MakeLayer(json{{"type", "global_average_pool"}, {"name", "gap"}}));
    L.push_back(MakeLayer(json{{"type", "dense"}, {"name", "fc"}, {"units", 3}}));
    Shape s{8, 6, 2};
    for (auto& l : L) {
      l->Build(s, rng);
      for (Param* p : l->Params())
        for (auto& v : p->value) v += float(rng.Uniform(-0.3, 0.3));
      for (Param* p : l->Buffers())
        for (auto& v : p->value) v += float(rng.Uniform(0.0, 0.5));
      s = l->OutputShape(s);
    }
    return L;
  };
  Rng r1(4), r2(4);
  auto A = make(r1), B = make(r2);
  std::vector<float> x(2 * 8 * 6 * 2);
  for (auto& v : x) v = float(r1.Uniform(-1, 1));
  const std::vector<int> keep = {0, 2, 3, 5};  // drop filters 1 and 4
  auto* c1 = dynamic_cast<Conv2DLayer*>(B[0].get());
  auto* c2 = dynamic_cast<Conv2DLayer*>(B[7].get());
  for (int f : {1, 4}) {
    for (size_t i = f; i < c1->kernel.value.size(); i += 6) c1->kernel.value[i] = 0;
    c1->bias.value[f] = 0;
    // c2 input channels f*2 + m (depthwise outputs of channel f): rows with (i / 5) % 12 in {2f, 2f+1}
    for (size_t i = 0; i < c2->kernel.value.size(); ++i)
      if (int(i / 5) % 12 / 2 == f) c2->kernel.value[i] = 0;
  }
  auto want = RunNet(B, x, 2);
  RemoveFilters(A, 0, keep);
  auto* dw = dynamic_cast<DepthwiseConv2DLayer*>(A[3].get());
  EXPECT_EQ(dw->kernel.dims, (std::vector<int>{3, 3, 4, 2}));
  EXPECT_EQ(dw->bias.value.size(), 8u);
  EXPECT_EQ(dynamic_cast<BatchNormLayer*>(A[4].get())->gamma.value.size(), 8u);
  EXPECT_EQ(dynamic_cast<Conv2DLayer*>(A[7].get())->kernel.dims, (std::vector<int>{3, 3, 8, 5}));
  EXPECT_EQ(A[6]->input_shape.c, 8);
  auto got = RunNet(A, x, 2);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

TEST(StructuredPruning, L1SelectionAndErrors) {
  EXPECT_EQ(SelectFiltersByL1({1, 5, 3, 5, 0}, 3), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(SelectFiltersByL1({2, 2, 2}, 2), (std::vector<int>{0, 1}));  // ties -> lower index
  Rng rng(1);
  auto L = SmallNet({9, 6, 2}, rng, false);
  EXPECT_THROW(RemoveFilters(L, 1, {0}), Error);          // not a conv
  EXPECT_THROW(RemoveFilters(L, 0, {}), Error);           // nothing kept
  EXPECT_THROW(RemoveFilters(L, 0, {2, 1}), Error);       // not ascending
  EXPECT_THROW(RemoveFilters(L, 0, {0, 6}), Error);       // out of range
  EXPECT_THROW(RemoveFilters(L, 99, {0}), Error);
  // Masks shrink with the kernel.
  auto* c = dynamic_cast<Conv2DLayer*>(L[0].get());
  c->kernel.mask.assign(c->kernel.value.size(), 1);
  c->kernel.mask[1] = 0;  // (0,0,0, filter 1)
  RemoveFilters(L, 0, {1, 2, 3});
  EXPECT_EQ(c->kernel.dims, (std::vector<int>{3, 3, 2, 3}));
  EXPECT_EQ(c->kernel.mask.size(), c->kernel.value.size());
  EXPECT_EQ(c->kernel.mask[0], 0);
  EXPECT_EQ(c->kernel.grad.size(), c->kernel.value.size());
}

}  // namespace
}  // namespace kws
