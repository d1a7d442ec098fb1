#include "runtime/ops/helpers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace kws::rt::ops {

void Arity(PrepareContext& ctx, int min_in, int max_in, int n_out) {
  const int ni = ctx.num_inputs(), no = ctx.num_outputs();
  ctx.Need(ni >= min_in && ni <= max_in, std::to_string(ni) + " inputs (expected " + std::to_string(min_in) +
                                             (max_in != min_in ? "–" + std::to_string(max_in) : "") + ")");
  ctx.Need(no == n_out, std::to_string(no) + " outputs (expected " + std::to_string(n_out) + ")");
  for (int k = 0; k < min_in; ++k)
    ctx.Need(ctx.input(k) >= 0, "required input " + std::to_string(k) + " is omitted (-1)");
}

void Rank(PrepareContext& ctx, int t, size_t rank, const char* role) {
  ctx.Need(ctx.tensor(t).shape.size() == rank, std::string(role) + " tensor " + std::to_string(t) + " has shape " +
                                                   ShapeStr(ctx.tensor(t).shape) + " (expected rank " +
                                                   std::to_string(rank) + ")");
}

void Constant(PrepareContext& ctx, int t, const char* role) {
  ctx.Need(ctx.tensor(t).is_const, std::string(role) + " tensor " + std::to_string(t) + " must be a constant");
}

void PerTensorQ(PrepareContext& ctx, int t, const char* role) {
  const Tensor& x = ctx.tensor(t);
  ctx.Need(x.scales.size() == 1, std::string(role) + " tensor " + std::to_string(t) +
                                     " is int8 without per-tensor quantization (scale, zero point)");
  ctx.Need(x.zero_points[0] >= -128 && x.zero_points[0] <= 127,
           std::string(role) + " zero point " + std::to_string(x.zero_points[0]) + " outside int8");
}

void SameQ(PrepareContext& ctx, int a, int b) {
  ctx.Need(ctx.tensor(a).scales[0] == ctx.tensor(b).scales[0] &&
               ctx.tensor(a).zero_points[0] == ctx.tensor(b).zero_points[0],
           "input and output quantization differ (this op keeps scale and zero point)");
}

void SameType(PrepareContext& ctx, int a, int b) {
  ctx.Need(ctx.tensor(a).type == ctx.tensor(b).type, "input and output types differ");
}

void UnsupportedType(PrepareContext& ctx, DType t) { ctx.Fail(std::string("type ") + DTypeName(t) + " not supported"); }

Activation ToActivation(PrepareContext& ctx, tflite::ActivationFunctionType a) {
  switch (a) {
    case tflite::ActivationFunctionType::NONE: return Activation::kNone;
    case tflite::ActivationFunctionType::RELU: return Activation::kRelu;
    case tflite::ActivationFunctionType::RELU6: return Activation::kRelu6;
    case tflite::ActivationFunctionType::RELU_N1_TO_1: return Activation::kReluN1To1;
    default: ctx.Fail("fused activation " + std::to_string(int(a)) + " not supported");
  }
}

void Geometry(PrepareContext& ctx, tflite::Padding pad, int stride_h, int stride_w, int dil_h, int dil_w, int kh,
              int kw, const Shape4& is, ConvGeometry* g, int* oh, int* ow) {
  ctx.Need(stride_h >= 1 && stride_w >= 1 && stride_h <= 65536 && stride_w <= 65536,
           "stride " + std::to_string(stride_h) + "x" + std::to_string(stride_w) + " (must be >= 1)");
  ctx.Need(dil_h >= 1 && dil_w >= 1 && dil_h <= 65536 && dil_w <= 65536, "dilation must be >= 1");
  ctx.Need(pad == tflite::Padding::SAME || pad == tflite::Padding::VALID, "unknown padding");
  auto dim = [&](int in, int k, int s, int d, int* pad_before) {
    const int64_t eff = int64_t(k - 1) * d + 1;
    if (eff > (1 << 20)) ctx.Fail("window " + std::to_string(eff) + " too large");
    const int64_t out = pad == tflite::Padding::SAME ? (int64_t(in) + s - 1) / s : (int64_t(in) - eff + s) / s;
    if (out <= 0) ctx.Fail("window " + std::to_string(eff) + " larger than input " + std::to_string(in) + " (VALID)");
    const int64_t total = (out - 1) * s + eff - in;
    *pad_before = int(std::max<int64_t>(total / 2, 0));
    return int(out);
  };
  g->stride_h = stride_h;
  g->stride_w = stride_w;
  g->dilation_h = dil_h;
  g->dilation_w = dil_w;
  *oh = dim(is.h, kh, stride_h, dil_h, &g->pad_top);
  *ow = dim(is.w, kw, stride_w, dil_w, &g->pad_left);
}

