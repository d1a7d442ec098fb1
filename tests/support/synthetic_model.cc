// Seed-shaped random models (see synthetic_model.h).
#include "support/synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "export/tflite_export.h"
#include "runtime/interpreter.h"
#include "tflite/builder.h"
#include "util/error.h"
#include "util/rng.h"

namespace kws::rt {
namespace {

using tflite::BuiltinOperator;
using tflite::TensorType;
using Kind = SyntheticModelOptions::Kind;

enum class LType { kConv, kDepthwise, kMaxPool, kAvgPool, kMean, kReshape, kFc, kSoftmax };

struct Layer {
  LType type;
  int stride = 1;
  std::vector<int> out_shape;
  std::vector<int> wshape;  // conv [O,KH,KW,I], depthwise [1,KH,KW,C], FC [units, depth]
  std::vector<float> w, b;
};

struct Range {
  float lo = 0.0f, hi = 0.0f;
};

// Asymmetric int8 parameters covering [lo, hi] ∪ {0}.
kws::tfl::QuantParams ActQuant(Range r) {
  const float lo = std::min(r.lo, 0.0f), hi = std::max(r.hi, 0.0f);
  const float scale = std::max(hi - lo, 1e-6f) / 255.0f;
  const int64_t zp = std::clamp<int64_t>(std::llround(-128.0 - double(lo) / scale), -128, 127);
  return kws::tfl::QuantParams::PerTensor(scale, zp);
}

std::vector<Layer> MakeLayers(const SyntheticModelOptions& o) {
  Rng rng(o.seed * 7919 + 17);
  std::vector<Layer> layers;
  std::vector<int> shape = {1, o.frames, o.bins, 1};
  auto conv = [&](int stride, bool depthwise) {
    Layer l;
    l.type = depthwise ? LType::kDepthwise : LType::kConv;
    l.stride = stride;
    const int cin = shape[3];
    const int cout = depthwise ? cin : o.filters;
    l.wshape = depthwise ? std::vector<int>{1, 3, 3, cin} : std::vector<int>{cout, 3, 3, cin};
    const int fan_in = depthwise ? 9 : 9 * cin;
    const double sd = std::sqrt(2.0 / fan_in);
    l.w.resize(size_t(depthwise ? 9 * cin : cout * 9 * cin));
    for (auto& v : l.w) v = float(rng.Normal() * sd);
    if (o.sparsity > 0.0f && !depthwise) {
      std::vector<float> mag(l.w.size());
      for (size_t i = 0; i < l.w.size(); ++i) mag[i] = std::fabs(l.w[i]);
      std::sort(mag.begin(), mag.end());
      const size_t k = std::min(mag.size() - 1, size_t(double(o.sparsity) * double(mag.size())));
      const float thr = mag[k];
      for (auto& v : l.w)
        if (std::fabs(v) < thr) v = 0.0f;
    }
    l.b.resize(size_t(cout));
    for (auto& v : l.b) v = float(rng.Normal() * 0.1);
    shape = {1, (shape[1] + stride - 1) / stride, (shape[2] + stride - 1) / stride, cout};
    l.out_shape = shape;
    layers.push_back(l);
  };
  auto pool = [&](LType t, int stride) {
    Layer l;
    l.type = t;
    l.stride = stride;
    shape = {1, (shape[1] + stride - 1) / stride, (shape[2] + stride - 1) / stride, shape[3]};
    l.out_shape = shape;
    layers.push_back(l);
  };
  conv(1, false);
  if (o.pools) pool(LType::kMaxPool, 2);
  conv(o.pools ? 1 : 2, false);
  if (o.pools) pool(LType::kAvgPool, 1);
  conv(2, o.depthwise);
  conv(1, false);
  {
    Layer l;
    l.type = LType::kMean;
    l.out_shape = o.keep_dims_mean ? std::vector<int>{1, 1, 1, shape[3]} : std::vector<int>{1, shape[3]};
    layers.push_back(l);
    if (o.keep_dims_mean) {
      Layer r;
      r.type = LType::kReshape;
      r.out_shape = {1, shape[3]};
      layers.push_back(r);
    }
  }
  {
    Layer l;
    l.type = LType::kFc;
    l.wshape = {o.classes, shape[3]};
    l.w.resize(size_t(o.classes * shape[3]));
    for (auto& v : l.w) v = float(rng.Normal() * std::sqrt(1.0 / shape[3]) * 3.0);
    l.b.resize(size_t(o.classes));
    for (auto& v : l.b) v = float(rng.Normal() * 0.1);
    l.out_shape = {1, o.classes};
    layers.push_back(l);
  }
  {
    Layer l;
    l.type = LType::kSoftmax;
    l.out_shape = {1, o.classes};
    layers.push_back(l);
  }
  return layers;
}

// Per-channel symmetric int8 along axis 0 (conv) or 3 (depthwise) or per tensor: the exporter's
// quantizer (export/tflite_export.h), so these models quantize weights exactly as `kws export` does.
struct QWeights {
  std::vector<int8_t> q;
  std::vector<float> scales;
};

QWeights QuantizeWeights(const Layer& l, bool per_channel) {
  QWeights r;
  const int axis = per_channel ? (l.type == LType::kDepthwise ? 3 : 0) : -1;
  r.scales = kws::QuantizeSymmetric(l.w, l.wshape, axis, &r.q);
  return r;
}

// kFloat (optionally with every layer output as a graph output), kHybrid or kInt8.
std::string Emit(const SyntheticModelOptions& o, const std::vector<Layer>& layers, Kind kind,
                 const std::vector<Range>& ranges, bool all_outputs) {
  kws::tfl::ModelBuilder b;
  b.SetDescription("kws synthetic seed-shaped model");
  const bool int8 = kind == Kind::kInt8;
  const std::vector<int> in_shape = {1, o.frames, o.bins, 1};
  kws::tfl::QuantParams qin = int8 ? ActQuant(ranges[0]) : kws::tfl::QuantParams{};
  int x;
  int graph_in;
  if (int8 && o.float_io) {
    graph_in = b.AddTensor("input", in_shape, TensorType::FLOAT32);
    x = b.AddTensor("input_int8", in_shape, TensorType::INT8, 0, qin);
    b.AddOperator(BuiltinOperator::QUANTIZE, {graph_in}, {x}, kws::tfl::QuantizeOptions{});
  } else {
    graph_in = x = b.AddTensor("input", in_shape, int8 ? TensorType::INT8 : TensorType::FLOAT32, 0, qin);
  }
  kws::tfl::QuantParams qx = qin;
  std::vector<int> outs;
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& l = layers[li];
    const std::string nm = "layer" + std::to_string(li);
    kws::tfl::QuantParams qy;
    if (int8) qy = l.type == LType::kSoftmax ? kws::tfl::QuantParams::PerTensor(1.0f / 256.0f, -128)
                   : (l.type == LType::kMaxPool || l.type == LType::kAvgPool || l.type == LType::kReshape)
                       ? qx
                       : ActQuant(ranges[li + 1]);
    const int y = b.AddTensor(nm + "/out", l.out_shape, int8 ? TensorType::INT8 : TensorType::FLOAT32, 0, qy);
    switch (l.type) {
      case LType::kConv:
      case LType::kDepthwise: {
        const bool dw = l.type == LType::kDepthwise;
        const bool quant_w = int8 || (kind == Kind::kHybrid && l.w.size() >= 1024);
        int wt, bt;
        if (quant_w) {
          const QWeights qw = QuantizeWeights(l, true);
          kws::tfl::QuantParams qp;
          qp.scale = qw.scales;
          qp.zero_point.assign(qw.scales.size(), 0);
          qp.quantized_dimension = dw ? 3 : 0;
          wt = b.AddConstTensor<int8_t>(nm + "/w", l.wshape, TensorType::INT8, qw.q, qp);
          if (int8) {
            std::vector<int32_t> bq(l.b.size());
            kws::tfl::QuantParams bp;
            for (size_t c = 0; c < l.b.size(); ++c) {
              const float s = qx.scale[0] * qw.scales[c];
              bq[c] = int32_t(std::lround(l.b[c] / s));
              bp.scale.push_back(s);
              bp.zero_point.push_back(0);
            }
            bp.quantized_dimension = 0;
            bt = b.AddConstTensor<int32_t>(nm + "/b", {int(l.b.size())}, TensorType::INT32, bq, bp);
          } else {
            bt = b.AddConstTensor<float>(nm + "/b", {int(l.b.size())}, TensorType::FLOAT32, l.b);
          }
        } else {
          wt = b.AddConstTensor<float>(nm + "/w", l.wshape, TensorType::FLOAT32, l.w);
          bt = b.AddConstTensor<float>(nm + "/b", {int(l.b.size())}, TensorType::FLOAT32, l.b);
        }
        if (dw)
          b.AddOperator(BuiltinOperator::DEPTHWISE_CONV_2D, {x, wt, bt}, {y},
                        kws::tfl::DepthwiseConv2DOptions{.padding = tflite::Padding::SAME, .stride_w = l.stride,
                                                         .stride_h = l.stride, .depth_multiplier = 1,
                                                         .activation = tflite::ActivationFunctionType::RELU});
        else
          b.AddOperator(BuiltinOperator::CONV_2D, {x, wt, bt}, {y},
                        kws::tfl::Conv2DOptions{.padding = tflite::Padding::SAME, .stride_w = l.stride,
                                                .stride_h = l.stride,
                                                .activation = tflite::ActivationFunctionType::RELU});
        break;
      }
      case LType::kMaxPool:
      case LType::kAvgPool:
        b.AddOperator(l.type == LType::kMaxPool ? BuiltinOperator::MAX_POOL_2D : BuiltinOperator::AVERAGE_POOL_2D,
                      {x}, {y},
                      kws::tfl::Pool2DOptions{.padding = tflite::Padding::SAME, .stride_w = l.stride,
                                              .stride_h = l.stride, .filter_width = 2, .filter_height = 2});
        break;
      case LType::kMean: {
        const int axis = b.AddConstTensor<int32_t>(nm + "/axis", {2}, TensorType::INT32, std::vector<int32_t>{1, 2});
        b.AddOperator(BuiltinOperator::MEAN, {x, axis}, {y}, kws::tfl::ReducerOptions{.keep_dims = o.keep_dims_mean});
        break;
      }
      case LType::kReshape: {
        const int shp = b.AddConstTensor<int32_t>(nm + "/shape", {2}, TensorType::INT32, l.out_shape);
        b.AddOperator(BuiltinOperator::RESHAPE, {x, shp}, {y}, kws::tfl::ReshapeOptions{l.out_shape});
        break;
      }
      case LType::kFc: {
        int wt, bt;
        if (int8) {
          const QWeights qw = QuantizeWeights(l, false);
          wt = b.AddConstTensor<int8_t>(nm + "/w", l.wshape, TensorType::INT8, qw.q,
                                        kws::tfl::QuantParams::PerTensor(qw.scales[0], 0));
          std::vector<int32_t> bq(l.b.size());
          const float s = qx.scale[0] * qw.scales[0];
          for (size_t c = 0; c < l.b.size(); ++c) bq[c] = int32_t(std::lround(l.b[c] / s));
          bt = b.AddConstTensor<int32_t>(nm + "/b", {int(l.b.size())}, TensorType::INT32, bq,
                                         kws::tfl::QuantParams::PerTensor(s, 0));
        } else {
          wt = b.AddConstTensor<float>(nm + "/w", l.wshape, TensorType::FLOAT32, l.w);
          bt = b.AddConstTensor<float>(nm + "/b", {int(l.b.size())}, TensorType::FLOAT32, l.b);
        }
        b.AddOperator(BuiltinOperator::FULLY_CONNECTED, {x, wt, bt}, {y}, kws::tfl::FullyConnectedOptions{});
        break;
      }
      case LType::kSoftmax:
        b.AddOperator(BuiltinOperator::SOFTMAX, {x}, {y}, kws::tfl::SoftmaxOptions{1.0f});
        break;
    }
    outs.push_back(y);
    x = y;
    qx = qy;
  }
  int graph_out = x;
  if (int8 && o.float_io) {
    graph_out = b.AddTensor("output", layers.back().out_shape, TensorType::FLOAT32);
    b.AddOperator(BuiltinOperator::DEQUANTIZE, {x}, {graph_out}, kws::tfl::DequantizeOptions{});
  }
  b.SetInputs({graph_in});
  b.SetOutputs(all_outputs ? outs : std::vector<int>{graph_out});
  return b.Finish();
}

}  // namespace

