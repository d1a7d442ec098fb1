// microWakeWord model manifests: the JSON file ESPHome's micro_wake_word component reads beside a
// streaming wake-word model (esphome/components/micro_wake_word/__init__.py, MANIFEST_SCHEMA_V1/V2;
// the models of github.com/esphome/micro-wake-word-models):
//
//   {"type": "micro", "wake_word": "Okay Nabu", "model": "okay_nabu.tflite", "version": 2,
//    "micro": {"probability_cutoff": 0.97, "feature_step_size": 10, "sliding_window_size": 5,
//              "tensor_arena_size": 26080, ...}, ...}
//
//   kws::WakeWordManifest m = kws::LoadWakeWordManifest("okay_nabu.json");
//   m.model_path   // "<dir of the manifest>/okay_nabu.tflite"
//
// Read: type (must be "micro"), version (1 or 2), wake_word, model (a file name resolved beside the
// manifest), micro.probability_cutoff (in (0, 1]), micro.sliding_window_size (v2;
// sliding_window_average_size in v1; 1..1000), micro.feature_step_size (v2, 1..30 ms; v1 models used
// 20 ms, as ESPHome converts them), micro.tensor_arena_size (optional here: kws plans its own arena;
// a non-negative integer if present). Other fields (author, website, trained_languages,
// minimum_esphome_version) are not used. A missing or invalid field is BadInput naming the file and
// the field.
#pragma once
#include <string>

namespace kws {

struct WakeWordManifest {
  std::string path;             // the manifest file
  std::string wake_word;        // "Okay Nabu": the label of detections
  std::string model;            // as written in the manifest
  std::string model_path;       // resolved beside the manifest
  int version = 2;
  double probability_cutoff = 0.97;
  int sliding_window_size = 5;  // outputs averaged
  int feature_step_size = 10;   // ms between feature frames
  int tensor_arena_size = 0;    // bytes a TFLite Micro device reserves (0: not given)
};

// `text` is the manifest's content; `path` names it in errors and locates the model.
WakeWordManifest ParseWakeWordManifest(const std::string& path, const std::string& text);
WakeWordManifest LoadWakeWordManifest(const std::string& path);  // BadInput if unreadable or invalid

// True if `path` names a manifest rather than a model (a .json file name, any case).
bool IsWakeWordManifestPath(const std::string& path);

}  // namespace kws
