// Feature stages against hand-checked values: window, mel matrix, FFT,
// frame counts, MFCC, options validation / key / TOML / JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <limits>
#include <tuple>
#include <numbers>
#include <string>
#include <vector>

#include "features/features.h"
#include "features/fft.h"
#include "features/mel.h"
#include "features/mfcc.h"
#include "features/options_io.h"
#include "features/vlog.h"
#include "features/window.h"
#include "util/cpu.h"
#include "util/error.h"
#include "util/rng.h"

using namespace kws;

namespace {

// Expects f() to throw a usage error whose message mentions `what`.
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

}  // namespace

TEST(Window, HannPeriodicEvenSymmetricOdd) {
  auto w4 = MakeWindow("hann", 4);  // D = 4: 0.5 - 0.5 cos(pi n / 2)
  ASSERT_EQ(w4.size(), 4u);
  EXPECT_NEAR(w4[0], 0.0, 1e-15);
  EXPECT_NEAR(w4[1], 0.5, 1e-15);
  EXPECT_NEAR(w4[2], 1.0, 1e-15);
  EXPECT_NEAR(w4[3], 0.5, 1e-15);
  auto w5 = MakeWindow("hann", 5);  // odd: symmetric, D = 4
  std::vector<double> want5 = {0.0, 0.5, 1.0, 0.5, 0.0};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(w5[size_t(i)], want5[size_t(i)], 1e-15) << i;
  auto w512 = MakeWindow("hann", 512);
  EXPECT_NEAR(w512[256], 1.0, 1e-15);
  EXPECT_NEAR(w512[128], 0.5, 1e-15);
  EXPECT_NEAR(w512[1], 0.5 - 0.5 * std::cos(2 * std::numbers::pi / 512), 1e-15);
  EXPECT_EQ(MakeWindow("hann", 1), std::vector<double>{1.0});
  auto h4 = MakeWindow("hamming", 4);
  EXPECT_NEAR(h4[0], 0.08, 1e-15);
  EXPECT_NEAR(h4[1], 0.54, 1e-15);
  EXPECT_NEAR(h4[2], 1.0, 1e-15);
  EXPECT_EQ(MakeWindow("none", 3), (std::vector<double>{1, 1, 1}));
  ExpectUsage([] { MakeWindow("kaiser", 4); }, "kaiser");
}

TEST(Mel, HertzToMel) {
  EXPECT_DOUBLE_EQ(HertzToMel(0), 0.0);
  EXPECT_NEAR(HertzToMel(700), 1127.0 * std::log(2.0), 1e-9);
  EXPECT_NEAR(HertzToMel(1000), 999.99070, 1e-4);  // the HTK mel scale maps 1 kHz to ~1000 mel
}

TEST(Mel, MatrixShapeDcEdgesAndPeaks) {
  const int M = 20, K = 257;
  auto w = MelWeightMatrix(M, K, 16000, 20, 6000);
  ASSERT_EQ(w.size(), size_t(K * M));
  for (int b = 0; b < M; ++b) EXPECT_EQ(w[size_t(b)], 0.0) << "DC row must be zero";
  // Bin 192 is exactly 6000 Hz (the upper edge): weight 0 there and above.
  for (int k = 192; k < K; ++k)
    for (int b = 0; b < M; ++b) EXPECT_EQ(w[size_t(k * M + b)], 0.0) << k << "," << b;
  // Bin 1 (31.25 Hz) is inside the first band, above the 20 Hz lower edge.
  EXPECT_GT(w[size_t(1 * M + 0)], 0.0);
  for (int b = 0; b < M; ++b) {
    double mx = 0;
    for (int k = 0; k < K; ++k) {
      EXPECT_GE(w[size_t(k * M + b)], 0.0);
      mx = std::max(mx, w[size_t(k * M + b)]);
    }
    EXPECT_LE(mx, 1.0);
    EXPECT_GT(mx, 0.5) << "band " << b << " (no normalisation: peaks near 1)";
  }
  // A hand-checked weight: bin 10 (312.5 Hz), band 3.
  const double lo = 1127 * std::log(1 + 20 / 700.0), hi = 1127 * std::log(1 + 6000 / 700.0);
  const double e3 = lo + (hi - lo) * 3 / 21, e4 = lo + (hi - lo) * 4 / 21, e5 = lo + (hi - lo) * 5 / 21;
  const double m = 1127 * std::log(1 + 312.5 / 700);
  const double want = std::max(0.0, std::min((m - e3) / (e4 - e3), (e5 - m) / (e5 - e4)));
  EXPECT_GT(want, 0.0);
  EXPECT_NEAR(w[size_t(10 * M + 3)], want, 1e-12);
}

