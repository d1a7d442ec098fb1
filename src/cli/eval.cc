// kws eval: accuracy, per-label accuracy and the confusion matrix of a model on a data folder.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "train/cv.h"

namespace {
struct Opts {
  std::string model, data, labels;
  bool json = false, no_cache = false;
};

kws::cli::Registrar reg(
    "eval", "Evaluate a trained model (run folder, .ckpt or .tflite) on a data folder",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model, "Run folder (its model.ckpt), a .ckpt file or a .tflite file")->required();
      app.add_option("--data", o->data, "Dataset folder (one sub-folder per label)")->required();
      app.add_option("--labels", o->labels, "Evaluate only these labels (comma-separated; default: the model's)");
      app.add_flag("--no-cache", o->no_cache, "Do not read or write the feature cache");
      app.add_flag("--json", o->json, "Print JSON: accuracy, n, per_label, confusion (rows = truth)");
      return [o]() -> int {
        kws::EvalResult r = kws::EvaluateOnData(o->model, o->data, o->labels, !o->no_cache);
        if (o->json) {
          nlohmann::json j = r.eval.ToJson();
          j["model"] = r.model_path;
          j["model_kind"] = r.model_kind;
          j["seconds"] = r.seconds;
          std::printf("%s\n", j.dump(2).c_str());
        } else {
          std::printf("model: %s (%s)\n", r.model_path.c_str(), r.model_kind.c_str());
          std::fputs(r.eval.ToTable().c_str(), stdout);
        }
        return 0;
      };
    },
    "Examples:\n"
    "  kws eval --model runs/seed --data data/test\n"
    "  kws eval --model runs/seed/model.tflite --data data/test --json | jq .accuracy");
}  // namespace
