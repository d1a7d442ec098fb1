// Strict RIFF/WAVE container check, done before libsndfile decodes a file.
//
// libsndfile silently shortens a WAV whose data chunk is cut off (it trusts
// the file size, not the header), so a truncated clip would be read as a
// shorter one. kws wants such files reported, so the chunk layout is walked
// here first: "RIFF" <size> "WAVE", then <id><size> chunks up to "data" (sizes big-endian in the
// "RIFX" form); a LIST chunk's sub-chunks must tile it (libsndfile can loop on ones that do not).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace kws::audio_internal {

// Little-endian fields of RIFF headers.
inline uint32_t Le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint16_t Le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }

// Reads up to n bytes at offset into buf; returns how many were read.
using ReadAt = std::function<size_t(int64_t offset, void* buf, size_t n)>;

struct RiffCheck {
  bool is_wav = false;            // starts with "RIFF....WAVE"
  std::string problem;            // empty = fine, else "truncated WAV header (...)" etc.
  int64_t declared_frames = -1;   // from the data chunk size / block align
  int64_t present_frames = -1;    // what the file actually holds
  bool unknown_length = false;    // the data size is a "streamed, length unknown" placeholder
  int64_t data_size_at = -1;      // with unknown_length: the offset of the data chunk's size field
  uint32_t data_size = 0;         // ... and the bytes really there (to the end of the file, capped at 4 GB - 1)
};

// The data-chunk sizes streaming writers put in place of a length they do not know yet: 0,
// 0x7FFFFFFF, 0x80000000 and 0xFFFFFFFF. A data chunk whose size is one of these and does not
// match the bytes present runs to the end of the file; any other size larger than the file is a
// truncation.
bool IsUnknownLengthMarker(uint32_t size);

// Walks the chunks of a file of `file_size` bytes. Non-RIFF files give is_wav=false.
RiffCheck CheckRiff(const ReadAt& read_at, int64_t file_size);

}  // namespace kws::audio_internal
