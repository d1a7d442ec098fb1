#include "export/from_model.h"

#include <cmath>

#include "layers/average_pool2d.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/depthwise_conv2d.h"
#include "layers/layer_util.h"
#include "layers/max_pool2d.h"
#include "layers/mean.h"
#include "layers/reshape.h"
#include "layers/subspectral_norm.h"
#include "util/error.h"

namespace kws {

namespace {

// A parameter's values with its pruning mask applied.
std::vector<float> Masked(const Param& p) {
  std::vector<float> v = p.value;
  if (!p.mask.empty()) {
    if (p.mask.size() != v.size()) throw InternalError("export: " + p.name + ": mask size does not match the values");
    for (size_t i = 0; i < v.size(); ++i)
      if (!p.mask[i]) v[i] = 0.0f;
  }
  return v;
}

std::string Where(const Layer& l) { return "export: layer '" + l.name + "' (" + l.type() + ")"; }

ir::Padding Pad(bool same) { return same ? ir::Padding::kSame : ir::Padding::kValid; }

// Walks the model's layers into an IR graph. For each layer: the IR value holding its output, and the
// IR op that may still absorb a following BatchNorm or ReLU (a conv/depthwise/dense/add op with no
// activation yet whose output only that one layer reads), or -1.
class Builder {
 public:
  explicit Builder(const Model& m) : m_(m), value_(m.layers().size(), -1), absorb_(m.layers().size(), -1) {
    const Shape in = m.input_shape();
    g_.AddInput({1, in.h, in.w, in.c}, "input");
  }

  ir::Graph Run(bool softmax) {
    const auto& layers = m_.layers();
    for (size_t i = 0; i < layers.size(); ++i) {
      Emit(i, *layers[i]);
      // An op with an activation absorbs nothing more.
      if (absorb_[i] >= 0 && g_.ops[size_t(absorb_[i])].activation != ir::Activation::kNone) absorb_[i] = -1;
    }
    int x = value_.back();
    if (softmax) x = g_.Softmax(x, 1.0f, "softmax");
    if (!m_.output_map().empty()) {
      // Word classes (data.unknown_subclasses): each output is the sum of its classes' probabilities,
      // a FULLY_CONNECTED with 0/1 weights (small: it stays float in dynamic-range models).
      if (!softmax)
        throw UsageError("export: this model's _unknown_ is the sum of several classes' probabilities; export it with "
                         "its softmax");
      x = g_.SumClasses(x, m_.output_map(), "merge_classes");
    }
    g_.SetOutput(x);
    g_.Validate();
    return std::move(g_);
  }

 private:
  int In(size_t i, size_t k = 0) const {
    const int p = m_.inputs(i)[k];
    return p < 0 ? g_.input : value_[size_t(p)];
  }
  // The op a layer reading layer i's output may fold into: only when it is that output's sole reader.
  int Foldable(size_t i) const {
    const int p = m_.inputs(i)[0];
    if (p < 0 || m_.consumers(p).size() != 1) return -1;
    return absorb_[size_t(p)];
  }
  void Produced(size_t i, int value, bool absorbs) {
    value_[i] = value;
    absorb_[i] = absorbs ? int(g_.ops.size()) - 1 : -1;
  }

  void Emit(size_t i, const Layer& layer);
  void Conv(size_t i, const Conv2DLayer& c);
  void Depthwise(size_t i, const DepthwiseConv2DLayer& c);
  void Dense(size_t i, const DenseLayer& c);
  void BatchNorm(size_t i, const BatchNormLayer& bn);
  void Relu(size_t i, const Layer& layer);
  void SubSpectralNorm(size_t i, const SubSpectralNormLayer& ssn);
  void Sum(size_t i, const Layer& layer);
  // For a conv with SAME padding on one axis and VALID on the other: an explicit PAD, then VALID.
  int PaddedInput(size_t i, const Layer& layer, bool same_h, bool same_w, int kh, int kw, int sh, int sw, int dh,
                  int dw, ir::Padding* padding);

