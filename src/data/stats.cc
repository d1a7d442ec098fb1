#include "data/stats.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <sstream>

namespace kws {

DatasetStats ComputeStats(const Dataset& ds) {
  DatasetStats s;
  s.root = ds.root;
  std::map<std::string, std::set<std::string>> spk;
  std::set<std::string> all_spk;
  std::map<std::string, double> sum;
  for (const Clip& c : ds.clips) {
    LabelStats& l = s.labels[c.label];
    const double sec = c.info.seconds();
    if (l.clips == 0) {
      l.seconds_min = sec;
      l.seconds_max = sec;
    }
    l.seconds_min = std::min(l.seconds_min, sec);
    l.seconds_max = std::max(l.seconds_max, sec);
    sum[c.label] += sec;
    ++l.clips;
    if (c.info.sample_rate > 0) l.sample_rates.insert(c.info.sample_rate);
    if (c.info.channels > 0) l.channels.insert(c.info.channels);
    if (c.has_speaker) {
      spk[c.label].insert(c.speaker);
      all_spk.insert(c.speaker);
    }
    const int sp = int(WhichSet(c));
    ++l.split[sp];
    ++s.split[sp];
    ++s.total_clips;
    s.total_seconds += sec;
  }
  for (auto& [name, l] : s.labels) {
    l.speakers = int(spk[name].size());
    l.seconds_mean = l.clips ? sum[name] / l.clips : 0;
  }
  s.speakers = int(all_spk.size());
  s.duplicates = ds.duplicates;
  s.skipped = ds.skipped;
  for (const NoiseFile& n : ds.noise) s.background_noise.push_back({n.path, n.info.seconds()});
  return s;
}

nlohmann::json StatsToJson(const DatasetStats& s) {
  using nlohmann::json;
  json j;
  j["root"] = s.root;
  json labels = json::object();
  for (const auto& [name, l] : s.labels) {
    labels[name] = {{"clips", l.clips},
                    {"speakers", l.speakers},
                    {"seconds_min", l.seconds_min},
                    {"seconds_mean", l.seconds_mean},
                    {"seconds_max", l.seconds_max},
                    {"sample_rates", std::vector<int>(l.sample_rates.begin(), l.sample_rates.end())},
                    {"channels", std::vector<int>(l.channels.begin(), l.channels.end())},
                    {"split", {{"training", l.split[0]}, {"validation", l.split[1]}, {"testing", l.split[2]}}}};
  }
  j["labels"] = labels;
  j["total_clips"] = s.total_clips;
  j["speakers"] = s.speakers;
  j["seconds"] = s.total_seconds;
  j["duplicates"] = s.duplicates;
  json sk = json::array();
  for (const auto& f : s.skipped) sk.push_back({{"path", f.path}, {"reason", f.reason}});
  j["skipped"] = sk;
  json bg = json::array();
  for (const auto& [p, sec] : s.background_noise) bg.push_back({{"path", p}, {"seconds", sec}});
  j["background_noise"] = bg;
  j["split"] = {{"training", s.split[0]}, {"validation", s.split[1]}, {"testing", s.split[2]}};
  return j;
}

namespace {
std::string Join(const std::set<int>& v) {
  std::string r;
  for (int x : v) {
    if (!r.empty()) r += ',';
    r += std::to_string(x);
  }
  return r.empty() ? "-" : r;
}
}  // namespace

std::string StatsTable(const DatasetStats& s) {
  std::ostringstream o;
  char buf[512];
  o << s.root << "\n\n";
  std::snprintf(buf, sizeof buf, "%-20s %6s %8s %7s %7s %7s %-12s %-4s %7s %7s %7s\n", "label", "clips", "speakers",
                "min s", "mean s", "max s", "rate Hz", "ch", "train", "valid", "test");
  o << buf;
  for (const auto& [name, l] : s.labels) {
    std::snprintf(buf, sizeof buf, "%-20s %6d %8d %7.3f %7.3f %7.3f %-12s %-4s %7d %7d %7d\n", name.c_str(), l.clips,
                  l.speakers, l.seconds_min, l.seconds_mean, l.seconds_max, Join(l.sample_rates).c_str(),
                  Join(l.channels).c_str(), l.split[0], l.split[1], l.split[2]);
    o << buf;
  }
  std::snprintf(buf, sizeof buf, "%-20s %6d %8d %7s %7s %7s %-12s %-4s %7d %7d %7d\n", "total", s.total_clips,
                s.speakers, "", "", "", "", "", s.split[0], s.split[1], s.split[2]);
  o << buf;
  std::snprintf(buf, sizeof buf, "\n%.1f s of audio; %d duplicate%s removed; %zu file%s skipped\n", s.total_seconds,
                s.duplicates, s.duplicates == 1 ? "" : "s", s.skipped.size(), s.skipped.size() == 1 ? "" : "s");
  o << buf;
  if (!s.background_noise.empty()) {
    o << "\nbackground noise:\n";
    for (const auto& [p, sec] : s.background_noise) {
      std::snprintf(buf, sizeof buf, "  %8.1f s  %s\n", sec, p.c_str());
      o << buf;
    }
  }
  if (!s.skipped.empty()) {
    o << "\nskipped:\n";
    for (const auto& f : s.skipped) o << "  " << f.path << ": " << f.reason << "\n";
  }
  return o.str();
}

}  // namespace kws