std::string SyntheticInputFloat(int64_t elements, uint64_t seed) {
  Rng rng(seed * 104729 + 3);
  std::string s(size_t(elements) * 4, '\0');
  for (int64_t i = 0; i < elements; ++i) {
    const float v = float(rng.Normal());
    std::memcpy(&s[size_t(i) * 4], &v, 4);
  }
  return s;
}

std::string MakeSyntheticModel(const SyntheticModelOptions& o) {
  if (o.frames < 4 || o.bins < 4 || o.filters < 1 || o.classes < 2)
    throw UsageError("synthetic model: frames/bins >= 4, filters >= 1, classes >= 2");
  const std::vector<Layer> layers = MakeLayers(o);
  if (o.kind != Kind::kInt8) return Emit(o, layers, o.kind, {}, false);
  // Calibrate: every layer's output range over a few random inputs.
  const std::string calib = Emit(o, layers, Kind::kFloat, {}, true);
  Interpreter it = Interpreter::FromBuffer("synthetic calibration model", calib);
  std::vector<Range> ranges(layers.size() + 1);
  const int64_t n = it.input(0).elements();
  for (int s = 0; s < 8; ++s) {
    const std::string in = SyntheticInputFloat(n, o.seed * 1000 + uint64_t(s));
    std::memcpy(it.input_data(0), in.data(), in.size());
    const float* inf = reinterpret_cast<const float*>(in.data());
    for (int64_t i = 0; i < n; ++i) {
      ranges[0].lo = std::min(ranges[0].lo, inf[i]);
      ranges[0].hi = std::max(ranges[0].hi, inf[i]);
    }
    it.Invoke();
    for (size_t li = 0; li < layers.size(); ++li) {
      const float* y = static_cast<const float*>(it.output_data(int(li)));
      for (int64_t i = 0; i < it.output(int(li)).elements(); ++i) {
        ranges[li + 1].lo = std::min(ranges[li + 1].lo, y[i]);
        ranges[li + 1].hi = std::max(ranges[li + 1].hi, y[i]);
      }
    }
  }
  return Emit(o, layers, Kind::kInt8, ranges, false);
}

}  // namespace kws::rt
