#include "bench/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "audio/audio.h"
#include "bench/classify.h"
#include "export/tflite_export.h"
#include "runtime/interpreter.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace kws {

void BenchOptions::Validate() const {
  if (runs < 1) throw UsageError("--runs must be at least 1");
  if (warmup < 0) throw UsageError("--warmup must not be negative");
  if (threads < 1) throw UsageError("bench threads must be at least 1");
}

LatencyStats Summarize(std::vector<double> v) {
  LatencyStats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median_us = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  size_t rank = size_t(std::ceil(0.9 * double(n)));  // nearest rank, 1-based
  s.p90_us = v[std::clamp<size_t>(rank, 1, n) - 1];
  double sum = 0;
  for (double x : v) sum += x;
  s.mean_us = sum / double(n);
  s.min_us = v.front();
  return s;
}

double SavingsPct(double value, double baseline) {
  if (baseline == 0) return 0.0;
  return 100.0 * (1.0 - value / baseline);
}

ModelReport MeasureSize(const std::string& path) {
  const std::string bytes = ReadTfliteFile(path);
  auto it = rt::Interpreter::FromBuffer(path, bytes);
  ModelReport r;
  r.model = path;
  r.kind = it.model_kind();
  r.size_bytes = bytes.size();
  r.zip_bytes = ZipSize(bytes, "model.tflite");
  r.params = it.num_weights();
  r.nonzero_params = it.num_nonzero_weights();
  r.macs = it.macs();
  r.arena_bytes = it.arena_bytes();
  return r;
}

namespace {

// A fixed 1 s-like test signal: two gliding tones plus low noise (content does not change the cost
// of the features or of the network, but keeps the numbers finite and realistic).
std::vector<float> SyntheticClip(int samples, int rate) {
  std::vector<float> x(static_cast<size_t>(samples));
  Rng rng(12345);
  const double pi = 3.14159265358979323846;
  double ph1 = 0, ph2 = 0;
  for (int i = 0; i < samples; ++i) {
    const double t = double(i) / rate;
    ph1 += 2 * pi * (300 + 400 * t) / rate;
    ph2 += 2 * pi * (1200 - 300 * t) / rate;
    const double env = 0.5 - 0.5 * std::cos(2 * pi * std::min(1.0, t));
    x[size_t(i)] = float(env * (0.3 * std::sin(ph1) + 0.15 * std::sin(ph2)) + 0.01 * rng.Normal());
  }
  return x;
}

struct Bench {
  std::unique_ptr<ClipClassifier> c;
  std::vector<float> window, features, scores;
  std::vector<double> pre, inf, inv, tot;
};

using Clock = std::chrono::steady_clock;
double Us(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::micro>(b - a).count(); }

}  // namespace

std::vector<ModelReport> BenchModels(const std::vector<std::string>& paths, const BenchOptions& o) {
  o.Validate();
  std::vector<ModelReport> reports;
  std::vector<Bench> benches(paths.size());
  for (size_t m = 0; m < paths.size(); ++m) {
    reports.push_back(MeasureSize(paths[m]));
    Bench& b = benches[m];
    b.c = std::make_unique<ClipClassifier>(paths[m]);
    const FeatureOptions& f = b.c->features();
    const size_t window = size_t(b.c->window_samples());
    if (o.clip.empty()) {
      b.window = SyntheticClip(int(window), f.sample_rate);
    } else {
      Audio a = ReadAudio(o.clip, f.sample_rate);
      if (a.samples.empty()) throw BadInput(o.clip + ": contains zero samples");
      b.window = Windows(a.samples, window, LongClipPolicy::kFirstWindow, window)[0];
    }
    b.features.resize(b.c->feature_values());
    b.scores.resize(b.c->labels().size());
    for (auto* v : {&b.pre, &b.inf, &b.inv, &b.tot}) v->reserve(size_t(o.runs));
  }

  // kws's ParallelFor gets the bench's thread count (1 by default); Eigen's GEMM in the float kernels
  // is always single-threaded (kws is built without OpenMP).
  const int saved_threads = NumThreads();
  SetNumThreads(o.threads);
  for (int i = 0; i < o.warmup; ++i)
    for (Bench& b : benches) {
      b.c->Features(b.window.data(), b.features.data());
      b.c->Run(b.features.data(), b.scores.data());
      b.c->interpreter().Invoke();
    }
  for (int i = 0; i < o.runs; ++i)
    for (Bench& b : benches) {
      const auto t0 = Clock::now();
      b.c->Features(b.window.data(), b.features.data());
      const auto t1 = Clock::now();
      b.c->Run(b.features.data(), b.scores.data());
      const auto t2 = Clock::now();
      b.c->interpreter().Invoke();  // same input again: the raw graph execution alone
      const auto t3 = Clock::now();
      b.pre.push_back(Us(t0, t1));
      b.inf.push_back(Us(t1, t2));
      b.tot.push_back(Us(t0, t2));
      b.inv.push_back(Us(t2, t3));
    }
  SetNumThreads(saved_threads);

  for (size_t m = 0; m < paths.size(); ++m) {
    Bench& b = benches[m];
    for (float s : b.scores)
      if (!std::isfinite(s)) throw BadInput(paths[m] + ": the model produced a non-finite score");
    ModelReport& r = reports[m];
    r.runs = o.runs;
    r.preprocess = Summarize(std::move(b.pre));
    r.inference = Summarize(std::move(b.inf));
    r.invoke = Summarize(std::move(b.inv));
    r.total = Summarize(std::move(b.tot));
  }
  return reports;
}

