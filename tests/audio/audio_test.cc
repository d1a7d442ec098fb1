// Audio front end: formats, down-mix, resampling, writer, windows, raw PCM,
// and every error the reader reports (with the file name and the reason).
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "audio/audio_stream.h"
#include "audio_fixture.h"
#include "util/error.h"
#include "util/fs.h"

namespace fs = std::filesystem;
using namespace kws;

namespace {

class AudioTest : public kws::test::AudioFileTest {};

std::vector<float> Sine(double hz, int rate, int n, double amp) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) x[size_t(i)] = float(amp * std::sin(2 * std::numbers::pi * hz * i / rate));
  return x;
}

// |DFT| at `hz` of x sampled at `rate` (single bin, double precision).
double DftMag(const std::vector<float>& x, double hz, int rate) {
  double re = 0, im = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double a = 2 * std::numbers::pi * hz * double(i) / rate;
    re += x[i] * std::cos(a);
    im -= x[i] * std::sin(a);
  }
  return std::hypot(re, im);
}

// Expects `fn` to throw kws::Error of kind BadInput whose message contains both strings.
template <class Fn>
void ExpectBadInput(Fn fn, const std::string& file, const std::string& reason) {
  try {
    fn();
    FAIL() << "no error for " << file << " (expected '" << reason << "')";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  }
}

}  // namespace

TEST_F(AudioTest, Reads16BitExactly) {
  const std::vector<short> pcm = {0, 16384, -16384, 1000, -32768, 32767};
  std::vector<float> x;
  for (short v : pcm) x.push_back(float(v) / 32768.0f);  // int16 -> [-1, 1): divide by 32768
  std::string path = P("a.wav");
  SF_INFO info0{};
  info0.samplerate = 16000;
  info0.channels = 1;
  info0.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info0);
  ASSERT_NE(f, nullptr);
  sf_writef_short(f, pcm.data(), sf_count_t(pcm.size()));
  sf_close(f);
  Audio a = ReadAudio(path, 16000);
  EXPECT_EQ(a.sample_rate, 16000);
  ASSERT_EQ(a.samples.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_FLOAT_EQ(a.samples[i], x[i]) << i;
  AudioInfo info = ProbeAudio(path);
  EXPECT_EQ(info.sample_rate, 16000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.frames, 6);
  EXPECT_NE(info.format.find("WAV"), std::string::npos) << info.format;
  EXPECT_NE(info.format.find("16"), std::string::npos) << info.format;
}

