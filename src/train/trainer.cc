#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>

#include "features/features.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "train/denormals.h"
#include "train/ema.h"
#include "train/fused_step.h"
#include "train/optimizer.h"
#include "train/pruning.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace kws {

using json = nlohmann::json;

namespace {

// Tags separating the random streams derived from the run seed.
constexpr uint64_t kTagInit = 0x1A1700, kTagShuffle = 0x5B0FF1E, kTagAugment = 0xA06, kTagStep = 0x57E9,
                   kTagRepeat = 0x4E9EA7, kTagTeacher = 0x7EAC4E;

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

LrSchedule MakeLrSchedule(const LearningRateOptions& o, long total_steps) {
  LrSchedule s;
  s.type = o.schedule;
  s.initial = o.initial;
  s.end = o.end;
  s.power = o.power;
  s.decay_steps = std::max<long>(1, o.decay_steps > 0 ? o.decay_steps : total_steps);
  s.alpha = o.initial > 0 ? o.end / o.initial : 0.0;
  s.Validate();
  return s;
}

PruningSchedule MakePruningSchedule(const PruneOptions& o, long total_steps) {
  PruningSchedule s;
  s.type = o.schedule;
  s.initial_sparsity = o.initial_sparsity;
  s.final_sparsity = o.final_sparsity;
  s.begin_step = o.BeginStep(total_steps);
  s.end_step = std::max(s.begin_step, o.EndStep(total_steps));
  s.power = o.power;
  s.frequency = o.frequency;
  s.Validate();
  return s;
}

OptimizerOptions MakeOptimizerOptions(const TrainOptions& t) {
  OptimizerOptions o;
  o.type = t.optimizer;
  o.beta1 = t.beta1;
  o.beta2 = t.beta2;
  o.epsilon = t.epsilon;
  o.momentum = t.optimizer == "sgd" ? t.momentum : 0.0;
  o.weight_decay = t.weight_decay;
  o.Validate();
  return o;
}

// Training items per label.
std::vector<long> LabelCounts(const FeatureSet& fs, const std::vector<int>& items) {
  std::vector<long> counts(fs.label_names.size(), 0);
  for (int i : items) counts[size_t(fs.labels[size_t(i)])]++;
  return counts;
}

// The output label of each training class: itself for the labels, _unknown_ for the word classes of
// data.unknown_subclasses. Empty when the labels are the classes.
std::vector<int> OutputMap(const FeatureSet& fs) { return OutputMapOf(fs.label_names, fs.class_names); }

// Training class per item: fs.classes with data.unknown_subclasses, else the labels.
const std::vector<int>& TrainClasses(const FeatureSet& fs) { return fs.classes.empty() ? fs.labels : fs.classes; }

// train.class_weights / label_smoothing as loss options. "balanced" weighs class c by
// n / (classes * count_c) over the training items (every class has items: CheckData).
CrossEntropyOptions MakeLossOptions(const TrainOptions& t, const TrainData& d) {
  CrossEntropyOptions o;
  o.label_smoothing = float(t.label_smoothing);
  if (t.distill_teachers > 0) o.soft_weight = float(t.distill_weight);
  const FeatureSet& fs = *d.features;
  const size_t C = fs.label_names.size();
  if (t.class_weights_balanced) {
    const std::vector<long> counts = LabelCounts(fs, d.train);
    for (size_t c = 0; c < C; ++c)
      o.class_weights.push_back(float(double(d.train.size()) / (double(C) * double(counts[c]))));
  } else {
    for (double w : t.class_weights) o.class_weights.push_back(float(w));  // one per label: CheckData
  }
  // Word classes (data.unknown_subclasses) weigh what their label (_unknown_) weighs.
  if (!o.class_weights.empty()) {
    const std::vector<int> map = OutputMap(fs);
    for (size_t k = C; k < map.size(); ++k) o.class_weights.push_back(o.class_weights[size_t(map[k])]);
  }
  return o;
}

// The epoch's sample list: every training item, listed train.class_repeats[label] times (its
// repeats side by side); reps[k] numbers the repeat. Without repeats: d.train, all reps 0.
struct TrainList {
  std::vector<int> items, reps;
};
TrainList MakeTrainList(const TrainOptions& t, const TrainData& d) {
  TrainList l;
  const FeatureSet& fs = *d.features;
  for (int i : d.train) {
    const int r = t.class_repeats.empty() ? 1 : t.class_repeats[size_t(fs.labels[size_t(i)])];  // CheckData: one per label
    for (int k = 0; k < r; ++k) {
      l.items.push_back(i);
      l.reps.push_back(k);
    }
  }
  return l;
}

double MeanSparsity(const std::vector<Param*>& params) {
  size_t n = 0, z = 0;
  for (auto& r : SparsityReport(params)) {
    n += r.size;
    z += r.zeros;
  }
  return n ? double(z) / double(n) : 0.0;
}

// Features of the training items for one augmentation copy: each item's audio window is
// augmented with its own random stream (seeded by copy and item), then featurised.
// `reps` (same length as items, or empty) numbers the repeats of an item (train.class_repeats):
// repeat 0 uses the item's own stream, repeat r > 0 one derived from it, so every repeat differs.
void AugmentedFeatures(const Config& cfg, const TrainData& d, const std::vector<int>& items,
                       const std::vector<int>& reps, uint64_t copy, std::vector<float>& out) {
  const auto t0 = std::chrono::steady_clock::now();
  const FeatureSet& fs = *d.features;
  const size_t row = size_t(fs.frames) * size_t(fs.bins);
  out.resize(items.size() * row);
  const WindowSet& w = *d.windows;
  const uint64_t base = Rng::Derive(cfg.train.seed, kTagAugment).Next();
  ParallelFor(long(items.size()), [&](long b, long e, int) {
    FeatureExtractor fx(cfg.features);
    std::vector<float> audio(size_t(w.window));
    for (long k = b; k < e; ++k) {
      const int item = items[size_t(k)];
      std::memcpy(audio.data(), w.item(item), sizeof(float) * audio.size());
      Rng rng = Rng::Derive(base, copy * 0x100000000ull + uint64_t(item));
      if (!reps.empty() && reps[size_t(k)] > 0) rng = Rng::Derive(rng.Next() ^ kTagRepeat, uint64_t(reps[size_t(k)]));
      const bool silence = !d.is_silence.empty() && d.is_silence[size_t(item)];
      const AugmentInfo info = Augment(cfg.train.augment_options, d.noise, w.sample_rate, rng, audio, silence);
      FeatureMatrix m = fx.Compute(audio.data(), int(audio.size()));
      if (size_t(m.frames) * size_t(m.bins) != row)
        throw InternalError("augmented features: shape differs from the feature set");
      if (cfg.train.augment_options.TouchesFeatures())
        AugmentFeatures(cfg.train.augment_options, info, rng, m.data.data(), m.frames, m.bins);
      std::memcpy(out.data() + size_t(k) * row, m.data.data(), sizeof(float) * row);
    }
  });
  LogVerbose("augmentation copy %llu: %zu items in %.3fs", (unsigned long long)copy, items.size(), Seconds(t0));
}

// The layers structured pruning may shrink after removing filters of conv2d layer i: the next layers up
// to the conv2d/dense that reads them (Sequential stacks), or FilterChain's chain in a graph (empty
// when the channels fan out or meet a sum: such convs keep all their filters).
std::vector<size_t> PrunableChain(const Model& model, size_t i) {
  const auto& layers = model.layers();
  if (!model.IsSequential()) {
    std::vector<std::vector<int>> inputs;
    for (size_t k = 0; k < layers.size(); ++k) inputs.push_back(model.inputs(k));
    return FilterChain(layers, inputs, i);
  }
  std::vector<size_t> chain = {i};
  for (size_t j = i + 1; j < layers.size(); ++j) chain.push_back(j);
  return chain;
}

// Structured pruning during training: at the schedule's steps, every conv2d keeps the
// KeptCount(filters, sparsity) filters with the largest L1 norms; the others get a zero mask on their
// kernel column and bias, and on the gamma/beta of the batchnorm that follows, so the channel is
// exactly zero downstream (BN of an all-zero channel with gamma = beta = 0 outputs 0). Pruned filters
// have norm 0, so they stay pruned. RemoveMaskedFilters later deletes them without changing outputs.
// In a graph only the convs whose filters can be removed (PrunableChain) take part.
bool UpdateFilterMasks(Model& model, const PruningSchedule& sched, long step) {
  if (!sched.ShouldPrune(step)) return false;
  const double sparsity = sched.Sparsity(step);
  auto& layers = model.mutable_layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    auto* conv = dynamic_cast<Conv2DLayer*>(layers[i].get());
    if (!conv) continue;
    const std::vector<size_t> chain = PrunableChain(model, i);
    if (chain.empty()) continue;
    const int oc = conv->filters;
    const std::vector<int> keep_idx = SelectFiltersByL1(FilterL1Norms(*conv), int(KeptCount(size_t(oc), sparsity)));
    std::vector<uint8_t> keep(size_t(oc), 0);
    for (int k : keep_idx) keep[size_t(k)] = 1;
    auto mask_channels = [&](Param& p, int channels) {
      if (p.value.empty()) return;
      p.mask.resize(p.value.size());
      for (size_t j = 0; j < p.value.size(); ++j) {
        p.mask[j] = keep[j % size_t(channels)];
        if (!p.mask[j]) p.value[j] = 0.0f;
      }
    };
    mask_channels(conv->kernel, oc);
    if (conv->use_bias) mask_channels(conv->bias, oc);
    for (size_t k = 1; k < chain.size(); ++k) {
      if (auto* bn = dynamic_cast<BatchNormLayer*>(layers[chain[k]].get())) {
        mask_channels(bn->gamma, oc);
        mask_channels(bn->beta, oc);
        break;
      }
      const std::string t = layers[chain[k]]->type();
      if (t == "conv2d" || t == "dense" || t == "depthwise_conv2d") break;
    }
  }
  return true;
}

