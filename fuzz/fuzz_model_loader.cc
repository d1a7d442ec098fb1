// libFuzzer target: any bytes → Interpreter::FromBuffer → Invoke on zero
// input (twice: resource variables carry state), ResetVariables, Invoke with
// the other kernels; for inputs with dynamic dimensions, ResizeInput (each −1
// becomes 3) and Invoke again. The loader must either accept the model and run
// it, or throw kws::Error; ASan/UBSan catch everything else.
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
//         -DKWS_BUILD_FUZZ=ON -DKWS_BUILD_TESTS=OFF -DKWS_BUILD_BENCH=OFF
//   cmake --build build-fuzz --target fuzz_model_loader
//   ./build-fuzz/fuzz_model_loader -max_total_time=600 fuzz/corpus/model
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "runtime/interpreter.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kws::rt::LoadLimits limits;  // small limits keep every run fast
  limits.max_tensor_elements = 1 << 18;
  limits.max_arena_bytes = 1 << 22;
  limits.max_macs = 1 << 24;
  limits.max_operators = 64;
  limits.max_tensors = 256;
  limits.max_subgraph_runs = 64;
  std::unique_ptr<kws::rt::Interpreter> it;
  try {
    it = std::make_unique<kws::rt::Interpreter>(kws::rt::Interpreter::FromBuffer(
        "fuzz.tflite", std::string_view(reinterpret_cast<const char*>(data), size), limits));
  } catch (const kws::Error&) {
    return 0;
  }
  auto run = [&] {
    try {
      for (int i = 0; i < it->num_inputs(); ++i) std::memset(it->input_data(i), 0, it->input(i).bytes);
      it->Invoke();
      it->Invoke();
      (void)it->output_data(0);
    } catch (const kws::Error&) {
    }
  };
  run();
  it->ResetVariables();
  it->set_kernels(kws::rt::KernelSet::kReference);
  it->set_int8_arithmetic(kws::rt::Int8Arithmetic::kReference);
  run();
  for (int i = 0; i < it->num_inputs(); ++i) {
    std::vector<int> shape = it->input(i).signature;
    bool dynamic = false;
    for (int& d : shape)
      if (d < 0) d = 3, dynamic = true;
    if (!dynamic) continue;
    try {
      it->ResizeInput(i, shape);
    } catch (const kws::Error&) {
      continue;
    }
    run();
  }
  return 0;
}
