#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <soxr.h>

#include "audio/audio.h"
#include "util/error.h"

namespace kws {
namespace fs = std::filesystem;

BackgroundNoise::BackgroundNoise(const Dataset& ds, int sample_rate) : rate_(sample_rate) {
  for (const NoiseFile& n : ds.noise) {
    Audio a = ReadAudio(n.path, sample_rate);
    Add(fs::path(n.path).filename().string(), std::move(a.samples));
  }
}

BackgroundNoise BackgroundNoise::FromFolder(const std::string& dir, int sample_rate) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw BadInput(dir + ": no such folder");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && IsAudioExtension(e.path().filename().string())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  BackgroundNoise b(sample_rate);
  for (const auto& f : files) b.Add(f.filename().string(), ReadAudio(f.string(), sample_rate).samples);
  if (b.empty()) throw BadInput(dir + ": no audio files");
  return b;
}

void BackgroundNoise::Add(std::string name, std::vector<float> samples) {
  if (samples.empty()) return;
  files_.push_back({std::move(name), std::move(samples)});
}

void BackgroundNoise::SliceAt(int file, int64_t offset, float* out, int n) const {
  if (file < 0 || file >= size()) throw InternalError("BackgroundNoise::SliceAt: no file " + std::to_string(file));
  const auto& s = files_[size_t(file)].samples;
  for (int i = 0; i < n; ++i) {
    const int64_t j = offset + i;
    out[i] = (j >= 0 && j < int64_t(s.size())) ? s[size_t(j)] : 0.0f;
  }
}

void BackgroundNoise::Slice(Rng& rng, float* out, int n) const {
  if (empty()) throw InternalError("BackgroundNoise::Slice: no background noise loaded");
  const int f = int(rng.Below(files_.size()));
  const int64_t len = int64_t(files_[size_t(f)].samples.size());
  const int64_t offset = len > n ? int64_t(rng.Below(uint64_t(len - n + 1))) : 0;
  SliceAt(f, offset, out, n);
}

void AugmentOptions::Validate() const {
  auto bad = [](const char* name, double v, const char* want) {
    std::ostringstream s;
    s << "augment: " << name << " = " << v << " (" << want << ")";
    return UsageError(s.str());
  };
  if (!(shift_ms >= 0 && shift_ms <= 1000)) throw bad("shift_ms", shift_ms, "must be in [0, 1000] ms");
  if (!(background_prob >= 0 && background_prob <= 1)) throw bad("background_prob", background_prob, "must be in [0, 1]");
  if (!(background_volume >= 0 && background_volume <= 10))
    throw bad("background_volume", background_volume, "must be in [0, 10]");
  if (!(silence_volume >= 0 && silence_volume <= 10)) throw bad("silence_volume", silence_volume, "must be in [0, 10]");
  if (!(speed_min >= 0.5 && speed_min <= 2)) throw bad("speed_min", speed_min, "must be in [0.5, 2]");
  if (!(speed_max >= speed_min && speed_max <= 2)) throw bad("speed_max", speed_max, "must be in [speed_min, 2]");
  if (!(pitch_min >= 0.5 && pitch_min <= 2)) throw bad("pitch_min", pitch_min, "must be in [0.5, 2]");
  if (!(pitch_max >= pitch_min && pitch_max <= 2)) throw bad("pitch_max", pitch_max, "must be in [pitch_min, 2]");
  if (!(gain_db >= 0 && gain_db <= 40)) throw bad("gain_db", gain_db, "must be in [0, 40] dB");
  if (background_mode != "volume" && background_mode != "snr")
    throw UsageError("augment: background_mode = \"" + background_mode + "\" (must be \"volume\" or \"snr\")");
  if (!(snr_min_db >= -30 && snr_min_db <= 80)) throw bad("snr_min_db", snr_min_db, "must be in [-30, 80] dB");
  if (!(snr_max_db >= snr_min_db && snr_max_db <= 80))
    throw bad("snr_max_db", snr_max_db, "must be in [snr_min_db, 80] dB");
  if (!(time_masks >= 0 && time_masks <= 20)) throw bad("time_masks", time_masks, "must be in [0, 20]");
  if (!(time_mask_frames >= 1 && time_mask_frames <= 1000))
    throw bad("time_mask_frames", time_mask_frames, "must be in [1, 1000]");
  if (!(freq_masks >= 0 && freq_masks <= 20)) throw bad("freq_masks", freq_masks, "must be in [0, 20]");
  if (!(freq_mask_bins >= 1 && freq_mask_bins <= 1000))
    throw bad("freq_mask_bins", freq_mask_bins, "must be in [1, 1000]");
  if (!(quiet_prob >= 0 && quiet_prob <= 1)) throw bad("quiet_prob", quiet_prob, "must be in [0, 1]");
  if (!(quiet_max_db >= 0 && quiet_max_db <= 80)) throw bad("quiet_max_db", quiet_max_db, "must be in [0, 80] dB");
}

