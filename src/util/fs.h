// File helpers. Every file kws writes goes through AtomicWrite*: the bytes go
// to "<path>.tmp.<pid>" first and are renamed over <path> only once complete,
// so a crash or an error never leaves a half-written output behind.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kws {

// Writes `bytes` to `path` atomically (temp file + fsync + rename).
// Creates missing parent folders. Throws kws::Error naming the path on failure.
void AtomicWriteFile(const std::filesystem::path& path, std::string_view bytes);

// Streams into a temporary file via `fill`, then renames it over `path`.
// If `fill` throws, the temporary is removed and the exception propagates.
void AtomicWriteStream(const std::filesystem::path& path, const std::function<void(std::ostream&)>& fill);

// Reads a whole regular file (a FIFO or device is refused, never read); throws
// BadInput("<path>: cannot read (reason)") on failure. No size limit: files from outside kws
// go through util/bounded_read.h's ReadFileLimited instead.
std::string ReadFile(const std::filesystem::path& path);
std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);

// Hex SHA-1 / SHA-256 (OpenSSL) of a byte string.
std::string Sha1Hex(std::string_view bytes);
std::string Sha256Hex(std::string_view bytes);

}  // namespace kws
