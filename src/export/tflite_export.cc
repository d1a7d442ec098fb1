#include "export/tflite_export.h"

#include <zip.h>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstring>
#include <limits>
#include <sstream>

#include "export/reference_eval.h"
#include "tflite/builder.h"
#include "util/error.h"

namespace kws {

using ::tflite::BuiltinOperator;
using ::tflite::TensorType;
using ir::Activation;
using ir::OpKind;

const char* QuantModeName(QuantMode m) {
  switch (m) {
    case QuantMode::kFloat: return "float";
    case QuantMode::kDynamic: return "dynamic";
    case QuantMode::kInt8: return "int8";
  }
  return "?";
}

QuantMode ParseQuantMode(const std::string& s) {
  if (s == "float" || s == "float32") return QuantMode::kFloat;
  if (s == "dynamic" || s == "hybrid") return QuantMode::kDynamic;
  if (s == "int8") return QuantMode::kInt8;
  throw UsageError("--quant: unknown mode '" + s + "' (expected float, dynamic or int8)");
}

const char* Int8WeightsName(Int8Weights w) {
  switch (w) {
    case Int8Weights::kPerTensor: return "per-tensor";
    case Int8Weights::kFit: return "fit";
    case Int8Weights::kPerChannel: break;
  }
  return "per-channel";
}

Int8Weights ParseInt8Weights(const std::string& s) {
  if (s == "per-channel") return Int8Weights::kPerChannel;
  if (s == "per-tensor") return Int8Weights::kPerTensor;
  if (s == "fit") return Int8Weights::kFit;
  throw UsageError("--int8-weights: unknown granularity '" + s + "' (expected per-channel, per-tensor or fit)");
}

const char* GlobalPoolName(GlobalPool p) { return p == GlobalPool::kAveragePool ? "avg-pool" : "mean"; }

GlobalPool ParseGlobalPool(const std::string& s) {
  if (s == "mean") return GlobalPool::kMean;
  if (s == "avg-pool" || s == "average-pool") return GlobalPool::kAveragePool;
  throw UsageError("--global-pool: unknown op '" + s + "' (expected mean or avg-pool)");
}

void ExportOptions::Validate() const {
  if (dynamic_min_elements < 0) throw UsageError("export: dynamic_min_elements must be >= 0");
  if (input_quant && (!(input_quant->scale > 0) || !std::isfinite(input_quant->scale) ||
                      input_quant->zero_point < -128 || input_quant->zero_point > 127))
    throw UsageError("export: the fixed int8 input quantization needs scale > 0 and a zero point in -128..127");
  if (int8_weights == Int8Weights::kFit)
    throw InternalError("export: int8_weights 'fit' is resolved by ExportModel into per_tensor_ops");
}

// ---------------------------------------------------------------------------------------------------
// Quantization helpers
// ---------------------------------------------------------------------------------------------------

Calibration Calibrate(const ir::Graph& g, const std::vector<std::vector<float>>& samples) {
  if (samples.empty()) throw UsageError("int8 export: the calibration set is empty");
  Calibration cal;
  cal.min.assign(g.shapes.size(), std::numeric_limits<float>::infinity());
  cal.max.assign(g.shapes.size(), -std::numeric_limits<float>::infinity());
  const size_t n_in = g.NumElements(g.input);
  for (size_t s = 0; s < samples.size(); ++s) {
    if (samples[s].size() != n_in)
      throw UsageError("int8 export: calibration sample " + std::to_string(s) + " has " +
                       std::to_string(samples[s].size()) + " values, the model input needs " + std::to_string(n_in));
    auto values = ir::EvaluateAll(g, samples[s].data());
    for (size_t v = 0; v < values.size(); ++v)
      for (float x : values[v]) {
        if (!std::isfinite(x)) throw BadInput("int8 export: calibration produced a non-finite value in '" + g.names[v] + "'");
        cal.min[v] = std::min(cal.min[v], x);
        cal.max[v] = std::max(cal.max[v], x);
      }
  }
  cal.samples = int(samples.size());
  return cal;
}

AffineQuant ChooseInt8Params(float min, float max) {
  const double qmin = -128, qmax = 127;
  double rmin = std::min<double>(min, 0.0), rmax = std::max<double>(max, 0.0);
  if (rmax - rmin < 1e-12) return {1.0f / 255.0f, -128};  // constant zero tensor: any scale works
  double scale = (rmax - rmin) / (qmax - qmin);
  double zp_from_min = qmin - rmin / scale;
  int zp;
  if (zp_from_min < qmin) zp = int(qmin);
  else if (zp_from_min > qmax) zp = int(qmax);
  else zp = int(std::round(zp_from_min));
  return {float(scale), zp};
}

namespace {
// Which channel along `axis` (-1: one for the whole tensor) each element of a row-major tensor is in.
struct ChannelLayout {
  size_t channels = 1, inner = 1;  // channels along the axis; elements after it
  ChannelLayout(const std::vector<int>& dims, int axis) {
    if (axis < 0) return;
    channels = size_t(dims.at(size_t(axis)));
    for (size_t d = size_t(axis) + 1; d < dims.size(); ++d) inner *= size_t(dims[d]);
  }
  size_t Of(size_t i) const { return (i / inner) % channels; }
};
}  // namespace

std::vector<float> QuantizeSymmetric(const std::vector<float>& w, const std::vector<int>& dims, int axis,
                                     std::vector<int8_t>* q) {
  const ChannelLayout layout(dims, axis);
  const size_t channels = layout.channels;
  auto channel_of = [&](size_t i) { return layout.Of(i); };
  std::vector<float> maxabs(channels, 0.0f);
  for (size_t i = 0; i < w.size(); ++i) maxabs[channel_of(i)] = std::max(maxabs[channel_of(i)], std::fabs(w[i]));
  std::vector<float> scale(channels);
  for (size_t c = 0; c < channels; ++c) scale[c] = maxabs[c] > 0 ? maxabs[c] / 127.0f : 1.0f / 127.0f;
  q->resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    size_t c = channel_of(i);
    float inv = maxabs[c] > 0 ? 127.0f / maxabs[c] : 0.0f;
    float v = std::round(w[i] * inv);
    (*q)[i] = int8_t(std::clamp(v, -127.0f, 127.0f));
  }
  return scale;
}

