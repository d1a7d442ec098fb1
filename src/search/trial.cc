#include "search/trial.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "bench/report.h"
#include "export/export_model.h"
#include "recipe/train_run.h"
#include "runtime/interpreter.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace kws::search {

using json = nlohmann::json;
namespace fsys = std::filesystem;

namespace {

const char* const kQuants[] = {"float", "dynamic", "int8"};

std::string KeyOf(int trial, int epochs) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "t%04d-e%d", trial, epochs);
  return buf;
}

// Training threads and the log level for the duration of a trial.
struct TrialScope {
  int threads;
  Verbosity verbosity;
  explicit TrialScope(int t) : threads(NumThreads()), verbosity(GetVerbosity()) {
    SetNumThreads(t);
    if (verbosity == Verbosity::kNormal) SetVerbosity(Verbosity::kQuiet);  // the trainer's own lines
  }
  ~TrialScope() {
    SetNumThreads(threads);
    SetVerbosity(verbosity);
  }
};

struct RemoveOnExit {
  std::vector<fsys::path> paths;
  ~RemoveOnExit() {
    std::error_code ec;
    for (auto& p : paths) fsys::remove_all(p, ec);
  }
};

Figures FiguresOf(const ModelExportResult& e) {
  Figures f;
  f.tflite_bytes = double(e.bytes);
  f.zip_bytes = double(e.zip_bytes);
  const auto it = rt::Interpreter::FromBuffer(e.out, e.content);
  f.arena_bytes = double(it.arena_bytes());
  f.macs = double(it.macs());
  f.params = double(it.num_weights());
  f.nonzero = double(it.num_nonzero_weights());
  return f;
}

// CV: fold 0's model stands for the recipe's exports (written beside it, as a holdout run's are).
std::vector<ModelExportResult> ExportFold0(const fsys::path& run, const std::vector<std::string>& data_dirs) {
  std::vector<ModelExportResult> out;
  for (const char* q : kQuants) {
    ModelExportOptions eo;
    eo.model = (run / "fold0_seed0" / "model.ckpt").string();
    eo.quant = ParseQuantMode(q);
    eo.out = (run / (std::string("model_") + q + ".tflite")).string();
    eo.calibration_data = data_dirs;
    out.push_back(ExportModel(eo));
  }
  return out;
}

}  // namespace

std::string Job::Key() const { return KeyOf(trial, epochs); }
std::string TrialResult::Key() const { return KeyOf(trial, epochs); }

json Job::ToJson() const {
  return {{"search_id", search_id}, {"trial", trial},   {"rung", rung},   {"epochs", epochs},
          {"config", config_toml},  {"quant", quant},   {"cv", cv},       {"bench_runs", bench_runs},
          {"threads", threads},     {"data_digest", data_digest}};
}

Job Job::FromJson(const json& j) {
  Job b;
  try {
    b.search_id = j.at("search_id").get<std::string>();
    b.trial = j.at("trial").get<int>();
    b.rung = j.at("rung").get<int>();
    b.epochs = j.at("epochs").get<int>();
    b.config_toml = j.at("config").get<std::string>();
    b.quant = j.at("quant").get<std::string>();
    b.cv = j.at("cv").get<int>();
    b.bench_runs = j.at("bench_runs").get<int>();
    b.threads = j.at("threads").get<int>();
    b.data_digest = j.at("data_digest").get<std::string>();
  } catch (const json::exception& e) {
    throw BadInput(std::string("malformed search job: ") + e.what());
  }
  if (b.threads < 1 || b.threads > 1024 || b.bench_runs < 1 || b.cv < 0)
    throw BadInput("malformed search job: threads, bench_runs or cv out of range");
  ParseQuantMode(b.quant);
  return b;
}

json TrialResult::ToJson() const {
  json j = {{"trial", trial}, {"rung", rung}, {"epochs", epochs}, {"status", status}};
  if (!error.empty()) j["error"] = error;
  if (status == "ok") {
    j["accuracy"] = accuracy;
    j["val_loss"] = val_loss;
    j["best_epoch"] = best_epoch;
    if (!cv.is_null()) j["cv"] = cv;
    json ex = json::object();
    for (auto& [q, f] : exports) ex[q] = f.ToJson();
    j["exports"] = ex;
  }
  j["seconds"] = std::round(seconds * 100) / 100;
  j["worker"] = worker;
  return j;
}

