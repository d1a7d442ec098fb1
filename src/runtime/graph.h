// A prepared, runnable copy of a loaded model (model.h) for given input shapes:
// every node's prepare has run (shapes propagated, kernels chosen, scratch
// requested), each subgraph has its own arena planned by arena_planner.h,
// resource variables have their storage. Run() is the interpreter loop: one
// registration->eval per node, nothing op-specific. Internal to src/runtime.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace kws::rt {

// Per-node prepared data (TFLite Micro's user_data): each op derives its own.
struct OpData {
  virtual ~OpData() = default;
};

// Scratch memory a node asked for in prepare; in the subgraph's arena.
struct Scratch {
  size_t bytes = 0;
  int from = -1;  // first time step it must live from (−1: only during its own node)
  size_t offset = 0;
  uint8_t* data = nullptr;
};

struct Node {
  int index = 0;
  int code = 0;
  const OpRegistration* reg = nullptr;
  const tflite::Operator* op = nullptr;
  std::vector<int> in, out;
  std::unique_ptr<OpData> data;
  std::vector<Scratch> scratch;
  // "float", "int8", "hybrid", "float->int8", "int8->float", "" (computes nothing: control flow, handles)
  const char* kernel = "float";
  int64_t macs = 0;
};

struct Subgraph {
  enum class State { kUnprepared, kPreparing, kPrepared };
  int index = 0;
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;
  std::vector<int> inputs, outputs;
  State state = State::kUnprepared;
  AlignedBuffer arena;
  size_t arena_bytes = 0;
};

// A resource variable (VAR_HANDLE container/shared_name): its shape and type
// are fixed by the first ASSIGN_VARIABLE or READ_VARIABLE prepared; its
// storage persists across Invoke calls until ResetVariables().
struct Variable {
  std::string container, shared_name;
  bool defined = false;
  std::vector<int> shape;
  DType type = DType::kFloat32;
  size_t bytes = 0;
  size_t offset = 0;
  uint8_t* data = nullptr;
};

class Graph {
 public:
  explicit Graph(const Model& model);
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Prepares subgraph 0 with its inputs of these shapes (empty = the file's),
  // every subgraph it calls, then plans and allocates all memory. Throws BadInput.
  void Prepare(const std::vector<std::vector<int>>& input_shapes);
  // Runs subgraph `s` on the data in its input tensors (the interpreter loop).
  void Run(int s);
  // Variables back to their state after loading (CALL_ONCE runs again).
  void ResetVariables();

  // Used by the ops' prepare (op.h).
  void PrepareSubgraph(int s);
  void SetShape(int s, int t, const std::vector<int>& shape, const std::string& where);
  int FindOrAddVariable(const std::string& container, const std::string& shared_name);

  const Model& model;
  std::vector<Subgraph> subgraphs;
  std::vector<Variable> variables;
  AlignedBuffer variable_block;
  bool optimized = true;  // KernelSet::kOptimized
  bool xnnpack = true;    // Int8Arithmetic::kXnnpack
  int64_t macs = 0, weights = 0, nonzero_weights = 0;
  int64_t subgraph_runs = 0;  // in the current Invoke (LoadLimits::max_subgraph_runs)
  std::vector<std::pair<int, int>> weight_tensors;  // (subgraph, tensor) counted by num_weights()
  size_t total_arena_bytes = 0;

 private:
  void PlanSubgraph(Subgraph& sg);
  void Allocate();
  void CountWeights();
};

}  // namespace kws::rt
