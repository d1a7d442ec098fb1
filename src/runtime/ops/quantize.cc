// QUANTIZE (float32 → int8/uint8, int8/uint8 → int8/uint8) and DEQUANTIZE
// (int8/uint8 → float32; a float16 constant → float32 is folded at prepare).
#include "runtime/kernels/reference/quantize.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

enum class Kind { kQuantize, kRequantize, kDequantize, kFolded };

struct QuantizeData : OpData {
  Kind kind = Kind::kQuantize;
  int64_t n = 0;
  float scale = 1.0f;
  int32_t in_zp = 0, out_zp = 0;
  int32_t mult = 0;
  int shift = 0;
};

void PrepareQuantize(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<QuantizeData>();
  const int xi = ctx.input(0), yi = ctx.output(0);
  const Tensor &x = ctx.tensor(xi), &y = ctx.tensor(yi);
  ctx.SetOutputShape(0, x.shape);
  d.n = x.elements;
  if (x.type == DType::kFloat32 && y.type == DType::kInt8) {
    d.kind = Kind::kQuantize;
    ops::PerTensorQ(ctx, yi, "output");
    d.scale = y.scales[0];
    d.out_zp = int32_t(y.zero_points[0]);
    ctx.SetKernel("float->int8");
  } else if (x.type == DType::kInt8 && y.type == DType::kInt8) {
    d.kind = Kind::kRequantize;
    ops::PerTensorQ(ctx, xi, "input");
    ops::PerTensorQ(ctx, yi, "output");
    QuantizeMultiplier(double(x.scales[0]) / double(y.scales[0]), &d.mult, &d.shift);
    d.in_zp = int32_t(x.zero_points[0]);
    d.out_zp = int32_t(y.zero_points[0]);
    ctx.SetKernel("int8");
  } else {
    ctx.Fail(std::string("unsupported conversion ") + DTypeName(x.type) + " -> " + DTypeName(y.type));
  }
}

void PrepareDequantize(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<QuantizeData>();
  const int xi = ctx.input(0), yi = ctx.output(0);
  Tensor &x = ctx.tensor(xi), &y = ctx.tensor(yi);
  if (x.float16 && x.is_const) {
    // float16 weights -> float32: the output is that constant (converted at loading), nothing runs.
    ctx.Need(y.type == DType::kFloat32 && !y.float16 && y.signature == x.shape,
             "float16 input needs a float32 output of the same shape");
    ctx.SetOutputShape(0, x.shape);
    y.is_const = true;
    y.data = x.data;
    d.kind = Kind::kFolded;
    return;
  }
  ctx.SetOutputShape(0, x.shape);
  d.n = x.elements;
  if (x.type == DType::kInt8 && y.type == DType::kFloat32) {
    d.kind = Kind::kDequantize;
    ops::PerTensorQ(ctx, xi, "input");
    d.scale = x.scales[0];
    d.in_zp = int32_t(x.zero_points[0]);
    ctx.SetKernel("int8->float");
  } else {
    ctx.Fail(std::string("unsupported conversion ") + DTypeName(x.type) + " -> " + DTypeName(y.type));
  }
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<QuantizeData>();
  switch (d.kind) {
    case Kind::kQuantize:
      if (ctx.xnnpack())
        ref::QuantizeFloatToInt8HalfEven(d.scale, d.out_zp, d.n, ctx.in<float>(0), ctx.out<int8_t>(0));
      else
        ref::QuantizeFloatToInt8(d.scale, d.out_zp, d.n, ctx.in<float>(0), ctx.out<int8_t>(0));
      break;
    case Kind::kRequantize:
      ref::RequantizeInt8(d.mult, d.shift, d.in_zp, d.out_zp, d.n, ctx.in<int8_t>(0), ctx.out<int8_t>(0));
      break;
    case Kind::kDequantize:
      ref::DequantizeInt8(d.scale, d.in_zp, d.n, ctx.in<int8_t>(0), ctx.out<float>(0));
      break;
    case Kind::kFolded: break;
  }
}

}  // namespace

OpRegistration Register_QUANTIZE() { return {tflite::BuiltinOperator::QUANTIZE, "QUANTIZE", PrepareQuantize, Eval}; }
OpRegistration Register_DEQUANTIZE() {
  return {tflite::BuiltinOperator::DEQUANTIZE, "DEQUANTIZE", PrepareDequantize, Eval};
}

}  // namespace kws::rt
