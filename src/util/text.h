// Small text parsing shared by command-line flags.
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kws {

// "NAME=NUMBER" (e.g. "no=0.7", "espeak-ng=2"): the name (possibly empty) and the number, or
// nullopt when there is no '=' or what follows it is not exactly one number (std::stod syntax).
// Callers word their own error (it names their flag and the expected form).
inline std::optional<std::pair<std::string, double>> ParseNameNumber(const std::string& item) {
  const size_t eq = item.find('=');
  if (eq == std::string::npos) return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(item.substr(eq + 1), &used);
    if (used != item.size() - eq - 1) return std::nullopt;
    return std::make_pair(item.substr(0, eq), v);
  } catch (const std::logic_error&) {  // invalid_argument, out_of_range
    return std::nullopt;
  }
}

// "a, b,c" -> {"a", "b", "c"}: comma-separated items, blanks around them trimmed, empty items dropped.
inline std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const size_t b = text.find_first_not_of(" \t", start);
    if (b != std::string::npos && b < end) {
      const size_t e = text.find_last_not_of(" \t", end - 1);
      out.push_back(text.substr(b, e - b + 1));
    }
    start = end + 1;
  }
  return out;
}

}  // namespace kws
