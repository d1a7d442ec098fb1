// `kws search --broker` and `kws worker` on loopback: the test starts its own redis-server on a free
// port (skipped when redis-server is not installed), one coordinator and three workers; one worker
// is killed with SIGKILL mid-trial. Every trial must complete exactly once and equal the local run's.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "search/redis.h"
#include "search/results.h"
#include "search_test_util.h"
#include "util/error.h"
#include "util/fs.h"

extern char** environ;

namespace kws::search {
namespace {

namespace fsys = std::filesystem;
using json = nlohmann::json;
using search_test::Result;
using search_test::RunKws;

std::string RedisServer() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// A child process with stdout and stderr to files.
struct Child {
  pid_t pid = 0;
  std::string out, err;
  int status = -1;
  bool done = false;
  static Child Start(const std::vector<std::string>& args, const fsys::path& log_prefix) {
    Child c;
    c.out = log_prefix.string() + ".out";
    c.err = log_prefix.string() + ".err";
    std::vector<std::string> a = args;
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&c.pid, a[0].c_str(), &fa, nullptr, argv.data(), environ) != 0) c.pid = 0;
    posix_spawn_file_actions_destroy(&fa);
    return c;
  }
  bool Poll() {
    if (!done && pid > 0 && waitpid(pid, &status, WNOHANG) == pid) done = true;
    return done;
  }
  // Waits up to `seconds`; kills it (SIGKILL) when it has not ended by then.
  bool Wait(double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!Poll() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (done) return true;
    Kill(SIGKILL);
    return false;
  }
  void Kill(int sig) {
    if (pid > 0 && !done) {
      kill(pid, sig);
      waitpid(pid, &status, 0);
      done = true;
    }
  }
  int code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  std::string Err() const { return fsys::exists(err) ? ReadFile(err) : ""; }
  std::string Out() const { return fsys::exists(out) ? ReadFile(out) : ""; }
};

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisServer().empty()) GTEST_SKIP() << "redis-server is not installed (Debian package redis-server)";
    root_ = fsys::temp_directory_path() / ("kws_broker_test_" + std::to_string(getpid()));
    fsys::remove_all(root_);
    search_test::WriteToneData(root_ / "data");
    AtomicWriteFile(root_ / "tiny.toml", search_test::kTinyBase);
    AtomicWriteFile(root_ / "space.toml", search_test::kTinySpace);
    // Slower trials (a longer latency benchmark: same trials and results) so a worker can be killed
    // mid-trial.
    std::string slow = search_test::kTinySpace;
    slow.replace(slow.find("bench_runs = 3"), 14, "bench_runs = 4000");
    AtomicWriteFile(root_ / "slow_space.toml", slow);
    port_ = FreePort();
    redis_ = Child::Start({RedisServer(), "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", root_.string()},
                          root_ / "redis");
    ASSERT_GT(redis_.pid, 0);
    for (int i = 0; i < 200; ++i) {  // up to 10 s for it to listen
      try {
        Redis::Connect(ParseRedisUrl(Url()), 1);
        return;
      } catch (const Error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    FAIL() << "redis-server did not start: " << redis_.Err() << redis_.Out();
  }
  void TearDown() override {
    for (Child* c : children_) c->Kill(SIGKILL);
    redis_.Kill(SIGTERM);
    if (!root_.empty()) fsys::remove_all(root_);
  }
  std::string Url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  Child& Spawn(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> a = {KWS_BINARY, "-j2"};
    a.insert(a.end(), args.begin(), args.end());
    owned_.push_back(std::make_unique<Child>(Child::Start(a, root_ / name)));
    children_.push_back(owned_.back().get());
    return *owned_.back();
  }
  fsys::path root_;
  int port_ = 0;
  Child redis_;
  std::vector<std::unique_ptr<Child>> owned_;
  std::vector<Child*> children_;
};

std::map<std::pair<int, int>, json> ByKey(const std::vector<json>& lines) {
  std::map<std::pair<int, int>, json> m;
  for (const json& l : lines) m[{l["trial"].get<int>(), l.value("epochs", -1)}] = l;
  return m;
}

