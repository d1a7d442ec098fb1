// kws infer: classify audio clips with a .tflite model (features and labels from its kws metadata, or
// from --frontend / --labels for a model without it, such as Google's micro_speech).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/classify.h"
#include "cli/command.h"
#include "util/error.h"
#include "util/text.h"

namespace {

struct Opts {
  std::string model;
  kws::ModelOverrides overrides;  // --frontend, --labels (models without kws metadata)
  std::string labels;             // --labels, comma-separated
  std::vector<std::string> clips;
  bool all_windows = false;
  double hop_s = 0.0;
  bool json = false;
};

nlohmann::ordered_json ResultJson(const kws::ClipResult& r, const std::vector<std::string>& labels, bool windows) {
  nlohmann::ordered_json j;  // keys in a fixed order, scores in label order
  j["file"] = r.file;
  if (windows) {
    j["window"] = r.window;
    j["start_s"] = r.start_s;
  }
  j["label"] = r.label;
  j["score"] = r.score;
  nlohmann::ordered_json s = nlohmann::ordered_json::object();
  for (size_t i = 0; i < labels.size(); ++i) s[labels[i]] = r.scores[i];
  j["scores"] = s;
  return j;
}

kws::cli::Registrar reg(
    "infer", "Classify audio clips with a .tflite model (feature settings and labels from the model)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model, "Model file (.tflite exported by 'kws export')")->required();
      app.add_option("clips", o->clips, "Audio files (any format/rate; resampled to the model's rate)")
          ->required();
      app.add_flag("--all-windows", o->all_windows,
                   "Classify every model-length window of longer clips (default: the first window only)");
      app.add_option("--hop", o->hop_s, "With --all-windows: seconds between window starts (default: half a window)")
          ->check(kws::cli::InRange(0, 1e300));
      app.add_flag("--json", o->json, "Print one JSON object per result: {file, label, score, scores}");
      app.add_option("--frontend", o->overrides.frontend,
                     "For a model without kws metadata: micro (TFLite Micro's audio front end, micro_speech's "
                     "settings; int8 fed as is) or tf.signal");
      app.add_option("--labels", o->labels, "For a model without kws metadata: its classes in output order, comma-separated");
      return [o]() -> int {
        o->overrides.labels = kws::SplitList(o->labels);
        kws::ClipClassifier c(o->model, o->overrides);
        const auto& labels = c.labels();
        int width = 24;
        for (const auto& clip : o->clips) width = std::max(width, int(clip.size()) + (o->all_windows ? 8 : 0));
        if (!o->json) {
          std::printf("%-*s %-12s %7s", width, "file", "label", "score");
          for (const auto& l : labels) std::printf(" %10s", kws::Printable(l).c_str());
          std::printf("\n");
        }
        for (const std::string& clip : o->clips) {
          for (const kws::ClipResult& r : c.ClassifyFile(clip, o->all_windows, o->hop_s)) {
            if (o->json) {
              std::printf("%s\n", ResultJson(r, labels, o->all_windows).dump().c_str());
            } else {
              std::string name = kws::Printable(r.file);
              if (o->all_windows) {
                char t[32];
                std::snprintf(t, sizeof t, "@%.2fs", r.start_s);
                name += t;
              }
              std::printf("%-*s %-12s %7.4f", width, name.c_str(), kws::Printable(r.label).c_str(), double(r.score));
              for (float p : r.scores) std::printf(" %10.4f", double(p));
              std::printf("\n");
            }
          }
          std::fflush(stdout);
        }
        return 0;
      };
    },
    "Output: a table (file, top label, its score, every label's score), or with --json one line per\n"
    "clip (and per window with --all-windows): {\"file\":..., \"label\":..., \"score\":..., \"scores\":{label: p}}.\n"
    "Examples:\n"
    "  kws infer --model model.tflite yes.wav no.flac\n"
    "  kws infer --model model.tflite --all-windows --json recording.wav\n"
    "  kws infer --model micro_speech_quantized.tflite --frontend micro --labels silence,unknown,yes,no yes.wav --json");

}  // namespace
