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
}  // namespace

TaskView MakeTask(const Dataset& ds, const std::vector<std::string>& labels, const TaskOptions& options) {
  options.Validate();
  if (labels.empty()) throw UsageError("labels: at least one class is needed");
  TaskView t;
  t.labels = labels;
  std::map<std::string, int> cls;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == kBackgroundNoiseFolder)
      throw UsageError(std::string("labels: ") + kBackgroundNoiseFolder + " is noise for augmentation, not a class");
    if (!cls.emplace(labels[i], int(i)).second) throw UsageError("labels: \"" + labels[i] + "\" is listed twice");
  }
  const int silence_cls = cls.count(kSilenceLabel) ? cls[kSilenceLabel] : -1;
  const int unknown_cls = cls.count(kUnknownLabel) ? cls[kUnknownLabel] : -1;

  // Class of each clip (-1 = dropped).
  std::vector<int> unknown_items;
  for (size_t i = 0; i < ds.clips.size(); ++i) {
    const Clip& c = ds.clips[i];
    int k = -1;
    if (c.label == kSilenceLabel) {
      k = silence_cls;
    } else if (c.label != kUnknownLabel && cls.count(c.label)) {
      k = cls[c.label];
    } else if (c.label == kUnknownLabel && !c.word.empty() && cls.count(c.word) && c.word != kUnknownLabel &&
               c.word != kSilenceLabel) {
      k = cls[c.word];  // an _unknown_/WORD_... clip of a word the task asks for
    } else {
      k = unknown_cls;
      if (k >= 0) unknown_items.push_back(int(i));
    }
    if (k < 0) continue;
    t.clip.push_back(int(i));
    t.label.push_back(k);
    t.speakers.push_back(c.speaker);
    t.keys.push_back(c.hash);
    t.slices.push_back({});
  }

  // Cap _unknown_.
  std::vector<int> counts = t.ClassCounts();
  auto mean_of_words = [&]() {
    double s = 0;
    int n = 0;
    for (size_t k = 0; k < labels.size(); ++k)
      if (int(k) != silence_cls && int(k) != unknown_cls) { s += counts[k]; ++n; }
    return n ? s / n : 0.0;
  };
  if (unknown_cls >= 0 && options.unknown_ratio > 0) {
    const size_t cap = size_t(std::llround(options.unknown_ratio * mean_of_words()));
    if (unknown_items.size() > cap) {
      std::vector<std::pair<uint64_t, int>> order;
      for (int ci : unknown_items) order.push_back({SeededHash(ds.clips[size_t(ci)].hash, options.seed), ci});
      std::sort(order.begin(), order.end());
      std::set<int> drop;
      for (size_t j = cap; j < order.size(); ++j) drop.insert(order[j].second);
      TaskView kept;
      kept.labels = t.labels;
      for (int i = 0; i < t.size(); ++i) {
        if (t.label[size_t(i)] == unknown_cls && drop.count(t.clip[size_t(i)])) continue;
        kept.clip.push_back(t.clip[size_t(i)]);
        kept.label.push_back(t.label[size_t(i)]);
        kept.speakers.push_back(t.speakers[size_t(i)]);
        kept.keys.push_back(t.keys[size_t(i)]);
        kept.slices.push_back(t.slices[size_t(i)]);
      }
      t = std::move(kept);
      counts = t.ClassCounts();
    }
  }

  // Synthesised silence when there is no _silence_ folder.
  if (silence_cls >= 0 && counts[size_t(silence_cls)] == 0) {
    const int64_t len = int64_t(std::llround(options.silence_seconds * options.sample_rate));
    std::vector<int> usable;
    for (size_t n = 0; n < ds.noise.size(); ++n)
      if (NoiseLength(ds.noise[n], options.sample_rate) >= len) usable.push_back(int(n));
    if (!usable.empty()) {
      int want = options.silence_count;
      if (want == 0) want = std::max(1, int(std::llround(mean_of_words())));
      if (want == 0) want = 1;
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
        t.clip.push_back(-1);
        t.label.push_back(silence_cls);
        t.speakers.push_back(std::string(kSilenceLabel) + "/synth" + std::to_string(s));
        t.keys.push_back(key);
        t.slices.push_back(sl);
      }
      counts = t.ClassCounts();
    }
  }

  std::vector<std::string> missing;
  for (size_t k = 0; k < labels.size(); ++k)
    if (counts[k] == 0) missing.push_back(labels[k]);
  if (!missing.empty() && !options.allow_missing) {
    std::string m, have;
    for (auto& s : missing) m += (m.empty() ? "" : ", ") + s;
    for (auto& s : ds.labels) have += (have.empty() ? "" : ", ") + s;
    std::string hint;
    if (std::count(missing.begin(), missing.end(), kSilenceLabel))
      hint = "; _silence_ needs a _silence_ folder or a _background_noise_ file of at least " +
             std::to_string(options.silence_seconds) + " s";
    throw UsageError(ds.root + ": no clips for label" + (missing.size() > 1 ? "s " : " ") + m + " (the data has: " + have +
                     ")" + hint);
  }
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