std::string AugmentOptions::ToString() const {
  std::ostringstream s;
  s << "shift_ms=" << shift_ms << " background_prob=" << background_prob << " background_volume=" << background_volume
    << " silence_volume=" << silence_volume;
  if (Resamples()) s << " speed=[" << speed_min << ", " << speed_max << "] pitch=[" << pitch_min << ", " << pitch_max << "]";
  if (gain_db > 0) s << " gain_db=" << gain_db;
  if (background_mode == "snr") s << " snr_db=[" << snr_min_db << ", " << snr_max_db << "]";
  if (time_masks > 0) s << " time_masks=" << time_masks << "x" << time_mask_frames;
  if (freq_masks > 0) s << " freq_masks=" << freq_masks << "x" << freq_mask_bins;
  if (quiet_prob > 0) s << " quiet=" << quiet_prob << "x[0, " << quiet_max_db << "] dB";
  return s.str();
}

void ChangeSpeed(std::vector<float>& x, double factor) {
  if (!(factor > 0) || !std::isfinite(factor)) throw InternalError("ChangeSpeed: bad factor");
  if (factor == 1.0 || x.empty()) return;
  const size_t n = x.size();
  // Treat x as recorded at `factor` times the rate and convert back: duration / factor.
  const size_t len = std::max<size_t>(1, size_t(std::llround(double(n) / factor)));
  std::vector<float> y(len, 0.0f);
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_MQ, 0);
  size_t idone = 0, odone = 0;
  soxr_error_t err = soxr_oneshot(factor, 1.0, 1, x.data(), n, &idone, y.data(), len, &odone, &io, &q, nullptr);
  if (err) throw InternalError(std::string("ChangeSpeed: soxr failed: ") + err);
  // Centre of y on the centre of the window.
  const long offset = (long(len) - long(n)) / 2;
  for (size_t i = 0; i < n; ++i) {
    const long j = long(i) + offset;
    x[i] = (j >= 0 && j < long(len)) ? y[size_t(j)] : 0.0f;
  }
}

