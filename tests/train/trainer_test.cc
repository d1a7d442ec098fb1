// Trainer: learning on a separable synthetic problem, determinism, resume equivalence, files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "features/features.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "train/metrics.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/parallel.h"
#include "train_test_util.h"

namespace kws {
namespace {

namespace fsys = std::filesystem;

using train_test::kTiny;
using train_test::Split;
using train_test::Synthetic;
using train_test::AudioSet;
using train_test::MakeAudio;

fsys::path TempDir(const std::string& name) {
  auto p = fsys::temp_directory_path() / ("kws_trainer_test_" + name + "_" + std::to_string(getpid()));
  fsys::remove_all(p);
  fsys::create_directories(p);
  return p;
}

TrainerOptions Quiet(const fsys::path& dir) {
  TrainerOptions o;
  o.out_dir = dir.string();
  o.progress = false;
  return o;
}

TEST(Trainer, LearnsASeparableProblem) {
  FeatureSet fs = Synthetic(96, 1);
  Config cfg = ParseConfig(kTiny, "tiny.toml", {"train.epochs=6", "prune.enabled=false"});
  TrainResult r = Train(cfg, Split(fs), TrainerOptions{.progress = false});
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_GT(r.history.back().val_accuracy, 0.95);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  EXPECT_GE(r.best_epoch, 1);
  train_test::ExpectBestMatchesValidation(r, fs);  // the best checkpoint predicts like the trainer said
}

TEST(Trainer, PruningReachesTheScheduledSparsity) {
  FeatureSet fs = Synthetic(96, 2);
  Config cfg = ParseConfig(kTiny, "tiny.toml", {"prune.final_sparsity=0.5", "prune.initial_sparsity=0.5",
                                                 "prune.schedule=constant"});
  TrainResult r = Train(cfg, Split(fs), TrainerOptions{.progress = false});
  for (auto& t : r.metrics["sparsity_per_tensor"]) EXPECT_NEAR(t["sparsity"].get<double>(), 0.5, 0.03) << t;
  EXPECT_EQ(r.best_epoch, 4);  // with pruning, the best model is one at the final sparsity
  Model m = ModelFromCheckpoint(r.best);
  EXPECT_FALSE(m.Params()[0]->mask.empty());
}

TEST(Trainer, StructuredPruningRemovesFiltersWithoutChangingOutputs) {
  FeatureSet fs = Synthetic(96, 6);
  const char* two_convs = R"(
[[model.layers]]
type = "conv2d"
filters = 6
kernel = [3, 3]
padding = "same"
[[model.layers]]
type = "batchnorm"
momentum = 0.8
[[model.layers]]
type = "relu"
[[model.layers]]
type = "conv2d"
filters = 4
kernel = [3, 3]
strides = [2, 2]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
momentum = 0.8
[[model.layers]]
type = "relu"
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"
[train]
epochs = 3
batch_size = 8
validation = 0.25
[prune]
enabled = true
structured = true
schedule = "constant"
final_sparsity = 0.5
frequency = 2
)";
  Config cfg = ParseConfig(two_convs, "structured.toml");
  auto dir = TempDir("structured");
  TrainResult r = Train(cfg, Split(fs), Quiet(dir));
  EXPECT_EQ(r.metrics["filters_removed"], 5);  // 6 -> 3 and 4 -> 2
  Model small = ModelFromCheckpoint(LoadCheckpoint((dir / "model.ckpt").string()));
  Model masked = ModelFromCheckpoint(LoadCheckpoint((dir / "last.ckpt").string()));
  ASSERT_EQ(r.best_epoch, 3);
  EXPECT_EQ(small.shapes()[1].c, 3);
  EXPECT_EQ(small.shapes()[4].c, 2);
  EXPECT_EQ(masked.shapes()[1].c, 6);
  EXPECT_LT(small.ParamCount(), masked.ParamCount());
  std::vector<float> a(size_t(fs.n) * 2), b(size_t(fs.n) * 2);
  small.Predict(fs.data.data(), fs.n, a.data());
  masked.Predict(fs.data.data(), fs.n, b.data());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << i;
  fsys::remove_all(dir);
}

TEST(Trainer, SameSeedSameBytes) {
  FeatureSet fs = Synthetic(64, 3);
  Config cfg = ParseConfig(kTiny, "tiny.toml", {"train.epochs=2"});
  auto a = TempDir("det_a"), b = TempDir("det_b");
  Train(cfg, Split(fs), Quiet(a));
  Train(cfg, Split(fs), Quiet(b));
  EXPECT_EQ(ReadFile(a / "model.ckpt"), ReadFile(b / "model.ckpt"));
  EXPECT_EQ(ReadFile(a / "last.ckpt"), ReadFile(b / "last.ckpt"));
  // A different seed gives a different model.
  auto c = TempDir("det_c");
  Train(ParseConfig(kTiny, "tiny.toml", {"train.epochs=2", "train.seed=2"}), Split(fs), Quiet(c));
  EXPECT_NE(ReadFile(a / "last.ckpt"), ReadFile(c / "last.ckpt"));
  for (auto& p : {a, b, c}) fsys::remove_all(p);
}

// train.distill_*: teachers trained first, their probabilities mixed into the targets. Weight 0
// trains exactly the plain model (the teachers change nothing else); a weight > 0 changes it, and
// the whole thing is deterministic.
TEST(Trainer, DistillationFromTeachers) {
  FeatureSet fs = Synthetic(64, 3);
  auto probs = [&](std::vector<std::string> sets) {
    sets.push_back("train.epochs=2");
    TrainResult r = Train(ParseConfig(kTiny, "tiny.toml", sets), Split(fs), TrainerOptions{.progress = false});
    Model m = ModelFromCheckpoint(r.best);
    std::vector<float> p(size_t(fs.n) * size_t(m.num_outputs()));
    m.Predict(fs.data.data(), fs.n, p.data());
    return p;
  };
  const auto plain = probs({});
  EXPECT_EQ(probs({"train.distill_teachers=2", "train.distill_weight=0"}), plain);
  const auto distilled = probs({"train.distill_teachers=2", "train.distill_weight=0.7", "train.distill_temperature=2"});
  EXPECT_NE(distilled, plain);
  EXPECT_EQ(probs({"train.distill_teachers=2", "train.distill_weight=0.7", "train.distill_temperature=2"}), distilled);
  EXPECT_NE(probs({"train.distill_teachers=2", "train.distill_weight=0.7", "train.distill_temperature=1"}), distilled);
}

// [train.teacher]: the teachers get their own (wider, unpruned) network; the student keeps its
// own shape and size, and the result differs from distilling from copies of the student.
TEST(Trainer, DistillationFromAWiderTeacher) {
  FeatureSet fs = Synthetic(64, 3);
  const std::string teacher = R"(
[train.teacher]
prune = false
[[train.teacher.layers]]
type = "conv2d"
filters = 12
kernel = [3, 3]
use_bias = false
[[train.teacher.layers]]
type = "batchnorm"
[[train.teacher.layers]]
type = "relu"
[[train.teacher.layers]]
type = "global_average_pool"
[[train.teacher.layers]]
type = "dense"
)";
  const std::vector<std::string> sets = {"train.epochs=2", "train.distill_teachers=1", "train.distill_weight=0.7"};
  TrainResult same = Train(ParseConfig(kTiny, "tiny.toml", sets), Split(fs), TrainerOptions{.progress = false});
  TrainResult wide = Train(ParseConfig(kTiny + teacher, "tiny.toml", sets), Split(fs), TrainerOptions{.progress = false});
  EXPECT_EQ(wide.params, same.params);  // the kept model is the student
  EXPECT_NE(wide.history.back().train_loss, same.history.back().train_loss);
  TrainResult again = Train(ParseConfig(kTiny + teacher, "tiny.toml", sets), Split(fs), TrainerOptions{.progress = false});
  EXPECT_EQ(again.history.back().train_loss, wide.history.back().train_loss);
  // Teacher layers without teachers, and a teacher table that is not a layer list, are usage errors.
  EXPECT_THROW(ParseConfig(kTiny + teacher, "tiny.toml", {"train.distill_teachers=0"}), Error);
  EXPECT_THROW(ParseConfig(kTiny + "[train.teacher]\nlayers = 3\n", "tiny.toml"), Error);
}

