// Classification metrics: accuracy, per-label accuracy and the confusion matrix.
//   kws::Evaluation e = kws::Evaluate(truth, predicted, labels);
//   e.confusion[t][p] = items of true label t predicted as p (rows = truth, cols = predicted).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kws {

struct LabelStats {
  std::string label;
  long n = 0;             // items with this true label
  long correct = 0;
  double accuracy = 0.0;  // correct / n (0 when n == 0)
};

struct Evaluation {
  std::vector<std::string> labels;
  long n = 0, correct = 0;
  double accuracy = 0.0;
  std::vector<LabelStats> per_label;
  std::vector<std::vector<long>> confusion;

  // {"accuracy", "n", "labels", "per_label": {label: {accuracy, n}}, "confusion": [[...]]}
  nlohmann::json ToJson() const;
  // A readable table: overall accuracy, per-label accuracy, the confusion matrix.
  std::string ToTable() const;
};

// truth/predicted: class indices into labels (same length). Throws InternalError on bad input.
Evaluation Evaluate(const std::vector<int>& truth, const std::vector<int>& predicted,
                    const std::vector<std::string>& labels);

// Mean, sample standard deviation (n-1; 0 for n < 2), min, max.
struct Summary {
  double mean = 0, stddev = 0, min = 0, max = 0;
  int n = 0;
};
Summary Summarize(const std::vector<double>& values);

}  // namespace kws
