#include "layers/mean.h"

#include <algorithm>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

void mean_axis_forward(float* out, const float* in, long outer, int len, int inner) {
  const float inv = 1.0f / float(len);
  ParallelForWork(outer, outer * len * inner, [&](long b, long e, int) {
    for (long o = b; o < e; ++o) {
      float* __restrict y = out + size_t(o) * inner;
      const float* x = in + size_t(o) * len * inner;
      std::fill(y, y + inner, 0.0f);
      for (int l = 0; l < len; ++l, x += inner)
        for (int i = 0; i < inner; ++i) y[i] += x[i];
      for (int i = 0; i < inner; ++i) y[i] *= inv;
    }
  });
}

void mean_axis_backward(float* din, const float* dout, long outer, int len, int inner) {
  const float inv = 1.0f / float(len);
  ParallelForWork(outer, outer * len * inner, [&](long b, long e, int) {
    for (long o = b; o < e; ++o) {
      const float* d = dout + size_t(o) * inner;
      float* __restrict g = din + size_t(o) * len * inner;
      for (int l = 0; l < len; ++l, g += inner)
        for (int i = 0; i < inner; ++i) g[i] = d[i] * inv;
    }
  });
}

void MeanLayer::Forward(const float* in, float* out, int batch, bool) {
  const Shape& s = input_shape;
  if (over_w) mean_axis_forward(out, in, long(batch) * s.h, s.w, s.c);
  else mean_axis_forward(out, in, batch, s.h, s.w * s.c);
}

void MeanLayer::Backward(const float*, const float*, const float* dout, float* din, int batch) {
  if (!din) return;
  const Shape& s = input_shape;
  if (over_w) mean_axis_backward(din, dout, long(batch) * s.h, s.w, s.c);
  else mean_axis_backward(din, dout, batch, s.h, s.w * s.c);
}

nlohmann::json MeanLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"axis", over_w ? "w" : "h"}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeMeanLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<MeanLayer>();
  l->name = c.name();
  l->over_w = c.Choice("axis", "", {"h", "w"}) == "w";
  if (!c.Has("axis")) c.Fail("missing required field 'axis' (\"h\" or \"w\")");
  c.Finish();
  return l;
}

}  // namespace kws
