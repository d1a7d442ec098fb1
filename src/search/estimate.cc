#include "search/estimate.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "data/feature_cache.h"
#include "data/task.h"
#include "export/export_model.h"
#include "layers/conv2d.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "runtime/interpreter.h"
#include "train/cv.h"
#include "train/pruning.h"
#include "util/error.h"

namespace kws::search {

namespace fsys = std::filesystem;

namespace {

// The trained model's labels and training classes for this config on this data.
void Classes(const Config& cfg, const Dataset& data, std::vector<std::string>* labels,
             std::vector<std::string>* classes) {
  if (cfg.data.labels.empty()) throw UsageError("data.labels: no labels (set them in the config or pass --labels)");
  TaskOptions to;
  to.silence_count = cfg.data.silence_count;
  to.unknown_ratio = cfg.data.unknown_ratio;
  to.seed = cfg.train.seed;
  to.sample_rate = cfg.features.sample_rate;
  to.silence_seconds = cfg.features.clip_seconds;
  TaskView task;
  try {
    task = MakeTask(data, cfg.data.labels, to);
  } catch (const Error& e) {
    throw UsageError("data.labels: " + std::string(e.what()));
  }
  *labels = task.labels;
  classes->clear();
  if (!cfg.data.unknown_subclasses) return;
  FeatureSet fs;
  fs.n = task.size();
  fs.labels = task.label;
  fs.label_names = task.labels;
  AddUnknownSubclasses(data, task, fs);
  *classes = fs.class_names;
}

// What pruning leaves at the end of training: magnitude masks at the final sparsity, or (structured)
// the filters each conv keeps removed for real. Returns false when the structure is a guess.
bool PruneLikeTraining(const Config& cfg, Model& model) {
  if (!cfg.prune.enabled) return true;
  const double s = cfg.prune.final_sparsity;
  if (!cfg.prune.structured) {
    for (Param* p : model.Params()) {
      if (!p->prunable) continue;
      p->mask = MagnitudeMask(p->value, s);
      for (size_t i = 0; i < p->value.size(); ++i)
        if (!p->mask[i]) p->value[i] = 0.0f;
    }
    return true;
  }
  auto& layers = model.mutable_layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    auto* conv = dynamic_cast<Conv2DLayer*>(layers[i].get());
    if (!conv) continue;
    std::vector<int> keep(KeptCount(size_t(conv->filters), s));
    for (size_t k = 0; k < keep.size(); ++k) keep[k] = int(k);
    if (int(keep.size()) == conv->filters) continue;
    try {
      RemoveFilters(layers, i, keep);
    } catch (const Error&) {
      // training keeps such filters too (their channels cannot be followed)
    }
  }
  model.Reshape();
  return false;
}

std::string TempCheckpointPath() {
  static std::atomic<int> n{0};
  return (fsys::temp_directory_path() /
          ("kws_search_estimate_" + std::to_string(getpid()) + "_" + std::to_string(n++) + ".ckpt"))
      .string();
}

}  // namespace

Estimate EstimateFigures(const Config& cfg, const Dataset& data, const std::string& quant) {
  std::vector<std::string> labels, classes;
  Classes(cfg, data, &labels, &classes);
  const FeatureOptions& fo = cfg.features;
  const Shape input{fo.num_frames(fo.window_samples()), fo.num_features(), 1};
  const int C = int(classes.empty() ? labels.size() : classes.size());
  Model model = Model::Build(cfg.layers, input, C, 1);
  if (!classes.empty()) model.SetOutputMap(OutputMapOf(labels, classes));
  Estimate e;
  const bool exact_structure = PruneLikeTraining(cfg, model);

  Checkpoint ck = CaptureModel(model);
  ck.config = cfg.table;
  ck.labels = labels;
  ck.classes = classes;
  ck.features = cfg.features;
  const std::string path = TempCheckpointPath();
  struct Remove {
    std::string p;
    ~Remove() {
      std::error_code ec;
      fsys::remove(p, ec);
    }
  } remove{path};
  SaveCheckpoint(path, ck);

  ModelExportOptions o;
  o.model = path;
  o.out = "model.tflite";
  o.quant = ParseQuantMode(quant);
  o.calibration_dataset = &data;
  o.calibration_count = 1;
  o.write = false;
  const ModelExportResult r = ExportModel(o);
  const auto it = rt::Interpreter::FromBuffer("estimate", r.content);
  e.figures.tflite_bytes = double(r.bytes);
  e.figures.zip_bytes = double(r.zip_bytes);
  e.figures.arena_bytes = double(it.arena_bytes());
  e.figures.macs = double(it.macs());
  e.figures.params = double(it.num_weights());
  e.figures.nonzero = double(it.num_nonzero_weights());
  // The .tflite bytes follow from the shapes up to a few bytes (int8 quantization parameters and the
  // FlatBuffer's padding depend on the values: 16 of 2,064 bytes measured), so they are an estimate too.
  e.estimated = {"zip_bytes", "nonzero", "tflite_bytes"};
  if (!exact_structure) e.estimated.insert({"tflite_bytes", "arena_bytes", "macs", "params"});
  return e;
}

}  // namespace kws::search
