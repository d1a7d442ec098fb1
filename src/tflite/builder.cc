#include "tflite/builder.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <tuple>
#include <cstdio>

#include "util/error.h"

namespace kws::tfl {

namespace fb = flatbuffers;
using ::tflite::BuiltinOperator;
using ::tflite::TensorType;

int TypeSize(TensorType type) {
  switch (type) {
    case TensorType::FLOAT32: return 4;
    case TensorType::INT32: return 4;
    case TensorType::INT8: return 1;
    case TensorType::UINT8: return 1;
    case TensorType::INT16: return 2;
    case TensorType::INT64: return 8;
    case TensorType::FLOAT16: return 2;
    case TensorType::BOOL: return 1;
    case TensorType::FLOAT64: return 8;
    default: break;
  }
  throw InternalError("tflite: unsupported tensor type " + std::to_string(int(type)));
}

ModelBuilder::ModelBuilder() { buffers_.emplace_back(); }

int ModelBuilder::AddBuffer(std::string_view bytes) {
  buffers_.emplace_back(bytes);
  return int(buffers_.size()) - 1;
}

int ModelBuilder::AddTensor(const std::string& name, const std::vector<int>& shape, TensorType type,
                            int buffer, const QuantParams& quant) {
  if (buffer < 0 || buffer >= int(buffers_.size()))
    throw InternalError("tflite: tensor '" + name + "' refers to missing buffer " + std::to_string(buffer));
  if (!quant.scale.empty() && quant.zero_point.size() != quant.scale.size())
    throw InternalError("tflite: tensor '" + name + "': scale and zero_point sizes differ");
  if (quant.scale.size() > 1) {
    if (quant.quantized_dimension < 0 || quant.quantized_dimension >= int(shape.size()) ||
        shape[quant.quantized_dimension] != int(quant.scale.size()))
      throw InternalError("tflite: tensor '" + name + "': per-channel scales (" +
                          std::to_string(quant.scale.size()) + ") do not match quantized dimension " +
                          std::to_string(quant.quantized_dimension));
  }
  tensors_.push_back({name, shape, type, buffer, quant});
  return int(tensors_.size()) - 1;
}

void ModelBuilder::CheckConst(const std::string& name, const std::vector<int>& shape, TensorType type,
                              size_t count, size_t elem_size) const {
  size_t n = 1;
  for (int d : shape) {
    if (d < 0) throw InternalError("tflite: constant '" + name + "' has a negative dimension");
    n *= size_t(d);
  }
  if (n != count)
    throw InternalError("tflite: constant '" + name + "': " + std::to_string(count) + " values for " +
                        std::to_string(n) + " elements");
  if (size_t(TypeSize(type)) != elem_size)
    throw InternalError("tflite: constant '" + name + "': element size does not match its tensor type");
}

int ModelBuilder::AddOperator(BuiltinOperator op, const std::vector<int>& inputs,
                              const std::vector<int>& outputs, const OpOptions& options, int version) {
  auto key = std::make_pair(op, version);
  auto it = std::find(opcodes_.begin(), opcodes_.end(), key);
  int opcode = int(it - opcodes_.begin());
  if (it == opcodes_.end()) opcodes_.push_back(key);
  ops_.push_back({opcode, inputs, outputs, options});
  return int(ops_.size()) - 1;
}

void ModelBuilder::AddMetadata(const std::string& name, std::string_view bytes) {
  metadata_.emplace_back(name, AddBuffer(bytes));
}

namespace {

std::pair<::tflite::BuiltinOptions, fb::Offset<void>> BuildOptions(fb::FlatBufferBuilder& b,
                                                                   const OpOptions& options) {
  using BO = ::tflite::BuiltinOptions;
  return std::visit(
      [&](const auto& o) -> std::pair<BO, fb::Offset<void>> {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {BO::NONE, 0};
        } else if constexpr (std::is_same_v<T, Conv2DOptions>) {
          return {BO::Conv2DOptions,
                  ::tflite::CreateConv2DOptions(b, o.padding, o.stride_w, o.stride_h, o.activation,
                                                o.dilation_w, o.dilation_h).Union()};
        } else if constexpr (std::is_same_v<T, DepthwiseConv2DOptions>) {
          return {BO::DepthwiseConv2DOptions,
                  ::tflite::CreateDepthwiseConv2DOptions(b, o.padding, o.stride_w, o.stride_h,
                                                         o.depth_multiplier, o.activation, o.dilation_w,
                                                         o.dilation_h).Union()};
        } else if constexpr (std::is_same_v<T, Pool2DOptions>) {
          return {BO::Pool2DOptions,
                  ::tflite::CreatePool2DOptions(b, o.padding, o.stride_w, o.stride_h, o.filter_width,
                                                o.filter_height, o.activation).Union()};
        } else if constexpr (std::is_same_v<T, FullyConnectedOptions>) {
          return {BO::FullyConnectedOptions,
                  ::tflite::CreateFullyConnectedOptions(
                      b, o.activation, ::tflite::FullyConnectedOptionsWeightsFormat::DEFAULT,
                      o.keep_num_dims, o.asymmetric_quantize_inputs).Union()};
        } else if constexpr (std::is_same_v<T, SoftmaxOptions>) {
          return {BO::SoftmaxOptions, ::tflite::CreateSoftmaxOptions(b, o.beta).Union()};
        } else if constexpr (std::is_same_v<T, ReshapeOptions>) {
          return {BO::ReshapeOptions,
                  ::tflite::CreateReshapeOptions(b, b.CreateVector(o.new_shape)).Union()};
        } else if constexpr (std::is_same_v<T, ReducerOptions>) {
          return {BO::ReducerOptions, ::tflite::CreateReducerOptions(b, o.keep_dims).Union()};
        } else if constexpr (std::is_same_v<T, QuantizeOptions>) {
          return {BO::QuantizeOptions, ::tflite::CreateQuantizeOptions(b).Union()};
        } else if constexpr (std::is_same_v<T, AddOptions>) {
          return {BO::AddOptions, ::tflite::CreateAddOptions(b, o.activation).Union()};
        } else if constexpr (std::is_same_v<T, MulOptions>) {
          return {BO::MulOptions, ::tflite::CreateMulOptions(b, o.activation).Union()};
        } else if constexpr (std::is_same_v<T, ConcatenationOptions>) {
          return {BO::ConcatenationOptions, ::tflite::CreateConcatenationOptions(b, o.axis, o.activation).Union()};
        } else if constexpr (std::is_same_v<T, PadOptions>) {
          return {BO::PadOptions, ::tflite::CreatePadOptions(b).Union()};
        } else {
          static_assert(std::is_same_v<T, DequantizeOptions>);
          return {BO::DequantizeOptions, ::tflite::CreateDequantizeOptions(b).Union()};
        }
      },
      options);
}

}  // namespace

