// libFuzzer target: any bytes → Interpreter::FromBuffer → Invoke on zero
// input. The loader must either accept the model and run it, or throw
// kws::Error; ASan/UBSan catch everything else.
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
//         -DKWS_BUILD_FUZZ=ON -DKWS_BUILD_TESTS=OFF -DKWS_BUILD_BENCH=OFF
//   cmake --build build-fuzz --target fuzz_model_loader
//   ./build-fuzz/fuzz_model_loader -max_total_time=600 fuzz/corpus/model
#include <cstdint>
#include <cstring>
#include <string_view>

#include "runtime/interpreter.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kws::rt::LoadLimits limits;  // small limits keep every run fast
  limits.max_tensor_elements = 1 << 18;
  limits.max_arena_bytes = 1 << 22;
  limits.max_macs = 1 << 24;
  limits.max_operators = 64;
  limits.max_tensors = 256;
  try {
    auto it = kws::rt::Interpreter::FromBuffer(
        "fuzz.tflite", std::string_view(reinterpret_cast<const char*>(data), size), limits);
    for (int i = 0; i < it.num_inputs(); ++i) std::memset(it.input_data(i), 0, it.input(i).bytes);
    it.Invoke();
    it.set_kernels(kws::rt::KernelSet::kReference);
    it.set_int8_arithmetic(kws::rt::Int8Arithmetic::kReference);
    it.Invoke();
    (void)it.output_data(0);
  } catch (const kws::Error&) {
  }
  return 0;
}