TEST_F(BrokerTest, ThreeWorkersOneKilledEveryTrialOnceSameResultsAsLocal) {
  // The local run, for comparison.
  const Result local = RunKws("search --space " + (root_ / "space.toml").string() + " --data " +
                              (root_ / "data").string() + " --out " + (root_ / "local").string() + " --json");
  ASSERT_EQ(local.code, 0) << local.err;

  const fsys::path out = root_ / "dist";
  Child& coord = Spawn({"search", "--space", (root_ / "slow_space.toml").string(), "--data", (root_ / "data").string(),
                        "--out", out.string(), "--broker", Url(), "--lease", "2", "--json"},
                       "coordinator");
  std::vector<Child*> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(&Spawn({"worker", "--broker", Url(), "--data", (root_ / "data").string(), "--name",
                              "w" + std::to_string(i), "--once"},
                             "worker" + std::to_string(i)));
  // Kill the first worker that says it started a trial (any of them: one may still be waiting for the
  // search to appear when the others have taken every job).
  int killed = -1;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (killed < 0 && std::chrono::steady_clock::now() < until && !coord.Poll()) {
    for (int i = 0; i < 3 && killed < 0; ++i)
      if (workers[size_t(i)]->Err().find(") started") != std::string::npos) {
        workers[size_t(i)]->Kill(SIGKILL);
        killed = i;
      }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_GE(killed, 0) << "no worker started a trial; the coordinator said: " << coord.Err();
  ASSERT_TRUE(coord.Wait(180)) << "the search did not finish: " << coord.Err();
  ASSERT_EQ(coord.code(), 0) << coord.Err();
  std::string others_log;
  for (int i = 0; i < 3; ++i) {
    if (i == killed) continue;
    ASSERT_TRUE(workers[size_t(i)]->Wait(30)) << "worker " << i << " did not end: " << workers[size_t(i)]->Err();
    EXPECT_EQ(workers[size_t(i)]->code(), 0) << workers[size_t(i)]->Err();
    others_log += workers[size_t(i)]->Err();
  }
  const json s = json::parse(coord.Out());
  EXPECT_EQ(s["trained"], 6);
  // Every training exactly once, each equal to the local run's.
  const std::vector<json> lines = search_test::StableLines(out / "trials.jsonl");
  std::map<std::pair<int, int>, int> count;
  for (const json& l : lines) ++count[{l["trial"].get<int>(), l.value("epochs", -1)}];
  for (auto& [k, n] : count) EXPECT_EQ(n, 1) << "trial " << k.first << " epochs " << k.second;
  EXPECT_EQ(ByKey(lines), ByKey(search_test::StableLines(root_ / "local" / "trials.jsonl")));
  EXPECT_EQ(ReadFile(out / "best" / "default" / "model_int8.tflite"),
            ReadFile(root_ / "local" / "best" / "default" / "model_int8.tflite"));
  // The killed worker's trial was taken over by another after its lease ran out.
  EXPECT_NE(others_log.find("(taken over: delivery 2)"), std::string::npos) << others_log;
  for (const std::string& raw : search_test::Lines(ReadFile(out / "trials.jsonl"))) {
    const json l = json::parse(raw);
    if (IsTrained(l)) EXPECT_NE(l["worker"], "w" + std::to_string(killed)) << l;
  }
}

TEST_F(BrokerTest, AWorkerWithOtherDataIsRefused) {
  // Other data: the same folders without one clip.
  fsys::copy(root_ / "data", root_ / "other", fsys::copy_options::recursive);
  fsys::remove(root_ / "other" / "low" / "spk00_nohash_0.wav");
  const fsys::path out = root_ / "dist";
  Child& coord = Spawn({"search", "--space", (root_ / "space.toml").string(), "--data", (root_ / "data").string(),
                        "--out", out.string(), "--broker", Url(), "--lease", "2"},
                       "coordinator");
  Child& bad = Spawn({"worker", "--broker", Url(), "--data", (root_ / "other").string(), "--name", "bad"}, "bad");
  ASSERT_TRUE(bad.Wait(60)) << bad.Err();
  EXPECT_EQ(bad.code(), 2) << bad.Err();
  EXPECT_NE(bad.Err().find("differs from the search's"), std::string::npos) << bad.Err();
  EXPECT_NE(bad.Err().find("63 clips"), std::string::npos) << bad.Err();
  // The coordinator is told, and still finishes with a good worker.
  Child& good = Spawn({"worker", "--broker", Url(), "--data", (root_ / "data").string(), "--once"}, "good");
  ASSERT_TRUE(coord.Wait(120)) << coord.Err();
  EXPECT_EQ(coord.code(), 0) << coord.Err();
  EXPECT_NE(coord.Err().find("worker bad refused"), std::string::npos) << coord.Err();
  ASSERT_TRUE(good.Wait(30)) << good.Err();
  EXPECT_EQ(good.code(), 0) << good.Err();
}

TEST_F(BrokerTest, UnreachableBrokerIsAClearError) {
  const int closed = FreePort();  // nobody listens there
  const Result w = RunKws("worker --broker redis://127.0.0.1:" + std::to_string(closed) + " --data " +
                          (root_ / "data").string());
  EXPECT_EQ(w.code, 2) << w.err;
  EXPECT_NE(w.err.find("cannot reach the broker"), std::string::npos) << w.err;
  const Result u = RunKws("worker --broker localhost:6379 --data " + (root_ / "data").string());
  EXPECT_EQ(u.code, 1) << u.err;
  EXPECT_NE(u.err.find("not a redis:// address"), std::string::npos) << u.err;
}

}  // namespace
}  // namespace kws::search
