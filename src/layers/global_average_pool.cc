#include "layers/global_average_pool.h"

#include "layers/layer_util.h"

namespace kws {

void global_average_pool_forward(float* out, const float* in, int N, int HW, int C) {
  const float inv = 1.0f / float(HW);
  for (int n = 0; n < N; ++n) {
    float* o = out + size_t(n) * C;
    for (int c = 0; c < C; ++c) o[c] = 0.0f;
    for (int p = 0; p < HW; ++p) {
      const float* x = in + (size_t(n) * HW + p) * C;
      for (int c = 0; c < C; ++c) o[c] += x[c];
    }
    for (int c = 0; c < C; ++c) o[c] *= inv;
  }
}

void global_average_pool_backward(float* din, const float* dout, int N, int HW, int C) {
  const float inv = 1.0f / float(HW);
  for (int n = 0; n < N; ++n)
    for (int p = 0; p < HW; ++p) {
      float* d = din + (size_t(n) * HW + p) * C;
      for (int c = 0; c < C; ++c) d[c] = dout[size_t(n) * C + c] * inv;
    }
}

void GlobalAveragePoolLayer::Forward(const float* in, float* out, int batch, bool training) {
  global_average_pool_forward(out, in, batch, input_shape.h * input_shape.w, input_shape.c);
}

void GlobalAveragePoolLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  if (din) global_average_pool_backward(din, dout, batch, input_shape.h * input_shape.w, input_shape.c);
}

nlohmann::json GlobalAveragePoolLayer::Config() const {
  nlohmann::json j = {{"type", type()}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeGlobalAveragePoolLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<GlobalAveragePoolLayer>();
  l->name = c.name();
  c.Finish();
  return l;
}

}  // namespace kws
