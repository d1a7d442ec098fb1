// The micro front end end to end: `kws train` with [features] frontend = "micro" (augmented audio,
// then the front end), the exported int8 model's input taking the front end's int8 as is, `kws eval`
// / `kws infer` on it, and `kws export --format c` writing a front-end header that a C compiler reads
// against TFLite Micro's FrontendConfig.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "audio/audio.h"
#include "export/from_model.h"
#include "export/tflite_export.h"
#include "features/features.h"
#include "features/micro/frontend.h"
#include "model/checkpoint.h"
#include "runtime/interpreter.h"
#include "support/command.h"
#include "tflite/metadata.h"
#include "train_test_util.h"
#include "util/fs.h"
#include "util/rng.h"

namespace kws {
namespace {

namespace fsys = std::filesystem;

using Result = kws_test::CommandResult;

// `kws -q -j2 ARGS`.
Result Kws(const std::string& args) { return kws_test::RunCommand(std::string(KWS_BINARY) + " -q -j2 " + args); }

class MicroCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fsys::temp_directory_path() / ("kws_micro_cli_test_" + std::to_string(getpid()));
    fsys::remove_all(root_);
    // "low": a 600 ms 400 Hz tone burst, "high": a 600 ms white-noise burst, at a random place in faint
    // noise (classes a 3x3 convolution and a global average pool can tell apart on any frequency axis).
    Rng rng(9);
    for (const char* label : {"low", "high"}) {
      fsys::create_directories(root_ / "data" / label);
      for (int spk = 0; spk < 8; ++spk)
        for (int i = 0; i < 4; ++i) {
          std::vector<float> s(16000);
          const double amp = rng.Uniform(0.1, 0.5), ph = rng.Uniform(0, 6.28);
          const size_t start = size_t(rng.Uniform(1000, 6000));
          const bool tone = std::string(label) == "low";
          for (size_t t = 0; t < s.size(); ++t) {
            const bool on = t >= start && t < start + 9600;
            const double x = tone ? amp * std::sin(2 * M_PI * 400 * double(t) / 16000 + ph) : 0.5 * amp * rng.Normal();
            s[t] = float((on ? x : 0.0) + 0.01 * rng.Normal());
          }
          char name[64];
          std::snprintf(name, sizeof name, "spk%02d_nohash_%d.wav", spk, i);
          WriteWav16((root_ / "data" / label / name).string(), s, 16000);
        }
    }
    AtomicWriteFile(root_ / "micro.toml", R"(
[features]
frontend = "micro"
)" + std::string(train_test::kTinyLayers) + R"(
[train]
epochs = 12
batch_size = 8
validation = 0.25
[train.learning_rate]
initial = 0.02
[train.augment]
enabled = true
copies = 2
background_prob = 0.0
gain_db = 3.0
[data]
labels = ["low", "high"]
cache = false
)");
    run_ = root_ / "run";
    train_ = Kws("train --config " + (root_ / "micro.toml").string() + " --data " + Data() + " --out " + run_.string() +
                 " --json");
  }
  static void TearDownTestSuite() { fsys::remove_all(root_); }
  static std::string Data() { return (root_ / "data").string(); }
  void SetUp() override { ASSERT_EQ(train_.code, 0) << train_.err; }

  static fsys::path root_, run_;
  static Result train_;
};
fsys::path MicroCliTest::root_, MicroCliTest::run_;
Result MicroCliTest::train_;

