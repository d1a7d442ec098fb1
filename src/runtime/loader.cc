// Loading a .tflite file (model.h): verify → metadata → per subgraph: tensors,
// operators, dataflow → constants into one aligned block.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "kws_tflite_generated.h"
#include "runtime/model.h"
#include "runtime/op.h"
#include "util/error.h"

namespace kws::rt {

size_t TypeSize(DType t) {
  switch (t) {
    case DType::kInt8: case DType::kUInt8: case DType::kBool: return 1;
    case DType::kFloat32: case DType::kInt32: return 4;
    case DType::kResource: return 0;
  }
  return 4;
}

std::string ShapeStr(const std::vector<int>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ',';
    r += std::to_string(s[i]);
  }
  return r + "]";
}

int64_t ShapeElements(const std::vector<int>& s) {
  int64_t n = 1;
  for (int d : s) n *= d;
  return n;
}

std::string SubgraphPrefix(int subgraph) { return subgraph == 0 ? "" : "subgraph " + std::to_string(subgraph) + ": "; }

void Model::Fail(const std::string& msg) const { throw BadInput(name + ": " + msg); }

bool Model::has_dynamic_inputs() const {
  for (int x : subgraphs[0].inputs)
    if (subgraphs[0].tensors[size_t(x)].dynamic()) return true;
  return false;
}

void Model::ReleaseBytes() {
  bytes = AlignedBuffer();
  for (auto& sg : subgraphs)
    for (auto& n : sg.nodes) n.op = nullptr;
}

namespace {

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

class Loader {
 public:
  Loader(Model& m) : m_(m) {}
  void Load(std::string_view bytes);

 private:
  // A buffer's bytes: inside the FlatBuffer (data), or, in the large-model
  // layout, `size` bytes at `offset` from the start of the file (offset > 1).
  std::pair<const uint8_t*, size_t> BufferBytes(const tflite::Buffer* b, const std::string& what) const;
  void LoadTensors(int s, const tflite::SubGraph* src, SubgraphDef& sg);
  void LoadTensor(int s, uint32_t i, const tflite::Tensor* src, Tensor& t);
  void LoadQuantization(const std::string& what, const tflite::QuantizationParameters* qp, Tensor& t);
  void LoadIo(int s, const tflite::SubGraph* src, SubgraphDef& sg);
  void LoadNodes(int s, const tflite::SubGraph* src, SubgraphDef& sg);
  void CopyConstants();

