// kws bench: size and latency report of a .tflite model, optionally against a baseline model.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/report.h"
#include "bench/seed_models.h"
#include "cli/command.h"
#include "util/error.h"

namespace {

struct Opts {
  std::string model;
  std::string baseline;
  kws::BenchOptions b;
  bool json = false;
  bool size_only = false;
  std::string write_seed_models;  // hidden: write synthetic seed models (float/dynamic/int8) into this folder
  double seed_sparsity = 0.85;
  int seed_classes = 2;
};

kws::cli::Registrar reg(
    "bench", "Size and latency of a .tflite model (file, zip, params, MACs, arena, pre-processing + inference)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model, "Model file (.tflite with kws metadata)");
      app.add_option("--baseline", o->baseline, "Compare against this model (savings in %)");
      app.add_option("--runs", o->b.runs, "Timed runs (median and p90 over them)")->capture_default_str();
      app.add_option("--warmup", o->b.warmup, "Untimed runs first")->capture_default_str();
      app.add_option("--clip", o->b.clip, "Audio clip for the pre-processing input (default: a synthetic 1 s clip)");
      app.add_flag("--size-only", o->size_only, "Only the size figures (no timing)");
      app.add_flag("--json", o->json, "Print JSON");
      app.add_option("--write-seed-models", o->write_seed_models,
                     "Write synthetic seed-shaped models (float/dynamic/int8) into this folder")
          ->group("");
      app.add_option("--seed-sparsity", o->seed_sparsity)->group("");
      app.add_option("--seed-classes", o->seed_classes)->group("");
      return [o]() -> int {
        if (!o->write_seed_models.empty()) {
          kws::SeedModelOptions so;
          so.sparsity = o->seed_sparsity;
          so.classes = o->seed_classes;
          auto p = kws::WriteSeedModels(o->write_seed_models, "seed", so);
          std::printf("%s\n%s\n%s\n", p.float_path.c_str(), p.dynamic_path.c_str(), p.int8_path.c_str());
          return 0;
        }
        if (o->model.empty()) throw kws::UsageError("--model is required");
        std::vector<std::string> paths{o->model};
        if (!o->baseline.empty()) paths.push_back(o->baseline);
        std::vector<kws::ModelReport> r;
        if (o->size_only) {
          for (const auto& p : paths) r.push_back(kws::MeasureSize(p));
        } else {
          r = kws::BenchModels(paths, o->b);
        }
        const kws::ModelReport* base = r.size() > 1 ? &r[1] : nullptr;
        if (o->json)
          std::printf("%s\n", kws::ReportJson(r[0], base).dump(2).c_str());
        else
          std::printf("%s", kws::ReportTable(r[0], base).c_str());
        return 0;
      };
    },
    "Latency is measured on one thread: median and p90 over --runs runs after --warmup runs;\n"
    "pre-processing = features of one model window at the model's own settings.\n"
    "JSON keys: size_bytes, zip_bytes, params, nonzero_params, macs, arena_bytes, preprocess_us,\n"
    "inference_us, total_us (medians), *_p90_us; with --baseline also size_savings_pct, zip_savings_pct,\n"
    "latency_savings_pct and \"baseline\": {...}.\n"
    "Examples:\n"
    "  kws bench --model model.tflite\n"
    "  kws bench --model pruned_int8.tflite --baseline baseline.tflite --json");

}  // namespace
