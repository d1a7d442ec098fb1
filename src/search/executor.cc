#include "search/executor.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>

#include "search/queue.h"
#include "search/redis.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

extern char** environ;

namespace kws::search {

namespace fsys = std::filesystem;

namespace {

// One trial at a time in this process, on the search's threads.
class InProcess : public Executor {
 public:
  InProcess(std::vector<std::string> data, std::string out) : data_(std::move(data)), scratch_(fsys::path(out) / ".scratch") {}
  int Capacity() override { return 1; }
  void Submit(const Job& job) override { jobs_.push_back(job); }
  std::optional<TrialResult> Next() override {
    if (jobs_.empty()) return std::nullopt;
    const Job job = jobs_.front();
    jobs_.pop_front();
    LogInfo("search: trial %d, %d epochs", job.trial, job.epochs);
    return RunTrial(job, data_, scratch_.string());
  }
  void Finish() override {
    std::error_code ec;
    fsys::remove_all(scratch_, ec);
  }

 private:
  std::vector<std::string> data_;
  fsys::path scratch_;
  std::deque<Job> jobs_;
};

// `parallel` trials at a time, each in a child `kws worker --job JOB --out DIR`.
class Children : public Executor {
 public:
  Children(std::string program, int parallel, std::vector<std::string> data, std::string out)
      : program_(std::move(program)), parallel_(parallel), data_(std::move(data)), dir_(fsys::path(out) / ".scratch") {}
  ~Children() override {
    for (auto& [pid, _] : running_) kill(pid, SIGTERM);
    for (auto& [pid, _] : running_) waitpid(pid, nullptr, 0);
  }
  int Capacity() override { return parallel_; }
  void Submit(const Job& job) override {
    fsys::create_directories(dir_);
    const fsys::path job_file = dir_ / (job.Key() + ".json"), out = dir_ / job.Key();
    std::error_code ec;
    fsys::remove_all(out, ec);
    AtomicWriteFile(job_file, job.ToJson().dump() + "\n");
    std::vector<std::string> args = {program_, "-q", "worker", "--job", job_file.string(), "--out", out.string()};
    for (const std::string& d : data_) args.insert(args.end(), {"--data", d});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, program_.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
      throw InternalError("search: cannot start " + program_ + " for trial " + job.Key());
    LogInfo("search: trial %d, %d epochs (process %d)", job.trial, job.epochs, int(pid));
    running_[pid] = job;
  }
  std::optional<TrialResult> Next() override {
    while (!running_.empty()) {
      for (auto it = running_.begin(); it != running_.end(); ++it) {
        int status = 0;
        if (waitpid(it->first, &status, WNOHANG) != it->first) continue;
        const Job job = it->second;
        running_.erase(it);
        const fsys::path out = dir_ / job.Key();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
          throw InternalError("search: trial " + job.Key() + ": `kws worker --job` failed (exit " +
                              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "; its message is above)");
        TrialResult r = ReadTrialDir(out.string());
        std::error_code ec;
        fsys::remove_all(out, ec);
        fsys::remove(dir_ / (job.Key() + ".json"), ec);
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }
  void Finish() override {
    std::error_code ec;
    fsys::remove_all(dir_, ec);
  }

 private:
  std::string program_;
  int parallel_;
  std::vector<std::string> data_;
  fsys::path dir_;
  std::map<pid_t, Job> running_;
};

// Jobs into a Redis stream, results out of another (queue.h).
class Broker : public Executor {
 public:
  Broker(const SearchOptions& o, std::string search_id, std::string digest, int clips)
      : redis_(Redis::Connect(ParseRedisUrl(o.broker))), queue_(redis_, o.queue), lease_ms_((long long)(o.lease_seconds * 1000)) {
    meta_.search_id = std::move(search_id);
    meta_.data_digest = std::move(digest);
    meta_.data_clips = clips;
    meta_.lease_ms = lease_ms_;
    meta_.out = fsys::absolute(o.out).string();
    const QueueMeta m = queue_.Meta();
    if (!m.search_id.empty() && m.search_id != meta_.search_id && m.state == "running" &&
        redis_.NowMs() - m.heartbeat < std::max(3 * m.lease_ms, 30000LL))
      throw UsageError("--broker " + redis_.url().text + ": queue '" + o.queue + "' is in use by another search (" +
                       m.out + "); pass --queue NAME");
    same_search_ = m.search_id == meta_.search_id && m.state == "running";
  }
  void Start() override {
    if (!same_search_) queue_.Reset();
    queue_.Start(meta_);
    if (same_search_)
      for (auto& [key, _] : queue_.Submitted()) submitted_.insert(key);
  }
  std::set<std::string> Outstanding() override { return submitted_; }
  int Capacity() override { return std::max(2, queue_.LiveWorkers(lease_ms_) + 1); }
  void Submit(const Job& job) override {
    if (submitted_.insert(job.Key()).second) queue_.Submit(job);
  }
  std::optional<TrialResult> Next() override {
    if (ready_.empty()) {
      queue_.Beat();
      for (auto& m : queue_.ReadResults(last_id_, 1000)) {
        if (!m.refused.empty()) {
          if (refused_.insert(m.worker).second) LogWarn("search: worker %s refused: %s", m.worker.c_str(), m.refused.c_str());
        } else if (m.result) {
          ready_.push_back(std::move(*m.result));
        }
      }
    }
    if (ready_.empty()) {
      const bool none = queue_.LiveWorkers(lease_ms_) == 0;
      if (none && !told_)
        LogInfo("search: waiting for workers: kws worker --broker %s --queue %s --data DIR", redis_.url().text.c_str(),
                queue_.name().c_str());
      told_ = none;
      return std::nullopt;
    }
    TrialResult r = std::move(ready_.front());
    ready_.pop_front();
    LogInfo("search: trial %d (%d epochs) from %s", r.trial, r.epochs, r.worker.c_str());
    return r;
  }
  void Finish() override { queue_.Finish(); }

 private:
  Redis redis_;
  Queue queue_;
  long long lease_ms_;
  QueueMeta meta_;
  bool same_search_ = false, told_ = false;
  std::set<std::string> submitted_, refused_;
  std::string last_id_ = "0";
  std::deque<TrialResult> ready_;
};

}  // namespace

std::unique_ptr<Executor> MakeExecutor(const SearchOptions& o, const std::string& search_id, const std::string& digest,
                                       int clips, const std::vector<std::string>& data_dirs) {
  if (!o.broker.empty()) return std::make_unique<Broker>(o, search_id, digest, clips);
  if (o.parallel > 1) return std::make_unique<Children>(o.program, o.parallel, data_dirs, o.out);
  return std::make_unique<InProcess>(data_dirs, o.out);
}

}  // namespace kws::search
