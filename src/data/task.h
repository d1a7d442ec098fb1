// A classification task over a Dataset: the classes the user asked for, in the
// order given, and the items (clips, or synthesised silence) that feed them.
//
//   "yes,no"                          -> 2 classes; every other folder is dropped
//   "yes,no,_silence_,_unknown_"      -> 4 classes; every word folder not asked for
//                                        and the _unknown_ folder become _unknown_;
//                                        _silence_ comes from the _silence_ folder, or
//                                        (if there is none) from 1 s background-noise slices.
//   "backward,_unknown_"              -> a word with no folder of its own is taken from
//                                        _unknown_/backward_<speaker>_nohash_<n>.wav clips.
// A label asked for that the data cannot supply -> UsageError naming it.
// Items are in clip order (synthesised silence last); keys/speakers feed the
// feature cache and the speaker-disjoint splits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace kws {

struct TaskOptions {
  // Synthesised silence (only when the task has _silence_ and the data has no
  // _silence_ folder): how many items; 0 = the mean clip count of the other classes.
  int silence_count = 0;
  double silence_seconds = 1.0;   // slice length
  int sample_rate = 16000;        // rate the slice offsets refer to
  // Cap on _unknown_ items as a multiple of the mean clip count of the asked-for
  // word classes (0 = keep all). Kept items are chosen by a seeded hash of their content.
  double unknown_ratio = 0;
  uint64_t seed = 1;
  // false: a label the data cannot supply is a UsageError naming it; true: it gets no items
  // (ClassCounts() says 0), for evaluating a model on data that lacks some of its labels.
  bool allow_missing = false;
  void Validate() const;
};

// Where a synthesised silence item comes from: noise file `noise` (index into
// Dataset::noise), `offset` samples at TaskOptions::sample_rate, scaled by `gain`.
struct NoiseSlice {
  int noise = -1;
  int64_t offset = 0;
  float gain = 1.0f;
};

struct TaskView {
  std::vector<std::string> labels;  // class names, in the order asked for
  // One entry per item:
  std::vector<int> clip;            // index into Dataset::clips, or -1 for synthesised silence
  std::vector<int> label;           // class index into `labels`
  std::vector<std::string> speakers;// speaker (or pseudo-speaker) per item, for speaker-disjoint splits
  std::vector<std::string> keys;    // content key per item (clip SHA-256, or a hash of the noise slice)
  std::vector<NoiseSlice> slices;   // valid where clip[i] == -1
  int size() const { return int(clip.size()); }
  // Item counts per class.
  std::vector<int> ClassCounts() const;
  int LabelIndex(const std::string& name) const;  // -1 if absent
};

// "yes, no,_silence_" -> {"yes","no","_silence_"}; UsageError on empty or repeated names.
std::vector<std::string> ParseLabelList(const std::string& csv);

TaskView MakeTask(const Dataset& ds, const std::vector<std::string>& labels, const TaskOptions& options = {});

// The official split of every item (synthesised silence: by its key).
std::vector<Split> OfficialSplits(const Dataset& ds, const TaskView& task, double validation_pct = 10,
                                  double testing_pct = 10);

}  // namespace kws
