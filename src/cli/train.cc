// kws train: train a model from a config on a data folder (or cross-validate it).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "export/export_model.h"
#include "model/config.h"
#include "train/cv.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace {
struct Opts {
  std::string config, data, out, labels;
  std::vector<std::string> sets;
  int cv = 0, seeds = 1, partitions = 1;
  bool resume = false, json = false, export_features = false, no_export = false;
};

int Run(const Opts& o) {
  namespace fsys = std::filesystem;
  std::string config_path = o.config;
  if (config_path.empty()) {
    if (!o.resume) throw kws::UsageError("--config is required (e.g. --config configs/seed.toml)");
    config_path = (fsys::path(o.out) / "config.toml").string();
  }
  if (o.resume && o.cv > 0) throw kws::UsageError("--resume cannot be combined with --cv");
  if (o.seeds != 1 && o.cv == 0) throw kws::UsageError("--seeds needs --cv K");
  if (o.partitions != 1 && o.cv == 0) throw kws::UsageError("--cv-partitions needs --cv K");
  std::vector<std::string> sets = o.sets;
  if (!o.labels.empty()) sets.push_back("data.labels=" + o.labels);
  kws::Config cfg = kws::LoadConfig(config_path, sets);
  kws::PreparedData data = kws::PrepareData(cfg, o.data);
  kws::LogInfo("data: %d items, labels %s", data.task.size(), o.labels.empty() ? "from config" : o.labels.c_str());
  if (o.export_features) kws::ExportFeatures(data, o.out);

  if (o.cv > 0) {
    kws::CvOptions co;
    co.folds = o.cv;
    co.seeds = o.seeds;
    co.partitions = o.partitions;
    co.out_dir = o.out;
    co.progress = !o.json;
    kws::CvResult r = kws::CrossValidate(cfg, data, co);
    if (o.json) {
      nlohmann::json j = r.ToJson();
      j["cv_json"] = (fsys::path(o.out) / "cv.json").string();
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      const bool parts = o.partitions > 1;
      if (parts) std::printf("%-10s", "partition");
      std::printf("%-6s %-6s %10s %10s %6s\n", "fold", "seed", "test acc", "val acc", "epoch");
      for (auto& run : r.runs) {
        if (parts) std::printf("%-10d", run.partition);
        std::printf("%-6d %-6llu %9.2f%% %9.2f%% %6d\n", run.fold, (unsigned long long)run.seed,
                    100 * run.test.accuracy, 100 * run.val_accuracy, run.best_epoch);
      }
      std::printf("\naccuracy over %d runs: mean %.2f%%  std %.2f  min %.2f%%  max %.2f%%\n", r.accuracy.n,
                  100 * r.accuracy.mean, 100 * r.accuracy.stddev, 100 * r.accuracy.min, 100 * r.accuracy.max);
      if (parts) {
        std::printf("speaker partitions (train.seed):");
        for (size_t p = 0; p < r.partition_means.size(); ++p)
          std::printf(" %llu: %.2f%%", (unsigned long long)r.partition_seeds[p], 100 * r.partition_means[p]);
        std::printf("\nover %d partitions: mean %.2f%%  std %.2f  min %.2f%%  max %.2f%%\n", r.partitions.n,
                    100 * r.partitions.mean, 100 * r.partitions.stddev, 100 * r.partitions.min,
                    100 * r.partitions.max);
      }
      std::printf("details: %s\n", (fsys::path(o.out) / "cv.json").string().c_str());
    }
    return 0;
  }

  kws::TrainerOptions to;
  to.out_dir = o.out;
  to.resume = o.resume;
  to.progress = true;
  kws::TrainResult r = kws::TrainHoldout(cfg, data, to);
  const std::string model_path = (fsys::path(o.out) / "model.ckpt").string();

  // The deployable files, next to the checkpoint: float, dynamic-range (the TFLite converter's
  // default) and full int8 calibrated on ~200 shuffled clips of the training data folder.
  std::vector<kws::ModelExportResult> exported;
  if (!o.no_export) {
    for (kws::QuantMode q : {kws::QuantMode::kFloat, kws::QuantMode::kDynamic, kws::QuantMode::kInt8}) {
      kws::ModelExportOptions eo;
      eo.model = model_path;
      eo.quant = q;
      eo.out = (fsys::path(o.out) / (std::string("model_") + kws::QuantModeName(q) + ".tflite")).string();
      if (q == kws::QuantMode::kInt8) eo.calibration_data = o.data;
      exported.push_back(kws::ExportModel(eo));
    }
  }

  if (o.json) {
    nlohmann::json j;
    j["model"] = model_path;
    j["best_epoch"] = r.best_epoch;
    j["best_val_accuracy"] = r.best_val_accuracy;
    j["best_val_loss"] = r.best_val_loss;
    j["epochs"] = r.history.size();
    j["final_train_accuracy"] = r.history.empty() ? 0.0 : r.history.back().train_accuracy;
    j["final_sparsity"] = r.metrics["final_sparsity"];
    j["params"] = r.params;
    j["nonzero"] = r.nonzero;
    j["wall_seconds"] = r.wall_seconds;
    j["samples_per_second"] = r.samples_per_second;
    j["threads"] = kws::NumThreads();
    for (const auto& e : exported) j["tflite"].push_back({{"path", e.out}, {"bytes", e.bytes}, {"zip_bytes", e.zip_bytes}});
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    const auto& last = r.history.back();
    std::printf("trained %zu epochs in %.2fs (%.0f samples/s, %d threads)\n", r.history.size(), r.wall_seconds,
                r.samples_per_second, kws::NumThreads());
    std::printf("last epoch:  loss %.4f  accuracy %.2f%%  val accuracy %.2f%%\n", last.train_loss,
                100 * last.train_accuracy, 100 * last.val_accuracy);
    std::printf("best epoch:  %d  val accuracy %.2f%%  val loss %.4f\n", r.best_epoch, 100 * r.best_val_accuracy,
                r.best_val_loss);
    std::printf("parameters:  %ld (%ld non-zero, sparsity of pruned tensors %.1f%%)\n", r.params, r.nonzero,
                100 * r.metrics["final_sparsity"].get<double>());
    std::printf("model:       %s\n", model_path.c_str());
    for (const auto& e : exported)
      std::printf("exported:    %s (%zu bytes, %zu zipped)\n", e.out.c_str(), e.bytes, e.zip_bytes);
  }
  return 0;
}

