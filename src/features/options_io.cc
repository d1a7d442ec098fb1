#include "features/options_io.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace kws {
namespace {

const char* const kKeys[] = {"sample_rate", "frame_length_s", "frame_step_s", "fft_length", "window",     "num_mel_bins",
                             "lower_hz",    "upper_hz",       "log_offset",   "mfcc",       "clip_seconds",
                             "frontend",    "micro"};
// Settings of the tf.signal front end only (not allowed with frontend = "micro").
const char* const kTfOnlyKeys[] = {"frame_length_s", "frame_step_s", "fft_length", "window", "num_mel_bins",
                                   "lower_hz",       "upper_hz",     "log_offset", "mfcc"};
const char* const kMicroKeys[] = {"window_ms",     "step_ms",       "num_channels",   "lower_hz",
                                  "upper_hz",      "smoothing_bits", "even_smoothing", "odd_smoothing",
                                  "min_signal_remaining", "pcan",   "pcan_strength",  "pcan_offset",
                                  "gain_bits",     "log_scale",     "scale_shift"};

template <size_t N>
bool In(const char* const (&keys)[N], const std::string& k) {
  for (const char* s : keys)
    if (k == s) return true;
  return false;
}
bool KnownKey(const std::string& k) { return In(kKeys, k); }

template <size_t N>
std::string List(const char* const (&keys)[N]) {
  std::string s;
  for (const char* k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}
std::string KeyList() { return List(kKeys); }

[[noreturn]] void TfOnlyWithMicro(const std::string& what, const std::string& key, bool usage) {
  const std::string m = what + ": '" + key +
                        "' is a tf.signal setting, unused with frontend = \"micro\" (the micro front end's "
                        "settings are in its 'micro' table: " + List(kMicroKeys) + ")";
  throw usage ? UsageError(m) : BadInput(m);
}

// A float setting written as the shortest decimal that reads back to the same float
// (0.025f -> 0.025, not 0.02500000037252903).
double FloatText(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, v);
  *r.ptr = 0;
  return std::strtod(buf, nullptr);
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
void TFloat(const toml::table& t, const char* key, float& out, const std::string& what) {
  double d = out;
  TDouble(t, key, d, what);
  out = float(d);
}
void TBool(const toml::table& t, const char* key, bool& out, const std::string& what) {
  const toml::node* n = t.get(key);
  if (!n) return;
  auto v = n->value_exact<bool>();
  if (!v) throw UsageError(what + ": '" + key + "' must be true or false");
  out = *v;
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
void JFloat(const nlohmann::json& j, const char* key, float& out, const std::string& what) {
  double d = out;
  JDouble(j, key, d, what);
  out = float(d);
}
void JBool(const nlohmann::json& j, const char* key, bool& out, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (!it->is_boolean()) throw BadInput(what + ": '" + key + "' must be true or false");
  out = it->get<bool>();
}
void JString(const nlohmann::json& j, const char* key, std::string& out, const std::string& what) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if (!it->is_string()) throw BadInput(what + ": '" + key + "' must be a string");
  out = it->get<std::string>();
}

}  // namespace

micro::FrontendOptions MicroOptionsFromToml(const toml::table& t, const micro::FrontendOptions& base,
                                            const std::string& what) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (!In(kMicroKeys, key)) throw UsageError(what + ": unknown key '" + key + "' (known: " + List(kMicroKeys) + ")");
  }
  micro::FrontendOptions m = base;
  TInt(t, "window_ms", m.window.size_ms, what);
  TInt(t, "step_ms", m.window.step_ms, what);
  TInt(t, "num_channels", m.filterbank.num_channels, what);
  TFloat(t, "lower_hz", m.filterbank.lower_hz, what);
  TFloat(t, "upper_hz", m.filterbank.upper_hz, what);
  TInt(t, "smoothing_bits", m.noise_reduction.smoothing_bits, what);
  TFloat(t, "even_smoothing", m.noise_reduction.even_smoothing, what);
  TFloat(t, "odd_smoothing", m.noise_reduction.odd_smoothing, what);
  TFloat(t, "min_signal_remaining", m.noise_reduction.min_signal_remaining, what);
  TBool(t, "pcan", m.pcan.enabled, what);
  TFloat(t, "pcan_strength", m.pcan.strength, what);
  TFloat(t, "pcan_offset", m.pcan.offset, what);
  TInt(t, "gain_bits", m.pcan.gain_bits, what);
  TBool(t, "log_scale", m.log_scale.enabled, what);
  TInt(t, "scale_shift", m.log_scale.scale_shift, what);
  return m;
}

nlohmann::json MicroOptionsToJson(const micro::FrontendOptions& m) {
  return nlohmann::json{{"window_ms", m.window.size_ms},
                        {"step_ms", m.window.step_ms},
                        {"num_channels", m.filterbank.num_channels},
                        {"lower_hz", FloatText(m.filterbank.lower_hz)},
                        {"upper_hz", FloatText(m.filterbank.upper_hz)},
                        {"smoothing_bits", m.noise_reduction.smoothing_bits},
                        {"even_smoothing", FloatText(m.noise_reduction.even_smoothing)},
                        {"odd_smoothing", FloatText(m.noise_reduction.odd_smoothing)},
                        {"min_signal_remaining", FloatText(m.noise_reduction.min_signal_remaining)},
                        {"pcan", m.pcan.enabled},
                        {"pcan_strength", FloatText(m.pcan.strength)},
                        {"pcan_offset", FloatText(m.pcan.offset)},
                        {"gain_bits", m.pcan.gain_bits},
                        {"log_scale", m.log_scale.enabled},
                        {"scale_shift", m.log_scale.scale_shift}};
}

