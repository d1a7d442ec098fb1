// Feature extraction speed (Google Benchmark).
//   build/bench_features                       # all
//   build/bench_features --benchmark_filter=Clip
//   bench/features_vs_torchaudio.sh            # the same-run comparison with torchaudio (issue 2)
// Cases, per 1 s clip, single thread, seed recipe 512/160/20 mel 20-6000 Hz:
//   BM_LogMelClip   the 97x20 log-mel (FeatureExtractor::Compute)
//   BM_MfccClip     49x10 MFCC (MLPerf Tiny framing, 40 mel)
//   BM_FftClip      the FFT alone as the extractor runs it: 97 complete real
//                   transforms (kws::PackedRealFft::Forward: the library's
//                   complex FFT of size 256 read in place + unpacking all 257 bins)
//   BM_FftLibClip   the library part of that alone (97 x PackedRealFft::Transform)
//   BM_FftR2cClip   kws::RealFft (FFTW r2c 512 double, FFTW_ESTIMATE, copies in
//                   and out: what the extractor used before)
//   BM_FftwMeasureClip  (FFTW build) r2c 512 double planned with FFTW_MEASURE
//   BM_LibFloatFftClip  float32 kiss_fftr for the same frames (not used: a float32
//                   FFT fails the log-mel parity, see src/features/fft.h)
//   BM_Pool2Threads the whole shared Speech Commands pool on 2 threads (clips preloaded)
// TFLite Micro's audio front end (features/micro/frontend.h) against the tf.signal path:
//   BM_MicroClip        micro_speech's settings (30 ms / 20 ms, 40 channels, PCAN): 49x40 per clip,
//                       as training computes it (FeatureExtractor: float -> int16, front end, int8)
//   BM_MicroClip10ms    microWakeWord's settings (30 ms / 10 ms, 40 channels): 98x40 per clip
//   BM_MicroHop10ms     streaming, per 10 ms hop (160 samples in, one 40-channel frame out;
//                       kws::StreamingFeatures as kws listen runs it)
//   BM_LogMelHop10ms    the same for the seed's tf.signal log-mel (one 512-sample frame per hop)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "audio/audio.h"
#include "features/features.h"
#include "features/fft.h"
#include "features/window.h"
#include "stream/frontend.h"
#include "util/parallel.h"
#include "util/rng.h"

#include <kiss_fftr.h>

#include <complex>
#ifdef KWS_FFT_FFTW
#include <fftw3.h>
#endif

namespace fs = std::filesystem;

