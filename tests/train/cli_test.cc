// `kws train` / `kws eval` end to end on a small generated dataset (two tones, 8 speakers).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "model/checkpoint.h"
#include "support/command.h"
#include "train/cv.h"
#include "train_test_util.h"
#include "util/fs.h"
#include "util/rng.h"

namespace kws {
namespace {

namespace fsys = std::filesystem;

using Result = kws_test::CommandResult;

// `kws -q -j2 ARGS`.
Result RunKws(const std::string& args) { return kws_test::RunCommand(std::string(KWS_BINARY) + " -q -j2 " + args); }

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fsys::temp_directory_path() / ("kws_cli_test_" + std::to_string(getpid()));
    fsys::remove_all(root_);
    kws_test::WriteToneData((root_ / "data").string());
    AtomicWriteFile(root_ / "tiny.toml", R"(
[features]
num_mel_bins = 10
frame_step_s = 0.02
)" + std::string(train_test::kTinyLayers) + R"(
[train]
epochs = 6
batch_size = 8
validation = 0.25
[train.learning_rate]
initial = 0.02
[data]
labels = ["low", "high"]
cache = false
)");
  }
  static void TearDownTestSuite() { fsys::remove_all(root_); }
  static std::string Data() { return (root_ / "data").string(); }
  static std::string Config() { return (root_ / "tiny.toml").string(); }
  static fsys::path root_;
};
fsys::path CliTest::root_;

