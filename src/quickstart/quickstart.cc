#include "quickstart/quickstart.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "bench/report.h"
#include "data/dataset.h"
#include "data/task.h"
#include "export/export_model.h"
#include "model/config.h"
#include "report/plots.h"
#include "report/png.h"
#include "report/report.h"
#include "synth/synth.h"
#include "train/cv.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace kws {
namespace {

namespace fsys = std::filesystem;
using json = nlohmann::json;

std::string Fmtd(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.2f", v);
  return b;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Fails early (exit 2) when the output folder cannot be created or written.
void CheckWritable(const std::string& dir) {
  CheckOutputPath(dir, OutputKind::kFolder, "--out");
  std::error_code ec;
  fsys::create_directories(dir, ec);
  if (ec || !fsys::is_directory(dir))
    throw BadInput(dir + ": cannot create the output folder (" + (ec ? ec.message() : "not a folder") + ")");
}

// A symbolic link to the source file (editing OUT/data never edits the dataset through a shared
// inode, as a hard link would), or a copy where links cannot be made or `copy` asks for one (clips
// synthesized into the cache, which its size cap may remove later).
void LinkOrCopy(const fsys::path& from, const fsys::path& to, bool copy) {
  std::error_code ec;
  fsys::create_directories(to.parent_path(), ec);
  if (ec) throw BadInput(to.parent_path().string() + ": cannot create folder (" + ec.message() + ")");
  const fsys::path target = fsys::absolute(from, ec);
  if (!ec && !copy) fsys::create_symlink(target, to, ec);
  if (!ec && !copy) return;
  ec.clear();
  fsys::copy_file(from, to, fsys::copy_options::overwrite_existing, ec);
  if (ec) throw BadInput(to.string() + ": cannot copy " + from.string() + " (" + ec.message() + ")");
}

std::vector<std::string> SpokenWords(const std::vector<std::string>& labels) {
  std::vector<std::string> w;
  for (const auto& l : labels)
    if (l != kSilenceLabel && l != kUnknownLabel) w.push_back(l);
  return w;
}

// Where a clip goes in OUT/data/{train,test}: its label folder and file name; a second clip of the
// same name from another source folder gets "__<n>" before the extension (the speaker, parsed
// from "<speaker>_nohash_", stays the same).
fsys::path SplitName(const Clip& clip, std::set<std::string>& used) {
  fsys::path rel = clip.rel;
  for (int n = 2; !used.insert(rel.string()).second; ++n) {
    const fsys::path r(clip.rel);
    rel = r.parent_path() / (r.stem().string() + "__" + std::to_string(n) + r.extension().string());
  }
  return rel;
}

struct DataSplit {
  std::string source;  // folder(s) the clips came from
  std::string train_dir, test_dir;
  json info;
};

// Speaker-disjoint split of the task's items into OUT/data/{train,test} (same relative paths).
DataSplit SplitData(const std::vector<std::string>& sources, const std::vector<std::string>& labels,
                    double test_fraction, uint64_t seed, const std::string& out_dir, bool skip_bad_files,
                    bool copy_clips) {
  DataSplit d;
  d.train_dir = (fsys::path(out_dir) / "data" / "train").string();
  d.test_dir = (fsys::path(out_dir) / "data" / "test").string();
  DatasetOptions lo;
  lo.skip_bad_files = skip_bad_files;
  Dataset ds = LoadDataset(sources, lo);
  d.source = ds.root;
  const std::string& source = d.source;
  TaskView task = MakeTask(ds, labels);
  std::vector<int> all(size_t(task.size()));
  for (int i = 0; i < task.size(); ++i) all[size_t(i)] = i;
  IndexSplit s;
  try {
    s = SpeakerHoldout(task.speakers, all, test_fraction, seed);
  } catch (const Error& e) {
    throw BadInput(source + ": cannot hold out test speakers (" + e.what() + ")");
  }
  std::error_code ec;
  fsys::remove_all(d.train_dir, ec);  // our own output from an earlier run
  fsys::remove_all(d.test_dir, ec);
  std::vector<int> is_test(size_t(task.size()), 0);
  for (int i : s.test) is_test[size_t(i)] = 1;
  std::set<std::string> train_speakers, test_speakers;
  int synthesized_silence = 0;
  std::map<std::string, std::array<int, 2>> per_label;  // label -> {train, test}
  std::set<std::string> used_names;
  Progress p("split", task.size());
  for (int i = 0; i < task.size(); ++i) {
    p.Tick();
    const int c = task.clip[size_t(i)];
    const bool test = is_test[size_t(i)] != 0;
    per_label[task.labels[size_t(task.label[size_t(i)])]][test ? 1 : 0]++;
    (test ? test_speakers : train_speakers).insert(task.speakers[size_t(i)]);
    if (c < 0) {
      ++synthesized_silence;
      continue;
    }
    const Clip& clip = ds.clips[size_t(c)];
    LinkOrCopy(clip.path, fsys::path(test ? d.test_dir : d.train_dir) / SplitName(clip, used_names), copy_clips);
  }
  p.Done();
  // Background noise: training augmentation and synthesized silence read it.
  std::set<std::string> used_noise;
  for (const auto& n : ds.noise) {
    Clip as_clip;  // only for its name
    as_clip.rel = (fsys::path(kBackgroundNoiseFolder) / fsys::path(n.path).filename()).string();
    const fsys::path rel = SplitName(as_clip, used_noise);
    LinkOrCopy(n.path, fsys::path(d.train_dir) / rel, copy_clips);
    if (synthesized_silence) LinkOrCopy(n.path, fsys::path(d.test_dir) / rel, copy_clips);
  }
  json pl = json::object();
  for (auto& [l, c] : per_label) pl[l] = {{"train", c[0]}, {"test", c[1]}};
  d.info = {{"source", source},
            {"train_dir", d.train_dir},
            {"test_dir", d.test_dir},
            {"labels", labels},
            {"train_items", s.train.size()},
            {"test_items", s.test.size()},
            {"train_speakers", train_speakers.size()},
            {"test_speakers", test_speakers.size()},
            {"per_label", pl},
            {"test_fraction", test_fraction},
            {"split_seed", seed}};
  if (synthesized_silence)
    LogWarn("%d _silence_ items are cut from background noise: the test folder re-creates its own", synthesized_silence);
  return d;
}

Config LoadSeedOrBaseline(const std::string& path, const char* embedded, const char* embedded_name,
                          const std::vector<std::string>& overrides) {
  if (path.empty()) return ParseConfig(embedded, embedded_name, overrides);
  if (!fsys::exists(path)) throw BadInput(path + ": no such config file");
  return LoadConfig(path, overrides);
}

json HistoryJson(const TrainResult& r) {
  json h = json::array();
  for (const auto& e : r.history) h.push_back(e.ToJson());
  return h;
}

json TrainJson(const Config& cfg, const TrainResult& r, const std::string& run_dir) {
  return {{"config", cfg.source},
          {"run_dir", run_dir},
          {"epochs", cfg.train.epochs},
          {"best_epoch", r.best_epoch},
          {"best_val_accuracy", r.best_val_accuracy},
          {"train_seconds", r.wall_seconds},
          {"params", r.params},
          {"nonzero", r.nonzero},
          {"pruning", cfg.prune.enabled},
          {"final_sparsity", cfg.prune.enabled ? json(cfg.prune.final_sparsity) : json(nullptr)},
          {"history", HistoryJson(r)}};
}

void CurvePlots(const TrainResult& r, const std::string& name, const std::string& plots_dir, json& pictures) {
  Series tl{"train", {}, {}, {}}, vl{"validation", {}, {}, {}}, ta{"train", {}, {}, {}}, va{"validation", {}, {}, {}};
  for (const auto& e : r.history) {
    const double x = e.epoch;
    tl.x.push_back(x), tl.y.push_back(e.train_loss);
    vl.x.push_back(x), vl.y.push_back(e.val_loss);
    ta.x.push_back(x), ta.y.push_back(100 * e.train_accuracy);
    va.x.push_back(x), va.y.push_back(100 * e.val_accuracy);
  }
  LineChart loss;
  loss.title = name + ": loss per epoch";
  loss.x_label = "epoch";
  loss.y_label = "cross-entropy loss";
  loss.series = {tl, vl};
  loss.y_from_zero = true;
  loss.markers = r.history.size() <= 20;
  LineChart acc = loss;
  acc.title = name + ": accuracy per epoch";
  acc.y_label = "accuracy (%)";
  acc.series = {ta, va};
  acc.y_from_zero = false;
  acc.y_min = 0;
  acc.y_max = 100;
  const std::string lf = "plots/" + name + "_loss.svg", af = "plots/" + name + "_accuracy.svg";
  WriteSvg((fsys::path(plots_dir).parent_path() / lf).string(), LineChartSvg(loss));
  WriteSvg((fsys::path(plots_dir).parent_path() / af).string(), LineChartSvg(acc));
  pictures[name + "_loss"] = lf;
  pictures[name + "_accuracy"] = af;
}

}  // namespace

void QuickstartOptions::Validate() const {
  if (out_dir.empty()) throw UsageError("--out: required");
  if (per_word < 2) throw UsageError("--per-word: must be >= 2 (got " + std::to_string(per_word) + ")");
  if (!(test_fraction > 0 && test_fraction < 1))
    throw UsageError("--test-fraction: must be in (0, 1) (got " + std::to_string(test_fraction) + ")");
  if (baseline_epochs < 0) throw UsageError("--baseline-epochs: must be >= 0");
  if (bench_runs < 1) throw UsageError("--bench-runs: must be >= 1");
  if (bench_warmup < 0) throw UsageError("--bench-warmup: must be >= 0");
}

QuickstartResult RunQuickstartInto(const QuickstartOptions& o);

// A run that fails leaves no half-written output folder behind: a folder this run created is
// removed again (a folder that existed before is left as it was, apart from what was written).
QuickstartResult RunQuickstart(const QuickstartOptions& o) {
  std::error_code ec;
  const bool existed = fsys::exists(o.out_dir, ec);
  try {
    return RunQuickstartInto(o);
  } catch (...) {
    if (!existed) fsys::remove_all(o.out_dir, ec);
    throw;
  }
}

namespace {

// The seed model's exports: name, file and quantization.
struct Variant {
  std::string name, file;
  QuantMode quant;
};
const std::vector<Variant>& SeedVariants() {
  static const std::vector<Variant> v = {{"float", "seed_float.tflite", QuantMode::kFloat},
                                         {"dynamic", "seed_dynamic.tflite", QuantMode::kDynamic},
                                         {"int8", "seed_int8.tflite", QuantMode::kInt8}};
  return v;
}

// One quickstart run: its state, and the steps Run() takes in order (configs, 1. data, 2. seed:
// train + export, 3. baseline, 4. evaluate, 5. bench, 6. pictures + report), each timed.
class QuickstartRun {
 public:
  explicit QuickstartRun(const QuickstartOptions& o) : o_(o), out_(o.out_dir), plots_dir_((out_ / "plots").string()) {}

