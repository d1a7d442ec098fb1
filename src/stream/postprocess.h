// Streaming post-processing of per-hop class scores, as TFLite Micro's
// micro_speech RecognizeCommands does it (tensorflow/lite/micro/examples/micro_speech/recognize_commands.cc), in float:
//   * every result (time, scores) goes into a fixed-size ring;
//   * results older than smooth_ms before the newest are dropped (a result at
//     time t is in the window when now − t < smooth_ms);
//   * with fewer than min_results in the window nothing fires;
//   * the scores in the window are averaged per class; the best keyword class
//     (every label except _silence_ and _unknown_) fires when its average is
//     >= threshold (or its own entry in label_thresholds) and at least suppress_ms have
//     passed since the last detection.
// The ring holds `capacity` results (the detector passes smooth_ms / hop + 2);
// if results arrive faster the oldest are overwritten: memory never grows.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tflite/detector_options.h"

namespace kws {

// "LABEL=VALUE" items of --label-threshold (UsageError naming the flag and the item).
std::vector<std::pair<std::string, double>> ParseLabelThresholds(const std::vector<std::string>& items);

struct Detection {
  int64_t time_ms = 0;  // stream time of the result that fired
  int label = -1;       // class index
  std::string name;     // class label
  float score = 0;      // smoothed score
};

bool IsKeywordLabel(const std::string& label);  // not _silence_ / _unknown_

// Smoothing ring capacity for a hop: enough for every result of one window.
int SmootherCapacity(double smooth_ms, double hop_ms);

class ScoreSmoother {
 public:
  ScoreSmoother(std::vector<std::string> labels, const PostProcessOptions& options, int capacity);
  // Adds one result (times must not decrease); true and *out filled when a keyword fires.
  bool Process(int64_t time_ms, const float* scores, Detection* out);
  void Reset();

  const std::vector<std::string>& labels() const { return labels_; }
  const PostProcessOptions& options() const { return opt_; }
  // Average of the current window (valid after a Process call; empty before).
  const std::vector<float>& smoothed() const { return avg_; }
  int window_count() const { return count_; }
  int capacity() const { return capacity_; }

 private:
  std::vector<std::string> labels_;
  std::vector<char> keyword_;
  std::vector<float> threshold_;  // per class
  PostProcessOptions opt_;
  int capacity_, classes_;
  std::vector<float> ring_;       // capacity_ x classes_
  std::vector<int64_t> times_;    // capacity_
  int head_ = 0;                  // slot of the oldest result
  int count_ = 0;
  std::vector<float> avg_;
  int64_t last_detection_ms_ = INT64_MIN;
};

}  // namespace kws
