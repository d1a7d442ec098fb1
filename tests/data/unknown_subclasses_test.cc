// data.unknown_subclasses: _unknown_ is trained as one class per source word folder and merged back
// into _unknown_ everywhere a user sees outputs (predictions, metrics, checkpoints, exported .tflite).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "data_test_util.h"
#include "export/export_model.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "runtime/interpreter.h"
#include "train/cv.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace {
using kws_test::WriteClip;
namespace fs = std::filesystem;

const std::string kCfg = kws_test::kTinyTrainToml + R"(
[data]
cache = false
)";

// yes (6 speakers x 2), go and down (6 x 1 each), _unknown_ (3 clips of other words), noise.
fs::path MakeData() {
  const fs::path d = kws_test::TempDir("unknown_subclasses");
  int seed = 0;
  for (int s = 0; s < 6; ++s) {
    for (int n = 0; n < 2; ++n) WriteClip(d / "yes" / ("y" + std::to_string(s) + "_nohash_" + std::to_string(n) + ".wav"), ++seed);
    WriteClip(d / "go" / ("g" + std::to_string(s) + "_nohash_0.wav"), ++seed);
    WriteClip(d / "down" / ("d" + std::to_string(s) + "_nohash_0.wav"), ++seed);
  }
  for (int s = 0; s < 3; ++s) WriteClip(d / "_unknown_" / ("bed_u" + std::to_string(s) + "_nohash_0.wav"), ++seed);
  WriteClip(d / "_background_noise_" / "noise.wav", ++seed, 48000);
  return d;
}

TEST(UnknownSubclasses, OneClassPerWordFolderAfterTheLabels) {
  const fs::path data = MakeData();
  const kws::Config cfg =
      kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,_unknown_", "data.unknown_subclasses=true"});
  kws::PreparedData p = kws::PrepareData(cfg, data.string());
  const kws::FeatureSet& f = p.features;
  ASSERT_EQ(f.label_names, (std::vector<std::string>{"yes", "_unknown_"}));
  ASSERT_EQ(f.class_names, (std::vector<std::string>{"yes", "_unknown_", "_unknown_/down", "_unknown_/go"}));
  ASSERT_EQ(f.classes.size(), size_t(f.n));
  int per_class[4] = {};
  for (int i = 0; i < f.n; ++i) {
    const int c = f.classes[size_t(i)];
    ASSERT_GE(c, 0);
    ASSERT_LT(c, 4);
    ++per_class[c];
    // The class refines the label; the folder decides the word class.
    EXPECT_EQ(c < 2 ? c : 1, f.labels[size_t(i)]) << i;
    const std::string folder = p.dataset.clips[size_t(p.task.clip[size_t(i)])].label;
    EXPECT_EQ(f.class_names[size_t(c)], folder == "yes" || folder == "_unknown_" ? folder : "_unknown_/" + folder);
  }
  EXPECT_EQ(per_class[0], 12);
  EXPECT_EQ(per_class[1], 3);
  EXPECT_EQ(per_class[2], 6);
  EXPECT_EQ(per_class[3], 6);

  // Off (the default): no classes beyond the labels.
  kws::PreparedData q = kws::PrepareData(kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,_unknown_"}), data.string());
  EXPECT_TRUE(q.features.classes.empty());
  EXPECT_TRUE(q.features.class_names.empty());
}

TEST(UnknownSubclasses, NeedsUnknownAmongTheLabels) {
  try {
    kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,go", "data.unknown_subclasses=true"});
    ADD_FAILURE() << "no error";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("data.unknown_subclasses: needs _unknown_ among data.labels"), std::string::npos)
        << e.what();
  }
  try {
    kws::ParseConfig(kCfg, "t.toml", {"data.unknown_subclasses=2"});
    ADD_FAILURE() << "no error";
  } catch (const kws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.unknown_subclasses"), std::string::npos) << e.what();
  }
}