TEST(Mel, PeakIsExactlyOneOnACentre) {
  // One band whose centre lands on bin 32 (1000 Hz at 16 kHz / 512):
  // upper edge = mel^-1(2 mel(1000)) = 700 ((1 + 1000/700)^2 - 1).
  const double upper = 700 * (std::pow(1 + 1000.0 / 700, 2) - 1);
  auto w = MelWeightMatrix(1, 257, 16000, 0, upper);
  EXPECT_NEAR(w[32], 1.0, 1e-12);
  EXPECT_LT(w[31], 1.0);
  EXPECT_LT(w[33], 1.0);
  // Linear in mel on the rising side: w = mel(f) / mel(1000).
  EXPECT_NEAR(w[16], HertzToMel(500) / HertzToMel(1000), 1e-12);
}

TEST(Mel, SparseEqualsDense) {
  for (auto [M, lo, hi] : {std::tuple{20, 20.0, 6000.0}, std::tuple{40, 20.0, 4000.0}, std::tuple{64, 0.0, 8000.0}}) {
    auto dense = MelWeightMatrix(M, 257, 16000, lo, hi);
    SparseMel s = SparseMel::Build(M, 257, 16000, lo, hi);
    Rng rng(3);
    std::vector<double> spec(257), out(static_cast<size_t>(M));
    for (auto& v : spec) v = rng.Uniform() * 10;
    s.Apply(spec.data(), out.data());
    for (int b = 0; b < M; ++b) {
      double want = 0;
      for (int k = 0; k < 257; ++k) want += spec[size_t(k)] * dense[size_t(k * M + b)];
      EXPECT_NEAR(out[size_t(b)], want, 1e-12 * std::max(1.0, want)) << M << " band " << b;
    }
    EXPECT_GE(s.min_bin, 1);
    EXPECT_LE(s.max_bin, 256);
  }
}

// Naive DFT in long double: X[k] = sum_t x[t] exp(sign 2 pi i k t / n).
static std::vector<std::complex<double>> NaiveDft(const std::vector<std::complex<double>>& x, int sign) {
  const int n = int(x.size());
  std::vector<long double> c(x.size()), s(x.size());  // exp(sign 2 pi i j / n), j < n
  for (int j = 0; j < n; ++j) {
    const long double a = 2.0L * std::numbers::pi_v<long double> * j / n;
    c[size_t(j)] = std::cos(a);
    s[size_t(j)] = sign * std::sin(a);
  }
  std::vector<std::complex<double>> X(x.size());
  for (int k = 0; k < n; ++k) {
    long double sr = 0, si = 0;
    for (int t = 0, j = 0; t < n; ++t, j = (j + k) % n) {  // j = k t mod n
      sr += x[size_t(t)].real() * c[size_t(j)] - x[size_t(t)].imag() * s[size_t(j)];
      si += x[size_t(t)].real() * s[size_t(j)] + x[size_t(t)].imag() * c[size_t(j)];
    }
    X[size_t(k)] = {double(sr), double(si)};
  }
  return X;
}

// Both backends are double precision: a float32 FFT would miss this by ~1e-7.
TEST(Fft, RealForwardMatchesNaiveDftForManySizes) {
  for (int n : {2, 4, 6, 8, 10, 16, 30, 32, 64, 128, 256, 400, 480, 512, 1000, 1024, 2048, 4096}) {
    RealFft fft(n);
    ASSERT_EQ(fft.bins(), n / 2 + 1);
    Rng rng{uint64_t(n)};
    std::vector<double> x(static_cast<size_t>(n));
    std::vector<std::complex<double>> xc(x.size()), X(static_cast<size_t>(n / 2 + 1), {-7.0, -7.0});
    for (size_t t = 0; t < x.size(); ++t) xc[t] = x[t] = rng.Uniform() * 2 - 1;
    fft.Forward(x.data(), X.data());
    const auto want = NaiveDft(xc, -1);
    double err = 0, scale = 0;
    for (int k = 0; k <= n / 2; ++k) {
      err = std::max(err, std::abs(want[size_t(k)] - X[size_t(k)]));
      scale = std::max(scale, std::abs(want[size_t(k)]));
    }
    EXPECT_LT(err, 1e-12 * std::max(1.0, scale)) << "n=" << n << " backend " << fft.backend();
    EXPECT_EQ(X[0].imag(), 0.0) << "n=" << n;
    EXPECT_EQ(X[size_t(n / 2)].imag(), 0.0) << "n=" << n;
  }
  EXPECT_THROW(RealFft(7), Error);
  EXPECT_THROW(RealFft(0), Error);
}