// The fused conv-bn-relu step (train/fused_step.h, used for this model) and the layer-by-layer
// path train the same model up to float rounding (the trainer wiring; tests/train_math holds the
// gradients themselves to the layer path: Adam would hide a gradient scale error here).
TEST(Trainer, FusedStepTrainsLikeTheLayerPath) {
  FeatureSet fs = Synthetic(64, 5);
  Config cfg = ParseConfig(kTiny, "tiny.toml", {"train.epochs=2", "prune.enabled=false"});
  TrainResult a = Train(cfg, Split(fs), TrainerOptions{.progress = false});
  TrainResult b = Train(cfg, Split(fs), TrainerOptions{.progress = false, .fused_step = false});
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t e = 0; e < a.history.size(); ++e) {
    EXPECT_NEAR(a.history[e].train_loss, b.history[e].train_loss, 1e-4) << "epoch " << e + 1;
    EXPECT_NEAR(a.history[e].val_loss, b.history[e].val_loss, 1e-4) << "epoch " << e + 1;
  }
}

// train.class_weights: all-1 weights train exactly like none; "balanced" is n / (classes * count)
// over the training items (here 32 "low", 8 "high" -> 40 / 64 = 0.625 and 40 / 16 = 2.5), exactly
// like those numbers given by hand; and weights and smoothing change training.
TEST(Trainer, ClassWeights) {
  FeatureSet fs = Synthetic(64, 6);
  TrainData d = Split(fs);  // 48 training items: 32 low, 16 high
  std::vector<int> train;
  int high = 0;
  for (int i : d.train)
    if (fs.labels[size_t(i)] == 0 || ++high <= 8) train.push_back(i);
  d.train = train;
  ASSERT_EQ(d.train.size(), 40u);
  auto run = [&](std::vector<std::string> sets) {
    sets.push_back("train.epochs=2");
    sets.push_back("prune.enabled=false");
    return Train(ParseConfig(kTiny, "tiny.toml", sets), d, TrainerOptions{.progress = false});
  };
  auto params = [](TrainResult& r) {
    Model m = ModelFromCheckpoint(r.best);
    std::vector<float> v;
    for (Param* p : m.Params()) v.insert(v.end(), p->value.begin(), p->value.end());
    return v;
  };
  TrainResult plain = run({}), ones = run({"train.class_weights=1,1"});
  TrainResult bal = run({"train.class_weights=balanced"}), hand = run({"train.class_weights=0.625,2.5"});
  TrainResult smooth = run({"train.label_smoothing=0.2"});
  EXPECT_EQ(params(plain), params(ones));
  EXPECT_EQ(plain.history[0].train_loss, ones.history[0].train_loss);
  EXPECT_EQ(params(bal), params(hand));
  EXPECT_EQ(bal.history[1].train_loss, hand.history[1].train_loss);
  EXPECT_NE(params(plain), params(bal));
  EXPECT_NE(params(plain), params(smooth));
  // With the labels left to the data, the list lengths are checked against the labels found.
  for (const char* set : {"train.class_weights=1,2,3", "train.class_repeats=1,2,3"}) {
    Config c = ParseConfig(kTiny, "tiny.toml", {"data.labels=", set});
    ASSERT_TRUE(c.data.labels.empty());
    try {
      Train(c, d, TrainerOptions{.progress = false});
      ADD_FAILURE() << set << ": no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_NE(std::string(e.what()).find("for 2 labels (data.labels order)"), std::string::npos) << e.what();
    }
  }
}

