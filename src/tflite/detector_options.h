// The streaming detector's settings (hop, post-processing, VAD gate), kept below every stage that
// stores them (the recipe config, the exporter, a model's kws metadata) and the stream stage that uses them.
//
// Three places set them, later ones winning: the defaults below; a training config's [detector]
// table, which `kws export` writes into the model's kws metadata ("detector": {...}); the flags of
// `kws listen` / `kws stream-eval`. So a model trained for streaming (configs/stream.toml) brings its
// tuned threshold and smoothing along, and `kws listen --model M` needs no detector flags.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace kws {

// How a validation message names a setting: as the command-line flag ("--smooth-ms") or as the
// config key ("detector.smooth_ms").
enum class SettingNames { kFlags, kConfig };
std::string SettingName(SettingNames names, const std::string& key);  // key in snake_case

struct PostProcessOptions {
  double threshold = 0.9;     // smoothed score needed to fire
  double smooth_ms = 1000;    // averaging window
  double suppress_ms = 1500;  // no detection this long after one
  int min_results = 3;        // results needed in the window
  // Per-keyword thresholds replacing `threshold` for that label ("no" at 0.7, every other keyword
  // at `threshold`). Labels are checked against the model's keywords by ScoreSmoother.
  std::vector<std::pair<std::string, double>> label_thresholds;
  void Validate(SettingNames names = SettingNames::kFlags) const;  // UsageError naming the setting
  double ThresholdOf(const std::string& label) const;
};


struct DetectorOptions {
  double hop_ms = 100;
  PostProcessOptions post;   // threshold 0.9, smooth 1000 ms, suppress 1500 ms, min 3 results
  bool vad = true;
  double vad_dbfs = -50;
  double vad_min_ms = 100;
  // UsageError naming the flag ("--smooth-ms must be > 0") or, with kConfig, the setting
  // ("detector.smooth_ms must be > 0").
  void Validate(SettingNames names = SettingNames::kFlags) const;
};

// {"hop_ms", "threshold", "smooth_ms", "suppress_ms", "min_results", "vad", "vad_dbfs", "vad_min_ms"}
// (per-label thresholds are a flag only: they name the labels of one model).
nlohmann::json DetectorOptionsToJson(const DetectorOptions& d);
// Keys missing from `j` keep their values in `base`; an unknown key or a wrong type throws BadInput
// ("<what>: detector.smooth_ms: expected a number"). Values are not range-checked (Validate).
DetectorOptions DetectorOptionsFromJson(const nlohmann::json& j, const DetectorOptions& base, const std::string& what);

}  // namespace kws
