// Pieces shared by the whole-file reader (audio.cc: ReadAudio/DecodeAudio/
// ProbeAudio), the streaming reader (audio_stream.cc: AudioFileReader) and the
// resampler (resample.cc), so that every path checks files, names errors,
// down-mixes and resamples the same way. Not part of the public API.
#pragma once
#include <sndfile.h>
#include <soxr.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "audio/audio.h"

namespace kws::audio_internal {

// Missing file / directory / not regular / empty: BadInput naming `path`.
// Returns the file size in bytes.
int64_t CheckPath(const std::string& path);

// What libsndfile reads through its virtual I/O: a memory buffer or an open regular
// file, with a WAV data chunk's "length unknown" size field (audio/riff.h) replaced by the
// length really present, so that every reader sees the same, real length.
struct VirtualSource {
  const uint8_t* mem = nullptr;  // memory, or
  int fd = -1;                   // an open file (closed by the destructor)
  int64_t size = 0, pos = 0;
  int64_t patch_at = -1;         // the 4 bytes at patch_at read as `patch` (little-endian)
  uint8_t patch[4] = {0, 0, 0, 0};
  VirtualSource() = default;
  VirtualSource(const VirtualSource&) = delete;
  VirtualSource& operator=(const VirtualSource&) = delete;
  ~VirtualSource();
  size_t ReadAt(int64_t offset, void* buf, size_t n);  // with the patch applied
};

// CheckPath, the strict RIFF/WAVE check (truncated headers and data chunks),
// then sf_open_virtual and CheckInfo. Returns an open handle (caller sf_close()s
// it, then drops *source, which the handle reads from) and fills *info; every
// failure is a BadInput naming `path`. The file is opened without blocking and
// must be a regular file.
SNDFILE* OpenChecked(const std::string& path, SF_INFO* info, std::unique_ptr<VirtualSource>* source);

// Channel count, sample rate and frame count must be positive.
void CheckInfo(const std::string& name, const SF_INFO& info);

// The header fields as an AudioInfo ("WAV PCM_16" etc.).
AudioInfo ToInfo(const SF_INFO& info);

// Interleaved frames -> mono: the mean of the channels ((a + b + ...) * (1 / ch),
// summed in float, so every reader produces the same bits). out may not alias in
// unless ch == 1.
void DownMix(const float* interleaved, size_t frames, int channels, float* out);

// BadInput "<name>: contains NaN or infinite samples" if any sample is not finite.
void CheckFinite(const std::string& name, const float* x, size_t n);

// After the last sf_readf_float: a decoder error, or fewer frames than the
// header declared, is a BadInput naming the file ("truncated (header says N
// frames, M present)").
void CheckReadEnd(const std::string& name, SNDFILE* f, int64_t read_frames, int64_t declared_frames);

// The resampling recipe used everywhere (Resample and the streaming reader):
// float32 interleaved in and out, soxr high quality (linear phase), and an
// output length of round(n * to / from) samples — the length of the same duration.
soxr_io_spec_t ResampleIoSpec();
soxr_quality_spec_t ResampleQualitySpec();
int64_t ResampledLength(int64_t n, int from_rate, int to_rate);

}  // namespace kws::audio_internal
