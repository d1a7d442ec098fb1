#include "data/task.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstring>
#include <map>
#include <set>

#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

namespace kws {

void TaskOptions::Validate() const {
  if (silence_count < 0) throw UsageError("silence_count must be >= 0 (got " + std::to_string(silence_count) + ")");
  if (!(silence_seconds > 0 && silence_seconds <= 60))
    throw UsageError("silence_seconds must be in (0, 60] (got " + std::to_string(silence_seconds) + ")");
  if (sample_rate < 1000 || sample_rate > 192000)
    throw UsageError("sample_rate must be in [1000, 192000] Hz (got " + std::to_string(sample_rate) + ")");
  if (!(unknown_ratio >= 0) || !std::isfinite(unknown_ratio))
    throw UsageError("unknown_ratio must be >= 0 (got " + std::to_string(unknown_ratio) + ")");
}

std::vector<int> TaskView::ClassCounts() const {
  std::vector<int> c(labels.size(), 0);
  for (int l : label) ++c[size_t(l)];
  return c;
}

int TaskView::LabelIndex(const std::string& name) const {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == name) return int(i);
  return -1;
}

std::vector<std::string> ParseLabelList(const std::string& csv) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t comma = csv.find(',', start);
    if (comma == std::string::npos) comma = csv.size();
    std::string s = csv.substr(start, comma - start);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    if (s.empty()) throw UsageError("labels \"" + csv + "\": empty label name");
    if (std::find(out.begin(), out.end(), s) != out.end())
      throw UsageError("labels \"" + csv + "\": \"" + s + "\" is listed twice");
    out.push_back(s);
    start = comma + 1;
  }
  return out;
}

namespace {
// Usable length of a noise file in samples at `rate` (0 if unknown).
int64_t NoiseLength(const NoiseFile& n, int rate) {
  if (n.info.sample_rate <= 0 || n.info.frames <= 0) return 0;
  return int64_t(std::floor(double(n.info.frames) * rate / n.info.sample_rate));
}

// Class index of each label; refuses the noise folder and repeats.
std::map<std::string, int> ClassIndex(const std::vector<std::string>& labels) {
  if (labels.empty()) throw UsageError("labels: at least one class is needed");
  std::map<std::string, int> cls;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == kBackgroundNoiseFolder)
      throw UsageError(std::string("labels: ") + kBackgroundNoiseFolder + " is noise for augmentation, not a class");
    if (!cls.emplace(labels[i], int(i)).second) throw UsageError("labels: \"" + labels[i] + "\" is listed twice");
  }
  return cls;
}

int ClassOr(const std::map<std::string, int>& cls, const char* name) {
  auto it = cls.find(name);
  return it == cls.end() ? -1 : it->second;
}

void AddItem(TaskView& t, int clip, int label, const std::string& speaker, const std::string& key,
             const NoiseSlice& slice) {
  t.clip.push_back(clip);
  t.label.push_back(label);
  t.speakers.push_back(speaker);
  t.keys.push_back(key);
  t.slices.push_back(slice);
}

// Every clip whose label (or, in _unknown_/WORD_..., word) is a class; other words go to _unknown_ if it is
// one. Returns the dataset indices of the clips that went to _unknown_.
std::vector<int> AssignClips(const Dataset& ds, const std::map<std::string, int>& cls, int silence_cls,
                             int unknown_cls, TaskView& t) {
  std::vector<int> unknown_items;
  for (size_t i = 0; i < ds.clips.size(); ++i) {
    const Clip& c = ds.clips[i];
    int k = -1;
    if (c.label == kSilenceLabel) {
      k = silence_cls;
    } else if (c.label != kUnknownLabel && cls.count(c.label)) {
      k = cls.at(c.label);
    } else if (c.label == kUnknownLabel && !c.word.empty() && cls.count(c.word) && c.word != kUnknownLabel &&
               c.word != kSilenceLabel) {
      k = cls.at(c.word);  // an _unknown_/WORD_... clip of a word the task asks for
    } else {
      k = unknown_cls;
      if (k >= 0) unknown_items.push_back(int(i));
    }
    if (k >= 0) AddItem(t, int(i), k, c.speaker, c.hash, {});
  }
  return unknown_items;
}

// Mean clip count of the word classes (not _silence_, not _unknown_).
double MeanWordCount(const std::vector<int>& counts, int silence_cls, int unknown_cls) {
  double s = 0;
  int n = 0;
  for (size_t k = 0; k < counts.size(); ++k)
    if (int(k) != silence_cls && int(k) != unknown_cls) {
      s += counts[k];
      ++n;
    }
  return n ? s / n : 0.0;
}

