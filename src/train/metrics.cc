#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/error.h"
#include "util/text.h"

namespace kws {

Evaluation Evaluate(const std::vector<int>& truth, const std::vector<int>& predicted,
                    const std::vector<std::string>& labels) {
  if (truth.size() != predicted.size()) throw InternalError("Evaluate: truth and predictions differ in length");
  const int C = int(labels.size());
  Evaluation e;
  e.labels = labels;
  e.confusion.assign(size_t(C), std::vector<long>(size_t(C), 0));
  e.per_label.resize(size_t(C));
  for (int c = 0; c < C; ++c) e.per_label[size_t(c)].label = labels[size_t(c)];
  for (size_t i = 0; i < truth.size(); ++i) {
    const int t = truth[i], p = predicted[i];
    if (t < 0 || t >= C || p < 0 || p >= C) throw InternalError("Evaluate: class index out of range");
    e.confusion[size_t(t)][size_t(p)]++;
    e.per_label[size_t(t)].n++;
    if (t == p) {
      e.per_label[size_t(t)].correct++;
      e.correct++;
    }
  }
  e.n = long(truth.size());
  e.accuracy = e.n ? double(e.correct) / double(e.n) : 0.0;
  for (auto& l : e.per_label) l.accuracy = l.n ? double(l.correct) / double(l.n) : 0.0;
  return e;
}

nlohmann::json Evaluation::ToJson() const {
  nlohmann::json j;
  j["accuracy"] = accuracy;
  j["n"] = n;
  j["correct"] = correct;
  j["labels"] = labels;
  nlohmann::json pl = nlohmann::json::object();
  for (auto& l : per_label) pl[l.label] = {{"accuracy", l.accuracy}, {"n", l.n}};
  j["per_label"] = pl;
  j["confusion"] = confusion;
  return j;
}

std::string Evaluation::ToTable() const {
  std::string s;
  char buf[256];
  std::snprintf(buf, sizeof buf, "accuracy %.2f%% (%ld of %ld)\n\n", 100 * accuracy, correct, n);
  s += buf;
  // Labels come from folder names or a model's metadata: shown escaped (util/text.h).
  std::vector<std::string> shown;
  for (auto& l : labels) shown.push_back(Printable(l));
  size_t w = 5;
  for (auto& l : shown) w = std::max(w, l.size());
  std::snprintf(buf, sizeof buf, "%-*s %8s %7s\n", int(w), "label", "accuracy", "n");
  s += buf;
  for (auto& l : per_label) {
    std::snprintf(buf, sizeof buf, "%-*s %7.2f%% %7ld\n", int(w), Printable(l.label).c_str(), 100 * l.accuracy, l.n);
    s += buf;
  }
  s += "\nconfusion (rows = truth, columns = predicted)\n";
  std::snprintf(buf, sizeof buf, "%-*s", int(w), "");
  s += buf;
  for (auto& l : shown) {
    std::snprintf(buf, sizeof buf, " %*s", int(std::max<size_t>(6, l.size())), l.c_str());
    s += buf;
  }
  s += "\n";
  for (size_t r = 0; r < confusion.size(); ++r) {
    std::snprintf(buf, sizeof buf, "%-*s", int(w), shown[r].c_str());
    s += buf;
    for (size_t c = 0; c < confusion[r].size(); ++c) {
      std::snprintf(buf, sizeof buf, " %*ld", int(std::max<size_t>(6, shown[c].size())), confusion[r][c]);
      s += buf;
    }
    s += "\n";
  }
  return s;
}

Summary Summarize(const std::vector<double>& v) {
  Summary s;
  s.n = int(v.size());
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

}  // namespace kws
