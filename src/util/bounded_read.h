// Bounded reading of the files kws reads whole (models, checkpoints, configs, clips, raw inputs).
//
//   std::string bytes = kws::ReadFileLimited("run.toml", kws::Limits().config_bytes, "config");
//   std::string model = kws::ReadTfliteFile("model.tflite");   // identifier checked from 8 bytes first
//
// Every reader here
//   * accepts only regular files (after following symlinks): a FIFO, device or socket is refused
//     with its kind ("x.wav: a FIFO, not a regular file") and is never opened for reading, so it
//     cannot block or stream forever (/dev/zero);
//   * checks the size before reading: a file over its limit is refused with the size and how to
//     raise the limit, so memory stays bounded whatever the file claims;
//   * opens with O_NONBLOCK and re-checks the open descriptor (a file swapped for a FIFO between
//     the check and the open is refused too), and reads at most the size it checked.
// Failures are kws::BadInput naming the file and the problem.
//
// Limits (bytes) default to generous values for their kind and can be raised or lowered through
// the environment, in MB: KWS_MAX_MODEL_MB, KWS_MAX_CONFIG_MB, KWS_MAX_CLIP_MB, KWS_MAX_RAW_MB.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace kws {

struct InputLimits {
  int64_t model_bytes = int64_t(256) << 20;   // .tflite, .ckpt            (KWS_MAX_MODEL_MB)
  int64_t config_bytes = int64_t(4) << 20;    // .toml, JSON manifests     (KWS_MAX_CONFIG_MB)
  int64_t clip_bytes = int64_t(32) << 20;     // an audio file read whole  (KWS_MAX_CLIP_MB; ~17 min of 16 kHz s16)
  int64_t raw_bytes = int64_t(64) << 20;      // kws invoke --input-raw    (KWS_MAX_RAW_MB)
  // The defaults with the environment's overrides; UsageError naming a variable that is not a
  // positive number of MB.
  static InputLimits FromEnvironment();
};

// FromEnvironment(), read once per process.
const InputLimits& Limits();

// The environment variable that raises a limit, for messages: "KWS_MAX_MODEL_MB" for "model".
std::string LimitVariable(const std::string& what);

// BadInput unless `path` is a regular file; returns its size. `what` ("model", "clip", ...) is
// used in messages.
int64_t RegularFileSize(const std::filesystem::path& path, const std::string& what);

// Reads a whole regular file of at most max_bytes (see above). `what` names the kind of file
// ("config", "model", ...) in the size message, whose advice names `what`'s KWS_MAX_*_MB variable.
std::string ReadFileLimited(const std::filesystem::path& path, int64_t max_bytes, const std::string& what);

// As ReadFileLimited, but first reads only the first `head` bytes and calls check(head_bytes),
// which throws (naming the file) when they are wrong: a file that is not what it should be is
// refused before its size matters or its body is read.
std::string ReadFileChecked(const std::filesystem::path& path, int64_t max_bytes, const std::string& what,
                            size_t head, const std::function<void(const std::string&)>& check);

// A .tflite model: the FlatBuffer identifier "TFL3" (bytes 4..7) is checked from the first 8 bytes,
// then the size against Limits().model_bytes, then the rest is read.
std::string ReadTfliteFile(const std::filesystem::path& path);

// The first n bytes (fewer if the file is shorter) of a regular file.
std::string ReadFileHead(const std::filesystem::path& path, size_t n, const std::string& what);

}  // namespace kws
