// Signal levels of every clip of a dataset, for spotting failed recordings.
//
//   kws::LevelOptions lo;                                   // thresholds (defaults below)
//   std::vector<kws::ClipLevels> lv = kws::MeasureLevels(ds);   // one per ds.clips entry
//   kws::ClipFlags f = kws::Classify(lv[i], lo);            // near_silent, clipped, too_short, dc_offset
//
// Real datasets carry failed recordings: about 1-2 % of Speech Commands v0.01 clips have a peak
// below about -40 dBFS (no speech at all), some are cut short, a few clip at full scale or sit on
// a DC offset. `kws data stats` reports them per label with their paths; `data.skip_silent`
// leaves the near-silent ones out of training (see model/config.h).
//
// Levels are measured on the decoded file at its own rate (mono mix), so they do not depend on
// the feature settings.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace kws {

struct ClipLevels {
  double peak_dbfs = -200;   // 20 log10(max |x|); -200 for digital silence
  double rms_dbfs = -200;    // 20 log10(rms)
  double dc_offset = 0;      // mean sample value (full scale = 1)
  int64_t full_scale = 0;    // samples with |x| >= 32767/32768 (clipped)
  double seconds = 0;
};

struct LevelOptions {
  double min_peak_dbfs = -40;   // peak below this: near-silent (a failed recording)
  double min_seconds = 1.0;     // shorter: too short (zero-padded to the window when used)
  int64_t max_full_scale = 16;  // more samples at full scale than this: clipped
  double max_dc_offset = 0.01;  // |mean| above this (-40 dBFS): DC offset
  void Validate() const;        // UsageError naming the setting
};

struct ClipFlags {
  bool near_silent = false, clipped = false, too_short = false, dc_offset = false;
  bool any() const { return near_silent || clipped || too_short || dc_offset; }
};

ClipFlags Classify(const ClipLevels& l, const LevelOptions& o);

// One entry per ds.clips (same order), measured on all cores. An unreadable clip throws BadInput.
std::vector<ClipLevels> MeasureLevels(const Dataset& ds);
ClipLevels MeasureLevels(const std::vector<float>& samples, int sample_rate);

// Removes the clips whose peak is below min_peak_dbfs from ds (listed in ds.skipped with the
// measured peak); _silence_ clips stay (quiet is what they are for). Returns the removed paths.
std::vector<std::string> DropNearSilent(Dataset& ds, double min_peak_dbfs);

}  // namespace kws
