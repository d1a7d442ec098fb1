// One trial of a search: a resolved config trained for some epochs on the data, its exports measured.
// The same function runs a trial in the coordinator (`kws search`, no broker), in `kws worker`
// (a job taken from Redis) and in `kws worker --job FILE`: a Job and the data give the same
// TrialResult wherever they run (same machine type; latency_us is a measurement and varies).
//
//   kws::search::Job job = ...;                               // from the coordinator
//   kws::search::TrialResult r = kws::search::RunTrial(job, {"data/v1"}, "/tmp/scratch");
//   r.accuracy, r.exports["int8"].zip_bytes, r.files["model_int8.tflite"]
//
// The objective: the kept model's accuracy on the config's speaker-disjoint validation split
// (train.validation), or with job.cv = K the mean held-out accuracy of speaker-disjoint K-fold CV
// (the exports are then those of fold 0's model). Training runs on job.threads threads (results
// depend on the thread count). A config the trainer refuses (UsageError) gives status "failed" with
// the message; other errors propagate.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "search/budget.h"

namespace kws::search {

struct Job {
  std::string search_id;
  int trial = 0, rung = 0, epochs = 0;
  std::string config_toml;  // the resolved config (labels and epochs included)
  std::string quant = "int8";  // the export the budget applies to (its latency is measured)
  int cv = 0;
  int bench_runs = 300;
  int threads = 1;
  std::string data_digest;  // DataDigest of the coordinator's data
  std::string Key() const;  // "t0007-e27": the trial folder's name
  nlohmann::json ToJson() const;
  static Job FromJson(const nlohmann::json& j);  // BadInput on a malformed job
};

struct TrialResult {
  int trial = 0, rung = 0, epochs = 0;
  std::string status = "ok";  // "ok" | "failed" (the budget's verdict is the coordinator's)
  std::string error;          // failed: why
  double accuracy = -1, val_loss = -1;
  int best_epoch = 0;
  nlohmann::json cv;          // cv: {mean, std, min, max, runs}
  std::map<std::string, Figures> exports;  // "float" | "dynamic" | "int8"
  double seconds = 0;         // wall time of the trial
  std::string worker;         // who ran it
  std::map<std::string, std::string> files;  // config.toml, metrics.json, model.ckpt, model_*.tflite
  std::string Key() const;
  nlohmann::json ToJson() const;  // without the files
  static TrialResult FromJson(const nlohmann::json& j);
};

TrialResult RunTrial(const Job& job, const std::vector<std::string>& data_dirs, const std::string& scratch_dir);

// A trial's folder: every file of r.files (each written atomically) and result.json (r.ToJson()),
// written last. ReadTrialDir reads one back (BadInput when result.json is missing or malformed).
void WriteTrialDir(const std::string& dir, const TrialResult& r);
TrialResult ReadTrialDir(const std::string& dir);

// A content digest of a dataset: SHA-256 over every clip's relative path and SHA-256 and every
// background-noise file's name and SHA-256, in the dataset's order. Two folders (or lists of
// folders) with the same files give the same digest wherever they are.
std::string DataDigest(const Dataset& ds);
// "hostname:pid"
std::string WorkerName();

}  // namespace kws::search
