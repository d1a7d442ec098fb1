// LOGISTIC, TANH, RELU, RELU6: float32 and int8 (kernels/reference/activations.h).
// int8 LOGISTIC / TANH use a 256-entry table (output 1/256 & −128 / 1/128 & 0);
// int8 RELU / RELU6 requantize and clamp.
#include <cmath>

#include "runtime/kernels/reference/activations.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

enum class Fn { kLogistic, kTanh, kRelu, kRelu6 };
enum class Kind { kLogisticFloat, kTanhFloat, kClampFloat, kLutInt8, kReluInt8 };

struct ActData : OpData {
  Kind kind = Kind::kClampFloat;
  int64_t n = 0;
  FloatAct fact;
  std::vector<int8_t> lut;
  ref::ReluInt8Params relu;
};

void PrepareInt8(PrepareContext& ctx, ActData& d, Fn fn) {
  const int xi = ctx.input(0), yi = ctx.output(0);
  ops::PerTensorQ(ctx, xi, "input");
  ops::PerTensorQ(ctx, yi, "output");
  const float si = ctx.tensor(xi).scales[0], so = ctx.tensor(yi).scales[0];
  const int32_t zi = int32_t(ctx.tensor(xi).zero_points[0]), zo = int32_t(ctx.tensor(yi).zero_points[0]);
  ctx.SetKernel("int8");
  if (fn == Fn::kRelu || fn == Fn::kRelu6) {
    d.kind = Kind::kReluInt8;
    ctx.Need(std::isfinite(si / so) && si / so < 65536.0f, "input/output scale ratio out of range");
    QuantizeMultiplier(double(si) / double(so), &d.relu.multiplier, &d.relu.shift);
    d.relu.input_offset = -zi;
    d.relu.output_offset = zo;
    ActivationRangeInt8(fn == Fn::kRelu6 ? Activation::kRelu6 : Activation::kRelu, so, zo, &d.relu.act_min,
                        &d.relu.act_max);
    return;
  }
  d.kind = Kind::kLutInt8;
  d.lut.resize(256);
  if (fn == Fn::kLogistic) {
    ctx.Need(zo == -128 && std::fabs(so - 1.0f / 256) <= 0.001f / 256,
             "int8 output must have scale 1/256 and zero point -128");
    ref::PrepareInt8Table(si, zi, so, zo, /*half_even=*/false, [](float v) { return 1.0f / (1.0f + std::exp(-v)); },
                          d.lut.data());
  } else {
    ctx.Need(zo == 0 && std::fabs(so - 1.0f / 128) <= 0.001f / 128, "int8 output must have scale 1/128 and zero point 0");
    ref::PrepareInt8Table(si, zi, so, zo, /*half_even=*/false, [](float v) { return std::tanh(v); }, d.lut.data());
  }
}

void Prepare(PrepareContext& ctx, Fn fn) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<ActData>();
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor& x = ctx.tensor(xi);
  ctx.SetOutputShape(0, x.shape);
  ops::SameType(ctx, xi, yi);
  d.n = x.elements;
  if (x.type == DType::kFloat32) {
    const bool relu = fn == Fn::kRelu || fn == Fn::kRelu6;
    d.kind = relu ? Kind::kClampFloat : fn == Fn::kTanh ? Kind::kTanhFloat : Kind::kLogisticFloat;
    if (relu) ActivationRangeFloat(fn == Fn::kRelu6 ? Activation::kRelu6 : Activation::kRelu, &d.fact.min, &d.fact.max);
  } else if (x.type == DType::kInt8) {
    PrepareInt8(ctx, d, fn);
  } else {
    ops::UnsupportedType(ctx, x.type);
  }
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<ActData>();
  switch (d.kind) {
    case Kind::kLogisticFloat: ref::LogisticFloat(d.n, ctx.in<float>(0), ctx.out<float>(0)); break;
    case Kind::kTanhFloat: ref::TanhFloat(d.n, ctx.in<float>(0), ctx.out<float>(0)); break;
    case Kind::kClampFloat: ref::ClampFloat(d.n, d.fact.min, d.fact.max, ctx.in<float>(0), ctx.out<float>(0)); break;
    case Kind::kLutInt8: ref::LookupInt8(d.n, d.lut.data(), ctx.in<int8_t>(0), ctx.out<int8_t>(0)); break;
    case Kind::kReluInt8: ref::ReluInt8(d.n, d.relu, ctx.in<int8_t>(0), ctx.out<int8_t>(0)); break;
  }
}

void PrepareLogistic(PrepareContext& ctx) { Prepare(ctx, Fn::kLogistic); }
void PrepareTanh(PrepareContext& ctx) { Prepare(ctx, Fn::kTanh); }
void PrepareRelu(PrepareContext& ctx) { Prepare(ctx, Fn::kRelu); }
void PrepareRelu6(PrepareContext& ctx) { Prepare(ctx, Fn::kRelu6); }

}  // namespace

OpRegistration Register_LOGISTIC() { return {tflite::BuiltinOperator::LOGISTIC, "LOGISTIC", PrepareLogistic, Eval}; }
OpRegistration Register_TANH() { return {tflite::BuiltinOperator::TANH, "TANH", PrepareTanh, Eval}; }
OpRegistration Register_RELU() { return {tflite::BuiltinOperator::RELU, "RELU", PrepareRelu, Eval}; }
OpRegistration Register_RELU6() { return {tflite::BuiltinOperator::RELU6, "RELU6", PrepareRelu6, Eval}; }

}  // namespace kws::rt
