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

// Checks, before any work is done, that a command can write `path` as a file or a folder, so a
// bad --out fails at once with the flag, the path and the OS's reason instead of after minutes of
// work or with a message about some file inside it:
//   UsageError  "--out x: is a directory; give a file name (e.g. x/model.tflite)"   (kFile)
//               "--out x: exists and is not a folder"                              (kFolder)
//   BadInput    "--out f/run: f is not a folder"
//   BadInput    "--out /ro/run: cannot write in /ro (Read-only file system)"
// Writability is probed by creating and removing a file in the nearest existing folder (permission
// bits do not tell for root or read-only mounts). Nothing is created or left behind.
enum class OutputKind { kFile, kFolder };
void CheckOutputPath(const std::filesystem::path& path, OutputKind kind, const std::string& flag);

// Temporaries a killed kws (kill -9, power loss) left behind: entries of `dir` named
// "<prefix>...tmp.<pid>" (AtomicWrite*'s files, the synth cache's folders being built, scratch
// folders) whose process no longer runs are removed (files or folders). Entries of running
// processes, including this one, are kept, and so is anything not starting with `prefix` (in a
// shared folder such as /tmp, give kws's own prefix). Returns how many went.
int RemoveStaleTemporaries(const std::filesystem::path& dir, const std::string& prefix = "");
// The pid a temporary's name ends with (".tmp.123" -> 123), or 0 when it has none.
int TemporaryOwner(const std::string& name);
// True when a process with this pid exists (kill(pid, 0)).
bool ProcessAlive(int pid);

// Hex SHA-1 / SHA-256 (OpenSSL) of a byte string.
std::string Sha1Hex(std::string_view bytes);
std::string Sha256Hex(std::string_view bytes);

}  // namespace kws
