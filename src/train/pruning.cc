#include "train/pruning.h"

#include <algorithm>
#include <cfenv>
#include <functional>
#include <cmath>
#include <numeric>

#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/depthwise_conv2d.h"
#include "util/error.h"

namespace kws {

// ---------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------
void PruningSchedule::Validate() const {
  auto bad = [](const std::string& m) { throw UsageError("pruning: " + m); };
  if (type != "polynomial" && type != "constant") bad("schedule type '" + type + "' (expected polynomial or constant)");
  if (!(final_sparsity >= 0 && final_sparsity < 1)) bad("final/target sparsity must be in [0, 1)");
  if (type == "polynomial" && !(initial_sparsity >= 0 && initial_sparsity < 1)) bad("initial_sparsity must be in [0, 1)");
  if (begin_step < 0) bad("begin_step must be >= 0");
  if (type == "polynomial" && end_step <= begin_step) bad("end_step must be > begin_step");
  if (type == "constant" && end_step != -1 && end_step < begin_step) bad("end_step must be >= begin_step or -1");
  if (frequency < 1) bad("frequency must be >= 1");
  if (type == "polynomial" && !(power > 0)) bad("power must be > 0");
}

bool PruningSchedule::ShouldPrune(long step) const {
  const bool in_range = step >= begin_step && (end_step == -1 || step <= end_step);
  return in_range && (step - begin_step) % frequency == 0;
}

double PruningSchedule::Sparsity(long step) const {
  if (type == "constant") return final_sparsity;
  double p = double(step - begin_step) / double(end_step - begin_step);
  p = std::clamp(p, 0.0, 1.0);
  return final_sparsity + (initial_sparsity - final_sparsity) * std::pow(1.0 - p, power);
}

nlohmann::json PruningSchedule::ToJson() const {
  nlohmann::json j = {{"type", type}, {"begin_step", begin_step}, {"end_step", end_step}, {"frequency", frequency}};
  if (type == "polynomial")
    j.update({{"initial_sparsity", initial_sparsity}, {"final_sparsity", final_sparsity}, {"power", power}});
  else
    j["target_sparsity"] = final_sparsity;
  return j;
}

PruningSchedule PruningSchedule::FromJson(const nlohmann::json& j) {
  PruningSchedule s;
  if (!j.is_object()) throw UsageError("pruning: expected a table/object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    auto num = [&]() {
      if (!v.is_number()) throw UsageError("pruning: '" + k + "' must be a number");
      return v.get<double>();
    };
    auto integer = [&]() {
      if (!v.is_number_integer()) throw UsageError("pruning: '" + k + "' must be an integer");
      return v.get<long>();
    };
    if (k == "type") {
      if (!v.is_string()) throw UsageError("pruning: 'type' must be a string");
      s.type = v.get<std::string>();
    } else if (k == "initial_sparsity") s.initial_sparsity = num();
    else if (k == "final_sparsity" || k == "target_sparsity") s.final_sparsity = num();
    else if (k == "begin_step") s.begin_step = integer();
    else if (k == "end_step") s.end_step = integer();
    else if (k == "power") s.power = num();
    else if (k == "frequency") s.frequency = integer();
    else throw UsageError("pruning: unknown field '" + k + "'");
  }
  s.Validate();
  return s;
}

// ---------------------------------------------------------------------------
// Masks
// ---------------------------------------------------------------------------
size_t KeptCount(size_t n, double sparsity) {
  if (n == 0) return 0;
  // float32 arithmetic and round-half-to-even, as tf.math.round in TFMOT.
  const float k = std::nearbyint(float(n) * (1.0f - float(sparsity)));
  return std::clamp<size_t>(size_t(std::max(k, 0.0f)), 1, n);
}

std::vector<uint8_t> MagnitudeMask(const std::vector<float>& w, double sparsity) {
  const size_t n = w.size();
  std::vector<uint8_t> mask(n, 0);
  if (n == 0) return mask;
  const size_t k = KeptCount(n, sparsity);
  std::vector<float> a(n);
  for (size_t i = 0; i < n; ++i) a[i] = std::fabs(w[i]);
  std::vector<float> sorted = a;
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
  const float threshold = sorted[k - 1];
  for (size_t i = 0; i < n; ++i) mask[i] = a[i] >= threshold;
  return mask;
}

bool UpdatePruningMasks(const std::vector<Param*>& params, const PruningSchedule& schedule, long step) {
  if (!schedule.ShouldPrune(step)) return false;
  const double s = schedule.Sparsity(step);
  for (Param* p : params) {
    if (!p->prunable) continue;
    p->mask = MagnitudeMask(p->value, s);
    for (size_t i = 0; i < p->value.size(); ++i)
      if (!p->mask[i]) p->value[i] = 0.0f;
  }
  return true;
}

