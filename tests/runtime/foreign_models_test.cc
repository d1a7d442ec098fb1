// Models kws did not write: each test model is described as JSON and compiled with `flatc --binary`
// against the OFFICIAL TFLite schema (../shared/reference/tflite_schema.fbs; a temporary copy drops the
// `(deprecated)` attribute flatc 2.0.8 cannot parse), so the bytes come from an independent writer.
// Each model then runs in kws's runtime and in the official TFLite interpreter (WebAssembly build from
// npm @tensorflow/tfjs-tflite via tools/js/tflite_run.js) on the same inputs: float outputs within
// 1e-5, int8 outputs identical. Shapes follow TFLite Micro's examples (micro_speech, hello_world,
// person-detection MobileNet pieces), converter output (float I/O + QUANTIZE/DEQUANTIZE) and Keras KWS
// models (PAD, ADD, SUB, MUL, CONCATENATION, MAX_POOL, MEAN, LOGISTIC, TANH, RELU, RELU6, SQUEEZE), and
// format variants (two subgraphs, unused tensors, deprecated_builtin_code only, external buffers).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "runtime/interpreter.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"
#include "support/command.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using kws::rt::Interpreter;

using kws_test::RunForOutput;

// A model under construction in the official JSON form.
struct JsonModel {
  json buffers = json::array({json::object()});
  json tensors = json::array();
  json ops = json::array();
  json codes = json::array();
  std::vector<std::string> code_names;
  bool legacy_codes = false;  // write only deprecated_builtin_code (old converters)
  kws::Rng rng{7};

  int Buffer(const std::string& bytes) {
    json data = json::array();
    for (unsigned char c : bytes) data.push_back(int(c));
    buffers.push_back({{"data", data}});
    return int(buffers.size()) - 1;
  }
  int Tensor(const std::vector<int>& shape, const std::string& type, int buffer = 0, float scale = 0,
             int zp = 0, const std::string& name = "") {
    json t = {{"shape", shape}, {"type", type}, {"buffer", buffer}};
    if (!name.empty()) t["name"] = name;
    if (scale > 0) t["quantization"] = {{"scale", {scale}}, {"zero_point", {zp}}};
    tensors.push_back(t);
    return int(tensors.size()) - 1;
  }
  static int64_t Count(const std::vector<int>& shape) {
    int64_t n = 1;
    for (int d : shape) n *= d;
    return n;
  }
  int FloatConst(const std::vector<int>& shape, float lo, float hi) {
    std::string b;
    for (int64_t i = 0; i < Count(shape); ++i) {
      float v = lo + (hi - lo) * float(rng.Uniform());
      b.append(reinterpret_cast<const char*>(&v), 4);
    }
    return Tensor(shape, "FLOAT32", Buffer(b));
  }
  int Int32Const(const std::vector<int>& shape, const std::vector<int32_t>& values) {
    return Tensor(shape, "INT32", Buffer(std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4)));
  }
  // int8 weights in [-127, 127] with per-channel scales along `axis` (or one scale if axis < 0).
  int Int8Weights(const std::vector<int>& shape, int axis, float scale) {
    std::string b;
    for (int64_t i = 0; i < Count(shape); ++i) b.push_back(char(int(rng.Below(255)) - 127));
    json t = {{"shape", shape}, {"type", "INT8"}, {"buffer", Buffer(b)}};
    json s = json::array(), z = json::array();
    const int n = axis < 0 ? 1 : shape[size_t(axis)];
    for (int c = 0; c < n; ++c) {
      s.push_back(scale * (0.5 + rng.Uniform()));
      z.push_back(0);
    }
    t["quantization"] = {{"scale", s}, {"zero_point", z}, {"quantized_dimension", std::max(axis, 0)}};
    tensors.push_back(t);
    return int(tensors.size()) - 1;
  }
  // int32 bias with per-channel scale input_scale * weight_scale[c].
  int Int32Bias(int weights, float input_scale, int range) {
    const json& ws = tensors[size_t(weights)]["quantization"]["scale"];
    const int n = tensors[size_t(weights)]["quantization"]["quantized_dimension"].get<int>() == 0
                      ? tensors[size_t(weights)]["shape"][0].get<int>()
                      : tensors[size_t(weights)]["shape"][3].get<int>();
    std::vector<int32_t> v;
    json s = json::array(), z = json::array();
    for (int c = 0; c < n; ++c) v.push_back(int32_t(rng.Below(uint64_t(2 * range + 1))) - range);
    // Per-tensor weights get a per-tensor bias scale (TFLite checks it), per-channel ones one per channel.
    for (size_t c = 0; c < ws.size(); ++c) {
      s.push_back(input_scale * ws[c].get<float>());
      z.push_back(0);
    }
    json t = {{"shape", {n}},
              {"type", "INT32"},
              {"buffer", Buffer(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4))},
              {"quantization", {{"scale", s}, {"zero_point", z}}}};
    tensors.push_back(t);
    return int(tensors.size()) - 1;
  }
  int Code(const std::string& name, int builtin, int version = 1) {
    for (size_t i = 0; i < code_names.size(); ++i)
      if (code_names[i] == name) return int(i);
    code_names.push_back(name);
    if (legacy_codes)
      codes.push_back({{"deprecated_builtin_code", builtin}, {"version", version}});
    else
      codes.push_back({{"deprecated_builtin_code", std::min(builtin, 127)}, {"builtin_code", name}, {"version", version}});
    return int(codes.size()) - 1;
  }
  void Op(const std::string& name, int builtin, const std::vector<int>& in, const std::vector<int>& out,
          const std::string& options_type = "", const json& options = json::object()) {
    json o = {{"opcode_index", Code(name, builtin)}, {"inputs", in}, {"outputs", out}};
    if (!options_type.empty()) {
      o["builtin_options_type"] = options_type;
      o["builtin_options"] = options;
    }
    ops.push_back(o);
  }
  json Model(int input, int output, bool extra_subgraph = false) const {
    json sg = {{"tensors", tensors}, {"inputs", {input}}, {"outputs", {output}}, {"operators", ops}, {"name", "main"}};
    json subgraphs = json::array({sg});
    if (extra_subgraph) {
      // A second subgraph (as control-flow models carry), unreachable from subgraph 0.
      json t1 = {{"shape", {1, 4}}, {"type", "FLOAT32"}, {"buffer", 0}};
      subgraphs.push_back({{"tensors", {t1, t1}},
                           {"inputs", {0}},
                           {"outputs", {1}},
                           {"operators", {{{"opcode_index", 0}, {"inputs", {0}}, {"outputs", {1}}}}},
                           {"name", "other"}});
    }
    return {{"version", 3}, {"operator_codes", codes}, {"subgraphs", subgraphs},
            {"description", "flatc test model"}, {"buffers", buffers}};
  }
  // Control-flow models: `tensors`/`ops` so far become subgraph `s` of `subgraphs` (0 = the main graph),
  // and the lists start empty for the next one; buffers and op codes are shared.
  std::vector<json> subgraphs;
  void EndSubgraph(const std::vector<int>& inputs, const std::vector<int>& outputs) {
    subgraphs.push_back({{"tensors", tensors}, {"inputs", inputs}, {"outputs", outputs}, {"operators", ops}});
    tensors = json::array();
    ops = json::array();
  }
  json MultiModel() const {
    return {{"version", 3}, {"operator_codes", codes}, {"subgraphs", subgraphs}, {"description", "flatc test model"},
            {"buffers", buffers}};
  }
};

