#include "data/levels.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "audio/audio.h"
#include "util/error.h"
#include "util/parallel.h"

namespace kws {

namespace {
double Db(double amplitude) { return amplitude > 0 ? 20.0 * std::log10(amplitude) : -200.0; }
}  // namespace

void LevelOptions::Validate() const {
  if (!std::isfinite(min_peak_dbfs) || min_peak_dbfs > 0 || min_peak_dbfs < -200)
    throw UsageError("data.min_peak_dbfs: must be in [-200, 0] dBFS");
  if (!std::isfinite(min_seconds) || min_seconds < 0) throw UsageError("min_seconds: must be >= 0");
  if (max_full_scale < 0) throw UsageError("max_full_scale: must be >= 0");
  if (!std::isfinite(max_dc_offset) || max_dc_offset < 0) throw UsageError("max_dc_offset: must be >= 0");
}

ClipFlags Classify(const ClipLevels& l, const LevelOptions& o) {
  ClipFlags f;
  f.near_silent = l.peak_dbfs < o.min_peak_dbfs;
  f.clipped = l.full_scale > o.max_full_scale;
  f.too_short = l.seconds + 1e-9 < o.min_seconds;
  f.dc_offset = std::fabs(l.dc_offset) > o.max_dc_offset;
  return f;
}

ClipLevels MeasureLevels(const std::vector<float>& samples, int sample_rate) {
  ClipLevels l;
  double peak = 0, sum = 0, sum2 = 0;
  const float kFull = 32767.0f / 32768.0f;
  for (float x : samples) {
    const double a = std::fabs(double(x));
    peak = std::max(peak, a);
    sum += x;
    sum2 += double(x) * x;
    if (std::fabs(x) >= kFull) ++l.full_scale;
  }
  const double n = double(samples.size());
  l.peak_dbfs = Db(peak);
  l.rms_dbfs = n > 0 ? Db(std::sqrt(sum2 / n)) : -200.0;
  l.dc_offset = n > 0 ? sum / n : 0.0;
  l.seconds = sample_rate > 0 ? n / sample_rate : 0.0;
  return l;
}

std::vector<ClipLevels> MeasureLevels(const Dataset& ds) {
  std::vector<ClipLevels> out(ds.clips.size());
  ParallelFor(long(ds.clips.size()), [&](long b, long e, int) {
    for (long i = b; i < e; ++i) {
      const Audio a = ReadAudio(ds.clips[size_t(i)].path, 0);
      out[size_t(i)] = MeasureLevels(a.samples, a.sample_rate);
    }
  });
  return out;
}

std::vector<std::string> DropNearSilent(Dataset& ds, double min_peak_dbfs) {
  LevelOptions o;
  o.min_peak_dbfs = min_peak_dbfs;
  o.Validate();
  const std::vector<ClipLevels> lv = MeasureLevels(ds);
  std::vector<std::string> dropped;
  std::vector<Clip> kept;
  kept.reserve(ds.clips.size());
  for (size_t i = 0; i < ds.clips.size(); ++i) {
    if (lv[i].peak_dbfs >= min_peak_dbfs || ds.clips[i].label == kSilenceLabel) {
      kept.push_back(std::move(ds.clips[i]));
      continue;
    }
    char why[96];
    std::snprintf(why, sizeof why, "near-silent: peak %.1f dBFS < %.1f (data.skip_silent)", lv[i].peak_dbfs,
                  min_peak_dbfs);
    ds.skipped.push_back({ds.clips[i].path, why});
    dropped.push_back(ds.clips[i].path);
  }
  ds.clips = std::move(kept);
  std::sort(ds.skipped.begin(), ds.skipped.end(),
            [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });
  if (ds.clips.empty()) throw BadInput(ds.root + ": every clip is near-silent (data.skip_silent)");
  // Labels that lost all their clips disappear (MakeTask then names them).
  std::vector<std::string> labels;
  for (const Clip& c : ds.clips)
    if (std::find(labels.begin(), labels.end(), c.label) == labels.end()) labels.push_back(c.label);
  std::sort(labels.begin(), labels.end());
  ds.labels = labels;
  return dropped;
}

}  // namespace kws
