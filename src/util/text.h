// Small text parsing shared by command-line flags.
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

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

}  // namespace kws
