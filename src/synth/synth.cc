#include "synth/synth.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <set>

#include "audio/audio.h"
#include "data/cache.h"
#include "synth/dsp.h"
#include "synth/noise.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace fs = std::filesystem;

namespace kws::synth {

namespace {

constexpr const char* kSilence = "_silence_";
constexpr const char* kUnknown = "_unknown_";
double DbToGain(double db) { return std::pow(10.0, db / 20.0); }

std::string Fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

double DefaultEngineWeight(Engine e) {
  switch (e) {
    case Engine::kEspeak: return 0.70;
    case Engine::kFlite: return 0.15;
    case Engine::kFestival: return 0.15;
  }
  return 0;
}

void ValidateWord(const std::string& word, const std::string& setting) {
  if (word.empty()) throw UsageError(setting + ": empty word");
  if (word.size() > 40) throw UsageError(setting + ": word '" + word + "' is longer than 40 characters");
  if (!std::isalpha(static_cast<unsigned char>(word[0])))
    throw UsageError(setting + ": word '" + word + "' must start with a letter");
  for (unsigned char c : word)
    if (!(std::isalpha(c) || c == '\'' || c == '-') || c >= 0x80)
      throw UsageError(setting + ": word '" + word + "' may only contain letters, apostrophes and hyphens");
}

void SynthOptions::Validate() const {
  if (words.empty()) throw UsageError("--words: give at least one keyword");
  std::set<std::string> seen;
  for (auto& w : words) {
    ValidateWord(w, "--words");
    if (!seen.insert(w).second) throw UsageError("--words: '" + w + "' given twice");
    if (w == kSilence || w == kUnknown) throw UsageError("--words: '" + w + "' is reserved");
  }
  for (auto& w : unknown_words) {
    ValidateWord(w, "--unknown-words");
    if (std::find(words.begin(), words.end(), w) != words.end())
      throw UsageError("--unknown-words: '" + w + "' is also a keyword");
  }
  if (per_word <= 0) throw UsageError("--per-word: must be > 0 (got " + std::to_string(per_word) + ")");
  if (per_word > 1000000) throw UsageError("--per-word: at most 1000000");
  if (unknown_count < -1) throw UsageError("--unknown: must be >= 0");
  if (unknown_count > 0 && unknown_words.empty()) throw UsageError("--unknown: needs --unknown-words");
  if (silence < -1) throw UsageError("--silence: must be >= 0");
  if (speakers < 0) throw UsageError("--speakers: must be >= 0");
  for (auto& e : engines) ParseEngine(e);
  for (auto& [e, w] : engine_weights) {
    ParseEngine(e);
    if (!(w >= 0 && w <= 1000)) throw UsageError("--engine-weights: weight of " + e + " must be >= 0");
  }
  if (sample_rate < 8000 || sample_rate > 48000) throw UsageError("sample_rate: must be 8000..48000");
  if (clip_samples < sample_rate / 4) throw UsageError("clip_samples: must be >= a quarter second");
  auto prob = [](double p, const char* n) {
    if (!(p >= 0 && p <= 1)) throw UsageError(std::string(n) + ": must be in [0, 1]");
  };
  prob(reverb_probability, "reverb_probability");
  prob(noise_probability, "noise_probability");
  prob(highpass_probability, "highpass_probability");
  prob(lowpass_probability, "lowpass_probability");
  if (!(jitter >= 0 && jitter < 0.5)) throw UsageError("jitter: must be in [0, 0.5)");
  if (!(rt60_min_s > 0 && rt60_min_s <= rt60_max_s && rt60_max_s <= 2))
    throw UsageError("rt60: need 0 < min <= max <= 2 s");
  if (!(snr_min_db <= snr_max_db)) throw UsageError("snr: min must be <= max");
  if (!(peak_min_dbfs <= peak_max_dbfs && peak_max_dbfs <= 0)) throw UsageError("peak: need min <= max <= 0 dBFS");
  if (!(silence_peak_min_dbfs <= silence_peak_max_dbfs && silence_peak_max_dbfs <= 0))
    throw UsageError("silence peak: need min <= max <= 0 dBFS");
  if (!background_dir.empty() && !fs::is_directory(background_dir))
    throw BadInput(background_dir + ": --background is not a folder");
}

nlohmann::json SynthOptions::ToJson() const {
  nlohmann::json j;
  j["words"] = words;
  j["per_word"] = per_word;
  j["seed"] = seed;
  j["unknown_words"] = unknown_words;
  j["unknown_count"] = unknown_count;
  j["silence"] = silence;
  j["speakers"] = speakers;
  j["background_dir"] = background_dir.empty() ? "" : fs::weakly_canonical(background_dir).string();
  j["engines"] = engines;
  j["engine_weights"] = engine_weights;
  j["sample_rate"] = sample_rate;
  j["clip_samples"] = clip_samples;
  j["jitter"] = jitter;
  j["reverb_probability"] = reverb_probability;
  j["rt60_s"] = {rt60_min_s, rt60_max_s};
  j["noise_probability"] = noise_probability;
  j["snr_db"] = {snr_min_db, snr_max_db};
  j["highpass_probability"] = highpass_probability;
  j["lowpass_probability"] = lowpass_probability;
  j["peak_dbfs"] = {peak_min_dbfs, peak_max_dbfs};
  j["silence_peak_dbfs"] = {silence_peak_min_dbfs, silence_peak_max_dbfs};
  j["format"] = 1;  // bump when the generator changes what it writes
  return j;
}

nlohmann::json SynthResult::ToJson() const {
  nlohmann::json j;
  j["out_dir"] = out_dir;
  j["clips_per_label"] = clips_per_label;
  j["total_clips"] = total_clips;
  j["engines"] = engines;
  j["warnings"] = warnings;
  j["seconds"] = std::round(seconds * 1000.0) / 1000.0;
  j["configurations"] = speakers.size();
  nlohmann::json sp = nlohmann::json::array();
  for (auto& s : speakers)
    sp.push_back({{"id", s.id}, {"engine", EngineName(s.voice.engine)}, {"voice", s.voice.voice},
                  {"variant", s.voice.variant}, {"rate", s.voice.rate}, {"pitch", s.voice.pitch},
                  {"stretch", s.voice.stretch}, {"warp", s.voice.warp}, {"describe", s.voice.Describe()},
                  {"clips", s.clips}});
  j["speakers"] = sp;
  return j;
}

EngineSet ResolveEngines(const std::vector<std::string>& requested) {
  EngineSet set;
  const bool explicit_list = !requested.empty();
  std::vector<Engine> want;
  if (explicit_list) {
    for (auto& n : requested) {
      Engine e = ParseEngine(n);
      if (std::find(want.begin(), want.end(), e) == want.end()) want.push_back(e);
    }
  } else {
    want = AllEngines();
  }
  std::string first_missing;
  for (Engine e : want) {
    std::string path = FindProgram(EngineProgram(e));
    if (path.empty()) {
      std::string msg = EngineProgram(e) + " not found (install with ./setup.sh)";
      if (explicit_list) throw BadInput(msg);
      if (first_missing.empty()) first_missing = msg;
      set.warnings.push_back(msg + "; continuing without " + EngineName(e));
      continue;
    }
    set.engines.push_back(e);
    set.programs[e] = path;
  }
  if (set.engines.empty()) throw BadInput(first_missing);
  return set;
}

std::vector<VoiceConfig> MakeSpeakers(uint64_t seed, int count, const std::vector<Engine>& engines,
                                      const std::map<std::string, double>& weights) {
  std::vector<VoiceConfig> out;
  std::set<std::string> ids;
  auto weight = [&](Engine e) {
    auto it = weights.find(EngineName(e));
    return it != weights.end() ? it->second : DefaultEngineWeight(e);
  };
  double total = 0;
  for (Engine e : engines) total += weight(e);
  if (!(total > 0)) throw UsageError("--engine-weights: the engines in use all have weight 0");
  uint64_t tag = 0;
  while (int(out.size()) < count) {
    Rng rng = Rng::Derive(seed ^ 0x5BEA4E5ull, tag++);
    double u = rng.Uniform() * total;
    Engine pick = engines.back();
    for (Engine e : engines) {
      if (u < weight(e)) { pick = e; break; }
      u -= weight(e);
    }
    VoiceConfig v = RandomVoice(pick, rng);
    if (!ids.insert(v.SpeakerId()).second) continue;  // identical setting drawn twice
    out.push_back(v);
  }
  return out;
}

NoiseBank NoiseBank::Load(const std::string& dir, int sample_rate) {
  NoiseBank bank;
  if (dir.empty()) return bank;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".wav" || ext == ".flac" || ext == ".ogg") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    Audio a = ReadAudio(f.string(), sample_rate);
    double r = Rms(a.samples);
    if (a.samples.empty() || r <= 1e-9) continue;
    for (auto& v : a.samples) v = float(v / r);
    bank.names.push_back(f.stem().string());
    bank.signals.push_back(std::move(a.samples));
  }
  if (bank.signals.empty()) throw BadInput(dir + ": --background holds no usable audio files");
  return bank;
}

