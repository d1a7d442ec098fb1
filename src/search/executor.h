// Where a search's trials run: in this process, in child processes (`kws worker --job`), or on
// workers through a Redis queue. search.cc drives any of them the same way: submit jobs up to
// Capacity(), take finished trials from Next().
#pragma once
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "search/search.h"
#include "search/trial.h"

namespace kws::search {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Start() {}  // once the output folder exists
  // Jobs submitted by an earlier run of this search that may still deliver (a broker's queue).
  virtual std::set<std::string> Outstanding() { return {}; }
  virtual int Capacity() = 0;  // jobs that may be outstanding at once
  virtual void Submit(const Job& job) = 0;
  // A finished trial, or nullopt when none finished within about a second (or nothing is running).
  virtual std::optional<TrialResult> Next() = 0;
  virtual void Finish() {}
};

// o.broker: a Redis executor (connects and checks the queue now: BadInput if unreachable,
// UsageError if another live search uses the queue); o.parallel > 1: child processes; else this
// process. Writes nothing until Start().
std::unique_ptr<Executor> MakeExecutor(const SearchOptions& o, const std::string& search_id, const std::string& digest,
                                       int clips, const std::vector<std::string>& data_dirs);

}  // namespace kws::search
