// ADD and SUB with numpy-style broadcasting (rank <= 4) and a fused
// activation, float32 and int8 (kernels/reference/add.h; int8 also optimized/elementwise_int8.h).
#include <algorithm>
#include <cmath>

#include "runtime/kernels/optimized/elementwise_int8.h"
#include "runtime/kernels/reference/add.h"
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct AddData : OpData {
  bool int8 = false, subtract = false;
  ref::Broadcast4 bc;
  FloatAct fact;
  ref::AddInt8Params add;
  opt::AddInt8Tables tables;  // the optimized kernel's input rescaling
};

void Prepare(PrepareContext& ctx, bool subtract) {
  ops::Arity(ctx, 2, 2, 1);
  auto& d = ctx.MakeData<AddData>();
  d.subtract = subtract;
  const int ai = ctx.input(0), bi = ctx.input(1), yi = ctx.output(0);
  tflite::ActivationFunctionType fa = tflite::ActivationFunctionType::NONE;
  if (!subtract) {
    if (const auto* opt = ctx.op()->builtin_options_as_AddOptions()) fa = opt->fused_activation_function();
  } else if (const auto* opt = ctx.op()->builtin_options_as_SubOptions()) {
    fa = opt->fused_activation_function();
  }
  const Activation act = ops::ToActivation(ctx, fa);
  d.int8 = ops::PrepareBroadcastBinary(ctx, act, &d.bc, &d.fact);
  if (!d.int8) return;
  const Tensor &a = ctx.tensor(ai), &b = ctx.tensor(bi), &y = ctx.tensor(yi);
  const float s1 = a.scales[0], s2 = b.scales[0], so = y.scales[0];
  const double ratio = 2.0 * std::max(s1, s2) / so;
  ctx.Need(std::isfinite(ratio) && ratio < 65536.0 && std::min(s1, s2) / std::max(s1, s2) > 1e-9,
           "input/output scales out of range");
  ref::PrepareAddInt8(s1, s2, so, subtract, &d.add);
  d.add.input1_offset = -int32_t(a.zero_points[0]);
  d.add.input2_offset = -int32_t(b.zero_points[0]);
  d.add.output_offset = int32_t(y.zero_points[0]);
  ActivationRangeInt8(act, so, int32_t(y.zero_points[0]), &d.add.act_min, &d.add.act_max);
  opt::PrepareAddInt8Tables(d.add, &d.tables);
  ctx.SetKernel("int8");
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<AddData>();
  if (d.int8 && ctx.optimized())
    opt::AddInt8(d.bc, d.add, d.tables, ctx.in<int8_t>(0), ctx.in<int8_t>(1), ctx.out<int8_t>(0));
  else if (d.int8)
    ref::AddInt8(d.bc, d.add, ctx.in<int8_t>(0), ctx.in<int8_t>(1), ctx.out<int8_t>(0));
  else
    ref::AddFloat(d.bc, d.fact, d.subtract, ctx.in<float>(0), ctx.in<float>(1), ctx.out<float>(0));
}

void PrepareAdd(PrepareContext& ctx) { Prepare(ctx, false); }
void PrepareSub(PrepareContext& ctx) { Prepare(ctx, true); }

}  // namespace

OpRegistration Register_ADD() { return {tflite::BuiltinOperator::ADD, "ADD", PrepareAdd, Eval}; }
OpRegistration Register_SUB() { return {tflite::BuiltinOperator::SUB, "SUB", PrepareSub, Eval}; }

}  // namespace kws::rt
