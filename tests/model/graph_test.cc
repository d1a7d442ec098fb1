// Model graphs: named inputs, residual sums with broadcasting, fan-out (gradients summed), blocks with
// parameters and repeats, the checkpoint round trip, the summary, and every bad graph refused with the
// layer named, before any data is read.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace kws {
namespace {

using json = nlohmann::json;

template <class F>
void ExpectUsage(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(int(e.kind()), int(ErrorKind::kUsage)) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

// A residual block with a broadcast branch: conv -> (mean over W -> conv1x1) + conv -> relu -> GAP -> dense.
json ResidualLayers() {
  return json::parse(R"([
    {"type":"conv2d","name":"c1","filters":4,"kernel":3,"padding":"same"},
    {"type":"mean","name":"m","axis":"w"},
    {"type":"conv2d","name":"p","filters":4,"kernel":1},
    {"type":"add","name":"sum","inputs":["p","c1"]},
    {"type":"swish","name":"r"},
    {"type":"global_average_pool","name":"gap"},
    {"type":"dense","name":"fc"}])");
}

std::vector<float> Randn(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.Uniform(-1, 1));
  return v;
}

TEST(Graph, SequentialListsStaySequential) {
  Model m = Model::Build(json::parse(R"([{"type":"conv2d","filters":2,"kernel":3},{"type":"relu"},
                                         {"type":"global_average_pool"},{"type":"dense"}])"),
                         {6, 5, 1}, 2, 1);
  EXPECT_TRUE(m.IsSequential());
  for (const json& l : m.LayersConfig()) EXPECT_FALSE(l.contains("inputs")) << l.dump();
}

TEST(Graph, ResidualForwardMatchesHandWiring) {
  Model m = Model::Build(ResidualLayers(), {6, 5, 1}, 3, 2);
  EXPECT_FALSE(m.IsSequential());
  const auto& L = m.layers();
  ASSERT_EQ(L.size(), 7u);
  EXPECT_EQ(m.inputs(3), (std::vector<int>{2, 0}));
  EXPECT_EQ(m.consumers(0), (std::vector<int>{1, 3}));  // fan-out: mean and the sum
  const int B = 2;
  std::vector<float> x = Randn(size_t(B) * 30, 3);
  const float* logits = m.Forward(x.data(), B, false);
  // Wire the same layers by hand.
  std::vector<float> c1(B * 6 * 5 * 4), mw(B * 6 * 4), p(B * 6 * 4), sum(c1.size()), r(c1.size()), g(B * 4), fc(B * 3);
  L[0]->Forward(x.data(), c1.data(), B, false);
  L[1]->Forward(c1.data(), mw.data(), B, false);
  L[2]->Forward(mw.data(), p.data(), B, false);
  for (int n = 0; n < B; ++n)
    for (int h = 0; h < 6; ++h)
      for (int w = 0; w < 5; ++w)
        for (int c = 0; c < 4; ++c) {
          const size_t i = ((size_t(n) * 6 + h) * 5 + w) * 4 + c;
          sum[i] = p[(size_t(n) * 6 + h) * 4 + c] + c1[i];
        }
  L[4]->Forward(sum.data(), r.data(), B, false);
  L[5]->Forward(r.data(), g.data(), B, false);
  L[6]->Forward(g.data(), fc.data(), B, false);
  for (int i = 0; i < B * 3; ++i) EXPECT_FLOAT_EQ(logits[i], fc[size_t(i)]);
}

// The whole model's parameter gradients against central differences of the loss: c1's output fans out
// to two readers, so its gradient is the sum of both paths (missing either fails by O(1)).
TEST(Graph, FanOutGradientsAreSummed) {
  SetNumThreads(1);
  Model m = Model::Build(ResidualLayers(), {6, 5, 1}, 3, 4);
  const int B = 3;
  std::vector<float> x = Randn(size_t(B) * 30, 5);
  std::vector<int32_t> y = {0, 2, 1};
  auto loss = [&] {
    m.Forward(x.data(), B, true);
    return double(m.Loss(y.data(), B));
  };
  loss();
  m.ZeroGrad();
  m.Backward(B);
  for (Param* p : m.Params()) {
    const std::vector<float> ana = p->grad;
    for (size_t i = 0; i < p->value.size(); i += 3) {
      const float v = p->value[i], h = 1e-2f;
      p->value[i] = v + h;
      const double lp = loss();
      p->value[i] = v - h;
      const double lm = loss();
      p->value[i] = v;
      const double num = (lp - lm) / (2.0 * h);
      EXPECT_NEAR(num, ana[i], 2e-3 * std::max(1.0, std::fabs(num))) << p->name << "[" << i << "]";
    }
  }
  SetNumThreads(0);
}

