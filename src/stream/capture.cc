#include "stream/capture.h"

#include <dlfcn.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "util/error.h"

namespace kws {
namespace {
// The few ALSA entry points and constants used (stable ABI of libasound.so.2).
struct snd_pcm;
constexpr int kStreamCapture = 1;           // SND_PCM_STREAM_CAPTURE
constexpr int kFormatS16LE = 2;             // SND_PCM_FORMAT_S16_LE
constexpr int kAccessRwInterleaved = 3;     // SND_PCM_ACCESS_RW_INTERLEAVED
using OpenFn = int (*)(snd_pcm**, const char*, int, int);
using SetParamsFn = int (*)(snd_pcm*, int, int, unsigned, unsigned, int, unsigned);
using ReadiFn = long (*)(snd_pcm*, void*, unsigned long);
using RecoverFn = int (*)(snd_pcm*, int, int);
using CloseFn = int (*)(snd_pcm*);
using StrerrorFn = const char* (*)(int);
}  // namespace

struct Capture::Impl {
  void* lib = nullptr;
  snd_pcm* pcm = nullptr;
  OpenFn open = nullptr;
  SetParamsFn set_params = nullptr;
  ReadiFn readi = nullptr;
  RecoverFn recover = nullptr;
  CloseFn close = nullptr;
  StrerrorFn strerror = nullptr;
  std::vector<int16_t> buf;
  std::string device;
};

Capture::Capture(const std::string& device, int rate) : impl_(new Impl) {
  Impl& p = *impl_;
  p.device = device;
  p.lib = dlopen("libasound.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!p.lib) {
    delete impl_;
    impl_ = nullptr;
    throw BadInput("mic:" + device + ": ALSA not available (cannot load libasound.so.2); pipe audio instead: "
                   "arecord -f S16_LE -r " + std::to_string(rate) + " -c 1 | kws listen --model M");
  }
  p.open = reinterpret_cast<OpenFn>(dlsym(p.lib, "snd_pcm_open"));
  p.set_params = reinterpret_cast<SetParamsFn>(dlsym(p.lib, "snd_pcm_set_params"));
  p.readi = reinterpret_cast<ReadiFn>(dlsym(p.lib, "snd_pcm_readi"));
  p.recover = reinterpret_cast<RecoverFn>(dlsym(p.lib, "snd_pcm_recover"));
  p.close = reinterpret_cast<CloseFn>(dlsym(p.lib, "snd_pcm_close"));
  p.strerror = reinterpret_cast<StrerrorFn>(dlsym(p.lib, "snd_strerror"));
  auto fail = [&](const std::string& what) {
    if (p.pcm && p.close) p.close(p.pcm);
    dlclose(p.lib);
    delete impl_;
    impl_ = nullptr;
    return BadInput("mic:" + device + ": " + what);
  };
  if (!p.open || !p.set_params || !p.readi || !p.recover || !p.close || !p.strerror)
    throw fail("libasound.so.2 lacks the PCM functions kws needs");
  int err = p.open(&p.pcm, device.c_str(), kStreamCapture, 0);
  if (err < 0) {
    const std::string msg = p.strerror(err);
    p.pcm = nullptr;
    throw fail("cannot open capture device (" + msg + ")");
  }
  err = p.set_params(p.pcm, kFormatS16LE, kAccessRwInterleaved, 1, unsigned(rate), 1, 200000);
  if (err < 0) throw fail("cannot capture S16_LE mono at " + std::to_string(rate) + " Hz (" + p.strerror(err) + ")");
}

Capture::~Capture() {
  if (!impl_) return;
  if (impl_->pcm) impl_->close(impl_->pcm);
  dlclose(impl_->lib);
  delete impl_;
}

size_t Capture::Read(float* out, size_t max_samples) {
  Impl& p = *impl_;
  p.buf.resize(max_samples);
  long n = p.readi(p.pcm, p.buf.data(), max_samples);
  if (n == -EINTR) return 0;
  if (n < 0) {
    const int err = p.recover(p.pcm, int(n), 1);  // overrun (-EPIPE) / suspend: recover and go on
    if (err < 0) throw BadInput("mic:" + p.device + ": read failed (" + p.strerror(int(n)) + ")");
    return 0;
  }
  for (long i = 0; i < n; ++i) out[i] = float(p.buf[size_t(i)]) * (1.0f / 32768.0f);
  return size_t(n);
}

}  // namespace kws
