// Summary of a dataset folder (what `kws data stats DIR` prints).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/levels.h"

namespace kws {

struct LabelClipStats {
  int clips = 0;
  int speakers = 0;                 // distinct parsed speakers (0 for numbered _silence_ clips)
  double seconds_min = 0, seconds_mean = 0, seconds_max = 0;
  std::set<int> sample_rates;
  std::set<int> channels;
  int split[3] = {0, 0, 0};         // indexed by Split: training, validation, testing
  // Recording problems (only when levels were measured; see data/levels.h).
  int near_silent = 0, clipped = 0, too_short = 0, dc_offset = 0;
};

// A clip with a recording problem, as listed by `kws data stats`.
struct FlaggedClip {
  std::string path, label;
  ClipLevels levels;
  ClipFlags flags;
};

struct DatasetStats {
  std::string root;
  std::map<std::string, LabelClipStats> labels;   // by label folder
  int total_clips = 0;
  int speakers = 0;                           // distinct over all labels
  double total_seconds = 0;
  int duplicates = 0;
  std::vector<SkippedFile> skipped;           // includes duplicates
  std::vector<std::pair<std::string, double>> background_noise;  // path, seconds
  int split[3] = {0, 0, 0};
  bool levels_measured = false;
  LevelOptions level_options;
  std::vector<FlaggedClip> flagged;           // clips with any recording problem, in clip order
};

// levels: one per ds.clips (MeasureLevels), or empty to leave the recording checks out.
DatasetStats ComputeStats(const Dataset& ds, const std::vector<ClipLevels>& levels = {},
                          const LevelOptions& level_options = {});

// Stable keys: labels{name:{clips,speakers,seconds_min,seconds_mean,seconds_max,sample_rates,channels,split}},
// total_clips, speakers, seconds, duplicates, skipped[{path,reason}], background_noise[{path,seconds}],
// split{training,validation,testing}; with levels also per label near_silent, clipped, too_short,
// dc_offset, and "recording_checks": {thresholds, counts, clips: [{path, label, peak_dbfs, rms_dbfs,
// dc_offset, full_scale_samples, seconds, problems: [...]}]}.
nlohmann::json StatsToJson(const DatasetStats& s);
std::string StatsTable(const DatasetStats& s);

}  // namespace kws
