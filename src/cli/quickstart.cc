// kws quickstart: synthesize (or take) data, train the seed recipe and the baseline, export
// float/dynamic/int8 .tflite + C array, evaluate on held-out speakers, benchmark, write report.md.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "quickstart/quickstart.h"

namespace {

struct Opts {
  kws::QuickstartOptions q;
  bool no_baseline = false;
  bool json = false;
};

kws::cli::Registrar reg(
    "quickstart",
    "Data -> trained, pruned, quantized model (.tflite + C) -> report.md with pictures, in one command",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--out", o->q.out_dir, "Output folder (models, report.md, report.json, plots/)")->required();
      app.add_option("--data", o->q.data_dirs,
                     "Dataset folder (one sub-folder per label); repeat it to merge several; default: synthesize "
                     "the words with TTS");
      app.add_option("--config", o->q.config, "Training config (default: the embedded configs/seed.toml)");
      app.add_option("--baseline-config", o->q.baseline_config,
                     "Baseline config (default: the embedded configs/baseline.toml)");
      app.add_option("--labels", o->q.labels, "Class labels, comma-separated (default: the config's, yes,no)");
      app.add_option("--per-word", o->q.per_word, "Synthesized clips per word (without --data)")
          ->capture_default_str();
      app.add_option("--seed", o->q.seed, "Seed for synthesis, split and training (default: the config's)");
      app.add_option("--set", o->q.overrides, "Override a setting of the seed config: key=value (repeatable)");
      app.add_option("--baseline-set", o->q.baseline_overrides, "Override a baseline setting: key=value (repeatable)");
      app.add_option("--baseline-epochs", o->q.baseline_epochs,
                     "Train the baseline for at most this many epochs (time budget; 0 = the config's)")
          ->capture_default_str();
      app.add_flag("--no-baseline", o->no_baseline, "Skip the baseline (no savings columns)");
      app.add_option("--test-fraction", o->q.test_fraction, "Share of items (whole speakers) held out for testing")
          ->capture_default_str();
      app.add_option("--bench-runs", o->q.bench_runs, "Timed latency runs per model")->capture_default_str();
      app.add_option("--bench-warmup", o->q.bench_warmup, "Untimed runs first")->capture_default_str();
      app.add_flag("--json", o->json, "Print report.json instead of the summary table");
      return [o]() -> int {
        o->q.baseline = !o->no_baseline;
        kws::QuickstartResult r = kws::RunQuickstart(o->q);
        if (o->json)
          std::printf("%s\n", r.report.dump(2).c_str());
        else
          std::fputs(r.summary.c_str(), stdout);
        return 0;
      };
    },
    "Examples:\n"
    "  kws quickstart --out qs                      # synthetic yes/no, under a minute on 2 cores\n"
    "  kws quickstart --data ../shared/data/speech_commands --out qs_real\n"
    "  kws quickstart --out qs_tiny --per-word 20 --set train.epochs=2 --baseline-epochs 1\n"
    "Accuracies are on speakers held out from training (OUT/data/test): `kws eval --model OUT/seed_int8.tflite\n"
    "--data OUT/data/test` reproduces them; `kws bench --model OUT/seed_dynamic.tflite --baseline\n"
    "OUT/baseline_float.tflite` the size and latency columns.");

}  // namespace
