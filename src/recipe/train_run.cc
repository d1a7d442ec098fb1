#include "recipe/train_run.h"

#include <cstdio>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "model/config.h"
#include "model/model.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace kws {

using json = nlohmann::json;
namespace fsys = std::filesystem;

void TrainRunOptions::Validate() const {
  if (out.empty()) throw UsageError("--out: required (the run folder)");
  if (config.empty() && !resume) throw UsageError("--config is required (e.g. --config configs/seed.toml)");
  if (resume && cv > 0) throw UsageError("--resume cannot be combined with --cv");
  if (seeds != 1 && cv == 0) throw UsageError("--seeds needs --cv K");
  if (partitions != 1 && cv == 0) throw UsageError("--cv-partitions needs --cv K");
  if (partitions < 1) throw UsageError("--cv-partitions: must be >= 1");
  if (!test_data.empty() && cv > 0)
    throw UsageError("--test-data evaluates the kept model of a plain run; it cannot be combined with --cv");
  if (!test_data.empty() && no_export) throw UsageError("--test-data needs the exports (drop --no-export)");
}

namespace {

Config LoadRunConfig(const TrainRunOptions& o) {
  const std::string path = o.config.empty() ? (fsys::path(o.out) / "config.toml").string() : o.config;
  std::vector<std::string> sets = o.sets;
  if (!o.labels.empty()) sets.push_back("data.labels=" + o.labels);
  return LoadConfig(path, sets);
}

// The test folders as a dataset, checked against the training data: a clip in both is an error,
// shared speakers a warning.
void CheckHeldOut(const PreparedData& data, const std::vector<std::string>& test_dirs) {
  DatasetOptions lo;
  lo.probe = false;
  lo.skip_bad_files = true;
  const Dataset test = LoadDataset(test_dirs, lo);
  std::unordered_map<std::string, const Clip*> train_hash;
  std::set<std::string> train_speakers;
  for (const Clip& c : data.dataset.clips) {
    train_hash.emplace(c.hash, &c);
    if (c.has_speaker) train_speakers.insert(c.speaker);
  }
  int shared_clips = 0, shared_speaker_clips = 0;
  std::string example;
  for (const Clip& c : test.clips) {
    auto it = train_hash.find(c.hash);
    if (it != train_hash.end()) {
      if (shared_clips++ == 0) example = c.path + " = " + it->second->path;
    }
    if (c.has_speaker && train_speakers.count(c.speaker)) ++shared_speaker_clips;
  }
  if (shared_clips > 0)
    throw UsageError("--test-data: " + std::to_string(shared_clips) + " test clip" + (shared_clips > 1 ? "s are" : " is") +
                     " also in the training data (" + example + "): a test set must be held out");
  if (shared_speaker_clips > 0)
    LogWarn("--test-data: %d test clips are of speakers that also have training clips: the test is not speaker-disjoint",
            shared_speaker_clips);
}

// Exports float, dynamic-range and int8 into memory, then writes all three: none is left behind
// when one fails.
std::vector<ModelExportResult> ExportAll(const std::string& out, const Dataset& calibration) {
  std::vector<ModelExportResult> exported;
  for (QuantMode q : {QuantMode::kFloat, QuantMode::kDynamic, QuantMode::kInt8}) {
    ModelExportOptions eo;
    eo.model = (fsys::path(out) / "model.ckpt").string();
    eo.quant = q;
    eo.out = (fsys::path(out) / (std::string("model_") + QuantModeName(q) + ".tflite")).string();
    if (q == QuantMode::kInt8) eo.calibration_dataset = &calibration;  // weights and count: the recipe's [export]
    eo.write = false;
    exported.push_back(ExportModel(eo));
  }
  for (const auto& e : exported) AtomicWriteFile(e.out, e.content);
  return exported;
}

std::vector<EvalResult> EvaluateOnTest(const TrainRunResult& r, const std::vector<std::string>& test_dirs) {
  std::vector<EvalResult> tests;
  tests.push_back(EvaluateOnData(r.model_path, test_dirs));
  for (const auto& e : r.exported) tests.push_back(EvaluateOnData(e.out, test_dirs));
  return tests;
}

json TestJson(const std::vector<EvalResult>& tests) {
  json models = json::array();
  for (const EvalResult& t : tests) models.push_back(t.ToJson());
  return {{"data", tests.front().data}, {"accuracy", tests.front().eval.accuracy}, {"models", models}};
}

// metrics.json gains "test" (written atomically over the trainer's file).
void AddTestToMetrics(const std::string& out, const json& test) {
  const fsys::path p = fsys::path(out) / "metrics.json";
  json m = json::parse(ReadFileLimited(p, Limits().config_bytes, "metrics file"));
  m["test"] = test;
  AtomicWriteFile(p, m.dump(2) + "\n");
}

}  // namespace

