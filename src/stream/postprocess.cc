#include "stream/postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "data/dataset.h"
#include "util/error.h"
#include "util/text.h"

namespace kws {

std::vector<std::pair<std::string, double>> ParseLabelThresholds(const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& it : items) {
    auto lv = ParseNameNumber(it);
    if (!lv || lv->first.empty()) throw UsageError("--label-threshold '" + it + "': expected LABEL=VALUE, e.g. no=0.7");
    out.push_back(std::move(*lv));
  }
  return out;
}

int SmootherCapacity(double smooth_ms, double hop_ms) { return int(std::ceil(smooth_ms / hop_ms)) + 2; }

bool IsKeywordLabel(const std::string& label) { return label != kSilenceLabel && label != kUnknownLabel; }

ScoreSmoother::ScoreSmoother(std::vector<std::string> labels, const PostProcessOptions& options, int capacity)
    : labels_(std::move(labels)), opt_(options), capacity_(capacity) {
  opt_.Validate();
  if (labels_.empty()) throw UsageError("post-processing: no labels");
  if (capacity_ < 1) throw UsageError("post-processing: capacity must be >= 1");
  classes_ = int(labels_.size());
  keyword_.resize(labels_.size());
  bool any = false;
  for (size_t i = 0; i < labels_.size(); ++i) any |= (keyword_[i] = IsKeywordLabel(labels_[i])) != 0;
  if (!any) throw UsageError("post-processing: the model has no keyword labels (only _silence_/_unknown_)");
  for (const auto& lt : opt_.label_thresholds) {
    bool found = false;
    std::string keywords;
    for (size_t i = 0; i < labels_.size(); ++i) {
      found |= keyword_[i] && labels_[i] == lt.first;
      if (keyword_[i]) keywords += (keywords.empty() ? "" : ", ") + labels_[i];
    }
    if (!found)
      throw UsageError("--label-threshold " + lt.first + ": not a keyword of the model (its keywords: " + keywords + ")");
  }
  threshold_.resize(labels_.size());
  for (size_t i = 0; i < labels_.size(); ++i) threshold_[i] = float(opt_.ThresholdOf(labels_[i]));
  ring_.assign(size_t(capacity_) * size_t(classes_), 0.0f);
  times_.assign(size_t(capacity_), 0);
}

void ScoreSmoother::Reset() {
  head_ = count_ = 0;
  avg_.clear();
  last_detection_ms_ = INT64_MIN;
}

bool ScoreSmoother::Process(int64_t now, const float* scores, Detection* out) {
  if (count_ > 0 && now < times_[size_t((head_ + count_ - 1) % capacity_)])
    throw UsageError("post-processing: result times must not decrease");
  // Append (overwriting the oldest when full).
  if (count_ == capacity_) {
    head_ = (head_ + 1) % capacity_;
    --count_;
  }
  const int slot = (head_ + count_) % capacity_;
  std::memcpy(ring_.data() + size_t(slot) * size_t(classes_), scores, size_t(classes_) * sizeof(float));
  times_[size_t(slot)] = now;
  ++count_;
  // Drop results that left the window.
  while (count_ > 0 && double(now - times_[size_t(head_)]) >= opt_.smooth_ms) {
    head_ = (head_ + 1) % capacity_;
    --count_;
  }
  avg_.assign(size_t(classes_), 0.0f);
  for (int i = 0; i < count_; ++i) {
    const float* r = ring_.data() + size_t((head_ + i) % capacity_) * size_t(classes_);
    for (int c = 0; c < classes_; ++c) avg_[size_t(c)] += r[c];
  }
  for (auto& v : avg_) v /= float(count_);
  if (count_ < opt_.min_results) return false;
  int best = -1;
  for (int c = 0; c < classes_; ++c)
    if (keyword_[size_t(c)] && (best < 0 || avg_[size_t(c)] > avg_[size_t(best)])) best = c;
  if (best < 0 || !(avg_[size_t(best)] >= threshold_[size_t(best)])) return false;
  if (last_detection_ms_ != INT64_MIN && double(now - last_detection_ms_) < opt_.suppress_ms) return false;
  last_detection_ms_ = now;
  if (out) {
    out->time_ms = now;
    out->label = best;
    out->name = labels_[size_t(best)];
    out->score = avg_[size_t(best)];
  }
  return true;
}

}  // namespace kws
