#include "train/cv.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <filesystem>
#include <numeric>

#include "data/levels.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace kws {

using json = nlohmann::json;

TrainData PreparedData::Data(std::vector<int> train, std::vector<int> val) const {
  TrainData d;
  d.features = &features;
  train.insert(train.end(), synth_items.begin(), synth_items.end());
  d.synthetic = int(synth_items.size());
  d.train = std::move(train);
  d.val = std::move(val);
  d.windows = windows.get();
  d.noise = noise.get();
  d.is_silence = is_silence;
  return d;
}

synth::SynthOptions SynthOptionsFor(const Config& cfg, const Dataset& data) {
  const SynthDataOptions& sd = cfg.data.synth;
  synth::SynthOptions o;
  o.words = sd.words;
  if (o.words.empty())
    for (const auto& l : cfg.data.labels)
      if (l != kSilenceLabel && l != kUnknownLabel) o.words.push_back(l);
  if (o.words.empty()) throw UsageError("data.synth.words: no keyword labels to synthesize");
  o.per_word = sd.per_word;
  o.seed = sd.seed;
  o.speakers = sd.speakers;
  o.engines = sd.engines;
  const bool want_unknown =
      std::find(cfg.data.labels.begin(), cfg.data.labels.end(), kUnknownLabel) != cfg.data.labels.end();
  if (want_unknown) o.unknown_words = sd.unknown_words;
  if (!o.unknown_words.empty()) o.unknown_count = sd.unknown;
  o.silence = sd.silence;
  o.sample_rate = cfg.features.sample_rate;
  o.clip_samples = cfg.features.window_samples();
  if (sd.background && !data.noise.empty())
    o.background_dir = std::filesystem::path(data.noise.front().path).parent_path().string();
  else if (sd.background)
    o.background_dir = cfg.train.augment_background_dir;  // "" when none
  return o;
}

namespace {
// Appends the [data.synth] items to p (features, windows, is_silence).
void AddSynth(const Config& cfg, PreparedData& p) {
  const SynthDataOptions& sd = cfg.data.synth;
  if (!sd.dir.empty()) {
    p.synth_dir = sd.dir;
  } else {
    synth::SynthOptions so = SynthOptionsFor(cfg, p.dataset);
    try {
      so.Validate();
    } catch (const Error& e) {
      throw UsageError("data.synth: " + std::string(e.what()));
    }
    const std::string root = synth::DefaultSynthCacheRoot();
    LogInfo("synth: %d clips per word of %zu words (%s%s)", so.per_word, so.words.size(),
            root.empty() ? "not cached" : "cached in ", root.c_str());
    p.synth_dir = synth::SynthesizeCached(so, root);
  }
  p.synth_dataset = LoadDataset(p.synth_dir);
  // The task labels the synthetic folder can supply, mapped onto the real task's label order.
  std::vector<std::string> labels;
  for (const auto& l : p.task.labels)
    if (l == kSilenceLabel ? p.synth_dataset.HasLabel(kSilenceLabel)
                           : l == kUnknownLabel ? p.synth_dataset.HasLabel(kUnknownLabel)
                                                : p.synth_dataset.HasLabel(l))
      labels.push_back(l);
  if (labels.empty())
    throw UsageError("data.synth: " + p.synth_dir + " has none of the labels " + cfg.table["data"]["labels"].dump());
  TaskOptions to;
  to.seed = cfg.train.seed;
  to.sample_rate = cfg.features.sample_rate;
  to.silence_seconds = cfg.features.clip_seconds;
  p.synth_task = MakeTask(p.synth_dataset, labels, to);
  CacheOptions cache;
  cache.enabled = cfg.data.cache;
  FeatureSet sf = ExtractFeatures(p.synth_dataset, p.synth_task, cfg.features, cache);
  if (sf.frames != p.features.frames || sf.bins != p.features.bins)
    throw InternalError("data.synth: synthetic features differ in shape from the real ones");
  std::vector<int> to_task(labels.size());
  for (size_t k = 0; k < labels.size(); ++k) to_task[k] = p.task.LabelIndex(labels[k]);
  const int base = p.features.n;
  p.features.data.insert(p.features.data.end(), sf.data.begin(), sf.data.end());
  for (int i = 0; i < sf.n; ++i) {
    p.features.labels.push_back(to_task[size_t(sf.labels[size_t(i)])]);
    if (!p.features.classes.empty()) p.features.classes.push_back(p.features.labels.back());  // no word classes
    p.synth_items.push_back(base + i);
  }
  p.features.n += sf.n;
  if (p.windows) {
    WindowSet sw = LoadWindows(p.synth_dataset, p.synth_task, cfg.features.sample_rate,
                               cfg.features.window_samples());
    p.windows->data.insert(p.windows->data.end(), sw.data.begin(), sw.data.end());
    p.windows->labels.insert(p.windows->labels.end(), p.features.labels.begin() + base, p.features.labels.end());
    p.windows->n += sw.n;
    const int silence = p.task.LabelIndex(kSilenceLabel);
    if (!p.is_silence.empty())  // augmentation on
      for (int i = 0; i < sf.n; ++i) p.is_silence.push_back(p.features.labels[size_t(base + i)] == silence);
  }
  LogInfo("synth: %d synthetic training items from %s", sf.n, p.synth_dir.c_str());
}
}  // namespace