namespace {

// A unit-RMS noise clip of n samples from a generator or a background slice.
std::vector<float> DrawNoise(size_t n, const SynthOptions& o, const NoiseBank& bank, Rng& rng, std::string* name) {
  if (!bank.signals.empty() && rng.Uniform() < 0.5) {
    size_t k = rng.Below(bank.signals.size());
    const auto& s = bank.signals[k];
    std::vector<float> x(n);
    size_t start = s.size() > n ? rng.Below(s.size() - n + 1) : 0;
    for (size_t i = 0; i < n; ++i) x[i] = s[(start + i) % s.size()];
    double r = Rms(x);
    if (r > 1e-9)
      for (auto& v : x) v = float(v / r);
    *name = "bg:" + bank.names[k];
    return x;
  }
  NoiseType t = AllNoiseTypes()[rng.Below(AllNoiseTypes().size())];
  *name = NoiseTypeName(t);
  return GenerateNoise(t, n, o.sample_rate, rng);
}

void ScaleToPeak(std::vector<float>& x, double peak_dbfs) {
  double p = Peak(x);
  if (p <= 0) return;
  float g = float(DbToGain(peak_dbfs) / p);
  for (auto& v : x) v *= g;
}

}  // namespace

std::vector<float> RenderKeywordClip(const std::vector<float>& word_in, const SynthOptions& o, const NoiseBank& bank,
                                     Rng& rng, ClipInfo* info) {
  const size_t W = size_t(o.clip_samples);
  std::vector<float> word = word_in;
  // Too long for the window (slow voice): speed it up so it fits with 10 ms spare each side.
  const size_t max_len = W - 2 * size_t(o.sample_rate / 100);
  if (word.size() > max_len) {
    word = SpeedPerturb(word, double(word.size()) / double(max_len) * 1.001, o.sample_rate);
    if (word.size() > max_len) word.resize(max_len);
  }
  const size_t L = word.size();
  ClipInfo ci;
  std::vector<float> wet = word;
  if (rng.Uniform() < o.reverb_probability) {
    ci.rt60 = rng.Uniform(o.rt60_min_s, o.rt60_max_s);
    double drr = rng.Uniform(0.0, 10.0);
    wet = Convolve(word, RoomImpulse(ci.rt60, drr, o.sample_rate, rng));
  }
  const size_t offset = rng.Below(W - L + 1);
  std::vector<float> clip(W, 0.0f);
  for (size_t i = 0; i < wet.size() && offset + i < W; ++i) clip[offset + i] = wet[i];
  ci.offset = long(offset);
  ci.length = long(L);
  const double speech_rms = std::max(1e-6, Rms(clip.data() + offset, L));
  const bool loud = rng.Uniform() < o.noise_probability;
  ci.snr_db = loud ? rng.Uniform(o.snr_min_db, o.snr_max_db) : rng.Uniform(35.0, 50.0);
  std::vector<float> noise = DrawNoise(W, o, bank, rng, &ci.noise);
  const float g = float(speech_rms / DbToGain(ci.snr_db));
  for (size_t i = 0; i < W; ++i) clip[i] += g * noise[i];
  if (rng.Uniform() < o.highpass_probability) {
    ci.highpass_hz = rng.Uniform(60.0, 300.0);
    HighPass(clip, ci.highpass_hz, o.sample_rate);
  }
  if (rng.Uniform() < o.lowpass_probability) {
    ci.lowpass_hz = std::min(rng.Uniform(3000.0, 7500.0), 0.45 * o.sample_rate);
    LowPass(clip, ci.lowpass_hz, o.sample_rate);
  }
  ci.peak_dbfs = rng.Uniform(o.peak_min_dbfs, o.peak_max_dbfs);
  ScaleToPeak(clip, ci.peak_dbfs);
  if (info) *info = ci;
  return clip;
}

