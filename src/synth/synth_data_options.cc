#include "synth/synth_data_options.h"

#include "synth/synth.h"
#include "synth/tts.h"

namespace kws {

const std::vector<settings::Setting<SynthDataOptions>>& SynthDataSettings() {
  using S = SynthDataOptions;
  using settings::Bad;
  using settings::Member;
  using Words = std::vector<std::string>;
  static const std::vector<settings::Setting<S>> s = {
      Member("enabled", &S::enabled, "add synthetic speech to the training items"),
      Member<S, Words>("words", &S::words, "keywords to speak; [] = the keyword labels",
                       [](const Words& words, const std::string& path) {
                         for (const auto& w : words) {
                           if (w == "_silence_" || w == "_unknown_") Bad(path, "'" + w + "' is not a word to speak");
                           synth::ValidateWord(w, path);
                         }
                       }),
      Member<S, Words>("unknown_words", &S::unknown_words, "other words, spoken into _unknown_",
                       [](const Words& words, const std::string& path) {
                         for (const auto& w : words) synth::ValidateWord(w, path);
                       }),
      Member("per_word", &S::per_word, "clips per keyword", settings::IntInRange(1, 100000)),
      Member<S, int>("unknown", &S::unknown, "_unknown_ clips in all (spread over unknown_words); -1 = per_word",
                     [](const int& v, const std::string& path) {
                       if (v < -1 || v == 0 || v > 1000000)
                         Bad(path, "must be in [1, 1000000], or -1 for per_word (got " + std::to_string(v) + ")");
                     }),
      Member("seed", &S::seed, "seed of the voices and their augmentation"),
      Member<S, int>("speakers", &S::speakers, "voice settings; 0 = per_word / 2", settings::AtLeast(0)),
      Member<S, int>("silence", &S::silence, "_silence_ clips; -1 = 10% of the clips",
                     [](const int& v, const std::string& path) {
                       if (v < -1) Bad(path, "must be >= 0, or -1 for the default (got " + std::to_string(v) + ")");
                     }),
      Member<S, Words>("engines", &S::engines, "TTS engines (espeak-ng, flite, festival); [] = every installed one",
                       [](const Words& engines, const std::string& path) {
                         for (const auto& e : engines) {
                           bool known = e == "espeak";
                           for (auto eng : synth::AllEngines()) known = known || synth::EngineName(eng) == e;
                           if (!known) Bad(path, "unknown engine '" + e + "' (espeak-ng, flite, festival)");
                         }
                       }),
      Member("background", &S::background, "mix the data's _background_noise_ into the clips"),
      Member("dir", &S::dir, "a ready `kws data synth` folder instead of generating; \"\" = generate"),
  };
  return s;
}

}  // namespace kws
