// Raw s16le mono PCM from a FILE* (stdin or a file), for streaming.
#include <cerrno>
#include <cstring>

#include "audio/audio.h"
#include "util/error.h"

namespace kws {

RawPcmReader::RawPcmReader(std::FILE* f, std::string name) : f_(f), name_(std::move(name)) {
  if (!f_) throw UsageError(name_ + ": no input stream");
}

size_t RawPcmReader::Read(float* out, size_t max_samples) {
  if (eof_ || max_samples == 0) return 0;
  // buf_ may hold one byte left over from a previous short read.
  const size_t carry = buf_.size();
  buf_.resize(max_samples * 2);
  size_t got = carry;
  while (got < buf_.size()) {
    size_t k = std::fread(buf_.data() + got, 1, buf_.size() - got, f_);
    got += k;
    if (k == 0) {
      if (std::ferror(f_)) {
        if (errno == EINTR) {
          std::clearerr(f_);
          continue;
        }
        throw BadInput(name_ + ": read error (" + std::strerror(errno) + ")");
      }
      eof_ = true;
      break;
    }
    if (got % 2 == 0) break;  // deliver what we have; don't wait for a full buffer
  }
  const size_t n = got / 2;
  for (size_t i = 0; i < n; ++i) {
    const int16_t v = int16_t(uint16_t(buf_[2 * i]) | uint16_t(buf_[2 * i + 1]) << 8);
    out[i] = float(v) * (1.0f / 32768.0f);
  }
  if (got % 2) {
    if (eof_) {
      ++dropped_;  // the stream stopped mid-sample
      buf_.clear();
    } else {
      buf_[0] = buf_[got - 1];
      buf_.resize(1);
    }
  } else {
    buf_.clear();
  }
  return n;
}

}  // namespace kws
