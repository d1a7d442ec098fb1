// Layer and training-step speed (Google Benchmark).
//   build/bench_layers                                 # all
//   build/bench_layers --benchmark_filter=SeedStep
// Cases (batch 25, input 97x20x1, the seed recipe of configs/seed.toml:
// conv3x3/s2 16 + BN + ReLU, 3 x (conv3x3/s1 16 + BN + ReLU), GAP, dense 2):
//   SeedStep/<threads>      forward + softmax-CE + backward + Adam step, whole model (strides 2,1,1,1)
//   Seed2122Step/<threads>/<fused>  the same for the recipe's strides 2,1,2,2 through kws::Model:
//                           layer by layer (fused 0) or with train/fused_step.h (fused 1), FTZ on as in training
//   SeedForward/<threads>   inference forward only
//   BaselineStep/<threads>  the same for configs/baseline.toml (3 x conv3x3 128 filters)
//   Conv*/<threads>         single conv layers forward+backward (fast path)
//   ConvRef*                the reference loops, for scale
// Compare with tools/torch/bench_seed_step.py (same model in PyTorch).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "layers/conv2d.h"
#include "layers/layer.h"
#include "layers/softmax_cross_entropy.h"
#include "model/model.h"
#include "train/denormals.h"
#include "train/fused_step.h"
#include "train/optimizer.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace {

using json = nlohmann::json;
constexpr int kBatch = 25;

struct Net {
  std::vector<std::unique_ptr<kws::Layer>> layers;
  std::vector<kws::Shape> shapes;
  std::vector<std::vector<float>> act, grad;
  std::vector<kws::Param*> params;
  std::vector<int32_t> labels;
  std::vector<float> probs;

  explicit Net(int filters = 16, int convs = 4) {
    std::vector<json> cfg;
    for (int i = 0; i < convs; ++i) {
      cfg.push_back({{"type", "conv2d"}, {"filters", filters}, {"kernel", 3}, {"strides", i == 0 ? 2 : 1},
                     {"padding", "same"}, {"use_bias", false}, {"name", "conv" + std::to_string(i)}});
      cfg.push_back({{"type", "batchnorm"}, {"name", "bn" + std::to_string(i)}});
      cfg.push_back({{"type", "relu"}, {"name", "relu" + std::to_string(i)}});
    }
    cfg.push_back({{"type", "global_average_pool"}});
    cfg.push_back({{"type", "dense"}, {"units", 2}, {"name", "fc"}});
    kws::Rng rng(1);
    shapes.push_back({97, 20, 1});
    for (auto& c : cfg) {
      layers.push_back(kws::MakeLayer(c));
      layers.back()->Build(shapes.back(), rng);
      shapes.push_back(layers.back()->OutputShape(shapes.back()));
      for (kws::Param* p : layers.back()->Params()) params.push_back(p);
    }
    for (auto& s : shapes) act.emplace_back(kBatch * s.size()), grad.emplace_back(kBatch * s.size());
    for (auto& v : act[0]) v = float(rng.Uniform(-3, 3));
    for (int i = 0; i < kBatch; ++i) labels.push_back(i % 2);
    probs.resize(kBatch * 2);
  }
  void Forward(bool training) {
    for (size_t i = 0; i < layers.size(); ++i) layers[i]->Forward(act[i].data(), act[i + 1].data(), kBatch, training);
  }
  void Step(kws::Optimizer& opt) {
    kws::ZeroGrads(params);
    Forward(true);
    kws::softmax_cross_entropy_forward(probs.data(), act.back().data(), labels.data(), kBatch, 2);
    kws::softmax_cross_entropy_backward(grad.back().data(), probs.data(), labels.data(), kBatch, 2);
    for (size_t i = layers.size(); i-- > 0;)
      layers[i]->Backward(act[i].data(), act[i + 1].data(), grad[i + 1].data(), i ? grad[i].data() : nullptr, kBatch);
    opt.Step(params, 0.01);
  }
};

