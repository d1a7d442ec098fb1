// Model -> IR (BatchNorm folding, ReLU fusion, dropout removal, masks) and the `kws export` command.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "audio/audio.h"
#include "export/export_model.h"
#include "export/from_model.h"
#include "export/reference_eval.h"
#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "runtime/interpreter.h"
#include "tflite/builder.h"
#include "tflite/metadata.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

namespace kws {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json SeedLikeLayers() {
  return json::parse(R"([
    {"type":"conv2d","filters":8,"kernel":[3,3],"strides":[2,2],"padding":"same","use_bias":false},
    {"type":"batchnorm"}, {"type":"relu"},
    {"type":"depthwise_conv2d","kernel":[3,3],"strides":[1,1],"padding":"same","depth_multiplier":2},
    {"type":"batchnorm"}, {"type":"relu"}, {"type":"dropout","rate":0.3},
    {"type":"max_pool2d","pool_size":[2,2],"strides":[2,2],"padding":"valid"},
    {"type":"batchnorm"},
    {"type":"conv2d","filters":8,"kernel":[3,3],"strides":[1,1],"padding":"valid","use_bias":true},
    {"type":"relu"},
    {"type":"average_pool2d","pool_size":[2,2],"strides":[1,1],"padding":"same"},
    {"type":"global_average_pool"},
    {"type":"dense"},
    {"type":"softmax"}
  ])");
}

// Random BN statistics and ~50% pruned (masked, zeroed) conv/dense kernels.
void Randomize(Model& m, uint64_t seed) {
  Rng rng(seed);
  for (Param* p : m.Params()) {
    if (p->name.find("gamma") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(0.5, 1.5));
    else if (p->name.find("beta") != std::string::npos || p->name.find("bias") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(-0.3, 0.3));
    if (p->prunable) {
      p->mask.assign(p->value.size(), 1);
      for (size_t i = 0; i < p->value.size(); ++i)
        if (rng.Uniform() < 0.5) p->mask[i] = 0, p->value[i] = 0.0f;
    }
  }
  for (Param* p : m.Buffers()) {
    if (p->name.find("moving_mean") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(-0.5, 0.5));
    if (p->name.find("moving_variance") != std::string::npos)
      for (float& v : p->value) v = float(rng.Uniform(0.2, 2.0));
  }
}

TEST(FromModel, FoldedGraphMatchesModelInference) {
  Model m = Model::Build(SeedLikeLayers(), {49, 20, 1}, 5, 3);
  Randomize(m, 4);
  ir::Graph g = GraphFromModel(m);
  // conv(+BN+ReLU), depthwise(+BN+ReLU), maxpool, BN->depthwise 1x1, conv(+ReLU), avgpool, mean, fc, softmax
  std::vector<std::string> kinds;
  for (const auto& op : g.ops) kinds.push_back(ir::OpKindName(op.kind));
  EXPECT_EQ(kinds, (std::vector<std::string>{"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "DEPTHWISE_CONV_2D",
                                             "CONV_2D", "AVERAGE_POOL_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"}));
  EXPECT_EQ(g.ops[0].activation, ir::Activation::kRelu);
  EXPECT_EQ(g.ops[1].activation, ir::Activation::kRelu);
  EXPECT_EQ(g.ops[3].activation, ir::Activation::kNone);
  EXPECT_EQ(g.ops[4].activation, ir::Activation::kRelu);
  // Pruned weights stay exact zeros after folding (conv 0: 8*3*3*1 weights, about half masked).
  int zeros = 0;
  for (float w : g.ops[0].weights) zeros += w == 0.0f;
  EXPECT_GT(zeros, 20);

  auto inputs = ir::SyntheticInputs(g, 4, 2);
  std::vector<float> probs(5);
  double max_diff = 0;
  for (const auto& x : inputs) {
    m.Predict(x.data(), 1, probs.data());
    std::vector<float> ref = ir::Evaluate(g, x.data());
    for (int c = 0; c < 5; ++c) max_diff = std::max(max_diff, double(std::fabs(ref[c] - probs[c])));
  }
  EXPECT_LT(max_diff, 2e-5);

  // Logits too (no softmax): compare against Forward.
  ir::Graph gl = GraphFromModel(m, /*softmax=*/false);
  const float* logits = m.Forward(inputs[0].data(), 1, false);
  std::vector<float> ref = ir::Evaluate(gl, inputs[0].data());
  for (int c = 0; c < 5; ++c) EXPECT_NEAR(ref[c], logits[c], 1e-4 * std::max(1.0f, std::fabs(logits[c])));

  // And through the .tflite file and the kws runtime.
  auto it = rt::Interpreter::FromBuffer("m.tflite", ExportTflite(g, ExportOptions{}));
  std::vector<float> out = it.RunFloat(inputs[1].data());
  m.Predict(inputs[1].data(), 1, probs.data());
  for (int c = 0; c < 5; ++c) EXPECT_NEAR(out[c], probs[c], 2e-5);
}

