// Text-to-speech engines, run as external programs (never linked: espeak-ng
// is GPL). A VoiceConfig is one (engine, voice, variant, rate, pitch, warp)
// setting; each acts as one pseudo "speaker" with a stable 8-hex-digit id.
//
//   espeak-ng  espeak-ng -v <accent>+<variant> -s <wpm> -p <0..99> -w out.wav <word>
//   flite      flite -voice <v> --setf duration_stretch=<x> --setf int_f0_target_mean=<hz> -t <word> -o out.wav
//   festival   one `festival -b script.scm` per voice for many words; Duration_Stretch per utterance
//              (the HTS voice ignores it: its rate only varies through `warp`)
//
// `warp` is a resampling speed/pitch factor applied after synthesis (every engine).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "util/rng.h"

namespace kws::synth {

enum class Engine { kEspeak, kFlite, kFestival };

const std::vector<Engine>& AllEngines();
std::string EngineName(Engine e);      // "espeak-ng", "flite", "festival"
std::string EngineProgram(Engine e);   // program looked up on PATH
Engine ParseEngine(const std::string& name);  // UsageError if unknown

// Full path of `program` found on $PATH (like `command -v`), or "" if absent.
std::string FindProgram(const std::string& program);

struct VoiceConfig {
  Engine engine = Engine::kEspeak;
  std::string voice;     // espeak accent ("en-us"), flite voice ("slt"), festival voice ("kal_diphone")
  std::string variant;   // espeak variant ("m3", "f2", "klatt"); empty otherwise
  int rate = 0;          // espeak words per minute (0 = engine default)
  int pitch = 0;         // espeak pitch 0..99, flite mean F0 in Hz (0 = engine default)
  double stretch = 1.0;  // flite/festival duration stretch (>1 slower)
  double warp = 1.0;     // resampling speed/pitch factor after synthesis (>1 faster, higher)

  std::string Describe() const;   // "espeak-ng en-us+m3 s=160 p=45 warp=1.031"
  std::string SpeakerId() const;  // first 8 hex digits of SHA-1(Describe())
};

// The voices used (curated: whisper/robot/echo variants, the RP accent and the
// 8 kHz flite `kal` are left out because they are least like real speech).
const std::vector<std::string>& EspeakAccents();
const std::vector<std::string>& EspeakVariants();
const std::vector<std::string>& FliteVoices();
const std::vector<std::string>& FestivalVoices();

// A random voice of `engine` with random rate/pitch/stretch/warp.
VoiceConfig RandomVoice(Engine engine, Rng& rng);

// Runs a program (argv[0] = full path) with stdin/stdout from /dev/null and
// stderr captured; returns the exit status (-1 if it could not start or was
// killed) and fills `err` with the first part of stderr.
int RunProgram(const std::vector<std::string>& argv, std::string* err = nullptr);

// Synthesizes `word` with an espeak-ng or flite voice into `wav_path`
// (the engine's native rate). `program` is the engine's full path.
// Throws InternalError naming the command on failure.
void SynthesizeToFile(const VoiceConfig& v, const std::string& word, const std::string& program,
                      const std::string& wav_path);

// Festival: synthesizes many (stretch, word) -> wav_path items with one
// festival process for `voice`. Throws InternalError if festival fails or an
// output file is missing.
struct FestivalItem {
  double stretch = 1.0;
  std::string word;
  std::string wav_path;
};
void FestivalBatch(const std::string& program, const std::string& voice, const std::vector<FestivalItem>& items,
                   const std::string& script_path);

}  // namespace kws::synth
