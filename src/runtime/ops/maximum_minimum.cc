// MAXIMUM and MINIMUM with broadcasting (rank <= 4), float32 and int8
// (kernels/reference/maximum_minimum.h).
#include <algorithm>

#include "runtime/kernels/reference/maximum_minimum.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct MinMaxData : OpData {
  bool int8 = false;
  ref::Broadcast4 bc;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 2, 1);
  auto& d = ctx.MakeData<MinMaxData>();
  const int ai = ctx.input(0), bi = ctx.input(1), yi = ctx.output(0);
  const Tensor &a = ctx.tensor(ai), &b = ctx.tensor(bi), &y = ctx.tensor(yi);
  ctx.Need(ref::MakeBroadcast4(a.shape, b.shape, &d.bc), "input shapes " + ShapeStr(a.shape) + " and " +
                                                             ShapeStr(b.shape) + " do not broadcast (or rank > 4)");
  ctx.SetOutputShape(0, std::vector<int>(d.bc.out + 4 - std::max(a.shape.size(), b.shape.size()), d.bc.out + 4));
  ctx.Need(a.type == y.type && b.type == y.type, "input and output types differ");
  if (y.type == DType::kFloat32) return;
  if (y.type != DType::kInt8) ops::UnsupportedType(ctx, y.type);
  d.int8 = true;
  ops::PerTensorQ(ctx, ai, "input 1");
  ops::PerTensorQ(ctx, bi, "input 2");
  ops::PerTensorQ(ctx, yi, "output");
  ops::SameQ(ctx, ai, yi);
  ops::SameQ(ctx, bi, yi);
  ctx.SetKernel("int8");
}

void EvalMaximum(EvalContext& ctx) {
  const auto& d = ctx.data<MinMaxData>();
  if (d.int8)
    ref::Maximum(d.bc, ctx.in<int8_t>(0), ctx.in<int8_t>(1), ctx.out<int8_t>(0));
  else
    ref::Maximum(d.bc, ctx.in<float>(0), ctx.in<float>(1), ctx.out<float>(0));
}

void EvalMinimum(EvalContext& ctx) {
  const auto& d = ctx.data<MinMaxData>();
  if (d.int8)
    ref::Minimum(d.bc, ctx.in<int8_t>(0), ctx.in<int8_t>(1), ctx.out<int8_t>(0));
  else
    ref::Minimum(d.bc, ctx.in<float>(0), ctx.in<float>(1), ctx.out<float>(0));
}

}  // namespace

OpRegistration Register_MAXIMUM() { return {tflite::BuiltinOperator::MAXIMUM, "MAXIMUM", Prepare, EvalMaximum}; }
OpRegistration Register_MINIMUM() { return {tflite::BuiltinOperator::MINIMUM, "MINIMUM", Prepare, EvalMinimum}; }

}  // namespace kws::rt
