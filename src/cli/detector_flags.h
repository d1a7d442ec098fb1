// The streaming detector's flags, shared by `kws listen` and `kws stream-eval` so both
// commands take the same names, defaults and help texts.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "stream/detector.h"

namespace kws::cli {

struct DetectorFlags {
  std::vector<std::string> label_thresholds;  // "LABEL=VALUE" items
  bool no_vad = false;
  const CLI::App* app = nullptr;              // to tell flags given from defaults
};

// --hop-ms, --threshold, --label-threshold, --smooth-ms, --suppress-ms, --min-results, --vad-dbfs,
// --vad-min-ms, --no-vad, bound to *det (values) and *flags (the two that need a conversion).
void AddDetectorFlags(CLI::App& app, DetectorOptions* det, DetectorFlags* flags);

// Applies *flags to *det (UsageError naming the flag for a malformed --label-threshold item).
void ApplyDetectorFlags(const DetectorFlags& flags, DetectorOptions* det);

// The model's own detector settings (kws metadata "detector", from its training config's [detector])
// replace the built-in defaults of every flag not given on the command line. Returns whether the
// model had any; BadInput naming the model file if they are malformed or out of range.
bool ApplyModelDetectorSettings(const DetectorFlags& flags, const tfl::KwsMetadata& meta, const std::string& model_path,
                                DetectorOptions* det);

// "threshold 0.90" or "threshold 0.90 (no 0.70)" for headers and tables; the second part alone
// ("" without --label-threshold).
std::string DescribeThresholds(const PostProcessOptions& post);
std::string DescribeLabelThresholds(const PostProcessOptions& post);

}  // namespace kws::cli
