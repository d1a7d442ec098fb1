// kws worker: run a distributed search's trials (or one job file).
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "search/worker.h"
#include "util/log.h"

namespace {
struct Opts {
  kws::search::WorkerOptions w;
  std::string job, out;
};

int Run(const Opts& o) {
  if (!o.job.empty()) {
    const kws::search::TrialResult r = kws::search::RunJobFile(o.job, o.w.data, o.out);
    std::printf("%s\n", r.ToJson().dump().c_str());
    return 0;
  }
  const kws::search::WorkerSummary s =
      kws::search::RunWorker(o.w, [](const std::string& line) { kws::LogInfo("%s", line.c_str()); });
  std::printf("worker %s: %d trials\n", s.name.c_str(), s.trials);
  return 0;
}

kws::cli::Registrar reg(
    "worker", "Run the trials of a `kws search --broker` on this machine",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--broker", o->w.broker, "redis://HOST:PORT of the search");
      app.add_option("--data", o->w.data, "This machine's copy of the search's data folders (repeatable)")->required();
      app.add_option("--queue", o->w.queue, "The queue name the search uses")->capture_default_str();
      app.add_option("--name", o->w.name, "Worker name (default: hostname:pid)");
      app.add_option("--scratch", o->w.scratch, "Folder for trial runs (default: under the temporary folder)");
      app.add_flag("--once", o->w.once, "Exit when the search ends (else wait for the next one)");
      app.add_option("--max-trials", o->w.max_trials, "Exit after this many trials (0: no limit)")->capture_default_str();
      app.add_option("--job", o->job, "Run one job file (JSON) instead, writing its trial folder to --out");
      app.add_option("--out", o->out, "With --job: the trial folder");
      return [o]() -> int { return Run(*o); };
    },
    "Examples:\n"
    "  kws worker --broker redis://10.0.0.5:6379 --data /data/speech_commands_v1\n"
    "  kws worker --broker redis://10.0.0.5:6379 --data DIR --once      # exit when the search is done\n"
    "Threads: each trial trains on the search's thread count (results depend on it), not this machine's -j.");
}  // namespace
