#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

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
}

std::string AugmentOptions::ToString() const {
  std::ostringstream s;
  s << "shift_ms=" << shift_ms << " background_prob=" << background_prob << " background_volume=" << background_volume
    << " silence_volume=" << silence_volume;
  return s.str();
}

AugmentInfo Augment(const AugmentOptions& opt, const BackgroundNoise* noise, int sample_rate, Rng& rng,
                    std::vector<float>& x, bool is_silence) {
  opt.Validate();
  AugmentInfo info;
  const int n = int(x.size());
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
  const double gain = rng.Uniform() * (is_silence ? opt.silence_volume : opt.background_volume);
  if (mix && noise && !noise->empty() && gain > 0) {
    if (noise->sample_rate() != sample_rate)
      throw InternalError("Augment: background noise is at " + std::to_string(noise->sample_rate()) + " Hz, clip at " +
                          std::to_string(sample_rate) + " Hz");
    std::vector<float> slice(static_cast<size_t>(n));
    noise->Slice(rng, slice.data(), n);
    for (int i = 0; i < n; ++i) x[size_t(i)] += float(gain) * slice[size_t(i)];
    info.mixed = true;
    info.gain = float(gain);
  }
  // 3. Clip.
  for (float& v : x) {
    if (v > 1.0f) { v = 1.0f; ++info.clipped; }
    else if (v < -1.0f) { v = -1.0f; ++info.clipped; }
  }
  return info;
}

}  // namespace kws
