#include "layers/depthwise_conv2d.h"

#include <algorithm>

#include "layers/gemm.h"
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

void depthwise_conv2d_forward_ref(float* out, const float* in, const float* weight, const float* bias,
                                  const Conv2DShape& s) {
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = size_t(s.oh) * s.ow * s.oc;
  for (int n = 0; n < s.n; ++n) dw_forward_one(out + n * out_sz, in + n * in_sz, weight, bias, s);
}

void depthwise_conv2d_backward_ref(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                                   const float* weight, const Conv2DShape& s) {
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = size_t(s.oh) * s.ow * s.oc;
  std::vector<float> db(size_t(s.oc), 0.0f);
  for (int n = 0; n < s.n; ++n)
    dw_backward_one(din ? din + n * in_sz : nullptr, dweight, db.data(), dout + n * out_sz, in + n * in_sz, weight, s);
  if (dbias)
    for (int k = 0; k < s.oc; ++k) dbias[k] += db[size_t(k)];
}

// ---------------------------------------------------------------------------
// Fast path for depth multiplier 1 (every depthwise layer of the zoo): whole rows at a time.
// Each output (input gradient, weight gradient) element receives the same additions in the same
// order as the per-pixel loops above, as separate multiplies and adds (no FMA), so results are
// bit-identical to them; the AVX2 build of the row loop only processes 8 lanes at once.
// ---------------------------------------------------------------------------
namespace {

using RowFn = void (*)(float*, const float*, const float*, size_t);

// o[i] += x[i] * w[i]
void MulAddRowPlain(float* __restrict o, const float* __restrict x, const float* __restrict w, size_t n) {
  for (size_t i = 0; i < n; ++i) o[i] += x[i] * w[i];
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) void MulAddRowAvx2(float* __restrict o, const float* __restrict x,
                                                   const float* __restrict w, size_t n) {
  for (size_t i = 0; i < n; ++i) o[i] += x[i] * w[i];
}
#endif

RowFn MulAddRow() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (GemmUsesAvx2()) return MulAddRowAvx2;
#endif
  return MulAddRowPlain;
}

// The weights of each tap repeated `len` times along a row: tiled[tap][p*C + c] = w[tap*C + c].
void TileWeights(std::vector<float>& tiled, const float* w, int taps, int C, int len) {
  tiled.resize(size_t(taps) * len * C);
  for (int t = 0; t < taps; ++t)
    for (int p = 0; p < len; ++p) std::copy(w + size_t(t) * C, w + size_t(t + 1) * C, &tiled[(size_t(t) * len + p) * C]);
}

// Output columns ox whose tap kx reads inside the input: [*x0, *x1).
void ValidColumns(const Conv2DShape& s, int kx, int* x0, int* x1) {
  const int off = kx * s.dw - s.pl;  // ix = ox*sw + off
  *x0 = off >= 0 ? 0 : (-off + s.sw - 1) / s.sw;
  *x1 = s.iw - off <= 0 ? 0 : std::min(s.ow, (s.iw - off + s.sw - 1) / s.sw);
}

// One example's output, DM = 1: each row starts at the bias, then every tap in (ky, kx) order.
void dw1_forward_one(float* out, const float* in, const float* tiled, const float* w, const float* bias,
                     const Conv2DShape& s, RowFn row) {
  const int C = s.ic;
  for (int oy = 0; oy < s.oh; ++oy) {
    float* o = out + size_t(oy) * s.ow * C;
    for (int ox = 0; ox < s.ow; ++ox)
      for (int c = 0; c < C; ++c) o[size_t(ox) * C + c] = bias ? bias[c] : 0.0f;
    for (int ky = 0; ky < s.kh; ++ky) {
      const int iy = oy * s.sh + ky * s.dh - s.pt;
      if (iy < 0 || iy >= s.ih) continue;
      const float* xr = in + size_t(iy) * s.iw * C;
      for (int kx = 0; kx < s.kw; ++kx) {
        int x0, x1;
        ValidColumns(s, kx, &x0, &x1);
        const int tap = ky * s.kw + kx, off = kx * s.dw - s.pl;
        if (s.sw == 1) {
          if (x1 > x0) row(o + size_t(x0) * C, xr + size_t(x0 + off) * C, tiled + (size_t(tap) * s.ow + x0) * C, size_t(x1 - x0) * C);
        } else {
          for (int ox = x0; ox < x1; ++ox) row(o + size_t(ox) * C, xr + size_t(ox * s.sw + off) * C, w + size_t(tap) * C, C);
        }
      }
    }
  }
}

// One example's input gradient, DM = 1, stride 1, as a gather: din[iy, ix] sums its taps in the order the
// per-pixel scatter reaches it (output pixels ascending = ky, then kx, descending).
void dw1_input_grad_one(float* din, const float* dout, const float* tiled, const Conv2DShape& s, RowFn row) {
  const int C = s.ic;
  for (int iy = 0; iy < s.ih; ++iy) {
    float* g = din + size_t(iy) * s.iw * C;
    std::fill(g, g + size_t(s.iw) * C, 0.0f);
    for (int ky = s.kh - 1; ky >= 0; --ky) {
      const int oy = iy + s.pt - ky * s.dh;
      if (oy < 0 || oy >= s.oh) continue;
      const float* d = dout + size_t(oy) * s.ow * C;
      for (int kx = s.kw - 1; kx >= 0; --kx) {
        const int off = s.pl - kx * s.dw;  // ox = ix + off
        const int x0 = std::max(0, -off), x1 = std::min(s.iw, s.ow - off);
        if (x1 > x0)
          row(g + size_t(x0) * C, d + size_t(x0 + off) * C, tiled + (size_t(ky * s.kw + kx) * s.iw + x0) * C,
              size_t(x1 - x0) * C);
      }
    }
  }
}

