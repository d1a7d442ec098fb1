// TFLite Micro's audio front end (features/micro/): each stage against hand-computed integer
// cases, the streaming form against the whole-clip form, and the whole front end against the
// int8 features TFLite Micro computed for micro_speech's "yes" clip (../shared/reference).
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "features/features.h"
#include "features/micro/frontend.h"
#include "features/options_io.h"
#include "stream/frontend.h"
#include "util/error.h"
#include "util/rng.h"

using namespace kws;
using namespace kws::micro;

namespace {

template <class F>
void ExpectUsage(F f, const std::string& what) {
  try {
    f();
    FAIL() << "no error (expected one naming " << what << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

std::string Reference(const std::string& name) {
  return (std::filesystem::path(KWS_SOURCE_DIR) / "../shared/reference/micro_speech" / name).string();
}

// Speech-like test signal: a few harmonics with a slow envelope plus noise, int16.
std::vector<int16_t> TestSignal(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<int16_t> x(n);
  for (size_t t = 0; t < n; ++t) {
    const double env = 0.5 + 0.5 * std::sin(2 * std::numbers::pi * double(t) / 7000.0);
    double v = 0;
    for (int h = 1; h <= 4; ++h) v += std::sin(2 * std::numbers::pi * 180.0 * h * double(t) / 16000.0) / h;
    v = 6000 * env * v + 300 * (rng.Uniform() - 0.5);
    x[t] = int16_t(std::lround(v));
  }
  return x;
}

}  // namespace

// ---- window ----

TEST(MicroWindow, CoefficientsHandComputed) {
  // size 4: 0.5 - 0.5 cos(pi/2 (i + 0.5)) = 0.1464, 0.8536, 0.8536, 0.1464; x 4096, rounded
  EXPECT_EQ(WindowCoefficients(4), (std::vector<int16_t>{600, 3496, 3496, 600}));
  const std::vector<int16_t> w = WindowCoefficients(480);  // micro_speech's 30 ms
  EXPECT_EQ(w[0], 0);       // 4096 * 0.5 (1 - cos(pi / 480)) = 0.022 -> 0
  EXPECT_EQ(w[239], 4096);  // the middle: 4096 * (1 - 1e-5) -> 4096
  EXPECT_EQ(w[120], 2061);  // 4096 * (0.5 + 0.5 sin(pi / 480)) = 2061.4
  for (int i = 0; i < 240; ++i) EXPECT_EQ(w[size_t(i)], w[size_t(479 - i)]) << i;
}

TEST(MicroWindow, ApplyShiftsAndTracksMaxAbs) {
  const int16_t coef[4] = {600, 3496, 3496, 600};
  const int16_t in[4] = {1000, -2000, 32767, -32768};
  int16_t out[4];
  // 600000 >> 12 = 146; -6992000 >> 12 = -1708 (floor); 114553432 >> 12 = 27967; -19660800 >> 12 = -4800
  EXPECT_EQ(ApplyWindow(in, coef, 4, out), 27967);
  EXPECT_EQ(std::vector<int16_t>(out, out + 4), (std::vector<int16_t>{146, -1708, 27967, -4800}));
  // -32768 * 4096 >> 12 = -32768, whose int16 absolute value stays negative: not the maximum.
  const int16_t full[2] = {4096, 4096}, x[2] = {-32768, 100};
  EXPECT_EQ(ApplyWindow(x, full, 2, out), 100);
  EXPECT_EQ(out[0], -32768);
}

TEST(MicroWindow, StreamsFramesEveryStep) {
  WindowOptions o;
  o.size_ms = 1;  // 8 samples at 8 kHz
  o.step_ms = 1;
  Window w(o, 8000);
  EXPECT_EQ(w.size(), 8);
  EXPECT_EQ(w.step(), 8);
  o.size_ms = 2;  // 16 samples, step 8
  Window v(o, 8000);
  std::vector<int16_t> x(40);
  for (size_t i = 0; i < x.size(); ++i) x[i] = int16_t(1000 + 37 * int(i));
  const std::vector<int16_t> coef = WindowCoefficients(16);
  size_t pos = 0, used = 0;
  int frames = 0;
  while (pos < x.size()) {
    const size_t chunk = std::min<size_t>(5, x.size() - pos);
    if (v.ProcessSamples(x.data() + pos, chunk, &used)) {
      int16_t want[16];
      ApplyWindow(x.data() + 8 * frames, coef.data(), 16, want);
      EXPECT_EQ(std::vector<int16_t>(v.output(), v.output() + 16), std::vector<int16_t>(want, want + 16)) << frames;
      ++frames;
    }
    pos += used;
  }
  EXPECT_EQ(frames, 4);  // 1 + (40 - 16) / 8
}

// ---- FFT ----

TEST(MicroFft, ImpulseHandComputed) {
  RealFft16 f4(4);  // complex size 2, one radix-2 butterfly
  const int16_t impulse[4] = {4096, 0, 0, 0};
  Complex16 out[3];
  f4.Transform(impulse, 4, 0, out);
  // 4096 * 16383 + 2^14 >> 15 = 2048 (the butterfly's /2), 1024 after the real split's /2.
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(out[k].r, 1024) << k;
    EXPECT_EQ(out[k].i, 0) << k;
  }
  RealFft16 f8(8);  // complex size 4, one radix-4 butterfly: 4096 * 8191 + 2^14 >> 15 = 1024
  const Complex16 z[4] = {{4096, 0}, {0, 0}, {0, 0}, {0, 0}};
  Complex16 y[4];
  f8.ComplexTransform(z, y);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(y[k].r, 1024) << k;
  // The /4 is a multiply by 32767 / 4 = 8191 in Q15: 32767 * 8191 + 2^14 >> 15 = 8191 (not 8192 = 32767 / 4 rounded).
  const Complex16 full[4] = {{32767, 0}, {0, 0}, {0, 0}, {0, 0}};
  f8.ComplexTransform(full, y);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(y[k].r, 8191) << k;
  // The input shift wraps as int16: 0x4001 << 1 = 0x8002 = -32766.
  const int16_t big[4] = {0x4001, 0, 0, 0};
  f4.Transform(big, 4, 1, out);
  EXPECT_LT(out[0].r, 0);
}

TEST(MicroFft, CloseToTheScaledDft) {
  // The fixed-point transform is the DFT / fft_size up to a few units of rounding.
  for (int n : {16, 64, 256, 512, 1024}) {
    RealFft16 fft(n);
    std::vector<int16_t> x(static_cast<size_t>(n));
    Rng rng(static_cast<uint64_t>(n));
    for (auto& v : x) v = int16_t(std::lround((rng.Uniform() - 0.5) * 60000));
    std::vector<Complex16> out(size_t(n / 2 + 1));
    fft.Transform(x.data(), n, 0, out.data());
    double worst = 0;
    for (int k = 0; k <= n / 2; ++k) {
      std::complex<double> s = 0;
      for (int t = 0; t < n; ++t) s += double(x[size_t(t)]) * std::polar(1.0, -2 * std::numbers::pi * k * t / n);
      s /= n;
      worst = std::max(worst, std::abs(s - std::complex<double>(out[size_t(k)].r, out[size_t(k)].i)));
    }
    EXPECT_LT(worst, 2.5 + std::log2(n)) << n;
  }
  ExpectUsage([] { RealFft16 f(100); }, "power of two");
}

// ---- filterbank ----

TEST(MicroFilterbank, SqrtRoundsAndSaturates) {
  const std::vector<std::pair<uint32_t, uint32_t>> cases = {
      {0, 0}, {1, 1}, {2, 1}, {3, 2}, {4, 2}, {15, 4}, {16, 4}, {24, 5}, {1000000, 1000}, {0xFFFFFFFFu, 0xFFFF}};
  for (auto [x, r] : cases) EXPECT_EQ(Sqrt32(x), r) << x;
  EXPECT_EQ(Sqrt64(uint64_t(1) << 32), 65536u);
  EXPECT_EQ(Sqrt64(uint64_t(1) << 40), 1u << 20);
  EXPECT_EQ(Sqrt64((uint64_t(1) << 40) + (uint64_t(1) << 20) + 1), (1u << 20) + 1);  // (2^20 + 0.5)^2 + 0.75: rounds up
  EXPECT_EQ(Sqrt64(0xFFFFFFFFull), 0xFFFFu);  // the 32-bit shortcut
}

TEST(MicroFilterbank, MicroSpeechLayout) {
  const FrontendOptions o = FrontendOptions::MicroSpeech();
  Filterbank fb(o.filterbank, 16000, 257);
  // 31.25 Hz per bin: the first bin is int(1.5 + 125 / 31.25) = 5; 7500 Hz is bin 240.
  EXPECT_EQ(fb.start_bin(), 5);
  EXPECT_EQ(fb.end_bin(), 241);
  int next = fb.start_bin();
  for (int c = 0; c <= fb.num_channels(); ++c) {
    EXPECT_EQ(fb.channel_start(c), next) << c;  // channels tile the bins
    next += int(fb.channel_weights(c).size());
    for (size_t j = 0; j < fb.channel_weights(c).size(); ++j) {
      const int sum = fb.channel_weights(c)[j] + fb.channel_unweights(c)[j];
      EXPECT_GE(sum, 4095);
      EXPECT_LE(sum, 4097);
    }
  }
  EXPECT_EQ(next, fb.end_bin());
  // Weights that float32 mel arithmetic or a fused multiply-add would round the other way
  // (TensorFlow's double log1p gives these; see filterbank.cc).
  EXPECT_EQ(fb.channel_start(39), 213);
  EXPECT_EQ(fb.channel_weights(39)[8], 1400);
  EXPECT_EQ(fb.channel_weights(39)[12], 208);
  EXPECT_EQ(fb.channel_unweights(39)[8], 2696);
  EXPECT_EQ(fb.channel_unweights(39)[12], 3888);
  EXPECT_EQ(fb.channel_weights(33)[3], 2470);
}

TEST(MicroFilterbank, OneBinFeedsTwoChannels) {
  const FrontendOptions o = FrontendOptions::MicroSpeech();
  Filterbank fb(o.filterbank, 16000, 257);
  std::vector<Complex16> spec(257);
  const int c = 10, bin = fb.channel_start(c) + 1;
  spec[size_t(bin)] = {300, -400};  // energy 250000
  std::vector<uint64_t> work(size_t(fb.num_channels() + 1));
  fb.Accumulate(spec.data(), work.data());
  for (int k = 0; k <= fb.num_channels(); ++k) {
    uint64_t want = 0;
    if (k == c) want = uint64_t(fb.channel_weights(c)[1]) * 250000;
    if (k == c + 1) want = uint64_t(fb.channel_unweights(c)[1]) * 250000;
    EXPECT_EQ(work[size_t(k)], want) << k;
  }
  // Output channel c-1 is sqrt(work[c]) >> shift.
  std::vector<uint32_t> out(size_t(fb.num_channels()));
  fb.Apply(spec.data(), 2, out.data());
  EXPECT_EQ(out[size_t(c - 1)], Sqrt64(work[size_t(c)]) >> 2);
  // (-32768, -32768) has energy 2^31, which the reference stores in an int32 (negative) and
  // sign-extends: the accumulator wraps as it does there.
  spec[size_t(bin)] = {-32768, -32768};
  fb.Accumulate(spec.data(), work.data());
  EXPECT_EQ(work[size_t(c)], uint64_t(fb.channel_weights(c)[1]) * 0xFFFFFFFF80000000ull);
}

TEST(MicroFilterbank, RejectsBandsPastTheSpectrum) {
  FilterbankOptions o;
  o.upper_hz = 8000;
  ExpectUsage([&] { o.Validate(16000, 257); }, "upper_hz");
  o.upper_hz = 7999.999f;  // below 8000, but its float32 mel rounds onto the Nyquist bin's
  o.num_channels = 40;
  ExpectUsage([&] { o.Validate(16000, 257); }, "reaches past");
  o.upper_hz = 7999.99f;
  EXPECT_NO_THROW(o.Validate(16000, 257));
  o.upper_hz = 7500;
  o.num_channels = 0;
  ExpectUsage([&] { o.Validate(16000, 257); }, "num_channels");
}

// ---- noise reduction ----

TEST(MicroNoiseReduction, HandComputedTwoFrames) {
  NoiseReduction nr(NoiseReductionOptions{}, 2);
  // Q14: 0.025 -> 409, 0.06 -> 983, 0.05 -> 819 (truncated)
  EXPECT_EQ(nr.even_smoothing_q14(), 409);
  EXPECT_EQ(nr.odd_smoothing_q14(), 983);
  EXPECT_EQ(nr.min_signal_remaining_q14(), 819);
  uint32_t s[2] = {100, 200};
  nr.Apply(s);
  // ch0: scaled 102400, estimate 102400 * 409 >> 14 = 2556, (102400 - 2556) >> 10 = 97 (floor 4)
  // ch1: scaled 204800, estimate 204800 * 983 >> 14 = 12287, (204800 - 12287) >> 10 = 188
  EXPECT_EQ(s[0], 97u);
  EXPECT_EQ(s[1], 188u);
  EXPECT_EQ(nr.estimate(), (std::vector<uint32_t>{2556, 12287}));
  s[0] = 100, s[1] = 200;
  nr.Apply(s);  // estimates carry: (102400 * 409 + 2556 * 15975) >> 14 = 5048
  EXPECT_EQ(nr.estimate(), (std::vector<uint32_t>{5048, 23837}));
  EXPECT_EQ(s[0], 95u);
  EXPECT_EQ(s[1], 176u);
  nr.Reset();
  EXPECT_EQ(nr.estimate(), (std::vector<uint32_t>{0, 0}));
  // The floor: an estimate above the signal leaves min_signal_remaining of it.
  NoiseReduction full(NoiseReductionOptions{10, 1.0f, 1.0f, 0.05f}, 1);
  uint32_t x[1] = {1000};
  full.Apply(x);  // estimate = signal: nothing left but 1000 * 819 >> 14 = 49
  EXPECT_EQ(x[0], 49u);
}

// ---- PCAN ----

TEST(MicroPcan, ShrinkHandComputed) {
  EXPECT_EQ(PcanShrink(0), 0u);
  EXPECT_EQ(PcanShrink(4096), 16u);     // 4096^2 >> 20
  EXPECT_EQ(PcanShrink(8191), 63u);     // 67092481 >> 20
  EXPECT_EQ(PcanShrink(8192), 64u);     // (8192 >> 6) - 64
  EXPECT_EQ(PcanShrink(16384), 192u);   // (16384 >> 6) - 64
}

TEST(MicroPcan, TableAndLookup) {
  PcanOptions o;
  o.enabled = true;
  // g(x) = int16(2^21 (x / 2^7 + 80)^-0.95 + 0.5), float32 powf
  EXPECT_EQ(PcanGainLookup(o, 7, 0), 32636);
  EXPECT_EQ(PcanGainLookup(o, 7, 4), 32624);
  EXPECT_EQ(PcanGainLookup(o, 7, 6), 32618);
  EXPECT_EQ(PcanGainLookup(o, 7, 8), 32612);
  EXPECT_EQ(PcanGainLookup(o, 7, 1000), 29871);
  const std::vector<int16_t> lut = PcanGainTable(o, 7);
  ASSERT_EQ(lut.size(), size_t(kWideDynamicFunctionLutSize));
  // interval 3 (x in [4, 8)): y0 = g(4), a1 = 4 (g(6) - g(4)) - (g(8) - g(4)) = -12, a2 = -12 - a1 = 0
  EXPECT_EQ(lut[6], 32624);
  EXPECT_EQ(lut[7], -12);
  EXPECT_EQ(lut[8], 0);
  EXPECT_EQ(WideDynamicFunction(0, lut.data()), 32636);
  EXPECT_EQ(WideDynamicFunction(4, lut.data()), 32624);  // frac 0: y0
  // x = 6: frac 512; ((0 >> 5) + (-12 << 5)) * 512 = -196608; (-196608 + 2^14) >> 15 = -6 -> 32618
  EXPECT_EQ(WideDynamicFunction(6, lut.data()), 32618);
  PcanGainControl pcan(o, 10, 3);
  EXPECT_EQ(pcan.snr_shift(), 6);  // 21 - 3 - 12
  const uint32_t noise[2] = {4, 6};
  uint32_t sig[2] = {8, 1000};
  pcan.Apply(noise, sig, 2);
  // snr = 8 * 32624 >> 6 = 4078 -> 4078^2 >> 20 = 15; 1000 * 32618 >> 6 = 509656 -> (509656 >> 6) - 64 = 7899
  EXPECT_EQ(sig[0], 15u);
  EXPECT_EQ(sig[1], 7899u);
  o.gain_bits = 10;
  ExpectUsage([&] { o.Validate(10, 3); }, "gain_bits");
}

// ---- log scale ----

TEST(MicroLogScale, HandComputed) {
  const uint16_t* lut = LogLut();
  EXPECT_EQ(lut[0], 0);
  EXPECT_EQ(lut[1], 224);   // 65536 (log2(1 + 1/128) - 1/128) = 223.8
  EXPECT_EQ(lut[64], 5568);
  EXPECT_EQ(lut[128], 0);
  // 2^k: log2 exact, ln = 45426 k, out = (45426 k 64 + 2^15) >> 16
  EXPECT_EQ(Log(1024, 6), 444u);  // ln(1024) 64 = 443.6
  EXPECT_EQ(Log(8, 6), 133u);
  // 3: mantissa 0.5 -> segment 64, log2 = 65536 + 32768 + 5568 = 103872; ln = 71999; out 70
  EXPECT_EQ(Log(3, 6), 70u);
  const uint32_t sig[4] = {0, 1, 128, 70000};
  uint16_t out[4];
  ApplyLogScale(LogScaleOptions{}, sig, 4, 3, out);  // values << 3 first
  EXPECT_EQ(std::vector<uint16_t>(out, out + 4), (std::vector<uint16_t>{0, 133, 444, uint16_t(Log(560000, 6))}));
  EXPECT_NEAR(double(Log(560000, 6)), 847.08, 1.0);  // ln(560000) 64
  ApplyLogScale(LogScaleOptions{false, 6}, sig, 4, 3, out);  // off: clamped to uint16, no shift
  EXPECT_EQ(std::vector<uint16_t>(out, out + 4), (std::vector<uint16_t>{0, 1, 128, 65535}));
}

// ---- the whole front end ----

TEST(MicroFrontend, Int8MappingAndDequantization) {
  EXPECT_EQ(ToInt8(0), -128);    // (0 + 333) / 666 - 128
  EXPECT_EQ(ToInt8(330), -1);    // 84813 / 666 = 127
  EXPECT_EQ(ToInt8(333), 0);     // 85581 / 666 = 128
  EXPECT_EQ(ToInt8(666), 127);   // 256 - 128 = 128, clamped
  EXPECT_EQ(ToInt8(65535), 127);
  EXPECT_EQ(Dequantize(-128), 0.0f);
  EXPECT_EQ(Dequantize(127), 255.0f * 1665.0f / 16384.0f);
  EXPECT_EQ(ToInt16(0.5f), 16384);
  EXPECT_EQ(ToInt16(-1.0f), -32768);
  EXPECT_EQ(ToInt16(1.0f), 32767);
  EXPECT_EQ(ToInt16(float(-123) / 32768.0f), -123);
}

TEST(MicroFrontend, StreamingEqualsWholeClip) {
  const std::vector<int16_t> x = TestSignal(16000 * 3 / 2, 7);
  for (FrontendOptions o : {FrontendOptions::MicroSpeech(), FrontendOptions{}}) {
    Frontend fe(o, 16000);
    int frames = 0;
    const std::vector<uint16_t> whole = fe.ComputeClip(x.data(), x.size(), &frames);
    EXPECT_EQ(frames, Frontend::NumFrames(x.size(), fe.window_size(), fe.window_step()));
    // Streamed in uneven chunks after some other audio and a Reset.
    fe.ComputeClip(x.data() + 1000, 5000);
    fe.Reset();
    std::vector<uint16_t> streamed, frame(size_t(fe.num_channels()));
    Rng rng(3);
    size_t pos = 0;
    while (pos < x.size()) {
      size_t chunk = std::min(x.size() - pos, size_t(1 + rng.Uniform() * 700));
      const int16_t* p = x.data() + pos;
      pos += chunk;
      while (chunk > 0) {
        size_t used = 0;
        if (fe.ProcessSamples(p, chunk, &used, frame.data())) streamed.insert(streamed.end(), frame.begin(), frame.end());
        p += used;
        chunk -= used;
      }
    }
    EXPECT_EQ(streamed, whole);
    // The noise estimate carries: the second half streamed after the first differs from the
    // second half alone from a reset state.
    const size_t half = size_t(fe.window_step()) * 30;
    int f2 = 0;
    const std::vector<uint16_t> alone = fe.ComputeClip(x.data() + half, x.size() - half, &f2);
    ASSERT_GT(f2, 5);
    const std::vector<uint16_t> tail(whole.begin() + ptrdiff_t(30 * fe.num_channels()),
                                     whole.begin() + ptrdiff_t((30 + 5) * fe.num_channels()));
    EXPECT_NE(tail, std::vector<uint16_t>(alone.begin(), alone.begin() + ptrdiff_t(5 * fe.num_channels())));
  }
}

TEST(MicroFrontend, FeatureExtractorAndStreamingFeatures) {
  FeatureOptions f;
  f.frontend = "micro";
  ASSERT_NO_THROW(f.Validate());
  EXPECT_EQ(f.frame_length(), 480);
  EXPECT_EQ(f.frame_step(), 320);
  EXPECT_EQ(f.num_features(), 40);
  EXPECT_EQ(f.num_frames(f.window_samples()), 49);
  const std::vector<int16_t> x = TestSignal(16000, 11);
  std::vector<float> xf(x.size());
  for (size_t i = 0; i < x.size(); ++i) xf[i] = float(x[i]) / 32768.0f;
  FeatureExtractor fx(f);
  const FeatureMatrix m = fx.Compute(xf.data(), int(xf.size()));
  Frontend fe(f.micro, 16000);
  const std::vector<uint16_t> v = fe.ComputeClip(x.data(), x.size());
  ASSERT_EQ(m.frames, 49);
  ASSERT_EQ(m.bins, 40);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(m.data[i], Dequantize(ToInt8(v[i]))) << i;
  EXPECT_THROW(fx.ComputeFrame(xf.data(), nullptr), Error);
  // Streaming features: the frames of the whole stream, as on a device.
  StreamingFeatures sf(f, 49);
  for (size_t pos = 0; pos < xf.size(); pos += 333) sf.AcceptWaveform(xf.data() + pos, std::min<size_t>(333, xf.size() - pos));
  ASSERT_EQ(sf.NumFramesReady(), 49);
  std::vector<float> last(49 * 40);
  sf.CopyLastFrames(49, last.data());
  EXPECT_EQ(last, m.data);
}

TEST(MicroFrontend, OptionsValidateKeyTomlJson) {
  FeatureOptions f;
  f.frontend = "micro";
  const std::string key = f.Key();
  EXPECT_NE(key.find("frontend=micro"), std::string::npos);
  EXPECT_NE(key.find("pcan=1"), std::string::npos);
  FeatureOptions g = f;
  g.micro.noise_reduction.odd_smoothing = 0.07f;
  EXPECT_NE(g.Key(), key);
  EXPECT_EQ(FeatureOptions{}.Key().find("micro"), std::string::npos);  // tf.signal keys unchanged
  // TOML: [features] frontend = "micro" with a micro table; tf.signal keys are rejected.
  toml::table t = toml::parse("frontend = \"micro\"\nclip_seconds = 1.0\n[micro]\nwindow_ms = 30\nstep_ms = 10\n"
                              "num_channels = 40\npcan = true\nlower_hz = 125\n");
  FeatureOptions h = FeatureOptionsFromToml(t);
  EXPECT_TRUE(h.is_micro());
  EXPECT_EQ(h.micro.window.step_ms, 10);
  EXPECT_EQ(h.num_frames(h.window_samples()), 98);  // 1 + (16000 - 480) / 160
  EXPECT_EQ(FeatureOptionsFromToml(FeatureOptionsToToml(h)).Key(), h.Key());
  EXPECT_EQ(FeatureOptionsFromJsonObject(FeatureOptionsToJsonObject(h)).Key(), h.Key());
  EXPECT_EQ(FeatureOptionsToJsonObject(h)["micro"]["even_smoothing"].get<double>(), 0.025);  // shortest text
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("frontend = \"micro\"\nnum_mel_bins = 40")); }, "num_mel_bins");
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("[micro]\nwindow_ms = 30")); }, "frontend");
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("frontend = \"mikro\"")); }, "frontend");
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("frontend = \"micro\"\n[micro]\nwindow = 30")); }, "window");
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("frontend = \"micro\"\n[micro]\npcan = 1")); }, "pcan");
  // Validate names the setting.
  auto bad = [](auto change, const std::string& what) {
    FeatureOptions o;
    o.frontend = "micro";
    change(o);
    ExpectUsage([&] { o.Validate(); }, what);
  };
  bad([](FeatureOptions& o) { o.micro.window.step_ms = 40; }, "step_ms");
  bad([](FeatureOptions& o) { o.micro.window.size_ms = 0; }, "window_ms");
  bad([](FeatureOptions& o) { o.micro.filterbank.upper_hz = 9000; }, "upper_hz");
  bad([](FeatureOptions& o) { o.micro.noise_reduction.even_smoothing = 1.5f; }, "even_smoothing");
  bad([](FeatureOptions& o) { o.micro.log_scale.scale_shift = 40; }, "scale_shift");
  bad([](FeatureOptions& o) { o.clip_seconds = 0.01; }, "clip_seconds");
  bad([](FeatureOptions& o) { o.frontend = "other"; }, "frontend");
}