  QuickstartResult Run() {
    LoadConfigs();
    auto t0 = std::chrono::steady_clock::now();
    PrepareSplit();
    timings_["data"] = Since(t0);
    TrainSeed();
    ExportSeed();
    TrainBaseline();
    Evaluate();
    Bench();
    t0 = std::chrono::steady_clock::now();
    LogInfo("[6/6] report: pictures and %s", (out_ / "report.md").string().c_str());
    json pictures = json::object();
    CurvePlots(seed_res_, "seed", plots_dir_, pictures);
    if (o_.baseline) CurvePlots(base_res_, "baseline", plots_dir_, pictures);
    json model_rows = ModelRows(pictures);
    SizeAndLatencyCharts(pictures);
    pictures["spectrograms"] = Spectrograms();
    json report = Report(model_rows, pictures);
    timings_["report"] = Since(t0);
    timings_["total"] = Since(t_start_);
    report["timings_s"] = timings_;

    QuickstartResult res;
    res.report = report;
    res.report_json = (out_ / "report.json").string();
    res.report_md = (out_ / "report.md").string();
    AtomicWriteFile(res.report_json, report.dump(2) + "\n");
    AtomicWriteFile(res.report_md, ReportMarkdown(report));
    res.summary = ReportSummary(report) + "report: " + res.report_md + "\n";
    return res;
  }

