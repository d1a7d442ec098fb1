#include "layers/swish.h"

#include <cmath>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

void swish_forward(float* __restrict out, const float* __restrict in, size_t n) {
  ParallelForWork(long(n), long(n) * 4, [&](long b, long e, int) {
    for (long i = b; i < e; ++i) {
      const float x = in[i];
      out[i] = x / (1.0f + std::exp(-x));
    }
  });
}

void swish_backward(float* __restrict din, const float* __restrict dout, const float* __restrict in, size_t n) {
  ParallelForWork(long(n), long(n) * 4, [&](long b, long e, int) {
    for (long i = b; i < e; ++i) {
      const float x = in[i], s = 1.0f / (1.0f + std::exp(-x));
      din[i] = dout[i] * (s * (1.0f + x * (1.0f - s)));
    }
  });
}

void SwishLayer::Forward(const float* in, float* out, int batch, bool) {
  swish_forward(out, in, size_t(batch) * input_shape.size());
}

void SwishLayer::Backward(const float* in, const float*, const float* dout, float* din, int batch) {
  if (din) swish_backward(din, dout, in, size_t(batch) * input_shape.size());
}

nlohmann::json SwishLayer::Config() const {
  nlohmann::json j = {{"type", type()}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeSwishLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<SwishLayer>();
  l->name = c.name();
  c.Finish();
  return l;
}

}  // namespace kws
