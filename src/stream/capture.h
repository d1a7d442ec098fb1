// Microphone capture through ALSA, loaded at run time with dlopen("libasound.so.2"):
// kws does not link libasound, so the library and every other command work on a
// machine without it; `kws listen --input mic[:DEVICE]` then fails with a clear
// BadInput ("ALSA not available: ..."). Captures S16_LE mono at the given rate
// (ALSA's plug layer resamples/converts when the device needs it).
#pragma once
#include <cstddef>
#include <string>

namespace kws {

class Capture {
 public:
  Capture(const std::string& device, int sample_rate);  // BadInput on failure
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  // Blocks until some samples arrive; returns how many (0 when interrupted by a signal).
  size_t Read(float* out, size_t max_samples);

 private:
  struct Impl;
  Impl* impl_ = nullptr;
};

}  // namespace kws
