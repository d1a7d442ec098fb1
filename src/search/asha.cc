#include "search/asha.h"

#include <algorithm>

#include "util/error.h"

namespace kws::search {

Asha::Asha(std::vector<int> rung_epochs, int eta) : epochs_(std::move(rung_epochs)), eta_(eta) {
  if (epochs_.empty() || eta_ < 2) throw InternalError("Asha: needs a rung and eta >= 2");
  members_.resize(epochs_.size());
  processed_.assign(epochs_.size(), 0);
  promoted_.resize(epochs_.size());
}

void Asha::AddTrial(int id) {
  members_[0].push_back(id);
  Process(0);
}

void Asha::Record(int id, int rung, double score, bool eligible) {
  if (rung < 0 || rung >= rungs()) return;
  results_.emplace(std::make_pair(id, rung), Result{score, eligible});
  Process(rung);
}

void Asha::Process(int rung) {
  for (int r = rung; r < rungs(); ++r) {
    auto& m = members_[size_t(r)];
    size_t& k = processed_[size_t(r)];
    bool promoted_any = false;
    while (k < m.size() && HasResult(m[k], r)) {
      ++k;
      if (r + 1 >= rungs()) continue;
      // The eligible processed trials, best first (ties: lower id).
      std::vector<std::pair<double, int>> ranked;
      for (size_t i = 0; i < k; ++i) {
        const Result& res = results_.at({m[i], r});
        if (res.eligible) ranked.push_back({-res.score, m[i]});
      }
      std::sort(ranked.begin(), ranked.end());
      const size_t quota = std::min(ranked.size(), k / size_t(eta_));
      for (size_t i = 0; i < quota; ++i) {
        const int id = ranked[i].second;
        if (promoted_[size_t(r)].insert(id).second) {
          members_[size_t(r) + 1].push_back(id);
          promoted_any = true;
        }
      }
    }
    if (!promoted_any && r > rung) break;  // nothing new above
  }
}

std::vector<Asha::Job> Asha::Runnable() const {
  std::vector<Job> jobs;
  for (int r = rungs() - 1; r >= 0; --r)
    for (int id : members_[size_t(r)])
      if (!HasResult(id, r)) jobs.push_back({id, r, epochs_[size_t(r)]});
  return jobs;
}

bool Asha::Done() const {
  for (int r = 0; r < rungs(); ++r)
    if (processed_[size_t(r)] < members_[size_t(r)].size()) return false;
  return true;
}

int Asha::TopRung(int id) const {
  for (int r = rungs() - 1; r >= 0; --r)
    if (std::find(members_[size_t(r)].begin(), members_[size_t(r)].end(), id) != members_[size_t(r)].end()) return r;
  return -1;
}

}  // namespace kws::search