std::vector<TensorSparsity> SparsityReport(const std::vector<Param*>& params) {
  std::vector<TensorSparsity> r;
  for (Param* p : params) {
    if (!p->prunable) continue;
    TensorSparsity t;
    t.name = p->name;
    t.size = p->value.size();
    t.zeros = size_t(std::count(p->value.begin(), p->value.end(), 0.0f));
    t.sparsity = t.size ? double(t.zeros) / double(t.size) : 0.0;
    r.push_back(t);
  }
  return r;
}

void StripMasks(const std::vector<Param*>& params) {
  for (Param* p : params) p->mask.clear();
}

// ---------------------------------------------------------------------------
// Structured pruning
// ---------------------------------------------------------------------------
namespace {

// Keeps entries along one axis of a row-major tensor with dims `dims`.
void KeepAlongAxis(std::vector<float>& v, std::vector<int>& dims, int axis, const std::vector<int>& keep) {
  size_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= size_t(dims[i]);
  for (size_t i = axis + 1; i < dims.size(); ++i) inner *= size_t(dims[i]);
  const size_t old_n = size_t(dims[axis]);
  std::vector<float> out;
  out.reserve(outer * keep.size() * inner);
  for (size_t o = 0; o < outer; ++o)
    for (int k : keep) {
      const float* src = v.data() + (o * old_n + size_t(k)) * inner;
      out.insert(out.end(), src, src + inner);
    }
  v.swap(out);
  dims[axis] = int(keep.size());
}

void KeepMaskAlongAxis(std::vector<uint8_t>& m, const std::vector<int>& dims_before, int axis,
                       const std::vector<int>& keep) {
  if (m.empty()) return;
  std::vector<float> f(m.begin(), m.end());
  std::vector<int> d = dims_before;
  KeepAlongAxis(f, d, axis, keep);
  m.assign(f.size(), 0);
  for (size_t i = 0; i < f.size(); ++i) m[i] = f[i] != 0.0f;
}

void ShrinkParam(Param& p, int axis, const std::vector<int>& keep) {
  if (p.value.empty()) return;
  std::vector<int> dims_before = p.dims;
  KeepAlongAxis(p.value, p.dims, axis, keep);
  KeepMaskAlongAxis(p.mask, dims_before, axis, keep);
  p.grad.assign(p.grad.empty() ? 0 : p.value.size(), 0.0f);
}

void CheckKeep(const std::vector<int>& keep, int n, const std::string& where) {
  if (keep.empty()) throw UsageError(where + ": structured pruning must keep at least one filter");
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i] < 0 || keep[i] >= n || (i > 0 && keep[i] <= keep[i - 1]))
      throw UsageError(where + ": kept filter indices must be ascending, unique and in [0, " + std::to_string(n) + ")");
}

}  // namespace

std::vector<double> FilterL1Norms(const Layer& layer) {
  auto* conv = dynamic_cast<const Conv2DLayer*>(&layer);
  if (!conv) throw UsageError("layer '" + layer.name + "': filter norms need a conv2d layer");
  const int oc = conv->filters;
  std::vector<double> l1(oc, 0.0);
  for (size_t i = 0; i < conv->kernel.value.size(); ++i) l1[i % oc] += std::fabs(conv->kernel.value[i]);
  return l1;
}

std::vector<int> SelectFiltersByL1(const std::vector<double>& l1, int count) {
  std::vector<int> idx(l1.size());
  std::iota(idx.begin(), idx.end(), 0);
  count = std::clamp(count, 1, int(l1.size()));
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return l1[a] > l1[b]; });
  idx.resize(count);
  std::sort(idx.begin(), idx.end());
  return idx;
}

void RemoveFilters(std::vector<std::unique_ptr<Layer>>& layers, size_t conv_index, const std::vector<int>& keep) {
  if (conv_index >= layers.size()) throw UsageError("structured pruning: layer index " + std::to_string(conv_index) + " out of range");
  std::vector<size_t> chain = {conv_index};
  for (size_t i = conv_index + 1; i < layers.size(); ++i) {
    chain.push_back(i);
    const std::string t = layers[i]->type();
    if (t == "conv2d" || t == "dense") break;
  }
  RemoveFiltersAlong(layers, chain, keep);
}

