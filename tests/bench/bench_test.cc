// kws bench: size figures against hand-computed values for the seed network, the JSON report of the
// CLI (fields, sizes, consistency of the latency statistics, savings against a baseline), and errors.
// No timing value decides pass/fail (only orderings that hold by construction).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "audio/audio.h"
#include "bench/report.h"
#include "bench/seed_models.h"
#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "util/fs.h"

namespace fs = std::filesystem;

namespace {

// Seed network (tests build it with 12 classes): input 97x20x1.
//  conv1 3x3x1x16 stride 2 SAME -> 49x10x16 : weights 144 + bias 16, MACs 49*10*16*9
//  conv2..4 3x3x16x16 stride 1   -> 49x10x16 : weights 2304 + bias 16 each, MACs 49*10*16*144 each
//  MEAN (not counted), dense 16->12 : weights 192 + bias 12, MACs 192
constexpr int64_t kParams12 = (144 + 16) + 3 * (2304 + 16) + (192 + 12);            // 7324
constexpr int64_t kMacs12 = 49 * 10 * 16 * 9 + 3 * (49 * 10 * 16 * 144) + 16 * 12;  // 3457632
// 85% zeros per kernel (floor(0.85 n) smallest |w|): 122 of 144, 1958 of 2304, 163 of 192.
constexpr int64_t kNonzero12 = kParams12 - 122 - 3 * 1958 - 163;  // 1165

class BenchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("kws_bench_test_" + std::to_string(::getpid()));
    kws::SeedModelOptions o;
    o.classes = 12;
    o.sparsity = 0.85;
    pruned_ = kws::WriteSeedModels(dir_.string(), "pruned", o);
    o.sparsity = 0.0;
    dense_ = kws::WriteSeedModels(dir_.string(), "dense", o);
    // A model without kws metadata.
    kws::ir::SyntheticOptions so;
    so.classes = 12;
    kws::ExportOptions e;
    kws::AtomicWriteFile(dir_ / "nometa.tflite", kws::ExportTflite(kws::ir::MakeSyntheticGraph(so), e));
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  int Run(const std::string& args) {
    std::string cmd = std::string(KWS_BINARY) + " " + args + " > " + (dir_ / "stdout.txt").string() + " 2> " +
                      (dir_ / "stderr.txt").string();
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string Out() { return kws::ReadFile(dir_ / "stdout.txt"); }
  std::string Err() { return kws::ReadFile(dir_ / "stderr.txt"); }
  void SetUp() override {
    if (!fs::exists(KWS_BINARY)) GTEST_SKIP() << "kws binary not built at " << KWS_BINARY;
  }

  static fs::path dir_;
  static kws::SeedModelPaths pruned_, dense_;
};
fs::path BenchTest::dir_;
kws::SeedModelPaths BenchTest::pruned_, BenchTest::dense_;

TEST(BenchMath, SavingsAndSummary) {
  EXPECT_DOUBLE_EQ(kws::SavingsPct(25, 100), 75.0);
  EXPECT_DOUBLE_EQ(kws::SavingsPct(4305, 11883), 100.0 * (1.0 - 4305.0 / 11883.0));
  EXPECT_DOUBLE_EQ(kws::SavingsPct(120, 100), -20.0);
  EXPECT_DOUBLE_EQ(kws::SavingsPct(5, 0), 0.0);
  auto s = kws::Summarize({10, 1, 9, 2, 8, 3, 7, 4, 6, 5});
  EXPECT_DOUBLE_EQ(s.median_us, 5.5);
  EXPECT_DOUBLE_EQ(s.p90_us, 9.0);
  EXPECT_DOUBLE_EQ(s.mean_us, 5.5);
  EXPECT_DOUBLE_EQ(s.min_us, 1.0);
  s = kws::Summarize({3, 1, 2});
  EXPECT_DOUBLE_EQ(s.median_us, 2.0);
  EXPECT_DOUBLE_EQ(s.p90_us, 3.0);
  s = kws::Summarize({});
  EXPECT_EQ(s.median_us, 0.0);
}

TEST_F(BenchTest, SizeFiguresMatchHandComputedSeedNetwork) {
  for (const std::string& p : {dense_.float_path, dense_.dynamic_path, dense_.int8_path}) {
    SCOPED_TRACE(p);
    kws::ModelReport r = kws::MeasureSize(p);
    const std::string bytes = kws::ReadFile(p);
    EXPECT_EQ(r.size_bytes, bytes.size());
    EXPECT_EQ(r.size_bytes, fs::file_size(p));
    EXPECT_EQ(r.zip_bytes, kws::ZipSize(bytes, "model.tflite"));
    EXPECT_EQ(r.params, kParams12);
    EXPECT_EQ(r.macs, kMacs12);
    EXPECT_GT(r.arena_bytes, 0u);
  }
  EXPECT_EQ(kws::MeasureSize(dense_.float_path).nonzero_params, kParams12);
  EXPECT_EQ(kws::MeasureSize(dense_.float_path).kind, "float32");
  EXPECT_EQ(kws::MeasureSize(dense_.dynamic_path).kind, "hybrid");
  EXPECT_EQ(kws::MeasureSize(dense_.int8_path).kind, "int8");
  kws::ModelReport pf = kws::MeasureSize(pruned_.float_path);
  EXPECT_EQ(pf.nonzero_params, kNonzero12);
  EXPECT_EQ(kws::MeasureSize(pruned_.dynamic_path).params, kParams12);
  // Quantization can only add zeros (tiny weights round to 0).
  EXPECT_LE(kws::MeasureSize(pruned_.int8_path).nonzero_params, kNonzero12);
  // Pruning does not shrink the file but the zip (TF Model Optimization, tensorflow_model_optimization/python/core/sparsity/keras/).
  EXPECT_EQ(pf.size_bytes, kws::MeasureSize(dense_.float_path).size_bytes);
  EXPECT_LT(pf.zip_bytes, pf.size_bytes / 2);
  EXPECT_LT(pf.zip_bytes, kws::MeasureSize(dense_.float_path).zip_bytes);
}

TEST_F(BenchTest, CliJsonReport) {
  ASSERT_EQ(Run("bench --model " + pruned_.int8_path + " --runs 200 --warmup 10 --json"), 0) << Err();
  auto j = nlohmann::json::parse(Out());
  for (const char* k : {"size_bytes", "zip_bytes", "params", "nonzero_params", "macs", "arena_bytes", "preprocess_us",
                        "inference_us", "total_us", "preprocess_p90_us", "inference_p90_us", "total_p90_us"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_FALSE(j.contains("latency_savings_pct"));
  EXPECT_FALSE(j.contains("baseline"));
  EXPECT_EQ(j["size_bytes"].get<uint64_t>(), fs::file_size(pruned_.int8_path));
  EXPECT_LT(j["zip_bytes"].get<uint64_t>(), j["size_bytes"].get<uint64_t>());
  EXPECT_EQ(j["params"].get<int64_t>(), kParams12);
  EXPECT_EQ(j["macs"].get<int64_t>(), kMacs12);
  EXPECT_EQ(j["runs"].get<int>(), 200);
  EXPECT_EQ(j["kind"], "int8");
  const double pre = j["preprocess_us"], inf = j["inference_us"], tot = j["total_us"];
  EXPECT_GT(pre, 0);
  EXPECT_GT(inf, 0);
  // Per run total = pre + inference, so its median is at least either median; p90 >= median.
  EXPECT_GE(tot + 0.01, pre);
  EXPECT_GE(tot + 0.01, inf);
  EXPECT_GE(double(j["total_p90_us"]), tot);
  EXPECT_GE(double(j["inference_p90_us"]), inf);
  EXPECT_GE(double(j["preprocess_p90_us"]), pre);
}

TEST_F(BenchTest, CliBaselineSavings) {
  ASSERT_EQ(Run("bench --model " + pruned_.int8_path + " --baseline " + dense_.float_path +
                " --runs 100 --warmup 5 --json"),
            0)
      << Err();
  auto j = nlohmann::json::parse(Out());
  ASSERT_TRUE(j.contains("baseline"));
  const auto& b = j["baseline"];
  EXPECT_EQ(b["size_bytes"].get<uint64_t>(), fs::file_size(dense_.float_path));
  EXPECT_EQ(b["kind"], "float32");
  EXPECT_EQ(b["nonzero_params"].get<int64_t>(), kParams12);
  const double size = j["size_bytes"], bsize = b["size_bytes"], zip = j["zip_bytes"], bzip = b["zip_bytes"];
  EXPECT_NEAR(double(j["size_savings_pct"]), 100.0 * (1.0 - size / bsize), 0.006);
  EXPECT_NEAR(double(j["zip_savings_pct"]), 100.0 * (1.0 - zip / bzip), 0.006);
  EXPECT_GT(double(j["size_savings_pct"]), 50.0);  // int8 weights vs float32
  EXPECT_GT(double(j["zip_savings_pct"]), 50.0);
  const double t = j["total_us"], bt = b["total_us"];
  EXPECT_NEAR(double(j["latency_savings_pct"]), 100.0 * (1.0 - t / bt), 0.05 + 100.0 * 0.01 / bt);

  // Table form names both models and the savings column.
  ASSERT_EQ(Run("bench --model " + pruned_.int8_path + " --baseline " + dense_.float_path + " --runs 20 --warmup 1"),
            0);
  const std::string table = Out();
  EXPECT_NE(table.find("savings"), std::string::npos);
  EXPECT_NE(table.find("zip_bytes"), std::string::npos);
  EXPECT_NE(table.find(dense_.float_path), std::string::npos);
}

TEST_F(BenchTest, CliSizeOnlyAndClip) {
  ASSERT_EQ(Run("bench --model " + pruned_.float_path + " --size-only --json"), 0) << Err();
  auto j = nlohmann::json::parse(Out());
  EXPECT_EQ(j["nonzero_params"].get<int64_t>(), kNonzero12);
  EXPECT_EQ(j["runs"].get<int>(), 0);
  const fs::path clip = dir_ / "tone.wav";
  std::vector<float> s(24000);
  for (size_t i = 0; i < s.size(); ++i) s[i] = float(0.2 * std::sin(0.07 * double(i)));
  kws::WriteWav16(clip.string(), s, 24000);  // other rate: resampled
  ASSERT_EQ(Run("bench --model " + pruned_.float_path + " --clip " + clip.string() + " --runs 10 --warmup 1 --json"),
            0)
      << Err();
}

TEST_F(BenchTest, CliErrors) {
  EXPECT_EQ(Run("bench --model " + (dir_ / "missing.tflite").string()), 2);
  EXPECT_NE(Err().find("missing.tflite"), std::string::npos) << Err();
  EXPECT_EQ(Run("bench --model " + (dir_ / "nometa.tflite").string() + " --runs 5"), 2);
  EXPECT_NE(Err().find("nometa.tflite"), std::string::npos) << Err();
  EXPECT_NE(Err().find("no kws metadata"), std::string::npos) << Err();
  EXPECT_EQ(Run("bench --model " + pruned_.float_path + " --baseline " + (dir_ / "other.tflite").string()), 2);
  EXPECT_NE(Err().find("other.tflite"), std::string::npos) << Err();
  EXPECT_EQ(Run("bench --model " + pruned_.float_path + " --runs 0"), 1);
  EXPECT_EQ(Run("bench"), 1);
  EXPECT_EQ(Run("bench --model " + pruned_.float_path + " --clip " + (dir_ / "nope.wav").string() + " --runs 5"), 2);
  EXPECT_NE(Err().find("nope.wav"), std::string::npos) << Err();
}

}  // namespace