 private:
  // ---- configs: the seed recipe and the baseline (possibly shortened to fit the time budget) ----
  void LoadConfigs() {
    std::vector<std::string> seed_over = o_.overrides;
    if (!o_.labels.empty()) seed_over.insert(seed_over.begin(), "data.labels=" + o_.labels);
    if (o_.seed) seed_over.insert(seed_over.begin(), "train.seed=" + std::to_string(o_.seed));
    cfg_ = LoadSeedOrBaseline(o_.config, EmbeddedSeedConfig(), "configs/seed.toml (embedded)", seed_over);
    seed_ = cfg_.train.seed;
    for (size_t i = 0; i < cfg_.data.labels.size(); ++i) label_csv_ += (i ? "," : "") + cfg_.data.labels[i];
    if (!o_.baseline) return;
    std::vector<std::string> bo = {"data.labels=" + label_csv_, "train.seed=" + std::to_string(seed_)};
    bo.insert(bo.end(), o_.baseline_overrides.begin(), o_.baseline_overrides.end());
    base_cfg_ = LoadSeedOrBaseline(o_.baseline_config, EmbeddedBaselineConfig(), "configs/baseline.toml (embedded)", bo);
    if (o_.baseline_epochs > 0 && o_.baseline_epochs < base_cfg_.train.epochs) {
      baseline_note_ = "trained for " + std::to_string(o_.baseline_epochs) + " of its " +
                       std::to_string(base_cfg_.train.epochs) +
                       " epochs to fit the time budget (its learning-rate schedule spans the shorter run), so its "
                       "accuracy understates the recipe; its size and latency do not depend on training";
      bo.push_back("train.epochs=" + std::to_string(o_.baseline_epochs));
      base_cfg_ = LoadSeedOrBaseline(o_.baseline_config, EmbeddedBaselineConfig(), "configs/baseline.toml (embedded)",
                                     bo);
    }
  }