void SeedStep(benchmark::State& state) {
  kws::SetNumThreads(int(state.range(0)));
  Net net;
  kws::Optimizer opt(kws::OptimizerOptions{});
  for (auto _ : state) net.Step(opt);
  state.SetItemsProcessed(state.iterations() * kBatch);
  kws::SetNumThreads(0);
}
BENCHMARK(SeedStep)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// configs/seed.toml's network (strides 2,1,2,2) as the trainer runs it.
void Seed2122Step(benchmark::State& state) {
  kws::SetNumThreads(int(state.range(0)));
  json layers = json::array();
  const int strides[4] = {2, 1, 2, 2};
  for (int i = 0; i < 4; ++i) {
    layers.push_back({{"type", "conv2d"}, {"filters", 16}, {"kernel", 3}, {"strides", strides[i]},
                      {"padding", "same"}, {"use_bias", false}});
    layers.push_back({{"type", "batchnorm"}});
    layers.push_back({{"type", "relu"}});
  }
  layers.push_back({{"type", "global_average_pool"}});
  layers.push_back({{"type", "dense"}});
  layers.push_back({{"type", "softmax"}});
  kws::Model m = kws::Model::Build(layers, {97, 20, 1}, 2, 1);
  std::vector<kws::Param*> params = m.Params();
  auto fused = state.range(1) ? kws::FusedConvStep::TryCreate(m) : nullptr;
  if (state.range(1) && !fused) state.SkipWithError("FusedConvStep does not take the seed model");
  kws::Rng rng(2);
  std::vector<float> x(size_t(kBatch) * 97 * 20);
  for (auto& v : x) v = float(rng.Uniform(-3, 3));
  std::vector<int32_t> y(kBatch);
  for (int i = 0; i < kBatch; ++i) y[size_t(i)] = i % 2;
  kws::Optimizer opt(kws::OptimizerOptions{});
  kws::FlushDenormalsScope ftz;
  for (auto _ : state) {
    kws::ZeroGrads(params);
    if (fused) {
      fused->Step(x.data(), y.data(), kBatch);
    } else {
      m.Forward(x.data(), kBatch, true);
      m.Loss(y.data(), kBatch);
      m.Backward(kBatch);
    }
    opt.Step(params, 0.001);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  kws::SetNumThreads(0);
}
BENCHMARK(Seed2122Step)->ArgsProduct({{1, 2}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

// configs/baseline.toml: three conv3x3 128-filter layers (strides 2,1,1).
void BaselineStep(benchmark::State& state) {
  kws::SetNumThreads(int(state.range(0)));
  Net net(128, 3);
  kws::Optimizer opt(kws::OptimizerOptions{});
  for (auto _ : state) net.Step(opt);
  state.SetItemsProcessed(state.iterations() * kBatch);
  kws::SetNumThreads(0);
}
BENCHMARK(BaselineStep)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void SeedForward(benchmark::State& state) {
  kws::SetNumThreads(int(state.range(0)));
  Net net;
  for (auto _ : state) net.Forward(false);
  state.SetItemsProcessed(state.iterations() * kBatch);
  kws::SetNumThreads(0);
}
BENCHMARK(SeedForward)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// One conv layer, forward + backward (with din), fast path.
void ConvFwdBwd(benchmark::State& state, kws::Shape in, int stride, bool ref) {
  kws::SetNumThreads(int(state.range(0)));
  kws::Conv2DShape s = kws::MakeConv2DShape(in, 3, 3, stride, stride, true, 16, "bench");
  s.n = kBatch;
  kws::Rng rng(2);
  std::vector<float> x(size_t(kBatch) * in.size()), w(9 * in.c * 16), dw(w.size()), out(size_t(kBatch) * s.oh * s.ow * 16),
      dout(out.size()), din(x.size());
  for (auto* v : {&x, &w, &dout})
    for (auto& e : *v) e = float(rng.Uniform(-1, 1));
  kws::Conv2DScratch sc;
  for (auto _ : state) {
    if (ref) {
      kws::conv2d_forward_ref(out.data(), x.data(), w.data(), nullptr, s);
      kws::conv2d_backward_ref(din.data(), dw.data(), nullptr, dout.data(), x.data(), w.data(), s);
    } else {
      kws::conv2d_forward(out.data(), x.data(), w.data(), nullptr, s, sc);
      kws::conv2d_backward(din.data(), dw.data(), nullptr, dout.data(), x.data(), w.data(), s, sc);
    }
    benchmark::DoNotOptimize(din.data());
  }
  kws::SetNumThreads(0);
}
BENCHMARK_CAPTURE(ConvFwdBwd, first_1to16_s2, kws::Shape{97, 20, 1}, 2, false)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(ConvFwdBwd, mid_16to16_s1, kws::Shape{49, 10, 16}, 1, false)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(ConvFwdBwd, ref_mid_16to16_s1, kws::Shape{49, 10, 16}, 1, true)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