TEST(Fft, RealInverseIsUnnormalisedInverse) {
  for (int n : {2, 6, 30, 400, 512, 1000, 4096}) {
    RealFft fft(n);
    Rng rng{uint64_t(n) + 100};
    std::vector<double> x(static_cast<size_t>(n)), y(x.size(), -7.0), z(x.size());
    for (auto& v : x) v = rng.Uniform() * 2 - 1;
    std::vector<std::complex<double>> X(static_cast<size_t>(n / 2 + 1));
    fft.Forward(x.data(), X.data());
    fft.Inverse(X.data(), y.data());
    for (size_t t = 0; t < x.size(); ++t) ASSERT_NEAR(y[t] / n, x[t], 1e-13) << "n=" << n << " t=" << t;
    // Against the naive inverse of an arbitrary Hermitian spectrum (imaginary
    // parts at DC and Nyquist are ignored by definition).
    for (auto& c : X) c = {rng.Uniform() - 0.5, rng.Uniform() - 0.5};
    std::vector<std::complex<double>> full(x.size());
    for (int k = 0; k <= n / 2; ++k) full[size_t(k)] = X[size_t(k)];
    full[0].imag(0.0);
    full[size_t(n / 2)].imag(0.0);
    for (int k = n / 2 + 1; k < n; ++k) full[size_t(k)] = std::conj(full[size_t(n - k)]);
    const auto want = NaiveDft(full, +1);
    fft.Inverse(X.data(), z.data());
    for (size_t t = 0; t < x.size(); ++t) {
      ASSERT_NEAR(z[t], want[t].real(), 1e-11 * n) << "n=" << n << " t=" << t;
      ASSERT_NEAR(want[t].imag(), 0.0, 1e-9);
    }
  }
}

TEST(Fft, ComplexMatchesNaiveDftBothDirections) {
  for (int n : {1, 2, 3, 5, 12, 64, 100, 1024}) {
    for (bool inverse : {false, true}) {
      ComplexFft fft(n, inverse);
      Rng rng{uint64_t(n) * 2 + inverse};
      std::vector<std::complex<double>> x(static_cast<size_t>(n)), y(x.size());
      for (auto& c : x) c = {rng.Uniform() * 2 - 1, rng.Uniform() * 2 - 1};
      const auto want = NaiveDft(x, inverse ? +1 : -1);
      fft.Transform(x.data(), y.data());
      for (size_t k = 0; k < x.size(); ++k)
        EXPECT_LT(std::abs(y[k] - want[k]), 1e-12 * std::max(1, n)) << "n=" << n << " inverse=" << inverse;
      fft.Transform(x.data(), x.data());  // in place gives the same bits
      for (size_t k = 0; k < x.size(); ++k) EXPECT_EQ(x[k], y[k]);
    }
  }
  EXPECT_THROW(ComplexFft(0, false), Error);
}

// Features must be bit-identical from run to run and between extractors (the
// training determinism rests on it): independent plans give the same bits.
TEST(Fft, IndependentPlansGiveIdenticalBits) {
  Rng rng(9);
  std::vector<double> x(512);
  for (auto& v : x) v = rng.Uniform();
  std::vector<std::complex<double>> a(257), b(257);
  {
    RealFft f1(512);
    f1.Forward(x.data(), a.data());
    f1.Forward(x.data(), b.data());
    for (size_t k = 0; k < a.size(); ++k) ASSERT_EQ(a[k], b[k]);
  }
  RealFft f2(512), f3(1024);  // another plan of the same size, made after another size
  f2.Forward(x.data(), b.data());
  for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k], b[k]) << k;
}

