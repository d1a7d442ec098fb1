// Independent-loader checks: kws-exported .tflite files are run by
//   * the official TFLite interpreter (WebAssembly build from npm @tensorflow/tfjs-tflite, via
//     tools/js/tflite_run.js), and
//   * Arm NN 20.08's TfLite parser on the CpuRef backend (tools/armnn/armnn_run, built when Arm NN is found),
// and compared with the exporter's float reference evaluator and with kws's own runtime:
//   float:   official and Arm NN within 1e-5 (relative to max(1,|x|)) of the float reference;
//   dynamic: kws runtime within 1e-3 of the official interpreter on the same file;
//   int8:    kws runtime output bytes identical to the official interpreter's (single ops and whole
//            networks); dequantized output close to the float reference; Arm NN within 1 LSB.
// Tests skip with the reason when node/node_modules or Arm NN are missing, or when Arm NN refuses a
// model variant (e.g. hybrid weights): a skip is not a pass.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "export/graph.h"
#include "export/reference_eval.h"
#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "runtime/interpreter.h"
#include "tflite/builder.h"
#include "util/fs.h"
#include "util/rng.h"

#ifndef KWS_NODE
#define KWS_NODE "node"
#endif

namespace kws {
namespace {

namespace fs = std::filesystem;

struct ToolResult {
  bool ok = false;
  std::string error;
  std::string type;
  std::vector<int> shape;
  std::vector<double> values;
};

fs::path TempDir() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("kws_loaders_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Removes the temporary folder after all tests.
class TempDirCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(fs::temp_directory_path() / ("kws_loaders_" + std::to_string(::getpid())), ec);
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new TempDirCleanup);

std::string Quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

ToolResult RunTool(const std::string& cmd_prefix, const std::string& model, const std::string& input) {
  static int counter = 0;
  const fs::path dir = TempDir();
  const std::string tag = std::to_string(++counter);
  const fs::path mpath = dir / ("m" + tag + ".tflite"), ipath = dir / ("i" + tag + ".raw");
  const fs::path opath = dir / ("o" + tag + ".json"), epath = dir / ("e" + tag + ".txt");
  AtomicWriteFile(mpath, model);
  AtomicWriteFile(ipath, input);
  std::string cmd = cmd_prefix + " " + Quote(mpath) + " " + Quote(ipath) + " " + Quote(opath) + " 2> " + Quote(epath);
  int rc = std::system(cmd.c_str());
  ToolResult r;
  if (rc != 0) {
    r.error = "exit " + std::to_string(rc) + ": ";
    std::ifstream e(epath);
    std::stringstream ss;
    ss << e.rdbuf();
    r.error += ss.str();
    return r;
  }
  auto j = nlohmann::json::parse(ReadFile(opath));
  r.ok = true;
  r.type = j["type"].get<std::string>();
  r.shape = j["shape"].get<std::vector<int>>();
  for (const auto& v : j["values"]) r.values.push_back(v.get<double>());
  return r;
}

bool HaveOfficial(std::string* why) {
  fs::path wasm = fs::path(KWS_SOURCE_DIR) / "tools/js/node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.wasm";
  if (!fs::exists(wasm)) {
    *why = "official TFLite interpreter not installed (" + wasm.string() +
           " missing): run `cd tools/js && ONNXRUNTIME_NODE_INSTALL=skip npm install`";
    return false;
  }
  if (std::system((std::string(KWS_NODE) + " --version > /dev/null 2>&1").c_str()) != 0) {
    *why = "node is not installed";
    return false;
  }
  return true;
}

ToolResult RunOfficial(const std::string& model, const std::string& input) {
  return RunTool(std::string(KWS_NODE) + " " + Quote(std::string(KWS_SOURCE_DIR) + "/tools/js/tflite_run.js"), model, input);
}

bool HaveArmnn(std::string* why) {
#ifdef KWS_ARMNN_RUN
  if (fs::exists(KWS_ARMNN_RUN)) return true;
  *why = std::string("armnn_run not built at ") + KWS_ARMNN_RUN;
  return false;
#else
  *why = "Arm NN (libarmnntfliteparser-dev) was not found when configuring: armnn_run not built";
  return false;
#endif
}

ToolResult RunArmnn(const std::string& model, const std::string& input) {
#ifdef KWS_ARMNN_RUN
  return RunTool(Quote(KWS_ARMNN_RUN), model, input);
#else
  return {};
#endif
}

std::string FloatBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::string QuantizeInput(const std::vector<float>& x, const AffineQuant& q) {
  std::string r(x.size(), '\0');
  for (size_t i = 0; i < x.size(); ++i) {
    long v = std::lround(x[i] / q.scale) + q.zero_point;
    r[i] = char(int8_t(std::clamp(v, -128L, 127L)));
  }
  return r;
}

// Values of run `b` from a batched tool result.
std::vector<double> Slice(const std::vector<double>& v, size_t b, size_t n) {
  EXPECT_GE(v.size(), (b + 1) * n);
  if (v.size() < (b + 1) * n) return std::vector<double>(n, 0.0);
  return std::vector<double>(v.begin() + long(b * n), v.begin() + long((b + 1) * n));
}

// max |a-b| / max(1, |b|)
double MaxRelDiff(const std::vector<double>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, std::fabs(a[i] - b[i]) / std::max(1.0, std::fabs(double(b[i]))));
  return m;
}

ir::Graph MakeGraph(const std::string& kind, bool softmax) {
  ir::SyntheticOptions o;
  o.kind = kind;
  o.softmax = softmax;
  o.classes = 6;
  o.seed = 11;
  o.sparsity = 0.5;
  if (kind == "depthwise") o.filters = 32;  // makes the 1x1 convs (1024 weights) hybrid in dynamic mode
  return ir::MakeSyntheticGraph(o);
}

class Loaders : public ::testing::TestWithParam<std::string> {};

TEST_P(Loaders, FloatMatchesReference) {
  std::string why;
  bool official = HaveOfficial(&why);
  std::string why_armnn;
  bool armnn = HaveArmnn(&why_armnn);
  if (!official && !armnn) GTEST_SKIP() << why << "; " << why_armnn;
  for (bool softmax : {false, true}) {
    ir::Graph g = MakeGraph(GetParam(), softmax);
    std::string model = ExportTflite(g, ExportOptions{});
    auto rt = rt::Interpreter::FromBuffer("float.tflite", model);
    double max_official = 0, max_armnn = 0, max_kws = 0;
    const auto xs = ir::SyntheticInputs(g, 3, 5);
    std::string batch;
    for (const auto& x : xs) batch += FloatBytes(x);
    ToolResult ro, ra;
    if (official) {
      ro = RunOfficial(model, batch);
      ASSERT_TRUE(ro.ok) << ro.error;
      EXPECT_EQ(ro.type, "float32");
      EXPECT_EQ(ro.shape, g.shapes[g.output]);
    }
    if (armnn) {
      ra = RunArmnn(model, batch);
      ASSERT_TRUE(ra.ok) << ra.error;
    }
    for (size_t b = 0; b < xs.size(); ++b) {
      std::vector<float> ref = ir::Evaluate(g, xs[b].data());
      std::vector<float> mine = rt.RunFloat(xs[b].data());
      max_kws = std::max(max_kws, MaxRelDiff(std::vector<double>(mine.begin(), mine.end()), ref));
      if (official) max_official = std::max(max_official, MaxRelDiff(Slice(ro.values, b, ref.size()), ref));
      if (armnn) max_armnn = std::max(max_armnn, MaxRelDiff(Slice(ra.values, b, ref.size()), ref));
    }
    std::printf("[%s float%s] max rel diff vs reference: official %.3g, armnn %.3g, kws runtime %.3g\n",
                GetParam().c_str(), softmax ? "+softmax" : " logits", max_official, max_armnn, max_kws);
    EXPECT_LE(max_official, 1e-5);
    EXPECT_LE(max_armnn, 1e-5);
    EXPECT_LE(max_kws, 1e-5);
  }
  if (!official) GTEST_SKIP() << "official interpreter part skipped: " << why;
  if (!armnn) GTEST_SKIP() << "Arm NN part skipped: " << why_armnn;
}

TEST_P(Loaders, DynamicRangeMatchesOfficial) {
  std::string why;
  if (!HaveOfficial(&why)) GTEST_SKIP() << why;
  ir::Graph g = MakeGraph(GetParam(), /*softmax=*/false);
  ExportOptions eo;
  eo.quant = QuantMode::kDynamic;
  ExportInfo info;
  std::string model = ExportTflite(g, eo, nullptr, &info);
  ASSERT_GT(info.quantized_weight_tensors, 0) << "variant has no hybrid op: test would be vacuous";
  auto rt = rt::Interpreter::FromBuffer("dynamic.tflite", model);
  EXPECT_EQ(rt.model_kind(), "hybrid");
  double max_kws = 0, max_ref = 0, range = 0;
  const auto xs = ir::SyntheticInputs(g, 3, 6);
  std::string batch;
  for (const auto& x : xs) batch += FloatBytes(x);
  ToolResult r = RunOfficial(model, batch);
  ASSERT_TRUE(r.ok) << r.error;
  for (size_t b = 0; b < xs.size(); ++b) {
    std::vector<float> mine = rt.RunFloat(xs[b].data());
    std::vector<float> ref = ir::Evaluate(g, xs[b].data());
    std::vector<double> off = Slice(r.values, b, ref.size());
    max_kws = std::max(max_kws, MaxRelDiff(off, mine));
    for (size_t i = 0; i < ref.size(); ++i) {
      max_ref = std::max(max_ref, std::fabs(off[i] - ref[i]));
      range = std::max(range, double(std::fabs(ref[i])));
    }
  }
  std::printf("[%s dynamic logits] official vs kws runtime max rel diff %.3g; official vs float reference max abs "
              "diff %.3g (logit range %.3g)\n", GetParam().c_str(), max_kws, max_ref, range);
  EXPECT_LE(max_kws, 1e-3);
  EXPECT_LE(max_ref, 0.05 * std::max(range, 1.0));  // int8 weights: a few % of the logit range at most
}

TEST_P(Loaders, DynamicRangeArmnn) {
  std::string why;
  if (!HaveArmnn(&why)) GTEST_SKIP() << why;
  ir::Graph g = MakeGraph(GetParam(), false);
  ExportOptions eo;
  eo.quant = QuantMode::kDynamic;
  std::string model = ExportTflite(g, eo);
  auto x = ir::SyntheticInputs(g, 1, 6)[0];
  ToolResult r = RunArmnn(model, FloatBytes(x));
  if (!r.ok)
    GTEST_SKIP() << "Arm NN 20.08 cannot run dynamic-range (hybrid: float activations with int8 weights) models: "
                 << r.error;
  std::vector<float> ref = ir::Evaluate(g, x.data());
  double m = 0, range = 1;
  for (size_t i = 0; i < ref.size(); ++i) {
    m = std::max(m, std::fabs(r.values[i] - ref[i]));
    range = std::max(range, double(std::fabs(ref[i])));
  }
  std::printf("[%s dynamic armnn] max abs diff vs float reference %.3g\n", GetParam().c_str(), m);
  EXPECT_LE(m, 0.05 * range);
}

// int8: kws's runtime must produce exactly the official interpreter's output bytes, op by op and end to
// end. (The official WebAssembly build runs int8 conv/depthwise/FC/pooling through its always-on XNNPACK
// delegate; the single-op cases below localize any difference to one op and report it in LSB.)
struct Int8Compare {
  int differing = 0, total = 0, max_lsb = 0;
  double max_prob_diff = 0;  // dequantized official output vs float reference
};

Int8Compare CompareInt8(const ir::Graph& g, int calib, int inputs, std::string* armnn_note, int* armnn_lsb,
                        ExportOptions eo = {}) {
  auto cal = Calibrate(g, ir::SyntheticInputs(g, calib, 99));
  eo.quant = QuantMode::kInt8;
  ExportInfo info;
  std::string model = ExportTflite(g, eo, &cal, &info);
  auto rt = rt::Interpreter::FromBuffer("int8.tflite", model);
  EXPECT_EQ(rt.model_kind(), "int8");
  std::string why;
  bool armnn = armnn_note && HaveArmnn(&why);
  Int8Compare c;
  const auto xs = ir::SyntheticInputs(g, inputs, 8);
  std::string batch;
  for (const auto& x : xs) batch += QuantizeInput(x, info.input_quant);
  ToolResult r = RunOfficial(model, batch);
  EXPECT_TRUE(r.ok) << r.error;
  if (!r.ok) return c;
  EXPECT_EQ(r.type, "int8");
  ToolResult a;
  if (armnn) {
    a = RunArmnn(model, batch);
    if (!a.ok) *armnn_note = a.error;
  }
  const size_t in_bytes = g.NumElements(g.input);
  for (size_t b = 0; b < xs.size(); ++b) {
    std::vector<float> ref = ir::Evaluate(g, xs[b].data());
    std::memcpy(rt.input_data(0), batch.data() + b * in_bytes, in_bytes);
    rt.Invoke();
    const int8_t* mine = static_cast<const int8_t*>(rt.output_data(0));
    std::vector<double> off = Slice(r.values, b, ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      double p = (off[i] - info.output_quant.zero_point) * info.output_quant.scale;
      c.max_prob_diff = std::max(c.max_prob_diff, std::fabs(p - ref[i]));
      int d = std::abs(int(off[i]) - int(mine[i]));
      c.differing += d != 0;
      c.max_lsb = std::max(c.max_lsb, d);
      ++c.total;
    }
    if (armnn && a.ok) {
      std::vector<double> arm = Slice(a.values, b, ref.size());
      for (size_t i = 0; i < ref.size(); ++i) *armnn_lsb = std::max(*armnn_lsb, std::abs(int(arm[i]) - int(mine[i])));
    }
  }
  return c;
}

TEST(LoadersInt8, SingleOpsIdenticalToOfficial) {
  std::string why;
  if (!HaveOfficial(&why)) GTEST_SKIP() << why;
  Rng rng(5);
  auto rnd = [&](size_t n, double sd) {
    std::vector<float> v(n);
    for (auto& x : v) x = float(rng.Normal() * sd);
    return v;
  };
  struct Case { const char* name; ir::Graph g; };
  std::vector<Case> cases;
  auto base = [] { ir::Graph g; g.AddInput({1, 20, 10, 8}, "input"); return g; };
  {
    ir::Graph g = base();
    g.Conv2D(0, rnd(16 * 9 * 8, 0.2), {16, 3, 3, 8}, rnd(16, 0.3), 2, 1, ir::Padding::kSame, ir::Activation::kNone, "conv");
    cases.push_back({"CONV_2D", std::move(g)});
  }
  {
    ir::Graph g = base();
    g.DepthwiseConv2D(0, rnd(9 * 16, 0.3), {1, 3, 3, 16}, rnd(16, 0.3), 2, 1, 1, ir::Padding::kSame,
                      ir::Activation::kRelu, "dw");
    cases.push_back({"DEPTHWISE_CONV_2D", std::move(g)});
  }
  {
    ir::Graph g = base();
    g.FullyConnected(0, rnd(12 * 1600, 0.05), {12, 1600}, rnd(12, 0.3), ir::Activation::kNone, "fc");
    cases.push_back({"FULLY_CONNECTED", std::move(g)});
  }
  {
    ir::Graph g = base();
    g.AveragePool2D(0, 3, 3, 2, 2, ir::Padding::kSame, "avg");
    cases.push_back({"AVERAGE_POOL_2D", std::move(g)});
  }
  {
    ir::Graph g = base();
    g.MaxPool2D(0, 2, 2, 2, 2, ir::Padding::kValid, "max");
    cases.push_back({"MAX_POOL_2D", std::move(g)});
  }
  {
    ir::Graph g = base();
    g.Mean(0, "mean");
    cases.push_back({"MEAN", std::move(g)});
  }
  {
    ir::Graph g = base();
    int x = g.Reshape(0, {1, 1600}, "flatten");
    x = g.FullyConnected(x, rnd(10 * 1600, 0.05), {10, 1600}, {}, ir::Activation::kNone, "fc");
    g.Softmax(x, 1.0f, "softmax");
    cases.push_back({"RESHAPE+FC+SOFTMAX", std::move(g)});
  }
  for (auto& c : cases) {
    c.g.SetOutput(int(c.g.shapes.size()) - 1);
    Int8Compare r = CompareInt8(c.g, 16, 4, nullptr, nullptr);
    std::printf("[int8 %s] official vs kws runtime: %d of %d outputs differ, max %d LSB\n", c.name, r.differing,
                r.total, r.max_lsb);
    EXPECT_EQ(r.differing, 0) << c.name << ": kws int8 output differs from the official interpreter (max "
                              << r.max_lsb << " LSB)";
  }
}

TEST_P(Loaders, Int8NetworkCloseToOfficialAndReference) {
  std::string why;
  if (!HaveOfficial(&why)) GTEST_SKIP() << why;
  ir::Graph g = MakeGraph(GetParam(), /*softmax=*/true);
  std::string armnn_note;
  int armnn_lsb = 0;
  Int8Compare c = CompareInt8(g, 32, 8, &armnn_note, &armnn_lsb);
  std::printf("[%s int8] official vs kws runtime: %d of %d outputs differ, max %d LSB (1/256); official dequantized "
              "vs float reference max diff %.3g; Arm NN vs kws max %d LSB%s\n",
              GetParam().c_str(), c.differing, c.total, c.max_lsb, c.max_prob_diff, armnn_lsb,
              armnn_note.empty() ? "" : (" (Arm NN failed: " + armnn_note + ")").c_str());
  EXPECT_EQ(c.differing, 0) << "max " << c.max_lsb << " LSB";  // identical to the official interpreter
  EXPECT_LE(c.max_prob_diff, 0.1);   // int8 end to end stays close to float
  EXPECT_LE(armnn_lsb, 1);           // Arm NN has its own integer arithmetic: allow 1 LSB
  if (!armnn_note.empty()) GTEST_SKIP() << "Arm NN part failed: " << armnn_note;
}

// Exporter size options (issue 4): per-tensor int8 weights and MEAN written as a whole-extent
// AVERAGE_POOL_2D. kws's runtime must still match the official interpreter byte for byte, Arm NN within 1 LSB.
TEST_P(Loaders, Int8SizeOptionsIdenticalToOfficial) {
  std::string why;
  if (!HaveOfficial(&why)) GTEST_SKIP() << why;
  ir::Graph g = MakeGraph(GetParam(), /*softmax=*/true);
  struct V { const char* name; Int8Weights w; GlobalPool p; };
  for (const V& v : {V{"per-tensor", Int8Weights::kPerTensor, GlobalPool::kMean},
                     V{"avg-pool", Int8Weights::kPerChannel, GlobalPool::kAveragePool},
                     V{"per-tensor+avg-pool", Int8Weights::kPerTensor, GlobalPool::kAveragePool}}) {
    ExportOptions eo;
    eo.int8_weights = v.w;
    eo.global_pool = v.p;
    std::string armnn_note;
    int armnn_lsb = 0;
    Int8Compare c = CompareInt8(g, 32, 8, &armnn_note, &armnn_lsb, eo);
    std::printf("[%s int8 %s] official vs kws runtime: %d of %d outputs differ, max %d LSB; official dequantized vs "
                "float reference max diff %.3g; Arm NN vs kws max %d LSB%s\n",
                GetParam().c_str(), v.name, c.differing, c.total, c.max_lsb, c.max_prob_diff, armnn_lsb,
                armnn_note.empty() ? "" : (" (Arm NN failed: " + armnn_note + ")").c_str());
    EXPECT_GT(c.total, 0) << v.name;
    EXPECT_EQ(c.differing, 0) << v.name << ": max " << c.max_lsb << " LSB";
    EXPECT_LE(c.max_prob_diff, 0.15) << v.name;
    // Arm NN 20.08 (CpuRef) differs from the official interpreter by up to 3 LSB on the "reshape" graph
    // with per-tensor conv weights (measured; kws == official there), 0 on the others.
    EXPECT_LE(armnn_lsb, v.w == Int8Weights::kPerTensor ? 3 : 1) << v.name;
    EXPECT_TRUE(armnn_note.empty()) << v.name << ": Arm NN failed: " << armnn_note;
  }
}

// Old-converter op codes (only deprecated_builtin_code set) and a SignatureDef: the official interpreter,
// Arm NN and kws must all read them.
TEST(LoadersFormat, LegacyOpcodesAndSignature) {
  std::string why, why_armnn;
  bool official = HaveOfficial(&why), armnn = HaveArmnn(&why_armnn);
  if (!official && !armnn) GTEST_SKIP() << why << "; " << why_armnn;
  ir::Graph g = MakeGraph("pools", false);
  ExportOptions eo;
  eo.legacy_opcodes = true;
  eo.write_signature = true;
  std::string model = ExportTflite(g, eo);
  const auto* m = tfl::VerifiedModel(model, "legacy.tflite");
  for (const auto* oc : *m->operator_codes()) EXPECT_EQ(int(oc->builtin_code()), 0);
  ASSERT_NE(m->signature_defs(), nullptr);
  auto x = ir::SyntheticInputs(g, 1, 3)[0];
  std::vector<float> ref = ir::Evaluate(g, x.data());
  auto rt = rt::Interpreter::FromBuffer("legacy.tflite", model);
  std::vector<float> mine = rt.RunFloat(x.data());
  EXPECT_LE(MaxRelDiff(std::vector<double>(mine.begin(), mine.end()), ref), 1e-5);
  if (official) {
    ToolResult r = RunOfficial(model, FloatBytes(x));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_LE(MaxRelDiff(r.values, ref), 1e-5);
  }
  if (armnn) {
    ToolResult r = RunArmnn(model, FloatBytes(x));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_LE(MaxRelDiff(r.values, ref), 1e-5);
  }
}

// Hybrid paths beyond the converter defaults: FULLY_CONNECTED with symmetric on-the-fly input
// quantization (asymmetric_quantize_inputs = false, op version 3) and a single-output-channel conv (one
// weight scale: TFLite's per-tensor hybrid conv path, symmetric input quantization), and a hybrid
// per-channel DEPTHWISE_CONV_2D.
TEST(LoadersDynamic, SymmetricFcPerTensorConvAndDepthwiseMatchOfficial) {
  std::string why;
  if (!HaveOfficial(&why)) GTEST_SKIP() << why;
  Rng rng(21);
  auto rnd = [&](size_t n, double sd) {
    std::vector<float> v(n);
    for (auto& x : v) x = float(rng.Normal() * sd);
    return v;
  };
  ir::Graph g;
  int x = g.AddInput({1, 24, 12, 16}, "input");
  x = g.Conv2D(x, rnd(1 * 8 * 8 * 16, 0.05), {1, 8, 8, 16}, {0.1f}, 1, 1, ir::Padding::kSame, ir::Activation::kRelu,
               "conv_one_channel");  // 1024 weights, one output channel
  x = g.Reshape(x, {1, 24 * 12}, "flatten");
  x = g.FullyConnected(x, rnd(8 * 288, 0.1), {8, 288}, rnd(8, 0.1), ir::Activation::kNone, "fc");  // 2304 weights
  g.SetOutput(x);
  ExportOptions eo;
  eo.quant = QuantMode::kDynamic;
  eo.dynamic_fc_asymmetric_inputs = false;
  ExportInfo info;
  std::string model = ExportTflite(g, eo, nullptr, &info);
  ASSERT_EQ(info.quantized_weight_tensors, 2);
  auto rt = rt::Interpreter::FromBuffer("sym.tflite", model);
  const auto xs = ir::SyntheticInputs(g, 3, 4);
  std::string batch;
  for (const auto& v : xs) batch += FloatBytes(v);
  ToolResult r = RunOfficial(model, batch);
  ASSERT_TRUE(r.ok) << r.error;
  double max_kws = 0;
  for (size_t b = 0; b < xs.size(); ++b) {
    std::vector<float> mine = rt.RunFloat(xs[b].data());
    max_kws = std::max(max_kws, MaxRelDiff(Slice(r.values, b, mine.size()), mine));
  }
  std::printf("[symmetric hybrid] official vs kws runtime max rel diff %.3g\n", max_kws);
  EXPECT_LE(max_kws, 1e-3);

  // Hybrid DEPTHWISE_CONV_2D (per-channel along dimension 3, op version 6): 3x3x128 = 1152 weights.
  ir::Graph d;
  int y = d.AddInput({1, 12, 10, 32}, "input");
  y = d.DepthwiseConv2D(y, rnd(3 * 3 * 128, 0.3), {1, 3, 3, 128}, rnd(128, 0.1), 4, 2, 1, ir::Padding::kSame,
                        ir::Activation::kRelu6, "dw_hybrid");
  d.SetOutput(y);
  ExportInfo dinfo;
  std::string dmodel = ExportTflite(d, ExportOptions{.quant = QuantMode::kDynamic}, nullptr, &dinfo);
  ASSERT_EQ(dinfo.quantized_weight_tensors, 1);
  auto drt = rt::Interpreter::FromBuffer("dw_hybrid.tflite", dmodel);
  EXPECT_EQ(drt.model_kind(), "hybrid");
  std::vector<std::vector<float>> dxs(2, std::vector<float>(d.NumElements(0)));
  for (auto& v : dxs)
    for (auto& e : v) e = float(rng.Uniform(-2, 3));
  std::string dbatch = FloatBytes(dxs[0]) + FloatBytes(dxs[1]);
  ToolResult dr = RunOfficial(dmodel, dbatch);
  ASSERT_TRUE(dr.ok) << dr.error;
  double max_dw = 0, max_dw_ref = 0;
  for (size_t b = 0; b < dxs.size(); ++b) {
    std::vector<float> mine = drt.RunFloat(dxs[b].data());
    std::vector<double> off = Slice(dr.values, b, mine.size());
    max_dw = std::max(max_dw, MaxRelDiff(off, mine));
    std::vector<float> ref = ir::Evaluate(d, dxs[b].data());
    for (size_t i = 0; i < ref.size(); ++i) max_dw_ref = std::max(max_dw_ref, std::fabs(off[i] - ref[i]));
  }
  std::printf("[hybrid depthwise] official vs kws runtime max rel diff %.3g; official vs float reference %.3g\n",
              max_dw, max_dw_ref);
  EXPECT_LE(max_dw, 1e-3);
  EXPECT_LE(max_dw_ref, 0.1);
}

// int8 with float input/output (QUANTIZE first, DEQUANTIZE last): the float outputs must be identical.
TEST(LoadersInt8, FloatIoIdenticalToOfficial) {
  std::string why;
  if (!HaveOfficial(&why)) GTEST_SKIP() << why;
  ir::Graph g = MakeGraph("seed", true);
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 16, 99));
  ExportOptions eo;
  eo.quant = QuantMode::kInt8;
  eo.int8_io = false;
  std::string model = ExportTflite(g, eo, &cal);
  auto rt = rt::Interpreter::FromBuffer("floatio.tflite", model);
  const auto xs = ir::SyntheticInputs(g, 4, 12);
  std::string batch;
  for (const auto& v : xs) batch += FloatBytes(v);
  ToolResult r = RunOfficial(model, batch);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.type, "float32");
  int differing = 0;
  for (size_t b = 0; b < xs.size(); ++b) {
    std::vector<float> mine = rt.RunFloat(xs[b].data());
    std::vector<double> off = Slice(r.values, b, mine.size());
    for (size_t i = 0; i < mine.size(); ++i) differing += float(off[i]) != mine[i];
  }
  EXPECT_EQ(differing, 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, Loaders, ::testing::Values("seed", "depthwise", "pools", "reshape", "merged"));

}  // namespace
}  // namespace kws
