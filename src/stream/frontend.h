// Streaming feature front end (kaldi-native-fbank style) around the stateless
// per-frame FeatureExtractor::ComputeFrame:
//
//   kws::StreamingFeatures sf(options, /*max_frames=*/97);
//   sf.AcceptWaveform(chunk, n);            // any chunk size, any number of calls
//   int64_t ready = sf.NumFramesReady();    // frames computed since the start
//   sf.CopyLastFrames(97, window);          // newest 97 frames, oldest first
//
// Frame t covers stream samples [t*step, t*step + frame_length) exactly as
// FeatureExtractor::Compute numbers them, and is computed once, when its last
// sample arrives (only the new frames are computed, never the whole window
// again). So the last F frames equal Compute() on the samples they cover,
// bit for bit (tests/stream/frontend_test.cc).
//
// Memory is fixed at construction: a frame_length sample buffer and a ring of
// `max_frames` feature rows; older frames are overwritten (no growth over hours).
//
// With frontend = "micro" the frames come from one TFLite Micro front end that
// runs over the whole stream (features/micro/frontend.h): its noise estimate
// carries from frame to frame as on a device, so frame t depends on the stream
// before it (not only on the samples it covers); the stream's frames equal
// micro::Frontend::ComputeClip of the whole stream.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include <memory>

#include "features/features.h"
#include "features/micro/frontend.h"

namespace kws {

class StreamingFeatures {
 public:
  StreamingFeatures(const FeatureOptions& options, int max_frames);

  void AcceptWaveform(const float* samples, size_t n);
  void Reset();  // back to the state after construction

  int64_t NumFramesReady() const { return frames_ready_; }
  // Oldest frame still in the ring: max(0, NumFramesReady() - capacity()).
  int64_t FirstAvailableFrame() const;
  // Row of frame t (num_features() floats); UsageError if t is not available.
  const float* Frame(int64_t t) const;
  // The newest n frames, oldest first, into out[n * num_features()]. UsageError if
  // n > capacity() or n > NumFramesReady().
  void CopyLastFrames(int n, float* out) const;

  int capacity() const { return capacity_; }
  int num_features() const { return bins_; }
  int64_t samples_accepted() const { return samples_; }
  // Stream sample index one past the last sample of frame t.
  int64_t FrameEndSample(int64_t t) const { return t * step_ + length_; }
  const FeatureOptions& options() const { return fx_.options(); }
  size_t memory_bytes() const { return (ring_.capacity() + pending_.capacity()) * sizeof(float); }

 private:
  void AcceptMicro(const float* samples, size_t n);

  FeatureExtractor fx_;
  std::unique_ptr<micro::Frontend> micro_;  // frontend = "micro"
  std::vector<int16_t> pcm_;                // micro: one chunk as int16
  std::vector<uint16_t> micro_frame_;
  int length_, step_, bins_, capacity_;
  std::vector<float> pending_;  // the next frame's samples, fill_ of length_ present
  int fill_ = 0;
  int64_t skip_ = 0;            // samples to drop before the next frame (step > length)
  std::vector<float> ring_;     // capacity_ x bins_
  int64_t frames_ready_ = 0;
  int64_t samples_ = 0;
};

}  // namespace kws