// One example's weight and bias gradients, DM = 1: per tap, output pixels in (oy, ox) order.
inline __attribute__((always_inline)) void dw1_weight_grad_body(float* dw, float* db, const float* dout,
                                                               const float* in, const Conv2DShape& s) {
  const int C = s.ic;
  for (int oy = 0; oy < s.oh; ++oy) {
    const float* d = dout + size_t(oy) * s.ow * C;
    if (db)
      for (int ox = 0; ox < s.ow; ++ox)
        for (int c = 0; c < C; ++c) db[c] += d[size_t(ox) * C + c];
    for (int ky = 0; ky < s.kh; ++ky) {
      const int iy = oy * s.sh + ky * s.dh - s.pt;
      if (iy < 0 || iy >= s.ih) continue;
      const float* xr = in + size_t(iy) * s.iw * C;
      for (int kx = 0; kx < s.kw; ++kx) {
        int x0, x1;
        ValidColumns(s, kx, &x0, &x1);
        float* __restrict acc = dw + size_t(ky * s.kw + kx) * C;
        for (int ox = x0; ox < x1; ++ox) {
          const float* __restrict x = xr + size_t(ox * s.sw + kx * s.dw - s.pl) * C;
          const float* __restrict g = d + size_t(ox) * C;
          for (int c = 0; c < C; ++c) acc[c] += x[c] * g[c];
        }
      }
    }
  }
}
void dw1_weight_grad_plain(float* dw, float* db, const float* dout, const float* in, const Conv2DShape& s) {
  dw1_weight_grad_body(dw, db, dout, in, s);
}
#if defined(__x86_64__) && defined(__GNUC__)
// The same loops built for AVX2 (no FMA: identical results), 8 channels per instruction.
__attribute__((target("avx2"))) void dw1_weight_grad_avx2(float* dw, float* db, const float* dout, const float* in,
                                                          const Conv2DShape& s) {
  dw1_weight_grad_body(dw, db, dout, in, s);
}
#endif
void dw1_weight_grad_one(float* dw, float* db, const float* dout, const float* in, const Conv2DShape& s) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (GemmUsesAvx2()) return dw1_weight_grad_avx2(dw, db, dout, in, s);
#endif
  dw1_weight_grad_plain(dw, db, dout, in, s);
}

// One example's input gradient, DM = 1, any stride: the reference's per-pixel scatter, input gradient only.
void dw1_input_grad_scatter_one(float* din, const float* dout, const float* w, const Conv2DShape& s, RowFn row) {
  const int C = s.ic;
  std::fill(din, din + size_t(s.ih) * s.iw * C, 0.0f);
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      const float* d = dout + (size_t(oy) * s.ow + ox) * C;
      for (int ky = 0; ky < s.kh; ++ky) {
        const int iy = oy * s.sh + ky * s.dh - s.pt;
        if (iy < 0 || iy >= s.ih) continue;
        for (int kx = 0; kx < s.kw; ++kx) {
          const int ix = ox * s.sw + kx * s.dw - s.pl;
          if (ix < 0 || ix >= s.iw) continue;
          row(din + (size_t(iy) * s.iw + ix) * C, d, w + size_t(ky * s.kw + kx) * C, size_t(C));
        }
      }
    }
}

}  // namespace

void depthwise_conv2d_forward(float* out, const float* in, const float* weight, const float* bias,
                              const Conv2DShape& s) {
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = size_t(s.oh) * s.ow * s.oc;
  if (s.oc != s.ic) {  // depth multiplier > 1: the per-pixel loops
    ParallelFor(s.n, [&](long b, long e, int) {
      for (long n = b; n < e; ++n) dw_forward_one(out + n * out_sz, in + n * in_sz, weight, bias, s);
    });
    return;
  }
  std::vector<float> tiled;
  TileWeights(tiled, weight, s.kh * s.kw, s.ic, s.ow);
  const RowFn row = MulAddRow();
  ParallelFor(s.n, [&](long b, long e, int) {
    for (long n = b; n < e; ++n) dw1_forward_one(out + n * out_sz, in + n * in_sz, tiled.data(), weight, bias, s, row);
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
  const bool dm1 = s.oc == s.ic, gather = dm1 && s.sh == 1 && s.sw == 1;
  std::vector<float> tiled;
  if (gather && din) TileWeights(tiled, weight, s.kh * s.kw, s.ic, s.iw);
  const RowFn row = MulAddRow();
  ParallelFor(s.n, [&](long b, long e, int c) {
    used[c] = 1;
    auto& p = part[c];
    p.assign(wn + s.oc, 0.0f);  // dweight partial, then dbias partial
    for (long n = b; n < e; ++n) {
      float* dx = din ? din + n * in_sz : nullptr;
      if (!dm1) {
        dw_backward_one(dx, p.data(), p.data() + wn, dout + n * out_sz, in + n * in_sz, weight, s);
        continue;
      }
      dw1_weight_grad_one(p.data(), p.data() + wn, dout + n * out_sz, in + n * in_sz, s);
      if (!dx) continue;
      if (gather) dw1_input_grad_one(dx, dout + n * out_sz, tiled.data(), s, row);
      else dw1_input_grad_scatter_one(dx, dout + n * out_sz, weight, s, row);
    }
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
