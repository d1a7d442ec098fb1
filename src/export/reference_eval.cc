#include "export/reference_eval.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/error.h"

namespace kws::ir {

namespace {

float Act(double v, Activation a) {
  switch (a) {
    case Activation::kRelu: return float(std::max(v, 0.0));
    case Activation::kRelu6: return float(std::min(std::max(v, 0.0), 6.0));
    case Activation::kNone: break;
  }
  return float(v);
}

void Conv(const Op& op, const std::vector<int>& is, const std::vector<int>& os, const float* in, float* out) {
  const int H = is[1], W = is[2], C = is[3];
  const int OH = os[1], OW = os[2], O = os[3];
  const int KH = op.weight_dims[1], KW = op.weight_dims[2];
  const int pt = PadBefore(H, KH, op.stride_h, op.padding), pl = PadBefore(W, KW, op.stride_w, op.padding);
  const bool dw = op.kind == OpKind::kDepthwiseConv2D;
  const int M = op.depth_multiplier;
  for (int oy = 0; oy < OH; ++oy)
    for (int ox = 0; ox < OW; ++ox)
      for (int o = 0; o < O; ++o) {
        double acc = op.bias[o];
        for (int ky = 0; ky < KH; ++ky) {
          int iy = oy * op.stride_h - pt + ky;
          if (iy < 0 || iy >= H) continue;
          for (int kx = 0; kx < KW; ++kx) {
            int ix = ox * op.stride_w - pl + kx;
            if (ix < 0 || ix >= W) continue;
            const float* px = in + (size_t(iy) * W + ix) * C;
            if (dw) {
              acc += double(px[o / M]) * op.weights[(size_t(ky) * KW + kx) * O + o];
            } else {
              const float* pw = op.weights.data() + ((size_t(o) * KH + ky) * KW + kx) * C;
              for (int c = 0; c < C; ++c) acc += double(px[c]) * pw[c];
            }
          }
        }
        out[(size_t(oy) * OW + ox) * O + o] = Act(acc, op.activation);
      }
}

void Pool(const Op& op, const std::vector<int>& is, const std::vector<int>& os, const float* in, float* out) {
  const int H = is[1], W = is[2], C = is[3], OH = os[1], OW = os[2];
  const int pt = PadBefore(H, op.filter_h, op.stride_h, op.padding);
  const int pl = PadBefore(W, op.filter_w, op.stride_w, op.padding);
  const bool avg = op.kind == OpKind::kAveragePool2D;
  for (int oy = 0; oy < OH; ++oy)
    for (int ox = 0; ox < OW; ++ox)
      for (int c = 0; c < C; ++c) {
        double acc = avg ? 0.0 : -std::numeric_limits<double>::infinity();
        int n = 0;
        for (int ky = 0; ky < op.filter_h; ++ky) {
          int iy = oy * op.stride_h - pt + ky;
          if (iy < 0 || iy >= H) continue;
          for (int kx = 0; kx < op.filter_w; ++kx) {
            int ix = ox * op.stride_w - pl + kx;
            if (ix < 0 || ix >= W) continue;
            double v = in[(size_t(iy) * W + ix) * C + c];
            acc = avg ? acc + v : std::max(acc, v);
            ++n;
          }
        }
        out[(size_t(oy) * OW + ox) * C + c] = avg ? float(acc / std::max(n, 1)) : float(acc);
      }
}

}  // namespace

std::vector<std::vector<float>> EvaluateAll(const Graph& g, const float* input) {
  std::vector<std::vector<float>> v(g.shapes.size());
  v[g.input].assign(input, input + g.NumElements(g.input));
  for (const Op& op : g.ops) {
    const auto& is = g.shapes[op.input];
    const auto& os = g.shapes[op.output];
    const std::vector<float>& x = v[op.input];
    std::vector<float>& y = v[op.output];
    y.assign(g.NumElements(op.output), 0.0f);
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDepthwiseConv2D:
        Conv(op, is, os, x.data(), y.data());
        break;
      case OpKind::kFullyConnected: {
        const int O = op.weight_dims[0], I = op.weight_dims[1];
        const int batch = int(x.size() / size_t(I));
        for (int b = 0; b < batch; ++b)
          for (int o = 0; o < O; ++o) {
            double acc = op.bias[o];
            for (int i = 0; i < I; ++i) acc += double(x[size_t(b) * I + i]) * op.weights[size_t(o) * I + i];
            y[size_t(b) * O + o] = Act(acc, op.activation);
          }
        break;
      }
      case OpKind::kAveragePool2D:
      case OpKind::kMaxPool2D:
        Pool(op, is, os, x.data(), y.data());
        break;
      case OpKind::kMean: {
        const int HW = is[1] * is[2], C = is[3];
        for (int c = 0; c < C; ++c) {
          double acc = 0;
          for (int p = 0; p < HW; ++p) acc += x[size_t(p) * C + c];
          y[c] = float(acc / HW);
        }
        break;
      }
      case OpKind::kReshape:
        y = x;
        break;
      case OpKind::kSoftmax: {
        const int C = os.back();
        const size_t rows = y.size() / size_t(C);
        for (size_t r = 0; r < rows; ++r) {
          const float* px = x.data() + r * C;
          double mx = *std::max_element(px, px + C), sum = 0;
          std::vector<double> e(C);
          for (int c = 0; c < C; ++c) sum += e[c] = std::exp(double(op.beta) * (px[c] - mx));
          for (int c = 0; c < C; ++c) y[r * C + c] = float(e[c] / sum);
        }
        break;
      }
    }
  }
  return v;
}

std::vector<float> Evaluate(const Graph& g, const float* input) {
  auto all = EvaluateAll(g, input);
  return std::move(all[g.output]);
}

}  // namespace kws::ir
