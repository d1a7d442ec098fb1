#include "cli/detector_flags.h"

#include <cstdio>

namespace kws::cli {

void AddDetectorFlags(CLI::App& app, DetectorOptions* det, DetectorFlags* flags) {
  app.add_option("--hop-ms", det->hop_ms, "Evaluate every this many ms")->capture_default_str();
  app.add_option("--threshold", det->post.threshold, "Smoothed score needed to fire")->capture_default_str();
  app.add_option("--label-threshold", flags->label_thresholds,
                 "LABEL=VALUE: this keyword's own threshold instead of --threshold (repeatable or comma-separated, "
                 "e.g. no=0.7)")
      ->delimiter(',');
  app.add_option("--smooth-ms", det->post.smooth_ms, "Average scores over this window")->capture_default_str();
  app.add_option("--suppress-ms", det->post.suppress_ms, "No detection this long after one")->capture_default_str();
  app.add_option("--min-results", det->post.min_results, "Results needed in the smoothing window")
      ->capture_default_str();
  app.add_option("--vad-dbfs", det->vad_dbfs, "VAD: 10 ms block level needed (dBFS)")->capture_default_str();
  app.add_option("--vad-min-ms", det->vad_min_ms, "VAD: for at least this long")->capture_default_str();
  app.add_flag("--no-vad", flags->no_vad, "Run the model every hop (no energy gate)");
}

void ApplyDetectorFlags(const DetectorFlags& flags, DetectorOptions* det) {
  det->vad = !flags.no_vad;
  det->post.label_thresholds = ParseLabelThresholds(flags.label_thresholds);
}

std::string DescribeLabelThresholds(const PostProcessOptions& post) {
  std::string s;
  char buf[32];
  for (const auto& [label, t] : post.label_thresholds) {
    std::snprintf(buf, sizeof buf, " %.2f", t);
    s += (s.empty() ? " (" : ", ") + label + buf;
  }
  return s.empty() ? s : s + ")";
}

std::string DescribeThresholds(const PostProcessOptions& post) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "threshold %.2f", post.threshold);
  return buf + DescribeLabelThresholds(post);
}

}  // namespace kws::cli