// Deletes the filters whose kernel mask is all zero (and the channels downstream); returns how many.
int RemoveMaskedFilters(Model& model) {
  int removed = 0;
  auto& layers = model.mutable_layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    auto* conv = dynamic_cast<Conv2DLayer*>(layers[i].get());
    if (!conv || conv->kernel.mask.empty()) continue;
    const int oc = conv->filters;
    std::vector<uint8_t> alive(size_t(oc), 0);
    for (size_t j = 0; j < conv->kernel.mask.size(); ++j) alive[j % size_t(oc)] |= conv->kernel.mask[j];
    std::vector<int> keep;
    for (int k = 0; k < oc; ++k)
      if (alive[size_t(k)]) keep.push_back(k);
    if (keep.empty()) keep.push_back(0);
    if (int(keep.size()) == oc) continue;
    const std::vector<size_t> chain = PrunableChain(model, i);
    if (chain.empty()) continue;
    removed += oc - int(keep.size());
    if (model.IsSequential()) RemoveFilters(layers, i, keep);
    else RemoveFiltersAlong(layers, chain, keep);
  }
  model.Reshape();
  return removed;
}

void CheckData(const Config& cfg, const TrainData& d) {
  if (!d.features) throw InternalError("Train: no features");
  const FeatureSet& fs = *d.features;
  if (d.train.empty()) throw UsageError("data: the training split is empty");
  for (int i : d.train)
    if (i < 0 || i >= fs.n) throw InternalError("Train: training index out of range");
  for (int i : d.val)
    if (i < 0 || i >= fs.n) throw InternalError("Train: validation index out of range");
  if (cfg.train.validation > 0 && d.val.empty())
    throw UsageError("train.validation: the validation split is empty (too few speakers?)");
  if (fs.label_names.size() < 2) throw UsageError("data.labels: need at least 2 labels");
  if (cfg.train.augment) {
    if (!d.windows) throw InternalError("Train: augmentation needs audio windows");
    if (d.windows->n != fs.n) throw InternalError("Train: windows and features differ in item count");
  }
  const std::vector<long> counts = LabelCounts(fs, d.train);
  for (size_t c = 0; c < counts.size(); ++c)
    if (counts[c] == 0) throw UsageError("data.labels: no training items for label '" + fs.label_names[c] + "'");
  cfg.train.CheckPerLabelLists(fs.label_names.size());
}

