#include "support/command.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "audio/audio.h"
#include "util/fs.h"
#include "util/rng.h"

namespace kws_test {

std::string RunForOutput(const std::string& command, int* code) {
  std::string out;
  *code = -1;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
  const int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

CommandResult RunCommand(const std::string& command) {
  static std::atomic<int> n{0};
  const std::string err_file = (std::filesystem::temp_directory_path() /
                                ("kws_test_err_" + std::to_string(getpid()) + "_" + std::to_string(n++)))
                                   .string();
  CommandResult r;
  r.out = RunForOutput("(" + command + ") 2>" + err_file, &r.code);
  std::error_code ec;
  if (std::filesystem::exists(err_file, ec)) r.err = kws::ReadFile(err_file);
  std::filesystem::remove(err_file, ec);
  return r;
}

void WriteToneData(const std::string& dir, int speakers, int clips, unsigned seed) {
  namespace fsys = std::filesystem;
  kws::Rng rng(seed);
  for (const auto& [label, hz] : {std::pair{"low", 400.0}, std::pair{"high", 2500.0}}) {
    fsys::create_directories(fsys::path(dir) / label);
    for (int spk = 0; spk < speakers; ++spk)
      for (int i = 0; i < clips; ++i) {
        std::vector<float> s(16000);
        const double amp = rng.Uniform(0.1, 0.5), ph = rng.Uniform(0, 6.28);
        for (size_t t = 0; t < s.size(); ++t)
          s[t] = float(amp * std::sin(2 * M_PI * hz * double(t) / 16000 + ph) + 0.05 * rng.Normal());
        char name[64];
        std::snprintf(name, sizeof name, "spk%02d_nohash_%d.wav", spk, i);
        kws::WriteWav16((fsys::path(dir) / label / name).string(), s, 16000);
      }
  }
}

}  // namespace kws_test
