// kws eval: accuracy, per-label accuracy and the confusion matrix of a model on data folders.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "train/evaluate.h"

namespace {
struct Opts {
  std::string model, labels;
  std::vector<std::string> data;
  bool json = false, no_cache = false, errors = false;
};

kws::cli::Registrar reg(
    "eval", "Evaluate a trained model (run folder, .ckpt or .tflite) on data folders",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model, "Run folder (its model.ckpt), a .ckpt file or a .tflite file")->required();
      app.add_option("--data", o->data,
                     "Dataset folder (one sub-folder per label); repeat it to merge several into one dataset")
          ->required();
      app.add_option("--labels", o->labels,
                     "Evaluate only these labels (comma-separated; default: the model's labels the data has)");
      app.add_flag("--no-cache", o->no_cache, "Do not read or write the feature cache");
      app.add_flag("--errors", o->errors, "Also list every misclassified clip (file, speaker, truth, prediction, scores)");
      app.add_flag("--json", o->json,
                   "Print JSON: accuracy, n, per_label, confusion (rows = truth), errors (every misclassified clip), "
                   "absent_labels");
      return [o]() -> int {
        kws::EvalResult r = kws::EvaluateOnData(o->model, o->data, o->labels, !o->no_cache);
        if (o->json)
          std::printf("%s\n", r.ToJson().dump(2).c_str());
        else
          std::fputs(r.ToText(o->errors).c_str(), stdout);
        return 0;
      };
    },
    "Examples:\n"
    "  kws eval --model runs/seed --data data/test\n"
    "  kws eval --model runs/seed/model.tflite --data data/test --json | jq .accuracy\n"
    "  kws eval --model runs/seed/model.tflite --data data/v1 --data data/v2 --errors");
}  // namespace
