// `kws search` end to end on a tiny generated dataset: what it writes, that a rerun repeats it
// exactly, --resume after a cut trials.jsonl and after a SIGKILL, and its errors.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "search/results.h"
#include "search_test_util.h"
#include "util/fs.h"

extern char** environ;

namespace kws::search {
namespace {

namespace fsys = std::filesystem;
using json = nlohmann::json;
using search_test::Result;
using search_test::RunKws;

class SearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fsys::temp_directory_path() / ("kws_search_test_" + std::to_string(getpid()));
    fsys::remove_all(root_);
    search_test::WriteToneData(root_ / "data");
    AtomicWriteFile(root_ / "tiny.toml", search_test::kTinyBase);
    AtomicWriteFile(root_ / "space.toml", search_test::kTinySpace);
    ref_ = RunKws(Args("ref") + " --json");
  }
  static void TearDownTestSuite() { fsys::remove_all(root_); }
  static std::string Args(const std::string& out) {
    return "search --space " + (root_ / "space.toml").string() + " --data " + (root_ / "data").string() + " --out " +
           (root_ / out).string();
  }
  static fsys::path root_;
  static Result ref_;
};
fsys::path SearchTest::root_;
Result SearchTest::ref_;

// Every trained (trial, epochs) pair of a trials.jsonl, with how often it occurs.
std::map<std::pair<int, int>, int> Trainings(const std::vector<json>& lines) {
  std::map<std::pair<int, int>, int> n;
  for (const json& l : lines)
    if (IsTrained(l)) ++n[{l["trial"].get<int>(), l["epochs"].get<int>()}];
  return n;
}

// The lines keyed by trial and epochs (rejected candidates: epochs -1), for comparing runs whose
// trainings finished in another order.
std::map<std::pair<int, int>, json> ByKey(const std::vector<json>& lines) {
  std::map<std::pair<int, int>, json> m;
  for (const json& l : lines) m[{l["trial"].get<int>(), l.value("epochs", -1)}] = l;
  return m;
}

