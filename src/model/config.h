// Training configuration files (TOML) and their validation.
//
//   kws::Config cfg = kws::LoadConfig("configs/seed.toml", {"train.epochs=10", "prune.final_sparsity=0.9"});
//   cfg.train.epochs == 10
//   std::string resolved = cfg.ToToml();   // every setting, defaults filled in (RUN_DIR/config.toml)
//
// Sections (every key has a default, see DefaultTable() in config.cc; unknown keys are errors):
//   [features]        FeatureOptions (sample_rate, frame_length_s, frame_step_s, fft_length, ...)
//   [model]           [[model.layers]] array of tables: type + layer fields (passed as JSON to MakeLayer).
//                     The last "dense" may omit "units" (= number of labels); a final {type="softmax"}
//                     marks the probability output (training always uses softmax cross-entropy on logits).
//                     A layer may name its "inputs" (model/graph.h: residual sums, branches); optional
//                     [[model.blocks]] define reusable layer groups with parameters, used as
//                     {type="block", block=NAME, repeat=N, ...} and expanded here (model/blocks.h).
//   [train]           epochs, batch_size, optimizer ("adam"/"sgd"), weight_decay, seed, validation,
//                     class_weights (one number per label, or "balanced" = n / (classes * count) over
//                     the training items; [] = all 1), label_smoothing (0..1), class_repeats (integers
//                     >= 1, one per label: each training clip of that label is used that many times per
//                     epoch, each time with its own augmentation; [] = once), ema_decay (0 = off; else
//                     the kept model is an exponential moving average of the weights), distill_teachers /
//                     distill_weight / distill_temperature (knowledge distillation from models trained
//                     first with the same config), ...
//   [train.learning_rate]  schedule "polynomial"/"cosine"/"constant", initial, end, power, decay_steps (int or "auto")
//   [train.augment]   enabled, copies (0 = fresh augmentation every epoch; K = K precomputed copies), shift_ms,
//                     background_prob/_volume, silence_volume, background_dir ("" = the data's
//                     _background_noise_), speed_min/max, pitch_min/max, gain_db, background_mode
//                     ("volume"/"snr"), snr_min_db/max_db, time_masks, time_mask_frames, freq_masks,
//                     freq_mask_bins (see data/augment.h)
//   [prune]           enabled, schedule "polynomial"/"constant", initial_sparsity, final_sparsity, power,
//                     begin_step, end_step (int or "end"), begin_fraction / end_fraction (>= 0 override the
//                     steps as fractions of all training steps), frequency, structured
//   [data]            dirs (data folders merged into one dataset; --data replaces them), labels (array or
//                     "yes,no"), silence_count, unknown_ratio, unknown_subclasses, cache, skip_bad_files,
//                     min_peak_dbfs, skip_silent (leave near-silent failed recordings out of training)
//   [data.synth]      synthetic speech added to the TRAINING items only (never validation/test folds):
//                     enabled, words (empty = the keyword labels), per_word, seed, speakers, engines,
//                     unknown_words, silence, background (mix the data's _background_noise_ in), dir
//                     (a ready `kws data synth` folder instead of generating). Generated with
//                     kws::synth::SynthesizeCached, cached by its settings under the synth cache folder.
//   [detector]        the streaming detector's defaults, written into every exported model's metadata:
//                     hop_ms, threshold, smooth_ms, suppress_ms, min_results, vad, vad_dbfs, vad_min_ms
//                     (tflite/detector_options.h; `kws listen` / `kws stream-eval` flags override them)
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