TEST(FromModel, UnfusableReluIsAnError) {
  json layers = json::parse(R"([
    {"type":"conv2d","filters":4,"kernel":[3,3],"strides":[1,1],"padding":"same"},
    {"type":"max_pool2d","pool_size":[2,2],"strides":[2,2]},
    {"type":"relu"}, {"type":"global_average_pool"}, {"type":"dense"}])");
  Model m = Model::Build(layers, {16, 8, 1}, 3, 1);
  try {
    GraphFromModel(m);
    FAIL() << "expected UsageError";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("relu"), std::string::npos) << e.what();
  }
}

class ExportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kws_export_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "run");
    Model m = Model::Build(SeedLikeLayers(), {97, 20, 1}, 3, 7);
    Randomize(m, 8);
    Checkpoint c = CaptureModel(m);
    c.labels = {"_silence_", "yes", "no"};
    c.features = FeatureOptions{};
    c.input = m.input_shape();
    c.layers = m.LayersConfig();
    c.config = {{"detector", {{"threshold", 0.75}, {"smooth_ms", 500}}}};  // the training config's [detector]
    SaveCheckpoint((dir_ / "run" / "model.ckpt").string(), c);
    // A few clips for calibration (tones and noise), in label folders plus a background-noise folder.
    Rng rng(1);
    for (int i = 0; i < 6; ++i) {
      std::vector<float> s(16000);
      for (size_t t = 0; t < s.size(); ++t)
        s[t] = float(0.3 * std::sin(0.05 * (i + 1) * double(t)) + 0.05 * rng.Normal());
      WriteWav16((dir_ / "clips" / (i % 2 ? "yes" : "no") / ("c" + std::to_string(i) + ".wav")).string(), s, 16000);
    }
    WriteWav16((dir_ / "clips" / "_background_noise_" / "n.wav").string(), std::vector<float>(48000, 0.9f), 16000);
  }
  void TearDown() override { fs::remove_all(dir_); }
  int Run(const std::string& args) {
    std::string cmd = std::string(KWS_BINARY) + " " + args + " > " + (dir_ / "stdout.txt").string() + " 2> " +
                      (dir_ / "stderr.txt").string();
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  fs::path dir_;
};

// --set detector.KEY=VALUE changes the detector settings stored in the file (a threshold chosen on a
// tuning stream) and keeps the checkpoint's others; training settings and bad values are usage errors
// that write nothing.
TEST_F(ExportCli, SetDetectorSettings) {
  if (!fs::exists(KWS_BINARY)) GTEST_SKIP() << "kws binary not built at " << KWS_BINARY;
  const std::string run = (dir_ / "run").string(), out = (dir_ / "t.tflite").string();
  ASSERT_EQ(Run("export --model " + run + " --out " + out + " --set detector.threshold=0.6 --set detector.min_results=4"),
            0)
      << ReadFile(dir_ / "stderr.txt");
  auto md = tfl::ReadKwsMetadata(ReadFile(out), out);
  ASSERT_TRUE(md.has_value());
  EXPECT_DOUBLE_EQ(md->detector["threshold"].get<double>(), 0.6);
  EXPECT_EQ(md->detector["min_results"], 4);
  EXPECT_DOUBLE_EQ(md->detector["smooth_ms"].get<double>(), 500);  // from the checkpoint's [detector]
  EXPECT_NE(ReadFile(dir_ / "stdout.txt").find("\"threshold\":0.6"), std::string::npos);
  const std::string bad_out = (dir_ / "bad.tflite").string();
  const std::pair<std::string, std::string> bad[] = {
      {"train.epochs=3", "sets only detector.* settings"},
      {"detector.threshold=2", "detector.threshold must be in [0, 1]"},
      {"detector.loud=1", "unknown setting 'detector.loud'"},
  };
  for (const auto& [set, needle] : bad) {
    SCOPED_TRACE(set);
    EXPECT_EQ(Run("export --model " + run + " --out " + bad_out + " --set " + set), 1);
    EXPECT_NE(ReadFile(dir_ / "stderr.txt").find(needle), std::string::npos) << ReadFile(dir_ / "stderr.txt");
    EXPECT_FALSE(fs::exists(bad_out));
  }
}

