#include "features/options_io.h"

#include <cmath>

#include "util/error.h"

namespace kws {
namespace {

const char* const kKeys[] = {"sample_rate", "frame_length_s", "frame_step_s", "fft_length", "window",     "num_mel_bins",
                             "lower_hz",    "upper_hz",       "log_offset",   "mfcc",       "clip_seconds"};

bool KnownKey(const std::string& k) {
  for (const char* s : kKeys)
    if (k == s) return true;
  return false;
}

std::string KeyList() {
  std::string s;
  for (const char* k : kKeys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

// ---- TOML ----
void TInt(const toml::table& t, const char* key, int& out, const std::string& what) {
  const toml::node* n = t.get(key);
  if (!n) return;
  auto v = n->value_exact<int64_t>();
  if (!v) throw UsageError(what + ": '" + key + "' must be an integer");
  if (*v < -(int64_t(1) << 31) || *v > (int64_t(1) << 31) - 1) throw UsageError(what + ": '" + key + "' is out of range");
  out = int(*v);
}
void TDouble(const toml::table& t, const char* key, double& out, const std::string& what) {
  const toml::node* n = t.get(key);
  if (!n) return;
  if (auto d = n->value_exact<double>()) out = *d;
  else if (auto i = n->value_exact<int64_t>()) out = double(*i);
  else throw UsageError(what + ": '" + key + "' must be a number");
}
void TString(const toml::table& t, const char* key, std::string& out, const std::string& what) {
  const toml::node* n = t.get(key);
  if (!n) return;
  auto v = n->value_exact<std::string>();
  if (!v) throw UsageError(what + ": '" + key + "' must be a string");
  out = *v;
}

// ---- JSON ----
void JInt(const nlohmann::json& j, const char* key, int& out, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (!it->is_number_integer()) throw BadInput(what + ": '" + key + "' must be an integer");
  out = it->get<int>();
}
void JDouble(const nlohmann::json& j, const char* key, double& out, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (!it->is_number()) throw BadInput(what + ": '" + key + "' must be a number");
  out = it->get<double>();
}
void JString(const nlohmann::json& j, const char* key, std::string& out, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (!it->is_string()) throw BadInput(what + ": '" + key + "' must be a string");
  out = it->get<std::string>();
}

}  // namespace

FeatureOptions FeatureOptionsFromToml(const toml::table& t, const FeatureOptions& base, const std::string& what) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (!KnownKey(key)) throw UsageError(what + ": unknown key '" + key + "' (known: " + KeyList() + ")");
  }
  FeatureOptions f = base;
  TInt(t, "sample_rate", f.sample_rate, what);
  TDouble(t, "frame_length_s", f.frame_length_s, what);
  TDouble(t, "frame_step_s", f.frame_step_s, what);
  TInt(t, "fft_length", f.fft_length, what);
  TString(t, "window", f.window, what);
  TInt(t, "num_mel_bins", f.num_mel_bins, what);
  TDouble(t, "lower_hz", f.lower_hz, what);
  TDouble(t, "upper_hz", f.upper_hz, what);
  TDouble(t, "log_offset", f.log_offset, what);
  TInt(t, "mfcc", f.mfcc, what);
  TDouble(t, "clip_seconds", f.clip_seconds, what);
  return f;
}

toml::table FeatureOptionsToToml(const FeatureOptions& f) {
  return toml::table{{"sample_rate", f.sample_rate}, {"frame_length_s", f.frame_length_s},
                     {"frame_step_s", f.frame_step_s}, {"fft_length", f.fft_length},
                     {"window", f.window},           {"num_mel_bins", f.num_mel_bins},
                     {"lower_hz", f.lower_hz},       {"upper_hz", f.upper_hz},
                     {"log_offset", f.log_offset},   {"mfcc", f.mfcc},
                     {"clip_seconds", f.clip_seconds}};
}

nlohmann::json FeatureOptionsToJsonObject(const FeatureOptions& f) {
  return nlohmann::json{{"sample_rate", f.sample_rate}, {"frame_length_s", f.frame_length_s},
                        {"frame_step_s", f.frame_step_s}, {"fft_length", f.fft_length},
                        {"window", f.window},           {"num_mel_bins", f.num_mel_bins},
                        {"lower_hz", f.lower_hz},       {"upper_hz", f.upper_hz},
                        {"log_offset", f.log_offset},   {"mfcc", f.mfcc},
                        {"clip_seconds", f.clip_seconds}};
}

FeatureOptions FeatureOptionsFromJsonObject(const nlohmann::json& j, const FeatureOptions& base,
                                            const std::string& what) {
  if (!j.is_object()) throw BadInput(what + ": feature options must be a JSON object");
  for (const auto& [k, v] : j.items())
    if (!KnownKey(k)) throw BadInput(what + ": unknown key '" + k + "' (known: " + KeyList() + ")");
  FeatureOptions f = base;
  JInt(j, "sample_rate", f.sample_rate, what);
  JDouble(j, "frame_length_s", f.frame_length_s, what);
  JDouble(j, "frame_step_s", f.frame_step_s, what);
  JInt(j, "fft_length", f.fft_length, what);
  JString(j, "window", f.window, what);
  JInt(j, "num_mel_bins", f.num_mel_bins, what);
  JDouble(j, "lower_hz", f.lower_hz, what);
  JDouble(j, "upper_hz", f.upper_hz, what);
  JDouble(j, "log_offset", f.log_offset, what);
  JInt(j, "mfcc", f.mfcc, what);
  JDouble(j, "clip_seconds", f.clip_seconds, what);
  return f;
}

}  // namespace kws
