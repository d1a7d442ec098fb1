// [data] of a recipe config: where the clips come from and which labels the model learns. One table
// (util/settings.h) gives each setting's key, default, check and help.
#pragma once
#include <string>
#include <vector>

#include "util/settings.h"

namespace kws {

struct DataOptions {
  // Data folders (relative paths: from the working directory), merged into one dataset; `--data`
  // on the command line replaces them. Empty = `--data` is required.
  std::vector<std::string> dirs;
  std::vector<std::string> labels;      // class names (order = model outputs)
  int silence_count = 0;
  double unknown_ratio = 0;
  // Train _unknown_ as one class per source word folder ("_unknown_/go", ...; the _unknown_ folder's own
  // clips stay "_unknown_"), merged back into _unknown_ in every output: the model's predictions, its
  // metrics and the exported .tflite (a FULLY_CONNECTED that sums the classes' probabilities).
  bool unknown_subclasses = false;
  bool cache = true;
  // false: an unreadable or non-audio file in the data folder stops the run with its name and the
  // problem (exit 2); true: such files are left out (kws data stats lists them).
  bool skip_bad_files = false;
  // Failed recordings: clips whose peak is below min_peak_dbfs are near-silent (`kws data stats`
  // lists them); skip_silent = true leaves them out of the training data (and so out of every
  // training, validation and cross-validation fold; --test-data folders are evaluated whole).
  double min_peak_dbfs = -40;
  bool skip_silent = false;
};

const std::vector<settings::Setting<DataOptions>>& DataSettings();

}  // namespace kws
