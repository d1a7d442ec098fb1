// Batch-1, single-thread inference latency of the seed-shaped synthetic model
// (runtime/synthetic_model.h: input [1,97,20,1], 4 × conv 3×3 16 filters,
// MEAN, FC 12, softmax) in kws's runtime: float32, full int8, dynamic-range
// (hybrid); dense and 85% pruned (the sparse conv kernels); optimized,
// plain-C++ optimized (the fallback without AVX-512/AVX2) and reference kernels.
//   ./build/bench_runtime --benchmark_filter=Seed
// For the trained seed model and the peers in one run: bench/runtime_vs_peers.sh.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstring>
#include <map>
#include <memory>

#include "runtime/interpreter.h"
#include "runtime/kernels/optimized/sparse_conv.h"
#include "runtime/synthetic_model.h"

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