TrialResult TrialResult::FromJson(const json& j) {
  TrialResult r;
  try {
    r.trial = j.at("trial").get<int>();
    r.rung = j.at("rung").get<int>();
    r.epochs = j.at("epochs").get<int>();
    r.status = j.at("status").get<std::string>();
    r.error = j.value("error", "");
    r.accuracy = j.value("accuracy", -1.0);
    r.val_loss = j.value("val_loss", -1.0);
    r.best_epoch = j.value("best_epoch", 0);
    if (j.contains("cv")) r.cv = j["cv"];
    if (j.contains("exports"))
      for (auto& [q, f] : j["exports"].items()) r.exports[q] = Figures::FromJson(f);
    r.seconds = j.value("seconds", 0.0);
    r.worker = j.value("worker", "");
  } catch (const json::exception& e) {
    throw BadInput(std::string("malformed trial result: ") + e.what());
  }
  if (r.status != "ok" && r.status != "failed") throw BadInput("malformed trial result: status '" + r.status + "'");
  return r;
}

TrialResult RunTrial(const Job& job, const std::vector<std::string>& data_dirs, const std::string& scratch_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  TrialResult r;
  r.trial = job.trial;
  r.rung = job.rung;
  r.epochs = job.epochs;
  r.worker = WorkerName();
  const fsys::path scratch = scratch_dir;
  fsys::create_directories(scratch);
  const fsys::path run = scratch / ("run-" + job.Key());
  const fsys::path cfg_path = scratch / (job.Key() + ".toml");
  RemoveOnExit cleanup{{run, cfg_path}};
  std::error_code ec;
  fsys::remove_all(run, ec);
  AtomicWriteFile(cfg_path, job.config_toml);

  TrainRunResult tr;
  std::vector<ModelExportResult> exported;
  {
    TrialScope scope(job.threads);
    TrainRunOptions o;
    o.config = cfg_path.string();
    o.data = data_dirs;
    o.out = run.string();
    o.cv = job.cv;
    o.progress = false;
    try {
      tr = RunTraining(o);
      exported = job.cv > 0 ? ExportFold0(run, data_dirs) : tr.exported;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUsage) throw;
      r.status = "failed";
      r.error = e.what();
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return r;
    }
  }
  if (job.cv > 0) {
    r.accuracy = tr.cv->accuracy.mean;
    r.cv = {{"mean", tr.cv->accuracy.mean}, {"std", tr.cv->accuracy.stddev}, {"min", tr.cv->accuracy.min},
            {"max", tr.cv->accuracy.max}, {"runs", tr.cv->accuracy.n}};
  } else {
    r.accuracy = tr.train.best_val_accuracy;
    r.val_loss = tr.train.best_val_loss;
    r.best_epoch = tr.train.best_epoch;
  }
  for (const ModelExportResult& e : exported) {
    const std::string q = fsys::path(e.out).stem().string().substr(6);  // model_<q>
    r.exports[q] = FiguresOf(e);
    r.files[fsys::path(e.out).filename().string()] = e.content;
  }
  BenchOptions bo;
  bo.runs = job.bench_runs;
  bo.warmup = std::max(1, job.bench_runs / 10);
  const ModelReport lat = BenchModels({(run / ("model_" + job.quant + ".tflite")).string()}, bo)[0];
  r.exports[job.quant].latency_us = lat.total.median_us;
  const fsys::path model_dir = job.cv > 0 ? run / "fold0_seed0" : run;
  r.files["config.toml"] = ReadFile(run / "config.toml");
  r.files["metrics.json"] = ReadFile(model_dir / "metrics.json");
  r.files["model.ckpt"] = ReadFile(model_dir / "model.ckpt");
  if (job.cv > 0) r.files["cv.json"] = ReadFile(run / "cv.json");
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void WriteTrialDir(const std::string& dir, const TrialResult& r) {
  for (auto& [name, bytes] : r.files) {
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.' || name == "result.json")
      throw BadInput("trial result: unexpected file name '" + name + "'");
    AtomicWriteFile(fsys::path(dir) / name, bytes);
  }
  AtomicWriteFile(fsys::path(dir) / "result.json", r.ToJson().dump(2) + "\n");
}

TrialResult ReadTrialDir(const std::string& dir) {
  const fsys::path p = fsys::path(dir) / "result.json";
  TrialResult r;
  try {
    r = TrialResult::FromJson(json::parse(ReadFile(p)));
  } catch (const json::exception& e) {
    throw BadInput(p.string() + ": " + e.what());
  }
  for (const auto& entry : fsys::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "result.json" && name.find(".tmp.") == std::string::npos)
      r.files[name] = ReadFile(entry.path());
  }
  return r;
}

std::string DataDigest(const Dataset& ds) {
  std::string text;
  for (const Clip& c : ds.clips) text += c.rel + "\t" + c.hash + "\n";
  for (const NoiseFile& n : ds.noise) text += "noise/" + fsys::path(n.path).filename().string() + "\t" + n.hash + "\n";
  return Sha256Hex(text);
}

std::string WorkerName() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace kws::search
