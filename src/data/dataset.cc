#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace kws {
namespace fs = std::filesystem;

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "clip.wav: not an audio file (...)" -> "not an audio file (...)": the path is already in SkippedFile.
std::string StripPathPrefix(const std::string& msg, const std::string& path) {
  if (msg.rfind(path + ": ", 0) == 0) return msg.substr(path.size() + 2);
  return msg;
}

std::vector<fs::directory_entry> SortedEntries(const fs::path& dir) {
  std::vector<fs::directory_entry> v;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw BadInput(dir.string() + ": cannot list folder (" + ec.message() + ")");
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw BadInput(dir.string() + ": cannot list folder (" + ec.message() + ")");
    v.push_back(*it);
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return v;
}

// One file to read and hash; filled in parallel.
struct Candidate {
  std::string path, rel, label;  // label empty for noise files
  std::string folder, file;      // rel = folder/file
  int root = 0;
  bool noise = false;
  int64_t bytes = 0;
  std::string hash;
  AudioInfo info;
  std::string error;  // non-empty: skipped with this reason
};

void ReadCandidate(Candidate& c, bool probe) {
  std::string bytes;
  try {
    bytes = ReadFileLimited(c.path, Limits().clip_bytes, c.noise ? "audio file" : "clip");
  } catch (const Error& e) {
    c.error = "unreadable: " + StripPathPrefix(e.what(), c.path);
    return;
  }
  c.bytes = int64_t(bytes.size());
  if (bytes.empty()) { c.error = "empty file"; return; }
  c.hash = Sha256Hex(bytes);
  // Noise recordings are always probed: their length decides whether _silence_ can be cut from them.
  if (probe || c.noise) {
    try {
      c.info = ProbeAudio(c.path);
      if (c.info.frames <= 0) c.error = "not audio (contains zero samples)";
    } catch (const Error& e) {
      c.error = "not audio: " + StripPathPrefix(e.what(), c.path);
    }
  }
}

}  // namespace

bool IsAudioExtension(const std::string& file_name) {
  static const char* kExt[] = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3",
                               ".aif", ".aiff", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64"};
  std::string ext = Lower(fs::path(file_name).extension().string());
  for (const char* e : kExt)
    if (ext == e) return true;
  return false;
}

ClipName ParseClipName(const std::string& label, const std::string& file_name) {
  ClipName r;
  const std::string stem = fs::path(file_name).stem().string();
  const size_t pos = stem.find("_nohash_");
  const bool silence = label == kSilenceLabel, unknown = label == kUnknownLabel;
  if (pos != std::string::npos && pos > 0) {
    std::string prefix = stem.substr(0, pos);
    std::string tail = stem.substr(pos + 8);
    if (!tail.empty() && std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        tail.size() < 9)
      r.index = std::stoi(tail);
    r.word = silence ? "" : label;
    r.speaker = prefix;
    if (unknown) {
      r.word.clear();
      const size_t us = prefix.find('_');
      if (us != std::string::npos && us > 0 && us + 1 < prefix.size()) {
        r.word = prefix.substr(0, us);
        r.speaker = prefix.substr(us + 1);
      }
    }
    r.has_speaker = true;
    // TF hashes the original base name minus "_nohash_..." = the speaker id
    // (for renamed _unknown_ clips the original name was <speaker>_nohash_<n>).
    r.split_name = r.speaker;
  } else {
    r.word = (silence || unknown) ? "" : label;
    r.speaker = label + "/" + file_name;  // own pseudo-speaker
    r.has_speaker = false;
    r.split_name = file_name;  // what TF's re.sub leaves when there is no "_nohash_"
  }
  return r;
}

