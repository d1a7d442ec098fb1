// Training configuration files (TOML) and their validation.
//
//   kws::Config cfg = kws::LoadConfig("configs/seed.toml", {"train.epochs=10", "prune.final_sparsity=0.9"});
//   cfg.train.epochs == 10
//   std::string resolved = cfg.ToToml();   // every setting, defaults filled in (RUN_DIR/config.toml)
//
// Sections (unknown keys are errors; every key, its default and meaning: `kws config keys`, docs/configs.md):
//   [features]        FeatureOptions (features/options_io.h)
//   [model]           [[model.layers]] array of tables: type + layer fields (passed as JSON to MakeLayer).
//                     The last "dense" may omit "units" (= number of labels); a final {type="softmax"}
//                     marks the probability output (training always uses softmax cross-entropy on logits).
//                     A layer may name its "inputs" (model/graph.h: residual sums, branches); optional
//                     [[model.blocks]] define reusable layer groups with parameters, used as
//                     {type="block", block=NAME, repeat=N, ...} and expanded here (model/blocks.h).
//   [train], [train.learning_rate], [train.teacher], [train.augment], [prune]
//                     TrainSettings() / PruneSettings() (model/train_options.h), AugmentSettings() (data/augment.h)
//   [data], [data.synth]  DataSettings() (data/data_options.h), SynthDataSettings() (synth/synth_data_options.h)
//   [export]          ExportSettings() (model/train_options.h): the int8 export's weight scales and budget
//   [detector]        the streaming detector's defaults, written into every exported model's metadata
//                     (tflite/detector_options.h; `kws listen` / `kws stream-eval` flags override them)
// Each stage's table (util/settings.h) is the one place a setting is written: its key, default (the
// struct's member initializer), check and help. This file merges a file and --set overrides into
// the defaults (types checked against them), reads the stages' structs and adds the checks that
// span sections (per-label lists against data.labels).
//
// Overrides: "dotted.path=value", typed by the existing value (int, float, bool, string, array of strings
// as comma-separated text); array elements by index ("model.layers.0.filters=8"). An unknown key is a
// UsageError naming it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/augment.h"
#include "data/data_options.h"
#include "features/features.h"
#include "model/train_options.h"
#include "synth/synth_data_options.h"
#include "tflite/detector_options.h"

namespace kws {

// [data] with its [data.synth] table (data/data_options.h, synth/synth_data_options.h).
struct DataConfig : DataOptions {
  SynthDataOptions synth;
};

struct Config {
  std::string source;                   // file name for messages ("configs/seed.toml")
  FeatureOptions features;
  nlohmann::json layers = nlohmann::json::array();  // [{type:..., ...}, ...] as written, blocks expanded
  TrainOptions train;
  PruneOptions prune;
  ExportConfigOptions export_options;   // [export]
  DataConfig data;
  DetectorOptions detector;
  nlohmann::json table;                 // the resolved settings (defaults + file + overrides)

  // Resolved TOML text (every setting), parseable by ParseConfig.
  std::string ToToml() const;
  // Checks every setting; throws UsageError naming it ("train.batch_size: must be >= 1 (got 0)").
  void Validate() const;
};

// Parses TOML text; `source` names it in messages. Applies `overrides` ("a.b=v") then validates.
Config ParseConfig(const std::string& toml_text, const std::string& source,
                   const std::vector<std::string>& overrides = {});
Config LoadConfig(const std::string& path, const std::vector<std::string>& overrides = {});
// Rebuilds a Config from Config::table (e.g. stored in a checkpoint).
Config ConfigFromJson(const nlohmann::json& table, const std::string& source);

// Every setting of a recipe config with its default and help, section by section (`kws config keys`):
// [train], [prune], [data] from their stages' tables; [features] and [detector] with their defaults
// (their help is in features/features.h and tflite/detector_options.h).
std::vector<settings::Doc> ConfigSettingDocs();

// Applies one "dotted.path=value" override to a settings tree (exposed for tests).
void ApplyOverride(nlohmann::json& table, const std::string& assignment);

// The model's layer list for `num_classes` outputs: fills "units" of the last dense when omitted,
// drops a trailing {type="softmax"} (reported through *softmax_output).
nlohmann::json ResolveLayers(const nlohmann::json& layers, int num_classes, bool* softmax_output = nullptr);

}  // namespace kws