// ---- TFLite Micro's own output ----

TEST(MicroFrontend, BitExactOnMicroSpeechYes) {
  const std::string wav = Reference("yes_1000ms.wav"), bin = Reference("yes_1000ms_features_int8.bin");
  if (!std::filesystem::exists(wav) || !std::filesystem::exists(bin)) GTEST_SKIP() << "no " << wav;
  const Audio a = ReadAudio(wav, 16000);
  ASSERT_EQ(a.samples.size(), 16000u);
  std::vector<int16_t> pcm(a.samples.size());
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = ToInt16(a.samples[i]);
  Frontend fe(FrontendOptions::MicroSpeech(), 16000);
  int frames = 0;
  const std::vector<uint16_t> v = fe.ComputeClip(pcm.data(), pcm.size(), &frames);
  std::ifstream in(bin, std::ios::binary);
  const std::vector<char> want((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(frames, 49);
  ASSERT_EQ(want.size(), v.size());
  int mismatches = 0;
  for (size_t i = 0; i < v.size(); ++i)
    if (ToInt8(v[i]) != int8_t(want[i])) {
      if (++mismatches <= 5)
        ADD_FAILURE() << "frame " << i / 40 << " channel " << i % 40 << ": " << int(ToInt8(v[i])) << " (uint16 " << v[i]
                      << "), TFLite Micro " << int(int8_t(want[i]));
    }
  EXPECT_EQ(mismatches, 0);
}
