// IF: input 0 (one bool) chooses the then or else subgraph; inputs 1.. are
// copied into the chosen subgraph's inputs (constants are shared instead),
// it runs, and its outputs are copied into this node's outputs (TFLite's
// kernels/if.cc). Both branches must produce the same shapes and types.
#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct IfData : OpData {
  int then_branch = -1, else_branch = -1;
};

void Prepare(PrepareContext& ctx) {
  ctx.Need(ctx.num_inputs() >= 1 && ctx.input(0) >= 0, "needs a condition input");
  auto& d = ctx.MakeData<IfData>();
  const auto* opt = ctx.op()->builtin_options_as_IfOptions();
  ctx.Need(opt != nullptr, "missing IfOptions");
  const Tensor& cond = ctx.in(0);
  ctx.Need(cond.type == DType::kBool && cond.elements == 1, "condition must be one bool");
  std::vector<int> args;
  for (int k = 1; k < ctx.num_inputs(); ++k) {
    ctx.Need(ctx.input(k) >= 0, "omitted input");
    args.push_back(ctx.input(k));
  }
  ctx.SetKernel("");
  d.then_branch = opt->then_subgraph_index();
  d.else_branch = opt->else_subgraph_index();
  const Subgraph& a = ctx.PrepareSubgraph(d.then_branch, args);
  const Subgraph& b = ctx.PrepareSubgraph(d.else_branch, args);
  ctx.Need(int(a.outputs.size()) == ctx.num_outputs() && int(b.outputs.size()) == ctx.num_outputs(),
           "the branches have " + std::to_string(a.outputs.size()) + " and " + std::to_string(b.outputs.size()) +
               " outputs, the op " + std::to_string(ctx.num_outputs()));
  for (int k = 0; k < ctx.num_outputs(); ++k) {
    const Tensor &ta = a.tensors[size_t(a.outputs[size_t(k)])], &tb = b.tensors[size_t(b.outputs[size_t(k)])];
    ctx.Need(ta.type == tb.type && ta.shape == tb.shape,
             "output " + std::to_string(k) + ": the branches produce " + DTypeName(ta.type) + " " + ShapeStr(ta.shape) +
                 " and " + DTypeName(tb.type) + " " + ShapeStr(tb.shape));
    ctx.Need(ctx.out(k).type == ta.type, "output " + std::to_string(k) + " is " + DTypeName(ctx.out(k).type) +
                                             ", the branches produce " + DTypeName(ta.type));
    ctx.SetOutputShape(k, ta.shape);
    ctx.out(k).variable = ta.variable;
    ctx.Need(ta.variable == tb.variable, "the branches return different variables");
  }
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<IfData>();
  const int s = *ctx.in<bool>(0) ? d.then_branch : d.else_branch;
  const Node& n = ctx.node();
  ops::CopyIntoSubgraph(ctx, s, n.in.data() + 1, int(n.in.size()) - 1);
  ctx.graph().Run(s);
  ops::CopyFromSubgraph(ctx, s, n.out.data(), int(n.out.size()));
}

}  // namespace

OpRegistration Register_IF() { return {tflite::BuiltinOperator::IF, "IF", Prepare, Eval}; }

}  // namespace kws::rt
