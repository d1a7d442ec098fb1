// Test helper: small .tflite models with any number of subgraphs and any
// builtin options, written with the FlatBuffer API of kws's schema subset (so
// the hand-computed runtime tests need no flatc and no ../shared). Models
// checked against the official interpreters are written by flatc from the
// official schema instead (foreign_models_test.cc, new_ops_official_test.cc).
#pragma once
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kws_tflite_generated.h"

namespace kws::test {

using Options = std::function<std::pair<tflite::BuiltinOptions, flatbuffers::Offset<void>>(
    flatbuffers::FlatBufferBuilder&)>;

class TestGraph {
 public:
  TestGraph() : subs_(1) {}
  int AddSubgraph() {
    subs_.emplace_back();
    return int(subs_.size()) - 1;
  }
  // A tensor in subgraph s (no data).
  int Tensor(int s, const std::vector<int>& shape, tflite::TensorType type, float scale = 0, int64_t zp = 0,
             const std::vector<int>& signature = {}) {
    subs_[size_t(s)].tensors.push_back({shape, type, "", scale, zp, signature});
    return int(subs_[size_t(s)].tensors.size()) - 1;
  }
  template <class V>
  int Const(int s, const std::vector<int>& shape, tflite::TensorType type, const std::vector<V>& values,
            float scale = 0, int64_t zp = 0) {
    std::string bytes(values.size() * sizeof(V), '\0');
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    subs_[size_t(s)].tensors.push_back({shape, type, bytes, scale, zp, {}});
    return int(subs_[size_t(s)].tensors.size()) - 1;
  }
  void Op(int s, tflite::BuiltinOperator code, const std::vector<int>& in, const std::vector<int>& out,
          Options options = nullptr) {
    subs_[size_t(s)].ops.push_back({code, in, out, std::move(options)});
  }
  void Io(int s, const std::vector<int>& inputs, const std::vector<int>& outputs) {
    subs_[size_t(s)].inputs = inputs;
    subs_[size_t(s)].outputs = outputs;
  }

  std::string Build() const {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<tflite::Buffer>> buffers{tflite::CreateBuffer(b)};
    std::vector<tflite::BuiltinOperator> codes;
    std::vector<flatbuffers::Offset<tflite::SubGraph>> sgs;
    for (const Sub& sub : subs_) {
      std::vector<flatbuffers::Offset<tflite::Tensor>> ts;
      for (const T& t : sub.tensors) {
        uint32_t buf = 0;
        if (!t.data.empty()) {
          b.ForceVectorAlignment(t.data.size(), 1, 16);
          auto v = b.CreateVector(reinterpret_cast<const uint8_t*>(t.data.data()), t.data.size());
          buffers.push_back(tflite::CreateBuffer(b, v));
          buf = uint32_t(buffers.size() - 1);
        }
        flatbuffers::Offset<tflite::QuantizationParameters> q = 0;
        if (t.scale > 0)
          q = tflite::CreateQuantizationParameters(b, 0, 0, b.CreateVector(std::vector<float>{t.scale}),
                                                   b.CreateVector(std::vector<int64_t>{t.zp}));
        ts.push_back(tflite::CreateTensor(b, b.CreateVector(t.shape), t.type, buf, b.CreateString(""), q, false, 0,
                                          t.signature.empty() ? 0 : b.CreateVector(t.signature)));
      }
      std::vector<flatbuffers::Offset<tflite::Operator>> ops;
      for (const O& o : sub.ops) {
        uint32_t idx = 0;
        while (idx < codes.size() && codes[idx] != o.code) ++idx;
        if (idx == codes.size()) codes.push_back(o.code);
        auto opt = o.options ? o.options(b)
                             : std::pair<tflite::BuiltinOptions, flatbuffers::Offset<void>>{tflite::BuiltinOptions::NONE, 0};
        ops.push_back(tflite::CreateOperator(b, idx, b.CreateVector(o.in), b.CreateVector(o.out), opt.first,
                                             opt.second));
      }
      sgs.push_back(tflite::CreateSubGraph(b, b.CreateVector(ts), b.CreateVector(sub.inputs),
                                           b.CreateVector(sub.outputs), b.CreateVector(ops)));
    }
    std::vector<flatbuffers::Offset<tflite::OperatorCode>> oc;
    for (auto c : codes) oc.push_back(tflite::CreateOperatorCode(b, int8_t(std::min(int(c), 127)), 0, 1, c));
    auto model = tflite::CreateModel(b, 3, b.CreateVector(oc), b.CreateVector(sgs), b.CreateString("test"),
                                     b.CreateVector(buffers));
    tflite::FinishModelBuffer(b, model);
    return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  }

 private:
  struct T {
    std::vector<int> shape;
    tflite::TensorType type;
    std::string data;
    float scale;
    int64_t zp;
    std::vector<int> signature;
  };
  struct O {
    tflite::BuiltinOperator code;
    std::vector<int> in, out;
    Options options;
  };
  struct Sub {
    std::vector<T> tensors;
    std::vector<O> ops;
    std::vector<int> inputs, outputs;
  };
  std::vector<Sub> subs_;
};

}  // namespace kws::test
