// `kws quickstart`: from nothing (or a data folder) to a trained, pruned, quantized keyword model and a
// report with pictures, in one call.
//
//   kws::QuickstartOptions o;
//   o.out_dir = "qs";                       // o.data_dirs = {"../shared/data/speech_commands"} for real clips
//   kws::QuickstartResult r = kws::RunQuickstart(o);
//   // r.report == the content of qs/report.json; qs/report.md renders the same numbers
//
// Stages (each announced with LogInfo; long ones show a Progress bar):
//  1. data: without data_dirs, a yes/no set is synthesized (SynthesizeCached: cached by its options).
//     The items are split by speaker (SpeakerHoldout: about test_fraction of the items, whole speakers) into
//     OUT/data/train and OUT/data/test (hard links, or copies across file systems).
//  2. seed: the seed recipe (embedded configs/seed.toml, or `config`) trains on OUT/data/train
//     (TrainHoldout: its own speaker-disjoint validation carve-out picks the best epoch) -> OUT/runs/seed;
//     ExportModel writes OUT/seed_float.tflite, seed_dynamic.tflite, seed_int8.tflite (calibrated on
//     the training clips) and seed_int8.c (the int8 model as a C array).
//  3. baseline: the baseline recipe (embedded configs/baseline.toml) -> OUT/runs/baseline,
//     OUT/baseline_float.tflite (optionally with fewer epochs: baseline_epochs).
//  4. evaluate: EvaluateOnData (what `kws eval` runs) of every .tflite on OUT/data/test — speakers no
//     model saw in training or model selection.
//  5. bench: BenchModels (what `kws bench` runs) of all .tflite files; savings vs the baseline.
//  6. pictures (OUT/plots/): training curves, confusion matrices, size and latency bars (SVG),
//     one log-mel spectrogram per label (PNG); OUT/report.json and OUT/report.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kws {

// configs/seed.toml and configs/baseline.toml as compiled into the binary.
const char* EmbeddedSeedConfig();
const char* EmbeddedBaselineConfig();

struct QuickstartOptions {
  std::string out_dir;                          // required
  std::vector<std::string> data_dirs;           // merged into one dataset; empty = synthesize yes/no (or the labels' words)
  std::string config;                           // "" = embedded seed recipe
  std::string baseline_config;                  // "" = embedded baseline recipe
  std::vector<std::string> overrides;           // "key=value" for the seed config (--set)
  std::vector<std::string> baseline_overrides;  // "key=value" for the baseline config (--baseline-set)
  std::string labels;                           // "" = the config's data.labels
  int per_word = 150;                           // synthesized clips per word
  uint64_t seed = 0;                            // 0 = the config's train.seed (synthesis, split, training)
  double test_fraction = 0.2;                   // about this share of the items (whole speakers) is the test set
  int baseline_epochs = 8;                      // > 0: cap on the baseline's epochs (time budget); 0 = config's
  bool baseline = true;                         // train and benchmark the baseline
  int bench_runs = 300, bench_warmup = 30;      // latency runs per model
  std::string synth_cache;                      // "" = DefaultSynthCacheRoot()

  void Validate() const;  // UsageError naming the flag
};

struct QuickstartResult {
  nlohmann::json report;         // = OUT/report.json
  std::string report_md, report_json;
  std::string summary;           // short table for the terminal
};

// Throws kws::Error: BadInput for a missing data folder or an unwritable out_dir, UsageError for bad
// options or configs.
QuickstartResult RunQuickstart(const QuickstartOptions& o);

}  // namespace kws
