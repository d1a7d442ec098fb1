// kws infer: results on real clips equal features + interpreter run directly, probabilities sum to 1,
// resampling, --all-windows, logits models, and the error exits.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "bench/classify.h"
#include "bench/seed_models.h"
#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "features/features.h"
#include "runtime/interpreter.h"
#include "tflite/metadata.h"
#include "util/fs.h"

namespace fs = std::filesystem;

namespace {

class InferTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("kws_infer_test_" + std::to_string(::getpid()));
    kws::SeedModelOptions o;
    o.classes = 3;
    o.labels = {"yes", "no", "_unknown_"};
    o.sparsity = 0.5;
    o.seed = 7;
    models_ = kws::WriteSeedModels(dir_.string(), "seed", o);
    kws::ir::SyntheticOptions so;
    so.classes = 3;
    so.seed = 3;
    kws::ExportOptions e;
    kws::AtomicWriteFile(dir_ / "nometa.tflite", kws::ExportTflite(kws::ir::MakeSyntheticGraph(so), e));
    so.softmax = false;  // logits out
    kws::tfl::KwsMetadata md;
    md.labels = {"a", "b", "c"};
    e.metadata = md;
    kws::AtomicWriteFile(dir_ / "logits.tflite", kws::ExportTflite(kws::ir::MakeSyntheticGraph(so), e));
    kws::AtomicWriteFile(dir_ / "bad.wav", std::string("RIFF\x10\0\0\0WAVEjunk", 16));
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
    if (!fs::exists(KWS_BINARY)) GTEST_SKIP() << "kws binary not built at " << KWS_BINARY;
  }

  int Run(const std::string& args) {
    std::string cmd = std::string(KWS_BINARY) + " " + args + " > " + (dir_ / "stdout.txt").string() + " 2> " +
                      (dir_ / "stderr.txt").string();
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string Out() { return kws::ReadFile(dir_ / "stdout.txt"); }
  std::string Err() { return kws::ReadFile(dir_ / "stderr.txt"); }
  std::vector<nlohmann::json> JsonLines() {
    std::vector<nlohmann::json> r;
    std::istringstream in(Out());
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) r.push_back(nlohmann::json::parse(line));
    return r;
  }

  // Real clips from the shared Speech Commands pool (sorted, first n of a word).
  static std::vector<std::string> Clips(const std::string& word, size_t n) {
    std::vector<std::string> r;
    const fs::path d = fs::path(KWS_SHARED_DATA) / "speech_commands" / word;
    if (!fs::is_directory(d)) return r;
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().extension() == ".wav") r.push_back(e.path().string());
    std::sort(r.begin(), r.end());
    if (r.size() > n) r.resize(n);
    return r;
  }

  // The pipeline written out by hand: read at the metadata's rate, first window, features, RunFloat.
  static std::vector<float> Direct(const std::string& model, const std::string& clip) {
    const std::string bytes = kws::ReadFile(model);
    auto md = kws::tfl::ReadKwsMetadata(bytes, model);
    EXPECT_TRUE(md.has_value());
    auto it = kws::rt::Interpreter::FromBuffer(model, bytes);
    kws::Audio a = kws::ReadAudio(clip, md->features.sample_rate);
    const size_t window = size_t(md->features.window_samples());
    std::vector<float> w(window, 0.0f);
    std::copy_n(a.samples.begin(), std::min(window, a.samples.size()), w.begin());
    kws::FeatureExtractor fx(md->features);
    kws::FeatureMatrix m = fx.Compute(w.data(), int(w.size()));
    EXPECT_EQ(int64_t(m.data.size()), it.input(0).elements());
    return it.RunFloat(m.data.data());
  }

  static fs::path dir_;
  static kws::SeedModelPaths models_;
};
fs::path InferTest::dir_;
kws::SeedModelPaths InferTest::models_;