TrainRunResult RunTraining(const TrainRunOptions& o) {
  o.Validate();
  CheckOutputPath(o.out, OutputKind::kFolder, "--out");
  if (o.resume && !fsys::exists(fsys::path(o.out) / "last.ckpt"))
    throw UsageError("--resume: " + o.out + " holds no run to resume (no last.ckpt); drop --resume to start one");
  TrainRunResult r;
  r.out = o.out;
  const Config cfg = LoadRunConfig(o);
  PreparedData data = PrepareData(cfg, o.data);
  LogInfo("data: %d items from %s, labels %s", data.task.size(), data.dataset.root.c_str(),
          o.labels.empty() ? "from config" : o.labels.c_str());
  if (!o.test_data.empty()) CheckHeldOut(data, o.test_data);
  if (o.export_features) ExportFeatures(data, o.out);
  {
    const FeatureSet& fs = data.features;
    Model m = Model::Build(cfg.layers, {fs.frames, fs.bins, 1},
                           int(fs.class_names.empty() ? fs.label_names.size() : fs.class_names.size()), 0);
    r.model_summary = m.Summary();
  }

  if (o.cv > 0) {
    CvOptions co;
    co.folds = o.cv;
    co.seeds = o.seeds;
    co.partitions = o.partitions;
    co.out_dir = o.out;
    co.progress = o.progress;
    r.cv = CrossValidate(cfg, data, co);
    r.cv_json = (fsys::path(o.out) / "cv.json").string();
    return r;
  }

  TrainerOptions to;
  to.out_dir = o.out;
  to.resume = o.resume;
  to.progress = o.progress;
  r.train = TrainHoldout(cfg, data, to);
  r.model_path = (fsys::path(o.out) / "model.ckpt").string();
  if (!o.no_export) r.exported = ExportAll(o.out, data.dataset);
  if (!o.test_data.empty()) {
    r.tests = EvaluateOnTest(r, o.test_data);
    AddTestToMetrics(o.out, TestJson(r.tests));
  }
  return r;
}

json TrainRunResult::ToJson() const {
  if (cv) {
    json j = cv->ToJson();
    j["cv_json"] = cv_json;
    return j;
  }
  json j;
  j["model"] = model_path;
  j["best_epoch"] = train.best_epoch;
  j["best_val_accuracy"] = train.best_val_accuracy;
  j["best_val_loss"] = train.best_val_loss;
  j["epochs"] = train.history.size();
  j["final_train_accuracy"] = train.history.empty() ? 0.0 : train.history.back().train_accuracy;
  j["final_sparsity"] = train.metrics["final_sparsity"];
  j["params"] = train.params;
  j["nonzero"] = train.nonzero;
  j["wall_seconds"] = train.wall_seconds;
  j["samples_per_second"] = train.samples_per_second;
  j["threads"] = NumThreads();
  for (const auto& e : exported) j["tflite"].push_back({{"path", e.out}, {"bytes", e.bytes}, {"zip_bytes", e.zip_bytes}});
  if (!tests.empty()) j["test"] = TestJson(tests);
  return j;
}

