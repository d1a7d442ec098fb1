// Summary of a dataset folder (what `kws data stats DIR` prints).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace kws {

struct LabelStats {
  int clips = 0;
  int speakers = 0;                 // distinct parsed speakers (0 for numbered _silence_ clips)
  double seconds_min = 0, seconds_mean = 0, seconds_max = 0;
  std::set<int> sample_rates;
  std::set<int> channels;
  int split[3] = {0, 0, 0};         // indexed by Split: training, validation, testing
};

struct DatasetStats {
  std::string root;
  std::map<std::string, LabelStats> labels;   // by label folder
  int total_clips = 0;
  int speakers = 0;                           // distinct over all labels
  double total_seconds = 0;
  int duplicates = 0;
  std::vector<SkippedFile> skipped;           // includes duplicates
  std::vector<std::pair<std::string, double>> background_noise;  // path, seconds
  int split[3] = {0, 0, 0};
};

DatasetStats ComputeStats(const Dataset& ds);

// Stable keys: labels{name:{clips,speakers,seconds_min,seconds_mean,seconds_max,sample_rates,channels,split}},
// total_clips, speakers, seconds, duplicates, skipped[{path,reason}], background_noise[{path,seconds}],
// split{training,validation,testing}.
nlohmann::json StatsToJson(const DatasetStats& s);
std::string StatsTable(const DatasetStats& s);

}  // namespace kws