TEST_F(AudioTest, Reads24And32BitIntAndFloat) {
  std::vector<float> x = Sine(440, 16000, 1600, 0.7);
  struct Case { const char* name; int sub; double tol; };
  for (Case c : {Case{"i24.wav", SF_FORMAT_PCM_24, 1.5 / 8388608}, Case{"i32.wav", SF_FORMAT_PCM_32, 1e-7},
                 Case{"f32.wav", SF_FORMAT_FLOAT, 0.0}, Case{"f64.wav", SF_FORMAT_DOUBLE, 0.0}}) {
    auto path = WriteSf(c.name, SF_FORMAT_WAV | c.sub, 1, 16000, x);
    Audio a = ReadAudio(path, 0);
    ASSERT_EQ(a.samples.size(), x.size()) << c.name;
    double maxd = 0;
    for (size_t i = 0; i < x.size(); ++i) maxd = std::max(maxd, double(std::fabs(a.samples[i] - x[i])));
    EXPECT_LE(maxd, c.tol) << c.name;
  }
  // A 24-bit value that 16 bits cannot hold survives.
  std::vector<float> fine = {1.0f / 8388608 * 3};
  Audio a = ReadAudio(WriteSf("fine.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, 16000, fine), 0);
  EXPECT_FLOAT_EQ(a.samples[0], fine[0]);
}

TEST_F(AudioTest, OtherContainers) {
  std::vector<float> x = Sine(300, 16000, 800, 0.5);
  for (auto [name, fmt] : {std::pair{"a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
                           std::pair{"a.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16}}) {
    Audio a = ReadAudio(WriteSf(name, fmt, 1, 16000, x), 16000);
    ASSERT_EQ(a.samples.size(), x.size()) << name;
    for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(a.samples[i], x[i], 1.0 / 32768) << name;
  }
}

TEST_F(AudioTest, StereoAndMultichannelDownMixIsTheMean) {
  std::vector<float> st;
  for (int i = 0; i < 100; ++i) {
    st.push_back(0.5f);
    st.push_back(i % 2 ? -0.25f : 0.25f);
  }
  Audio a = ReadAudio(WriteSf("st.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 16000, st), 16000);
  ASSERT_EQ(a.samples.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_FLOAT_EQ(a.samples[size_t(i)], i % 2 ? 0.125f : 0.375f);

  std::vector<float> q;
  for (int i = 0; i < 10; ++i) q.insert(q.end(), {0.5f, 0.25f, -0.25f, 0.0f});
  Audio b = ReadAudio(WriteSf("q.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 4, 16000, q), 0);
  ASSERT_EQ(b.samples.size(), 10u);
  for (float v : b.samples) EXPECT_FLOAT_EQ(v, 0.125f);
}

TEST_F(AudioTest, Upsample8kTo16kKeepsLengthAndFrequency) {
  std::vector<float> x = Sine(1000, 8000, 8000, 0.5);
  Audio a = ReadAudio(WriteSf("8k.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 8000, x), 16000);
  EXPECT_EQ(a.sample_rate, 16000);
  ASSERT_EQ(a.samples.size(), 16000u);
  // A pure 0.5-amplitude sine over an integer number of periods: |X(f)| = 0.5 * N / 2.
  const double peak = DftMag(a.samples, 1000, 16000);
  EXPECT_NEAR(peak, 0.5 * 16000 / 2, 0.02 * 4000);
  for (double f : {500.0, 900.0, 1100.0, 2000.0, 3000.0, 5000.0}) EXPECT_LT(DftMag(a.samples, f, 16000), 0.01 * peak) << f;
}

TEST_F(AudioTest, Downsample44kStereoTo16k) {
  std::vector<float> mono = Sine(440, 44100, 44100, 0.4), st;
  for (float v : mono) st.insert(st.end(), {v, v});
  Audio a = ReadAudio(WriteSf("44k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 44100, st), 16000);
  ASSERT_EQ(a.samples.size(), 16000u);
  const double peak = DftMag(a.samples, 440, 16000);
  EXPECT_NEAR(peak, 0.4 * 16000 / 2, 0.02 * 3200);
  EXPECT_LT(DftMag(a.samples, 880, 16000), 0.01 * peak);
  EXPECT_LT(DftMag(a.samples, 300, 16000), 0.01 * peak);
}

TEST_F(AudioTest, ResampleDirect) {
  std::vector<float> x = Sine(100, 16000, 1600, 0.5);
  EXPECT_EQ(Resample(x, 16000, 16000), x);
  EXPECT_EQ(Resample(x, 16000, 8000).size(), 800u);
  EXPECT_EQ(Resample(x, 16000, 22050).size(), 2205u);
  EXPECT_THROW(Resample(x, 0, 16000), Error);
}

TEST_F(AudioTest, WriteWav16RoundTripsAndIsAtomic) {
  std::vector<float> x = {0.0f, 0.25f, -0.5f, 1.0f, -1.0f, 1.5f, 12345.0f / 32768};
  std::string path = P("sub/out.wav");
  WriteWav16(path, x, 8000);
  Audio a = ReadAudio(path, 0);
  EXPECT_EQ(a.sample_rate, 8000);
  ASSERT_EQ(a.samples.size(), x.size());
  const std::vector<float> want = {0.0f, 0.25f, -0.5f, 32767.0f / 32768, -1.0f, 32767.0f / 32768, 12345.0f / 32768};
  for (size_t i = 0; i < x.size(); ++i) EXPECT_FLOAT_EQ(a.samples[i], want[i]) << i;
  EXPECT_EQ(fs::file_size(path), 44u + 2 * x.size());
  int files = 0;
  for (auto& e : fs::directory_iterator(dir_ / "sub")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temp file left behind
}

TEST_F(AudioTest, DecodeFromMemoryMatchesFile) {
  std::vector<float> x = Sine(700, 16000, 4000, 0.3);
  std::string path = WriteSf("m.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 16000, x);
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  Audio a = DecodeAudio("mem.wav", bytes.data(), bytes.size(), 16000);
  Audio b = ReadAudio(path, 16000);
  EXPECT_EQ(a.samples, b.samples);
}

TEST_F(AudioTest, ErrorsNameTheFileAndTheReason) {
  ExpectBadInput([&] { ReadAudio(P("missing.wav"), 16000); }, "missing.wav", "no such file");
  ExpectBadInput([&] { ProbeAudio(P("missing.wav")); }, "missing.wav", "no such file");
  fs::create_directories(P("adir.wav"));
  ExpectBadInput([&] { ReadAudio(P("adir.wav"), 16000); }, "adir.wav", "directory");
  ExpectBadInput([&] { ProbeAudio(P("adir.wav")); }, "adir.wav", "directory");
  auto empty = WriteBytes("empty.wav", "");
  ExpectBadInput([&] { ReadAudio(empty, 16000); }, "empty.wav", "empty");
  ExpectBadInput([&] { ProbeAudio(empty); }, "empty.wav", "empty");
  auto text = WriteBytes("notes.wav", "this is a text file, not a sound\nsecond line of text here\n");
  ExpectBadInput([&] { ReadAudio(text, 16000); }, "notes.wav", "not an audio file");
  ExpectBadInput([&] { ProbeAudio(text); }, "notes.wav", "not an audio file");

  // Header cut in the middle.
  auto hdr = WriteBytes("hdr.wav", std::string("RIFF\x24\x7d\x00\x00WAVEfmt ", 16));
  ExpectBadInput([&] { ReadAudio(hdr, 16000); }, "hdr.wav", "truncated WAV header");
  ExpectBadInput([&] { ProbeAudio(hdr); }, "hdr.wav", "truncated WAV header");
  auto hdr2 = WriteBytes("hdr2.wav", std::string("RIFF\x24\x7d", 6));
  ExpectBadInput([&] { ReadAudio(hdr2, 16000); }, "hdr2.wav", "truncated WAV header");

  // Data chunk cut short: header says 16000 frames, 1000 present.
  std::string full = P("full.wav");
  WriteWav16(full, Sine(440, 16000, 16000, 0.5), 16000);
  std::string bytes = ReadFile(full);
  auto cut = WriteBytes("cut.wav", bytes.substr(0, 44 + 2000));
  ExpectBadInput([&] { ReadAudio(cut, 16000); }, "cut.wav", "truncated (header says 16000 frames, 1000 present)");
  ExpectBadInput([&] { ProbeAudio(cut); }, "cut.wav", "truncated");
  std::vector<uint8_t> cb(bytes.begin(), bytes.begin() + 44 + 2001);  // odd cut
  ExpectBadInput([&] { DecodeAudio("odd.wav", cb.data(), cb.size(), 0); }, "odd.wav", "truncated");

  // A header claiming a few Hz: resampled to 16 kHz it would be 16,000x longer (a fuzzer's find: 1 Hz).
  std::string slow = P("one_hz.wav");
  WriteWav16(slow, Sine(440, 16000, 1200, 0.5), 1);
  ExpectBadInput([&] { ReadAudio(slow, 16000); }, "one_hz.wav", "unsupported sample rate 1 Hz");
  ExpectBadInput([&] { ProbeAudio(slow); }, "one_hz.wav", "unsupported sample rate");
  ExpectBadInput([&] { AudioFileReader r(slow, 16000); }, "one_hz.wav", "unsupported sample rate");
  std::string fast = P("fast.wav");
  WriteWav16(fast, Sine(440, 16000, 1200, 0.5), 1000000);
  ExpectBadInput([&] { ReadAudio(fast, 16000); }, "fast.wav", "unsupported sample rate 1000000 Hz");

  // A LIST chunk whose sub-chunk header is cut by the list's end (64 bytes; libsndfile looped on it
  // for minutes: a fuzz_wav_reader find) is refused before libsndfile sees it.
  const std::string list_bytes("\x52\x49\x46\x46\x76\x06\x00\x00\x57\x41\x56\x45\x66\x6d\x74\x20\x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00\x4c\x49\x53\x54\x0a\x00\x00\x00\x49\xad\x01\x00\xf8\xff\xff\xff\x00\x01\x64\x61\x74\x61\xff\xff\xff\xff\xf0\x6b", 64);
  auto bad_list = WriteBytes("bad_list.wav", list_bytes);
  ExpectBadInput([&] { ReadAudio(bad_list, 16000); }, "bad_list.wav", "LIST chunk");
  ExpectBadInput([&] { ProbeAudio(bad_list); }, "bad_list.wav", "LIST chunk");

  // The same in the big-endian form ("RIFX", a LIST claiming 2 GB; libsndfile looped on it too).
  const std::string rifx_bytes("\x52\x49\x46\x58\x44\x03\x00\x00\x57\x41\x56\x45\x4c\x49\x53\x54\x81\x00\x00\x00\x00\x27\x00\xff\xff\xff\xff\xf8\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x04\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x24", 76);
  auto bad_rifx = WriteBytes("bad_rifx.wav", rifx_bytes);
  ExpectBadInput([&] { ReadAudio(bad_rifx, 16000); }, "bad_rifx.wav", "LIST chunk");

  // A valid header with zero samples.
  std::string zero = P("zero.wav");
  WriteWav16(zero, {}, 16000);
  ExpectBadInput([&] { ReadAudio(zero, 16000); }, "zero.wav", "zero samples");
  ExpectBadInput([&] { ProbeAudio(zero); }, "zero.wav", "zero samples");
}

// Recorders writing to a pipe put a placeholder where the data size goes (arecord > file.wav);
// such a file is read to its end, by every reader, while a real truncation is still refused.
TEST_F(AudioTest, StreamedHeaderWithUnknownLengthIsReadToTheEndOfTheFile) {
  std::string full = P("full.wav");
  const std::vector<float> sine = Sine(440, 16000, 16000, 0.5);
  WriteWav16(full, sine, 16000);
  const std::string bytes = ReadFile(full);
  ASSERT_EQ(bytes.substr(36, 4), "data");
  const Audio want = ReadAudio(full, 0);
  auto with_sizes = [&](uint32_t riff, uint32_t data) {
    std::string b = bytes;
    for (int k = 0; k < 4; ++k) {
      b[size_t(4 + k)] = char((riff >> (8 * k)) & 0xFF);
      b[size_t(40 + k)] = char((data >> (8 * k)) & 0xFF);
    }
    return b;
  };
  for (uint32_t marker : {0u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu}) {
    SCOPED_TRACE(marker);
    const std::string b = with_sizes(marker == 0 ? 0u : marker + 36, marker);
    const std::string path = WriteBytes("streamed.wav", b);
    EXPECT_EQ(ProbeAudio(path).frames, 16000);
    EXPECT_EQ(ReadAudio(path, 0).samples, want.samples);
    EXPECT_EQ(DecodeAudio("mem.wav", b.data(), b.size(), 0).samples, want.samples);
    AudioFileReader r(path, 0);
    std::vector<float> got(20000);
    size_t n = 0;
    while (size_t k = r.Read(got.data() + n, got.size() - n)) n += k;
    got.resize(n);
    EXPECT_EQ(got, want.samples);
    EXPECT_EQ(ReadAudio(path, 8000).samples.size(), 8000u);  // resampled too
  }
  // Sizes that are not placeholders still mean a truncation.
  for (uint32_t data : {32002u, 0x7FFFFFFEu, 0x80000001u, 0xFFFFFFFEu}) {
    const std::string b = with_sizes(data + 36, data);
    const std::string path = WriteBytes("cut.wav", b);
    ExpectBadInput([&] { ReadAudio(path, 16000); }, "cut.wav", "truncated");
    ExpectBadInput([&] { ProbeAudio(path); }, "cut.wav", "truncated");
    ExpectBadInput([&] { AudioFileReader r(path, 16000); }, "cut.wav", "truncated");
  }
}

// A FIFO or a device named like a clip is refused by its kind at once (never opened, so
// nothing blocks), and a file over the clip limit by its size.
TEST_F(AudioTest, SpecialFilesAreRefusedWithoutReadingThem) {
  ASSERT_EQ(::mkfifo(P("fifo.wav").c_str(), 0600), 0);
  ExpectBadInput([&] { ReadAudio(P("fifo.wav"), 16000); }, "fifo.wav", "not a regular file");
  ExpectBadInput([&] { ProbeAudio(P("fifo.wav")); }, "fifo.wav", "not a regular file");
  ExpectBadInput([&] { AudioFileReader r(P("fifo.wav"), 16000); }, "fifo.wav", "not a regular file");
  ExpectBadInput([&] { ReadAudio("/dev/zero", 16000); }, "/dev/zero", "not a regular file");
}

TEST(Windows, PadCutAndHop) {
  std::vector<float> x(25);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i + 1);
  auto w = Windows({1, 2, 3}, 5, LongClipPolicy::kFirstWindow, 0);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], (std::vector<float>{1, 2, 3, 0, 0}));
  w = Windows(x, 10, LongClipPolicy::kFirstWindow, 5);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0][9], 10.0f);
  w = Windows(x, 10, LongClipPolicy::kAllWindows, 10);  // 0..9, 10..19, 20..24+pad
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[1][0], 11.0f);
  EXPECT_EQ(w[2][4], 25.0f);
  EXPECT_EQ(w[2][5], 0.0f);
  w = Windows(x, 10, LongClipPolicy::kAllWindows, 5);  // starts 0,5,10,15
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[3][0], 16.0f);
  EXPECT_EQ(w[3][9], 25.0f);
  w = Windows(std::vector<float>(10, 1.0f), 10, LongClipPolicy::kAllWindows, 5);
  EXPECT_EQ(w.size(), 1u);
}

TEST(RawPcm, ReadsLittleEndianAndDropsOddByte) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  const unsigned char bytes[] = {0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f, 0x00, 0x80, 0x12};  // 4 samples + 1 byte
  std::fwrite(bytes, 1, sizeof bytes, f);
  std::rewind(f);
  RawPcmReader r(f, "pipe");
  float out[3];
  ASSERT_EQ(r.Read(out, 3), 3u);
  EXPECT_FLOAT_EQ(out[0], 0.5f);
  EXPECT_FLOAT_EQ(out[1], -0.5f);
  EXPECT_FLOAT_EQ(out[2], 32767.0f / 32768);
  EXPECT_FALSE(r.eof());
  ASSERT_EQ(r.Read(out, 3), 1u);
  EXPECT_FLOAT_EQ(out[0], -1.0f);
  EXPECT_TRUE(r.eof());
  EXPECT_EQ(r.dropped_bytes(), 1u);
  EXPECT_EQ(r.Read(out, 3), 0u);
  std::fclose(f);
}

namespace kws {
namespace {

// A WAV header as a streaming writer (arecord) puts it before the samples.
std::vector<unsigned char> WavHeader(int rate, int channels, int bits, int tag, bool list_chunk) {
  std::vector<unsigned char> h;
  auto put = [&](const char* s) { h.insert(h.end(), s, s + 4); };
  auto le = [&](uint32_t v, int n) {
    for (int i = 0; i < n; ++i) h.push_back(static_cast<unsigned char>(v >> (8 * i)));
  };
  put("RIFF");
  le(0xFFFFFFFFu, 4);
  put("WAVE");
  if (list_chunk) {  // an odd-sized chunk to skip (padded to even)
    put("LIST");
    le(3, 4);
    h.insert(h.end(), {'a', 'b', 'c', 0});
  }
  put("fmt ");
  le(16, 4);
  le(uint32_t(tag), 2);
  le(uint32_t(channels), 2);
  le(uint32_t(rate), 4);
  le(uint32_t(rate * channels * bits / 8), 4);
  le(uint32_t(channels * bits / 8), 2);
  le(uint32_t(bits), 2);
  put("data");
  le(0x7FFFFFFFu, 4);
  return h;
}

std::FILE* StreamOf(const std::vector<unsigned char>& bytes) {
  std::FILE* f = std::tmpfile();
  if (f) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::rewind(f);
  }
  return f;
}

TEST(RawPcm, SkipsAWavHeaderAndReadsItsSamples) {
  for (bool list : {false, true}) {
    std::vector<unsigned char> b = WavHeader(16000, 1, 16, 1, list);
    const unsigned char s[] = {0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f};
    b.insert(b.end(), s, s + sizeof s);
    std::FILE* f = StreamOf(b);
    ASSERT_NE(f, nullptr);
    RawPcmReader r(f, "<stdin>", 16000);
    float out[2];
    ASSERT_EQ(r.Read(out, 2), 2u);  // the 44+ header bytes are not samples
    EXPECT_FLOAT_EQ(out[0], 0.5f);
    EXPECT_FLOAT_EQ(out[1], -0.5f);
    ASSERT_EQ(r.Read(out, 2), 1u);
    EXPECT_FLOAT_EQ(out[0], 32767.0f / 32768);
    EXPECT_TRUE(r.had_wav_header());
    EXPECT_EQ(r.Read(out, 2), 0u);
    EXPECT_TRUE(r.eof());
    EXPECT_EQ(r.dropped_bytes(), 0u);
    std::fclose(f);
  }
}

TEST(RawPcm, RawStreamsStillReadFromTheFirstByteEvenOneSampleAtATime) {
  // 7 samples: more than the 12 bytes the header check reads ahead, delivered one by one.
  std::vector<unsigned char> b;
  for (int i = 0; i < 7; ++i) {
    b.push_back(static_cast<unsigned char>(i));
    b.push_back(0);
  }
  b.push_back(0x55);  // and a trailing odd byte
  std::FILE* f = StreamOf(b);
  ASSERT_NE(f, nullptr);
  RawPcmReader r(f, "pipe", 16000);
  std::vector<float> all;
  float one;
  while (!r.eof()) {
    const size_t n = r.Read(&one, 1);
    if (n == 0) break;
    all.push_back(one);
  }
  ASSERT_EQ(all.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_FLOAT_EQ(all[size_t(i)], float(i) / 32768);
  EXPECT_FALSE(r.had_wav_header());
  EXPECT_EQ(r.dropped_bytes(), 1u);
  std::fclose(f);
}

TEST(RawPcm, RejectsWavStreamsItCannotUseNamingTheProblem) {
  struct Case {
    std::vector<unsigned char> bytes;
    const char* needle;
  };
  std::vector<unsigned char> cut = WavHeader(16000, 1, 16, 1, false);
  cut.resize(30);  // ends inside the fmt chunk
  const std::vector<Case> cases = {
      {WavHeader(44100, 1, 16, 1, false), "44100 Hz; the model needs 16000 Hz"},
      {WavHeader(16000, 2, 16, 1, false), "2 channels"},
      {WavHeader(16000, 1, 32, 3, false), "not 16-bit PCM"},
      {cut, "ends inside its fmt chunk"},
  };
  for (const Case& c : cases) {
    std::FILE* f = StreamOf(c.bytes);
    ASSERT_NE(f, nullptr);
    RawPcmReader r(f, "<stdin>", 16000);
    float out[4];
    try {
      r.Read(out, 4);
      ADD_FAILURE() << "no error for " << c.needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      EXPECT_NE(std::string(e.what()).find("<stdin>: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
    std::fclose(f);
  }
}

}  // namespace
}  // namespace kws