// int8 weight scales: the checkpoint's [export] settings are the defaults (kws train writes its int8 file
// with them), flags override them, and "fit" without a budget is a usage error naming the flag.
TEST_F(ExportCli, Int8WeightsFromTheRecipeOrFlags) {
  if (!fs::exists(KWS_BINARY)) GTEST_SKIP() << "kws binary not built at " << KWS_BINARY;
  const std::string run = (dir_ / "run").string(), clips = (dir_ / "clips").string();
  auto export_int8 = [&](const std::string& model, const std::string& flags) {
    const int rc = Run("export --model " + model + " --quant int8 --calibration-data " + clips + " --out " +
                       (dir_ / "q.tflite").string() + " --json " + flags);
    return rc == 0 ? nlohmann::json::parse(ReadFile(dir_ / "stdout.txt")) : nlohmann::json{{"rc", rc}};
  };
  const auto per_tensor = export_int8(run, "");  // no [export] stored: one scale per tensor
  ASSERT_EQ(per_tensor["int8_weights"], "per-tensor") << ReadFile(dir_ / "stderr.txt");
  const auto per_channel = export_int8(run, "--int8-weights per-channel");
  ASSERT_EQ(per_channel["int8_weights"], "per-channel") << ReadFile(dir_ / "stderr.txt");
  const int small = per_tensor["tflite_bytes"], large = per_channel["tflite_bytes"];
  ASSERT_LT(small, large);
  const int budget = (small + large) / 2;
  const auto fit = export_int8(run, "--int8-weights fit --max-bytes " + std::to_string(budget));
  ASSERT_FALSE(fit.contains("rc")) << ReadFile(dir_ / "stderr.txt");
  EXPECT_NE(fit["int8_weights"].get<std::string>().find("fit: per-channel on "), std::string::npos) << fit.dump();
  EXPECT_LE(fit["tflite_bytes"].get<int>(), budget);
  EXPECT_GT(fit["tflite_bytes"].get<int>(), small);

  // The same from a checkpoint whose recipe says so.
  Checkpoint c = LoadCheckpoint(run + "/model.ckpt");
  c.config["export"] = {{"int8_weights", "fit"}, {"max_bytes", budget}};
  SaveCheckpoint((dir_ / "fit.ckpt").string(), c);
  const auto from_recipe = export_int8((dir_ / "fit.ckpt").string(), "");
  EXPECT_EQ(from_recipe["int8_weights"], fit["int8_weights"]) << ReadFile(dir_ / "stderr.txt");
  EXPECT_EQ(from_recipe["tflite_bytes"], fit["tflite_bytes"]);
  EXPECT_EQ(export_int8((dir_ / "fit.ckpt").string(), "--int8-weights per-tensor")["tflite_bytes"], small);

  fs::remove(dir_ / "q.tflite");
  EXPECT_EQ(export_int8(run, "--int8-weights fit")["rc"], 1);
  EXPECT_NE(ReadFile(dir_ / "stderr.txt").find("--max-bytes"), std::string::npos) << ReadFile(dir_ / "stderr.txt");
  EXPECT_FALSE(fs::exists(dir_ / "q.tflite"));
}