TEST_F(SearchTest, WritesTrialsParetoAndBestWithinTheBudget) {
  ASSERT_EQ(ref_.code, 0) << ref_.err;
  const json s = json::parse(ref_.out);
  const fsys::path out = root_ / "ref";
  const std::vector<json> lines = search_test::StableLines(out / "trials.jsonl");
  // 4 trials over rungs 1 and 3 epochs with eta 2: 4 trainings of 1 epoch, the best 2 of 3 epochs.
  EXPECT_EQ(s["trials"], 4);
  EXPECT_EQ(s["rungs"], (json{1, 3}));
  const auto trainings = Trainings(lines);
  int at1 = 0, at3 = 0;
  for (auto& [key, n] : trainings) {
    EXPECT_EQ(n, 1) << key.first;
    at1 += key.second == 1;
    at3 += key.second == 3;
  }
  EXPECT_EQ(at1, 4);
  EXPECT_EQ(at3, 2);
  EXPECT_EQ(s["trained"], 6);
  // The promoted ones are the best two at 1 epoch (ties: the lower trial).
  std::vector<std::pair<double, int>> rung0;
  std::set<int> promoted;
  for (const json& l : lines) {
    if (!IsTrained(l)) continue;
    if (l["epochs"] == 1) rung0.push_back({-l["accuracy"].get<double>(), l["trial"].get<int>()});
    else promoted.insert(l["trial"].get<int>());
  }
  std::sort(rung0.begin(), rung0.end());
  EXPECT_EQ(promoted, (std::set<int>{rung0[0].second, rung0[1].second}));

  // Filters = 16 breaks the MACs budget before training: refused with the reason, counted.
  int rejected = 0;
  for (const json& l : lines) {
    EXPECT_TRUE(l.contains("trial") && l.contains("config") && l.contains("status")) << l;
    const std::string st = l["status"];
    if (st == "rejected") {
      ++rejected;
      EXPECT_EQ(l["config"]["model.layers.0.filters"], 16) << l;
      EXPECT_NE(l["reason"].get<std::string>().find("macs 18,"), std::string::npos) << l;
      EXPECT_NE(l["reason"].get<std::string>().find("before training"), std::string::npos) << l;
      continue;
    }
    if (st == "duplicate") continue;
    ASSERT_TRUE(IsTrained(l)) << l;
    EXPECT_EQ(st, "ok") << l;
    EXPECT_GE(l["accuracy"].get<double>(), 0) << l;
    EXPECT_LE(l["accuracy"].get<double>(), 1) << l;
    for (const char* k : {"tflite_bytes", "zip_bytes", "arena_bytes", "macs", "params"}) EXPECT_TRUE(l.contains(k)) << k;
    EXPECT_LE(l["macs"].get<double>(), 12000) << l;  // nothing in the report breaks its budget
    EXPECT_EQ(l["exports"].size(), 3u);
    // The check before training saw the exact MACs, arena and parameters (shapes decide them), the
    // .tflite bytes within 1 % and a zipped size.
    for (const char* k : {"macs", "arena_bytes", "params"}) EXPECT_EQ(l["estimate"][k], l[k]) << k << l;
    EXPECT_NEAR(l["estimate"]["tflite_bytes"].get<double>(), l["tflite_bytes"].get<double>(),
                0.01 * l["tflite_bytes"].get<double>()) << l;
    EXPECT_GT(l["estimate"]["zip_bytes"].get<double>(), 0) << l;
    const fsys::path dir = out / l["dir"].get<std::string>();
    EXPECT_EQ(long(fsys::file_size(dir / "model_int8.tflite")), l["tflite_bytes"].get<long>());
  }
  EXPECT_GE(rejected, 1);
  EXPECT_EQ(s["rejected"]["count"], rejected);
  EXPECT_EQ(s["rejected"]["reasons"]["macs"], rejected);
  // Every trained line also has the measured latency.
  for (const std::string& raw : search_test::Lines(ReadFile(out / "trials.jsonl"))) {
    const json l = json::parse(raw);
    if (IsTrained(l)) EXPECT_GT(l["latency_us"].get<double>(), 0) << l;
  }

  // pareto.svg: two panels, the front marked.
  const std::string svg = ReadFile(out / "pareto.svg");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("accuracy vs tflite_bytes"), std::string::npos);
  EXPECT_NE(svg.find("accuracy vs latency"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#ff7f0e\""), std::string::npos);  // the front

  // best/default: the most accurate 3-epoch trial, its config and exports.
  const json best = s["best"]["default"];
  ASSERT_FALSE(best.is_null());
  EXPECT_EQ(best["epochs"], 3);
  for (const json& l : lines)
    if (IsTrained(l) && l["epochs"] == 3) EXPECT_LE(l["accuracy"].get<double>(), best["accuracy"].get<double>());
  const fsys::path bd = out / "best" / "default";
  for (const char* f : {"config.toml", "model.ckpt", "metrics.json", "model_float.tflite", "model_dynamic.tflite",
                        "model_int8.tflite", "trial.json"})
    EXPECT_TRUE(fsys::exists(bd / f)) << f;
  EXPECT_EQ(json::parse(ReadFile(bd / "trial.json"))["trial"], best["trial"]);
  EXPECT_EQ(ReadFile(bd / "model_int8.tflite"), ReadFile(out / best["dir"].get<std::string>() / "model_int8.tflite"));
  EXPECT_NE(ReadFile(bd / "config.toml").find("epochs = 3"), std::string::npos);
  // No temporaries or scratch left.
  for (const auto& e : fsys::recursive_directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << e.path();
    EXPECT_NE(name, ".scratch") << e.path();
  }
}

TEST_F(SearchTest, TheTableShowsEveryTrial) {
  const Result r = RunKws(Args("table") + " --trials 2 --set train.epochs=1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("trial epochs  accuracy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("best within default: trial"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("over rungs [1]"), std::string::npos) << r.out;  // --set train.epochs caps the rungs
}

TEST_F(SearchTest, ARerunGivesTheSameTrialsAndResults) {
  ASSERT_EQ(ref_.code, 0) << ref_.err;
  const Result again = RunKws(Args("again") + " --json");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(search_test::StableLines(root_ / "again" / "trials.jsonl"),
            search_test::StableLines(root_ / "ref" / "trials.jsonl"));
  const json a = json::parse(again.out), b = json::parse(ref_.out);
  EXPECT_EQ(a["best"]["default"]["trial"], b["best"]["default"]["trial"]);
  EXPECT_EQ(ReadFile(root_ / "again" / "best" / "default" / "model_int8.tflite"),
            ReadFile(root_ / "ref" / "best" / "default" / "model_int8.tflite"));
}

// --parallel 2: trials in two child processes (`kws worker --job`), the same lines as one at a time.
TEST_F(SearchTest, ParallelChildProcessesGiveTheSameResults) {
  ASSERT_EQ(ref_.code, 0) << ref_.err;
  const Result r = RunKws(Args("parallel") + " --parallel 2 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ByKey(search_test::StableLines(root_ / "parallel" / "trials.jsonl")),
            ByKey(search_test::StableLines(root_ / "ref" / "trials.jsonl")));
  EXPECT_FALSE(fsys::exists(root_ / "parallel" / ".scratch"));
}

// Several --data folders are merged into one dataset (speakers 0-3 in one, 4-7 in the other).
TEST_F(SearchTest, SeveralDataFoldersAreOneDataset) {
  const fsys::path a = root_ / "split_a", b = root_ / "split_b";
  for (const auto& e : fsys::recursive_directory_iterator(root_ / "data")) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string(), label = e.path().parent_path().filename().string();
    const fsys::path dst = (name < "spk04" ? a : b) / label;
    fsys::create_directories(dst);
    fsys::copy_file(e.path(), dst / name);
  }
  const Result r = RunKws("search --space " + (root_ / "space.toml").string() + " --data " + a.string() + " --data " +
                          b.string() + " --out " + (root_ / "two").string() + " --trials 2 --set train.epochs=1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json id = json::parse(ReadFile(root_ / "two" / "search.json"));
  EXPECT_EQ(id["clips"], 64);
  EXPECT_EQ(id["data"].size(), 2u);
  EXPECT_EQ(json::parse(r.out)["trained"], 2);
}

TEST_F(SearchTest, ResumeAfterACutTrialsFileRepeatsNoFinishedTraining) {
  ASSERT_EQ(ref_.code, 0) << ref_.err;
  const fsys::path out = root_ / "cut";
  fsys::copy(root_ / "ref", out, fsys::copy_options::recursive);
  // Keep the first three lines (the rejected candidate and two trainings), then half a line.
  const std::vector<std::string> lines = search_test::Lines(ReadFile(out / "trials.jsonl"));
  std::string kept;
  int trained_kept = 0;
  for (size_t i = 0; i < 3; ++i) {
    kept += lines[i] + "\n";
    trained_kept += IsTrained(json::parse(lines[i]));
  }
  ASSERT_GE(trained_kept, 1);
  kept += lines[3].substr(0, lines[3].size() / 2);
  AtomicWriteFile(out / "trials.jsonl", kept);

  const Result r = RunKws(Args("cut") + " --resume --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(r.out);
  EXPECT_EQ(s["resumed"], trained_kept);
  EXPECT_EQ(s["ran"], 6 - trained_kept);
  const std::vector<json> after = search_test::StableLines(out / "trials.jsonl");
  for (auto& [key, n] : Trainings(after)) EXPECT_EQ(n, 1) << key.first << " " << key.second;
  EXPECT_EQ(ByKey(after), ByKey(search_test::StableLines(root_ / "ref" / "trials.jsonl")));
  EXPECT_EQ(s["best"]["default"]["trial"], json::parse(ref_.out)["best"]["default"]["trial"]);

  // A finished search resumed: nothing runs again.
  const Result again = RunKws(Args("cut") + " --resume --json");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["ran"], 0);
  EXPECT_EQ(search_test::StableLines(out / "trials.jsonl").size(), after.size());
}

TEST_F(SearchTest, ResumeAfterSigkillRepeatsNoFinishedTraining) {
  ASSERT_EQ(ref_.code, 0) << ref_.err;
  const fsys::path out = root_ / "killed";
  // The same space with a longer latency benchmark per trial (same trials and results, only slower),
  // so the search is surely still running when the first training is on record.
  std::string slow = search_test::kTinySpace;
  slow.replace(slow.find("bench_runs = 3"), 14, "bench_runs = 4000");
  AtomicWriteFile(root_ / "slow_space.toml", slow);
  std::vector<std::string> args = {KWS_BINARY, "-q", "-j2", "search", "--space", (root_ / "slow_space.toml").string(),
                                   "--data", (root_ / "data").string(), "--out", out.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  // Kill it as soon as the first training is on record (mid-search: 5 more to go).
  int trained = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (trained < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    trained = 0;
    for (const json& l : ReadJsonl((out / "trials.jsonl").string())) trained += IsTrained(l);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the search ended before it could be killed";
  int before = 0;
  for (const json& l : ReadJsonl((out / "trials.jsonl").string())) before += IsTrained(l);
  ASSERT_GE(before, 1);
  ASSERT_LT(before, 6);

  const Result r = RunKws("search --space " + (root_ / "slow_space.toml").string() + " --data " +
                          (root_ / "data").string() + " --out " + out.string() + " --resume --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json s = json::parse(r.out);
  EXPECT_EQ(s["resumed"], before);
  EXPECT_EQ(s["ran"], 6 - before);
  const std::vector<json> after = search_test::StableLines(out / "trials.jsonl");
  for (auto& [key, n] : Trainings(after)) EXPECT_EQ(n, 1) << key.first << " " << key.second;
  EXPECT_EQ(ByKey(after), ByKey(search_test::StableLines(root_ / "ref" / "trials.jsonl")));
}

// Each error: one line naming the problem, exit 1 (usage/config) or 2 (bad input), --out not created.
TEST_F(SearchTest, BadInputIsAClearErrorAndWritesNothing) {
  auto expect_error = [&](const std::string& space_text, const std::string& extra, int code, const std::string& what) {
    const fsys::path space = root_ / "bad_space.toml";
    AtomicWriteFile(space, space_text);
    const fsys::path out = root_ / "bad_out";
    fsys::remove_all(out);
    const Result r = RunKws("search --space " + space.string() + " --data " + (root_ / "data").string() + " --out " +
                            out.string() + " " + extra);
    EXPECT_EQ(r.code, code) << what << ": " << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(search_test::Lines(r.err).size(), 1u) << r.err;
    EXPECT_FALSE(fsys::exists(out)) << what;
  };
  const std::string space = search_test::kTinySpace;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = space;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect_error(with("eta = 2", "eta = 2\nsed = 1"), "", 1, "[search]: unknown key 'sed'");
  expect_error(with("\"prune.final_sparsity\"", "\"prune.final_sparsiti\""), "", 1,
               "prune.final_sparsiti: unknown setting");
  expect_error(with("min = 0.3, max = 0.6", "min = 0.6, max = 0.3"), "", 1, "empty range (min 0.6 > max 0.3)");
  expect_error(with("[2, 4, 8, 16]", "[]"), "", 1, "empty list of choices");
  // A budget nothing can meet: every candidate refused before training.
  expect_error(with("macs = 12000", "macs = 10"), "", 1, "budget: none of the");
  // --set on a searched key; an unknown --set key; labels the data lacks.
  expect_error(space, "--set prune.final_sparsity=0.5", 1, "is searched by");
  expect_error(space, "--set train.epoch=2", 1, "train.epoch");
  expect_error(space, "--labels low,nope", 1, "nope");
  // The broker: not a redis:// address (usage), nobody listening (bad input).
  expect_error(space, "--broker http://127.0.0.1:1", 1, "not a redis:// address");
  expect_error(space, "--broker redis://127.0.0.1:1", 2, "cannot reach the broker");
}

TEST_F(SearchTest, OutMustHoldNoOtherSearch) {
  ASSERT_EQ(ref_.code, 0) << ref_.err;
  // Without --resume an existing search is not overwritten.
  const Result r = RunKws(Args("ref"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already holds a search"), std::string::npos) << r.err;
  // --resume with other settings is refused.
  const Result o = RunKws(Args("ref") + " --resume --set train.batch_size=4");
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("holds another search"), std::string::npos) << o.err;
  // --resume of nothing.
  const Result n = RunKws(Args("nothing_here") + " --resume");
  EXPECT_EQ(n.code, 1);
  EXPECT_NE(n.err.find("holds no search to resume"), std::string::npos) << n.err;
}

}  // namespace
}  // namespace kws::search