// Keeps at most unknown_ratio x the mean word count of _unknown_ clips, a seeded-hash choice.
void CapUnknown(const Dataset& ds, const std::vector<int>& unknown_items, int silence_cls, int unknown_cls,
                const TaskOptions& options, TaskView& t) {
  if (unknown_cls < 0 || options.unknown_ratio <= 0) return;
  const double mean_words = MeanWordCount(t.ClassCounts(), silence_cls, unknown_cls);
  const size_t cap = size_t(std::llround(options.unknown_ratio * mean_words));
  if (unknown_items.size() <= cap) return;
  std::vector<std::pair<uint64_t, int>> order;
  for (int ci : unknown_items) order.push_back({SeededHash(ds.clips[size_t(ci)].hash, options.seed), ci});
  std::sort(order.begin(), order.end());
  std::set<int> drop;
  for (size_t j = cap; j < order.size(); ++j) drop.insert(order[j].second);
  TaskView kept;
  kept.labels = t.labels;
  for (size_t i = 0; i < size_t(t.size()); ++i) {
    if (t.label[i] == unknown_cls && drop.count(t.clip[i])) continue;
    AddItem(kept, t.clip[i], t.label[i], t.speakers[i], t.keys[i], t.slices[i]);
  }
  t = std::move(kept);
}

// _silence_ items cut from the noise files (seeded offset and gain) when the data has no _silence_ folder.
void AddSynthesizedSilence(const Dataset& ds, int silence_cls, int unknown_cls, const TaskOptions& options,
                           TaskView& t) {
  const std::vector<int> counts = t.ClassCounts();
  if (silence_cls < 0 || counts[size_t(silence_cls)] != 0) return;
  const int64_t len = int64_t(std::llround(options.silence_seconds * options.sample_rate));
  std::vector<int> usable;
  for (size_t n = 0; n < ds.noise.size(); ++n)
    if (NoiseLength(ds.noise[n], options.sample_rate) >= len) usable.push_back(int(n));
  if (usable.empty()) return;
  int want = options.silence_count;
  if (want == 0) want = std::max(1, int(std::llround(MeanWordCount(counts, silence_cls, unknown_cls))));
  Rng rng = Rng::Derive(options.seed, 0x5113CE);
  for (int s = 0; s < want; ++s) {
    NoiseSlice sl;
    sl.noise = usable[size_t(rng.Below(usable.size()))];
    const int64_t n_len = NoiseLength(ds.noise[size_t(sl.noise)], options.sample_rate);
    sl.offset = int64_t(rng.Below(uint64_t(n_len - len + 1)));
    sl.gain = float(rng.Uniform());
    uint32_t gain_bits;
    std::memcpy(&gain_bits, &sl.gain, 4);
    const std::string key = Sha256Hex("silence:" + ds.noise[size_t(sl.noise)].hash + ":" + std::to_string(sl.offset) +
                                      ":" + std::to_string(len) + "@" + std::to_string(options.sample_rate) + ":" +
                                      std::to_string(gain_bits));
    AddItem(t, -1, silence_cls, std::string(kSilenceLabel) + "/synth" + std::to_string(s), key, sl);
  }
}

// Refuses a task in which a label has no item (unless allowed), naming what the data has.
void CheckEveryLabelHasItems(const Dataset& ds, const TaskView& t, const TaskOptions& options) {
  const std::vector<int> counts = t.ClassCounts();
  std::vector<std::string> missing;
  for (size_t k = 0; k < t.labels.size(); ++k)
    if (counts[k] == 0) missing.push_back(t.labels[k]);
  if (missing.empty() || options.allow_missing) return;
  std::string m, have;
  for (auto& s : missing) m += (m.empty() ? "" : ", ") + s;
  for (auto& s : ds.labels) have += (have.empty() ? "" : ", ") + s;
  std::string hint;
  if (std::count(missing.begin(), missing.end(), kSilenceLabel))
    hint = "; _silence_ needs a _silence_ folder or a _background_noise_ file of at least " +
           std::to_string(options.silence_seconds) + " s";
  throw UsageError(ds.root + ": no clips for label" + (missing.size() > 1 ? "s " : " ") + m +
                   " (the data has: " + have + ")" + hint);
}

}  // namespace

TaskView MakeTask(const Dataset& ds, const std::vector<std::string>& labels, const TaskOptions& options) {
  options.Validate();
  const std::map<std::string, int> cls = ClassIndex(labels);
  const int silence_cls = ClassOr(cls, kSilenceLabel), unknown_cls = ClassOr(cls, kUnknownLabel);
  TaskView t;
  t.labels = labels;
  const std::vector<int> unknown_items = AssignClips(ds, cls, silence_cls, unknown_cls, t);
  CapUnknown(ds, unknown_items, silence_cls, unknown_cls, options, t);
  AddSynthesizedSilence(ds, silence_cls, unknown_cls, options, t);
  CheckEveryLabelHasItems(ds, t, options);
  return t;
}

std::vector<Split> OfficialSplits(const Dataset& ds, const TaskView& task, double validation_pct, double testing_pct) {
  std::vector<Split> s(size_t(task.size()));
  for (int i = 0; i < task.size(); ++i) {
    const int c = task.clip[size_t(i)];
    s[size_t(i)] = c >= 0 ? WhichSet(ds.clips[size_t(c)], validation_pct, testing_pct)
                          : WhichSet(task.keys[size_t(i)], validation_pct, testing_pct);
  }
  return s;
}

}  // namespace kws
