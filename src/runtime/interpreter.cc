// The .tflite interpreter: verify → validate/prepare (one function per op) →
// plan the arena → Invoke (one kernel call per op). See interpreter.h.
#include "runtime/interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <set>

#include "kws_tflite_generated.h"
#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/optimized/sparse_conv.h"
#include "runtime/kernels/reference/activations.h"
#include "runtime/kernels/reference/add.h"
#include "runtime/kernels/reference/concatenation.h"
#include "runtime/kernels/reference/conv.h"
#include "runtime/kernels/reference/depthwise_conv.h"
#include "runtime/kernels/reference/fully_connected.h"
#include "runtime/kernels/reference/mean.h"
#include "runtime/kernels/reference/mul.h"
#include "runtime/kernels/reference/pad.h"
#include "runtime/kernels/reference/pooling.h"
#include "runtime/kernels/reference/quantize.h"
#include "runtime/kernels/reference/softmax.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws::rt {

const char* DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kUInt8: return "uint8";
  }
  return "?";
}

namespace {

constexpr size_t kAlign = 64;

size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// A 64-byte aligned block of bytes.
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

// IEEE half -> float (exact; subnormals, infinities and NaN included).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023;
  float v;
  if (exp == 0) {
    v = std::ldexp(float(man), -24);
  } else if (exp == 31) {
    v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    v = std::ldexp(float(man | 1024), int(exp) - 25);
  }
  return sign ? -v : v;
}

size_t TypeSize(DType t) { return t == DType::kInt8 || t == DType::kUInt8 ? 1 : 4; }

struct Tensor {
  std::string name;
  std::vector<int> shape;
  DType type = DType::kFloat32;
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  int quantized_dimension = 0;
  int64_t elements = 1;
  size_t bytes = 0;
  bool is_const = false;
  const uint8_t* file_data = nullptr;  // constant bytes inside the model (copied at the end of loading)
  size_t offset = 0;                   // in the constant block or the arena
  bool produced = false;               // graph input, constant, or written by an earlier op
  bool is_graph_input = false;
  bool float16 = false;                // FLOAT16 constant, converted to float32 at load
  bool uint8 = false;                  // UINT8 in the file: run as int8 (values and zero points − 128)
  int first = -1, last = -1;           // lifetime in "time steps" (0 = inputs, op i = i + 1)
};

enum class Kind {
  kConvFloat, kConvInt8, kConvHybrid,
  kDwFloat, kDwInt8, kDwHybrid,
  kFcFloat, kFcInt8, kFcHybrid,
  kAvgFloat, kAvgInt8, kMaxFloat, kMaxInt8,
  kMeanFloat, kMeanInt8,
  kReshape,
  kSoftmaxFloat, kSoftmaxInt8,
  kQuantize, kRequantize, kDequantize,
  kNop,                                       // folded at load (float16 DEQUANTIZE of a constant)
  // Element-wise and layout ops found in models other tools wrote.
  kAddFloat, kAddInt8, kMulFloat, kMulInt8, kConcat, kPadFloat, kPadInt8,
  kLogisticFloat, kTanhFloat, kClampFloat, kLutInt8, kReluInt8,
};

const char* KernelFamily(Kind k) {
  switch (k) {
    case Kind::kConvHybrid: case Kind::kDwHybrid: case Kind::kFcHybrid: return "hybrid";
    case Kind::kConvInt8: case Kind::kDwInt8: case Kind::kFcInt8: case Kind::kAvgInt8: case Kind::kMaxInt8:
    case Kind::kMeanInt8: case Kind::kSoftmaxInt8: case Kind::kRequantize: return "int8";
    case Kind::kAddInt8: case Kind::kMulInt8: case Kind::kPadInt8: case Kind::kLutInt8: case Kind::kReluInt8:
      return "int8";
    case Kind::kQuantize: return "float->int8";
    case Kind::kDequantize: return "int8->float";
    default: return "float";
  }
}

struct Scratch {
  size_t bytes = 0;
  size_t offset = 0;
  int from = -1;  // first op (time step) it must live from; -1 = only its own op
};

struct Op {
  tflite::BuiltinOperator code{};
  Kind kind{};
  std::vector<int> in, out;
  // Geometry / shapes.
  ConvGeometry g;
  Shape4 is, fs, os;
  int fh = 1, fw = 1;
  int batches = 1, depth = 1, units = 1;
  // Activation / quantization.
  FloatAct fact;
  QuantParams q;
  std::vector<int32_t> mult;
  std::vector<int> shift;
  std::vector<int32_t> filter_sums;  // optimized int8 conv
  std::vector<float> packed;         // optimized float conv: filter as [KH][KW][Cin][Cout]
  std::vector<float> fp32_scale;     // XNNPACK-style requantization scales
  int32_t x_act_min = -128, x_act_max = 127;  // XNNPACK-style activation clamp
  std::vector<float> wscale;         // hybrid weight scales (per output channel)
  bool asymmetric = false;           // hybrid input quantization
  int64_t per_batch = 0;             // hybrid: input elements per batch item
  // MEAN.
  int dims[4] = {1, 1, 1, 1};
  bool reduce[4] = {false, false, false, false};
  MeanInt8Params mean;
  // SOFTMAX.
  float beta = 1.0f;
  SoftmaxInt8Params sm;
  std::vector<float> table;
  int rows = 1, cols = 1;
  // QUANTIZE / DEQUANTIZE / RESHAPE.
  int64_t n = 0;
  float scale = 1.0f;
  int32_t in_zp = 0, out_zp = 0;
  // Scratch buffers in the arena (meaning depends on the kind; s3 = sparse conv).
  Scratch s0, s1, s2, s3;
  // Pruned CONV_2D: sparse kernel plan (optimized kernels only), and whether
  // its input / output tensor is kept channel-planar between two sparse convs.
  std::shared_ptr<const opt::SparseConvPlan> sparse;
  opt::Layout in_layout = opt::Layout::kNhwc, out_layout = opt::Layout::kNhwc;
  int sparse_next = -1;  // op index whose phase planes this sparse conv writes directly
  int64_t macs = 0;
  bool uint8_weights = false;  // legacy uint8 weights: weight_offset != 0, reference kernels only
  // ADD / SUB / MUL / PAD / CONCATENATION / LOGISTIC / TANH / RELU.
  ref::Broadcast4 bc;
  ref::AddInt8Params add;
  ref::MulInt8Params mul;
  ref::PadParams pad;
  float pad_float = 0.0f;
  int8_t pad_int8 = 0;
  std::vector<int8_t> lut;
  ref::ReluInt8Params relu;
  bool subtract = false;
  int64_t outer = 1;
  std::vector<int64_t> inner_bytes;
  std::vector<const uint8_t*> concat_inputs;  // filled at Invoke (no allocation)
};

const char* OpName(tflite::BuiltinOperator c) {
  const char* n = tflite::EnumNameBuiltinOperator(c);
  return (n && *n) ? n : "unknown operator";
}

constexpr const char* kSupportedOps =
    "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, RESHAPE, SQUEEZE, SOFTMAX, "
    "QUANTIZE, DEQUANTIZE, ADD, SUB, MUL, CONCATENATION, PAD, PADV2, LOGISTIC, TANH, RELU, RELU6";

}  // namespace

struct Interpreter::Impl {
  std::string name;
  LoadLimits limits;
  AlignedBuffer model;   // verified copy of the file
  AlignedBuffer consts;  // constant tensors, each 64-byte aligned
  AlignedBuffer arena;   // activations + scratch
  std::vector<Tensor> tensors;
  std::vector<Op> ops;
  std::vector<int> inputs, outputs;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string description;
  KernelSet kernels = KernelSet::kOptimized;
  Int8Arithmetic arithmetic = Int8Arithmetic::kXnnpack;
  int64_t macs = 0, weights = 0, nonzero_weights = 0;
  std::vector<std::vector<float>> float16_data;  // FLOAT16 constants converted to float32
  std::set<uint32_t> uint8_buffers;               // buffers of UINT8 constants (shifted to int8)

  [[noreturn]] void Fail(const std::string& msg) const { throw BadInput(name + ": " + msg); }

  uint8_t* Data(int t) {
    Tensor& x = tensors[size_t(t)];
    return x.is_const ? consts.data() + x.offset : arena.data() + x.offset;
  }
  template <typename T>
  T* D(int t) { return reinterpret_cast<T*>(Data(t)); }
  template <typename T>
  T* S(const Scratch& s) { return reinterpret_cast<T*>(arena.data() + s.offset); }

  void Load(std::string_view bytes);
  // A buffer's bytes: inside the FlatBuffer (data), or, in the large-model
  // layout, `size` bytes at `offset` from the start of the file (offset > 1).
  std::pair<const uint8_t*, size_t> BufferBytes(const tflite::Buffer* b, const std::string& what) const {
    if (b->offset() > 1) {
      if (b->data() && b->data()->size() > 0) Fail(what + ": buffer has both inline data and an external offset");
      if (b->offset() > model.size() || b->size() > model.size() - b->offset())
        Fail(what + ": buffer data at offset " + std::to_string(b->offset()) + " (" + std::to_string(b->size()) +
             " bytes) lies outside the " + std::to_string(model.size()) + "-byte file");
      return {model.data() + b->offset(), size_t(b->size())};
    }
    if (b->data()) return {b->data()->data(), b->data()->size()};
    return {nullptr, 0};
  }
  void LoadTensors(const tflite::Model* m, const tflite::SubGraph* sg);
  void LoadOps(const tflite::Model* m, const tflite::SubGraph* sg);
  void PrepareOp(int index, const tflite::Operator* op, tflite::BuiltinOperator code, Op& o);
  void PlanArena();
  void PlanSparseLayouts();
  void CountWeights();
  void Invoke();
  TensorInfo Info(int t) const;
};

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