// Trains with word classes; the checkpoint, the model's predictions, the metrics and every exported
// .tflite give the two labels, and the .tflite agrees with the checkpoint model.
TEST(UnknownSubclasses, TrainedModelAndExportsGiveTheLabels) {
  const fs::path data = MakeData();
  const fs::path out = kws_test::TempDir("unknown_subclasses_run");
  const kws::Config cfg =
      kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,_unknown_", "data.unknown_subclasses=true", "train.epochs=2"});
  kws::PreparedData p = kws::PrepareData(cfg, data.string());
  kws::TrainerOptions to;
  to.out_dir = out.string();
  to.progress = false;
  kws::TrainResult r = kws::TrainHoldout(cfg, p, to);
  EXPECT_EQ(r.best.labels, (std::vector<std::string>{"yes", "_unknown_"}));
  EXPECT_EQ(r.best.classes, p.features.class_names);

  const auto metrics = nlohmann::json::parse(kws::ReadFile(out / "metrics.json"));
  EXPECT_EQ(metrics["labels"].get<std::vector<std::string>>(), r.best.labels);
  EXPECT_EQ(metrics["classes"].get<std::vector<std::string>>(), p.features.class_names);
  kws::Checkpoint c = kws::LoadCheckpoint((out / "model.ckpt").string());
  EXPECT_EQ(c.classes, p.features.class_names);
  kws::Model m = kws::ModelFromCheckpoint(c);
  EXPECT_EQ(m.num_classes(), 4);
  EXPECT_EQ(m.num_outputs(), 2);
  EXPECT_EQ(m.output_map(), (std::vector<int>{0, 1, 1, 1}));

  // Predict gives 2 probabilities per item: the head's, with the word classes summed into _unknown_.
  std::vector<int> all(size_t(p.features.n));
  std::iota(all.begin(), all.end(), 0);
  std::vector<float> probs(size_t(p.features.n) * 2);
  m.Predict(p.features.item(0), p.features.n, probs.data());
  const float* logits = m.Forward(p.features.item(0), p.features.n, false);
  for (int i = 0; i < p.features.n; ++i) {
    const float* z = logits + size_t(i) * 4;
    const double mx = std::max({z[0], z[1], z[2], z[3]});
    double e[4], sum = 0;
    for (int k = 0; k < 4; ++k) sum += e[k] = std::exp(double(z[k]) - mx);
    EXPECT_NEAR(probs[size_t(i) * 2], e[0] / sum, 1e-6) << i;
    EXPECT_NEAR(probs[size_t(i) * 2 + 1], (e[1] + e[2] + e[3]) / sum, 1e-6) << i;
  }
  // EvaluateModel predicts labels and scores against the labels.
  kws::EvalOutput ev = kws::EvaluateModel(m, p.features, all);
  long correct = 0;
  for (size_t k = 0; k < all.size(); ++k) {
    const float* pk = probs.data() + k * 2;
    EXPECT_EQ(ev.predicted[k], pk[1] > pk[0] ? 1 : 0) << k;
    correct += ev.predicted[k] == p.features.labels[k];
  }
  EXPECT_DOUBLE_EQ(ev.accuracy, double(correct) / double(all.size()));

  // Exports: 2 outputs, the same probabilities as the checkpoint model (float and dynamic-range: the
  // merge is a small float FULLY_CONNECTED; int8: within its output step).
  for (auto quant : {kws::QuantMode::kFloat, kws::QuantMode::kDynamic, kws::QuantMode::kInt8}) {
    kws::ModelExportOptions eo;
    eo.model = out.string();
    eo.out = (out / ("m_" + std::to_string(int(quant)) + ".tflite")).string();
    eo.quant = quant;
    eo.calibration_data = {data.string()};
    eo.int8_io = false;
    kws::ExportModel(eo);
    auto interp = kws::rt::Interpreter::FromBuffer(eo.out, kws::ReadFile(eo.out));
    ASSERT_EQ(interp.output(0).elements(), 2);
    const double tol = quant == kws::QuantMode::kInt8 ? 0.03 : quant == kws::QuantMode::kDynamic ? 0.02 : 1e-5;
    std::vector<float> o(2);
    for (int i = 0; i < p.features.n; ++i) {
      interp.RunFloat(p.features.item(i), o.data());
      EXPECT_NEAR(o[0], probs[size_t(i) * 2], tol) << int(quant) << " item " << i;
      EXPECT_NEAR(o[1], probs[size_t(i) * 2 + 1], tol) << int(quant) << " item " << i;
    }
  }
  // Logits cannot carry the merge.
  kws::ModelExportOptions eo;
  eo.model = out.string();
  eo.out = (out / "logits.tflite").string();
  eo.softmax = false;
  try {
    kws::ExportModel(eo);
    ADD_FAILURE() << "no error";
  } catch (const kws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("export it with its softmax"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(eo.out));
}

TEST(UnknownSubclasses, CrossValidationScoresLabels) {
  const fs::path data = MakeData();
  const kws::Config cfg =
      kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,_unknown_", "data.unknown_subclasses=true"});
  kws::PreparedData p = kws::PrepareData(cfg, data.string());
  kws::CvOptions co;
  co.folds = 2;
  co.seeds = 1;
  co.progress = false;
  kws::CvResult r = kws::CrossValidate(cfg, p, co);
  ASSERT_EQ(r.runs.size(), 2u);
  for (auto& run : r.runs) {
    ASSERT_EQ(run.test.confusion.size(), 2u);  // labels, not classes
    long n = 0;
    for (auto& row : run.test.confusion) n += std::accumulate(row.begin(), row.end(), 0L);
    EXPECT_EQ(n, run.test.n);
  }
}

TEST(UnknownSubclasses, OutputMapChecks) {
  EXPECT_TRUE(kws::OutputMapOf({"a", "_unknown_"}, {}).empty());
  EXPECT_EQ(kws::OutputMapOf({"_unknown_", "a"}, {"_unknown_", "a", "_unknown_/x"}), (std::vector<int>{0, 1, 0}));
  EXPECT_THROW(kws::OutputMapOf({"a", "b"}, {"a", "b", "_unknown_/x"}), kws::Error);    // no _unknown_
  EXPECT_THROW(kws::OutputMapOf({"a", "_unknown_"}, {"_unknown_", "a", "x"}), kws::Error);  // order
  kws::Model m = kws::Model::Build(nlohmann::json::parse(R"([{"type":"global_average_pool"},{"type":"dense"}])"),
                                   {4, 4, 1}, 3, 1);
  EXPECT_THROW(m.SetOutputMap({0, 1}), kws::Error);     // one entry per class
  EXPECT_THROW(m.SetOutputMap({0, 2, 2}), kws::Error);  // output 1 has no class
  m.SetOutputMap({0, 1, 1});
  EXPECT_EQ(m.num_outputs(), 2);
  const float p[3] = {0.4f, 0.35f, 0.25f};
  EXPECT_EQ(m.OutputArgmax(p), 1);  // 0.6 > 0.4, though class 0 is the largest
  m.SetOutputMap({});
  EXPECT_EQ(m.num_outputs(), 3);
  EXPECT_EQ(m.OutputArgmax(p), 0);
}

}  // namespace
