// Preparing a loaded model for given input shapes, and the interpreter loop.
// See graph.h.
#include "runtime/graph.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "runtime/arena_planner.h"
#include "runtime/op.h"
#include "util/error.h"

namespace kws::rt {

namespace {

bool Compatible(const std::vector<int>& signature, const std::vector<int>& shape) {
  if (signature.size() != shape.size()) return false;
  for (size_t d = 0; d < shape.size(); ++d)
    if (signature[d] >= 0 && signature[d] != shape[d]) return false;
  return true;
}

}  // namespace

Graph::Graph(const Model& m) : model(m) {
  subgraphs.resize(m.subgraphs.size());
  for (size_t s = 0; s < subgraphs.size(); ++s) {
    const SubgraphDef& def = m.subgraphs[s];
    Subgraph& sg = subgraphs[s];
    sg.index = int(s);
    sg.name = def.name;
    sg.tensors = def.tensors;
    sg.inputs = def.inputs;
    sg.outputs = def.outputs;
    sg.nodes.resize(def.nodes.size());
    for (size_t i = 0; i < def.nodes.size(); ++i) {
      Node& n = sg.nodes[i];
      n.index = int(i);
      n.code = def.nodes[i].code;
      n.reg = def.nodes[i].reg;
      n.op = def.nodes[i].op;
      n.in = def.nodes[i].in;
      n.out = def.nodes[i].out;
    }
  }
}

void Graph::SetShape(int s, int t, const std::vector<int>& shape, const std::string& where) {
  Tensor& x = subgraphs[size_t(s)].tensors[size_t(t)];
  int64_t n = 1;
  for (int d : shape) {
    if (d <= 0) model.Fail(where + ": shape " + ShapeStr(shape) + " has an empty dimension");
    if (d > model.limits.max_tensor_elements || n * d > model.limits.max_tensor_elements)
      model.Fail(where + ": too many elements (limit " + std::to_string(model.limits.max_tensor_elements) + ")");
    n *= d;
  }
  x.shape = shape;
  x.elements = n;
  x.bytes = size_t(n) * TypeSize(x.type);
}

void Graph::Prepare(const std::vector<std::vector<int>>& input_shapes) {
  Subgraph& sg = subgraphs[0];
  for (size_t i = 0; i < input_shapes.size() && i < sg.inputs.size(); ++i)
    if (!input_shapes[i].empty()) {
      const Tensor& t = sg.tensors[size_t(sg.inputs[i])];
      if (!Compatible(t.signature, input_shapes[i]))
        model.Fail("input " + std::to_string(i) + " '" + t.name + "' has shape signature " + ShapeStr(t.signature) +
                   ", cannot take shape " + ShapeStr(input_shapes[i]));
      SetShape(0, sg.inputs[i], input_shapes[i], "input " + std::to_string(i));
    }
  PrepareSubgraph(0);
  CountWeights();
  Allocate();
}

void Graph::PrepareSubgraph(int s) {
  Subgraph& sg = subgraphs[size_t(s)];
  sg.state = Subgraph::State::kPreparing;
  for (Node& n : sg.nodes) {
    PrepareContext ctx(*this, s, n);
    n.reg->prepare(ctx);
    macs += n.macs;
    if (macs > model.limits.max_macs) model.Fail("too much compute (" + std::to_string(macs) + " multiply-adds)");
  }
  for (Node& n : sg.nodes)
    if (n.reg->link) n.reg->link(*this, sg, n);
  PlanSubgraph(sg);
  sg.state = Subgraph::State::kPrepared;
}

// Lifetimes in time steps (0 = the subgraph's inputs, node i = i + 1), then the
// greedy planner: tensors in index order, then every node's scratch.
void Graph::PlanSubgraph(Subgraph& sg) {
  const int end = int(sg.nodes.size()) + 1;
  auto& ts = sg.tensors;
  for (auto& t : ts) t.first = t.last = -1;
  for (int x : sg.inputs) ts[size_t(x)].first = 0, ts[size_t(x)].last = 0;
  for (size_t i = 0; i < sg.nodes.size(); ++i) {
    const int time = int(i) + 1;
    for (int x : sg.nodes[i].in)
      if (x >= 0 && !ts[size_t(x)].is_const) ts[size_t(x)].last = std::max(ts[size_t(x)].last, time);
    for (int x : sg.nodes[i].out) ts[size_t(x)].first = ts[size_t(x)].last = time;
  }
  for (int x : sg.outputs)
    if (!ts[size_t(x)].is_const) ts[size_t(x)].last = end;
  ArenaPlanner planner;
  std::vector<size_t*> where;
  for (auto& t : ts)
    if (!t.is_const && t.first >= 0 && t.bytes > 0) {
      planner.Add(AlignUp(t.bytes), t.first, t.last);
      where.push_back(&t.offset);
    }
  for (size_t i = 0; i < sg.nodes.size(); ++i)
    for (Scratch& s : sg.nodes[i].scratch)
      if (s.bytes > 0) {
        planner.Add(AlignUp(s.bytes), s.from >= 0 ? s.from : int(i) + 1, int(i) + 1);
        where.push_back(&s.offset);
      }
  sg.arena_bytes = planner.Plan();
  for (size_t k = 0; k < where.size(); ++k) *where[k] = planner.offset(int(k));
  if (int64_t(sg.arena_bytes) > model.limits.max_arena_bytes)
    model.Fail("activations need more than " + std::to_string(model.limits.max_arena_bytes) + " bytes");
}

void Graph::Allocate() {
  size_t var_total = 0;
  for (auto& v : variables) {
    v.offset = var_total;
    var_total += AlignUp(v.bytes);
  }
  total_arena_bytes = var_total;
  for (auto& sg : subgraphs)
    if (sg.state == Subgraph::State::kPrepared) total_arena_bytes += std::max<size_t>(sg.arena_bytes, 1);
  if (int64_t(total_arena_bytes) > model.limits.max_arena_bytes)
    model.Fail("activations need more than " + std::to_string(model.limits.max_arena_bytes) + " bytes");
  if (!variables.empty()) {
    variable_block.Resize(var_total);
    for (auto& v : variables) v.data = variable_block.data() + v.offset;
  }
  for (auto& sg : subgraphs) {
    if (sg.state != Subgraph::State::kPrepared) continue;
    sg.arena.Resize(std::max<size_t>(sg.arena_bytes, 1));
    for (auto& t : sg.tensors)
      if (!t.is_const) t.data = t.first >= 0 && t.bytes > 0 ? sg.arena.data() + t.offset : sg.arena.data();
    for (auto& n : sg.nodes)
      for (auto& s : n.scratch) s.data = s.bytes > 0 ? sg.arena.data() + s.offset : sg.arena.data();
  }
}

// Elements and non-zero elements of the constant weights and biases the ops
// named (CountWeights); each constant once.
void Graph::CountWeights() {
  std::set<const uint8_t*> seen;
  for (auto [s, x] : weight_tensors) {
    const Tensor& t = subgraphs[size_t(s)].tensors[size_t(x)];
    if (!t.is_const || !seen.insert(t.data).second) continue;
    weights += t.elements;
    const size_t es = TypeSize(t.type);
    for (int64_t i = 0; i < t.elements; ++i) {
      bool nz = false;
      for (size_t b = 0; b < es; ++b) nz |= t.data[size_t(i) * es + b] != 0;
      // -0.0f counts as zero for float weights.
      if (nz && t.type == DType::kFloat32) {
        float v;
        std::memcpy(&v, t.data + size_t(i) * 4, 4);
        nz = v != 0.0f;
      }
      nonzero_weights += nz;
    }
  }
}

int Graph::FindOrAddVariable(const std::string& container, const std::string& shared_name) {
  for (size_t v = 0; v < variables.size(); ++v)
    if (variables[v].container == container && variables[v].shared_name == shared_name) return int(v);
  variables.push_back(Variable{container, shared_name});
  return int(variables.size()) - 1;
}

void Graph::Run(int s) {
  if (s != 0 && ++subgraph_runs > model.limits.max_subgraph_runs)
    throw BadInput(model.name + ": more than " + std::to_string(model.limits.max_subgraph_runs) +
                   " subgraph runs in one Invoke (a WHILE loop that does not end?)");
  Subgraph& sg = subgraphs[size_t(s)];
  EvalContext ctx(*this, sg);
  for (Node& n : sg.nodes) {
    ctx.set_node(&n);
    n.reg->eval(ctx);
  }
}

void Graph::ResetVariables() {
  if (variable_block.size() > 0) std::memset(variable_block.data(), 0, variable_block.size());
  for (auto& sg : subgraphs)
    for (auto& n : sg.nodes)
      if (n.reg->reset && n.data) n.reg->reset(n);
}

// ---------------------------------------------------------------------------
// PrepareContext (op.h)
// ---------------------------------------------------------------------------

const char* PrepareContext::name() const { return node_.reg->name; }

std::string PrepareContext::Where() const {
  return SubgraphPrefix(sg_.index) + "operator " + std::to_string(node_.index) + " (" + name() + ")";
}

void PrepareContext::Fail(const std::string& msg) const { g_.model.Fail(Where() + ": " + msg); }

void PrepareContext::AddMacs(int64_t macs) { node_.macs += macs; }

void PrepareContext::CountWeights(int t) {
  if (t >= 0) g_.weight_tensors.emplace_back(sg_.index, t);
}

void PrepareContext::SetOutputShape(int k, const std::vector<int>& shape) {
  const int x = output(k);
  const Tensor& t = tensor(x);
  if (!Compatible(t.signature, shape))
    Fail("output tensor " + std::to_string(x) + " has shape " + ShapeStr(t.signature) + ", the op produces " +
         ShapeStr(shape));
  g_.SetShape(sg_.index, x, shape, Where() + ": output tensor " + std::to_string(x));
}

Subgraph& PrepareContext::PrepareSubgraph(int s, const std::vector<int>& caller_tensors) {
  const int n = int(g_.subgraphs.size());
  Need(s >= 0 && s < n, "subgraph index " + std::to_string(s) + " out of range (" + std::to_string(n) + " subgraphs)");
  Subgraph& callee = g_.subgraphs[size_t(s)];
  Need(callee.state != Subgraph::State::kPreparing,
       "subgraph " + std::to_string(s) + " calls itself (recursive subgraphs are not supported)");
  Need(caller_tensors.size() == callee.inputs.size(),
       "passes " + std::to_string(caller_tensors.size()) + " inputs, subgraph " + std::to_string(s) + " takes " +
           std::to_string(callee.inputs.size()));
  const bool prepared = callee.state == Subgraph::State::kPrepared;
  for (size_t k = 0; k < caller_tensors.size(); ++k) {
    const Tensor& src = tensor(caller_tensors[k]);
    const int di = callee.inputs[k];
    Tensor& dst = callee.tensors[size_t(di)];
    const std::string what = "subgraph " + std::to_string(s) + " input " + std::to_string(k);
    Need(src.type == dst.type && src.uint8 == dst.uint8, what + " is " + DTypeName(dst.type) + ", the caller passes " +
                                                               DTypeName(src.type));
    if (prepared) {
      // A subgraph is prepared once: every call must pass the same shapes and constants.
      Need(src.shape == dst.shape && src.is_const == dst.is_const && (!src.is_const || src.data == dst.data) &&
               src.variable == dst.variable,
           what + " was prepared for " + ShapeStr(dst.shape) + (dst.is_const ? " (a constant)" : "") +
               "; this call passes " + ShapeStr(src.shape) + (src.is_const ? " (a constant)" : "") +
               " (kws prepares each subgraph once)");
      continue;
    }
    Need(Compatible(dst.signature, src.shape),
         what + " has shape " + ShapeStr(dst.signature) + ", the caller passes " + ShapeStr(src.shape));
    g_.SetShape(s, di, src.shape, Where() + ": " + what);
    dst.variable = src.variable;
    if (src.is_const) {  // constants are shared with the subgraph, not copied on every call
      dst.is_const = true;
      dst.data = src.data;
    }
  }
  if (!prepared) g_.PrepareSubgraph(s);
  return callee;
}

}  // namespace kws::rt
