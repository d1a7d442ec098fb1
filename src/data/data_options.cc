#include "data/data_options.h"

#include <algorithm>

#include "data/dataset.h"

namespace kws {

namespace {

using settings::Bad;
using json = nlohmann::json;
using Names = std::vector<std::string>;

// Strings each, with the setting's own message for anything else.
settings::Setting<DataOptions> NameList(const std::string& key, Names DataOptions::*member, const std::string& help,
                                        const std::string& message, bool nonempty) {
  auto s = settings::Member(key, member, help);
  s.set = [=](DataOptions& d, const json& j, const std::string& path) {
    (d.*member).clear();
    for (auto& v : j) {
      if (!v.is_string() || (nonempty && v.get<std::string>().empty())) Bad(path, message);
      (d.*member).push_back(v.get<std::string>());
    }
  };
  return s;
}

}  // namespace

const std::vector<settings::Setting<DataOptions>>& DataSettings() {
  using D = DataOptions;
  using settings::Member;
  static const std::vector<settings::Setting<D>> s = {
      NameList("labels", &D::labels, "class names, model output order (array or \"yes,no\")",
               "must be label names (strings)", false)
          .Also([](const D& d, const std::string& path) {
            for (size_t i = 0; i < d.labels.size(); ++i) {
              if (d.labels[i].empty()) Bad(path, "empty label name");
              for (size_t j = 0; j < i; ++j)
                if (d.labels[j] == d.labels[i]) Bad(path, "label '" + d.labels[i] + "' given twice");
            }
          }),
      Member<D, int>("silence_count", &D::silence_count, "_silence_ items added (cut from the background noise)",
                     [](const int& v, const std::string& path) {
                       if (v < 0) Bad(path, "must be >= 0");
                     }),
      Member("unknown_ratio", &D::unknown_ratio, "_unknown_ items kept per keyword item", settings::Finite())
          .Also([](const D& d, const std::string& path) {
            if (d.unknown_ratio < 0) Bad(path, "must be >= 0");
          }),
      Member("unknown_subclasses", &D::unknown_subclasses, "train _unknown_ as one class per source word")
          .Also([](const D& d, const std::string& path) {
            if (d.unknown_subclasses && !d.labels.empty() &&
                std::find(d.labels.begin(), d.labels.end(), kUnknownLabel) == d.labels.end())
              Bad(path, "needs _unknown_ among data.labels");
          }),
      Member("cache", &D::cache, "cache the features on disk"),
      Member("skip_bad_files", &D::skip_bad_files, "leave unreadable files out instead of stopping"),
      NameList("dirs", &D::dirs, "data folders merged into one dataset (--data replaces them)",
               "must be an array of folder names", true),
      Member("min_peak_dbfs", &D::min_peak_dbfs, "clips with a lower peak are near-silent", settings::Finite())
          .Also([](const D& d, const std::string& path) {
            if (d.min_peak_dbfs > 0 || d.min_peak_dbfs < -200)
              Bad(path, "must be in [-200, 0] dBFS (got " + settings::Fmt(d.min_peak_dbfs) + ")");
          }),
      Member("skip_silent", &D::skip_silent, "leave near-silent clips out of training"),
  };
  return s;
}

}  // namespace kws
