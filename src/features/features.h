// Log-mel and MFCC features exactly as tf.signal computes them (FACTS §2):
//   frames = 1 + floor((N - frame_length) / frame_step)  (no end padding)
//   |rfft(hann_periodic(frame) , fft_length)| -> [frames, fft_length/2+1]
//   . linear_to_mel_weight_matrix -> [frames, num_mel_bins]
//   log(x + log_offset)
//   mfcc > 0: DCT-II * sqrt(2/num_mel_bins) over mel bins, first `mfcc` kept.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace kws {

struct FeatureOptions {
  int sample_rate = 16000;        // Hz
  double frame_length_s = 0.032;  // seconds (512 samples at 16 kHz)
  double frame_step_s = 0.010;    // seconds (160 samples at 16 kHz)
  int fft_length = 512;           // 0 = next power of two >= frame length
  std::string window = "hann";    // "hann" (periodic, tf.signal.hann_window) or "hamming" or "none"
  int num_mel_bins = 20;
  double lower_hz = 20.0;
  double upper_hz = 6000.0;
  double log_offset = 1e-6;
  int mfcc = 0;                   // 0 = log-mel; K > 0 = first K MFCCs
  double clip_seconds = 1.0;      // model window length

  int frame_length() const;       // samples
  int frame_step() const;         // samples
  int fft_size() const;           // resolved fft length
  int window_samples() const;     // clip_seconds * sample_rate
  int num_frames(int num_samples) const;
  int num_features() const { return mfcc > 0 ? mfcc : num_mel_bins; }

  void Validate() const;          // throws UsageError naming the bad setting
  std::string Key() const;        // canonical string of every setting (cache key, metadata)
  std::string ToString() const;
};

// [frames x bins] row-major.
struct FeatureMatrix {
  int frames = 0, bins = 0;
  std::vector<float> data;
  float at(int f, int b) const { return data[size_t(f) * bins + b]; }
};

// Stateless-per-call extractor with precomputed window, FFT plan and sparse mel weights.
// Not thread-safe (owns scratch buffers): use one per thread.
class FeatureExtractor {
 public:
  explicit FeatureExtractor(const FeatureOptions& opts);
  ~FeatureExtractor();
  FeatureExtractor(FeatureExtractor&&) noexcept;
  const FeatureOptions& options() const;

  FeatureMatrix Compute(const float* samples, int n) const;
  // One frame (frame_length samples) -> num_features() values (for streaming).
  void ComputeFrame(const float* frame, float* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kws
