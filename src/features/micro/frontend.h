// TFLite Micro's audio front end ("microfrontend", tensorflow/lite/experimental/microfrontend/lib/
// in tensorflow/tflite-micro), bit-exact, written from its integer steps: what micro_speech and
// ESPHome's microWakeWord models were trained on and what microcontrollers compute.
//
//   int16 samples -> window (Q12 Hann)           micro/window.h
//                 -> 16-bit fixed-point real FFT   micro/fft.h (input scaled up by 15 - msb(max |x|) bits)
//                 -> mel filterbank, sqrt          micro/filterbank.h (scaled back down by the same bits)
//                 -> noise reduction (stateful)    micro/noise_reduction.h
//                 -> PCAN gain control (optional)  micro/pcan_gain_control.h
//                 -> log scale                     micro/log_scale.h
//                 -> uint16 per channel per frame
//
// Streaming form (TFLite Micro's FrontendProcessSamples): feed any number of samples; a frame comes
// out whenever a window is full; the noise estimate carries from frame to frame.
//
//   kws::micro::Frontend fe(kws::micro::FrontendOptions::MicroSpeech(), 16000);
//   size_t used;  std::vector<uint16_t> frame(fe.num_channels());
//   while (n > 0) { if (fe.ProcessSamples(x, n, &used, frame.data())) {...}  x += used; n -= used; }
//
// Whole-clip form: fe.ComputeClip(x, n) resets the state and returns every frame of the clip
// ([frames x channels], frames = n < window ? 0 : 1 + (n - window) / step), equal to streaming the
// clip from a reset front end.
//
// int8 for a model's input (micro_speech's micro_features_generator.cc and ESPHome's
// micro_wake_word): q = clamp((v * 256 + 333) / 666 - 128, -128, 127) (integer division). kws
// trains on q dequantized with kInputScale / kInputZeroPoint, so an exported int8 model's input
// IS q: a device feeds the front end's int8 output directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "features/micro/fft.h"
#include "features/micro/filterbank.h"
#include "features/micro/log_scale.h"
#include "features/micro/noise_reduction.h"
#include "features/micro/pcan_gain_control.h"
#include "features/micro/window.h"

namespace kws::micro {

struct FrontendOptions {
  WindowOptions window;
  FilterbankOptions filterbank;
  NoiseReductionOptions noise_reduction;
  PcanOptions pcan;
  LogScaleOptions log_scale;

  // The settings of TFLite Micro's micro_speech example (micro_features_generator.cc): 30 ms / 20 ms,
  // 40 channels, 125-7500 Hz, PCAN on. The struct's own defaults are TFLite Micro's library defaults
  // (25 ms / 10 ms, 32 channels, PCAN off).
  static FrontendOptions MicroSpeech();

  int fft_size(int sample_rate) const;         // next power of two >= the window
  int correction_bits(int sample_rate) const;  // log2(fft_size) - 1 - 6
  void Validate(int sample_rate) const;        // every stage; throws UsageError naming the setting
  std::string Key() const;                     // canonical text of every setting (caches, metadata)
  std::string ToString() const;
};

inline constexpr int kInputZeroPoint = -128;
inline constexpr float kInputScale = 1665.0f / 16384.0f;  // (666 / 256) * (10 / 256): q + 128 ~ v / 25.6 / scale
int8_t ToInt8(uint16_t v);                                 // the mapping above
inline float Dequantize(int8_t q) { return float(int(q) - kInputZeroPoint) * kInputScale; }
// float samples in [-1, 1) -> int16 (round(x * 32768), clamped): exact for 16-bit PCM read as x / 32768.
int16_t ToInt16(float x);

class Frontend {
 public:
  Frontend(const FrontendOptions& options, int sample_rate);  // validates

  // Consumes up to n samples (*used says how many); when a frame is complete writes num_channels()
  // values to out and returns true (call again with the rest).
  bool ProcessSamples(const int16_t* samples, size_t n, size_t* used, uint16_t* out);
  void Reset();

  // Reset, then every frame of the clip: frames x num_channels() values, row-major.
  std::vector<uint16_t> ComputeClip(const int16_t* samples, size_t n, int* frames = nullptr);
  static int NumFrames(size_t n, int window_size, int window_step);

  const FrontendOptions& options() const { return opts_; }
  int sample_rate() const { return sample_rate_; }
  int num_channels() const { return opts_.filterbank.num_channels; }
  int window_size() const { return window_.size(); }  // samples
  int window_step() const { return window_.step(); }  // samples
  const Filterbank& filterbank() const { return filterbank_; }
  const NoiseReduction& noise_reduction() const { return noise_; }

 private:
  FrontendOptions opts_;
  int sample_rate_;
  Window window_;
  RealFft16 fft_;
  Filterbank filterbank_;
  NoiseReduction noise_;
  PcanGainControl pcan_;
  std::vector<Complex16> spectrum_;
  std::vector<uint32_t> signal_;
};

}  // namespace kws::micro
