// The [train], [prune] and [export] settings of a recipe config: the options structs and their one table each
// (util/settings.h), which give every setting's key, default, check and help in one line.
// (They sit in model/ beside the recipe config that reads them; the trainer in train/ uses them.)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/augment.h"
#include "util/settings.h"

namespace kws {

struct LearningRateOptions {
  std::string schedule = "polynomial";  // "polynomial" | "cosine" | "constant"
  double initial = 0.01;
  double end = 1e-5;                    // final value (polynomial, cosine floor)
  double power = 1.0;                   // polynomial power
  long decay_steps = 0;                 // 0 = "auto" = every training step
};

struct TrainOptions {
  int epochs = 80;
  int batch_size = 25;
  std::string optimizer = "adam";       // "adam" | "sgd"
  double momentum = 0.9;                // sgd
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;  // adam (Keras defaults)
  double weight_decay = 0.0;
  // Loss weight per label (data.labels order); empty = 1 each. class_weights_balanced: computed from
  // the training items' label counts instead (sklearn/Keras "balanced": n / (classes * count)).
  std::vector<double> class_weights;
  bool class_weights_balanced = false;
  double label_smoothing = 0.0;         // target = (1 - eps) one-hot + eps / classes
  std::vector<int> class_repeats;       // per label (data.labels order): uses per epoch; empty = 1 each
  // UsageError naming class_weights / class_repeats when a non-empty list has not num_labels entries
  // (Config::Validate checks against data.labels when given; the trainer against the labels found).
  void CheckPerLabelLists(size_t num_labels) const;
  // Exponential moving average of the weights and BatchNorm statistics, updated after every step
  // (tf.train.ExponentialMovingAverage with num_updates: decay_t = min(ema_decay, (1 + t) / (10 + t))).
  // 0 = off. When on, every epoch's validation, the kept model and the exports use the average,
  // with the pruning masks of that step applied.
  double ema_decay = 0.0;
  // Knowledge distillation: first train `distill_teachers` models with this config (without
  // distillation; seeds derived from `seed`) on the same data, then train this model towards
  // (1 - distill_weight) (its labels) + distill_weight (the teachers' mean probabilities at
  // distill_temperature, on the same augmented inputs). 0 = off. Only this model is kept.
  int distill_teachers = 0;
  double distill_weight = 0.5;
  double distill_temperature = 1.0;
  // [train.teacher]: the teachers' network ([[train.teacher.layers]], same format as [[model.layers]];
  // empty = the model's own) and whether they are pruned like the model (teacher.prune). A larger,
  // unpruned teacher passes on what the small model cannot learn alone; only the model is kept, so
  // its size does not change.
  nlohmann::json teacher_layers = nlohmann::json::array();
  bool teacher_prune = true;
  // teacher.synth: whether teachers trained in the run also learn from the [data.synth] clips (false: real
  // speech only; they still label the synthetic clips for the model).
  bool teacher_synth = true;
  // teacher.config: another recipe whose [features], model, [train] and [prune] the teachers are trained
  // with (features of their own read the same augmented audio); distill_teachers of them, or one when
  // distill_teachers is 0.
  // teacher.checkpoint: teachers trained before (kws checkpoints on the same labels) instead of training
  // any: one path, or an array of paths whose probabilities are averaged. Relative paths in a config file
  // are relative to that file. "" / [] = none.
  std::string teacher_config;
  std::vector<std::string> teacher_checkpoints;
  int TeachersToTrain() const { return distill_teachers > 0 ? distill_teachers : teacher_config.empty() ? 0 : 1; }
  bool Distills() const { return TeachersToTrain() > 0 || !teacher_checkpoints.empty(); }
  uint64_t seed = 1;
  double validation = 0.1;              // speaker-disjoint validation fraction of the training items
  // One of the --data folders whose clips are the validation set instead (train.validation is then not
  // used): validation on the recordings a model is for, e.g. a speaker part of the target dataset.
  std::string validation_data;
  LearningRateOptions lr;
  bool augment = false;
  // 0 = fresh augmentation every epoch; K = K augmented copies computed once, epoch e uses copy e % K.
  // Copy k is the same in both modes, so K >= epochs equals fresh. Measured on the seed features:
  // ~0.24 ms per clip per copy on one thread, i.e. ~0.13 s per epoch for 537 clips, comparable to a
  // whole training epoch; 10 copies cost that once per 8 epochs of the seed recipe.
  int augment_copies = 10;
  AugmentOptions augment_options;
  // Folder of noise recordings to mix in; "" = the data folder's _background_noise_.
  std::string augment_background_dir;
};

struct PruneOptions {
  bool enabled = false;
  std::string schedule = "polynomial";  // "polynomial" | "constant"
  double initial_sparsity = 0.2;
  double final_sparsity = 0.85;
  double power = 3.0;                   // TFMOT PolynomialDecay default
  long begin_step = 0;
  long end_step = -1;                   // -1 = "end" (last training step)
  double begin_fraction = -1;           // >= 0: begin = fraction * total steps
  double end_fraction = -1;             // >= 0: end = fraction * total steps
  int frequency = 100;
  bool structured = false;              // prune whole filters (by L2 norm) instead of single weights

  // The concrete begin/end steps for a run of `total_steps` steps.
  long BeginStep(long total_steps) const;
  long EndStep(long total_steps) const;
};

// [export]: how `kws train` writes its int8 model, and `kws export`'s defaults for the run's checkpoint.
struct ExportConfigOptions {
  // int8 weight scales: "per-tensor" (one per weight tensor: smallest file), "per-channel" (one per
  // output channel of each conv/depthwise: less quantization loss, 8 B per channel per layer), or "fit":
  // per-channel on the layers where it cuts the weights' quantization noise most per byte, as many as
  // keep the file within max_bytes (per-tensor elsewhere).
  std::string int8_weights = "per-tensor";
  long max_bytes = 0;                   // "fit": the int8 file's budget (bytes); required then
  int calibration_count = 200;          // int8: training clips whose activation ranges set the scales
};

// [train] (with [train.learning_rate], [train.teacher] and [train.augment]) and [prune], in the
// order their checks run. The checks are those of one section alone; Config::Validate adds the
// ones that need other sections (class_weights against data.labels).
const std::vector<settings::Setting<TrainOptions>>& TrainSettings();
const std::vector<settings::Setting<PruneOptions>>& PruneSettings();
const std::vector<settings::Setting<ExportConfigOptions>>& ExportSettings();

}  // namespace kws
