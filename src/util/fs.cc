#include "util/fs.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/bounded_read.h"
#include "util/error.h"

namespace kws {
namespace fs = std::filesystem;

namespace {
fs::path TempPathFor(const fs::path& path) {
  return fs::path(path.string() + ".tmp." + std::to_string(::getpid()));
}

std::string DigestHex(const EVP_MD* md, std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr) != 1)
    throw InternalError("OpenSSL digest failed");
  static const char* hex = "0123456789abcdef";
  std::string s(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    s[2 * i] = hex[out[i] >> 4];
    s[2 * i + 1] = hex[out[i] & 15];
  }
  return s;
}
}  // namespace

// A failed write: disk full is the environment's problem (internal), anything else the path's.
Error WriteError(const fs::path& path, const std::string& what, int err) {
  const std::string m = path.string() + ": " + what + " (" + std::strerror(err) + ")";
  if (err == ENOSPC || err == EDQUOT) return InternalError(m);
  return BadInput(m);
}

void AtomicWriteStream(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
  std::error_code ec;
  if (path.has_parent_path() && !fs::is_directory(path.parent_path(), ec)) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw WriteError(path.parent_path(), "cannot create the folder", ec.value());
  }
  if (fs::is_directory(path, ec)) throw BadInput(path.string() + ": is a directory, cannot write a file there");
  const fs::path tmp = TempPathFor(path);
  try {
    {
      errno = 0;
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw WriteError(path, "cannot write", errno ? errno : EIO);
      fill(out);
      out.flush();
      if (!out) throw WriteError(path, "write failed", errno ? errno : EIO);
    }
    fs::rename(tmp, path, ec);
    if (ec) throw WriteError(path, "cannot write", ec.value());
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

void CheckOutputPath(const fs::path& path, OutputKind kind, const std::string& flag) {
  const std::string what = flag + " " + path.string();
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  fs::path dir;  // the folder a file must be created in
  if (fs::exists(st)) {
    if (kind == OutputKind::kFile && fs::is_directory(st))
      throw UsageError(what + ": is a directory; give a file name (e.g. " + (path / "model.tflite").string() + ")");
    if (kind == OutputKind::kFolder && !fs::is_directory(st)) throw UsageError(what + ": exists and is not a folder");
    if (kind == OutputKind::kFile && !fs::is_regular_file(st))
      throw UsageError(what + ": exists and is not a regular file");
    dir = kind == OutputKind::kFolder ? path : (path.has_parent_path() ? path.parent_path() : fs::path("."));
  } else {
    // The nearest existing ancestor: the folders below it are created when the output is written.
    dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    while (!fs::exists(dir, ec) && dir.has_parent_path() && dir != dir.parent_path()) dir = dir.parent_path();
    if (!fs::exists(dir, ec)) dir = ".";
    if (!fs::is_directory(dir, ec)) throw BadInput(what + ": " + dir.string() + " is not a folder");
  }
  const fs::path probe = dir / (".kws-write-test." + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) return;  // another kws of this pid? cannot be; the folder is writable
    throw BadInput(what + ": cannot write in " + dir.string() + " (" + std::strerror(err) + ")");
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

int TemporaryOwner(const std::string& name) {
  const std::string marker = ".tmp.";
  const size_t at = name.rfind(marker);
  if (at == std::string::npos) return 0;
  const std::string digits = name.substr(at + marker.size());
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoi(digits);
}

bool ProcessAlive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

int RemoveStaleTemporaries(const fs::path& dir, const std::string& prefix) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const int pid = TemporaryOwner(name);
    if (pid <= 0 || pid == ::getpid() || ProcessAlive(pid)) continue;
    std::error_code rec;
    if (fs::remove_all(it->path(), rec) > 0 && !rec) ++removed;
  }
  return removed;
}

void AtomicWriteFile(const fs::path& path, std::string_view bytes) {
  AtomicWriteStream(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

std::string ReadFile(const fs::path& path) {
  // Regular files only, never blocking on a FIFO or device (util/bounded_read.h); no size limit.
  return ReadFileLimited(path, INT64_MAX, "file");
}

std::vector<uint8_t> ReadFileBytes(const fs::path& path) {
  std::string s = ReadFile(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::string Sha1Hex(std::string_view bytes) { return DigestHex(EVP_sha1(), bytes); }
std::string Sha256Hex(std::string_view bytes) { return DigestHex(EVP_sha256(), bytes); }

}  // namespace kws
