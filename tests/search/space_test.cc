// Search spaces: what a space file may say, the errors for what it may not, and sampling that is a
// function of (space, seed, candidate number) only.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "search/space.h"
#include "search_test_util.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws::search {
namespace {

namespace fsys = std::filesystem;

class SpaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fsys::temp_directory_path() / ("kws_space_test_" + std::to_string(getpid()));
    fsys::create_directories(dir_);
    AtomicWriteFile(dir_ / "tiny.toml", search_test::kTinyBase);
  }
  void TearDown() override { fsys::remove_all(dir_); }
  SearchSpace Parse(const std::string& text) { return ParseSpace(text, "space.toml", dir_.string()); }
  // The UsageError's message (empty when the text parses).
  std::string UsageMessage(const std::string& text) {
    try {
      Parse(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
      EXPECT_EQ(e.exit_code(), 1);
      return e.what();
    }
    return "";
  }
  fsys::path dir_;
};

TEST_F(SpaceTest, ReadsEverySection) {
  const SearchSpace s = Parse(search_test::kTinySpace);
  EXPECT_EQ(s.seed, 6u);
  EXPECT_EQ(s.trials, 4);
  EXPECT_EQ(s.rungs, (std::vector<int>{1, 3}));
  EXPECT_EQ(s.eta, 2);
  EXPECT_EQ(s.quant, "int8");
  ASSERT_EQ(s.families.size(), 1u);
  EXPECT_EQ(s.families[0].name, "tiny");
  ASSERT_EQ(s.params.size(), 3u);
  // (the [space] table is read in key order)
  EXPECT_EQ(s.params[0].key, "model.layers.0.filters");
  EXPECT_EQ(s.params[0].choices.size(), 4u);
  EXPECT_EQ(s.params[1].key, "prune.final_sparsity");
  EXPECT_TRUE(s.params[1].is_range());
  EXPECT_FALSE(s.params[1].integer);
  EXPECT_EQ(s.params[2].key, "train.learning_rate.initial");
  EXPECT_TRUE(s.params[2].log);
  ASSERT_EQ(s.budgets.size(), 1u);
  EXPECT_EQ(s.budgets[0].limits.at("macs"), 12000);
  EXPECT_TRUE(s.Varies("prune.final_sparsity"));
  EXPECT_FALSE(s.Varies("train.epochs"));
}

TEST_F(SpaceTest, SamplingIsAFunctionOfSeedAndIndex) {
  const SearchSpace s = Parse(search_test::kTinySpace);
  const SearchSpace again = Parse(search_test::kTinySpace);
  std::set<std::string> distinct;
  for (int i = 0; i < 40; ++i) {
    const Candidate a = SampleCandidate(s, i), b = SampleCandidate(again, i);
    EXPECT_EQ(a.overrides, b.overrides) << i;
    EXPECT_EQ(a.varied, b.varied) << i;
    const double sp = a.varied["prune.final_sparsity"].get<double>();
    EXPECT_GE(sp, 0.3);
    EXPECT_LE(sp, 0.6);
    const double lr = a.varied["train.learning_rate.initial"].get<double>();
    EXPECT_GE(lr, 0.005);
    EXPECT_LE(lr, 0.05);
    const int f = a.varied["model.layers.0.filters"].get<int>();
    EXPECT_TRUE(f == 2 || f == 4 || f == 8 || f == 16) << f;
    // Overrides are what the config reads; every one is applied to the base.
    ASSERT_EQ(a.overrides.size(), 3u);
    EXPECT_EQ(a.overrides[0], "model.layers.0.filters=" + std::to_string(f));
    const Config cfg = ResolveConfig(s, a, {}, 2);
    EXPECT_EQ(cfg.train.epochs, 2);
    EXPECT_DOUBLE_EQ(cfg.prune.final_sparsity, sp);
    distinct.insert(a.varied.dump());
  }
  EXPECT_GT(distinct.size(), 35u);  // a draw per candidate, not one for all
  // Another seed, other candidates.
  std::string other = search_test::kTinySpace;
  other.replace(other.find("seed = 6"), 8, "seed = 7");
  const SearchSpace s4 = Parse(other);
  int same = 0;
  for (int i = 0; i < 10; ++i) same += SampleCandidate(s4, i).varied == SampleCandidate(s, i).varied;
  EXPECT_LT(same, 3);
}