TEST(Options, DerivedSizesAndFrames) {
  FeatureOptions o;
  EXPECT_EQ(o.frame_length(), 512);
  EXPECT_EQ(o.frame_step(), 160);
  EXPECT_EQ(o.fft_size(), 512);
  EXPECT_EQ(o.window_samples(), 16000);
  EXPECT_EQ(o.num_frames(16000), 97);  // 1 + (16000 - 512) / 160
  EXPECT_EQ(o.num_frames(512), 1);
  EXPECT_EQ(o.num_frames(100), 1);  // shorter than a frame: padded to one
  EXPECT_EQ(o.num_features(), 20);
  FeatureOptions m;
  m.frame_length_s = 0.03, m.frame_step_s = 0.02, m.num_mel_bins = 40, m.upper_hz = 4000, m.mfcc = 10;
  m.fft_length = 0;
  EXPECT_EQ(m.frame_length(), 480);
  EXPECT_EQ(m.fft_size(), 512);  // next power of two
  EXPECT_EQ(m.num_frames(16000), 49);
  EXPECT_EQ(m.num_features(), 10);
  m.Validate();
}

TEST(Options, ValidateNamesTheSetting) {
  auto bad = [](auto edit, const std::string& what) {
    FeatureOptions o;
    edit(o);
    ExpectUsage([&] { o.Validate(); }, what);
  };
  bad([](FeatureOptions& o) { o.upper_hz = 8001; }, "upper_hz");
  bad([](FeatureOptions& o) { o.lower_hz = 6000; }, "lower_hz");
  bad([](FeatureOptions& o) { o.lower_hz = -1; }, "lower_hz");
  bad([](FeatureOptions& o) { o.sample_rate = 0; }, "sample_rate");
  bad([](FeatureOptions& o) { o.frame_length_s = 0; }, "frame_length_s");
  bad([](FeatureOptions& o) { o.frame_step_s = -0.01; }, "frame_step_s");
  bad([](FeatureOptions& o) { o.frame_step_s = 0.05; }, "frame_step_s");
  bad([](FeatureOptions& o) { o.fft_length = 256; }, "fft_length");
  bad([](FeatureOptions& o) { o.fft_length = 513; }, "fft_length");
  bad([](FeatureOptions& o) { o.fft_length = -2; }, "fft_length");
  bad([](FeatureOptions& o) { o.num_mel_bins = 0; }, "num_mel_bins");
  bad([](FeatureOptions& o) { o.mfcc = 21; }, "mfcc");
  bad([](FeatureOptions& o) { o.mfcc = -1; }, "mfcc");
  bad([](FeatureOptions& o) { o.window = "blackman"; }, "window");
  bad([](FeatureOptions& o) { o.log_offset = 0; }, "log_offset");
  bad([](FeatureOptions& o) { o.clip_seconds = 0.01; }, "clip_seconds");
  bad([](FeatureOptions& o) { o.upper_hz = NAN; }, "upper_hz");
  FeatureOptions ok;
  ok.Validate();
  ExpectUsage([] { FeatureOptions o; o.upper_hz = 9000; FeatureExtractor fx(o); }, "upper_hz");
}

TEST(Options, KeyIsCanonical) {
  FeatureOptions a, b;
  EXPECT_EQ(a.Key(), b.Key());
  b.fft_length = 0;  // resolves to the same 512
  EXPECT_EQ(a.Key(), b.Key());
  b.num_mel_bins = 40;
  EXPECT_NE(a.Key(), b.Key());
  EXPECT_NE(a.Key().find("num_mel_bins=20"), std::string::npos) << a.Key();
  EXPECT_NE(a.Key().find("log_offset=1e-06"), std::string::npos) << a.Key();
  EXPECT_NE(a.Key().find("upper_hz=6000"), std::string::npos) << a.Key();
  // The FFT backend is part of the key: caches from the other backend differ in the last bits.
  EXPECT_NE(a.Key().find(std::string(";impl=") + FftImplTag()), std::string::npos) << a.Key();
#ifdef KWS_FFT_FFTW
  EXPECT_STREQ(FftImplTag(), "fftw-d2");
#else
  EXPECT_STREQ(FftImplTag(), "kiss-d2");
#endif
  FeatureOptions c;
  c.mfcc = 10;
  EXPECT_NE(a.Key(), c.Key());
  EXPECT_NE(a.ToString().find("97x20"), std::string::npos) << a.ToString();
}

