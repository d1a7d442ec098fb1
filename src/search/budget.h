// Budgets: the figures a search limits, and the verdict on a model's figures.
//
//   kws::search::Figures f;  f.zip_bytes = 4512;  f.macs = 1.58e6;
//   kws::search::Verdict v = kws::search::Judge(space.budgets, f, {});
//   v.within   // names of the budgets the model meets ({"default"})
//   v.reason   // when it meets none: "zip_bytes 4,512 > 4,305" (each budget's broken limits)
//
// A figure that is unknown (< 0: e.g. latency before training) is not judged. Before training some
// figures are estimates (JudgeOptions::estimated: the zipped size, which depends on the trained
// weights); an estimate breaks a limit only when it exceeds it by more than JudgeOptions::margin
// (a fraction), so a candidate is never rejected on an estimate that is merely close.
#pragma once
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/space.h"

namespace kws::search {

struct Figures {
  double tflite_bytes = -1, zip_bytes = -1, arena_bytes = -1, macs = -1, latency_us = -1;
  double params = -1, nonzero = -1;  // weights (not budgeted; shown)
  double Get(const std::string& figure) const;  // one of BudgetFigures()
  nlohmann::json ToJson() const;                // known figures only
  static Figures FromJson(const nlohmann::json& j);
};

struct JudgeOptions {
  std::set<std::string> estimated;  // figures that are estimates
  double margin = 0;                // allowed excess of an estimate, as a fraction of the limit
  bool latency = true;              // judge latency_us (measured, so it varies from run to run)
};

struct Verdict {
  std::vector<std::string> within;  // budgets met
  std::string reason;               // when none is met
  std::set<std::string> broken;     // figures over a limit (any budget), e.g. {"zip_bytes"}
  bool ok() const { return !within.empty(); }
};

Verdict Judge(const std::vector<Budget>& budgets, const Figures& f, const JudgeOptions& o);

// 4305 -> "4,305"; 1.5e6 -> "1,500,000"; fractions keep one decimal ("17.3").
std::string Thousands(double v);

}  // namespace kws::search
