// Small helpers shared by the layers: config parsing with strict field checks,
// Keras initialisers, TF SAME/VALID geometry.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/layer.h"
#include "util/error.h"
#include "util/rng.h"

namespace kws {

// Reads one layer's JSON config. Every accessor marks its key as known; Finish()
// throws UsageError("layer 'conv2d_1': unknown field 'filter'") for the rest.
// Messages name the layer by its "name" if given, else by its type.
class LayerConfig {
 public:
  explicit LayerConfig(const nlohmann::json& j);
  const std::string& type() const { return type_; }
  const std::string& name() const { return name_; }
  std::string Where() const { return "layer '" + (name_.empty() ? type_ : name_) + "'"; }
  [[noreturn]] void Fail(const std::string& what) const { throw UsageError(Where() + ": " + what); }

  int Int(const std::string& key, int def, int min_value);  // def < min_value => required
  double Float(const std::string& key, double def, double lo, double hi);
  bool Bool(const std::string& key, bool def);
  std::string Choice(const std::string& key, const std::string& def, const std::vector<std::string>& allowed);
  // An int or [a, b] pair, each >= min_value; def[0] < min_value => required.
  std::array<int, 2> Pair(const std::string& key, std::array<int, 2> def, int min_value);
  bool Has(const std::string& key) const;
  const nlohmann::json& Raw(const std::string& key);  // the value as written (marks the key known)
  void Finish() const;

 private:
  const nlohmann::json& j_;
  std::string type_, name_;
  std::set<std::string> known_{"type", "name"};
};

// Keras glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)), drawn in buffer order.
void GlorotUniform(std::vector<float>& w, double fan_in, double fan_out, Rng& rng);

// Creates a trainable Param (value zero, grad zero) or a buffer (no grad).
Param MakeParam(const std::string& name, std::vector<int> dims, bool trainable, bool prunable);

// TF padding along one axis.
//   SAME:  out = ceil(in / stride), pad_total = max((out-1)*stride + k - in, 0), before = pad_total/2
//   VALID: out = ceil((in - k + 1) / stride), no padding
struct AxisGeometry {
  int out = 0, pad_before = 0;
};
AxisGeometry PadAxis(int in, int k, int stride, bool same);

// Reads "padding": "same" | "valid" | ["same"|"valid", "same"|"valid"] (per axis H, W) into *same_h/*same_w;
// and writes it back ("same"/"valid" when both axes agree, else the pair).
void ReadPadding(LayerConfig& c, bool* same_h, bool* same_w);
nlohmann::json PaddingJson(bool same_h, bool same_w);

// ParallelFor for light loops (element-wise layers, small branches): below `work` = kSerialWork values the
// loop runs on the calling thread as one chunk, since a fork/join costs more than the work (and much more
// when the machine is busy and the worker is not scheduled). The choice depends on the size only, so
// results stay deterministic for a given shape and thread count.
inline constexpr long kSerialWork = 1 << 16;
void ParallelForWork(long n, long work, const std::function<void(long, long, int)>& fn);

// UsageError naming the layer unless got is in [l.min_inputs(), l.max_inputs()].
void CheckInputCount(const Layer& l, size_t got);

}  // namespace kws
