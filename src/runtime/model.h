// The loaded model (loader.cc), TFLite Micro's "model + allocator" step without
// the arena: the FlatBuffer is verified before any field is read, every
// subgraph's tensors are checked (types, shapes, quantization, buffers) with
// their constant data copied into one 64-byte aligned block, every operator is
// resolved to its registration (ops/registry.cc) and the dataflow is checked
// (inputs written before they are read, outputs written once). Nothing here
// knows what an operator computes; graph.h prepares a runnable copy for given
// input shapes. Internal to src/runtime.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/interpreter.h"

namespace tflite {
struct Operator;
}

namespace kws::rt {

struct OpRegistration;

constexpr size_t kAlign = 64;
inline size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// A 64-byte aligned, zero-initialised block of bytes.
class AlignedBuffer {
 public:
  void Resize(size_t n) {
    raw_.reset(new uint8_t[n + kAlign]());
    const auto addr = reinterpret_cast<uintptr_t>(raw_.get());
    data_ = raw_.get() + (AlignUp(addr) - addr);
    size_ = n;
  }
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> raw_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

size_t TypeSize(DType t);  // bytes per element (resource: 0)
std::string ShapeStr(const std::vector<int>& s);
int64_t ShapeElements(const std::vector<int>& s);

struct Tensor {
  std::string name;
  std::vector<int> shape;      // the file's shape; while preparing, the shape for the given inputs
  std::vector<int> signature;  // shape_signature (−1 = dynamic), or the file's shape when absent
  DType type = DType::kFloat32;
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int quantized_dimension = 0;
  int64_t elements = 1;
  size_t bytes = 0;
  bool is_const = false;
  uint8_t* data = nullptr;  // constants: in the model's constant block; others: in the arena once planned
  bool float16 = false;     // FLOAT16 constant in the file, float32 from loading on
  bool uint8 = false;       // UINT8 in the file: run as int8 (values and zero points − 128)
  // Filled while preparing (graph.cc).
  int variable = -1;        // resource tensors: index of the variable they name
  size_t offset = 0;        // in the subgraph's arena
  int first = -1, last = -1;  // lifetime in time steps (0 = inputs, node i = i + 1)
  bool dynamic() const {
    for (int d : signature)
      if (d < 0) return true;
    return false;
  }
};

struct NodeDef {
  int code = 0;                           // builtin operator code
  const OpRegistration* reg = nullptr;
  const tflite::Operator* op = nullptr;   // options; valid while Model::bytes is held
  std::vector<int> in, out;               // tensor indices (in: −1 = omitted)
};

struct SubgraphDef {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<NodeDef> nodes;
  std::vector<int> inputs, outputs;
};

struct Model {
  std::string name;      // prefixes every error message
  LoadLimits limits;
  AlignedBuffer bytes;   // the verified file; released once no further preparation can happen
  AlignedBuffer consts;  // constant tensors, each 64-byte aligned
  std::vector<SubgraphDef> subgraphs;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string description;

  [[noreturn]] void Fail(const std::string& msg) const;
  bool has_dynamic_inputs() const;
  // Drops the file bytes (operator options can no longer be read).
  void ReleaseBytes();
};

// "" for subgraph 0 (the messages of single-graph models stay short), "subgraph S: " otherwise.
std::string SubgraphPrefix(int subgraph);

// Verifies and loads `bytes` into `m` (m->name and m->limits set by the caller). Throws BadInput.
void LoadModel(std::string_view bytes, Model* m);

}  // namespace kws::rt
