// CONCATENATION along one axis, any element type (raw bytes): TFLite requires
// int8 inputs to share the output's scale and zero point, so the op is a copy.
// outer = product of dimensions before the axis; each input contributes
// `inner_bytes[i]` contiguous bytes (its axis size × later dimensions × element
// size) per outer step.
#pragma once
#include <cstdint>
#include <cstring>

namespace kws::rt::ref {

inline void Concatenation(int64_t outer, int n_inputs, const uint8_t* const* inputs, const int64_t* inner_bytes,
                          uint8_t* out) {
  for (int64_t o = 0; o < outer; ++o)
    for (int i = 0; i < n_inputs; ++i) {
      std::memcpy(out, inputs[i] + o * inner_bytes[i], size_t(inner_bytes[i]));
      out += inner_bytes[i];
    }
}

}  // namespace kws::rt::ref
