#include "export/from_model.h"

#include <cmath>

#include "layers/average_pool2d.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/depthwise_conv2d.h"
#include "layers/max_pool2d.h"
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

}  // namespace

ir::Graph GraphFromModel(const Model& model, bool softmax) {
  ir::Graph g;
  const Shape in = model.input_shape();
  int x = g.AddInput({1, in.h, in.w, in.c}, "input");
  // The op whose output is x, if it can still absorb a BatchNorm / ReLU (its output is not used elsewhere:
  // the graph is a chain, so "last op" is enough).
  const auto& layers = model.layers();
  int foldable = -1;    // index into g.ops of the conv/dense that produced x (no activation fused yet)
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& layer = *layers[li];
    const std::string type = layer.type();
    if (auto* c = dynamic_cast<const Conv2DLayer*>(&layer)) {
      const auto& d = c->kernel.dims;  // KH KW Cin Cout
      if (d.size() != 4) throw InternalError(Where(layer) + ": kernel is not 4-D");
      std::vector<float> k = Masked(c->kernel), w(k.size());
      const int KH = d[0], KW = d[1], C = d[2], F = d[3];
      for (int ky = 0; ky < KH; ++ky)
        for (int kx = 0; kx < KW; ++kx)
          for (int ci = 0; ci < C; ++ci)
            for (int f = 0; f < F; ++f)
              w[((size_t(f) * KH + ky) * KW + kx) * C + ci] = k[((size_t(ky) * KW + kx) * C + ci) * F + f];
      std::vector<float> b = c->use_bias ? Masked(c->bias) : std::vector<float>();
      x = g.Conv2D(x, std::move(w), {F, KH, KW, C}, std::move(b), c->sh, c->sw,
                   c->same ? ir::Padding::kSame : ir::Padding::kValid, ir::Activation::kNone, layer.name);
      foldable = int(g.ops.size()) - 1;
    } else if (auto* c = dynamic_cast<const DepthwiseConv2DLayer*>(&layer)) {
      const auto& d = c->kernel.dims;  // KH KW C M
      if (d.size() != 4) throw InternalError(Where(layer) + ": kernel is not 4-D");
      std::vector<float> b = c->use_bias ? Masked(c->bias) : std::vector<float>();
      x = g.DepthwiseConv2D(x, Masked(c->kernel), {1, d[0], d[1], d[2] * d[3]}, std::move(b), d[3], c->sh, c->sw,
                            c->same ? ir::Padding::kSame : ir::Padding::kValid, ir::Activation::kNone, layer.name);
      foldable = int(g.ops.size()) - 1;
    } else if (auto* c = dynamic_cast<const DenseLayer*>(&layer)) {
      const auto& d = c->kernel.dims;  // K U
      if (d.size() != 2) throw InternalError(Where(layer) + ": kernel is not 2-D");
      std::vector<float> k = Masked(c->kernel), w(k.size());
      const int K = d[0], U = d[1];
      for (int i = 0; i < K; ++i)
        for (int u = 0; u < U; ++u) w[size_t(u) * K + i] = k[size_t(i) * U + u];
      std::vector<float> b = c->use_bias ? Masked(c->bias) : std::vector<float>();
      x = g.FullyConnected(x, std::move(w), {U, K}, std::move(b), ir::Activation::kNone, layer.name);
      foldable = int(g.ops.size()) - 1;
    } else if (auto* bn = dynamic_cast<const BatchNormLayer*>(&layer)) {
      const int C = int(bn->gamma.value.size());
      std::vector<double> s(C), t(C);
      for (int c = 0; c < C; ++c) {
        s[c] = double(bn->gamma.value[c]) / std::sqrt(double(bn->moving_variance.value[c]) + bn->epsilon);
        t[c] = double(bn->beta.value[c]) - double(bn->moving_mean.value[c]) * s[c];
      }
      if (foldable >= 0) {
        ir::Op& op = g.ops[foldable];
        const int O = int(op.bias.size());
        if (O != C) throw InternalError(Where(layer) + ": " + std::to_string(C) + " channels after a " + std::to_string(O) + "-channel layer");
        const size_t n = op.weights.size();
        for (size_t i = 0; i < n; ++i) {
          // Output channel of weight i: conv/fc [O, ...] -> i / (n/O); depthwise [1,kh,kw,O] -> i % O.
          int o = op.kind == ir::OpKind::kDepthwiseConv2D ? int(i % size_t(O)) : int(i / (n / size_t(O)));
          op.weights[i] = float(op.weights[i] * s[o]);  // zeros stay exact zeros
        }
        for (int o = 0; o < O; ++o) op.bias[o] = float(op.bias[o] * s[o] + t[o]);
      } else {
        const auto& shp = g.shapes[x];
        if (shp.size() != 4) throw UsageError(Where(layer) + ": cannot export a batchnorm on a flat tensor that follows no dense layer");
        std::vector<float> w(C), b(C);
        for (int c = 0; c < C; ++c) w[c] = float(s[c]), b[c] = float(t[c]);
        x = g.DepthwiseConv2D(x, std::move(w), {1, 1, 1, C}, std::move(b), 1, 1, 1, ir::Padding::kValid,
                              ir::Activation::kNone, layer.name);
        foldable = int(g.ops.size()) - 1;
      }
    } else if (type == "relu") {
      if (foldable < 0 || g.ops[foldable].activation != ir::Activation::kNone)
        throw UsageError(Where(layer) + ": a ReLU that does not follow a conv/depthwise/dense layer cannot be exported");
      g.ops[foldable].activation = ir::Activation::kRelu;
      foldable = -1;  // nothing may fold into an activated output
    } else if (type == "dropout") {
      // identity at inference; keeps `foldable` (BN/ReLU after dropout still fold correctly)
    } else if (type == "global_average_pool") {
      x = g.Mean(x, layer.name);
      foldable = -1;
    } else if (auto* p = dynamic_cast<const AveragePool2DLayer*>(&layer)) {
      x = g.AveragePool2D(x, p->ph, p->pw, p->sh, p->sw, p->same ? ir::Padding::kSame : ir::Padding::kValid, layer.name);
      foldable = -1;
    } else if (auto* p = dynamic_cast<const MaxPool2DLayer*>(&layer)) {
      x = g.MaxPool2D(x, p->ph, p->pw, p->sh, p->sw, p->same ? ir::Padding::kSame : ir::Padding::kValid, layer.name);
      foldable = -1;
    } else {
      throw UsageError(Where(layer) + ": layer type is not supported by the .tflite exporter");
    }
    if (type != "relu" && type != "dropout" && foldable >= 0 && g.ops[foldable].activation != ir::Activation::kNone)
      foldable = -1;
  }
  if (softmax) x = g.Softmax(x, 1.0f, "softmax");
  if (!model.output_map().empty()) {
    // Word classes (data.unknown_subclasses): each output is the sum of its classes' probabilities,
    // a FULLY_CONNECTED with 0/1 weights (small: it stays float in dynamic-range models).
    if (!softmax)
      throw UsageError("export: this model's _unknown_ is the sum of several classes' probabilities; export it with "
                       "its softmax");
    x = g.SumClasses(x, model.output_map(), "merge_classes");
  }
  g.SetOutput(x);
  g.Validate();
  return g;
}

}  // namespace kws