void AugmentFeatures(const AugmentOptions& opt, const AugmentInfo& info, Rng& rng, float* f, int frames, int bins) {
  if (frames <= 0 || bins <= 0) return;
  const size_t total = size_t(frames) * size_t(bins);
  if (info.pitch != 1.0) {
    // out frame c + u comes from input frame c + u / pitch.
    std::vector<float> in(f, f + total);
    const double c = 0.5 * (frames - 1);
    for (int t = 0; t < frames; ++t) {
      double src = c + (t - c) / info.pitch;
      src = std::clamp(src, 0.0, double(frames - 1));
      const int a = int(std::floor(src));
      const int b = std::min(frames - 1, a + 1);
      const float w = float(src - a);
      for (int k = 0; k < bins; ++k)
        f[size_t(t) * bins + k] = (1 - w) * in[size_t(a) * bins + k] + w * in[size_t(b) * bins + k];
    }
  }
  if (opt.time_masks <= 0 && opt.freq_masks <= 0) return;
  double mean = 0;
  for (size_t i = 0; i < total; ++i) mean += f[i];
  const float fill = float(mean / double(total));
  for (int m = 0; m < opt.time_masks; ++m) {
    const int w = std::min(frames, int(rng.Below(uint64_t(opt.time_mask_frames) + 1)));
    const int t0 = int(rng.Below(uint64_t(frames - w + 1)));
    for (int t = t0; t < t0 + w; ++t) std::fill(f + size_t(t) * bins, f + size_t(t + 1) * bins, fill);
  }
  for (int m = 0; m < opt.freq_masks; ++m) {
    const int w = std::min(bins, int(rng.Below(uint64_t(opt.freq_mask_bins) + 1)));
    const int k0 = int(rng.Below(uint64_t(bins - w + 1)));
    for (int t = 0; t < frames; ++t) std::fill(f + size_t(t) * bins + k0, f + size_t(t) * bins + k0 + w, fill);
  }
}

AugmentInfo Augment(const AugmentOptions& opt, const BackgroundNoise* noise, int sample_rate, Rng& rng,
                    std::vector<float>& x, bool is_silence) {
  opt.Validate();
  AugmentInfo info;
  const int n = int(x.size());
  // 0. Speed and pitch (one resampling by their product), speech gain.
  if (opt.Resamples()) {
    info.speed = opt.speed_min + (opt.speed_max - opt.speed_min) * rng.Uniform();
    info.pitch = opt.pitch_min + (opt.pitch_max - opt.pitch_min) * rng.Uniform();
    ChangeSpeed(x, info.speed * info.pitch);
  }
  if (opt.gain_db > 0) {
    info.gain_db = opt.gain_db * (2 * rng.Uniform() - 1);
    const float g = float(std::pow(10.0, info.gain_db / 20));
    for (float& v : x) v *= g;
  }
  // 1. Time shift: integer in [-max, max], zero padded.
  const int max_shift = int(std::lround(opt.shift_ms * sample_rate / 1000.0));
  if (max_shift > 0) {
    info.shift = int(rng.Below(uint64_t(2 * max_shift + 1))) - max_shift;
    if (info.shift > 0) {
      std::memmove(x.data() + info.shift, x.data(), sizeof(float) * size_t(std::max(0, n - info.shift)));
      std::fill(x.begin(), x.begin() + std::min(n, info.shift), 0.0f);
    } else if (info.shift < 0) {
      const int s = -info.shift;
      std::memmove(x.data(), x.data() + std::min(n, s), sizeof(float) * size_t(std::max(0, n - s)));
      std::fill(x.begin() + std::max(0, n - s), x.end(), 0.0f);
    }
  }
  // 2. Background noise: the draw happens whether or not noise is available.
  const double u = rng.Uniform();
  const bool mix = is_silence || u < opt.background_prob;
  const bool by_snr = opt.background_mode == "snr" && !is_silence;
  double gain = 0;
  if (by_snr) info.snr_db = opt.snr_min_db + (opt.snr_max_db - opt.snr_min_db) * rng.Uniform();
  else gain = rng.Uniform() * (is_silence ? opt.silence_volume : opt.background_volume);
  if (mix && noise && !noise->empty() && (by_snr || gain > 0)) {
    if (noise->sample_rate() != sample_rate)
      throw InternalError("Augment: background noise is at " + std::to_string(noise->sample_rate()) + " Hz, clip at " +
                          std::to_string(sample_rate) + " Hz");
    std::vector<float> slice(static_cast<size_t>(n));
    noise->Slice(rng, slice.data(), n);
    if (by_snr) {
      double ps = 0, pn = 0;
      for (int i = 0; i < n; ++i) {
        ps += double(x[size_t(i)]) * x[size_t(i)];
        pn += double(slice[size_t(i)]) * slice[size_t(i)];
      }
      // A silent clip or silent noise: nothing sensible to scale against, add nothing.
      gain = (ps > 0 && pn > 0) ? std::sqrt(ps / pn) * std::pow(10.0, -info.snr_db / 20) : 0.0;
    }
    for (int i = 0; i < n; ++i) x[size_t(i)] += float(gain) * slice[size_t(i)];
    info.mixed = true;
    info.gain = float(gain);
  }
  // 3. Clip.
  for (float& v : x) {
    if (v > 1.0f) { v = 1.0f; ++info.clipped; }
    else if (v < -1.0f) { v = -1.0f; ++info.clipped; }
  }
  // 3'. A quiet recording: the whole mix attenuated.
  if (opt.quiet_prob > 0 && rng.Uniform() < opt.quiet_prob) {
    info.quiet_db = opt.quiet_max_db * rng.Uniform();
    const float g = float(std::pow(10.0, -info.quiet_db / 20));
    for (float& v : x) v *= g;
  }
  return info;
}

}  // namespace kws