TEST(Graph, ListedOrderNeedNotBeExecutionOrder) {
  json layers = ResidualLayers();
  std::swap(layers[1], layers[2]);  // p listed before m, which it reads
  layers[2]["name"] = "m", layers[1]["name"] = "p";
  layers[1]["inputs"] = "m", layers[2]["inputs"] = "c1";
  Model m = Model::Build(layers, {6, 5, 1}, 3, 2);
  EXPECT_EQ(m.layers()[1]->name, "m");
  EXPECT_EQ(m.layers()[2]->name, "p");
  // The stored list rebuilds the same graph.
  Model again = Model::Build(m.LayersConfig(), {6, 5, 1}, 3, 2);
  EXPECT_EQ(again.LayersConfig(), m.LayersConfig());
}

TEST(Graph, BadGraphsNameTheLayer) {
  json cycle = ResidualLayers();
  cycle[1]["inputs"] = "p";  // m reads p, p reads m
  ExpectUsage([&] { Model::Build(cycle, {6, 5, 1}, 3, 1); }, "its inputs form a cycle (");
  json missing = ResidualLayers();
  missing[3]["inputs"] = json::array({"p", "c9"});
  ExpectUsage([&] { Model::Build(missing, {6, 5, 1}, 3, 1); }, "layer 'sum': input 'c9' is not the name of a layer");
  json shapes = ResidualLayers();
  shapes[3]["inputs"] = json::array({"p", "m"});  // 6x1x4 + 6x1x1: fine; make it 6x5x4 + 6x1x1 + mismatch
  shapes[2]["strides"] = 2;                        // p: 3x1x4 cannot add to 6x5x4
  shapes[3]["inputs"] = json::array({"p", "c1"});
  ExpectUsage([&] { Model::Build(shapes, {6, 5, 1}, 3, 1); }, "layer 'sum': cannot add shapes 3x1x4 and 6x5x4");
  json unused = ResidualLayers();
  unused[3]["inputs"] = json::array({"c1", "c1"});
  ExpectUsage([&] { Model::Build(unused, {6, 5, 1}, 3, 1); }, "layer 'p': its output is not read by any layer");
  json reserved = ResidualLayers();
  reserved[0]["name"] = "input";
  ExpectUsage([&] { Model::Build(reserved, {6, 5, 1}, 3, 1); }, "reserved for the model input");
  json one = ResidualLayers();
  one[3]["inputs"] = "p";
  ExpectUsage([&] { Model::Build(one, {6, 5, 1}, 3, 1); }, "layer 'sum': takes at least 2 inputs, got 1");
  json twice = ResidualLayers();
  twice[4]["inputs"] = json::array({"sum", "c1"});
  ExpectUsage([&] { Model::Build(twice, {6, 5, 1}, 3, 1); }, "layer 'r': takes 1 input, got 2");
}

TEST(Graph, CheckpointStoresTheGraph) {
  Model m = Model::Build(ResidualLayers(), {6, 5, 1}, 3, 6);
  std::vector<float> x = Randn(60, 7), a(6), b(6);
  m.Predict(x.data(), 2, a.data());
  Checkpoint c = CaptureModel(m);
  c.labels = {"a", "b", "c"};
  const Checkpoint back = ParseCheckpoint(SerializeCheckpoint(c), "mem");
  Model r = ModelFromCheckpoint(back);
  EXPECT_FALSE(r.IsSequential());
  r.Predict(x.data(), 2, b.data());
  EXPECT_EQ(a, b);
  EXPECT_EQ(back.layers[3]["inputs"], json::array({"p", "c1"}));
}

TEST(Graph, SummaryListsShapesParamsAndMacs) {
  Model m = Model::Build(ResidualLayers(), {6, 5, 1}, 3, 6);
  const std::string s = m.Summary();
  EXPECT_NE(s.find("c1"), std::string::npos);
  EXPECT_NE(s.find("6x5x4"), std::string::npos);
  EXPECT_NE(s.find("6x1x4"), std::string::npos);
  EXPECT_NE(s.find("p, c1"), std::string::npos) << s;  // graph layers list their inputs
  // c1: 6*5*4 outputs x 9 taps = 1,080 MACs; p: 6*4*4 = 96; fc: 4*3 = 12.
  EXPECT_EQ(m.Macs(), 1080 + 96 + 12);
  EXPECT_NE(s.find("1,188"), std::string::npos) << s;
}

const char* kBlockConfig = R"(
[features]
num_mel_bins = 10

