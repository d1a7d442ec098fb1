// kws's .tflite runtime: loads a model file, checks it completely, plans one
// arena per subgraph, and runs it with kws's own kernels (float32, full-int8
// and dynamic-range "hybrid" models; legacy uint8 models and uint8 I/O (run as
// int8 shifted by 128, reported as uint8); float16 constants through
// DEQUANTIZE; buffers inside the FlatBuffer or at offset/size after it). The
// operators it runs are listed in ops/op_list.h (`kws invoke --info` on an
// unsupported model names them); among them control flow (CALL_ONCE, IF,
// WHILE) over a model's subgraphs and resource variables (VAR_HANDLE,
// READ_VARIABLE, ASSIGN_VARIABLE) whose values persist across Invoke calls, as
// streaming models (microWakeWord) keep their state. No TensorFlow involved.
//
//   auto it = kws::rt::Interpreter::FromFile("model.tflite");   // throws kws::Error (BadInput)
//   std::vector<float> probs = it.RunFloat(features.data());     // quantizes/dequantizes as needed
//
//   // or, raw:
//   TensorInfo in = it.input(0);               // shape, type, scale, zero_point, bytes
//   std::memcpy(it.input_data(0), raw, in.bytes);
//   it.Invoke();                               // never allocates
//   const int8_t* out = static_cast<const int8_t*>(it.output_data(0));
//
//   // inputs with dynamic (−1) dimensions in their shape signature:
//   it.ResizeInput(0, {1, 1760});              // prepares the model again for that shape
//
// Loading = FlatBuffer verification (tflite::VerifyModelBuffer) before any
// field is read, then validation of everything the kernels rely on (version 3,
// indices in range, buffer sizes, shapes consistent with every op,
// quantization parameters, supported op codes and types, subgraph calls).
// Anything wrong throws kws::BadInput("<name>: <what is wrong>"); no input
// crashes the loader (fuzz/fuzz_model_loader.cc).
//
// Structure (src/runtime): model.h + loader.cc (verify, tensors, metadata,
// dataflow), op.h + ops/ (one registration per builtin: prepare computes
// shapes, quantization parameters, packed weights and chooses its kernel once;
// eval only runs), graph.h (subgraphs prepared for given input shapes; the
// interpreter loop), arena_planner.h (greedy planning by lifetime). An
// Interpreter is movable, not copyable, and not thread-safe (one Invoke at a
// time; use one Interpreter per thread).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kws::rt {

// uint8: as the file says (run as int8 internally); resource: a variable handle (no data).
enum class DType { kFloat32, kInt8, kInt32, kUInt8, kBool, kResource };
const char* DTypeName(DType t);  // "float32", "int8", "int32", "uint8", "bool", "resource"

struct TensorInfo {
  std::string name;
  std::vector<int> shape;      // as prepared (dynamic dimensions resolved)
  std::vector<int> signature;  // the file's shape signature: −1 = dynamic (ResizeInput)
  DType type = DType::kFloat32;
  float scale = 0.0f;      // int8/uint8 only (per-tensor); 0 for float
  int32_t zero_point = 0;  // int8/uint8 only
  size_t bytes = 0;        // elements × element size
  int64_t elements() const {
    int64_t n = 1;
    for (int d : shape) n *= d;
    return n;
  }
};

// The builtin operators kws runs (the registry, src/runtime/ops/op_list.h), e.g. "CONV_2D".
std::vector<std::string> SupportedOps();

// Which kernel family Invoke runs (results: optimized float within ~1e-5 of
// reference; int8 identical).
enum class KernelSet { kOptimized, kReference };

// How int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED requantize and how
// QUANTIZE rounds:
//  kReference: TFLite's reference kernels and TFLite Micro (Q31 multiplier,
//    SaturatingRoundingDoublingHighMul + RoundingDivideByPOT; x/scale rounded
//    half away from zero). What a microcontroller computes.
//  kXnnpack: TFLite's default CPU path (the XNNPACK delegate, also inside the
//    official WebAssembly interpreter): float(acc)·scale rounded half to even;
//    QUANTIZE as x·(1/scale) rounded half to even.
// kXnnpack (the default) is bit-identical with the official interpreter
// (tests/runtime/official_test.cc); kReference follows TFLite's reference
// kernels. The two differ by at most 1 in a small fraction of outputs.
enum class Int8Arithmetic { kReference, kXnnpack };

