#include "search/worker.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "search/queue.h"
#include "search/redis.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace kws::search {

using json = nlohmann::json;
namespace fsys = std::filesystem;

void WorkerOptions::Validate() const {
  if (broker.empty()) throw UsageError("--broker: required (redis://HOST:PORT of the search's coordinator)");
  ParseRedisUrl(broker);
  if (data.empty()) throw UsageError("--data: required (this machine's copy of the search's data folders)");
  if (queue.empty() || queue.find_first_of(" \t\r\n") != std::string::npos)
    throw UsageError("--queue: a name without blanks");
  if (max_trials < 0) throw UsageError("--max-trials: must be >= 0");
  if (max_deliveries < 1) throw UsageError("--max-deliveries: must be >= 1");
}

namespace {

// Renews a job's lease from its own connection until stopped.
class LeaseKeeper {
 public:
  LeaseKeeper(const RedisUrl& url, const std::string& queue, const std::string& consumer, const std::string& id,
              long long lease_ms)
      : redis_(Redis::Connect(url)), thread_([this, queue, consumer, id, lease_ms] {
          Queue q(redis_, queue);
          std::unique_lock<std::mutex> lk(mu_);
          while (!stop_) {
            try {
              q.Heartbeat(consumer, id);
            } catch (const Error& e) {
              LogWarn("worker: cannot renew the lease of job %s: %s", id.c_str(), e.what());
            }
            cv_.wait_for(lk, std::chrono::milliseconds(std::max(100LL, lease_ms / 4)), [this] { return stop_; });
          }
        }) {}
  ~LeaseKeeper() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  Redis redis_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

std::string DigestMismatch(const std::string& name, const std::vector<std::string>& data, const std::string& mine,
                           int my_clips, const QueueMeta& m) {
  std::string dirs;
  for (auto& d : data) dirs += (dirs.empty() ? "" : " + ") + d;
  return "worker " + name + ": its data (" + dirs + ": " + std::to_string(my_clips) + " clips, digest " +
         mine.substr(0, 12) + ") differs from the search's (" + std::to_string(m.data_clips) + " clips, digest " +
         m.data_digest.substr(0, 12) + "): give it a copy of the same data folders";
}

void Say(const std::function<void(const std::string&)>& on_event, const std::string& s) {
  if (on_event) on_event(s);
}

}  // namespace

WorkerSummary RunWorker(const WorkerOptions& o, const std::function<void(const std::string&)>& on_event) {
  o.Validate();
  WorkerSummary sum;
  sum.name = o.name.empty() ? WorkerName() : o.name;
  DatasetOptions lo;
  lo.probe = false;
  lo.skip_bad_files = true;
  const Dataset ds = LoadDataset(o.data, lo);
  const std::string digest = DataDigest(ds);
  const RedisUrl url = ParseRedisUrl(o.broker);
  Redis redis = Redis::Connect(url);
  Queue q(redis, o.queue);
  const std::string scratch =
      o.scratch.empty() ? (fsys::temp_directory_path() / ("kws_worker_" + std::to_string(getpid()))).string() : o.scratch;
  Say(on_event, "worker " + sum.name + ": " + std::to_string(ds.clips.size()) + " clips (digest " + digest.substr(0, 12) +
                    "), queue " + o.queue + " on " + url.text);
  bool waiting_said = false;
  while (o.max_trials == 0 || sum.trials < o.max_trials) {
    const QueueMeta m = q.Meta();
    if (m.search_id.empty() || m.state != "running") {
      if (o.once && m.state == "done") break;
      if (!waiting_said) Say(on_event, "worker " + sum.name + ": waiting for a search");
      waiting_said = true;
      q.Register(sum.name);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    waiting_said = false;
    if (m.data_digest != digest) {
      const std::string why = DigestMismatch(sum.name, o.data, digest, int(ds.clips.size()), m);
      q.Refuse(sum.name, why);
      throw BadInput(why);
    }
    q.Register(sum.name);
    const std::optional<Queue::Taken> t = q.Take(sum.name, m.lease_ms, 1000);
    if (!t) continue;
    if (t->job.search_id != m.search_id) {  // left over from an earlier search
      q.Ack(t->id);
      continue;
    }
    if (t->deliveries > o.max_deliveries) {
      TrialResult failed;
      failed.trial = t->job.trial, failed.rung = t->job.rung, failed.epochs = t->job.epochs;
      failed.status = "failed";
      failed.error = "given up: delivered " + std::to_string(t->deliveries) + " times (the trial ended the workers "
                     "that took it)";
      failed.worker = sum.name;
      q.Post(failed);
      q.Ack(t->id);
      continue;
    }
    Say(on_event, "worker " + sum.name + ": trial " + std::to_string(t->job.trial) + " (" +
                      std::to_string(t->job.epochs) + " epochs) started" +
                      (t->deliveries > 1 ? " (taken over: delivery " + std::to_string(t->deliveries) + ")" : ""));
    TrialResult r;
    {
      LeaseKeeper lease(url, o.queue, sum.name, t->id, m.lease_ms);
      r = RunTrial(t->job, o.data, scratch);
    }
    r.worker = sum.name;
    q.Post(r);
    q.Ack(t->id);
    ++sum.trials;
    char buf[160];
    std::snprintf(buf, sizeof buf, ": trial %d (%d epochs) done: %s in %.1f s", r.trial, r.epochs,
                  r.status == "ok" ? (std::to_string(100 * r.accuracy).substr(0, 5) + "%").c_str() : "failed", r.seconds);
    Say(on_event, "worker " + sum.name + buf);
  }
  q.Leave(sum.name);
  std::error_code ec;
  fsys::remove_all(scratch, ec);
  return sum;
}

TrialResult RunJobFile(const std::string& job_path, const std::vector<std::string>& data, const std::string& out) {
  if (out.empty()) throw UsageError("--out: required with --job (the trial folder to write)");
  Job job;
  try {
    job = Job::FromJson(json::parse(ReadFile(job_path)));
  } catch (const json::exception& e) {
    throw BadInput(job_path + ": not a search job (" + e.what() + ")");
  }
  DatasetOptions lo;
  lo.probe = false;
  lo.skip_bad_files = true;
  const Dataset ds = LoadDataset(data, lo);
  if (DataDigest(ds) != job.data_digest)
    throw BadInput(job_path + ": the job's data digest differs from " + ds.root + "'s: give the same data folders");
  const fsys::path scratch = fsys::path(out).string() + ".scratch";
  TrialResult r = RunTrial(job, data, scratch.string());
  std::error_code ec;
  fsys::remove_all(scratch, ec);
  WriteTrialDir(out, r);
  return r;
}

}  // namespace kws::search