TEST(Trainer, ResumeIsBitIdentical) {
  FeatureSet fs = Synthetic(64, 4);
  Config cfg = ParseConfig(kTiny, "tiny.toml");  // 4 epochs, pruning every 3 steps
  auto full = TempDir("full"), split = TempDir("split");
  TrainResult r1 = Train(cfg, Split(fs), Quiet(full));
  TrainerOptions first = Quiet(split);
  first.stop_after_epochs = 2;
  TrainResult half = Train(cfg, Split(fs), first);
  EXPECT_EQ(half.history.size(), 2u);
  EXPECT_NE(ReadFile(full / "last.ckpt"), ReadFile(split / "last.ckpt"));
  TrainerOptions second = Quiet(split);
  second.resume = true;
  TrainResult r2 = Train(cfg, Split(fs), second);
  EXPECT_EQ(ReadFile(full / "last.ckpt"), ReadFile(split / "last.ckpt"));
  EXPECT_EQ(ReadFile(full / "model.ckpt"), ReadFile(split / "model.ckpt"));
  ASSERT_EQ(r2.history.size(), 4u);
  EXPECT_EQ(r1.history[3].train_loss, r2.history[3].train_loss);
  EXPECT_EQ(r1.best_epoch, r2.best_epoch);
  // metrics.json and config.toml are there and hold what was run.
  auto metrics = nlohmann::json::parse(ReadFile(split / "metrics.json"));
  EXPECT_EQ(metrics["epochs"].size(), 4u);
  EXPECT_TRUE(metrics["epochs"][0]["seconds"].is_null());  // before the resume: not timed
  EXPECT_TRUE(metrics["epochs"][3]["seconds"].is_number());
  EXPECT_GT(metrics["params"].get<long>(), metrics["nonzero"].get<long>());
  EXPECT_EQ(ParseConfig(ReadFile(split / "config.toml"), "config.toml").table, cfg.table);
  // Resuming with other settings is refused.
  TrainerOptions other = Quiet(split);
  other.resume = true;
  try {
    Train(ParseConfig(kTiny, "tiny.toml", {"train.epochs=5"}), Split(fs), other);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("different settings"), std::string::npos) << e.what();
  }
  for (auto& p : {full, split}) fsys::remove_all(p);
}

