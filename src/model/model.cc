#include "model/model.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "layers/softmax_cross_entropy.h"
#include "model/config.h"
#include "util/error.h"

namespace kws {

Model Model::Build(const nlohmann::json& layers_cfg, Shape input, int num_classes, uint64_t seed) {
  if (num_classes < 2) throw UsageError("model: needs at least 2 classes (got " + std::to_string(num_classes) + ")");
  if (input.size() == 0) throw UsageError("model: empty input shape");
  const nlohmann::json layers = ResolveLayers(layers_cfg, num_classes);
  if (layers.empty()) throw UsageError("model.layers: no layers");
  Model m;
  m.input_ = input;
  m.classes_ = num_classes;
  m.shapes_.push_back(input);
  std::map<std::string, int> counts;
  Rng rng(seed);
  Shape s = input;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::unique_ptr<Layer> l = MakeLayer(layers[i]);
    if (l->name.empty()) l->name = l->type() + "_" + std::to_string(++counts[l->type()]);
    for (auto& other : m.layers_)
      if (other->name == l->name) throw UsageError("layer '" + l->name + "': name used twice");
    s = l->OutputShape(s);  // throws UsageError naming the layer
    if (s.size() == 0) throw UsageError("layer '" + l->name + "': empty output");
    m.shapes_.push_back(s);
    m.layers_.push_back(std::move(l));
  }
  // Build after all shapes check out, in order, from one seeded stream.
  for (size_t i = 0; i < m.layers_.size(); ++i) m.layers_[i]->Build(m.shapes_[i], rng);
  if (s.size() != size_t(num_classes))
    throw UsageError("model: output has " + std::to_string(s.size()) + " values (" + std::to_string(s.h) + "x" +
                     std::to_string(s.w) + "x" + std::to_string(s.c) + ") but there are " +
                     std::to_string(num_classes) + " labels (end with a dense layer)");
  m.acts_.resize(m.layers_.size());
  return m;
}

nlohmann::json Model::LayersConfig() const {
  nlohmann::json j = nlohmann::json::array();
  for (auto& l : layers_) {
    nlohmann::json c = l->Config();
    c["name"] = l->name;
    j.push_back(c);
  }
  j.push_back({{"type", "softmax"}});
  return j;
}

void Model::Reserve(int batch) {
  if (batch <= capacity_) return;
  size_t maxsz = input_.size();
  for (size_t i = 0; i < layers_.size(); ++i) {
    acts_[i].assign(size_t(batch) * shapes_[i + 1].size(), 0.0f);
    maxsz = std::max(maxsz, shapes_[i + 1].size());
  }
  dbuf_[0].assign(size_t(batch) * maxsz, 0.0f);
  dbuf_[1].assign(size_t(batch) * maxsz, 0.0f);
  probs_.assign(size_t(batch) * classes_, 0.0f);
  dlogits_.assign(size_t(batch) * classes_, 0.0f);
  labels_.assign(size_t(batch), 0);
  capacity_ = batch;
}

const float* Model::Forward(const float* x, int batch, bool training) {
  if (batch < 1) throw InternalError("Model::Forward: batch < 1");
  Reserve(batch);
  input_ptr_ = x;
  const float* in = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->Forward(in, acts_[i].data(), batch, training);
    in = acts_[i].data();
  }
  return in;
}

float Model::Loss(const int32_t* labels, int batch, const float* soft) {
  std::memcpy(labels_.data(), labels, sizeof(int32_t) * size_t(batch));
  soft_ = soft;
  return softmax_cross_entropy_forward(probs_.data(), acts_.back().data(), labels, batch, classes_, loss_opts_, soft);
}

void Model::Backward(int batch) {
  softmax_cross_entropy_backward(dlogits_.data(), probs_.data(), labels_.data(), batch, classes_, loss_opts_, 0, soft_);
  const float* dout = dlogits_.data();
  int which = 0;
  for (size_t i = layers_.size(); i-- > 0;) {
    const float* in = i == 0 ? input_ptr_ : acts_[i - 1].data();
    float* din = i == 0 ? nullptr : dbuf_[which].data();
    layers_[i]->Backward(in, acts_[i].data(), dout, din, batch);
    dout = din;
    which ^= 1;
  }
}

void Model::ZeroGrad() {
  for (Param* p : Params()) std::fill(p->grad.begin(), p->grad.end(), 0.0f);
}

void Model::Predict(const float* x, int batch, float* probs) {
  const float* logits = Forward(x, batch, false);
  if (output_map_.empty()) {
    softmax_forward(probs, logits, batch, classes_);
    return;
  }
  head_probs_.resize(size_t(batch) * size_t(classes_));
  softmax_forward(head_probs_.data(), logits, batch, classes_);
  std::fill(probs, probs + size_t(batch) * size_t(outputs_), 0.0f);
  for (int b = 0; b < batch; ++b)
    for (int k = 0; k < classes_; ++k)
      probs[size_t(b) * size_t(outputs_) + size_t(output_map_[size_t(k)])] += head_probs_[size_t(b) * size_t(classes_) + size_t(k)];
}

void Model::SetOutputMap(std::vector<int> map) {
  if (map.empty()) {
    output_map_.clear();
    outputs_ = 0;
    return;
  }
  if (int(map.size()) != classes_)
    throw UsageError("model: output map has " + std::to_string(map.size()) + " entries for " + std::to_string(classes_) +
                     " classes");
  const int outputs = *std::max_element(map.begin(), map.end()) + 1;
  std::vector<bool> used(size_t(outputs), false);
  for (int o : map) {
    if (o < 0) throw UsageError("model: output map entries must be >= 0");
    used[size_t(o)] = true;
  }
  if (std::find(used.begin(), used.end(), false) != used.end())
    throw UsageError("model: output map leaves an output without classes");
  output_map_ = std::move(map);
  outputs_ = outputs;
}

int Model::OutputArgmax(const float* p) const {
  if (output_map_.empty()) return int(std::max_element(p, p + classes_) - p);
  int best = 0;
  float best_sum = 0.0f;
  for (int o = 0; o < outputs_; ++o) {  // the first largest sum, as max_element
    float s = 0.0f;
    for (int k = 0; k < classes_; ++k)
      if (output_map_[size_t(k)] == o) s += p[k];
    if (o == 0 || s > best_sum) best = o, best_sum = s;
  }
  return best;
}

std::vector<Param*> Model::Params() {
  std::vector<Param*> out;
  for (auto& l : layers_)
    for (Param* p : l->Params()) out.push_back(p);
  return out;
}

std::vector<Param*> Model::Buffers() {
  std::vector<Param*> out;
  for (auto& l : layers_)
    for (Param* p : l->Buffers()) out.push_back(p);
  return out;
}

long Model::ParamCount() {
  long n = 0;
  for (Param* p : Params()) n += long(p->value.size());
  for (Param* p : Buffers()) n += long(p->value.size());
  return n;
}

long Model::NonZeroCount() {
  long n = 0;
  for (Param* p : Params())
    for (float v : p->value) n += v != 0.0f;
  for (Param* p : Buffers())
    for (float v : p->value) n += v != 0.0f;
  return n;
}

void Model::Reshape() {
  shapes_.assign(1, input_);
  Shape s = input_;
  for (auto& l : layers_) {
    s = l->OutputShape(s);
    shapes_.push_back(s);
  }
  acts_.assign(layers_.size(), {});
  capacity_ = 0;
}

void Model::SetSeed(uint64_t seed) {
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->SetSeed(Rng::Derive(seed, i).Next());
}

}  // namespace kws