class ForeignModels : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path official = fs::path(KWS_SOURCE_DIR) / "../shared/reference/tflite_schema.fbs";
    if (!fs::exists(official)) GTEST_SKIP() << official << " not present (shared/ reference missing)";
    int st = 0;
    RunForOutput("flatc --version 2>&1", &st);
    if (st != 0) GTEST_SKIP() << "flatc not installed";
    dir_ = fs::temp_directory_path() / ("kws_foreign_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::string text = kws::ReadFile(official.string());
    text = std::regex_replace(text, std::regex(R"(\s*\(deprecated\))"), "");  // flatc 2.0.8 limitation
    kws::AtomicWriteFile((dir_ / "official.fbs").string(), text);
    js_ = fs::path(KWS_SOURCE_DIR) / "tools/js/tflite_run.js";
    RunForOutput("node --version 2>&1", &st);
    have_official_ = st == 0 && fs::exists(fs::path(KWS_SOURCE_DIR) / "tools/js/node_modules/@tensorflow/tfjs-tflite");
    have_litert_ = st == 0 && fs::exists(fs::path(KWS_SOURCE_DIR) / "tools/js/node_modules/@litertjs/core");
  }
  void TearDown() override {
    std::error_code ec;
    // KWS_KEEP_FOREIGN=1 keeps the compiled models (e.g. as fuzzing seeds).
    if (!dir_.empty() && !std::getenv("KWS_KEEP_FOREIGN")) fs::remove_all(dir_, ec);
  }

  // JSON -> .tflite bytes with flatc and the official schema.
  std::string Compile(const std::string& name, const json& model) {
    kws::AtomicWriteFile((dir_ / (name + ".json")).string(), model.dump());
    int st = 0;
    std::string log = RunForOutput("cd " + dir_.string() + " && flatc --binary official.fbs " + name + ".json 2>&1", &st);
    EXPECT_EQ(st, 0) << log;
    return kws::ReadFile((dir_ / (name + ".tflite")).string());
  }

  // Random raw input bytes for input 0 (float in [-2, 2] or any int8).
  static std::string Input(const kws::rt::TensorInfo& in, uint64_t seed) {
    kws::Rng rng(seed);
    std::string raw;
    for (int64_t i = 0; i < in.elements(); ++i) {
      if (in.type == kws::rt::DType::kInt8 || in.type == kws::rt::DType::kUInt8) {
        raw.push_back(char(int(rng.Below(256)) - 128));
      } else {
        float v = float(rng.Uniform() * 4.0 - 2.0);
        raw.append(reinterpret_cast<const char*>(&v), 4);
      }
    }
    return raw;
  }

  // Runs `bytes` in kws (both kernel sets) and in the official interpreter on `n` random inputs;
  // `official_bytes` (default: the same file) is what the official interpreter loads.
  void Compare(const std::string& name, const std::string& bytes, int n = 3, std::string official_bytes = "") {
    Interpreter it = Interpreter::FromBuffer(name + ".tflite", bytes);
    const auto in = it.input(0);
    const auto out = it.output(0);
    std::string batch;
    for (int s = 0; s < n; ++s) batch += Input(in, 100 + uint64_t(s));
    std::vector<double> mine[2];
    for (int k = 0; k < 2; ++k) {
      it.set_kernels(k == 0 ? kws::rt::KernelSet::kOptimized : kws::rt::KernelSet::kReference);
      for (int s = 0; s < n; ++s) {
        std::memcpy(it.input_data(0), batch.data() + size_t(s) * in.bytes, in.bytes);
        it.Invoke();
        for (int64_t i = 0; i < out.elements(); ++i)
          mine[k].push_back(Value(out, it.output_data(0), i));
      }
    }
    if (!have_official_) {
      std::printf("[%s] official interpreter unavailable (node or tools/js/node_modules missing): kws only\n",
                  name.c_str());
      return;
    }
    if (official_bytes.empty()) official_bytes = bytes;
    const fs::path mp = dir_ / (name + "_official.tflite"), ip = dir_ / (name + ".raw");
    kws::AtomicWriteFile(mp.string(), official_bytes);
    kws::AtomicWriteFile(ip.string(), batch);
    int st = 0;
    const std::string js = RunForOutput("node " + js_.string() + " " + mp.string() + " " + ip.string() + " 2>&1", &st);
    ASSERT_EQ(st, 0) << js;
    const json j = json::parse(js.substr(js.find('{')));
    const auto& vals = j["values"];
    ASSERT_EQ(vals.size(), mine[0].size()) << name;
    for (int k = 0; k < 2; ++k) {
      double max_diff = 0;
      int differ = 0;
      for (size_t i = 0; i < vals.size(); ++i) {
        const double d = std::fabs(vals[i].get<double>() - mine[k][i]);
        max_diff = std::max(max_diff, d);
        differ += d != 0;
      }
      std::printf("[%s %s] %s vs official: %d of %zu outputs differ, max diff %.3g\n", name.c_str(),
                  k == 0 ? "optimized" : "reference", kws::rt::DTypeName(out.type), differ, vals.size(), max_diff);
      if (out.type != kws::rt::DType::kFloat32)
        EXPECT_EQ(differ, 0) << name << (k == 0 ? " optimized" : " reference");
      else
        EXPECT_LE(max_diff, 1e-5) << name << (k == 0 ? " optimized" : " reference");
    }
  }

  static double Value(const kws::rt::TensorInfo& t, const void* data, int64_t i) {
    switch (t.type) {
      case kws::rt::DType::kInt8: return double(static_cast<const int8_t*>(data)[i]);
      case kws::rt::DType::kUInt8: case kws::rt::DType::kBool: return double(static_cast<const uint8_t*>(data)[i]);
      default: return double(static_cast<const float*>(data)[i]);
    }
  }

  // A streaming model: `steps` inputs in order through ONE kws interpreter (state carried over; both kernel
  // sets, the variables reset in between) and through LiteRT (tools/js/litert_run.js, which runs
  // resource variables); int8/uint8 outputs identical, float within 1e-5. Returns kws's outputs.
  std::vector<double> CompareLiteRt(const std::string& name, const std::string& bytes, int steps, uint64_t seed = 1) {
    Interpreter it = Interpreter::FromBuffer(name + ".tflite", bytes);
    const auto in = it.input(0), out = it.output(0);
    std::string batch;
    for (int s = 0; s < steps; ++s) batch += Input(in, seed + uint64_t(s));
    std::vector<double> mine[2];
    for (int k = 0; k < 2; ++k) {
      it.set_kernels(k == 0 ? kws::rt::KernelSet::kOptimized : kws::rt::KernelSet::kReference);
      it.ResetVariables();
      for (int s = 0; s < steps; ++s) {
        std::memcpy(it.input_data(0), batch.data() + size_t(s) * in.bytes, in.bytes);
        it.Invoke();
        for (int64_t i = 0; i < out.elements(); ++i) mine[k].push_back(Value(out, it.output_data(0), i));
      }
    }
    EXPECT_EQ(mine[0], mine[1]) << name << ": optimized and reference kernels differ";
    if (!have_litert_) {
      std::printf("[%s] LiteRT unavailable (tools/js/node_modules/@litertjs/core missing): kws only\n", name.c_str());
      return mine[0];
    }
    const fs::path mp = dir_ / (name + "_litert.tflite"), ip = dir_ / (name + "_steps.raw");
    kws::AtomicWriteFile(mp.string(), bytes);
    kws::AtomicWriteFile(ip.string(), batch);
    int st = 0;
    const std::string js = RunForOutput("node " + (js_.parent_path() / "litert_run.js").string() + " " + mp.string() + " " +
                                     ip.string() + " 2>&1", &st);
    EXPECT_EQ(st, 0) << js;
    if (st != 0) return mine[0];
    const auto vals = json::parse(js.substr(js.find('{')))["values"];
    EXPECT_EQ(vals.size(), mine[0].size()) << name;
    double max_diff = 0;
    int differ = 0;
    for (size_t i = 0; i < vals.size() && i < mine[0].size(); ++i) {
      const double d = std::fabs(vals[i].get<double>() - mine[0][i]);
      max_diff = std::max(max_diff, d);
      differ += d != 0;
    }
    std::printf("[%s] %d steps, %s vs LiteRT: %d of %zu outputs differ, max diff %.3g\n", name.c_str(), steps,
                kws::rt::DTypeName(out.type), differ, vals.size(), max_diff);
    if (out.type == kws::rt::DType::kFloat32) EXPECT_LE(max_diff, 1e-5) << name;
    else EXPECT_EQ(differ, 0) << name;
    return mine[0];
  }

  fs::path dir_, js_;
  bool have_official_ = false, have_litert_ = false;
};

// micro_speech: int8 in/out, DEPTHWISE_CONV_2D (8 filters 10x8, stride 2) + RESHAPE + FULLY_CONNECTED + SOFTMAX.
TEST_F(ForeignModels, MicroSpeechInt8) {
  JsonModel m;
  const float sx = 0.1f;
  int x = m.Tensor({1, 49, 40, 1}, "INT8", 0, sx, -128, "input");
  int w = m.Int8Weights({1, 10, 8, 8}, 3, 0.01f);
  int b = m.Int32Bias(w, sx, 2000);
  int h = m.Tensor({1, 25, 20, 8}, "INT8", 0, 0.05f, -128);
  m.Op("DEPTHWISE_CONV_2D", 4, {x, w, b}, {h}, "DepthwiseConv2DOptions",
       {{"padding", "SAME"}, {"stride_w", 2}, {"stride_h", 2}, {"depth_multiplier", 8}, {"fused_activation_function", "RELU"}});
  int shape = m.Int32Const({2}, {1, 4000});
  int r = m.Tensor({1, 4000}, "INT8", 0, 0.05f, -128);
  m.Op("RESHAPE", 22, {h, shape}, {r}, "ReshapeOptions", {{"new_shape", {1, 4000}}});
  int fw = m.Int8Weights({4, 4000}, -1, 0.002f);
  int fb = m.Int32Bias(fw, 0.05f, 500);
  int f = m.Tensor({1, 4}, "INT8", 0, 0.2f, 10);
  m.Op("FULLY_CONNECTED", 9, {r, fw, fb}, {f}, "FullyConnectedOptions", json::object());
  int y = m.Tensor({1, 4}, "INT8", 0, 1.0f / 256, -128, "output");
  m.Op("SOFTMAX", 25, {f}, {y}, "SoftmaxOptions", {{"beta", 1.0}});
  Compare("micro_speech", Compile("micro_speech", m.Model(x, y)));
}