bool Dataset::HasLabel(const std::string& label) const {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

std::vector<int> Dataset::ClipsOf(const std::string& label) const {
  std::vector<int> v;
  for (size_t i = 0; i < clips.size(); ++i)
    if (clips[i].label == label) v.push_back(int(i));
  return v;
}

std::string Dataset::DisplayPath(const Clip& c) const { return roots.size() > 1 ? c.path : c.rel; }

namespace {

// Checks one root folder and lists its label folders' files as candidates (sorted), and what is
// not a clip into ds.skipped. Symbolic links to folders and files are followed; anything that is
// not a regular file after that (FIFOs, devices, sockets) is skipped without being opened.
void ListRoot(const std::string& root_in, int root_index, Dataset& ds, std::vector<Candidate>& cands) {
  const fs::path root(root_in);
  std::error_code ec;
  if (!fs::exists(root, ec)) throw BadInput(root_in + ": no such folder");
  if (!fs::is_directory(root, ec)) throw BadInput(root_in + ": not a folder (expected one sub-folder per label)");
  int label_folders = 0;
  for (const auto& top : SortedEntries(root)) {
    const std::string name = top.path().filename().string();
    if (!top.is_directory(ec)) continue;  // LICENSE, README, *_list.txt: not part of the tree
    if (name.empty() || name[0] == '.') continue;
    const bool noise = name == kBackgroundNoiseFolder;
    if (!noise) ++label_folders;
    for (const auto& e : SortedEntries(top.path())) {
      const std::string file = e.path().filename().string();
      const std::string path = (root / name / file).string();
      if (e.is_directory(ec)) {
        ds.skipped.push_back({path, "folder inside a label folder (not scanned)"});
        continue;
      }
      if (!IsAudioExtension(file) || file[0] == '.') {
        ds.skipped.push_back({path, "wrong extension (not an audio file name)"});
        continue;
      }
      if (!e.is_regular_file(ec)) {
        ds.skipped.push_back({path, e.exists(ec) ? "not a regular file (FIFO, device or socket; not opened)"
                                                 : "broken symbolic link"});
        continue;
      }
      Candidate c;
      c.path = path;
      c.rel = name + "/" + file;
      c.folder = name;
      c.file = file;
      c.root = root_index;
      c.label = noise ? "" : name;
      c.noise = noise;
      cands.push_back(std::move(c));
    }
  }
  if (label_folders == 0)
    throw BadInput(root_in + ": no label folders (expected one sub-folder per label, e.g. yes/ no/)");
}

Clip MakeClip(const Candidate& c) {
  Clip clip;
  const std::string file = fs::path(c.path).filename().string();
  ClipName cn = ParseClipName(c.label, file);
  clip.path = c.path;
  clip.rel = c.rel;
  clip.root = c.root;
  clip.label = c.label;
  clip.word = cn.word;
  clip.speaker = cn.speaker;
  clip.has_speaker = cn.has_speaker;
  clip.split_name = cn.split_name;
  clip.bytes = c.bytes;
  clip.hash = c.hash;
  clip.info = c.info;
  return clip;
}

// The BadInput for unreadable audio files (unless skip_bad_files).
[[noreturn]] void ThrowBadFiles(const Candidate& first, size_t bad, const std::string& root) {
  throw BadInput(first.path + ": " + first.error +
                 (bad > 1 ? "; " + std::to_string(bad - 1) + " more unusable file" + (bad > 2 ? "s" : "") +
                                " ('kws data stats " + root + "' lists them all)"
                          : std::string()) +
                 ". Fix or remove it, or leave such files out with --set data.skip_bad_files=true (train, quickstart)");
}

}  // namespace

Dataset LoadDataset(const std::string& root_in, const DatasetOptions& options) {
  return LoadDataset(std::vector<std::string>{root_in}, options);
}

Dataset LoadDataset(const std::vector<std::string>& roots, const DatasetOptions& options) {
  options.Validate();
  if (roots.empty()) throw UsageError("no data folder given");
  Dataset ds;
  ds.roots = roots;
  for (size_t r = 0; r < roots.size(); ++r) {
    ds.root += (r ? " + " : "") + roots[r];
    std::error_code ec;
    for (size_t q = 0; q < r; ++q)
      if (roots[q] == roots[r] || fs::equivalent(roots[q], roots[r], ec))
        throw UsageError(roots[r] + ": the same data folder is given twice");
  }
  std::vector<Candidate> cands;
  for (size_t r = 0; r < roots.size(); ++r) ListRoot(roots[r], int(r), ds, cands);
  // Folder, file, then the full path: one folder keeps its listing order, and several folders
  // merge independently of the order they were given in.
  std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    if (a.folder != b.folder) return a.folder < b.folder;
    if (a.file != b.file) return a.file < b.file;
    return a.path < b.path;
  });

  ParallelFor(long(cands.size()), [&](long b, long e, int) {
    for (long i = b; i < e; ++i) ReadCandidate(cands[size_t(i)], options.probe);
  });

  std::unordered_map<std::string, std::string> first_by_hash;  // hash -> name of the kept clip
  std::unordered_map<std::string, std::string> noise_by_hash;  // the same for noise recordings
  const Candidate* first_bad = nullptr;  // unreadable audio files: fatal unless skip_bad_files
  size_t bad = 0;
  std::set<std::string> labels;
  for (auto& c : cands) {
    if (!c.error.empty()) {
      if (!first_bad) first_bad = &c;
      ++bad;
      ds.skipped.push_back({c.path, c.error});
      continue;
    }
    // Clips: byte-identical ones count once. Noise recordings: only across folders (two folders
    // may carry the same _background_noise_ files).
    if (c.noise ? roots.size() > 1 : options.remove_duplicates) {
      auto& seen = c.noise ? noise_by_hash : first_by_hash;
      auto [it, inserted] = seen.emplace(c.hash, roots.size() > 1 ? c.path : c.rel);
      if (!inserted) {
        ds.skipped.push_back({c.path, "duplicate of " + it->second});
        ++ds.duplicates;
        continue;
      }
    }
    if (c.noise) {
      ds.noise.push_back({c.path, c.bytes, c.hash, c.info});
      continue;
    }
    labels.insert(c.label);
    ds.clips.push_back(MakeClip(c));
  }
  if (first_bad && !options.skip_bad_files) ThrowBadFiles(*first_bad, bad, ds.root);
  ds.labels.assign(labels.begin(), labels.end());
  std::sort(ds.skipped.begin(), ds.skipped.end(), [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });
  if (ds.clips.empty()) throw BadInput(ds.root + ": no usable audio clips in its label folders");
  return ds;
}

