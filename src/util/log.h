// Console output policy, shared by every command.
//
//  * Results go to stdout (tables, or JSON with --json); everything else to stderr.
//  * Progress: a redrawn bar with ETA when stderr is a terminal; when piped, one
//    plain line when a phase ends (and, on phases longer than 30 s, a line per tenth
//    of the work at most every 30 s); nothing at all with --quiet or when CI is set.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace kws {

enum class Verbosity { kQuiet = 0, kNormal = 1, kVerbose = 2 };

void SetVerbosity(Verbosity v);
Verbosity GetVerbosity();
bool StderrIsTerminal();

// printf-style messages to stderr, filtered by verbosity.
void LogInfo(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogVerbose(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogWarn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Progress over `total` units of work.
//   Progress p("features", n); for (...) { ...; p.Tick(); }  p.Done();
// Status() sets a short trailing text (e.g. "loss 0.213 acc 97.1%").
class Progress {
 public:
  Progress(std::string label, long total);
  ~Progress();
  void Tick(long n = 1);
  void Set(long done);
  void Status(const std::string& text);
  void Done();

 private:
  void Draw(bool force);
  std::string label_, status_;
  long total_, done_ = 0;
  bool tty_, enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_plain_pct_ = -1;
  long last_plain_done_ = -1;      // what the last plain line showed (Done() does not repeat it)
  std::string last_plain_status_;
};

}  // namespace kws
