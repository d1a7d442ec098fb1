// Pieces shared by the whole-file reader (audio.cc: ReadAudio/DecodeAudio/
// ProbeAudio), the streaming reader (audio_stream.cc: AudioFileReader) and the
// resampler (resample.cc), so that every path checks files, names errors,
// down-mixes and resamples the same way. Not part of the public API.
#pragma once
#include <sndfile.h>
#include <soxr.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "audio/audio.h"

namespace kws::audio_internal {

// Missing file / directory / not regular / empty: BadInput naming `path`.
// Returns the file size in bytes.
int64_t CheckPath(const std::string& path);

// CheckPath, the strict RIFF/WAVE check (truncated headers and data chunks),
// then sf_open and CheckInfo. Returns an open handle (caller sf_close()s it) and
// fills *info; every failure is a BadInput naming `path`.
SNDFILE* OpenChecked(const std::string& path, SF_INFO* info);

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
