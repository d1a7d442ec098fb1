#include "tflite/detector_options.h"

#include <algorithm>

#include "util/error.h"

namespace kws {

std::string SettingName(SettingNames names, const std::string& key) {
  if (names == SettingNames::kConfig) return "detector." + key;
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

void PostProcessOptions::Validate(SettingNames names) const {
  auto name = [&](const char* key) { return SettingName(names, key); };
  if (!(threshold >= 0 && threshold <= 1))
    throw UsageError(name("threshold") + " must be in [0, 1] (got " + std::to_string(threshold) + ")");
  if (!(smooth_ms > 0)) throw UsageError(name("smooth_ms") + " must be > 0");
  if (!(suppress_ms >= 0)) throw UsageError(name("suppress_ms") + " must be >= 0");
  if (min_results < 1) throw UsageError(name("min_results") + " must be >= 1");
  for (size_t i = 0; i < label_thresholds.size(); ++i) {
    const auto& [label, t] = label_thresholds[i];
    if (!(t >= 0 && t <= 1))
      throw UsageError("--label-threshold " + label + ": must be in [0, 1] (got " + std::to_string(t) + ")");
    for (size_t k = 0; k < i; ++k)
      if (label_thresholds[k].first == label) throw UsageError("--label-threshold " + label + ": given twice");
  }
}

double PostProcessOptions::ThresholdOf(const std::string& label) const {
  for (const auto& [l, t] : label_thresholds)
    if (l == label) return t;
  return threshold;
}


using nlohmann::json;

void DetectorOptions::Validate(SettingNames names) const {
  auto name = [&](const char* key) { return SettingName(names, key); };
  if (!(hop_ms >= 1 && hop_ms <= 10000))
    throw UsageError(name("hop_ms") + " must be in [1, 10000] (got " + std::to_string(hop_ms) + ")");
  post.Validate(names);
  if (!(vad_dbfs <= 0 && vad_dbfs >= -200))
    throw UsageError(name("vad_dbfs") + " must be in [-200, 0] (got " + std::to_string(vad_dbfs) + ")");
  if (!(vad_min_ms >= 0 && vad_min_ms <= 10000)) throw UsageError(name("vad_min_ms") + " must be in [0, 10000]");
}

json DetectorOptionsToJson(const DetectorOptions& d) {
  return json{{"hop_ms", d.hop_ms},
              {"threshold", d.post.threshold},
              {"smooth_ms", d.post.smooth_ms},
              {"suppress_ms", d.post.suppress_ms},
              {"min_results", d.post.min_results},
              {"vad", d.vad},
              {"vad_dbfs", d.vad_dbfs},
              {"vad_min_ms", d.vad_min_ms}};
}

DetectorOptions DetectorOptionsFromJson(const json& j, const DetectorOptions& base, const std::string& what) {
  if (!j.is_object()) throw BadInput(what + ": detector settings are not a table");
  DetectorOptions d = base;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    auto number = [&](double* out) {
      if (!v.is_number()) throw BadInput(what + ": detector." + key + ": expected a number");
      *out = v.get<double>();
    };
    if (key == "hop_ms") number(&d.hop_ms);
    else if (key == "threshold") number(&d.post.threshold);
    else if (key == "smooth_ms") number(&d.post.smooth_ms);
    else if (key == "suppress_ms") number(&d.post.suppress_ms);
    else if (key == "vad_dbfs") number(&d.vad_dbfs);
    else if (key == "vad_min_ms") number(&d.vad_min_ms);
    else if (key == "min_results") {
      if (!v.is_number_integer()) throw BadInput(what + ": detector.min_results: expected an integer");
      d.post.min_results = v.get<int>();
    } else if (key == "vad") {
      if (!v.is_boolean()) throw BadInput(what + ": detector.vad: expected true or false");
      d.vad = v.get<bool>();
    } else {
      throw BadInput(what + ": detector." + key + ": unknown setting");
    }
  }
  return d;
}

}  // namespace kws