// "a, b, c" (at most `max` items, then "...").
std::string JoinSome(const std::vector<std::string>& v, size_t max = 8) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max) s += ", ...";
  return s.empty() ? "(none)" : s;
}

// The settings that differ between two resolved config tables: "train.epochs (run 80, now 20)".
std::string ConfigDifferences(const json& run, const json& now) {
  std::vector<std::string> out;
  for (const json& op : json::diff(run, now)) {
    const std::string ptr = op.at("path").get<std::string>();
    std::string key = ptr.substr(1);
    std::replace(key.begin(), key.end(), '/', '.');
    const json::json_pointer jp(ptr);
    const std::string was = run.contains(jp) ? run.at(jp).dump() : "unset";
    const std::string is = now.contains(jp) ? now.at(jp).dump() : "unset";
    out.push_back(key + " (run " + was + ", now " + is + ")");
  }
  return JoinSome(out, 5);
}

}  // namespace

Checkpoint CheckResume(const Config& cfg, const std::vector<std::string>& labels,
                       const std::vector<std::string>& classes, const TrainerOptions& opts) {
  namespace fsys = std::filesystem;
  if (opts.out_dir.empty()) throw UsageError("--resume needs the run folder");
  const std::string last_path = (fsys::path(opts.out_dir) / "last.ckpt").string();
  if (!fsys::exists(last_path)) throw UsageError(last_path + ": no checkpoint to resume from");
  Checkpoint c = LoadCheckpoint(last_path);
  const std::string what = "--resume: " + last_path;
  if (c.labels != labels || c.classes != classes)
    throw UsageError(what + " was trained on different labels (run: " + JoinSome(c.labels) + "; now: " +
                     JoinSome(labels) + ")");
  if (c.config != cfg.table)
    throw UsageError(what + " was trained with different settings: " + ConfigDifferences(c.config, cfg.table) +
                     " (resume with the run's config.toml and no --set)");
  const json& run = c.state.contains("data") ? c.state["data"] : json();
  if (run.is_null() || opts.data_record.is_null()) {
    if (!opts.data_record.is_null())
      LogWarn("%s: the run does not record its data (an older kws wrote it): the data cannot be checked",
              last_path.c_str());
    return c;
  }
  if (run.value("features", "") != opts.data_record.value("features", ""))
    throw UsageError(what + " was trained on different features (run: " + run.value("features", "") + "; now: " +
                     opts.data_record.value("features", "") + ")");
  if (run.value("digest", "") != opts.data_record.value("digest", "")) {
    auto describe = [](const json& r) {
      return std::to_string(r.value("items", 0)) + " items + " + std::to_string(r.value("synthetic_items", 0)) +
             " synthetic, digest " + r.value("digest", "").substr(0, 12);
    };
    throw UsageError(what + " was trained on different data (run: " + describe(run) + "; now: " +
                     describe(opts.data_record) + "); resume with the run's --data, or start a new run folder");
  }
  return c;
}