void RemoveFiltersAlong(std::vector<std::unique_ptr<Layer>>& layers, const std::vector<size_t>& chain,
                        const std::vector<int>& keep) {
  const size_t conv_index = chain.at(0);
  auto* conv = dynamic_cast<Conv2DLayer*>(layers[conv_index].get());
  const std::string where = "layer '" + layers[conv_index]->name + "'";
  if (!conv) throw UsageError(where + ": structured pruning needs a conv2d layer (got " + layers[conv_index]->type() + ")");
  CheckKeep(keep, conv->filters, where);
  // Channel-wise checks downstream before mutating anything.
  for (size_t k = 1; k < chain.size(); ++k) {
    const std::string t = layers[chain[k]]->type();
    if (t == "conv2d" || t == "dense") break;
    if (t != "batchnorm" && t != "relu" && t != "dropout" && t != "average_pool2d" && t != "max_pool2d" &&
        t != "global_average_pool" && t != "depthwise_conv2d" && t != "swish" && t != "hard_swish" && t != "mean")
      throw UsageError("layer '" + layers[chain[k]]->name + "': structured pruning cannot follow channels through type '" + t + "'");
  }
  ShrinkParam(conv->kernel, 3, keep);
  if (conv->use_bias) ShrinkParam(conv->bias, 0, keep);
  conv->filters = int(keep.size());

  std::vector<int> ch = keep;  // kept channel indices (of the old layout) flowing downstream
  for (size_t k = 1; k < chain.size(); ++k) {
    Layer* l = layers[chain[k]].get();
    const int old_c = l->input_shape.c;
    l->input_shape.c = int(ch.size());
    if (!l->input_shapes.empty()) l->input_shapes[0].c = int(ch.size());
    if (auto* bn = dynamic_cast<BatchNormLayer*>(l)) {
      ShrinkParam(bn->gamma, 0, ch), ShrinkParam(bn->beta, 0, ch);
      ShrinkParam(bn->moving_mean, 0, ch), ShrinkParam(bn->moving_variance, 0, ch);
    } else if (auto* dw = dynamic_cast<DepthwiseConv2DLayer*>(l)) {
      ShrinkParam(dw->kernel, 2, ch);
      const int dm = dw->depth_multiplier;
      std::vector<int> out_ch;
      for (int c : ch)
        for (int m = 0; m < dm; ++m) out_ch.push_back(c * dm + m);
      if (dw->use_bias) ShrinkParam(dw->bias, 0, out_ch);
      ch = out_ch;
    } else if (auto* next = dynamic_cast<Conv2DLayer*>(l)) {
      ShrinkParam(next->kernel, 2, ch);
      return;
    } else if (auto* dense = dynamic_cast<DenseLayer*>(l)) {
      // Rows are (h, w, c) flattened: keep rows p*old_c + c for every spatial position p.
      const int hw = l->input_shape.h * l->input_shape.w;
      std::vector<int> rows;
      for (int p = 0; p < hw; ++p)
        for (int c : ch) rows.push_back(p * old_c + c);
      ShrinkParam(dense->kernel, 0, rows);
      return;
    }
  }
}

std::vector<size_t> FilterChain(const std::vector<std::unique_ptr<Layer>>& layers,
                                const std::vector<std::vector<int>>& inputs, size_t conv_index) {
  std::vector<size_t> chain = {conv_index};
  for (size_t v = conv_index;;) {
    std::vector<size_t> readers;
    for (size_t k = 0; k < inputs.size(); ++k)
      for (int p : inputs[k])
        if (p == int(v)) readers.push_back(k);
    if (readers.size() != 1 || inputs[readers[0]].size() != 1) return {};  // fan-out, a sum, or the output
    v = readers[0];
    chain.push_back(v);
    const std::string t = layers[v]->type();
    if (t == "conv2d" || t == "dense") return chain;
    if (t != "batchnorm" && t != "relu" && t != "dropout" && t != "average_pool2d" && t != "max_pool2d" &&
        t != "global_average_pool" && t != "depthwise_conv2d" && t != "swish" && t != "hard_swish" && t != "mean")
      return {};
  }
}

std::vector<int> PruneFiltersL1(std::vector<std::unique_ptr<Layer>>& layers, size_t conv_index, double fraction,
                                int count) {
  if (conv_index >= layers.size()) throw UsageError("structured pruning: layer index out of range");
  auto l1 = FilterL1Norms(*layers[conv_index]);
  if (count <= 0) {
    if (!(fraction >= 0 && fraction < 1)) throw UsageError("structured pruning: fraction must be in [0, 1)");
    count = int(KeptCount(l1.size(), fraction));
  }
  auto keep = SelectFiltersByL1(l1, count);
  RemoveFilters(layers, conv_index, keep);
  return keep;
}

}  // namespace kws
