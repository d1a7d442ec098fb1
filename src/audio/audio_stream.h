// Streaming audio file input: any file libsndfile reads (WAV, FLAC, OGG, ...),
// of any length, as mono float32 in chunks, resampled on the fly (soxr streaming
// API, the same high-quality recipe as Resample/ReadAudio).
//
//   kws::AudioFileReader r("recording.flac", 16000);   // BadInput naming the file
//   std::vector<float> buf(1600);
//   while (size_t n = r.Read(buf.data(), buf.size())) Consume(buf.data(), n);
//
// Memory is O(chunk): one block of decoded frames plus soxr's filter state,
// independent of the file's length (ReadAudio holds the whole file).
//
// What it guarantees against ReadAudio(path, target_rate) on the same file:
//   * same rate: the same samples, bit for bit (same decoder, same down-mix);
//   * resampling: the same length, round(frames * to / from) samples, exactly
//     (soxr's tail is cut or zero-padded to that length as Resample does), and
//     the same values up to float rounding (soxr processes the same data in the
//     same internal blocks whatever the chunking; tests allow 1e-5);
//   * the same checks and messages ("x.wav: truncated (header says N frames,
//     M present)", "x.wav: not an audio file (libsndfile: ...)"). A WAV file's
//     container is checked up front, so a truncated WAV fails in the
//     constructor; for compressed formats a decode error or short file can only
//     show up when it is reached, so Read() throws then (after earlier chunks
//     have been returned). ReadAudio's 2^28-frame cap does not apply here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audio/audio.h"

struct sf_private_tag;  // libsndfile's SNDFILE
struct soxr;

namespace kws {
namespace audio_internal {
struct VirtualSource;
}

class AudioFileReader {
 public:
  // Opens `path` and reads its header. target_rate <= 0 keeps the file's rate.
  AudioFileReader(const std::string& path, int target_rate);
  ~AudioFileReader();
  AudioFileReader(const AudioFileReader&) = delete;
  AudioFileReader& operator=(const AudioFileReader&) = delete;

  const std::string& path() const { return path_; }
  const AudioInfo& info() const { return info_; }  // the file's own rate, channels, frames, format
  int sample_rate() const { return rate_; }        // rate of the samples Read() returns
  bool resampling() const { return soxr_ != nullptr; }
  // Samples Read() returns in total for a well-formed file: round(frames * rate / file rate).
  int64_t total_samples() const { return total_; }

  // Fills out[0..max_samples) with the next mono samples; returns how many.
  // Fewer than max_samples only at the end of the file; 0 = finished.
  // Throws BadInput naming the file on decode errors, truncation, NaN/Inf samples.
  size_t Read(float* out, size_t max_samples);

  bool eof() const { return done_; }
  int64_t samples_read() const { return emitted_; }

 private:
  size_t ReadFrames(float* out, size_t max_frames);  // decoded + down-mixed, native rate
  void EndOfFile();                                   // checks after the last frame
  size_t ReadResampled(float* out, size_t max_samples);

  std::string path_;
  AudioInfo info_;
  int rate_ = 0;
  std::unique_ptr<audio_internal::VirtualSource> source_;  // what file_ reads (declared first: freed last)
  sf_private_tag* file_ = nullptr;
  soxr* soxr_ = nullptr;
  int64_t total_ = 0;         // expected output length
  int64_t frames_read_ = 0;   // native frames decoded so far
  int64_t emitted_ = 0;       // samples returned so far
  bool input_done_ = false;   // decoder exhausted (and checked)
  bool flushed_ = false;      // soxr has given everything it will
  bool done_ = false;
  std::vector<float> interleaved_;  // one block of decoded frames
  std::vector<float> mono_;         // resampler input block
  size_t in_pos_ = 0, in_len_ = 0;
};

}  // namespace kws
