// Successive halving: promotions computed by hand, the same whatever order results arrive in;
// budgets and the figures' verdicts; the Pareto front, the best record, trials.jsonl reading.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "search/asha.h"
#include "search/budget.h"
#include "search/results.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws::search {
namespace {

namespace fsys = std::filesystem;

std::vector<std::pair<int, int>> Jobs(const Asha& a) {
  std::vector<std::pair<int, int>> out;
  for (const Asha::Job& j : a.Runnable()) out.push_back({j.id, j.rung});
  return out;
}

// 9 trials, rungs 1/3/9 epochs, eta 3. Scores: trial i -> kScore[i].
constexpr double kScore[9] = {0.5, 0.9, 0.7, 0.6, 0.8, 0.95, 0.4, 0.3, 0.85};

TEST(Asha, PromotesTheTopThirdAsResultsArrive) {
  Asha a({1, 3, 9}, 3);
  for (int i = 0; i < 9; ++i) a.AddTrial(i);
  EXPECT_EQ(Jobs(a).size(), 9u);
  EXPECT_EQ(a.Runnable()[0].epochs, 1);
  a.Record(0, 0, kScore[0], true);
  a.Record(1, 0, kScore[1], true);
  EXPECT_TRUE(a.members(1).empty());  // 2 processed: floor(2/3) = 0 promotions
  a.Record(2, 0, kScore[2], true);
  // 3 processed: the best of {0.5, 0.9, 0.7} (trial 1) goes on, and runs first (higher rung).
  EXPECT_EQ(a.members(1), (std::vector<int>{1}));
  EXPECT_EQ(Jobs(a).front(), (std::pair<int, int>{1, 1}));
  EXPECT_EQ(a.Runnable().front().epochs, 3);
  for (int i = 3; i < 6; ++i) a.Record(i, 0, kScore[i], true);
  // 6 processed: top 2 = trials 5 (0.95) and 1 (promoted already).
  EXPECT_EQ(a.members(1), (std::vector<int>{1, 5}));
  for (int i = 6; i < 9; ++i) a.Record(i, 0, kScore[i], true);
  // 9 processed: top 3 = 5, 1, 8.
  EXPECT_EQ(a.members(1), (std::vector<int>{1, 5, 8}));
  EXPECT_FALSE(a.Done());
  a.Record(1, 1, 0.91, true);
  a.Record(5, 1, 0.93, true);
  EXPECT_TRUE(a.members(2).empty());
  a.Record(8, 1, 0.97, true);
  EXPECT_EQ(a.members(2), (std::vector<int>{8}));  // the best at 3 epochs, not at 1
  EXPECT_EQ(Jobs(a), (std::vector<std::pair<int, int>>{{8, 2}}));
  EXPECT_EQ(a.epochs(2), 9);
  a.Record(8, 2, 0.98, true);
  EXPECT_TRUE(a.Done());
  EXPECT_TRUE(a.Runnable().empty());
  EXPECT_EQ(a.TopRung(8), 2);
  EXPECT_EQ(a.TopRung(1), 1);
  EXPECT_EQ(a.TopRung(0), 0);
  EXPECT_EQ(a.TopRung(42), -1);
}

TEST(Asha, SamePromotionsInAnyArrivalOrder) {
  Asha ref({1, 3}, 3);
  for (int i = 0; i < 9; ++i) ref.AddTrial(i);
  for (int i = 0; i < 9; ++i) ref.Record(i, 0, kScore[i], true);
  std::mt19937 g(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<int> order = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    std::shuffle(order.begin(), order.end(), g);
    Asha a({1, 3}, 3);
    for (int i = 0; i < 9; ++i) a.AddTrial(i);
    for (int i : order) a.Record(i, 0, kScore[i], true);
    EXPECT_EQ(a.members(1), ref.members(1));
  }
  // Out of order, trial 5's early result waits for trials 0..4: nothing promoted before then.
  Asha a({1, 3}, 3);
  for (int i = 0; i < 9; ++i) a.AddTrial(i);
  for (int i : {5, 4, 3, 2, 1}) a.Record(i, 0, kScore[i], true);
  EXPECT_TRUE(a.members(1).empty());
  a.Record(0, 0, kScore[0], true);
  EXPECT_EQ(a.members(1), (std::vector<int>{1, 5}));  // in trial order, at the fixed points
}

TEST(Asha, IneligibleTrialsAreNotPromoted) {
  Asha a({1, 3}, 3);
  for (int i = 0; i < 6; ++i) a.AddTrial(i);
  a.Record(0, 0, 0.99, false);  // over budget, or failed
  a.Record(1, 0, 0.5, true);
  a.Record(2, 0, 0.6, true);
  EXPECT_EQ(a.members(1), (std::vector<int>{2}));
  for (int i = 3; i < 6; ++i) a.Record(i, 0, 0.1, false);
  // 6 processed, quota 2, but only 1 and 2 are eligible.
  EXPECT_EQ(a.members(1), (std::vector<int>{2, 1}));
}

TEST(Asha, OneRungIsRandomSearch) {
  Asha a({5}, 3);
  for (int i = 0; i < 4; ++i) a.AddTrial(i);
  for (int i = 0; i < 4; ++i) a.Record(i, 0, 0.1 * i, true);
  EXPECT_TRUE(a.Done());
  EXPECT_EQ(a.rungs(), 1);
}

TEST(Budget, EstimatesGetTheMarginMeasuredFiguresDoNot) {
  Budget b;
  b.limits = {{"zip_bytes", 1000}, {"macs", 5000}};
  Figures f;
  f.zip_bytes = 1040;
  f.macs = 4000;
  EXPECT_FALSE(Judge({b}, f, {}).ok());
  EXPECT_EQ(Judge({b}, f, {}).reason, "zip_bytes 1,040 > 1,000");
  EXPECT_TRUE(Judge({b}, f, {{"zip_bytes"}, 0.05, true}).ok());  // an estimate within 5%
  f.zip_bytes = 1060;
  const Verdict v = Judge({b}, f, {{"zip_bytes"}, 0.05, true});
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.reason, "zip_bytes (estimate) 1,060 > 1,000");
  EXPECT_EQ(v.broken, (std::set<std::string>{"zip_bytes"}));
  // Unknown figures (latency before training) are not judged; latency can be left out.
  Budget lat;
  lat.limits = {{"latency_us", 10}};
  EXPECT_TRUE(Judge({lat}, Figures{}, {}).ok());
  Figures slow;
  slow.latency_us = 20;
  EXPECT_FALSE(Judge({lat}, slow, {}).ok());
  EXPECT_TRUE(Judge({lat}, slow, {{}, 0, false}).ok());
  // Several named budgets: the ones met are listed.
  Budget small, big;
  small.name = "small";
  small.limits = {{"macs", 3000}};
  big.name = "big";
  big.limits = {{"macs", 6000}};
  EXPECT_EQ(Judge({small, big}, f, {}).within, (std::vector<std::string>{"big"}));
  EXPECT_EQ(Thousands(4305), "4,305");
  EXPECT_EQ(Thousands(1500000), "1,500,000");
  EXPECT_EQ(Thousands(17.25), "17.2");
}