namespace kws {

const std::vector<settings::Setting<AugmentOptions>>& AugmentSettings() {
  using A = AugmentOptions;
  using settings::InRange;
  using settings::IntInRange;
  using settings::Member;
  // The upper end of a range: in [lower, hi].
  auto from = [](double A::*lower, double A::*upper, double hi) {
    return [=](const A& a, const std::string& path) { settings::CheckRange(path, a.*upper, a.*lower, hi); };
  };
  static const std::vector<settings::Setting<A>> s = {
      Member("shift_ms", &A::shift_ms, "max |time shift| (ms)", InRange(0, 1000)),
      Member("background_prob", &A::background_prob, "probability of mixing background noise in", InRange(0, 1)),
      Member("background_volume", &A::background_volume, "noise gain ~ U(0, background_volume)", InRange(0, 10)),
      Member("silence_volume", &A::silence_volume, "noise gain of _silence_ clips ~ U(0, silence_volume)",
             InRange(0, 10)),
      Member("speed_min", &A::speed_min, "speed factor range, lower end (1 = off)", InRange(0.5, 2)),
      Member("speed_max", &A::speed_max, "speed factor range, upper end").Also(from(&A::speed_min, &A::speed_max, 2)),
      Member("pitch_min", &A::pitch_min, "pitch factor range, lower end (1 = off)", InRange(0.5, 2)),
      Member("pitch_max", &A::pitch_max, "pitch factor range, upper end").Also(from(&A::pitch_min, &A::pitch_max, 2)),
      Member("gain_db", &A::gain_db, "speech gain ~ U(-gain_db, gain_db) dB (0 = off)", InRange(0, 40)),
      Member("background_mode", &A::background_mode, "\"volume\" (TF) or \"snr\"", settings::OneOf({"volume", "snr"})),
      Member("snr_min_db", &A::snr_min_db, "background_mode = \"snr\": SNR range, lower end (dB)", InRange(-30, 80)),
      Member("snr_max_db", &A::snr_max_db, "SNR range, upper end (dB)").Also(from(&A::snr_min_db, &A::snr_max_db, 80)),
      Member("time_masks", &A::time_masks, "SpecAugment time masks per clip", IntInRange(0, 20)),
      Member("time_mask_frames", &A::time_mask_frames, "max width of one time mask (frames)", IntInRange(1, 1000)),
      Member("freq_masks", &A::freq_masks, "SpecAugment frequency masks per clip", IntInRange(0, 20)),
      Member("freq_mask_bins", &A::freq_mask_bins, "max width of one frequency mask (bins)", IntInRange(1, 1000)),
      Member("quiet_prob", &A::quiet_prob, "probability of a quiet recording (0 = off)", InRange(0, 1)),
      Member("quiet_max_db", &A::quiet_max_db, "its attenuation ~ U(0, quiet_max_db) dB", InRange(0, 80)),
  };
  return s;
}

}  // namespace kws
