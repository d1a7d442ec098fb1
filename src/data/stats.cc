#include "data/stats.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <sstream>

#include "util/error.h"
#include "util/text.h"

namespace kws {

namespace {
void AddFlags(DatasetStats& s, const Dataset& ds, const std::vector<ClipLevels>& levels) {
  s.levels_measured = true;
  for (size_t i = 0; i < ds.clips.size(); ++i) {
    const Clip& c = ds.clips[i];
    ClipFlags f = Classify(levels[i], s.level_options);
    if (c.label == kSilenceLabel) f.near_silent = false;  // quiet is what _silence_ clips are for
    if (!f.any()) continue;
    LabelClipStats& l = s.labels[c.label];
    l.near_silent += f.near_silent;
    l.clipped += f.clipped;
    l.too_short += f.too_short;
    l.dc_offset += f.dc_offset;
    s.flagged.push_back({c.path, c.label, levels[i], f});
  }
}

std::vector<std::string> Problems(const ClipFlags& f) {
  std::vector<std::string> p;
  if (f.near_silent) p.push_back("near-silent");
  if (f.clipped) p.push_back("clipped");
  if (f.too_short) p.push_back("too short");
  if (f.dc_offset) p.push_back("DC offset");
  return p;
}
}  // namespace

DatasetStats ComputeStats(const Dataset& ds, const std::vector<ClipLevels>& levels, const LevelOptions& level_options) {
  level_options.Validate();
  if (!levels.empty() && levels.size() != ds.clips.size())
    throw InternalError("ComputeStats: levels do not match the clips");
  DatasetStats s;
  s.root = ds.root;
  s.level_options = level_options;
  std::map<std::string, std::set<std::string>> spk;
  std::set<std::string> all_spk;
  std::map<std::string, double> sum;
  for (const Clip& c : ds.clips) {
    LabelClipStats& l = s.labels[c.label];
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
  if (!levels.empty()) AddFlags(s, ds, levels);
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
    if (s.levels_measured) {
      labels[name]["near_silent"] = l.near_silent;
      labels[name]["clipped"] = l.clipped;
      labels[name]["too_short"] = l.too_short;
      labels[name]["dc_offset"] = l.dc_offset;
    }
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
  if (s.levels_measured) {
    json clips = json::array();
    int counts[4] = {0, 0, 0, 0};
    for (const FlaggedClip& f : s.flagged) {
      counts[0] += f.flags.near_silent;
      counts[1] += f.flags.clipped;
      counts[2] += f.flags.too_short;
      counts[3] += f.flags.dc_offset;
      clips.push_back({{"path", f.path},
                       {"label", f.label},
                       {"peak_dbfs", f.levels.peak_dbfs},
                       {"rms_dbfs", f.levels.rms_dbfs},
                       {"dc_offset", f.levels.dc_offset},
                       {"full_scale_samples", f.levels.full_scale},
                       {"seconds", f.levels.seconds},
                       {"problems", Problems(f.flags)}});
    }
    const LevelOptions& o = s.level_options;
    j["recording_checks"] = {
        {"thresholds",
         {{"min_peak_dbfs", o.min_peak_dbfs},
          {"min_seconds", o.min_seconds},
          {"max_full_scale_samples", o.max_full_scale},
          {"max_dc_offset", o.max_dc_offset}}},
        {"counts", {{"near_silent", counts[0]}, {"clipped", counts[1]}, {"too_short", counts[2]}, {"dc_offset", counts[3]}}},
        {"clips", clips}};
  }
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
// Per label counts of each recording problem, then the flagged clips (the first `kShown` of each
// problem; JSON has them all).
std::string RecordingChecksTable(const DatasetStats& s) {
  constexpr int kShown = 10;
  std::ostringstream o;
  char buf[512];
  const LevelOptions& lo = s.level_options;
  std::snprintf(buf, sizeof buf,
                "\nrecording checks (near-silent: peak < %.0f dBFS; clipped: > %lld full-scale samples; too short: < "
                "%.2f s, zero-padded when used; DC offset: |mean| > %.3f)\n",
                lo.min_peak_dbfs, (long long)lo.max_full_scale, lo.min_seconds, lo.max_dc_offset);
  o << buf;
  std::snprintf(buf, sizeof buf, "%-20s %11s %8s %10s %10s\n", "label", "near-silent", "clipped", "too short", "DC offset");
  o << buf;
  for (const auto& [name, l] : s.labels) {
    std::snprintf(buf, sizeof buf, "%-20s %11d %8d %10d %10d\n", Printable(name).c_str(), l.near_silent, l.clipped, l.too_short,
                  l.dc_offset);
    o << buf;
  }
  const char* names[4] = {"near-silent", "clipped", "too short", "DC offset"};
  for (int k = 0; k < 4; ++k) {
    std::vector<const FlaggedClip*> list;
    for (const FlaggedClip& f : s.flagged) {
      const bool on = k == 0 ? f.flags.near_silent : k == 1 ? f.flags.clipped : k == 2 ? f.flags.too_short : f.flags.dc_offset;
      if (on) list.push_back(&f);
    }
    if (list.empty()) continue;
    o << "\n" << names[k] << " (" << list.size() << "):\n";
    for (size_t i = 0; i < list.size() && i < size_t(kShown); ++i) {
      const FlaggedClip& f = *list[i];
      std::snprintf(buf, sizeof buf, "  peak %7.1f dBFS  rms %7.1f dBFS  %5.2f s  dc %+.3f  ", f.levels.peak_dbfs,
                    f.levels.rms_dbfs, f.levels.seconds, f.levels.dc_offset);
      o << buf << Printable(f.path) << "\n";
    }
    if (list.size() > size_t(kShown)) o << "  ... " << list.size() - kShown << " more (--json lists all)\n";
  }
  return o.str();
}

}  // namespace

std::string StatsTable(const DatasetStats& s) {
  std::ostringstream o;
  char buf[512];
  o << Printable(s.root) << "\n\n";
  std::snprintf(buf, sizeof buf, "%-20s %6s %8s %7s %7s %7s %-12s %-4s %7s %7s %7s\n", "label", "clips", "speakers",
                "min s", "mean s", "max s", "rate Hz", "ch", "train", "valid", "test");
  o << buf;
  for (const auto& [name, l] : s.labels) {
    std::snprintf(buf, sizeof buf, "%-20s %6d %8d %7.3f %7.3f %7.3f %-12s %-4s %7d %7d %7d\n", Printable(name).c_str(), l.clips,
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
      std::snprintf(buf, sizeof buf, "  %8.1f s  %s\n", sec, Printable(p).c_str());
      o << buf;
    }
  }
  if (s.levels_measured) o << RecordingChecksTable(s);
  if (!s.skipped.empty()) {
    o << "\nskipped:\n";
    for (const auto& f : s.skipped) o << "  " << Printable(f.path) << ": " << Printable(f.reason) << "\n";
  }
  return o.str();
}

}  // namespace kws
