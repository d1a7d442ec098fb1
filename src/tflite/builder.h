// ModelBuilder: a small generic writer for .tflite files (FlatBuffer "TFL3", schema version 3),
// built on kws's own schema subset (src/tflite/kws_tflite.fbs -> kws_tflite_generated.h).
//
//   kws::tfl::ModelBuilder b;
//   int w = b.AddConstTensor("conv/w", {16, 3, 3, 1}, tflite::TensorType::FLOAT32, weights);
//   int x = b.AddTensor("input", {1, 97, 20, 1}, tflite::TensorType::FLOAT32);
//   int y = b.AddTensor("conv/out", {1, 49, 10, 16}, tflite::TensorType::FLOAT32);
//   b.AddOperator(tflite::BuiltinOperator::CONV_2D, {x, w, -1}, {y},
//                 kws::tfl::Conv2DOptions{.padding = ..., .stride_w = 2, .stride_h = 2});
//   b.SetInputs({x}); b.SetOutputs({y});
//   std::string bytes = b.Finish();
//
// Layout decisions: buffer 0 is the empty sentinel; every constant gets its own buffer whose data is
// 16-byte aligned inside the file; op codes are deduplicated by (op, version) and written both in
// builtin_code and (for codes < 127) in deprecated_builtin_code, as the official converter does.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "kws_tflite_generated.h"

namespace kws::tfl {

// Affine quantization: real = scale * (q - zero_point). One entry = per tensor; several = per
// channel along quantized_dimension. min/max are optional (informational, written when non-empty).
struct QuantParams {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int quantized_dimension = 0;
  std::vector<float> min, max;
  bool empty() const { return scale.empty() && zero_point.empty() && min.empty() && max.empty(); }
  static QuantParams PerTensor(float scale, int64_t zero_point) { return {{scale}, {zero_point}, 0, {}, {}}; }
};

// Builtin option tables (plain structs; the builder converts them to the FlatBuffer tables).
using ::tflite::ActivationFunctionType;
using ::tflite::Padding;

struct Conv2DOptions {
  Padding padding = Padding::SAME;
  int stride_w = 1, stride_h = 1;
  ActivationFunctionType activation = ActivationFunctionType::NONE;
  int dilation_w = 1, dilation_h = 1;
};
struct DepthwiseConv2DOptions {
  Padding padding = Padding::SAME;
  int stride_w = 1, stride_h = 1;
  int depth_multiplier = 1;
  ActivationFunctionType activation = ActivationFunctionType::NONE;
  int dilation_w = 1, dilation_h = 1;
};
struct Pool2DOptions {
  Padding padding = Padding::VALID;
  int stride_w = 1, stride_h = 1;
  int filter_width = 1, filter_height = 1;
  ActivationFunctionType activation = ActivationFunctionType::NONE;
};
struct FullyConnectedOptions {
  ActivationFunctionType activation = ActivationFunctionType::NONE;
  bool keep_num_dims = false;
  bool asymmetric_quantize_inputs = false;
};
struct SoftmaxOptions { float beta = 1.0f; };
struct ReshapeOptions { std::vector<int> new_shape; };
struct ReducerOptions { bool keep_dims = false; };
struct QuantizeOptions {};
struct DequantizeOptions {};
struct AddOptions { ActivationFunctionType activation = ActivationFunctionType::NONE; };
struct MulOptions { ActivationFunctionType activation = ActivationFunctionType::NONE; };
struct ConcatenationOptions {
  int axis = 0;
  ActivationFunctionType activation = ActivationFunctionType::NONE;
};
struct PadOptions {};

using OpOptions = std::variant<std::monostate, Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions,
                               FullyConnectedOptions, SoftmaxOptions, ReshapeOptions, ReducerOptions,
                               QuantizeOptions, DequantizeOptions, AddOptions, MulOptions, ConcatenationOptions,
                               PadOptions>;

// Where the bytes of a finished file went, section by section (exact: the FlatBuffer builder's size
// before and after each part; vtables, alignment padding and length prefixes are charged to the part
// that caused them). `kws export --bytes` prints it.
struct ByteAccount {
  std::vector<std::pair<std::string, size_t>> parts;  // in file order from the end (buffers first)
  size_t total = 0;
  std::string Table() const;  // "part  bytes  %" lines
};

// Bytes per element of a tensor type (float32 4, int32 4, int8 1, ...); throws for unsupported types.
int TypeSize(::tflite::TensorType type);

class ModelBuilder {
 public:
  ModelBuilder();