std::vector<float> RenderSilenceClip(const SynthOptions& o, const NoiseBank& bank, Rng& rng, ClipInfo* info) {
  const size_t W = size_t(o.clip_samples);
  ClipInfo ci;
  std::vector<float> clip = DrawNoise(W, o, bank, rng, &ci.noise);
  if (rng.Uniform() < 0.3) {  // a mix of two sources
    std::string second;
    auto b = DrawNoise(W, o, bank, rng, &second);
    float g = float(rng.Uniform(0.1, 1.0));
    for (size_t i = 0; i < W; ++i) clip[i] += g * b[i];
    ci.noise += "+" + second;
  }
  ci.peak_dbfs = rng.Uniform(o.silence_peak_min_dbfs, o.silence_peak_max_dbfs);
  ScaleToPeak(clip, ci.peak_dbfs);
  if (info) *info = ci;
  return clip;
}

namespace {

struct ClipJob {
  std::string label;    // word, _unknown_ or _silence_
  std::string word;     // spoken word ("" for silence)
  int speaker = -1;     // index into speakers (-1 silence)
  std::string rel_path;
};

// Scratch folder for the engines' raw output: <tmp>/kws-synth-<n>.tmp.<pid>, so that a later
// run can tell (and remove) what a killed one left behind.
struct TempDir {
  std::string path;
  TempDir() {
    std::error_code ec;
    const fs::path root = fs::temp_directory_path(ec);
    if (ec) throw BadInput("cannot find a temporary folder (" + ec.message() + "; set TMPDIR)");
    RemoveStaleTemporaries(root, "kws-synth-");
    for (int n = 0;; ++n) {
      const fs::path t = root / ("kws-synth-" + std::to_string(n) + ".tmp." + std::to_string(getpid()));
      if (fs::create_directory(t, ec)) {
        path = t.string();
        return;
      }
      if (ec || n > 1000)
        throw BadInput(t.string() + ": cannot create a temporary folder (" + (ec ? ec.message() : "exists") +
                       "; set TMPDIR to a writable folder)");
    }
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

bool DirNonEmpty(const std::string& d) {
  std::error_code ec;
  return fs::exists(d, ec) && fs::is_directory(d, ec) && !fs::is_empty(d, ec);
}

}  // namespace

static SynthResult SynthesizeDatasetInto(const SynthOptions& o);

// A run that fails leaves no half-written output folder behind: a folder this run created (or
// found empty) is removed again.
SynthResult SynthesizeDataset(const SynthOptions& o) {
  std::error_code ec;
  const bool fresh = !o.out_dir.empty() && (!fs::exists(o.out_dir, ec) || (fs::is_directory(o.out_dir, ec) &&
                                                                            fs::is_empty(o.out_dir, ec)));
  const bool existed = !o.out_dir.empty() && fs::exists(o.out_dir, ec);
  try {
    return SynthesizeDatasetInto(o);
  } catch (...) {
    if (fresh) {
      fs::remove_all(o.out_dir, ec);
      if (existed) fs::create_directory(o.out_dir, ec);  // it was there, empty: leave it so
    }
    throw;
  }
}

namespace {

void CheckOutputFolder(const SynthOptions& o) {
  if (o.out_dir.empty()) throw UsageError("--out: give an output folder");
  if (fs::exists(o.out_dir) && !fs::is_directory(o.out_dir))
    throw BadInput(o.out_dir + ": exists and is not a folder");
  if (DirNonEmpty(o.out_dir) && !o.force)
    throw BadInput(o.out_dir + ": exists and is not empty (use --force to write into it)");
}

EngineSet ResolveEnginesAndWarn(const std::vector<std::string>& requested) {
  EngineSet es = ResolveEngines(requested);
  for (auto& w : es.warnings) LogWarn("%s", w.c_str());
  return es;
}

// One SynthesizeDataset() call: the engines, noise and speakers it uses, and the steps Run() takes in
// order (plan every clip, group the work into tasks, render them in parallel, write the manifests).
class SynthRun {
 public:
  explicit SynthRun(const SynthOptions& o)
      : o_(o),
        es_(ResolveEnginesAndWarn(o.engines)),
        bank_(NoiseBank::Load(o.background_dir, o.sample_rate)),
        n_speakers_(o.speakers > 0 ? o.speakers : std::max(1, (o.per_word + 1) / 2)),
        voices_(MakeSpeakers(o.seed, n_speakers_, es_.engines, o.engine_weights)) {
    for (auto& v : voices_) ids_.push_back(v.SpeakerId());
  }