namespace {
// The axis of an op's per-channel weight scales (CONV_2D: 0, DEPTHWISE_CONV_2D: 3), -1 for none.
int PerChannelAxis(const ir::Op& op) {
  if (op.kind == OpKind::kConv2D) return 0;
  if (op.kind == OpKind::kDepthwiseConv2D) return 3;
  return -1;
}
}  // namespace

double PerChannelGain(const ir::Op& op) {
  const int axis = PerChannelAxis(op);
  if (axis < 0 || op.weights.empty()) return 0.0;
  std::vector<int8_t> q;
  const std::vector<float> per_channel = QuantizeSymmetric(op.weights, op.weight_dims, axis, &q);
  const double whole = double(*std::max_element(per_channel.begin(), per_channel.end()));
  const ChannelLayout layout(op.weight_dims, axis);
  const double per_channel_weights = double(op.weights.size()) / double(layout.channels);
  std::vector<double> power(layout.channels, 0.0);
  for (size_t i = 0; i < op.weights.size(); ++i) power[layout.Of(i)] += double(op.weights[i]) * double(op.weights[i]);
  double gain = 0.0;
  for (size_t c = 0; c < layout.channels; ++c) {
    if (power[c] <= 0.0) continue;
    const double s = double(per_channel[c]);
    gain += (whole * whole - s * s) * per_channel_weights / (12.0 * power[c]);
  }
  return gain / double(layout.channels);
}