  // ---- 1. data: the folders given, or speech synthesized for the labels; split by speaker ----
  void PrepareSplit() {
    std::vector<std::string> sources = o_.data_dirs;
    json synth_info = nullptr;
    if (sources.empty()) {
      sources = {Synthesize(synth_info)};
    } else {
      std::string names;
      for (const auto& s : sources) names += (names.empty() ? "" : " + ") + s;
      LogInfo("[1/6] data: %s (labels %s)", names.c_str(), label_csv_.c_str());
    }
    split_ = SplitData(sources, cfg_.data.labels, o_.test_fraction, seed_, o_.out_dir, cfg_.data.skip_bad_files,
                       /*copy_clips=*/!synth_info.is_null());
    data_info_ = split_.info;
    data_info_["kind"] = o_.data_dirs.empty() ? "synthetic" : o_.data_dirs.size() > 1 ? "folders" : "folder";
    data_info_["synth"] = synth_info;
    LogInfo("      split by speaker: %d training items (%d speakers), %d test items (%d speakers)",
            data_info_["train_items"].get<int>(), data_info_["train_speakers"].get<int>(),
            data_info_["test_items"].get<int>(), data_info_["test_speakers"].get<int>());
  }

  // Synthesized clips of the labels' words (and some unknown words), cached; returns their folder.
  std::string Synthesize(json& synth_info) {
    synth::SynthOptions so;
    so.words = SpokenWords(cfg_.data.labels);
    if (so.words.empty()) throw UsageError("--labels: nothing to synthesize (give at least one word)");
    if (std::find(cfg_.data.labels.begin(), cfg_.data.labels.end(), kUnknownLabel) != cfg_.data.labels.end()) {
      for (const auto& w : synth::SpeechCommandsUnknownWords())
        if (std::find(so.words.begin(), so.words.end(), w) == so.words.end() && so.unknown_words.size() < 10)
          so.unknown_words.push_back(w);
    }
    so.per_word = o_.per_word;
    so.seed = seed_;
    const std::string root = o_.synth_cache.empty() ? synth::DefaultSynthCacheRoot() : o_.synth_cache;
    LogInfo("[1/6] data: synthesizing %d clips per word of %s (%s%s)", o_.per_word, label_csv_.c_str(),
            root.empty() ? "not cached" : "cached in ", root.c_str());
    synth::SynthResult sr;
    std::string dir = synth::SynthesizeCached(so, root, &sr);
    synth_info = {{"per_word", o_.per_word}, {"seed", seed_}, {"words", so.words}, {"cache_dir", dir}};
    if (!sr.engines.empty()) synth_info["engines"] = sr.engines;
    return dir;
  }

