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
#include "train/teachers.h"
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
                   kTagRepeat = 0x4E9EA7;

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
  if (t.Distills()) o.soft_weight = float(t.distill_weight);
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
// With `second` (a teacher's own front end), second_out gets its features of the same audio (before
// the feature-space augmentation, which is the model's).
void AugmentedFeatures(const Config& cfg, const TrainData& d, const std::vector<int>& items,
                       const std::vector<int>& reps, uint64_t copy, std::vector<float>& out,
                       const FeatureOptions* second = nullptr, std::vector<float>* second_out = nullptr,
                       size_t second_row = 0) {
  const auto t0 = std::chrono::steady_clock::now();
  const FeatureSet& fs = *d.features;
  const size_t row = size_t(fs.frames) * size_t(fs.bins);
  out.resize(items.size() * row);
  if (second) second_out->resize(items.size() * second_row);
  const WindowSet& w = *d.windows;
  const uint64_t base = Rng::Derive(cfg.train.seed, kTagAugment).Next();
  ParallelFor(long(items.size()), [&](long b, long e, int) {
    FeatureExtractor fx(cfg.features);
    std::optional<FeatureExtractor> fx2;
    if (second) fx2.emplace(*second);
    std::vector<float> audio(size_t(w.window));
    for (long k = b; k < e; ++k) {
      const int item = items[size_t(k)];
      std::memcpy(audio.data(), w.item(item), sizeof(float) * audio.size());
      Rng rng = Rng::Derive(base, copy * 0x100000000ull + uint64_t(item));
      if (!reps.empty() && reps[size_t(k)] > 0) rng = Rng::Derive(rng.Next() ^ kTagRepeat, uint64_t(reps[size_t(k)]));
      const bool silence = !d.is_silence.empty() && d.is_silence[size_t(item)];
      const AugmentInfo info = Augment(cfg.train.augment_options, d.noise, w.sample_rate, rng, audio, silence);
      if (fx2) {
        const FeatureMatrix t = fx2->Compute(audio.data(), int(audio.size()));
        if (t.data.size() != second_row) throw InternalError("augmented features: the teacher's shape differs");
        std::memcpy(second_out->data() + size_t(k) * second_row, t.data.data(), sizeof(float) * second_row);
      }
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

namespace {

namespace fsys = std::filesystem;

// One Train() call: its state, and the steps Run() takes in order (set up the model and the schedules,
// resume, write the run's config, then per epoch: train on every batch, validate and keep the best,
// write last.ckpt; at the end: remove pruned filters, write metrics.json).
class TrainRun {
 public:
  TrainRun(const Config& cfg, const TrainData& d, const TrainerOptions& opts)
      : cfg_(cfg), tr_(cfg.train), d_(d), opts_(opts), fs_(CheckedFeatures(cfg, d)),
        classes_(TrainClasses(fs_)), output_map_(OutputMap(fs_)),
        C_(int(output_map_.empty() ? fs_.label_names.size() : output_map_.size())),
        write_(!opts.out_dir.empty()),
        last_path_(write_ ? (fsys::path(opts.out_dir) / "last.ckpt").string() : ""),
        best_path_(write_ ? (fsys::path(opts.out_dir) / "model.ckpt").string() : "") {}

  TrainResult Run() {
    // A resume is checked before anything is trained or written.
    std::optional<Checkpoint> resume_from;
    if (opts_.resume) resume_from = CheckResume(cfg_, fs_.label_names, fs_.class_names, opts_);
    teachers_.emplace(cfg_, d_, opts_, C_);  // none unless distillation is on (train/teachers.h)
    BuildModel();
    MakeSchedules();
    if (resume_from) Resume(*resume_from);
    if (tr_.ema_decay > 0 && !ema_) ema_.emplace(tr_.ema_decay, model_);
    WriteRunFiles();
    PrecomputeAugmentation();
    PrepareSteps();
    for (int epoch = start_epoch_; epoch < stop_epoch_; ++epoch) RunEpoch(epoch);
    if (progress_) progress_->Done();
    res_.steps = step_;
    res_.wall_seconds = Seconds(t_start_);
    res_.samples_per_second = train_seconds_ > 0 ? double(samples_seen_) / train_seconds_ : 0;
    res_.params = model_.ParamCount();
    res_.nonzero = model_.NonZeroCount();
    const int filters_removed = RemovePrunedFilters();
    res_.metrics = Metrics(filters_removed);
    if (write_) AtomicWriteFile(fsys::path(opts_.out_dir) / "metrics.json", res_.metrics.dump(2) + "\n");
    return std::move(res_);
  }

 private:
  // The config and data are checked before anything else happens.
  static const FeatureSet& CheckedFeatures(const Config& cfg, const TrainData& d) {
    cfg.Validate();
    CheckData(cfg, d);
    return *d.features;
  }

  // The network, its loss (with class weights) and its optimizer.
  void BuildModel() {
    const Shape input{fs_.frames, fs_.bins, 1};
    model_ = Model::Build(cfg_.layers, input, C_, Rng::Derive(tr_.seed, kTagInit).Next());
    model_.SetOutputMap(output_map_);
    loss_opts_ = MakeLossOptions(tr_, d_);
    model_.SetLossOptions(loss_opts_);
    if (!loss_opts_.class_weights.empty()) {
      std::string w;
      for (size_t c = 0; c < loss_opts_.class_weights.size(); ++c)
        w += (c ? ", " : "") + (output_map_.empty() ? fs_.label_names : fs_.class_names)[c] + " " +
             std::to_string(loss_opts_.class_weights[c]);
      LogVerbose("%strain: class weights %s", opts_.log_prefix.c_str(), w.c_str());
    }
    params_ = model_.Params();
    opt_.emplace(MakeOptimizerOptions(tr_));
  }

  // The training list (with repetitions), the learning-rate and pruning schedules over all steps.
  void MakeSchedules() {
    list_ = MakeTrainList(tr_, d_);
    ntrain_ = long(list_.items.size());
    steps_per_epoch_ = (ntrain_ + tr_.batch_size - 1) / tr_.batch_size;
    const long total_steps = steps_per_epoch_ * tr_.epochs;
    lr_sched_ = MakeLrSchedule(tr_.lr, total_steps);
    if (cfg_.prune.enabled) prune_sched_ = MakePruningSchedule(cfg_.prune, total_steps);
  }

  // --resume: the model, optimizer, weight average and history of last.ckpt.
  void Resume(const Checkpoint& c) {
    model_ = ModelFromCheckpoint(c, last_path_);
    model_.SetLossOptions(loss_opts_);
    params_ = model_.Params();
    RestoreOptimizer(c, *opt_);
    // train.ema_decay; built on the model that trains (after the reload)
    if (tr_.ema_decay > 0) ema_.emplace(tr_.ema_decay, model_).Load(c, last_path_);
    start_epoch_ = c.state.value("epoch", 0);
    step_ = c.state.value("step", 0L);
    res_.best_epoch = c.state.value("best_epoch", 0);
    res_.best_val_accuracy = c.state.value("best_val_accuracy", 0.0);
    res_.best_val_loss = c.state.value("best_val_loss", 0.0);
    for (auto& h : c.state.value("history", json::array())) {
      EpochMetrics m;
      m.epoch = h.at("epoch");
      m.train_loss = h.at("train_loss");
      m.train_accuracy = h.at("train_accuracy");
      m.val_loss = h.at("val_loss");
      m.val_accuracy = h.at("val_accuracy");
      m.learning_rate = h.at("learning_rate");
      m.sparsity = h.at("sparsity");
      res_.history.push_back(m);
    }
    if (fsys::exists(best_path_)) res_.best = LoadCheckpoint(best_path_);
    if (start_epoch_ >= tr_.epochs) LogInfo("%s: already trained %d epochs", last_path_.c_str(), start_epoch_);
  }

  // config.toml (and split.json) in the run folder.
  void WriteRunFiles() {
    if (write_ && !opts_.resume && fsys::exists(last_path_))
      LogWarn("%s: replacing the previous run in this folder (use --resume to continue it)", opts_.out_dir.c_str());
    if (write_) AtomicWriteFile(fsys::path(opts_.out_dir) / "config.toml", cfg_.ToToml());
    if (write_ && !opts_.split_json.empty())
      AtomicWriteFile(fsys::path(opts_.out_dir) / "split.json", opts_.split_json);
  }

  // Augmentation copies (precomputed when copies > 0), with the targets of teachers that have their
  // own front end; without augmentation, those teachers' targets of the clean clips.
  void PrecomputeAugmentation() {
    if (tr_.augment && tr_.augment_copies > 0) {
      copies_.resize(size_t(tr_.augment_copies));
      copy_targets_.resize(size_t(tr_.augment_copies));
      for (int k = 0; k < tr_.augment_copies; ++k)
        Augmented(uint64_t(k), copies_[size_t(k)], copy_targets_[size_t(k)]);
    } else if (!tr_.augment && teachers_->FrontEnd()) {
      const FeatureSet own = FeaturesFromWindows(fs_, *d_.windows, *teachers_->FrontEnd(), "train.teacher");
      const size_t row = size_t(own.frames) * size_t(own.bins);
      std::vector<float> x(list_.items.size() * row);
      for (size_t k = 0; k < list_.items.size(); ++k)
        std::memcpy(x.data() + k * row, own.item(list_.items[k]), sizeof(float) * row);
      copy_targets_.resize(1);
      teachers_->TargetsOf(x.data(), list_.items.size(), row, copy_targets_[0]);
    }
  }

  // One augmentation of the training list into x, and (teachers with their own front end) their
  // targets of the same audio into targets.
  void Augmented(uint64_t copy, std::vector<float>& x, std::vector<float>& targets) {
    const std::optional<FeatureOptions>& fe = teachers_->FrontEnd();
    if (!fe) return AugmentedFeatures(cfg_, d_, list_.items, list_.reps, copy, x);
    const FeatureMatrix probe = FeatureExtractor(*fe).Compute(d_.windows->item(0), d_.windows->window);
    const size_t row = probe.data.size();
    std::vector<float> own;
    AugmentedFeatures(cfg_, d_, list_.items, list_.reps, copy, x, &*fe, &own, row);
    teachers_->TargetsOf(own.data(), list_.items.size(), row, targets);
    long agree = 0;
    for (size_t k = 0; k < list_.items.size(); ++k) {
      const float* t = targets.data() + k * size_t(C_);
      agree += std::max_element(t, t + C_) - t == classes_[size_t(list_.items[k])];
    }
    LogVerbose("%sdistill: the teachers' top class is the label on %.2f%% of augmentation %llu", opts_.log_prefix.c_str(),
               100.0 * double(agree) / double(std::max<size_t>(1, list_.items.size())), (unsigned long long)copy);
  }

  // Batch buffers, the fused step, the epochs to run and the progress bar.
  void PrepareSteps() {
    const int B = tr_.batch_size;
    row_ = size_t(fs_.frames) * size_t(fs_.bins);
    xb_.resize(size_t(B) * row_);
    yb_.resize(static_cast<size_t>(B));
    tb_.resize(size_t(B) * size_t(C_));
    lb_.resize(static_cast<size_t>(B));
    order_.resize(list_.items.size());
    // The seed network's shape (conv-bn-relu blocks, GAP, dense) trains through one fused,
    // batch-parallel step; anything else layer by layer.
    fused_ = opts_.fused_step ? FusedConvStep::TryCreate(model_) : nullptr;
    if (fused_) LogVerbose("%strain: fused conv-bn-relu step", opts_.log_prefix.c_str());
    stop_epoch_ = opts_.stop_after_epochs > 0 ? std::min(tr_.epochs, opts_.stop_after_epochs) : tr_.epochs;
    if (opts_.progress)
      progress_.emplace(opts_.log_prefix + "train", long(stop_epoch_ - start_epoch_) * steps_per_epoch_);
  }

  // The epoch's inputs by position in the training list: augmented features (nullptr: the clean
  // ones) and the targets of teachers with their own front end (nullptr: none).
  struct EpochInputs {
    const float* x = nullptr;
    const float* targets = nullptr;
  };

  // The epoch's item order and its inputs.
  EpochInputs ShuffleAndAugment(int epoch) {
    for (size_t k = 0; k < order_.size(); ++k) order_[k] = int(k);
    Rng shuffle = Rng::Derive(Rng::Derive(tr_.seed, kTagShuffle).Next(), uint64_t(epoch));
    shuffle.Shuffle(order_);
    auto targets = [](const std::vector<float>& t) { return t.empty() ? nullptr : t.data(); };
    if (!tr_.augment) return {nullptr, copy_targets_.empty() ? nullptr : targets(copy_targets_[0])};
    if (!copies_.empty()) {
      const size_t k = size_t(epoch % tr_.augment_copies);
      return {copies_[k].data(), targets(copy_targets_[k])};
    }
    Augmented(uint64_t(epoch), fresh_, fresh_targets_);
    return {fresh_.data(), targets(fresh_targets_)};
  }

  struct EpochSums {
    double loss_sum = 0;
    long correct = 0;
    double lr = 0;
  };

  // One optimizer step on the n items at positions b.. of the epoch's order.
  void Step(int epoch, const EpochInputs& in, long b, int n, EpochSums& sums) {
    for (int k = 0; k < n; ++k) {
      const int pos = order_[size_t(b + k)];
      const int item = list_.items[size_t(pos)];
      const float* src = in.x ? in.x + size_t(pos) * row_ : fs_.item(item);
      std::memcpy(xb_.data() + size_t(k) * row_, src, sizeof(float) * row_);
      if (in.targets)
        std::memcpy(tb_.data() + size_t(k) * size_t(C_), in.targets + size_t(pos) * size_t(C_), sizeof(float) * size_t(C_));
      yb_[size_t(k)] = classes_[size_t(item)];
      lb_[size_t(k)] = fs_.labels[size_t(item)];
    }
    if (cfg_.prune.enabled) {
      if (cfg_.prune.structured) UpdateFilterMasks(model_, prune_sched_, step_);
      else UpdatePruningMasks(params_, prune_sched_, step_);
    }
    model_.SetSeed(Rng::Derive(Rng::Derive(tr_.seed, kTagStep).Next(), uint64_t(step_)).Next());
    if (fused_) ZeroGrads(params_);  // the fused step accumulates its gradients at once
    const float* sb = in.targets ? tb_.data() : teachers_->Targets(xb_.data(), n);
    const float loss = fused_ ? fused_->Step(xb_.data(), yb_.data(), n, sb)
                              : (model_.Forward(xb_.data(), n, true), model_.Loss(yb_.data(), n, sb));
    if (!std::isfinite(loss))
      throw BadInput("training diverged at epoch " + std::to_string(epoch + 1) + " step " + std::to_string(step_) +
                     " (loss " + std::to_string(loss) + "); lower train.learning_rate.initial");
    sums.loss_sum += double(loss) * n;
    const float* p = fused_ ? fused_->probs() : model_.probs();
    for (int k = 0; k < n; ++k) sums.correct += model_.OutputArgmax(p + size_t(k) * C_) == lb_[size_t(k)];
    if (!fused_) {
      ZeroGrads(params_);
      model_.Backward(n);
    }
    sums.lr = lr_sched_(step_);
    opt_->Step(params_, sums.lr);
    if (ema_) ema_->Update(step_);
    ++step_;
    if (progress_) progress_->Tick();
  }

  void RunEpoch(int epoch) {
    const auto t_epoch = std::chrono::steady_clock::now();
    const EpochInputs in = ShuffleAndAugment(epoch);
    EpochSums sums;
    sums.lr = lr_sched_(step_);
    std::optional<FlushDenormalsScope> ftz;  // subnormal gradients cost 3x (denormals.h)
    ftz.emplace();
    const int B = tr_.batch_size;
    for (long b = 0; b < ntrain_; b += B) Step(epoch, in, b, int(std::min<long>(B, ntrain_ - b)), sums);
    samples_seen_ += ntrain_;
    ftz.reset();

    EpochMetrics m;
    m.epoch = epoch + 1;
    m.train_loss = sums.loss_sum / double(ntrain_);
    m.train_accuracy = double(sums.correct) / double(ntrain_);
    m.learning_rate = sums.lr;
    m.sparsity = MeanSparsity(params_);
    if (ema_) ema_->Apply();  // validation and the kept model use the averaged weights
    const bool improved = Validate(epoch, m);
    m.seconds = Seconds(t_epoch);
    train_seconds_ += m.seconds;
    res_.history.push_back(m);
    if (improved) KeepBest(m);
    if (ema_) ema_->Restore();
    ReportEpoch(m);
    const bool last_epoch = epoch + 1 == stop_epoch_;
    if (write_ && (last_epoch || (epoch + 1) % std::max(1, opts_.checkpoint_every) == 0)) SaveLast(epoch);
  }

  // Validation metrics into m; whether this epoch is the best so far.
  bool Validate(int epoch, EpochMetrics& m) {
    bool improved = false;
    if (!d_.val.empty()) {
      EvalOutput ev = EvaluateModel(model_, fs_, d_.val);
      m.val_loss = ev.loss;
      m.val_accuracy = ev.accuracy;
      improved = res_.best_epoch == 0 || ev.accuracy > res_.best_val_accuracy ||
                 (ev.accuracy == res_.best_val_accuracy && ev.loss < res_.best_val_loss);
    } else {
      improved = true;  // no validation split: the last epoch is the best
    }
    // With pruning, only epochs at the final sparsity count as "best" (an early, denser
    // model would otherwise win); the last epoch always qualifies.
    if (cfg_.prune.enabled && step_ <= prune_sched_.end_step && epoch + 1 < tr_.epochs) improved = false;
    if (cfg_.prune.enabled && epoch + 1 == tr_.epochs && res_.best_epoch > 0 &&
        res_.history[size_t(res_.best_epoch - 1)].sparsity + 1e-9 < m.sparsity)
      improved = true;  // the best so far predates the final sparsity
    return improved;
  }

  void FillMeta(Checkpoint& c) const {
    c.config = cfg_.table;
    c.labels = fs_.label_names;
    c.classes = fs_.class_names;
    c.features = cfg_.features;
  }

  // The best epoch so far: captured, and written to model.ckpt.
  void KeepBest(const EpochMetrics& m) {
    res_.best_epoch = m.epoch;
    res_.best_val_accuracy = m.val_accuracy;
    res_.best_val_loss = m.val_loss;
    res_.best = CaptureModel(model_);
    FillMeta(res_.best);
    res_.best.state = {{"epoch", m.epoch}, {"val_accuracy", m.val_accuracy}, {"val_loss", m.val_loss}};
    if (write_) SaveCheckpoint(best_path_, res_.best);
  }

  void ReportEpoch(const EpochMetrics& m) {
    if (progress_) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "epoch %d/%d loss %.4f acc %.1f%% val %.1f%%", m.epoch, tr_.epochs, m.train_loss,
                    100 * m.train_accuracy, 100 * m.val_accuracy);
      progress_->Status(buf);
    }
    LogVerbose("%sepoch %d/%d: loss %.4f acc %.4f val_loss %.4f val_acc %.4f lr %.3g sparsity %.3f (%.2fs)",
               opts_.log_prefix.c_str(), m.epoch, tr_.epochs, m.train_loss, m.train_accuracy, m.val_loss,
               m.val_accuracy, m.learning_rate, m.sparsity, m.seconds);
  }

  // last.ckpt: everything --resume needs to continue after this epoch.
  void SaveLast(int epoch) {
    Checkpoint c = CaptureModel(model_);
    FillMeta(c);
    CaptureOptimizer(*opt_, c);
    if (ema_) ema_->Save(c);
    json hist = json::array();
    for (auto& h : res_.history) {
      json hj = h.ToJson();
      hj.erase("seconds");  // timings vary: keep checkpoints bit-identical
      hist.push_back(hj);
    }
    c.state["epoch"] = epoch + 1;
    c.state["step"] = step_;
    c.state["best_epoch"] = res_.best_epoch;
    c.state["best_val_accuracy"] = res_.best_val_accuracy;
    c.state["best_val_loss"] = res_.best_val_loss;
    c.state["history"] = hist;
    if (!opts_.data_record.is_null()) c.state["data"] = opts_.data_record;
    SaveCheckpoint(last_path_, c);
  }

  // Structured pruning: the saved model loses the pruned filters for real (same outputs, smaller and
  // faster). Returns how many filters went.
  int RemovePrunedFilters() {
    int filters_removed = 0;
    if (cfg_.prune.enabled && cfg_.prune.structured && res_.best_epoch > 0) {
      Model small = ModelFromCheckpoint(res_.best);
      filters_removed = RemoveMaskedFilters(small);
      Checkpoint c = CaptureModel(small);
      c.config = res_.best.config;
      c.labels = res_.best.labels;
      c.classes = res_.best.classes;
      c.features = res_.best.features;
      c.state = res_.best.state;
      c.state["filters_removed"] = filters_removed;
      c.state["params"] = small.ParamCount();
      res_.best = std::move(c);
      if (write_) SaveCheckpoint(best_path_, res_.best);
    }
    return filters_removed;
  }

  // What metrics.json holds.
  json Metrics(int filters_removed) const {
    json m;
    m["labels"] = fs_.label_names;
    if (!fs_.class_names.empty()) m["classes"] = fs_.class_names;
    if (cfg_.prune.enabled && cfg_.prune.structured) {
      m["filters_removed"] = filters_removed;
      m["params_after_filter_removal"] = res_.best.state.value("params", 0L);
    }
    m["epochs"] = json::array();
    for (auto& h : res_.history) m["epochs"].push_back(h.ToJson());
    m["best_epoch"] = res_.best_epoch;
    m["best_val_accuracy"] = res_.best_val_accuracy;
    m["best_val_loss"] = res_.best_val_loss;
    m["steps"] = res_.steps;
    m["train_items"] = d_.train.size();
    m["val_items"] = d_.val.size();
    m["params"] = res_.params;
    m["nonzero"] = res_.nonzero;
    json layers = json::array();
    for (auto& r : SparsityReport(params_))
      layers.push_back({{"name", r.name}, {"size", r.size}, {"zeros", r.zeros}, {"sparsity", r.sparsity}});
    m["sparsity_per_tensor"] = layers;
    m["final_sparsity"] = MeanSparsity(params_);
    m["wall_seconds"] = res_.wall_seconds;
    m["train_seconds"] = train_seconds_;
    m["samples_per_second"] = res_.samples_per_second;
    m["threads"] = NumThreads();
    return m;
  }

  const std::chrono::steady_clock::time_point t_start_ = std::chrono::steady_clock::now();
  const Config& cfg_;
  const TrainOptions& tr_;
  const TrainData& d_;
  const TrainerOptions& opts_;
  const FeatureSet& fs_;
  const std::vector<int>& classes_;
  const std::vector<int> output_map_;
  const int C_;  // the head's classes
  const bool write_;
  const std::string last_path_, best_path_;

  std::optional<Teachers> teachers_;
  Model model_;
  CrossEntropyOptions loss_opts_;
  std::vector<Param*> params_;
  std::optional<Optimizer> opt_;
  std::optional<WeightAverage> ema_;  // train.ema_decay
  TrainList list_;
  long ntrain_ = 0, steps_per_epoch_ = 0;
  LrSchedule lr_sched_;
  PruningSchedule prune_sched_;

  TrainResult res_;
  int start_epoch_ = 0, stop_epoch_ = 0;
  long step_ = 0;

  std::vector<std::vector<float>> copies_, copy_targets_;  // per copy (targets: own-front-end teachers)
  std::vector<float> fresh_, fresh_targets_, tb_;
  size_t row_ = 0;
  std::vector<float> xb_;
  std::vector<int32_t> yb_;  // training classes
  std::vector<int> lb_;      // their labels (the same without word classes)
  // Positions in `list_` (= rows of the augmented buffers), shuffled per epoch. (Shuffling positions
  // gives the same item order as shuffling the items themselves: the shuffle depends only on the size.)
  std::vector<int> order_;
  std::unique_ptr<FusedConvStep> fused_;
  std::optional<Progress> progress_;
  double train_seconds_ = 0;
  long samples_seen_ = 0;
};

}  // namespace

TrainResult Train(const Config& cfg, const TrainData& d, const TrainerOptions& opts) {
  return TrainRun(cfg, d, opts).Run();
}

}  // namespace kws