TEST(Options, TomlAndJson) {
  toml::table t = toml::parse(R"(
    sample_rate = 8000
    frame_length_s = 0.03
    frame_step_s = 0.02
    num_mel_bins = 40
    lower_hz = 20
    upper_hz = 3800.5
    mfcc = 10
    window = "hamming"
  )");
  FeatureOptions f = FeatureOptionsFromToml(t);
  EXPECT_EQ(f.sample_rate, 8000);
  EXPECT_DOUBLE_EQ(f.frame_length_s, 0.03);
  EXPECT_EQ(f.num_mel_bins, 40);
  EXPECT_DOUBLE_EQ(f.lower_hz, 20.0);  // an integer is accepted for a float key
  EXPECT_DOUBLE_EQ(f.upper_hz, 3800.5);
  EXPECT_EQ(f.mfcc, 10);
  EXPECT_EQ(f.window, "hamming");
  EXPECT_EQ(f.fft_length, 512);  // untouched default
  f.Validate();
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("num_mel_bin = 40"), {}, "kws.toml [features]"); },
              "unknown key 'num_mel_bin'");
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("num_mel_bins = 4.5")); }, "num_mel_bins");
  ExpectUsage([] { FeatureOptionsFromToml(toml::parse("window = 3")); }, "window");
  // TOML round trip.
  FeatureOptions g = FeatureOptionsFromToml(FeatureOptionsToToml(f));
  EXPECT_EQ(g.Key(), f.Key());
  // JSON round trip and strictness.
  FeatureOptions h = FeatureOptionsFromJsonObject(FeatureOptionsToJsonObject(f));
  EXPECT_EQ(h.Key(), f.Key());
  try {
    FeatureOptionsFromJsonObject(nlohmann::json{{"bogus", 1}}, {}, "model.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos);
  }
}

TEST(Mfcc, MatrixIsScaledDctII) {
  auto d = MfccMatrix(3, 4);
  const double s = std::sqrt(2.0 / 4);
  EXPECT_NEAR(d[0], s, 1e-7);  // c0 row: sqrt(2/N) (not the orthonormal 1/sqrt(N))
  EXPECT_NEAR(d[1 * 4 + 0], s * std::cos(std::numbers::pi / 8), 1e-7);
  EXPECT_NEAR(d[2 * 4 + 3], s * std::cos(std::numbers::pi * 2 * 7 / 8), 1e-7);
  // A constant log-mel vector has only c0 = sqrt(2/N) * N * v.
  std::vector<float> lm(4, 2.0f), out(3);
  ApplyMfcc(d, 3, 4, lm.data(), out.data());
  EXPECT_NEAR(out[0], s * 4 * 2, 1e-5);
  EXPECT_NEAR(out[1], 0, 1e-6);
  EXPECT_NEAR(out[2], 0, 1e-6);
}

TEST(Extractor, SilenceSineAndFrames) {
  FeatureOptions o;
  FeatureExtractor fx(o);
  std::vector<float> zero(16000, 0.0f);
  FeatureMatrix z = fx.Compute(zero.data(), 16000);
  ASSERT_EQ(z.frames, 97);
  ASSERT_EQ(z.bins, 20);
  for (float v : z.data) EXPECT_FLOAT_EQ(v, float(std::log(1e-6)));

  // A 1 kHz sine: the loudest band is the one whose triangle covers 1 kHz best.
  std::vector<float> x(16000);
  for (int i = 0; i < 16000; ++i) x[size_t(i)] = float(0.5 * std::sin(2 * std::numbers::pi * 1000 * i / 16000));
  FeatureMatrix m = fx.Compute(x.data(), 16000);
  auto w = MelWeightMatrix(20, 257, 16000, 20, 6000);
  int want = 0;
  for (int b = 1; b < 20; ++b)
    if (w[size_t(32 * 20 + b)] > w[size_t(32 * 20 + want)]) want = b;
  for (int f = 0; f < m.frames; ++f) {
    int best = 0;
    for (int b = 1; b < 20; ++b)
      if (m.at(f, b) > m.at(f, best)) best = b;
    EXPECT_EQ(best, want) << "frame " << f;
  }
  // |X[32]| of a 0.5-amplitude bin-centred sine under a periodic hann: 0.5 * 512 / 4 = 64, so
  // the band's value is about log(64 * w[32][band] + neighbours) > log(64 * w).
  EXPECT_GT(m.at(0, want), std::log(64 * w[size_t(32 * 20 + want)]));

  // ComputeFrame gives the same row as Compute.
  std::vector<float> row(20);
  fx.ComputeFrame(x.data() + 160 * 5, row.data());
  for (int b = 0; b < 20; ++b) EXPECT_EQ(row[size_t(b)], m.at(5, b));

  // Shorter than a frame: zero-padded to one frame.
  FeatureMatrix s = fx.Compute(x.data(), 300);
  EXPECT_EQ(s.frames, 1);
  std::vector<float> padded(512, 0.0f);
  std::copy(x.begin(), x.begin() + 300, padded.begin());
  fx.ComputeFrame(padded.data(), row.data());
  for (int b = 0; b < 20; ++b) EXPECT_EQ(row[size_t(b)], s.at(0, b));
}

