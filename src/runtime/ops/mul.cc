// MUL with numpy-style broadcasting (rank <= 4) and a fused activation,
// float32 and int8 (kernels/reference/mul.h; int8 also optimized/elementwise_int8.h).
#include <algorithm>
#include <cmath>

#include "runtime/kernels/optimized/elementwise_int8.h"
#include "runtime/kernels/reference/mul.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct MulData : OpData {
  bool int8 = false;
  ref::Broadcast4 bc;
  FloatAct fact;
  ref::MulInt8Params mul;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 2, 2, 1);
  auto& d = ctx.MakeData<MulData>();
  const int ai = ctx.input(0), bi = ctx.input(1), yi = ctx.output(0);
  tflite::ActivationFunctionType fa = tflite::ActivationFunctionType::NONE;
  if (const auto* opt = ctx.op()->builtin_options_as_MulOptions()) fa = opt->fused_activation_function();
  const Activation act = ops::ToActivation(ctx, fa);
  d.int8 = ops::PrepareBroadcastBinary(ctx, act, &d.bc, &d.fact);
  if (!d.int8) return;
  const Tensor &a = ctx.tensor(ai), &b = ctx.tensor(bi), &y = ctx.tensor(yi);
  const double real = double(a.scales[0]) * double(b.scales[0]) / double(y.scales[0]);
  ctx.Need(std::isfinite(real) && real < 65536.0, "input·input/output scale out of range");
  QuantizeMultiplier(real, &d.mul.multiplier, &d.mul.shift);
  d.mul.input1_offset = -int32_t(a.zero_points[0]);
  d.mul.input2_offset = -int32_t(b.zero_points[0]);
  d.mul.output_offset = int32_t(y.zero_points[0]);
  ActivationRangeInt8(act, y.scales[0], int32_t(y.zero_points[0]), &d.mul.act_min, &d.mul.act_max);
  ctx.SetKernel("int8");
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<MulData>();
  if (d.int8 && ctx.optimized())
    opt::MulInt8(d.bc, d.mul, ctx.in<int8_t>(0), ctx.in<int8_t>(1), ctx.out<int8_t>(0));
  else if (d.int8)
    ref::MulInt8(d.bc, d.mul, ctx.in<int8_t>(0), ctx.in<int8_t>(1), ctx.out<int8_t>(0));
  else
    ref::MulFloat(d.bc, d.fact, ctx.in<float>(0), ctx.in<float>(1), ctx.out<float>(0));
}

}  // namespace

OpRegistration Register_MUL() { return {tflite::BuiltinOperator::MUL, "MUL", Prepare, Eval}; }

}  // namespace kws::rt