void Interpreter::Impl::Load(std::string_view bytes) {
  if (bytes.size() < 8) Fail("too small to be a .tflite file (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.size() >= size_t(FLATBUFFERS_MAX_BUFFER_SIZE)) Fail("file too large");
  model.Resize(bytes.size());
  std::memcpy(model.data(), bytes.data(), bytes.size());
  if (!flatbuffers::BufferHasIdentifier(model.data(), tflite::ModelIdentifier()))
    Fail("not a .tflite file (FlatBuffer identifier is not \"TFL3\")");
  flatbuffers::Verifier verifier(model.data(), model.size(), /*max_depth=*/64, /*max_tables=*/1000000);
  if (!tflite::VerifyModelBuffer(verifier)) Fail("corrupt .tflite file (FlatBuffer verification failed)");
  const tflite::Model* m = tflite::GetModel(model.data());

  if (m->version() != 3) Fail("schema version " + std::to_string(m->version()) + " (kws reads version 3)");
  // Subgraph 0 is the model (as in TFLite); others are only reachable through
  // control-flow operators (WHILE, IF, CALL_ONCE), which kws rejects as unsupported.
  if (!m->subgraphs() || m->subgraphs()->size() == 0) Fail("has no subgraphs");
  if (m->description()) description = m->description()->str();
  const auto* buffers = m->buffers();
  if (m->metadata()) {
    for (const auto* md : *m->metadata()) {
      if (!md || !md->name()) continue;
      if (!buffers || md->buffer() >= buffers->size())
        Fail("metadata '" + md->name()->str() + "' names buffer " + std::to_string(md->buffer()) + " (out of range)");
      const auto [data, size] = BufferBytes(buffers->Get(md->buffer()), "metadata '" + md->name()->str() + "'");
      metadata.emplace_back(md->name()->str(), std::string(reinterpret_cast<const char*>(data), size));
    }
  }
  const tflite::SubGraph* sg = m->subgraphs()->Get(0);
  LoadTensors(m, sg);
  LoadOps(m, sg);
  PlanSparseLayouts();
  PlanArena();
  CountWeights();

  // Constants → one aligned block (the model copy may hold them misaligned).
  size_t total = 0;
  for (auto& t : tensors)
    if (t.is_const) {
      t.offset = total;
      total += AlignUp(t.bytes);
    }
  consts.Resize(std::max<size_t>(total, 1));
  for (auto& t : tensors)
    if (t.is_const) std::memcpy(consts.data() + t.offset, t.file_data, t.bytes);
  // Ops that precompute from constant data (filter sums, packed filters) do it now.
  for (auto& o : ops) {
    if (o.kind == Kind::kConvFloat && opt::HasAvx512() && o.is.c <= 4096) {
      o.packed.resize(size_t(o.fs.size()));
      opt::PackFilterHWIO(o.fs, D<float>(o.in[1]), o.packed.data());
    }
    if (o.kind == Kind::kConvInt8) {
      const int8_t* f = D<int8_t>(o.in[1]);
      const int64_t k = int64_t(o.fs.h) * o.fs.w * o.fs.c;
      o.filter_sums.assign(size_t(o.os.c), 0);
      for (int c = 0; c < o.os.c; ++c)
        for (int64_t i = 0; i < k; ++i) o.filter_sums[size_t(c)] += f[c * k + i];
    }
  }
  model = AlignedBuffer();  // everything needed has been copied out
}

void Interpreter::Impl::LoadTensors(const tflite::Model* m, const tflite::SubGraph* sg) {
  const auto* ts = sg->tensors();
  if (!ts || ts->size() == 0) Fail("subgraph has no tensors");
  if (int64_t(ts->size()) > limits.max_tensors) Fail("too many tensors (" + std::to_string(ts->size()) + ")");
  const auto* buffers = m->buffers();
  tensors.resize(ts->size());
  for (uint32_t i = 0; i < ts->size(); ++i) {
    const tflite::Tensor* src = ts->Get(i);
    Tensor& t = tensors[i];
    t.name = src->name() ? src->name()->str() : "";
    const std::string what = "tensor " + std::to_string(i) + " '" + t.name + "'";
    switch (src->type()) {
      case tflite::TensorType::FLOAT32: t.type = DType::kFloat32; break;
      case tflite::TensorType::INT8: t.type = DType::kInt8; break;
      case tflite::TensorType::INT32: t.type = DType::kInt32; break;
      case tflite::TensorType::UINT8: t.type = DType::kInt8, t.uint8 = true; break;  // shifted, see below
      case tflite::TensorType::FLOAT16: t.type = DType::kFloat32, t.float16 = true; break;  // constants only
      default: {
        const char* tn = tflite::EnumNameTensorType(src->type());
        Fail(what + ": type " + std::string(tn && *tn ? tn : std::to_string(int(src->type()))) +
             " not supported (kws runs float32, int8 and int32 tensors)");
      }
    }
    if (src->shape()) {
      if (src->shape()->size() > 5) Fail(what + ": rank " + std::to_string(src->shape()->size()) + " (at most 5)");
      for (int d : *src->shape()) {
        if (d <= 0) Fail(what + ": dimension " + std::to_string(d) + " (every dimension must be positive)");
        t.shape.push_back(d);
        if (d > limits.max_tensor_elements || t.elements * d > limits.max_tensor_elements)
          Fail(what + ": too many elements (limit " + std::to_string(limits.max_tensor_elements) + ")");
        t.elements *= d;
      }
    }
    t.bytes = size_t(t.elements) * (t.float16 ? 2 : TypeSize(t.type));
    if (src->is_variable()) Fail(what + ": variable tensors are not supported");
    if (src->sparsity()) Fail(what + ": sparse tensors are not supported");
    if (const auto* qp = src->quantization()) {
      if (qp->details_type() != tflite::QuantizationDetails::NONE)
        Fail(what + ": non-affine quantization is not supported");
      if (qp->scale())
        for (float s : *qp->scale()) {
          if (!(s > 0.0f) || !std::isfinite(s)) Fail(what + ": quantization scale " + std::to_string(s) + " (must be > 0)");
          t.scales.push_back(s);
        }
      if (const auto* zp = qp->zero_point()) {
        // The verifier only guarantees 4-byte alignment for vector elements:
        // read the int64 zero points bytewise (found by fuzz_model_loader).
        const uint8_t* raw = zp->Data();
        for (uint32_t k = 0; k < zp->size(); ++k) {
          int64_t z;
          std::memcpy(&z, raw + size_t(k) * sizeof z, sizeof z);
          t.zero_points.push_back(flatbuffers::EndianScalar(z));
        }
      }
      if (!t.scales.empty() && t.zero_points.size() != t.scales.size())
        Fail(what + ": " + std::to_string(t.scales.size()) + " scales but " + std::to_string(t.zero_points.size()) +
             " zero points");
      // uint8 (legacy quantized models, uint8 I/O): q − 128 with zero point − 128 is the same real
      // value, so uint8 tensors run through the int8 kernels (rounding kept by the kernels that care).
      if (t.uint8)
        for (int64_t& z : t.zero_points) {
          if (z < 0 || z > 255) Fail(what + ": uint8 zero point " + std::to_string(z) + " outside [0, 255]");
          z -= 128;
        }
      t.quantized_dimension = qp->quantized_dimension();
    }
    if (buffers == nullptr || src->buffer() >= buffers->size())
      Fail(what + ": buffer index " + std::to_string(src->buffer()) + " out of range (" +
           std::to_string(buffers ? buffers->size() : 0) + " buffers)");
    const auto [data, size] = BufferBytes(buffers->Get(src->buffer()), what);
    if (size > 0) {
      if (size != t.bytes)
        Fail(what + ": buffer " + std::to_string(src->buffer()) + " holds " + std::to_string(size) +
             " bytes, shape × type needs " + std::to_string(t.bytes));
      t.is_const = true;
      t.produced = true;
      t.file_data = data;
      if (t.uint8) {  // shift the constant in kws's own copy of the file, once per buffer
        if (data < model.data() || data + size > model.data() + model.size())
          Fail(what + ": buffer outside the file");
        if (uint8_buffers.insert(src->buffer()).second)
          for (size_t k = 0; k < size; ++k) const_cast<uint8_t*>(data)[k] ^= 0x80;
      } else if (uint8_buffers.count(src->buffer())) {
        Fail(what + ": shares its buffer with a uint8 tensor");
      }
      if (t.float16) {  // float16 weights (the converter's float16 quantization): float32 from here on
        std::vector<float> f(size_t(t.elements));
        for (size_t k = 0; k < f.size(); ++k) f[k] = HalfToFloat(uint16_t(data[2 * k] | (data[2 * k + 1] << 8)));
        float16_data.push_back(std::move(f));
        t.file_data = reinterpret_cast<const uint8_t*>(float16_data.back().data());
        t.bytes = size_t(t.elements) * 4;
      }
    }
    if (t.float16 && !t.is_const) Fail(what + ": float16 activations are not supported (only float16 constants)");
  }
  auto index_list = [&](const flatbuffers::Vector<int32_t>* v, const char* what) {
    std::vector<int> r;
    if (!v || v->size() == 0) Fail(std::string("subgraph has no ") + what);
    for (int x : *v) {
      if (x < 0 || x >= int(tensors.size()))
        Fail(std::string("subgraph ") + what + " name tensor " + std::to_string(x) + " (out of range)");
      r.push_back(x);
    }
    return r;
  };
  inputs = index_list(sg->inputs(), "inputs");
  outputs = index_list(sg->outputs(), "outputs");
  for (int x : inputs) {
    if (tensors[size_t(x)].is_const) Fail("graph input tensor " + std::to_string(x) + " is a constant");
    if ((tensors[size_t(x)].type == DType::kInt8 || tensors[size_t(x)].type == DType::kUInt8) &&
        tensors[size_t(x)].scales.size() != 1)
      Fail("graph input tensor " + std::to_string(x) + " is " +
           (tensors[size_t(x)].uint8 ? "uint8" : DTypeName(tensors[size_t(x)].type)) +
           " without per-tensor quantization");
    tensors[size_t(x)].produced = true;
    tensors[size_t(x)].is_graph_input = true;
  }
}

void Interpreter::Impl::LoadOps(const tflite::Model* m, const tflite::SubGraph* sg) {
  const auto* sops = sg->operators();
  const auto* codes = m->operator_codes();
  if (!sops || sops->size() == 0) Fail("subgraph has no operators");
  if (int64_t(sops->size()) > limits.max_operators) Fail("too many operators (" + std::to_string(sops->size()) + ")");
  ops.resize(sops->size());
  for (uint32_t i = 0; i < sops->size(); ++i) {
    const tflite::Operator* op = sops->Get(i);
    const std::string where = "operator " + std::to_string(i);
    if (!codes || op->opcode_index() >= codes->size())
      Fail(where + ": opcode index " + std::to_string(op->opcode_index()) + " out of range");
    const tflite::OperatorCode* oc = codes->Get(op->opcode_index());
    const int code = std::max<int>(oc->deprecated_builtin_code(), int(oc->builtin_code()));
    const auto bc = static_cast<tflite::BuiltinOperator>(code);
    Op& o = ops[i];
    o.code = bc;
    if (op->inputs())
      for (int x : *op->inputs()) {
        if (x < -1 || x >= int(tensors.size()))
          Fail(where + " (" + OpName(bc) + "): input tensor index " + std::to_string(x) + " out of range");
        o.in.push_back(x);
      }
    if (op->outputs())
      for (int x : *op->outputs()) {
        if (x < 0 || x >= int(tensors.size()))
          Fail(where + " (" + OpName(bc) + "): output tensor index " + std::to_string(x) + " out of range");
        o.out.push_back(x);
      }
    // Data flow: inputs must exist already, outputs are written once.
    for (size_t k = 0; k < o.in.size(); ++k) {
      const int x = o.in[k];
      if (x < 0) continue;
      if (!tensors[size_t(x)].produced)
        Fail(where + " (" + OpName(bc) + "): input tensor " + std::to_string(x) + " '" + tensors[size_t(x)].name +
             "' is read before any operator writes it");
    }
    if (bc == tflite::BuiltinOperator::DEQUANTIZE && o.in.size() == 1 && o.out.size() == 1 && o.in[0] >= 0 &&
        tensors[size_t(o.in[0])].float16 && tensors[size_t(o.in[0])].is_const) {
      // float16 weights -> float32: the output is that constant (already converted), nothing runs.
      Tensor& src = tensors[size_t(o.in[0])];
      Tensor& dst = tensors[size_t(o.out[0])];
      if (dst.type != DType::kFloat32 || dst.float16 || dst.shape != src.shape || dst.is_const)
        Fail(where + " (DEQUANTIZE): float16 input needs a float32 output of the same shape");
      dst.is_const = true;
      dst.file_data = src.file_data;
      o.kind = Kind::kNop;
    } else {
      PrepareOp(int(i), op, bc, o);
    }
    for (int x : o.out) {
      Tensor& t = tensors[size_t(x)];
      if (t.produced)
        Fail(where + " (" + OpName(bc) + "): output tensor " + std::to_string(x) + " '" + t.name +
             "' is a constant, a graph input or already written");
      t.produced = true;
    }
    macs += o.macs;
    if (macs > limits.max_macs) Fail("too much compute (" + std::to_string(macs) + " multiply-adds)");
  }
  for (int x : outputs)
    if (!tensors[size_t(x)].produced)
      Fail("graph output tensor " + std::to_string(x) + " '" + tensors[size_t(x)].name + "' is never written");
}

// ---------------------------------------------------------------------------
// Per-op validation and preparation
// ---------------------------------------------------------------------------

namespace {

std::string ShapeStr(const std::vector<int>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

Shape4 To4(const std::vector<int>& s) { return Shape4{s[0], s[1], s[2], s[3]}; }

}  // namespace

void Interpreter::Impl::PrepareOp(int index, const tflite::Operator* op, tflite::BuiltinOperator code, Op& o) {
  const std::string where = "operator " + std::to_string(index) + " (" + OpName(code) + ")";
  auto fail = [&](const std::string& msg) { Fail(where + ": " + msg); };
  auto need = [&](bool ok, const std::string& msg) {
    if (!ok) fail(msg);
  };
  auto T = [&](int x) -> Tensor& { return tensors[size_t(x)]; };
  auto arity = [&](size_t min_in, size_t max_in, size_t n_out) {
    need(o.in.size() >= min_in && o.in.size() <= max_in,
         std::to_string(o.in.size()) + " inputs (expected " + std::to_string(min_in) +
             (max_in != min_in ? "–" + std::to_string(max_in) : "") + ")");
    need(o.out.size() == n_out, std::to_string(o.out.size()) + " outputs (expected " + std::to_string(n_out) + ")");
    for (size_t k = 0; k < min_in; ++k) need(o.in[k] >= 0, "required input " + std::to_string(k) + " is omitted (-1)");
  };
  auto rank = [&](int x, size_t r, const char* role) {
    need(T(x).shape.size() == r, std::string(role) + " tensor " + std::to_string(x) + " has shape " +
                                     ShapeStr(T(x).shape) + " (expected rank " + std::to_string(r) + ")");
  };
  auto per_tensor_q = [&](int x, const char* role) {
    const Tensor& t = T(x);
    need(t.scales.size() == 1, std::string(role) + " tensor " + std::to_string(x) +
                                   " is int8 without per-tensor quantization (scale, zero point)");
    need(t.zero_points[0] >= -128 && t.zero_points[0] <= 127,
         std::string(role) + " zero point " + std::to_string(t.zero_points[0]) + " outside int8");
  };
  auto same_q = [&](int a, int b) {
    need(T(a).scales[0] == T(b).scales[0] && T(a).zero_points[0] == T(b).zero_points[0],
         "input and output quantization differ (this op keeps scale and zero point)");
  };
  auto activation = [&](tflite::ActivationFunctionType a) {
    switch (a) {
      case tflite::ActivationFunctionType::NONE: return Activation::kNone;
      case tflite::ActivationFunctionType::RELU: return Activation::kRelu;
      case tflite::ActivationFunctionType::RELU6: return Activation::kRelu6;
      case tflite::ActivationFunctionType::RELU_N1_TO_1: return Activation::kReluN1To1;
      default: fail("fused activation " + std::to_string(int(a)) + " not supported");
    }
    return Activation::kNone;
  };
  auto geometry = [&](tflite::Padding pad, int stride_h, int stride_w, int dil_h, int dil_w, int kh, int kw,
                      const Shape4& is, int* oh, int* ow) {
    need(stride_h >= 1 && stride_w >= 1 && stride_h <= 65536 && stride_w <= 65536,
         "stride " + std::to_string(stride_h) + "x" + std::to_string(stride_w) + " (must be >= 1)");
    need(dil_h >= 1 && dil_w >= 1 && dil_h <= 65536 && dil_w <= 65536, "dilation must be >= 1");
    need(pad == tflite::Padding::SAME || pad == tflite::Padding::VALID, "unknown padding");
    auto dim = [&](int in, int k, int s, int d, int* pad_before) {
      const int64_t eff = int64_t(k - 1) * d + 1;
      if (eff > (1 << 20)) fail("window " + std::to_string(eff) + " too large");
      int64_t out = pad == tflite::Padding::SAME ? (int64_t(in) + s - 1) / s : (int64_t(in) - eff + s) / s;
      if (out <= 0) fail("window " + std::to_string(eff) + " larger than input " + std::to_string(in) + " (VALID)");
      const int64_t total = (out - 1) * s + eff - in;
      *pad_before = int(std::max<int64_t>(total / 2, 0));
      return int(out);
    };
    o.g.stride_h = stride_h;
    o.g.stride_w = stride_w;
    o.g.dilation_h = dil_h;
    o.g.dilation_w = dil_w;
    *oh = dim(is.h, kh, stride_h, dil_h, &o.g.pad_top);
    *ow = dim(is.w, kw, stride_w, dil_w, &o.g.pad_left);
  };
  auto expect_shape = [&](int x, const std::vector<int>& s) {
    need(T(x).shape == s, "output tensor " + std::to_string(x) + " has shape " + ShapeStr(T(x).shape) +
                              ", the op produces " + ShapeStr(s));
  };
  auto constant = [&](int x, const char* role) {
    need(T(x).is_const, std::string(role) + " tensor " + std::to_string(x) + " must be a constant");
  };
  // Weight quantization: symmetric, one scale or one per channel along `axis`.
  auto weight_scales = [&](int x, int channels, int axis) {
    const Tensor& t = T(x);
    need(t.scales.size() == 1 || int(t.scales.size()) == channels,
         "weight tensor " + std::to_string(x) + " has " + std::to_string(t.scales.size()) + " scales (expected 1 or " +
             std::to_string(channels) + ")");
    if (t.scales.size() > 1)
      need(t.quantized_dimension == axis, "weight tensor " + std::to_string(x) + " quantized along dimension " +
                                              std::to_string(t.quantized_dimension) + " (expected " +
                                              std::to_string(axis) + ")");
    if (t.uint8) {  // legacy uint8 weights: asymmetric, per tensor
      need(t.scales.size() == 1, "uint8 weight tensor " + std::to_string(x) + " must be quantized per tensor");
      o.q.weight_offset = -int32_t(t.zero_points[0]);
      o.uint8_weights = true;
    } else {
      for (int64_t z : t.zero_points) need(z == 0, "weight tensor " + std::to_string(x) + " has a non-zero zero point");
    }
    std::vector<float> s(static_cast<size_t>(channels));
    for (int c = 0; c < channels; ++c) s[size_t(c)] = t.scales.size() == 1 ? t.scales[0] : t.scales[size_t(c)];
    return s;
  };
  auto bias_check = [&](int x, int channels, DType type) {
    if (x < 0) return;
    rank(x, 1, "bias");
    need(T(x).shape[0] == channels, "bias has " + std::to_string(T(x).shape[0]) + " values for " +
                                        std::to_string(channels) + " channels");
    need(T(x).type == type, std::string("bias type ") + DTypeName(T(x).type) + " (expected " + DTypeName(type) + ")");
    constant(x, "bias");
  };
  // int32 accumulators must not overflow for any input: k products of at most
  // 128·256 (×2 for the optimized kernels' folded offsets) plus the largest bias.
  auto accumulator_fits = [&](int64_t k, int bias) {
    int64_t max_bias = 0;
    if (bias >= 0 && T(bias).type == DType::kInt32)
      for (int64_t i = 0; i < T(bias).elements; ++i) {
        int32_t v;
        std::memcpy(&v, T(bias).file_data + 4 * i, 4);
        max_bias = std::max<int64_t>(max_bias, std::abs(int64_t(v)));
      }
    need(k * 128 * 256 * 2 + max_bias < (int64_t(1) << 31),
         "accumulator could overflow int32 (" + std::to_string(k) + " products per output, bias up to " +
             std::to_string(max_bias) + ")");
  };
  auto int8_requant = [&](int in, const std::vector<float>& wscales, int out, bool float_product) {
    const float si = T(in).scales[0], so = T(out).scales[0];
    o.mult.resize(wscales.size());
    o.shift.resize(wscales.size());
    for (size_t c = 0; c < wscales.size(); ++c) {
      const double real = float_product ? double(si * wscales[c]) / double(so)
                                        : double(si) * double(wscales[c]) / double(so);
      QuantizeMultiplier(real, &o.mult[c], &o.shift[c]);
      o.fp32_scale.push_back(si * wscales[c] / so);  // float arithmetic, as XNNPACK
      need(std::isfinite(o.fp32_scale.back()) && o.fp32_scale.back() < 65536.0f,
           "requantization scale input·weight/output = " + std::to_string(real) + " out of range");
    }
    o.q.input_offset = -int32_t(T(in).zero_points[0]);
    o.q.output_offset = int32_t(T(out).zero_points[0]);
  };
  // XNNPACK clamps to lrint(limit/scale) + zp (ties to even).
  auto xnn_range = [&](Activation act, int out) {
    const float s = T(out).scales[0];
    const int32_t zp = int32_t(T(out).zero_points[0]);
    auto q = [&](float v) { return zp + int32_t(std::nearbyint(std::clamp(v / s, -1.0e6f, 1.0e6f))); };
    o.x_act_min = -128;
    o.x_act_max = 127;
    if (act != Activation::kNone) o.x_act_min = std::max(-128, q(act == Activation::kReluN1To1 ? -1.0f : 0.0f));
    if (act == Activation::kRelu6) o.x_act_max = std::min(127, q(6.0f));
    if (act == Activation::kReluN1To1) o.x_act_max = std::min(127, q(1.0f));
  };
  auto hybrid_scratch = [&](int in, int batches) {
    o.s0.bytes = size_t(T(in).elements);           // quantized input
    o.s1.bytes = sizeof(float) * size_t(batches);    // scales
    o.s2.bytes = sizeof(int32_t) * size_t(batches);  // zero points
  };

  switch (code) {
    case tflite::BuiltinOperator::CONV_2D:
    case tflite::BuiltinOperator::DEPTHWISE_CONV_2D: {
      const bool dw = code == tflite::BuiltinOperator::DEPTHWISE_CONV_2D;
      arity(2, 3, 1);
      const int xi = o.in[0], wi = o.in[1], bi = o.in.size() > 2 ? o.in[2] : -1, yi = o.out[0];
      rank(xi, 4, "input");
      rank(wi, 4, "filter");
      constant(wi, "filter");
      o.is = To4(T(xi).shape);
      o.fs = To4(T(wi).shape);
      int oh = 0, ow = 0, cout = 0;
      Activation act;
      if (!dw) {
        const auto* opt = op->builtin_options_as_Conv2DOptions();
        need(opt != nullptr, "missing Conv2DOptions");
        need(o.fs.c == o.is.c, "filter has " + std::to_string(o.fs.c) + " input channels, input has " +
                                   std::to_string(o.is.c) + " (grouped convolution is not supported)");
        cout = o.fs.n;
        act = activation(opt->fused_activation_function());
        geometry(opt->padding(), opt->stride_h(), opt->stride_w(), opt->dilation_h_factor(), opt->dilation_w_factor(),
                 o.fs.h, o.fs.w, o.is, &oh, &ow);
        o.macs = int64_t(o.is.n) * oh * ow * cout * o.fs.h * o.fs.w * o.fs.c;
      } else {
        const auto* opt = op->builtin_options_as_DepthwiseConv2DOptions();
        need(opt != nullptr, "missing DepthwiseConv2DOptions");
        need(o.fs.n == 1, "depthwise filter must have shape [1,KH,KW,C], got " + ShapeStr(T(wi).shape));
        cout = o.fs.c;
        need(cout % o.is.c == 0, "filter channels " + std::to_string(cout) + " not a multiple of input channels " +
                                     std::to_string(o.is.c));
        o.g.depth_multiplier = cout / o.is.c;
        act = activation(opt->fused_activation_function());
        geometry(opt->padding(), opt->stride_h(), opt->stride_w(), opt->dilation_h_factor(), opt->dilation_w_factor(),
                 o.fs.h, o.fs.w, o.is, &oh, &ow);
        o.macs = int64_t(o.is.n) * oh * ow * cout * o.fs.h * o.fs.w;
      }
      o.os = Shape4{o.is.n, oh, ow, cout};
      expect_shape(yi, {o.is.n, oh, ow, cout});
      const DType xt = T(xi).type, wt = T(wi).type, yt = T(yi).type;
      if (xt == DType::kFloat32 && wt == DType::kFloat32 && yt == DType::kFloat32) {
        o.kind = dw ? Kind::kDwFloat : Kind::kConvFloat;
        bias_check(bi, cout, DType::kFloat32);
        ActivationRangeFloat(act, &o.fact.min, &o.fact.max);
        if (!dw) o.s0.bytes = sizeof(float) * opt::ConvIm2colElements(o.g, o.is, o.fs, o.os);
      } else if (xt == DType::kInt8 && wt == DType::kInt8 && yt == DType::kInt8) {
        o.kind = dw ? Kind::kDwInt8 : Kind::kConvInt8;
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        bias_check(bi, cout, DType::kInt32);
        accumulator_fits(int64_t(o.fs.h) * o.fs.w * (dw ? 1 : o.fs.c), bi);
        int8_requant(xi, weight_scales(wi, cout, dw ? 3 : 0), yi, /*float_product=*/false);
        ActivationRangeInt8(act, T(yi).scales[0], int32_t(T(yi).zero_points[0]), &o.q.act_min, &o.q.act_max);
        xnn_range(act, yi);
        if (!dw) o.s0.bytes = opt::ConvIm2colElements(o.g, o.is, o.fs, o.os);
      } else if (xt == DType::kFloat32 && wt == DType::kInt8 && yt == DType::kFloat32) {
        o.kind = dw ? Kind::kDwHybrid : Kind::kConvHybrid;
        need(!T(wi).uint8, "uint8 weights with float activations are not supported");
        bias_check(bi, cout, DType::kFloat32);
        accumulator_fits(int64_t(o.fs.h) * o.fs.w * (dw ? 1 : o.fs.c), -1);
        o.wscale = weight_scales(wi, cout, dw ? 3 : 0);
        // TFLite: depthwise hybrid and per-channel conv hybrid quantize the
        // input asymmetrically per batch item; a conv whose channel scales are
        // all equal takes the per-tensor path with symmetric quantization.
        o.asymmetric = dw || std::any_of(o.wscale.begin(), o.wscale.end(), [&](float s) { return s != o.wscale[0]; });
        ActivationRangeFloat(act, &o.fact.min, &o.fact.max);
        o.batches = o.is.n;
        o.per_batch = int64_t(o.is.h) * o.is.w * o.is.c;
        hybrid_scratch(xi, o.is.n);
      } else {
        fail(std::string("unsupported type combination input ") + DTypeName(xt) + ", filter " + DTypeName(wt) +
             ", output " + DTypeName(yt));
      }
      if (!dw && !o.uint8_weights) {  // pruned filter: sparse kernel (sparse_conv.h) when it pays
        auto plan = std::make_shared<opt::SparseConvPlan>();
        if (wt == DType::kFloat32) {
          std::vector<float> f(size_t(T(wi).elements));
          std::memcpy(f.data(), T(wi).file_data, f.size() * sizeof(float));
          opt::PrepareSparseConv(o.g, o.is, o.fs, o.os, f.data(), plan.get());
        } else {
          opt::PrepareSparseConv(o.g, o.is, o.fs, o.os, reinterpret_cast<const int8_t*>(T(wi).file_data), plan.get());
        }
        if (opt::SparseConvPays(*plan, wt == DType::kInt8)) {
          o.s3.bytes = sizeof(float) * plan->ScratchFloats();
          o.sparse = std::move(plan);
          if (o.kind != Kind::kConvHybrid) o.s0.bytes = 0;  // im2col: only the dense optimized kernels use it
        }
      }
      break;
    }

    case tflite::BuiltinOperator::FULLY_CONNECTED: {
      arity(2, 3, 1);
      const auto* opt = op->builtin_options_as_FullyConnectedOptions();
      need(opt != nullptr, "missing FullyConnectedOptions");
      need(opt->weights_format() == tflite::FullyConnectedOptionsWeightsFormat::DEFAULT,
           "shuffled weights format not supported");
      const int xi = o.in[0], wi = o.in[1], bi = o.in.size() > 2 ? o.in[2] : -1, yi = o.out[0];
      rank(wi, 2, "weights");
      constant(wi, "weights");
      o.units = T(wi).shape[0];
      o.depth = T(wi).shape[1];
      need(T(xi).elements % o.depth == 0, "input " + ShapeStr(T(xi).shape) + " cannot be split into rows of " +
                                              std::to_string(o.depth));
      o.batches = int(T(xi).elements / o.depth);
      std::vector<int> expected;
      if (opt->keep_num_dims()) {
        need(!T(xi).shape.empty() && T(xi).shape.back() == o.depth, "keep_num_dims needs the input's last dimension " +
                                                                         std::string("to equal the weights' depth"));
        expected = T(xi).shape;
        expected.back() = o.units;
      } else {
        expected = {o.batches, o.units};
      }
      expect_shape(yi, expected);
      const Activation act = activation(opt->fused_activation_function());
      o.macs = int64_t(o.batches) * o.units * o.depth;
      const DType xt = T(xi).type, wt = T(wi).type, yt = T(yi).type;
      if (xt == DType::kFloat32 && wt == DType::kFloat32 && yt == DType::kFloat32) {
        o.kind = Kind::kFcFloat;
        bias_check(bi, o.units, DType::kFloat32);
        ActivationRangeFloat(act, &o.fact.min, &o.fact.max);
      } else if (xt == DType::kInt8 && wt == DType::kInt8 && yt == DType::kInt8) {
        o.kind = Kind::kFcInt8;
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        bias_check(bi, o.units, DType::kInt32);
        accumulator_fits(o.depth, bi);
        const auto ws = weight_scales(wi, o.units, 0);
        int8_requant(xi, ws, yi, /*float_product=*/T(wi).scales.size() == 1 && !T(wi).uint8);
        ActivationRangeInt8(act, T(yi).scales[0], int32_t(T(yi).zero_points[0]), &o.q.act_min, &o.q.act_max);
        xnn_range(act, yi);
      } else if (xt == DType::kFloat32 && wt == DType::kInt8 && yt == DType::kFloat32) {
        o.kind = Kind::kFcHybrid;
        need(!T(wi).uint8, "uint8 weights with float activations are not supported");
        bias_check(bi, o.units, DType::kFloat32);
        accumulator_fits(o.depth, -1);
        o.wscale = weight_scales(wi, o.units, 0);
        o.asymmetric = opt->asymmetric_quantize_inputs();
        ActivationRangeFloat(act, &o.fact.min, &o.fact.max);
        o.per_batch = o.depth;
        hybrid_scratch(xi, o.batches);
      } else {
        fail(std::string("unsupported type combination input ") + DTypeName(xt) + ", weights " + DTypeName(wt) +
             ", output " + DTypeName(yt));
      }
      break;
    }

    case tflite::BuiltinOperator::AVERAGE_POOL_2D:
    case tflite::BuiltinOperator::MAX_POOL_2D: {
      const bool avg = code == tflite::BuiltinOperator::AVERAGE_POOL_2D;
      arity(1, 1, 1);
      const auto* opt = op->builtin_options_as_Pool2DOptions();
      need(opt != nullptr, "missing Pool2DOptions");
      const int xi = o.in[0], yi = o.out[0];
      rank(xi, 4, "input");
      o.is = To4(T(xi).shape);
      need(opt->filter_height() >= 1 && opt->filter_width() >= 1 && opt->filter_height() <= 65536 &&
               opt->filter_width() <= 65536,
           "pool window must be >= 1");
      o.fh = opt->filter_height();
      o.fw = opt->filter_width();
      int oh = 0, ow = 0;
      geometry(opt->padding(), opt->stride_h(), opt->stride_w(), 1, 1, o.fh, o.fw, o.is, &oh, &ow);
      o.os = Shape4{o.is.n, oh, ow, o.is.c};
      expect_shape(yi, {o.is.n, oh, ow, o.is.c});
      const Activation act = activation(opt->fused_activation_function());
      need(T(xi).type == T(yi).type, "input and output types differ");
      if (T(xi).type == DType::kFloat32) {
        o.kind = avg ? Kind::kAvgFloat : Kind::kMaxFloat;
        ActivationRangeFloat(act, &o.fact.min, &o.fact.max);
      } else if (T(xi).type == DType::kInt8) {
        o.kind = avg ? Kind::kAvgInt8 : Kind::kMaxInt8;
        need(int64_t(std::min(o.fh, o.is.h)) * std::min(o.fw, o.is.w) < (int64_t(1) << 23), "pool window too large");
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        same_q(xi, yi);
        ActivationRangeInt8(act, T(yi).scales[0], int32_t(T(yi).zero_points[0]), &o.q.act_min, &o.q.act_max);
      } else {
        fail(std::string("type ") + DTypeName(T(o.in[0]).type) + " not supported");
      }
      break;
    }

    case tflite::BuiltinOperator::MEAN: {
      arity(2, 2, 1);
      const auto* opt = op->builtin_options_as_ReducerOptions();
      const bool keep = opt ? opt->keep_dims() : false;
      const int xi = o.in[0], ai = o.in[1], yi = o.out[0];
      const int r = int(T(xi).shape.size());
      need(r >= 1 && r <= 4, "input rank " + std::to_string(r) + " (MEAN supports 1–4)");
      need(T(ai).type == DType::kInt32 && T(ai).is_const && T(ai).shape.size() <= 1,
           "axis must be a constant int32 vector");
      const int32_t* axes = reinterpret_cast<const int32_t*>(T(ai).file_data);
      const int naxes = int(T(ai).elements);
      for (int k = 0; k < naxes; ++k) {
        int32_t a;
        std::memcpy(&a, axes + k, sizeof a);  // file data may be unaligned
        need(a >= -r && a < r, "axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
        o.reduce[4 - r + (a < 0 ? a + r : a)] = true;
      }
      for (int d = 0; d < 4; ++d) o.dims[d] = d < 4 - r ? 1 : T(xi).shape[size_t(d - (4 - r))];
      std::vector<int> expected;
      for (int d = 0; d < r; ++d) {
        if (!o.reduce[4 - r + d]) expected.push_back(T(xi).shape[size_t(d)]);
        else if (keep) expected.push_back(1);
      }
      expect_shape(yi, expected);
      need(T(xi).type == T(yi).type, "input and output types differ");
      if (T(xi).type == DType::kFloat32) {
        o.kind = Kind::kMeanFloat;
      } else if (T(xi).type == DType::kInt8) {
        o.kind = Kind::kMeanInt8;
        need(ref::ReducedCount(o.dims, o.reduce) < (int64_t(1) << 23), "too many elements reduced for int8");
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        const float si = T(xi).scales[0], so = T(yi).scales[0];
        o.mean.input_zero_point = int32_t(T(xi).zero_points[0]);
        o.mean.output_zero_point = int32_t(T(yi).zero_points[0]);
        QuantizeMultiplier(double(si) / double(so), &o.mean.multiplier, &o.mean.shift);
        o.mean.xnn_scale = si / so / float(ref::ReducedCount(o.dims, o.reduce));
        need(std::isfinite(o.mean.xnn_scale) && si / so < 65536.0f, "input/output scale ratio out of range");
        o.s0.bytes = sizeof(int32_t) * size_t(T(yi).elements);
      } else {
        fail(std::string("type ") + DTypeName(T(o.in[0]).type) + " not supported");
      }
      break;
    }

    case tflite::BuiltinOperator::SQUEEZE:
    case tflite::BuiltinOperator::RESHAPE: {
      arity(1, 2, 1);
      const int xi = o.in[0], yi = o.out[0];
      need(T(xi).elements == T(yi).elements, "input " + ShapeStr(T(xi).shape) + " and output " +
                                                 ShapeStr(T(yi).shape) + " have different element counts");
      need(T(xi).type == T(yi).type, "input and output types differ");
      if (T(xi).type == DType::kInt8) {
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        same_q(xi, yi);
      }
      o.kind = Kind::kReshape;
      o.n = int64_t(T(xi).bytes);
      break;
    }

    case tflite::BuiltinOperator::SOFTMAX: {
      arity(1, 1, 1);
      const auto* opt = op->builtin_options_as_SoftmaxOptions();
      need(opt != nullptr, "missing SoftmaxOptions");
      o.beta = opt->beta();
      need(std::isfinite(o.beta) && o.beta > 0.0f, "beta must be positive");
      const int xi = o.in[0], yi = o.out[0];
      need(!T(xi).shape.empty(), "input must have rank >= 1");
      expect_shape(yi, T(xi).shape);
      o.cols = T(xi).shape.back();
      o.rows = int(T(xi).elements / o.cols);
      need(T(xi).type == T(yi).type, "input and output types differ");
      if (T(xi).type == DType::kFloat32) {
        o.kind = Kind::kSoftmaxFloat;
      } else if (T(xi).type == DType::kInt8) {
        o.kind = Kind::kSoftmaxInt8;
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        need(std::isfinite(T(xi).scales[0] * o.beta), "input scale × beta overflows");
        need(T(yi).zero_points[0] == -128 && std::fabs(T(yi).scales[0] - 1.0f / 256) <= 0.001f / 256,
             "int8 output must have scale 1/256 and zero point -128");
        PrepareSoftmaxFixedPoint(o.beta, T(xi).scales[0], &o.sm);
        o.table.resize(256);
        PrepareSoftmaxTable(o.beta, T(xi).scales[0], o.table.data());
        o.sm.output_scale = T(yi).scales[0];
        o.sm.output_zero_point = int32_t(T(yi).zero_points[0]);
      } else {
        fail(std::string("type ") + DTypeName(T(o.in[0]).type) + " not supported");
      }
      break;
    }

    case tflite::BuiltinOperator::QUANTIZE:
    case tflite::BuiltinOperator::DEQUANTIZE: {
      arity(1, 1, 1);
      const int xi = o.in[0], yi = o.out[0];
      expect_shape(yi, T(xi).shape);
      o.n = T(xi).elements;
      const DType xt = T(xi).type, yt = T(yi).type;
      if (code == tflite::BuiltinOperator::QUANTIZE && xt == DType::kFloat32 && yt == DType::kInt8) {
        o.kind = Kind::kQuantize;
        per_tensor_q(yi, "output");
        o.scale = T(yi).scales[0];
        o.out_zp = int32_t(T(yi).zero_points[0]);
      } else if (code == tflite::BuiltinOperator::QUANTIZE && xt == DType::kInt8 && yt == DType::kInt8) {
        o.kind = Kind::kRequantize;
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        o.mult.resize(1);
        o.shift.resize(1);
        QuantizeMultiplier(double(T(xi).scales[0]) / double(T(yi).scales[0]), &o.mult[0], &o.shift[0]);
        o.in_zp = int32_t(T(xi).zero_points[0]);
        o.out_zp = int32_t(T(yi).zero_points[0]);
      } else if (code == tflite::BuiltinOperator::DEQUANTIZE && xt == DType::kInt8 && yt == DType::kFloat32) {
        o.kind = Kind::kDequantize;
        per_tensor_q(xi, "input");
        o.scale = T(xi).scales[0];
        o.in_zp = int32_t(T(xi).zero_points[0]);
      } else {
        fail(std::string("unsupported conversion ") + DTypeName(xt) + " -> " + DTypeName(yt));
      }
      break;
    }

    case tflite::BuiltinOperator::ADD:
    case tflite::BuiltinOperator::SUB:
    case tflite::BuiltinOperator::MUL: {
      arity(2, 2, 1);
      const int ai = o.in[0], bi = o.in[1], yi = o.out[0];
      tflite::ActivationFunctionType fa = tflite::ActivationFunctionType::NONE;
      if (code == tflite::BuiltinOperator::ADD) {
        if (const auto* opt = op->builtin_options_as_AddOptions()) fa = opt->fused_activation_function();
      } else if (code == tflite::BuiltinOperator::SUB) {
        if (const auto* opt = op->builtin_options_as_SubOptions()) fa = opt->fused_activation_function();
      } else if (const auto* opt = op->builtin_options_as_MulOptions()) {
        fa = opt->fused_activation_function();
      }
      const Activation act = activation(fa);
      need(ref::MakeBroadcast4(T(ai).shape, T(bi).shape, &o.bc),
           "input shapes " + ShapeStr(T(ai).shape) + " and " + ShapeStr(T(bi).shape) +
               " do not broadcast (or rank > 4)");
      std::vector<int> expected(o.bc.out + 4 - std::max(T(ai).shape.size(), T(bi).shape.size()), o.bc.out + 4);
      expect_shape(yi, expected);
      need(T(ai).type == T(yi).type && T(bi).type == T(yi).type, "input and output types differ");
      const bool mul = code == tflite::BuiltinOperator::MUL;
      o.subtract = code == tflite::BuiltinOperator::SUB;
      if (T(yi).type == DType::kFloat32) {
        o.kind = mul ? Kind::kMulFloat : Kind::kAddFloat;
        ActivationRangeFloat(act, &o.fact.min, &o.fact.max);
      } else if (T(yi).type == DType::kInt8) {
        per_tensor_q(ai, "input 1");
        per_tensor_q(bi, "input 2");
        per_tensor_q(yi, "output");
        const float s1 = T(ai).scales[0], s2 = T(bi).scales[0], so = T(yi).scales[0];
        int32_t lo = -128, hi = 127;
        ActivationRangeInt8(act, so, int32_t(T(yi).zero_points[0]), &lo, &hi);
        if (mul) {
          o.kind = Kind::kMulInt8;
          const double real = double(s1) * double(s2) / double(so);
          need(std::isfinite(real) && real < 65536.0, "input·input/output scale out of range");
          QuantizeMultiplier(real, &o.mul.multiplier, &o.mul.shift);
          o.mul.input1_offset = -int32_t(T(ai).zero_points[0]);
          o.mul.input2_offset = -int32_t(T(bi).zero_points[0]);
          o.mul.output_offset = int32_t(T(yi).zero_points[0]);
          o.mul.act_min = lo;
          o.mul.act_max = hi;
        } else {
          o.kind = Kind::kAddInt8;
          const double ratio = 2.0 * std::max(s1, s2) / so;
          need(std::isfinite(ratio) && ratio < 65536.0 && std::min(s1, s2) / std::max(s1, s2) > 1e-9,
               "input/output scales out of range");
          ref::PrepareAddInt8(s1, s2, so, o.subtract, &o.add);
          o.add.input1_offset = -int32_t(T(ai).zero_points[0]);
          o.add.input2_offset = -int32_t(T(bi).zero_points[0]);
          o.add.output_offset = int32_t(T(yi).zero_points[0]);
          o.add.act_min = lo;
          o.add.act_max = hi;
        }
      } else {
        fail(std::string("type ") + DTypeName(T(yi).type) + " not supported");
      }
      break;
    }

    case tflite::BuiltinOperator::CONCATENATION: {
      need(o.in.size() >= 1 && o.out.size() == 1, "needs at least 1 input and exactly 1 output");
      const auto* opt = op->builtin_options_as_ConcatenationOptions();
      need(opt != nullptr, "missing ConcatenationOptions");
      need(opt->fused_activation_function() == tflite::ActivationFunctionType::NONE,
           "fused activation on CONCATENATION is not supported");
      const int yi = o.out[0];
      const auto& ys = T(yi).shape;
      const int r = int(ys.size());
      int axis = opt->axis();
      need(axis >= -r && axis < r, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(r));
      if (axis < 0) axis += r;
      int64_t axis_total = 0;
      for (int x : o.in) {
        need(x >= 0, "omitted input");
        need(T(x).type == T(yi).type, "input and output types differ");
        need(int(T(x).shape.size()) == r, "input " + ShapeStr(T(x).shape) + " and output " + ShapeStr(ys) +
                                              " have different ranks");
        for (int d = 0; d < r; ++d)
          if (d != axis) need(T(x).shape[size_t(d)] == ys[size_t(d)], "input " + ShapeStr(T(x).shape) +
                                                                          " does not match output " + ShapeStr(ys));
        axis_total += T(x).shape[size_t(axis)];
        if (T(yi).type == DType::kInt8) {
          per_tensor_q(x, "input");
          per_tensor_q(yi, "output");
          same_q(x, yi);
        }
      }
      need(axis_total == ys[size_t(axis)], "input sizes along axis " + std::to_string(axis) + " add up to " +
                                               std::to_string(axis_total) + ", output has " +
                                               std::to_string(ys[size_t(axis)]));
      o.outer = 1;
      for (int d = 0; d < axis; ++d) o.outer *= ys[size_t(d)];
      for (int x : o.in) o.inner_bytes.push_back(int64_t(T(x).bytes) / std::max<int64_t>(o.outer, 1));
      o.concat_inputs.resize(o.in.size());
      o.kind = Kind::kConcat;
      break;
    }

    case tflite::BuiltinOperator::PAD:
    case tflite::BuiltinOperator::PADV2: {
      const bool v2 = code == tflite::BuiltinOperator::PADV2;
      arity(2, v2 ? 3 : 2, 1);
      const int xi = o.in[0], pi = o.in[1], yi = o.out[0];
      const int r = int(T(xi).shape.size());
      need(r >= 1 && r <= 4, "input rank " + std::to_string(r) + " (PAD supports 1–4)");
      need(T(pi).type == DType::kInt32 && T(pi).is_const && T(pi).shape == std::vector<int>({r, 2}),
           "paddings must be a constant int32 tensor of shape [" + std::to_string(r) + ",2]");
      std::vector<int> expected;
      for (int d = 0; d < r; ++d) {
        int32_t before, after;
        std::memcpy(&before, T(pi).file_data + 8 * d, 4);
        std::memcpy(&after, T(pi).file_data + 8 * d + 4, 4);
        need(before >= 0 && after >= 0 && before <= (1 << 20) && after <= (1 << 20), "negative or huge padding");
        const int k = 4 - r + d;
        o.pad.in[k] = T(xi).shape[size_t(d)];
        o.pad.before[k] = before;
        o.pad.out[k] = o.pad.in[k] + before + after;
        expected.push_back(o.pad.out[k]);
      }
      expect_shape(yi, expected);
      need(T(xi).type == T(yi).type, "input and output types differ");
      const int vi = v2 && o.in.size() > 2 ? o.in[2] : -1;
      if (vi >= 0) {
        need(T(vi).is_const && T(vi).elements == 1 && T(vi).type == T(xi).type,
             "constant_values must be one constant of the input's type");
      }
      if (T(xi).type == DType::kFloat32) {
        o.kind = Kind::kPadFloat;
        if (vi >= 0) std::memcpy(&o.pad_float, T(vi).file_data, 4);
      } else if (T(xi).type == DType::kInt8) {
        o.kind = Kind::kPadInt8;
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        same_q(xi, yi);
        o.pad_int8 = vi >= 0 ? static_cast<int8_t>(T(vi).file_data[0]) : static_cast<int8_t>(T(yi).zero_points[0]);
      } else {
        fail(std::string("type ") + DTypeName(T(o.in[0]).type) + " not supported");
      }
      break;
    }

    case tflite::BuiltinOperator::LOGISTIC:
    case tflite::BuiltinOperator::TANH:
    case tflite::BuiltinOperator::RELU:
    case tflite::BuiltinOperator::RELU6: {
      arity(1, 1, 1);
      const int xi = o.in[0], yi = o.out[0];
      expect_shape(yi, T(xi).shape);
      need(T(xi).type == T(yi).type, "input and output types differ");
      o.n = T(xi).elements;
      const bool relu = code == tflite::BuiltinOperator::RELU || code == tflite::BuiltinOperator::RELU6;
      const Activation act = code == tflite::BuiltinOperator::RELU6 ? Activation::kRelu6 : Activation::kRelu;
      if (T(xi).type == DType::kFloat32) {
        o.kind = relu ? Kind::kClampFloat : code == tflite::BuiltinOperator::TANH ? Kind::kTanhFloat
                                                                                    : Kind::kLogisticFloat;
        if (relu) ActivationRangeFloat(act, &o.fact.min, &o.fact.max);
      } else if (T(xi).type == DType::kInt8) {
        per_tensor_q(xi, "input");
        per_tensor_q(yi, "output");
        const float si = T(xi).scales[0], so = T(yi).scales[0];
        const int32_t zi = int32_t(T(xi).zero_points[0]), zo = int32_t(T(yi).zero_points[0]);
        if (relu) {
          o.kind = Kind::kReluInt8;
          need(std::isfinite(si / so) && si / so < 65536.0f, "input/output scale ratio out of range");
          QuantizeMultiplier(double(si) / double(so), &o.relu.multiplier, &o.relu.shift);
          o.relu.input_offset = -zi;
          o.relu.output_offset = zo;
          ActivationRangeInt8(act, so, zo, &o.relu.act_min, &o.relu.act_max);
        } else {
          o.kind = Kind::kLutInt8;
          o.lut.resize(256);
          if (code == tflite::BuiltinOperator::LOGISTIC) {
            need(zo == -128 && std::fabs(so - 1.0f / 256) <= 0.001f / 256,
                 "int8 output must have scale 1/256 and zero point -128");
            ref::PrepareInt8Table(si, zi, so, zo, /*half_even=*/false,
                                  [](float v) { return 1.0f / (1.0f + std::exp(-v)); }, o.lut.data());
          } else {
            need(zo == 0 && std::fabs(so - 1.0f / 128) <= 0.001f / 128,
                 "int8 output must have scale 1/128 and zero point 0");
            ref::PrepareInt8Table(si, zi, so, zo, /*half_even=*/false, [](float v) { return std::tanh(v); },
                                  o.lut.data());
          }
        }
      } else {
        fail(std::string("type ") + DTypeName(T(o.in[0]).type) + " not supported");
      }
      break;
    }

    case tflite::BuiltinOperator::CUSTOM:
      fail("custom operators are not supported");
      break;
    default:
      Fail("operator " + std::to_string(index) + ": " + OpName(code) + " (builtin " + std::to_string(int(code)) +
           ") is not supported (kws runs " + kSupportedOps + ")");
  }
  // Tensors an op reads or writes must not be int32 except biases/axes/shapes.
  for (int x : o.out) need(T(x).type != DType::kInt32, "int32 outputs are not supported");
  if (!o.in.empty() && o.in[0] >= 0) need(T(o.in[0]).type != DType::kInt32, "int32 inputs are not supported");
}

// ---------------------------------------------------------------------------
// Arena planning: greedy by size, offsets chosen so buffers alive at the same
// time never overlap (the approach of TFLite's greedy memory planner).
// ---------------------------------------------------------------------------

// A tensor written by one sparse conv and read only by another (as its input)
// never exists as NHWC: the first writes the second's phase planes directly
// (its scratch then lives from the first op on), or, when that hand-off does
// not apply, the tensor is kept channel-planar.
void Interpreter::Impl::PlanSparseLayouts() {
  std::vector<int> readers(tensors.size(), 0), reader(tensors.size(), -1);
  for (size_t i = 0; i < ops.size(); ++i)
    for (int x : ops[i].in)
      if (x >= 0) ++readers[size_t(x)], reader[size_t(x)] = int(i);
  for (int x : outputs) readers[size_t(x)] += 2;
  for (Op& a : ops) {
    if (!a.sparse) continue;
    const int t = a.out[0];
    if (readers[size_t(t)] != 1) continue;
    Op& b = ops[size_t(reader[size_t(t)])];
    if (!b.sparse || b.in[0] != t) continue;
    if (opt::SparseConvCanFuse(*a.sparse, *b.sparse)) {
      a.sparse_next = reader[size_t(t)];
      b.in_layout = opt::Layout::kPlanes;
      b.s3.from = int(&a - ops.data()) + 1;
    } else {
      a.out_layout = b.in_layout = opt::Layout::kChw;
    }
  }
}

void Interpreter::Impl::PlanArena() {
  struct Item {
    size_t bytes;
    int first, last;
    size_t* offset;
  };
  std::vector<Item> items;
  const int end = int(ops.size()) + 1;
  for (auto& t : tensors) t.first = t.last = -1;
  for (int x : inputs) tensors[size_t(x)].first = 0, tensors[size_t(x)].last = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const int time = int(i) + 1;
    for (int x : ops[i].in)
      if (x >= 0 && !tensors[size_t(x)].is_const) tensors[size_t(x)].last = std::max(tensors[size_t(x)].last, time);
    for (int x : ops[i].out) tensors[size_t(x)].first = tensors[size_t(x)].last = time;
  }
  for (int x : outputs)
    if (!tensors[size_t(x)].is_const) tensors[size_t(x)].last = end;
  for (auto& t : tensors)
    if (!t.is_const && t.first >= 0) items.push_back({AlignUp(t.bytes), t.first, t.last, &t.offset});
  for (size_t i = 0; i < ops.size(); ++i)
    for (Scratch* s : {&ops[i].s0, &ops[i].s1, &ops[i].s2, &ops[i].s3})
      if (s->bytes > 0) items.push_back({AlignUp(s->bytes), s->from >= 0 ? s->from : int(i) + 1, int(i) + 1, &s->offset});
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.bytes > b.bytes; });
  std::vector<const Item*> placed;
  size_t total = 0;
  for (Item& it : items) {
    std::vector<std::pair<size_t, size_t>> busy;  // [offset, offset+bytes) of overlapping-in-time items
    for (const Item* p : placed)
      if (p->first <= it.last && it.first <= p->last) busy.emplace_back(*p->offset, *p->offset + p->bytes);
    std::sort(busy.begin(), busy.end());
    size_t off = 0;
    for (auto& [b, e] : busy) {
      if (off + it.bytes <= b) break;
      off = std::max(off, e);
    }
    *it.offset = off;
    total = std::max(total, off + it.bytes);
    if (int64_t(total) > limits.max_arena_bytes)
      Fail("activations need more than " + std::to_string(limits.max_arena_bytes) + " bytes");
    placed.push_back(&it);
  }
  arena.Resize(std::max<size_t>(total, 1));
}

