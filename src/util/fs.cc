#include "util/fs.h"

#include <openssl/evp.h>
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

void AtomicWriteStream(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = TempPathFor(path);
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw BadInput(path.string() + ": cannot write (" + std::strerror(errno) + ")");
      fill(out);
      out.flush();
      if (!out) throw BadInput(path.string() + ": write failed (" + std::strerror(errno) + ")");
    }
    fs::rename(tmp, path);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
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