// hello_world: FULLY_CONNECTED chains, float and int8.
TEST_F(ForeignModels, HelloWorldFloatAndInt8) {
  {
    JsonModel m;
    int x = m.Tensor({1, 1}, "FLOAT32", 0, 0, 0, "x");
    int a = m.Tensor({1, 16}, "FLOAT32"), c = m.Tensor({1, 16}, "FLOAT32"), y = m.Tensor({1, 1}, "FLOAT32", 0, 0, 0, "y");
    m.Op("FULLY_CONNECTED", 9, {x, m.FloatConst({16, 1}, -1, 1), m.FloatConst({16}, -1, 1)}, {a}, "FullyConnectedOptions",
         {{"fused_activation_function", "RELU"}});
    m.Op("FULLY_CONNECTED", 9, {a, m.FloatConst({16, 16}, -1, 1), m.FloatConst({16}, -1, 1)}, {c},
         "FullyConnectedOptions", {{"fused_activation_function", "RELU"}});
    m.Op("FULLY_CONNECTED", 9, {c, m.FloatConst({1, 16}, -1, 1), -1}, {y}, "FullyConnectedOptions", json::object());
    Compare("hello_world_float", Compile("hello_world_float", m.Model(x, y)), 8);
  }
  {
    JsonModel m;
    int x = m.Tensor({1, 1}, "INT8", 0, 0.025f, -128, "x");
    int a = m.Tensor({1, 16}, "INT8", 0, 0.02f, -128), c = m.Tensor({1, 16}, "INT8", 0, 0.03f, -128);
    int y = m.Tensor({1, 1}, "INT8", 0, 0.01f, 3, "y");
    int w1 = m.Int8Weights({16, 1}, -1, 0.01f), w2 = m.Int8Weights({16, 16}, -1, 0.005f), w3 = m.Int8Weights({1, 16}, -1, 0.005f);
    m.Op("FULLY_CONNECTED", 9, {x, w1, m.Int32Bias(w1, 0.025f, 300)}, {a}, "FullyConnectedOptions",
         {{"fused_activation_function", "RELU"}});
    m.Op("FULLY_CONNECTED", 9, {a, w2, m.Int32Bias(w2, 0.02f, 300)}, {c}, "FullyConnectedOptions",
         {{"fused_activation_function", "RELU"}});
    m.Op("FULLY_CONNECTED", 9, {c, w3, m.Int32Bias(w3, 0.03f, 300)}, {y}, "FullyConnectedOptions", json::object());
    Compare("hello_world_int8", Compile("hello_world_int8", m.Model(x, y)), 8);
  }
}

// Person-detection-like MobileNet piece: CONV_2D + DEPTHWISE_CONV_2D + 1x1 CONV_2D + AVERAGE_POOL_2D +
// RESHAPE + SOFTMAX, float and int8.
TEST_F(ForeignModels, MobileNetPieceFloatAndInt8) {
  for (bool int8 : {false, true}) {
    JsonModel m;
    const std::string T = int8 ? "INT8" : "FLOAT32";
    auto act = [&](const std::vector<int>& s, float scale, int zp, const std::string& nm = "") {
      return m.Tensor(s, T, 0, int8 ? scale : 0, zp, nm);
    };
    auto weights = [&](const std::vector<int>& s, int axis, float scale) {
      return int8 ? m.Int8Weights(s, axis, scale) : m.FloatConst(s, -0.5f, 0.5f);
    };
    auto bias = [&](int w, float in_scale, int n) {
      return int8 ? m.Int32Bias(w, in_scale, 200) : m.FloatConst({n}, -0.1f, 0.1f);
    };
    int x = act({1, 24, 24, 1}, 0.02f, 0, "image");
    int w1 = weights({8, 3, 3, 1}, 0, 0.01f);
    int c1 = act({1, 12, 12, 8}, 0.03f, -128);
    m.Op("CONV_2D", 3, {x, w1, bias(w1, 0.02f, 8)}, {c1}, "Conv2DOptions",
         {{"padding", "SAME"}, {"stride_w", 2}, {"stride_h", 2}, {"fused_activation_function", "RELU6"}});
    int w2 = weights({1, 3, 3, 8}, 3, 0.02f);
    int c2 = act({1, 12, 12, 8}, 0.04f, -128);
    m.Op("DEPTHWISE_CONV_2D", 4, {c1, w2, bias(w2, 0.03f, 8)}, {c2}, "DepthwiseConv2DOptions",
         {{"padding", "SAME"}, {"stride_w", 1}, {"stride_h", 1}, {"depth_multiplier", 1},
          {"fused_activation_function", "RELU6"}});
    int w3 = weights({16, 1, 1, 8}, 0, 0.02f);
    int c3 = act({1, 12, 12, 16}, 0.05f, -10);
    m.Op("CONV_2D", 3, {c2, w3, bias(w3, 0.04f, 16)}, {c3}, "Conv2DOptions",
         {{"padding", "VALID"}, {"stride_w", 1}, {"stride_h", 1}});
    int p = act({1, 1, 1, 16}, 0.05f, -10);
    m.Op("AVERAGE_POOL_2D", 1, {c3}, {p}, "Pool2DOptions",
         {{"padding", "VALID"}, {"stride_w", 12}, {"stride_h", 12}, {"filter_width", 12}, {"filter_height", 12}});
    int r = act({1, 16}, 0.05f, -10);
    m.Op("RESHAPE", 22, {p, m.Int32Const({2}, {1, 16})}, {r}, "ReshapeOptions", {{"new_shape", {1, 16}}});
    int y = act({1, 16}, 1.0f / 256, -128, "probs");
    m.Op("SOFTMAX", 25, {r}, {y}, "SoftmaxOptions", {{"beta", 1.0}});
    const std::string name = int8 ? "mobilenet_int8" : "mobilenet_float";
    Compare(name, Compile(name, m.Model(x, y)));
  }
}

// Converter-style full-integer model with float I/O: QUANTIZE -> CONV_2D -> MEAN -> FC -> DEQUANTIZE.
TEST_F(ForeignModels, ConverterFloatIoWithQuantizeDequantize) {
  JsonModel m;
  int x = m.Tensor({1, 10, 8, 1}, "FLOAT32", 0, 0, 0, "serving_default_input:0");
  int q = m.Tensor({1, 10, 8, 1}, "INT8", 0, 0.016f, 2);
  m.Op("QUANTIZE", 114, {x}, {q});
  int w = m.Int8Weights({6, 3, 3, 1}, 0, 0.01f);
  int c = m.Tensor({1, 10, 8, 6}, "INT8", 0, 0.02f, -128);
  m.Op("CONV_2D", 3, {q, w, m.Int32Bias(w, 0.016f, 300)}, {c}, "Conv2DOptions",
       {{"padding", "SAME"}, {"stride_w", 1}, {"stride_h", 1}, {"fused_activation_function", "RELU"}});
  int g = m.Tensor({1, 6}, "INT8", 0, 0.01f, -128);
  m.Op("MEAN", 40, {c, m.Int32Const({2}, {1, 2})}, {g}, "ReducerOptions", {{"keep_dims", false}});
  int fw = m.Int8Weights({3, 6}, -1, 0.01f);
  int f = m.Tensor({1, 3}, "INT8", 0, 0.005f, 0);
  m.Op("FULLY_CONNECTED", 9, {g, fw, m.Int32Bias(fw, 0.01f, 100)}, {f}, "FullyConnectedOptions", json::object());
  int y = m.Tensor({1, 3}, "FLOAT32", 0, 0, 0, "StatefulPartitionedCall:0");
  m.Op("DEQUANTIZE", 6, {f}, {y});
  Compare("converter_float_io", Compile("converter_float_io", m.Model(x, y)));
}

// Keras KWS ops, float: PAD, CONV_2D, MAX_POOL_2D, LOGISTIC, TANH, ADD, SUB, MUL (broadcast),
// CONCATENATION, RELU, RELU6, MEAN, SQUEEZE.
TEST_F(ForeignModels, KerasOpsFloat) {
  JsonModel m;
  int x = m.Tensor({1, 8, 6, 2}, "FLOAT32", 0, 0, 0, "x");
  int p = m.Tensor({1, 10, 8, 2}, "FLOAT32");
  m.Op("PAD", 34, {x, m.Int32Const({4, 2}, {0, 0, 1, 1, 1, 1, 0, 0})}, {p}, "PadOptions", json::object());
  int c = m.Tensor({1, 8, 6, 4}, "FLOAT32");
  m.Op("CONV_2D", 3, {p, m.FloatConst({4, 3, 3, 2}, -0.5f, 0.5f), m.FloatConst({4}, -0.1f, 0.1f)}, {c}, "Conv2DOptions",
       {{"padding", "VALID"}, {"stride_w", 1}, {"stride_h", 1}});
  int mp = m.Tensor({1, 4, 3, 4}, "FLOAT32");
  m.Op("MAX_POOL_2D", 17, {c}, {mp}, "Pool2DOptions",
       {{"padding", "VALID"}, {"stride_w", 2}, {"stride_h", 2}, {"filter_width", 2}, {"filter_height", 2}});
  int s = m.Tensor({1, 4, 3, 4}, "FLOAT32"), t = m.Tensor({1, 4, 3, 4}, "FLOAT32");
  m.Op("LOGISTIC", 14, {mp}, {s});
  m.Op("TANH", 28, {mp}, {t});
  int a = m.Tensor({1, 4, 3, 4}, "FLOAT32");
  m.Op("ADD", 0, {s, t}, {a}, "AddOptions", {{"fused_activation_function", "RELU"}});
  int mu = m.Tensor({1, 4, 3, 4}, "FLOAT32");
  m.Op("MUL", 18, {a, m.FloatConst({4}, -2, 2)}, {mu}, "MulOptions", json::object());  // per-channel broadcast
  int su = m.Tensor({1, 4, 3, 4}, "FLOAT32");
  m.Op("SUB", 41, {mu, t}, {su}, "SubOptions", json::object());
  int cat = m.Tensor({1, 4, 3, 8}, "FLOAT32");
  m.Op("CONCATENATION", 2, {su, s}, {cat}, "ConcatenationOptions", {{"axis", 3}});
  int r6 = m.Tensor({1, 4, 3, 8}, "FLOAT32"), r = m.Tensor({1, 4, 3, 8}, "FLOAT32");
  m.Op("RELU6", 21, {cat}, {r6});
  m.Op("RELU", 19, {r6}, {r});
  int mean = m.Tensor({1, 1, 1, 8}, "FLOAT32");
  m.Op("MEAN", 40, {r, m.Int32Const({2}, {1, 2})}, {mean}, "ReducerOptions", {{"keep_dims", true}});
  int y = m.Tensor({1, 8}, "FLOAT32", 0, 0, 0, "y");
  m.Op("SQUEEZE", 43, {mean}, {y}, "SqueezeOptions", {{"squeeze_dims", {1, 2}}});
  Compare("keras_float", Compile("keras_float", m.Model(x, y)), 4);
}

