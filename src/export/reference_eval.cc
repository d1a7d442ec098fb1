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
  const int KH = op.weight_dims[1], KW = op.weight_dims[2], DH = op.dilation_h, DW = op.dilation_w;
  const int pt = PadBefore(H, (KH - 1) * DH + 1, op.stride_h, op.padding);
  const int pl = PadBefore(W, (KW - 1) * DW + 1, op.stride_w, op.padding);
  const bool dw = op.kind == OpKind::kDepthwiseConv2D;
  const int M = op.depth_multiplier;
  for (int oy = 0; oy < OH; ++oy)
    for (int ox = 0; ox < OW; ++ox)
      for (int o = 0; o < O; ++o) {
        double acc = op.bias[o];
        for (int ky = 0; ky < KH; ++ky) {
          int iy = oy * op.stride_h - pt + ky * DH;
          if (iy < 0 || iy >= H) continue;
          for (int kx = 0; kx < KW; ++kx) {
            int ix = ox * op.stride_w - pl + kx * DW;
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

// Flat index into a value of shape `s` for the element at flat index i of shape `o` (NumPy broadcasting:
// axes of size 1 in s repeat).
size_t BroadcastIndex(const std::vector<int>& o, const std::vector<int>& s, size_t i) {
  size_t idx = 0, stride = 1;
  for (size_t d = o.size(); d-- > 0;) {
    const size_t coord = i % size_t(o[d]);
    i /= size_t(o[d]);
    if (s[d] != 1) idx += coord * stride;
    stride *= size_t(s[d]);
  }
  return idx;
}

// ADD / MUL with a second value or a constant.
void Binary(const Op& op, const Graph& g, const std::vector<std::vector<float>>& v, std::vector<float>& y) {
  const auto& os = g.shapes[op.output];
  const auto& sa = g.shapes[op.input];
  const bool konst = op.more_inputs.empty();
  const std::vector<int>& sb = konst ? op.weight_dims : g.shapes[op.more_inputs[0]];
  const std::vector<float>& b = konst ? op.weights : v[op.more_inputs[0]];
  const std::vector<float>& a = v[op.input];
  for (size_t i = 0; i < y.size(); ++i) {
    const double x = a[BroadcastIndex(os, sa, i)], z = b[BroadcastIndex(os, sb, i)];
    y[i] = Act(op.kind == OpKind::kAdd ? x + z : x * z, op.activation);
  }
}

// MEAN over op.axes with keep_dims.
void MeanAxes(const Op& op, const Graph& g, const std::vector<float>& x, std::vector<float>& y) {
  const auto& is = g.shapes[op.input];
  const auto& os = g.shapes[op.output];
  std::vector<double> acc(y.size(), 0.0);
  for (size_t i = 0; i < x.size(); ++i) acc[BroadcastIndex(is, os, i)] += x[i];
  const double n = double(x.size()) / double(y.size());
  for (size_t i = 0; i < y.size(); ++i) y[i] = float(acc[i] / n);
}

void Concat(const Op& op, const Graph& g, const std::vector<std::vector<float>>& v, std::vector<float>& y) {
  std::vector<int> ins = {op.input};
  ins.insert(ins.end(), op.more_inputs.begin(), op.more_inputs.end());
  const int C = g.shapes[op.output].back();
  size_t off = 0;
  for (int k : ins) {
    const int ck = g.shapes[size_t(k)].back();
    const size_t rows = v[size_t(k)].size() / size_t(ck);
    for (size_t r = 0; r < rows; ++r)
      for (int c = 0; c < ck; ++c) y[r * C + off + c] = v[size_t(k)][r * ck + c];
    off += size_t(ck);
  }
}

void PadOp(const Op& op, const Graph& g, const std::vector<float>& x, std::vector<float>& y) {
  const auto& is = g.shapes[op.input];
  const auto& os = g.shapes[op.output];
  const int H = is[1], W = is[2], C = is[3];
  std::fill(y.begin(), y.end(), 0.0f);
  for (int h = 0; h < H; ++h)
    for (int w = 0; w < W; ++w)
      for (int c = 0; c < C; ++c)
        y[((size_t(h) + op.paddings[0]) * os[2] + size_t(w) + op.paddings[2]) * C + c] = x[(size_t(h) * W + w) * C + c];
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
        if (!op.axes.empty()) {
          MeanAxes(op, g, x, y);
          break;
        }
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
      case OpKind::kAdd:
      case OpKind::kMul:
        Binary(op, g, v, y);
        break;
      case OpKind::kConcatenation:
        Concat(op, g, v, y);
        break;
      case OpKind::kLogistic:
        for (size_t i = 0; i < y.size(); ++i) y[i] = float(1.0 / (1.0 + std::exp(-double(x[i]))));
        break;
      case OpKind::kHardSwish:
        for (size_t i = 0; i < y.size(); ++i) {
          const double t = x[i];
          y[i] = float(t * std::min(std::max(t + 3.0, 0.0), 6.0) / 6.0);
        }
        break;
      case OpKind::kPad:
        PadOp(op, g, x, y);
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
