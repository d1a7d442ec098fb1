// Graph models (configs/zoo and small graphs with every new layer) exported to float, dynamic-range and
// int8 .tflite and run in the official TFLite interpreter (WebAssembly, tools/js/tflite_run.js):
//  - float: the official interpreter's probabilities equal the kws model's own (Model::Predict) to 1e-4;
//  - kws's runtime on the same files: float within 1e-5 of the official interpreter, dynamic within 1e-3,
//    int8 bit for bit; the official int8/dynamic probabilities stay near the float model's (quantization
//    error only).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "export/from_model.h"
#include "export/reference_eval.h"
#include "export/tflite_export.h"
#include "model/config.h"
#include "model/model.h"
#include "runtime/interpreter.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"
#include "support/command.h"

namespace kws {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using kws_test::RunForOutput;

// Random (non-trivial) BN/SSN statistics and affine parameters, small biases.
void Randomize(Model& m, uint64_t seed) {
  Rng rng(seed);
  for (Param* p : m.Params()) {
    const std::string& n = p->name;
    if (n.find("gamma") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(0.5, 1.5));
    else if (n.find("beta") != std::string::npos || n.find("bias") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(-0.3, 0.3));
  }
  for (Param* p : m.Buffers()) {
    if (p->name.find("moving_mean") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(-0.3, 0.3));
    if (p->name.find("moving_variance") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(0.5, 2.0));
  }
}

class GraphExport : public ::testing::Test {
 protected:
  void SetUp() override {
    js_ = fs::path(KWS_SOURCE_DIR) / "tools/js";
    if (!fs::exists(js_ / "node_modules/@tensorflow/tfjs-tflite"))
      GTEST_SKIP() << "tools/js/node_modules missing: official interpreter unavailable";
    int st = 0;
    RunForOutput("node --version", &st);
    if (st != 0) GTEST_SKIP() << "node not found";
    dir_ = fs::temp_directory_path() / ("kws_graph_export_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Output 0 of the official interpreter for each raw input (the tensor's own type), concatenated.
  std::vector<double> Official(const std::string& name, const std::string& model, const std::vector<std::string>& raw) {
    const fs::path mp = dir_ / (name + ".tflite"), ip = dir_ / (name + ".bin");
    AtomicWriteFile(mp, model);
    std::string all;
    for (const auto& r : raw) all += r;
    AtomicWriteFile(ip, all);
    int st = 0;
    const std::string js = RunForOutput("node " + (js_ / "tflite_run.js").string() + " " + mp.string() + " " + ip.string() +
                                      " 2>&1", &st);
    EXPECT_EQ(st, 0) << name << ": " << js;
    if (st != 0) return {};
    return json::parse(js.substr(js.find('{')))["values"].get<std::vector<double>>();
  }

  void CheckModel(const std::string& name, Model& m, int inputs = 3);

  fs::path js_, dir_;
};

std::string FloatBytes(const std::vector<float>& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

void GraphExport::CheckModel(const std::string& name, Model& m, int inputs) {
  const Shape in = m.input_shape();
  const int C = m.num_outputs();
  Rng rng(42);
  std::vector<std::vector<float>> xs(static_cast<size_t>(inputs)), cal(12);
  for (auto& x : xs) x = std::vector<float>(in.size()), std::generate(x.begin(), x.end(), [&] { return float(rng.Uniform(-3, 3)); });
  for (auto& x : cal) x = std::vector<float>(in.size()), std::generate(x.begin(), x.end(), [&] { return float(rng.Uniform(-3, 3)); });
  std::vector<float> want(static_cast<size_t>(inputs) * C);
  for (int k = 0; k < inputs; ++k) m.Predict(xs[size_t(k)].data(), 1, want.data() + size_t(k) * C);
  const ir::Graph g = GraphFromModel(m);
  const Calibration calib = Calibrate(g, cal);
  std::string report = name + ":";
  for (QuantMode q : {QuantMode::kFloat, QuantMode::kDynamic, QuantMode::kInt8}) {
    SCOPED_TRACE(name + " " + QuantModeName(q));
    ExportOptions o;
    o.quant = q;
    o.dynamic_min_elements = 64;  // quantize the small graphs' weights too
    ExportInfo info;
    const std::string bytes = ExportTflite(g, o, q == QuantMode::kInt8 ? &calib : nullptr, &info);
    std::vector<std::string> raw;
    for (const auto& x : xs) {
      if (q != QuantMode::kInt8) {
        raw.push_back(FloatBytes(x));
        continue;
      }
      std::string r(x.size(), '\0');
      for (size_t i = 0; i < x.size(); ++i)
        r[i] = char(std::clamp<long>(std::lround(x[i] / info.input_quant.scale) + info.input_quant.zero_point, -128, 127));
      raw.push_back(r);
    }
    const std::vector<double> off = Official(name + "_" + QuantModeName(q), bytes, raw);
    ASSERT_EQ(off.size(), want.size());
    double max_diff = 0;
    for (size_t i = 0; i < off.size(); ++i) {
      const double v = q == QuantMode::kInt8 ? (off[i] - info.output_quant.zero_point) * info.output_quant.scale : off[i];
      max_diff = std::max(max_diff, std::fabs(v - want[i]));
    }
    EXPECT_LE(max_diff, q == QuantMode::kFloat ? 1e-4 : 0.15) << "official vs the kws model";
    char buf[160];
    std::snprintf(buf, sizeof buf, " %s official-vs-model %.2g", QuantModeName(q), max_diff);
    report += buf;
    // kws's runtime on the same bytes.
    try {
      rt::Interpreter it = rt::Interpreter::FromBuffer(name, bytes);
      double rt_diff = 0;
      for (size_t k = 0; k < raw.size(); ++k) {
        std::memcpy(it.input_data(0), raw[k].data(), raw[k].size());
        it.Invoke();
        for (int c = 0; c < C; ++c) {
          const double a = q == QuantMode::kInt8 ? double(static_cast<const int8_t*>(it.output_data(0))[c])
                                                 : double(static_cast<const float*>(it.output_data(0))[c]);
          rt_diff = std::max(rt_diff, std::fabs(a - off[k * size_t(C) + size_t(c)]));
        }
      }
      EXPECT_LE(rt_diff, q == QuantMode::kInt8 ? 0.0 : (q == QuantMode::kDynamic ? 1e-3 : 1e-5)) << "kws runtime vs official";
      std::snprintf(buf, sizeof buf, ", kws-vs-official %.2g;", rt_diff);
      report += buf;
    } catch (const Error& e) {
      ADD_FAILURE() << "kws's runtime cannot run the " << QuantModeName(q) << " export: " << e.what();
    }
  }
  std::printf("%s\n", report.c_str());
}

Model ZooModel(const std::string& file) {
  const Config c = LoadConfig((fs::path(KWS_SOURCE_DIR) / "configs/zoo" / file).string());
  const FeatureOptions& f = c.features;
  Model m = Model::Build(c.layers, {f.num_frames(f.window_samples()), f.num_features(), 1}, 12, 3);
  Randomize(m, 5);
  return m;
}

TEST_F(GraphExport, BcResNet1) {
  Model m = ZooModel("bc_resnet1.toml");
  CheckModel("bc_resnet1", m);
}
TEST_F(GraphExport, TcResNet8) {
  Model m = ZooModel("tc_resnet8.toml");
  CheckModel("tc_resnet8", m);
}
TEST_F(GraphExport, DsCnnS) {
  Model m = ZooModel("ds_cnn_s.toml");
  CheckModel("ds_cnn_s", m);
}
TEST_F(GraphExport, LargerZooModels) {
  for (const char* f : {"bc_resnet3", "ds_cnn_m", "seed"}) {
    Model m = ZooModel(std::string(f) + ".toml");
    CheckModel(f, m, 2);
  }
}

// Every new layer in one small graph: dilated and one-axis convs, mixed padding (PAD), SSN (MUL+ADD),
// mean over W, swish (LOGISTIC+MUL), broadcast add with a fused ReLU, concat, reshape, BN after a sum.
TEST_F(GraphExport, EveryGraphLayer) {
  const json layers = json::parse(R"([
    {"type":"conv2d","name":"c","filters":6,"kernel":[3,3],"dilation":[2,1],"padding":"same"},
    {"type":"batchnorm","name":"bn"},
    {"type":"relu","name":"hs"},
    {"type":"depthwise_conv2d","name":"f2","kernel":[1,3],"strides":[1,2],"padding":"same","use_bias":false},
    {"type":"subspectral_norm","name":"ssn","sub_bands":2},
    {"type":"mean","name":"m","axis":"w"},
    {"type":"depthwise_conv2d","name":"f1","kernel":[3,1],"dilation":[2,1],"padding":"same"},
    {"type":"swish","name":"sw"},
    {"type":"add","name":"sum","inputs":["sw","ssn","f2"]},
    {"type":"batchnorm","name":"bn2"},
    {"type":"relu","name":"r"},
    {"type":"conv2d","name":"k","filters":4,"kernel":[5,3],"padding":["same","valid"]},
    {"type":"concat","name":"cat","inputs":["k","k"]},
    {"type":"reshape","name":"rs","shape":[-1,1,8]},
    {"type":"conv2d","name":"t","filters":5,"kernel":[3,1],"strides":[2,1],"padding":"same"},
    {"type":"global_average_pool","name":"gap"},
    {"type":"dense","name":"fc"}])");
  Model m = Model::Build(layers, {12, 8, 1}, 4, 7);
  Randomize(m, 9);
  CheckModel("every_layer", m, 4);
}

// HARD_SWISH (float, dynamic-range and int8).
TEST_F(GraphExport, HardSwish) {
  const json layers = json::parse(R"([
    {"type":"conv2d","name":"c","filters":6,"kernel":3,"padding":"same"},
    {"type":"batchnorm","name":"bn"},
    {"type":"hard_swish","name":"hs"},
    {"type":"global_average_pool","name":"gap"},
    {"type":"dense","name":"fc"}])");
  Model m = Model::Build(layers, {10, 8, 1}, 3, 8);
  Randomize(m, 10);
  CheckModel("hard_swish", m, 4);
}

}  // namespace
}  // namespace kws
