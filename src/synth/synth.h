// Synthetic keyword data: text-to-speech voices (espeak-ng, flite, festival,
// run as external programs) + augmentation -> a Speech Commands-style folder:
//
//   OUT/<word>/<speaker>_nohash_<n>.wav          keyword clips
//   OUT/_unknown_/<word>_<speaker>_nohash_<n>.wav  other words (--unknown-words)
//   OUT/_silence_/<n>.wav                          noise only
//   OUT/synth.json                                 options, speakers (voice settings), counts
//   OUT/synth_clips.csv                            per clip: speaker, placement, reverb, noise, SNR, level
//
// Every clip is 16 kHz mono 16-bit, exactly 1 s. A "speaker" is one voice
// setting (engine, voice, variant, rate, pitch, warp) with a stable 8-hex id,
// so speaker-disjoint splits work as on real data. Speakers default to
// ceil(per_word / 2), drawn espeak-ng 70% / flite 15% / festival 15%. Keyword
// clip i of a word is spoken by speaker i % speakers (repetition n = i /
// speakers: the same TTS output with its own +-5% speed jitter and augmentation).
//
// Per keyword clip: TTS -> 16 kHz (soxr) -> speed/pitch perturbation
// (resampling) -> trim silence by energy -> optional room reverb (synthetic
// exponentially decaying IR, RT60 0.1-0.6 s) -> random position inside the
// window (the word stays whole) -> noise (white/pink/brown/hum/babble or a
// slice of a --background file) at a random SNR -> random band limits
// (high-pass / low-pass, a crude microphone) -> random peak level.
//
// Deterministic: clip k uses Rng::Derive(seed, k) only, so the output is
// byte-identical for a seed whatever the thread count.
//
//   kws::synth::SynthOptions o;
//   o.words = {"yes", "no"}; o.out_dir = "data/synth"; o.per_word = 500;
//   auto r = kws::synth::SynthesizeDataset(o);
//   // or, cached by the options:  std::string dir = SynthesizeCached(o, DefaultSynthCacheRoot());
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "synth/tts.h"

namespace kws::synth {

struct SynthOptions {
  std::vector<std::string> words;          // keywords (letters, apostrophes, hyphens)
  std::string out_dir;                      // output folder (SynthesizeCached ignores it)
  int per_word = 500;                       // clips per keyword
  uint64_t seed = 1;
  std::vector<std::string> unknown_words;  // spoken into _unknown_ (none: no _unknown_ folder)
  int unknown_count = -1;                   // _unknown_ clips; -1: per_word (if unknown_words given)
  int silence = -1;                         // _silence_ clips; -1: 10% of keyword+unknown clips (>= 1)
  int speakers = 0;                         // voice settings; 0: ceil(per_word / 2)
  std::string background_dir;               // optional folder of long noise files (_background_noise_)
  std::vector<std::string> engines;         // empty: every installed engine; explicit: all must exist
  // Share of speakers per engine, renormalised over the engines in use; missing
  // entries take the defaults espeak-ng 0.7, flite 0.15, festival 0.15 (espeak-ng
  // has by far the most distinct voices; a linear probe trained on each engine
  // alone transferred best from espeak-ng to the real pool).
  std::map<std::string, double> engine_weights;
  bool force = false;                       // allow a non-empty out_dir (same-named files are replaced)

  // Augmentation (defaults are what the CLI uses).
  int sample_rate = 16000;
  int clip_samples = 16000;                 // 1 s
  double jitter = 0.05;                     // per-utterance speed factor 1 +- jitter
  double reverb_probability = 0.5;
  double rt60_min_s = 0.1, rt60_max_s = 0.6;
  double noise_probability = 0.85;          // else a faint floor (SNR 35-50 dB)
  double snr_min_db = 5, snr_max_db = 30;
  double highpass_probability = 0.5;        // band limits of the "microphone": high-pass 60-300 Hz
  double lowpass_probability = 0.4;         // and low-pass 3-7.5 kHz, applied to the whole mix
  double peak_min_dbfs = -20, peak_max_dbfs = -1;
  double silence_peak_min_dbfs = -50, silence_peak_max_dbfs = -10;