  SynthResult Run(std::chrono::steady_clock::time_point t0) {
    PlanClips();
    PlanTasks();
    CreateFolders();
    RenderAll();
    SynthResult r = Result();
    AtomicWriteFile(fs::path(o_.out_dir) / "synth_clips.csv", ClipsCsv());
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json manifest = r.ToJson();
    manifest.erase("seconds");  // keep the manifest deterministic
    manifest.erase("out_dir");
    manifest["options"] = o_.ToJson();
    AtomicWriteFile(fs::path(o_.out_dir) / "synth.json", manifest.dump(2) + "\n");
    return r;
  }

 private:
  // kind 0 festival batch (voice = its key), 1 one speaker's clips, 2 silence clips [begin, end)
  struct Task { int kind; std::string voice; int speaker; long begin, end; };

  // The plan: every clip, in a fixed order (its index seeds its randomness).
  void PlanClips() {
    std::map<std::pair<std::string, int>, int> reps;  // (label/word, speaker) -> next repetition
    for (auto& w : o_.words)
      for (int i = 0; i < o_.per_word; ++i) {
        int s = i % n_speakers_;
        int n = reps[{w, s}]++;
        jobs_.push_back({w, w, s, w + "/" + ids_[s] + "_nohash_" + std::to_string(n) + ".wav"});
      }
    const int n_unknown = o_.unknown_words.empty() ? 0 : (o_.unknown_count >= 0 ? o_.unknown_count : o_.per_word);
    const int U = int(o_.unknown_words.size());
    // Unknown words: each used equally often, in a seeded random order over the speakers.
    std::vector<int> unknown_order(size_t(std::max(n_unknown, 0)));
    for (int j = 0; j < n_unknown; ++j) unknown_order[size_t(j)] = j % std::max(U, 1);
    Rng order_rng = Rng::Derive(o_.seed ^ 0xC0FFEEull, 1);
    order_rng.Shuffle(unknown_order);
    for (int j = 0; j < n_unknown; ++j) {
      int s = j % n_speakers_;
      const std::string& w = o_.unknown_words[size_t(unknown_order[size_t(j)])];
      int n = reps[{"?" + w, s}]++;
      jobs_.push_back(
          {kUnknown, w, s, std::string(kUnknown) + "/" + w + "_" + ids_[s] + "_nohash_" + std::to_string(n) + ".wav"});
    }
    spoken_ = long(jobs_.size());
    const long n_silence = o_.silence >= 0 ? o_.silence : std::max(1L, std::lround(0.1 * double(spoken_)));
    for (long k = 0; k < n_silence; ++k)
      jobs_.push_back({kSilence, "", -1, std::string(kSilence) + "/" + std::to_string(k) + ".wav"});
  }