int WarnOtherSampleRates(const Dataset& ds, int sample_rate) {
  int n = 0;
  std::string first;
  auto check = [&](const std::string& path, const AudioInfo& info) {
    if (info.sample_rate <= 0 || info.sample_rate == sample_rate) return;
    if (n++ == 0) first = path + " at " + std::to_string(info.sample_rate) + " Hz";
  };
  for (const Clip& c : ds.clips) check(c.path, c.info);
  for (const NoiseFile& f : ds.noise) check(f.path, f.info);
  if (n > 0)
    LogWarn("%s: %d audio file%s not at %d Hz (first: %s); resampled with soxr when read", ds.root.c_str(), n,
            n == 1 ? "" : "s", sample_rate, first.c_str());
  return n;
}

// ---------------------------------------------------------------------------
// Official split
// ---------------------------------------------------------------------------

const char* SplitName(Split s) {
  switch (s) {
    case Split::kTraining: return "training";
    case Split::kValidation: return "validation";
    case Split::kTesting: return "testing";
  }
  return "?";
}

std::string OfficialHashName(const std::string& file_name) {
  std::string base = fs::path(file_name).filename().string();
  const size_t pos = base.find("_nohash_");
  return pos == std::string::npos ? base : base.substr(0, pos);
}

double SplitPercentage(const std::string& hash_name) {
  const std::string hex = Sha1Hex(hash_name);
  // int(hex, 16) % 2^27 only depends on the low 27 bits = the last 7 hex digits masked.
  uint64_t low = std::stoull(hex.substr(hex.size() - 7), nullptr, 16) & ((uint64_t(1) << 27) - 1);
  const double kMaxNumWavsPerClass = double((uint64_t(1) << 27) - 1);
  return double(low) * (100.0 / kMaxNumWavsPerClass);
}

Split WhichSet(const std::string& hash_name, double validation_pct, double testing_pct) {
  const double p = SplitPercentage(hash_name);
  if (p < validation_pct) return Split::kValidation;
  if (p < testing_pct + validation_pct) return Split::kTesting;
  return Split::kTraining;
}

Split WhichSet(const Clip& clip, double validation_pct, double testing_pct) {
  return WhichSet(clip.split_name, validation_pct, testing_pct);
}

// ---------------------------------------------------------------------------
// Speaker-disjoint splits
// ---------------------------------------------------------------------------