Shape4 To4(const std::vector<int>& s) { return Shape4{s[0], s[1], s[2], s[3]}; }

std::vector<float> WeightScales(PrepareContext& ctx, int t, int channels, int axis, QuantParams* q,
                                bool* uint8_weights) {
  const Tensor& x = ctx.tensor(t);
  const std::string name = "weight tensor " + std::to_string(t);
  ctx.Need(x.scales.size() == 1 || int(x.scales.size()) == channels,
           name + " has " + std::to_string(x.scales.size()) + " scales (expected 1 or " + std::to_string(channels) + ")");
  if (x.scales.size() > 1)
    ctx.Need(x.quantized_dimension == axis, name + " quantized along dimension " +
                                                std::to_string(x.quantized_dimension) + " (expected " +
                                                std::to_string(axis) + ")");
  if (x.uint8) {  // legacy uint8 weights: asymmetric, per tensor
    ctx.Need(x.scales.size() == 1, "uint8 " + name + " must be quantized per tensor");
    q->weight_offset = -int32_t(x.zero_points[0]);
    *uint8_weights = true;
  } else {
    for (int64_t z : x.zero_points) ctx.Need(z == 0, name + " has a non-zero zero point");
  }
  std::vector<float> s(static_cast<size_t>(channels));
  for (int c = 0; c < channels; ++c) s[size_t(c)] = x.scales.size() == 1 ? x.scales[0] : x.scales[size_t(c)];
  return s;
}

void BiasCheck(PrepareContext& ctx, int t, int channels, DType type) {
  if (t < 0) return;
  Rank(ctx, t, 1, "bias");
  const Tensor& x = ctx.tensor(t);
  ctx.Need(x.shape[0] == channels,
           "bias has " + std::to_string(x.shape[0]) + " values for " + std::to_string(channels) + " channels");
  ctx.Need(x.type == type, std::string("bias type ") + DTypeName(x.type) + " (expected " + DTypeName(type) + ")");
  Constant(ctx, t, "bias");
}

void AccumulatorFits(PrepareContext& ctx, int64_t k, int bias) {
  int64_t max_bias = 0;
  if (bias >= 0 && ctx.tensor(bias).type == DType::kInt32) {
    const Tensor& b = ctx.tensor(bias);
    for (int64_t i = 0; i < b.elements; ++i) {
      int32_t v;
      std::memcpy(&v, b.data + 4 * i, 4);
      max_bias = std::max<int64_t>(max_bias, std::abs(int64_t(v)));
    }
  }
  ctx.Need(k * 128 * 256 * 2 + max_bias < (int64_t(1) << 31),
           "accumulator could overflow int32 (" + std::to_string(k) + " products per output, bias up to " +
               std::to_string(max_bias) + ")");
}

void PrepareRequant(PrepareContext& ctx, int in, const std::vector<float>& wscales, int out, bool float_product,
                    Activation act, Requant* r) {
  const float si = ctx.tensor(in).scales[0], so = ctx.tensor(out).scales[0];
  const int32_t zp_out = int32_t(ctx.tensor(out).zero_points[0]);
  r->mult.resize(wscales.size());
  r->shift.resize(wscales.size());
  r->fp32_scale.clear();
  for (size_t c = 0; c < wscales.size(); ++c) {
    const double real =
        float_product ? double(si * wscales[c]) / double(so) : double(si) * double(wscales[c]) / double(so);
    QuantizeMultiplier(real, &r->mult[c], &r->shift[c]);
    r->fp32_scale.push_back(si * wscales[c] / so);  // float arithmetic, as XNNPACK
    ctx.Need(std::isfinite(r->fp32_scale.back()) && r->fp32_scale.back() < 65536.0f,
             "requantization scale input·weight/output = " + std::to_string(real) + " out of range");
  }
  r->q.input_offset = -int32_t(ctx.tensor(in).zero_points[0]);
  r->q.output_offset = zp_out;
  ActivationRangeInt8(act, so, zp_out, &r->q.act_min, &r->q.act_max);
  // XNNPACK clamps to lrint(limit/scale) + zp (ties to even).
  auto q = [&](float v) { return zp_out + int32_t(std::nearbyint(std::clamp(v / so, -1.0e6f, 1.0e6f))); };
  r->q_xnn = r->q;
  r->q_xnn.fp32_scale = r->fp32_scale.data();
  r->q_xnn.act_min = -128;
  r->q_xnn.act_max = 127;
  if (act != Activation::kNone) r->q_xnn.act_min = std::max(-128, q(act == Activation::kReluN1To1 ? -1.0f : 0.0f));
  if (act == Activation::kRelu6) r->q_xnn.act_max = std::min(127, q(6.0f));
  if (act == Activation::kReluN1To1) r->q_xnn.act_max = std::min(127, q(1.0f));
}

