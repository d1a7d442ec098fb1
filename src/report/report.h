// report.md and the terminal summary of `kws quickstart`, rendered from the report.json object (so the
// Markdown and the JSON always carry the same numbers). The JSON layout is written by RunQuickstart
// (src/quickstart/quickstart.cc): data, test_set, seed, baseline, models[] (name, file, accuracy,
// eval = Evaluation::ToJson(), bench = ReportJson() of `kws bench`, sparsity), pictures, timings_s.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace kws {

// The full Markdown report (tables, pictures by relative path, how to reproduce each number).
std::string ReportMarkdown(const nlohmann::json& report);

// A short plain-text table (model, accuracy, bytes, zipped, params, total latency, savings).
std::string ReportSummary(const nlohmann::json& report);

// 12345 -> "12,345".
std::string GroupThousands(long long v);

}  // namespace kws
