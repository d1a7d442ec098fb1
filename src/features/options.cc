// FeatureOptions: derived sizes, validation, canonical key.
#include <charconv>
#include <cmath>
#include <sstream>

#include "features/features.h"
#include "features/fft.h"
#include "features/window.h"
#include "util/error.h"

namespace kws {
namespace {

// Shortest text that reads back to the same double ("0.032", "1e-06").
std::string Num(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

[[noreturn]] void Bad(const std::string& setting, const std::string& problem) {
  throw UsageError("features: " + setting + " " + problem);
}

}  // namespace

int FeatureOptions::frame_length() const {
  if (is_micro()) return micro.window.size(sample_rate);
  return int(std::lround(frame_length_s * sample_rate));
}
int FeatureOptions::frame_step() const {
  if (is_micro()) return micro.window.step(sample_rate);
  return int(std::lround(frame_step_s * sample_rate));
}

int FeatureOptions::fft_size() const {
  if (is_micro()) return micro.fft_size(sample_rate);
  if (fft_length > 0) return fft_length;
  int n = 1;
  while (n < frame_length()) n *= 2;
  return n;
}

int FeatureOptions::window_samples() const { return int(std::lround(clip_seconds * sample_rate)); }

// tf.signal.frame without end padding; a clip shorter than one frame is
// zero-padded to one frame by FeatureExtractor::Compute (tf would give 0 frames).
int FeatureOptions::num_frames(int num_samples) const {
  const int L = frame_length(), step = frame_step();
  if (num_samples <= L) return 1;
  return 1 + (num_samples - L) / step;
}

void FeatureOptions::Validate() const {
  if (frontend != "tf.signal" && frontend != "micro")
    Bad("frontend", "'" + frontend + "' is unknown (expected tf.signal or micro)");
  if (is_micro()) {
    ValidateMicro();
    return;
  }
  auto finite = [](const char* name, double v) {
    if (!std::isfinite(v)) Bad(name, "must be a finite number");
  };
  finite("frame_length_s", frame_length_s);
  finite("frame_step_s", frame_step_s);
  finite("lower_hz", lower_hz);
  finite("upper_hz", upper_hz);
  finite("log_offset", log_offset);
  finite("clip_seconds", clip_seconds);
  if (sample_rate <= 0) Bad("sample_rate", "must be positive (got " + std::to_string(sample_rate) + ")");
  if (sample_rate > 1000000) Bad("sample_rate", "is too large (got " + std::to_string(sample_rate) + ")");
  if (frame_length_s <= 0) Bad("frame_length_s", "must be positive (got " + Num(frame_length_s) + ")");
  if (frame_step_s <= 0) Bad("frame_step_s", "must be positive (got " + Num(frame_step_s) + ")");
  if (frame_length_s * sample_rate > 1 << 20) Bad("frame_length_s", "is too long (got " + Num(frame_length_s) + ")");
  if (frame_length() < 1) Bad("frame_length_s", "is shorter than one sample (got " + Num(frame_length_s) + ")");
  if (frame_step() < 1) Bad("frame_step_s", "is shorter than one sample (got " + Num(frame_step_s) + ")");
  if (frame_step() > frame_length())
    Bad("frame_step_s", "(" + Num(frame_step_s) + ") must not exceed frame_length_s (" + Num(frame_length_s) + ")");
  if (fft_length < 0) Bad("fft_length", "must be positive, or 0 for automatic (got " + std::to_string(fft_length) + ")");
  if (fft_length > 0 && fft_length < frame_length())
    Bad("fft_length", "(" + std::to_string(fft_length) + ") must be >= the frame length (" +
                          std::to_string(frame_length()) + " samples)");
  if (fft_length > 1 << 22) Bad("fft_length", "is too large (got " + std::to_string(fft_length) + ")");
  if (fft_size() % 2 != 0 || fft_size() < 2) Bad("fft_length", "must be even (got " + std::to_string(fft_size()) + ")");
  if (!IsKnownWindow(window)) Bad("window", "'" + window + "' is unknown (expected hann, hamming or none)");
  if (num_mel_bins < 1) Bad("num_mel_bins", "must be at least 1 (got " + std::to_string(num_mel_bins) + ")");
  if (num_mel_bins > 4096) Bad("num_mel_bins", "is too large (got " + std::to_string(num_mel_bins) + ")");
  if (lower_hz < 0) Bad("lower_hz", "must be >= 0 (got " + Num(lower_hz) + ")");
  if (lower_hz >= upper_hz) Bad("lower_hz", "(" + Num(lower_hz) + ") must be below upper_hz (" + Num(upper_hz) + ")");
  if (upper_hz > sample_rate / 2.0)
    Bad("upper_hz", "(" + Num(upper_hz) + ") must be <= sample_rate/2 (" + Num(sample_rate / 2.0) + ")");
  if (log_offset <= 0) Bad("log_offset", "must be positive (got " + Num(log_offset) + ")");
  if (mfcc < 0) Bad("mfcc", "must be >= 0 (got " + std::to_string(mfcc) + ")");
  if (mfcc > num_mel_bins)
    Bad("mfcc", "(" + std::to_string(mfcc) + ") must not exceed num_mel_bins (" + std::to_string(num_mel_bins) + ")");
  if (clip_seconds <= 0) Bad("clip_seconds", "must be positive (got " + Num(clip_seconds) + ")");
  if (clip_seconds * sample_rate > 1e8) Bad("clip_seconds", "is too long (got " + Num(clip_seconds) + ")");
  if (window_samples() < frame_length())
    Bad("clip_seconds", "(" + Num(clip_seconds) + ") is shorter than one frame (" + Num(frame_length_s) + " s)");
}

// The micro front end: its own settings, plus the rate and the model window.
void FeatureOptions::ValidateMicro() const {
  if (!std::isfinite(clip_seconds)) Bad("clip_seconds", "must be a finite number");
  micro.Validate(sample_rate);
  if (clip_seconds <= 0) Bad("clip_seconds", "must be positive (got " + Num(clip_seconds) + ")");
  if (clip_seconds * sample_rate > 1e8) Bad("clip_seconds", "is too long (got " + Num(clip_seconds) + ")");
  if (window_samples() < frame_length())
    Bad("clip_seconds", "(" + Num(clip_seconds) + ") is shorter than one window (" +
                            std::to_string(micro.window.size_ms) + " ms)");
}

std::string FeatureOptions::Key() const {
  std::ostringstream s;
  if (is_micro()) {
    s << "features-v1;frontend=micro;sample_rate=" << sample_rate << ";clip_samples=" << window_samples() << ";"
      << micro.Key();
    return s.str();
  }
  s << "features-v1"
    << ";sample_rate=" << sample_rate << ";frame_length=" << frame_length() << ";frame_step=" << frame_step()
    << ";fft_length=" << fft_size() << ";window=" << window << ";num_mel_bins=" << num_mel_bins
    << ";lower_hz=" << Num(lower_hz) << ";upper_hz=" << Num(upper_hz) << ";log_offset=" << Num(log_offset)
    << ";mfcc=" << mfcc << ";clip_samples=" << window_samples() << ";impl=" << FftImplTag();
  return s.str();
}

std::string FeatureOptions::ToString() const {
  std::ostringstream s;
  if (is_micro()) {
    s << sample_rate << " Hz, " << micro.ToString() << ", int8 dequantized, " << Num(clip_seconds) << " s window -> "
      << num_frames(window_samples()) << "x" << num_features();
    return s.str();
  }
  s << sample_rate << " Hz, frame " << frame_length() << " (" << Num(frame_length_s * 1000) << " ms), step "
    << frame_step() << " (" << Num(frame_step_s * 1000) << " ms), fft " << fft_size() << ", " << window << ", "
    << num_mel_bins << " mel " << Num(lower_hz) << "-" << Num(upper_hz) << " Hz, log(x+" << Num(log_offset) << ")";
  if (mfcc > 0) s << ", " << mfcc << " MFCCs";
  s << ", " << Num(clip_seconds) << " s window -> " << num_frames(window_samples()) << "x" << num_features();
  return s.str();
}

}  // namespace kws