TEST_F(InferTest, RealClipsMatchDirectPipeline) {
  auto clips = Clips("yes", 2);
  auto more = Clips("no", 1);
  clips.insert(clips.end(), more.begin(), more.end());
  if (clips.size() < 3) GTEST_SKIP() << "no Speech Commands clips under " << KWS_SHARED_DATA;
  const std::vector<std::string> labels = {"yes", "no", "_unknown_"};
  for (const std::string& model : {models_.float_path, models_.dynamic_path, models_.int8_path}) {
    SCOPED_TRACE(model);
    std::string args = "infer --json --model " + model;
    for (const auto& c : clips) args += " " + c;
    ASSERT_EQ(Run(args), 0) << Err();
    auto lines = JsonLines();
    ASSERT_EQ(lines.size(), clips.size());
    const bool int8 = model == models_.int8_path;
    for (size_t i = 0; i < clips.size(); ++i) {
      const auto& j = lines[i];
      EXPECT_EQ(j["file"], clips[i]);
      ASSERT_EQ(j["scores"].size(), 3u);
      std::vector<float> direct = Direct(model, clips[i]);
      double sum = 0;
      float best = -1;
      std::string best_label;
      for (size_t k = 0; k < labels.size(); ++k) {
        const float p = j["scores"][labels[k]].get<float>();
        EXPECT_GE(p, 0.0f);
        // Same computation; float kernels may sum in another order (thread count, build): tiny tolerance.
        EXPECT_NEAR(p, direct[k], 1e-6 + 1e-4 * std::fabs(direct[k])) << labels[k];
        sum += p;
        if (p > best) best = p, best_label = labels[k];
      }
      // int8 softmax output is quantized to 1/256 steps: the sum is 1 within a step per class.
      EXPECT_NEAR(sum, 1.0, int8 ? 3.0 / 256 : 1e-5);
      EXPECT_EQ(j["label"], best_label);
      EXPECT_FLOAT_EQ(j["score"].get<float>(), best);
    }
  }
  // Scores are printed in the model's label order (not sorted).
  ASSERT_EQ(Run("infer --json --model " + models_.float_path + " " + clips[0]), 0) << Err();
  const std::string line = Out();
  EXPECT_LT(line.find("\"yes\":"), line.find("\"no\":")) << line;
  EXPECT_LT(line.find("\"no\":"), line.find("\"_unknown_\":")) << line;
  // Table output lists the labels and the file.
  ASSERT_EQ(Run("infer --model " + models_.float_path + " " + clips[0]), 0) << Err();
  EXPECT_NE(Out().find("_unknown_"), std::string::npos);
  EXPECT_NE(Out().find(clips[0]), std::string::npos);
}

TEST_F(InferTest, ResamplesOtherRates) {
  // The same signal at 16 kHz and at 48 kHz gives nearly the same scores (after resampling).
  std::vector<float> s16(16000), s48(48000);
  for (size_t i = 0; i < s16.size(); ++i) s16[i] = float(0.3 * std::sin(2 * M_PI * 440.0 * double(i) / 16000));
  for (size_t i = 0; i < s48.size(); ++i) s48[i] = float(0.3 * std::sin(2 * M_PI * 440.0 * double(i) / 48000));
  kws::WriteWav16((dir_ / "a16.wav").string(), s16, 16000);
  kws::WriteWav16((dir_ / "a48.wav").string(), s48, 48000);
  ASSERT_EQ(Run("infer --json --model " + models_.float_path + " " + (dir_ / "a16.wav").string() + " " +
                (dir_ / "a48.wav").string()),
            0)
      << Err();
  auto lines = JsonLines();
  ASSERT_EQ(lines.size(), 2u);
  for (const char* l : {"yes", "no", "_unknown_"})
    EXPECT_NEAR(lines[0]["scores"][l].get<double>(), lines[1]["scores"][l].get<double>(), 0.02) << l;
  // ...and equal to the library reading the 48 kHz file at 16 kHz.
  auto direct = Direct(models_.float_path, (dir_ / "a48.wav").string());
  EXPECT_NEAR(lines[1]["scores"]["yes"].get<float>(), direct[0], 1e-6 + 1e-4 * std::fabs(direct[0]));
}

