// Knowledge distillation's teachers: the models whose probabilities a run trains towards.
//
// Three ways to have them ([train] settings, model/train_options.h):
//   distill_teachers = K              K teachers trained first with this config (or [[train.teacher.layers]])
//   teacher.config = "other.toml"     K teachers trained first with another recipe: its own [features],
//                                     model, [train] and [prune] (e.g. BC-ResNet-3 on log-mel for a
//                                     DS-CNN student on MFCCs)
//   teacher.checkpoint = "m.ckpt"     one teacher trained before (by `kws train`), loaded; or an array
//                                     ["a.ckpt", "b.ckpt"] of them (probabilities averaged)
// A teacher whose features differ from the model's reads the same (augmented) audio through its own
// front end: the trainer asks for FrontEnd() and passes those features to Targets().
//
//   kws::Teachers t(cfg, data, opts, classes);      // trains or loads them (none if distillation is off)
//   const float* soft = t.Targets(x, n);              // (n, classes) mean probabilities at the temperature
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "features/features.h"
#include "model/model.h"
#include "train/trainer.h"

namespace kws {

class Teachers {
 public:
  Teachers(const Config& cfg, const TrainData& d, const TrainerOptions& opts, int classes);

  bool empty() const { return models_.empty(); }
  // The teachers' own features (nullopt: they read the model's).
  const std::optional<FeatureOptions>& FrontEnd() const { return front_end_; }
  // (n, classes) soft targets for the n inputs x (the model's features, or FrontEnd()'s); nullptr
  // without teachers. Valid until the next call.
  const float* Targets(const float* x, int n);
  // Targets() of `rows` inputs in x, in batches, into out (rows * classes).
  void TargetsOf(const float* x, size_t rows, size_t row_size, std::vector<float>& out);

 private:
  void Load(const Config& cfg, const std::vector<std::string>& classes);
  void TrainThem(const Config& cfg, const TrainData& d, const TrainerOptions& opts, int classes);
  void Keep(Model m, const std::string& what, int classes);

  std::vector<Model> models_;
  std::optional<FeatureOptions> front_end_;
  float inv_t_;
  int classes_;
  std::vector<float> scaled_, p_, soft_;
};

// Features of items of `fs` computed with `opts` from their audio windows: the same items, labels and
// classes as fs. UsageError naming `what` when opts read another window length or sample rate.
FeatureSet FeaturesFromWindows(const FeatureSet& fs, const WindowSet& w, const FeatureOptions& opts,
                               const std::string& what);

}  // namespace kws
