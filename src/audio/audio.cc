// Reading audio: libsndfile (through its virtual I/O, so files and memory
// buffers share one decoder), strict WAV container checks, down-mix, resample.
#include "audio/audio.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "audio/audio_internal.h"
#include "audio/riff.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws {
namespace {

namespace fs = std::filesystem;
using audio_internal::CheckFinite;
using audio_internal::CheckInfo;
using audio_internal::CheckPath;
using audio_internal::CheckReadEnd;
using audio_internal::CheckRiff;
using audio_internal::DownMix;
using audio_internal::RiffCheck;

struct MemFile {
  const uint8_t* data;
  sf_count_t size;
  sf_count_t pos = 0;
};

sf_count_t VLen(void* u) { return static_cast<MemFile*>(u)->size; }
sf_count_t VSeek(sf_count_t off, int whence, void* u) {
  auto* m = static_cast<MemFile*>(u);
  sf_count_t p = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off : m->size + off;
  m->pos = std::clamp<sf_count_t>(p, 0, m->size);
  return m->pos;
}
sf_count_t VRead(void* ptr, sf_count_t n, void* u) {
  auto* m = static_cast<MemFile*>(u);
  sf_count_t k = std::max<sf_count_t>(0, std::min(n, m->size - m->pos));
  if (k > 0) std::memcpy(ptr, m->data + m->pos, size_t(k));
  m->pos += k;
  return k;
}
sf_count_t VWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t VTell(void* u) { return static_cast<MemFile*>(u)->pos; }

std::string FormatName(int format) {
  SF_FORMAT_INFO major{}, sub{};
  major.format = format & SF_FORMAT_TYPEMASK;
  sub.format = format & SF_FORMAT_SUBMASK;
  std::string s;
  s = sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.extension ? major.extension
                                                                                               : "unknown";
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name) s += std::string(" ") + sub.name;
  return s;
}

void ThrowIfRiffProblem(const std::string& name, const RiffCheck& rc) {
  if (!rc.problem.empty()) throw BadInput(name + ": " + rc.problem);
}

class SndHandle {
 public:
  SndHandle(const std::string& name, MemFile* mem) : name_(name) {
    SF_VIRTUAL_IO io{VLen, VSeek, VRead, VWrite, VTell};
    f_ = sf_open_virtual(&io, SFM_READ, &info_, mem);
    if (!f_) throw BadInput(name + ": not an audio file (libsndfile: " + sf_strerror(nullptr) + ")");
  }
  ~SndHandle() {
    if (f_) sf_close(f_);
  }
  SNDFILE* get() { return f_; }
  const SF_INFO& info() const { return info_; }

 private:
  std::string name_;
  SF_INFO info_{};
  SNDFILE* f_ = nullptr;
};

}  // namespace

// Missing file / directory / empty checks shared by ProbeAudio, ReadAudio and AudioFileReader.
int64_t audio_internal::CheckPath(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw BadInput(path + ": no such file");
  if (fs::is_directory(st)) throw BadInput(path + ": is a directory, not an audio file");
  if (!fs::is_regular_file(st)) throw BadInput(path + ": not a regular file");
  int64_t size = int64_t(fs::file_size(path, ec));
  if (ec) throw BadInput(path + ": cannot read (" + ec.message() + ")");
  if (size == 0) throw BadInput(path + ": empty file (0 bytes), not an audio file");
  return size;
}

SNDFILE* audio_internal::OpenChecked(const std::string& path, SF_INFO* info) {
  const int64_t size = CheckPath(path);
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw BadInput(path + ": cannot open (" + std::strerror(errno) + ")");
    auto read_at = [&](int64_t off, void* buf, size_t n) -> size_t {
      in.clear();
      in.seekg(off);
      in.read(static_cast<char*>(buf), std::streamsize(n));
      return size_t(in.gcount());
    };
    ThrowIfRiffProblem(path, CheckRiff(read_at, size));
  }
  // libsndfile opens the file itself and reads it on demand (headers only here).
  *info = SF_INFO{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, info);
  if (!f) throw BadInput(path + ": not an audio file (libsndfile: " + sf_strerror(nullptr) + ")");
  try {
    CheckInfo(path, *info);
  } catch (...) {
    sf_close(f);
    throw;
  }
  return f;
}