void Interpreter::Impl::CountWeights() {
  std::set<int> seen;
  for (const auto& o : ops) {
    switch (o.kind) {
      case Kind::kConvFloat: case Kind::kConvInt8: case Kind::kConvHybrid:
      case Kind::kDwFloat: case Kind::kDwInt8: case Kind::kDwHybrid:
      case Kind::kFcFloat: case Kind::kFcInt8: case Kind::kFcHybrid:
        for (size_t k = 1; k < o.in.size(); ++k)
          if (o.in[k] >= 0) seen.insert(o.in[k]);
        break;
      default: break;
    }
  }
  for (int x : seen) {
    const Tensor& t = tensors[size_t(x)];
    weights += t.elements;
    const size_t es = TypeSize(t.type);
    for (int64_t i = 0; i < t.elements; ++i) {
      bool nz = false;
      for (size_t b = 0; b < es; ++b) nz |= t.file_data[size_t(i) * es + b] != 0;
      // -0.0f counts as zero for float weights.
      if (nz && t.type == DType::kFloat32) {
        float v;
        std::memcpy(&v, t.file_data + size_t(i) * 4, 4);
        nz = v != 0.0f;
      }
      nonzero_weights += nz;
    }
  }
}

// ---------------------------------------------------------------------------
// Invoke
// ---------------------------------------------------------------------------

