// Asynchronous successive halving (ASHA: Li et al. 2020, "A System for Massively Parallel
// Hyperparameter Tuning", arXiv:1810.05934), with its promotions decided in trial order so that the
// same trials and results give the same promotions whatever order the results arrive in.
//
//   kws::search::Asha asha({10, 30, 80}, /*eta=*/3);
//   for (int id : accepted) asha.AddTrial(id);           // every configuration starts at rung 0
//   for (Asha::Job j : asha.Runnable()) run(j);           // (id, rung): promotions first
//   asha.Record(id, rung, accuracy, eligible);            // then Runnable() may offer promotions
//   asha.Done();                                          // every job that will exist has a result
//
// Rung r's trials are processed in the order they joined it (rung 0: trial order; rung r+1: the
// order of their promotion) as soon as every earlier one has a result. After the k-th is processed,
// every eligible trial among the best floor(k / eta) of the processed ones (accuracy, ties to the
// lower id) that is not promoted yet goes to rung r+1: ASHA's rule, applied at fixed points. A
// trial that failed or broke its budget is not eligible. One rung = plain random search.
#pragma once
#include <cstddef>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace kws::search {

class Asha {
 public:
  struct Job {
    int id = 0, rung = 0, epochs = 0;
  };

  Asha(std::vector<int> rung_epochs, int eta);
  void AddTrial(int id);
  // A result; results for jobs that do not exist (yet) are kept until they do (a resumed search).
  void Record(int id, int rung, double score, bool eligible);
  bool HasResult(int id, int rung) const { return results_.count({id, rung}) > 0; }
  // Jobs without a result: higher rungs first, then in rung order.
  std::vector<Job> Runnable() const;
  bool Done() const;
  int rungs() const { return int(epochs_.size()); }
  int epochs(int rung) const { return epochs_[size_t(rung)]; }
  // The rung a trial reached (-1: not a trial).
  int TopRung(int id) const;
  const std::vector<int>& members(int rung) const { return members_[size_t(rung)]; }

 private:
  struct Result {
    double score = 0;
    bool eligible = false;
  };
  void Process(int rung);
  std::vector<int> epochs_;
  int eta_;
  std::vector<std::vector<int>> members_;   // per rung, in joining order
  std::vector<size_t> processed_;           // per rung: members processed so far
  std::vector<std::set<int>> promoted_;     // per rung: ids sent to the next rung
  std::map<std::pair<int, int>, Result> results_;  // (id, rung)
};

}  // namespace kws::search
