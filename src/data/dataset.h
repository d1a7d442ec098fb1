// Datasets: a folder-per-label tree of short clips (Speech Commands layout).
//
//   root/
//     yes/<speaker>_nohash_<n>.wav          label "yes", speaker <speaker>
//     _unknown_/<WORD>_<speaker>_nohash_<n>.wav   label "_unknown_", original word WORD
//     _silence_/<n>.wav                      numbered noise clips (no speaker)
//     _background_noise_/*.wav               long noise recordings (not clips)
//
// Usage (what the trainer calls):
//   kws::Dataset ds = kws::LoadDataset("data/speech_commands");
//   kws::TaskView task = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_silence_,_unknown_"));
//   std::vector<int> folds = kws::SpeakerKFold(task.speakers, 5, /*seed=*/1);
//   kws::IndexSplit s = kws::FoldSplit(folds, 0);        // train / test indices into task items
//   kws::FeatureSet fs = kws::ExtractFeatures(ds, task, feature_options);   // cached on disk
//
// Several folders make one dataset: LoadDataset({"v1", "v2"}) merges label folders of the same
// name, keeps each clip's speaker from its file name (so speaker-disjoint splits work across the
// folders) and counts a clip whose bytes appear in two folders once.
//
// Clips are sorted by relative path (then by full path), so everything downstream is
// deterministic and does not depend on the order the folders are given in.
// Files that cannot be clips are not errors: they are listed in Dataset::skipped
// with the reason. Byte-identical duplicates are removed (the first in that order
// is kept) and listed in Dataset::duplicates.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "audio/audio.h"

namespace kws {

inline constexpr const char* kSilenceLabel = "_silence_";
inline constexpr const char* kUnknownLabel = "_unknown_";
inline constexpr const char* kBackgroundNoiseFolder = "_background_noise_";

struct Clip {
  std::string path;       // full path (root / rel)
  std::string rel;        // "yes/0a7c2a8d_nohash_0.wav" (relative to its own root)
  int root = 0;           // index into Dataset::roots
  std::string label;      // folder name
  std::string word;       // spoken word: the folder, or WORD of _unknown_/WORD_..., "" for _silence_
  std::string speaker;    // speaker id; clips without one get a pseudo-speaker "<label>/<file name>"
  bool has_speaker = false;  // speaker parsed from "<speaker>_nohash_<n>"
  std::string split_name; // the string the official SHA-1 split rule hashes
  int64_t bytes = 0;
  std::string hash;       // SHA-256 hex of the file's bytes
  AudioInfo info;         // filled when DatasetOptions::probe (sample_rate 0 otherwise)
};

struct SkippedFile {
  std::string path;
  std::string reason;     // "wrong extension", "empty file", "not audio (...)", "duplicate of yes/x.wav", ...
};

struct NoiseFile {
  std::string path;
  int64_t bytes = 0;
  std::string hash;
  AudioInfo info;
};

struct DatasetOptions {
  bool probe = true;              // read each clip's header (detects non-audio files, gives durations);
                                  // _background_noise_ files are probed either way
  bool remove_duplicates = true;  // drop byte-identical clips (keep the first by sorted path)
  // false: an audio-named file that cannot be read or decoded (empty, truncated, corrupt) throws
  // BadInput naming it; true: it is listed in Dataset::skipped and left out.
  bool skip_bad_files = false;
  void Validate() const {}
};

struct Dataset {
  std::string root;                  // for messages: the folder, or "A + B" for several
  std::vector<std::string> roots;    // the folders, as given
  std::vector<std::string> labels;   // label folders that hold at least one clip, sorted
  std::vector<Clip> clips;           // sorted by rel
  std::vector<NoiseFile> noise;      // _background_noise_ files, sorted
  std::vector<SkippedFile> skipped;  // everything not used, with the reason (duplicates included)
  int duplicates = 0;                // how many of `skipped` are duplicates

  bool HasLabel(const std::string& label) const;
  // Indices of the clips of one label folder.
  std::vector<int> ClipsOf(const std::string& label) const;
  // A clip's name in reports: its relative path for a one-folder dataset, else its full path.
  std::string DisplayPath(const Clip& c) const;
};

// Scans `root` (following symbolic links to label folders and clips). Throws BadInput naming the
// path when it is missing, not a folder, has no label folders, or has no usable clips, and
// (unless options.skip_bad_files) naming the first audio file it cannot read. Reads every file
// once (hash) on all cores.
Dataset LoadDataset(const std::string& root, const DatasetOptions& options = {});
// Several folders as one dataset (see above). Each folder must exist and have label folders;
// the same folder twice is a UsageError. One folder gives exactly LoadDataset(folder).
Dataset LoadDataset(const std::vector<std::string>& roots, const DatasetOptions& options = {});

// Clips and noise files whose (probed) sample rate is not `sample_rate`: they are resampled when
// read. Logs one warning naming how many and the first of them (nothing when all match), and
// returns the count.
int WarnOtherSampleRates(const Dataset& ds, int sample_rate);

// True for the file extensions kws reads as audio (wav, flac, ogg, ...).
bool IsAudioExtension(const std::string& file_name);

// File-name parsing. `label` is the folder the file is in.
struct ClipName {
  std::string word, speaker, split_name;
  bool has_speaker = false;
  int index = -1;  // <n> of "_nohash_<n>", -1 if none
};
ClipName ParseClipName(const std::string& label, const std::string& file_name);

// ---- The official Speech Commands split (Warden 2018, arXiv:1804.03209; tensorflow/examples/speech_commands/) ----
enum class Split { kTraining = 0, kValidation = 1, kTesting = 2 };
const char* SplitName(Split s);  // "training" / "validation" / "testing"

// The name TF hashes: the base name with everything from "_nohash_" on removed.
std::string OfficialHashName(const std::string& file_name);
// (int(sha1_hex) % 2^27) * (100 / (2^27 - 1)), exactly as TF's which_set computes it.
double SplitPercentage(const std::string& hash_name);
Split WhichSet(const std::string& hash_name, double validation_pct = 10, double testing_pct = 10);
// The split of a clip (hashes Clip::split_name).
Split WhichSet(const Clip& clip, double validation_pct = 10, double testing_pct = 10);

// ---- Speaker-disjoint splits ----
// Fold index in [0, k) for every item; all items of one speaker share a fold.
// Deterministic in (speakers, k, seed). Folds are balanced by item count:
// speakers sorted by size (largest first, ties by a seeded hash), each given
// to the currently smallest fold. Throws UsageError if k < 2 or k > #speakers.
std::vector<int> SpeakerKFold(const std::vector<std::string>& speakers, int k, uint64_t seed);

struct IndexSplit {
  std::vector<int> train, test;  // ascending indices
};
// train = items not in `fold`, test = items in `fold`.
IndexSplit FoldSplit(const std::vector<int>& folds, int fold);

// Carves a speaker-disjoint validation part out of `indices` (e.g. a training
// fold): whole speakers, in seeded order, until about `fraction` of the items.
// result.train + result.test == indices. fraction in (0, 1).
IndexSplit SpeakerHoldout(const std::vector<std::string>& speakers, const std::vector<int>& indices,
                          double fraction, uint64_t seed);

// A stable 64-bit hash of a string mixed with a seed (FNV-1a + splitmix64).
uint64_t SeededHash(const std::string& s, uint64_t seed);

}  // namespace kws