TEST_F(CliTest, TrainThenEvalJson) {
  const std::string run = (root_ / "run").string();
  Result t = RunKws("train --config " + Config() + " --data " + Data() + " --out " + run + " --json");
  ASSERT_EQ(t.code, 0) << t.err;
  auto tj = nlohmann::json::parse(t.out);
  EXPECT_EQ(tj["epochs"], 6);
  EXPECT_GE(tj["best_epoch"].get<int>(), 1);
  EXPECT_GT(tj["samples_per_second"].get<double>(), 0);
  for (const char* f : {"model.ckpt", "last.ckpt", "metrics.json", "config.toml"})
    EXPECT_TRUE(fsys::exists(fsys::path(run) / f)) << f;
  // train also writes the three .tflite variants, and says so in its JSON.
  ASSERT_EQ(tj["tflite"].size(), 3u) << t.out;
  for (const auto& v : tj["tflite"]) {
    const fsys::path p = v["path"].get<std::string>();
    ASSERT_TRUE(fsys::exists(p)) << p;
    EXPECT_EQ(v["bytes"].get<long>(), long(fsys::file_size(p))) << p;
    EXPECT_GT(v["zip_bytes"].get<long>(), 0);
    EXPECT_LT(v["zip_bytes"].get<long>(), v["bytes"].get<long>());
  }
  {
    Result ei = RunKws("eval --model " + run + "/model_int8.tflite --data " + Data() + " --json");
    ASSERT_EQ(ei.code, 0) << ei.err;
    auto eij = nlohmann::json::parse(ei.out);
    EXPECT_EQ(eij["model_kind"], "tflite:int8");
    EXPECT_EQ(eij["n"], 64);
    EXPECT_GT(eij["accuracy"].get<double>(), 0.85);
  }

  Result e = RunKws("eval --model " + run + " --data " + Data() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  auto ej = nlohmann::json::parse(e.out);
  EXPECT_EQ(ej["n"], 64);
  EXPECT_GT(ej["accuracy"].get<double>(), 0.9);
  EXPECT_EQ(ej["labels"], (nlohmann::json{"low", "high"}));
  EXPECT_EQ(ej["per_label"]["low"]["n"], 32);
  ASSERT_EQ(ej["confusion"].size(), 2u);
  EXPECT_EQ(ej["confusion"][0][0].get<long>() + ej["confusion"][0][1].get<long>(), 32);
  long correct = ej["confusion"][0][0].get<long>() + ej["confusion"][1][1].get<long>();
  EXPECT_DOUBLE_EQ(ej["accuracy"].get<double>(), double(correct) / 64);

  // One label only; the confusion keeps the model's label order.
  Result e2 = RunKws("eval --model " + run + "/model.ckpt --data " + Data() + " --labels high --json");
  ASSERT_EQ(e2.code, 0) << e2.err;
  auto e2j = nlohmann::json::parse(e2.out);
  EXPECT_EQ(e2j["n"], 32);
  EXPECT_EQ(e2j["confusion"][0][0].get<long>() + e2j["confusion"][0][1].get<long>(), 0);

  // The readable table.
  Result e3 = RunKws("eval --model " + run + " --data " + Data());
  ASSERT_EQ(e3.code, 0) << e3.err;
  EXPECT_NE(e3.out.find("confusion (rows = truth"), std::string::npos) << e3.out;

  // Every misclassified clip is listed: on the data with its two folders swapped nearly all are.
  const fsys::path swapped = root_ / "swapped";
  fsys::create_directories(swapped);
  fsys::create_directory_symlink(fsys::absolute(fsys::path(Data()) / "high"), swapped / "low");
  fsys::create_directory_symlink(fsys::absolute(fsys::path(Data()) / "low"), swapped / "high");
  Result es = RunKws("eval --model " + run + " --data " + swapped.string() + " --json");
  ASSERT_EQ(es.code, 0) << es.err;
  auto esj = nlohmann::json::parse(es.out);
  const long wrong = esj["n"].get<long>() - esj["correct"].get<long>();
  EXPECT_GT(wrong, 50);
  ASSERT_EQ(long(esj["errors"].size()), wrong);
  for (const auto& m : esj["errors"]) {
    EXPECT_TRUE(fsys::exists(m["item"].get<std::string>())) << m;
    EXPECT_NE(m["truth"], m["predicted"]) << m;
    EXPECT_EQ(m["item"].get<std::string>().find(m["truth"].get<std::string>() == "low" ? "/low/" : "/high/") !=
                  std::string::npos,
              true)
        << m;
    EXPECT_GE(m["score"].get<double>(), m["truth_score"].get<double>()) << m;
  }
  EXPECT_EQ(ej["errors"].size(), size_t(64 - correct));  // and on the right data, the few wrong ones
  Result et2 = RunKws("eval --model " + run + " --data " + swapped.string() + " --errors");
  ASSERT_EQ(et2.code, 0) << et2.err;
  EXPECT_NE(et2.out.find("misclassified (" + std::to_string(wrong) + ")"), std::string::npos) << et2.out;

  // The same model as a float .tflite (run by kws's interpreter) predicts the same labels.
  const std::string tfl = (fsys::path(run) / "model.tflite").string();
  Result x = RunKws("export --model " + run + " --out " + tfl + " --quant float");
  ASSERT_EQ(x.code, 0) << x.err;
  Result et = RunKws("eval --model " + tfl + " --data " + Data() + " --json");
  ASSERT_EQ(et.code, 0) << et.err;
  auto etj = nlohmann::json::parse(et.out);
  EXPECT_EQ(etj["model_kind"], "tflite:float32");
  EXPECT_EQ(etj["confusion"], ej["confusion"]);
  EXPECT_EQ(etj["labels"], ej["labels"]);

  // --resume of a finished run changes nothing.
  const std::string before = ReadFile(fsys::path(run) / "last.ckpt");
  Result r = RunKws("train --data " + Data() + " --out " + run + " --resume --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadFile(fsys::path(run) / "last.ckpt"), before);
}

// Several training folders (one with symlinked label folders), a held-out test folder: the run
// trains on the merge, calibrates int8 on the same listing (through the symlinks), and its
// --test-data result equals a separate `kws eval` of the kept model and of each export.
TEST_F(CliTest, SeveralFoldersAndTestData) {
  const fsys::path base = root_ / "multi";
  const fsys::path a = base / "a", b = base / "b", b_real = base / "b_real", test = base / "test";
  for (const char* label : {"low", "high"}) {
    for (int spk = 0; spk < 8; ++spk)
      for (int i = 0; i < 4; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "spk%02d_nohash_%d.wav", spk, i);
        const fsys::path dir = spk < 3 ? a : spk < 6 ? b_real : test;
        fsys::create_directories(dir / label);
        fsys::copy_file(fsys::path(Data()) / label / name, dir / label / name);
      }
    fsys::create_directories(b);
    fsys::create_directory_symlink(fsys::absolute(b_real / label), b / label);
  }
  const std::string run = (base / "run").string();
  Result t = RunKws("train --config " + Config() + " --data " + a.string() + " --data " + b.string() +
                    " --test-data " + test.string() + " --out " + run + " --json");
  ASSERT_EQ(t.code, 0) << t.err;
  auto tj = nlohmann::json::parse(t.out);
  ASSERT_EQ(tj["tflite"].size(), 3u) << t.out;
  ASSERT_TRUE(tj.contains("test")) << t.out;
  const auto metrics = nlohmann::json::parse(ReadFile(fsys::path(run) / "metrics.json"));
  ASSERT_TRUE(metrics.contains("test"));
  EXPECT_EQ(metrics["test"], tj["test"]);
  EXPECT_EQ(metrics["train_items"].get<int>() + metrics["val_items"].get<int>(), 48);  // 6 speakers x 2 x 4
  ASSERT_EQ(tj["test"]["models"].size(), 4u);  // the checkpoint, then float, dynamic, int8
  const std::vector<std::string> models = {run, run + "/model_float.tflite", run + "/model_dynamic.tflite",
                                           run + "/model_int8.tflite"};
  for (size_t m = 0; m < models.size(); ++m) {
    Result e = RunKws("eval --model " + models[m] + " --data " + test.string() + " --json");
    ASSERT_EQ(e.code, 0) << e.err;
    auto ej = nlohmann::json::parse(e.out);
    const auto& tm = tj["test"]["models"][m];
    EXPECT_EQ(tm["n"], 16);
    EXPECT_EQ(tm["accuracy"], ej["accuracy"]) << models[m];
    EXPECT_EQ(tm["confusion"], ej["confusion"]) << models[m];
    EXPECT_EQ(tm["errors"], ej["errors"]) << models[m];
    EXPECT_EQ(tm["model_kind"], ej["model_kind"]) << models[m];
  }
  EXPECT_EQ(tj["test"]["accuracy"], tj["test"]["models"][0]["accuracy"]);
  // The printed summary has the test table and its misclassified clips.
  Result text = RunKws("train --config " + Config() + " --data " + a.string() + " --data " + b.string() +
                       " --test-data " + test.string() + " --out " + run + "_text");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("test data: " + test.string()), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("misclassified ("), std::string::npos) << text.out;
  // The folders can come from the config instead of --data.
  Result cfg_dirs = RunKws("train --config " + Config() + " --set data.dirs=" + a.string() + "," + b.string() +
                           " --no-export --out " + run + "_cfg --json");
  ASSERT_EQ(cfg_dirs.code, 0) << cfg_dirs.err;
  auto losses = [](const nlohmann::json& m) {
    std::vector<double> v;
    for (const auto& e : m["epochs"]) v.push_back(e["train_loss"].get<double>());
    return v;
  };
  EXPECT_EQ(losses(nlohmann::json::parse(ReadFile(fsys::path(run + "_cfg") / "metrics.json"))),
            losses(metrics));  // the same data, the same training
  // A test folder that shares clips with the training data is refused before training.
  Result overlap = RunKws("train --config " + Config() + " --data " + a.string() + " --test-data " + Data() +
                          " --out " + run + "_overlap");
  EXPECT_EQ(overlap.code, 1) << overlap.err;
  EXPECT_NE(overlap.err.find("also in the training data"), std::string::npos) << overlap.err;
  EXPECT_FALSE(fsys::exists(fsys::path(run + "_overlap") / "model.ckpt"));
  // Without any data folder: a usage error saying how to give one.
  Result none = RunKws("train --config " + Config() + " --out " + run + "_none");
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("--data"), std::string::npos) << none.err;
}

