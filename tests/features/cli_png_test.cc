// `kws features` end to end (exit codes, --json, --config + overrides, --png)
// and the PNG writer.
#include <gtest/gtest.h>
#include <png.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>
#include <string>

#include "audio/audio.h"
#include "report/png.h"
#include "util/fs.h"

namespace fs = std::filesystem;
using namespace kws;

namespace {

struct CmdResult {
  int code = -1;
  std::string out, err;
};

CmdResult Kws(const std::string& args, const fs::path& dir) {
  const std::string o = (dir / "stdout.txt").string(), e = (dir / "stderr.txt").string();
  const std::string cmd = std::string(KWS_BINARY) + " " + args + " >" + o + " 2>" + e;
  int st = std::system(cmd.c_str());
  CmdResult r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = ReadFile(o);
  r.err = ReadFile(e);
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kws_features_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    clip_ = (dir_ / "tone.wav").string();
    std::vector<float> x(16000);
    for (int i = 0; i < 16000; ++i) x[size_t(i)] = float(0.4 * std::sin(2 * std::numbers::pi * 700 * i / 16000));
    WriteWav16(clip_, x, 16000);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string clip_;
};

}  // namespace

TEST_F(CliTest, TruncatedFileExits2NamingTheFile) {
  std::string bytes = ReadFile(clip_);
  std::string cut = (dir_ / "cut_clip.wav").string();
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, 44 + 3000);
  CmdResult r = Kws("features " + cut, dir_);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("cut_clip.wav"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  CmdResult m = Kws("features " + (dir_ / "missing.wav").string(), dir_);
  EXPECT_EQ(m.code, 2) << m.err;
  EXPECT_NE(m.err.find("missing.wav"), std::string::npos) << m.err;
}

TEST_F(CliTest, BadSettingExits1NamingIt) {
  CmdResult r = Kws("features " + clip_ + " --upper-hz 9000", dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("kws features: --upper-hz "), std::string::npos) << r.err;
}

TEST_F(CliTest, JsonShapeAndConfigOverrides) {
  CmdResult r = Kws("features " + clip_ + " --json", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 97);
  EXPECT_EQ(j["bins"], 20);
  ASSERT_EQ(j["data"].size(), 97u);
  EXPECT_EQ(j["data"][0].size(), 20u);

  std::string cfg = (dir_ / "kws.toml").string();
  std::ofstream(cfg) << "[features]\nnum_mel_bins = 40\nframe_length_s = 0.03\nframe_step_s = 0.02\n"
                        "upper_hz = 4000\nmfcc = 10\n";
  r = Kws("features " + clip_ + " --json --config " + cfg, dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 49);
  EXPECT_EQ(j["bins"], 10);
  r = Kws("features " + clip_ + " --json --config " + cfg + " --mfcc 0 --num-mel-bins 32", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 49);
  EXPECT_EQ(j["bins"], 32);  // flags override the file

  std::ofstream(cfg) << "[features]\nnum_mel_bin = 40\n";
  r = Kws("features " + clip_ + " --config " + cfg, dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("num_mel_bin"), std::string::npos) << r.err;
}

TEST_F(CliTest, PngIsWrittenWithTheRightSize) {
  std::string png = (dir_ / "spec.png").string();
  CmdResult r = Kws("features " + clip_ + " --png " + png, dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("97 frames x 20"), std::string::npos) << r.out;
  std::string bytes = ReadFile(png);
  ASSERT_GT(bytes.size(), 33u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  auto be32 = [&](size_t o) {
    return uint32_t(uint8_t(bytes[o])) << 24 | uint32_t(uint8_t(bytes[o + 1])) << 16 |
           uint32_t(uint8_t(bytes[o + 2])) << 8 | uint32_t(uint8_t(bytes[o + 3]));
  };
  EXPECT_EQ(be32(16), 97u * 7);  // width: frames * clamp(720 / 97) = 7 px each
  EXPECT_EQ(be32(20), 20u * 18); // height: bins * clamp(360 / 20) = 18 px each
}

TEST(Png, ColormapEndsAndRoundTrip) {
  auto lo = Colormap(0.0), hi = Colormap(1.0);
  EXPECT_EQ(lo, (std::array<uint8_t, 3>{0x44, 0x01, 0x54}));  // viridis dark purple
  EXPECT_EQ(hi, (std::array<uint8_t, 3>{0xfd, 0xe7, 0x25}));  // viridis yellow
  EXPECT_EQ(Colormap(-3.0), lo);
  EXPECT_EQ(Colormap(NAN), lo);
  EXPECT_EQ(Colormap(1.0, ColormapKind::kMagma), (std::array<uint8_t, 3>{0xfc, 0xfd, 0xbf}));

  // A 2x3 matrix (rows = time on x, cols = bins on y, col 0 at the bottom).
  const float m[6] = {0, 1, 2, 3, 4, 5};  // row 0: 0 1 2, row 1: 3 4 5
  Image img = HeatmapImage(m, 2, 3, 2, 1);
  ASSERT_EQ(img.width, 4);
  ASSERT_EQ(img.height, 3);
  auto px = [&](int x, int y) {
    const uint8_t* p = img.rgb.data() + (size_t(y) * 4 + size_t(x)) * 3;
    return std::array<uint8_t, 3>{p[0], p[1], p[2]};
  };
  EXPECT_EQ(px(0, 2), Colormap(0.0));  // bottom-left = row 0, col 0 = min
  EXPECT_EQ(px(3, 0), Colormap(1.0));  // top-right = row 1, col 2 = max
  EXPECT_EQ(px(1, 1), Colormap(0.2));

  // Decode with libpng and compare pixels.
  std::string bytes = EncodePng(img.width, img.height, img.rgb);
  png_image pi{};
  pi.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_memory(&pi, bytes.data(), bytes.size()));
  pi.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> back(PNG_IMAGE_SIZE(pi));
  ASSERT_TRUE(png_image_finish_read(&pi, nullptr, back.data(), 0, nullptr));
  EXPECT_EQ(back, img.rgb);
}
