// kws data stats DIR [--json]: what a dataset folder holds.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "data/dataset.h"
#include "data/stats.h"

namespace {
struct Opts {
  std::string dir;
  bool json = false;
};

kws::cli::Registrar reg(
    "data stats", "Per-label clip counts, speakers, durations, duplicates, skipped files and the official split",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("dir", o->dir, "Dataset folder (one sub-folder per label)")->required();
      app.add_flag("--json", o->json, "Print JSON instead of a table");
      return [o]() -> int {
        kws::DatasetOptions lo;
        lo.skip_bad_files = true;  // listed with their reasons, not fatal
        kws::Dataset ds = kws::LoadDataset(o->dir, lo);
        kws::DatasetStats s = kws::ComputeStats(ds);
        if (o->json)
          std::printf("%s\n", kws::StatsToJson(s).dump(2).c_str());
        else
          std::fputs(kws::StatsTable(s).c_str(), stdout);
        return 0;
      };
    },
    "Examples:\n  kws data stats data/speech_commands\n  kws data stats data/speech_commands --json | jq .labels.yes");
}  // namespace
