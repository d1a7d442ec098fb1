#include "layers/depthwise_conv2d.h"

#include <algorithm>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

namespace {
// One sample. s.ic = C, s.oc = C*DM.
void dw_forward_one(float* out, const float* in, const float* weight, const float* bias, const Conv2DShape& s) {
  const int C = s.ic, DM = s.oc / s.ic;
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      float* o = out + (size_t(oy) * s.ow + ox) * s.oc;
      for (int k = 0; k < s.oc; ++k) o[k] = bias ? bias[k] : 0.0f;
      for (int ky = 0; ky < s.kh; ++ky) {
        int iy = oy * s.sh + ky * s.dh - s.pt;
        if (iy < 0 || iy >= s.ih) continue;
        for (int kx = 0; kx < s.kw; ++kx) {
          int ix = ox * s.sw + kx * s.dw - s.pl;
          if (ix < 0 || ix >= s.iw) continue;
          const float* x = in + (size_t(iy) * s.iw + ix) * C;
          const float* w = weight + (size_t(ky) * s.kw + kx) * s.oc;  // (C, DM) slice, contiguous
          for (int c = 0; c < C; ++c)
            for (int m = 0; m < DM; ++m) o[c * DM + m] += x[c] * w[c * DM + m];
        }
      }
    }
}

void dw_backward_one(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2DShape& s) {
  const int C = s.ic, DM = s.oc / s.ic;
  if (din) std::fill(din, din + size_t(s.ih) * s.iw * C, 0.0f);
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      const float* d = dout + (size_t(oy) * s.ow + ox) * s.oc;
      if (dbias)
        for (int k = 0; k < s.oc; ++k) dbias[k] += d[k];
      for (int ky = 0; ky < s.kh; ++ky) {
        int iy = oy * s.sh + ky * s.dh - s.pt;
        if (iy < 0 || iy >= s.ih) continue;
        for (int kx = 0; kx < s.kw; ++kx) {
          int ix = ox * s.sw + kx * s.dw - s.pl;
          if (ix < 0 || ix >= s.iw) continue;
          size_t xi = (size_t(iy) * s.iw + ix) * C, wi = (size_t(ky) * s.kw + kx) * s.oc;
          for (int c = 0; c < C; ++c)
            for (int m = 0; m < DM; ++m) {
              dweight[wi + c * DM + m] += in[xi + c] * d[c * DM + m];
              if (din) din[xi + c] += weight[wi + c * DM + m] * d[c * DM + m];
            }
        }
      }
    }
}
}  // namespace

void depthwise_conv2d_forward(float* out, const float* in, const float* weight, const float* bias,
                              const Conv2DShape& s) {
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = size_t(s.oh) * s.ow * s.oc;
  ParallelFor(s.n, [&](long b, long e, int) {
    for (long n = b; n < e; ++n) dw_forward_one(out + n * out_sz, in + n * in_sz, weight, bias, s);
  });
}

void depthwise_conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                               const float* weight, const Conv2DShape& s, std::vector<std::vector<float>>* partials) {
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = size_t(s.oh) * s.ow * s.oc;
  const size_t wn = size_t(s.kh) * s.kw * s.oc, chunks = size_t(NumThreads());
  std::vector<std::vector<float>> local;
  auto& part = partials ? *partials : local;
  if (part.size() < chunks) part.resize(chunks);
  std::vector<char> used(chunks, 0);
  ParallelFor(s.n, [&](long b, long e, int c) {
    used[c] = 1;
    auto& p = part[c];
    p.assign(wn + s.oc, 0.0f);  // dweight partial, then dbias partial
    for (long n = b; n < e; ++n)
      dw_backward_one(din ? din + n * in_sz : nullptr, p.data(), p.data() + wn, dout + n * out_sz, in + n * in_sz,
                      weight, s);
  });
  for (size_t c = 0; c < chunks; ++c) {
    if (!used[c]) continue;
    for (size_t i = 0; i < wn; ++i) dweight[i] += part[c][i];
    if (dbias)
      for (int k = 0; k < s.oc; ++k) dbias[k] += part[c][wn + k];
  }
}

Shape DepthwiseConv2DLayer::OutputShape(const Shape& in) const {
  Conv2DShape s = MakeConv2DShape(in, kh, kw, sh, sw, same, same_w, dh, dw, in.c * depth_multiplier,
                                  "layer '" + (name.empty() ? type() : name) + "'");
  return {s.oh, s.ow, s.oc};
}

Conv2DShape DepthwiseConv2DLayer::Geometry(int batch) const {
  Conv2DShape s = MakeConv2DShape(input_shape, kh, kw, sh, sw, same, same_w, dh, dw, input_shape.c * depth_multiplier,
                                  "layer '" + name + "'");
  s.n = batch;
  return s;
}

int64_t DepthwiseConv2DLayer::Macs() const {
  const Shape o = OutputShape(input_shape);
  return int64_t(o.h) * o.w * o.c * kh * kw;
}

void DepthwiseConv2DLayer::Build(const Shape& in, Rng& rng) {
  OutputShape(in);
  input_shape = in;
  kernel = MakeParam(name + "/depthwise_kernel", {kh, kw, in.c, depth_multiplier}, true, false);
  // Keras computes fans from the kernel shape (KH,KW,C,DM): fan_in = KH*KW*C, fan_out = KH*KW*DM.
  GlorotUniform(kernel.value, double(kh) * kw * in.c, double(kh) * kw * depth_multiplier, rng);
  if (use_bias) bias = MakeParam(name + "/bias", {in.c * depth_multiplier}, true, false);
}

void DepthwiseConv2DLayer::Forward(const float* in, float* out, int batch, bool training) {
  depthwise_conv2d_forward(out, in, kernel.value.data(), use_bias ? bias.value.data() : nullptr, Geometry(batch));
}

void DepthwiseConv2DLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  depthwise_conv2d_backward(din, kernel.grad.data(), use_bias ? bias.grad.data() : nullptr, dout, in,
                            kernel.value.data(), Geometry(batch), &partials_);
}

std::vector<Param*> DepthwiseConv2DLayer::Params() {
  if (use_bias) return {&kernel, &bias};
  return {&kernel};
}

nlohmann::json DepthwiseConv2DLayer::Config() const {
  nlohmann::json j = {{"type", type()},       {"kernel", {kh, kw}},  {"strides", {sh, sw}},
                      {"padding", PaddingJson(same, same_w)}, {"depth_multiplier", depth_multiplier},
                      {"use_bias", use_bias}};
  if (dh != 1 || dw != 1) j["dilation"] = {dh, dw};  // absent at 1: configs without it stay byte-identical
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeDepthwiseConv2DLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<DepthwiseConv2DLayer>();
  l->name = c.name();
  auto k = c.Pair("kernel", {0, 0}, 1);
  auto st = c.Pair("strides", {1, 1}, 1);
  auto di = c.Pair("dilation", {1, 1}, 1);
  l->kh = k[0], l->kw = k[1], l->sh = st[0], l->sw = st[1], l->dh = di[0], l->dw = di[1];
  ReadPadding(c, &l->same, &l->same_w);
  l->depth_multiplier = c.Int("depth_multiplier", 1, 1);
  l->use_bias = c.Bool("use_bias", true);
  if ((l->dh > 1 && l->sh > 1) || (l->dw > 1 && l->sw > 1))
    c.Fail("dilation > 1 with stride > 1 on the same axis is not supported (as in tf.nn.depthwise_conv2d)");
  c.Finish();
  return l;
}

}  // namespace kws
