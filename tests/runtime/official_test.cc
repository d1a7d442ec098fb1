// kws's runtime vs the official TFLite interpreter (WebAssembly build from npm
// @tensorflow/tfjs-tflite, run by tools/js/tflite_run.js) on the same models
// and inputs: float within 1e-5, int8 identical, hybrid within 1e-3.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/interpreter.h"
#include "support/synthetic_model.h"
#include "tflite/builder.h"
#include "util/rng.h"
#include "util/fs.h"
#include "support/command.h"

namespace fs = std::filesystem;
using kws::rt::Interpreter;
using kws::rt::SyntheticModelOptions;
using Kind = SyntheticModelOptions::Kind;

namespace {

using kws_test::RunForOutput;

class Official : public ::testing::Test {
 protected:
  void SetUp() override {
    js_ = fs::path(KWS_SOURCE_DIR) / "tools/js";
    if (!fs::exists(js_ / "node_modules/@tensorflow/tfjs-tflite"))
      GTEST_SKIP() << "tools/js/node_modules missing (run npm ci in tools/js): official interpreter unavailable";
    int st = 0;
    RunForOutput("node --version", &st);
    if (st != 0) GTEST_SKIP() << "node not found";
    dir_ = fs::temp_directory_path() / ("kws_official_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs the model on `inputs` pseudo-random inputs in the official
  // interpreter once per input and in kws's runtime under every config.
  struct Config {
    kws::rt::KernelSet kernels = kws::rt::KernelSet::kOptimized;
    kws::rt::Int8Arithmetic arith = kws::rt::Int8Arithmetic::kXnnpack;
  };
  struct Result {
    double max_diff = 0;  // float outputs
    int int8_mismatches = 0, int8_max_diff = 0;
    int compared = 0;
  };
  std::vector<Result> CompareAll(const std::string& name, const std::string& model, int inputs,
                                 const std::vector<Config>& configs, bool raw_random = false) {
    std::vector<Result> res(configs.size());
    const fs::path mp = dir_ / (name + ".tflite");
    kws::AtomicWriteFile(mp, model);
    Interpreter it = Interpreter::FromBuffer(name, model);
    const auto in = it.input(0);
    for (int s = 0; s < inputs; ++s) {
      std::string raw = kws::rt::SyntheticInputFloat(in.elements(), 100 + uint64_t(s));
      // Vary the scale so some inputs saturate and some are small.
      const float gain = s % 3 == 0 ? 0.3f : (s % 3 == 1 ? 1.0f : 3.0f);
      for (int64_t i = 0; i < in.elements(); ++i) {
        float v;
        std::memcpy(&v, &raw[size_t(i) * 4], 4);
        v *= gain;
        std::memcpy(&raw[size_t(i) * 4], &v, 4);
      }
      if (in.type == kws::rt::DType::kInt8 && raw_random) {
        kws::Rng rng(uint64_t(s) + 11);
        raw.assign(size_t(in.elements()), '\0');
        for (auto& c : raw) c = char(int(rng.Below(256)) - 128);
      } else if (in.type == kws::rt::DType::kInt8) {
        std::string q(size_t(in.elements()), '\0');
        for (int64_t i = 0; i < in.elements(); ++i) {
          float v;
          std::memcpy(&v, &raw[size_t(i) * 4], 4);
          const long t = std::lround(v / in.scale) + in.zero_point;
          q[size_t(i)] = char(std::clamp<long>(t, -128, 127));
        }
        raw = q;
      }
      const fs::path ip = dir_ / (name + "_" + std::to_string(s) + ".bin");
      kws::AtomicWriteFile(ip, raw);
      int st = 0;
      const std::string js =
          RunForOutput("node " + (js_ / "tflite_run.js").string() + " " + mp.string() + " " + ip.string() + " 2>&1", &st);
      EXPECT_EQ(st, 0) << js;
      if (st != 0) return res;
      const auto j = nlohmann::json::parse(js.substr(js.find('{')));
      const auto& vals = j["values"];
      for (size_t k = 0; k < configs.size(); ++k) {
        it.set_kernels(configs[k].kernels);
        it.set_int8_arithmetic(configs[k].arith);
        std::memcpy(it.input_data(0), raw.data(), raw.size());
        it.Invoke();
        const auto out = it.output(0);
        EXPECT_EQ(int64_t(vals.size()), out.elements());
        if (int64_t(vals.size()) != out.elements()) return res;
        Result& r = res[k];
        for (int64_t i = 0; i < out.elements(); ++i) {
          ++r.compared;
          if (out.type == kws::rt::DType::kInt8) {
            const int a = static_cast<const int8_t*>(it.output_data(0))[i];
            const int b = vals[size_t(i)].get<int>();
            if (a != b) ++r.int8_mismatches;
            r.int8_max_diff = std::max(r.int8_max_diff, std::abs(a - b));
          } else {
            const double a = static_cast<const float*>(it.output_data(0))[i];
            const double b = vals[size_t(i)].get<double>();
            r.max_diff = std::max(r.max_diff, std::fabs(a - b));
          }
        }
      }
    }
    return res;
  }
  Result Compare(const std::string& name, const std::string& model, int inputs) {
    return CompareAll(name, model, inputs, {Config{}})[0];
  }

  fs::path js_, dir_;
};

TEST_F(Official, FloatSeedModelWithin1e5) {
  for (bool pools : {false, true}) {
    SyntheticModelOptions o;
    o.kind = Kind::kFloat;
    o.pools = pools;
    o.depthwise = pools;
    o.keep_dims_mean = pools;
    const auto r = Compare(pools ? "float_pools" : "float", kws::rt::MakeSyntheticModel(o), 3);
    EXPECT_GT(r.compared, 0);
    EXPECT_LE(r.max_diff, 1e-5) << "pools=" << pools;
  }
}

TEST_F(Official, HybridSeedModelWithin1e3) {
  for (bool dw : {false, true}) {
    SyntheticModelOptions o;
    o.kind = Kind::kHybrid;
    o.depthwise = dw;
    o.filters = dw ? 128 : 16;  // depthwise weights need >= 1024 elements to be quantized
    o.frames = dw ? 40 : 97;
    const auto r = Compare(dw ? "hybrid_dw" : "hybrid", kws::rt::MakeSyntheticModel(o), 3);
    EXPECT_GT(r.compared, 0);
    EXPECT_LE(r.max_diff, 1e-3) << "depthwise=" << dw;
  }
}

// The CLI end to end: `kws invoke` and tflite_run.js print the same int8 values.
TEST_F(Official, CliInvokeMatchesOfficial) {
  SyntheticModelOptions o;
  o.kind = Kind::kInt8;
  o.seed = 9;
  const std::string model = kws::rt::MakeSyntheticModel(o);
  const fs::path mp = dir_ / "cli.tflite", ip = dir_ / "cli.bin";
  kws::AtomicWriteFile(mp, model);
  kws::Rng rng(4);
  std::string raw(97 * 20, '\0');
  for (auto& c : raw) c = char(int(rng.Below(256)) - 128);
  kws::AtomicWriteFile(ip, raw);
  int st = 0;
  const std::string ours = RunForOutput(std::string(KWS_BINARY) + " invoke --model " + mp.string() + " --input-raw " +
                                      ip.string(), &st);
  ASSERT_EQ(st, 0) << ours;
  const std::string js =
      RunForOutput("node " + (js_ / "tflite_run.js").string() + " " + mp.string() + " " + ip.string() + " 2>/dev/null", &st);
  ASSERT_EQ(st, 0) << js;
  const auto a = nlohmann::json::parse(ours);
  const auto b = nlohmann::json::parse(js)["values"];
  ASSERT_EQ(a.size(), 12u);
  EXPECT_EQ(a, b);
}

TEST_F(Official, Int8SeedModelIdentical) {
  struct Case {
    const char* name;
    bool pools, dw, keep, float_io;
    float sparsity;
  };
  for (const Case& c : {Case{"int8", false, false, false, false, 0.0f}, Case{"int8_pools", true, true, true, false, 0.0f},
                        Case{"int8_floatio", false, false, false, true, 0.85f}}) {
    SyntheticModelOptions o;
    o.kind = Kind::kInt8;
    o.pools = c.pools;
    o.depthwise = c.dw;
    o.keep_dims_mean = c.keep;
    o.float_io = c.float_io;
    o.sparsity = c.sparsity;
    o.seed = 3;
    const auto rs = CompareAll(c.name, kws::rt::MakeSyntheticModel(o), 4,
                               {Config{}, Config{kws::rt::KernelSet::kReference, kws::rt::Int8Arithmetic::kXnnpack}});
    for (size_t k = 0; k < rs.size(); ++k) {
      const auto& r = rs[k];
      EXPECT_GT(r.compared, 0);
      if (c.float_io) {
        EXPECT_LE(r.max_diff, 1e-6) << c.name;  // dequantized int8: identical values
      } else {
        EXPECT_EQ(r.int8_mismatches, 0) << c.name << (k ? " (reference kernels)" : "") << ": max diff "
                                        << r.int8_max_diff << " over " << r.compared;
      }
    }
  }
}

// One-op int8 models with awkward quantization parameters and random int8
// inputs: bit-identical with the official interpreter under kXnnpack
// arithmetic (optimized and reference kernels); kReference arithmetic (TFLite's
// reference kernels) is reported and must stay within 1.
TEST_F(Official, Int8SingleOps) {
  using tflite::BuiltinOperator;
  using tflite::TensorType;
  using kws::tfl::QuantParams;
  struct Case {
    std::string name;
    std::string model;
  };
  std::vector<Case> cases;
  kws::Rng rng(5);
  auto weights = [&](size_t n) {
    std::vector<int8_t> w(n);
    for (auto& v : w) v = int8_t(int(rng.Below(255)) - 127);
    return w;
  };
  auto bias = [&](size_t n) {
    std::vector<int32_t> b(n);
    for (auto& v : b) v = int32_t(rng.Below(4001)) - 2000;
    return b;
  };
  const QuantParams qin = QuantParams::PerTensor(0.0437f, 7);
  const QuantParams qout = QuantParams::PerTensor(0.173f, -11);
  for (int variant = 0; variant < 3; ++variant) {  // conv: per-channel relu, per-tensor relu6, per-channel none
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 12, 10, 8}, TensorType::INT8, 0, qin);
    QuantParams qw;
    for (int c = 0; c < 16; ++c) {
      qw.scale.push_back(variant == 1 ? 0.0123f : 0.004f + 0.001f * float(c));
      qw.zero_point.push_back(0);
    }
    const int w = b.AddConstTensor<int8_t>("w", {16, 3, 3, 8}, TensorType::INT8, weights(16 * 72), qw);
    QuantParams qb;
    for (int c = 0; c < 16; ++c) {
      qb.scale.push_back(qin.scale[0] * qw.scale[size_t(c)]);
      qb.zero_point.push_back(0);
    }
    const int bt = b.AddConstTensor<int32_t>("b", {16}, TensorType::INT32, bias(16), qb);
    const int y = b.AddTensor("y", {1, variant == 2 ? 5 : 12, variant == 2 ? 4 : 10, 16}, TensorType::INT8, 0, qout);
    b.AddOperator(BuiltinOperator::CONV_2D, {x, w, bt}, {y},
                  kws::tfl::Conv2DOptions{.padding = variant == 2 ? tflite::Padding::VALID : tflite::Padding::SAME,
                                          .stride_w = variant == 2 ? 2 : 1, .stride_h = variant == 2 ? 2 : 1,
                                          .activation = variant == 0 ? tflite::ActivationFunctionType::RELU
                                                        : variant == 1 ? tflite::ActivationFunctionType::RELU6
                                                                       : tflite::ActivationFunctionType::NONE});
    b.SetInputs({x});
    b.SetOutputs({y});
    cases.push_back({"conv" + std::to_string(variant), b.Finish()});
  }
  {
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 9, 7, 4}, TensorType::INT8, 0, qin);
    QuantParams qw;
    qw.quantized_dimension = 3;
    for (int c = 0; c < 8; ++c) {
      qw.scale.push_back(0.01f + 0.002f * float(c));
      qw.zero_point.push_back(0);
    }
    const int w = b.AddConstTensor<int8_t>("w", {1, 3, 3, 8}, TensorType::INT8, weights(72), qw);
    QuantParams qb;
    for (int c = 0; c < 8; ++c) {
      qb.scale.push_back(qin.scale[0] * qw.scale[size_t(c)]);
      qb.zero_point.push_back(0);
    }
    const int bt = b.AddConstTensor<int32_t>("b", {8}, TensorType::INT32, bias(8), qb);
    const int y = b.AddTensor("y", {1, 5, 4, 8}, TensorType::INT8, 0, QuantParams::PerTensor(0.05f, 3));
    b.AddOperator(BuiltinOperator::DEPTHWISE_CONV_2D, {x, w, bt}, {y},
                  kws::tfl::DepthwiseConv2DOptions{.padding = tflite::Padding::SAME, .stride_w = 2, .stride_h = 2,
                                                   .depth_multiplier = 2});
    b.SetInputs({x});
    b.SetOutputs({y});
    cases.push_back({"depthwise", b.Finish()});
  }
  {
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 32}, TensorType::INT8, 0, qin);
    const int w = b.AddConstTensor<int8_t>("w", {10, 32}, TensorType::INT8, weights(320), QuantParams::PerTensor(0.0071f, 0));
    const int bt = b.AddConstTensor<int32_t>("b", {10}, TensorType::INT32, bias(10),
                                             QuantParams::PerTensor(qin.scale[0] * 0.0071f, 0));
    const int y = b.AddTensor("y", {1, 10}, TensorType::INT8, 0, QuantParams::PerTensor(0.061f, -5));
    b.AddOperator(BuiltinOperator::FULLY_CONNECTED, {x, w, bt}, {y}, kws::tfl::FullyConnectedOptions{});
    b.SetInputs({x});
    b.SetOutputs({y});
    cases.push_back({"fully_connected", b.Finish()});
  }
  for (int variant = 0; variant < 2; ++variant) {
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 11, 9, 6}, TensorType::INT8, 0, qin);
    const int y = b.AddTensor("y", {1, 6, 5, 6}, TensorType::INT8, 0, qin);
    b.AddOperator(variant ? BuiltinOperator::MAX_POOL_2D : BuiltinOperator::AVERAGE_POOL_2D, {x}, {y},
                  kws::tfl::Pool2DOptions{.padding = tflite::Padding::SAME, .stride_w = 2, .stride_h = 2,
                                          .filter_width = 3, .filter_height = 3});
    b.SetInputs({x});
    b.SetOutputs({y});
    cases.push_back({variant ? "max_pool" : "average_pool", b.Finish()});
  }
  for (int variant = 0; variant < 3; ++variant) {  // MEAN: keep_dims false, true, same params
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 13, 5, 256}, TensorType::INT8, 0, qin);
    const int axis = b.AddConstTensor<int32_t>("axis", {2}, TensorType::INT32, std::vector<int32_t>{1, 2});
    const int y = b.AddTensor("y", variant == 1 ? std::vector<int>{1, 1, 1, 256} : std::vector<int>{1, 256},
                              TensorType::INT8, 0, variant == 2 ? qin : QuantParams::PerTensor(0.0029f, -3));
    b.AddOperator(BuiltinOperator::MEAN, {x, axis}, {y}, kws::tfl::ReducerOptions{.keep_dims = variant == 1});
    b.SetInputs({x});
    b.SetOutputs({y});
    cases.push_back({"mean" + std::to_string(variant), b.Finish()});
  }
  {
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {2, 12}, TensorType::INT8, 0, QuantParams::PerTensor(0.11f, 4));
    const int y = b.AddTensor("y", {2, 12}, TensorType::INT8, 0, QuantParams::PerTensor(1.0f / 256, -128));
    b.AddOperator(BuiltinOperator::SOFTMAX, {x}, {y}, kws::tfl::SoftmaxOptions{1.0f});
    b.SetInputs({x});
    b.SetOutputs({y});
    cases.push_back({"softmax", b.Finish()});
  }
  {
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 400}, TensorType::FLOAT32);
    const int y = b.AddTensor("y", {1, 400}, TensorType::INT8, 0, QuantParams::PerTensor(0.02f, -9));
    b.AddOperator(BuiltinOperator::QUANTIZE, {x}, {y}, kws::tfl::QuantizeOptions{});
    b.SetInputs({x});
    b.SetOutputs({y});
    cases.push_back({"quantize", b.Finish()});
  }
  std::string report;
  using kws::rt::Int8Arithmetic;
  using kws::rt::KernelSet;
  for (const auto& c : cases) {
    const auto r = CompareAll(c.name, c.model, 2,
                              {Config{KernelSet::kOptimized, Int8Arithmetic::kXnnpack},
                               Config{KernelSet::kReference, Int8Arithmetic::kXnnpack},
                               Config{KernelSet::kReference, Int8Arithmetic::kReference}},
                              /*raw_random=*/true);
    report += c.name + ": " + std::to_string(r[0].compared) + " values, xnnpack arithmetic mismatches " +
              std::to_string(r[0].int8_mismatches) + " (reference kernels " + std::to_string(r[1].int8_mismatches) +
              "), reference arithmetic mismatches " + std::to_string(r[2].int8_mismatches) + " (max diff " +
              std::to_string(r[2].int8_max_diff) + ")\n";
    EXPECT_GT(r[0].compared, 0) << c.name;
    EXPECT_EQ(r[0].int8_mismatches, 0) << c.name;
    EXPECT_EQ(r[1].int8_mismatches, 0) << c.name;
    EXPECT_LE(r[2].int8_max_diff, 1) << c.name;
  }
  std::printf("%s", report.c_str());
}

}  // namespace
