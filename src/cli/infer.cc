// kws infer: classify audio clips with a .tflite model (features and labels from its kws metadata, or
// from --frontend / --labels for a model without it, such as Google's micro_speech), or score them with
// a microWakeWord manifest (stream/wake_word.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "bench/classify.h"
#include "cli/command.h"
#include "stream/wake_word.h"
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

// A microWakeWord manifest: each clip streamed from a fresh start; its largest sliding-window mean.
int RunWakeWord(const Opts& o) {
  if (o.all_windows || !o.overrides.frontend.empty() || !o.labels.empty())
    throw kws::UsageError("--all-windows, --frontend and --labels do not apply to a microWakeWord manifest (" + o.model + ")");
  kws::WakeWordModel m = kws::LoadWakeWordModel(o.model);
  kws::WakeWordDetector det(m, m.options);
  int width = 24;
  for (const auto& clip : o.clips) width = std::max(width, int(clip.size()));
  if (!o.json) std::printf("%-*s %7s %7s %7s  %s\n", width, "file", "score", "max p", "at s", "above cutoff");
  for (const std::string& clip : o.clips) {
    const kws::Audio a = kws::ReadAudio(clip, kws::WakeWordModel::kSampleRate);
    const kws::WakeWordClipScore s = kws::ScoreWakeWordClip(det, a.samples.data(), a.samples.size());
    if (o.json) {
      std::printf("%s\n", s.ToJson(clip, m.manifest.wake_word).dump().c_str());
    } else {
      std::printf("%-*s %7.4f %7.4f %7.2f  %s\n", width, clip.c_str(), double(s.max_mean), double(s.max_probability),
                  double(s.max_mean_ms) / 1000.0, s.above_cutoff ? "yes" : "no");
    }
    std::fflush(stdout);
  }
  return 0;
}

kws::cli::Registrar reg(
    "infer", "Classify audio clips with a .tflite model (feature settings and labels from the model)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model,
                     "Model file (.tflite exported by 'kws export'), or a microWakeWord manifest (.json)")
          ->required();
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
        if (kws::IsWakeWordManifestPath(o->model)) return RunWakeWord(*o);
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
              std::printf("%s\n", r.ToJson(labels, o->all_windows).dump().c_str());
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
    "A microWakeWord manifest (.json): per clip the largest mean of sliding_window_size consecutive outputs\n"
    "(score), the largest output, where, and whether the window is above the manifest's cutoff.\n"
    "Examples:\n"
    "  kws infer --model model.tflite yes.wav no.flac\n"
    "  kws infer --model model.tflite --all-windows --json recording.wav\n"
    "  kws infer --model micro_speech_quantized.tflite --frontend micro --labels silence,unknown,yes,no yes.wav --json\n"
    "  kws infer --model okay_nabu.json okay_nabu.wav --json");

}  // namespace
