#include "train/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "data/dataset.h"
#include "data/feature_cache.h"
#include "data/task.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "runtime/deployed_model.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/text.h"

namespace kws {

using json = nlohmann::json;

namespace {

// A checkpoint or a .tflite file with its labels and feature settings.
struct EvalModel {
  std::string path, kind;
  std::vector<std::string> labels;
  FeatureOptions features;
  std::unique_ptr<Model> model;
  std::optional<DeployedModel> tflite;
};

EvalModel LoadEvalModel(const std::string& model_arg) {
  namespace fsys = std::filesystem;
  EvalModel m;
  m.path = model_arg;
  if (fsys::is_directory(m.path)) m.path = (fsys::path(m.path) / "model.ckpt").string();
  if (!fsys::exists(m.path)) throw BadInput(m.path + ": no such model (give a run folder, a .ckpt or a .tflite)");
  const bool is_tflite = m.path.size() > 7 && m.path.substr(m.path.size() - 7) == ".tflite";
  if (is_tflite) {
    DeployedModel& d = m.tflite.emplace(DeployedModel::Load(m.path));
    m.labels = d.meta.labels;
    m.features = d.meta.features;
    m.kind = "tflite:" + d.interpreter.model_kind();
  } else {
    Checkpoint c = LoadCheckpoint(m.path);
    m.labels = c.labels;
    m.features = c.features;
    m.model = std::make_unique<Model>(ModelFromCheckpoint(c, m.path));
    m.kind = "checkpoint";
  }
  return m;
}

// Probabilities [fs.n, labels] of every item.
std::vector<float> Score(EvalModel& m, const FeatureSet& fs) {
  const int C = int(m.labels.size());
  std::vector<float> all(size_t(fs.n) * size_t(C));
  if (m.model) {
    if (m.model->input_shape() != Shape{fs.frames, fs.bins, 1})
      throw BadInput(m.path + ": model input does not match its own feature settings");
    std::vector<float> probs;
    for (int b = 0; b < fs.n; b += 256) {
      const int n = std::min(256, fs.n - b);
      probs.resize(size_t(n) * C);
      m.model->Predict(fs.item(b), n, probs.data());
      std::copy(probs.begin(), probs.end(), all.begin() + long(b) * C);
    }
    return all;
  }
  // DeployedModel::Load checked the input against the feature settings these features were made with.
  if (m.tflite->feature_values() != size_t(fs.frames) * size_t(fs.bins))
    throw InternalError(m.path + ": features do not match the model's input");
  for (int i = 0; i < fs.n; ++i) m.tflite->interpreter.RunFloat(fs.item(i), all.data() + size_t(i) * C);
  return all;
}

// The labels to evaluate: the requested ones (each must be the model's), as indices into the model's.
std::vector<int> ToModelLabels(const std::vector<std::string>& labels, const std::vector<std::string>& model_labels) {
  std::vector<int> to_model;
  for (auto& l : labels) {
    auto it = std::find(model_labels.begin(), model_labels.end(), l);
    if (it == model_labels.end()) throw UsageError("--labels: the model has no label '" + l + "'");
    to_model.push_back(int(it - model_labels.begin()));
  }
  return to_model;
}

std::string ItemName(const Dataset& ds, const TaskView& task, int i, int sample_rate) {
  const int clip = task.clip[size_t(i)];
  if (clip >= 0) return ds.clips[size_t(clip)].path;
  const NoiseSlice& sl = task.slices[size_t(i)];
  char at[32];
  std::snprintf(at, sizeof at, "%.2f", double(sl.offset) / sample_rate);
  return std::string(kSilenceLabel) + " from " + ds.noise[size_t(sl.noise)].path + " at " + at + " s";
}

}  // namespace

EvalResult EvaluateOnData(const std::string& model_arg, const std::string& data_dir, const std::string& labels_csv,
                          bool cache_on) {
  return EvaluateOnData(model_arg, std::vector<std::string>{data_dir}, labels_csv, cache_on);
}

EvalResult EvaluateOnData(const std::string& model_arg, const std::vector<std::string>& data_dirs,
                          const std::string& labels_csv, bool cache_on) {
  const auto t0 = std::chrono::steady_clock::now();
  EvalResult res;
  EvalModel m = LoadEvalModel(model_arg);
  res.model_path = m.path;
  res.model_kind = m.kind;
  const bool all_labels = labels_csv.empty();
  std::vector<std::string> labels = all_labels ? m.labels : ParseLabelList(labels_csv);
  std::vector<int> to_model = ToModelLabels(labels, m.labels);

  Dataset ds = LoadDataset(data_dirs);
  res.data = ds.root;
  WarnOtherSampleRates(ds, m.features.sample_rate);
  TaskOptions to;
  to.allow_missing = all_labels;  // evaluate on the labels the data has, and say which are absent
  TaskView task = MakeTask(ds, labels, to);
  const std::vector<int> counts = task.ClassCounts();
  for (size_t k = 0; k < labels.size(); ++k)
    if (counts[k] == 0) res.absent_labels.push_back(labels[k]);
  if (res.absent_labels.size() == labels.size())
    throw UsageError(ds.root + ": none of the model's labels has clips here");
  if (!res.absent_labels.empty()) {
    std::string a;
    for (auto& l : res.absent_labels) a += (a.empty() ? "" : ", ") + l;
    LogWarn("%s: no clips for %s: evaluated on the model's other labels", ds.root.c_str(), a.c_str());
  }
  CacheOptions cache;
  cache.enabled = cache_on;
  FeatureSet fs = ExtractFeatures(ds, task, m.features, cache);
  const std::vector<float> all_probs = Score(m, fs);

  const int C = int(m.labels.size());
  std::vector<int> truth(size_t(fs.n)), pred(size_t(fs.n));
  for (int i = 0; i < fs.n; ++i) {
    truth[size_t(i)] = to_model[size_t(fs.labels[size_t(i)])];
    const float* p = all_probs.data() + size_t(i) * C;
    pred[size_t(i)] = int(std::max_element(p, p + C) - p);
    if (pred[size_t(i)] == truth[size_t(i)]) continue;
    EvalMiss miss;
    miss.item = ItemName(ds, task, i, m.features.sample_rate);
    miss.speaker = task.speakers[size_t(i)];
    miss.truth = truth[size_t(i)];
    miss.predicted = pred[size_t(i)];
    miss.score = p[miss.predicted];
    miss.truth_score = p[miss.truth];
    res.misses.push_back(std::move(miss));
  }
  res.eval = Evaluate(truth, pred, m.labels);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

json EvalMissesJson(const EvalResult& r) {
  json j = json::array();
  for (const EvalMiss& m : r.misses)
    j.push_back({{"item", m.item},
                 {"speaker", m.speaker},
                 {"truth", r.eval.labels[size_t(m.truth)]},
                 {"predicted", r.eval.labels[size_t(m.predicted)]},
                 {"score", m.score},
                 {"truth_score", m.truth_score}});
  return j;
}

json EvalResult::ToJson() const {
  json j = eval.ToJson();
  j["model"] = model_path;
  j["model_kind"] = model_kind;
  j["data"] = data;
  j["absent_labels"] = absent_labels;
  j["seconds"] = seconds;
  j["errors"] = EvalMissesJson(*this);
  return j;
}

std::string EvalResult::ToText(bool errors) const {
  std::string o = "model: " + Printable(model_path) + " (" + model_kind + ")\n" + eval.ToTable();
  if (!errors) return o;
  char buf[1024];
  std::snprintf(buf, sizeof buf, "\nmisclassified (%zu)\n%-10s %-10s %6s %8s  %s\n", misses.size(), "truth",
                "predicted", "p", "p(truth)", "item");
  o += buf;
  for (const EvalMiss& m : misses) {
    std::snprintf(buf, sizeof buf, "%-10s %-10s %6.3f %8.3f  ", Printable(eval.labels[size_t(m.truth)]).c_str(),
                  Printable(eval.labels[size_t(m.predicted)]).c_str(), m.score, m.truth_score);
    o += buf + Printable(m.item) + "\n";
  }
  std::map<std::string, int> by_speaker;
  for (const EvalMiss& m : misses) ++by_speaker[m.speaker];
  std::vector<std::pair<int, std::string>> worst;
  for (const auto& [spk, n] : by_speaker)
    if (n > 1) worst.emplace_back(n, spk);
  std::stable_sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (!worst.empty()) {
    o += "speakers with more than one: ";
    for (size_t i = 0; i < worst.size(); ++i)
      o += (i ? ", " : "") + Printable(worst[i].second) + " (" + std::to_string(worst[i].first) + ")";
    o += "\n";
  }
  return o;
}

}  // namespace kws