std::vector<std::pair<int, int>> PerChannelCandidates(const ir::Graph& g) {
  std::vector<std::pair<int, int>> out;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const int axis = PerChannelAxis(g.ops[i]);
    if (axis >= 0 && !g.ops[i].weights.empty()) out.emplace_back(int(i), g.ops[i].weight_dims.at(size_t(axis)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------------

namespace {

::tflite::ActivationFunctionType ToTfl(Activation a) {
  switch (a) {
    case Activation::kRelu: return ::tflite::ActivationFunctionType::RELU;
    case Activation::kRelu6: return ::tflite::ActivationFunctionType::RELU6;
    case Activation::kNone: break;
  }
  return ::tflite::ActivationFunctionType::NONE;
}

::tflite::Padding ToTfl(ir::Padding p) {
  return p == ir::Padding::kSame ? ::tflite::Padding::SAME : ::tflite::Padding::VALID;
}

class Exporter {
 public:
  Exporter(const ir::Graph& g, const ExportOptions& o, const Calibration* cal, ExportInfo* info)
      : g_(g), o_(o), cal_(cal), info_(info) {}

  std::string Run() {
    g_.Validate();
    o_.Validate();
    const bool int8 = o_.quant == QuantMode::kInt8;
    if (int8) {
      if (!cal_ || cal_->min.size() != g_.shapes.size())
        throw UsageError("int8 export needs a calibration (representative data) for this graph");
    }
    value_tensor_.assign(g_.shapes.size(), -1);
    value_quant_.assign(g_.shapes.size(), AffineQuant{});
    if (int8) TieQuantization();

    // Input.
    if (int8) {
      value_quant_[g_.input] = o_.input_quant ? *o_.input_quant : Int8ParamsOf(g_.input);
      if (o_.int8_io) {
        value_tensor_[g_.input] = AddValueTensor(g_.input);
        b_.SetInputs({value_tensor_[g_.input]});
      } else {
        int f = b_.AddTensor(g_.names[g_.input], g_.shapes[g_.input], TensorType::FLOAT32);
        value_tensor_[g_.input] = AddValueTensor(g_.input, "_int8");
        b_.AddOperator(BuiltinOperator::QUANTIZE, {f}, {value_tensor_[g_.input]}, tfl::QuantizeOptions{}, 1);
        b_.SetInputs({f});
      }
      info_->input_quant = value_quant_[g_.input];
    } else {
      value_tensor_[g_.input] = AddValueTensor(g_.input);
      b_.SetInputs({value_tensor_[g_.input]});
    }

    for (const ir::Op& op : g_.ops) EmitOp(op);

    int out = value_tensor_[g_.output];
    if (int8) {
      info_->output_quant = value_quant_[g_.output];
      if (!o_.int8_io) {
        int f = b_.AddTensor(g_.names[g_.output] + "_float", g_.shapes[g_.output], TensorType::FLOAT32);
        b_.AddOperator(BuiltinOperator::DEQUANTIZE, {out}, {f}, tfl::DequantizeOptions{}, 2);
        out = f;
      }
    }
    b_.SetOutputs({out});
    b_.SetDescription(o_.description);
    b_.SetWriteSignature(o_.write_signature);
    b_.SetLegacyOpcodes(o_.legacy_opcodes);
    if (o_.metadata) {
      tfl::KwsMetadata md = *o_.metadata;
      md.quant = QuantModeName(o_.quant);
      tfl::AddKwsMetadata(b_, md);
    }
    info_->ops_used = g_.OpsUsed();
    if (means_as_pool_ > 0) {  // some or all MEANs were written as AVERAGE_POOL_2D
      auto& u = info_->ops_used;
      auto mean = std::find(u.begin(), u.end(), std::string("MEAN"));
      const bool have_pool = std::find(u.begin(), u.end(), std::string("AVERAGE_POOL_2D")) != u.end();
      const bool all = means_as_pool_ == int(std::count_if(g_.ops.begin(), g_.ops.end(),
                                                           [](const ir::Op& o) { return o.kind == OpKind::kMean; }));
      if (mean != u.end()) {
        if (all && have_pool) u.erase(mean);
        else if (all) *mean = "AVERAGE_POOL_2D";
        else if (!have_pool) u.insert(mean + 1, "AVERAGE_POOL_2D");
      }
    }
    if (int8 && !o_.int8_io) {
      info_->ops_used.insert(info_->ops_used.begin(), "QUANTIZE");
      info_->ops_used.push_back("DEQUANTIZE");
    }
    info_->arena_bytes_estimate = ArenaEstimate();
    return b_.Finish(&info_->bytes);
  }

 private:
  std::string CName(const ir::Op& op, const char* suffix) const {
    return o_.const_tensor_names ? op.name + suffix : std::string();
  }
  TensorType ActType() const { return o_.quant == QuantMode::kInt8 ? TensorType::INT8 : TensorType::FLOAT32; }

  int AddValueTensor(int v, const std::string& suffix = "", const std::optional<std::vector<int>>& shape = {}) {
    tfl::QuantParams q;
    if (o_.quant == QuantMode::kInt8) q = tfl::QuantParams::PerTensor(value_quant_[v].scale, value_quant_[v].zero_point);
    return b_.AddTensor(g_.names[v] + suffix, shape ? *shape : g_.shapes[v], ActType(), 0, q);
  }

  // int8: values that must share one scale and zero point (TFLite's int8 CONCATENATION requires its
  // inputs and output to agree; AVERAGE/MAX_POOL_2D, RESHAPE and PAD outputs keep their input's) form
  // groups; a group's parameters come from the union of its members' calibrated ranges. A value alone
  // gets its own range (so graphs without CONCATENATION quantize exactly as before).
  void TieQuantization() {
    root_.resize(g_.shapes.size());
    for (size_t v = 0; v < root_.size(); ++v) root_[v] = int(v);
    for (const ir::Op& op : g_.ops) {
      switch (op.kind) {
        case OpKind::kAveragePool2D:
        case OpKind::kMaxPool2D:
        case OpKind::kReshape:
        case OpKind::kPad:
          Unite(op.input, op.output);
          break;
        case OpKind::kConcatenation:
          Unite(op.input, op.output);
          for (int m : op.more_inputs) Unite(m, op.output);
          break;
        default:
          break;
      }
    }
    group_min_.assign(g_.shapes.size(), std::numeric_limits<float>::infinity());
    group_max_.assign(g_.shapes.size(), -std::numeric_limits<float>::infinity());
    for (size_t v = 0; v < root_.size(); ++v) {
      const int r = Find(int(v));
      group_min_[size_t(r)] = std::min(group_min_[size_t(r)], cal_->min[v]);
      group_max_[size_t(r)] = std::max(group_max_[size_t(r)], cal_->max[v]);
    }
    for (const ir::Op& op : g_.ops)  // fixed output scales cannot join a group
      if ((op.kind == OpKind::kLogistic || op.kind == OpKind::kSoftmax) && GroupSize(op.output) > 1)
        throw UsageError("int8 export: the output of '" + op.name + "' (" + ir::OpKindName(op.kind) +
                         ", fixed int8 scale) cannot feed a CONCATENATION");
  }
  int Find(int v) { return root_[size_t(v)] == v ? v : root_[size_t(v)] = Find(root_[size_t(v)]); }
  void Unite(int a, int b) { root_[size_t(Find(a))] = Find(b); }
  int GroupSize(int v) {
    int n = 0;
    for (size_t u = 0; u < root_.size(); ++u) n += Find(int(u)) == Find(v);
    return n;
  }
  AffineQuant Int8ParamsOf(int v) {
    const int r = Find(v);
    return ChooseInt8Params(group_min_[size_t(r)], group_max_[size_t(r)]);
  }

  // int8 operand: a constant tensor quantized asymmetrically over its own range.
  int AddInt8Constant(const ir::Op& op, const char* suffix) {
    float lo = 0, hi = 0;
    for (float c : op.weights) lo = std::min(lo, c), hi = std::max(hi, c);
    const AffineQuant q = ChooseInt8Params(lo, hi);
    std::vector<int8_t> data(op.weights.size());
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = int8_t(std::clamp(std::lround(op.weights[i] / q.scale) + q.zero_point, -128L, 127L));
    return b_.AddConstTensor(CName(op, suffix), op.weight_dims, TensorType::INT8, data,
                             tfl::QuantParams::PerTensor(q.scale, q.zero_point));
  }

  // global_pool = kAveragePool: a MEAN whose result is read only by FULLY_CONNECTED ops (which flatten
  // their input) is written as a whole-extent AVERAGE_POOL_2D with a [1,1,1,C] output.
  bool MeanAsPool(const ir::Op& op) const {
    if (o_.global_pool != GlobalPool::kAveragePool || op.output == g_.output) return false;
    const auto& is = g_.shapes[op.input];
    if (is.size() != 4 || is[0] != 1) return false;
    bool used = false;
    for (const ir::Op& o : g_.ops)
      if (o.input == op.output) {
        if (o.kind != OpKind::kFullyConnected) return false;
        used = true;
      }
    return used;
  }

  // ExportOptions::per_tensor_ops lists op (by index into g_.ops).
  bool PerTensorOp(const ir::Op& op) const {
    const int index = int(&op - g_.ops.data());
    return std::find(o_.per_tensor_ops.begin(), o_.per_tensor_ops.end(), index) != o_.per_tensor_ops.end();
  }

  // Adds the weight (+ bias) tensors of a conv/depthwise/fc op; returns {weights, bias, hybrid?}.
  struct Weights { int w, b; bool quantized; };
  Weights AddWeights(const ir::Op& op, int axis) {
    const bool int8 = o_.quant == QuantMode::kInt8;
    const bool quantize = int8 || (o_.quant == QuantMode::kDynamic &&
                                   op.weights.size() >= size_t(o_.dynamic_min_elements));
    Weights r{};
    r.quantized = quantize;
    if (!quantize) {
      r.w = b_.AddConstTensor(CName(op, "/weights"), op.weight_dims, TensorType::FLOAT32, op.weights);
      r.b = b_.AddConstTensor(CName(op, "/bias"), {int(op.bias.size())}, TensorType::FLOAT32, op.bias);
      ++info_->float_weight_tensors;
      return r;
    }
    ++info_->quantized_weight_tensors;
    std::vector<int8_t> q;
    if (int8 && (o_.int8_weights == Int8Weights::kPerTensor || PerTensorOp(op))) axis = -1;
    std::vector<float> scales = QuantizeSymmetric(op.weights, op.weight_dims, axis, &q);
    tfl::QuantParams wq;
    wq.scale = scales;
    wq.zero_point.assign(scales.size(), 0);
    wq.quantized_dimension = axis < 0 ? 0 : axis;
    r.w = b_.AddConstTensor(CName(op, "/weights"), op.weight_dims, TensorType::INT8, q, wq);
    if (!int8) {
      r.b = b_.AddConstTensor(CName(op, "/bias"), {int(op.bias.size())}, TensorType::FLOAT32, op.bias);
      return r;
    }
    // int32 bias, scale = input_scale * weight_scale[c] (computed in float like the converter).
    const float in_scale = value_quant_[op.input].scale;
    std::vector<int32_t> qb(op.bias.size());
    tfl::QuantParams bq;
    bq.quantized_dimension = 0;
    for (size_t c = 0; c < op.bias.size(); ++c) {
      float s = in_scale * scales[scales.size() == 1 ? 0 : c];
      double v = std::round(double(op.bias[c]) / double(s));
      v = std::clamp(v, -2147483647.0, 2147483647.0);
      qb[c] = int32_t(v);
    }
    for (size_t c = 0; c < scales.size(); ++c) {
      bq.scale.push_back(in_scale * scales[c]);
      bq.zero_point.push_back(0);
    }
    r.b = b_.AddConstTensor(CName(op, "/bias"), {int(op.bias.size())}, TensorType::INT32, qb, bq);
    return r;
  }

  void EmitOp(const ir::Op& op) {
    const bool int8 = o_.quant == QuantMode::kInt8;
    const int x = value_tensor_[op.input];
    // Output quantization.
    if (int8) {
      switch (op.kind) {
        case OpKind::kAveragePool2D:
        case OpKind::kMaxPool2D:
        case OpKind::kReshape:
        case OpKind::kPad:
          value_quant_[op.output] = value_quant_[op.input];
          break;
        case OpKind::kMean:
          value_quant_[op.output] = MeanAsPool(op) ? value_quant_[op.input] : Int8ParamsOf(op.output);
          break;
        case OpKind::kSoftmax:
        case OpKind::kLogistic:  // TFLite's int8 LOGISTIC/SOFTMAX output scale: 1/256, zero point -128
          value_quant_[op.output] = {1.0f / 256.0f, -128};
          break;
        default:
          value_quant_[op.output] = Int8ParamsOf(op.output);
      }
    }
    const bool mean_as_pool = op.kind == OpKind::kMean && MeanAsPool(op);
    std::optional<std::vector<int>> shape;
    if (mean_as_pool) shape = std::vector<int>{1, 1, 1, g_.shapes[op.output].back()};
    const int y = AddValueTensor(op.output, "", shape);
    value_tensor_[op.output] = y;

    switch (op.kind) {
      case OpKind::kConv2D: {
        Weights w = AddWeights(op, 0);
        int version = int8 ? 3 : (w.quantized ? (op.weight_dims[0] > 1 ? 5 : 2) : 1);
        b_.AddOperator(BuiltinOperator::CONV_2D, {x, w.w, w.b}, {y},
                       tfl::Conv2DOptions{ToTfl(op.padding), op.stride_w, op.stride_h, ToTfl(op.activation),
                                          op.dilation_w, op.dilation_h},
                       version);
        break;
      }
      case OpKind::kDepthwiseConv2D: {
        Weights w = AddWeights(op, 3);
        int version = int8 ? 3 : (w.quantized ? (op.weight_dims[3] > 1 ? 6 : 4) : 1);
        b_.AddOperator(BuiltinOperator::DEPTHWISE_CONV_2D, {x, w.w, w.b}, {y},
                       tfl::DepthwiseConv2DOptions{ToTfl(op.padding), op.stride_w, op.stride_h,
                                                   op.depth_multiplier, ToTfl(op.activation), op.dilation_w,
                                                   op.dilation_h},
                       version);
        break;
      }
      case OpKind::kFullyConnected: {
        Weights w = AddWeights(op, -1);
        bool hybrid = w.quantized && !int8;
        bool asym = hybrid && o_.dynamic_fc_asymmetric_inputs;
        int version = int8 ? 4 : (hybrid ? (asym ? 9 : 3) : 1);
        b_.AddOperator(BuiltinOperator::FULLY_CONNECTED, {x, w.w, w.b}, {y},
                       tfl::FullyConnectedOptions{ToTfl(op.activation), false, asym}, version);
        break;
      }
      case OpKind::kAveragePool2D:
      case OpKind::kMaxPool2D:
        b_.AddOperator(op.kind == OpKind::kAveragePool2D ? BuiltinOperator::AVERAGE_POOL_2D : BuiltinOperator::MAX_POOL_2D,
                       {x}, {y},
                       tfl::Pool2DOptions{ToTfl(op.padding), op.stride_w, op.stride_h, op.filter_w, op.filter_h},
                       int8 ? 2 : 1);
        break;
      case OpKind::kMean: {
        if (!op.axes.empty()) {
          int axes = b_.AddConstTensor(CName(op, "/axes"), {int(op.axes.size())}, TensorType::INT32,
                                       std::vector<int32_t>(op.axes.begin(), op.axes.end()));
          b_.AddOperator(BuiltinOperator::MEAN, {x, axes}, {y}, tfl::ReducerOptions{true}, int8 ? 2 : 1);
          break;
        }
        if (mean_as_pool) {
          ++means_as_pool_;
          const auto& is = g_.shapes[op.input];  // [1,H,W,C]
          b_.AddOperator(BuiltinOperator::AVERAGE_POOL_2D, {x}, {y},
                         tfl::Pool2DOptions{::tflite::Padding::VALID, 1, 1, is[2], is[1]}, int8 ? 2 : 1);
          break;
        }
        int axes = b_.AddConstTensor(CName(op, "/axes"), {2}, TensorType::INT32, std::vector<int32_t>{1, 2});
        b_.AddOperator(BuiltinOperator::MEAN, {x, axes}, {y}, tfl::ReducerOptions{false}, int8 ? 2 : 1);
        break;
      }
      case OpKind::kReshape: {
        std::vector<int32_t> shape(op.new_shape.begin(), op.new_shape.end());
        int s = b_.AddConstTensor(CName(op, "/shape"), {int(shape.size())}, TensorType::INT32, shape);
        b_.AddOperator(BuiltinOperator::RESHAPE, {x, s}, {y}, tfl::ReshapeOptions{op.new_shape}, 1);
        break;
      }
      case OpKind::kSoftmax:
        b_.AddOperator(BuiltinOperator::SOFTMAX, {x}, {y}, tfl::SoftmaxOptions{op.beta}, int8 ? 2 : 1);
        break;
      default:
        EmitGraphOp(op, x, y);
    }
  }

  // The ops graph models add: ADD, MUL (a value or a constant operand), CONCATENATION, LOGISTIC,
  // HARD_SWISH, PAD.
  void EmitGraphOp(const ir::Op& op, int x, int y) {
    const bool int8 = o_.quant == QuantMode::kInt8;
    switch (op.kind) {
      case OpKind::kAdd:
      case OpKind::kMul: {
        int other;
        if (!op.more_inputs.empty()) other = value_tensor_[op.more_inputs[0]];
        else if (int8) other = AddInt8Constant(op, "/constant");
        else other = b_.AddConstTensor(CName(op, "/constant"), op.weight_dims, TensorType::FLOAT32, op.weights);
        if (op.kind == OpKind::kAdd)
          b_.AddOperator(BuiltinOperator::ADD, {x, other}, {y}, tfl::AddOptions{ToTfl(op.activation)}, int8 ? 2 : 1);
        else
          b_.AddOperator(BuiltinOperator::MUL, {x, other}, {y}, tfl::MulOptions{ToTfl(op.activation)}, int8 ? 2 : 1);
        break;
      }
      case OpKind::kConcatenation: {
        std::vector<int> ins = {x};
        for (int m : op.more_inputs) ins.push_back(value_tensor_[m]);
        b_.AddOperator(BuiltinOperator::CONCATENATION, ins, {y},
                       tfl::ConcatenationOptions{int(g_.shapes[op.output].size()) - 1}, int8 ? 2 : 1);
        break;
      }
      case OpKind::kLogistic:
        b_.AddOperator(BuiltinOperator::LOGISTIC, {x}, {y}, {}, int8 ? 2 : 1);
        break;
      case OpKind::kHardSwish:
        b_.AddOperator(BuiltinOperator::HARD_SWISH, {x}, {y}, {}, 1);
        break;
      case OpKind::kPad: {
        const auto& p = op.paddings;
        int pads = b_.AddConstTensor(CName(op, "/paddings"), {4, 2}, TensorType::INT32,
                                     std::vector<int32_t>{0, 0, p[0], p[1], p[2], p[3], 0, 0});
        b_.AddOperator(BuiltinOperator::PAD, {x, pads}, {y}, tfl::PadOptions{}, int8 ? 2 : 1);
        break;
      }
      default:
        throw InternalError(std::string("tflite export: op kind ") + ir::OpKindName(op.kind) + " not handled");
    }
  }

  // Peak bytes of the values alive at once: each from the op that writes it to the last op that reads it
  // (the output to the end); for a chain that is one op's input plus its output.
  size_t ArenaEstimate() const {
    const size_t elem = o_.quant == QuantMode::kInt8 ? 1 : 4;
    std::vector<int> born(g_.shapes.size(), -1), last(g_.shapes.size(), -1);
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      const ir::Op& op = g_.ops[i];
      born[size_t(op.output)] = int(i);
      last[size_t(op.input)] = int(i);
      for (int m : op.more_inputs) last[size_t(m)] = int(i);
    }
    last[size_t(g_.output)] = int(g_.ops.size());
    size_t peak = 0;
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      const ir::Op& op = g_.ops[i];
      size_t live = 0;
      for (size_t v = 0; v < g_.shapes.size(); ++v)
        if (born[v] <= int(i) && last[v] >= int(i) && (born[v] >= 0 || v == size_t(g_.input)))
          live += g_.NumElements(int(v)) * elem;
      // Hybrid ops keep an int8 copy of their input plus per-row scale/offset scratch.
      if (o_.quant == QuantMode::kDynamic && op.weights.size() >= size_t(o_.dynamic_min_elements) &&
          (op.kind == OpKind::kConv2D || op.kind == OpKind::kDepthwiseConv2D || op.kind == OpKind::kFullyConnected))
        live += g_.NumElements(op.input) + 64;
      peak = std::max(peak, live);
    }
    return peak;
  }

  const ir::Graph& g_;
  const ExportOptions& o_;
  const Calibration* cal_;
  ExportInfo* info_;
  tfl::ModelBuilder b_;
  std::vector<int> value_tensor_;
  std::vector<AffineQuant> value_quant_;
  std::vector<int> root_;                    // int8: quantization groups (TieQuantization)
  std::vector<float> group_min_, group_max_;
  int means_as_pool_ = 0;
};

}  // namespace

std::string ExportTflite(const ir::Graph& g, const ExportOptions& opts, const Calibration* calibration,
                         ExportInfo* info) {
  ExportInfo local;
  Exporter e(g, opts, calibration, info ? info : &local);
  return e.Run();
}

// ---------------------------------------------------------------------------------------------------
// C source and zip
// ---------------------------------------------------------------------------------------------------

std::string ToCSource(std::string_view bytes, const std::string& name, const std::string& comment) {
  bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) throw UsageError("--name: '" + name + "' is not a C identifier");
  std::ostringstream os;
  os << "// Generated by kws export. Do not edit.\n";
  std::istringstream cs(comment);
  for (std::string line; std::getline(cs, line);) os << "// " << line << "\n";
  os << "#include <stddef.h>\n\n";
  os << "#if defined(__cplusplus)\n#define KWS_ALIGN16 alignas(16)\n"
     // A prior extern declaration gives the const arrays external linkage in C++ too.
     << "extern const unsigned char " << name << "[];\nextern const unsigned int " << name << "_len;\n"
     << "#else\n#define KWS_ALIGN16 _Alignas(16)\n#endif\n\n";
  os << "KWS_ALIGN16 const unsigned char " << name << "[] = {";
  static const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i % 12 == 0) os << "\n  ";
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    os << "0x" << hex[c >> 4] << hex[c & 15] << (i + 1 < bytes.size() ? ", " : "");
  }
  os << "\n};\nconst unsigned int " << name << "_len = " << bytes.size() << ";\n";
  return os.str();
}