namespace {

double Round2(double x) { return std::round(x * 100.0) / 100.0; }

nlohmann::json OneJson(const ModelReport& r) {
  return nlohmann::json{{"model", r.model},
                        {"kind", r.kind},
                        {"size_bytes", r.size_bytes},
                        {"zip_bytes", r.zip_bytes},
                        {"params", r.params},
                        {"nonzero_params", r.nonzero_params},
                        {"macs", r.macs},
                        {"arena_bytes", r.arena_bytes},
                        {"runs", r.runs},
                        {"preprocess_us", Round2(r.preprocess.median_us)},
                        {"inference_us", Round2(r.inference.median_us)},
                        {"total_us", Round2(r.total.median_us)},
                        {"preprocess_p90_us", Round2(r.preprocess.p90_us)},
                        {"inference_p90_us", Round2(r.inference.p90_us)},
                        {"total_p90_us", Round2(r.total.p90_us)},
                        {"invoke_us", Round2(r.invoke.median_us)},
                        {"invoke_p90_us", Round2(r.invoke.p90_us)}};
}

}  // namespace

nlohmann::json ReportJson(const ModelReport& r, const ModelReport* baseline) {
  nlohmann::json j = OneJson(r);
  if (baseline) {
    j["size_savings_pct"] = Round2(SavingsPct(double(r.size_bytes), double(baseline->size_bytes)));
    j["zip_savings_pct"] = Round2(SavingsPct(double(r.zip_bytes), double(baseline->zip_bytes)));
    j["latency_savings_pct"] = Round2(SavingsPct(r.total.median_us, baseline->total.median_us));
    j["baseline"] = OneJson(*baseline);
  }
  return j;
}

std::string ReportTable(const ModelReport& r, const ModelReport* b) {
  std::string s;
  char line[256];
  auto row = [&](const char* name, const std::string& a, const std::string& base, const std::string& sav) {
    if (b)
      std::snprintf(line, sizeof line, "%-16s %20s %20s %9s\n", name, a.c_str(), base.c_str(), sav.c_str());
    else
      std::snprintf(line, sizeof line, "%-16s %20s\n", name, a.c_str());
    s += line;
  };
  auto num = [](double v) { return std::to_string(int64_t(std::llround(v))); };
  auto us = [](double v) {
    char t[32];
    std::snprintf(t, sizeof t, "%.1f", v);
    return std::string(t);
  };
  auto pct = [](double v) {
    char t[32];
    std::snprintf(t, sizeof t, "%.1f%%", v);
    return std::string(t);
  };
  row("", "model", b ? "baseline" : "", b ? "savings" : "");
  row("kind", r.kind, b ? b->kind : "", "");
  row("size_bytes", num(double(r.size_bytes)), b ? num(double(b->size_bytes)) : "",
      b ? pct(SavingsPct(double(r.size_bytes), double(b->size_bytes))) : "");
  row("zip_bytes", num(double(r.zip_bytes)), b ? num(double(b->zip_bytes)) : "",
      b ? pct(SavingsPct(double(r.zip_bytes), double(b->zip_bytes))) : "");
  row("params", num(double(r.params)), b ? num(double(b->params)) : "", "");
  row("nonzero_params", num(double(r.nonzero_params)), b ? num(double(b->nonzero_params)) : "", "");
  row("macs", num(double(r.macs)), b ? num(double(b->macs)) : "", "");
  row("arena_bytes", num(double(r.arena_bytes)), b ? num(double(b->arena_bytes)) : "", "");
  auto lat = [&](const char* name, const LatencyStats ModelReport::*m, bool savings) {
    row(name, us((r.*m).median_us) + " / " + us((r.*m).p90_us),
        b ? us((b->*m).median_us) + " / " + us((b->*m).p90_us) : "",
        b && savings ? pct(SavingsPct((r.*m).median_us, (b->*m).median_us)) : "");
  };
  lat("preprocess_us", &ModelReport::preprocess, true);
  lat("inference_us", &ModelReport::inference, true);
  lat("total_us", &ModelReport::total, true);
  lat("invoke_us", &ModelReport::invoke, true);
  s += "latency: median / p90 in microseconds over " + std::to_string(r.runs) +
       " runs, one thread (total = preprocess + inference; invoke = the graph alone, no float I/O)\n";
  s += "model:    " + r.model + "\n";
  if (b) s += "baseline: " + b->model + "\n";
  return s;
}

}  // namespace kws
