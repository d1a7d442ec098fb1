// Checks and precomputations several ops' prepare share: arity, ranks, types,
// quantization (per-tensor parameters, weight scales, requantization
// multipliers), fused activations, convolution/pooling geometry, constant
// int32 parameters. Every failure names the op (PrepareContext::Fail).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/kernels/reference/broadcast.h"
#include "runtime/kernels/types.h"
#include "runtime/op.h"

namespace kws::rt::ops {

// min_in..max_in inputs (the first min_in present), exactly n_out outputs.
void Arity(PrepareContext& ctx, int min_in, int max_in, int n_out);
void Rank(PrepareContext& ctx, int t, size_t rank, const char* role);
void Constant(PrepareContext& ctx, int t, const char* role);
// int8 with one scale and an int8 zero point.
void PerTensorQ(PrepareContext& ctx, int t, const char* role);
// Same scale and zero point (ops that move int8 values without rescaling).
void SameQ(PrepareContext& ctx, int a, int b);
void SameType(PrepareContext& ctx, int a, int b);
[[noreturn]] void UnsupportedType(PrepareContext& ctx, DType t);

Activation ToActivation(PrepareContext& ctx, tflite::ActivationFunctionType a);
// CONV_2D / DEPTHWISE_CONV_2D operands: input, constant filter (both rank 4), optional bias; one output.
void ConvOperands(PrepareContext& ctx, Shape4* input, Shape4* filter);
// Output size and padding for CONV_2D / DEPTHWISE_CONV_2D / pooling (TFLite's
// SAME / VALID rules, dilation included).
void Geometry(PrepareContext& ctx, tflite::Padding pad, int stride_h, int stride_w, int dil_h, int dil_w, int kh,
              int kw, const Shape4& is, ConvGeometry* g, int* oh, int* ow);
Shape4 To4(const std::vector<int>& s);

// Symmetric weight scales, one or one per channel along `axis`; legacy uint8
// weights (asymmetric, per tensor) set q->weight_offset and *uint8_weights.
std::vector<float> WeightScales(PrepareContext& ctx, int t, int channels, int axis, QuantParams* q,
                                bool* uint8_weights);
void BiasCheck(PrepareContext& ctx, int t, int channels, DType type);
// int32 accumulators must not overflow for any input: k products of at most
// 128·256 (×2 for the optimized kernels' folded offsets) plus the largest bias.
void AccumulatorFits(PrepareContext& ctx, int64_t k, int bias);

// int8 requantization of conv/depthwise/FC: per-channel Q31 multipliers and
// shifts (reference), float scales (XNNPACK), offsets, activation clamps.
struct Requant {
  QuantParams q;      // TFLite reference arithmetic
  QuantParams q_xnn;  // XNNPACK arithmetic (fp32_scale set, its own clamp)
  std::vector<int32_t> mult;
  std::vector<int> shift;
  std::vector<float> fp32_scale;
};
// float_product: TFLite computes input_scale·weight_scale in float first
// (per-tensor FULLY_CONNECTED) instead of in double.
void PrepareRequant(PrepareContext& ctx, int in, const std::vector<float>& wscales, int out, bool float_product,
                    Activation act, Requant* r);

// ADD, SUB, MUL: inputs 0 and 1 broadcast (numpy rules, rank <= 4) into output 0, whose shape is set; all three
// of one type. float32: the activation's clamp into *fact, returns false. int8: every tensor per-tensor
// quantized, returns true (the op computes its own rescaling). Other types fail.
bool PrepareBroadcastBinary(PrepareContext& ctx, Activation act, ref::Broadcast4* bc, FloatAct* fact);

// Constant int32 parameter tensors (shapes, axes, paddings, begin/end/strides).
std::vector<int32_t> Int32Values(PrepareContext& ctx, int t, const char* role);
}  // namespace kws::rt::ops


namespace kws::rt::ops {

// Control flow (IF, WHILE): copies the caller's tensors `t[0..n)` into
// subgraph s's inputs (inputs bound to a constant at prepare are shared, not
// copied), and subgraph s's outputs into the caller's tensors.
void CopyIntoSubgraph(EvalContext& ctx, int s, const int* t, int n);
void CopyFromSubgraph(EvalContext& ctx, int s, const int* t, int n);

}  // namespace kws::rt::ops