std::vector<int32_t> Int32Values(PrepareContext& ctx, int t, const char* role) {
  const Tensor& x = ctx.tensor(t);
  ctx.Need(x.type == DType::kInt32 && (x.is_const || x.elements == 0),
           std::string(role) + " must be a constant int32 tensor");
  std::vector<int32_t> v(size_t(x.elements));
  if (x.elements > 0) std::memcpy(v.data(), x.data, v.size() * 4);
  return v;
}

}  // namespace kws::rt::ops

namespace kws::rt::ops {

void CopyIntoSubgraph(EvalContext& ctx, int s, const int* t, int n) {
  Subgraph& callee = ctx.graph().subgraphs[size_t(s)];
  const Subgraph& caller = ctx.subgraph();
  for (int k = 0; k < n; ++k) {
    Tensor& dst = callee.tensors[size_t(callee.inputs[size_t(k)])];
    if (dst.is_const || dst.bytes == 0) continue;
    std::memcpy(dst.data, caller.tensors[size_t(t[k])].data, dst.bytes);
  }
}

void CopyFromSubgraph(EvalContext& ctx, int s, const int* t, int n) {
  const Subgraph& callee = ctx.graph().subgraphs[size_t(s)];
  Subgraph& caller = ctx.subgraph();
  for (int k = 0; k < n; ++k) {
    Tensor& dst = caller.tensors[size_t(t[k])];
    if (dst.bytes == 0) continue;
    std::memcpy(dst.data, callee.tensors[size_t(callee.outputs[size_t(k)])].data, dst.bytes);
  }
}

void ConvOperands(PrepareContext& ctx, Shape4* input, Shape4* filter) {
  Arity(ctx, 2, 3, 1);
  Rank(ctx, ctx.input(0), 4, "input");
  Rank(ctx, ctx.input(1), 4, "filter");
  Constant(ctx, ctx.input(1), "filter");
  *input = To4(ctx.tensor(ctx.input(0)).shape);
  *filter = To4(ctx.tensor(ctx.input(1)).shape);
}

bool PrepareBroadcastBinary(PrepareContext& ctx, Activation act, ref::Broadcast4* bc, FloatAct* fact) {
  const int ai = ctx.input(0), bi = ctx.input(1), yi = ctx.output(0);
  const Tensor &a = ctx.tensor(ai), &b = ctx.tensor(bi), &y = ctx.tensor(yi);
  ctx.Need(ref::MakeBroadcast4(a.shape, b.shape, bc), "input shapes " + ShapeStr(a.shape) + " and " +
                                                          ShapeStr(b.shape) + " do not broadcast (or rank > 4)");
  ctx.SetOutputShape(0, std::vector<int>(bc->out + 4 - std::max(a.shape.size(), b.shape.size()), bc->out + 4));
  ctx.Need(a.type == y.type && b.type == y.type, "input and output types differ");
  if (y.type == DType::kFloat32) {
    ActivationRangeFloat(act, &fact->min, &fact->max);
    return false;
  }
  if (y.type != DType::kInt8) UnsupportedType(ctx, y.type);
  PerTensorQ(ctx, ai, "input 1");
  PerTensorQ(ctx, bi, "input 2");
  PerTensorQ(ctx, yi, "output");
  return true;
}

}  // namespace kws::rt::ops
