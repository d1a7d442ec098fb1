// The work queue of a distributed search, on Redis streams with a consumer group.
//
// Keys of queue NAME (`--queue`, default "kws"):
//   NAME:meta       hash: search_id, data_digest, data_clips, lease_ms, state ("running" | "done"),
//                   heartbeat (the coordinator's last beat, server ms)
//   NAME:jobs       stream of jobs ({job: Job JSON}); consumer group "workers"
//   NAME:results    stream of results ({result: TrialResult JSON, file:NAME: bytes, ...}) and refusals
//                   ({refused: why, worker: name})
//   NAME:submitted  hash: job key -> its entry id in NAME:jobs (a restarted coordinator re-adds nothing)
//   NAME:workers    hash: worker -> last beat (server ms)
//
// Leases: a worker reads a job with XREADGROUP (it is then pending for that worker) and acknowledges
// it (XACK) only after posting the result. While training it renews its lease every lease/4 (XCLAIM
// to itself with JUSTID, which resets the entry's idle time). A worker that dies stops renewing; once
// the entry has been idle for a lease, any idle worker takes it over (XAUTOCLAIM) and runs it again.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "search/redis.h"
#include "search/trial.h"

namespace kws::search {

struct QueueMeta {
  std::string search_id, data_digest, state, out;
  long long lease_ms = 60000, heartbeat = 0;
  int data_clips = 0;
};

class Queue {
 public:
  Queue(Redis& r, std::string name) : r_(r), name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  Redis& redis() { return r_; }

  QueueMeta Meta();  // search_id "" when there is none
  // Coordinator.
  void Reset();                       // deletes every key of the queue
  void Start(const QueueMeta& m);     // meta (state running) and the consumer group
  void Beat();                        // meta heartbeat = now
  std::map<std::string, std::string> Submitted();
  void Submit(const Job& j);
  struct Message {
    std::string id;
    std::optional<TrialResult> result;
    std::string refused, worker;
  };
  // Entries after last_id (updated), waiting up to block_ms for the first.
  std::vector<Message> ReadResults(std::string& last_id, int block_ms);
  int LiveWorkers(long long lease_ms);
  void Finish();                      // state done; jobs, results and submitted deleted

  // Worker.
  struct Taken {
    std::string id;
    Job job;
    long long deliveries = 1;
  };
  // A job whose lease ran out (taken over), else a new one (waiting up to block_ms); nullopt when
  // there is none or no search has started.
  std::optional<Taken> Take(const std::string& consumer, long long lease_ms, int block_ms);
  void Heartbeat(const std::string& consumer, const std::string& id);
  void Register(const std::string& consumer);
  void Post(const TrialResult& r);
  void Ack(const std::string& id);
  void Refuse(const std::string& worker, const std::string& why);
  void Leave(const std::string& consumer);

 private:
  std::string Key(const char* k) const { return name_ + ":" + k; }
  Redis& r_;
  std::string name_;
};

}  // namespace kws::search
