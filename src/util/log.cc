#include "util/log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdlib>
#include <string>

#include "util/text.h"

namespace kws {
namespace {
Verbosity g_verbosity = Verbosity::kNormal;

// One line: what is formatted in comes from files too (labels, paths), so it is escaped.
void VLog(const char* prefix, const char* fmt, va_list ap) {
  const std::string text = VStrFormat(fmt, ap);
  std::fprintf(stderr, "%s%s\n", prefix, Printable(text).c_str());
}

std::string FormatSeconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) / 60) % 60);
  return buf;
}
}  // namespace

void SetVerbosity(Verbosity v) { g_verbosity = v; }
Verbosity GetVerbosity() { return g_verbosity; }
bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void LogInfo(const char* fmt, ...) {
  if (g_verbosity < Verbosity::kNormal) return;
  va_list ap; va_start(ap, fmt); VLog("", fmt, ap); va_end(ap);
}
void LogVerbose(const char* fmt, ...) {
  if (g_verbosity < Verbosity::kVerbose) return;
  va_list ap; va_start(ap, fmt); VLog("", fmt, ap); va_end(ap);
}
void LogWarn(const char* fmt, ...) {
  va_list ap; va_start(ap, fmt); VLog("warning: ", fmt, ap); va_end(ap);
}

Progress::Progress(std::string label, long total)
    : label_(std::move(label)), total_(total > 0 ? total : 1), tty_(StderrIsTerminal()) {
  const char* ci = std::getenv("CI");
  enabled_ = g_verbosity >= Verbosity::kNormal && (tty_ || !(ci && *ci));
  start_ = last_draw_ = std::chrono::steady_clock::now();
}
Progress::~Progress() { Done(); }

void Progress::Tick(long n) { Set(done_ + n); }
void Progress::Set(long done) { done_ = done; Draw(false); }
void Progress::Status(const std::string& text) { status_ = text; Draw(false); }

void Progress::Draw(bool force) {
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double frac = std::min(1.0, double(done_) / double(total_));
  if (tty_) {
    if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 28;
    int filled = int(frac * width);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    std::fprintf(stderr, "\r\033[K%s [%s] %ld/%ld %s ETA %s %s", label_.c_str(), bar.c_str(), done_, total_,
                 FormatSeconds(elapsed).c_str(), FormatSeconds(eta).c_str(), status_.c_str());
    std::fflush(stderr);
  } else {
    // In a pipe or a log file a phase gets one line when it ends, and on long phases one more
    // per tenth of the work at most every 30 s.
    int pct = int(frac * 100);
    if (!force && (pct / 10 == last_plain_pct_ / 10 || now - last_draw_ < std::chrono::seconds(30))) return;
    last_draw_ = now;
    if (force && done_ == last_plain_done_ && status_ == last_plain_status_) return;
    last_plain_pct_ = pct;
    last_plain_done_ = done_;
    last_plain_status_ = status_;
    std::fprintf(stderr, "%s: %ld/%ld (%d%%) %s %s\n", label_.c_str(), done_, total_, pct,
                 FormatSeconds(elapsed).c_str(), status_.c_str());
  }
}

void Progress::Done() {
  if (finished_) return;
  if (enabled_) {
    Draw(true);
    if (tty_) std::fputc('\n', stderr);
  }
  finished_ = true;
}

}  // namespace kws