  // ---- 2. seed: train ----
  void TrainSeed() {
    const auto t0 = std::chrono::steady_clock::now();
    LogInfo("[2/6] seed: training %s (%d epochs) on %s", cfg_.source.c_str(), cfg_.train.epochs,
            split_.train_dir.c_str());
    data_.emplace(PrepareData(cfg_, split_.train_dir));
    TrainerOptions topt;
    topt.out_dir = seed_run_;
    topt.log_prefix = "seed ";
    seed_res_ = TrainHoldout(cfg_, *data_, topt);
    timings_["train_seed"] = Since(t0);
  }

  // ---- 2. seed: export float, dynamic-range and int8 .tflite + the int8 model as C source ----
  void ExportSeed() {
    const auto t0 = std::chrono::steady_clock::now();
    LogInfo("      exporting float, dynamic-range and int8 .tflite + C array");
    for (const auto& v : SeedVariants()) {
      ModelExportOptions e;
      e.model = seed_run_;
      e.out = (out_ / v.file).string();
      e.quant = v.quant;
      e.seed = seed_;
      if (v.quant == QuantMode::kInt8) e.calibration_data = {split_.train_dir};
      ModelExportResult r = ExportModel(e);
      exports_[v.name] = {{"file", v.file}, {"calibration_samples", r.calibration_samples}};
    }
    ModelExportOptions e;
    e.model = seed_run_;
    e.out = (out_ / "seed_int8.c").string();
    e.quant = QuantMode::kInt8;
    e.format = "c";
    e.c_name = "kws_model";
    e.seed = seed_;
    e.calibration_data = {split_.train_dir};
    ExportModel(e);
    timings_["export_seed"] = Since(t0);
    for (const auto& v : SeedVariants()) models_.push_back({v.name, v.file});
  }