  std::string RawPath(int s, const std::string& w) const {
    return tmp_->path + "/" + ids_[size_t(s)] + "_" + w + ".wav";
  }

  // Tasks: festival batches first, then one task per speaker (festival speakers last, they wait for
  // their batch), then silence in chunks.
  void PlanTasks() {
    by_speaker_.resize(static_cast<size_t>(n_speakers_));
    for (long k = 0; k < spoken_; ++k) by_speaker_[size_t(jobs_[size_t(k)].speaker)].push_back(k);
    tmp_.emplace();
    PlanFestivalBatches();
    for (auto& [key, items] : fest_items_) tasks_.push_back({0, key, -1, 0, 0});
    for (int pass = 0; pass < 2; ++pass)
      for (int s = 0; s < n_speakers_; ++s)
        if (!by_speaker_[size_t(s)].empty() && (voices_[size_t(s)].engine == Engine::kFestival) == (pass == 1))
          tasks_.push_back({1, "", s, 0, 0});
    for (long b = spoken_; b < long(jobs_.size()); b += 16)
      tasks_.push_back({2, "", -1, b, std::min<long>(b + 16, long(jobs_.size()))});
  }

  // Festival starts slowly (~0.3 s), so one process serves up to 24 speakers of a voice.
  void PlanFestivalBatches() {
    speaker_batch_.resize(static_cast<size_t>(n_speakers_));
    std::map<std::string, int> fest_count;
    for (int s = 0; s < n_speakers_; ++s) {
      const VoiceConfig& v = voices_[size_t(s)];
      if (v.engine != Engine::kFestival || by_speaker_[size_t(s)].empty()) continue;
      const std::string key = v.voice + "#" + std::to_string(fest_count[v.voice]++ / 24);
      speaker_batch_[size_t(s)] = key;
      fest_voice_[key] = v.voice;
      std::set<std::string> words;
      for (long k : by_speaker_[size_t(s)]) words.insert(jobs_[size_t(k)].word);
      for (auto& w : words) fest_items_[key].push_back({v.stretch, w, RawPath(s, w)});
    }
    for (auto& [key, items] : fest_items_) fest_done_[key] = fest_promise_[key].get_future().share();
  }