  // A constant data buffer; returns its index (>= 1). Empty data still gets a fresh (empty) buffer.
  int AddBuffer(std::string_view bytes);
  int AddBuffer(const void* data, size_t bytes) {
    return AddBuffer(std::string_view(static_cast<const char*>(data), bytes));
  }

  // A tensor; buffer 0 = no data (activations). Returns the tensor index.
  int AddTensor(const std::string& name, const std::vector<int>& shape, ::tflite::TensorType type,
                int buffer = 0, const QuantParams& quant = {});

  // A constant tensor whose data is `values` (its element type must match `type`'s size).
  template <class T>
  int AddConstTensor(const std::string& name, const std::vector<int>& shape, ::tflite::TensorType type,
                     std::span<const T> values, const QuantParams& quant = {}) {
    CheckConst(name, shape, type, values.size(), sizeof(T));
    int buf = AddBuffer(values.data(), values.size() * sizeof(T));
    return AddTensor(name, shape, type, buf, quant);
  }
  template <class T>
  int AddConstTensor(const std::string& name, const std::vector<int>& shape, ::tflite::TensorType type,
                     const std::vector<T>& values, const QuantParams& quant = {}) {
    return AddConstTensor(name, shape, type, std::span<const T>(values), quant);
  }

  // An operator (appended in execution order). Inputs may contain -1 (optional input omitted).
  // Returns the operator index.
  int AddOperator(::tflite::BuiltinOperator op, const std::vector<int>& inputs,
                  const std::vector<int>& outputs, const OpOptions& options = {}, int version = 1);

  void SetInputs(std::vector<int> inputs) { inputs_ = std::move(inputs); }
  void SetOutputs(std::vector<int> outputs) { outputs_ = std::move(outputs); }
  void SetDescription(std::string d) { description_ = std::move(d); }
  void SetSubgraphName(std::string n) { subgraph_name_ = std::move(n); }
  // A Model.metadata entry named `name` whose buffer holds `bytes`.
  void AddMetadata(const std::string& name, std::string_view bytes);
  // Also write a "serving_default" SignatureDef naming the inputs/outputs by their tensor names.
  void SetWriteSignature(bool on) { write_signature_ = on; }
  // Write op codes the way old converters did: only deprecated_builtin_code, builtin_code left 0
  // (readers must take the larger of the two). For reader tests; codes >= 127 cannot be written so.
  void SetLegacyOpcodes(bool on) { legacy_opcodes_ = on; }

  int num_tensors() const { return int(tensors_.size()); }
  int num_operators() const { return int(ops_.size()); }
  const std::vector<int>& tensor_shape(int t) const { return tensors_.at(t).shape; }
  ::tflite::TensorType tensor_type(int t) const { return tensors_.at(t).type; }

  // The finished .tflite bytes (verifiable with tflite::VerifyModelBuffer). Throws InternalError if the
  // graph is inconsistent (tensor index out of range, missing inputs/outputs). With `accounting`, also
  // where the bytes went (see ByteAccount).
  std::string Finish(struct ByteAccount* accounting = nullptr) const;

 private:
  struct TensorRec {
    std::string name;
    std::vector<int> shape;
    ::tflite::TensorType type;
    int buffer;
    QuantParams quant;
  };
  struct OpRec {
    int opcode;
    std::vector<int> inputs, outputs;
    OpOptions options;
  };
  void CheckConst(const std::string& name, const std::vector<int>& shape, ::tflite::TensorType type,
                  size_t count, size_t elem_size) const;
  void CheckIndices() const;
  class Writer;  // Finish's steps (builder.cc)

  std::vector<std::string> buffers_;  // [0] = sentinel
  std::vector<TensorRec> tensors_;
  std::vector<OpRec> ops_;
  std::vector<std::pair<::tflite::BuiltinOperator, int>> opcodes_;
  std::vector<int> inputs_, outputs_;
  std::vector<std::pair<std::string, int>> metadata_;
  std::string description_ = "kws";
  std::string subgraph_name_ = "main";
  bool write_signature_ = false;
  bool legacy_opcodes_ = false;
};

// The effective builtin code of an OperatorCode: max(deprecated_builtin_code, builtin_code) (tensorflow/lite/schema/schema.fbs).
::tflite::BuiltinOperator EffectiveBuiltinCode(const ::tflite::OperatorCode& code);

// Verifies the FlatBuffer structure and the "TFL3" identifier; returns the root or throws
// BadInput("<what>: ...").
const ::tflite::Model* VerifiedModel(std::string_view bytes, const std::string& what);

}  // namespace kws::tfl
