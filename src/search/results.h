// What a search leaves behind, and how it is shown.
//
//   DIR/trials.jsonl   one line per trial outcome, appended as it happens (AppendJsonl): trained trials
//                      (status ok / over_budget / failed; one line per rung they were trained at) and
//                      candidates refused before training (rejected / duplicate); ReadJsonl reads it back,
//                      ignoring a last line cut short by a kill
//   DIR/pareto.svg     accuracy against size and against latency, each trial at the longest training it
//                      got; the Pareto front (no other trial both smaller/faster and more accurate) marked
//   DIR/best/NAME/     per budget, the most accurate trial within it among those trained longest
//
// A line's keys: trial, rung, epochs, config (the varied settings), quant, status, reason, accuracy,
// the judged export's tflite_bytes / zip_bytes / arena_bytes / macs / latency_us / params / nonzero,
// budgets (names met), exports (every export's figures), cv, seconds, worker, dir.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/space.h"

namespace kws::search {

void AppendJsonl(const std::string& path, const nlohmann::json& line);
// Lines of a .jsonl file (none when it does not exist). A malformed line other than a torn last one
// is BadInput naming the file and line.
std::vector<nlohmann::json> ReadJsonl(const std::string& path, bool* torn_tail = nullptr);

// True for lines of trained trials (ok, over_budget, failed).
bool IsTrained(const nlohmann::json& rec);
// Each trial's trained line with the most epochs, by trial.
std::vector<nlohmann::json> FinalRecords(const std::vector<nlohmann::json>& records);
// Indices into `points` (x, accuracy) on the Pareto front: lower x and higher accuracy are better.
std::vector<size_t> ParetoFront(const std::vector<std::pair<double, double>>& points);
// The best record within `budget` (null when none): most epochs first, then accuracy, then lower trial.
nlohmann::json BestWithin(const std::vector<nlohmann::json>& records, const std::string& budget);

// The figure a search's size axis shows: zip_bytes when a budget limits it, else tflite_bytes.
std::string SizeFigure(const SearchSpace& s);
// The SVG (two panels: accuracy vs size, accuracy vs latency_us).
std::string ParetoSvg(const std::vector<nlohmann::json>& records, const SearchSpace& s);

// The live table: header, then one row per line (rejected candidates included, briefly).
std::string TableHeader(const SearchSpace& s);
std::string TableRow(const nlohmann::json& rec, const SearchSpace& s);

}  // namespace kws::search
