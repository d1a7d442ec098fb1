// The streaming detector's settings (hop, post-processing, VAD gate), apart from the detector so
// that configs and model metadata can carry them without pulling in the runtime.
//
// Three places set them, later ones winning: the defaults below; a training config's [detector]
// table, which `kws export` writes into the model's kws metadata ("detector": {...}); the flags of
// `kws listen` / `kws stream-eval`. So a model trained for streaming (configs/stream.toml) brings its
// tuned threshold and smoothing along, and `kws listen --model M` needs no detector flags.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "stream/postprocess.h"

namespace kws {

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
