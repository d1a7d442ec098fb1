#include "search/budget.h"

#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace kws::search {

using json = nlohmann::json;

double Figures::Get(const std::string& f) const {
  if (f == "tflite_bytes") return tflite_bytes;
  if (f == "zip_bytes") return zip_bytes;
  if (f == "arena_bytes") return arena_bytes;
  if (f == "macs") return macs;
  if (f == "latency_us") return latency_us;
  if (f == "params") return params;
  if (f == "nonzero") return nonzero;
  throw InternalError("unknown figure " + f);
}

json Figures::ToJson() const {
  json j = json::object();
  for (const char* k : {"tflite_bytes", "zip_bytes", "arena_bytes", "macs", "params", "nonzero"})
    if (Get(k) >= 0) j[k] = int64_t(std::llround(Get(k)));
  if (latency_us >= 0) j["latency_us"] = std::round(latency_us * 10) / 10;
  return j;
}

Figures Figures::FromJson(const json& j) {
  Figures f;
  auto get = [&](const char* k, double& v) {
    if (j.contains(k) && j[k].is_number()) v = j[k].get<double>();
  };
  get("tflite_bytes", f.tflite_bytes);
  get("zip_bytes", f.zip_bytes);
  get("arena_bytes", f.arena_bytes);
  get("macs", f.macs);
  get("latency_us", f.latency_us);
  get("params", f.params);
  get("nonzero", f.nonzero);
  return f;
}

std::string Thousands(double v) {
  char buf[64];
  if (std::fabs(v - std::round(v)) > 1e-9 && std::fabs(v) < 1e5) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(std::llround(v)));
  std::string s = buf, out;
  const size_t start = s[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > start && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

Verdict Judge(const std::vector<Budget>& budgets, const Figures& f, const JudgeOptions& o) {
  Verdict v;
  std::string reasons;
  for (const Budget& b : budgets) {
    std::string broken;
    for (const auto& [fig, limit] : b.limits) {
      if (fig == "latency_us" && !o.latency) continue;
      const double x = f.Get(fig);
      if (x < 0) continue;
      const bool estimate = o.estimated.count(fig) > 0;
      if (x <= limit * (estimate ? 1 + o.margin : 1.0)) continue;
      v.broken.insert(fig);
      broken += (broken.empty() ? "" : ", ") + fig + (estimate ? " (estimate) " : " ") + Thousands(x) + " > " +
                Thousands(limit);
    }
    if (broken.empty()) v.within.push_back(b.name);
    else reasons += (reasons.empty() ? "" : "; ") + (budgets.size() > 1 ? b.name + ": " : std::string()) + broken;
  }
  if (v.within.empty()) v.reason = reasons;
  return v;
}

}  // namespace kws::search
