// Helpers for the data tests: synthetic dataset trees in a temp folder.
#pragma once
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace kws_test {
namespace fs = std::filesystem;

// Removes every folder made by TempDir when the test program exits.
struct TempDirCleaner {
  std::vector<fs::path> dirs;
  ~TempDirCleaner() {
    std::error_code ec;
    for (const auto& d : dirs) fs::remove_all(d, ec);
  }
};
inline TempDirCleaner& Cleaner() {
  static TempDirCleaner c;
  return c;
}

// A fresh, empty temp folder unique to this process and `name`.
inline fs::path TempDir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("kws_data_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  Cleaner().dirs.push_back(d);
  return d;
}

// 16-bit PCM WAV bytes, written by hand (independent of the audio module).
inline std::string WavBytes(const std::vector<float>& x, int rate, int channels = 1) {
  auto u32 = [](std::string& s, uint32_t v) { for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 255); };
  auto u16 = [](std::string& s, uint16_t v) { s += char(v & 255); s += char(v >> 8); };
  const uint32_t data_bytes = uint32_t(x.size() * 2 * channels);
  std::string s = "RIFF";
  u32(s, 36 + data_bytes);
  s += "WAVEfmt ";
  u32(s, 16);
  u16(s, 1);
  u16(s, uint16_t(channels));
  u32(s, uint32_t(rate));
  u32(s, uint32_t(rate * 2 * channels));
  u16(s, uint16_t(2 * channels));
  u16(s, 16);
  s += "data";
  u32(s, data_bytes);
  for (float v : x) {
    int q = int(std::lround(std::max(-1.0f, std::min(1.0f, v)) * 32767.0f));
    for (int c = 0; c < channels; ++c) u16(s, uint16_t(int16_t(q)));
  }
  return s;
}

inline void WriteBytes(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// A tiny network on 8 mel bins, one epoch of batch 8 with a 25 % validation carve-out: the start of
// the configs of the tests that train on folders written by WriteClip (append sections as needed).
inline const std::string kTinyTrainToml = R"(
[features]
num_mel_bins = 8
[[model.layers]]
type = "conv2d"
filters = 2
kernel = [3, 3]
strides = [2, 2]
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"
[train]
epochs = 1
batch_size = 8
validation = 0.25
)";

// A tone whose frequency/phase depend on `seed`, so every clip has distinct bytes.
inline std::vector<float> Tone(int seed, int n, float amp = 0.3f) {
  std::vector<float> x(static_cast<size_t>(n));
  const double f = 200.0 + 37.0 * seed;
  for (int i = 0; i < n; ++i) x[size_t(i)] = amp * float(std::sin(2 * M_PI * f * i / 16000.0 + 0.1 * seed));
  return x;
}

inline void WriteClip(const fs::path& p, int seed, int n = 16000, int rate = 16000) {
  WriteBytes(p, WavBytes(Tone(seed, n), rate));
}

}  // namespace kws_test
