// `kws search`: find the most accurate model within a device's budget.
//
//   kws::search::SearchOptions o;
//   o.space = "configs/search/yesno.toml";
//   o.data = {"data/speech_commands_v1"};
//   o.out = "runs/search";
//   kws::search::SearchResult r = kws::search::RunSearch(o, [](const nlohmann::json& line) { ... });
//
// Steps: read the space (space.h) and the data (its content digest identifies it); sample candidates
// in order (candidate i is a function of the space's seed and i) and refuse, before any training,
// those that break every budget by what the config alone decides (estimate.h: .tflite bytes, MACs,
// arena, an estimate of the zipped size) and duplicates; the first `trials` accepted ones are the
// trials. Then successive halving (asha.h) over the space's rungs: every trial trains for the first
// rung's epochs, the best 1/eta of each rung go on to the next. A trial = trial.h's RunTrial, in this
// process, in `parallel` child processes (`kws worker --job`), or on workers through Redis
// (`broker`, queue.h). Each outcome becomes a line of DIR/trials.jsonl and a folder
// DIR/trials/tNNNN-eE/ (config.toml, model.ckpt, metrics.json, the three exports, result.json);
// then DIR/pareto.svg and DIR/best/BUDGET/ are rewritten (results.h).
//
// Nothing is written before every check has passed (space, --set keys, data, labels, a budget some
// candidate can meet, the broker). --resume continues from DIR/trials.jsonl (and the broker's queue):
// finished trainings are not repeated, and the search must be the same one (space file, --set,
// labels, data content, threads: DIR/search.json). The same space, seed, data and thread count give
// the same trials and the same results however they are run.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kws::search {

struct SearchOptions {
  std::string space;                  // SPACE.toml
  std::vector<std::string> data;      // --data (repeatable); empty = the base config's data.dirs
  std::string labels;                 // "" = the base config's
  std::string out;                    // DIR
  int trials = 0;                     // 0 = the space's [search] trials
  std::vector<std::string> sets;      // --set for every trial
  bool resume = false;
  std::string broker;                 // "" = local; redis://HOST:PORT = coordinate workers
  std::string queue = "kws";          // the broker's key prefix
  double lease_seconds = 60;          // a silent worker's trial goes to another after this
  int parallel = 1;                   // local: trials at a time (> 1: child processes)
  std::string program;                // the kws executable (parallel > 1 runs `PROGRAM worker --job`)
  void Validate() const;              // UsageError naming the flag
};

struct SearchResult {
  nlohmann::json summary;  // search_id, trials, candidates, rejected {count, reasons}, duplicates, trained,
                           // failed, over_budget, resumed, ran, best {BUDGET: line + dir}, pareto, files
  std::string ToText() const;
};

// on_line: every trials.jsonl line as it is written (resumed lines too, first).
SearchResult RunSearch(const SearchOptions& o, const std::function<void(const nlohmann::json&)>& on_line = {});

}  // namespace kws::search