// The same ops in int8 (quantization chosen as the converter would: LOGISTIC 1/256 & -128, TANH 1/128 & 0,
// CONCATENATION/PAD/MAX_POOL keep their input's quantization).
TEST_F(ForeignModels, KerasOpsInt8) {
  JsonModel m;
  const float sx = 0.02f;
  int x = m.Tensor({1, 8, 6, 2}, "INT8", 0, sx, 5, "x");
  int p = m.Tensor({1, 10, 8, 2}, "INT8", 0, sx, 5);
  m.Op("PAD", 34, {x, m.Int32Const({4, 2}, {0, 0, 1, 1, 1, 1, 0, 0})}, {p}, "PadOptions", json::object());
  int w = m.Int8Weights({4, 3, 3, 2}, 0, 0.01f);
  int c = m.Tensor({1, 8, 6, 4}, "INT8", 0, 0.03f, -3);
  m.Op("CONV_2D", 3, {p, w, m.Int32Bias(w, sx, 300)}, {c}, "Conv2DOptions",
       {{"padding", "VALID"}, {"stride_w", 1}, {"stride_h", 1}});
  int mp = m.Tensor({1, 4, 3, 4}, "INT8", 0, 0.03f, -3);
  m.Op("MAX_POOL_2D", 17, {c}, {mp}, "Pool2DOptions",
       {{"padding", "VALID"}, {"stride_w", 2}, {"stride_h", 2}, {"filter_width", 2}, {"filter_height", 2}});
  int s = m.Tensor({1, 4, 3, 4}, "INT8", 0, 1.0f / 256, -128), t = m.Tensor({1, 4, 3, 4}, "INT8", 0, 1.0f / 128, 0);
  m.Op("LOGISTIC", 14, {mp}, {s});
  m.Op("TANH", 28, {mp}, {t});
  int a = m.Tensor({1, 4, 3, 4}, "INT8", 0, 0.012f, -100);
  m.Op("ADD", 0, {s, t}, {a}, "AddOptions", {{"fused_activation_function", "RELU"}});
  int mu = m.Tensor({1, 4, 3, 4}, "INT8", 0, 0.02f, 4);
  int k = m.Tensor({4}, "INT8", m.Buffer(std::string("\x40\xc0\x7f\x10", 4)), 0.015f, 0);
  m.Op("MUL", 18, {a, k}, {mu}, "MulOptions", json::object());
  int su = m.Tensor({1, 4, 3, 4}, "INT8", 0, 0.025f, 1);
  m.Op("SUB", 41, {mu, t}, {su}, "SubOptions", json::object());
  int su2 = m.Tensor({1, 4, 3, 4}, "INT8", 0, 0.025f, 1);
  m.Op("RELU6", 21, {su}, {su2});
  int cat = m.Tensor({1, 4, 3, 8}, "INT8", 0, 0.025f, 1);
  m.Op("CONCATENATION", 2, {su2, su}, {cat}, "ConcatenationOptions", {{"axis", -1}});
  int r = m.Tensor({1, 4, 3, 8}, "INT8", 0, 0.02f, -128);
  m.Op("RELU", 19, {cat}, {r});
  int y = m.Tensor({1, 4, 3, 8}, "INT8", 0, 0.02f, -128, "y");
  m.Op("MAX_POOL_2D", 17, {r}, {y}, "Pool2DOptions",
       {{"padding", "SAME"}, {"stride_w", 1}, {"stride_h", 1}, {"filter_width", 1}, {"filter_height", 1}});
  Compare("keras_int8", Compile("keras_int8", m.Model(x, y)), 4);
}

// Format variants: two subgraphs, an unused tensor, op codes only in deprecated_builtin_code.
TEST_F(ForeignModels, SubgraphsUnusedTensorsLegacyOpcodes) {
  JsonModel m;
  m.legacy_codes = true;
  int x = m.Tensor({1, 4}, "FLOAT32", 0, 0, 0, "x");
  m.Tensor({3, 3}, "FLOAT32");          // never referenced
  m.FloatConst({7}, 0, 1);              // constant nobody reads
  int h = m.Tensor({1, 4}, "FLOAT32");
  m.Op("LOGISTIC", 14, {x}, {h});
  int y = m.Tensor({1, 3}, "FLOAT32", 0, 0, 0, "y");
  m.Op("FULLY_CONNECTED", 9, {h, m.FloatConst({3, 4}, -1, 1), m.FloatConst({3}, -1, 1)}, {y}, "FullyConnectedOptions",
       {{"fused_activation_function", "TANH"}});
  std::string bytes = Compile("format", m.Model(x, y, /*extra_subgraph=*/true));
  // TANH as a fused activation is not something kws runs: clear error.
  try {
    Interpreter::FromBuffer("format.tflite", bytes);
    FAIL() << "expected an error";
  } catch (const kws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("format.tflite: operator 1 (FULLY_CONNECTED): fused activation 4"),
              std::string::npos) << e.what();
  }
  m.ops[1]["builtin_options"]["fused_activation_function"] = "RELU";
  Compare("format", Compile("format", m.Model(x, y, true)), 4);
}

// Large-model layout: buffer data stored after the FlatBuffer, addressed by offset/size from the start
// of the file. kws must read it; the official interpreter gets the same model with inline buffers.
TEST_F(ForeignModels, ExternalBufferOffsets) {
  JsonModel m;
  int x = m.Tensor({1, 6}, "FLOAT32", 0, 0, 0, "x");
  int y = m.Tensor({1, 5}, "FLOAT32", 0, 0, 0, "y");
  const int wt = m.FloatConst({5, 6}, -1, 1), bt = m.FloatConst({5}, -1, 1);
  m.Op("FULLY_CONNECTED", 9, {x, wt, bt}, {y}, "FullyConnectedOptions", json::object());
  const std::string inline_bytes = Compile("inline", m.Model(x, y));

  JsonModel e = m;
  std::string blobs;
  std::vector<std::pair<size_t, size_t>> places;  // (offset in blobs, size) per buffer index
  for (size_t b = 1; b < e.buffers.size(); ++b) {
    std::string data;
    for (const auto& v : e.buffers[b]["data"]) data.push_back(char(v.get<int>()));
    while (blobs.size() % 16) blobs.push_back('\0');
    places.emplace_back(blobs.size(), data.size());
    blobs += data;
    e.buffers[b] = {{"offset", 1000000}, {"size", data.size()}};  // placeholder: same encoded size
  }
  const size_t fb_size = Compile("external", e.Model(x, y)).size();
  const size_t base = (fb_size + 15) / 16 * 16;
  for (size_t b = 1; b < e.buffers.size(); ++b) e.buffers[b]["offset"] = base + places[b - 1].first;
  std::string bytes = Compile("external", e.Model(x, y));
  ASSERT_EQ(bytes.size(), fb_size);
  bytes.resize(base, '\0');
  bytes += blobs;
  Compare("external_buffers", bytes, 4, inline_bytes);

  // An offset past the end of the file is a clear error, not a crash.
  std::string truncated = bytes.substr(0, base + 8);
  try {
    Interpreter::FromBuffer("ext.tflite", truncated);
    FAIL() << "expected an error";
  } catch (const kws::Error& err) {
    EXPECT_NE(std::string(err.what()).find("lies outside the"), std::string::npos) << err.what();
  }
}

// uint8 at the graph edges (converter option inference_input/output_type = tf.uint8): uint8 input ->
// QUANTIZE -> int8 FULLY_CONNECTED -> QUANTIZE -> uint8 output; and float -> QUANTIZE(uint8) ->
// DEQUANTIZE -> float.
TEST_F(ForeignModels, Uint8InputOutputThroughQuantize) {
  {
    JsonModel m;
    int x = m.Tensor({1, 8}, "UINT8", 0, 0.05f, 128, "x");
    int q = m.Tensor({1, 8}, "INT8", 0, 0.05f, 0);
    m.Op("QUANTIZE", 114, {x}, {q});
    int w = m.Int8Weights({5, 8}, -1, 0.01f);
    int f = m.Tensor({1, 5}, "INT8", 0, 0.01f, -7);
    m.Op("FULLY_CONNECTED", 9, {q, w, m.Int32Bias(w, 0.05f, 300)}, {f}, "FullyConnectedOptions", json::object());
    int y = m.Tensor({1, 5}, "UINT8", 0, 0.013f, 121, "y");
    m.Op("QUANTIZE", 114, {f}, {y});
    const std::string bytes = Compile("uint8_io", m.Model(x, y));
    Interpreter it = Interpreter::FromBuffer("uint8_io.tflite", bytes);
    EXPECT_EQ(it.input(0).type, kws::rt::DType::kUInt8);
    EXPECT_EQ(it.input(0).zero_point, 128);
    EXPECT_EQ(it.output(0).type, kws::rt::DType::kUInt8);
    Compare("uint8_io", bytes, 6);
    // `kws invoke` prints the uint8 output values (0..255) the library computes.
    const std::string raw = Input(it.input(0), 7);
    const fs::path mp = dir_ / "uint8_io_cli.tflite", ip = dir_ / "uint8_io_cli.raw";
    kws::AtomicWriteFile(mp.string(), bytes);
    kws::AtomicWriteFile(ip.string(), raw);
    std::memcpy(it.input_data(0), raw.data(), raw.size());
    it.Invoke();
    json want = json::array();
    for (int i = 0; i < 5; ++i) want.push_back(int(static_cast<const uint8_t*>(it.output_data(0))[i]));
    int st = 0;
    const std::string cli =
        RunForOutput(std::string(KWS_BINARY) + " invoke --model " + mp.string() + " --input-raw " + ip.string(), &st);
    ASSERT_EQ(st, 0) << cli;
    EXPECT_EQ(json::parse(cli), want) << cli;
  }
  {
    JsonModel m;
    int x = m.Tensor({1, 16}, "FLOAT32", 0, 0, 0, "x");
    int q = m.Tensor({1, 16}, "UINT8", 0, 0.02f, 100);
    m.Op("QUANTIZE", 114, {x}, {q});
    int y = m.Tensor({1, 16}, "FLOAT32", 0, 0, 0, "y");
    m.Op("DEQUANTIZE", 6, {q}, {y});
    Compare("uint8_roundtrip", Compile("uint8_roundtrip", m.Model(x, y)), 6);
  }
}

