#include "stream/frontend.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "util/error.h"

namespace kws {

StreamingFeatures::StreamingFeatures(const FeatureOptions& options, int max_frames) : fx_(options) {
  if (max_frames < 1) throw UsageError("streaming features: max_frames must be >= 1 (got " + std::to_string(max_frames) + ")");
  length_ = options.frame_length();
  step_ = options.frame_step();
  bins_ = options.num_features();
  capacity_ = max_frames;
  pending_.assign(size_t(length_), 0.0f);
  ring_.assign(size_t(capacity_) * size_t(bins_), 0.0f);
  if (options.is_micro()) {
    micro_ = std::make_unique<micro::Frontend>(options.micro, options.sample_rate);
    micro_frame_.assign(size_t(bins_), 0);
    pending_.clear();
    pending_.shrink_to_fit();
  }
}

void StreamingFeatures::Reset() {
  fill_ = 0;
  skip_ = 0;
  frames_ready_ = 0;
  samples_ = 0;
  std::fill(ring_.begin(), ring_.end(), 0.0f);
  if (micro_) micro_->Reset();
}

void StreamingFeatures::AcceptMicro(const float* x, size_t n) {
  pcm_.resize(n);
  for (size_t i = 0; i < n; ++i) pcm_[i] = micro::ToInt16(x[i]);
  const int16_t* p = pcm_.data();
  while (n > 0) {
    size_t used = 0;
    if (micro_->ProcessSamples(p, n, &used, micro_frame_.data())) {
      float* row = ring_.data() + size_t(frames_ready_ % capacity_) * size_t(bins_);
      for (int b = 0; b < bins_; ++b) row[b] = micro::Dequantize(micro::ToInt8(micro_frame_[size_t(b)]));
      ++frames_ready_;
    }
    p += used;
    n -= used;
  }
}

void StreamingFeatures::AcceptWaveform(const float* x, size_t n) {
  samples_ += int64_t(n);
  if (micro_) {
    AcceptMicro(x, n);
    return;
  }
  while (n > 0) {
    if (skip_ > 0) {
      const size_t k = size_t(std::min<int64_t>(skip_, int64_t(n)));
      skip_ -= int64_t(k);
      x += k;
      n -= k;
      continue;
    }
    const size_t k = std::min(n, size_t(length_ - fill_));
    std::memcpy(pending_.data() + fill_, x, k * sizeof(float));
    fill_ += int(k);
    x += k;
    n -= k;
    if (fill_ == length_) {
      float* row = ring_.data() + size_t(frames_ready_ % capacity_) * size_t(bins_);
      fx_.ComputeFrame(pending_.data(), row);
      ++frames_ready_;
      if (step_ < length_) {
        std::memmove(pending_.data(), pending_.data() + step_, size_t(length_ - step_) * sizeof(float));
        fill_ = length_ - step_;
      } else {
        fill_ = 0;
        skip_ = step_ - length_;
      }
    }
  }
}

int64_t StreamingFeatures::FirstAvailableFrame() const { return std::max<int64_t>(0, frames_ready_ - capacity_); }

const float* StreamingFeatures::Frame(int64_t t) const {
  if (t < FirstAvailableFrame() || t >= frames_ready_)
    throw UsageError("streaming features: frame " + std::to_string(t) + " not available (have " +
                     std::to_string(FirstAvailableFrame()) + ".." + std::to_string(frames_ready_ - 1) + ")");
  return ring_.data() + size_t(t % capacity_) * size_t(bins_);
}

void StreamingFeatures::CopyLastFrames(int n, float* out) const {
  if (n < 0 || n > capacity_ || n > frames_ready_)
    throw UsageError("streaming features: cannot copy the last " + std::to_string(n) + " frames (" +
                     std::to_string(frames_ready_) + " ready, capacity " + std::to_string(capacity_) + ")");
  // At most two contiguous pieces of the ring.
  const int64_t first = frames_ready_ - n;
  int64_t t = first;
  while (t < frames_ready_) {
    const int64_t slot = t % capacity_;
    const int64_t run = std::min<int64_t>(frames_ready_ - t, capacity_ - slot);
    std::memcpy(out + size_t(t - first) * size_t(bins_), ring_.data() + size_t(slot) * size_t(bins_),
                size_t(run) * size_t(bins_) * sizeof(float));
    t += run;
  }
}

}  // namespace kws
