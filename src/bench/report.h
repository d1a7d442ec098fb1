// `kws bench`: the size and latency report of a .tflite keyword model (issue 4 item 4).
//
//   kws::BenchOptions o;               // runs 1000, warmup 100, one thread
//   std::vector<kws::ModelReport> r = kws::BenchModels({"small.tflite", "baseline.tflite"}, o);
//   nlohmann::json j = kws::ReportJson(r[0], &r[1]);   // + savings vs the baseline
//
// Size: file bytes, bytes of a real deflate .zip of the file (export's ZipSize, what the seed report
// measured), weight parameters (conv/depthwise/FC kernels and biases) and how many are non-zero,
// MACs per inference, the runtime's tensor arena.
// Latency, per run, on one thread: preprocessing = log-mel/MFCC features of one model window (a fixed
// synthetic 1 s clip, or the first window of `clip`) at the model's own feature settings; inference =
// ClipClassifier::Run (input quantization, Invoke, output dequantization); total = their sum.
// Reported as median and 90th percentile over `runs` runs after `warmup` runs. With several models the
// runs are interleaved (model A, model B, A, B, ...) so machine noise hits all of them alike.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kws {

struct BenchOptions {
  int runs = 1000;        // timed runs (>= 1)
  int warmup = 100;       // untimed runs first
  std::string clip;       // audio file for the preprocessing input; "" = synthetic clip
  int threads = 1;        // kws::SetNumThreads during the measurement
  void Validate() const;  // UsageError naming the flag
};

struct LatencyStats {
  double median_us = 0, p90_us = 0, mean_us = 0, min_us = 0;
};
// Order statistics of samples (microseconds): median (mean of the two middle values for an even count),
// p90 = the value at rank ceil(0.9·n) (nearest-rank). Empty input gives zeros.
LatencyStats Summarize(std::vector<double> samples_us);

struct ModelReport {
  std::string model;           // path
  std::string kind;            // "float32" | "hybrid" | "int8"
  size_t size_bytes = 0;
  size_t zip_bytes = 0;
  int64_t params = 0;
  int64_t nonzero_params = 0;
  int64_t macs = 0;
  size_t arena_bytes = 0;
  int runs = 0;
  LatencyStats preprocess, inference, invoke, total;  // invoke = raw Interpreter::Invoke only
};

// Size figures only (no timing).
ModelReport MeasureSize(const std::string& model_path);
// Size + latency for each model (interleaved runs).
std::vector<ModelReport> BenchModels(const std::vector<std::string>& model_paths, const BenchOptions& o);

// 100·(1 − value/baseline): how much smaller/faster `value` is than `baseline` (negative = bigger/slower).
double SavingsPct(double value, double baseline);

// Keys: model, kind, size_bytes, zip_bytes, params, nonzero_params, macs, arena_bytes, runs,
// preprocess_us, inference_us, total_us (medians), *_p90_us, invoke_us, invoke_p90_us; with a baseline also
// latency_savings_pct (total), size_savings_pct, zip_savings_pct and "baseline": {same keys}.
nlohmann::json ReportJson(const ModelReport& r, const ModelReport* baseline = nullptr);
// Human-readable table (one column per model, savings column with a baseline).
std::string ReportTable(const ModelReport& r, const ModelReport* baseline = nullptr);

}  // namespace kws