void AddUnknownSubclasses(const Dataset& ds, const TaskView& task, FeatureSet& fs) {
  const int unknown = task.LabelIndex(kUnknownLabel);
  if (unknown < 0) throw UsageError("data.unknown_subclasses: needs _unknown_ among data.labels");
  std::vector<std::string> words;  // source folders of the _unknown_ items, sorted
  for (int i = 0; i < task.size(); ++i) {
    const int clip = task.clip[size_t(i)];
    if (task.label[size_t(i)] == unknown && clip >= 0 && ds.clips[size_t(clip)].label != kUnknownLabel)
      words.push_back(ds.clips[size_t(clip)].label);
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  fs.class_names = fs.label_names;
  for (auto& w : words) fs.class_names.push_back(std::string(kUnknownLabel) + "/" + w);
  fs.classes = fs.labels;
  for (int i = 0; i < task.size(); ++i) {
    const int clip = task.clip[size_t(i)];
    if (task.label[size_t(i)] != unknown || clip < 0) continue;
    auto it = std::lower_bound(words.begin(), words.end(), ds.clips[size_t(clip)].label);
    if (it != words.end() && *it == ds.clips[size_t(clip)].label)
      fs.classes[size_t(i)] = int(fs.label_names.size() + size_t(it - words.begin()));
  }
}

std::vector<std::string> DataDirs(const Config& cfg, const std::vector<std::string>& given) {
  if (!given.empty()) return given;
  if (!cfg.data.dirs.empty()) return cfg.data.dirs;
  throw UsageError("no data folder: pass --data DIR (repeatable) or set [data] dirs in the config");
}

namespace {
// data.skip_silent: the near-silent clips (failed recordings) leave the dataset, said in the log.
void SkipSilent(const Config& cfg, Dataset& ds) {
  if (!cfg.data.skip_silent) return;
  const std::vector<std::string> dropped = DropNearSilent(ds, cfg.data.min_peak_dbfs);
  if (dropped.empty()) return;
  LogInfo("data: left out %zu near-silent clip%s (peak < %.1f dBFS, data.skip_silent), e.g. %s", dropped.size(),
          dropped.size() == 1 ? "" : "s", cfg.data.min_peak_dbfs, dropped.front().c_str());
}
}  // namespace

PreparedData PrepareData(const Config& cfg, const std::string& data_dir) {
  return PrepareData(cfg, std::vector<std::string>{data_dir});
}

PreparedData PrepareData(const Config& cfg, const std::vector<std::string>& data_dirs) {
  if (cfg.data.labels.empty())
    throw UsageError("data.labels: no labels (set labels in [data] or pass --labels yes,no)");
  // Check the model against the feature shape before reading any data.
  const FeatureOptions& fo = cfg.features;
  Model::Build(cfg.layers, {fo.num_frames(fo.window_samples()), fo.num_features(), 1},
               int(std::max<size_t>(2, cfg.data.labels.size())), 0);
  if (!cfg.train.teacher_layers.empty()) {
    try {
      Model::Build(cfg.train.teacher_layers, {fo.num_frames(fo.window_samples()), fo.num_features(), 1},
                   int(std::max<size_t>(2, cfg.data.labels.size())), 0);
    } catch (const Error& e) {
      throw UsageError(std::string("train.teacher.layers: ") + e.what());
    }
  }
  PreparedData p;
  DatasetOptions lo;
  lo.skip_bad_files = cfg.data.skip_bad_files;
  p.dataset = LoadDataset(DataDirs(cfg, data_dirs), lo);
  const std::string data_dir = p.dataset.root;
  SkipSilent(cfg, p.dataset);
  WarnOtherSampleRates(p.dataset, cfg.features.sample_rate);
  TaskOptions to;
  to.silence_count = cfg.data.silence_count;
  to.unknown_ratio = cfg.data.unknown_ratio;
  to.seed = cfg.train.seed;
  to.sample_rate = cfg.features.sample_rate;
  to.silence_seconds = cfg.features.clip_seconds;
  try {
    p.task = MakeTask(p.dataset, cfg.data.labels, to);
  } catch (const Error& e) {
    throw UsageError("data.labels: " + std::string(e.what()));
  }
  for (size_t c = 0; c < p.task.labels.size(); ++c)
    if (p.task.ClassCounts()[c] == 0)
      throw UsageError("data.labels: label '" + p.task.labels[c] + "' has no clips in " + data_dir);
  CacheOptions cache;
  cache.enabled = cfg.data.cache;
  p.features = ExtractFeatures(p.dataset, p.task, cfg.features, cache, &p.extract_stats);
  LogVerbose("features: %d items (%d computed, %d cached) in %.2fs", p.features.n, p.extract_stats.computed,
             p.extract_stats.cached, p.extract_stats.seconds);
  if (cfg.data.unknown_subclasses) {
    AddUnknownSubclasses(p.dataset, p.task, p.features);
    LogInfo("data: _unknown_ trained as %zu classes (one per word folder), merged in every output",
            p.features.class_names.size() - p.features.label_names.size() + 1);
  }
  // Audio windows: for augmentation, and for teachers that may read them with their own features.
  if (cfg.train.augment || cfg.train.Distills())
    p.windows = std::make_unique<WindowSet>(
        LoadWindows(p.dataset, p.task, cfg.features.sample_rate, cfg.features.window_samples()));
  if (cfg.train.augment) {
    const std::string& bg = cfg.train.augment_background_dir;
    if (!bg.empty()) {
      try {
        p.noise = std::make_unique<BackgroundNoise>(BackgroundNoise::FromFolder(bg, cfg.features.sample_rate));
      } catch (const Error& e) {
        throw BadInput("train.augment.background_dir: " + std::string(e.what()));
      }
    } else {
      p.noise = std::make_unique<BackgroundNoise>(p.dataset, cfg.features.sample_rate);
    }
    if (p.noise->empty() && cfg.train.augment_options.background_prob > 0)
      LogWarn("%s: no %s folder: augmentation uses time shifts only", data_dir.c_str(), kBackgroundNoiseFolder);
    const int silence = p.task.LabelIndex(kSilenceLabel);
    p.is_silence.resize(size_t(p.task.size()));
    for (int i = 0; i < p.task.size(); ++i) p.is_silence[size_t(i)] = p.task.label[size_t(i)] == silence;
  }
  if (cfg.data.synth.enabled) AddSynth(cfg, p);
  return p;
}

namespace {
// train.validation_data: the items whose clip comes from that --data folder validate, the others train
// (synthesized _silence_ and [data.synth] items train).
IndexSplit HoldoutFolder(const std::string& folder, const PreparedData& data, const std::vector<int>& items) {
  namespace fsys = std::filesystem;
  std::error_code ec;
  const fsys::path want = fsys::weakly_canonical(folder, ec);
  int root = -1;
  std::string roots;
  for (size_t r = 0; r < data.dataset.roots.size(); ++r) {
    roots += (roots.empty() ? "" : ", ") + data.dataset.roots[r];
    if (fsys::weakly_canonical(data.dataset.roots[r], ec) == want) root = int(r);
  }
  if (root < 0)
    throw UsageError("train.validation_data: " + folder + " is not one of the data folders (" + roots + ")");
  IndexSplit s;
  for (int i : items) {
    const int c = i < data.task.size() ? data.task.clip[size_t(i)] : -1;
    (c >= 0 && data.dataset.clips[size_t(c)].root == root ? s.test : s.train).push_back(i);
  }
  if (s.train.empty()) throw UsageError("train.validation_data: " + folder + " holds every clip: nothing is left to train on");
  return s;
}

IndexSplit Holdout(const Config& cfg, const PreparedData& data, const std::vector<int>& items, uint64_t seed) {
  if (!cfg.train.validation_data.empty()) return HoldoutFolder(cfg.train.validation_data, data, items);
  if (cfg.train.validation <= 0) return IndexSplit{items, {}};
  try {
    return SpeakerHoldout(data.task.speakers, items, cfg.train.validation, seed);
  } catch (const Error& e) {
    throw UsageError("train.validation: " + std::string(e.what()));
  }
}
}  // namespace

void WarnIfUnderPruned(const Config& cfg, const TrainResult& r) {
  if (!cfg.prune.enabled || !r.metrics.contains("final_sparsity")) return;
  const double got = r.metrics["final_sparsity"].get<double>(), want = cfg.prune.final_sparsity;
  if (got >= want - 0.01) return;
  LogWarn("pruning reached %.1f%% sparsity, not prune.final_sparsity %.1f%%: the run had %ld steps and pruning "
          "updates every prune.frequency = %d steps until prune.end_step; train longer (train.epochs) or lower "
          "prune.frequency",
          100 * got, 100 * want, r.steps, cfg.prune.frequency);
}

json DataRecord(const PreparedData& data, const FeatureOptions& features) {
  std::string list;
  auto add = [&](const TaskView& t) {
    for (int i = 0; i < t.size(); ++i) list += t.keys[size_t(i)] + '\t' + t.labels[size_t(t.label[size_t(i)])] + '\n';
  };
  add(data.task);
  list += "synthetic\n";
  add(data.synth_task);
  return {{"items", data.task.size()},
          {"synthetic_items", data.synth_task.size()},
          {"labels", data.task.labels},
          {"digest", Sha256Hex(list)},
          {"features", features.Key()}};
}

TrainResult TrainHoldout(const Config& cfg, const PreparedData& data, const TrainerOptions& opts) {
  std::vector<int> all(size_t(data.task.size()));
  std::iota(all.begin(), all.end(), 0);
  IndexSplit s = Holdout(cfg, data, all, cfg.train.seed);
  LogVerbose("split: %zu training items, %zu validation items (speaker-disjoint)", s.train.size(), s.test.size());
  TrainerOptions o = opts;
  if (!o.out_dir.empty()) {
    o.split_json = json{{"train", s.train}, {"val", s.test}}.dump() + "\n";
    o.data_record = DataRecord(data, cfg.features);
  }
  TrainResult r = Train(cfg, data.Data(s.train, s.test), o);
  WarnIfUnderPruned(cfg, r);
  return r;
}

void ExportFeatures(const PreparedData& data, const std::string& dir) {
  namespace fsys = std::filesystem;
  const FeatureSet& fs = data.features;
  std::string bytes(fs.data.size() * 4, '\0');
  for (size_t i = 0; i < fs.data.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &fs.data[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + size_t(b)] = char((u >> (8 * b)) & 0xFF);
  }
  AtomicWriteFile(fsys::path(dir) / "features.f32", bytes);
  json items = json::array();
  for (int i = 0; i < data.task.size(); ++i) {
    const int clip = data.task.clip[size_t(i)];
    items.push_back({{"index", i},
                     {"path", clip >= 0 ? data.dataset.clips[size_t(clip)].rel : std::string()},
                     {"label", data.task.labels[size_t(data.task.label[size_t(i)])]},
                     {"label_index", data.task.label[size_t(i)]},
                     {"speaker", data.task.speakers[size_t(i)]}});
  }
  for (int k = 0; k < data.synth_task.size(); ++k) {  // [data.synth] items (training only)
    const int clip = data.synth_task.clip[size_t(k)];
    const int i = data.task.size() + k;
    items.push_back({{"index", i},
                     {"path", clip >= 0 ? "synth:" + data.synth_dataset.clips[size_t(clip)].rel : std::string()},
                     {"label", data.task.labels[size_t(fs.labels[size_t(i)])]},
                     {"label_index", fs.labels[size_t(i)]},
                     {"speaker", "synth:" + data.synth_task.speakers[size_t(k)]}});
  }
  json j = {{"n", fs.n}, {"frames", fs.frames}, {"bins", fs.bins}, {"labels", fs.label_names}, {"items", items}};
  AtomicWriteFile(fsys::path(dir) / "features.json", j.dump(1) + "\n");
}

json CvResult::ToJson() const {
  json j;
  j["accuracy"] = {{"mean", accuracy.mean}, {"std", accuracy.stddev}, {"min", accuracy.min},
                   {"max", accuracy.max},   {"n", accuracy.n}};
  j["repeat_means"] = repeat_means;
  j["partition_seeds"] = partition_seeds;
  j["partition_means"] = partition_means;
  j["partitions"] = {{"n", partitions.n},     {"mean", partitions.mean}, {"std", partitions.stddev},
                     {"min", partitions.min}, {"max", partitions.max}};
  json rs = json::array();
  for (auto& r : runs) {
    json misses = json::array();
    for (auto& m : r.misses) misses.push_back({{"path", m.path}, {"label", m.label}, {"predicted", m.predicted}});
    rs.push_back({{"partition", r.partition},
                  {"fold", r.fold},
                  {"repeat", r.repeat},
                  {"seed", r.seed},
                  {"best_epoch", r.best_epoch},
                  {"val_accuracy", r.val_accuracy},
                  {"test_accuracy", r.test.accuracy},
                  {"test_n", r.test.n},
                  {"confusion", r.test.confusion},
                  {"train_seconds", r.train_seconds},
                  {"misses", misses}});
  }
  j["runs"] = rs;
  return j;
}

uint64_t CvPartitionSeed(uint64_t seed, int p) { return p == 0 ? seed : seed * 101u * uint64_t(p); }

namespace {

// cfg with train.seed = seed, in the options and in the resolved table (which checkpoints record).
Config WithSeed(const Config& cfg, uint64_t seed) {
  Config c = cfg;
  c.train.seed = seed;
  c.table["train"]["seed"] = int64_t(seed);
  return c;
}

// One speaker partition of CrossValidate: cfg.train.seed is the partition's seed. Appends its runs
// to res->runs; returns the fold of every item and the fold splits (for cv.json).
void CrossValidatePartition(const Config& cfg, const PreparedData& data, const CvOptions& opts, int partition,
                            CvResult* res, std::vector<int>* folds_out, json* fold_info_out) {
  std::vector<int> folds;
  try {
    folds = SpeakerKFold(data.task.speakers, opts.folds, cfg.train.seed);
  } catch (const Error& e) {
    throw UsageError("--cv " + std::to_string(opts.folds) + ": " + e.what());
  }
  namespace fsys = std::filesystem;
  json fold_info = json::array();
  for (int k = 0; k < opts.folds; ++k) {
    IndexSplit outer = FoldSplit(folds, k);
    if (outer.test.empty()) throw UsageError("--cv: fold " + std::to_string(k) + " is empty");
    IndexSplit inner = Holdout(cfg, data, outer.train, cfg.train.seed + uint64_t(k));
    fold_info.push_back({{"fold", k}, {"test", outer.test}, {"train", inner.train}, {"val", inner.test}});
  }
  const std::string part_prefix =
      opts.partitions > 1 ? "partition " + std::to_string(partition + 1) + "/" + std::to_string(opts.partitions) + " "
                          : "";
  for (int r = 0; r < opts.seeds; ++r) {
    double sum = 0;
    for (int k = 0; k < opts.folds; ++k) {
      const Config c = WithSeed(cfg, cfg.train.seed + uint64_t(r));
      const json& fi = fold_info[size_t(k)];
      TrainerOptions to;
      to.progress = opts.progress;
      to.log_prefix = part_prefix + "fold " + std::to_string(k + 1) + "/" + std::to_string(opts.folds) + " seed " +
                      std::to_string(r + 1) + "/" + std::to_string(opts.seeds) + " ";
      TrainResult tr = Train(c, data.Data(fi["train"].get<std::vector<int>>(), fi["val"].get<std::vector<int>>()), to);
      Model m = ModelFromCheckpoint(tr.best);
      const std::vector<int> test = fi["test"].get<std::vector<int>>();
      EvalOutput ev = EvaluateModel(m, data.features, test);
      std::vector<int> truth;
      for (int i : test) truth.push_back(data.features.labels[size_t(i)]);
      CvRun run;
      run.partition = partition;
      run.fold = k;
      run.repeat = r;
      run.seed = c.train.seed;
      run.best_epoch = tr.best_epoch;
      run.val_accuracy = tr.best_val_accuracy;
      run.test = Evaluate(truth, ev.predicted, data.features.label_names);
      run.train_seconds = tr.wall_seconds;
      for (size_t t = 0; t < test.size(); ++t) {
        if (ev.predicted[t] == truth[t]) continue;
        const int clip = data.task.clip[size_t(test[t])];
        run.misses.push_back({clip >= 0 ? data.dataset.clips[size_t(clip)].rel : "item " + std::to_string(test[t]),
                              data.features.label_names[size_t(truth[t])],
                              data.features.label_names[size_t(ev.predicted[t])]});
      }
      std::sort(run.misses.begin(), run.misses.end(), [](auto& a, auto& b) { return a.path < b.path; });
      LogInfo("%sheld-out accuracy %.2f%% (%ld items, best epoch %d)", to.log_prefix.c_str(),
              100 * run.test.accuracy, run.test.n, run.best_epoch);
      if (!opts.out_dir.empty()) {
        const std::string name = (partition > 0 ? "part" + std::to_string(partition) + "_" : std::string()) + "fold" +
                                 std::to_string(k) + "_seed" + std::to_string(r);
        const fsys::path dir = fsys::path(opts.out_dir) / name;
        SaveCheckpoint((dir / "model.ckpt").string(), tr.best);
        json mj = tr.metrics;
        mj["test"] = run.test.ToJson();
        AtomicWriteFile(dir / "metrics.json", mj.dump(2) + "\n");
      }
      sum += run.test.accuracy;
      res->runs.push_back(std::move(run));
    }
    if (partition == 0) res->repeat_means.push_back(sum / opts.folds);
  }
  *folds_out = std::move(folds);
  *fold_info_out = std::move(fold_info);
}

}  // namespace

CvResult CrossValidate(const Config& cfg, const PreparedData& data, const CvOptions& opts) {
  if (opts.folds < 2) throw UsageError("--cv: needs at least 2 folds (got " + std::to_string(opts.folds) + ")");
  if (opts.seeds < 1) throw UsageError("--seeds: must be >= 1 (got " + std::to_string(opts.seeds) + ")");
  if (opts.partitions < 1 || opts.partitions > 100)
    throw UsageError("--cv-partitions: must be in [1, 100] (got " + std::to_string(opts.partitions) + ")");
  namespace fsys = std::filesystem;
  CvResult res;
  std::vector<std::vector<int>> folds(size_t(opts.partitions));
  std::vector<json> fold_info(size_t(opts.partitions));
  for (int p = 0; p < opts.partitions; ++p) {
    const Config c = WithSeed(cfg, CvPartitionSeed(cfg.train.seed, p));
    const size_t first = res.runs.size();
    CrossValidatePartition(c, data, opts, p, &res, &folds[size_t(p)], &fold_info[size_t(p)]);
    double sum = 0;
    for (size_t i = first; i < res.runs.size(); ++i) sum += res.runs[i].test.accuracy;
    res.partition_seeds.push_back(c.train.seed);
    res.partition_means.push_back(sum / double(res.runs.size() - first));
  }
  std::vector<double> accs;
  for (const CvRun& r : res.runs) accs.push_back(r.test.accuracy);
  res.accuracy = Summarize(accs);
  res.partitions = Summarize(res.partition_means);
  if (!opts.out_dir.empty()) {
    json j = res.ToJson();
    j["folds"] = opts.folds;
    j["seeds"] = opts.seeds;
    j["labels"] = data.features.label_names;
    json items = json::array();
    for (int i = 0; i < data.task.size(); ++i) {
      const int clip = data.task.clip[size_t(i)];
      json item = {{"index", i},
                   {"path", clip >= 0 ? data.dataset.clips[size_t(clip)].rel : std::string()},
                   {"label", data.task.labels[size_t(data.task.label[size_t(i)])]},
                   {"speaker", data.task.speakers[size_t(i)]},
                   {"fold", folds[0][size_t(i)]}};  // partition 0
      if (opts.partitions > 1) {
        json per = json::array();
        for (const auto& f : folds) per.push_back(f[size_t(i)]);
        item["partition_folds"] = per;
      }
      items.push_back(std::move(item));
    }
    j["items"] = items;
    j["fold_splits"] = fold_info[0];  // partition 0
    if (opts.partitions > 1) j["partition_fold_splits"] = fold_info;
    // Synthetic items: appended to every run's training items, never validated or tested on.
    j["synth"] = {{"dir", data.synth_dir}, {"items", data.synth_items.size()}};
    AtomicWriteFile(fsys::path(opts.out_dir) / "cv.json", j.dump(1) + "\n");
    AtomicWriteFile(fsys::path(opts.out_dir) / "config.toml", cfg.ToToml());
  }
  return res;
}

}  // namespace kws
