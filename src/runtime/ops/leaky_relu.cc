// LEAKY_RELU, float32: x > 0 ? x : alpha·x (kernels/reference/elementwise.h).
#include <cmath>

#include "runtime/kernels/reference/elementwise.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct LeakyReluData : OpData {
  int64_t n = 0;
  float alpha = 0.2f;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 1, 1, 1);
  auto& d = ctx.MakeData<LeakyReluData>();
  const auto* opt = ctx.op()->builtin_options_as_LeakyReluOptions();
  ctx.Need(opt != nullptr, "missing LeakyReluOptions");
  d.alpha = opt->alpha();
  ctx.Need(std::isfinite(d.alpha), "alpha must be finite");
  const Tensor& x = ctx.in(0);
  ctx.SetOutputShape(0, x.shape);
  ops::SameType(ctx, ctx.input(0), ctx.output(0));
  if (x.type != DType::kFloat32) ops::UnsupportedType(ctx, x.type);
  d.n = x.elements;
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<LeakyReluData>();
  ref::LeakyReluFloat(d.n, d.alpha, ctx.in<float>(0), ctx.out<float>(0));
}

}  // namespace

OpRegistration Register_LEAKY_RELU() { return {tflite::BuiltinOperator::LEAKY_RELU, "LEAKY_RELU", Prepare, Eval}; }

}  // namespace kws::rt
