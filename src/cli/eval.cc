// kws eval: accuracy, per-label accuracy and the confusion matrix of a model on a data folder.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include "cli/command.h"
#include "train/cv.h"

namespace {
struct Opts {
  std::string model, data, labels;
  bool json = false, no_cache = false, errors = false;
};

kws::cli::Registrar reg(
    "eval", "Evaluate a trained model (run folder, .ckpt or .tflite) on a data folder",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model, "Run folder (its model.ckpt), a .ckpt file or a .tflite file")->required();
      app.add_option("--data", o->data, "Dataset folder (one sub-folder per label)")->required();
      app.add_option("--labels", o->labels, "Evaluate only these labels (comma-separated; default: the model's)");
      app.add_flag("--no-cache", o->no_cache, "Do not read or write the feature cache");
      app.add_flag("--errors", o->errors, "Also list every misclassified clip (file, speaker, truth, prediction, scores)");
      app.add_flag("--json", o->json,
                   "Print JSON: accuracy, n, per_label, confusion (rows = truth), errors (every misclassified clip)");
      return [o]() -> int {
        kws::EvalResult r = kws::EvaluateOnData(o->model, o->data, o->labels, !o->no_cache);
        if (o->json) {
          nlohmann::json j = r.eval.ToJson();
          j["model"] = r.model_path;
          j["model_kind"] = r.model_kind;
          j["seconds"] = r.seconds;
          j["errors"] = kws::EvalMissesJson(r);
          std::printf("%s\n", j.dump(2).c_str());
        } else {
          std::printf("model: %s (%s)\n", r.model_path.c_str(), r.model_kind.c_str());
          std::fputs(r.eval.ToTable().c_str(), stdout);
          if (o->errors) {
            std::printf("\nmisclassified (%zu)\n%-10s %-10s %6s %8s  %s\n", r.misses.size(), "truth", "predicted",
                        "p", "p(truth)", "item");
            for (const kws::EvalMiss& m : r.misses)
              std::printf("%-10s %-10s %6.3f %8.3f  %s\n", r.eval.labels[size_t(m.truth)].c_str(),
                          r.eval.labels[size_t(m.predicted)].c_str(), m.score, m.truth_score, m.item.c_str());
            std::map<std::string, int> by_speaker;
            for (const kws::EvalMiss& m : r.misses) ++by_speaker[m.speaker];
            std::vector<std::pair<int, std::string>> worst;
            for (const auto& [spk, n] : by_speaker)
              if (n > 1) worst.emplace_back(n, spk);
            std::sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
            if (!worst.empty()) {
              std::printf("speakers with more than one: ");
              for (size_t i = 0; i < worst.size(); ++i)
                std::printf("%s%s (%d)", i ? ", " : "", worst[i].second.c_str(), worst[i].first);
              std::printf("\n");
            }
          }
        }
        return 0;
      };
    },
    "Examples:\n"
    "  kws eval --model runs/seed --data data/test\n"
    "  kws eval --model runs/seed/model.tflite --data data/test --json | jq .accuracy\n"
    "  kws eval --model runs/seed/model.tflite --data data/test --errors");
}  // namespace