std::string ZipBytes(std::string_view bytes, const std::string& entry_name, int level) {
  if (level < 0 || level > 9) throw UsageError("zip: compression level must be 0..9");
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* archive_src = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (!archive_src) throw InternalError(std::string("zip: cannot create a memory source: ") + zip_error_strerror(&err));
  zip_source_keep(archive_src);
  zip_t* za = zip_open_from_source(archive_src, ZIP_TRUNCATE, &err);
  if (!za) {
    zip_source_free(archive_src);
    throw InternalError(std::string("zip: cannot open an in-memory archive: ") + zip_error_strerror(&err));
  }
  auto fail = [&](const std::string& what) {
    std::string msg = "zip: " + what + ": " + zip_strerror(za);
    zip_discard(za);
    zip_source_free(archive_src);
    throw InternalError(msg);
  };
  zip_source_t* file_src = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
  if (!file_src) fail("cannot wrap the data");
  zip_int64_t idx = zip_file_add(za, entry_name.c_str(), file_src, ZIP_FL_ENC_UTF_8);
  if (idx < 0) {
    zip_source_free(file_src);
    fail("cannot add '" + entry_name + "'");
  }
  if (zip_set_file_compression(za, zip_uint64_t(idx), ZIP_CM_DEFLATE, zip_uint32_t(level)) < 0) fail("cannot set deflate");
  // Fixed timestamp so the archive (and its size) is deterministic.
  zip_file_set_mtime(za, zip_uint64_t(idx), 315532800 + 86400, 0);
  if (zip_close(za) < 0) fail("cannot write the archive");

  std::string out;
  if (zip_source_open(archive_src) < 0) {
    zip_source_free(archive_src);
    throw InternalError("zip: cannot reopen the in-memory archive");
  }
  char chunk[65536];
  for (;;) {
    zip_int64_t n = zip_source_read(archive_src, chunk, sizeof(chunk));
    if (n < 0) {
      zip_source_close(archive_src);
      zip_source_free(archive_src);
      throw InternalError("zip: cannot read the in-memory archive");
    }
    if (n == 0) break;
    out.append(chunk, size_t(n));
  }
  zip_source_close(archive_src);
  zip_source_free(archive_src);
  return out;
}

size_t ZipSize(std::string_view bytes, const std::string& entry_name, int level) {
  return ZipBytes(bytes, entry_name, level).size();
}

}  // namespace kws