// train.validation_data: one --data folder is the validation set (its clips, none of the others'); a folder
// that is not among --data is one line, exit 1, before training.
TEST_F(CliTest, ValidationDataFolder) {
  const fsys::path base = root_ / "valdata";
  const fsys::path a = base / "a", b = base / "b";
  for (const char* label : {"low", "high"})
    for (int spk = 0; spk < 8; ++spk)
      for (int i = 0; i < 4; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "spk%02d_nohash_%d.wav", spk, i);
        const fsys::path dir = spk < 6 ? a : b;
        fsys::create_directories(dir / label);
        fsys::copy_file(fsys::path(Data()) / label / name, dir / label / name);
      }
  const std::string run = (base / "run").string();
  Result t = RunKws("train --config " + Config() + " --data " + a.string() + " --data " + b.string() + " --out " + run +
                    " --no-export --json --set train.validation_data=" + b.string());
  ASSERT_EQ(t.code, 0) << t.err;
  const auto metrics = nlohmann::json::parse(ReadFile(fsys::path(run) / "metrics.json"));
  EXPECT_EQ(metrics["val_items"].get<int>(), 16);    // b: 2 speakers x 2 labels x 4
  EXPECT_EQ(metrics["train_items"].get<int>(), 48);  // a: all of it (no speaker fraction taken)
  Result bad = RunKws("train --config " + Config() + " --data " + a.string() + " --out " + run + "_bad --set " +
                      "train.validation_data=" + b.string());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("train.validation_data: " + b.string() + " is not one of the data folders"), std::string::npos)
      << bad.err;
  EXPECT_FALSE(fsys::exists(run + "_bad"));
}

