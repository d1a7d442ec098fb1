// What an operator implementation sees (the TFLite Micro pattern: one
// registration per builtin with prepare and eval; ops/<op>.cc, listed once in
// ops/op_list.h).
//
//   prepare(PrepareContext&): validates inputs, options and types, computes the
//     output shapes (SetOutputShape), precomputes quantization parameters and
//     packs weights into its OpData, chooses its kernel once, asks for scratch
//     memory (AddScratch). Errors: ctx.Fail("...") → "<model>: operator N (OP): ...".
//   eval(EvalContext&): runs the chosen kernel on the node's tensors; never
//     allocates, never throws.
//   link (optional): after every node of the subgraph is prepared, may look at
//     neighbouring nodes (the sparse convolution hand-off uses it).
//   reset (optional): back to the state after preparing (ResetVariables()).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kws_tflite_generated.h"
#include "runtime/graph.h"

namespace kws::rt {

class PrepareContext;
class EvalContext;

struct OpRegistration {
  tflite::BuiltinOperator code;
  const char* name;
  void (*prepare)(PrepareContext& ctx);
  void (*eval)(EvalContext& ctx);
  void (*link)(Graph& graph, Subgraph& sg, Node& node) = nullptr;
  void (*reset)(Node& node) = nullptr;
};

class PrepareContext {
 public:
  PrepareContext(Graph& g, int subgraph, Node& node) : g_(g), sg_(g.subgraphs[size_t(subgraph)]), node_(node) {}

  // The node.
  int num_inputs() const { return int(node_.in.size()); }
  int num_outputs() const { return int(node_.out.size()); }
  int input(int k) const { return k < num_inputs() ? node_.in[size_t(k)] : -1; }  // −1: omitted or absent
  int output(int k) const { return node_.out[size_t(k)]; }
  Tensor& tensor(int t) { return sg_.tensors[size_t(t)]; }
  Tensor& in(int k) { return tensor(input(k)); }
  Tensor& out(int k) { return tensor(output(k)); }
  const tflite::Operator* op() const { return node_.op; }
  const char* name() const;
  Node& node() { return node_; }
  Graph& graph() { return g_; }
  int subgraph() const { return sg_.index; }
  const LoadLimits& limits() const { return g_.model.limits; }

  // "operator N (OP)" (with "subgraph S: " before it outside subgraph 0).
  std::string Where() const;
  [[noreturn]] void Fail(const std::string& msg) const;
  void Need(bool ok, const std::string& msg) const {
    if (!ok) Fail(msg);
  }

  // Results of prepare.
  template <class D>
  D& MakeData() {
    auto d = std::make_unique<D>();
    D& r = *d;
    node_.data = std::move(d);
    return r;
  }
  template <class D>
  D& data() {
    return static_cast<D&>(*node_.data);
  }
  int AddScratch(size_t bytes) {
    node_.scratch.push_back(Scratch{bytes});
    return int(node_.scratch.size()) - 1;
  }
  void SetKernel(const char* family) { node_.kernel = family; }
  void AddMacs(int64_t macs);
  void CountWeights(int t);  // a constant weight/bias input (num_weights())
  // Sets output k's shape; checks it against the file's declared shape or
  // signature ("output tensor X has shape [..], the op produces [..]").
  void SetOutputShape(int k, const std::vector<int>& shape);

  // Control flow: prepares subgraph `s` with its inputs taking the shapes,
  // types and (for constants) the data of `caller_tensors` (this subgraph's).
  Subgraph& PrepareSubgraph(int s, const std::vector<int>& caller_tensors);
  int FindOrAddVariable(const std::string& container, const std::string& shared_name) {
    return g_.FindOrAddVariable(container, shared_name);
  }
  Variable& variable(int v) { return g_.variables[size_t(v)]; }

 private:
  Graph& g_;
  Subgraph& sg_;
  Node& node_;
};

class EvalContext {
 public:
  EvalContext(Graph& g, Subgraph& sg) : g_(g), sg_(sg) {}
  void set_node(Node* n) { node_ = n; }

  template <typename T>
  T* in(int k) const {
    const int t = node_->in[size_t(k)];
    return t < 0 ? nullptr : reinterpret_cast<T*>(sg_.tensors[size_t(t)].data);
  }
  template <typename T>
  T* out(int k) const {
    return reinterpret_cast<T*>(sg_.tensors[size_t(node_->out[size_t(k)])].data);
  }
  template <typename T>
  T* scratch(int k) const {
    return reinterpret_cast<T*>(node_->scratch[size_t(k)].data);
  }
  template <class D>
  D& data() const {
    return static_cast<D&>(*node_->data);
  }
  const Tensor& in_tensor(int k) const { return sg_.tensors[size_t(node_->in[size_t(k)])]; }
  const Tensor& out_tensor(int k) const { return sg_.tensors[size_t(node_->out[size_t(k)])]; }
  int num_inputs() const { return int(node_->in.size()); }
  int num_outputs() const { return int(node_->out.size()); }
  bool optimized() const { return g_.optimized; }
  bool xnnpack() const { return g_.xnnpack; }
  Graph& graph() const { return g_; }
  Subgraph& subgraph() const { return sg_; }
  Node& node() const { return *node_; }

 private:
  Graph& g_;
  Subgraph& sg_;
  Node* node_ = nullptr;
};

// The registry (ops/registry.cc): every builtin kws runs, in op_list.h order.
const OpRegistration* FindOp(int code);
const std::vector<const OpRegistration*>& AllOps();
std::string SupportedOpsList();  // "ADD, ..." for error messages
const char* BuiltinName(int code);  // the schema's name, or "unknown operator"

}  // namespace kws::rt
