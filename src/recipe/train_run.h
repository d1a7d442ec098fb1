// `kws train` as a library call: config + data folders -> a trained run folder with its exports,
// optionally evaluated on test folders never used for training or validation.
//
//   kws::TrainRunOptions o;
//   o.config = "configs/yesno.toml";
//   o.data = {"data/speech_commands_v1"};            // several folders merge into one dataset
//   o.test_data = {"data/speech_commands"};          // the standard protocol: train on one, test on the other
//   o.out = "runs/yesno";
//   kws::TrainRunResult r = kws::RunTraining(o);
//   std::fputs(r.ToText().c_str(), stdout);          // or r.ToJson()
//
// Holdout run (no --cv): trains (train/cv.h TrainHoldout), then writes RUN/model_float.tflite,
// model_dynamic.tflite and model_int8.tflite (int8 calibrated on the same dataset listing the
// trainer used). The three files are written only when all three exported: a failed export
// leaves none of them behind. With test folders, the kept model (RUN/model.ckpt, what
// `kws eval --model RUN` reads) and every export are evaluated on them; the result goes into
// RUN/metrics.json ("test") and the printed summary. A test clip whose bytes are also in the
// training data is a UsageError (the test would not be held out); shared speakers are a warning.
//
// Cross-validation (--cv K): train/cv.h CrossValidate; no exports, no test folders.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "export/export_model.h"
#include "train/cv.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace kws {

struct TrainRunOptions {
  std::string config;                  // "" only with resume: RUN/config.toml
  std::vector<std::string> data;       // empty = the config's data.dirs
  std::vector<std::string> test_data;  // held-out folders to evaluate the kept model on
  std::string out;                     // run folder
  std::string labels;                  // "" = the config's data.labels
  std::vector<std::string> sets;       // "key=value" overrides
  int cv = 0, seeds = 1, partitions = 1;
  bool resume = false;
  bool export_features = false;        // also RUN/features.f32 + features.json
  bool no_export = false;
  bool progress = true;
  void Validate() const;               // UsageError naming the flag
};

struct TrainRunResult {
  std::string out;
  std::string model_path;              // RUN/model.ckpt (holdout)
  TrainResult train;                   // holdout
  std::vector<ModelExportResult> exported;
  std::vector<EvalResult> tests;       // holdout with test folders: the checkpoint, then each export
  std::optional<CvResult> cv;          // --cv
  std::string cv_json;                 // RUN/cv.json
  std::string model_summary;           // Model::Summary() of the config's model (layers, shapes, params, MACs)

  // Holdout: model, best_epoch, ..., tflite [{path, bytes, zip_bytes}], test {data, models: [...]}.
  // CV: CvResult::ToJson() + cv_json.
  nlohmann::json ToJson() const;
  // The summary `kws train` prints (the model summary first; with the test set's table and misclassified clips).
  std::string ToText() const;
};

TrainRunResult RunTraining(const TrainRunOptions& o);

}  // namespace kws
