// kws data synth — synthetic keyword clips from text-to-speech voices.
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "synth/synth.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/text.h"

namespace {

struct Opts {
  std::string words, unknown_words, engines, engine_weights, out, background;
  int per_word = 500, silence = -1, unknown = -1, speakers = 0;
  long long seed = 1;
  bool force = false, json = false;
};

std::vector<std::string> SplitList(const std::string& s, const std::string& flag) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    // Trim spaces; an empty item (",," or a trailing comma) is an error, caught by validation.
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    out.push_back(b == std::string::npos ? "" : item.substr(b, e - b + 1));
  }
  if (!s.empty() && s.back() == ',') out.push_back("");
  return out;
}

kws::cli::Registrar reg(
    "data synth", "Make a Speech Commands-style dataset of synthetic keywords (espeak-ng, flite, festival)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--words", o->words, "Keywords, comma-separated (letters, apostrophes, hyphens)")->required();
      app.add_option("--out", o->out, "Output folder (must be empty or new, unless --force)")->required();
      app.add_option("--per-word", o->per_word, "Clips per keyword (default 500)");
      app.add_option("--seed", o->seed, "Random seed (same seed -> identical files)");
      app.add_option("--unknown-words", o->unknown_words, "Words spoken into _unknown_, comma-separated");
      app.add_option("--unknown", o->unknown, "Number of _unknown_ clips (default: --per-word)");
      app.add_option("--silence", o->silence, "Number of _silence_ (noise-only) clips (default: 10% of the spoken clips)");
      app.add_option("--speakers", o->speakers, "Voice configurations (default: per-word / 2)");
      app.add_option("--background", o->background, "Folder of noise recordings to mix in (e.g. _background_noise_)");
      app.add_option("--engines", o->engines, "TTS engines: espeak-ng,flite,festival (default: all installed)");
      app.add_option("--engine-weights", o->engine_weights,
                     "Share of speakers per engine, e.g. espeak-ng=0.7,flite=0.15,festival=0.15 (the default)");
      app.add_flag("--force", o->force, "Write into a non-empty output folder (same-named files are replaced)");
      app.add_flag("--json", o->json, "Print the summary as JSON");
      return [o]() -> int {
        kws::synth::SynthOptions so;
        so.words = SplitList(o->words, "--words");
        so.unknown_words = SplitList(o->unknown_words, "--unknown-words");
        so.engines = SplitList(o->engines, "--engines");
        for (auto& item : SplitList(o->engine_weights, "--engine-weights")) {
          const auto nw = kws::ParseNameNumber(item);
          if (!nw) throw kws::UsageError("--engine-weights: '" + item + "' is not ENGINE=WEIGHT");
          so.engine_weights[nw->first] = nw->second;
        }
        so.out_dir = o->out;
        if (!so.out_dir.empty()) kws::CheckOutputPath(so.out_dir, kws::OutputKind::kFolder, "--out");
        so.per_word = o->per_word;
        if (o->seed < 0) throw kws::UsageError("--seed: must be >= 0");
        so.seed = uint64_t(o->seed);
        so.unknown_count = o->unknown;
        so.silence = o->silence;
        so.speakers = o->speakers;
        so.background_dir = o->background;
        so.force = o->force;
        auto r = kws::synth::SynthesizeDataset(so);
        if (o->json) {
          std::printf("%s\n", r.ToJson().dump(2).c_str());
          return 0;
        }
        std::printf("Synthesized %ld clips into %s in %.1f s (%.1f s per 1000 clips)\n", r.total_clips,
                    r.out_dir.c_str(), r.seconds, r.total_clips ? r.seconds * 1000.0 / double(r.total_clips) : 0.0);
        std::printf("  %-12s %s\n", "label", "clips");
        for (auto& [label, n] : r.clips_per_label) std::printf("  %-12s %d\n", label.c_str(), n);
        std::map<std::string, int> per_engine;
        for (auto& s : r.speakers) per_engine[kws::synth::EngineName(s.voice.engine)]++;
        std::printf("  voice configurations (speakers): %zu (", r.speakers.size());
        bool first = true;
        for (auto& [e, n] : per_engine) {
          std::printf("%s%s %d", first ? "" : ", ", e.c_str(), n);
          first = false;
        }
        std::printf(")\n  engines: ");
        for (size_t i = 0; i < r.engines.size(); ++i) std::printf("%s%s", i ? ", " : "", r.engines[i].c_str());
        std::printf("\n  details: %s/synth.json, %s/synth_clips.csv\n", r.out_dir.c_str(), r.out_dir.c_str());
        return 0;
      };
    },
    "Examples:\n"
    "  kws data synth --words yes,no --out data/synth\n"
    "  kws data synth --words yes,no --per-word 1500 --unknown-words bed,bird,cat,dog --out data/synth \\\n"
    "      --background ../shared/data/speech_commands/_background_noise_\n"
    "TTS programs run as external processes (espeak-ng, flite, festival; ./setup.sh installs them).");

}  // namespace
