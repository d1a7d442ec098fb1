// Streaming detection speed (Google Benchmark): real-time factor of the whole
// detector (incremental features + VAD + model every hop + smoothing) on one core,
// for seed-shaped models (float / dynamic-range / int8, random weights), VAD off so
// the model runs on every 100 ms hop (worst case).
//   build/bench_stream                                   # all
//   build/bench_stream --write-model=/tmp/seed.tflite    # just write the dynamic seed model (for soak_listen.sh)
// Counter "rtf" = processing (wall) time / audio time (goal < 0.01: 1 h of audio in < 36 s);
// "rtf_cpu" the same with this thread's CPU time (stable on a shared, busy machine).
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "stream/detector.h"
#include "util/fs.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace {

std::string SeedModel(kws::QuantMode q) {
  kws::ir::SyntheticOptions so;
  so.classes = 4;
  so.sparsity = 0.85;  // like the pruned seed recipe
  kws::ir::Graph g = kws::ir::MakeSyntheticGraph(so);
  kws::ExportOptions eo;
  eo.quant = q;
  kws::tfl::KwsMetadata md;
  md.labels = {"yes", "no", "_silence_", "_unknown_"};
  eo.metadata = md;
  kws::Calibration cal;
  if (q == kws::QuantMode::kInt8) cal = kws::Calibrate(g, kws::ir::SyntheticInputs(g, 32, 7));
  return kws::ExportTflite(g, eo, q == kws::QuantMode::kInt8 ? &cal : nullptr);
}

std::vector<float> Noise(size_t n) {
  kws::Rng r(3);
  std::vector<float> x(n);
  for (auto& v : x) v = float(0.05 * r.Normal());
  return x;
}

void BM_DetectorRtf(benchmark::State& st) {
  const auto q = static_cast<kws::QuantMode>(st.range(0));
  const bool vad = st.range(1) != 0;
  kws::DeployedModel m = kws::DeployedModel::FromBuffer("seed", SeedModel(q));
  kws::InterpreterScorer sc(m);
  kws::DetectorOptions o;
  o.vad = vad;
  kws::Detector det(m.meta.features, m.meta.labels, &sc, o);
  const double seconds = 60;
  std::vector<float> x = Noise(size_t(seconds * 16000));
  if (vad)  // quiet except a loud second every 10 s: the VAD runs the model ~20% of hops
    for (size_t i = 0; i < x.size(); ++i)
      if ((i / 16000) % 10 != 0) x[i] *= 0.001f;
  std::vector<kws::Detection> out;
  double busy = 0, cpu = 0;
  auto thread_cpu = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  };
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu();
    for (size_t i = 0; i < x.size(); i += 1600) det.Accept(x.data() + i, 1600, &out);
    cpu += thread_cpu() - c0;
    busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(out.data());
    out.clear();
  }
  st.counters["rtf"] = busy / (seconds * double(st.iterations()));     // wall clock
  st.counters["rtf_cpu"] = cpu / (seconds * double(st.iterations()));  // this thread's CPU time
  st.counters["inferences_per_s_audio"] = double(det.stats().inferences) / (double(det.stats().samples) / 16000.0);
  st.SetLabel(std::string(kws::QuantModeName(q)) + (vad ? ", VAD on" : ", VAD off"));
}
BENCHMARK(BM_DetectorRtf)
    ->Args({int(kws::QuantMode::kFloat), 0})
    ->Args({int(kws::QuantMode::kDynamic), 0})
    ->Args({int(kws::QuantMode::kInt8), 0})
    ->Args({int(kws::QuantMode::kDynamic), 1})
    ->Unit(benchmark::kMillisecond);

void BM_StreamingFeaturesHop(benchmark::State& st) {
  kws::FeatureOptions fo;
  kws::StreamingFeatures sf(fo, 97);
  std::vector<float> x = Noise(1600);
  std::vector<float> win(97 * 20);
  for (auto _ : st) {
    sf.AcceptWaveform(x.data(), x.size());  // 10 new frames
    if (sf.NumFramesReady() >= 97) sf.CopyLastFrames(97, win.data());
    benchmark::DoNotOptimize(win.data());
  }
}
BENCHMARK(BM_StreamingFeaturesHop)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  kws::SetNumThreads(1);
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--write-model=", 14) == 0) {
      kws::AtomicWriteFile(argv[i] + 14, SeedModel(kws::QuantMode::kDynamic));
      return 0;
    }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
