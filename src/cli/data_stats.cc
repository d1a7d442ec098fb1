// kws data stats DIR [--json]: what a dataset folder holds.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "data/dataset.h"
#include "data/stats.h"
#include "util/error.h"

namespace {
struct Opts {
  std::vector<std::string> dirs, data;
  double min_peak_dbfs = -40;
  bool json = false, no_levels = false;
};

kws::cli::Registrar reg(
    "data stats", "Per-label clip counts, speakers, durations, duplicates, skipped files and the official split",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("dir", o->dirs, "Dataset folder (one sub-folder per label); several merge into one dataset");
      app.add_option("--data", o->data, "Dataset folder, as the positional argument (repeatable)");
      app.add_option("--min-peak-dbfs", o->min_peak_dbfs,
                     "Clips whose peak is below this are reported as near-silent (failed recordings)")
          ->capture_default_str();
      app.add_flag("--no-levels", o->no_levels,
                   "Skip the recording checks (near-silent, clipped, too short, DC offset): headers only, faster");
      app.add_flag("--json", o->json, "Print JSON instead of a table");
      return [o]() -> int {
        std::vector<std::string> dirs = o->dirs;
        dirs.insert(dirs.end(), o->data.begin(), o->data.end());
        if (dirs.empty()) throw kws::UsageError("give a dataset folder (kws data stats DIR, or --data DIR)");
        kws::LevelOptions levels;
        levels.min_peak_dbfs = o->min_peak_dbfs;
        try {
          levels.Validate();
        } catch (const kws::Error& e) {
          throw kws::UsageError(std::string("--min-peak-dbfs: ") + e.what());
        }
        kws::DatasetOptions lo;
        lo.skip_bad_files = true;  // listed with their reasons, not fatal
        kws::Dataset ds = kws::LoadDataset(dirs, lo);
        kws::DatasetStats s =
            kws::ComputeStats(ds, o->no_levels ? std::vector<kws::ClipLevels>{} : kws::MeasureLevels(ds), levels);
        if (o->json)
          std::printf("%s\n", kws::StatsToJson(s).dump(2).c_str());
        else
          std::fputs(kws::StatsTable(s).c_str(), stdout);
        return 0;
      };
    },
    "Examples:\n  kws data stats data/speech_commands\n  kws data stats data/speech_commands --json | jq .labels.yes\n"
    "  kws data stats --data data/v1 --data data/v2 --json | jq '.recording_checks.clips[] | select(.problems[0] == \"near-silent\")'");
}  // namespace
