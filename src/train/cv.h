// From a data folder to trained models: data preparation, the plain
// speaker-disjoint holdout run (`kws train`) and speaker-disjoint K-fold
// cross-validation (`kws train --cv K --seeds N`).
//
//   kws::Config cfg = kws::LoadConfig("configs/seed.toml");
//   kws::PreparedData data = kws::PrepareData(cfg, "data/speech_commands");
//   kws::TrainResult r = kws::TrainHoldout(cfg, data, {.out_dir = "runs/seed"});
//   kws::CvResult cv = kws::CrossValidate(cfg, data, {.folds = 5, .seeds = 3, .out_dir = "runs/cv"});
//
// Cross-validation: items are split into K speaker-disjoint folds (SpeakerKFold, seeded by
// train.seed, identical for every repeat). For fold k: train on the other folds, with a
// speaker-disjoint validation carve-out (train.validation; same for every repeat) for best-epoch
// selection; evaluate the best model on fold k. Repeat r uses train.seed + r for initialisation,
// shuffling and augmentation. RUN_DIR/cv.json holds the fold of every item (so other tools can
// reproduce the folds), each fold's validation items, per-run accuracy and the summary.
//
// Partitions (`--cv-partitions P`): one speaker partition can be lucky. With P > 1 the whole
// cross-validation is run P times, partition p with train.seed = CvPartitionSeed(seed, p) for
// everything (folds, carve-outs, initialisation, augmentation): partition 0 is the plain run, and
// for seed 1 partitions 1..3 are the seeds 101/202/303 the README reports. The summary pools every
// run and gives the spread of the partition means; run folders of partition p > 0 are
// part<p>_fold<k>_seed<r>.
//
// Synthetic speech ([data.synth] enabled): PrepareData generates (or reuses from the synth cache) a
// `kws data synth` folder and appends its items AFTER the real ones (features, windows). Folds,
// validation carve-outs and tests are built from the real items only; every synthetic item is added
// to the training items of every run (holdout and each CV fold), never to validation or test.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/feature_cache.h"
#include "data/task.h"
#include "model/config.h"
#include "synth/synth.h"
#include "train/metrics.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace kws {

struct PreparedData {
  Dataset dataset;
  TaskView task;
  FeatureSet features;
  ExtractStats extract_stats;
  // Only when cfg.train.augment:
  std::unique_ptr<WindowSet> windows;
  std::unique_ptr<BackgroundNoise> noise;
  std::vector<bool> is_silence;
  // [data.synth]: the synthetic folder, its dataset/task (labels in task order), and the feature
  // indices of its items (task.size() .. task.size() + synth.size() - 1). Empty without synth.
  std::string synth_dir;
  Dataset synth_dataset;
  TaskView synth_task;
  std::vector<int> synth_items;

  // TrainData over the given items; `train` gets every synthetic item appended.
  TrainData Data(std::vector<int> train, std::vector<int> val) const;
};

// data.unknown_subclasses: fills fs.classes / fs.class_names (task items in feature order) with one
// class "_unknown_/<folder>" per word folder that feeds _unknown_ (sorted; the _unknown_ folder's own
// clips keep _unknown_). UsageError if the task has no _unknown_.
void AddUnknownSubclasses(const Dataset& ds, const TaskView& task, FeatureSet& fs);

// Loads the dataset (several folders merge into one: data/dataset.h), builds the task for
// cfg.data.labels (UsageError naming a label the data lacks), extracts (cached) features and, with
// augmentation, the audio windows and background noise; with [data.synth] enabled, also the
// synthetic items (see above). `data_dirs` empty = cfg.data.dirs.
PreparedData PrepareData(const Config& cfg, const std::vector<std::string>& data_dirs);
PreparedData PrepareData(const Config& cfg, const std::string& data_dir);
// The data folders of a run: `given` (--data) if any, else cfg.data.dirs; UsageError if neither.
std::vector<std::string> DataDirs(const Config& cfg, const std::vector<std::string>& given);

// The `kws data synth` options [data.synth] asks for on `data` (background, when
// data.synth.background: the data folder's _background_noise_, else train.augment.background_dir).
synth::SynthOptions SynthOptionsFor(const Config& cfg, const Dataset& data);

// Writes dir/features.f32 (float32 little-endian [n, frames, bins]) and dir/features.json
// ({n, frames, bins, labels, items: [{index, path, label, label_index, speaker}]}) so that other
// tools (bench/torch_seed.py) train on exactly kws's features.
void ExportFeatures(const PreparedData& data, const std::string& dir);

// What a run trains on, for the run to record and a resume to compare (TrainerOptions::data_record):
// {"items", "synthetic_items", "labels", "digest", "features"}. The digest is a SHA-256 over every
// item's content key (the clip's SHA-256, or a noise slice's key) and label, real items then synthetic
// ones, so other clips, other labelling, added or removed clips all change it while moved or renamed
// folders do not. "features" is FeatureOptions::Key() (every setting and the FFT backend).
nlohmann::json DataRecord(const PreparedData& data, const FeatureOptions& features);

// A warning when a pruned run ended short of prune.final_sparsity (a short run, or a schedule that
// ends after the last step): its exports are not as small as the config says.
void WarnIfUnderPruned(const Config& cfg, const TrainResult& r);

// Speaker-disjoint train/validation split of all items (train.validation), trained into out_dir.
// With opts.out_dir, also writes out_dir/split.json ({"train": [...], "val": [...]} item indices) once
// the data and any resume are checked, and records DataRecord() in last.ckpt.
TrainResult TrainHoldout(const Config& cfg, const PreparedData& data, const TrainerOptions& opts);

// train.seed of speaker partition p: `seed` for p = 0, seed * 101 * p after that.
uint64_t CvPartitionSeed(uint64_t seed, int p);

struct CvOptions {
  int folds = 5;
  int seeds = 1;
  int partitions = 1;    // speaker partitions (see above)
  std::string out_dir;   // "" = no files; else cv.json and fold<k>_seed<r>/{model.ckpt,metrics.json}
  bool progress = true;
};

struct CvRun {
  int partition = 0;
  int fold = 0, repeat = 0;
  uint64_t seed = 0;
  int best_epoch = 0;
  double val_accuracy = 0;
  Evaluation test;           // on the held-out fold
  double train_seconds = 0;
  struct Miss {
    std::string path;        // the clip, relative to the data folder
    std::string label, predicted;
  };
  std::vector<Miss> misses;  // held-out clips the model got wrong (sorted by path)
};

struct CvResult {
  std::vector<CvRun> runs;
  Summary accuracy;          // over all runs
  std::vector<double> repeat_means;  // mean over folds per repeat (partition 0)
  std::vector<uint64_t> partition_seeds;
  std::vector<double> partition_means;  // mean over the runs of each partition
  Summary partitions;        // over partition_means
  nlohmann::json ToJson() const;     // without the item lists (those go to cv.json only)
};

CvResult CrossValidate(const Config& cfg, const PreparedData& data, const CvOptions& opts);

}  // namespace kws