// Converter float16 quantization: FLOAT16 constant weights/biases, each through DEQUANTIZE to float32
// feeding CONV_2D and FULLY_CONNECTED.
TEST_F(ForeignModels, Float16WeightsThroughDequantize) {
  JsonModel m;
  auto half_const = [&](const std::vector<int>& shape) {
    std::string b;
    for (int64_t i = 0; i < JsonModel::Count(shape); ++i) {
      // sign, exponent 8..15 (values ~2^-7..1), random mantissa; every 97th a subnormal.
      uint16_t h = uint16_t((m.rng.Below(2) << 15) | ((8 + m.rng.Below(8)) << 10) | m.rng.Below(1024));
      if (i % 97 == 5) h = uint16_t(m.rng.Below(1024));
      b.push_back(char(h & 0xff));
      b.push_back(char(h >> 8));
    }
    int h16 = m.Tensor(shape, "FLOAT16", m.Buffer(b));
    int f32 = m.Tensor(shape, "FLOAT32");
    m.Op("DEQUANTIZE", 6, {h16}, {f32});
    return f32;
  };
  int x = m.Tensor({1, 6, 5, 2}, "FLOAT32", 0, 0, 0, "x");
  int cw = half_const({3, 3, 3, 2}), cb = half_const({3});
  int c = m.Tensor({1, 6, 5, 3}, "FLOAT32");
  m.Op("CONV_2D", 3, {x, cw, cb}, {c}, "Conv2DOptions",
       {{"padding", "SAME"}, {"stride_w", 1}, {"stride_h", 1}, {"fused_activation_function", "RELU"}});
  int fw = half_const({4, 90}), fb = half_const({4});
  int y = m.Tensor({1, 4}, "FLOAT32", 0, 0, 0, "y");
  m.Op("FULLY_CONNECTED", 9, {c, fw, fb}, {y}, "FullyConnectedOptions", json::object());
  const std::string bytes = Compile("float16", m.Model(x, y));
  Interpreter it = Interpreter::FromBuffer("float16.tflite", bytes);
  EXPECT_EQ(it.model_kind(), "float32");
  Compare("float16", bytes, 4);
}

// Legacy uint8 quantized model (TF1 quantization-aware training style): uint8 activations and weights
// with non-zero weight zero points, per-tensor; CONV_2D + DEPTHWISE_CONV_2D + AVERAGE_POOL_2D + RESHAPE +
// FULLY_CONNECTED + SOFTMAX, plus MAX_POOL_2D and CONCATENATION.
TEST_F(ForeignModels, LegacyUint8Model) {
  JsonModel m;
  auto u8w = [&](const std::vector<int>& shape, float scale, int zp) {
    std::string b;
    for (int64_t i = 0; i < JsonModel::Count(shape); ++i) b.push_back(char(m.rng.Below(256)));
    return m.Tensor(shape, "UINT8", m.Buffer(b), scale, zp);
  };
  auto bias = [&](int n, float scale) {
    std::vector<int32_t> v;
    for (int c = 0; c < n; ++c) v.push_back(int32_t(m.rng.Below(4001)) - 2000);
    return m.Tensor({n}, "INT32", m.Buffer(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4)), scale, 0);
  };
  const float sx = 0.02f, s1 = 0.05f, s2 = 0.04f, s3 = 0.03f;
  int x = m.Tensor({1, 12, 12, 2}, "UINT8", 0, sx, 128, "input");
  int w1 = u8w({6, 3, 3, 2}, 0.004f, 121);
  int c1 = m.Tensor({1, 6, 6, 6}, "UINT8", 0, s1, 0);
  m.Op("CONV_2D", 3, {x, w1, bias(6, sx * 0.004f)}, {c1}, "Conv2DOptions",
       {{"padding", "SAME"}, {"stride_w", 2}, {"stride_h", 2}, {"fused_activation_function", "RELU6"}});
  int w2 = u8w({1, 3, 3, 6}, 0.01f, 140);
  int c2 = m.Tensor({1, 6, 6, 6}, "UINT8", 0, s2, 0);
  m.Op("DEPTHWISE_CONV_2D", 4, {c1, w2, bias(6, s1 * 0.01f)}, {c2}, "DepthwiseConv2DOptions",
       {{"padding", "SAME"}, {"stride_w", 1}, {"stride_h", 1}, {"depth_multiplier", 1},
        {"fused_activation_function", "RELU6"}});
  int mp = m.Tensor({1, 6, 6, 6}, "UINT8", 0, s2, 0);
  m.Op("MAX_POOL_2D", 17, {c2}, {mp}, "Pool2DOptions",
       {{"padding", "SAME"}, {"stride_w", 1}, {"stride_h", 1}, {"filter_width", 2}, {"filter_height", 2}});
  int cat = m.Tensor({1, 6, 6, 12}, "UINT8", 0, s2, 0);
  m.Op("CONCATENATION", 2, {c2, mp}, {cat}, "ConcatenationOptions", {{"axis", 3}});
  int ap = m.Tensor({1, 1, 1, 12}, "UINT8", 0, s2, 0);
  m.Op("AVERAGE_POOL_2D", 1, {cat}, {ap}, "Pool2DOptions",
       {{"padding", "VALID"}, {"stride_w", 6}, {"stride_h", 6}, {"filter_width", 6}, {"filter_height", 6}});
  int r = m.Tensor({1, 12}, "UINT8", 0, s2, 0);
  m.Op("RESHAPE", 22, {ap, m.Int32Const({2}, {1, 12})}, {r}, "ReshapeOptions", {{"new_shape", {1, 12}}});
  int fw = u8w({5, 12}, 0.02f, 118);
  int f = m.Tensor({1, 5}, "UINT8", 0, s3 * 4, 130);
  m.Op("FULLY_CONNECTED", 9, {r, fw, bias(5, s2 * 0.02f)}, {f}, "FullyConnectedOptions", json::object());
  int y = m.Tensor({1, 5}, "UINT8", 0, 1.0f / 256, 0, "probs");
  m.Op("SOFTMAX", 25, {f}, {y}, "SoftmaxOptions", {{"beta", 1.0}});
  const std::string bytes = Compile("uint8_legacy", m.Model(x, y));
  Interpreter it = Interpreter::FromBuffer("uint8_legacy.tflite", bytes);
  EXPECT_EQ(it.input(0).type, kws::rt::DType::kUInt8);
  EXPECT_EQ(it.input(0).zero_point, 128);
  EXPECT_EQ(it.output(0).type, kws::rt::DType::kUInt8);
  Compare("uint8_legacy", bytes, 6);
  // RunFloat quantizes with the uint8 parameters and gives probabilities.
  std::vector<float> feat(size_t(it.input(0).elements()), 0.3f);
  std::vector<float> p = it.RunFloat(feat.data());
  float sum = 0;
  for (float v : p) sum += v;
  EXPECT_NEAR(sum, 1.0f, 0.03f);
}

// What kws still refuses, refuses clearly.
TEST_F(ForeignModels, UnsupportedOpsAndTypesNamed) {
  {
    JsonModel m;
    int x = m.Tensor({1, 4}, "FLOAT32"), y = m.Tensor({1, 4}, "FLOAT32");
    m.Op("ROUND", 116, {x}, {y});
    try {
      Interpreter::FromBuffer("model.tflite", Compile("round", m.Model(x, y)));
      FAIL() << "expected an error";
    } catch (const kws::Error& e) {
      EXPECT_NE(std::string(e.what()).find("model.tflite: operator 0: unknown operator (builtin 116) is not supported"),
                std::string::npos) << e.what();
    }
  }
  {
    JsonModel m;
    int x = m.Tensor({1, 4}, "FLOAT16"), y = m.Tensor({1, 4}, "FLOAT32");
    m.Op("DEQUANTIZE", 6, {x}, {y});
    try {
      Interpreter::FromBuffer("half.tflite", Compile("f16", m.Model(x, y)));
      FAIL() << "expected an error";
    } catch (const kws::Error& e) {
      EXPECT_NE(std::string(e.what()).find("half.tflite: tensor 0 '': float16 activations are not supported"),
                std::string::npos) << e.what();
    }
  }
}


// ---- operators of microWakeWord and openWakeWord models, control flow, state ----------------------