TEST_F(MicroCliTest, Int8InputIsTheFrontEndsInt8) {
  const std::string path = (run_ / "model_int8.tflite").string();
  const std::string bytes = ReadFile(path);
  rt::Interpreter it = rt::Interpreter::FromBuffer(path, bytes);
  const rt::TensorInfo in = it.input(0);
  EXPECT_EQ(in.type, rt::DType::kInt8);
  EXPECT_EQ(in.scale, micro::kInputScale);  // not a calibrated range
  EXPECT_EQ(in.zero_point, -128);
  EXPECT_EQ(in.elements(), 49 * 40);
  auto md = tfl::ReadKwsMetadata(bytes, path);
  ASSERT_TRUE(md.has_value());
  EXPECT_TRUE(md->features.is_micro());
  EXPECT_EQ(md->input, "micro");
  EXPECT_EQ(md->features.micro.Key(), micro::FrontendOptions::MicroSpeech().Key());
  // The run's config.toml says so too.
  EXPECT_NE(ReadFile(run_ / "config.toml").find("frontend = 'micro'"), std::string::npos);

  // A clip through the front end, its int8 values copied into the input as a device does, gives
  // what `kws infer` prints.
  const std::string clip = (fsys::path(Data()) / "high" / "spk03_nohash_1.wav").string();
  const Audio a = ReadAudio(clip, 16000);
  std::vector<int16_t> pcm(a.samples.size());
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = micro::ToInt16(a.samples[i]);
  micro::Frontend fe(micro::FrontendOptions::MicroSpeech(), 16000);
  const std::vector<uint16_t> v = fe.ComputeClip(pcm.data(), pcm.size());
  ASSERT_EQ(v.size(), size_t(49 * 40));
  int8_t* x = static_cast<int8_t*>(it.input_data(0));
  for (size_t i = 0; i < v.size(); ++i) x[i] = micro::ToInt8(v[i]);
  it.Invoke();
  const rt::TensorInfo out = it.output(0);
  const int8_t* y = static_cast<const int8_t*>(it.output_data(0));
  std::vector<float> p(2);
  for (int c = 0; c < 2; ++c) p[size_t(c)] = (float(y[c]) - float(out.zero_point)) * out.scale;
  // RunFloat on the dequantized features quantizes them back to the same int8 input.
  std::vector<float> f(v.size()), q(2);
  for (size_t i = 0; i < v.size(); ++i) f[i] = micro::Dequantize(micro::ToInt8(v[i]));
  it.RunFloat(f.data(), q.data());
  EXPECT_EQ(p, q);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(x[i], micro::ToInt8(v[i])) << i;

  Result r = Kws("infer --model " + path + " " + clip + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["label"], p[1] > p[0] ? "high" : "low");
  EXPECT_FLOAT_EQ(j["scores"]["high"].get<float>(), p[1]);
}