TEST(Extractor, MfccEqualsDctOfLogMel) {
  FeatureOptions lm;
  lm.frame_length_s = 0.03, lm.frame_step_s = 0.02, lm.num_mel_bins = 40, lm.upper_hz = 4000;
  FeatureOptions mf = lm;
  mf.mfcc = 10;
  Rng rng(5);
  std::vector<float> x(16000);
  for (auto& v : x) v = float(rng.Uniform() - 0.5);
  FeatureMatrix a = FeatureExtractor(lm).Compute(x.data(), 16000);
  FeatureMatrix c = FeatureExtractor(mf).Compute(x.data(), 16000);
  ASSERT_EQ(a.frames, 49);
  ASSERT_EQ(c.frames, 49);
  ASSERT_EQ(c.bins, 10);
  for (int f = 0; f < 49; ++f)
    for (int k = 0; k < 10; ++k) {
      double want = 0;
      for (int n = 0; n < 40; ++n)
        want += std::sqrt(2.0 / 40) * std::cos(std::numbers::pi * k * (2 * n + 1) / 80.0) * a.at(f, n);
      EXPECT_NEAR(c.at(f, k), want, 1e-4) << f << "," << k;
    }
}

// ---- The fast path (issue 2): packed real FFT, spectral window, float mel, vector log ----

TEST(Fft, PackedRealForwardMatchesNaiveDft) {
  for (int n : {2, 4, 6, 8, 10, 16, 30, 64, 256, 400, 480, 512, 1000, 1024}) {
    PackedRealFft fft(n);
    Rng rng{uint64_t(n) + 7};
    std::vector<double> x(static_cast<size_t>(n));
    std::vector<std::complex<double>> xc(x.size()), X(static_cast<size_t>(n / 2 + 1), {-7.0, -7.0});
    for (size_t t = 0; t < x.size(); ++t) xc[t] = x[t] = rng.Uniform() * 2 - 1;
    fft.Forward(x.data(), X.data());
    const auto want = NaiveDft(xc, -1);
    double err = 0, scale = 0;
    for (int k = 0; k <= n / 2; ++k) {
      err = std::max(err, std::abs(want[size_t(k)] - X[size_t(k)]));
      scale = std::max(scale, std::abs(want[size_t(k)]));
    }
    EXPECT_LT(err, 1e-12 * std::max(1.0, scale)) << "n=" << n << " " << fft.backend();
    EXPECT_EQ(X[0].imag(), 0.0) << "n=" << n;
    EXPECT_EQ(X[size_t(n / 2)].imag(), 0.0) << "n=" << n;
  }
  EXPECT_THROW(PackedRealFft(7), Error);
}

// A frame read in place (aligned for the plan) and one that has to be copied
// (misaligned by one double) give the same bits: the same plan runs.
TEST(Fft, PackedRealSameBitsWhereverTheFrameLies) {
  PackedRealFft fft(512);
  Rng rng(11);
  std::vector<double> buf(600);
  for (auto& v : buf) v = rng.Uniform() - 0.5;
  std::vector<double> a(buf.begin() + 1, buf.begin() + 513);  // a fresh (aligned) copy of the misaligned frame
  std::vector<std::complex<double>> X1(257), X2(257);
  fft.Forward(buf.data() + 1, X1.data());
  fft.Forward(a.data(), X2.data());
  for (size_t k = 0; k < X1.size(); ++k) ASSERT_EQ(X1[k], X2[k]) << k;
  PackedRealFft other(512);
  other.Forward(a.data(), X2.data());
  for (size_t k = 0; k < X1.size(); ++k) ASSERT_EQ(X1[k], X2[k]) << k;
}

