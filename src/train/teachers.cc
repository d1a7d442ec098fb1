#include "train/teachers.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <thread>

#include "features/options_io.h"
#include "layers/softmax_cross_entropy.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace kws {

namespace {

constexpr uint64_t kTagTeacher = 0x7EAC4E;  // teacher k's seed: Derive(train.seed, kTagTeacher + k)
constexpr int kTeacherBatch = 64;           // inference batch (BC-ResNet-3 keeps ~8 MB of activations per item)

bool SameFeatures(const FeatureOptions& a, const FeatureOptions& b) {
  return FeatureOptionsToJsonObject(a) == FeatureOptionsToJsonObject(b);
}

const std::vector<std::string>& ClassNames(const FeatureSet& fs) {
  return fs.class_names.empty() ? fs.label_names : fs.class_names;
}

std::string JoinNames(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// Teacher k's recipe: `base` trained plainly (no teachers of its own) with a seed derived from the run's.
Config TeacherConfig(const Config& base, const Config& cfg, int k) {
  Config tc = base;
  tc.train.distill_teachers = 0;
  tc.train.teacher_layers = nlohmann::json::array();
  tc.train.teacher_config.clear();
  tc.train.teacher_checkpoints.clear();
  tc.train.seed = Rng::Derive(cfg.train.seed, kTagTeacher + uint64_t(k)).Next() >> 1;
  return tc;
}

// Trains each config on `d`. With two threads or more, up to that many teachers train side by side, one
// thread each (a teacher's small tensors use one core better than two: measured on BC-ResNet-3), so a
// teacher is the same bits whatever -j is; the progress bar follows the first of each group.
std::vector<TrainResult> TrainSideBySide(const std::vector<Config>& configs, const TrainData& d,
                                         const TrainerOptions& opts) {
  const int K = int(configs.size()), group = std::min(K, NumThreads());
  auto options = [&](int k, bool progress) {
    TrainerOptions to;
    to.progress = progress;
    to.fused_step = opts.fused_step;
    to.log_prefix = opts.log_prefix + "teacher " + std::to_string(k + 1) + "/" + std::to_string(K) + " ";
    return to;
  };
  std::vector<std::optional<TrainResult>> results(static_cast<size_t>(K));
  if (group <= 1) {
    for (int k = 0; k < K; ++k) results[size_t(k)] = Train(configs[size_t(k)], d, options(k, opts.progress));
  } else {
    LogInfo("%sdistill: %d teachers side by side, one thread each", opts.log_prefix.c_str(), group);
    for (int first = 0; first < K; first += group) {
      const int last = std::min(K, first + group);
      std::vector<std::exception_ptr> errors(static_cast<size_t>(K));
      std::vector<std::thread> threads;
      for (int k = first; k < last; ++k)
        threads.emplace_back([&, k] {
          try {
            ThisThreadThreads one(1);
            results[size_t(k)] = Train(configs[size_t(k)], d, options(k, opts.progress && k == first));
          } catch (...) {
            errors[size_t(k)] = std::current_exception();
          }
        });
      for (std::thread& t : threads) t.join();
      for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
    }
  }
  std::vector<TrainResult> out;
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

}  // namespace

FeatureSet FeaturesFromWindows(const FeatureSet& fs, const WindowSet& w, const FeatureOptions& opts,
                               const std::string& what) {
  if (opts.sample_rate != w.sample_rate || opts.window_samples() != w.window)
    throw UsageError(what + ": its features read " + std::to_string(opts.window_samples()) + " samples at " +
                     std::to_string(opts.sample_rate) + " Hz; the model's clips are " + std::to_string(w.window) +
                     " samples at " + std::to_string(w.sample_rate) + " Hz");
  if (w.n != fs.n) throw InternalError("FeaturesFromWindows: windows and features differ in item count");
  FeatureSet out;
  out.n = fs.n;
  out.labels = fs.labels;
  out.label_names = fs.label_names;
  out.classes = fs.classes;
  out.class_names = fs.class_names;
  {
    FeatureExtractor fx(opts);
    const FeatureMatrix m = fx.Compute(w.item(0), w.window);
    out.frames = m.frames;
    out.bins = m.bins;
  }
  const size_t row = size_t(out.frames) * size_t(out.bins);
  out.data.resize(size_t(out.n) * row);
  ParallelFor(out.n, [&](long b, long e, int) {
    FeatureExtractor fx(opts);
    for (long i = b; i < e; ++i) {
      const FeatureMatrix m = fx.Compute(w.item(int(i)), w.window);
      std::memcpy(out.data.data() + size_t(i) * row, m.data.data(), sizeof(float) * row);
    }
  });
  return out;
}

Teachers::Teachers(const Config& cfg, const TrainData& d, const TrainerOptions& opts, int classes)
    : inv_t_(float(1.0 / cfg.train.distill_temperature)), classes_(classes) {
  if (!cfg.train.teacher_checkpoints.empty()) Load(cfg, ClassNames(*d.features));
  else if (cfg.train.TeachersToTrain() > 0) TrainThem(cfg, d, opts, classes);
  if (front_end_ && !d.windows) throw InternalError("distill: a teacher with its own features needs the audio windows");
}

// train.teacher.checkpoint: teachers trained before; their classes must be the run's, and they must read
// one input (the model's features, or one front end of their own), since Targets() gets one batch.
void Teachers::Load(const Config& cfg, const std::vector<std::string>& classes) {
  for (const std::string& path : cfg.train.teacher_checkpoints) {
    Checkpoint c;
    try {
      c = LoadCheckpoint(path);
    } catch (const Error& e) {
      throw BadInput("train.teacher.checkpoint: " + std::string(e.what()));
    }
    const std::vector<std::string>& names = c.classes.empty() ? c.labels : c.classes;
    if (names != classes)
      throw UsageError("train.teacher.checkpoint: " + path + " was trained on the classes " + JoinNames(names) +
                       ", this run has " + JoinNames(classes) + " (train the teacher with the same --labels)");
    if (models_.empty() && !SameFeatures(c.features, cfg.features)) front_end_ = c.features;  // the first sets the input
    if (!SameFeatures(c.features, front_end_.value_or(cfg.features)))
      throw UsageError("train.teacher.checkpoint: " + path + " reads other features than " +
                       cfg.train.teacher_checkpoints.front() + " (teachers given together must share one front end)");
    Keep(ModelFromCheckpoint(c, path), path, int(classes.size()));
    LogInfo("distill: teacher %s (%s features)", path.c_str(), front_end_ ? "its own" : "the model's");
  }
}

// train.distill_teachers: K teachers trained here on the same data (no distillation, nothing written
// but teacher_k.ckpt in the run folder), with this config or train.teacher.config's recipe (one teacher
// when only that is given).
void Teachers::TrainThem(const Config& cfg, const TrainData& d, const TrainerOptions& opts, int classes) {
  const int K = cfg.train.TeachersToTrain();
  if (opts.resume)
    LogInfo("%sdistill: training the %d teachers again (they are not resumed)", opts.log_prefix.c_str(), K);
  Config base = cfg;
  if (!cfg.train.teacher_config.empty()) {
    base = LoadConfig(cfg.train.teacher_config);
    base.data = cfg.data;  // the run's data settings (labels, word classes) hold for its teachers
    if (!SameFeatures(base.features, cfg.features)) front_end_ = base.features;
  } else if (!cfg.train.teacher_layers.empty()) {
    base.layers = cfg.train.teacher_layers;
    base.prune.enabled = cfg.prune.enabled && cfg.train.teacher_prune;
  }
  std::optional<FeatureSet> own;
  TrainData td = d;
  if (!cfg.train.teacher_synth && d.synthetic > 0) {  // train.teacher.synth = false: real speech only
    td.train.resize(td.train.size() - size_t(d.synthetic));
    td.synthetic = 0;
    LogInfo("%sdistill: the teachers train on the %zu real clips, not the %d synthetic ones", opts.log_prefix.c_str(),
            td.train.size(), d.synthetic);
  }
  if (front_end_) {
    if (!d.windows) throw InternalError("distill: a teacher with its own features needs the audio windows");
    own = FeaturesFromWindows(*d.features, *d.windows, *front_end_, "train.teacher.config");
    td.features = &*own;
  }
  std::vector<Config> configs;
  for (int k = 0; k < K; ++k) configs.push_back(TeacherConfig(base, cfg, k));
  const std::vector<TrainResult> results = TrainSideBySide(configs, td, opts);
  for (int k = 0; k < K; ++k) {
    const TrainResult& r = results[size_t(k)];
    LogVerbose("%sdistill: teacher %d/%d best validation accuracy %.4f (epoch %d)", opts.log_prefix.c_str(), k + 1,
               K, r.best_val_accuracy, r.best_epoch);
    if (!opts.out_dir.empty() && !cfg.train.teacher_config.empty())
      SaveCheckpoint((std::filesystem::path(opts.out_dir) / ("teacher_" + std::to_string(k + 1) + ".ckpt")).string(),
                     r.best);
    Keep(ModelFromCheckpoint(r.best, "teacher"), "teacher", classes);
  }
}

void Teachers::Keep(Model m, const std::string& what, int classes) {
  if (m.num_classes() != classes)
    throw InternalError("distill: " + what + " has " + std::to_string(m.num_classes()) + " classes, the model " +
                        std::to_string(classes));
  models_.push_back(std::move(m));
}

const float* Teachers::Targets(const float* x, int n) {
  if (models_.empty()) return nullptr;
  const size_t m = size_t(n) * size_t(classes_);
  scaled_.resize(m);
  p_.resize(m);
  soft_.assign(m, 0.0f);
  const float share = 1.0f / float(models_.size());
  for (Model& t : models_) {
    const float* logits = t.Forward(x, n, false);
    for (size_t i = 0; i < m; ++i) scaled_[i] = logits[i] * inv_t_;
    softmax_forward(p_.data(), scaled_.data(), n, classes_);
    for (size_t i = 0; i < m; ++i) soft_[i] += share * p_[i];
  }
  return soft_.data();
}

void Teachers::TargetsOf(const float* x, size_t rows, size_t row_size, std::vector<float>& out) {
  out.resize(rows * size_t(classes_));
  for (size_t b = 0; b < rows; b += kTeacherBatch) {
    const int n = int(std::min<size_t>(kTeacherBatch, rows - b));
    const float* t = Targets(x + b * row_size, n);
    std::memcpy(out.data() + b * size_t(classes_), t, sizeof(float) * size_t(n) * size_t(classes_));
  }
}

}  // namespace kws