TEST(Trainer, DataErrorsAreNamed) {
  FeatureSet fs = Synthetic(16, 5);
  Config cfg = ParseConfig(kTiny, "tiny.toml");
  TrainData d = Split(fs);
  d.val.clear();
  try {
    Train(cfg, d, TrainerOptions{.progress = false});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.validation: the validation split is empty"), std::string::npos)
        << e.what();
  }
  d = Split(fs);
  d.train.clear();
  EXPECT_THROW(Train(cfg, d, TrainerOptions{.progress = false}), Error);
  d = Split(fs);
  std::vector<int> only_low;
  for (int i : d.train)
    if (fs.labels[size_t(i)] == 0) only_low.push_back(i);
  d.train = only_low;
  try {
    Train(cfg, d, TrainerOptions{.progress = false});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no training items for label 'high'"), std::string::npos) << e.what();
  }
}

// train.class_repeats lists each clip of a label that many times per epoch (side by side), each
// repeat with its own augmentation: [1, 1] trains exactly like no setting; [2, 1] trains like the
// same clips listed twice in the split when augmentation is off, and differently when it is on
// (the second use of a clip is augmented anew); precomputed copies still equal fresh ones.
TEST(Trainer, ClassRepeats) {
  const std::vector<std::string> base = {"features.sample_rate=8000", "features.num_mel_bins=8",
                                         "features.upper_hz=3900", "features.frame_step_s=0.05",
                                         "features.frame_length_s=0.064", "train.epochs=3", "prune.enabled=false",
                                         "train.augment.enabled=true", "train.augment.background_volume=0.5",
                                         "train.augment.copies=0"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return ParseConfig(kTiny, "tiny.toml", v);
  };
  AudioSet a = MakeAudio(with({}), 32);
  TrainData d = Split(a.features);
  d.windows = &a.windows;
  d.noise = &a.noise;
  TrainData twice = d;  // label-0 clips listed twice, side by side
  twice.train.clear();
  for (int i : d.train) {
    twice.train.push_back(i);
    if (a.features.labels[size_t(i)] == 0) twice.train.push_back(i);
  }
  auto weights = [](const TrainResult& r) { return ModelFromCheckpoint(r.best).Params()[0]->value; };
  auto run = [](const Config& c, const TrainData& td) { return Train(c, td, TrainerOptions{.progress = false}); };
  TrainResult plain = run(with({}), d), ones = run(with({"train.class_repeats=1,1"}), d);
  EXPECT_EQ(weights(plain), weights(ones));
  TrainResult rep = run(with({"train.class_repeats=2,1"}), d), dup = run(with({}), twice);
  EXPECT_EQ(rep.steps, dup.steps);
  EXPECT_GT(rep.steps, plain.steps);
  EXPECT_NE(weights(rep), weights(dup));  // repeat 1 is augmented differently from repeat 0
  EXPECT_NE(weights(rep), weights(plain));
  TrainResult rep_off = run(with({"train.class_repeats=2,1", "train.augment.enabled=false"}), d);
  TrainResult dup_off = run(with({"train.augment.enabled=false"}), twice);
  EXPECT_EQ(weights(rep_off), weights(dup_off));
  TrainResult rep_copies = run(with({"train.class_repeats=2,1", "train.augment.copies=3"}), d);
  EXPECT_EQ(weights(rep), weights(rep_copies));
}

