// libFuzzer target: the streaming audio paths on arbitrary bytes — RawPcmReader (stdin: raw s16le, or
// a WAV stream whose header is checked and skipped) and AudioFileReader (a file read in blocks: the
// RIFF walk, "length unknown" data sizes patched to the real length, libsndfile, down-mix, on-the-fly
// resampling); fuzz/targets.h (FuzzWavStream).
//   build-fuzz/fuzz_wav_stream fuzz/corpus/wav -max_total_time=600
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kws::fuzz::FuzzWavStream(data, size);
  return 0;
}
