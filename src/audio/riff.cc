#include "audio/riff.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace kws::audio_internal {

bool IsUnknownLengthMarker(uint32_t size) {
  // 0: a header written before any data; 0x7FFFFFFF / 0x80000000: arecord and other ALSA tools
  // writing to a pipe (the largest signed / the first unsigned 2 GB); 0xFFFFFFFF: the largest
  // unsigned size (ffmpeg, libsndfile and others when the output cannot seek).
  return size == 0 || size == 0x7FFFFFFFu || size == 0x80000000u || size == 0xFFFFFFFFu;
}

namespace {

// A LIST chunk before the data: its sub-chunks must tile it. libsndfile walks them itself and,
// given a sub-chunk header cut by the LIST's end or a size running past it, can loop for minutes
// on a 64-byte file (found by fuzz_wav_reader), so such a header is refused here first.
uint32_t U32(const uint8_t* p, bool big) {
  return big ? uint32_t(p[3]) | uint32_t(p[2]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[0]) << 24 : Le32(p);
}
uint16_t U16(const uint8_t* p, bool big) { return big ? uint16_t(p[1] | p[0] << 8) : Le16(p); }

std::string CheckList(const ReadAt& read_at, int64_t body, uint32_t size, int64_t file_size, bool big) {
  const int64_t end = body + int64_t(size);
  if (end > file_size)
    return "truncated WAV header (LIST chunk of " + std::to_string(size) + " bytes, " +
           std::to_string(file_size - body) + " left in the file)";
  if (size < 4) return "malformed WAV header (LIST chunk of " + std::to_string(size) + " bytes)";
  for (int64_t sub = body + 4; sub < end;) {
    uint8_t h[8];
    if (end - sub < 8 || read_at(sub, h, 8) < 8)
      return "malformed WAV header (LIST chunk: sub-chunk header cut at byte " + std::to_string(sub) + ")";
    const uint32_t n = U32(h + 4, big);
    if (int64_t(n) > end - sub - 8)
      return "malformed WAV header (LIST chunk: sub-chunk of " + std::to_string(n) + " bytes at byte " +
             std::to_string(sub) + " runs past the list)";
    sub += 8 + int64_t(n) + (n & 1);
  }
  return "";
}

}  // namespace

RiffCheck CheckRiff(const ReadAt& read_at, int64_t file_size) {
  RiffCheck r;
  uint8_t head[12];
  size_t got = read_at(0, head, sizeof head);
  // "RIFX" is the big-endian form (sizes and fields big-endian); libsndfile reads both.
  const bool big = got >= 4 && std::memcmp(head, "RIFX", 4) == 0;
  if (got < 4 || (!big && std::memcmp(head, "RIFF", 4) != 0)) return r;  // not RIFF: libsndfile decides
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
    const uint32_t size = U32(ch + 4, big);
    const int64_t body = off + 8;
    if (std::memcmp(ch, "fmt ", 4) == 0) {
      uint8_t fmt[16];
      if (size < 16 || read_at(body, fmt, 16) < 16) {
        r.problem = "truncated WAV header (fmt chunk cut short)";
        return r;
      }
      block_align = U16(fmt + 12, big);
      have_fmt = true;
    } else if (std::memcmp(ch, "LIST", 4) == 0) {
      r.problem = CheckList(read_at, body, size, file_size, big);
      if (!r.problem.empty()) return r;
    } else if (std::memcmp(ch, "data", 4) == 0) {
      if (!have_fmt) {
        r.problem = "malformed WAV header (data chunk before fmt chunk)";
        return r;
      }
      const int64_t available = file_size - body;
      // A recorder writing to a pipe cannot go back to fill in the length, so it writes a
      // placeholder ("streamed, length unknown") and the data runs to the end of the file:
      // the file is then read to its end (as libsndfile does when the size is too large).
      if (!big && IsUnknownLengthMarker(size) && int64_t(size) != available) {
        r.unknown_length = true;
        r.data_size_at = off + 4;
        r.data_size = uint32_t(std::min<int64_t>(available, 0xFFFFFFFFll));
        return r;
      }
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
