// `kws worker`: runs a distributed search's trials (queue.h) on this machine, with its own copy of
// the data.
//
//   kws::search::WorkerOptions o;
//   o.broker = "redis://10.0.0.5:6379";
//   o.data = {"/data/speech_commands_v1"};
//   kws::search::RunWorker(o);     // until the search ends (o.once) or forever
//
// The worker's data is checked by content (trial.h DataDigest) against the coordinator's before it
// takes a job: a mismatch is posted to the coordinator and thrown (BadInput naming both digests and
// clip counts), so a worker with other data never trains. Each job: RunTrial on the job's thread
// count, its lease renewed from a second connection every lease/4 while it trains, the result and the
// trial's files posted, then the job acknowledged. A job delivered more than max_deliveries times
// (it ended that many workers) is posted as failed instead of run again.
//
// RunJobFile: one job from a file, its trial folder written to `out` (what `kws search --parallel`
// runs in child processes; also a way to rerun one trial of a search exactly).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "search/trial.h"

namespace kws::search {

struct WorkerOptions {
  std::string broker;              // redis://HOST:PORT
  std::string queue = "kws";
  std::string name;                // "" = hostname:pid
  std::vector<std::string> data;   // this machine's copy of the search's data
  std::string scratch;             // "" = a folder under the system's temporary folder
  bool once = false;               // exit when the search ends (else wait for the next one)
  int max_trials = 0;              // exit after this many trials (0 = no limit)
  int max_deliveries = 3;
  void Validate() const;           // UsageError naming the flag
};

struct WorkerSummary {
  int trials = 0;
  std::string name;
};

// on_event: one line per thing worth saying ("trial 7 (27 epochs) started", "... done: 97.21% in 12.3 s").
WorkerSummary RunWorker(const WorkerOptions& o, const std::function<void(const std::string&)>& on_event = {});

TrialResult RunJobFile(const std::string& job_path, const std::vector<std::string>& data, const std::string& out);

}  // namespace kws::search