uint64_t SeededHash(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) { h ^= c; h *= 1099511628211ull; }
  uint64_t z = h + seed * 0x9E3779B97F4A7C15ull + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

namespace {
struct SpeakerGroup {
  std::string name;
  int count = 0;
  uint64_t order = 0;
};

std::vector<SpeakerGroup> Groups(const std::vector<std::string>& speakers, const std::vector<int>& indices,
                                 uint64_t seed, std::unordered_map<std::string, int>& id) {
  std::vector<SpeakerGroup> g;
  for (int i : indices) {
    auto [it, inserted] = id.emplace(speakers[size_t(i)], int(g.size()));
    if (inserted) g.push_back({speakers[size_t(i)], 0, SeededHash(speakers[size_t(i)], seed)});
    ++g[size_t(it->second)].count;
  }
  return g;
}
}  // namespace

std::vector<int> SpeakerKFold(const std::vector<std::string>& speakers, int k, uint64_t seed) {
  std::vector<int> all(speakers.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = int(i);
  std::unordered_map<std::string, int> id;
  std::vector<SpeakerGroup> g = Groups(speakers, all, seed, id);
  if (k < 2) throw UsageError("k-fold: k must be at least 2 (got " + std::to_string(k) + ")");
  if (size_t(k) > g.size())
    throw UsageError("k-fold: k = " + std::to_string(k) + " but the data has only " + std::to_string(g.size()) +
                     " speakers");
  std::vector<int> order(g.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const auto &x = g[size_t(a)], &y = g[size_t(b)];
    if (x.count != y.count) return x.count > y.count;
    if (x.order != y.order) return x.order < y.order;
    return x.name < y.name;
  });
  std::vector<int> fold_of_group(g.size()), size(size_t(k), 0);
  for (int gi : order) {
    int best = 0;
    for (int f = 1; f < k; ++f)
      if (size[size_t(f)] < size[size_t(best)]) best = f;
    fold_of_group[size_t(gi)] = best;
    size[size_t(best)] += g[size_t(gi)].count;
  }
  std::vector<int> folds(speakers.size());
  for (size_t i = 0; i < speakers.size(); ++i) folds[i] = fold_of_group[size_t(id.at(speakers[i]))];
  return folds;
}

IndexSplit FoldSplit(const std::vector<int>& folds, int fold) {
  IndexSplit s;
  for (size_t i = 0; i < folds.size(); ++i) (folds[i] == fold ? s.test : s.train).push_back(int(i));
  if (s.test.empty()) throw UsageError("k-fold: fold " + std::to_string(fold) + " is empty or out of range");
  return s;
}

IndexSplit SpeakerHoldout(const std::vector<std::string>& speakers, const std::vector<int>& indices,
                          double fraction, uint64_t seed) {
  if (!(fraction > 0 && fraction < 1))
    throw UsageError("validation fraction must be in (0, 1) (got " + std::to_string(fraction) + ")");
  for (int i : indices)
    if (i < 0 || size_t(i) >= speakers.size()) throw InternalError("SpeakerHoldout: index out of range");
  std::unordered_map<std::string, int> id;
  std::vector<SpeakerGroup> g = Groups(speakers, indices, seed, id);
  if (g.size() < 2) throw UsageError("validation split: needs at least 2 speakers, the data has " + std::to_string(g.size()));
  std::vector<int> order(g.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (g[size_t(a)].order != g[size_t(b)].order) return g[size_t(a)].order < g[size_t(b)].order;
    return g[size_t(a)].name < g[size_t(b)].name;
  });
  const double target = fraction * double(indices.size());
  std::vector<char> held(g.size(), 0);
  int taken = 0;
  size_t used = 0;
  for (int gi : order) {
    if (taken >= target || used + 1 == g.size()) break;  // always leave one speaker for training
    held[size_t(gi)] = 1;
    taken += g[size_t(gi)].count;
    ++used;
  }
  IndexSplit s;
  std::vector<int> sorted = indices;
  std::sort(sorted.begin(), sorted.end());
  for (int i : sorted) (held[size_t(id.at(speakers[size_t(i)]))] ? s.test : s.train).push_back(i);
  return s;
}

}  // namespace kws
