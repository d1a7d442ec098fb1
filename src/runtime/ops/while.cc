// WHILE: the loop variables (inputs → this node's outputs) go through the cond
// subgraph (one bool out) and, while it says true, through the body subgraph,
// whose outputs become the next values (TFLite's kernels/while.cc). Shapes
// must stay the same in every iteration; a loop running past
// LoadLimits::max_subgraph_runs makes Invoke throw BadInput (graph.cc).
#include <cstring>

#include "runtime/ops/helpers.h"

namespace kws::rt {
namespace {

struct WhileData : OpData {
  int cond = -1, body = -1;
};

void Prepare(PrepareContext& ctx) {
  ctx.Need(ctx.num_inputs() == ctx.num_outputs(), std::to_string(ctx.num_inputs()) + " inputs and " +
                                                      std::to_string(ctx.num_outputs()) + " outputs (must match)");
  auto& d = ctx.MakeData<WhileData>();
  const auto* opt = ctx.op()->builtin_options_as_WhileOptions();
  ctx.Need(opt != nullptr, "missing WhileOptions");
  ctx.SetKernel("");
  d.cond = opt->cond_subgraph_index();
  d.body = opt->body_subgraph_index();
  for (int k = 0; k < ctx.num_inputs(); ++k) {
    ctx.Need(ctx.input(k) >= 0, "omitted input");
    ctx.Need(ctx.in(k).type == ctx.out(k).type && ctx.in(k).type != DType::kResource,
             "loop variable " + std::to_string(k) + " changes type or is a resource");
    ctx.SetOutputShape(k, ctx.in(k).shape);
  }
  // The subgraphs see the loop variables (this node's outputs), never constants.
  const Subgraph& c = ctx.PrepareSubgraph(d.cond, ctx.node().out);
  ctx.Need(c.outputs.size() == 1 && c.tensors[size_t(c.outputs[0])].type == DType::kBool &&
               c.tensors[size_t(c.outputs[0])].elements == 1,
           "cond subgraph " + std::to_string(d.cond) + " must return one bool");
  const Subgraph& b = ctx.PrepareSubgraph(d.body, ctx.node().out);
  ctx.Need(b.outputs.size() == size_t(ctx.num_outputs()), "body subgraph " + std::to_string(d.body) + " returns " +
                                                              std::to_string(b.outputs.size()) + " values");
  for (int k = 0; k < ctx.num_outputs(); ++k) {
    const Tensor& t = b.tensors[size_t(b.outputs[size_t(k)])];
    ctx.Need(t.type == ctx.out(k).type && t.shape == ctx.out(k).shape,
             "body output " + std::to_string(k) + " is " + DTypeName(t.type) + " " + ShapeStr(t.shape) +
                 ", the loop variable " + DTypeName(ctx.out(k).type) + " " + ShapeStr(ctx.out(k).shape));
  }
}

void Eval(EvalContext& ctx) {
  const auto& d = ctx.data<WhileData>();
  const Node& n = ctx.node();
  const int vars = int(n.out.size());
  for (int k = 0; k < vars; ++k) std::memcpy(ctx.out<uint8_t>(k), ctx.in<uint8_t>(k), ctx.out_tensor(k).bytes);
  Graph& g = ctx.graph();
  const Subgraph& c = g.subgraphs[size_t(d.cond)];
  for (;;) {
    ops::CopyIntoSubgraph(ctx, d.cond, n.out.data(), vars);
    g.Run(d.cond);
    if (!*reinterpret_cast<const bool*>(c.tensors[size_t(c.outputs[0])].data)) break;
    ops::CopyIntoSubgraph(ctx, d.body, n.out.data(), vars);
    g.Run(d.body);
    ops::CopyFromSubgraph(ctx, d.body, n.out.data(), vars);
  }
}

}  // namespace

OpRegistration Register_WHILE() { return {tflite::BuiltinOperator::WHILE, "WHILE", Prepare, Eval}; }

}  // namespace kws::rt
