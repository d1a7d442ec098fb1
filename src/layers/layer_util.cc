#include "layers/layer_util.h"

#include <cmath>

#include "util/parallel.h"

namespace kws {

LayerConfig::LayerConfig(const nlohmann::json& j) : j_(j) {
  if (!j.is_object()) throw UsageError("layer config: expected a table/object, got " + std::string(j.type_name()));
  if (j.contains("name")) {
    if (!j["name"].is_string()) throw UsageError("layer config: 'name' must be a string");
    name_ = j["name"].get<std::string>();
  }
  if (!j.contains("type") || !j["type"].is_string())
    throw UsageError("layer '" + name_ + "': missing string field 'type'");
  type_ = j["type"].get<std::string>();
}

int LayerConfig::Int(const std::string& key, int def, int min_value) {
  known_.insert(key);
  if (!j_.contains(key)) {
    if (def < min_value) Fail("missing required field '" + key + "'");
    return def;
  }
  const auto& v = j_[key];
  if (!v.is_number_integer()) Fail("field '" + key + "' must be an integer");
  long long x = v.get<long long>();
  if (x < min_value || x > 1000000) Fail("field '" + key + "' = " + std::to_string(x) + " out of range (>= " + std::to_string(min_value) + ")");
  return int(x);
}

double LayerConfig::Float(const std::string& key, double def, double lo, double hi) {
  known_.insert(key);
  if (!j_.contains(key)) return def;
  const auto& v = j_[key];
  if (!v.is_number()) Fail("field '" + key + "' must be a number");
  double x = v.get<double>();
  if (!(x >= lo && x <= hi)) Fail("field '" + key + "' = " + std::to_string(x) + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

bool LayerConfig::Bool(const std::string& key, bool def) {
  known_.insert(key);
  if (!j_.contains(key)) return def;
  if (!j_[key].is_boolean()) Fail("field '" + key + "' must be true or false");
  return j_[key].get<bool>();
}

std::string LayerConfig::Choice(const std::string& key, const std::string& def, const std::vector<std::string>& allowed) {
  known_.insert(key);
  if (!j_.contains(key)) return def;
  if (!j_[key].is_string()) Fail("field '" + key + "' must be a string");
  std::string s = j_[key].get<std::string>();
  for (auto& a : allowed)
    if (s == a) return s;
  std::string list;
  for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Fail("field '" + key + "' = '" + s + "' (expected one of: " + list + ")");
}

std::array<int, 2> LayerConfig::Pair(const std::string& key, std::array<int, 2> def, int min_value) {
  known_.insert(key);
  if (!j_.contains(key)) {
    if (def[0] < min_value) Fail("missing required field '" + key + "'");
    return def;
  }
  const auto& v = j_[key];
  std::array<int, 2> r{};
  if (v.is_number_integer()) {
    r[0] = r[1] = int(v.get<long long>());
  } else if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer()) {
    r[0] = int(v[0].get<long long>());
    r[1] = int(v[1].get<long long>());
  } else {
    Fail("field '" + key + "' must be an integer or a pair [h, w]");
  }
  if (r[0] < min_value || r[1] < min_value || r[0] > 100000 || r[1] > 100000)
    Fail("field '" + key + "' values must be >= " + std::to_string(min_value));
  return r;
}

bool LayerConfig::Has(const std::string& key) const { return j_.contains(key); }

const nlohmann::json& LayerConfig::Raw(const std::string& key) {
  known_.insert(key);
  return j_.at(key);
}

void LayerConfig::Finish() const {
  for (auto it = j_.begin(); it != j_.end(); ++it)
    if (!known_.count(it.key())) Fail("unknown field '" + it.key() + "' for type '" + type_ + "'");
}

void GlorotUniform(std::vector<float>& w, double fan_in, double fan_out, Rng& rng) {
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  for (auto& x : w) x = float(rng.Uniform(-limit, limit));
}

Param MakeParam(const std::string& name, std::vector<int> dims, bool trainable, bool prunable) {
  Param p;
  p.name = name;
  size_t n = 1;
  for (int d : dims) n *= size_t(d);
  p.dims = std::move(dims);
  p.value.assign(n, 0.0f);
  if (trainable) p.grad.assign(n, 0.0f);
  p.prunable = prunable;
  return p;
}

AxisGeometry PadAxis(int in, int k, int stride, bool same) {
  AxisGeometry g;
  if (same) {
    g.out = (in + stride - 1) / stride;
    int pad_total = std::max((g.out - 1) * stride + k - in, 0);
    g.pad_before = pad_total / 2;
  } else {
    g.out = in >= k ? (in - k) / stride + 1 : 0;
    g.pad_before = 0;
  }
  return g;
}

void ReadPadding(LayerConfig& c, bool* same_h, bool* same_w) {
  if (c.Has("padding") && c.Raw("padding").is_array()) {
    const nlohmann::json& v = c.Raw("padding");
    if (v.size() != 2 || !v[0].is_string() || !v[1].is_string())
      c.Fail("field 'padding' must be \"same\", \"valid\" or a pair of them [h, w]");
    for (int a = 0; a < 2; ++a) {
      const std::string p = v[a].get<std::string>();
      if (p != "same" && p != "valid") c.Fail("field 'padding' = '" + p + "' (expected one of: same, valid)");
      (a == 0 ? *same_h : *same_w) = p == "same";
    }
    return;
  }
  *same_h = *same_w = c.Choice("padding", "valid", {"same", "valid"}) == "same";
}

nlohmann::json PaddingJson(bool same_h, bool same_w) {
  if (same_h == same_w) return same_h ? "same" : "valid";
  return nlohmann::json::array({same_h ? "same" : "valid", same_w ? "same" : "valid"});
}

void ParallelForWork(long n, long work, const std::function<void(long, long, int)>& fn) {
  if (work < kSerialWork) {
    if (n > 0) fn(0, n, 0);
    return;
  }
  ParallelFor(n, fn);
}

void CheckInputCount(const Layer& l, size_t got) {
  if (int(got) >= l.min_inputs() && int(got) <= l.max_inputs()) return;
  std::string want = l.min_inputs() == l.max_inputs() ? std::to_string(l.min_inputs())
                                                      : "at least " + std::to_string(l.min_inputs());
  throw UsageError("layer '" + (l.name.empty() ? l.type() : l.name) + "': takes " + want + " input" +
                   (l.max_inputs() == 1 ? "" : "s") + ", got " + std::to_string(got));
}

}  // namespace kws
