// Audio input: any file libsndfile reads (WAV 16/24/32-bit int and float,
// FLAC, OGG, ...), any channel count and sample rate -> mono float32 in
// [-1, 1] at the rate the caller asks for (soxr, high quality).
//
// ReadAudio holds the whole file; for recordings of any length use
// AudioFileReader (audio/audio_stream.h), which streams it in O(chunk) memory.
// Raw s16le PCM (for streaming) comes from a file or stdin via RawPcmReader.
// Every failure throws kws::BadInput naming the file and the problem:
//   "x.wav: not an audio file (libsndfile: ...)", "x.wav: contains zero samples",
//   "x.wav: truncated (header says 16000 frames, 812 present)".
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace kws {

// Sample rates kws reads (BadInput "unsupported sample rate" outside): resampling multiplies a
// clip's length by target/rate, so a header claiming a few Hz must not be believed.
inline constexpr int kMinSampleRate = 1000;
inline constexpr int kMaxSampleRate = 768000;

struct AudioInfo {
  int sample_rate = 0;
  int channels = 0;
  int64_t frames = 0;        // per channel
  std::string format;        // e.g. "WAV PCM_16"
  double seconds() const { return sample_rate > 0 ? double(frames) / sample_rate : 0.0; }
};

struct Audio {
  int sample_rate = 0;
  std::vector<float> samples;  // mono
};

// Reads the header only (cheap). Throws BadInput on unreadable files.
AudioInfo ProbeAudio(const std::string& path);

// Reads, down-mixes to mono (mean of channels) and resamples to target_rate
// (target_rate <= 0: keep the file's rate).
Audio ReadAudio(const std::string& path, int target_rate);

// Same, from bytes in memory (used by the fuzzer and tests); `name` is used in messages.
Audio DecodeAudio(const std::string& name, const void* data, size_t size, int target_rate);

// Resamples mono float audio (soxr HQ). Returns the input unchanged if rates match.
std::vector<float> Resample(const std::vector<float>& in, int from_rate, int to_rate);

// Writes 16-bit PCM mono WAV atomically (for synth and tests).
void WriteWav16(const std::string& path, const std::vector<float>& samples, int sample_rate);

// How a clip longer than the model window is cut.
enum class LongClipPolicy { kFirstWindow, kAllWindows };

// Cuts/pads mono audio into windows of `window` samples: shorter clips are
// zero-padded at the end; longer ones give the first window or every window
// with `hop` samples between starts (the last one zero-padded).
std::vector<std::vector<float>> Windows(const std::vector<float>& samples, size_t window,
                                        LongClipPolicy policy, size_t hop);

// Incremental reader of raw signed 16-bit little-endian mono PCM from a FILE*
// (stdin or a file). Handles a stream that stops mid-sample (the odd byte is
// dropped and counted). A stream that starts with a WAV header (what `arecord`
// writes unless told `-t raw`) has the header checked and skipped: it must be
// 16-bit PCM, mono and, when expected_rate > 0, at that rate (else BadInput
// naming the stream and the problem); its data size is ignored (streams say 2 GB).
class RawPcmReader {
 public:
  explicit RawPcmReader(std::FILE* f, std::string name = "<stdin>", int expected_rate = 0);
  // Reads up to max_samples samples; returns how many (0 at end of input).
  size_t Read(float* out, size_t max_samples);
  bool eof() const { return eof_ && buf_.size() < 2; }
  size_t dropped_bytes() const { return dropped_; }
  bool had_wav_header() const { return wav_header_; }

 private:
  size_t ReadOnce(uint8_t* dst, size_t n);  // one fread, retried on EINTR; 0 only at end of input
  size_t ReadSome(uint8_t* dst, size_t n);  // loops over short reads; < n only at end of input
  void SniffWavHeader();
  std::FILE* f_;
  std::string name_;
  int expected_rate_ = 0;
  bool sniffed_ = false, wav_header_ = false;
  bool eof_ = false;
  size_t dropped_ = 0;
  std::vector<uint8_t> buf_;  // bytes read but not yet delivered
};

}  // namespace kws