  void CreateFolders() {
    fs::create_directories(o_.out_dir);
    std::set<std::string> labels;
    for (auto& j : jobs_) labels.insert(j.label);
    for (auto& l : labels) fs::create_directories(fs::path(o_.out_dir) / l);
  }

  // Every task on the worker threads; the first failure stops the others.
  void RenderAll() {
    infos_.resize(jobs_.size());
    progress_.emplace("synth", long(jobs_.size()));
    std::atomic<long> next{0};
    ParallelFor(NumThreads(), [&](long, long, int worker) {
      while (!failed_.load()) {
        long i = next.fetch_add(1);
        if (i >= long(tasks_.size())) return;
        try {
          RunTask(tasks_[size_t(i)], worker);
        } catch (...) {
          failed_ = true;
          throw;
        }
      }
    });
    progress_->Done();
  }

  void Write(long k, const std::vector<float>& clip) {
    WriteWav16((fs::path(o_.out_dir) / jobs_[size_t(k)].rel_path).string(), clip, o_.sample_rate);
    std::lock_guard<std::mutex> lock(progress_mu_);
    progress_->Tick();
  }

  void RunTask(const Task& t, int worker) {
    if (t.kind == 0) return RunFestivalBatch(t.voice, worker);
    if (t.kind == 2) {
      for (long k = t.begin; k < t.end; ++k) {
        Rng rng = Rng::Derive(o_.seed, uint64_t(k));
        Write(k, RenderSilenceClip(o_, bank_, rng, &infos_[size_t(k)]));
      }
      return;
    }
    RenderSpeaker(t.speaker, worker);
  }

  void RunFestivalBatch(const std::string& key, int worker) {
    try {
      FestivalBatch(es_.programs.at(Engine::kFestival), fest_voice_.at(key), fest_items_.at(key),
                    tmp_->path + "/festival_" + std::to_string(worker) + ".scm");
      fest_promise_.at(key).set_value();
    } catch (...) {
      fest_promise_.at(key).set_exception(std::current_exception());
      throw;
    }
  }

  // Speaker s's clips: each word synthesized once, trimmed, then speed-perturbed and rendered per clip.
  void RenderSpeaker(int s, int worker) {
    const VoiceConfig& v = voices_[size_t(s)];
    if (v.engine == Engine::kFestival) fest_done_.at(speaker_batch_[size_t(s)]).get();  // rethrows a failed batch
    std::map<std::string, std::vector<float>> cache;  // word -> trimmed 16 kHz audio
    for (long k : by_speaker_[size_t(s)]) {
      if (failed_.load()) return;
      const ClipJob& job = jobs_[size_t(k)];
      auto it = cache.find(job.word);
      if (it == cache.end()) {
        std::string path = RawPath(s, job.word);
        if (v.engine != Engine::kFestival) {
          path = tmp_->path + "/w" + std::to_string(worker) + ".wav";
          SynthesizeToFile(v, job.word, es_.programs.at(v.engine), path);
        }
        Audio a = ReadAudio(path, o_.sample_rate);
        auto trimmed = TrimSilence(a.samples, size_t(o_.sample_rate / 100), 40.0, 2);
        if (trimmed.empty()) throw InternalError(v.Describe() + ": synthesized silence for '" + job.word + "'");
        it = cache.emplace(job.word, std::move(trimmed)).first;
      }
      Rng rng = Rng::Derive(o_.seed, uint64_t(k));
      const double factor = v.warp * (1.0 + rng.Uniform(-o_.jitter, o_.jitter));
      auto word = SpeedPerturb(it->second, factor, o_.sample_rate);
      Write(k, RenderKeywordClip(word, o_, bank_, rng, &infos_[size_t(k)]));
    }
  }

