// libFuzzer target: the JSON readers of files kws did not necessarily write — a .tflite's "kws"
// metadata entry (labels, feature and detector settings), a synthesized folder's synth.json, and a
// checkpoint's JSON header with the tensors behind it; fuzz/targets.h (FuzzMetadataJson).
//   build-fuzz/fuzz_metadata_json fuzz/corpus/json -max_total_time=600
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kws::fuzz::FuzzMetadataJson(data, size);
  return 0;
}