json EpochMetrics::ToJson() const {
  json j = {{"epoch", epoch},
            {"train_loss", train_loss},
            {"train_accuracy", train_accuracy},
            {"val_loss", val_loss},
            {"val_accuracy", val_accuracy},
            {"learning_rate", learning_rate},
            {"sparsity", sparsity}};
  j["seconds"] = seconds >= 0 ? json(seconds) : json(nullptr);
  return j;
}

EvalOutput EvaluateModel(Model& model, const FeatureSet& fs, const std::vector<int>& items, int batch) {
  EvalOutput out;
  out.predicted.resize(items.size());
  if (items.empty()) return out;
  const size_t row = size_t(fs.frames) * size_t(fs.bins);
  const int C = model.num_classes();
  const std::vector<int>& classes = TrainClasses(fs);
  std::vector<float> x;
  std::vector<int32_t> y;
  double loss = 0;
  long correct = 0;
  FlushDenormalsScope ftz;  // as in training (see denormals.h)
  for (size_t b = 0; b < items.size(); b += size_t(batch)) {
    const int n = int(std::min(items.size() - b, size_t(batch)));
    x.resize(size_t(n) * row);
    y.resize(size_t(n));
    for (int k = 0; k < n; ++k) {
      std::memcpy(x.data() + size_t(k) * row, fs.item(items[b + k]), sizeof(float) * row);
      y[size_t(k)] = classes[size_t(items[b + k])];
    }
    model.Forward(x.data(), n, false);
    loss += double(model.Loss(y.data(), n)) * n;
    const float* p = model.probs();
    for (int k = 0; k < n; ++k) {
      const int arg = model.OutputArgmax(p + size_t(k) * C);  // a label (word classes merged)
      out.predicted[b + size_t(k)] = arg;
      correct += arg == fs.labels[size_t(items[b + k])];
    }
  }
  out.loss = loss / double(items.size());
  out.accuracy = double(correct) / double(items.size());
  return out;
}