std::string ByteAccount::Table() const {
  std::string r;
  char line[160];
  for (const auto& [name, bytes] : parts) {
    std::snprintf(line, sizeof line, "%-40s %8zu  %5.1f%%\n", name.c_str(), bytes,
                  total ? 100.0 * double(bytes) / double(total) : 0.0);
    r += line;
  }
  std::snprintf(line, sizeof line, "%-40s %8zu\n", "total", total);
  return r + line;
}

// Every tensor index the graph uses names a tensor (-1, an omitted optional input, only in op inputs).
void ModelBuilder::CheckIndices() const {
  const int nt = int(tensors_.size());
  auto check_index = [&](int t, const std::string& where, bool allow_optional) {
    if ((t == -1 && allow_optional) || (t >= 0 && t < nt)) return;
    throw InternalError("tflite: " + where + " refers to missing tensor " + std::to_string(t));
  };
  if (inputs_.empty() || outputs_.empty()) throw InternalError("tflite: model has no inputs or outputs");
  for (int t : inputs_) check_index(t, "subgraph inputs", false);
  for (int t : outputs_) check_index(t, "subgraph outputs", false);
  for (size_t i = 0; i < ops_.size(); ++i) {
    for (int t : ops_[i].inputs) check_index(t, "operator " + std::to_string(i), true);
    for (int t : ops_[i].outputs) check_index(t, "operator " + std::to_string(i), false);
  }
}

// Finish's steps: one FlatBufferBuilder filled back to front (buffers, tensors, operators, subgraph,
// op codes, metadata, signatures, model), with the byte accounting of each part.
class ModelBuilder::Writer {
 public:
  Writer(const ModelBuilder& m, ByteAccount* accounting)
      : m_(m), b_(InitialSize(m)), accounting_(accounting) {}

  std::string Write() {
    auto buffers = Buffers();
    auto tensors = Tensors();
    auto ops = Operators();
    auto subgraph = ::tflite::CreateSubGraph(b_, b_.CreateVector(tensors), b_.CreateVector(m_.inputs_),
                                             b_.CreateVector(m_.outputs_), b_.CreateVector(ops),
                                             b_.CreateString(m_.subgraph_name_));
    Mark("subgraph (tensor/op lists, inputs, outputs, name)");
    auto codes = OperatorCodes();
    auto metadata = Metadata();
    auto sigs = Signatures();
    auto model = ::tflite::CreateModel(
        b_, /*version=*/3, b_.CreateVector(codes),
        b_.CreateVector(std::vector<fb::Offset<::tflite::SubGraph>>{subgraph}),
        b_.CreateString(m_.description_), b_.CreateVector(buffers), /*metadata_buffer=*/0,
        metadata.empty() ? 0 : b_.CreateVector(metadata), sigs);
    ::tflite::FinishModelBuffer(b_, model);
    Mark("model table, description, vectors, root");
    if (accounting_) {
      accounting_->parts.clear();
      for (const auto& p : order_)
        if (charged_[p] > 0) accounting_->parts.emplace_back(p, charged_[p]);
      accounting_->total = b_.GetSize();
    }
    return std::string(reinterpret_cast<const char*>(b_.GetBufferPointer()), b_.GetSize());
  }