  SynthResult Result() const {
    SynthResult r;
    r.out_dir = o_.out_dir;
    r.warnings = es_.warnings;
    for (Engine e : es_.engines) r.engines.push_back(EngineName(e));
    std::vector<int> per_speaker(size_t(n_speakers_), 0);
    for (auto& j : jobs_) {
      r.clips_per_label[j.label]++;
      if (j.speaker >= 0) per_speaker[size_t(j.speaker)]++;
    }
    for (int s = 0; s < n_speakers_; ++s)
      if (per_speaker[size_t(s)] > 0)
        r.speakers.push_back({ids_[size_t(s)], voices_[size_t(s)], per_speaker[size_t(s)]});
    r.total_clips = long(jobs_.size());
    return r;
  }

  // synth_clips.csv: one row per clip with how it was rendered.
  std::string ClipsCsv() const {
    std::string csv = "file,label,word,speaker,offset,length,rt60_s,noise,snr_db,highpass_hz,lowpass_hz,peak_dbfs\n";
    for (size_t k = 0; k < jobs_.size(); ++k) {
      const auto& j = jobs_[k];
      const auto& ci = infos_[k];
      csv += j.rel_path + "," + j.label + "," + j.word + "," + (j.speaker >= 0 ? ids_[size_t(j.speaker)] : "") +
             "," + std::to_string(ci.offset) + "," + std::to_string(ci.length) + "," + Fmt("%.3f", ci.rt60) + "," +
             ci.noise + "," + Fmt("%.2f", ci.snr_db) + "," + Fmt("%.0f", ci.highpass_hz) + "," +
             Fmt("%.0f", ci.lowpass_hz) + "," + Fmt("%.2f", ci.peak_dbfs) + "\n";
    }
    return csv;
  }

  const SynthOptions& o_;
  const EngineSet es_;
  const NoiseBank bank_;
  const int n_speakers_;
  const std::vector<VoiceConfig> voices_;
  std::vector<std::string> ids_;

  std::vector<ClipJob> jobs_;
  long spoken_ = 0;  // jobs_[0, spoken_) are words, the rest silence
  std::vector<std::vector<long>> by_speaker_;
  std::optional<TempDir> tmp_;  // the engines' raw output
  std::map<std::string, std::vector<FestivalItem>> fest_items_;  // batch key -> items
  std::map<std::string, std::string> fest_voice_;                  // batch key -> voice
  std::vector<std::string> speaker_batch_;
  std::map<std::string, std::shared_future<void>> fest_done_;
  std::map<std::string, std::promise<void>> fest_promise_;
  std::vector<Task> tasks_;

  std::vector<ClipInfo> infos_;
  std::atomic<bool> failed_{false};
  std::mutex progress_mu_;
  std::optional<Progress> progress_;
};

}  // namespace

static SynthResult SynthesizeDatasetInto(const SynthOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  o.Validate();
  CheckOutputFolder(o);
  return SynthRun(o).Run(t0);
}

std::string DefaultSynthCacheRoot() { return WritableCacheDir("synth"); }

SynthResult ParseSynthManifest(const std::string& text, const std::string& what) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw BadInput(what + ": not a synth manifest (not a JSON object)");
  SynthResult r;
  try {
    const nlohmann::json per_label = j.value("clips_per_label", nlohmann::json::object());
    if (!per_label.is_object()) throw BadInput(what + ": clips_per_label is not an object");
    for (const auto& [label, n] : per_label.items()) {
      if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > (int64_t(1) << 30))
        throw BadInput(what + ": clips_per_label['" + label + "'] is not a clip count");
      r.clips_per_label[label] = n.get<int>();
    }
    r.engines = j.value("engines", std::vector<std::string>{});
    const nlohmann::json total = j.value("total_clips", nlohmann::json(0));
    if (!total.is_number_integer() || total.get<int64_t>() < 0) throw BadInput(what + ": total_clips is not a count");
    r.total_clips = long(total.get<int64_t>());
  } catch (const nlohmann::json::exception& e) {
    throw BadInput(what + ": malformed synth manifest (" + e.what() + ")");
  }
  return r;
}