// train.distill_teachers: the teachers, trained first with the same config and data (no distillation,
// nothing written, seeds derived from train.seed), kept as inference models; Targets() gives their
// mean probabilities at train.distill_temperature for a batch (scratch buffers reused across batches).
class Teachers {
 public:
  Teachers(const Config& cfg, const TrainData& d, const TrainerOptions& opts, int classes)
      : inv_t_(float(1.0 / cfg.train.distill_temperature)), classes_(classes) {
    const int K = cfg.train.distill_teachers;
    if (K > 0 && opts.resume)
      LogInfo("%sdistill: training the %d teachers again (they are not saved)", opts.log_prefix.c_str(), K);
    for (int k = 0; k < K; ++k) {
      Config tc = cfg;
      tc.train.distill_teachers = 0;
      if (!cfg.train.teacher_layers.empty()) tc.layers = cfg.train.teacher_layers;
      tc.train.teacher_layers = nlohmann::json::array();  // a teacher is trained plainly
      tc.prune.enabled = cfg.prune.enabled && cfg.train.teacher_prune;
      tc.train.seed = Rng::Derive(cfg.train.seed, kTagTeacher + uint64_t(k)).Next() >> 1;
      TrainerOptions to;
      to.progress = opts.progress;
      to.fused_step = opts.fused_step;
      to.log_prefix = opts.log_prefix + "teacher " + std::to_string(k + 1) + "/" + std::to_string(K) + " ";
      TrainResult r = Train(tc, d, to);
      LogVerbose("%sdistill: teacher %d/%d best validation accuracy %.4f (epoch %d)", opts.log_prefix.c_str(), k + 1,
                 K, r.best_val_accuracy, r.best_epoch);
      models_.push_back(ModelFromCheckpoint(r.best, "teacher"));
      if (models_.back().num_classes() != classes)
        throw InternalError("distill: a teacher has " + std::to_string(models_.back().num_classes()) +
                            " classes, the model " + std::to_string(classes));
    }
  }