[[model.blocks]]
name = "res"
params = { channels = 4, dilation = 1 }
[[model.blocks.layers]]
type = "depthwise_conv2d"
name = "dw"
kernel = [3, 1]
dilation = ["$dilation", 1]
padding = "same"
[[model.blocks.layers]]
type = "conv2d"
name = "pw"
filters = "$channels"
kernel = 1
[[model.blocks.layers]]
type = "add"
inputs = ["pw", "input"]

[[model.layers]]
type = "conv2d"
filters = 4
kernel = 3
padding = "same"
[[model.layers]]
type = "block"
block = "res"
name = "stage"
repeat = 2
dilation = 2
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"

[data]
labels = ["yes", "no"]
)";

TEST(Blocks, ExpandWithParametersAndRepeats) {
  Config c = ParseConfig(kBlockConfig, "blocks.toml");
  ASSERT_EQ(c.layers.size(), 9u);
  EXPECT_EQ(c.layers[1]["name"], "stage_1/dw");
  EXPECT_EQ(c.layers[1]["dilation"], json::array({2, 1}));
  EXPECT_EQ(c.layers[1]["inputs"], json::array({"conv2d_1"}));
  EXPECT_EQ(c.layers[3]["inputs"], json::array({"stage_1/pw", "conv2d_1"}));
  EXPECT_EQ(c.layers[4]["inputs"], json::array({"stage_1/add_1"}));
  EXPECT_EQ(c.layers[6]["inputs"], json::array({"stage_2/pw", "stage_1/add_1"}));
  Model m = Model::Build(c.layers, {49, 10, 1}, 2, 1);
  EXPECT_EQ(m.layers().size(), 9u);
  // The resolved settings keep the blocks as written; a config without blocks has no model.blocks key.
  EXPECT_TRUE(c.table["model"].contains("blocks"));
  EXPECT_FALSE(ParseConfig("[[model.layers]]\ntype = \"dense\"\n", "x.toml").table["model"].contains("blocks"));
  EXPECT_EQ(ConfigFromJson(c.table, "again").layers, c.layers);
}

TEST(Blocks, BadBlocksNameTheLayer) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kBlockConfig;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  ExpectUsage([&] { ParseConfig(with("repeat = 2", "repeat = 0"), "b.toml"); },
              "layer 'stage': block 'res' repeats 0 times");
  ExpectUsage([&] { ParseConfig(with("block = \"res\"", "block = \"rez\""), "b.toml"); },
              "layer 'stage': no block named 'rez'");
  ExpectUsage([&] { ParseConfig(with("dilation = 2\n", "dilations = 2\n"), "b.toml"); },
              "layer 'stage': block 'res' has no parameter 'dilations'");
  ExpectUsage([&] { ParseConfig(with("\"$channels\"", "\"$chanels\""), "b.toml"); },
              "block 'res', layer 'pw': unknown parameter '$chanels'");
  ExpectUsage([&] { ParseConfig(with("inputs = [\"pw\", \"input\"]", "inputs = [\"pw\", \"dx\"]"), "b.toml"); },
              "block 'res', layer 'add_1': input 'dx' is not a layer of the block");
}

// `kws train` refuses a bad graph with exit code 1 and the layer named, before reading any data: the
// data folder does not even exist.
TEST(Graph, CliRefusesBadGraphsBeforeReadingData) {
  namespace fs = std::filesystem;
  if (!fs::exists(KWS_BINARY)) GTEST_SKIP() << "kws binary not built";
  const fs::path dir = fs::temp_directory_path() / ("kws_graph_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Case {
    std::string from, to, needle;
  };
  for (const Case& k : {Case{"repeat = 2", "repeat = 0", "layer 'stage': block 'res' repeats 0 times"},
                        Case{"inputs = [\"pw\", \"input\"]", "inputs = [\"pw\", \"nope\"]", "input 'nope'"},
                        Case{"kernel = 1\n", "kernel = 1\nstrides = 2\n", "cannot add shapes"},
                        Case{"name = \"dw\"\n", "name = \"dw\"\ninputs = \"add_1\"\n", "cycle"}}) {
    std::string text = kBlockConfig;
    text.replace(text.find(k.from), k.from.size(), k.to);
    AtomicWriteFile(dir / "bad.toml", text);
    const std::string cmd = std::string(KWS_BINARY) + " train --config " + (dir / "bad.toml").string() +
                            " --data " + (dir / "no_such_data").string() + " --out " + (dir / "run").string() +
                            " > " + (dir / "out.txt").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    const std::string out = ReadFile(dir / "out.txt");
    EXPECT_EQ(WEXITSTATUS(rc), 1) << out;
    EXPECT_NE(out.find(k.needle), std::string::npos) << out;
    EXPECT_EQ(out.find("no_such_data"), std::string::npos) << "data was looked at: " << out;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kws
