#include "stream/detector.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/dataset.h"
#include "util/error.h"

namespace kws {

Detector::Detector(const FeatureOptions& features, std::vector<std::string> labels, Scorer* scorer,
                   const DetectorOptions& options)
    : opt_((options.Validate(), options)),
      scorer_(scorer),
      rate_(features.sample_rate),
      hop_(std::max(1, int(std::lround(options.hop_ms * features.sample_rate / 1000.0)))),
      frames_(scorer ? scorer->frames() : 0),
      front_(features, std::max(1, frames_)),
      vad_(features.sample_rate, options.vad_dbfs, options.vad_min_ms, 1000.0 * features.window_samples() / features.sample_rate),
      smoother_(labels, options.post, SmootherCapacity(options.post.smooth_ms, options.hop_ms)) {
  if (!scorer_) throw UsageError("detector: no scorer");
  if (hop_ > features.window_samples()) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "--hop-ms %g is longer than the model's %g ms window: audio between windows would never be seen",
                  options.hop_ms, 1000.0 * features.window_samples() / features.sample_rate);
    throw UsageError(buf);
  }
  if (scorer_->bins() != features.num_features())
    throw UsageError("detector: scorer takes " + std::to_string(scorer_->bins()) + " features per frame, the settings give " +
                     std::to_string(features.num_features()));
  if (scorer_->num_classes() != int(labels.size()))
    throw UsageError("detector: scorer gives " + std::to_string(scorer_->num_classes()) + " scores for " +
                     std::to_string(labels.size()) + " labels");
  window_.assign(size_t(frames_) * size_t(features.num_features()), 0.0f);
  scores_.assign(labels.size(), 0.0f);
  silence_.assign(labels.size(), 0.0f);
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == kSilenceLabel) silence_[i] = 1.0f;
}

void Detector::Reset() {
  front_.Reset();
  vad_ = EnergyVad(rate_, opt_.vad_dbfs, opt_.vad_min_ms, 1000.0 * front_.options().window_samples() / rate_);
  smoother_.Reset();
  since_hop_ = 0;
  stats_ = {};
}

void Detector::Accept(const float* x, size_t n, std::vector<Detection>* out) {
  while (n > 0) {
    const size_t k = std::min(n, size_t(hop_ - since_hop_));
    front_.AcceptWaveform(x, k);
    vad_.Accept(x, k);
    stats_.samples += int64_t(k);
    since_hop_ += int64_t(k);
    x += k;
    n -= k;
    if (since_hop_ == hop_) {
      since_hop_ = 0;
      if (front_.NumFramesReady() >= frames_) Evaluate(out);
    }
  }
}

void Detector::Evaluate(std::vector<Detection>* out) {
  ++stats_.hops;
  const int64_t now_ms = stats_.samples * 1000 / rate_;
  const bool open = !opt_.vad || vad_.Active();
  const float* s;
  if (open) {
    front_.CopyLastFrames(frames_, window_.data());
    scorer_->Score(window_.data(), scores_.data());
    ++stats_.inferences;
    s = scores_.data();
  } else {
    ++stats_.gated;
    s = silence_.data();
  }
  if (on_result) on_result(now_ms, s, open);
  Detection d;
  if (smoother_.Process(now_ms, s, &d)) {
    ++stats_.detections;
    if (out) out->push_back(std::move(d));
  }
}

}  // namespace kws