// microWakeWord's building blocks in int8 (a streaming state kept as a constant here): RESHAPE,
// CONCATENATION, SPLIT_V, STRIDED_SLICE (begin/end masks), DEPTHWISE_CONV_2D, CONV_2D, FULLY_CONNECTED,
// LOGISTIC and QUANTIZE to uint8.
TEST_F(ForeignModels, MicroWakeWordOpsInt8) {
  JsonModel m;
  const float s0 = 0.1f;
  int x = m.Tensor({1, 3, 40}, "INT8", 0, s0, -128, "input");
  int x4 = m.Tensor({1, 3, 1, 40}, "INT8", 0, s0, -128);
  m.Op("RESHAPE", 22, {x, m.Int32Const({4}, {1, 3, 1, 40})}, {x4}, "ReshapeOptions", {{"new_shape", {1, 3, 1, 40}}});
  std::string state_bytes;
  for (int i = 0; i < 80; ++i) state_bytes.push_back(char(int(m.rng.Below(256)) - 128));
  int state = m.Tensor({1, 2, 1, 40}, "INT8", m.Buffer(state_bytes), s0, -128);
  int c = m.Tensor({1, 5, 1, 40}, "INT8", 0, s0, -128);
  m.Op("CONCATENATION", 2, {state, x4}, {c}, "ConcatenationOptions", {{"axis", 1}});
  int a = m.Tensor({1, 5, 1, 20}, "INT8", 0, s0, -128), b = m.Tensor({1, 5, 1, 20}, "INT8", 0, s0, -128);
  m.Op("SPLIT_V", 102, {c, m.Int32Const({2}, {20, 20}), m.Int32Const({}, {3})}, {a, b}, "SplitVOptions",
       {{"num_splits", 2}});
  int sl = m.Tensor({1, 4, 1, 20}, "INT8", 0, s0, -128);
  m.Op("STRIDED_SLICE", 45, {a, m.Int32Const({4}, {0, 1, 0, 0}), m.Int32Const({4}, {0, 0, 0, 0}),
                             m.Int32Const({4}, {1, 1, 1, 1})},
       {sl}, "StridedSliceOptions", {{"begin_mask", 13}, {"end_mask", 15}});
  int dww = m.Int8Weights({1, 5, 1, 20}, 3, 0.02f);
  int dw = m.Tensor({1, 1, 1, 20}, "INT8", 0, 0.05f, -10);
  m.Op("DEPTHWISE_CONV_2D", 4, {b, dww, m.Int32Bias(dww, s0, 300)}, {dw}, "DepthwiseConv2DOptions",
       {{"padding", "VALID"}, {"stride_w", 1}, {"stride_h", 1}, {"depth_multiplier", 1}});
  int cw = m.Int8Weights({20, 4, 1, 20}, 0, 0.005f);
  int cv = m.Tensor({1, 1, 1, 20}, "INT8", 0, 0.05f, -10);
  m.Op("CONV_2D", 3, {sl, cw, m.Int32Bias(cw, s0, 300)}, {cv}, "Conv2DOptions",
       {{"padding", "VALID"}, {"stride_w", 1}, {"stride_h", 1}, {"fused_activation_function", "RELU"}});
  int cat = m.Tensor({1, 1, 1, 40}, "INT8", 0, 0.05f, -10);
  m.Op("CONCATENATION", 2, {dw, cv}, {cat}, "ConcatenationOptions", {{"axis", -1}});
  int r = m.Tensor({1, 40}, "INT8", 0, 0.05f, -10);
  m.Op("RESHAPE", 22, {cat, m.Int32Const({2}, {1, 40})}, {r}, "ReshapeOptions", {{"new_shape", {1, 40}}});
  int fw = m.Int8Weights({4, 40}, -1, 0.01f);
  int f = m.Tensor({1, 4}, "INT8", 0, 0.15f, 46);
  m.Op("FULLY_CONNECTED", 9, {r, fw, m.Int32Bias(fw, 0.05f, 200)}, {f}, "FullyConnectedOptions", json::object());
  int lg = m.Tensor({1, 4}, "INT8", 0, 1.0f / 256, -128);
  m.Op("LOGISTIC", 14, {f}, {lg});
  int y = m.Tensor({1, 4}, "UINT8", 0, 1.0f / 256, 0, "probability");
  m.Op("QUANTIZE", 114, {lg}, {y});
  Compare("micro_wake_word_ops", Compile("micro_wake_word_ops", m.Model(x, y)), 8);
}

// Dilated CONV_2D and DEPTHWISE_CONV_2D (depth multiplier 2), float and int8, dense and pruned (the
// sparse kernel).
TEST_F(ForeignModels, DilatedConvolutionsFloatAndInt8) {
  for (bool int8 : {false, true})
    for (bool pruned : {false, true}) {
      JsonModel m;
      const std::string T = int8 ? "INT8" : "FLOAT32";
      int x = m.Tensor({1, 12, 10, 3}, T, 0, int8 ? 0.05f : 0, 2, "x");
      int w = int8 ? m.Int8Weights({8, 3, 3, 3}, 0, 0.01f) : m.FloatConst({8, 3, 3, 3}, -0.5f, 0.5f);
      if (pruned) {  // 90 % zeros
        std::string data;
        for (const auto& v : m.buffers[m.tensors[size_t(w)]["buffer"].get<size_t>()]["data"]) data.push_back(char(v.get<int>()));
        const size_t es = int8 ? 1 : 4;
        for (size_t i = 0; i < data.size() / es; ++i)
          if (m.rng.Below(10) != 0) std::memset(&data[i * es], 0, es);
        json d = json::array();
        for (unsigned char ch : data) d.push_back(int(ch));
        m.buffers[m.tensors[size_t(w)]["buffer"].get<size_t>()]["data"] = d;
      }
      int bias = int8 ? m.Int32Bias(w, 0.05f, 200) : m.FloatConst({8}, -0.1f, 0.1f);
      int c = m.Tensor({1, 12, 10, 8}, T, 0, int8 ? 0.04f : 0, -5);
      m.Op("CONV_2D", 3, {x, w, bias}, {c}, "Conv2DOptions",
           {{"padding", "SAME"}, {"stride_w", 1}, {"stride_h", 1}, {"dilation_h_factor", 2}, {"dilation_w_factor", 1},
            {"fused_activation_function", "RELU"}});
      int dw = int8 ? m.Int8Weights({1, 3, 3, 16}, 3, 0.02f) : m.FloatConst({1, 3, 3, 16}, -0.5f, 0.5f);
      int db = int8 ? m.Int32Bias(dw, 0.04f, 200) : m.FloatConst({16}, -0.1f, 0.1f);
      int y = m.Tensor({1, 6, 6, 16}, T, 0, int8 ? 0.06f : 0, 1, "y");
      m.Op("DEPTHWISE_CONV_2D", 4, {c, dw, db}, {y}, "DepthwiseConv2DOptions",
           {{"padding", "VALID"}, {"stride_w", 1}, {"stride_h", 1}, {"depth_multiplier", 2}, {"dilation_h_factor", 3},
            {"dilation_w_factor", 2}});
      const std::string name = std::string("dilated_") + (int8 ? "int8" : "float") + (pruned ? "_pruned" : "");
      Compare(name, Compile(name, m.Model(x, y)), 3);
    }
}

// openWakeWord's operators, float: EXPAND_DIMS, PAD, CONV_2D, LEAKY_RELU, MAXIMUM, MAX_POOL_2D, TRANSPOSE,
// BATCH_MATMUL, MINIMUM, LOG, SQUEEZE, REDUCE_MAX, SUB (scalar broadcast), MEAN, MUL, ADD, RSQRT.
TEST_F(ForeignModels, OpenWakeWordOpsFloat) {
  JsonModel m;
  auto scalar = [&](float v) {
    return m.Tensor({}, "FLOAT32", m.Buffer(std::string(reinterpret_cast<const char*>(&v), 4)));
  };
  int x = m.Tensor({1, 8, 6}, "FLOAT32", 0, 0, 0, "x");
  int e = m.Tensor({1, 8, 6, 1}, "FLOAT32");
  m.Op("EXPAND_DIMS", 70, {x, m.Int32Const({}, {3})}, {e}, "ExpandDimsOptions", json::object());
  int p = m.Tensor({1, 8, 8, 1}, "FLOAT32");
  m.Op("PAD", 34, {e, m.Int32Const({4, 2}, {0, 0, 0, 0, 1, 1, 0, 0})}, {p}, "PadOptions", json::object());
  int c = m.Tensor({1, 6, 6, 4}, "FLOAT32");
  m.Op("CONV_2D", 3, {p, m.FloatConst({4, 3, 3, 1}, -0.8f, 0.8f), m.FloatConst({4}, -0.1f, 0.1f)}, {c},
       "Conv2DOptions", {{"padding", "VALID"}, {"stride_w", 1}, {"stride_h", 1}});
  int l = m.Tensor({1, 6, 6, 4}, "FLOAT32");
  m.Op("LEAKY_RELU", 98, {c}, {l}, "LeakyReluOptions", {{"alpha", 0.2}});
  int mx = m.Tensor({1, 6, 6, 4}, "FLOAT32");
  m.Op("MAXIMUM", 55, {l, scalar(-0.1f)}, {mx});
  int mp = m.Tensor({1, 3, 3, 4}, "FLOAT32");
  m.Op("MAX_POOL_2D", 17, {mx}, {mp}, "Pool2DOptions",
       {{"padding", "VALID"}, {"stride_w", 2}, {"stride_h", 2}, {"filter_width", 2}, {"filter_height", 2}});
  int t = m.Tensor({1, 3, 3, 4}, "FLOAT32");
  m.Op("TRANSPOSE", 39, {mp, m.Int32Const({4}, {0, 2, 1, 3})}, {t}, "TransposeOptions", json::object());
  int bm = m.Tensor({1, 3, 3, 5}, "FLOAT32");
  m.Op("BATCH_MATMUL", 126, {t, m.FloatConst({4, 5}, -1, 1)}, {bm}, "BatchMatMulOptions", json::object());
  int mn = m.Tensor({1, 3, 3, 5}, "FLOAT32");
  m.Op("MINIMUM", 57, {bm, scalar(1.5f)}, {mn});
  int pos = m.Tensor({1, 3, 3, 5}, "FLOAT32");
  m.Op("MAXIMUM", 55, {mn, scalar(0.01f)}, {pos});
  int lg = m.Tensor({1, 3, 3, 5}, "FLOAT32");
  m.Op("LOG", 73, {pos}, {lg});
  int sq = m.Tensor({3, 3, 5}, "FLOAT32");
  m.Op("SQUEEZE", 43, {lg}, {sq}, "SqueezeOptions", {{"squeeze_dims", {0}}});
  int rm = m.Tensor({}, "FLOAT32");
  m.Op("REDUCE_MAX", 82, {sq, m.Int32Const({3}, {0, 1, 2})}, {rm}, "ReducerOptions", {{"keep_dims", false}});
  int sub = m.Tensor({3, 3, 5}, "FLOAT32");
  m.Op("SUB", 41, {sq, rm}, {sub}, "SubOptions", json::object());
  int mean = m.Tensor({3, 3, 1}, "FLOAT32");
  m.Op("MEAN", 40, {sub, m.Int32Const({1}, {2})}, {mean}, "ReducerOptions", {{"keep_dims", true}});
  int d = m.Tensor({3, 3, 5}, "FLOAT32");
  m.Op("SUB", 41, {sub, mean}, {d}, "SubOptions", json::object());
  int d2 = m.Tensor({3, 3, 5}, "FLOAT32");
  m.Op("MUL", 18, {d, d}, {d2}, "MulOptions", json::object());
  int var = m.Tensor({3, 3, 1}, "FLOAT32");
  m.Op("MEAN", 40, {d2, m.Int32Const({}, {-1})}, {var}, "ReducerOptions", {{"keep_dims", true}});
  int eps = m.Tensor({3, 3, 1}, "FLOAT32");
  m.Op("ADD", 0, {var, scalar(1e-3f)}, {eps}, "AddOptions", json::object());
  int rs = m.Tensor({3, 3, 1}, "FLOAT32");
  m.Op("RSQRT", 76, {eps}, {rs});
  int y = m.Tensor({3, 3, 5}, "FLOAT32", 0, 0, 0, "y");
  m.Op("MUL", 18, {d, rs}, {y}, "MulOptions", json::object());
  Compare("open_wake_word_ops", Compile("open_wake_word_ops", m.Model(x, y)), 4);
}

