// Running the kws binary (or any shell command) from a test: exit code, stdout and stderr apart.
// The CLI tests of several folders share it instead of each carrying its own popen loop.
#pragma once
#include <string>

namespace kws_test {

struct CommandResult {
  int code = -1;        // exit status; -1 when the command did not exit normally (killed by a signal)
  std::string out, err;  // everything it wrote on stdout and on stderr
};

// `sh -c COMMAND`: its stdout, and its exit code in *code (-1 when it did not exit normally); its stderr
// passes through to the test's own (where a failing reference tool's message is seen).
std::string RunForOutput(const std::string& command, int* code);

// `sh -c COMMAND`, stdout and stderr captured (stderr through a temporary file, removed after).
CommandResult RunCommand(const std::string& command);

// Tone data the CLI tests train on: "low" (400 Hz) and "high" (2500 Hz) tones with noise and a random
// phase and level, `speakers` speakers x `clips` clips per label (spkNN_nohash_I.wav), seeded.
void WriteToneData(const std::string& dir, int speakers = 8, int clips = 4, unsigned seed = 5);

}  // namespace kws_test
