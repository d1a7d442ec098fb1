// Reading audio: libsndfile (through its virtual I/O, so files and memory
// buffers share one decoder), strict WAV container checks, down-mix, resample.
#include "audio/audio.h"

#include <fcntl.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "audio/audio_internal.h"
#include "audio/riff.h"
#include "util/bounded_read.h"
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

using audio_internal::VirtualSource;

sf_count_t VLen(void* u) { return static_cast<VirtualSource*>(u)->size; }
sf_count_t VSeek(sf_count_t off, int whence, void* u) {
  auto* m = static_cast<VirtualSource*>(u);
  sf_count_t p = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off : m->size + off;
  m->pos = std::clamp<sf_count_t>(p, 0, m->size);
  return m->pos;
}
sf_count_t VRead(void* ptr, sf_count_t n, void* u) {
  auto* m = static_cast<VirtualSource*>(u);
  const sf_count_t k = sf_count_t(m->ReadAt(m->pos, ptr, size_t(std::max<sf_count_t>(0, n))));
  m->pos += k;
  return k;
}
sf_count_t VWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t VTell(void* u) { return static_cast<VirtualSource*>(u)->pos; }

SNDFILE* OpenVirtual(const std::string& name, VirtualSource* source, SF_INFO* info) {
  SF_VIRTUAL_IO io{VLen, VSeek, VRead, VWrite, VTell};
  *info = SF_INFO{};
  SNDFILE* f = sf_open_virtual(&io, SFM_READ, info, source);
  if (!f) throw BadInput(name + ": not an audio file (libsndfile: " + sf_strerror(nullptr) + ")");
  return f;
}

// The riff check's placeholder replacement, if any, goes into the source.
void SetPatch(const RiffCheck& rc, VirtualSource& s) {
  if (!rc.unknown_length) return;
  s.patch_at = rc.data_size_at;
  for (int k = 0; k < 4; ++k) s.patch[k] = uint8_t((rc.data_size >> (8 * k)) & 0xFF);
}

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
  SndHandle(const std::string& name, VirtualSource* source) : name_(name) { f_ = OpenVirtual(name, source, &info_); }
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

audio_internal::VirtualSource::~VirtualSource() {
  if (fd >= 0) ::close(fd);
}

size_t audio_internal::VirtualSource::ReadAt(int64_t offset, void* buf, size_t n) {
  if (offset < 0 || offset >= size) return 0;
  n = size_t(std::min<int64_t>(int64_t(n), size - offset));
  auto* out = static_cast<uint8_t*>(buf);
  size_t got = 0;
  if (mem) {
    std::memcpy(out, mem + offset, n);
    got = n;
  } else {
    while (got < n) {
      const ssize_t k = ::pread(fd, out + got, n - got, off_t(offset + int64_t(got)));
      if (k == 0) break;
      if (k < 0) {
        if (errno == EINTR) continue;
        break;  // libsndfile sees a short read: a truncation error naming the file
      }
      got += size_t(k);
    }
  }
  for (int64_t i = std::max(patch_at, offset); patch_at >= 0 && i < std::min(patch_at + 4, offset + int64_t(got)); ++i)
    out[i - offset] = patch[i - patch_at];
  return got;
}

// Missing file / directory / special file / empty checks shared by ProbeAudio, ReadAudio and AudioFileReader.
int64_t audio_internal::CheckPath(const std::string& path) {
  const int64_t size = RegularFileSize(path, "audio file");
  if (size == 0) throw BadInput(path + ": empty file (0 bytes), not an audio file");
  return size;
}

SNDFILE* audio_internal::OpenChecked(const std::string& path, SF_INFO* info, std::unique_ptr<VirtualSource>* source) {
  CheckPath(path);
  auto src = std::make_unique<VirtualSource>();
  src->fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st{};
  if (src->fd < 0 || ::fstat(src->fd, &st) != 0) throw BadInput(path + ": cannot open (" + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw BadInput(path + ": not a regular file");
  src->size = int64_t(st.st_size);
  auto read_at = [&](int64_t off, void* buf, size_t n) { return src->ReadAt(off, buf, n); };
  const RiffCheck rc = CheckRiff(read_at, src->size);
  ThrowIfRiffProblem(path, rc);
  SetPatch(rc, *src);
  // libsndfile reads the file on demand through the source (headers only here).
  SNDFILE* f = OpenVirtual(path, src.get(), info);
  *source = std::move(src);
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
  // Resampling multiplies the length by target/rate: a header claiming 1 Hz would turn a small file into
  // billions of samples. Real recordings are 1 kHz or more (and at most a few hundred kHz).
  if (in.samplerate < kMinSampleRate || in.samplerate > kMaxSampleRate)
    throw BadInput(name + ": unsupported sample rate " + std::to_string(in.samplerate) + " Hz (kws reads " +
                   std::to_string(kMinSampleRate) + "-" + std::to_string(kMaxSampleRate) + " Hz)");
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
  std::unique_ptr<VirtualSource> source;
  sf_close(audio_internal::OpenChecked(path, &info, &source));
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
  const RiffCheck rc = CheckRiff(read_at, int64_t(size));
  ThrowIfRiffProblem(name, rc);

  VirtualSource mem;
  mem.mem = bytes;
  mem.size = int64_t(size);
  SetPatch(rc, mem);
  SndHandle h(name, &mem);
  const SF_INFO& info = h.info();
  CheckInfo(name, info);
  const int ch = info.channels;
  // Bounds memory on long files and corrupt headers alike: as many frames as KWS_MAX_CLIP_MB of
  // 16-bit mono audio (the default: ~17 min at 16 kHz); the streaming reader has no such cap.
  const int64_t max_frames = std::min<int64_t>(int64_t(1) << 28, Limits().clip_bytes / 2);
  if (info.frames > max_frames)
    throw BadInput(name + ": too long to read whole (" + std::to_string(info.frames) + " frames, the limit is " +
                   std::to_string(max_frames) + "; raise it with " + LimitVariable("audio file") + "=MB)");

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
  const std::string bytes = ReadFileLimited(path, Limits().clip_bytes, "audio file");
  return DecodeAudio(path, bytes.data(), bytes.size(), target_rate);
}

}  // namespace kws