// A dynamic batch (shape signature [-1, 6]): the stored shape against the official interpreter; resized to
// three rows in kws, each row equals the single-row result.
TEST_F(ForeignModels, DynamicBatchSignature) {
  JsonModel m;
  int x = m.Tensor({1, 6}, "FLOAT32", 0, 0, 0, "x");
  m.tensors[size_t(x)]["shape_signature"] = {-1, 6};
  int h = m.Tensor({1, 4}, "FLOAT32");
  m.tensors[size_t(h)]["shape_signature"] = {-1, 4};
  m.Op("FULLY_CONNECTED", 9, {x, m.FloatConst({4, 6}, -1, 1), m.FloatConst({4}, -1, 1)}, {h}, "FullyConnectedOptions",
       {{"fused_activation_function", "RELU"}});
  int y = m.Tensor({1, 4}, "FLOAT32", 0, 0, 0, "y");
  m.tensors[size_t(y)]["shape_signature"] = {-1, 4};
  m.Op("SOFTMAX", 25, {h}, {y}, "SoftmaxOptions", {{"beta", 1.0}});
  const std::string bytes = Compile("dynamic_batch", m.Model(x, y));
  Compare("dynamic_batch", bytes, 3);
  Interpreter one = Interpreter::FromBuffer("one", bytes), three = Interpreter::FromBuffer("three", bytes);
  three.ResizeInput(0, {3, 6});
  ASSERT_EQ(three.output(0).shape, (std::vector<int>{3, 4}));
  const std::string rows = Input(three.input(0), 5);
  std::memcpy(three.input_data(0), rows.data(), rows.size());
  three.Invoke();
  for (int r = 0; r < 3; ++r) {
    std::memcpy(one.input_data(0), rows.data() + 24 * r, 24);
    one.Invoke();
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(static_cast<const float*>(one.output_data(0))[i], static_cast<const float*>(three.output_data(0))[4 * r + i]);
  }
}

// PACK (microWakeWord's operator set has it), float and int8.
TEST_F(ForeignModels, PackFloatAndInt8) {
  for (bool int8 : {false, true}) {
    JsonModel m;
    const std::string T = int8 ? "INT8" : "FLOAT32";
    int x = m.Tensor({2, 3}, T, 0, int8 ? 0.1f : 0, 4, "x");
    int a = m.Tensor({2, 3}, T, 0, int8 ? 0.1f : 0, 4);
    m.Op("RELU", 19, {x}, {a});
    std::string c;
    for (int i = 0; i < 6; ++i) {
      if (int8) {
        c.push_back(char(i * 20 - 60));
      } else {
        const float v = float(i) - 2.5f;
        c.append(reinterpret_cast<const char*>(&v), 4);
      }
    }
    int k = m.Tensor({2, 3}, T, m.Buffer(c), int8 ? 0.1f : 0, 4);
    int y = m.Tensor({2, 3, 3}, T, 0, int8 ? 0.1f : 0, 4, "y");
    m.Op("PACK", 83, {x, k, a}, {y}, "PackOptions", {{"values_count", 3}, {"axis", -1}});
    const std::string name = std::string("pack_") + (int8 ? "int8" : "float");
    Compare(name, Compile(name, m.Model(x, y)), 3);
  }
}

// BATCH_MATMUL with adj_y and a broadcast batch; GREATER_EQUAL's bool output.
TEST_F(ForeignModels, BatchMatMulAdjointAndComparison) {
  {
    JsonModel m;
    int x = m.Tensor({2, 3, 4}, "FLOAT32", 0, 0, 0, "x");
    int y = m.Tensor({2, 3, 5}, "FLOAT32", 0, 0, 0, "y");
    m.Op("BATCH_MATMUL", 126, {x, m.FloatConst({1, 5, 4}, -1, 1)}, {y}, "BatchMatMulOptions", {{"adj_y", true}});
    Compare("batch_matmul_adj_y", Compile("batch_matmul_adj_y", m.Model(x, y)), 3);
  }
  {
    JsonModel m;
    int x = m.Tensor({2, 4}, "FLOAT32", 0, 0, 0, "x");
    int y = m.Tensor({2, 4}, "BOOL", 0, 0, 0, "y");
    m.Op("GREATER_EQUAL", 62, {x, m.FloatConst({4}, -1, 1)}, {y}, "GreaterEqualOptions", json::object());
    Compare("greater_equal", Compile("greater_equal", m.Model(x, y)), 4);
  }
}

// HARD_SWISH (float, int8) and swish as LOGISTIC · x (how kws exports it), float and int8.
TEST_F(ForeignModels, HardSwishAndSwish) {
  for (bool int8 : {false, true}) {
    JsonModel m;
    const std::string T = int8 ? "INT8" : "FLOAT32";
    int x = m.Tensor({1, 6, 5, 3}, T, 0, int8 ? 0.05f : 0, 3, "x");
    int hs = m.Tensor({1, 6, 5, 3}, T, 0, int8 ? 0.03f : 0, -60);
    m.Op("HARD_SWISH", 117, {x}, {hs}, "HardSwishOptions", json::object());
    const std::string name = std::string("hard_swish_") + (int8 ? "int8" : "float");
    Compare(name, Compile(name, m.Model(x, hs)), 4);
    int sg = m.Tensor({1, 6, 5, 3}, T, 0, int8 ? 1.0f / 256 : 0, -128);
    m.Op("LOGISTIC", 14, {hs}, {sg});
    int y = m.Tensor({1, 6, 5, 3}, T, 0, int8 ? 0.025f : 0, -40, "y");
    m.Op("MUL", 18, {hs, sg}, {y}, "MulOptions", json::object());
    const std::string sname = std::string("hard_swish_then_swish_") + (int8 ? "int8" : "float");
    Compare(sname, Compile(sname, m.Model(x, y)), 4);
  }
}

