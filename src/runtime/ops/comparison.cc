// GREATER_EQUAL with broadcasting (rank <= 4): float32, int32, and int8 inputs
// sharing one quantization → bool (kernels/reference/comparison.h).
#include <algorithm>

#include "runtime/kernels/reference/comparison.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct CompareData : OpData {
  DType type = DType::kFloat32;
  ref::Broadcast4 bc;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 2, 1);
  auto& d = ctx.MakeData<CompareData>();
  const int ai = ctx.input(0), bi = ctx.input(1);
  const Tensor &a = ctx.tensor(ai), &b = ctx.tensor(bi);
  ctx.Need(ref::MakeBroadcast4(a.shape, b.shape, &d.bc), "input shapes " + ShapeStr(a.shape) + " and " +
                                                             ShapeStr(b.shape) + " do not broadcast (or rank > 4)");
  ctx.SetOutputShape(0, std::vector<int>(d.bc.out + 4 - std::max(a.shape.size(), b.shape.size()), d.bc.out + 4));
  ctx.Need(a.type == b.type && a.uint8 == b.uint8, "the inputs' types differ");
  ctx.Need(ctx.out(0).type == DType::kBool, std::string("output is ") + DTypeName(ctx.out(0).type) + " (must be bool)");
  d.type = a.type;
  if (a.type == DType::kInt8) {
    ops::PerTensorQ(ctx, ai, "input 1");
    ops::PerTensorQ(ctx, bi, "input 2");
    ctx.Need(a.scales[0] == b.scales[0] && a.zero_points[0] == b.zero_points[0],
             "int8 inputs with different quantization are not supported");
    ctx.SetKernel("int8");
  } else if (a.type != DType::kFloat32 && a.type != DType::kInt32) {
    ops::UnsupportedType(ctx, a.type);
  }
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<CompareData>();
  bool* y = ctx.out<bool>(0);
  switch (d.type) {
    case DType::kInt8: ref::GreaterEqual(d.bc, ctx.in<int8_t>(0), ctx.in<int8_t>(1), y); break;
    case DType::kInt32: ref::GreaterEqual(d.bc, ctx.in<int32_t>(0), ctx.in<int32_t>(1), y); break;
    default: ref::GreaterEqual(d.bc, ctx.in<float>(0), ctx.in<float>(1), y); break;
  }
}

}  // namespace

OpRegistration Register_GREATER_EQUAL() {
  return {tflite::BuiltinOperator::GREATER_EQUAL, "GREATER_EQUAL", Prepare, Eval};
}

}  // namespace kws::rt
