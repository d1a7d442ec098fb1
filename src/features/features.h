// Log-mel and MFCC features exactly as tf.signal computes them (tensorflow/python/ops/signal/):
//   frames = 1 + floor((N - frame_length) / frame_step)  (no end padding)
//   |rfft(hann_periodic(frame) , fft_length)| -> [frames, fft_length/2+1]
//   . linear_to_mel_weight_matrix -> [frames, num_mel_bins]
//   log(x + log_offset)
//   mfcc > 0: DCT-II * sqrt(2/num_mel_bins) over mel bins, first `mfcc` kept.
//
// frontend = "micro" selects TFLite Micro's fixed-point audio front end instead
// (features/micro/frontend.h, settings in `micro`; the tf.signal settings above
// are then unused): the features are its int8 output dequantized,
// (q + 128) * micro::kInputScale, so a model trained on them takes the front
// end's int8 as its int8 input.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "features/micro/frontend.h"

namespace kws {

struct FeatureOptions {
  std::string frontend = "tf.signal";  // "tf.signal" (log-mel / MFCC below) or "micro"
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
  // frontend = "micro": TFLite Micro's front end, micro_speech's settings by default.
  micro::FrontendOptions micro = micro::FrontendOptions::MicroSpeech();

  bool is_micro() const { return frontend == "micro"; }

  int frame_length() const;       // samples (micro: the window)
  int frame_step() const;         // samples (micro: the window step)
  int fft_size() const;           // resolved fft length
  int window_samples() const;     // clip_seconds * sample_rate
  int num_frames(int num_samples) const;
  int num_features() const { return is_micro() ? micro.filterbank.num_channels : mfcc > 0 ? mfcc : num_mel_bins; }

  void Validate() const;          // throws UsageError naming the bad setting
  std::string Key() const;        // canonical string of every setting (cache key, metadata)
  std::string ToString() const;

 private:
  void ValidateMicro() const;
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
  // tf.signal only: the micro front end is stateful (stream it with micro::Frontend).
  void ComputeFrame(const float* frame, float* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kws