TEST_F(CliTest, CrossValidationWritesFolds) {
  const std::string run = (root_ / "cv").string();
  Result t = RunKws("train --config " + Config() + " --data " + Data() + " --out " + run +
                    " --cv 2 --seeds 2 --set train.epochs=2 --json");
  ASSERT_EQ(t.code, 0) << t.err;
  auto j = nlohmann::json::parse(t.out);
  ASSERT_EQ(j["runs"].size(), 4u);
  EXPECT_EQ(j["accuracy"]["n"], 4);
  auto cv = nlohmann::json::parse(ReadFile(fsys::path(run) / "cv.json"));
  ASSERT_EQ(cv["items"].size(), 64u);
  // Folds are speaker-disjoint, and test items of a fold are exactly the items in that fold.
  std::map<std::string, int> fold_of;
  for (auto& it : cv["items"]) {
    const std::string spk = it["speaker"];
    if (fold_of.count(spk)) EXPECT_EQ(fold_of[spk], it["fold"].get<int>()) << spk;
    fold_of[spk] = it["fold"];
  }
  for (auto& f : cv["fold_splits"]) {
    for (int i : f["test"]) EXPECT_EQ(cv["items"][size_t(i)]["fold"], f["fold"]);
    for (int i : f["val"]) EXPECT_NE(cv["items"][size_t(i)]["fold"], f["fold"]);
  }
  EXPECT_TRUE(fsys::exists(fsys::path(run) / "fold1_seed1" / "model.ckpt"));
}