namespace {

std::string CvText(const CvResult& r, int partitions, const std::string& cv_json) {
  std::string o;
  char buf[256];
  const bool parts = partitions > 1;
  if (parts) o += "partition ";
  std::snprintf(buf, sizeof buf, "%-6s %-6s %10s %10s %6s\n", "fold", "seed", "test acc", "val acc", "epoch");
  o += buf;
  for (auto& run : r.runs) {
    if (parts) {
      std::snprintf(buf, sizeof buf, "%-10d", run.partition);
      o += buf;
    }
    std::snprintf(buf, sizeof buf, "%-6d %-6llu %9.2f%% %9.2f%% %6d\n", run.fold, (unsigned long long)run.seed,
                  100 * run.test.accuracy, 100 * run.val_accuracy, run.best_epoch);
    o += buf;
  }
  std::snprintf(buf, sizeof buf, "\naccuracy over %d runs: mean %.2f%%  std %.2f  min %.2f%%  max %.2f%%\n", r.accuracy.n,
                100 * r.accuracy.mean, 100 * r.accuracy.stddev, 100 * r.accuracy.min, 100 * r.accuracy.max);
  o += buf;
  if (parts) {
    o += "speaker partitions (train.seed):";
    for (size_t p = 0; p < r.partition_means.size(); ++p) {
      std::snprintf(buf, sizeof buf, " %llu: %.2f%%", (unsigned long long)r.partition_seeds[p], 100 * r.partition_means[p]);
      o += buf;
    }
    std::snprintf(buf, sizeof buf, "\nover %d partitions: mean %.2f%%  std %.2f  min %.2f%%  max %.2f%%\n",
                  r.partitions.n, 100 * r.partitions.mean, 100 * r.partitions.stddev, 100 * r.partitions.min,
                  100 * r.partitions.max);
    o += buf;
  }
  return o + "details: " + cv_json + "\n";
}

std::string TestText(const std::vector<EvalResult>& tests) {
  std::string o = "\ntest data: " + tests.front().data + " (never used for training or validation)\n";
  char buf[512];
  for (const EvalResult& t : tests) {
    std::snprintf(buf, sizeof buf, "  %-40s %7.2f%% (%ld of %ld)\n", t.model_path.c_str(), 100 * t.eval.accuracy,
                  t.eval.correct, t.eval.n);
    o += buf;
  }
  return o + "\n" + tests.front().ToText(/*errors=*/true);
}

}  // namespace

std::string TrainRunResult::ToText() const {
  const std::string summary = model_summary.empty() ? "" : model_summary + "\n";
  if (cv) {
    int partitions = 1;
    for (const auto& run : cv->runs) partitions = std::max(partitions, run.partition + 1);
    return summary + CvText(*cv, partitions, cv_json);
  }
  std::string o = summary;
  char buf[512];
  const auto& last = train.history.back();
  std::snprintf(buf, sizeof buf, "trained %zu epochs in %.2fs (%.0f samples/s, %d threads)\n", train.history.size(),
                train.wall_seconds, train.samples_per_second, NumThreads());
  o += buf;
  std::snprintf(buf, sizeof buf, "last epoch:  loss %.4f  accuracy %.2f%%  val accuracy %.2f%%\n", last.train_loss,
                100 * last.train_accuracy, 100 * last.val_accuracy);
  o += buf;
  std::snprintf(buf, sizeof buf, "best epoch:  %d  val accuracy %.2f%%  val loss %.4f\n", train.best_epoch,
                100 * train.best_val_accuracy, train.best_val_loss);
  o += buf;
  std::snprintf(buf, sizeof buf, "parameters:  %ld (%ld non-zero, sparsity of pruned tensors %.1f%%)\n", train.params,
                train.nonzero, 100 * train.metrics["final_sparsity"].get<double>());
  o += buf;
  o += "model:       " + model_path + "\n";
  for (const auto& e : exported) {
    std::snprintf(buf, sizeof buf, " (%zu bytes, %zu zipped)\n", e.bytes, e.zip_bytes);
    o += "exported:    " + e.out + buf;
  }
  if (!tests.empty()) o += TestText(tests);
  return o;
}

}  // namespace kws
