// kws train: train a model from a config on a data folder (or cross-validate it).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/command.h"
#include "recipe/train_run.h"

namespace {
struct Opts {
  kws::TrainRunOptions t;
  bool json = false;
};

// Ctrl-C / SIGTERM: say what is left and how to continue, then die of the signal as before
// (exit status 130 / 143). Only async-signal-safe calls (access, write, signal, raise).
std::string g_last_ckpt, g_resumable, g_fresh;

void OnInterrupt(int sig) {
  const std::string& m = ::access(g_last_ckpt.c_str(), F_OK) == 0 ? g_resumable : g_fresh;
  if (::write(STDERR_FILENO, m.data(), m.size()) < 0) {
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void ExplainInterrupts(const Opts& o) {
  if (o.t.cv > 0) return;  // cross-validation cannot be resumed: nothing to add
  g_last_ckpt = (std::filesystem::path(o.t.out) / "last.ckpt").string();
  g_resumable = "\nkws train: interrupted; " + g_last_ckpt +
                " holds the last finished epoch: run the same command with --resume to continue\n";
  g_fresh = "\nkws train: interrupted before the first epoch finished; nothing to resume\n";
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
}

int Run(const Opts& o) {
  ExplainInterrupts(o);
  kws::TrainRunOptions t = o.t;
  t.progress = !o.json;
  kws::TrainRunResult r = kws::RunTraining(t);
  if (o.json)
    std::printf("%s\n", r.ToJson().dump(2).c_str());
  else
    std::fputs(r.ToText().c_str(), stdout);
  return 0;
}

kws::cli::Registrar reg(
    "train", "Train a keyword model from a config on a data folder (or cross-validate it with --cv)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--config", o->t.config, "Config file (TOML), e.g. configs/seed.toml");
      app.add_option("--data", o->t.data,
                     "Dataset folder (one sub-folder per label); repeat it to merge several into one dataset "
                     "(default: the config's [data] dirs)");
      app.add_option("--test-data", o->t.test_data,
                     "Held-out folder (repeatable): the kept model and its exports are evaluated on it; the result "
                     "goes into metrics.json and the summary");
      app.add_option("--out", o->t.out, "Run folder: model.ckpt, last.ckpt, metrics.json, config.toml, model_{float,dynamic,int8}.tflite")->required();
      app.add_option("--labels", o->t.labels, "Labels, comma-separated (overrides [data] labels)");
      app.add_option("--set", o->t.sets, "Override a setting: dotted.key=value (repeatable)");
      app.add_option("--cv", o->t.cv, "Speaker-disjoint K-fold cross-validation (writes RUN_DIR/cv.json)")
          ->check(kws::cli::InRange(0, 1e300, "0 = no cross-validation"));
      app.add_option("--seeds", o->t.seeds, "Repeats of the cross-validation with seeds seed..seed+N-1")
          ->check(kws::cli::InRange(1, 1e300));
      app.add_option("--cv-partitions", o->t.partitions,
                     "Run the cross-validation on P speaker partitions (train.seed, then seed*101*p) and pool "
                     "them: one partition can be lucky")
          ->capture_default_str();
      app.add_flag("--resume", o->t.resume, "Continue from RUN_DIR/last.ckpt (bit-identical to an uninterrupted run)");
      app.add_flag("--json", o->json, "Print the result as JSON");
      app.add_flag("--no-export", o->t.no_export,
                   "Do not write RUN_DIR/model_{float,dynamic,int8}.tflite after training");
      app.add_flag("--export-features", o->t.export_features,
                   "Also write RUN_DIR/features.f32 + features.json (the exact features, for other tools)");
      return [o]() -> int { return Run(*o); };
    },
    "Examples:\n"
    "  kws train --config configs/seed.toml --data data/speech_commands --out runs/seed\n"
    "  kws train --config configs/yesno.toml --data data/v1 --test-data data/v2 --labels yes,no --out runs/yesno\n"
    "  kws train --config configs/seed.toml --data DIR --out runs/s2 --set train.epochs=20 --set prune.enabled=false\n"
    "  kws train --data DIR --out runs/seed --resume\n"
    "  kws train --config configs/seed.toml --data DIR --out runs/cv --cv 5 --seeds 3\n"
    "  kws train --config configs/yesno.toml --data DIR --labels yes,no --out runs/cv4 --cv 5 --cv-partitions 4");
}  // namespace
