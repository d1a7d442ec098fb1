// Batch-1, single-thread inference latency of the seed-shaped model
// (input [1,97,20,1], 4 × conv 3×3 16 filters, MEAN, FC 12, softmax;
// ~1.98 M MACs) in kws's runtime: float32, full int8, dynamic-range (hybrid),
// optimized and reference kernels, and int8 with 85% pruned conv weights.
//   ./build/bench_runtime --benchmark_filter=Seed
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstring>
#include <map>
#include <memory>

#include "runtime/interpreter.h"
#include "runtime/synthetic_model.h"

namespace {

using kws::rt::Interpreter;
using kws::rt::SyntheticModelOptions;
using Kind = SyntheticModelOptions::Kind;

void RunSeed(benchmark::State& state, Kind kind, kws::rt::KernelSet kernels, float sparsity) {
  Eigen::setNbThreads(1);
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
  state.counters["MACs"] = double(it.macs());
  state.counters["arena_bytes"] = double(it.arena_bytes());
}

void BM_SeedFloat(benchmark::State& s) { RunSeed(s, Kind::kFloat, kws::rt::KernelSet::kOptimized, 0.0f); }
void BM_SeedFloatReference(benchmark::State& s) { RunSeed(s, Kind::kFloat, kws::rt::KernelSet::kReference, 0.0f); }
void BM_SeedInt8(benchmark::State& s) { RunSeed(s, Kind::kInt8, kws::rt::KernelSet::kOptimized, 0.0f); }
void BM_SeedInt8Reference(benchmark::State& s) { RunSeed(s, Kind::kInt8, kws::rt::KernelSet::kReference, 0.0f); }
void BM_SeedInt8Pruned85(benchmark::State& s) { RunSeed(s, Kind::kInt8, kws::rt::KernelSet::kOptimized, 0.85f); }
void BM_SeedHybrid(benchmark::State& s) { RunSeed(s, Kind::kHybrid, kws::rt::KernelSet::kOptimized, 0.0f); }

BENCHMARK(BM_SeedFloat)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedFloatReference)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedInt8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedInt8Reference)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedInt8Pruned85)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedHybrid)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
