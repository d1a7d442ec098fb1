// kws::Error — the one exception type the library throws.
//
// The library never exits and never prints; it throws kws::Error with a kind
// that maps to the CLI's documented exit codes, and a message that names the
// file (or setting) and the problem, e.g.
//   "clip.wav: truncated WAV header (12 of 44 bytes)".
#pragma once
#include <stdexcept>
#include <string>

namespace kws {

enum class ErrorKind {
  kUsage = 1,     // bad flags / arguments / config values the user typed
  kBadInput = 2,  // a file or folder that cannot be used (corrupt, missing, wrong shape)
  kInternal = 3,  // a bug or an environment failure (out of memory, disk full)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return static_cast<int>(kind_); }

 private:
  ErrorKind kind_;
};

// Shorthands: throw BadInput(path + ": not a WAV file");
inline Error UsageError(const std::string& m) { return Error(ErrorKind::kUsage, m); }
inline Error BadInput(const std::string& m) { return Error(ErrorKind::kBadInput, m); }
inline Error InternalError(const std::string& m) { return Error(ErrorKind::kInternal, m); }

}  // namespace kws
