// kws's own model metadata, stored inside the .tflite so that a model file is self-describing:
// a Model.metadata entry named "kws" whose buffer holds a UTF-8 JSON object
//
//   {"format": 1,
//    "labels": ["_silence_", "_unknown_", "yes", "no"],
//    "input": "log-mel",                  // or "mfcc", or "micro" (TFLite Micro's front end: the
//                                         // features are {"frontend": "micro", ..., "micro": {...}}
//                                         // and an int8 input takes its int8 output as is)
//    "features": {"sample_rate": 16000, "frame_length_s": 0.032, ..., "clip_seconds": 1.0},
//    "quant": "dynamic",                  // float | dynamic | int8 (informational)
//    "detector": {"threshold": 0.9, "smooth_ms": 500, ...},  // optional: streaming defaults
//                                         // (tflite/detector_options.h; from the config's [detector])
//    "extra": {...}}                      // free-form (training run, accuracy, ...)
//
// Official readers ignore unknown metadata entries, so this costs only its bytes.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "features/features.h"

namespace kws::tfl {

class ModelBuilder;

inline constexpr const char* kKwsMetadataName = "kws";
inline constexpr int kKwsMetadataFormat = 1;

struct KwsMetadata {
  int format = kKwsMetadataFormat;
  std::vector<std::string> labels;
  FeatureOptions features;
  std::string input = "log-mel";  // "log-mel" | "mfcc" | "micro" (follows features when written)
  std::string quant;              // "float" | "dynamic" | "int8" | "" (unknown)
  nlohmann::json detector;        // null, or the streaming detector's settings (an object; read by
                                  // DetectorOptionsFromJson)
  nlohmann::json extra = nlohmann::json::object();
};

nlohmann::json FeatureOptionsToJson(const FeatureOptions& f);
// Missing keys keep their defaults; wrong types throw BadInput naming `what` and the key.
FeatureOptions FeatureOptionsFromJson(const nlohmann::json& j, const std::string& what);

std::string KwsMetadataToJson(const KwsMetadata& m);
KwsMetadata KwsMetadataFromJson(std::string_view json, const std::string& what);

// Adds the "kws" metadata entry to a model being built.
void AddKwsMetadata(ModelBuilder& b, const KwsMetadata& m);

// Reads the "kws" metadata from .tflite bytes. nullopt if the model has none; throws BadInput
// ("<what>: ...") if the file is not a valid .tflite or the entry is malformed.
std::optional<KwsMetadata> ReadKwsMetadata(std::string_view model_bytes, const std::string& what = "model");

// Any metadata entry's raw bytes by name (nullopt if absent).
std::optional<std::string> ReadMetadataEntry(std::string_view model_bytes, const std::string& name,
                                             const std::string& what = "model");

}  // namespace kws::tfl