void audio_internal::CheckInfo(const std::string& name, const SF_INFO& in) {
  if (in.channels <= 0) throw BadInput(name + ": invalid channel count " + std::to_string(in.channels));
  if (in.samplerate <= 0) throw BadInput(name + ": invalid sample rate " + std::to_string(in.samplerate));
  if (in.frames <= 0) throw BadInput(name + ": contains zero samples");
}

AudioInfo audio_internal::ToInfo(const SF_INFO& in) {
  AudioInfo a;
  a.sample_rate = in.samplerate;
  a.channels = in.channels;
  a.frames = in.frames;
  a.format = FormatName(in.format);
  return a;
}

void audio_internal::DownMix(const float* in, size_t frames, int ch, float* out) {
  if (ch == 1) {
    if (out != in) std::memcpy(out, in, frames * sizeof(float));
    return;
  }
  const float inv = 1.0f / float(ch);
  for (size_t i = 0; i < frames; ++i) {
    float s = 0;
    for (int c = 0; c < ch; ++c) s += in[i * size_t(ch) + size_t(c)];
    out[i] = s * inv;
  }
}

void audio_internal::CheckFinite(const std::string& name, const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) throw BadInput(name + ": contains NaN or infinite samples");
}

void audio_internal::CheckReadEnd(const std::string& name, SNDFILE* f, int64_t read_frames, int64_t declared) {
  if (sf_error(f) != SF_ERR_NO_ERROR) throw BadInput(name + ": unreadable (libsndfile: " + sf_strerror(f) + ")");
  if (read_frames < declared)
    throw BadInput(name + ": truncated (header says " + std::to_string(declared) + " frames, " +
                   std::to_string(read_frames) + " present)");
}

AudioInfo ProbeAudio(const std::string& path) {
  SF_INFO info{};
  sf_close(audio_internal::OpenChecked(path, &info));
  return audio_internal::ToInfo(info);
}

Audio DecodeAudio(const std::string& name, const void* data, size_t size, int target_rate) {
  if (size == 0) throw BadInput(name + ": empty file (0 bytes), not an audio file");
  const auto* bytes = static_cast<const uint8_t*>(data);
  auto read_at = [&](int64_t off, void* buf, size_t n) -> size_t {
    if (off < 0 || size_t(off) >= size) return 0;
    size_t k = std::min(n, size - size_t(off));
    std::memcpy(buf, bytes + off, k);
    return k;
  };
  ThrowIfRiffProblem(name, CheckRiff(read_at, int64_t(size)));

  MemFile mem{bytes, sf_count_t(size)};
  SndHandle h(name, &mem);
  const SF_INFO& info = h.info();
  CheckInfo(name, info);
  const int ch = info.channels;
  if (info.frames > (int64_t(1) << 28))  // ~4.6 h at 16 kHz: not a clip; also bounds memory on corrupt headers
    throw BadInput(name + ": too long (" + std::to_string(info.frames) + " frames)");

  // Read in blocks: the header's frame count is only a claim.
  std::vector<float> mono;
  mono.reserve(size_t(std::min<sf_count_t>(info.frames, sf_count_t(1) << 22)));  // grows if the claim is true
  std::vector<float> block(size_t(4096) * size_t(ch));
  sf_count_t total = 0;
  for (;;) {
    sf_count_t got = sf_readf_float(h.get(), block.data(), 4096);
    if (got <= 0) break;
    total += got;
    const size_t at = mono.size();
    mono.resize(at + size_t(got));
    DownMix(block.data(), size_t(got), ch, mono.data() + at);
    if (total > info.frames) break;
  }
  CheckReadEnd(name, h.get(), total, info.frames);
  if (mono.empty()) throw BadInput(name + ": contains zero samples");
  CheckFinite(name, mono.data(), mono.size());

  Audio a;
  a.sample_rate = info.samplerate;
  a.samples = std::move(mono);
  if (target_rate > 0 && target_rate != a.sample_rate) {
    a.samples = Resample(a.samples, a.sample_rate, target_rate);
    a.sample_rate = target_rate;
  }
  return a;
}

Audio ReadAudio(const std::string& path, int target_rate) {
  CheckPath(path);
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  return DecodeAudio(path, bytes.data(), bytes.size(), target_rate);
}

}  // namespace kws