TEST(Results, ParetoFrontBestAndJsonl) {
  // (size, accuracy): 0 (10, .5) front; 1 (20, .9) front; 2 (15, .4) dominated by 0; 3 (30, .9)
  // dominated by 1; 4 (40, .95) front.
  const std::vector<std::pair<double, double>> p = {{10, .5}, {20, .9}, {15, .4}, {30, .9}, {40, .95}};
  std::vector<size_t> f = ParetoFront(p);
  std::sort(f.begin(), f.end());
  EXPECT_EQ(f, (std::vector<size_t>{0, 1, 4}));

  using json = nlohmann::json;
  const std::vector<json> recs = {
      {{"trial", 0}, {"epochs", 1}, {"status", "ok"}, {"accuracy", 0.9}, {"budgets", {"default"}}},
      {{"trial", 1}, {"epochs", 1}, {"status", "ok"}, {"accuracy", 0.95}, {"budgets", {"default"}}},
      {{"trial", 2}, {"epochs", 1}, {"status", "over_budget"}, {"accuracy", 0.99}, {"budgets", json::array()}},
      {{"trial", 0}, {"epochs", 3}, {"status", "ok"}, {"accuracy", 0.8}, {"budgets", {"default"}}},
      {{"trial", 3}, {"status", "rejected"}}};
  // Longest training first: trial 0 at 3 epochs beats trial 1's 0.95 at 1 epoch.
  const json best = BestWithin(recs, "default");
  EXPECT_EQ(best["trial"], 0);
  EXPECT_EQ(best["epochs"], 3);
  EXPECT_TRUE(BestWithin(recs, "other").is_null());
  const std::vector<json> finals = FinalRecords(recs);
  ASSERT_EQ(finals.size(), 3u);
  EXPECT_EQ(finals[0]["epochs"], 3);

  const fsys::path file = fsys::temp_directory_path() / ("kws_jsonl_" + std::to_string(getpid()) + ".jsonl");
  fsys::remove(file);
  EXPECT_TRUE(ReadJsonl(file.string()).empty());  // none yet
  AppendJsonl(file.string(), recs[0]);
  AppendJsonl(file.string(), recs[1]);
  bool torn = true;
  EXPECT_EQ(ReadJsonl(file.string(), &torn).size(), 2u);
  EXPECT_FALSE(torn);
  const std::string whole = ReadFile(file);
  AtomicWriteFile(file, whole + "{\"trial\": 5, \"epo");  // a kill mid-write
  EXPECT_EQ(ReadJsonl(file.string(), &torn).size(), 2u);
  EXPECT_TRUE(torn);
  AtomicWriteFile(file, "{\"trial\": 1}\nnot json\n{\"trial\": 2}\n");
  try {
    ReadJsonl(file.string());
    FAIL() << "a malformed middle line was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find(file.string() + ":2: not a JSON line"), std::string::npos) << e.what();
  }
  fsys::remove(file);
}

}  // namespace
}  // namespace kws::search
