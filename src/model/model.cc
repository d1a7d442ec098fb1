#include "model/model.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "layers/softmax_cross_entropy.h"
#include "model/config.h"
#include "model/graph.h"
#include "util/error.h"

namespace kws {

Model Model::Build(const nlohmann::json& layers_cfg, Shape input, int num_classes, uint64_t seed) {
  if (num_classes < 2) throw UsageError("model: needs at least 2 classes (got " + std::to_string(num_classes) + ")");
  if (input.size() == 0) throw UsageError("model: empty input shape");
  const nlohmann::json layers = ResolveLayers(layers_cfg, num_classes);
  if (layers.empty()) throw UsageError("model.layers: no layers");
  LayerGraph g = MakeLayerGraph(layers);  // names, inputs, order; throws UsageError naming the layer
  Model m;
  m.input_ = input;
  m.classes_ = num_classes;
  m.layers_ = std::move(g.layers);
  m.inputs_ = std::move(g.inputs);
  m.shapes_.push_back(input);
  std::vector<std::vector<Shape>> in_shapes;
  for (size_t i = 0; i < m.layers_.size(); ++i) {
    std::vector<Shape> in;
    for (int p : m.inputs_[i]) in.push_back(m.shapes_[size_t(p + 1)]);
    const Shape s = m.layers_[i]->OutputShapeN(in);  // throws UsageError naming the layer
    if (s.size() == 0) throw UsageError("layer '" + m.layers_[i]->name + "': empty output");
    m.shapes_.push_back(s);
    in_shapes.push_back(std::move(in));
  }
  // Build after all shapes check out, in order, from one seeded stream.
  Rng rng(seed);
  for (size_t i = 0; i < m.layers_.size(); ++i) m.layers_[i]->BuildN(in_shapes[i], rng);
  const Shape s = m.shapes_.back();
  if (s.size() != size_t(num_classes))
    throw UsageError("model: output has " + std::to_string(s.size()) + " values (" + std::to_string(s.h) + "x" +
                     std::to_string(s.w) + "x" + std::to_string(s.c) + ") but there are " +
                     std::to_string(num_classes) + " labels (end with a dense layer)");
  m.acts_.resize(m.layers_.size());
  return m;
}

nlohmann::json Model::LayersConfig() const {
  nlohmann::json j = nlohmann::json::array();
  for (size_t i = 0; i < layers_.size(); ++i) {
    nlohmann::json c = layers_[i]->Config();
    c["name"] = layers_[i]->name;
    nlohmann::json in = InputsJson(layers_, inputs_, i);
    if (!in.is_null()) c["inputs"] = in;
    j.push_back(c);
  }
  j.push_back({{"type", "softmax"}});
  return j;
}

std::vector<int> Model::consumers(int i) const {
  std::vector<int> c;
  for (size_t k = 0; k < inputs_.size(); ++k)
    if (std::find(inputs_[k].begin(), inputs_[k].end(), i) != inputs_[k].end()) c.push_back(int(k));
  return c;
}

bool Model::IsSequential() const {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].size() != 1 || inputs_[i][0] != int(i) - 1) return false;
  return true;
}

void Model::Reserve(int batch) {
  if (batch <= capacity_) return;
  for (size_t i = 0; i < layers_.size(); ++i) acts_[i].assign(size_t(batch) * shapes_[i + 1].size(), 0.0f);
  grad_pool_.clear();
  grad_free_.clear();
  probs_.assign(size_t(batch) * classes_, 0.0f);
  dlogits_.assign(size_t(batch) * classes_, 0.0f);
  labels_.assign(size_t(batch), 0);
  capacity_ = batch;
}

float* Model::TakeGradBuffer() {
  if (grad_free_.empty()) {
    size_t maxsz = input_.size();
    for (const Shape& s : shapes_) maxsz = std::max(maxsz, s.size());
    grad_pool_.push_back(std::make_unique<std::vector<float>>(size_t(capacity_) * maxsz, 0.0f));
    return grad_pool_.back()->data();
  }
  float* b = grad_free_.back();
  grad_free_.pop_back();
  return b;
}

void Model::GiveBackGradBuffer(float* b) { grad_free_.push_back(b); }

const float* Model::Forward(const float* x, int batch, bool training) {
  if (batch < 1) throw InternalError("Model::Forward: batch < 1");
  Reserve(batch);
  input_ptr_ = x;
  std::vector<const float*> in;
  for (size_t i = 0; i < layers_.size(); ++i) {
    in.clear();
    for (int p : inputs_[i]) in.push_back(p < 0 ? x : acts_[size_t(p)].data());
    layers_[i]->ForwardN(in, acts_[i].data(), batch, training);
  }
  return acts_.back().data();
}

