// CALL_ONCE: runs its init subgraph (no inputs, no outputs; it typically
// assigns the resource variables' initial values) on the first Invoke only,
// and again after Interpreter::ResetVariables().
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct CallOnceData : OpData {
  int init = -1;
  bool done = false;
};

void Prepare(PrepareContext& ctx) {
  ops::Arity(ctx, 0, 0, 0);
  auto& d = ctx.MakeData<CallOnceData>();
  const auto* opt = ctx.op()->builtin_options_as_CallOnceOptions();
  ctx.Need(opt != nullptr, "missing CallOnceOptions");
  d.init = opt->init_subgraph_index();
  ctx.SetKernel("");
  const Subgraph& init = ctx.PrepareSubgraph(d.init, {});
  ctx.Need(init.outputs.empty(), "init subgraph " + std::to_string(d.init) + " has outputs (it must have none)");
}

void Eval(EvalContext& ctx) {
  auto& d = ctx.data<CallOnceData>();
  if (d.done) return;
  ctx.graph().Run(d.init);
  d.done = true;
}

void Reset(Node& node) { static_cast<CallOnceData&>(*node.data).done = false; }

}  // namespace

OpRegistration Register_CALL_ONCE() {
  return {tflite::BuiltinOperator::CALL_ONCE, "CALL_ONCE", Prepare, Eval, nullptr, Reset};
}

}  // namespace kws::rt