  // ---- 3. baseline: train + export float ----
  void TrainBaseline() {
    if (!o_.baseline) {
      LogInfo("[3/6] baseline: skipped (--no-baseline)");
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    LogInfo("[3/6] baseline: training %s (%d epochs)%s", base_cfg_.source.c_str(), base_cfg_.train.epochs,
            baseline_note_.empty() ? "" : " - fewer epochs than the recipe, see the report");
    PreparedData bdata = PrepareData(base_cfg_, split_.train_dir);
    TrainerOptions bopt;
    bopt.out_dir = (out_ / "runs" / "baseline").string();
    bopt.log_prefix = "baseline ";
    base_res_ = TrainHoldout(base_cfg_, bdata, bopt);
    ModelExportOptions e;
    e.model = bopt.out_dir;
    e.out = (out_ / "baseline_float.tflite").string();
    e.quant = QuantMode::kFloat;
    ExportModel(e);
    models_.push_back({"baseline", "baseline_float.tflite"});
    timings_["train_baseline"] = Since(t0);
  }

  // ---- 4. evaluate on the held-out test speakers (what `kws eval` computes) ----
  void Evaluate() {
    const auto t0 = std::chrono::steady_clock::now();
    LogInfo("[4/6] evaluate: %zu models on %s (held-out speakers)", models_.size(), split_.test_dir.c_str());
    Progress p("evaluate", long(models_.size()));
    for (const auto& m : models_) {
      evals_.push_back(EvaluateOnData((out_ / m.second).string(), split_.test_dir));
      p.Tick();
    }
    p.Done();
    timings_["evaluate"] = Since(t0);
  }

  // ---- 5. bench (what `kws bench` computes) ----
  void Bench() {
    const auto t0 = std::chrono::steady_clock::now();
    LogInfo("[5/6] bench: size and latency (%d runs per model, one thread, interleaved)", o_.bench_runs);
    bench_opts_.runs = o_.bench_runs;
    bench_opts_.warmup = o_.bench_warmup;
    std::vector<std::string> paths;
    for (const auto& m : models_) paths.push_back((out_ / m.second).string());
    bench_ = BenchModels(paths, bench_opts_);
    timings_["bench"] = Since(t0);
  }

  // ---- 6. pictures + report: one row per model (eval + bench) and its confusion matrix ----
  json ModelRows(json& pictures) const {
    const ModelReport* base_rep = o_.baseline ? &bench_.back() : nullptr;
    json model_rows = json::array();
    for (size_t i = 0; i < models_.size(); ++i) {
      const EvalResult& ev = evals_[i];
      const ModelReport& br = bench_[i];
      const bool is_base = o_.baseline && i + 1 == models_.size();
      json row;
      row["name"] = models_[i].first;
      row["file"] = models_[i].second;
      row["kind"] = br.kind;
      row["eval"] = ev.eval.ToJson();
      row["eval"]["model_kind"] = ev.model_kind;
      row["eval"]["correct"] = ev.eval.correct;
      row["eval"]["errors"] = EvalMissesJson(ev);
      row["accuracy"] = ev.eval.accuracy;
      row["bench"] = ReportJson(br, is_base ? nullptr : base_rep);
      row["bench"].erase("baseline");
      row["sparsity"] = br.params ? 1.0 - double(br.nonzero_params) / double(br.params) : 0.0;
      model_rows.push_back(row);

      HeatMap hm;
      hm.title = models_[i].first + ": " + std::to_string(ev.eval.correct) + "/" + std::to_string(ev.eval.n) +
                 " correct (" + Fmtd(100 * ev.eval.accuracy) + "%)";
      hm.row_title = "true label";
      hm.col_title = "predicted label";
      hm.row_labels = ev.eval.labels;
      hm.col_labels = ev.eval.labels;
      for (const auto& r : ev.eval.confusion) hm.values.push_back(std::vector<double>(r.begin(), r.end()));
      const std::string cf = "plots/confusion_" + models_[i].first + ".svg";
      WriteSvg((out_ / cf).string(), HeatMapSvg(hm));
      pictures["confusion_" + models_[i].first] = cf;
    }
    return model_rows;
  }

  void SizeAndLatencyCharts(json& pictures) const {
    BarChart size;
    size.title = "Model size (log scale)";
    size.y_label = "bytes";
    size.log_scale = true;
    size.value_format = ",";
    size.series = {{".tflite", {}, {}, {}}, {"zipped", {}, {}, {}}};
    BarChart lat;
    lat.title = "Latency per 1 s clip, one thread (median, log scale)";
    lat.y_label = "microseconds";
    lat.log_scale = true;
    lat.value_format = ",";
    lat.series = {{"pre-processing", {}, {}, {}}, {"inference", {}, {}, {}}, {"total", {}, {}, {}}};
    for (size_t i = 0; i < models_.size(); ++i) {
      size.categories.push_back(models_[i].first);
      lat.categories.push_back(models_[i].first);
      size.series[0].y.push_back(double(bench_[i].size_bytes));
      size.series[1].y.push_back(double(bench_[i].zip_bytes));
      lat.series[0].y.push_back(bench_[i].preprocess.median_us);
      lat.series[1].y.push_back(bench_[i].inference.median_us);
      lat.series[2].y.push_back(bench_[i].total.median_us);
    }
    WriteSvg((out_ / "plots" / "size.svg").string(), BarChartSvg(size));
    WriteSvg((out_ / "plots" / "latency.svg").string(), BarChartSvg(lat));
    pictures["size"] = "plots/size.svg";
    pictures["latency"] = "plots/latency.svg";
  }

  // One log-mel spectrogram per label: the first training clip of each.
  json Spectrograms() const {
    json spectrograms = json::object();
    const FeatureSet& fs = data_->features;
    for (size_t l = 0; l < fs.label_names.size(); ++l) {
      for (int i = 0; i < fs.n; ++i) {
        if (fs.labels[size_t(i)] != int(l)) continue;
        Image img = HeatmapImage(fs.item(i), fs.frames, fs.bins, 4, 8, ColormapKind::kMagma);
        const std::string f = "plots/spectrogram_" + fs.label_names[l] + ".png";
        WritePng((out_ / f).string(), img.width, img.height, img.rgb);
        const int clip = data_->task.clip[size_t(i)];
        spectrograms[fs.label_names[l]] = {
            {"file", f}, {"clip", clip >= 0 ? data_->dataset.clips[size_t(clip)].rel : std::string("(noise slice)")}};
        break;
      }
    }
    return spectrograms;
  }

  // report.json (without its timings); report.md is rendered from it.
  json Report(const json& model_rows, const json& pictures) const {
    json report;
    report["kws_version"] = KWS_VERSION;
    report["out_dir"] = o_.out_dir;
    report["data"] = data_info_;
    report["test_set"] = "held-out speakers: " + split_.test_dir +
                         " (never used for training or best-epoch selection; `kws eval --data` on it gives these "
                         "accuracies)";
    report["seed"] = TrainJson(cfg_, seed_res_, seed_run_);
    report["seed"]["exports"] = exports_;
    report["seed"]["c_source"] = "seed_int8.c";
    if (o_.baseline) {
      report["baseline"] = TrainJson(base_cfg_, base_res_, (out_ / "runs" / "baseline").string());
      report["baseline"]["note"] = baseline_note_;
    } else {
      report["baseline"] = nullptr;
    }
    report["models"] = model_rows;
    report["bench_options"] = {
        {"runs", bench_opts_.runs}, {"warmup", bench_opts_.warmup}, {"threads", bench_opts_.threads}};
    report["pictures"] = pictures;
    report["threads"] = NumThreads();
    return report;
  }

  const QuickstartOptions& o_;
  const std::chrono::steady_clock::time_point t_start_ = std::chrono::steady_clock::now();
  const fsys::path out_;
  const std::string plots_dir_;
  const std::string seed_run_ = (out_ / "runs" / "seed").string();
  json timings_ = json::object();

  Config cfg_, base_cfg_;
  uint64_t seed_ = 0;
  std::string label_csv_, baseline_note_;
  DataSplit split_;
  json data_info_;
  std::optional<PreparedData> data_;  // the seed's training data (its spectrograms go into the report)
  TrainResult seed_res_, base_res_;
  json exports_ = json::object();
  std::vector<std::pair<std::string, std::string>> models_;  // name, file
  std::vector<EvalResult> evals_;
  BenchOptions bench_opts_;
  std::vector<ModelReport> bench_;
};

// The data folders exist; the output folder can be written.
void CheckInputs(const QuickstartOptions& o) {
  for (const std::string& dir : o.data_dirs) {
    std::error_code ec;
    if (!fsys::exists(dir, ec)) throw BadInput(dir + ": no such folder");
    if (!fsys::is_directory(dir, ec)) throw BadInput(dir + ": not a folder");
  }
  CheckWritable(o.out_dir);
}

}  // namespace

QuickstartResult RunQuickstartInto(const QuickstartOptions& o) {
  o.Validate();
  QuickstartRun run(o);  // the total time counts from here
  CheckInputs(o);
  return run.Run();
}

}  // namespace kws
