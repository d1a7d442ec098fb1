// `kws eval` (and `kws train --test-data`): a trained model on every item of one or more data
// folders.
//
//   kws::EvalResult r = kws::EvaluateOnData("runs/seed", {"data/test"});
//   std::puts(r.ToText(/*errors=*/true).c_str());   // table, confusion, misclassified clips
//   nlohmann::json j = r.ToJson();                   // {accuracy, n, per_label, confusion, errors, ...}
//
//   model: a run folder (uses its model.ckpt), a .ckpt file, or a .tflite file (run through
//          kws::rt::Interpreter; labels and feature settings from its "kws" metadata).
//   labels: "" = the model's labels that the data has (a label the data cannot supply is left out and
//           named in EvalResult::absent_labels); else a subset of them (only those items are evaluated).
// Rows/columns of the confusion matrix follow the model's label order.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/metrics.h"

namespace kws {

// One misclassified item.
struct EvalMiss {
  std::string item;           // the clip's path, or "_silence_ from <noise recording> at <s> s"
  std::string speaker;        // speaker (or pseudo-speaker)
  int truth = -1, predicted = -1;  // indices into Evaluation::labels
  float score = 0;            // the predicted class's probability
  float truth_score = 0;      // the true class's probability
};

struct EvalResult {
  Evaluation eval;
  std::vector<EvalMiss> misses;  // in data order
  std::string model_path;     // the file actually read
  std::string model_kind;     // "checkpoint" or "tflite:<float32|int8|hybrid>"
  std::string data;           // the data folder(s), "A + B"
  std::vector<std::string> absent_labels;  // model labels the data has no items of (not evaluated)
  double seconds = 0;         // features + inference

  // eval.ToJson() + model, model_kind, data, absent_labels, seconds, errors (EvalMissesJson).
  nlohmann::json ToJson() const;
  // "model: ..." line, the accuracy table, and with `errors` every misclassified clip plus the
  // speakers with more than one.
  std::string ToText(bool errors) const;
};

EvalResult EvaluateOnData(const std::string& model, const std::vector<std::string>& data_dirs,
                          const std::string& labels = "", bool cache = true);
EvalResult EvaluateOnData(const std::string& model, const std::string& data_dir, const std::string& labels = "",
                          bool cache = true);
// r.misses as JSON: [{item, speaker, truth, predicted, score, truth_score}] (label names).
nlohmann::json EvalMissesJson(const EvalResult& r);

}  // namespace kws