  // (n, classes) soft targets for inputs x; nullptr without teachers. Valid until the next call.
  const float* Targets(const float* x, int n) {
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

 private:
  std::vector<Model> models_;
  float inv_t_;
  int classes_;
  std::vector<float> scaled_, p_, soft_;
};

TrainResult Train(const Config& cfg, const TrainData& d, const TrainerOptions& opts) {
  const auto t_start = std::chrono::steady_clock::now();
  cfg.Validate();
  CheckData(cfg, d);
  const FeatureSet& fs = *d.features;
  const Shape input{fs.frames, fs.bins, 1};
  const std::vector<int>& classes = TrainClasses(fs);
  const std::vector<int> output_map = OutputMap(fs);
  const int C = int(output_map.empty() ? fs.label_names.size() : output_map.size());  // the head's classes
  const auto& tr = cfg.train;

  // A resume is checked before anything is trained or written.
  std::optional<Checkpoint> resume_from;
  if (opts.resume) resume_from = CheckResume(cfg, fs.label_names, fs.class_names, opts);

  Teachers teachers(cfg, d, opts, C);  // none unless train.distill_teachers > 0

  Model model = Model::Build(cfg.layers, input, C, Rng::Derive(tr.seed, kTagInit).Next());
  model.SetOutputMap(output_map);
  const CrossEntropyOptions loss_opts = MakeLossOptions(tr, d);
  model.SetLossOptions(loss_opts);
  if (!loss_opts.class_weights.empty()) {
    std::string w;
    for (size_t c = 0; c < loss_opts.class_weights.size(); ++c)
      w += (c ? ", " : "") + (output_map.empty() ? fs.label_names : fs.class_names)[c] + " " +
           std::to_string(loss_opts.class_weights[c]);
    LogVerbose("%strain: class weights %s", opts.log_prefix.c_str(), w.c_str());
  }
  std::vector<Param*> params = model.Params();
  Optimizer opt(MakeOptimizerOptions(tr));

  const int B = tr.batch_size;
  const TrainList list = MakeTrainList(tr, d);
  const long ntrain = long(list.items.size());
  const long steps_per_epoch = (ntrain + B - 1) / B;
  const long total_steps = steps_per_epoch * tr.epochs;
  const LrSchedule lr_sched = MakeLrSchedule(tr.lr, total_steps);
  PruningSchedule prune_sched;
  if (cfg.prune.enabled) prune_sched = MakePruningSchedule(cfg.prune, total_steps);

  namespace fsys = std::filesystem;
  const bool write = !opts.out_dir.empty();
  const std::string last_path = write ? (fsys::path(opts.out_dir) / "last.ckpt").string() : "";
  const std::string best_path = write ? (fsys::path(opts.out_dir) / "model.ckpt").string() : "";

  TrainResult res;
  int start_epoch = 0;
  long step = 0;
  auto fill_meta = [&](Checkpoint& c) {
    c.config = cfg.table;
    c.labels = fs.label_names;
    c.classes = fs.class_names;
    c.features = cfg.features;
  };

  std::optional<WeightAverage> ema;  // train.ema_decay; built on the model that trains (after a resume's reload)
  if (resume_from) {
    const Checkpoint& c = *resume_from;
    model = ModelFromCheckpoint(c, last_path);
    model.SetLossOptions(loss_opts);
    params = model.Params();
    RestoreOptimizer(c, opt);
    if (tr.ema_decay > 0) ema.emplace(tr.ema_decay, model).Load(c, last_path);
    start_epoch = c.state.value("epoch", 0);
    step = c.state.value("step", 0L);
    res.best_epoch = c.state.value("best_epoch", 0);
    res.best_val_accuracy = c.state.value("best_val_accuracy", 0.0);
    res.best_val_loss = c.state.value("best_val_loss", 0.0);
    for (auto& h : c.state.value("history", json::array())) {
      EpochMetrics m;
      m.epoch = h.at("epoch");
      m.train_loss = h.at("train_loss");
      m.train_accuracy = h.at("train_accuracy");
      m.val_loss = h.at("val_loss");
      m.val_accuracy = h.at("val_accuracy");
      m.learning_rate = h.at("learning_rate");
      m.sparsity = h.at("sparsity");
      res.history.push_back(m);
    }
    if (fsys::exists(best_path)) res.best = LoadCheckpoint(best_path);
    if (start_epoch >= tr.epochs) LogInfo("%s: already trained %d epochs", last_path.c_str(), start_epoch);
  }
  if (tr.ema_decay > 0 && !ema) ema.emplace(tr.ema_decay, model);
  if (write && !opts.resume && fsys::exists(last_path))
    LogWarn("%s: replacing the previous run in this folder (use --resume to continue it)", opts.out_dir.c_str());
  if (write) AtomicWriteFile(fsys::path(opts.out_dir) / "config.toml", cfg.ToToml());
  if (write && !opts.split_json.empty()) AtomicWriteFile(fsys::path(opts.out_dir) / "split.json", opts.split_json);

  // Augmentation copies (precomputed when copies > 0).
  std::vector<std::vector<float>> copies;
  if (tr.augment && tr.augment_copies > 0) {
    copies.resize(size_t(tr.augment_copies));
    for (int k = 0; k < tr.augment_copies; ++k)
      AugmentedFeatures(cfg, d, list.items, list.reps, uint64_t(k), copies[size_t(k)]);
  }
  std::vector<float> fresh;

  const size_t row = size_t(fs.frames) * size_t(fs.bins);
  std::vector<float> xb(size_t(B) * row);
  std::vector<int32_t> yb(static_cast<size_t>(B));  // training classes
  std::vector<int> lb(static_cast<size_t>(B));       // their labels (the same without word classes)
  // Positions in `list` (= rows of the augmented buffers), shuffled per epoch. (Shuffling positions
  // gives the same item order as shuffling the items themselves: the shuffle depends only on the size.)
  std::vector<int> order(list.items.size());

  // The seed network's shape (conv-bn-relu blocks, GAP, dense) trains through one fused,
  // batch-parallel step; anything else layer by layer.
  std::unique_ptr<FusedConvStep> fused = opts.fused_step ? FusedConvStep::TryCreate(model) : nullptr;
  if (fused) LogVerbose("%strain: fused conv-bn-relu step", opts.log_prefix.c_str());
  const int stop_epoch = opts.stop_after_epochs > 0 ? std::min(tr.epochs, opts.stop_after_epochs) : tr.epochs;
  std::optional<Progress> progress;
  if (opts.progress) progress.emplace(opts.log_prefix + "train", long(stop_epoch - start_epoch) * steps_per_epoch);
  double train_seconds = 0;
  long samples_seen = 0;

  for (int epoch = start_epoch; epoch < stop_epoch; ++epoch) {
    const auto t_epoch = std::chrono::steady_clock::now();
    for (size_t k = 0; k < order.size(); ++k) order[k] = int(k);
    Rng shuffle = Rng::Derive(Rng::Derive(tr.seed, kTagShuffle).Next(), uint64_t(epoch));
    shuffle.Shuffle(order);
    const float* aug = nullptr;
    if (tr.augment) {
      if (!copies.empty()) {
        aug = copies[size_t(epoch % tr.augment_copies)].data();
      } else {
        AugmentedFeatures(cfg, d, list.items, list.reps, uint64_t(epoch), fresh);
        aug = fresh.data();
      }
    }
    double loss_sum = 0;
    long correct = 0;
    double lr = lr_sched(step);
    std::optional<FlushDenormalsScope> ftz;  // subnormal gradients cost 3x (denormals.h)
    ftz.emplace();
    for (long b = 0; b < ntrain; b += B) {
      const int n = int(std::min<long>(B, ntrain - b));
      for (int k = 0; k < n; ++k) {
        const int pos = order[size_t(b + k)];
        const int item = list.items[size_t(pos)];
        const float* src = aug ? aug + size_t(pos) * row : fs.item(item);
        std::memcpy(xb.data() + size_t(k) * row, src, sizeof(float) * row);
        yb[size_t(k)] = classes[size_t(item)];
        lb[size_t(k)] = fs.labels[size_t(item)];
      }
      if (cfg.prune.enabled) {
        if (cfg.prune.structured) UpdateFilterMasks(model, prune_sched, step);
        else UpdatePruningMasks(params, prune_sched, step);
      }
      model.SetSeed(Rng::Derive(Rng::Derive(tr.seed, kTagStep).Next(), uint64_t(step)).Next());
      if (fused) ZeroGrads(params);  // the fused step accumulates its gradients at once
      const float* sb = teachers.Targets(xb.data(), n);
      const float loss = fused ? fused->Step(xb.data(), yb.data(), n, sb)
                               : (model.Forward(xb.data(), n, true), model.Loss(yb.data(), n, sb));
      if (!std::isfinite(loss))
        throw BadInput("training diverged at epoch " + std::to_string(epoch + 1) + " step " + std::to_string(step) +
                       " (loss " + std::to_string(loss) + "); lower train.learning_rate.initial");
      loss_sum += double(loss) * n;
      const float* p = fused ? fused->probs() : model.probs();
      for (int k = 0; k < n; ++k) correct += model.OutputArgmax(p + size_t(k) * C) == lb[size_t(k)];
      if (!fused) {
        ZeroGrads(params);
        model.Backward(n);
      }
      lr = lr_sched(step);
      opt.Step(params, lr);
      if (ema) ema->Update(step);
      ++step;
      if (progress) progress->Tick();
    }
    samples_seen += ntrain;
    ftz.reset();

    EpochMetrics m;
    m.epoch = epoch + 1;
    m.train_loss = loss_sum / double(ntrain);
    m.train_accuracy = double(correct) / double(ntrain);
    m.learning_rate = lr;
    m.sparsity = MeanSparsity(params);
    bool improved = false;
    if (ema) ema->Apply();  // validation and the kept model use the averaged weights
    if (!d.val.empty()) {
      EvalOutput ev = EvaluateModel(model, fs, d.val);
      m.val_loss = ev.loss;
      m.val_accuracy = ev.accuracy;
      improved = res.best_epoch == 0 || ev.accuracy > res.best_val_accuracy ||
                 (ev.accuracy == res.best_val_accuracy && ev.loss < res.best_val_loss);
    } else {
      improved = true;  // no validation split: the last epoch is the best
    }
    // With pruning, only epochs at the final sparsity count as "best" (an early, denser
    // model would otherwise win); the last epoch always qualifies.
    if (cfg.prune.enabled && step <= prune_sched.end_step && epoch + 1 < tr.epochs) improved = false;
    if (cfg.prune.enabled && epoch + 1 == tr.epochs && res.best_epoch > 0 &&
        res.history[size_t(res.best_epoch - 1)].sparsity + 1e-9 < m.sparsity)
      improved = true;  // the best so far predates the final sparsity
    m.seconds = Seconds(t_epoch);
    train_seconds += m.seconds;
    res.history.push_back(m);
    if (improved) {
      res.best_epoch = m.epoch;
      res.best_val_accuracy = m.val_accuracy;
      res.best_val_loss = m.val_loss;
      res.best = CaptureModel(model);
      fill_meta(res.best);
      res.best.state = {{"epoch", m.epoch}, {"val_accuracy", m.val_accuracy}, {"val_loss", m.val_loss}};
      if (write) SaveCheckpoint(best_path, res.best);
    }
    if (ema) ema->Restore();
    if (progress) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "epoch %d/%d loss %.4f acc %.1f%% val %.1f%%", m.epoch, tr.epochs, m.train_loss,
                    100 * m.train_accuracy, 100 * m.val_accuracy);
      progress->Status(buf);
    }
    LogVerbose("%sepoch %d/%d: loss %.4f acc %.4f val_loss %.4f val_acc %.4f lr %.3g sparsity %.3f (%.2fs)",
               opts.log_prefix.c_str(), m.epoch, tr.epochs, m.train_loss, m.train_accuracy, m.val_loss,
               m.val_accuracy, m.learning_rate, m.sparsity, m.seconds);
    const bool last_epoch = epoch + 1 == stop_epoch;
    if (write && (last_epoch || (epoch + 1) % std::max(1, opts.checkpoint_every) == 0)) {
      Checkpoint c = CaptureModel(model);
      fill_meta(c);
      CaptureOptimizer(opt, c);
      if (ema) ema->Save(c);
      json hist = json::array();
      for (auto& h : res.history) {
        json hj = h.ToJson();
        hj.erase("seconds");  // timings vary: keep checkpoints bit-identical
        hist.push_back(hj);
      }
      c.state["epoch"] = epoch + 1;
      c.state["step"] = step;
      c.state["best_epoch"] = res.best_epoch;
      c.state["best_val_accuracy"] = res.best_val_accuracy;
      c.state["best_val_loss"] = res.best_val_loss;
      c.state["history"] = hist;
      if (!opts.data_record.is_null()) c.state["data"] = opts.data_record;
      SaveCheckpoint(last_path, c);
    }
  }
  if (progress) progress->Done();

  res.steps = step;
  res.wall_seconds = Seconds(t_start);
  res.samples_per_second = train_seconds > 0 ? double(samples_seen) / train_seconds : 0;
  res.params = model.ParamCount();
  res.nonzero = model.NonZeroCount();

  int filters_removed = 0;
  if (cfg.prune.enabled && cfg.prune.structured && res.best_epoch > 0) {
    // The saved model loses the pruned filters for real (same outputs, smaller and faster).
    Model small = ModelFromCheckpoint(res.best);
    filters_removed = RemoveMaskedFilters(small);
    Checkpoint c = CaptureModel(small);
    c.config = res.best.config;
    c.labels = res.best.labels;
    c.classes = res.best.classes;
    c.features = res.best.features;
    c.state = res.best.state;
    c.state["filters_removed"] = filters_removed;
    c.state["params"] = small.ParamCount();
    res.best = std::move(c);
    if (write) SaveCheckpoint(best_path, res.best);
  }

  json m;
  m["labels"] = fs.label_names;
  if (!fs.class_names.empty()) m["classes"] = fs.class_names;
  if (cfg.prune.enabled && cfg.prune.structured) {
    m["filters_removed"] = filters_removed;
    m["params_after_filter_removal"] = res.best.state.value("params", 0L);
  }
  m["epochs"] = json::array();
  for (auto& h : res.history) m["epochs"].push_back(h.ToJson());
  m["best_epoch"] = res.best_epoch;
  m["best_val_accuracy"] = res.best_val_accuracy;
  m["best_val_loss"] = res.best_val_loss;
  m["steps"] = res.steps;
  m["train_items"] = d.train.size();
  m["val_items"] = d.val.size();
  m["params"] = res.params;
  m["nonzero"] = res.nonzero;
  json layers = json::array();
  for (auto& r : SparsityReport(params))
    layers.push_back({{"name", r.name}, {"size", r.size}, {"zeros", r.zeros}, {"sparsity", r.sparsity}});
  m["sparsity_per_tensor"] = layers;
  m["final_sparsity"] = MeanSparsity(params);
  m["wall_seconds"] = res.wall_seconds;
  m["train_seconds"] = train_seconds;
  m["samples_per_second"] = res.samples_per_second;
  m["threads"] = NumThreads();
  res.metrics = m;
  if (write) AtomicWriteFile(fsys::path(opts.out_dir) / "metrics.json", m.dump(2) + "\n");
  return res;
}

}  // namespace kws
