// train.ema_decay: the moving average itself (WeightAverage against the formula written out),
// and its wiring into the trainer (the kept model is the average; resume stays bit-identical).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model.h"
#include "train/ema.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"
#include "train_test_util.h"

namespace kws {
namespace {

namespace fsys = std::filesystem;

const char* kLayers = R"([
  {"type": "conv2d", "filters": 3, "kernel": [3, 3], "strides": [2, 2], "padding": "same", "use_bias": false},
  {"type": "batchnorm"}, {"type": "relu"}, {"type": "global_average_pool"}, {"type": "dense"}, {"type": "softmax"}])";

std::vector<std::vector<float>> Values(Model& m) {
  std::vector<std::vector<float>> v;
  for (Param* p : m.Params()) v.push_back(p->value);
  for (Param* p : m.Buffers()) v.push_back(p->value);
  return v;
}

void Perturb(Model& m, Rng& rng) {
  for (Param* p : m.Params())
    for (float& x : p->value) x = float(rng.Normal());
  for (Param* p : m.Buffers())
    for (float& x : p->value) x = float(rng.Uniform());
}

// The shadow of every tensor (weights and BatchNorm statistics) follows
// decay_t = min(decay, (1 + t) / (10 + t)); shadow -= (1 - decay_t) (shadow - value), computed here in
// double; Apply zeroes masked weights; Restore gives the live values back bit for bit.
TEST(WeightAverage, FollowsTheFormulaAndRestores) {
  Model m = Model::Build(nlohmann::json::parse(kLayers), {8, 6, 1}, 2, 1);
  const double decay = 0.9;
  WeightAverage ema(decay, m);
  std::vector<std::vector<double>> want;
  for (auto& t : Values(m)) want.emplace_back(t.begin(), t.end());
  Rng rng(7);
  for (long step = 0; step < 40; ++step) {  // (1 + t) / (10 + t) passes 0.9 at t = 80: both regimes
    Perturb(m, rng);
    ema.Update(step * 3);
    const double d = std::min(decay, double(1 + step * 3) / double(10 + step * 3));
    auto now = Values(m);
    for (size_t t = 0; t < want.size(); ++t)
      for (size_t i = 0; i < want[t].size(); ++i) want[t][i] -= (1 - d) * (want[t][i] - double(now[t][i]));
  }
  Param* kernel = m.Params()[0];
  ASSERT_TRUE(kernel->prunable);
  kernel->mask.assign(kernel->value.size(), 1);
  kernel->mask[0] = kernel->mask[5] = 0;
  const auto live = Values(m);
  ema.Apply();
  const auto avg = Values(m);
  for (size_t t = 0; t < want.size(); ++t)
    for (size_t i = 0; i < want[t].size(); ++i) {
      const bool masked = t == 0 && (i == 0 || i == 5);
      EXPECT_NEAR(avg[t][i], masked ? 0.0 : want[t][i], 1e-5) << "tensor " << t << " [" << i << "]";
      if (!masked) EXPECT_NE(avg[t][i], live[t][i]) << "tensor " << t << " [" << i << "]";
    }
  EXPECT_THROW(ema.Update(200), Error);  // not while applied
  ema.Restore();
  EXPECT_EQ(Values(m), live);
}

using train_test::kTiny;
using train_test::Split;
using train_test::Synthetic;

std::vector<float> Weights(const Checkpoint& c) {
  Model m = ModelFromCheckpoint(c);
  std::vector<float> v;
  for (Param* p : m.Params()) v.insert(v.end(), p->value.begin(), p->value.end());
  for (Param* p : m.Buffers()) v.insert(v.end(), p->value.begin(), p->value.end());
  return v;
}

// A vanishing decay keeps the last weights (up to the rounding of s - (s - v)); a real one keeps
// something else, at the final masks, and the reported validation numbers are the kept model's.
TEST(WeightAverage, TrainerKeepsTheAverage) {
  FeatureSet fs = Synthetic(64, 11);
  auto run = [&](std::vector<std::string> sets) {
    sets.push_back("train.epochs=3");
    return Train(ParseConfig(kTiny, "tiny.toml", sets), Split(fs), TrainerOptions{.progress = false});
  };
  TrainResult plain = run({}), tiny = run({"train.ema_decay=1e-12"}), avg = run({"train.ema_decay=0.9"});
  const auto wp = Weights(plain.best), wt = Weights(tiny.best), wa = Weights(avg.best);
  ASSERT_EQ(wp.size(), wa.size());
  ASSERT_EQ(wp.size(), wt.size());
  double far = 0;
  for (size_t i = 0; i < wp.size(); ++i) {
    EXPECT_NEAR(wt[i], wp[i], 1e-6) << i;
    far = std::max(far, double(std::fabs(wa[i] - wp[i])));
    if (wp[i] == 0.0f) EXPECT_EQ(wa[i], 0.0f) << i;  // pruned stays pruned
  }
  EXPECT_GT(far, 1e-3);
  // The training itself is untouched by the average: same losses.
  for (size_t e = 0; e < plain.history.size(); ++e) EXPECT_EQ(plain.history[e].train_loss, avg.history[e].train_loss);
  train_test::ExpectBestMatchesValidation(avg, fs);
}

TEST(WeightAverage, ResumeIsBitIdentical) {
  FeatureSet fs = Synthetic(64, 11);
  Config cfg = ParseConfig(kTiny, "tiny.toml", {"train.ema_decay=0.95", "train.epochs=3"});
  const auto base = fsys::temp_directory_path() / ("kws_ema_test_" + std::to_string(getpid()));
  const auto full = base / "full", split = base / "split";
  fsys::create_directories(full);
  fsys::create_directories(split);
  Train(cfg, Split(fs), TrainerOptions{.out_dir = full.string(), .progress = false});
  Train(cfg, Split(fs), TrainerOptions{.out_dir = split.string(), .stop_after_epochs = 1, .progress = false});
  Train(cfg, Split(fs), TrainerOptions{.out_dir = split.string(), .resume = true, .progress = false});
  EXPECT_EQ(ReadFile(full / "model.ckpt"), ReadFile(split / "model.ckpt"));
  EXPECT_EQ(ReadFile(full / "last.ckpt"), ReadFile(split / "last.ckpt"));
  fsys::remove_all(base);
}

TEST(WeightAverage, DecayIsChecked) {
  for (const char* bad : {"train.ema_decay=1", "train.ema_decay=-0.1"}) {
    try {
      ParseConfig(kTiny, "tiny.toml", {bad});
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("train.ema_decay: must be in [0, 1)"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace kws
