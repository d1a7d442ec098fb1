// The bodies of the libFuzzer targets (fuzz/fuzz_*.cc), shared with the corpus replay test
// (tests/hardening/corpus_test.cc) so the normal build runs every committed seed through exactly
// the code the fuzzers ran. Each accepts any bytes: a result or kws::Error is fine; a crash, a
// sanitizer report, another exception or a hang is a bug (FuzzConfigReader also aborts when an
// accepted config does not survive its own ToToml() round trip).
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "audio/audio.h"
#include "audio/audio_stream.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "tflite/detector_options.h"
#include "synth/synth.h"
#include "tflite/metadata.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws::fuzz {

// ---- the config reader: TOML text, optionally a NUL and '\n'-separated --set overrides
inline void FuzzConfigReader(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string text = in.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    std::string rest = in.substr(nul + 1);
    for (size_t at = 0; at <= rest.size() && overrides.size() < 16;) {
      const size_t nl = rest.find('\n', at);
      overrides.push_back(rest.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
  }
  kws::Config cfg;
  try {
    cfg = kws::ParseConfig(text, "fuzz.toml", overrides);
  } catch (const kws::Error&) {
    return;
  }
  // What kws writes as RUN/config.toml must read back as the same settings.
  try {
    const kws::Config again = kws::ParseConfig(cfg.ToToml(), "fuzz-roundtrip.toml");
    if (again.table != cfg.table) std::abort();
  } catch (const kws::Error&) {
    std::abort();
  }
}

// ---- the streaming audio paths: RawPcmReader (stdin) and AudioFileReader (a file in blocks)

inline void RawStream(const uint8_t* data, size_t size) {
  std::FILE* f = ::fmemopen(const_cast<uint8_t*>(data), size, "rb");
  if (!f) return;
  try {
    kws::RawPcmReader r(f, "<fuzz>", 16000);
    std::vector<float> buf(1600);
    while (r.Read(buf.data(), buf.size()) > 0) {
    }
  } catch (const kws::Error&) {
  }
  std::fclose(f);
}

// The bytes as a regular file without touching the disk (a memfd: fstat says regular file).
inline void FileStream(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("kws-fuzz.wav", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != ssize_t(size)) return;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (int rate : {0, 16000}) {
    try {
      kws::AudioFileReader r(path, rate);
      // Resample only short inputs (decoding is the target; soxr on huge claims is just slow).
      if (rate != 0 && (r.info().frames > 96000 || r.info().sample_rate > 400000)) continue;
      std::vector<float> buf(4096);
      int64_t total = 0;
      while (size_t n = r.Read(buf.data(), buf.size())) {
        total += int64_t(n);
        if (total > (int64_t(1) << 24)) break;  // a huge (sparse) claim: the reader is fine, stop early
      }
    } catch (const kws::Error&) {
    }
  }
}

inline void FuzzWavStream(const uint8_t* data, size_t size) {
  RawStream(data, size);
  FileStream(data, size);
}

// ---- the JSON readers: kws metadata, synth.json, a checkpoint header (in a valid envelope)

inline void Metadata(std::string_view text) {
  try {
    const kws::tfl::KwsMetadata m = kws::tfl::KwsMetadataFromJson(text, "fuzz.tflite");
    if (!m.detector.is_null()) (void)kws::DetectorOptionsFromJson(m.detector, {}, "fuzz.tflite");
    (void)m.features.num_frames(m.features.window_samples());
    (void)kws::tfl::KwsMetadataToJson(m);
  } catch (const kws::Error&) {
  }
}

inline void SynthManifest(const std::string& text) {
  try {
    (void)kws::synth::ParseSynthManifest(text, "synth.json");
  } catch (const kws::Error&) {
  }
}

inline void Put(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(char((v >> (8 * i)) & 0xFF));
}

// header JSON + float data, in the layout of model/checkpoint.h, with a correct checksum; then the
// model it describes is built and its tensors loaded.
inline void CheckpointHeader(const std::string& text) {
  const size_t cut = text.find('\0');
  const std::string header = text.substr(0, cut);
  const std::string data = cut == std::string::npos ? std::string() : text.substr(cut + 1);
  std::string b(kws::kCheckpointMagic, 8);
  Put(b, kws::kCheckpointVersion, 4);
  Put(b, header.size(), 8);
  b += header;
  while (b.size() % 64) b.push_back('\0');
  b += data;
  std::string hex = kws::Sha256Hex(b);
  for (size_t i = 0; i < hex.size(); i += 2) b.push_back(char(std::stoi(hex.substr(i, 2), nullptr, 16)));
  try {
    const kws::Checkpoint c = kws::ParseCheckpoint(b, "fuzz.ckpt");
    (void)kws::ModelFromCheckpoint(c, "fuzz.ckpt");
  } catch (const kws::Error&) {
  }
}

inline void FuzzMetadataJson(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Metadata(text);
  SynthManifest(text);
  CheckpointHeader(text);
}

}  // namespace kws::fuzz
