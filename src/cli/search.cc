// kws search: find the most accurate model within a budget (locally, or as the coordinator of workers).
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "search/results.h"
#include "search/search.h"
#include "search/space.h"

namespace {
struct Opts {
  kws::search::SearchOptions s;
  bool json = false;
};

std::string SelfPath(const char* fallback) {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return fallback;
  return std::string(buf, size_t(n));
}

int Run(const Opts& o) {
  kws::search::SearchOptions s = o.s;
  s.program = SelfPath("kws");
  bool header = false;
  std::unique_ptr<kws::search::SearchSpace> space;
  auto on_line = [&](const nlohmann::json& line) {
    if (o.json) return;
    if (!space) space = std::make_unique<kws::search::SearchSpace>(kws::search::LoadSpace(s.space));
    if (!header) std::fputs(kws::search::TableHeader(*space).c_str(), stdout), header = true;
    std::fputs(kws::search::TableRow(line, *space).c_str(), stdout);
    std::fflush(stdout);
  };
  const kws::search::SearchResult r = kws::search::RunSearch(s, on_line);
  if (o.json)
    std::printf("%s\n", r.summary.dump(2).c_str());
  else
    std::fputs(r.ToText().c_str(), stdout);
  return 0;
}

kws::cli::Registrar reg(
    "search", "Search configs for the most accurate model within a size/MACs/arena/latency budget",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--space", o->s.space, "Search space (TOML): base config(s), keys to vary, budget, rungs")->required();
      app.add_option("--data", o->s.data, "Dataset folder (repeatable: merged into one dataset)");
      app.add_option("--labels", o->s.labels, "Labels, comma-separated (overrides the base config's)");
      app.add_option("--out", o->s.out, "Search folder: trials.jsonl, trials/, pareto.svg, best/BUDGET/")->required();
      app.add_option("--trials", o->s.trials, "Configurations to try (default: the space's [search] trials)")
          ->check(CLI::PositiveNumber);
      app.add_option("--set", o->s.sets, "Setting for every trial: dotted.key=value (repeatable); train.epochs caps the rungs");
      app.add_flag("--resume", o->s.resume, "Continue the search in --out (finished trainings are not repeated)");
      app.add_option("--broker", o->s.broker, "redis://HOST:PORT: coordinate `kws worker` processes instead of training here");
      app.add_option("--queue", o->s.queue, "The broker's queue name (one search per queue)")->capture_default_str();
      app.add_option("--lease", o->s.lease_seconds, "Seconds a silent worker keeps its trial before another takes it")
          ->capture_default_str();
      app.add_option("--parallel", o->s.parallel, "Local trials at a time (each on -j threads, in its own process)")
          ->capture_default_str();
      app.add_flag("--json", o->json, "Print the summary as JSON (no live table)");
      return [o]() -> int { return Run(*o); };
    },
    "Examples:\n"
    "  kws search --space configs/search/yesno.toml --data data/v1 --out runs/s1\n"
    "  kws search --space configs/search/yesno.toml --data data/v1 --out runs/s1 --trials 40 --resume\n"
    "  kws search --space SPACE.toml --data DIR --out runs/quick --set train.epochs=2 --trials 6\n"
    "  kws search --space SPACE.toml --data DIR --out runs/s2 --broker redis://10.0.0.5:6379\n"
    "      (then on each machine: kws worker --broker redis://10.0.0.5:6379 --data DIR)");
}  // namespace
