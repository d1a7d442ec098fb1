// configs/zoo: every config parses and builds for its features and 12 words; its parameter count and
// multiply-accumulates are the ones its header states (so a config edit that changes the network
// cannot leave a stale header behind).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>

#include "model/config.h"
#include "model/model.h"
#include "util/fs.h"

namespace kws {
namespace {

namespace fs = std::filesystem;

struct Counted {
  long trainable = 0, total = 0;
  int64_t macs = 0;
};

Counted Count(const Config& c) {
  const FeatureOptions& f = c.features;
  Model m = Model::Build(c.layers, {f.num_frames(f.window_samples()), f.num_features(), 1}, 12, 1);
  Counted n;
  for (Param* p : m.Params()) n.trainable += long(p->value.size());
  n.total = m.ParamCount();
  n.macs = m.Macs();
  std::printf("%s", m.Summary().c_str());
  return n;
}

TEST(Zoo, EveryConfigBuildsAndMatchesItsHeader) {
  const fs::path dir = fs::path(KWS_SOURCE_DIR) / "configs/zoo";
  int configs = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".toml") continue;
    SCOPED_TRACE(e.path().string());
    ++configs;
    const Config c = LoadConfig(e.path().string());
    EXPECT_EQ(c.data.labels.size(), 12u);
    const Counted n = Count(c);
    std::printf("%s: %ld trainable parameters (%ld with BN statistics), %lld MACs\n",
                e.path().filename().c_str(), n.trainable, n.total, (long long)n.macs);
    // The header's "# Ours: <trainable> trainable parameters (<total> ...), <macs> MACs".
    const std::string text = ReadFile(e.path());
    std::smatch m;
    const std::regex re("# Ours: ([0-9,]+) trainable parameters \\(([0-9,]+) with BN statistics\\), ([0-9,]+) MACs");
    if (!std::regex_search(text, m, re)) {
      ADD_FAILURE() << "no '# Ours: N trainable parameters (M with BN statistics), K MACs'";
      continue;
    }
    auto num = [](std::string s) {
      s.erase(std::remove(s.begin(), s.end(), ','), s.end());
      return std::stoll(s);
    };
    EXPECT_EQ(num(m[1]), n.trainable);
    EXPECT_EQ(num(m[2]), n.total);
    EXPECT_EQ(num(m[3]), n.macs);
  }
  EXPECT_GE(configs, 5);
}

}  // namespace
}  // namespace kws