  // Throws UsageError naming the setting.
  void Validate() const;
  // Everything that changes the output (not out_dir/force), as canonical JSON.
  nlohmann::json ToJson() const;
};

struct SynthSpeaker {
  std::string id;
  VoiceConfig voice;
  int clips = 0;
};

struct SynthResult {
  std::string out_dir;
  std::map<std::string, int> clips_per_label;
  std::vector<SynthSpeaker> speakers;
  std::vector<std::string> engines;   // engines used
  std::vector<std::string> warnings;  // e.g. an engine missing and skipped
  long total_clips = 0;
  double seconds = 0;
  nlohmann::json ToJson() const;
};

// Validates word spelling: non-empty, starts with a letter, then letters,
// apostrophes or hyphens, at most 40 characters. Throws UsageError.
void ValidateWord(const std::string& word, const std::string& setting);

// Finds the engines' programs on PATH. `requested` empty: all engines, the
// missing ones skipped with a warning; explicit: every one must exist. Throws
// BadInput("espeak-ng not found (install with ./setup.sh)") when a needed
// program is absent.
struct EngineSet {
  std::vector<Engine> engines;
  std::map<Engine, std::string> programs;
  std::vector<std::string> warnings;
};
EngineSet ResolveEngines(const std::vector<std::string>& requested);

// The speaker list for a run (deterministic for seed, count and engines).
// `weights`: as SynthOptions::engine_weights (empty: defaults).
std::vector<VoiceConfig> MakeSpeakers(uint64_t seed, int count, const std::vector<Engine>& engines,
                                      const std::map<std::string, double>& weights = {});
double DefaultEngineWeight(Engine e);

SynthResult SynthesizeDataset(const SynthOptions& options);

// Synthesizes into <cache_root>/synth-<hash of options> unless it is already
// there (complete runs only: the folder is built under a temporary name and
// renamed; using it refreshes its place in the cache's size cap, data/cache.h).
// Returns the folder. An empty cache_root (no writable cache) synthesizes into
// a scratch folder under TMPDIR that is removed when the process exits.
std::string SynthesizeCached(const SynthOptions& options, const std::string& cache_root,
                             SynthResult* result = nullptr);
// The cache's synth folder (data/cache.h WritableCacheDir("synth")), or "" with a warning when
// there is no writable cache.
std::string DefaultSynthCacheRoot();

// A synthesized folder's synth.json: the result it records (out_dir left empty). BadInput
// naming `what` when the text is not such a manifest.
SynthResult ParseSynthManifest(const std::string& text, const std::string& what);

// The 25 Speech Commands v0.02 words outside its ten commands (backward, bed, ...), a
// ready list for --unknown-words (not applied unless asked for).
const std::vector<std::string>& SpeechCommandsUnknownWords();

// --- building blocks (exposed for tests) ---

struct ClipInfo {
  long offset = 0, length = 0;  // where the (dry) word sits in the window
  double rt60 = 0;              // 0: no reverb
  std::string noise;            // noise source name ("" none)
  double snr_db = 0;
  double highpass_hz = 0, lowpass_hz = 0;  // 0: not applied
  double peak_dbfs = 0;
};

// Background material: long mono 16 kHz signals to slice noise from.
struct NoiseBank {
  std::vector<std::string> names;
  std::vector<std::vector<float>> signals;
  // Loads every audio file in `dir` (non-recursive) at `sample_rate`.
  static NoiseBank Load(const std::string& dir, int sample_rate);
};

// One keyword clip from a trimmed word: reverb, placement, noise, level.
std::vector<float> RenderKeywordClip(const std::vector<float>& word, const SynthOptions& o, const NoiseBank& bank,
                                     Rng& rng, ClipInfo* info);
// One noise-only clip.
std::vector<float> RenderSilenceClip(const SynthOptions& o, const NoiseBank& bank, Rng& rng, ClipInfo* info);

}  // namespace kws::synth
