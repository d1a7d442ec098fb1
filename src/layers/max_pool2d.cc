#include "layers/max_pool2d.h"

#include <algorithm>
#include <limits>

#include "layers/layer_util.h"

namespace kws {

void max_pool2d_forward(float* out, const float* in, const Conv2DShape& s) {
  const int C = s.ic;
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox) {
        float* o = out + ((size_t(n) * s.oh + oy) * s.ow + ox) * C;
        std::fill(o, o + C, -std::numeric_limits<float>::infinity());
        for (int iy = std::max(oy * s.sh - s.pt, 0); iy < std::min(oy * s.sh - s.pt + s.kh, s.ih); ++iy)
          for (int ix = std::max(ox * s.sw - s.pl, 0); ix < std::min(ox * s.sw - s.pl + s.kw, s.iw); ++ix) {
            const float* x = in + ((size_t(n) * s.ih + iy) * s.iw + ix) * C;
            for (int c = 0; c < C; ++c) o[c] = std::max(o[c], x[c]);
          }
      }
}

void max_pool2d_backward(float* din, const float* dout, const float* in, const Conv2DShape& s) {
  const int C = s.ic;
  std::fill(din, din + size_t(s.n) * s.ih * s.iw * C, 0.0f);
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox) {
        const float* d = dout + ((size_t(n) * s.oh + oy) * s.ow + ox) * C;
        for (int c = 0; c < C; ++c) {
          float best = -std::numeric_limits<float>::infinity();
          size_t arg = 0;
          for (int iy = std::max(oy * s.sh - s.pt, 0); iy < std::min(oy * s.sh - s.pt + s.kh, s.ih); ++iy)
            for (int ix = std::max(ox * s.sw - s.pl, 0); ix < std::min(ox * s.sw - s.pl + s.kw, s.iw); ++ix) {
              size_t i = ((size_t(n) * s.ih + iy) * s.iw + ix) * C + c;
              if (in[i] > best) best = in[i], arg = i;
            }
          din[arg] += d[c];
        }
      }
}

Shape MaxPool2DLayer::OutputShape(const Shape& in) const {
  Conv2DShape s = MakeConv2DShape(in, ph, pw, sh, sw, same, in.c, "layer '" + (name.empty() ? type() : name) + "'");
  return {s.oh, s.ow, s.oc};
}
Conv2DShape MaxPool2DLayer::Geometry(int batch) const {
  Conv2DShape s = MakeConv2DShape(input_shape, ph, pw, sh, sw, same, input_shape.c, "layer '" + name + "'");
  s.n = batch;
  return s;
}
void MaxPool2DLayer::Build(const Shape& in, Rng& rng) {
  OutputShape(in);
  input_shape = in;
}
void MaxPool2DLayer::Forward(const float* in, float* out, int batch, bool training) {
  max_pool2d_forward(out, in, Geometry(batch));
}
void MaxPool2DLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  if (din) max_pool2d_backward(din, dout, in, Geometry(batch));
}
nlohmann::json MaxPool2DLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"pool_size", {ph, pw}}, {"strides", {sh, sw}},
                      {"padding", same ? "same" : "valid"}};
  if (!name.empty()) j["name"] = name;
  return j;
}
std::unique_ptr<Layer> MakeMaxPool2DLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<MaxPool2DLayer>();
  l->name = c.name();
  auto p = c.Pair("pool_size", {2, 2}, 1);
  auto st = c.Pair("strides", p, 1);
  l->ph = p[0], l->pw = p[1], l->sh = st[0], l->sw = st[1];
  l->same = c.Choice("padding", "valid", {"same", "valid"}) == "same";
  c.Finish();
  return l;
}

}  // namespace kws
