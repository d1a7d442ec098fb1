#include "layers/hard_swish.h"

#include <algorithm>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

void hard_swish_forward(float* __restrict out, const float* __restrict in, size_t n) {
  ParallelForWork(long(n), long(n) * 4, [&](long b, long e, int) {
    for (long i = b; i < e; ++i) {
      const float x = in[i];
      out[i] = x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    }
  });
}

void hard_swish_backward(float* __restrict din, const float* __restrict dout, const float* __restrict in, size_t n) {
  ParallelForWork(long(n), long(n) * 4, [&](long b, long e, int) {
    for (long i = b; i < e; ++i) {
      const float x = in[i];
      const float g = x < -3.0f ? 0.0f : (x <= 3.0f ? x / 3.0f + 0.5f : 1.0f);
      din[i] = dout[i] * g;
    }
  });
}

void HardSwishLayer::Forward(const float* in, float* out, int batch, bool) {
  hard_swish_forward(out, in, size_t(batch) * input_shape.size());
}

void HardSwishLayer::Backward(const float* in, const float*, const float* dout, float* din, int batch) {
  if (din) hard_swish_backward(din, dout, in, size_t(batch) * input_shape.size());
}

nlohmann::json HardSwishLayer::Config() const {
  nlohmann::json j = {{"type", type()}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeHardSwishLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<HardSwishLayer>();
  l->name = c.name();
  c.Finish();
  return l;
}

}  // namespace kws
