#include "audio/riff.h"

#include <cstring>

namespace kws::audio_internal {

RiffCheck CheckRiff(const ReadAt& read_at, int64_t file_size) {
  RiffCheck r;
  uint8_t head[12];
  size_t got = read_at(0, head, sizeof head);
  if (got < 4 || std::memcmp(head, "RIFF", 4) != 0) return r;  // not RIFF: libsndfile decides
  if (got < 12) {
    r.is_wav = true;
    r.problem = "truncated WAV header (" + std::to_string(file_size) + " of at least 44 bytes)";
    return r;
  }
  if (std::memcmp(head + 8, "WAVE", 4) != 0) return r;  // RIFF but not WAVE (e.g. AVI): not ours
  r.is_wav = true;

  int64_t off = 12;
  int block_align = 0;
  bool have_fmt = false;
  for (;;) {
    uint8_t ch[8];
    if (off >= file_size) {
      r.problem = have_fmt ? "truncated WAV header (no data chunk)" : "truncated WAV header (no fmt chunk)";
      return r;
    }
    if (read_at(off, ch, 8) < 8) {
      r.problem = "truncated WAV header (chunk header cut at byte " + std::to_string(off) + ")";
      return r;
    }
    const uint32_t size = Le32(ch + 4);
    const int64_t body = off + 8;
    if (std::memcmp(ch, "fmt ", 4) == 0) {
      uint8_t fmt[16];
      if (size < 16 || read_at(body, fmt, 16) < 16) {
        r.problem = "truncated WAV header (fmt chunk cut short)";
        return r;
      }
      block_align = Le16(fmt + 12);
      have_fmt = true;
    } else if (std::memcmp(ch, "data", 4) == 0) {
      if (!have_fmt) {
        r.problem = "malformed WAV header (data chunk before fmt chunk)";
        return r;
      }
      const int64_t available = file_size - body;
      // 0xFFFFFFFF (and 0 with bytes after it) are "unknown length" markers
      // written by streaming encoders; libsndfile then uses the file size.
      if (size == 0xFFFFFFFFu || (size == 0 && available > 0)) return r;
      if (block_align > 0) {
        r.declared_frames = int64_t(size) / block_align;
        r.present_frames = (available < int64_t(size) ? available : int64_t(size)) / block_align;
      }
      if (int64_t(size) > available) {
        if (r.declared_frames >= 0)
          r.problem = "truncated (header says " + std::to_string(r.declared_frames) + " frames, " +
                      std::to_string(r.present_frames) + " present)";
        else
          r.problem = "truncated (data chunk says " + std::to_string(size) + " bytes, " + std::to_string(available) +
                      " present)";
      }
      return r;
    }
    off = body + int64_t(size) + (size & 1);  // chunks are padded to an even size
  }
}

}  // namespace kws::audio_internal