 private:
  using QKey = std::tuple<std::vector<float>, std::vector<int64_t>, int, std::vector<float>, std::vector<float>>;

  static size_t InitialSize(const ModelBuilder& m) {
    size_t total = 1024;
    for (const auto& buf : m.buffers_) total += buf.size() + 32;
    return total;
  }

  // Byte accounting: charge the builder's growth since the last mark to `part`.
  void Mark(const std::string& part) {
    if (!accounting_) return;
    const size_t now = b_.GetSize();
    if (!charged_.count(part)) order_.push_back(part);
    charged_[part] += now - last_;
    last_ = now;
  }

  // Identical small vectors (all-zero per-channel zero points, repeated shapes, shared scales) are written
  // once and referenced from every table that uses them: FlatBuffer offsets may be shared, readers just
  // follow them. Saves ~1 KB on a 4-conv per-channel int8 model.
  template <class Cache, class V>
  auto Shared(Cache& cache, const V& v) {
    auto it = cache.find(v);
    if (it != cache.end()) return it->second;
    auto off = b_.CreateVector(v);
    cache.emplace(v, off);
    return off;
  }

  // Buffers first: large aligned blobs at the end of the file, tables before them.
  std::vector<fb::Offset<::tflite::Buffer>> Buffers() {
    std::vector<fb::Offset<::tflite::Buffer>> buffers;
    buffers.reserve(m_.buffers_.size());
    for (size_t bi = 0; bi < m_.buffers_.size(); ++bi) {
      const std::string& buf = m_.buffers_[bi];
      if (buf.empty()) {
        buffers.push_back(::tflite::CreateBuffer(b_));
        continue;
      }
      b_.ForceVectorAlignment(buf.size(), 1, 16);
      auto data = b_.CreateVector(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
      if (accounting_) {
        bool is_md = false;
        for (const auto& md : m_.metadata_) is_md |= size_t(md.second) == bi;
        const std::string part = is_md ? "metadata payload" : "constant data (payload)";
        charged_[part] += buf.size();
        if (std::find(order_.begin(), order_.end(), part) == order_.end()) order_.push_back(part);
        last_ += buf.size();
        Mark("constant data: length prefix + 16-byte alignment");
      }
      buffers.push_back(::tflite::CreateBuffer(b_, data));
      Mark("Buffer tables");
    }
    Mark("Buffer tables");
    return buffers;
  }

  // Tensors with identical quantization (e.g. a pool output and its input) share one table.
  fb::Offset<::tflite::QuantizationParameters> Quantization(const QuantParams& quant) {
    if (quant.empty()) return 0;
    QKey qkey{quant.scale, quant.zero_point, quant.quantized_dimension, quant.min, quant.max};
    if (qtables_.count(qkey)) return qtables_[qkey];
    auto vmin = quant.min.empty() ? 0 : Shared(floats_, quant.min);
    auto vmax = quant.max.empty() ? 0 : Shared(floats_, quant.max);
    Mark("quantization: min/max");
    auto vscale = quant.scale.empty() ? 0 : Shared(floats_, quant.scale);
    Mark(quant.scale.size() > 1 ? "quantization: per-channel scales" : "quantization: per-tensor scales");
    auto vzp = quant.zero_point.empty() ? 0 : Shared(longs_, quant.zero_point);
    Mark("quantization: zero points");
    auto q = ::tflite::CreateQuantizationParameters(b_, vmin, vmax, vscale, vzp, ::tflite::QuantizationDetails::NONE,
                                                    0, quant.quantized_dimension);
    Mark("quantization: tables");
    qtables_[qkey] = q;
    return q;
  }

  std::vector<fb::Offset<::tflite::Tensor>> Tensors() {
    std::vector<fb::Offset<::tflite::Tensor>> tensors;
    for (const auto& t : m_.tensors_) {
      fb::Offset<::tflite::QuantizationParameters> q = Quantization(t.quant);
      auto shape = Shared(ints_, t.shape);
      Mark("tensor shapes");
      auto name = t.name.empty() ? 0 : b_.CreateString(t.name);
      Mark("tensor names");
      tensors.push_back(::tflite::CreateTensor(b_, shape, t.type, uint32_t(t.buffer), name, q));
      Mark("Tensor tables");
    }
    return tensors;
  }

  std::vector<fb::Offset<::tflite::Operator>> Operators() {
    std::vector<fb::Offset<::tflite::Operator>> ops;
    for (const auto& op : m_.ops_) {
      auto [type, value] = BuildOptions(b_, op.options);
      Mark("operators: builtin options");
      ops.push_back(::tflite::CreateOperator(b_, uint32_t(op.opcode), b_.CreateVector(op.inputs),
                                             b_.CreateVector(op.outputs), type, value));
      Mark("operators: tables + input/output lists");
    }
    return ops;
  }

  std::vector<fb::Offset<::tflite::OperatorCode>> OperatorCodes() {
    std::vector<fb::Offset<::tflite::OperatorCode>> codes;
    for (const auto& [op, version] : m_.opcodes_) {
      int8_t dep = int8_t(std::min<int>(int(op), int(BuiltinOperator::PLACEHOLDER_FOR_GREATER_OP_CODES)));
      if (m_.legacy_opcodes_ && int(op) >= int(BuiltinOperator::PLACEHOLDER_FOR_GREATER_OP_CODES))
        throw InternalError("tflite: op code " + std::to_string(int(op)) + " cannot be written in the legacy field");
      codes.push_back(
          ::tflite::CreateOperatorCode(b_, dep, 0, version, m_.legacy_opcodes_ ? BuiltinOperator::ADD : op));
    }
    Mark("operator codes");
    return codes;
  }

  std::vector<fb::Offset<::tflite::Metadata>> Metadata() {
    std::vector<fb::Offset<::tflite::Metadata>> metadata;
    for (const auto& [name, buf] : m_.metadata_)
      metadata.push_back(::tflite::CreateMetadata(b_, b_.CreateString(name), uint32_t(buf)));
    Mark("metadata entries (names, tables)");
    return metadata;
  }

  fb::Offset<fb::Vector<fb::Offset<::tflite::SignatureDef>>> Signatures() {
    fb::Offset<fb::Vector<fb::Offset<::tflite::SignatureDef>>> sigs = 0;
    if (m_.write_signature_) {
      auto maps = [&](const std::vector<int>& idx) {
        std::vector<fb::Offset<::tflite::TensorMap>> m;
        for (int t : idx)
          m.push_back(::tflite::CreateTensorMap(b_, b_.CreateString(m_.tensors_[t].name), uint32_t(t)));
        return b_.CreateVector(m);
      };
      auto in = maps(m_.inputs_);
      auto out = maps(m_.outputs_);
      std::vector<fb::Offset<::tflite::SignatureDef>> s{
          ::tflite::CreateSignatureDef(b_, in, out, b_.CreateString("serving_default"), 0)};
      sigs = b_.CreateVector(s);
    }
    Mark("signature defs");
    return sigs;
  }

  const ModelBuilder& m_;
  fb::FlatBufferBuilder b_;
  ByteAccount* accounting_;
  std::map<std::string, size_t> charged_;
  std::vector<std::string> order_;
  size_t last_ = 0;
  std::map<std::vector<int32_t>, fb::Offset<fb::Vector<int32_t>>> ints_;
  std::map<std::vector<int64_t>, fb::Offset<fb::Vector<int64_t>>> longs_;
  std::map<std::vector<float>, fb::Offset<fb::Vector<float>>> floats_;
  std::map<QKey, fb::Offset<::tflite::QuantizationParameters>> qtables_;
};

std::string ModelBuilder::Finish(ByteAccount* accounting) const {
  CheckIndices();
  return Writer(*this, accounting).Write();
}

BuiltinOperator EffectiveBuiltinCode(const ::tflite::OperatorCode& code) {
  return BuiltinOperator(std::max<int>(int(code.deprecated_builtin_code()), int(code.builtin_code())));
}

const ::tflite::Model* VerifiedModel(std::string_view bytes, const std::string& what) {
  if (bytes.size() < 8) throw BadInput(what + ": too small to be a .tflite file (" + std::to_string(bytes.size()) + " bytes)");
  if (!::tflite::ModelBufferHasIdentifier(bytes.data()))
    throw BadInput(what + ": not a .tflite file (missing \"TFL3\" identifier)");
  fb::Verifier v(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!::tflite::VerifyModelBuffer(v)) throw BadInput(what + ": corrupt .tflite (FlatBuffer verification failed)");
  return ::tflite::GetModel(bytes.data());
}

}  // namespace kws::tfl