TEST_F(SpaceTest, IntegerRangesWithStepAndFixedValues) {
  const SearchSpace s = Parse(R"(
[search]
base = "tiny.toml"
[space]
model.layers.0.filters = { min = 4, max = 16, step = 4 }
"train.batch_size" = 16
)");
  ASSERT_EQ(s.params.size(), 2u);
  std::set<int> seen;
  for (int i = 0; i < 60; ++i) {
    const Candidate c = SampleCandidate(s, i);
    seen.insert(c.varied["model.layers.0.filters"].get<int>());
    EXPECT_FALSE(c.varied.contains("train.batch_size"));  // fixed: not a varied setting
    EXPECT_EQ(ResolveConfig(s, c, {}, 0).train.batch_size, 16);
  }
  EXPECT_EQ(seen, (std::set<int>{4, 8, 12, 16}));
}

TEST_F(SpaceTest, BadInputIsAUsageErrorNamingFileAndKey) {
  const std::string head = "[search]\nbase = \"tiny.toml\"\n";
  // unknown key in [search]
  std::string m = UsageMessage(head + "sed = 3\n");
  EXPECT_NE(m.find("space.toml"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key 'sed'"), std::string::npos) << m;
  // unknown table
  m = UsageMessage(head + "[spaces]\nx = [1]\n");
  EXPECT_NE(m.find("unknown table [spaces]"), std::string::npos) << m;
  // unknown setting
  m = UsageMessage(head + "[space]\n\"train.learnin_rate.initial\" = [0.1, 0.2]\n");
  EXPECT_NE(m.find("train.learnin_rate.initial: unknown setting"), std::string::npos) << m;
  // empty range and empty list
  m = UsageMessage(head + "[space]\n\"prune.final_sparsity\" = { min = 0.9, max = 0.5 }\n");
  EXPECT_NE(m.find("prune.final_sparsity: empty range (min 0.9 > max 0.5)"), std::string::npos) << m;
  m = UsageMessage(head + "[space]\n\"model.layers.0.filters\" = []\n");
  EXPECT_NE(m.find("model.layers.0.filters: empty list of choices"), std::string::npos) << m;
  // a value the base config refuses
  m = UsageMessage(head + "[space]\n\"prune.final_sparsity\" = [0.5, 1.5]\n");
  EXPECT_NE(m.find("refused by"), std::string::npos) << m;
  // an unknown budget figure, a non-positive limit
  m = UsageMessage(head + "[budget]\nflash_bytes = 100\n");
  EXPECT_NE(m.find("unknown figure 'flash_bytes'"), std::string::npos) << m;
  m = UsageMessage(head + "[budget]\nzip_bytes = 0\n");
  EXPECT_NE(m.find("zip_bytes: must be a number > 0"), std::string::npos) << m;
  m = UsageMessage(head + "zip_estimate_scale = 3\n");
  EXPECT_NE(m.find("zip_estimate_scale: must be a number in 0.5..2"), std::string::npos) << m;
  EXPECT_DOUBLE_EQ(Parse(head + "zip_estimate_scale = 1.2\n").zip_estimate_scale, 1.2);
  // rungs must increase; no base config
  m = UsageMessage(head + "rungs = [3, 1]\n");
  EXPECT_NE(m.find("rungs: epochs must increase"), std::string::npos) << m;
  m = UsageMessage("[search]\nseed = 1\n");
  EXPECT_NE(m.find("no base config"), std::string::npos) << m;
  // a TOML syntax error says where
  m = UsageMessage("[search\n");
  EXPECT_NE(m.find("space.toml:1:"), std::string::npos) << m;
  // and a good one parses
  EXPECT_EQ(UsageMessage(head + "[space]\n\"prune.final_sparsity\" = { min = 0.5, max = 0.9 }\n"), "");
}

TEST_F(SpaceTest, MissingBaseIsBadInput) {
  try {
    Parse("[search]\nbase = \"nope.toml\"\n");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2) << e.what();
    EXPECT_NE(std::string(e.what()).find("nope.toml"), std::string::npos) << e.what();
  }
}

TEST(OverrideValue, ReadsBackAsTheSameValue) {
  EXPECT_EQ(OverrideValue(nlohmann::json(0.1)), "0.1");
  EXPECT_EQ(OverrideValue(nlohmann::json(2.0)), "2.0");
  EXPECT_EQ(OverrideValue(nlohmann::json(7)), "7");
  EXPECT_EQ(OverrideValue(nlohmann::json(true)), "true");
  EXPECT_EQ(OverrideValue(nlohmann::json("mfcc")), "mfcc");
  EXPECT_EQ(OverrideValue(nlohmann::json::array({3, 3})), "3,3");
}

}  // namespace
}  // namespace kws::search
