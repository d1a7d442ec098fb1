// libFuzzer target: the config reader (TOML -> defaults merged -> --set overrides -> validated Config)
// on arbitrary text; input and checks in fuzz/targets.h (FuzzConfigReader).
//   build-fuzz/fuzz_config_reader fuzz/corpus/config -max_total_time=600
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kws::fuzz::FuzzConfigReader(data, size);
  return 0;
}
