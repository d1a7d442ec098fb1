// Config parsing, --set overrides and every bad-input message.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "model/config.h"
#include "model/model.h"
#include "util/error.h"

namespace kws {
namespace {

const char* kTiny = R"(
[features]
num_mel_bins = 8

[model]
[[model.layers]]
type = "conv2d"
filters = 4
kernel = [3, 3]
strides = [2, 2]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"
[[model.layers]]
type = "softmax"

[train]
epochs = 3
batch_size = 4

[train.learning_rate]
initial = 0.02

[data]
labels = ["yes", "no"]
)";

// Expects a kws::Error of `kind` whose message contains `needle`.
template <class F>
void ExpectError(F&& f, ErrorKind kind, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(int(e.kind()), int(kind)) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

// kTiny with extra lines in its [train] table.
std::string TinyWithTrain(const std::string& lines) {
  std::string text = kTiny;
  text.replace(text.find("batch_size = 4"), 14, "batch_size = 4\n" + lines);
  return text;
}

TEST(Config, ParsesValuesAndDefaults) {
  Config c = ParseConfig(kTiny, "tiny.toml");
  EXPECT_EQ(c.features.num_mel_bins, 8);
  EXPECT_EQ(c.features.fft_length, 512);  // default
  EXPECT_EQ(c.train.epochs, 3);
  EXPECT_EQ(c.train.batch_size, 4);
  EXPECT_DOUBLE_EQ(c.train.lr.initial, 0.02);
  EXPECT_DOUBLE_EQ(c.train.lr.end, 1e-5);
  EXPECT_EQ(c.train.lr.decay_steps, 0);  // "auto"
  EXPECT_EQ(c.train.optimizer, "adam");
  EXPECT_FALSE(c.prune.enabled);
  EXPECT_EQ(c.prune.frequency, 100);
  EXPECT_EQ(c.prune.EndStep(1440), 1440);  // "end"
  ASSERT_EQ(c.data.labels.size(), 2u);
  EXPECT_EQ(c.data.labels[1], "no");
  ASSERT_EQ(c.layers.size(), 6u);
  EXPECT_EQ(c.layers[0]["filters"], 4);
}

TEST(Config, ResolvedTomlRoundTrips) {
  Config c = ParseConfig(kTiny, "tiny.toml", {"train.epochs=7"});
  Config d = ParseConfig(c.ToToml(), "resolved.toml");
  EXPECT_EQ(c.table, d.table);
  EXPECT_EQ(d.train.epochs, 7);
}

TEST(Config, OverridesAreTypedByTheExistingValue) {
  Config c = ParseConfig(kTiny, "tiny.toml",
                         {"train.epochs=10", "prune.final_sparsity=0.9", "prune.enabled=true",
                          "train.learning_rate.decay_steps=500", "prune.end_step=1000", "model.layers.0.filters=8",
                          "data.labels=on,off,up", "train.optimizer=sgd", "train.learning_rate.initial=1",
                          "model.layers.0.kernel=[5, 1]"});
  EXPECT_EQ(c.layers[0]["kernel"], (nlohmann::json{5, 1}));
  EXPECT_EQ(c.train.epochs, 10);
  EXPECT_DOUBLE_EQ(c.prune.final_sparsity, 0.9);
  EXPECT_TRUE(c.prune.enabled);
  EXPECT_EQ(c.train.lr.decay_steps, 500);
  EXPECT_EQ(c.prune.EndStep(99999), 1000);
  EXPECT_EQ(c.layers[0]["filters"], 8);
  EXPECT_EQ(c.data.labels, (std::vector<std::string>{"on", "off", "up"}));
  EXPECT_EQ(c.train.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(c.train.lr.initial, 1.0);
  Config f = ParseConfig(kTiny, "tiny.toml", {"prune.begin_fraction=0.25", "prune.end_fraction=0.5"});
  EXPECT_EQ(f.prune.BeginStep(1000), 250);
  EXPECT_EQ(f.prune.EndStep(1000), 500);
}

TEST(Config, OverrideErrors) {
  ExpectError([] { ParseConfig(kTiny, "t", {"train.epoch=3"}); }, ErrorKind::kUsage, "unknown setting 'train.epoch'");
  ExpectError([] { ParseConfig(kTiny, "t", {"nope.x=3"}); }, ErrorKind::kUsage, "unknown setting 'nope'");
  ExpectError([] { ParseConfig(kTiny, "t", {"train.epochs=ten"}); }, ErrorKind::kUsage,
              "--set train.epochs=ten: must be an integer");
  ExpectError([] { ParseConfig(kTiny, "t", {"prune.enabled=maybe"}); }, ErrorKind::kUsage, "true or false");
  ExpectError([] { ParseConfig(kTiny, "t", {"train.epochs"}); }, ErrorKind::kUsage, "expected key=value");
  ExpectError([] { ParseConfig(kTiny, "t", {"model.layers.9.filters=3"}); }, ErrorKind::kUsage,
              "unknown setting 'model.layers.9'");
  ExpectError([] { ParseConfig(kTiny, "t", {"model.layers.0.kernel=3,x"}); }, ErrorKind::kUsage,
              "a list of integers");
  ExpectError([] { ParseConfig(kTiny, "t", {"train.learning_rate.decay_steps=soon"}); }, ErrorKind::kUsage,
              "an integer or \"auto\"");
}

TEST(Config, BadValuesNameTheSetting) {
  struct Case {
    std::string set, needle;
  };
  const Case cases[] = {
      {"train.epochs=0", "train.epochs: must be >= 1 (got 0)"},
      {"train.batch_size=-2", "train.batch_size: must be >= 1 (got -2)"},
      {"train.learning_rate.initial=nan", "train.learning_rate.initial: must be a finite number"},
      {"train.learning_rate.initial=0", "train.learning_rate.initial: must be > 0 (got 0)"},
      {"train.learning_rate.initial=-0.1", "train.learning_rate.initial: must be > 0"},
      {"train.learning_rate.end=-1", "train.learning_rate.end: must be >= 0"},
      {"train.learning_rate.end=0.5", "train.learning_rate.end: must be <= train.learning_rate.initial"},
      {"train.learning_rate.schedule=step", "train.learning_rate.schedule: must be \"polynomial\""},
      {"train.learning_rate.decay_steps=0", "train.learning_rate.decay_steps: must be >= 1"},
      {"train.optimizer=rmsprop", "train.optimizer: must be \"adam\" or \"sgd\""},
      {"train.validation=1", "train.validation: must be in [0, 1)"},
      {"train.weight_decay=inf", "train.weight_decay: must be a finite number"},
      {"train.seed=-1", "train.seed: must be >= 0"},
      {"train.augment.copies=-1", "train.augment.copies: must be >= 0"},
      {"train.augment.background_prob=1.5", "train.augment.background_prob: must be in [0, 1]"},
      {"prune.final_sparsity=1", "prune.final_sparsity: must be in [0, 1)"},
      {"prune.initial_sparsity=-0.1", "prune.initial_sparsity: must be in [0, 1)"},
      {"prune.frequency=0", "prune.frequency: must be >= 1 (got 0)"},
      {"prune.schedule=cubic", "prune.schedule: must be \"polynomial\" or \"constant\""},
      {"prune.end_step=-5", "prune.end_step: must be >= 0 or \"end\""},
      {"prune.begin_fraction=2", "prune.begin_fraction: must be <= 1"},
      {"data.labels=yes,yes", "data.labels: label 'yes' given twice"},
      {"train.class_weights=1,2,3", "train.class_weights: has 3 weights for 2 labels"},
      {"train.class_weights=1,0", "train.class_weights: every weight must be > 0 (got 0)"},
      {"train.class_weights=1,x", "a list of numbers"},
      {"train.label_smoothing=1", "train.label_smoothing: must be in [0, 1)"},
      {"train.class_repeats=1,0", "train.class_repeats: every count must be in [1, 1000] (got 0)"},
      {"train.class_repeats=3", "train.class_repeats: has 1 counts for 2 labels"},
      {"train.class_repeats=1.5,1", "a list of integers"},
      {"features.num_mel_bins=0", "features"},
      {"train.distill_teachers=-1", "train.distill_teachers: must be in [0, 16] (got -1)"},
      {"train.distill_weight=1.5", "train.distill_weight: must be in [0, 1]"},
      {"train.distill_temperature=0", "train.distill_temperature: must be in (0, 100]"},
      {"detector.threshold=1.5", "detector.threshold must be in [0, 1] (got 1.5"},
      {"detector.smooth_ms=0", "detector.smooth_ms must be > 0"},
      {"detector.min_results=0", "detector.min_results must be >= 1"},
      {"detector.hop_ms=0", "detector.hop_ms must be in [1, 10000]"},
      {"detector.vad_dbfs=3", "detector.vad_dbfs must be in [-200, 0]"},
      {"detector.min_results=2.5", "must be an integer"},
      {"detector.labels=yes", "unknown setting 'detector.labels'"},
      {"export.int8_weights=per-row", "export.int8_weights: must be \"per-tensor\""},
      {"export.int8_weights=fit", "export.max_bytes: required (> 0) with export.int8_weights = \"fit\""},
      {"export.max_bytes=-1", "export.max_bytes: must be >= 0 (got -1)"},
      {"export.calibration_count=0", "export.calibration_count: must be >= 1 (got 0)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.set);
    ExpectError([&] { ParseConfig(kTiny, "tiny.toml", {c.set}); }, ErrorKind::kUsage, c.needle);
  }
}

// [detector]: the streaming detector's defaults (exported into the model's metadata).
TEST(Config, DetectorSettings) {
  Config d = ParseConfig(kTiny, "tiny.toml");
  EXPECT_DOUBLE_EQ(d.detector.post.threshold, DetectorOptions{}.post.threshold);
  EXPECT_EQ(d.table["detector"], DetectorOptionsToJson(DetectorOptions{}));
  Config c = ParseConfig(std::string(kTiny) + "\n[detector]\nthreshold = 0.8\nsmooth_ms = 500\nmin_results = 2\nvad = false\n",
                         "tiny.toml", {"detector.suppress_ms=2000"});
  EXPECT_DOUBLE_EQ(c.detector.post.threshold, 0.8);
  EXPECT_DOUBLE_EQ(c.detector.post.smooth_ms, 500);
  EXPECT_EQ(c.detector.post.min_results, 2);
  EXPECT_DOUBLE_EQ(c.detector.post.suppress_ms, 2000);
  EXPECT_FALSE(c.detector.vad);
  EXPECT_DOUBLE_EQ(c.detector.hop_ms, 100);  // not given: the default
  Config r = ParseConfig(c.ToToml(), "resolved.toml");
  EXPECT_DOUBLE_EQ(r.detector.post.smooth_ms, 500);
  EXPECT_EQ(r.table["detector"], c.table["detector"]);
}

TEST(DetectorOptionsJson, RoundTripAndErrors) {
  DetectorOptions d;
  d.hop_ms = 50;
  d.post.threshold = 0.7;
  d.post.min_results = 4;
  d.vad = false;
  const DetectorOptions back = DetectorOptionsFromJson(DetectorOptionsToJson(d), DetectorOptions{}, "m");
  EXPECT_EQ(DetectorOptionsToJson(back), DetectorOptionsToJson(d));
  // Missing keys keep the base's values.
  DetectorOptions base;
  base.post.smooth_ms = 321;
  EXPECT_DOUBLE_EQ(DetectorOptionsFromJson(nlohmann::json{{"threshold", 0.5}}, base, "m").post.smooth_ms, 321);
  ExpectError([] { DetectorOptionsFromJson(nlohmann::json{{"threshold", "high"}}, {}, "m.tflite"); },
              ErrorKind::kBadInput, "m.tflite: detector.threshold: expected a number");
  ExpectError([] { DetectorOptionsFromJson(nlohmann::json{{"min_results", 1.5}}, {}, "m"); }, ErrorKind::kBadInput,
              "detector.min_results: expected an integer");
  ExpectError([] { DetectorOptionsFromJson(nlohmann::json{{"loud", 1}}, {}, "m"); }, ErrorKind::kBadInput,
              "detector.loud: unknown setting");
  ExpectError([] { DetectorOptionsFromJson(nlohmann::json::array(), {}, "m"); }, ErrorKind::kBadInput, "not a table");
}

TEST(Config, ClassWeightsAndLabelSmoothing) {
  Config d = ParseConfig(kTiny, "tiny.toml");
  EXPECT_TRUE(d.train.class_weights.empty());
  EXPECT_FALSE(d.train.class_weights_balanced);
  EXPECT_EQ(d.train.label_smoothing, 0.0);
  // In the file: numbers (one per label) or "balanced"; both survive the resolved config.toml.
  std::string text = TinyWithTrain("class_weights = [1, 2.5]\nlabel_smoothing = 0.1");
  Config c = ParseConfig(text, "w.toml");
  EXPECT_EQ(c.train.class_weights, (std::vector<double>{1.0, 2.5}));
  EXPECT_DOUBLE_EQ(c.train.label_smoothing, 0.1);
  EXPECT_EQ(ParseConfig(c.ToToml(), "resolved.toml").train.class_weights, c.train.class_weights);
  text.replace(text.find("[1, 2.5]"), 8, "\"balanced\"");
  Config b = ParseConfig(text, "b.toml");
  EXPECT_TRUE(b.train.class_weights_balanced);
  EXPECT_TRUE(b.train.class_weights.empty());
  EXPECT_TRUE(ParseConfig(b.ToToml(), "resolved.toml").train.class_weights_balanced);
  // With --set: numbers, "[...]", "balanced", and back to numbers.
  Config o = ParseConfig(kTiny, "tiny.toml", {"train.class_weights=3,0.5"});
  EXPECT_EQ(o.train.class_weights, (std::vector<double>{3.0, 0.5}));
  o = ParseConfig(kTiny, "tiny.toml", {"train.class_weights=balanced", "train.class_weights=[2, 1]"});
  EXPECT_EQ(o.train.class_weights, (std::vector<double>{2.0, 1.0}));
  EXPECT_FALSE(o.train.class_weights_balanced);
  EXPECT_TRUE(ParseConfig(kTiny, "tiny.toml", {"train.class_weights=balanced"}).train.class_weights_balanced);
  // A string other than "balanced" names the setting (bad --set values: BadValuesNameTheSetting).
  ExpectError([] { ParseConfig(TinyWithTrain("class_weights = \"even\""), "e.toml"); }, ErrorKind::kUsage,
              "train.class_weights: must be an array of numbers (one per label) or \"balanced\"");
}

TEST(Config, ClassRepeats) {
  EXPECT_TRUE(ParseConfig(kTiny, "tiny.toml").train.class_repeats.empty());
  Config c = ParseConfig(TinyWithTrain("class_repeats = [3, 1]"), "r.toml");
  EXPECT_EQ(c.train.class_repeats, (std::vector<int>{3, 1}));
  EXPECT_EQ(ParseConfig(c.ToToml(), "resolved.toml").train.class_repeats, c.train.class_repeats);
  EXPECT_EQ(ParseConfig(kTiny, "tiny.toml", {"train.class_repeats=2,5"}).train.class_repeats,
            (std::vector<int>{2, 5}));
  ExpectError([] { ParseConfig(TinyWithTrain("class_repeats = [2.5, 1]"), "b.toml"); }, ErrorKind::kUsage,
              "train.class_repeats: must be an array of integers");
}

TEST(Config, FileErrors) {
  ExpectError([] { ParseConfig("[train]\nepochs = ", "broken.toml"); }, ErrorKind::kUsage, "broken.toml:");
  ExpectError([] { ParseConfig("[train]\nepoks = 3\n", "f.toml"); }, ErrorKind::kUsage,
              "f.toml: train.epoks: unknown setting");
  ExpectError([] { ParseConfig("[train]\nepochs = 2.5\n", "f.toml"); }, ErrorKind::kUsage,
              "train.epochs: must be an integer (got a number)");
  ExpectError([] { ParseConfig("[train]\nepochs = 3\n", "f.toml"); }, ErrorKind::kUsage,
              "model.layers: no layers");
  ExpectError([] { LoadConfig("/nonexistent/kws.toml"); }, ErrorKind::kBadInput, "/nonexistent/kws.toml");
}

TEST(Model, BuildsTheSeedShapeAndFillsDenseUnits) {
  Config c = ParseConfig(kTiny, "tiny.toml");
  Model m = Model::Build(c.layers, {16, 8, 1}, 3, 1);
  ASSERT_EQ(m.layers().size(), 5u);  // softmax folded into the loss
  EXPECT_EQ(m.layers()[0]->name, "conv2d_1");
  EXPECT_EQ(m.shapes()[1], (Shape{8, 4, 4}));
  EXPECT_EQ(m.shapes().back(), (Shape{1, 1, 3}));
  // conv 3*3*1*4 + bn gamma,beta (4+4) + dense 4*3+3 ; buffers 4+4
  EXPECT_EQ(m.ParamCount(), 36 + 8 + 15 + 8);
  std::vector<float> x(2 * 16 * 8, 0.5f), p(2 * 3);
  m.Predict(x.data(), 2, p.data());
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-5);
}

TEST(Model, LayerErrorsNameTheLayer) {
  Config c = ParseConfig(kTiny, "tiny.toml");
  nlohmann::json bad = c.layers;
  bad[0]["type"] = "conv3d";
  ExpectError([&] { Model::Build(bad, {16, 8, 1}, 2, 1); }, ErrorKind::kUsage, "unknown type 'conv3d'");
  bad = c.layers;
  bad[0]["kernel"] = {20, 3};
  bad[0]["padding"] = "valid";
  ExpectError([&] { Model::Build(bad, {16, 8, 1}, 2, 1); }, ErrorKind::kUsage, "conv2d");
  bad = c.layers;
  bad[0]["filterz"] = 3;
  ExpectError([&] { Model::Build(bad, {16, 8, 1}, 2, 1); }, ErrorKind::kUsage, "unknown field 'filterz'");
  bad = c.layers;
  bad[4]["units"] = 5;
  ExpectError([&] { Model::Build(bad, {16, 8, 1}, 2, 1); }, ErrorKind::kUsage, "but there are 2 labels");
  bad = c.layers;
  bad.insert(bad.begin(), nlohmann::json{{"type", "softmax"}});
  ExpectError([&] { Model::Build(bad, {16, 8, 1}, 2, 1); }, ErrorKind::kUsage, "only allowed as the last layer");
}

TEST(Config, ShippedConfigsParseAndBuild) {
  for (const char* name : {"seed.toml", "baseline.toml"}) {
    SCOPED_TRACE(name);
    Config c = LoadConfig(std::string(KWS_SOURCE_DIR) + "/configs/" + name);
    const int frames = c.features.num_frames(c.features.window_samples());
    EXPECT_EQ(frames, 97);
    Model m = Model::Build(c.layers, {frames, c.features.num_features(), 1}, 2, 1);
    EXPECT_EQ(m.num_classes(), 2);
    EXPECT_EQ(c.train.batch_size, 25);
    EXPECT_EQ(c.train.epochs, 80);
  }
  Config seed = LoadConfig(std::string(KWS_SOURCE_DIR) + "/configs/seed.toml");
  EXPECT_TRUE(seed.prune.enabled);
  EXPECT_DOUBLE_EQ(seed.prune.final_sparsity, 0.85);
  EXPECT_EQ(seed.features.num_mel_bins, 20);
}

// Every recipe in configs/ and configs/zoo/ parses and its network builds for its labels (a typo in a shipped
// recipe would otherwise surface only after hours of training in someone's run); kws12's teachers resolve
// beside it.
TEST(Config, EveryShippedConfigParses) {
  const std::filesystem::path root = std::filesystem::path(KWS_SOURCE_DIR) / "configs";
  int n = 0;
  for (const std::filesystem::path dir : {root, root / "zoo"})
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() != ".toml") continue;
      SCOPED_TRACE(e.path().string());
      const Config c = LoadConfig(e.path().string());
      const int classes = c.data.labels.empty() ? 2 : int(c.data.labels.size());
      EXPECT_NO_THROW(Model::Build(c.layers, {c.features.num_frames(c.features.window_samples()),
                                              c.features.num_features(), 1},
                                   classes, 1));
      ++n;
    }
  EXPECT_GE(n, 10);
  const Config k = LoadConfig((root / "kws12.toml").string());
  EXPECT_EQ(k.train.TeachersToTrain(), 2);
  EXPECT_EQ(k.train.teacher_config, (root / "zoo" / "bc_resnet3.toml").lexically_normal().string());
  EXPECT_FALSE(k.train.teacher_synth);
  EXPECT_TRUE(k.data.synth.enabled);
  EXPECT_EQ(k.data.synth.unknown, 1000);
}

}  // namespace
}  // namespace kws