TEST_F(MicroCliTest, OfficialInterpreterTakesTheFrontEndsInt8) {
  // The official TFLite interpreter (WebAssembly, tools/js) given the front end's int8 bytes as its
  // input gives kws's int8 output byte for byte.
  const fsys::path wasm =
      fsys::path(KWS_SOURCE_DIR) / "tools/js/node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc_simd.wasm";
  if (!fsys::exists(wasm) || std::system("node --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "the official interpreter (node + tools/js) is not installed";
  const std::string path = (run_ / "model_int8.tflite").string();
  rt::Interpreter it = rt::Interpreter::FromFile(path);
  std::string input;
  for (const char* c : {"low/spk04_nohash_1.wav", "high/spk04_nohash_2.wav"}) {
    const Audio a = ReadAudio((fsys::path(Data()) / c).string(), 16000);
    std::vector<int16_t> pcm(a.samples.size());
    for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = micro::ToInt16(a.samples[i]);
    micro::Frontend fe(micro::FrontendOptions::MicroSpeech(), 16000);
    for (uint16_t v : fe.ComputeClip(pcm.data(), pcm.size())) input.push_back(char(micro::ToInt8(v)));
  }
  const fsys::path in = root_ / "official_in.raw", out = root_ / "official_out.json";
  AtomicWriteFile(in, input);
  const std::string cmd = "node " + (fsys::path(KWS_SOURCE_DIR) / "tools/js/tflite_run.js").string() + " " + path +
                          " " + in.string() + " " + out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto j = nlohmann::json::parse(ReadFile(out));
  ASSERT_EQ(j["values"].size(), 4u);
  for (int k = 0; k < 2; ++k) {
    std::memcpy(it.input_data(0), input.data() + size_t(k) * 1960, 1960);
    it.Invoke();
    const int8_t* y = static_cast<const int8_t*>(it.output_data(0));
    EXPECT_EQ(j["values"][size_t(2 * k)].get<int>(), int(y[0])) << k;
    EXPECT_EQ(j["values"][size_t(2 * k + 1)].get<int>(), int(y[1])) << k;
  }
}

TEST_F(MicroCliTest, EvalAndInferWithoutMetadata) {
  Result e = Kws("eval --model " + (run_ / "model_int8.tflite").string() + " --data " + Data() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_GT(nlohmann::json::parse(e.out)["accuracy"].get<double>(), 0.8) << e.out;

  // The model exported without kws metadata and with an input scale of its own, as Google's
  // micro_speech is: `kws infer --frontend micro --labels` copies the front end's int8 into the input
  // as a device does, whatever the declared scale.
  const Checkpoint ck = LoadCheckpoint((run_ / "model.ckpt").string());
  const ir::Graph g = GraphFromModel(ModelFromCheckpoint(ck), true);
  FeatureExtractor fx(ck.features);
  std::vector<std::vector<float>> cal_inputs;
  for (const char* c : {"low/spk00_nohash_0.wav", "high/spk00_nohash_0.wav"}) {
    const Audio a = ReadAudio((fsys::path(Data()) / c).string(), 16000);
    cal_inputs.push_back(fx.Compute(a.samples.data(), int(a.samples.size())).data);
  }
  const Calibration cal = Calibrate(g, cal_inputs);
  ExportOptions eo;
  eo.quant = QuantMode::kInt8;
  eo.input_quant = AffineQuant{0.2f, -100};
  const std::string bare_path = (root_ / "bare.tflite").string();
  const std::string bytes = ExportTflite(g, eo, &cal);
  AtomicWriteFile(bare_path, bytes);

  const std::string clip = (fsys::path(Data()) / "low" / "spk05_nohash_2.wav").string();
  Result none = Kws("infer --model " + bare_path + " " + clip);
  EXPECT_EQ(none.code, 2) << none.err;
  EXPECT_NE(none.err.find("no kws metadata"), std::string::npos) << none.err;
  Result half = Kws("infer --model " + bare_path + " --frontend micro " + clip);
  EXPECT_EQ(half.code, 1) << half.err;
  EXPECT_NE(half.err.find("--labels"), std::string::npos) << half.err;
  Result r = Kws("infer --model " + bare_path + " --frontend micro --labels a,b " + clip + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  rt::Interpreter it = rt::Interpreter::FromBuffer(bare_path, bytes);
  const Audio a = ReadAudio(clip, 16000);
  std::vector<int16_t> pcm(a.samples.size());
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = micro::ToInt16(a.samples[i]);
  micro::Frontend fe(micro::FrontendOptions::MicroSpeech(), 16000);
  const std::vector<uint16_t> v = fe.ComputeClip(pcm.data(), pcm.size());
  for (size_t i = 0; i < v.size(); ++i) static_cast<int8_t*>(it.input_data(0))[i] = micro::ToInt8(v[i]);
  it.Invoke();
  const rt::TensorInfo out = it.output(0);
  const int8_t* y = static_cast<const int8_t*>(it.output_data(0));
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FLOAT_EQ(j["scores"]["a"].get<float>(), (float(y[0]) - float(out.zero_point)) * out.scale);
  EXPECT_FLOAT_EQ(j["scores"]["b"].get<float>(), (float(y[1]) - float(out.zero_point)) * out.scale);
  Result count = Kws("infer --model " + bare_path + " --frontend micro --labels a,b,c " + clip);
  EXPECT_EQ(count.code, 1);
  EXPECT_NE(count.err.find("--labels"), std::string::npos) << count.err;
  // A model with kws metadata: --frontend must agree with it, --labels renames its classes.
  const std::string m = (run_ / "model_int8.tflite").string();
  Result conflict = Kws("infer --model " + m + " --frontend tf.signal " + clip);
  EXPECT_EQ(conflict.code, 1) << conflict.err;
  EXPECT_NE(conflict.err.find("micro"), std::string::npos) << conflict.err;
  Result with = Kws("infer --model " + m + " " + clip + " --json");
  Result renamed = Kws("infer --model " + m + " --labels x,y " + clip + " --json");
  ASSERT_EQ(with.code, 0) << with.err;
  ASSERT_EQ(renamed.code, 0) << renamed.err;
  const auto wj = nlohmann::json::parse(with.out), rj = nlohmann::json::parse(renamed.out);
  EXPECT_EQ(rj["scores"]["x"], wj["scores"]["low"]);
  EXPECT_EQ(rj["scores"]["y"], wj["scores"]["high"]);
}

TEST_F(MicroCliTest, ListenStreamsTheFrontEnd) {
  // Two "high" clips (noise bursts) with a second of faint noise between them: the front end runs over the whole
  // stream (its noise estimate carried), the detector fires on the bursts.
  std::vector<float> stream;
  Rng rng(4);
  for (const char* c : {"high/spk06_nohash_1.wav", "", "high/spk07_nohash_3.wav"}) {
    if (*c == 0) {
      for (int i = 0; i < 16000; ++i) stream.push_back(float(0.01 * rng.Normal()));
      continue;
    }
    const Audio a = ReadAudio((fsys::path(Data()) / c).string(), 16000);
    stream.insert(stream.end(), a.samples.begin(), a.samples.end());
  }
  const std::string wav = (root_ / "stream.wav").string();
  WriteWav16(wav, stream, 16000);
  Result r = Kws("listen --model " + (run_ / "model_int8.tflite").string() + " --input " + wav +
                 " --threshold 0.6 --smooth-ms 200 --min-results 1 --suppress-ms 1500 --no-vad");
  ASSERT_EQ(r.code, 0) << r.err;
  int high = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && nlohmann::json::parse(line)["label"] == "high") ++high;
  EXPECT_GE(high, 1) << r.out;
}

TEST_F(MicroCliTest, ExportCWritesTheFrontEndHeader) {
  const fsys::path out = root_ / "c" / "micro_model.cc";
  fsys::create_directories(out.parent_path());
  Result r = Kws("export --model " + run_.string() + " --quant int8 --calibration-data " + Data() +
                 " --format c --out " + out.string() + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const fsys::path header = root_ / "c" / "micro_model_frontend.h";
  EXPECT_EQ(nlohmann::json::parse(r.out)["frontend_header"], header.string());
  ASSERT_TRUE(fsys::exists(header));
  EXPECT_NE(ReadFile(out).find("micro_model_frontend.h"), std::string::npos);
  // Compile it against TFLite Micro's FrontendConfig layout (frontend_util.h's structs, declared
  // here) and print what it sets.
  AtomicWriteFile(root_ / "c" / "frontend_util.h", R"(
#ifndef TENSORFLOW_LITE_EXPERIMENTAL_MICROFRONTEND_LIB_FRONTEND_UTIL_H_
#define TENSORFLOW_LITE_EXPERIMENTAL_MICROFRONTEND_LIB_FRONTEND_UTIL_H_
#include <stddef.h>
struct WindowConfig { size_t size_ms; size_t step_size_ms; };
struct FilterbankConfig { int num_channels; float upper_band_limit; float lower_band_limit; int output_scale_shift; };
struct NoiseReductionConfig { int smoothing_bits; float even_smoothing; float odd_smoothing; float min_signal_remaining; };
struct PcanGainControlConfig { int enable_pcan; float strength; float offset; int gain_bits; };
struct LogScaleConfig { int enable_log; int scale_shift; };
struct FrontendConfig { struct WindowConfig window; struct FilterbankConfig filterbank;
  struct NoiseReductionConfig noise_reduction; struct PcanGainControlConfig pcan_gain_control;
  struct LogScaleConfig log_scale; };
static void FrontendFillConfigWithDefaults(struct FrontendConfig* c) { c->filterbank.output_scale_shift = 7; }
#endif
)");
  AtomicWriteFile(root_ / "c" / "main.c", R"(
#include <stdio.h>
#include "frontend_util.h"
#include "micro_model_frontend.h"
int main(void) {
  struct FrontendConfig c;
  micro_model_frontend_config(&c);
  printf("%d %d %d %g %g %d %g %g %g %d %g %g %d %d %d %d %d %d %g %d\n", (int)c.window.size_ms,
         (int)c.window.step_size_ms, c.filterbank.num_channels, c.filterbank.lower_band_limit,
         c.filterbank.upper_band_limit, c.noise_reduction.smoothing_bits, c.noise_reduction.even_smoothing,
         c.noise_reduction.odd_smoothing, c.noise_reduction.min_signal_remaining, c.pcan_gain_control.enable_pcan,
         c.pcan_gain_control.strength, c.pcan_gain_control.offset, c.pcan_gain_control.gain_bits,
         c.log_scale.enable_log, c.log_scale.scale_shift, MICRO_MODEL_FEATURE_COUNT, MICRO_MODEL_FEATURE_SIZE,
         micro_model_feature_to_int8(333), MICRO_MODEL_INPUT_SCALE, MICRO_MODEL_INPUT_ZERO_POINT);
  return 0;
}
)");
  const fsys::path exe = root_ / "c" / "main";
  const std::string cc = "cc -std=c99 -Wall -Werror -o " + exe.string() + " " + (root_ / "c" / "main.c").string() +
                         " 2>" + (root_ / "c" / "cc.txt").string();
  if (std::system("cc --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no C compiler";
  ASSERT_EQ(std::system(cc.c_str()), 0) << ReadFile(root_ / "c" / "cc.txt");
  FILE* p = popen(exe.string().c_str(), "r");
  char buf[512] = {0};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  pclose(p);
  EXPECT_EQ(std::string(buf, n), "30 20 40 125 7500 10 0.025 0.06 0.05 1 0.95 80 21 1 6 49 40 0 0.101624 -128\n");
}

}  // namespace
}  // namespace kws