TEST(Trainer, AugmentationCopiesMatchFreshAugmentation) {
  const std::vector<std::string> base = {"features.sample_rate=8000", "features.num_mel_bins=8",
                                         "features.upper_hz=3900", "features.frame_step_s=0.05",
                                         "features.frame_length_s=0.064", "train.epochs=3", "prune.enabled=false",
                                         "train.augment.enabled=true", "train.augment.background_volume=0.5"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return ParseConfig(kTiny, "tiny.toml", v);
  };
  Config fresh = with({"train.augment.copies=0"}), copies = with({"train.augment.copies=3"}),
         two = with({"train.augment.copies=2"}), none = with({"train.augment.enabled=false"});
  AudioSet a = MakeAudio(fresh, 32);
  TrainData d = Split(a.features);
  d.windows = &a.windows;
  d.noise = &a.noise;
  auto run = [&](const Config& c) {
    TrainResult r = Train(c, d, TrainerOptions{.progress = false});
    return SerializeCheckpoint(r.best);
  };
  const std::string f = run(fresh);
  EXPECT_EQ(f.size(), run(copies).size());
  // copy k is the same whether computed up front or in epoch k, so 3 copies over 3 epochs == fresh
  // (the stored config differs: compare the trained weights).
  Model m1 = ModelFromCheckpoint(ParseCheckpoint(f, "fresh"));
  Model m2 = ModelFromCheckpoint(ParseCheckpoint(run(copies), "copies"));
  Model m3 = ModelFromCheckpoint(ParseCheckpoint(run(two), "two"));
  Model m4 = ModelFromCheckpoint(ParseCheckpoint(run(none), "none"));
  EXPECT_EQ(m1.Params()[0]->value, m2.Params()[0]->value);
  EXPECT_NE(m1.Params()[0]->value, m3.Params()[0]->value);  // epoch 3 reuses copy 0
  EXPECT_NE(m1.Params()[0]->value, m4.Params()[0]->value);  // augmentation changes training
}

TEST(Metrics, ConfusionAndPerLabel) {
  const std::vector<int> truth = {0, 0, 1, 1, 1, 2};
  const std::vector<int> pred = {0, 1, 1, 1, 0, 2};
  Evaluation e = Evaluate(truth, pred, {"a", "b", "c"});
  EXPECT_EQ(e.n, 6);
  EXPECT_DOUBLE_EQ(e.accuracy, 4.0 / 6.0);
  EXPECT_EQ(e.confusion, (std::vector<std::vector<long>>{{1, 1, 0}, {1, 2, 0}, {0, 0, 1}}));
  EXPECT_DOUBLE_EQ(e.per_label[1].accuracy, 2.0 / 3.0);
  EXPECT_EQ(e.per_label[1].n, 3);
  auto j = e.ToJson();
  EXPECT_EQ(j["n"], 6);
  EXPECT_EQ(j["per_label"]["a"]["n"], 2);
  EXPECT_DOUBLE_EQ(j["per_label"]["a"]["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(j["confusion"][1][0], 1);
  EXPECT_EQ(j["labels"][2], "c");
  EXPECT_NE(e.ToTable().find("accuracy"), std::string::npos);
}

}  // namespace
}  // namespace kws
