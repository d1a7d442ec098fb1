// 16-bit PCM mono WAV writer (atomic: temp file + rename via util/fs).
#include <cmath>
#include <string>

#include "audio/audio.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws {
namespace {

void Put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
void Put16(std::string& s, uint16_t v) {
  s.push_back(char(v & 0xff));
  s.push_back(char(v >> 8));
}

}  // namespace

void WriteWav16(const std::string& path, const std::vector<float>& samples, int sample_rate) {
  if (sample_rate <= 0) throw UsageError(path + ": sample rate must be positive");
  if (samples.size() > (size_t(1) << 30)) throw UsageError(path + ": too many samples for a WAV file");
  const uint32_t data_bytes = uint32_t(samples.size() * 2);
  std::string b;
  b.reserve(44 + data_bytes);
  b += "RIFF";
  Put32(b, 36 + data_bytes);
  b += "WAVEfmt ";
  Put32(b, 16);
  Put16(b, 1);  // PCM
  Put16(b, 1);  // mono
  Put32(b, uint32_t(sample_rate));
  Put32(b, uint32_t(sample_rate) * 2);
  Put16(b, 2);
  Put16(b, 16);
  b += "data";
  Put32(b, data_bytes);
  // Scale by 32768 (the inverse of how readers map int16 to [-1, 1)), round, clip.
  for (float x : samples) {
    double v = std::nearbyint(double(std::isfinite(x) ? x : 0.0f) * 32768.0);
    v = v > 32767.0 ? 32767.0 : v < -32768.0 ? -32768.0 : v;
    Put16(b, uint16_t(int16_t(v)));
  }
  AtomicWriteFile(path, b);
}

}  // namespace kws
