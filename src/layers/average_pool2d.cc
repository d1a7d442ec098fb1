#include "layers/average_pool2d.h"

#include <algorithm>

#include "layers/layer_util.h"

namespace kws {

namespace {
// Window bounds clipped to the input; returns the tap count.
inline int Window(const Conv2DShape& s, int oy, int ox, int& y0, int& y1, int& x0, int& x1) {
  y0 = std::max(oy * s.sh - s.pt, 0), y1 = std::min(oy * s.sh - s.pt + s.kh, s.ih);
  x0 = std::max(ox * s.sw - s.pl, 0), x1 = std::min(ox * s.sw - s.pl + s.kw, s.iw);
  return (y1 - y0) * (x1 - x0);
}
}  // namespace

void average_pool2d_forward(float* out, const float* in, const Conv2DShape& s) {
  const int C = s.ic;
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox) {
        int y0, y1, x0, x1;
        const float inv = 1.0f / float(Window(s, oy, ox, y0, y1, x0, x1));
        float* o = out + ((size_t(n) * s.oh + oy) * s.ow + ox) * C;
        std::fill(o, o + C, 0.0f);
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) {
            const float* x = in + ((size_t(n) * s.ih + iy) * s.iw + ix) * C;
            for (int c = 0; c < C; ++c) o[c] += x[c];
          }
        for (int c = 0; c < C; ++c) o[c] *= inv;
      }
}

void average_pool2d_backward(float* din, const float* dout, const Conv2DShape& s) {
  const int C = s.ic;
  std::fill(din, din + size_t(s.n) * s.ih * s.iw * C, 0.0f);
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox) {
        int y0, y1, x0, x1;
        const float inv = 1.0f / float(Window(s, oy, ox, y0, y1, x0, x1));
        const float* d = dout + ((size_t(n) * s.oh + oy) * s.ow + ox) * C;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) {
            float* g = din + ((size_t(n) * s.ih + iy) * s.iw + ix) * C;
            for (int c = 0; c < C; ++c) g[c] += d[c] * inv;
          }
      }
}

Shape AveragePool2DLayer::OutputShape(const Shape& in) const {
  Conv2DShape s = MakeConv2DShape(in, ph, pw, sh, sw, same, in.c, "layer '" + (name.empty() ? type() : name) + "'");
  return {s.oh, s.ow, s.oc};
}
Conv2DShape AveragePool2DLayer::Geometry(int batch) const {
  Conv2DShape s = MakeConv2DShape(input_shape, ph, pw, sh, sw, same, input_shape.c, "layer '" + name + "'");
  s.n = batch;
  return s;
}
void AveragePool2DLayer::Build(const Shape& in, Rng& rng) {
  OutputShape(in);
  input_shape = in;
}
void AveragePool2DLayer::Forward(const float* in, float* out, int batch, bool training) {
  average_pool2d_forward(out, in, Geometry(batch));
}
void AveragePool2DLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  if (din) average_pool2d_backward(din, dout, Geometry(batch));
}
nlohmann::json AveragePool2DLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"pool_size", {ph, pw}}, {"strides", {sh, sw}},
                      {"padding", same ? "same" : "valid"}};
  if (!name.empty()) j["name"] = name;
  return j;
}
std::unique_ptr<Layer> MakeAveragePool2DLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<AveragePool2DLayer>();
  l->name = c.name();
  auto p = c.Pair("pool_size", {2, 2}, 1);
  auto st = c.Pair("strides", p, 1);  // Keras: strides default to pool_size
  l->ph = p[0], l->pw = p[1], l->sh = st[0], l->sw = st[1];
  l->same = c.Choice("padding", "valid", {"same", "valid"}) == "same";
  c.Finish();
  return l;
}

}  // namespace kws
