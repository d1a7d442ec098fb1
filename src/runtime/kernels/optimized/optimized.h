// Optimized kernels, same signatures and results as the reference ones in
// kernels/reference/ (float within rounding, int8 bit-identical), tested
// against them in tests/runtime/kernels_test.cc. Scratch memory is passed in
// by the caller (the interpreter's arena): nothing here allocates.
#pragma once
#include <cstddef>
#include <cstdint>

#include "runtime/kernels/reference/batch_matmul.h"
#include "runtime/kernels/types.h"

namespace kws::rt::opt {

// Scratch sizes (elements of the scratch type) the kernels below need.
size_t ConvIm2colElements(const ConvGeometry& g, const Shape4& is, const Shape4& fs, const Shape4& os);

// CONV_2D float: im2col (skipped for 1×1 stride-1 unpadded) + Eigen GEMM.
void ConvFloat(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
               const Shape4& fs, const float* filter, const float* bias, const Shape4& os, float* output,
               float* im2col);

// CONV_2D int8: im2col with the input zero point as padding, then an int32
// GEMM (AVX-512 VNNI when the CPU has it, plain loops otherwise) that skips
// all-zero (pruned) filter rows' blocks; requantization as the reference.
// `filter_sums[oc]` = Σ filter[oc] (precomputed), used to fold input_offset.
void ConvInt8(const ConvGeometry& g, const QuantParams& q, const int32_t* multiplier, const int* shift,
              const Shape4& is, const int8_t* input, const Shape4& fs, const int8_t* filter,
              const int32_t* filter_sums, const int32_t* bias, const Shape4& os, int8_t* output,
              int8_t* im2col);

// CONV_2D float, direct: filter pre-packed as [KH][KW][Cin][Cout] (see
// PackFilterHWIO); 4 output pixels × 16 output channels per step with AVX-512
// FMA. Only call when HasAvx512() and input channels <= 4096.
void PackFilterHWIO(const Shape4& fs, const float* ohwi, float* hwio);
void ConvFloatDirect(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
                     const Shape4& fs, const float* hwio, const float* bias, const Shape4& os, float* output);
bool HasAvx512();

// DEPTHWISE_CONV_2D float, channel-innermost loops.
void DepthwiseFloat(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
                    const Shape4& fs, const float* filter, const float* bias, const Shape4& os, float* output);

// DEPTHWISE_CONV_2D int8, channel-innermost loops over blocks of output
// channels with int32 accumulators on the stack; same arithmetic (either
// requantization) as ref::DepthwiseInt8, so the results are identical.
void DepthwiseInt8(const ConvGeometry& g, const QuantParams& q, const int32_t* multiplier, const int* shift,
                   const Shape4& is, const int8_t* input, const Shape4& fs, const int8_t* filter,
                   const int32_t* bias, const Shape4& os, int8_t* output);

// FULLY_CONNECTED float via Eigen.
void FullyConnectedFloat(const FloatAct& act, int batches, int depth, int units, const float* input,
                         const float* weights, const float* bias, float* output);

// BATCH_MATMUL float: one Eigen GEMM per batch item (same shapes as
// ref::BatchMatMulFloat; float within rounding).
void BatchMatMulFloat(const ref::BatchMatMulParams& p, const float* lhs, const float* rhs, float* out);

// float → int8 exactly as QuantizeToInt8 (fixed_point.h: round(x/scale) half
// away from zero, NaN → zero point, saturating), AVX-512 when available.
void QuantizeFloatToInt8(float scale, int32_t zero_point, int64_t n, const float* in, int8_t* out);

// True when the int8 GEMM uses AVX-512 VNNI on this machine.
bool HasVnni();

}  // namespace kws::rt::opt