float Model::Loss(const int32_t* labels, int batch, const float* soft) {
  std::memcpy(labels_.data(), labels, sizeof(int32_t) * size_t(batch));
  soft_ = soft;
  return softmax_cross_entropy_forward(probs_.data(), acts_.back().data(), labels, batch, classes_, loss_opts_, soft);
}

// Layers in reverse order; a layer's output gradient is complete once every consumer (all later in
// the order) has run. The first consumer to reach a producer writes its gradient buffer directly;
// later ones (fan-out) write a scratch buffer that is then added in: gradients sum, deterministically.
void Model::Backward(int batch) {
  softmax_cross_entropy_backward(dlogits_.data(), probs_.data(), labels_.data(), batch, classes_, loss_opts_, 0, soft_);
  const size_t L = layers_.size();
  std::vector<float*> grad(L, nullptr);
  grad[L - 1] = dlogits_.data();
  std::vector<const float*> xs;
  std::vector<float*> ds, sum_into;
  for (size_t i = L; i-- > 0;) {
    const std::vector<int>& in = inputs_[i];
    xs.assign(in.size(), nullptr), ds.assign(in.size(), nullptr), sum_into.assign(in.size(), nullptr);
    for (size_t k = 0; k < in.size(); ++k) {
      const int p = in[k];
      xs[k] = p < 0 ? input_ptr_ : acts_[size_t(p)].data();
      if (p < 0) continue;  // the model input needs no gradient
      if (!grad[size_t(p)]) {
        ds[k] = grad[size_t(p)] = TakeGradBuffer();
      } else {
        ds[k] = TakeGradBuffer();
        sum_into[k] = grad[size_t(p)];
      }
    }
    layers_[i]->BackwardN(xs, acts_[i].data(), grad[i], ds, batch);
    for (size_t k = 0; k < in.size(); ++k) {
      if (!sum_into[k]) continue;
      const size_t n = size_t(batch) * shapes_[size_t(in[k] + 1)].size();
      for (size_t j = 0; j < n; ++j) sum_into[k][j] += ds[k][j];
      GiveBackGradBuffer(ds[k]);
    }
    if (i != L - 1) GiveBackGradBuffer(grad[i]);
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
  for (size_t i = 0; i < layers_.size(); ++i) {
    std::vector<Shape> in;
    for (int p : inputs_[i]) in.push_back(shapes_[size_t(p + 1)]);
    layers_[i]->input_shapes = in;
    shapes_.push_back(layers_[i]->OutputShapeN(in));
  }
  acts_.assign(layers_.size(), {});
  grad_pool_.clear();
  grad_free_.clear();
  capacity_ = 0;
}

int64_t Model::Macs() const {
  int64_t n = 0;
  for (auto& l : layers_) n += l->Macs();
  return n;
}

namespace {
std::string Thousands(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > (v < 0 ? 1 : 0); i -= 3) s.insert(size_t(i), ",");
  return s;
}
}  // namespace

std::string Model::Summary() {
  const bool graph = !IsSequential();
  char line[320];
  std::string out;
  std::snprintf(line, sizeof line, "%-28s %-18s %-14s %10s %12s%s\n", "layer", "type", "output", "params", "MACs",
                graph ? "  inputs" : "");
  out += line;
  int64_t params = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = *layers_[i];
    int64_t np = 0;
    for (Param* p : l.Params()) np += int64_t(p->value.size());
    for (Param* p : l.Buffers()) np += int64_t(p->value.size());
    params += np;
    const Shape& s = shapes_[i + 1];
    std::string in;
    if (graph)
      for (int p : inputs_[i]) in += (in.empty() ? "  " : ", ") + (p < 0 ? std::string("input") : layers_[size_t(p)]->name);
    const std::string shape = std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
    std::snprintf(line, sizeof line, "%-28s %-18s %-14s %10s %12s%s\n", l.name.c_str(), l.type().c_str(),
                  shape.c_str(), Thousands(np).c_str(), Thousands(l.Macs()).c_str(), in.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "%-28s %-18s %-14s %10s %12s\n", "total", "", "", Thousands(params).c_str(),
                Thousands(Macs()).c_str());
  return out + line;
}

void Model::SetSeed(uint64_t seed) {
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->SetSeed(Rng::Derive(seed, i).Next());
}

}  // namespace kws
