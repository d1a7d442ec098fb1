#include "util/settings.h"

#include <cmath>
#include <sstream>

#include "util/error.h"

namespace kws::settings {

void Bad(const std::string& path, const std::string& what) { throw UsageError(path + ": " + what); }

std::string Fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void CheckFinite(const std::string& path, double v) {
  if (!std::isfinite(v)) Bad(path, "must be a finite number (got " + Fmt(v) + ")");
}
void CheckPositive(const std::string& path, double v) {
  CheckFinite(path, v);
  if (!(v > 0)) Bad(path, "must be > 0 (got " + Fmt(v) + ")");
}
void CheckRange(const std::string& path, double v, double lo, double hi, bool lo_open, bool hi_open) {
  CheckFinite(path, v);
  if ((lo_open ? v <= lo : v < lo) || (hi_open ? v >= hi : v > hi))
    Bad(path, "must be in " + std::string(lo_open ? "(" : "[") + Fmt(lo) + ", " + Fmt(hi) + (hi_open ? ")" : "]") +
                  " (got " + Fmt(v) + ")");
}

ValueCheck<double> InRange(double lo, double hi, bool lo_open, bool hi_open) {
  return [=](const double& v, const std::string& p) { CheckRange(p, v, lo, hi, lo_open, hi_open); };
}
ValueCheck<double> Positive() {
  return [](const double& v, const std::string& p) { CheckPositive(p, v); };
}
ValueCheck<double> Finite() {
  return [](const double& v, const std::string& p) { CheckFinite(p, v); };
}
ValueCheck<int> AtLeast(int lo) {
  return [=](const int& v, const std::string& p) {
    if (v < lo) Bad(p, "must be >= " + std::to_string(lo) + " (got " + std::to_string(v) + ")");
  };
}
ValueCheck<int> IntInRange(int lo, int hi) {
  return [=](const int& v, const std::string& p) {
    if (v < lo || v > hi)
      Bad(p, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (got " + std::to_string(v) + ")");
  };
}
ValueCheck<std::string> OneOf(std::vector<std::string> words) {
  return [words = std::move(words)](const std::string& v, const std::string& p) {
    for (const auto& w : words)
      if (v == w) return;
    std::string list;
    for (size_t i = 0; i < words.size(); ++i)
      list += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + ("\"" + words[i] + "\"");
    Bad(p, "must be " + list + " (got \"" + v + "\")");
  };
}

json ValueToJson(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

void ValueFromJson(const json& j, bool& out, const std::string&) { out = j.get<bool>(); }
void ValueFromJson(const json& j, int& out, const std::string&) { out = j.get<int>(); }
void ValueFromJson(const json& j, long& out, const std::string&) { out = j.get<long>(); }
void ValueFromJson(const json& j, double& out, const std::string&) { out = j.get<double>(); }
void ValueFromJson(const json& j, std::string& out, const std::string&) { out = j.get<std::string>(); }
void ValueFromJson(const json& j, uint64_t& out, const std::string& path) {
  const int64_t v = j.get<int64_t>();
  if (v < 0) Bad(path, "must be >= 0 (got " + std::to_string(v) + ")");
  out = uint64_t(v);
}
void ValueFromJson(const json& j, std::vector<std::string>& out, const std::string& path) {
  out.clear();
  for (const auto& v : j) {
    if (!v.is_string()) Bad(path, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
}

json::json_pointer Pointer(const std::string& dotted_key) {
  std::string p = "/" + dotted_key;
  for (char& c : p)
    if (c == '.') c = '/';
  return json::json_pointer(p);
}

std::string ValueText(const json& v) {
  if (v.is_array() && v.empty()) return "[]";
  return v.dump();
}

}  // namespace kws::settings