// --cv-partitions: partition 0 is the plain run; partition 1 is exactly the run with train.seed 101
// (its own folds); the summary pools both.
TEST_F(CliTest, CrossValidationOverSpeakerPartitions) {
  EXPECT_EQ(kws::CvPartitionSeed(1, 0), 1u);
  EXPECT_EQ(kws::CvPartitionSeed(1, 3), 303u);
  EXPECT_EQ(kws::CvPartitionSeed(7, 2), 1414u);
  const std::string common = "train --config " + Config() + " --data " + Data() + " --cv 2 --set train.epochs=2 --json";
  Result both = RunKws(common + " --out " + (root_ / "cvp").string() + " --cv-partitions 2");
  Result p0 = RunKws(common + " --out " + (root_ / "cvp0").string());
  Result p1 = RunKws(common + " --out " + (root_ / "cvp1").string() + " --set train.seed=101");
  ASSERT_EQ(both.code, 0) << both.err;
  ASSERT_EQ(p0.code, 0) << p0.err;
  ASSERT_EQ(p1.code, 0) << p1.err;
  const auto j = nlohmann::json::parse(both.out), j0 = nlohmann::json::parse(p0.out),
             j1 = nlohmann::json::parse(p1.out);
  ASSERT_EQ(j["runs"].size(), 4u);
  EXPECT_EQ(j["partition_seeds"], (nlohmann::json{1, 101}));
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(j["runs"][i]["partition"], 0);
    EXPECT_EQ(j["runs"][i + 2]["partition"], 1);
    for (const char* key : {"fold", "seed", "confusion", "test_accuracy", "misses"}) {
      EXPECT_EQ(j["runs"][i][key], j0["runs"][i][key]) << key;
      EXPECT_EQ(j["runs"][i + 2][key], j1["runs"][i][key]) << key;
    }
  }
  const double m0 = j0["accuracy"]["mean"].get<double>(), m1 = j1["accuracy"]["mean"].get<double>();
  EXPECT_DOUBLE_EQ(j["partition_means"][0].get<double>(), m0);
  EXPECT_DOUBLE_EQ(j["partition_means"][1].get<double>(), m1);
  EXPECT_NEAR(j["accuracy"]["mean"].get<double>(), (m0 + m1) / 2, 1e-12);
  EXPECT_EQ(j["partitions"]["n"], 2);
  // cv.json: every item's fold in each partition, the two partitions' folds differ, and the
  // partition-1 runs' folders exist beside partition 0's.
  const auto cv = nlohmann::json::parse(ReadFile(root_ / "cvp" / "cv.json"));
  const auto cv1 = nlohmann::json::parse(ReadFile(root_ / "cvp1" / "cv.json"));
  int differ = 0;
  for (size_t i = 0; i < cv["items"].size(); ++i) {
    const auto& pf = cv["items"][i]["partition_folds"];
    ASSERT_EQ(pf.size(), 2u);
    EXPECT_EQ(pf[0], cv["items"][i]["fold"]);
    EXPECT_EQ(pf[1], cv1["items"][i]["fold"]);
    differ += pf[0] != pf[1];
  }
  EXPECT_GT(differ, 0);
  EXPECT_EQ(cv["partition_fold_splits"][1], cv1["fold_splits"]);
  EXPECT_TRUE(fsys::exists(root_ / "cvp" / "fold1_seed0" / "model.ckpt"));
  EXPECT_TRUE(fsys::exists(root_ / "cvp" / "part1_fold1_seed0" / "model.ckpt"));
  // The table names the partitions; bad counts are usage errors.
  Result t = RunKws("train --config " + Config() + " --data " + Data() + " --cv 2 --set train.epochs=1 --out " +
                    (root_ / "cvp_t").string() + " --cv-partitions 2");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("speaker partitions (train.seed): 1: "), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("over 2 partitions: mean"), std::string::npos) << t.out;
  EXPECT_EQ(RunKws(common + " --out " + (root_ / "cvp_bad").string() + " --cv-partitions 0").code, 1);
  EXPECT_EQ(RunKws("train --config " + Config() + " --data " + Data() + " --out " + (root_ / "cvp_bad2").string() +
                   " --cv-partitions 2")
                .code,
            1);
}

TEST_F(CliTest, CrossValidationListsMisclassifiedClips) {
  // An untrained model (learning rate 1e-12) gets many held-out clips wrong; each run lists exactly
  // the off-diagonal of its confusion matrix, as real clips with differing label and prediction.
  const std::string run = (root_ / "cv_misses").string();
  Result t = RunKws("train --config " + Config() + " --data " + Data() + " --out " + run +
                    " --cv 2 --seeds 1 --set train.epochs=1 --set train.learning_rate.initial=1e-12"
                    " --set train.learning_rate.end=1e-12 --json");
  ASSERT_EQ(t.code, 0) << t.err;
  auto j = nlohmann::json::parse(t.out);
  long listed = 0;
  for (auto& r : j["runs"]) {
    long off = 0;
    const auto& cm = r["confusion"];
    for (size_t a = 0; a < cm.size(); ++a)
      for (size_t b = 0; b < cm.size(); ++b)
        if (a != b) off += cm[a][b].get<long>();
    ASSERT_EQ(long(r["misses"].size()), off);
    for (auto& m : r["misses"]) {
      EXPECT_NE(m["label"], m["predicted"]);
      EXPECT_TRUE(fsys::exists(fsys::path(Data()) / m["path"].get<std::string>())) << m["path"];
      EXPECT_EQ(fsys::path(m["path"].get<std::string>()).parent_path().string(), m["label"]) << m["path"];
    }
    listed += off;
  }
  EXPECT_GT(listed, 0);
}