TEST(Mel, FloatSegmentsEqualDense) {
  for (auto [M, lo, hi] : {std::tuple{20, 20.0, 6000.0}, std::tuple{40, 20.0, 4000.0}, std::tuple{64, 0.0, 8000.0},
                           std::tuple{3, 300.0, 500.0}}) {
    auto dense = MelWeightMatrix(M, 257, 16000, lo, hi);
    SparseMel s = SparseMel::Build(M, 257, 16000, lo, hi);
    ASSERT_EQ(s.segments.size(), size_t(M) + 1);
    Rng rng(4);
    std::vector<float> spec(257 + 4, 0.0f), out(static_cast<size_t>(M));
    for (int k = 0; k < 257; ++k) spec[size_t(k)] = float(rng.Uniform() * 10 * (k % 7 == 0 ? 1e-4 : 1.0));
    s.Apply(spec.data(), out.data());
    for (int b = 0; b < M; ++b) {
      double want = 0;
      for (int k = 0; k < 257; ++k) want += double(spec[size_t(k)]) * dense[size_t(k * M + b)];
      EXPECT_NEAR(out[size_t(b)], want, 1e-6 * want + 1e-30) << M << " band " << b;
    }
  }
}

TEST(Extractor, LogOffsetIsTheRoundedLog) {
  Rng rng(8);
  std::vector<float> x;
  for (int e = -149; e <= 127; ++e)
    for (int j = 0; j < 50; ++j) x.push_back(std::ldexp(float(1 + rng.Uniform()), e));
  for (float v : {0.0f, -0.0f, 1.0f, 2.0f, 0.5f, float(std::numbers::sqrt2)}) x.push_back(v);
  x.push_back(std::numeric_limits<float>::infinity());
  for (double off : {1e-6, 1.0, 1e-310}) {
    for (int n : {int(x.size()), 1, 2, 3, 5}) {  // partial groups take the same path
      std::vector<float> out(static_cast<size_t>(n));
      LogOffset(x.data(), off, out.data(), n);
      for (int i = 0; i < n; ++i) {
        const float want = float(std::log(double(x[size_t(i)]) + off));
        if (std::isinf(want)) {
          EXPECT_EQ(out[size_t(i)], want) << x[size_t(i)];
          continue;
        }
        EXPECT_LE(std::fabs(out[size_t(i)] - want), std::fabs(std::nextafter(want, INFINITY) - want))
            << "x=" << x[size_t(i)] << " offset=" << off;
      }
    }
  }
}

namespace {

// Log-mel by the textbook route: time-domain window, RealFft, dense mel, double log.
std::vector<double> SlowLogMel(const FeatureOptions& o, const std::vector<float>& x) {
  const int L = o.frame_length(), step = o.frame_step(), n = o.fft_size(), M = o.num_mel_bins;
  const int frames = o.num_frames(int(x.size()));
  const auto w = MakeWindow(o.window, L);
  const auto mel = MelWeightMatrix(M, n / 2 + 1, o.sample_rate, o.lower_hz, o.upper_hz);
  RealFft fft(n);
  std::vector<double> fr(static_cast<size_t>(n)), out(static_cast<size_t>(frames) * size_t(M));
  std::vector<std::complex<double>> X(size_t(n / 2 + 1));
  for (int f = 0; f < frames; ++f) {
    std::fill(fr.begin(), fr.end(), 0.0);
    for (int i = 0; i < L; ++i) fr[size_t(i)] = double(x[size_t(f * step + i)]) * w[size_t(i)];
    fft.Forward(fr.data(), X.data());
    for (int b = 0; b < M; ++b) {
      double s = 0;
      for (int k = 0; k <= n / 2; ++k) s += std::abs(X[size_t(k)]) * mel[size_t(k * M + b)];
      out[size_t(f * M + b)] = std::log(s + o.log_offset);
    }
  }
  return out;
}

}  // namespace

