// A search space: what `kws search` may vary, within which budget, and how it schedules trials.
//
//   kws::search::SearchSpace s = kws::search::LoadSpace("configs/search/yesno.toml");
//   kws::search::Candidate c = kws::search::SampleCandidate(s, 7);   // candidate 7, always the same
//   kws::Config cfg = kws::search::ResolveConfig(s, c, {"train.epochs=2"}, /*epochs=*/10);
//
// The file (TOML):
//   [search]   seed, trials (default for --trials), base (a config file, or a list of them: a choice of
//              base recipes, e.g. zoo families; paths relative to the space file), rungs (training epochs
//              of the successive-halving rungs, ascending; default: the base config's epochs, i.e. plain
//              random search), eta (keep the best 1/eta of a rung for the next), quant ("float" |
//              "dynamic" | "int8": the export the budget applies to), cv (0 = accuracy on the
//              config's speaker-disjoint validation split; K = speaker-disjoint K-fold CV mean),
//              bench_runs (latency runs per trial), estimate_margin (see budget.h), zip_estimate_scale
//              (trained weights zip larger than the untrained ones the estimate sees), max_candidates
//   [space]    KEY = [a, b, c]                  a choice (numbers, strings, booleans or arrays)
//              KEY = { values = [a, b] }        the same
//              KEY = { min = 0.7, max = 0.9 }   uniform; integers when the setting is an integer;
//                                               log = true: log-uniform; step = s: a grid from min
//              KEY is any config setting as `--set` names it ("prune.final_sparsity",
//              "model.layers.0.filters"; dotted TOML keys nest, both are read), or "export.quant".
//   [family.NAME]  base = "...", plus an optional [family.NAME.space] for keys of that base only
//                  (instead of [search] base: the family is drawn first, then its keys)
//   [budget]   zip_bytes / tflite_bytes / arena_bytes / macs / latency_us = limit; or several named
//              budgets as [budget.NAME] tables (best/NAME/ gets the best model within each).
//
// Everything is checked when the file is read (UsageError naming the file and key): unknown keys and
// settings, empty lists and ranges, values a base config rejects.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "util/rng.h"

namespace kws::search {

// The figures a budget can limit, in this order.
inline const std::vector<std::string>& BudgetFigures() {
  static const std::vector<std::string> f = {"tflite_bytes", "zip_bytes", "arena_bytes", "macs", "latency_us"};
  return f;
}

struct ParamSpec {
  std::string key;                      // "prune.final_sparsity", or "export.quant"
  std::vector<nlohmann::json> choices;  // a choice; empty for ranges
  double min = 0, max = 0, step = 0;    // a range
  bool log = false, integer = false;
  bool is_range() const { return choices.empty(); }
  // One value: a choice, or a draw from the range (floats rounded to 3 significant digits so
  // settings read well and print exactly).
  nlohmann::json Sample(Rng& rng) const;
  std::string Describe() const;         // "[8, 16, 24]" / "0.7..0.9" / "0.001..0.02 (log)"
};

struct Family {
  std::string name;   // "seed", or the base file's stem
  std::string base;   // as written
  std::string path;   // resolved (relative to the space file)
  std::string text;   // the base config file's bytes
  std::vector<ParamSpec> params;  // keys for this family only
};

struct Budget {
  std::string name = "default";
  std::map<std::string, double> limits;  // figure (BudgetFigures) -> largest allowed value
};

struct SearchSpace {
  std::string source;                // the space file, for messages
  std::string text;                  // its bytes (a resumed search checks them)
  uint64_t seed = 1;
  int trials = 20;
  std::vector<int> rungs;            // epochs per rung, ascending (empty: the base config's)
  int eta = 3;
  std::string quant = "int8";
  int cv = 0;
  int bench_runs = 300;
  double estimate_margin = 0.05;
  double zip_estimate_scale = 1.0;    // the zipped-size estimate before training is multiplied by this
  int max_candidates = 0;            // 0 = 100 + 50 * trials
  std::vector<Family> families;
  std::vector<ParamSpec> params;     // keys for every family
  std::vector<Budget> budgets;

  bool Varies(const std::string& key) const;
  int MaxCandidates(int trials) const { return max_candidates > 0 ? max_candidates : 100 + 50 * trials; }
};

SearchSpace LoadSpace(const std::string& path);
// `dir`: the folder base paths are relative to.
SearchSpace ParseSpace(const std::string& text, const std::string& source, const std::string& dir);

// One sampled point of the space.
struct Candidate {
  int index = 0;                     // the candidate number (= trial id when it is trained)
  int family = 0;                    // index into SearchSpace::families
  std::vector<std::string> overrides;  // "key=value" for the config
  nlohmann::json varied = nlohmann::json::object();  // {"family"?: name, key: value, ...}
  std::string quant;                 // the export the budget applies to
};

// Candidate `index` of the space: a function of (space, seed, index) only.
Candidate SampleCandidate(const SearchSpace& s, int index);

// The trial's config: the family's base file, then `sets` (every trial's --set, --labels), then the
// candidate's overrides, then train.epochs = epochs (when epochs > 0).
Config ResolveConfig(const SearchSpace& s, const Candidate& c, const std::vector<std::string>& sets, int epochs);

// "key=value" text of a JSON value as ApplyOverride reads it (arrays comma-separated).
std::string OverrideValue(const nlohmann::json& v);

}  // namespace kws::search
