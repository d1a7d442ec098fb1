// The training loop.
//
//   kws::TrainData d;                       // features of every item + which items train / validate
//   d.features = &feature_set; d.train = split.train; d.val = split.val;
//   kws::TrainResult r = kws::Train(cfg, d, {.out_dir = "runs/seed"});
//
// Per epoch: the training items are shuffled with Rng::Derive(seed, epoch); with augmentation on,
// the epoch's features come from augmented audio (time shift, background noise) — either fresh for
// every epoch (train.augment.copies = 0) or from K copies computed once and used round-robin.
// Per step: pruning masks (if the schedule says so), forward, softmax cross-entropy, backward,
// optimizer step with the scheduled learning rate. After each epoch: validation (inference mode),
// best-epoch tracking (higher validation accuracy, ties -> lower loss), checkpoints.
//
// Files in out_dir (all written atomically): model.ckpt (best epoch), last.ckpt (latest epoch, with
// optimizer state: --resume continues from it bit-identically), metrics.json, config.toml.
// Same config, data, seed and thread count -> bit-identical checkpoints.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/augment.h"
#include "data/feature_cache.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model.h"

namespace kws {

struct TrainData {
  const FeatureSet* features = nullptr;  // every item's clean features; labels; label names
  std::vector<int> train, val;           // item indices (val may be empty: best = last epoch)
  // Augmentation source (needed when cfg.train.augment): audio windows of the same items, and noise.
  const WindowSet* windows = nullptr;
  const BackgroundNoise* noise = nullptr;
  std::vector<bool> is_silence;          // per item (TF's silence treatment); empty = none
  int synthetic = 0;                     // the last `synthetic` items of train are [data.synth] clips
};

struct TrainerOptions {
  std::string out_dir;        // "" = write nothing
  bool resume = false;        // continue from out_dir/last.ckpt
  int stop_after_epochs = 0;  // > 0: stop once this many epochs are done in total (simulates an interruption)
  bool progress = true;       // kws::Progress bar (still quiet in pipes/CI)
  int checkpoint_every = 1;   // write last.ckpt every N epochs (and always at the end)
  std::string log_prefix;     // e.g. "fold 2/5 " for progress labels
  bool fused_step = true;     // conv-bn-relu stacks: train with FusedConvStep (train/fused_step.h)
  // What the run trains on (train/cv.h DataRecord: item digest, counts, feature settings): stored in
  // last.ckpt's state ("data") and compared by a resume, which refuses other data. null = none.
  nlohmann::json data_record;
  // Written to out_dir/split.json once the data and any resume have been checked ("" = none).
  std::string split_json;
};

// The checks a resume makes before anything is trained or written: out_dir/last.ckpt exists and was
// trained with the same labels, settings (cfg.table) and data (opts.data_record). UsageError saying
// what differs. Returns the checkpoint to resume from.
Checkpoint CheckResume(const Config& cfg, const std::vector<std::string>& labels,
                       const std::vector<std::string>& classes, const TrainerOptions& opts);

struct EpochMetrics {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;
  double learning_rate = 0, sparsity = 0;  // lr at the epoch's last step; mean realised sparsity of prunable params
  double seconds = -1;                     // -1 when unknown (epochs before a resume)
  nlohmann::json ToJson() const;
};

struct TrainResult {
  std::vector<EpochMetrics> history;
  int best_epoch = 0;
  double best_val_accuracy = 0, best_val_loss = 0;
  long steps = 0;
  double wall_seconds = 0, samples_per_second = 0;
  long params = 0, nonzero = 0;
  Checkpoint best;  // the best epoch's checkpoint (model, labels, features, config)
  nlohmann::json metrics;  // what metrics.json holds
};

TrainResult Train(const Config& cfg, const TrainData& data, const TrainerOptions& opts = {});

// Evaluates a model on items of a feature set in inference mode. Returns mean loss and fills
// predictions (argmax) per listed item.
struct EvalOutput {
  double loss = 0, accuracy = 0;
  std::vector<int> predicted;  // per item in `items`
};
EvalOutput EvaluateModel(Model& model, const FeatureSet& fs, const std::vector<int>& items, int batch = 256);

}  // namespace kws