toml::table MicroOptionsToToml(const micro::FrontendOptions& m) {
  toml::table t;
  const nlohmann::json j = MicroOptionsToJson(m);  // (a temporary's items() would dangle in the loop)
  for (const auto& [k, v] : j.items()) {
    if (v.is_boolean()) t.insert_or_assign(k, v.get<bool>());
    else if (v.is_number_integer()) t.insert_or_assign(k, v.get<int64_t>());
    else t.insert_or_assign(k, v.get<double>());
  }
  return t;
}

micro::FrontendOptions MicroOptionsFromJson(const nlohmann::json& j, const micro::FrontendOptions& base,
                                            const std::string& what) {
  if (!j.is_object()) throw BadInput(what + ": micro front-end options must be a JSON object");
  for (const auto& [k, v] : j.items())
    if (!In(kMicroKeys, k)) throw BadInput(what + ": unknown key '" + k + "' (known: " + List(kMicroKeys) + ")");
  micro::FrontendOptions m = base;
  JInt(j, "window_ms", m.window.size_ms, what);
  JInt(j, "step_ms", m.window.step_ms, what);
  JInt(j, "num_channels", m.filterbank.num_channels, what);
  JFloat(j, "lower_hz", m.filterbank.lower_hz, what);
  JFloat(j, "upper_hz", m.filterbank.upper_hz, what);
  JInt(j, "smoothing_bits", m.noise_reduction.smoothing_bits, what);
  JFloat(j, "even_smoothing", m.noise_reduction.even_smoothing, what);
  JFloat(j, "odd_smoothing", m.noise_reduction.odd_smoothing, what);
  JFloat(j, "min_signal_remaining", m.noise_reduction.min_signal_remaining, what);
  JBool(j, "pcan", m.pcan.enabled, what);
  JFloat(j, "pcan_strength", m.pcan.strength, what);
  JFloat(j, "pcan_offset", m.pcan.offset, what);
  JInt(j, "gain_bits", m.pcan.gain_bits, what);
  JBool(j, "log_scale", m.log_scale.enabled, what);
  JInt(j, "scale_shift", m.log_scale.scale_shift, what);
  return m;
}

bool IsTfOnlyFeatureKey(const std::string& key) { return In(kTfOnlyKeys, key); }

FeatureOptions FeatureOptionsFromToml(const toml::table& t, const FeatureOptions& base, const std::string& what) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (!KnownKey(key)) throw UsageError(what + ": unknown key '" + key + "' (known: " + KeyList() + ")");
  }
  FeatureOptions f = base;
  TString(t, "frontend", f.frontend, what);
  if (f.frontend != "tf.signal" && f.frontend != "micro")
    throw UsageError(what + ": 'frontend' must be \"tf.signal\" or \"micro\" (got \"" + f.frontend + "\")");
  if (f.is_micro()) {
    for (const auto& [k, v] : t)
      if (In(kTfOnlyKeys, std::string(k.str()))) TfOnlyWithMicro(what, std::string(k.str()), true);
    if (const toml::node* n = t.get("micro")) {
      if (!n->is_table()) throw UsageError(what + ": 'micro' must be a table ([features.micro])");
      f.micro = MicroOptionsFromToml(*n->as_table(), f.micro, what + " micro");
    }
  } else if (t.get("micro")) {
    throw UsageError(what + ": 'micro' applies only with frontend = \"micro\"");
  }
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
  if (f.is_micro())
    return toml::table{{"frontend", f.frontend},
                       {"sample_rate", f.sample_rate},
                       {"clip_seconds", f.clip_seconds},
                       {"micro", MicroOptionsToToml(f.micro)}};
  return toml::table{{"sample_rate", f.sample_rate}, {"frame_length_s", f.frame_length_s},
                     {"frame_step_s", f.frame_step_s}, {"fft_length", f.fft_length},
                     {"window", f.window},           {"num_mel_bins", f.num_mel_bins},
                     {"lower_hz", f.lower_hz},       {"upper_hz", f.upper_hz},
                     {"log_offset", f.log_offset},   {"mfcc", f.mfcc},
                     {"clip_seconds", f.clip_seconds}};
}

nlohmann::json FeatureOptionsToJsonObject(const FeatureOptions& f) {
  if (f.is_micro())
    return nlohmann::json{{"frontend", f.frontend},
                          {"sample_rate", f.sample_rate},
                          {"clip_seconds", f.clip_seconds},
                          {"micro", MicroOptionsToJson(f.micro)}};
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
  JString(j, "frontend", f.frontend, what);
  if (f.frontend != "tf.signal" && f.frontend != "micro")
    throw BadInput(what + ": 'frontend' must be \"tf.signal\" or \"micro\" (got \"" + f.frontend + "\")");
  if (f.is_micro()) {
    for (const auto& [k, v] : j.items())
      if (In(kTfOnlyKeys, k)) TfOnlyWithMicro(what, k, false);
    if (j.contains("micro")) f.micro = MicroOptionsFromJson(j["micro"], f.micro, what + " micro");
  } else if (j.contains("micro")) {
    throw BadInput(what + ": 'micro' applies only with frontend = \"micro\"");
  }
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