// Safety limits applied while loading (a malicious file cannot make kws
// allocate or compute without bound). Defaults fit any keyword model.
struct LoadLimits {
  int64_t max_tensor_elements = int64_t(1) << 26;
  int64_t max_arena_bytes = int64_t(1) << 29;
  int64_t max_macs = int64_t(1) << 34;
  int max_operators = 4096;  // over all subgraphs
  int max_tensors = 16384;
  // Subgraph runs within one Invoke (WHILE iterations, IF branches, CALL_ONCE): more make Invoke throw
  // BadInput, so a loop that never ends (or calls nested exponentially) cannot hang the caller.
  int64_t max_subgraph_runs = int64_t(1) << 20;
};

// Per-op summary (for `kws invoke --info`).
struct OpInfo {
  int subgraph = 0;          // tensor indices below are that subgraph's
  std::string op;            // "CONV_2D", ...
  std::string kernel;        // "float", "int8", "hybrid", "float->int8", "int8->float", "" (control flow)
  std::vector<int> inputs;   // tensor indices (-1 = omitted)
  std::vector<int> outputs;
  int64_t macs = 0;
};

class Interpreter {
 public:
  // Reads and loads a .tflite file. `name` in messages is the path.
  static Interpreter FromFile(const std::string& path, const LoadLimits& limits = {});
  // Loads from bytes (copied). `name` prefixes every error message.
  static Interpreter FromBuffer(const std::string& name, std::string_view bytes, const LoadLimits& limits = {});

  Interpreter(Interpreter&&) noexcept;
  Interpreter& operator=(Interpreter&&) noexcept;
  ~Interpreter();

  int num_inputs() const;
  int num_outputs() const;
  TensorInfo input(int i) const;   // throws UsageError if i is out of range
  TensorInfo output(int i) const;
  void* input_data(int i);         // bytes = input(i).bytes, inside the arena
  const void* output_data(int i) const;

  // Runs the graph on the current input data. No allocation. Throws UsageError
  // if the model still needs input shapes (ResizeInput), BadInput if control
  // flow runs subgraphs more than LoadLimits::max_subgraph_runs times.
  void Invoke();

  // Prepares the model again with input i of this shape: only the dimensions
  // that are −1 in its signature may differ from the file's. Resets the
  // variables. Throws BadInput (the previous preparation stays) or UsageError.
  void ResizeInput(int i, const std::vector<int>& shape);
  // False when the file's own input shapes do not run (an input with dynamic
  // dimensions needs ResizeInput first); prepare_error() says why.
  bool prepared() const;
  std::string prepare_error() const;
  // Resource variables back to their state after loading (CALL_ONCE runs its
  // init subgraph again on the next Invoke): a streaming model starts afresh.
  void ResetVariables();

  // Float convenience for eval / infer / streaming: `features` has
  // input(0).elements() floats; quantized into the input if it is int8;
  // returns output 0 as floats (dequantized if int8).
  std::vector<float> RunFloat(const float* features);
  // Same without allocating: writes output(0).elements() floats into `out`.
  void RunFloat(const float* features, float* out);

  void set_kernels(KernelSet k);
  KernelSet kernels() const;
  void set_int8_arithmetic(Int8Arithmetic a);
  Int8Arithmetic int8_arithmetic() const;

  size_t arena_bytes() const;        // activations + scratch (one block per subgraph) + variables
  int64_t macs() const;              // multiply-accumulates per Invoke (conv, depthwise, FC, matmul; every subgraph)
  int64_t num_weights() const;       // elements of conv/depthwise/FC filters and biases
  int64_t num_nonzero_weights() const;
  bool has_metadata(const std::string& name) const;
  std::string metadata(const std::string& name) const;  // raw bytes; "" if absent
  std::string description() const;
  int num_subgraphs() const;
  int num_tensors(int subgraph = 0) const;
  TensorInfo tensor(int t, int subgraph = 0) const;
  std::vector<OpInfo> ops() const;   // every prepared subgraph's, subgraph 0 first
  // "float32", "int8" or "hybrid" (int8 weights with float activations).
  std::string model_kind() const;

  struct Impl;

 private:
  explicit Interpreter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kws::rt
