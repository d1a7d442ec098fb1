// Training graph models: learning, determinism, and magnitude and structured pruning of every
// configs/zoo model (structured pruning removes filters only where the channels can follow: a conv
// whose output also feeds a sum or a second layer keeps its filters, zeroed where pruned).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "export/from_model.h"
#include "export/reference_eval.h"
#include "layers/conv2d.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "train/trainer.h"
#include "util/rng.h"
#include "train_test_util.h"

namespace kws {
namespace {

namespace fsys = std::filesystem;

// `classes` classes of frames x bins "spectrograms": class k is loud in its own band of bins.
FeatureSet Bands(int n, int frames, int bins, int classes, uint64_t seed) {
  FeatureSet fs;
  fs.n = n, fs.frames = frames, fs.bins = bins;
  for (int k = 0; k < classes; ++k) fs.label_names.push_back("c" + std::to_string(k));
  Rng rng(seed);
  fs.data.resize(size_t(n) * frames * bins);
  for (int i = 0; i < n; ++i) {
    const int y = i % classes;
    fs.labels.push_back(y);
    for (int f = 0; f < frames; ++f)
      for (int b = 0; b < bins; ++b) {
        const bool loud = b * classes / bins == y;
        fs.data[(size_t(i) * frames + f) * bins + b] = float((loud ? 1.0 : -1.0) + 0.8 * rng.Normal());
      }
  }
  return fs;
}

const char* kResidual = R"(
[[model.blocks]]
name = "res"
params = { channels = 6 }
[[model.blocks.layers]]
type = "conv2d"
name = "a"
filters = "$channels"
kernel = [3, 1]
padding = "same"
use_bias = false
[[model.blocks.layers]]
type = "batchnorm"
momentum = 0.8
[[model.blocks.layers]]
type = "relu"
[[model.blocks.layers]]
type = "conv2d"
name = "b"
filters = "$channels"
kernel = [3, 1]
padding = "same"
use_bias = false
[[model.blocks.layers]]
type = "batchnorm"
name = "b_bn"
momentum = 0.8
[[model.blocks.layers]]
type = "subspectral_norm"
name = "ssn"
sub_bands = 3
momentum = 0.8
[[model.blocks.layers]]
type = "mean"
axis = "w"
[[model.blocks.layers]]
type = "swish"
name = "f1"
[[model.blocks.layers]]
type = "add"
inputs = ["f1", "ssn", "input"]
[[model.blocks.layers]]
type = "relu"

[[model.layers]]
type = "conv2d"
name = "stem"
filters = 6
kernel = 3
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
momentum = 0.8
[[model.layers]]
type = "relu"
[[model.layers]]
type = "block"
block = "res"
name = "r"
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"

[train]
epochs = 4
batch_size = 8
validation = 0.25
[train.learning_rate]
initial = 0.01
end = 0.0001
)";

TrainerOptions Quiet(const fsys::path& dir = {}) {
  TrainerOptions o;
  o.out_dir = dir.string();
  o.progress = false;
  return o;
}

TEST(GraphTrain, ResidualGraphLearnsAndIsDeterministic) {
  FeatureSet fs = Bands(96, 12, 6, 2, 1);
  Config cfg = ParseConfig(kResidual, "res.toml");
  TrainResult a = Train(cfg, train_test::Split(fs), Quiet());
  EXPECT_GT(a.history.back().val_accuracy, 0.9);
  EXPECT_LT(a.history.back().train_loss, a.history.front().train_loss);
  TrainResult b = Train(cfg, train_test::Split(fs), Quiet());
  EXPECT_EQ(SerializeCheckpoint(a.best), SerializeCheckpoint(b.best));
}

// Structured pruning in a graph: "stem" feeds the block's first conv and its sum (fan-out) and "r/b"
// a batchnorm whose output two layers read, so only "r/a" (-> BN -> ReLU -> r/b) loses filters.
TEST(GraphTrain, StructuredPruningRemovesOnlyFollowableFilters) {
  FeatureSet fs = Bands(96, 12, 6, 2, 2);
  Config cfg = ParseConfig(kResidual, "res.toml",
                           {"prune.enabled=true", "prune.structured=true", "prune.schedule=constant",
                            "prune.final_sparsity=0.5", "prune.frequency=2"});
  const fsys::path dir = fsys::temp_directory_path() / ("kws_graph_prune_" + std::to_string(getpid()));
  fsys::create_directories(dir);
  TrainResult r = Train(cfg, train_test::Split(fs), Quiet(dir));
  EXPECT_EQ(r.metrics["filters_removed"], 3);  // r/a: 6 -> 3
  Model small = ModelFromCheckpoint(LoadCheckpoint((dir / "model.ckpt").string()));
  Model masked = ModelFromCheckpoint(LoadCheckpoint((dir / "last.ckpt").string()));
  for (auto& l : small.layers())
    if (auto* c = dynamic_cast<Conv2DLayer*>(l.get())) EXPECT_EQ(c->filters, l->name == "r/a" ? 3 : 6) << l->name;
  std::vector<float> pa(size_t(fs.n) * 2), pb(pa.size());
  small.Predict(fs.data.data(), fs.n, pa.data());
  masked.Predict(fs.data.data(), fs.n, pb.data());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_NEAR(pa[i], pb[i], 1e-5) << i;
  fsys::remove_all(dir);
}

// Every zoo model trains a step with magnitude pruning (its kernels reach the sparsity) and with
// structured pruning (filters removed where they can be, outputs unchanged), and the pruned model
// exports to an IR whose float evaluation matches it.
TEST(GraphTrain, ZooModelsPruneBothWays) {
  for (const char* name : {"bc_resnet1", "tc_resnet8", "ds_cnn_s", "seed"}) {
    SCOPED_TRACE(name);
    const Config base = LoadConfig(std::string(KWS_SOURCE_DIR) + "/configs/zoo/" + name + ".toml");
    const FeatureOptions& f = base.features;
    FeatureSet fs = Bands(48, f.num_frames(f.window_samples()), f.num_features(), 12, 3);
    for (bool structured : {false, true}) {
      std::vector<std::string> sets = {"train.epochs=1", "train.batch_size=16", "train.augment.enabled=false",
                                       "prune.enabled=true", "prune.schedule=constant", "prune.final_sparsity=0.5",
                                       "prune.frequency=1", "train.validation=0"};
      if (structured) sets.push_back("prune.structured=true");
      Config cfg = LoadConfig(std::string(KWS_SOURCE_DIR) + "/configs/zoo/" + name + ".toml", sets);
      TrainData d;
      d.features = &fs;
      for (int i = 0; i < fs.n; ++i) d.train.push_back(i);
      TrainResult r = Train(cfg, d, Quiet());
      Model m = ModelFromCheckpoint(r.best);
      if (!structured) {
        for (auto& t : r.metrics["sparsity_per_tensor"]) EXPECT_NEAR(t["sparsity"].get<double>(), 0.5, 0.05) << t;
      } else {
        EXPECT_GT(r.metrics["filters_removed"].get<int>(), 0);
        EXPECT_LT(m.ParamCount(), r.params);
      }
      const ir::Graph g = GraphFromModel(m);
      std::vector<float> p(12);
      m.Predict(fs.item(0), 1, p.data());
      const std::vector<float> q = ir::Evaluate(g, fs.item(0));
      for (int k = 0; k < 12; ++k) EXPECT_NEAR(p[size_t(k)], q[size_t(k)], 1e-4);
    }
  }
}

}  // namespace
}  // namespace kws