void Interpreter::Impl::Invoke() {
  const bool fast_all = kernels == KernelSet::kOptimized;
  const bool xnn_all = arithmetic == Int8Arithmetic::kXnnpack;
  // uint8 graph inputs arrive as uint8: flip to the int8 view (and back at the end).
  auto flip = [&](int t) {
    uint8_t* p = Data(t);
    for (size_t k = 0; k < tensors[size_t(t)].bytes; ++k) p[k] ^= 0x80;
  };
  for (int t : inputs)
    if (tensors[size_t(t)].uint8) flip(t);
  for (Op& o : ops) {
    // Legacy uint8 weights (non-zero weight zero point): TFLite's reference kernels and arithmetic.
    const bool fast = fast_all && !o.uint8_weights;
    const bool xnn = xnn_all && !o.uint8_weights;
    const int x = o.in[0], y = o.out[0];
    QuantParams q = o.q;
    if (xnn && !o.fp32_scale.empty()) {
      q.fp32_scale = o.fp32_scale.data();
      q.act_min = o.x_act_min;
      q.act_max = o.x_act_max;
    }
    const int w = o.in.size() > 1 ? o.in[1] : -1;
    const int b = o.in.size() > 2 ? o.in[2] : -1;
    opt::SparseNext next_planes;
    const opt::SparseNext* next = nullptr;
    if (o.sparse_next >= 0) {
      const Op& n = ops[size_t(o.sparse_next)];
      next_planes = {n.sparse.get(), S<float>(n.s3), n.q.input_offset};
      next = &next_planes;
    }
    switch (o.kind) {
      case Kind::kConvFloat:
        if (fast && o.sparse)
          opt::SparseConvFloat(*o.sparse, o.fact, o.in_layout, D<float>(x), b >= 0 ? D<float>(b) : nullptr,
                               o.out_layout, D<float>(y), S<float>(o.s3), next);
        else if (fast && !o.packed.empty())
          opt::ConvFloatDirect(o.g, o.fact, o.is, D<float>(x), o.fs, o.packed.data(), b >= 0 ? D<float>(b) : nullptr,
                               o.os, D<float>(y));
        else if (fast)
          opt::ConvFloat(o.g, o.fact, o.is, D<float>(x), o.fs, D<float>(w), b >= 0 ? D<float>(b) : nullptr, o.os,
                         D<float>(y), S<float>(o.s0));
        else
          ref::ConvFloat(o.g, o.fact, o.is, D<float>(x), o.fs, D<float>(w), b >= 0 ? D<float>(b) : nullptr, o.os,
                         D<float>(y));
        break;
      case Kind::kConvInt8:
        if (fast && o.sparse)
          opt::SparseConvInt8(*o.sparse, q, o.mult.data(), o.shift.data(), o.in_layout, D<int8_t>(x),
                              b >= 0 ? D<int32_t>(b) : nullptr, o.out_layout, D<int8_t>(y), S<float>(o.s3), next);
        else if (fast)
          opt::ConvInt8(o.g, q, o.mult.data(), o.shift.data(), o.is, D<int8_t>(x), o.fs, D<int8_t>(w),
                        o.filter_sums.data(), b >= 0 ? D<int32_t>(b) : nullptr, o.os, D<int8_t>(y), S<int8_t>(o.s0));
        else
          ref::ConvInt8(o.g, q, o.mult.data(), o.shift.data(), o.is, D<int8_t>(x), o.fs, D<int8_t>(w),
                        b >= 0 ? D<int32_t>(b) : nullptr, o.os, D<int8_t>(y));
        break;
      case Kind::kDwFloat:
        if (fast)
          opt::DepthwiseFloat(o.g, o.fact, o.is, D<float>(x), o.fs, D<float>(w), b >= 0 ? D<float>(b) : nullptr,
                              o.os, D<float>(y));
        else
          ref::DepthwiseFloat(o.g, o.fact, o.is, D<float>(x), o.fs, D<float>(w), b >= 0 ? D<float>(b) : nullptr,
                              o.os, D<float>(y));
        break;
      case Kind::kDwInt8:
        ref::DepthwiseInt8(o.g, q, o.mult.data(), o.shift.data(), o.is, D<int8_t>(x), o.fs, D<int8_t>(w),
                           b >= 0 ? D<int32_t>(b) : nullptr, o.os, D<int8_t>(y));
        break;
      case Kind::kConvHybrid:
      case Kind::kDwHybrid:
      case Kind::kFcHybrid: {
        if (fast && o.sparse) {
          opt::SparseConvHybrid(*o.sparse, o.fact, o.asymmetric, o.in_layout, D<float>(x), o.wscale.data(),
                                b >= 0 ? D<float>(b) : nullptr, o.out_layout, D<float>(y), S<float>(o.s3), next);
          break;
        }
        int8_t* qx = S<int8_t>(o.s0);
        float* sc = S<float>(o.s1);
        int32_t* zp = S<int32_t>(o.s2);
        const float* in = D<float>(x);
        for (int i = 0; i < o.batches; ++i) {
          if (o.asymmetric) {
            ref::AsymmetricQuantize(o.per_batch, in + i * o.per_batch, qx + i * o.per_batch, &sc[i], &zp[i]);
          } else {
            ref::SymmetricQuantize(o.per_batch, in + i * o.per_batch, qx + i * o.per_batch, &sc[i]);
            zp[i] = 0;
          }
        }
        const float* bias = b >= 0 ? D<float>(b) : nullptr;
        if (o.kind == Kind::kConvHybrid)
          ref::ConvHybrid(o.g, o.fact, o.is, qx, sc, zp, o.fs, D<int8_t>(w), o.wscale.data(), bias, o.os, D<float>(y));
        else if (o.kind == Kind::kDwHybrid)
          ref::DepthwiseHybrid(o.g, o.fact, o.is, qx, sc, zp, o.fs, D<int8_t>(w), o.wscale.data(), bias, o.os,
                               D<float>(y));
        else
          ref::FullyConnectedHybrid(o.fact, o.batches, o.depth, o.units, qx, sc, zp, D<int8_t>(w), o.wscale.data(),
                                    bias, D<float>(y));
        break;
      }
      case Kind::kFcFloat:
        if (fast)
          opt::FullyConnectedFloat(o.fact, o.batches, o.depth, o.units, D<float>(x), D<float>(w),
                                   b >= 0 ? D<float>(b) : nullptr, D<float>(y));
        else
          ref::FullyConnectedFloat(o.fact, o.batches, o.depth, o.units, D<float>(x), D<float>(w),
                                   b >= 0 ? D<float>(b) : nullptr, D<float>(y));
        break;
      case Kind::kFcInt8:
        ref::FullyConnectedInt8(q, o.mult.data(), o.shift.data(), o.batches, o.depth, o.units, D<int8_t>(x),
                                D<int8_t>(w), b >= 0 ? D<int32_t>(b) : nullptr, D<int8_t>(y));
        break;
      case Kind::kAvgFloat:
        ref::AveragePoolFloat(o.g, o.fact, o.fh, o.fw, o.is, D<float>(x), o.os, D<float>(y));
        break;
      case Kind::kAvgInt8:
        ref::AveragePoolInt8(o.g, o.q.act_min, o.q.act_max, o.fh, o.fw, o.is, D<int8_t>(x), o.os, D<int8_t>(y),
                             tensors[size_t(x)].uint8 ? 128 : 0);
        break;
      case Kind::kMaxFloat:
        ref::MaxPoolFloat(o.g, o.fact, o.fh, o.fw, o.is, D<float>(x), o.os, D<float>(y));
        break;
      case Kind::kMaxInt8:
        ref::MaxPoolInt8(o.g, o.q.act_min, o.q.act_max, o.fh, o.fw, o.is, D<int8_t>(x), o.os, D<int8_t>(y));
        break;
      case Kind::kMeanFloat:
        ref::MeanFloat(o.dims, o.reduce, D<float>(x), D<float>(y));
        break;
      case Kind::kMeanInt8:
        o.mean.mode = xnn ? MeanInt8Mode::kXnnpack : MeanInt8Mode::kReference;
        ref::MeanInt8(o.mean, o.dims, o.reduce, D<int8_t>(x), S<int32_t>(o.s0), D<int8_t>(y));
        break;
      case Kind::kReshape:
        std::memcpy(Data(y), Data(x), size_t(o.n));
        break;
      case Kind::kSoftmaxFloat:
        ref::SoftmaxFloat(o.beta, o.rows, o.cols, D<float>(x), D<float>(y));
        break;
      case Kind::kSoftmaxInt8:
        o.sm.table = o.table.data();
        ref::SoftmaxInt8Table(o.sm, o.rows, o.cols, D<int8_t>(x), D<int8_t>(y));
        break;
      case Kind::kQuantize:
        if (xnn)
          ref::QuantizeFloatToInt8HalfEven(o.scale, o.out_zp, o.n, D<float>(x), D<int8_t>(y));
        else
          ref::QuantizeFloatToInt8(o.scale, o.out_zp, o.n, D<float>(x), D<int8_t>(y));
        break;
      case Kind::kRequantize:
        ref::RequantizeInt8(o.mult[0], o.shift[0], o.in_zp, o.out_zp, o.n, D<int8_t>(x), D<int8_t>(y));
        break;
      case Kind::kDequantize:
        ref::DequantizeInt8(o.scale, o.in_zp, o.n, D<int8_t>(x), D<float>(y));
        break;
      case Kind::kNop:
        break;
      case Kind::kAddFloat:
        ref::AddFloat(o.bc, o.fact, o.subtract, D<float>(x), D<float>(w), D<float>(y));
        break;
      case Kind::kAddInt8:
        ref::AddInt8(o.bc, o.add, D<int8_t>(x), D<int8_t>(w), D<int8_t>(y));
        break;
      case Kind::kMulFloat:
        ref::MulFloat(o.bc, o.fact, D<float>(x), D<float>(w), D<float>(y));
        break;
      case Kind::kMulInt8:
        ref::MulInt8(o.bc, o.mul, D<int8_t>(x), D<int8_t>(w), D<int8_t>(y));
        break;
      case Kind::kConcat:
        for (size_t k = 0; k < o.in.size(); ++k) o.concat_inputs[k] = Data(o.in[k]);
        ref::Concatenation(o.outer, int(o.in.size()), o.concat_inputs.data(), o.inner_bytes.data(), Data(y));
        break;
      case Kind::kPadFloat:
        ref::Pad<float>(o.pad, o.pad_float, D<float>(x), D<float>(y));
        break;
      case Kind::kPadInt8:
        ref::Pad<int8_t>(o.pad, o.pad_int8, D<int8_t>(x), D<int8_t>(y));
        break;
      case Kind::kLogisticFloat:
        ref::LogisticFloat(o.n, D<float>(x), D<float>(y));
        break;
      case Kind::kTanhFloat:
        ref::TanhFloat(o.n, D<float>(x), D<float>(y));
        break;
      case Kind::kClampFloat:
        ref::ClampFloat(o.n, o.fact.min, o.fact.max, D<float>(x), D<float>(y));
        break;
      case Kind::kLutInt8:
        ref::LookupInt8(o.n, o.lut.data(), D<int8_t>(x), D<int8_t>(y));
        break;
      case Kind::kReluInt8:
        ref::ReluInt8(o.n, o.relu, D<int8_t>(x), D<int8_t>(y));
        break;
    }
  }
  for (int t : inputs)
    if (tensors[size_t(t)].uint8) flip(t);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int t = outputs[i];
    bool seen = std::find(inputs.begin(), inputs.end(), t) != inputs.end();  // already uint8 again
    for (size_t j = 0; j < i; ++j) seen |= outputs[j] == t;
    if (tensors[size_t(t)].uint8 && !seen) flip(t);
  }
}