TEST_F(InferTest, AllWindows) {
  std::vector<float> s(40000);  // 2.5 s
  for (size_t i = 0; i < s.size(); ++i) s[i] = float(0.2 * std::sin(0.01 * double(i) * (1 + double(i) / 40000)));
  kws::WriteWav16((dir_ / "long.wav").string(), s, 16000);
  ASSERT_EQ(Run("infer --json --all-windows --model " + models_.float_path + " " + (dir_ / "long.wav").string()), 0)
      << Err();
  auto lines = JsonLines();
  // Windows of 1 s every 0.5 s: starts 0, 0.5, 1.0, 1.5 (the last one padded).
  ASSERT_EQ(lines.size(), 4u);
  for (size_t w = 0; w < 4; ++w) {
    EXPECT_EQ(lines[w]["window"].get<int>(), int(w));
    EXPECT_DOUBLE_EQ(lines[w]["start_s"].get<double>(), 0.5 * double(w));
  }
  // Each window equals classifying that stretch of the (16-bit) file on its own.
  kws::ClipClassifier c(models_.float_path);
  kws::Audio a = kws::ReadAudio((dir_ / "long.wav").string(), 16000);
  for (size_t w = 0; w < 4; ++w) {
    std::vector<float> part(a.samples.begin() + std::ptrdiff_t(8000 * w),
                            a.samples.begin() + std::ptrdiff_t(std::min<size_t>(a.samples.size(), 8000 * w + 16000)));
    auto r = c.ClassifySamples("part", part);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_NEAR(lines[w]["scores"]["no"].get<float>(), r[0].scores[1], 1e-6 + 1e-4 * std::fabs(r[0].scores[1]))
        << "window " << w;
  }
  ASSERT_EQ(Run("infer --json --all-windows --hop 1 --model " + models_.float_path + " " + (dir_ / "long.wav").string()),
            0);
  EXPECT_EQ(JsonLines().size(), 3u);  // starts 0, 1, 2
  ASSERT_EQ(Run("infer --json --model " + models_.float_path + " " + (dir_ / "long.wav").string()), 0);
  EXPECT_EQ(JsonLines().size(), 1u);
}

TEST_F(InferTest, LogitsModelGivesProbabilities) {
  std::vector<float> s(16000);
  for (size_t i = 0; i < s.size(); ++i) s[i] = float(0.25 * std::sin(0.03 * double(i)));
  kws::WriteWav16((dir_ / "t.wav").string(), s, 16000);
  const std::string model = (dir_ / "logits.tflite").string();
  ASSERT_EQ(Run("infer --json --model " + model + " " + (dir_ / "t.wav").string()), 0) << Err();
  auto lines = JsonLines();
  ASSERT_EQ(lines.size(), 1u);
  std::vector<float> logits = Direct(model, (dir_ / "t.wav").string());
  const float m = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  for (float v : logits) z += std::exp(double(v - m));
  double sum = 0;
  const char* names[] = {"a", "b", "c"};
  for (int k = 0; k < 3; ++k) {
    const double p = lines[0]["scores"][names[k]].get<double>();
    EXPECT_NEAR(p, std::exp(double(logits[size_t(k)] - m)) / z, 1e-6);
    sum += p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST_F(InferTest, Errors) {
  std::vector<float> s(16000, 0.0f);
  kws::WriteWav16((dir_ / "z.wav").string(), s, 16000);
  const std::string clip = (dir_ / "z.wav").string();
  EXPECT_EQ(Run("infer --model " + (dir_ / "missing.tflite").string() + " " + clip), 2);
  EXPECT_NE(Err().find("missing.tflite"), std::string::npos) << Err();
  EXPECT_EQ(Run("infer --model " + (dir_ / "nometa.tflite").string() + " " + clip), 2);
  EXPECT_NE(Err().find("nometa.tflite"), std::string::npos) << Err();
  EXPECT_NE(Err().find("no kws metadata"), std::string::npos) << Err();
  // --frontend micro on a model whose input (97 x 20 values) is no whole number of 40-channel frames.
  EXPECT_EQ(Run("infer --model " + (dir_ / "nometa.tflite").string() + " --frontend micro --labels a,b,c " + clip), 2);
  EXPECT_NE(Err().find("does not fit the micro front end"), std::string::npos) << Err();
  EXPECT_EQ(Run("infer --model " + (dir_ / "nometa.tflite").string() + " --frontend mikro --labels a,b,c " + clip), 1);
  EXPECT_NE(Err().find("--frontend"), std::string::npos) << Err();
  EXPECT_EQ(Run("infer --model " + models_.float_path + " " + (dir_ / "bad.wav").string()), 2);
  EXPECT_NE(Err().find("bad.wav"), std::string::npos) << Err();
  EXPECT_EQ(Run("infer --model " + models_.float_path + " " + clip + " " + (dir_ / "gone.wav").string()), 2);
  EXPECT_NE(Err().find("gone.wav"), std::string::npos) << Err();
  // A model file that is not a .tflite.
  EXPECT_EQ(Run("infer --model " + clip + " " + clip), 2);
  EXPECT_NE(Err().find("z.wav"), std::string::npos) << Err();
  EXPECT_EQ(Run("infer --model " + models_.float_path), 1);  // no clip
}

}  // namespace