  Model& m_;
  const tflite::Model* fb_ = nullptr;
  std::set<uint32_t> uint8_buffers_;              // buffers of UINT8 constants (shifted to int8)
  std::vector<std::vector<float>> float16_data_;  // FLOAT16 constants converted to float32
  std::vector<std::pair<Tensor*, const uint8_t*>> const_sources_;
  int64_t total_tensors_ = 0, total_nodes_ = 0;
};

std::pair<const uint8_t*, size_t> Loader::BufferBytes(const tflite::Buffer* b, const std::string& what) const {
  if (b->offset() > 1) {
    if (b->data() && b->data()->size() > 0) m_.Fail(what + ": buffer has both inline data and an external offset");
    if (b->offset() > m_.bytes.size() || b->size() > m_.bytes.size() - b->offset())
      m_.Fail(what + ": buffer data at offset " + std::to_string(b->offset()) + " (" + std::to_string(b->size()) +
              " bytes) lies outside the " + std::to_string(m_.bytes.size()) + "-byte file");
    return {m_.bytes.data() + b->offset(), size_t(b->size())};
  }
  if (b->data()) return {b->data()->data(), b->data()->size()};
  return {nullptr, 0};
}

void Loader::Load(std::string_view bytes) {
  if (bytes.size() < 8) m_.Fail("too small to be a .tflite file (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.size() >= size_t(FLATBUFFERS_MAX_BUFFER_SIZE)) m_.Fail("file too large");
  m_.bytes.Resize(bytes.size());
  std::memcpy(m_.bytes.data(), bytes.data(), bytes.size());
  if (!flatbuffers::BufferHasIdentifier(m_.bytes.data(), tflite::ModelIdentifier()))
    m_.Fail("not a .tflite file (FlatBuffer identifier is not \"TFL3\")");
  flatbuffers::Verifier verifier(m_.bytes.data(), m_.bytes.size(), /*max_depth=*/64, /*max_tables=*/1000000);
  if (!tflite::VerifyModelBuffer(verifier)) m_.Fail("corrupt .tflite file (FlatBuffer verification failed)");
  fb_ = tflite::GetModel(m_.bytes.data());

  if (fb_->version() != 3) m_.Fail("schema version " + std::to_string(fb_->version()) + " (kws reads version 3)");
  // Subgraph 0 is the model (as in TFLite); the others run when control-flow
  // operators (CALL_ONCE, IF, WHILE) call them.
  if (!fb_->subgraphs() || fb_->subgraphs()->size() == 0) m_.Fail("has no subgraphs");
  if (fb_->description()) m_.description = fb_->description()->str();
  const auto* buffers = fb_->buffers();
  if (fb_->metadata()) {
    for (const auto* md : *fb_->metadata()) {
      if (!md || !md->name()) continue;
      if (!buffers || md->buffer() >= buffers->size())
        m_.Fail("metadata '" + md->name()->str() + "' names buffer " + std::to_string(md->buffer()) +
                " (out of range)");
      const auto [data, size] = BufferBytes(buffers->Get(md->buffer()), "metadata '" + md->name()->str() + "'");
      m_.metadata.emplace_back(md->name()->str(), std::string(reinterpret_cast<const char*>(data), size));
    }
  }
  m_.subgraphs.resize(fb_->subgraphs()->size());
  for (uint32_t s = 0; s < fb_->subgraphs()->size(); ++s) {
    const tflite::SubGraph* src = fb_->subgraphs()->Get(s);
    SubgraphDef& sg = m_.subgraphs[s];
    if (src->name()) sg.name = src->name()->str();
    LoadTensors(int(s), src, sg);
    LoadIo(int(s), src, sg);
    LoadNodes(int(s), src, sg);
  }
  CopyConstants();
}

void Loader::LoadTensors(int s, const tflite::SubGraph* src, SubgraphDef& sg) {
  const auto* ts = src->tensors();
  if (s == 0 && (!ts || ts->size() == 0)) m_.Fail("subgraph has no tensors");
  if (!ts) return;
  total_tensors_ += ts->size();
  if (total_tensors_ > m_.limits.max_tensors) m_.Fail("too many tensors (" + std::to_string(total_tensors_) + ")");
  sg.tensors.resize(ts->size());
  for (uint32_t i = 0; i < ts->size(); ++i) LoadTensor(s, i, ts->Get(i), sg.tensors[i]);
}

void Loader::LoadTensor(int s, uint32_t i, const tflite::Tensor* src, Tensor& t) {
  t.name = src->name() ? src->name()->str() : "";
  const std::string what = SubgraphPrefix(s) + "tensor " + std::to_string(i) + " '" + t.name + "'";
  switch (src->type()) {
    case tflite::TensorType::FLOAT32: t.type = DType::kFloat32; break;
    case tflite::TensorType::INT8: t.type = DType::kInt8; break;
    case tflite::TensorType::INT32: t.type = DType::kInt32; break;
    case tflite::TensorType::BOOL: t.type = DType::kBool; break;
    case tflite::TensorType::RESOURCE: t.type = DType::kResource; break;
    case tflite::TensorType::UINT8: t.type = DType::kInt8, t.uint8 = true; break;  // shifted, see below
    case tflite::TensorType::FLOAT16: t.type = DType::kFloat32, t.float16 = true; break;  // constants only
    default: {
      const char* tn = tflite::EnumNameTensorType(src->type());
      m_.Fail(what + ": type " + std::string(tn && *tn ? tn : std::to_string(int(src->type()))) +
              " not supported (kws runs float32, int8, uint8, int32, bool and resource tensors)");
    }
  }
  if (src->shape()) {
    if (src->shape()->size() > 5) m_.Fail(what + ": rank " + std::to_string(src->shape()->size()) + " (at most 5)");
    for (int d : *src->shape()) {
      // Zero only in an empty int32 parameter (RESHAPE to a scalar takes a [0] shape tensor).
      if (d < 0 || (d == 0 && t.type != DType::kInt32))
        m_.Fail(what + ": dimension " + std::to_string(d) + " (every dimension must be positive)");
      t.shape.push_back(d);
      if (d > m_.limits.max_tensor_elements || t.elements * d > m_.limits.max_tensor_elements)
        m_.Fail(what + ": too many elements (limit " + std::to_string(m_.limits.max_tensor_elements) + ")");
      t.elements *= d;
    }
  }
  t.signature = t.shape;
  if (const auto* sig = src->shape_signature(); sig && sig->size() > 0) {
    bool ok = sig->size() == t.shape.size();
    for (uint32_t k = 0; ok && k < sig->size(); ++k) ok = sig->Get(k) == -1 || sig->Get(k) == t.shape[k];
    if (!ok) {
      std::vector<int> v(sig->begin(), sig->end());
      m_.Fail(what + ": shape signature " + ShapeStr(v) + " does not match shape " + ShapeStr(t.shape));
    }
    t.signature.assign(sig->begin(), sig->end());
  }
  t.bytes = size_t(t.elements) * (t.float16 ? 2 : TypeSize(t.type));
  if (src->is_variable()) m_.Fail(what + ": variable tensors are not supported");
  if (src->sparsity()) m_.Fail(what + ": sparse tensors are not supported");
  LoadQuantization(what, src->quantization(), t);
  const auto* buffers = fb_->buffers();
  if (buffers == nullptr || src->buffer() >= buffers->size())
    m_.Fail(what + ": buffer index " + std::to_string(src->buffer()) + " out of range (" +
            std::to_string(buffers ? buffers->size() : 0) + " buffers)");
  const auto [data, size] = BufferBytes(buffers->Get(src->buffer()), what);
  if (size > 0) {
    if (size != t.bytes)
      m_.Fail(what + ": buffer " + std::to_string(src->buffer()) + " holds " + std::to_string(size) +
              " bytes, shape × type needs " + std::to_string(t.bytes));
    if (t.type == DType::kResource) m_.Fail(what + ": a resource tensor cannot be a constant");
    if (t.dynamic()) m_.Fail(what + ": a constant cannot have dynamic dimensions");
    t.is_const = true;
    const uint8_t* bytes = data;
    if (t.uint8) {  // shift the constant in kws's own copy of the file, once per buffer
      if (data < m_.bytes.data() || data + size > m_.bytes.data() + m_.bytes.size())
        m_.Fail(what + ": buffer outside the file");
      if (uint8_buffers_.insert(src->buffer()).second)
        for (size_t k = 0; k < size; ++k) const_cast<uint8_t*>(data)[k] ^= 0x80;
    } else if (uint8_buffers_.count(src->buffer())) {
      m_.Fail(what + ": shares its buffer with a uint8 tensor");
    }
    if (t.float16) {  // float16 weights (the converter's float16 quantization): float32 from here on
      std::vector<float> f(size_t(t.elements));
      for (size_t k = 0; k < f.size(); ++k) f[k] = HalfToFloat(uint16_t(data[2 * k] | (data[2 * k + 1] << 8)));
      float16_data_.push_back(std::move(f));
      bytes = reinterpret_cast<const uint8_t*>(float16_data_.back().data());
      t.bytes = size_t(t.elements) * 4;
    }
    const_sources_.emplace_back(&t, bytes);
  }
  if (t.float16 && !t.is_const) m_.Fail(what + ": float16 activations are not supported (only float16 constants)");
}

void Loader::LoadQuantization(const std::string& what, const tflite::QuantizationParameters* qp, Tensor& t) {
  if (!qp) return;
  if (qp->details_type() != tflite::QuantizationDetails::NONE)
    m_.Fail(what + ": non-affine quantization is not supported");
  if (qp->scale())
    for (float s : *qp->scale()) {
      if (!(s > 0.0f) || !std::isfinite(s)) m_.Fail(what + ": quantization scale " + std::to_string(s) + " (must be > 0)");
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
    m_.Fail(what + ": " + std::to_string(t.scales.size()) + " scales but " + std::to_string(t.zero_points.size()) +
            " zero points");
  // uint8 (legacy quantized models, uint8 I/O): q − 128 with zero point − 128 is the same real
  // value, so uint8 tensors run through the int8 kernels (rounding kept by the kernels that care).
  if (t.uint8)
    for (int64_t& z : t.zero_points) {
      if (z < 0 || z > 255) m_.Fail(what + ": uint8 zero point " + std::to_string(z) + " outside [0, 255]");
      z -= 128;
    }
  t.quantized_dimension = qp->quantized_dimension();
}

void Loader::LoadIo(int s, const tflite::SubGraph* src, SubgraphDef& sg) {
  const std::string pre = SubgraphPrefix(s);
  auto index_list = [&](const flatbuffers::Vector<int32_t>* v, const char* what) {
    std::vector<int> r;
    if (s == 0 && (!v || v->size() == 0)) m_.Fail(std::string("subgraph has no ") + what);
    if (!v) return r;
    for (int x : *v) {
      if (x < 0 || x >= int(sg.tensors.size()))
        m_.Fail(pre + "subgraph " + what + " name tensor " + std::to_string(x) + " (out of range)");
      r.push_back(x);
    }
    return r;
  };
  sg.inputs = index_list(src->inputs(), "inputs");
  sg.outputs = index_list(src->outputs(), "outputs");
  for (int x : sg.inputs) {
    const Tensor& t = sg.tensors[size_t(x)];
    const std::string what = pre + "graph input tensor " + std::to_string(x);
    if (t.is_const) m_.Fail(what + " is a constant");
    if (s == 0 && t.type == DType::kInt8 && t.scales.size() != 1)
      m_.Fail(what + " is " + (t.uint8 ? "uint8" : DTypeName(t.type)) + " without per-tensor quantization");
    if (s == 0 && t.type == DType::kResource) m_.Fail(what + " is a resource (kws needs data inputs)");
    if (t.elements == 0) m_.Fail(what + " has no elements");
  }
}

void Loader::LoadNodes(int s, const tflite::SubGraph* src, SubgraphDef& sg) {
  const auto* sops = src->operators();
  const auto* codes = fb_->operator_codes();
  const std::string pre = SubgraphPrefix(s);
  if (s == 0 && (!sops || sops->size() == 0)) m_.Fail("subgraph has no operators");
  const uint32_t n = sops ? sops->size() : 0;
  total_nodes_ += n;
  if (total_nodes_ > m_.limits.max_operators) m_.Fail("too many operators (" + std::to_string(total_nodes_) + ")");
  // Data flow: every input exists already (graph input, constant, empty, or an
  // earlier operator's output), every tensor is written once.
  std::vector<char> produced(sg.tensors.size(), 0);
  for (size_t x = 0; x < sg.tensors.size(); ++x) produced[x] = sg.tensors[x].is_const || sg.tensors[x].elements == 0;
  for (int x : sg.inputs) produced[size_t(x)] = 1;
  sg.nodes.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const tflite::Operator* op = sops->Get(i);
    NodeDef& node = sg.nodes[i];
    const std::string where = pre + "operator " + std::to_string(i);
    if (!codes || op->opcode_index() >= codes->size())
      m_.Fail(where + ": opcode index " + std::to_string(op->opcode_index()) + " out of range");
    const tflite::OperatorCode* oc = codes->Get(op->opcode_index());
    node.code = std::max<int>(oc->deprecated_builtin_code(), int(oc->builtin_code()));
    node.op = op;
    const std::string named = where + " (" + BuiltinName(node.code) + ")";
    if (op->inputs())
      for (int x : *op->inputs()) {
        if (x < -1 || x >= int(sg.tensors.size()))
          m_.Fail(named + ": input tensor index " + std::to_string(x) + " out of range");
        node.in.push_back(x);
      }
    if (op->outputs())
      for (int x : *op->outputs()) {
        if (x < 0 || x >= int(sg.tensors.size()))
          m_.Fail(named + ": output tensor index " + std::to_string(x) + " out of range");
        node.out.push_back(x);
      }
    for (int x : node.in)
      if (x >= 0 && !produced[size_t(x)])
        m_.Fail(named + ": input tensor " + std::to_string(x) + " '" + sg.tensors[size_t(x)].name +
                "' is read before any operator writes it");
    node.reg = FindOp(node.code);
    if (!node.reg) {
      if (node.code == int(tflite::BuiltinOperator::CUSTOM)) m_.Fail(named + ": custom operators are not supported");
      m_.Fail(where + ": " + BuiltinName(node.code) + " (builtin " + std::to_string(node.code) +
              ") is not supported (kws runs " + SupportedOpsList() + ")");
    }
    for (int x : node.out) {
      if (produced[size_t(x)])
        m_.Fail(named + ": output tensor " + std::to_string(x) + " '" + sg.tensors[size_t(x)].name +
                "' is a constant, a graph input or already written");
      produced[size_t(x)] = 1;
    }
  }
  for (int x : sg.outputs)
    if (!produced[size_t(x)])
      m_.Fail(pre + "graph output tensor " + std::to_string(x) + " '" + sg.tensors[size_t(x)].name +
              "' is never written");
}

// Constants → one aligned block (the file may hold them misaligned).
void Loader::CopyConstants() {
  size_t total = 0;
  std::vector<size_t> offsets;
  for (auto& [t, src] : const_sources_) {
    offsets.push_back(total);
    total += AlignUp(t->bytes);
  }
  m_.consts.Resize(std::max<size_t>(total, 1));
  for (size_t k = 0; k < const_sources_.size(); ++k) {
    auto& [t, src] = const_sources_[k];
    t->data = m_.consts.data() + offsets[k];
    std::memcpy(t->data, src, t->bytes);
  }
}

}  // namespace

void LoadModel(std::string_view bytes, Model* m) { Loader(*m).Load(bytes); }

}  // namespace kws::rt
