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

std::string ModelBuilder::Finish(ByteAccount* accounting) const {
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

  size_t total = 1024;
  for (const auto& buf : buffers_) total += buf.size() + 32;
  fb::FlatBufferBuilder b(total);
  // Byte accounting: charge the builder's growth since the last mark to `part`.
  std::map<std::string, size_t> charged;
  std::vector<std::string> order;
  size_t last = 0;
  auto mark = [&](const std::string& part) {
    if (!accounting) return;
    const size_t now = b.GetSize();
    if (!charged.count(part)) order.push_back(part);
    charged[part] += now - last;
    last = now;
  };

  // Buffers first: large aligned blobs at the end of the file, tables before them.
  std::vector<fb::Offset<::tflite::Buffer>> buffers;
  buffers.reserve(buffers_.size());
  for (size_t bi = 0; bi < buffers_.size(); ++bi) {
    const std::string& buf = buffers_[bi];
    if (buf.empty()) {
      buffers.push_back(::tflite::CreateBuffer(b));
      continue;
    }
    b.ForceVectorAlignment(buf.size(), 1, 16);
    auto data = b.CreateVector(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
    if (accounting) {
      bool is_md = false;
      for (const auto& md : metadata_) is_md |= size_t(md.second) == bi;
      const std::string part = is_md ? "metadata payload" : "constant data (payload)";
      charged[part] += buf.size();
      if (std::find(order.begin(), order.end(), part) == order.end()) order.push_back(part);
      last += buf.size();
      mark("constant data: length prefix + 16-byte alignment");
    }
    buffers.push_back(::tflite::CreateBuffer(b, data));
    mark("Buffer tables");
  }
  mark("Buffer tables");

  // Identical small vectors (all-zero per-channel zero points, repeated shapes, shared scales) are written
  // once and referenced from every table that uses them: FlatBuffer offsets may be shared, readers just
  // follow them. Saves ~1 KB on a 4-conv per-channel int8 model.
  std::map<std::vector<int32_t>, fb::Offset<fb::Vector<int32_t>>> ints;
  std::map<std::vector<int64_t>, fb::Offset<fb::Vector<int64_t>>> longs;
  std::map<std::vector<float>, fb::Offset<fb::Vector<float>>> floats;
  auto shared = [&b](auto& cache, const auto& v) {
    auto it = cache.find(v);
    if (it != cache.end()) return it->second;
    auto off = b.CreateVector(v);
    cache.emplace(v, off);
    return off;
  };

  std::map<std::tuple<std::vector<float>, std::vector<int64_t>, int, std::vector<float>, std::vector<float>>,
           fb::Offset<::tflite::QuantizationParameters>> qtables;
  std::vector<fb::Offset<::tflite::Tensor>> tensors;
  for (const auto& t : tensors_) {
    fb::Offset<::tflite::QuantizationParameters> q = 0;
    // Tensors with identical quantization (e.g. a pool output and its input) share one table.
    using QKey = std::tuple<std::vector<float>, std::vector<int64_t>, int, std::vector<float>, std::vector<float>>;
    QKey qkey{t.quant.scale, t.quant.zero_point, t.quant.quantized_dimension, t.quant.min, t.quant.max};
    if (!t.quant.empty() && qtables.count(qkey)) {
      q = qtables[qkey];
    } else if (!t.quant.empty()) {
      auto vmin = t.quant.min.empty() ? 0 : shared(floats, t.quant.min);
      auto vmax = t.quant.max.empty() ? 0 : shared(floats, t.quant.max);
      mark("quantization: min/max");
      auto vscale = t.quant.scale.empty() ? 0 : shared(floats, t.quant.scale);
      mark(t.quant.scale.size() > 1 ? "quantization: per-channel scales" : "quantization: per-tensor scales");
      auto vzp = t.quant.zero_point.empty() ? 0 : shared(longs, t.quant.zero_point);
      mark("quantization: zero points");
      q = ::tflite::CreateQuantizationParameters(b, vmin, vmax, vscale, vzp,
                                                 ::tflite::QuantizationDetails::NONE, 0,
                                                 t.quant.quantized_dimension);
      mark("quantization: tables");
      qtables[qkey] = q;
    }
    auto shape = shared(ints, t.shape);
    mark("tensor shapes");
    auto name = t.name.empty() ? 0 : b.CreateString(t.name);
    mark("tensor names");
    tensors.push_back(::tflite::CreateTensor(b, shape, t.type, uint32_t(t.buffer), name, q));
    mark("Tensor tables");
  }

  std::vector<fb::Offset<::tflite::Operator>> ops;
  for (const auto& op : ops_) {
    auto [type, value] = BuildOptions(b, op.options);
    mark("operators: builtin options");
    ops.push_back(::tflite::CreateOperator(b, uint32_t(op.opcode), b.CreateVector(op.inputs),
                                           b.CreateVector(op.outputs), type, value));
    mark("operators: tables + input/output lists");
  }

  auto subgraph = ::tflite::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(inputs_),
                                           b.CreateVector(outputs_), b.CreateVector(ops),
                                           b.CreateString(subgraph_name_));
  mark("subgraph (tensor/op lists, inputs, outputs, name)");

  std::vector<fb::Offset<::tflite::OperatorCode>> codes;
  for (const auto& [op, version] : opcodes_) {
    int8_t dep = int8_t(std::min<int>(int(op), int(BuiltinOperator::PLACEHOLDER_FOR_GREATER_OP_CODES)));
    if (legacy_opcodes_ && int(op) >= int(BuiltinOperator::PLACEHOLDER_FOR_GREATER_OP_CODES))
      throw InternalError("tflite: op code " + std::to_string(int(op)) + " cannot be written in the legacy field");
    codes.push_back(::tflite::CreateOperatorCode(b, dep, 0, version, legacy_opcodes_ ? BuiltinOperator::ADD : op));
  }
  mark("operator codes");

  std::vector<fb::Offset<::tflite::Metadata>> metadata;
  for (const auto& [name, buf] : metadata_)
    metadata.push_back(::tflite::CreateMetadata(b, b.CreateString(name), uint32_t(buf)));
  mark("metadata entries (names, tables)");

  fb::Offset<fb::Vector<fb::Offset<::tflite::SignatureDef>>> sigs = 0;
  if (write_signature_) {
    auto maps = [&](const std::vector<int>& idx) {
      std::vector<fb::Offset<::tflite::TensorMap>> m;
      for (int t : idx) m.push_back(::tflite::CreateTensorMap(b, b.CreateString(tensors_[t].name), uint32_t(t)));
      return b.CreateVector(m);
    };
    auto in = maps(inputs_);
    auto out = maps(outputs_);
    std::vector<fb::Offset<::tflite::SignatureDef>> s{
        ::tflite::CreateSignatureDef(b, in, out, b.CreateString("serving_default"), 0)};
    sigs = b.CreateVector(s);
  }
  mark("signature defs");

  auto model = ::tflite::CreateModel(
      b, /*version=*/3, b.CreateVector(codes),
      b.CreateVector(std::vector<fb::Offset<::tflite::SubGraph>>{subgraph}),
      b.CreateString(description_), b.CreateVector(buffers), /*metadata_buffer=*/0,
      metadata.empty() ? 0 : b.CreateVector(metadata), sigs);
  ::tflite::FinishModelBuffer(b, model);
  mark("model table, description, vectors, root");
  if (accounting) {
    accounting->parts.clear();
    for (const auto& p : order)
      if (charged[p] > 0) accounting->parts.emplace_back(p, charged[p]);
    accounting->total = b.GetSize();
  }
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
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
