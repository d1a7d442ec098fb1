#include "synth/tts.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

extern char** environ;

namespace kws::synth {

const std::vector<Engine>& AllEngines() {
  static const std::vector<Engine> all = {Engine::kEspeak, Engine::kFlite, Engine::kFestival};
  return all;
}

std::string EngineName(Engine e) {
  switch (e) {
    case Engine::kEspeak: return "espeak-ng";
    case Engine::kFlite: return "flite";
    case Engine::kFestival: return "festival";
  }
  return "?";
}

std::string EngineProgram(Engine e) { return EngineName(e); }

Engine ParseEngine(const std::string& name) {
  for (auto e : AllEngines())
    if (EngineName(e) == name) return e;
  if (name == "espeak") return Engine::kEspeak;
  throw UsageError("--engines: unknown engine '" + name + "' (espeak-ng, flite, festival)");
}

std::string FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) dir = ".";
    std::string full = dir + "/" + program;
    struct stat st;
    if (stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

std::string VoiceConfig::Describe() const {
  char buf[256];
  switch (engine) {
    case Engine::kEspeak:
      std::snprintf(buf, sizeof buf, "espeak-ng %s+%s s=%d p=%d warp=%.3f", voice.c_str(), variant.c_str(), rate,
                    pitch, warp);
      break;
    case Engine::kFlite:
      std::snprintf(buf, sizeof buf, "flite %s stretch=%.2f f0=%d warp=%.3f", voice.c_str(), stretch, pitch, warp);
      break;
    case Engine::kFestival:
      std::snprintf(buf, sizeof buf, "festival %s stretch=%.2f warp=%.3f", voice.c_str(), stretch, warp);
      break;
  }
  return buf;
}

std::string VoiceConfig::SpeakerId() const { return Sha1Hex(Describe()).substr(0, 8); }

const std::vector<std::string>& EspeakAccents() {
  // en-gb-x-rp (Received Pronunciation) left out: least like the real pool.
  static const std::vector<std::string> v = {"en-us", "en", "en-gb-scotland", "en-gb-x-gbclan",
                                             "en-gb-x-gbcwmd", "en-029", "en-us-nyc"};
  return v;
}

const std::vector<std::string>& EspeakVariants() {
  // From espeak-ng-data/voices/!v: human-sounding variants only. Left out:
  // whisper/whisperf/caleb (whispered), breathy ones with voicing < 45
  // (Annie, anika, Alicia, Denis, Hugo, ...), robots and heavy echo
  // (robosoft*, UniRobot, anikaRobot, RicishayMax*, announcer, Demonic),
  // croak, Tweaky, fast, zac (child pitch).
  static const std::vector<std::string> v = {
      "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
      "klatt", "klatt2", "klatt3", "klatt4", "klatt6", "Alex", "Andy", "Lee", "Mike", "Gene", "Gene2",
      "Jacky", "Mario", "Michael", "antonio", "aunty", "belinda", "linda", "steph", "steph2", "grandma",
      "grandpa", "gustave", "john", "norbert", "pedro", "quincy", "rob", "robert", "ed", "edward", "adam",
      "benjamin", "david", "marcelo", "max", "boris", "Andrea", "travis", "Nguyen", "iven3"};
  return v;
}

const std::vector<std::string>& FliteVoices() {
  // `kal` (8 kHz) and `awb_time` (limited domain: only says times) left out.
  static const std::vector<std::string> v = {"kal16", "awb", "rms", "slt"};
  return v;
}

const std::vector<std::string>& FestivalVoices() {
  static const std::vector<std::string> v = {"kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"};
  return v;
}

VoiceConfig RandomVoice(Engine engine, Rng& rng) {
  VoiceConfig v;
  v.engine = engine;
  switch (engine) {
    case Engine::kEspeak:
      v.voice = EspeakAccents()[rng.Below(EspeakAccents().size())];
      v.variant = EspeakVariants()[rng.Below(EspeakVariants().size())];
      v.rate = 125 + int(rng.Below(76));   // 125..200 wpm (default 175)
      v.pitch = 20 + int(rng.Below(61));   // 20..80 (default 50)
      v.warp = rng.Uniform(0.95, 1.05);
      break;
    case Engine::kFlite: {
      v.voice = FliteVoices()[rng.Below(FliteVoices().size())];
      v.stretch = rng.Uniform(0.85, 1.35);
      const bool female = v.voice == "slt";
      v.pitch = female ? 150 + int(rng.Below(81)) : 85 + int(rng.Below(56));  // F0 Hz
      v.warp = rng.Uniform(0.92, 1.08);
      break;
    }
    case Engine::kFestival:
      v.voice = FestivalVoices()[rng.Below(FestivalVoices().size())];
      v.stretch = rng.Uniform(0.85, 1.35);
      v.warp = rng.Uniform(0.9, 1.1);
      break;
  }
  // Round so that Describe() (and so the speaker id) captures the exact setting.
  v.warp = std::round(v.warp * 1000.0) / 1000.0;
  v.stretch = std::round(v.stretch * 100.0) / 100.0;
  return v;
}

int RunProgram(const std::vector<std::string>& argv, std::string* err) {
  if (argv.empty()) return -1;
  char errtmpl[] = "/tmp/kws-synth-err-XXXXXX";
  int errfd = mkstemp(errtmpl);
  if (errfd >= 0) unlink(errtmpl);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (errfd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, errfd, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  int result = -1;
  if (rc == 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  } else if (err) {
    *err = std::string("cannot start: ") + std::strerror(rc);
  }
  if (errfd >= 0) {
    if (err && rc == 0) {
      char buf[512];
      ssize_t n = pread(errfd, buf, sizeof buf - 1, 0);
      *err = n > 0 ? std::string(buf, size_t(n)) : "";
      while (!err->empty() && (err->back() == '\n' || err->back() == '\r')) err->pop_back();
    }
    close(errfd);
  }
  return result;
}

namespace {

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

void CheckOutput(const std::vector<std::string>& argv, int rc, const std::string& err, const std::string& wav) {
  std::error_code ec;
  if (rc != 0 || !std::filesystem::exists(wav, ec) || std::filesystem::file_size(wav, ec) <= 44)
    throw InternalError("`" + Join(argv) + "` failed (exit " + std::to_string(rc) + ")" +
                        (err.empty() ? "" : ": " + err));
}

}  // namespace

void SynthesizeToFile(const VoiceConfig& v, const std::string& word, const std::string& program,
                      const std::string& wav_path) {
  std::vector<std::string> argv;
  char num[64];
  switch (v.engine) {
    case Engine::kEspeak:
      argv = {program, "-v", v.voice + (v.variant.empty() ? "" : "+" + v.variant)};
      if (v.rate > 0) argv.insert(argv.end(), {"-s", std::to_string(v.rate)});
      if (v.pitch > 0) argv.insert(argv.end(), {"-p", std::to_string(v.pitch)});
      argv.insert(argv.end(), {"-w", wav_path, word});
      break;
    case Engine::kFlite:
      argv = {program, "-voice", v.voice};
      std::snprintf(num, sizeof num, "duration_stretch=%.2f", v.stretch);
      argv.insert(argv.end(), {"--setf", num});
      if (v.pitch > 0) argv.insert(argv.end(), {"--setf", "int_f0_target_mean=" + std::to_string(v.pitch)});
      argv.insert(argv.end(), {"-t", word, "-o", wav_path});
      break;
    case Engine::kFestival:
      FestivalBatch(program, v.voice, {{v.stretch, word, wav_path}}, wav_path + ".scm");
      return;
  }
  std::string err;
  int rc = RunProgram(argv, &err);
  CheckOutput(argv, rc, err, wav_path);
}

void FestivalBatch(const std::string& program, const std::string& voice, const std::vector<FestivalItem>& items,
                   const std::string& script_path) {
  if (items.empty()) return;
  {
    std::ofstream f(script_path);
    f << "(voice_" << voice << ")\n";
    char num[64];
    for (auto& it : items) {
      // Words are validated (letters, apostrophes, hyphens), so they are safe inside a string literal.
      std::snprintf(num, sizeof num, "%.2f", it.stretch);
      f << "(Parameter.set 'Duration_Stretch " << num << ")\n"
        << "(utt.save.wave (utt.synth (Utterance Text \"" << it.word << "\")) \"" << it.wav_path << "\" 'riff)\n";
    }
    if (!f) throw InternalError(script_path + ": cannot write festival script");
  }
  std::vector<std::string> argv = {program, "-b", script_path};
  std::string err;
  int rc = RunProgram(argv, &err);
  std::error_code ec;
  std::filesystem::remove(script_path, ec);
  for (auto& it : items) CheckOutput({program, "-b", "(voice_" + voice + ") \"" + it.word + "\""}, rc, err, it.wav_path);
}

}  // namespace kws::synth