// A truncated clip in the data folder stops training and evaluation (exit 2, naming the file) before
// anything is written; data.skip_bad_files = true trains without it.
TEST_F(CliTest, TruncatedClipInDataIsBadInput) {
  const fsys::path data = root_ / "data_truncated";
  fsys::remove_all(data);
  fsys::copy(Data(), data, fsys::copy_options::recursive);
  const std::string good = ReadFile((data / "low" / "spk00_nohash_0.wav").string());
  AtomicWriteFile(data / "low" / "spk09_nohash_0.wav", good.substr(0, 1000));
  const std::string out = (root_ / "run_truncated").string();
  const std::string train = "train --config " + Config() + " --data " + data.string() + " --out " + out;
  Result r = RunKws(train);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find((data / "low" / "spk09_nohash_0.wav").string() + ": not audio: truncated"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fsys::exists(out));
  Result e = RunKws("eval --model " + out + " --data " + data.string());
  EXPECT_EQ(e.code, 2) << e.err;
  Result ok = RunKws(train + " --set data.skip_bad_files=true --json");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(fsys::exists(fsys::path(out) / "model.ckpt"));
  Result e2 = RunKws("eval --model " + out + " --data " + data.string());
  EXPECT_EQ(e2.code, 2) << e2.err;
  EXPECT_NE(e2.err.find("spk09_nohash_0.wav"), std::string::npos) << e2.err;
}

TEST_F(CliTest, BadInputsExitWithMessages) {
  const std::string out = (root_ / "bad").string();
  const std::string base = "train --config " + Config() + " --data " + Data() + " --out " + out;
  struct Case {
    std::string args, needle;
    int code;
  };
  const Case cases[] = {
      {base + " --labels low,middle", "middle", 1},
      {base + " --set train.epoch=2", "unknown setting 'train.epoch'", 1},
      {base + " --set train.learning_rate.initial=nan", "train.learning_rate.initial", 1},
      {base + " --set model.layers.0.kernel=[60,3] --set model.layers.0.padding=valid", "layer 'conv2d_1': kernel 60x3", 1},
      {base + " --cv 9", "--cv 9", 1},
      {"train --config /nonexistent.toml --data " + Data() + " --out " + out, "/nonexistent.toml", 2},
      {"eval --model /nonexistent_run --data " + Data(), "/nonexistent_run", 2},
      {"eval --model " + root_.string() + " --data " + Data(), "model.ckpt: no such model", 2},
      {base + " --seeds 3", "--seeds needs --cv", 1},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.args);
    Result r = RunKws(c.args);
    EXPECT_EQ(r.code, c.code) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
  }
}

// Every regular file under `dir` with its bytes: what a refused command must leave unchanged.
std::map<std::string, std::string> Snapshot(const fsys::path& dir) {
  std::map<std::string, std::string> m;
  if (!fsys::exists(dir)) return m;
  for (const auto& e : fsys::recursive_directory_iterator(dir))
    if (e.is_regular_file()) m[fsys::relative(e.path(), dir).string()] = ReadFile(e.path());
  return m;
}

// A resume checks what it resumes: other data (one clip more), other labels or other settings are
// refused with exit 1 saying what differs, and leave the run folder as it was; the same inputs resume.
TEST_F(CliTest, ResumeRefusesOtherDataLabelsAndSettings) {
  const fsys::path run = root_ / "resume_run";
  const std::string base = "train --config " + Config() + " --out " + run.string() + " --set train.epochs=2";
  Result r = RunKws(base + " --data " + Data());
  ASSERT_EQ(r.code, 0) << r.err;
  // A second folder: the same clips and one more speaker's clip of "low".
  const fsys::path more = root_ / "data_more";
  fsys::copy(Data(), more, fsys::copy_options::recursive);
  std::vector<float> s(16000);
  for (size_t t = 0; t < s.size(); ++t) s[t] = float(0.3 * std::sin(2 * M_PI * 400.0 * double(t) / 16000));
  WriteWav16((more / "low" / "spk09_nohash_0.wav").string(), s, 16000);
  // The same clips under another folder name are the same data.
  const fsys::path moved = root_ / "data_moved";
  fsys::copy(Data(), moved, fsys::copy_options::recursive);

  const auto before = Snapshot(run);
  struct Case {
    std::string args, needle;
  };
  const Case refused[] = {
      {base + " --data " + more.string() + " --resume", "was trained on different data (run: 64 items"},
      {base + " --data " + Data() + " --labels high,low --resume", "different labels (run: low, high; now: high, low)"},
      {base + " --data " + Data() + " --set train.batch_size=4 --resume", "different settings: train.batch_size (run 8, now 4)"},
      {base + " --data " + Data() + " --set features.num_mel_bins=12 --resume", "features.num_mel_bins (run 10, now 12)"},
  };
  for (const auto& c : refused) {
    SCOPED_TRACE(c.args);
    r = RunKws(c.args);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_EQ(Snapshot(run), before) << "a refused resume changed the run folder";
  }
  const std::string model = ReadFile(run / "model.ckpt");
  r = RunKws(base + " --data " + moved.string() + " --resume --no-export");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadFile(run / "model.ckpt"), model);
  fsys::remove_all(more);
  fsys::remove_all(moved);
  fsys::remove_all(run);
}