// IF (as openWakeWord's hey_jarvis head uses it: weights passed into the branches as inputs) and WHILE.
TEST_F(ForeignModels, IfAndWhileFloat) {
  {
    JsonModel m;
    // then (subgraph 1): FC(x, w, b) → LOGISTIC; else (subgraph 2): FC(x, w) → TANH.
    int tx = m.Tensor({1, 4}, "FLOAT32"), tw = m.Tensor({3, 4}, "FLOAT32"), tb = m.Tensor({3}, "FLOAT32");
    int tf = m.Tensor({1, 3}, "FLOAT32"), ty = m.Tensor({1, 3}, "FLOAT32");
    m.Op("FULLY_CONNECTED", 9, {tx, tw, tb}, {tf}, "FullyConnectedOptions", json::object());
    m.Op("LOGISTIC", 14, {tf}, {ty});
    json then_sg = {{"tensors", m.tensors}, {"inputs", {tx, tw, tb}}, {"outputs", {ty}}, {"operators", m.ops}};
    m.tensors = json::array();
    m.ops = json::array();
    int ex = m.Tensor({1, 4}, "FLOAT32"), ew = m.Tensor({3, 4}, "FLOAT32"), eb = m.Tensor({3}, "FLOAT32");
    int ef = m.Tensor({1, 3}, "FLOAT32"), ey = m.Tensor({1, 3}, "FLOAT32");
    m.Op("FULLY_CONNECTED", 9, {ex, ew, -1}, {ef}, "FullyConnectedOptions", json::object());
    m.Op("TANH", 28, {ef}, {ey});
    json else_sg = {{"tensors", m.tensors}, {"inputs", {ex, ew, eb}}, {"outputs", {ey}}, {"operators", m.ops}};
    m.tensors = json::array();
    m.ops = json::array();
    int x = m.Tensor({1, 4}, "FLOAT32", 0, 0, 0, "x");
    int s = m.Tensor({1, 1}, "FLOAT32");
    m.Op("FULLY_CONNECTED", 9, {x, m.FloatConst({1, 4}, -1, 1), -1}, {s}, "FullyConnectedOptions", json::object());
    int cb = m.Tensor({1, 1}, "BOOL"), cs = m.Tensor({}, "BOOL");
    m.Op("GREATER_EQUAL", 62, {s, m.FloatConst({}, 0, 0)}, {cb}, "GreaterEqualOptions", json::object());
    m.Op("RESHAPE", 22, {cb, m.Tensor({0}, "INT32")}, {cs}, "ReshapeOptions", json::object());
    int y = m.Tensor({1, 3}, "FLOAT32", 0, 0, 0, "y");
    m.Op("IF", 118, {cs, x, m.FloatConst({3, 4}, -1, 1), m.FloatConst({3}, -1, 1)}, {y}, "IfOptions",
         {{"then_subgraph_index", 1}, {"else_subgraph_index", 2}});
    m.EndSubgraph({x}, {y});
    m.subgraphs.push_back(then_sg);
    m.subgraphs.push_back(else_sg);
    Compare("if_branches", Compile("if_branches", m.MultiModel()), 10);
  }
  {
    JsonModel m;
    // cond (1): 3 >= i; body (2): x = tanh(1.5·x + 0.1), i = i + 1; from i = 0: four iterations.
    int ci = m.Tensor({1}, "FLOAT32"), cx = m.Tensor({1, 4}, "FLOAT32"), cb = m.Tensor({1}, "BOOL");
    int cs = m.Tensor({}, "BOOL");
    m.Op("GREATER_EQUAL", 62, {m.FloatConst({1}, 3, 3), ci}, {cb}, "GreaterEqualOptions", json::object());
    m.Op("RESHAPE", 22, {cb, m.Tensor({0}, "INT32")}, {cs}, "ReshapeOptions", json::object());
    json cond = {{"tensors", m.tensors}, {"inputs", {ci, cx}}, {"outputs", {cs}}, {"operators", m.ops}};
    m.tensors = json::array();
    m.ops = json::array();
    int bi = m.Tensor({1}, "FLOAT32"), bx = m.Tensor({1, 4}, "FLOAT32"), bi2 = m.Tensor({1}, "FLOAT32");
    int bm = m.Tensor({1, 4}, "FLOAT32"), ba = m.Tensor({1, 4}, "FLOAT32"), bx2 = m.Tensor({1, 4}, "FLOAT32");
    m.Op("ADD", 0, {bi, m.FloatConst({1}, 1, 1)}, {bi2}, "AddOptions", json::object());
    m.Op("MUL", 18, {bx, m.FloatConst({1}, 1.5f, 1.5f)}, {bm}, "MulOptions", json::object());
    m.Op("ADD", 0, {bm, m.FloatConst({4}, 0.1f, 0.1f)}, {ba}, "AddOptions", json::object());
    m.Op("TANH", 28, {ba}, {bx2});
    json body = {{"tensors", m.tensors}, {"inputs", {bi, bx}}, {"outputs", {bi2, bx2}}, {"operators", m.ops}};
    m.tensors = json::array();
    m.ops = json::array();
    int x = m.Tensor({1, 4}, "FLOAT32", 0, 0, 0, "x");
    int io = m.Tensor({1}, "FLOAT32"), y = m.Tensor({1, 4}, "FLOAT32", 0, 0, 0, "y");
    m.Op("WHILE", 119, {m.FloatConst({1}, 0, 0), x}, {io, y}, "WhileOptions",
         {{"cond_subgraph_index", 1}, {"body_subgraph_index", 2}});
    m.EndSubgraph({x}, {y});
    m.subgraphs.push_back(cond);
    m.subgraphs.push_back(body);
    Compare("while_loop", Compile("while_loop", m.MultiModel()), 4);
  }
}

// Resource variables and CALL_ONCE. The official npm interpreter (tfjs-tflite) aborts on them, so the
// reference is LiteRT (tools/js/litert_run.js). First the smallest streaming model, hand-computed:
// y = x + (the previous call's x), the state starting at [10, 20]; then an int8 model keeping the last
// two frames the way microWakeWord does (READ → CONCATENATION → STRIDED_SLICE → ASSIGN) over 40 steps.
TEST_F(ForeignModels, StreamingStateAgainstLiteRt) {
  auto handle = [](const std::string& name) { return json{{"container", ""}, {"shared_name", name}}; };
  {
    JsonModel m;
    int x = m.Tensor({1, 2}, "FLOAT32", 0, 0, 0, "x"), h = m.Tensor({}, "RESOURCE");
    int prev = m.Tensor({1, 2}, "FLOAT32"), y = m.Tensor({1, 2}, "FLOAT32", 0, 0, 0, "y");
    m.Op("CALL_ONCE", 129, {}, {}, "CallOnceOptions", {{"init_subgraph_index", 1}});
    m.Op("VAR_HANDLE", 142, {}, {h}, "VarHandleOptions", handle("state"));
    m.Op("READ_VARIABLE", 143, {h}, {prev});
    m.Op("ADD", 0, {x, prev}, {y}, "AddOptions", json::object());
    m.Op("ASSIGN_VARIABLE", 144, {h, x}, {});
    m.EndSubgraph({x}, {y});
    int ih = m.Tensor({}, "RESOURCE");
    const float init[2] = {10, 20};
    int iv = m.Tensor({1, 2}, "FLOAT32", m.Buffer(std::string(reinterpret_cast<const char*>(init), 8)));
    m.Op("VAR_HANDLE", 142, {}, {ih}, "VarHandleOptions", handle("state"));
    m.Op("ASSIGN_VARIABLE", 144, {ih, iv}, {});
    m.EndSubgraph({}, {});
    const std::string bytes = Compile("stream_float", m.MultiModel());
    Interpreter it = Interpreter::FromBuffer("stream_float.tflite", bytes);
    const float in1[2] = {1, 2}, in2[2] = {3, 4};
    std::memcpy(it.input_data(0), in1, 8);
    it.Invoke();
    EXPECT_EQ(std::vector<float>(static_cast<const float*>(it.output_data(0)), static_cast<const float*>(it.output_data(0)) + 2),
              (std::vector<float>{11, 22}));
    std::memcpy(it.input_data(0), in2, 8);
    it.Invoke();
    EXPECT_EQ(std::vector<float>(static_cast<const float*>(it.output_data(0)), static_cast<const float*>(it.output_data(0)) + 2),
              (std::vector<float>{4, 6}));
    CompareLiteRt("stream_float", bytes, 6);
  }
  {
    JsonModel m;
    const float s0 = 0.1f;
    int x = m.Tensor({1, 1, 4}, "INT8", 0, s0, -128, "frame"), h = m.Tensor({}, "RESOURCE");
    int st = m.Tensor({1, 2, 4}, "INT8", 0, s0, -128), cat = m.Tensor({1, 3, 4}, "INT8", 0, s0, -128);
    int next = m.Tensor({1, 2, 4}, "INT8", 0, s0, -128), flat = m.Tensor({1, 12}, "INT8", 0, s0, -128);
    m.Op("CALL_ONCE", 129, {}, {}, "CallOnceOptions", {{"init_subgraph_index", 1}});
    m.Op("VAR_HANDLE", 142, {}, {h}, "VarHandleOptions", handle("stream/states"));
    m.Op("READ_VARIABLE", 143, {h}, {st});
    m.Op("CONCATENATION", 2, {st, x}, {cat}, "ConcatenationOptions", {{"axis", 1}});
    m.Op("STRIDED_SLICE", 45, {cat, m.Int32Const({3}, {0, 1, 0}), m.Int32Const({3}, {0, 0, 0}),
                               m.Int32Const({3}, {1, 1, 1})},
         {next}, "StridedSliceOptions", {{"begin_mask", 5}, {"end_mask", 7}});
    m.Op("ASSIGN_VARIABLE", 144, {h, next}, {});
    m.Op("RESHAPE", 22, {cat, m.Int32Const({2}, {1, 12})}, {flat}, "ReshapeOptions", {{"new_shape", {1, 12}}});
    int w = m.Int8Weights({3, 12}, -1, 0.01f);
    int y = m.Tensor({1, 3}, "INT8", 0, 0.05f, 3, "y");
    m.Op("FULLY_CONNECTED", 9, {flat, w, m.Int32Bias(w, s0, 300)}, {y}, "FullyConnectedOptions", json::object());
    m.EndSubgraph({x}, {y});
    int ih = m.Tensor({}, "RESOURCE");
    std::string zeros(8, char(-128));
    int iv = m.Tensor({1, 2, 4}, "INT8", m.Buffer(zeros), s0, -128);
    m.Op("VAR_HANDLE", 142, {}, {ih}, "VarHandleOptions", handle("stream/states"));
    m.Op("ASSIGN_VARIABLE", 144, {ih, iv}, {});
    m.EndSubgraph({}, {});
    const auto out = CompareLiteRt("stream_int8", Compile("stream_int8", m.MultiModel()), 40);
    // The output depends on earlier frames: the same frame after different histories gives different outputs.
    EXPECT_GT(std::set<double>(out.begin(), out.end()).size(), 10u);
  }
}

}  // namespace