kws::cli::Registrar reg(
    "train", "Train a keyword model from a config on a data folder (or cross-validate it with --cv)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--config", o->config, "Config file (TOML), e.g. configs/seed.toml");
      app.add_option("--data", o->data, "Dataset folder (one sub-folder per label)")->required();
      app.add_option("--out", o->out, "Run folder: model.ckpt, last.ckpt, metrics.json, config.toml, model_{float,dynamic,int8}.tflite")->required();
      app.add_option("--labels", o->labels, "Labels, comma-separated (overrides [data] labels)");
      app.add_option("--set", o->sets, "Override a setting: dotted.key=value (repeatable)");
      app.add_option("--cv", o->cv, "Speaker-disjoint K-fold cross-validation (writes RUN_DIR/cv.json)")
          ->check(CLI::NonNegativeNumber);
      app.add_option("--seeds", o->seeds, "Repeats of the cross-validation with seeds seed..seed+N-1")
          ->check(CLI::PositiveNumber);
      app.add_option("--cv-partitions", o->partitions,
                     "Run the cross-validation on P speaker partitions (train.seed, then seed*101*p) and pool "
                     "them: one partition can be lucky")
          ->capture_default_str();
      app.add_flag("--resume", o->resume, "Continue from RUN_DIR/last.ckpt (bit-identical to an uninterrupted run)");
      app.add_flag("--json", o->json, "Print the result as JSON");
      app.add_flag("--no-export", o->no_export,
                   "Do not write RUN_DIR/model_{float,dynamic,int8}.tflite after training");
      app.add_flag("--export-features", o->export_features,
                   "Also write RUN_DIR/features.f32 + features.json (the exact features, for other tools)");
      return [o]() -> int { return Run(*o); };
    },
    "Examples:\n"
    "  kws train --config configs/seed.toml --data data/speech_commands --out runs/seed\n"
    "  kws train --config configs/seed.toml --data DIR --out runs/s2 --set train.epochs=20 --set prune.enabled=false\n"
    "  kws train --data DIR --out runs/seed --resume\n"
    "  kws train --config configs/seed.toml --data DIR --out runs/cv --cv 5 --seeds 3\n"
    "  kws train --config configs/yesno.toml --data DIR --labels yes,no --out runs/cv4 --cv 5 --cv-partitions 4");
}  // namespace