// A run too short for its pruning schedule says so: its exports are not as sparse as the config says.
TEST_F(CliTest, ShortPrunedRunWarnsOfMissedSparsity) {
  const fsys::path out = root_ / "underpruned";
  const std::string base = "train --config " + Config() + " --data " + Data() + " --out " + out.string() +
                           " --no-export --set train.epochs=2 --set prune.enabled=true";
  Result r = RunKws(base);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: pruning reached 20.5% sparsity, not prune.final_sparsity 85.0%: the run had 12 steps"),
            std::string::npos)
      << r.err;
  r = RunKws(base + " --set prune.frequency=1 --set prune.end_fraction=0.5");  // reaches it: no warning
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("pruning reached"), std::string::npos) << r.err;
  fsys::remove_all(out);
}

// Commands refused before training leave nothing behind: no split.json, no folder.
TEST_F(CliTest, RefusedRunsLeaveNoFiles) {
  const fsys::path out = root_ / "nothing";
  const std::string base = "train --config " + Config() + " --data " + Data() + " --out " + out.string();
  for (const auto& [args, needle] : {std::pair<std::string, std::string>{" --labels low", "at least 2 "},
                                     {" --resume", "holds no run to resume"},
                                     {" --set train.class_weights=1,2,3", "class_weights"}}) {
    SCOPED_TRACE(args);
    Result r = RunKws(base + args);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_TRUE(Snapshot(out).empty()) << "left " << Snapshot(out).begin()->first;
  }
  fsys::remove_all(out);
}

// Ctrl-C during training: the run dies of the signal as before (exit 130) and says that, and how,
// it can be resumed; the resume then finishes it.
TEST_F(CliTest, InterruptSaysHowToResume) {
  const fsys::path run = root_ / "interrupted";
  const fsys::path err = root_ / "interrupted.err";
  const std::string train = std::string(KWS_BINARY) + " -j2 train --config " + Config() + " --data " + Data() +
                            " --out " + run.string() + " --no-export --set train.epochs=150";
  // Waits for the first checkpoint (not for a time), then interrupts; a watchdog ends a hang.
  const std::string script = train + " 2> " + err.string() + " & pid=$!; for i in $(seq 1200); do [ -e " +
                             (run / "last.ckpt").string() + " ] && break; sleep 0.05; done; kill -INT $pid; wait $pid; echo rc=$?";
  FILE* p = popen(("timeout 300 bash -c '" + script + "'").c_str(), "r");
  std::string out;
  char buf[256];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
  pclose(p);
  EXPECT_NE(out.find("rc=130"), std::string::npos) << out;
  const std::string e = ReadFile(err);
  EXPECT_NE(e.find("kws train: interrupted; " + (run / "last.ckpt").string() +
                   " holds the last finished epoch: run the same command with --resume to continue"),
            std::string::npos)
      << e;
  Result r = RunKws("train --config " + Config() + " --data " + Data() + " --out " + run.string() +
                    " --no-export --set train.epochs=150 --resume");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(ReadFile(run / "metrics.json"))["epochs"].size(), 150u);
  fsys::remove_all(run);
  fsys::remove(err);
}

}  // namespace
}  // namespace kws
