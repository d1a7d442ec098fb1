#include "cli/detector_flags.h"

#include <cstdio>

#include "util/error.h"

namespace kws::cli {

namespace {
// The built-in default of a detector setting, said as what it is: the model's stored settings (its
// training config's [detector]) come first, so a plain "[0.9]" in --help would mislead.
std::string Default(double v) {
  char b[64];
  std::snprintf(b, sizeof b, " (default: the model's stored setting, else %g)", v);
  return b;
}
}  // namespace

void AddDetectorFlags(CLI::App& app, DetectorOptions* det, DetectorFlags* flags) {
  flags->app = &app;
  app.add_option("--hop-ms", det->hop_ms, "Evaluate every this many ms" + Default(det->hop_ms));
  app.add_option("--threshold", det->post.threshold, "Smoothed score needed to fire" + Default(det->post.threshold));
  app.add_option("--label-threshold", flags->label_thresholds,
                 "LABEL=VALUE: this keyword's own threshold instead of --threshold (repeatable or comma-separated, "
                 "e.g. no=0.7)")
      ->delimiter(',');
  app.add_option("--smooth-ms", det->post.smooth_ms, "Average scores over this window" + Default(det->post.smooth_ms));
  app.add_option("--suppress-ms", det->post.suppress_ms, "No detection this long after one" + Default(det->post.suppress_ms));
  app.add_option("--min-results", det->post.min_results,
                 "Results needed in the smoothing window" + Default(det->post.min_results));
  app.add_option("--vad-dbfs", det->vad_dbfs, "VAD: 10 ms block level needed (dBFS)" + Default(det->vad_dbfs));
  app.add_option("--vad-min-ms", det->vad_min_ms, "VAD: for at least this long" + Default(det->vad_min_ms));
  app.add_flag("--no-vad", flags->no_vad, "Run the model every hop (no energy gate; default: the model's stored setting, else on)");
}

void ApplyDetectorFlags(const DetectorFlags& flags, DetectorOptions* det) {
  det->vad = !flags.no_vad;
  det->post.label_thresholds = ParseLabelThresholds(flags.label_thresholds);
}

bool ApplyModelDetectorSettings(const DetectorFlags& flags, const tfl::KwsMetadata& meta, const std::string& model_path,
                                DetectorOptions* det) {
  if (meta.detector.is_null()) return false;
  const DetectorOptions m = DetectorOptionsFromJson(meta.detector, DetectorOptions{}, model_path + ": kws metadata");
  try {
    m.Validate(SettingNames::kConfig);
  } catch (const Error& e) {
    throw BadInput(model_path + ": kws metadata: " + e.what());
  }
  auto given = [&](const char* flag) { return flags.app && flags.app->count(flag) > 0; };
  if (!given("--hop-ms")) det->hop_ms = m.hop_ms;
  if (!given("--threshold")) det->post.threshold = m.post.threshold;
  if (!given("--smooth-ms")) det->post.smooth_ms = m.post.smooth_ms;
  if (!given("--suppress-ms")) det->post.suppress_ms = m.post.suppress_ms;
  if (!given("--min-results")) det->post.min_results = m.post.min_results;
  if (!given("--vad-dbfs")) det->vad_dbfs = m.vad_dbfs;
  if (!given("--vad-min-ms")) det->vad_min_ms = m.vad_min_ms;
  if (!flags.no_vad) det->vad = m.vad;
  return true;
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
