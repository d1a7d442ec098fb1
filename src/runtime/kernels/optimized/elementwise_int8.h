// int8 ADD, SUB and MUL with broadcasting: the same results as ref::AddInt8 / ref::MulInt8 (bit for bit,
// tested in tests/runtime/kernels_test.cc), faster.
//  - ADD/SUB: each input's rescaling (offset, << 20, × its Q31 multiplier) depends on one int8 value, so it
//    is a 256-entry table made at prepare; per element only the output requantization remains.
//  - The requantization is TFLite's double rounding written without branches, over runs of the innermost
//    dimension (both inputs contiguous, or one of them broadcast), which the compiler vectorizes (an AVX2
//    copy picked at run time, cpu.h).
// BC-ResNet's SubSpectralNorm and broadcast sums are these ops: 32 ADDs and 24 MULs per inference.
#pragma once
#include <cstdint>

#include "runtime/kernels/reference/add.h"
#include "runtime/kernels/reference/mul.h"

namespace kws::rt::opt {

struct AddInt8Tables {
  int32_t in1[256], in2[256];  // value v of input i (index v + 128) → its term of the sum (negated for SUB)
};
void PrepareAddInt8Tables(const ref::AddInt8Params& p, AddInt8Tables* t);

void AddInt8(const ref::Broadcast4& b, const ref::AddInt8Params& p, const AddInt8Tables& t, const int8_t* x1,
             const int8_t* x2, int8_t* y);
void MulInt8(const ref::Broadcast4& b, const ref::MulInt8Params& p, const int8_t* x1, const int8_t* x2, int8_t* y);

}  // namespace kws::rt::opt
