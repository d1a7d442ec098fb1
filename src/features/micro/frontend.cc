#include "features/micro/frontend.h"

#include <cmath>
#include <sstream>

#include "features/micro/bits.h"
#include "util/error.h"

namespace kws::micro {

FrontendOptions FrontendOptions::MicroSpeech() {
  FrontendOptions o;
  o.window.size_ms = 30;
  o.window.step_ms = 20;
  o.filterbank.num_channels = 40;
  o.filterbank.lower_hz = 125.0f;
  o.filterbank.upper_hz = 7500.0f;
  o.pcan.enabled = true;
  return o;
}

int FrontendOptions::fft_size(int sample_rate) const {
  int n = 1;
  while (n < window.size(sample_rate)) n <<= 1;
  return n;
}

int FrontendOptions::correction_bits(int sample_rate) const {
  return MostSignificantBit32(uint32_t(fft_size(sample_rate))) - 1 - kFilterbankBits / 2;
}

void FrontendOptions::Validate(int sample_rate) const {
  if (sample_rate < 1000 || sample_rate > 192000)
    throw UsageError("features: sample_rate must be 1000..192000 for the micro front end (got " +
                     std::to_string(sample_rate) + ")");
  window.Validate(sample_rate);
  filterbank.Validate(sample_rate, fft_size(sample_rate) / 2 + 1);
  noise_reduction.Validate();
  pcan.Validate(noise_reduction.smoothing_bits, correction_bits(sample_rate));
  log_scale.Validate();
}

std::string FrontendOptions::Key() const {
  std::ostringstream s;
  s << "micro-v1;window_ms=" << window.size_ms << ";step_ms=" << window.step_ms
    << ";num_channels=" << filterbank.num_channels << ";lower_hz=" << FloatText(filterbank.lower_hz)
    << ";upper_hz=" << FloatText(filterbank.upper_hz) << ";smoothing_bits=" << noise_reduction.smoothing_bits
    << ";even_smoothing=" << FloatText(noise_reduction.even_smoothing) << ";odd_smoothing=" << FloatText(noise_reduction.odd_smoothing)
    << ";min_signal_remaining=" << FloatText(noise_reduction.min_signal_remaining) << ";pcan=" << pcan.enabled;
  if (pcan.enabled)
    s << ";pcan_strength=" << FloatText(pcan.strength) << ";pcan_offset=" << FloatText(pcan.offset) << ";gain_bits=" << pcan.gain_bits;
  s << ";log_scale=" << log_scale.enabled << ";scale_shift=" << log_scale.scale_shift;
  return s.str();
}

std::string FrontendOptions::ToString() const {
  std::ostringstream s;
  s << "micro front end: window " << window.size_ms << " ms, step " << window.step_ms << " ms, "
    << filterbank.num_channels << " channels " << FloatText(filterbank.lower_hz) << "-" << FloatText(filterbank.upper_hz)
    << " Hz, noise reduction (" << noise_reduction.smoothing_bits << " bits, " << FloatText(noise_reduction.even_smoothing)
    << "/" << FloatText(noise_reduction.odd_smoothing) << ", min " << FloatText(noise_reduction.min_signal_remaining) << "), ";
  if (pcan.enabled)
    s << "PCAN (" << FloatText(pcan.strength) << ", offset " << FloatText(pcan.offset) << ", " << pcan.gain_bits << " bits), ";
  else
    s << "no PCAN, ";
  if (log_scale.enabled) s << "log (shift " << log_scale.scale_shift << ")";
  else s << "no log";
  return s.str();
}

int8_t ToInt8(uint16_t v) {
  int32_t q = (int32_t(v) * 256 + 333) / 666 - 128;
  if (q < -128) q = -128;
  if (q > 127) q = 127;
  return int8_t(q);
}

int16_t ToInt16(float x) {
  if (!(x == x)) return 0;  // NaN
  const float v = std::nearbyint(x * 32768.0f);
  if (v >= 32767.0f) return 32767;
  if (v <= -32768.0f) return -32768;
  return int16_t(v);
}

Frontend::Frontend(const FrontendOptions& options, int sample_rate)
    : opts_((options.Validate(sample_rate), options)),
      sample_rate_(sample_rate),
      window_(options.window, sample_rate),
      fft_(options.fft_size(sample_rate)),
      filterbank_(options.filterbank, sample_rate, options.fft_size(sample_rate) / 2 + 1),
      noise_(options.noise_reduction, options.filterbank.num_channels),
      pcan_(options.pcan.enabled ? PcanGainControl(options.pcan, options.noise_reduction.smoothing_bits,
                                                   options.correction_bits(sample_rate))
                                 : PcanGainControl(PcanOptions{}, 0, 0)) {
  spectrum_.assign(size_t(fft_.bins()), Complex16{});
  signal_.assign(size_t(num_channels()), 0);
}

void Frontend::Reset() {
  window_.Reset();
  noise_.Reset();
}

bool Frontend::ProcessSamples(const int16_t* samples, size_t n, size_t* used, uint16_t* out) {
  if (!window_.ProcessSamples(samples, n, used)) return false;
  // frontend.c: scale the window up to use the FFT's 16 bits, and the filterbank back down.
  const int shift = 15 - MostSignificantBit32(uint32_t(uint16_t(window_.max_abs_output())));
  fft_.Transform(window_.output(), window_.size(), shift, spectrum_.data());
  filterbank_.Apply(spectrum_.data(), shift, signal_.data());
  noise_.Apply(signal_.data());
  if (opts_.pcan.enabled) pcan_.Apply(noise_.estimate().data(), signal_.data(), num_channels());
  ApplyLogScale(opts_.log_scale, signal_.data(), num_channels(), opts_.correction_bits(sample_rate_), out);
  return true;
}

int Frontend::NumFrames(size_t n, int window_size, int window_step) {
  if (n < size_t(window_size)) return 0;
  return int(1 + (n - size_t(window_size)) / size_t(window_step));
}

std::vector<uint16_t> Frontend::ComputeClip(const int16_t* samples, size_t n, int* frames) {
  Reset();
  const int count = NumFrames(n, window_size(), window_step());
  std::vector<uint16_t> out(size_t(count) * size_t(num_channels()));
  int f = 0;
  while (n > 0 && f < count) {
    size_t used = 0;
    if (ProcessSamples(samples, n, &used, out.data() + size_t(f) * size_t(num_channels()))) ++f;
    samples += used;
    n -= used;
  }
  if (frames) *frames = count;
  return out;
}

}  // namespace kws::micro