// Spectral window (frame == fft length: hann/hamming as a 3-tap filter, none as
// the identity) and time-domain window (frame < fft length, odd frames), each
// against the textbook route, and Compute == ComputeFrame bit for bit on every frame.
TEST(Extractor, EveryWindowPathMatchesTheTextbookAndComputeFrame) {
  Rng rng(21);
  std::vector<float> x(16000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(0.3 * std::sin(0.07 * double(i)) + 0.05 * (rng.Uniform() - 0.5) + 0.2 * std::sin(1.9 * double(i)));
  struct Case {
    double frame_s, step_s;
    int fft;
    const char* window;
  };
  for (const Case& c : {Case{0.032, 0.010, 512, "hann"}, Case{0.032, 0.010, 512, "hamming"},
                        Case{0.032, 0.010, 512, "none"}, Case{0.030, 0.020, 512, "hann"},
                        Case{0.030, 0.020, 512, "hamming"}, Case{0.0300625, 0.0100625, 512, "hann"},
                        Case{0.016, 0.008, 256, "hann"}}) {
    FeatureOptions o;
    o.frame_length_s = c.frame_s, o.frame_step_s = c.step_s, o.fft_length = c.fft, o.window = c.window;
    FeatureExtractor fx(o);
    const FeatureMatrix m = fx.Compute(x.data(), int(x.size()));
    const auto want = SlowLogMel(o, x);
    ASSERT_EQ(size_t(m.frames) * m.bins, want.size());
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(double(m.data[i]) - want[i]));
    EXPECT_LT(worst, 1e-5) << c.window << " frame " << o.frame_length() << " fft " << c.fft;
    std::vector<float> row(size_t(m.bins));
    for (int f = 0; f < m.frames; ++f) {
      fx.ComputeFrame(x.data() + size_t(f) * size_t(o.frame_step()), row.data());
      for (int b = 0; b < m.bins; ++b) ASSERT_EQ(row[size_t(b)], m.at(f, b)) << c.window << " frame " << f;
    }
  }
}

// The embedded FFTW wisdom pins the extractor's default transform (fft.cc):
// if an FFTW update stops honouring it, this says so (speed, not correctness).
TEST(Fft, PackedRealDefaultPlanIsPinned) {
#if defined(KWS_FFT_FFTW) && defined(__x86_64__)
  if (!__builtin_cpu_supports("avx")) GTEST_SKIP() << "the pinned plan uses FFTW's AVX codelets";
  PackedRealFft fft(512);
  EXPECT_NE(std::string(fft.backend()).find("pinned"), std::string::npos) << fft.backend();
#else
  GTEST_SKIP() << "FFTW on x86-64 only";
#endif
}

// The vectorised loops (AVX2 copies chosen at run time through util/cpu.h) and their plain C++
// versions compute the same features up to float rounding (FMA may round differently); the cap
// that KWS_FORCE_PORTABLE sets really changes the path taken for features too.
TEST(Extractor, PlainAndVectorPathsAgree) {
  std::vector<float> x(16000);
  kws::Rng rng(3);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(0.3 * std::sin(2 * std::numbers::pi * (200.0 + 0.2 * double(i)) * double(i) / 16000) + 0.01 * rng.Normal());
  const kws::cpu::Isa saved = kws::cpu::Max();
  for (bool mfcc : {false, true}) {
    kws::FeatureOptions o;
    if (mfcc) {
      o.num_mel_bins = 40;
      o.mfcc = 10;
    }
    kws::cpu::SetMax(kws::cpu::Isa::kPlain);
    const kws::FeatureMatrix plain = kws::FeatureExtractor(o).Compute(x.data(), int(x.size()));
    kws::cpu::SetMax(kws::cpu::Isa::kAvx512);
    const kws::FeatureMatrix fast = kws::FeatureExtractor(o).Compute(x.data(), int(x.size()));
    ASSERT_EQ(plain.data.size(), fast.data.size());
    double worst = 0;
    for (size_t i = 0; i < plain.data.size(); ++i) worst = std::max(worst, double(std::fabs(plain.data[i] - fast.data[i])));
    EXPECT_LE(worst, 1e-5) << (mfcc ? "mfcc" : "log-mel");
  }
  kws::cpu::SetMax(saved);
}
