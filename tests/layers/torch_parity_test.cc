// PyTorch parity: every layer's forward and backward, and 20 Keras-Adam steps
// of a small network, against fixtures written by tools/torch/gen_layer_fixtures.py
// (committed; CI has no torch).
//
// Tolerance: both sides compute in float32 but sum in different orders. A sum
// of K products of O(1) values carries ~sqrt(K)*6e-8*|terms| rounding, i.e.
// ~1e-6 for K <= 300 (conv outputs, input grads); weight gradients sum over
// N*OH*OW positions and reach magnitudes ~10-50, so the bound is relative:
// max|ours - torch| <= 2e-5 * max(1, max|torch|) per tensor. An indexing or
// padding mistake changes values by O(1) and fails by orders of magnitude.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "layers/layer.h"
#include "layers/softmax_cross_entropy.h"
#include "model/config.h"
#include "model/model.h"
#include "train/optimizer.h"
#include "util/parallel.h"

namespace kws {
namespace {

using json = nlohmann::json;

json Load(const std::string& name) {
  std::ifstream f(std::string(KWS_TEST_DIR) + "/fixtures/" + name + ".json");
  if (!f) throw std::runtime_error("missing fixture " + name);
  json j = json::parse(f);
  EXPECT_EQ(j["version"].get<int>(), 1);
  return j;
}

std::vector<float> V(const json& j) { return j.get<std::vector<float>>(); }

double Compare(const std::string& what, const std::vector<float>& got, const std::vector<float>& want,
               double rel = 2e-5) {
  EXPECT_EQ(got.size(), want.size()) << what;
  double maxref = 0, maxdiff = 0;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    maxref = std::max(maxref, double(std::fabs(want[i])));
    maxdiff = std::max(maxdiff, double(std::fabs(got[i] - want[i])));
  }
  const double tol = rel * std::max(1.0, maxref);
  EXPECT_LE(maxdiff, tol) << what << ": max diff " << maxdiff << " (max |ref| " << maxref << ")";
  std::printf("  %-40s max|diff| = %.3g  (max|ref| %.3g)\n", what.c_str(), maxdiff, maxref);
  return maxdiff;
}

std::string Suffix(const std::string& name) { return name.substr(name.rfind('/') + 1); }

// A layer with several inputs (add, concat): "xs", "input_shapes" and "dins" are lists.
void RunMultiInputFixture(const std::string& fixture, const json& j) {
  auto layer = MakeLayer(j["config"]);
  std::vector<Shape> shapes;
  for (const json& s : j["input_shapes"]) shapes.push_back({s[0].get<int>(), s[1].get<int>(), s[2].get<int>()});
  const int batch = j["batch"].get<int>();
  Rng rng(1);
  layer->BuildN(shapes, rng);
  std::vector<std::vector<float>> xs, dins;
  std::vector<const float*> xp;
  std::vector<float*> dp;
  for (const json& x : j["xs"]) xs.push_back(V(x));
  for (auto& x : xs) xp.push_back(x.data()), dins.emplace_back(x.size()), dp.push_back(dins.back().data());
  std::vector<float> dout = V(j["dout"]), out(size_t(batch) * layer->OutputShapeN(shapes).size());
  layer->ForwardN(xp, out.data(), batch, true);
  layer->BackwardN(xp, out.data(), dout.data(), dp, batch);
  Compare(fixture + " out", out, V(j["out"]));
  for (size_t k = 0; k < dins.size(); ++k) Compare(fixture + " din" + std::to_string(k), dins[k], V(j["dins"][k]));
}

void RunLayerFixture(const std::string& fixture) {
  SCOPED_TRACE(fixture);
  json j = Load(fixture);
  if (j.contains("xs")) return RunMultiInputFixture(fixture, j);
  auto layer = MakeLayer(j["config"]);
  Shape in{j["input_shape"][0].get<int>(), j["input_shape"][1].get<int>(), j["input_shape"][2].get<int>()};
  const int batch = j["batch"].get<int>();
  const bool training = j["training"].get<bool>();
  Rng rng(1);
  layer->Build(in, rng);
  for (Param* p : layer->Params()) {
    ASSERT_TRUE(j["params"].contains(Suffix(p->name))) << p->name;
    p->value = V(j["params"][Suffix(p->name)]);
    std::fill(p->grad.begin(), p->grad.end(), 0.0f);
  }
  if (j.contains("buffers"))
    for (Param* p : layer->Buffers()) p->value = V(j["buffers"][Suffix(p->name)]);
  std::vector<float> x = V(j["x"]), dout = V(j["dout"]);
  std::vector<float> out(size_t(batch) * layer->OutputShape(in).size()), din(x.size());
  layer->Forward(x.data(), out.data(), batch, training);
  layer->Backward(x.data(), out.data(), dout.data(), din.data(), batch);
  Compare(fixture + " out", out, V(j["out"]));
  Compare(fixture + " din", din, V(j["din"]));
  for (Param* p : layer->Params()) Compare(fixture + " d" + Suffix(p->name), p->grad, V(j["grads"][Suffix(p->name)]));
  if (j.contains("buffers_after"))
    for (Param* p : layer->Buffers())
      Compare(fixture + " " + Suffix(p->name) + " after", p->value, V(j["buffers_after"][Suffix(p->name)]));
}

TEST(TorchParity, Conv2D) {
  for (const char* f : {"conv2d_same_s1", "conv2d_same_s2", "conv2d_valid_s2", "conv2d_1to16"}) RunLayerFixture(f);
}
TEST(TorchParity, Conv2DSingleThread) {
  SetNumThreads(1);
  RunLayerFixture("conv2d_same_s2");
  SetNumThreads(0);
}
TEST(TorchParity, Depthwise) {
  for (const char* f : {"depthwise_same_s1_dm2", "depthwise_same_s2"}) RunLayerFixture(f);
}
TEST(TorchParity, BatchNorm) {
  RunLayerFixture("batchnorm_train");
  RunLayerFixture("batchnorm_eval");
}
TEST(TorchParity, Pools) {
  for (const char* f : {"max_pool_valid_3s2", "avg_pool_valid_2s2", "avg_pool_same_3s1", "max_pool_same_3s1"})
    RunLayerFixture(f);
}
TEST(TorchParity, GlobalAveragePoolAndDense) {
  RunLayerFixture("global_average_pool");
  RunLayerFixture("dense");
}

// The layers graph models need: dilation, one-axis kernels and per-axis padding in conv2d and
// depthwise_conv2d, SubSpectralNorm (training and inference), mean over one axis, swish, hard swish,
// broadcasting add and concat.
TEST(TorchParity, DilatedOneAxisAndMixedPaddingConvs) {
  for (const char* f : {"conv2d_dilated_same", "conv2d_k5x1_s2_same", "conv2d_k1x3_valid_dil2", "conv2d_mixed_padding",
                        "depthwise_k3x1_dil4_same", "depthwise_k1x3_s2_same", "depthwise_k5_mixed_padding"})
    RunLayerFixture(f);
}
TEST(TorchParity, SubSpectralNorm) {
  RunLayerFixture("subspectral_norm_train");
  RunLayerFixture("subspectral_norm_eval");
}
TEST(TorchParity, MeanSwishHardSwish) {
  for (const char* f : {"mean_w", "mean_h", "swish", "hard_swish"}) RunLayerFixture(f);
}
TEST(TorchParity, AddAndConcat) {
  RunLayerFixture("add_broadcast");
  RunLayerFixture("concat");
}

TEST(TorchParity, SoftmaxCrossEntropy) {
  json j = Load("softmax_cross_entropy");
  const int n = j["n"], c = j["c"];
  std::vector<float> z = V(j["logits"]), p(n * c), dz(n * c);
  std::vector<int32_t> y = j["labels"].get<std::vector<int32_t>>();
  float loss = softmax_cross_entropy_forward(p.data(), z.data(), y.data(), n, c);
  softmax_cross_entropy_backward(dz.data(), p.data(), y.data(), n, c);
  Compare("softmax_ce loss", {loss}, {j["loss"].get<float>()});
  Compare("softmax_ce probs", p, V(j["probs"]));
  Compare("softmax_ce dlogits", dz, V(j["dlogits"]));
}

// train.class_weights + train.label_smoothing against torch's label_smoothing, times the weight.
TEST(TorchParity, SoftmaxCrossEntropyWeightedSmoothed) {
  json j = Load("softmax_cross_entropy_weighted_smoothed");
  const int n = j["n"], c = j["c"];
  CrossEntropyOptions o;
  o.label_smoothing = j["label_smoothing"].get<float>();
  o.class_weights = V(j["class_weights"]);
  std::vector<float> z = V(j["logits"]), p(n * c), dz(n * c);
  std::vector<int32_t> y = j["labels"].get<std::vector<int32_t>>();
  float loss = softmax_cross_entropy_forward(p.data(), z.data(), y.data(), n, c, o);
  softmax_cross_entropy_backward(dz.data(), p.data(), y.data(), n, c, o);
  Compare("weighted smoothed loss", {loss}, {j["loss"].get<float>()});
  Compare("weighted smoothed probs", p, V(j["probs"]));
  Compare("weighted smoothed dlogits", dz, V(j["dlogits"]));
  // The plain loss differs from it (the options are applied, not ignored).
  const float plain = softmax_cross_entropy_forward(nullptr, z.data(), y.data(), n, c);
  EXPECT_GT(std::fabs(plain - loss), 1e-2f);
}

TEST(TorchParity, SoftmaxCrossEntropySoftTargets) {
  json j = Load("softmax_cross_entropy_soft_targets");
  const int n = j["n"], c = j["c"];
  CrossEntropyOptions o;
  o.label_smoothing = j["label_smoothing"].get<float>();
  o.soft_weight = j["soft_weight"].get<float>();
  o.class_weights = V(j["class_weights"]);
  std::vector<float> z = V(j["logits"]), t = V(j["soft"]), p(n * c), dz(n * c);
  std::vector<int32_t> y = j["labels"].get<std::vector<int32_t>>();
  float loss = softmax_cross_entropy_forward(p.data(), z.data(), y.data(), n, c, o, t.data());
  softmax_cross_entropy_backward(dz.data(), p.data(), y.data(), n, c, o, 0, t.data());
  Compare("soft-target loss", {loss}, {j["loss"].get<float>()});
  Compare("soft-target probs", p, V(j["probs"]));
  Compare("soft-target dlogits", dz, V(j["dlogits"]));
}

// 20 steps of Keras Adam (lr 0.01) on conv+BN+ReLU, conv/s2+BN+ReLU, GAP, dense.
// Rounding differences compound over the steps (measured: <= 7e-7), and Adam's
// m/sqrt(v) amplifies relative gradient differences, so the bound stays the
// relative 2e-5; each update is ~lr = 1e-2, so a wrong update formula, BN
// statistic or gradient is off by >= 1e-3 after 20 steps. (Keras' vs torch's
// epsilon placement is too small to show here; train_math tests it by hand.)
TEST(TorchParity, KerasAdamNetwork20Steps) {
  json j = Load("adam_network");
  std::vector<json> cfg = {
      {{"type", "conv2d"}, {"name", "c1"}, {"filters", 4}, {"kernel", 3}, {"padding", "same"}, {"use_bias", false}},
      {{"type", "batchnorm"}, {"name", "bn1"}},
      {{"type", "relu"}, {"name", "r1"}},
      {{"type", "conv2d"}, {"name", "c2"}, {"filters", 4}, {"kernel", 3}, {"strides", 2}, {"padding", "same"},
       {"use_bias", false}},
      {{"type", "batchnorm"}, {"name", "bn2"}},
      {{"type", "relu"}, {"name", "r2"}},
      {{"type", "global_average_pool"}, {"name", "gap"}},
      {{"type", "dense"}, {"name", "fc"}, {"units", 3}},
  };
  Shape in{j["input_shape"][0].get<int>(), j["input_shape"][1].get<int>(), j["input_shape"][2].get<int>()};
  const int batch = j["batch"].get<int>();
  std::vector<std::unique_ptr<Layer>> L;
  std::vector<Shape> shapes = {in};
  Rng rng(1);
  for (auto& c : cfg) {
    L.push_back(MakeLayer(c));
    L.back()->Build(shapes.back(), rng);
    shapes.push_back(L.back()->OutputShape(shapes.back()));
  }
  std::vector<Param*> params, buffers;
  for (auto& l : L) {
    for (Param* p : l->Params()) params.push_back(p);
    for (Param* p : l->Buffers()) buffers.push_back(p);
  }
  for (Param* p : params) p->value = V(j["init"][p->name]);
  std::vector<std::vector<float>> act(L.size() + 1), grad(L.size() + 1);
  for (size_t i = 0; i <= L.size(); ++i) act[i].resize(batch * shapes[i].size()), grad[i].resize(act[i].size());
  Optimizer opt(OptimizerOptions{});
  const int steps = j["steps"];
  std::vector<float> losses;
  auto forward = [&](const std::vector<float>& x, bool training) {
    act[0] = x;
    for (size_t i = 0; i < L.size(); ++i) L[i]->Forward(act[i].data(), act[i + 1].data(), batch, training);
  };
  for (int t = 0; t < steps; ++t) {
    std::vector<float> x = V(j["xs"][t % 2]);
    std::vector<int32_t> y = j["ys"][t % 2].get<std::vector<int32_t>>();
    ZeroGrads(params);
    forward(x, true);
    std::vector<float> probs(batch * 3);
    losses.push_back(softmax_cross_entropy_forward(probs.data(), act.back().data(), y.data(), batch, 3));
    softmax_cross_entropy_backward(grad.back().data(), probs.data(), y.data(), batch, 3);
    for (size_t i = L.size(); i-- > 0;)
      L[i]->Backward(act[i].data(), act[i + 1].data(), grad[i + 1].data(), i ? grad[i].data() : nullptr, batch);
    opt.Step(params, j["lr"].get<double>());
  }
  Compare("adam_network losses", losses, V(j["losses"]), 2e-5);
  for (Param* p : params) Compare("adam_network " + p->name, p->value, V(j["final"][p->name]), 2e-5);
  for (Param* p : buffers) Compare("adam_network " + p->name, p->value, V(j["buffers_final"][p->name]), 2e-5);
  forward(V(j["xs"][0]), false);
  Compare("adam_network eval logits", act.back(), V(j["eval_logits"]), 2e-5);
}

// The whole BC-ResNet-1 of configs/zoo/bc_resnet1.toml (dropout off) against the same network in
// PyTorch: logits, loss, every parameter gradient and the moving statistics after one training-mode
// step, within 1e-4 of each tensor's largest magnitude. The network is ~130 layers deep with
// broadcast sums and SubSpectralNorm; a wrong index, padding side or gradient path anywhere is O(1).
TEST(TorchParity, BcResNet1ForwardBackward) {
  json j = Load("bc_resnet1");
  Config c = LoadConfig(std::string(KWS_SOURCE_DIR) + "/configs/zoo/bc_resnet1.toml");
  json layers = c.layers;
  for (json& l : layers)
    if (l.value("type", "") == "dropout") l["rate"] = 0.0;
  const Shape in{j["input_shape"][0].get<int>(), j["input_shape"][1].get<int>(), j["input_shape"][2].get<int>()};
  const int batch = j["batch"].get<int>();
  Model m = Model::Build(layers, in, 12, 1);
  for (Param* p : m.Params()) {
    ASSERT_TRUE(j["params"].contains(p->name)) << p->name;
    p->value = V(j["params"][p->name]);
  }
  EXPECT_EQ(m.Params().size(), j["params"].size());
  const std::vector<float> x = V(j["x"]);
  const std::vector<int32_t> y = j["labels"].get<std::vector<int32_t>>();
  const float* logits = m.Forward(x.data(), batch, true);
  Compare("bc_resnet1 logits", std::vector<float>(logits, logits + batch * 12), V(j["logits"]), 1e-4);
  Compare("bc_resnet1 loss", {m.Loss(y.data(), batch)}, {j["loss"].get<float>()}, 1e-4);
  m.ZeroGrad();
  m.Backward(batch);
  for (Param* p : m.Params()) Compare("bc_resnet1 d" + p->name, p->grad, V(j["grads"][p->name]), 1e-4);
  for (Param* p : m.Buffers()) Compare("bc_resnet1 " + p->name, p->value, V(j["buffers_after"][p->name]), 1e-4);
}

}  // namespace
}  // namespace kws