TensorInfo Interpreter::Impl::Info(int t) const {
  const Tensor& x = tensors[size_t(t)];
  TensorInfo r;
  r.name = x.name;
  r.shape = x.shape;
  r.type = x.type;
  r.bytes = x.bytes;
  if ((x.type == DType::kInt8 || x.type == DType::kUInt8) && !x.scales.empty()) {
    r.scale = x.scales[0];
    r.zero_point = int32_t(x.zero_points[0]);
  }
  if (x.uint8) {  // as the file says: uint8 values, zero point in [0, 255]
    r.type = DType::kUInt8;
    r.zero_point += 128;
  }
  return r;
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::Interpreter(Interpreter&&) noexcept = default;
Interpreter& Interpreter::operator=(Interpreter&&) noexcept = default;
Interpreter::~Interpreter() = default;

Interpreter Interpreter::FromFile(const std::string& path, const LoadLimits& limits) {
  const std::string bytes = ReadFile(path);
  return FromBuffer(path, bytes, limits);
}

Interpreter Interpreter::FromBuffer(const std::string& name, std::string_view bytes, const LoadLimits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->limits = limits;
  impl->Load(bytes);
  return Interpreter(std::move(impl));
}

int Interpreter::num_inputs() const { return int(impl_->inputs.size()); }
int Interpreter::num_outputs() const { return int(impl_->outputs.size()); }

TensorInfo Interpreter::input(int i) const {
  if (i < 0 || i >= num_inputs()) throw UsageError(impl_->name + ": no input " + std::to_string(i));
  return impl_->Info(impl_->inputs[size_t(i)]);
}
TensorInfo Interpreter::output(int i) const {
  if (i < 0 || i >= num_outputs()) throw UsageError(impl_->name + ": no output " + std::to_string(i));
  return impl_->Info(impl_->outputs[size_t(i)]);
}
void* Interpreter::input_data(int i) {
  if (i < 0 || i >= num_inputs()) throw UsageError(impl_->name + ": no input " + std::to_string(i));
  return impl_->Data(impl_->inputs[size_t(i)]);
}
const void* Interpreter::output_data(int i) const {
  if (i < 0 || i >= num_outputs()) throw UsageError(impl_->name + ": no output " + std::to_string(i));
  return impl_->Data(impl_->outputs[size_t(i)]);
}

void Interpreter::Invoke() { impl_->Invoke(); }

void Interpreter::RunFloat(const float* features, float* out) {
  const int xi = impl_->inputs[0], yi = impl_->outputs[0];
  const Tensor& x = impl_->tensors[size_t(xi)];
  const Tensor& y = impl_->tensors[size_t(yi)];
  if (x.uint8) {
    ref::QuantizeFloatToUInt8(x.scales[0], int32_t(x.zero_points[0]) + 128, false, x.elements, features,
                              impl_->D<uint8_t>(xi));
  } else if (x.type == DType::kFloat32) {
    std::memcpy(impl_->Data(xi), features, x.bytes);
  } else if (x.type == DType::kInt8) {
    if (impl_->kernels == KernelSet::kOptimized)  // identical results, vectorized
      opt::QuantizeFloatToInt8(x.scales[0], int32_t(x.zero_points[0]), x.elements, features, impl_->D<int8_t>(xi));
    else
      ref::QuantizeFloatToInt8(x.scales[0], int32_t(x.zero_points[0]), x.elements, features, impl_->D<int8_t>(xi));
  } else {
    throw BadInput(impl_->name + ": input 0 is int32 (RunFloat needs float32 or int8)");
  }
  Invoke();
  if (y.uint8) {
    ref::DequantizeUInt8(y.scales[0], int32_t(y.zero_points[0]) + 128, y.elements, impl_->D<uint8_t>(yi), out);
  } else if (y.type == DType::kFloat32) {
    std::memcpy(out, impl_->Data(yi), y.bytes);
  } else if (y.type == DType::kInt8) {
    ref::DequantizeInt8(y.scales.empty() ? 1.0f : y.scales[0], y.zero_points.empty() ? 0 : int32_t(y.zero_points[0]),
                        y.elements, impl_->D<int8_t>(yi), out);
  } else {
    throw BadInput(impl_->name + ": output 0 is int32 (RunFloat needs float32 or int8)");
  }
}

std::vector<float> Interpreter::RunFloat(const float* features) {
  std::vector<float> out(size_t(impl_->tensors[size_t(impl_->outputs[0])].elements));
  RunFloat(features, out.data());
  return out;
}

void Interpreter::set_kernels(KernelSet k) { impl_->kernels = k; }
void Interpreter::set_int8_arithmetic(Int8Arithmetic a) { impl_->arithmetic = a; }
Int8Arithmetic Interpreter::int8_arithmetic() const { return impl_->arithmetic; }
KernelSet Interpreter::kernels() const { return impl_->kernels; }
size_t Interpreter::arena_bytes() const { return impl_->arena.size(); }
int64_t Interpreter::macs() const { return impl_->macs; }
int64_t Interpreter::num_weights() const { return impl_->weights; }
int64_t Interpreter::num_nonzero_weights() const { return impl_->nonzero_weights; }
std::string Interpreter::description() const { return impl_->description; }
int Interpreter::num_tensors() const { return int(impl_->tensors.size()); }

TensorInfo Interpreter::tensor(int t) const {
  if (t < 0 || t >= num_tensors()) throw UsageError(impl_->name + ": no tensor " + std::to_string(t));
  return impl_->Info(t);
}

bool Interpreter::has_metadata(const std::string& name) const {
  for (const auto& [n, v] : impl_->metadata)
    if (n == name) return true;
  return false;
}

std::string Interpreter::metadata(const std::string& name) const {
  for (const auto& [n, v] : impl_->metadata)
    if (n == name) return v;
  return "";
}

std::vector<OpInfo> Interpreter::ops() const {
  std::vector<OpInfo> r;
  for (const auto& o : impl_->ops) r.push_back({OpName(o.code), KernelFamily(o.kind), o.in, o.out, o.macs});
  return r;
}

std::string Interpreter::model_kind() const {
  bool int8 = false;
  for (const auto& o : impl_->ops) {
    const std::string f = KernelFamily(o.kind);
    if (f == "hybrid") return "hybrid";
    if (f != "float") int8 = true;
  }
  return int8 ? "int8" : "float32";
}

}  // namespace kws::rt
