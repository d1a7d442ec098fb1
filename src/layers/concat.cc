#include "layers/concat.h"

#include <cstring>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

void concat_forward(float* out, const std::vector<const float*>& in, const std::vector<int>& channels, long pixels) {
  int total = 0;
  for (int c : channels) total += c;
  ParallelForWork(pixels, pixels * total, [&](long b, long e, int) {
    for (long p = b; p < e; ++p) {
      float* o = out + size_t(p) * total;
      for (size_t k = 0; k < in.size(); ++k) {
        std::memcpy(o, in[k] + size_t(p) * channels[k], sizeof(float) * size_t(channels[k]));
        o += channels[k];
      }
    }
  });
}

void concat_backward(const std::vector<float*>& din, const float* dout, const std::vector<int>& channels,
                     long pixels) {
  int total = 0;
  for (int c : channels) total += c;
  ParallelForWork(pixels, pixels * total, [&](long b, long e, int) {
    for (long p = b; p < e; ++p) {
      const float* d = dout + size_t(p) * total;
      for (size_t k = 0; k < din.size(); ++k) {
        if (din[k]) std::memcpy(din[k] + size_t(p) * channels[k], d, sizeof(float) * size_t(channels[k]));
        d += channels[k];
      }
    }
  });
}

Shape ConcatLayer::OutputShape(const Shape& in) const { return OutputShapeN({in}); }

Shape ConcatLayer::OutputShapeN(const std::vector<Shape>& in) const {
  CheckInputCount(*this, in.size());
  Shape o = in[0];
  o.c = 0;
  for (const Shape& s : in) {
    if (s.h != in[0].h || s.w != in[0].w)
      throw UsageError("layer '" + (name.empty() ? type() : name) + "': cannot concatenate " +
                       std::to_string(in[0].h) + "x" + std::to_string(in[0].w) + " and " + std::to_string(s.h) +
                       "x" + std::to_string(s.w) + " inputs (concat joins channels; height and width must match)");
    o.c += s.c;
  }
  return o;
}

void ConcatLayer::Build(const Shape& in, Rng& rng) { BuildN({in}, rng); }

void ConcatLayer::BuildN(const std::vector<Shape>& in, Rng&) {
  OutputShapeN(in);
  input_shapes = in;
  input_shape = in[0];
}

std::vector<int> ConcatLayer::Channels() const {
  std::vector<int> c;
  for (const Shape& s : input_shapes) c.push_back(s.c);
  return c;
}

void ConcatLayer::Forward(const float*, float*, int, bool) { CheckInputCount(*this, 1); }
void ConcatLayer::Backward(const float*, const float*, const float*, float*, int) { CheckInputCount(*this, 1); }

void ConcatLayer::ForwardN(const std::vector<const float*>& in, float* out, int batch, bool) {
  concat_forward(out, in, Channels(), long(batch) * input_shape.h * input_shape.w);
}

void ConcatLayer::BackwardN(const std::vector<const float*>&, const float*, const float* dout,
                            const std::vector<float*>& din, int batch) {
  concat_backward(din, dout, Channels(), long(batch) * input_shape.h * input_shape.w);
}

nlohmann::json ConcatLayer::Config() const {
  nlohmann::json j = {{"type", type()}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeConcatLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<ConcatLayer>();
  l->name = c.name();
  c.Choice("axis", "channels", {"channels"});
  c.Finish();
  return l;
}

}  // namespace kws
