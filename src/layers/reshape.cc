#include "layers/reshape.h"

#include <cstring>

#include "layers/layer_util.h"

namespace kws {

Shape ReshapeLayer::OutputShape(const Shape& in) const {
  const std::string where = "layer '" + (name.empty() ? type() : name) + "'";
  Shape o{h, w, c};
  int* dims[3] = {&o.h, &o.w, &o.c};
  size_t known = 1;
  int* infer = nullptr;
  for (int* d : dims) {
    if (*d == -1) infer = d;
    else known *= size_t(*d);
  }
  if (infer && known > 0 && in.size() % known == 0) *infer = int(in.size() / known);
  if (o.size() != in.size() || o.h < 1 || o.w < 1 || o.c < 1)
    throw UsageError(where + ": cannot reshape " + std::to_string(in.h) + "x" + std::to_string(in.w) + "x" +
                     std::to_string(in.c) + " (" + std::to_string(in.size()) + " values) to " + std::to_string(h) +
                     "x" + std::to_string(w) + "x" + std::to_string(c));
  return o;
}

void ReshapeLayer::Build(const Shape& in, Rng&) {
  OutputShape(in);
  input_shape = in;
}

void ReshapeLayer::Forward(const float* in, float* out, int batch, bool) {
  std::memcpy(out, in, sizeof(float) * size_t(batch) * input_shape.size());
}

void ReshapeLayer::Backward(const float*, const float*, const float* dout, float* din, int batch) {
  if (din) std::memcpy(din, dout, sizeof(float) * size_t(batch) * input_shape.size());
}

nlohmann::json ReshapeLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"shape", {h, w, c}}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeReshapeLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<ReshapeLayer>();
  l->name = c.name();
  const nlohmann::json& s = c.Has("shape") ? c.Raw("shape") : nlohmann::json();
  if (!s.is_array() || s.size() != 3) c.Fail("field 'shape' must be [height, width, channels]");
  int inferred = 0;
  int* dims[3] = {&l->h, &l->w, &l->c};
  for (int i = 0; i < 3; ++i) {
    if (!s[i].is_number_integer() || (s[i].get<long long>() < 1 && s[i].get<long long>() != -1) ||
        s[i].get<long long>() > 1000000)
      c.Fail("field 'shape' entries must be >= 1 (or one -1, inferred)");
    *dims[i] = int(s[i].get<long long>());
    inferred += *dims[i] == -1;
  }
  if (inferred > 1) c.Fail("field 'shape': at most one entry may be -1");
  c.Finish();
  return l;
}

}  // namespace kws