  const Model& m_;
  ir::Graph g_;
  std::vector<int> value_, absorb_;
};

void Builder::Emit(size_t i, const Layer& layer) {
  const std::string type = layer.type();
  if (auto* c = dynamic_cast<const Conv2DLayer*>(&layer)) return Conv(i, *c);
  if (auto* c = dynamic_cast<const DepthwiseConv2DLayer*>(&layer)) return Depthwise(i, *c);
  if (auto* c = dynamic_cast<const DenseLayer*>(&layer)) return Dense(i, *c);
  if (auto* bn = dynamic_cast<const BatchNormLayer*>(&layer)) return BatchNorm(i, *bn);
  if (auto* ssn = dynamic_cast<const SubSpectralNormLayer*>(&layer)) return SubSpectralNorm(i, *ssn);
  if (type == "relu") return Relu(i, layer);
  if (type == "add") return Sum(i, layer);
  if (type == "dropout") {  // identity at inference; a BN/ReLU after it still folds into the op before it
    value_[i] = In(i);
    absorb_[i] = Foldable(i);
    return;
  }
  if (type == "global_average_pool") return Produced(i, g_.Mean(In(i), layer.name), false);
  if (auto* p = dynamic_cast<const AveragePool2DLayer*>(&layer))
    return Produced(i, g_.AveragePool2D(In(i), p->ph, p->pw, p->sh, p->sw, Pad(p->same), layer.name), false);
  if (auto* p = dynamic_cast<const MaxPool2DLayer*>(&layer))
    return Produced(i, g_.MaxPool2D(In(i), p->ph, p->pw, p->sh, p->sw, Pad(p->same), layer.name), false);
  if (auto* p = dynamic_cast<const MeanLayer*>(&layer))
    return Produced(i, g_.MeanAxes(In(i), {p->over_w ? 2 : 1}, layer.name), false);
  if (type == "reshape") {
    const Shape o = layer.OutputShape(layer.input_shape);
    return Produced(i, g_.Reshape(In(i), {1, o.h, o.w, o.c}, layer.name), false);
  }
  if (type == "swish") {  // x * sigmoid(x)
    const int s = g_.Logistic(In(i), layer.name + "/sigmoid");
    return Produced(i, g_.Mul(In(i), s, layer.name), false);
  }
  if (type == "hard_swish") return Produced(i, g_.HardSwish(In(i), layer.name), false);
  if (type == "concat") {
    std::vector<int> xs;
    for (size_t k = 0; k < m_.inputs(i).size(); ++k) xs.push_back(In(i, k));
    return Produced(i, g_.Concatenation(xs, layer.name), false);
  }
  throw UsageError(Where(layer) + ": layer type is not supported by the .tflite exporter");
}

int Builder::PaddedInput(size_t i, const Layer& layer, bool same_h, bool same_w, int kh, int kw, int sh, int sw,
                         int dh, int dw, ir::Padding* padding) {
  *padding = Pad(same_h);
  if (same_h == same_w) return In(i);
  const Shape& s = layer.input_shape;
  const AxisGeometry gy = PadAxis(s.h, (kh - 1) * dh + 1, sh, same_h), gx = PadAxis(s.w, (kw - 1) * dw + 1, sw, same_w);
  // Padding after = what the outputs need beyond the input (SAME) or nothing (VALID).
  const int after_h = same_h ? std::max((gy.out - 1) * sh + (kh - 1) * dh + 1 - s.h - gy.pad_before, 0) : 0;
  const int after_w = same_w ? std::max((gx.out - 1) * sw + (kw - 1) * dw + 1 - s.w - gx.pad_before, 0) : 0;
  *padding = ir::Padding::kValid;
  return g_.Pad(In(i), gy.pad_before, after_h, gx.pad_before, after_w, layer.name + "/pad");
}

void Builder::Conv(size_t i, const Conv2DLayer& c) {
  const auto& d = c.kernel.dims;  // KH KW Cin Cout
  if (d.size() != 4) throw InternalError(Where(c) + ": kernel is not 4-D");
  std::vector<float> k = Masked(c.kernel), w(k.size());
  const int KH = d[0], KW = d[1], C = d[2], F = d[3];
  for (int ky = 0; ky < KH; ++ky)
    for (int kx = 0; kx < KW; ++kx)
      for (int ci = 0; ci < C; ++ci)
        for (int f = 0; f < F; ++f)
          w[((size_t(f) * KH + ky) * KW + kx) * C + ci] = k[((size_t(ky) * KW + kx) * C + ci) * F + f];
  std::vector<float> b = c.use_bias ? Masked(c.bias) : std::vector<float>();
  ir::Padding pad;
  const int x = PaddedInput(i, c, c.same, c.same_w, KH, KW, c.sh, c.sw, c.dh, c.dw, &pad);
  Produced(i, g_.Conv2D(x, std::move(w), {F, KH, KW, C}, std::move(b), c.sh, c.sw, pad, ir::Activation::kNone, c.name,
                        c.dh, c.dw),
           true);
}

void Builder::Depthwise(size_t i, const DepthwiseConv2DLayer& c) {
  const auto& d = c.kernel.dims;  // KH KW C M
  if (d.size() != 4) throw InternalError(Where(c) + ": kernel is not 4-D");
  std::vector<float> b = c.use_bias ? Masked(c.bias) : std::vector<float>();
  ir::Padding pad;
  const int x = PaddedInput(i, c, c.same, c.same_w, d[0], d[1], c.sh, c.sw, c.dh, c.dw, &pad);
  Produced(i, g_.DepthwiseConv2D(x, Masked(c.kernel), {1, d[0], d[1], d[2] * d[3]}, std::move(b), d[3], c.sh, c.sw,
                                 pad, ir::Activation::kNone, c.name, c.dh, c.dw),
           true);
}

void Builder::Dense(size_t i, const DenseLayer& c) {
  const auto& d = c.kernel.dims;  // K U
  if (d.size() != 2) throw InternalError(Where(c) + ": kernel is not 2-D");
  std::vector<float> k = Masked(c.kernel), w(k.size());
  const int K = d[0], U = d[1];
  for (int r = 0; r < K; ++r)
    for (int u = 0; u < U; ++u) w[size_t(u) * K + r] = k[size_t(r) * U + u];
  std::vector<float> b = c.use_bias ? Masked(c.bias) : std::vector<float>();
  Produced(i, g_.FullyConnected(In(i), std::move(w), {U, K}, std::move(b), ir::Activation::kNone, c.name), true);
}

// s = gamma/sqrt(var+eps); folded into the op before it (w' = w*s[o]; b' = (b-mean)*s+beta) when that op
// is a conv/depthwise/dense read only by this layer; else a 1x1 DEPTHWISE_CONV_2D with weights s.
void Builder::BatchNorm(size_t i, const BatchNormLayer& bn) {
  const int C = int(bn.gamma.value.size());
  std::vector<double> s = std::vector<double>(size_t(C)), t = s;
  for (int c = 0; c < C; ++c) {
    s[size_t(c)] = double(bn.gamma.value[size_t(c)]) / std::sqrt(double(bn.moving_variance.value[size_t(c)]) + bn.epsilon);
    t[size_t(c)] = double(bn.beta.value[size_t(c)]) - double(bn.moving_mean.value[size_t(c)]) * s[size_t(c)];
  }
  const int f = Foldable(i);
  if (f >= 0 && g_.ops[size_t(f)].kind != ir::OpKind::kAdd) {
    ir::Op& op = g_.ops[size_t(f)];
    const int O = int(op.bias.size());
    if (O != C) throw InternalError(Where(bn) + ": " + std::to_string(C) + " channels after a " + std::to_string(O) + "-channel layer");
    const size_t n = op.weights.size();
    for (size_t k = 0; k < n; ++k) {
      // Output channel of weight k: conv/fc [O, ...] -> k / (n/O); depthwise [1,kh,kw,O] -> k % O.
      int o = op.kind == ir::OpKind::kDepthwiseConv2D ? int(k % size_t(O)) : int(k / (n / size_t(O)));
      op.weights[k] = float(op.weights[k] * s[size_t(o)]);  // zeros stay exact zeros
    }
    for (int o = 0; o < O; ++o) op.bias[size_t(o)] = float(op.bias[size_t(o)] * s[size_t(o)] + t[size_t(o)]);
    value_[i] = In(i);
    absorb_[i] = f;
    return;
  }
  const int x = In(i);
  const auto& shp = g_.shapes[size_t(x)];
  if (shp.size() != 4) throw UsageError(Where(bn) + ": cannot export a batchnorm on a flat tensor that follows no dense layer");
  std::vector<float> w = std::vector<float>(size_t(C)), b = w;
  for (int c = 0; c < C; ++c) w[size_t(c)] = float(s[size_t(c)]), b[size_t(c)] = float(t[size_t(c)]);
  Produced(i, g_.DepthwiseConv2D(x, std::move(w), {1, 1, 1, C}, std::move(b), 1, 1, 1, ir::Padding::kValid,
                                 ir::Activation::kNone, bn.name),
           true);
}

// Fused into the op before it (conv/depthwise/dense/add, BN folded or not) when this layer is its sole reader.
void Builder::Relu(size_t i, const Layer& layer) {
  const int f = Foldable(i);
  if (f < 0 || g_.ops[size_t(f)].activation != ir::Activation::kNone)
    throw UsageError(Where(layer) + ": a ReLU that does not follow a conv/depthwise/dense/add layer cannot be exported");
  g_.ops[size_t(f)].activation = ir::Activation::kRelu;
  value_[i] = In(i);
  absorb_[i] = -1;  // nothing may fold into an activated output
}

// Inference SSN is one scale and one shift per (band, channel): MUL and ADD by [1,1,W,C] (bands along W)
// or [1,H,1,C] (bands along H) constants, broadcast over the other axis.
void Builder::SubSpectralNorm(size_t i, const SubSpectralNormLayer& ssn) {
  const Shape& in = ssn.input_shape;
  const int S = ssn.sub_bands, C = in.c, len = ssn.over_w ? in.w : in.h;
  std::vector<float> scale(size_t(len) * C), shift(size_t(len) * C);
  for (int p = 0; p < len; ++p)
    for (int c = 0; c < C; ++c) {
      const size_t g = size_t(c) * S + size_t(p / (len / S));
      const double s = double(ssn.gamma.value[g]) / std::sqrt(double(ssn.moving_variance.value[g]) + ssn.epsilon);
      scale[size_t(p) * C + c] = float(s);
      shift[size_t(p) * C + c] = float(double(ssn.beta.value[g]) - double(ssn.moving_mean.value[g]) * s);
    }
  const std::vector<int> dims = ssn.over_w ? std::vector<int>{1, 1, len, C} : std::vector<int>{1, len, 1, C};
  const int x = g_.MulConst(In(i), std::move(scale), dims, ssn.name + "/scale");
  Produced(i, g_.AddConst(x, std::move(shift), dims, ssn.name), false);
}

// add: a chain of ADDs (((a + b) + c) ...), broadcasting; the last may absorb a following ReLU.
void Builder::Sum(size_t i, const Layer& layer) {
  const size_t n = m_.inputs(i).size();
  int x = In(i, 0);
  for (size_t k = 1; k < n; ++k)
    x = g_.Add(x, In(i, k), ir::Activation::kNone, k + 1 == n ? layer.name : layer.name + "/" + std::to_string(k));
  Produced(i, x, true);
}

}  // namespace

ir::Graph GraphFromModel(const Model& model, bool softmax) { return Builder(model).Run(softmax); }

}  // namespace kws
