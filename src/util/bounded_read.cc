#include "util/bounded_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace kws {
namespace fs = std::filesystem;

namespace {

// "a config", "an audio file".
std::string A(const std::string& what) {
  return (!what.empty() && std::strchr("aeiou", what[0]) ? "an " : "a ") + what;
}

// "a FIFO", "a character device", ... for a stat mode that is not a regular file.
std::string KindOf(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "a special file";
}

void CheckRegular(const fs::path& path, const struct stat& st, const std::string& what) {
  if (S_ISREG(st.st_mode)) return;
  if (S_ISDIR(st.st_mode))
    throw BadInput(path.string() + ": is a directory, not " + A(what));
  throw BadInput(path.string() + ": " + KindOf(st.st_mode) + ", not a regular file (" + A(what) +
                 " must be a regular file; it is not read)");
}

std::string Mb(int64_t bytes) {
  const double mb = double(bytes) / double(1 << 20);
  char buf[32];
  std::snprintf(buf, sizeof buf, mb >= 10 || mb == double(int64_t(mb)) ? "%.0f" : "%.1f", mb);
  return buf;
}

void CheckSize(const fs::path& path, int64_t size, int64_t max_bytes, const std::string& what) {
  if (size <= max_bytes) return;
  throw BadInput(path.string() + ": " + std::to_string(size) + " bytes, over the " + Mb(max_bytes) +
                 " MB limit for " + A(what) + " (raise it with " + LimitVariable(what) + "=MB)");
}

// Opens a checked regular file without blocking (a FIFO swapped in after the check would block
// a plain open) and checks the descriptor again; returns the fd and its size.
int OpenRegular(const fs::path& path, const std::string& what, int64_t* size) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw BadInput(path.string() + ": no such file");
    throw BadInput(path.string() + ": cannot read (" + std::strerror(errno) + ")");
  }
  CheckRegular(path, st, what);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw BadInput(path.string() + ": cannot read (" + std::strerror(errno) + ")");
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    CheckRegular(path, st, what);
    throw BadInput(path.string() + ": cannot read (" + std::strerror(errno) + ")");
  }
  *size = int64_t(st.st_size);
  return fd;
}

// Reads up to n bytes; fewer only at end of file.
std::string ReadUpTo(int fd, const fs::path& path, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t k = ::read(fd, out.data() + got, n - got);
    if (k == 0) break;
    if (k < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw BadInput(path.string() + ": read error (" + std::strerror(err) + ")");
    }
    got += size_t(k);
  }
  out.resize(got);
  return out;
}

int64_t EnvMb(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  errno = 0;
  const double mb = std::strtod(v, &end);
  if (*end != 0 || errno || !(mb > 0) || mb > 1e9)
    throw UsageError(std::string(name) + "=" + v + ": must be a positive number of MB");
  return int64_t(mb * double(1 << 20));
}

}  // namespace

InputLimits InputLimits::FromEnvironment() {
  InputLimits l;
  l.model_bytes = EnvMb("KWS_MAX_MODEL_MB", l.model_bytes);
  l.config_bytes = EnvMb("KWS_MAX_CONFIG_MB", l.config_bytes);
  l.clip_bytes = EnvMb("KWS_MAX_CLIP_MB", l.clip_bytes);
  l.raw_bytes = EnvMb("KWS_MAX_RAW_MB", l.raw_bytes);
  return l;
}

const InputLimits& Limits() {
  static const InputLimits l = InputLimits::FromEnvironment();
  return l;
}

std::string LimitVariable(const std::string& what) {
  if (what == "model" || what == "checkpoint") return "KWS_MAX_MODEL_MB";
  if (what == "clip" || what == "audio file") return "KWS_MAX_CLIP_MB";
  if (what == "raw input") return "KWS_MAX_RAW_MB";
  return "KWS_MAX_CONFIG_MB";
}

int64_t RegularFileSize(const fs::path& path, const std::string& what) {
  int64_t size = 0;
  ::close(OpenRegular(path, what, &size));
  return size;
}

std::string ReadFileLimited(const fs::path& path, int64_t max_bytes, const std::string& what) {
  int64_t size = 0;
  const int fd = OpenRegular(path, what, &size);
  try {
    CheckSize(path, size, max_bytes, what);
  } catch (...) {
    ::close(fd);
    throw;
  }
  std::string bytes = ReadUpTo(fd, path, size_t(size));
  ::close(fd);
  return bytes;
}

std::string ReadFileHead(const fs::path& path, size_t n, const std::string& what) {
  int64_t size = 0;
  const int fd = OpenRegular(path, what, &size);
  std::string bytes = ReadUpTo(fd, path, n);
  ::close(fd);
  return bytes;
}

std::string ReadFileChecked(const fs::path& path, int64_t max_bytes, const std::string& what, size_t head,
                            const std::function<void(const std::string&)>& check) {
  check(ReadFileHead(path, head, what));
  return ReadFileLimited(path, max_bytes, what);
}

std::string ReadTfliteFile(const fs::path& path) {
  // The same words as the runtime's loader (runtime/interpreter.cc) for the same problems.
  return ReadFileChecked(path, Limits().model_bytes, "model", 8, [&](const std::string& head) {
    if (head.size() < 8)
      throw BadInput(path.string() + ": too small to be a .tflite file (" + std::to_string(head.size()) + " bytes)");
    if (head.compare(4, 4, "TFL3") != 0)
      throw BadInput(path.string() + ": not a .tflite file (FlatBuffer identifier is not \"TFL3\")");
  });
}

}  // namespace kws