namespace {

const std::string kPool = std::string(KWS_SHARED_DATA) + "/speech_commands";

std::vector<float> OneClip() {
  // A real clip if the pool is here, else noise (speed does not depend on content).
  fs::path yes = fs::path(kPool) / "yes";
  if (fs::is_directory(yes)) {
    std::vector<fs::path> files;
    for (auto& e : fs::directory_iterator(yes)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (!files.empty()) {
      auto w = kws::Windows(kws::ReadAudio(files[0].string(), 16000).samples, 16000,
                            kws::LongClipPolicy::kFirstWindow, 0);
      return w[0];
    }
  }
  kws::Rng rng(7);
  std::vector<float> x(16000);
  for (auto& v : x) v = float(rng.Uniform() * 2 - 1) * 0.3f;
  return x;
}

void BM_LogMelClip(benchmark::State& st) {
  kws::FeatureOptions o;  // 16 kHz, 512/160, fft 512, 20 mel 20-6000 Hz
  kws::FeatureExtractor fx(o);
  std::vector<float> x = OneClip();
  for (auto _ : st) {
    kws::FeatureMatrix m = fx.Compute(x.data(), int(x.size()));
    benchmark::DoNotOptimize(m.data.data());
  }
  st.SetLabel("97x20 log-mel per clip");
}
BENCHMARK(BM_LogMelClip)->Unit(benchmark::kMicrosecond);

void BM_MfccClip(benchmark::State& st) {
  kws::FeatureOptions o;
  o.frame_length_s = 0.03, o.frame_step_s = 0.02, o.num_mel_bins = 40, o.upper_hz = 4000, o.mfcc = 10;
  kws::FeatureExtractor fx(o);
  std::vector<float> x = OneClip();
  for (auto _ : st) {
    kws::FeatureMatrix m = fx.Compute(x.data(), int(x.size()));
    benchmark::DoNotOptimize(m.data.data());
  }
  st.SetLabel("49x10 MFCC per clip");
}
BENCHMARK(BM_MfccClip)->Unit(benchmark::kMicrosecond);

// The clip in double, as FeatureExtractor::Compute holds it (frames are read in place).
std::vector<double> ClipDouble() {
  std::vector<float> x = OneClip();
  return std::vector<double>(x.begin(), x.end());
}

// The FFT as the extractor runs it: a complete real FFT of each of the 97 frames.
void BM_FftClip(benchmark::State& st) {
  kws::PackedRealFft fft(512);
  std::vector<double> x = ClipDouble();
  std::vector<std::complex<double>> spec(257);
  for (auto _ : st) {
    for (int f = 0; f < 97; ++f) fft.Forward(x.data() + f * 160, spec.data());
    benchmark::DoNotOptimize(spec.data());
  }
  st.SetLabel(std::string("97 x rfft(512): ") + fft.backend());
}
BENCHMARK(BM_FftClip)->Unit(benchmark::kMicrosecond);

// Just the library call of that (complex FFT of size 256, no unpacking).
void BM_FftLibClip(benchmark::State& st) {
  kws::PackedRealFft fft(512);
  std::vector<double> x = ClipDouble();
  const std::complex<double>* z = nullptr;
  for (auto _ : st) {
    for (int f = 0; f < 97; ++f) z = fft.Transform(x.data() + f * 160);
    benchmark::DoNotOptimize(z);
  }
  st.SetLabel("97 x library complex FFT(256) only");
}
BENCHMARK(BM_FftLibClip)->Unit(benchmark::kMicrosecond);

// kws::RealFft (r2c 512 with copies in and out), the extractor's FFT before.
void BM_FftR2cClip(benchmark::State& st) {
  kws::RealFft fft(512);
  std::vector<float> x = OneClip();
  std::vector<double> w = kws::MakeWindow("hann", 512);
  std::vector<std::complex<double>> spec(257);
  std::vector<std::vector<double>> frames(97, std::vector<double>(512));
  for (int f = 0; f < 97; ++f)
    for (int i = 0; i < 512; ++i) frames[size_t(f)][size_t(i)] = x[size_t(f * 160 + i)] * w[size_t(i)];
  for (auto _ : st) {
    for (int f = 0; f < 97; ++f) fft.Forward(frames[size_t(f)].data(), spec.data());
    benchmark::DoNotOptimize(spec.data());
  }
  st.SetLabel(std::string("97 x rfft(512), ") + fft.backend());
}
BENCHMARK(BM_FftR2cClip)->Unit(benchmark::kMicrosecond);

#ifdef KWS_FFT_FFTW
// FFTW double planned with FFTW_MEASURE (same copies in and out as RealFft),
// to measure what the deterministic FFTW_ESTIMATE plan costs.
void BM_FftwMeasureClip(benchmark::State& st) {
  std::vector<float> x = OneClip();
  std::vector<double> w = kws::MakeWindow("hann", 512);
  std::vector<std::vector<double>> frames(97, std::vector<double>(512));
  for (int f = 0; f < 97; ++f)
    for (int i = 0; i < 512; ++i) frames[size_t(f)][size_t(i)] = x[size_t(f * 160 + i)] * w[size_t(i)];
  double* in = fftw_alloc_real(512);
  fftw_complex* out = fftw_alloc_complex(257);
  fftw_plan plan = fftw_plan_dft_r2c_1d(512, in, out, FFTW_MEASURE);
  std::vector<std::complex<double>> spec(257);
  for (auto _ : st) {
    for (int f = 0; f < 97; ++f) {
      std::copy(frames[size_t(f)].begin(), frames[size_t(f)].end(), in);
      fftw_execute(plan);
      std::copy_n(reinterpret_cast<const std::complex<double>*>(out), 257, spec.data());
    }
    benchmark::DoNotOptimize(spec.data());
  }
  fftw_destroy_plan(plan);
  fftw_free(in);
  fftw_free(out);
  st.SetLabel("97 x fftw r2c(512), double, FFTW_MEASURE");
}
BENCHMARK(BM_FftwMeasureClip)->Unit(benchmark::kMicrosecond);
#endif

// The float32 library FFT for comparison (not used by kws: not accurate enough for the log-mel parity).
void BM_LibFloatFftClip(benchmark::State& st) {
  std::vector<float> x = OneClip();
  std::vector<double> w = kws::MakeWindow("hann", 512);
  std::vector<std::vector<float>> frames(97, std::vector<float>(512));
  for (int f = 0; f < 97; ++f)
    for (int i = 0; i < 512; ++i) frames[size_t(f)][size_t(i)] = float(x[size_t(f * 160 + i)] * w[size_t(i)]);
  kiss_fftr_cfg cfg = kiss_fftr_alloc(512, 0, nullptr, nullptr);
  std::vector<kiss_fft_cpx> out(257);
  for (auto _ : st) {
    for (int f = 0; f < 97; ++f) kiss_fftr(cfg, frames[size_t(f)].data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  kiss_fftr_free(cfg);
  st.SetLabel("97 x kiss_fftr(512), float32");
}
BENCHMARK(BM_LibFloatFftClip)->Unit(benchmark::kMicrosecond);

// Every clip of the shared pool (preloaded, first 1 s window) on 2 threads.
std::vector<std::vector<float>>& Pool() {
  static std::vector<std::vector<float>> clips = [] {
    std::vector<std::vector<float>> out;
    if (!fs::is_directory(kPool)) return out;
    std::vector<fs::path> files;
    for (auto& e : fs::recursive_directory_iterator(kPool))
      if (e.path().extension() == ".wav" && e.path().parent_path().filename() != "_background_noise_")
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      try {
        out.push_back(kws::Windows(kws::ReadAudio(f.string(), 16000).samples, 16000,
                                   kws::LongClipPolicy::kFirstWindow, 0)[0]);
      } catch (const std::exception&) {
      }
    }
    return out;
  }();
  return clips;
}

void BM_Pool2Threads(benchmark::State& st) {
  auto& clips = Pool();
  if (clips.empty()) {
    st.SkipWithError("no Speech Commands pool under KWS_SHARED_DATA");
    return;
  }
  kws::SetNumThreads(2);
  kws::FeatureOptions o;
  std::vector<float> out(clips.size() * 97 * 20);
  for (auto _ : st) {
    kws::ParallelFor(long(clips.size()), [&](long b, long e, int) {
      kws::FeatureExtractor fx(o);
      for (long i = b; i < e; ++i) {
        kws::FeatureMatrix m = fx.Compute(clips[size_t(i)].data(), 16000);
        std::copy(m.data.begin(), m.data.end(), out.begin() + i * 97 * 20);
      }
    });
    benchmark::DoNotOptimize(out.data());
  }
  kws::SetNumThreads(0);
  st.counters["clips"] = double(clips.size());
  st.counters["us_per_clip"] = benchmark::Counter(double(clips.size()), benchmark::Counter::kIsIterationInvariantRate |
                                                                             benchmark::Counter::kInvert);
  st.SetLabel("whole pool, 2 threads");
}
BENCHMARK(BM_Pool2Threads)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime()->Iterations(3);

kws::FeatureOptions MicroOptions(int step_ms) {
  kws::FeatureOptions o;
  o.frontend = "micro";  // micro_speech's settings
  o.micro.window.step_ms = step_ms;
  return o;
}

void MicroClip(benchmark::State& st, int step_ms) {
  const kws::FeatureOptions o = MicroOptions(step_ms);
  kws::FeatureExtractor fx(o);
  std::vector<float> x = OneClip();
  for (auto _ : st) {
    kws::FeatureMatrix m = fx.Compute(x.data(), int(x.size()));
    benchmark::DoNotOptimize(m.data.data());
  }
  st.SetLabel(std::to_string(o.num_frames(16000)) + "x40 micro front end per clip");
}
void BM_MicroClip(benchmark::State& st) { MicroClip(st, 20); }
BENCHMARK(BM_MicroClip)->Unit(benchmark::kMicrosecond);
void BM_MicroClip10ms(benchmark::State& st) { MicroClip(st, 10); }
BENCHMARK(BM_MicroClip10ms)->Unit(benchmark::kMicrosecond);

// One 10 ms hop of a stream: 160 new samples -> one new frame.
void Hop(benchmark::State& st, const kws::FeatureOptions& o, const char* label) {
  kws::StreamingFeatures sf(o, 100);
  std::vector<float> x = OneClip();
  size_t pos = 0;
  sf.AcceptWaveform(x.data(), size_t(o.frame_length()));  // the first frame
  for (auto _ : st) {
    if (pos + 160 > x.size()) pos = 0;
    sf.AcceptWaveform(x.data() + pos, 160);
    pos += 160;
    benchmark::DoNotOptimize(sf.NumFramesReady());
  }
  st.SetLabel(label);
}
void BM_MicroHop10ms(benchmark::State& st) { Hop(st, MicroOptions(10), "micro front end, 40 channels"); }
BENCHMARK(BM_MicroHop10ms)->Unit(benchmark::kMicrosecond);
void BM_LogMelHop10ms(benchmark::State& st) { Hop(st, kws::FeatureOptions{}, "tf.signal log-mel, 20 bins"); }
BENCHMARK(BM_LogMelHop10ms)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