TEST_F(ExportCli, DynamicInt8AndCSource) {
  if (!fs::exists(KWS_BINARY)) GTEST_SKIP() << "kws binary not built at " << KWS_BINARY;
  const std::string run = (dir_ / "run").string();
  ASSERT_EQ(Run("export --model " + run + " --quant dynamic --out " + (dir_ / "d.tflite").string()), 0)
      << ReadFile(dir_ / "stderr.txt");
  std::string dyn = ReadFile(dir_ / "d.tflite");
  auto md = tfl::ReadKwsMetadata(dyn, "d.tflite");
  ASSERT_TRUE(md.has_value());
  EXPECT_EQ(md->labels, (std::vector<std::string>{"_silence_", "yes", "no"}));
  EXPECT_EQ(md->quant, "dynamic");
  EXPECT_EQ(md->features.num_mel_bins, 20);
  EXPECT_EQ(md->detector, (nlohmann::json{{"threshold", 0.75}, {"smooth_ms", 500}}));  // travels with the model
  auto it = rt::Interpreter::FromBuffer("d.tflite", dyn);
  EXPECT_EQ(it.output(0).shape, (std::vector<int>{1, 3}));

  ASSERT_EQ(Run("export --model " + run + "/model.ckpt --quant int8 --calibration-data " + (dir_ / "clips").string() +
                " --out " + (dir_ / "q.tflite").string() + " --json"),
            0)
      << ReadFile(dir_ / "stderr.txt");
  auto j = nlohmann::json::parse(ReadFile(dir_ / "stdout.txt"));
  EXPECT_EQ(j["calibration_samples"], 6);  // background noise skipped
  EXPECT_EQ(j["quant"], "int8");
  auto q = rt::Interpreter::FromFile((dir_ / "q.tflite").string());
  EXPECT_EQ(q.model_kind(), "int8");
  EXPECT_EQ(q.input(0).type, rt::DType::kInt8);
  EXPECT_EQ(size_t(j["tflite_bytes"].get<int>()), fs::file_size(dir_ / "q.tflite"));

  ASSERT_EQ(Run("export --model " + run + " --quant float --format c --out " + (dir_ / "model_data.cc").string()), 0)
      << ReadFile(dir_ / "stderr.txt");
  std::string c = ReadFile(dir_ / "model_data.cc");
  EXPECT_NE(c.find("const unsigned char model_data[] = {"), std::string::npos);
  EXPECT_NE(c.find("const unsigned int model_data_len = "), std::string::npos);
  EXPECT_NE(c.find("Ops: CONV_2D"), std::string::npos);
  // The C source compiles (C++ and C) and links from another translation unit with the right length.
  if (std::system("c++ --version > /dev/null 2>&1") == 0 && std::system("cc --version > /dev/null 2>&1") == 0) {
    AtomicWriteFile(dir_ / "main.cc",
                    "#include <cstdio>\nextern const unsigned char model_data[];\nextern const unsigned int model_data_len;\n"
                    "int main() { std::printf(\"%u %d\\n\", model_data_len, int((reinterpret_cast<unsigned long>(model_data)) % 16)); }\n");
    const std::string d = dir_.string();
    ASSERT_EQ(std::system(("c++ -std=c++17 -o " + d + "/prog " + d + "/main.cc " + d + "/model_data.cc > " + d + "/cc.txt 2>&1").c_str()), 0)
        << ReadFile(dir_ / "cc.txt");
    ASSERT_EQ(std::system((d + "/prog > " + d + "/prog.txt").c_str()), 0);
    std::string out = ReadFile(dir_ / "prog.txt");
    EXPECT_EQ(out.substr(out.find(' ') + 1), "0\n");  // 16-byte aligned
    EXPECT_GT(std::stoul(out), 1000u);
    std::printf("C source: compiled and linked, %s", out.c_str());
    fs::copy_file(dir_ / "model_data.cc", dir_ / "model_data.c");
    EXPECT_EQ(std::system(("cc -std=c11 -c -o " + d + "/m.o " + d + "/model_data.c > " + d + "/cc.txt 2>&1").c_str()), 0)
        << ReadFile(dir_ / "cc.txt");
  }

  // Errors: int8 without calibration data is a usage error (1); a missing run folder is bad input (2).
  EXPECT_EQ(Run("export --model " + run + " --quant int8 --out " + (dir_ / "x.tflite").string()), 1);
  EXPECT_NE(ReadFile(dir_ / "stderr.txt").find("--calibration-data"), std::string::npos);
  EXPECT_EQ(Run("export --model " + (dir_ / "nope").string() + " --out " + (dir_ / "x.tflite").string()), 2);
  EXPECT_EQ(Run("export --model " + run + " --quant int4 --out " + (dir_ / "x.tflite").string()), 1);
  EXPECT_FALSE(fs::exists(dir_ / "x.tflite"));

  // Calibration loader: missing folder / folder without clips are BadInput naming the folder.
  try {
    LoadCalibrationFeatures(std::vector<std::string>{(dir_ / "nope").string()}, FeatureOptions{}, 10, 1, 97 * 20);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
  EXPECT_THROW(LoadCalibrationFeatures(std::vector<std::string>{(dir_ / "run").string()}, FeatureOptions{}, 10, 1, 97 * 20), Error);
  // Count and size are honoured; a size mismatch is reported.
  auto feats = LoadCalibrationFeatures(std::vector<std::string>{(dir_ / "clips").string()}, FeatureOptions{}, 4, 1, 97 * 20);
  EXPECT_EQ(feats.size(), 4u);
  EXPECT_EQ(feats[0].size(), 97u * 20);
  EXPECT_THROW(LoadCalibrationFeatures(std::vector<std::string>{(dir_ / "clips").string()}, FeatureOptions{}, 4, 1, 100), Error);
}

}  // namespace
}  // namespace kws
