// AudioFileReader (streaming file input) against ReadAudio (whole file): the
// same samples at the native rate for any chunk size, the same length and
// (within float rounding) the same values when resampling, the same errors.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "audio_fixture.h"
#include "audio/audio_stream.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

namespace fs = std::filesystem;
using namespace kws;

namespace {

class AudioStreamTest : public kws::test::AudioFileTest {};

// Interleaved test signal: a different tone per channel plus a little noise.
std::vector<float> Signal(int channels, int rate, int frames, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(size_t(frames) * size_t(channels));
  for (int i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c)
      x[size_t(i) * size_t(channels) + size_t(c)] =
          float(0.4 * std::sin(2 * std::numbers::pi * (300.0 + 250.0 * c) * i / rate) + 0.05 * (rng.Uniform() - 0.5));
  return x;
}

// Everything a reader gives, `chunk` samples per Read() call; checks that only the
// last non-empty call is short and that reads after the end return 0.
std::vector<float> ReadAllChunked(AudioFileReader& r, size_t chunk) {
  std::vector<float> all, buf(chunk);
  bool short_seen = false;
  for (;;) {
    const size_t n = r.Read(buf.data(), chunk);
    if (n == 0) break;
    EXPECT_FALSE(short_seen) << "a short read before the end (chunk " << chunk << ")";
    if (n < chunk) short_seen = true;
    all.insert(all.end(), buf.begin(), buf.begin() + long(n));
  }
  EXPECT_TRUE(r.eof());
  EXPECT_EQ(r.Read(buf.data(), chunk), 0u);
  EXPECT_EQ(r.samples_read(), int64_t(all.size()));
  return all;
}

const size_t kChunks[] = {1, 7, 160, 1601, 4095, 4097, 10007};

TEST_F(AudioStreamTest, NativeRateIsReadAudioBitForBit) {
  struct Case {
    const char* name;
    int format, channels, rate, frames;
  } cases[] = {
      {"mono16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 16000, 23456},
      {"stereo16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 16000, 20001},
      {"stereo24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, 22050, 9999},
      {"three_float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 3, 16000, 8191},
      {"mono.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 16000, 12345},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = WriteSf(c.name, c.format, c.channels, c.rate, Signal(c.channels, c.rate, c.frames, 7));
    const Audio ref = ReadAudio(path, 0);
    ASSERT_EQ(ref.samples.size(), size_t(c.frames));
    for (size_t chunk : kChunks) {
      SCOPED_TRACE("chunk " + std::to_string(chunk));
      // target == file rate and target <= 0 both mean "no resampling".
      AudioFileReader r(path, chunk % 2 ? c.rate : 0);
      EXPECT_FALSE(r.resampling());
      EXPECT_EQ(r.sample_rate(), c.rate);
      EXPECT_EQ(r.info().channels, c.channels);
      EXPECT_EQ(r.info().frames, c.frames);
      EXPECT_EQ(r.total_samples(), c.frames);
      const std::vector<float> got = ReadAllChunked(r, chunk);
      ASSERT_EQ(got.size(), ref.samples.size());
      EXPECT_TRUE(got == ref.samples) << "samples differ";
    }
  }
}

// The streaming resampler gives ReadAudio's length exactly and its values within
// float rounding, for up- and down-sampling, mono and stereo, any chunk size.
TEST_F(AudioStreamTest, ResampledMatchesWholeFileResample) {
  struct Case {
    const char* name;
    int channels, rate, frames;
  } cases[] = {
      {"a44k_stereo.wav", 2, 44100, 44100 * 2 + 37},
      {"a8k.wav", 1, 8000, 8000 * 3 + 5},
      {"a48k.wav", 1, 48000, 48000 + 1},
      {"a11k_short.wav", 1, 11025, 300},  // shorter than soxr's filter delay
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path =
        WriteSf(c.name, SF_FORMAT_WAV | SF_FORMAT_PCM_16, c.channels, c.rate, Signal(c.channels, c.rate, c.frames, 3));
    const Audio ref = ReadAudio(path, 16000);
    const size_t want = size_t(std::llround(double(c.frames) * 16000.0 / c.rate));
    ASSERT_EQ(ref.samples.size(), want);
    for (size_t chunk : kChunks) {
      SCOPED_TRACE("chunk " + std::to_string(chunk));
      AudioFileReader r(path, 16000);
      EXPECT_TRUE(r.resampling());
      EXPECT_EQ(r.sample_rate(), 16000);
      EXPECT_EQ(r.info().sample_rate, c.rate);
      EXPECT_EQ(r.total_samples(), int64_t(want));
      const std::vector<float> got = ReadAllChunked(r, chunk);
      ASSERT_EQ(got.size(), want);  // exact, not +-1
      double max_diff = 0, energy = 0;
      for (size_t i = 0; i < want; ++i) {
        max_diff = std::max(max_diff, double(std::fabs(got[i] - ref.samples[i])));
        energy += double(ref.samples[i]) * ref.samples[i];
      }
      EXPECT_LE(max_diff, 1e-5);
      EXPECT_GT(energy / double(want), 0.01);  // the signal is really there (not all zeros)
    }
  }
}

// A file longer than one decode block and many soxr blocks, read in hop-sized
// chunks, stays aligned to the end: the tail matches too.
TEST_F(AudioStreamTest, LongResampledFileTailMatches) {
  const std::string path = WriteSf("long44k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 44100,
                                   Signal(1, 44100, 44100 * 20 + 123, 11));
  const Audio ref = ReadAudio(path, 16000);
  AudioFileReader r(path, 16000);
  const std::vector<float> got = ReadAllChunked(r, 1600);
  ASSERT_EQ(got.size(), ref.samples.size());
  for (size_t i = got.size() - 5000; i < got.size(); ++i) ASSERT_NEAR(got[i], ref.samples[i], 1e-5) << i;
}

template <class Fn>
void ExpectBadInput(Fn fn, const std::string& file, const std::string& reason) {
  try {
    fn();
    FAIL() << "no error for " << file << " (expected '" << reason << "')";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << msg;
  }
}

// Reads a whole file through the streaming reader (errors may come from Read()).
void Drain(const std::string& path, int rate) {
  AudioFileReader r(path, rate);
  std::vector<float> buf(1000);
  while (r.Read(buf.data(), buf.size()) > 0) {
  }
}

// Same messages as ReadAudio, naming the file.
TEST_F(AudioStreamTest, ErrorsNameTheFileAndTheReason) {
  ExpectBadInput([&] { Drain(P("missing.wav"), 16000); }, "missing.wav", "no such file");
  fs::create_directories(P("adir.wav"));
  ExpectBadInput([&] { Drain(P("adir.wav"), 16000); }, "adir.wav", "directory");
  ExpectBadInput([&] { Drain(WriteBytes("empty.wav", ""), 16000); }, "empty.wav", "empty");
  ExpectBadInput([&] { Drain(WriteBytes("notes.wav", "this is a text file, not a sound\nreally not\n"), 16000); },
                 "notes.wav", "not an audio file");
  ExpectBadInput([&] { Drain(WriteBytes("hdr.wav", std::string("RIFF\x24\x7d\x00\x00WAVEfmt ", 16)), 16000); },
                 "hdr.wav", "truncated WAV header");

  // Data chunk cut short: reported when the file is opened, before any sample is returned.
  const std::string full = P("full.wav");
  WriteWav16(full, std::vector<float>(16000, 0.25f), 16000);
  const std::string bytes = ReadFile(full);
  const std::string cut = WriteBytes("cut.wav", bytes.substr(0, 44 + 2000));
  ExpectBadInput([&] { AudioFileReader r(cut, 16000); }, "cut.wav",
                 "truncated (header says 16000 frames, 1000 present)");
  ExpectBadInput([&] { AudioFileReader r(cut, 8000); }, "cut.wav", "truncated");
  ExpectBadInput([&] { Drain(WriteBytes("odd.wav", bytes.substr(0, 44 + 2001)), 0); }, "odd.wav", "truncated");

  std::string zero = P("zero.wav");
  WriteWav16(zero, {}, 16000);
  ExpectBadInput([&] { Drain(zero, 16000); }, "zero.wav", "zero samples");

  // NaN in a float WAV: found while streaming (the block holding it).
  std::vector<float> x(20000, 0.1f);
  x[15000] = std::numeric_limits<float>::quiet_NaN();
  const std::string nan = WriteSf("nan.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 16000, x);
  ExpectBadInput([&] { ReadAudio(nan, 16000); }, "nan.wav", "NaN or infinite");
  ExpectBadInput([&] { Drain(nan, 16000); }, "nan.wav", "NaN or infinite");
  ExpectBadInput([&] { Drain(nan, 44100); }, "nan.wav", "NaN or infinite");
}

// A compressed file cut in the middle: the container check cannot see it, so the
// reader reports it when it gets there (ReadAudio reports it too, up front).
TEST_F(AudioStreamTest, TruncatedFlacIsBadInputWhileStreaming) {
  const std::string path = WriteSf("full.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 16000, Signal(1, 16000, 48000, 5));
  const std::string bytes = ReadFile(path);
  const std::string cut = WriteBytes("cut.flac", bytes.substr(0, bytes.size() / 2));
  std::string whole_msg;
  try {
    ReadAudio(cut, 16000);
  } catch (const Error& e) {
    whole_msg = e.what();
  }
  ASSERT_FALSE(whole_msg.empty()) << "ReadAudio accepted a half FLAC file";
  for (int rate : {16000, 8000}) {
    SCOPED_TRACE(rate);
    try {
      AudioFileReader r(cut, rate);
      std::vector<float> buf(1600);
      size_t total = 0;
      while (size_t n = r.Read(buf.data(), buf.size())) total += n;
      FAIL() << "no error; read " << total << " samples";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
      const std::string msg = e.what();
      EXPECT_NE(msg.find("cut.flac: "), std::string::npos) << msg;
      // libsndfile reports the cut differently when it reads from memory (ReadAudio:
      // "unreadable (... lost sync)") and from the file (a short frame count).
      EXPECT_TRUE(msg.find("truncated (header says 48000 frames") != std::string::npos ||
                  msg.find("unreadable (libsndfile") != std::string::npos)
          << msg << " / whole-file: " << whole_msg;
    }
  }
}

}  // namespace

namespace {

// Resample (and so ReadAudio) keeps the end of the signal when downsampling: a
// full-length sine stays a sine up to the last samples (it used to end in ~20 ms
// of zeros because soxr was never told the input had ended).
TEST(ResampleTail, DownsamplingKeepsTheLastSamples) {
  for (int from : {44100, 48000, 22050}) {
    SCOPED_TRACE(from);
    std::vector<float> x(size_t(from) + 1);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(0.5 * std::sin(2 * std::numbers::pi * 300.0 * double(i) / from));
    const std::vector<float> y = Resample(x, from, 16000);
    ASSERT_EQ(y.size(), size_t(std::llround(double(x.size()) * 16000.0 / from)));
    // The last 10 ms before the final 2 samples (which sit on the edge of the filter).
    double peak = 0;
    for (size_t i = y.size() - 162; i < y.size() - 2; ++i) peak = std::max(peak, double(std::fabs(y[i])));
    EXPECT_GT(peak, 0.3);
  }
}

}  // namespace
