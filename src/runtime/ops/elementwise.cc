// LOG and RSQRT, float32 (kernels/reference/elementwise.h).
#include "runtime/kernels/reference/elementwise.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct UnaryData : OpData {
  int64_t n = 0;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 1, 1);
  const Tensor& x = ctx.in(0);
  ctx.SetOutputShape(0, x.shape);
  ops::SameType(ctx, ctx.input(0), ctx.output(0));
  if (x.type != DType::kFloat32) ops::UnsupportedType(ctx, x.type);
  ctx.MakeData<UnaryData>().n = x.elements;
}

void EvalLog(EvalContext& ctx) { ref::LogFloat(ctx.data<UnaryData>().n, ctx.in<float>(0), ctx.out<float>(0)); }
void EvalRsqrt(EvalContext& ctx) { ref::RsqrtFloat(ctx.data<UnaryData>().n, ctx.in<float>(0), ctx.out<float>(0)); }

}  // namespace

OpRegistration Register_LOG() { return {tflite::BuiltinOperator::LOG, "LOG", Prepare, EvalLog}; }
OpRegistration Register_RSQRT() { return {tflite::BuiltinOperator::RSQRT, "RSQRT", Prepare, EvalRsqrt}; }

}  // namespace kws::rt
