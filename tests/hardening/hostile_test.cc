// Hostile and odd inputs through the real binary: special files (/dev/zero, FIFOs) as models,
// configs, clips and raw inputs; 3 GB sparse files; huge and lying headers; unwritable and wrong
// outputs; terminal escapes in a model's labels; bad flag values. Each case must end (a watchdog
// kills a hang and fails it), stay under 200 MB, print one line naming the file and the problem,
// exit with the documented code, and leave nothing in --out or in TMPDIR.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "audio/audio.h"
#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "tflite/metadata.h"
#include "util/fs.h"
#include "util/rng.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code = -1;          // exit code, or -1 when killed
  std::string out, err;
  long max_rss_kb = 0;
  bool hung = false;
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> v;
  size_t a = 0;
  while (a < s.size()) {
    size_t b = s.find(' ', a);
    if (b == std::string::npos) b = s.size();
    if (b > a) v.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return v;
}

// Runs kws with `args` (split on spaces), stdin from /dev/null, stdout/stderr captured; a
// watchdog kills it after `limit_s` (a hang, not a timing: the cases end in well under a second).
Outcome RunKws(const std::string& args, const fs::path& dir, int limit_s = 120) {
  std::vector<std::string> argv_s = {KWS_BINARY};
  for (auto& a : Split(args)) argv_s.push_back(a);
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_f = (dir / "stdout.txt").string(), err_f = (dir / "stderr.txt").string();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_f.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_f.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  Outcome o;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return o;
  posix_spawn_file_actions_destroy(&fa);
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  rusage ru{};
  for (;;) {
    const pid_t r = wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(limit_s)) {
      kill(pid, SIGKILL);
      wait4(pid, &status, 0, &ru);
      o.hung = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  o.code = !o.hung && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.max_rss_kb = ru.ru_maxrss;
  o.out = kws::ReadFile(out_f);
  o.err = kws::ReadFile(err_f);
  return o;
}

int Lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A file of `size` bytes that takes no disk space (all holes) after `head`.
void Sparse(const fs::path& p, const std::string& head, int64_t size) {
  kws::AtomicWriteFile(p, head);
  ASSERT_EQ(::truncate(p.c_str(), off_t(size)), 0);
}

std::string Le32(uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xFF));
  return s;
}

// A 16-bit mono WAV header with the given RIFF and data sizes, then `samples` samples of a tone.
std::string Wav(uint32_t riff, uint32_t data, int samples) {
  std::string b = "RIFF" + Le32(riff) + "WAVEfmt " + Le32(16);
  b += std::string("\x01\x00\x01\x00", 4) + Le32(16000) + Le32(32000) + std::string("\x02\x00\x10\x00", 4);
  b += "data" + Le32(data);
  for (int i = 0; i < samples; ++i) {
    const int16_t v = int16_t(8000 * std::sin(2 * M_PI * 440.0 * i / 16000));
    b.push_back(char(v & 0xFF));
    b.push_back(char((v >> 8) & 0xFF));
  }
  return b;
}

// A float model with kws metadata whose labels / feature settings are given.
std::string ModelWith(const std::vector<std::string>& labels, const kws::FeatureOptions& features = {}) {
  kws::ir::SyntheticOptions so;
  so.classes = int(labels.size());
  kws::ir::Graph g = kws::ir::MakeSyntheticGraph(so);
  kws::ExportOptions eo;
  kws::tfl::KwsMetadata md;
  md.labels = labels;
  md.features = features;
  eo.metadata = md;
  return kws::ExportTflite(g, eo);
}

class Hostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("kws_hostile_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "tmp");
    fs::create_directories(root_ / "run");
    // Children get their own TMPDIR (checked empty after every case) and cache.
    ::setenv("TMPDIR", (root_ / "tmp").c_str(), 1);
    ::setenv("KWS_CACHE_DIR", (root_ / "cache").c_str(), 1);
    ::unsetenv("KWS_MAX_MODEL_MB");
    ::unsetenv("KWS_MAX_CLIP_MB");
    ::unsetenv("KWS_MAX_CONFIG_MB");
    // Data: two tones, four speakers; a FIFO named like a clip in one label folder.
    kws::Rng rng(3);
    for (const auto& [label, hz] : {std::pair{"low", 400.0}, std::pair{"high", 2500.0}})
      for (int spk = 0; spk < 4; ++spk)
        for (int i = 0; i < 2; ++i) {
          std::vector<float> s(16000);
          for (size_t t = 0; t < s.size(); ++t)
            s[t] = float(0.3 * std::sin(2 * M_PI * hz * double(t) / 16000) + 0.02 * rng.Normal());
          kws::WriteWav16((root_ / "data" / label / ("s" + std::to_string(spk) + "_nohash_" + std::to_string(i) + ".wav"))
                              .string(),
                          s, 16000);
        }
    ASSERT_EQ(::mkfifo((root_ / "data" / "low" / "s9_nohash_0.wav").c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo((root_ / "fifo.tflite").c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo((root_ / "fifo.toml").c_str(), 0600), 0);
    ASSERT_EQ(::mkfifo((root_ / "fifo.wav").c_str(), 0600), 0);
    kws::AtomicWriteFile(root_ / "clip.wav", Wav(36 + 32000, 32000, 16000));
    kws::AtomicWriteFile(root_ / "long.wav", Wav(36 + 9 * 32000, 9 * 32000, 9 * 16000));
    kws::AtomicWriteFile(root_ / "model.tflite", ModelWith({"_silence_", "_unknown_", "yes", "no"}));
    kws::AtomicWriteFile(root_ / "config.toml", kws::ReadFile(fs::path(KWS_SOURCE_DIR) / "configs" / "seed.toml"));
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override { fs::create_directories(root_ / "case"); }
  void TearDown() override { fs::remove_all(root_ / "case"); }

  // Runs a refused command: `code`, one stderr line holding `needle`, bounded memory, nothing left
  // at `out` (when given) or in TMPDIR.
  void ExpectRefused(const std::string& args, int code, const std::string& needle, const std::string& out = "") {
    SCOPED_TRACE(args);
    const Outcome o = RunKws(args, root_ / "case");
    EXPECT_FALSE(o.hung) << "hung";
    EXPECT_EQ(o.code, code) << o.err;
    EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
    EXPECT_EQ(Lines(o.err), 1) << "one line: " << o.err;
    EXPECT_LT(o.max_rss_kb, 200 * 1024) << "peak memory";
    if (!out.empty()) EXPECT_FALSE(fs::exists(out)) << out << " left behind";
    EXPECT_TRUE(fs::is_empty(root_ / "tmp")) << "left in TMPDIR: " << fs::directory_iterator(root_ / "tmp")->path();
  }
  static std::string R(const std::string& f) { return (root_ / f).string(); }
  static fs::path root_;
};
fs::path Hostile::root_;

TEST_F(Hostile, SpecialFilesAreRefusedAtOnceByKind) {
  ExpectRefused("infer --model /dev/zero " + R("clip.wav"), 2, "/dev/zero: a character device, not a regular file");
  ExpectRefused("train --config /dev/zero --data " + R("data") + " --out " + R("case/o"), 2,
                "/dev/zero: a character device, not a regular file", R("case/o"));
  ExpectRefused("invoke --model " + R("model.tflite") + " --input-raw /dev/zero", 2,
                "/dev/zero: a character device, not a regular file");
  ExpectRefused("infer --model " + R("fifo.tflite") + " " + R("clip.wav"), 2, "fifo.tflite: a FIFO (named pipe)");
  ExpectRefused("invoke --model " + R("fifo.tflite") + " --info", 2, "fifo.tflite: a FIFO (named pipe)");
  ExpectRefused("bench --model " + R("fifo.tflite"), 2, "fifo.tflite: a FIFO (named pipe)");
  ExpectRefused("eval --model " + R("fifo.tflite") + " --data " + R("data"), 2, "fifo.tflite: a FIFO (named pipe)");
  ExpectRefused("listen --model " + R("fifo.tflite"), 2, "fifo.tflite: a FIFO (named pipe)");
  ExpectRefused("train --config " + R("fifo.toml") + " --data " + R("data") + " --out " + R("case/o"), 2,
                "fifo.toml: a FIFO (named pipe)", R("case/o"));
  ExpectRefused("features --config " + R("fifo.toml") + " " + R("clip.wav"), 2, "fifo.toml: a FIFO (named pipe)");
  ExpectRefused("infer --model " + R("model.tflite") + " " + R("fifo.wav"), 2, "fifo.wav: a FIFO (named pipe)");
  ExpectRefused("features /dev/zero", 2, "/dev/zero: a character device");
  ExpectRefused("listen --model " + R("model.tflite") + " --input /dev/zero", 2, "/dev/zero: a character device");
  ExpectRefused("export --model /dev/zero --quant float --out " + R("case/m.tflite"), 2, "/dev/zero",
                R("case/m.tflite"));
  ExpectRefused("data stats /dev/zero", 2, "/dev/zero");
}

// A FIFO named like a clip inside a label folder is skipped with its reason, never opened.
TEST_F(Hostile, FifoInALabelFolderIsSkippedNotWaitedFor) {
  const Outcome o = RunKws("data stats " + R("data"), root_ / "case");
  EXPECT_FALSE(o.hung);
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("s9_nohash_0.wav"), std::string::npos) << o.out;
}

TEST_F(Hostile, HugeSparseFilesAreRefusedBeforeReading) {
  const int64_t three_gb = int64_t(3) << 30;
  Sparse(root_ / "case" / "zeros.tflite", "", three_gb);
  ExpectRefused("infer --model " + R("case/zeros.tflite") + " " + R("clip.wav"), 2,
                "zeros.tflite: not a .tflite file (FlatBuffer identifier is not \"TFL3\")");
  ExpectRefused("invoke --model " + R("case/zeros.tflite") + " --info", 2, "zeros.tflite: not a .tflite file");
  Sparse(root_ / "case" / "big.tflite", std::string("\x1c\x00\x00\x00TFL3", 8), three_gb);
  ExpectRefused("infer --model " + R("case/big.tflite") + " " + R("clip.wav"), 2,
                "big.tflite: 3221225472 bytes, over the 256 MB limit for a model (raise it with KWS_MAX_MODEL_MB=MB)");
  Sparse(root_ / "case" / "big.wav", Wav(0xFFFFFFFF, 0xFFFFFFFF, 0), three_gb);
  ExpectRefused("infer --model " + R("model.tflite") + " " + R("case/big.wav"), 2,
                "big.wav: 3221225472 bytes, over the 32 MB limit for an audio file");
  Sparse(root_ / "case" / "big.toml", "", three_gb);
  ExpectRefused("train --config " + R("case/big.toml") + " --data " + R("data") + " --out " + R("case/o"), 2,
                "big.toml: 3221225472 bytes, over the 4 MB limit for a config", R("case/o"));
  Sparse(root_ / "case" / "big.ckpt", "KWSCKPT", three_gb);  // 7 bytes + NUL from the hole: the magic
  ExpectRefused("export --model " + R("case/big.ckpt") + " --quant float --out " + R("case/m.tflite"), 2,
                "big.ckpt: 3221225472 bytes, over the 256 MB limit for a checkpoint", R("case/m.tflite"));
}

TEST_F(Hostile, LyingHeadersAreNamed) {
  // A data chunk claiming 4 GB - 2 of a 1 s file: a truncation.
  kws::AtomicWriteFile(root_ / "case" / "claims.wav", Wav(0xFFFFFFF0, 0xFFFFFFFE, 16000));
  ExpectRefused("infer --model " + R("model.tflite") + " " + R("case/claims.wav"), 2, "claims.wav: truncated");
  // A chunk before "data" claiming 4 GB.
  std::string b = Wav(36 + 32000, 32000, 16000);
  b.insert(12, "LIST" + Le32(0xFFFFFFF0));
  kws::AtomicWriteFile(root_ / "case" / "list.wav", b);
  ExpectRefused("infer --model " + R("model.tflite") + " " + R("case/list.wav"), 2, "list.wav: truncated WAV header");
  // A config line of a megabyte, and an array nested a thousand deep.
  kws::AtomicWriteFile(root_ / "case" / "long.toml", "[train]\nepochs = " + std::string(1 << 20, '9') + "\n");
  ExpectRefused("train --config " + R("case/long.toml") + " --data " + R("data") + " --out " + R("case/o"), 1,
                "long.toml", R("case/o"));
  kws::AtomicWriteFile(root_ / "case" / "deep.toml", "x = " + std::string(1000, '[') + std::string(1000, ']') + "\n");
  ExpectRefused("train --config " + R("case/deep.toml") + " --data " + R("data") + " --out " + R("case/o"), 1,
                "deep.toml", R("case/o"));
}

// "arecord ... > file.wav" writes a placeholder length: such a file is read like any other.
TEST_F(Hostile, StreamedWavHeaderIsAccepted) {
  kws::AtomicWriteFile(root_ / "case" / "rec.wav", Wav(0x80000024, 0x80000000, 16000));
  const Outcome a = RunKws("infer --json --model " + R("model.tflite") + " " + R("case/rec.wav"), root_ / "case");
  const std::string streamed = a.out;
  EXPECT_EQ(a.code, 0) << a.err;
  const Outcome b = RunKws("infer --json --model " + R("model.tflite") + " " + R("clip.wav"), root_ / "case");
  EXPECT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(streamed.substr(streamed.find("\"label\"")), b.out.substr(b.out.find("\"label\"")));
}

TEST_F(Hostile, OutputsThatCannotBeWrittenAreNamedUpFront) {
  // sysfs: nothing can be created there, even by root (permission bits would not stop root).
  ExpectRefused("train --config " + R("config.toml") + " --data " + R("data") + " --out /sys/kws_out", 2,
                "--out /sys/kws_out: cannot write in /sys");
  ExpectRefused("data synth --words yes --per-word 2 --out /sys/kws_synth", 2, "--out /sys/kws_synth: cannot write in /sys");
  fs::create_directories(root_ / "case" / "adir");
  ExpectRefused("export --model " + R("run") + " --quant float --out " + R("case/adir"), 1,
                "--out " + R("case/adir") + ": is a directory; give a file name");
  kws::AtomicWriteFile(root_ / "case" / "afile", "x");
  ExpectRefused("train --config " + R("config.toml") + " --data " + R("data") + " --out " + R("case/afile"), 1,
                "--out " + R("case/afile") + ": exists and is not a folder");
  EXPECT_EQ(kws::ReadFile(root_ / "case" / "afile"), "x");
  ExpectRefused("train --config " + R("config.toml") + " --data " + R("data") + " --out " + R("case/afile/run"), 2,
                "is not a folder");
}

TEST_F(Hostile, BadFlagValuesAreBlamedOnTheFlag) {
  const std::string base = "train --config " + R("config.toml") + " --data " + R("data") + " --out " + R("case/o");
  ExpectRefused(base + " --set train.epochs=-1", 1, "--set train.epochs=-1: ", R("case/o"));
  ExpectRefused(base + " --set train.batch_size=99999999999999999999", 1, "--set train.batch_size", R("case/o"));
  ExpectRefused("-j -1 data stats " + R("data"), 1, "--threads: -1: must be from 0 to 1024 (0 = all cores)");
  ExpectRefused("-j 100000 data stats " + R("data"), 1, "must be from 0 to 1024");
  ExpectRefused(base + " --cv -2", 1, "--cv: -2: must be 0 or more (0 = no cross-validation)");
  const Outcome o = RunKws("-j -1 data stats " + R("data"), root_ / "case");
  EXPECT_EQ(o.err.find("e+308"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("1797693"), std::string::npos) << o.err;
}

// Labels are text from the file: escapes and newlines in them are shown, not obeyed.
TEST_F(Hostile, TerminalEscapesInModelLabelsAreShownNotObeyed) {
  kws::AtomicWriteFile(root_ / "case" / "evil.tflite",
                       ModelWith({"yes\x1b[2J\x1b[H", "no\nkws: all tests passed", "\xc2\x9b" "31m", "\xe2\x80\xae" "sey"}));
  for (const std::string args : {"infer --model " + R("case/evil.tflite") + " " + R("clip.wav"),
                                 "invoke --info --model " + R("case/evil.tflite")}) {
    SCOPED_TRACE(args);
    const Outcome o = RunKws(args, root_ / "case");
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_EQ(o.out.find('\x1b'), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("\xc2\x9b"), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("\xe2\x80\xae"), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("\nkws: all tests passed"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("yes\\x1b[2J\\x1b[H"), std::string::npos) << o.out;
  }
  const Outcome o = RunKws("infer --model " + R("case/evil.tflite") + " " + R("clip.wav"), root_ / "case");
  EXPECT_EQ(Lines(o.out), 2) << o.out;  // the header and one clip
}

TEST_F(Hostile, BadFeatureSettingsInAModelAreNamedByEveryCommand) {
  kws::FeatureOptions f;
  f.upper_hz = 12000;  // above the 8 kHz Nyquist frequency of 16 kHz audio
  kws::AtomicWriteFile(root_ / "case" / "badfx.tflite", ModelWith({"yes", "no", "a", "b"}, f));
  const std::string needle = "badfx.tflite: kws metadata has invalid feature settings: features: upper_hz (12000) must be";
  ExpectRefused("listen --model " + R("case/badfx.tflite"), 2, needle);
  ExpectRefused("infer --model " + R("case/badfx.tflite") + " " + R("clip.wav"), 2, needle);
  ExpectRefused("eval --model " + R("case/badfx.tflite") + " --data " + R("data"), 2, needle);
}

TEST_F(Hostile, LongFileWarnsThatOnlyItsFirstWindowIsClassified) {
  const Outcome o = RunKws("infer --model " + R("model.tflite") + " " + R("long.wav"), root_ / "case");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.err.find("long.wav: 9.0 s long; only its first 1 s is classified (--all-windows"), std::string::npos)
      << o.err;
  const Outcome all = RunKws("infer --all-windows --model " + R("model.tflite") + " " + R("long.wav"), root_ / "case");
  EXPECT_EQ(all.err, "");
}

}  // namespace
