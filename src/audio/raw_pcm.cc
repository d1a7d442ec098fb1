// Raw s16le mono PCM from a FILE* (stdin or a file), for streaming; a leading WAV
// header (arecord's default output) is checked and skipped.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "audio/audio.h"
#include "audio/riff.h"
#include "util/error.h"

namespace kws {

using audio_internal::Le16;
using audio_internal::Le32;

RawPcmReader::RawPcmReader(std::FILE* f, std::string name, int expected_rate)
    : f_(f), name_(std::move(name)), expected_rate_(expected_rate) {
  if (!f_) throw UsageError(name_ + ": no input stream");
}

size_t RawPcmReader::ReadOnce(uint8_t* dst, size_t n) {
  while (true) {
    const size_t k = std::fread(dst, 1, n, f_);
    if (k > 0) return k;
    if (!std::ferror(f_)) {
      eof_ = true;
      return 0;
    }
    if (errno != EINTR) throw BadInput(name_ + ": read error (" + std::strerror(errno) + ")");
    std::clearerr(f_);  // interrupted by a signal: try again
  }
}

size_t RawPcmReader::ReadSome(uint8_t* dst, size_t n) {
  size_t got = 0;
  while (got < n && !eof_) got += ReadOnce(dst + got, n - got);
  return got;
}

void RawPcmReader::SniffWavHeader() {
  uint8_t head[12];
  const size_t got = ReadSome(head, sizeof head);
  if (got < 12 || std::memcmp(head, "RIFF", 4) != 0 || std::memcmp(head + 8, "WAVE", 4) != 0) {
    buf_.assign(head, head + got);  // not a WAV header: these bytes are samples
    return;
  }
  wav_header_ = true;
  bool have_fmt = false;
  std::vector<uint8_t> body;
  while (true) {
    uint8_t ch[8];
    if (ReadSome(ch, 8) < 8) throw BadInput(name_ + ": WAV header ends before its data chunk");
    const uint32_t size = Le32(ch + 4);
    if (std::memcmp(ch, "data", 4) == 0) {
      if (!have_fmt) throw BadInput(name_ + ": WAV data chunk before its fmt chunk");
      return;  // samples follow; the size is ignored (streaming writers put 2 GB or 0 there)
    }
    const size_t padded = size_t(size) + (size & 1);
    if (std::memcmp(ch, "fmt ", 4) == 0) {
      if (size < 16 || size > 4096) throw BadInput(name_ + ": WAV fmt chunk has a bad size (" + std::to_string(size) + ")");
      body.resize(padded);
      if (ReadSome(body.data(), padded) < padded) throw BadInput(name_ + ": WAV header ends inside its fmt chunk");
      uint16_t tag = Le16(&body[0]);
      if (tag == 0xFFFE && size >= 26) tag = Le16(&body[24]);  // WAVE_FORMAT_EXTENSIBLE: the sub-format
      const unsigned channels = Le16(&body[2]), bits = Le16(&body[14]);
      const uint32_t rate = Le32(&body[4]);
      if (tag != 1 || bits != 16)
        throw BadInput(name_ + ": WAV stream is not 16-bit PCM (format " + std::to_string(tag) + ", " +
                       std::to_string(bits) + " bits); send S16_LE");
      if (channels != 1)
        throw BadInput(name_ + ": WAV stream has " + std::to_string(channels) + " channels; send mono (-c 1)");
      if (expected_rate_ > 0 && rate != uint32_t(expected_rate_))
        throw BadInput(name_ + ": WAV stream is " + std::to_string(rate) + " Hz; the model needs " +
                       std::to_string(expected_rate_) + " Hz (record with -r " + std::to_string(expected_rate_) +
                       ", or give a file with --input FILE to have it resampled)");
      have_fmt = true;
      continue;
    }
    // Any other chunk (LIST, fact, ...): skip its body.
    uint8_t skip[512];
    for (size_t left = padded; left > 0;) {
      const size_t k = ReadSome(skip, std::min(left, sizeof skip));
      if (k == 0) throw BadInput(name_ + ": WAV header ends inside a chunk");
      left -= k;
    }
  }
}

size_t RawPcmReader::Read(float* out, size_t max_samples) {
  if (max_samples == 0) return 0;
  if (!sniffed_) {
    sniffed_ = true;
    SniffWavHeader();
  }
  // buf_ holds bytes not yet delivered (an odd byte from a short read, or sniffed samples).
  size_t got = buf_.size();
  const size_t want = max_samples * 2;
  if (got < want && !eof_) {
    buf_.resize(want);
    // Deliver what we have once it is whole samples; don't wait for a full buffer.
    do {
      got += ReadOnce(buf_.data() + got, want - got);
    } while (got < want && got % 2 != 0 && !eof_);
    buf_.resize(got);
  }
  const size_t n = std::min(got / 2, max_samples);
  for (size_t i = 0; i < n; ++i) {
    const int16_t v = int16_t(uint16_t(buf_[2 * i]) | uint16_t(buf_[2 * i + 1]) << 8);
    out[i] = float(v) * (1.0f / 32768.0f);
  }
  buf_.erase(buf_.begin(), buf_.begin() + long(2 * n));
  if (eof_ && buf_.size() == 1) {
    ++dropped_;  // the stream stopped mid-sample
    buf_.clear();
  }
  return n;
}

}  // namespace kws
