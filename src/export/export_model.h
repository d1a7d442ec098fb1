// `kws export`: a trained checkpoint (or a training run folder) -> .tflite / C source.
//
//   kws::ModelExportOptions o;
//   o.model = "runs/seed";           // RUN_DIR (uses RUN_DIR/model.ckpt) or a .ckpt file
//   o.quant = kws::QuantMode::kInt8;
//   o.calibration_data = {"data/"};   // dataset folder(s) (label folders of clips), int8 only
//   o.out = "model.tflite";
//   kws::ModelExportResult r = kws::ExportModel(o);
//
// The file carries kws metadata (labels, feature settings) so `kws invoke`/`kws stream` need no flags.
// A model trained on TFLite Micro's front end (features.frontend = "micro") gets an int8 input whose
// scale / zero point are micro::kInputScale / -128, so a device feeds the front end's int8 output
// directly; with --format c its front-end settings also go into NAME_frontend.h beside the array.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "export/tflite_export.h"
#include "data/dataset.h"
#include "features/features.h"

namespace kws {

struct ModelExportOptions {
  std::string model;               // RUN_DIR or checkpoint file
  std::string out;                 // output path
  QuantMode quant = QuantMode::kDynamic;
  std::string format = "tflite";   // "tflite" | "c"
  std::string c_name;              // C array name (default: from the output file name)
  std::vector<std::string> calibration_data;  // int8: dataset folders (merged as kws::LoadDataset does)
  const Dataset* calibration_dataset = nullptr;  // int8: or a dataset already listed (what the trainer used)
  // int8 settings left unset take the checkpoint's [export] (model/train_options.h ExportConfigOptions:
  // per-tensor weights, no budget, 200 clips unless the recipe says otherwise).
  std::optional<int> calibration_count;  // clips used (shuffled with `seed`)
  uint64_t seed = 1;
  bool int8_io = true;             // int8: int8 input/output tensors (false: float I/O + QUANTIZE/DEQUANTIZE)
  bool softmax = true;             // probabilities out (false: logits)
  // int8 weight scale granularity. Per-tensor by default: on the seed models it matched per-channel
  // accuracy on held-out speakers (yes/no: identical over 3 seeds; 6 words: 0 and -0.3 points) and
  // makes the int8 file ~620 B smaller (10,032 B vs 10,656 B; the dynamic-range file is 10,464 B).
  // kws12's DS-CNN lost 0.5-0.9 points less with per-channel scales (docs/results.md), which cost it
  // 5 KB; kFit spends at most max_bytes on them (FitPerChannel).
  std::optional<Int8Weights> int8_weights;
  std::optional<long> max_bytes;   // kFit: the int8 file's budget
  GlobalPool global_pool = GlobalPool::kMean;            // MEAN, or a whole-extent AVERAGE_POOL_2D
  // "detector.KEY=VALUE" items (kws export --set): change the streaming detector settings written into
  // the metadata (the checkpoint's [detector], else the defaults), e.g. a threshold chosen on a tuning
  // stream. Other keys are usage errors: the training settings are fixed in the checkpoint.
  std::vector<std::string> detector_overrides;
  bool write = true;               // false: only ModelExportResult::content (the caller writes it)

  void Validate() const;           // UsageError naming the flag
};

struct ModelExportResult {
  std::string checkpoint;          // the checkpoint that was read
  std::string out;
  size_t bytes = 0;                // .tflite size (also when writing C)
  size_t zip_bytes = 0;            // deflated .zip of the .tflite
  int calibration_samples = 0;
  size_t runtime_arena_bytes = 0;  // arena of kws's runtime for this file (the file is loaded as a self-check)
  std::string int8_weights;        // int8: "per-tensor" | "per-channel" | "fit: per-channel on K of N layers"
  std::vector<std::string> labels;
  nlohmann::json detector;         // the detector settings written into the metadata (null: none)
  ExportInfo info;
  std::string graph_summary;
  std::string content;             // the bytes written (or to write) to `out`
  // --format c with the micro front end: the C header beside `out` (written with it), and its text.
  std::string frontend_header, frontend_header_content;
};

// RUN_DIR -> RUN_DIR/model.ckpt; a file path is returned as is. BadInput if neither exists.
std::string ResolveCheckpointPath(const std::string& model);

// Log-mel/MFCC features of up to `count` clips of a dataset (its label folders' clips, in path
// order, shuffled with `seed`; background noise is not used); each clip is cut/padded to the model
// window. Each result has `expected_values` floats (BadInput if the features do not fit).
std::vector<std::vector<float>> LoadCalibrationFeatures(const Dataset& ds, const FeatureOptions& features, int count,
                                                        uint64_t seed, size_t expected_values);
// The same over dataset folders (unreadable files are skipped, as `kws data stats` lists them).
std::vector<std::vector<float>> LoadCalibrationFeatures(const std::vector<std::string>& dirs,
                                                        const FeatureOptions& features, int count, uint64_t seed,
                                                        size_t expected_values);

// The detector settings `detector` (null = the defaults) with "detector.KEY=VALUE" overrides applied,
// complete and validated (UsageError naming the setting).
nlohmann::json DetectorSettingsWithOverrides(const nlohmann::json& detector, const std::vector<std::string>& overrides);

ModelExportResult ExportModel(const ModelExportOptions& o);

// int8_weights = "fit": the conv/depthwise ops (indices into g.ops) that keep one weight scale per tensor
// so the file stays within max_bytes: every op starts per-channel, and the ones whose per-channel scales
// cut quantization noise least per byte (PerChannelGain / channels) give theirs up first. If even
// all per-tensor does not fit, all are returned (the caller reports the size).
std::vector<int> FitPerChannel(const ir::Graph& g, const ExportOptions& eo, const Calibration& cal, long max_bytes);

}  // namespace kws
