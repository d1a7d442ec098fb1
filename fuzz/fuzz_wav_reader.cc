// libFuzzer target: DecodeAudio on arbitrary bytes (our RIFF walk + libsndfile
// + down-mix + resampling). Any kws::Error is an accepted outcome; crashes,
// sanitizer reports, other exceptions and hangs are bugs.
//   cmake -B build-fuzz -DKWS_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ... && build-fuzz/fuzz_wav_reader corpus/
#include <cstddef>
#include <cstdint>

#include "audio/audio.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    // Resample only short inputs (decoding is the target; soxr on huge claims is just slow).
    kws::Audio a = kws::DecodeAudio("fuzz.wav", data, size, 0);
    if (a.samples.size() < 48000 && a.sample_rate != 16000 && a.sample_rate > 0 && a.sample_rate < 400000)
      (void)kws::Resample(a.samples, a.sample_rate, 16000);
  } catch (const kws::Error&) {
  }
  return 0;
}