namespace {

// Scratch folders standing in for the cache when it cannot be written: removed at exit.
std::mutex g_scratch_mu;
std::vector<std::string> g_scratch;

void RemoveScratch() {
  std::lock_guard<std::mutex> lock(g_scratch_mu);
  std::error_code ec;
  for (const auto& d : g_scratch) fs::remove_all(d, ec);
}

std::string ScratchSynthRoot() {
  std::error_code ec;
  const fs::path root = fs::temp_directory_path(ec);
  if (ec) throw BadInput("no writable cache and no temporary folder (" + ec.message() + "); set KWS_CACHE_DIR");
  RemoveStaleTemporaries(root, "kws-synth-");
  for (int n = 0;; ++n) {
    const fs::path t = root / ("kws-synth-cache-" + std::to_string(n) + ".tmp." + std::to_string(getpid()));
    if (fs::create_directory(t, ec)) {
      std::lock_guard<std::mutex> lock(g_scratch_mu);
      if (g_scratch.empty()) std::atexit(RemoveScratch);
      g_scratch.push_back(t.string());
      return t.string();
    }
    if (ec || n > 1000) throw BadInput(t.string() + ": cannot create a temporary folder; set KWS_CACHE_DIR");
  }
}

}  // namespace

std::string SynthesizeCached(const SynthOptions& options, const std::string& cache_root_arg, SynthResult* result) {
  options.Validate();
  const bool scratch = cache_root_arg.empty();
  const std::string cache_root = scratch ? ScratchSynthRoot() : cache_root_arg;
  // The key covers the options and the generator's version: bump kGeneratorVersion whenever
  // the same options would produce different clips (2: Resample stopped zero-filling the last
  // ~20 ms of each SpeedPerturb when downsampling), so no stale cache is reused.
  constexpr int kGeneratorVersion = 2;
  const std::string key =
      Sha1Hex(options.ToJson().dump() + "\ngenerator " + std::to_string(kGeneratorVersion)).substr(0, 16);
  const fs::path dir = fs::path(cache_root) / ("synth-" + key);
  if (fs::exists(dir / "synth.json")) {
    try {
      SynthResult cached =
          ParseSynthManifest(ReadFileLimited(dir / "synth.json", Limits().config_bytes, "synth manifest"),
                             (dir / "synth.json").string());
      TouchCacheEntry(dir.string());
      cached.out_dir = dir.string();
      if (result) *result = cached;
      return dir.string();
    } catch (const Error& e) {
      LogWarn("%s; synthesizing it again", e.what());
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }
  fs::create_directories(cache_root);
  RemoveStaleTemporaries(cache_root, "synth-");  // folders of killed runs
  const fs::path tmpdir = fs::path(cache_root) / ("synth-" + key + ".tmp." + std::to_string(getpid()));
  std::error_code ec;
  fs::remove_all(tmpdir, ec);
  SynthOptions o = options;
  o.out_dir = tmpdir.string();
  o.force = false;
  SynthResult r;
  try {
    r = SynthesizeDataset(o);
  } catch (...) {
    fs::remove_all(tmpdir, ec);
    throw;
  }
  fs::rename(tmpdir, dir, ec);
  if (ec) {  // another process finished first: keep theirs
    fs::remove_all(tmpdir, ec);
    if (!fs::exists(dir / "synth.json")) throw InternalError(dir.string() + ": cannot move the synthesized data in place");
  }
  r.out_dir = dir.string();
  if (!scratch && fs::path(cache_root).filename() == "synth")  // the cache's own synth folder (data/cache.h)
    EnforceCacheLimit(fs::path(cache_root).parent_path().string(), CacheLimitBytes(), dir.string());
  if (result) *result = r;
  return dir.string();
}

const std::vector<std::string>& SpeechCommandsUnknownWords() {
  static const std::vector<std::string> w = {"backward", "bed",   "bird",  "cat",    "dog",   "eight",  "five",
                                             "follow",   "forward", "four", "happy",  "house", "learn",  "marvin",
                                             "nine",     "one",   "seven", "sheila", "six",   "three",  "tree",
                                             "two",      "visual", "wow",  "zero"};
  return w;
}

}  // namespace kws::synth
