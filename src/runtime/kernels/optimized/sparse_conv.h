// Sparse CONV_2D for pruned filters (most weights zero): float, int8 and
// hybrid (dynamic-range), same results as kernels/reference/conv.h (float
// within rounding, int8 and hybrid identical), tested in
// tests/runtime/sparse_conv_test.cc.
//
// Idea: per output channel, the list of its non-zero taps (ky, kx, cin, w) is
// built once (PrepareSparseConv). The input is copied into zero-padded
// channel-planar "phase planes": for strides (sh, sw) there are sh·sw planes
// per input channel, plane (py, px) holding padded input pixel
// (sh·i + py, sw·j + px) at [i·wq + j]. Every tap then reads ONE contiguous
// stretch of one plane for a whole output channel:
//   acc[co][oy·wq + ox] += w · plane[(ky·dh) % sh, (kx·dw) % sw][cin][(oy + dy)·wq + ox + dx]
// with dy = (ky·dh) / sh, dx = (kx·dw) / sw — output pixels in SIMD lanes, one
// FMA per 16 outputs per non-zero weight (columns ox >= OW of each row are
// computed and dropped). An epilogue adds bias, applies the activation /
// requantization and writes NHWC or channel-planar (CHW) output.
//
// int8 and hybrid run the same float FMAs on integer values (x − zero_point,
// |.| <= 255, times int8 weights): every partial sum is an integer below 2^24
// in magnitude (PrepareSparseConv checks Σ|w|·255 < 2^24 per channel), so
// float accumulation is exact and the int32 result equals the reference's.
//
// Layouts: NHWC is the runtime's tensor layout. kChw ([N][C][H][W]) lets two
// consecutive sparse convolutions skip the NHWC round trip; the interpreter
// uses it only for a tensor written by one sparse conv and read only by
// another (for C == 1 both layouts are the same bytes).
//
// Dispatch: AVX-512 (F/BW/VL/DQ) at run time, plain C++ otherwise (AVX2
// auto-vectorized tap loop when the CPU has AVX2). SetForcePortable(true) or
// KWS_FORCE_PORTABLE=1 in the environment forces the plain path.
// Scratch memory comes from the caller; nothing here allocates.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/kernels/types.h"

namespace kws::rt::opt {

// kPlanes (input only): the phase planes are already at the start of
// `scratch`, written there by the previous sparse conv (SparseNext).
enum class Layout { kNhwc, kChw, kPlanes };

struct SparseConvPlan {
  ConvGeometry g;
  Shape4 is, fs, os;
  int hq = 0, wq = 0;          // phase-plane rows and columns (wq = output row pitch in acc)
  int64_t span = 0;            // acc floats per output channel: OH·wq rounded up to 16
  int64_t plane = 0;           // floats per phase plane (>= span + largest tap offset, multiple of 16)
  std::vector<int32_t> start;  // taps of output channel c: [start[c], start[c+1])
  std::vector<int32_t> off;    // tap: plane index·plane + dy·wq + dx; plane index = (py·sw + px)·Cin + cin
  std::vector<float> w;        // tap weight (int8 weights as exact floats)
  bool exact_int = true;       // int8 weights: Σ|w|·255 < 2^24 for every channel
  int64_t nonzero() const { return int64_t(w.size()); }
  int64_t planes() const { return int64_t(g.stride_h) * g.stride_w * is.c; }
  // Float scratch the kernels need (planes + accumulators).
  size_t ScratchFloats() const { return size_t(planes() * plane + int64_t(os.c) * span); }
};

// Builds the plan from an OHWI filter (float or int8). Shapes as validated by
// the interpreter (os = conv output shape for geometry g).
void PrepareSparseConv(const ConvGeometry& g, const Shape4& is, const Shape4& fs, const Shape4& os,
                       const float* filter, SparseConvPlan* plan);
void PrepareSparseConv(const ConvGeometry& g, const Shape4& is, const Shape4& fs, const Shape4& os,
                       const int8_t* filter, SparseConvPlan* plan);

// Heuristic: true when the sparse kernel should beat the dense ones for this
// filter (fraction of zero weights, shapes). int8: also requires exact_int.
bool SparseConvPays(const SparseConvPlan& plan, bool int8);

// Fused hand-off between two sparse convs A → B (batch 1): A writes its
// results straight into B's phase planes (B's scratch) instead of its output
// tensor, and B runs with in_layout kPlanes. Needs SparseConvCanFuse(A, B).
struct SparseNext {
  const SparseConvPlan* plan = nullptr;  // B's plan
  float* planes = nullptr;               // B's scratch
  int32_t input_offset = 0;              // int8 B: its input offset (−zero point)
};
bool SparseConvCanFuse(const SparseConvPlan& a, const SparseConvPlan& b);

// out = act(conv(input) + bias), float.
void SparseConvFloat(const SparseConvPlan& p, const FloatAct& act, Layout in_layout, const float* input,
                     const float* bias, Layout out_layout, float* output, float* scratch,
                     const SparseNext* next = nullptr);

// int8 per-channel: acc = Σ w·(x + input_offset) + bias, Requantize() (either arithmetic).
void SparseConvInt8(const SparseConvPlan& p, const QuantParams& q, const int32_t* multiplier, const int* shift,
                    Layout in_layout, const int8_t* input, const int32_t* bias, Layout out_layout, int8_t* output,
                    float* scratch, const SparseNext* next = nullptr);

// Hybrid: quantizes each batch item's float input on the fly exactly as
// ref::AsymmetricQuantize (asymmetric) or ref::SymmetricQuantize, then
// out = clamp(float(acc)·input_scale·filter_scale[c] + bias), acc = Σ w·(q − zp) —
// identical to the reference quantization followed by ref::ConvHybrid.
void SparseConvHybrid(const SparseConvPlan& p, const FloatAct& act, bool asymmetric, Layout in_layout,
                      const float* input, const float* filter_scale, const float* bias, Layout out_layout,
                      float* output, float* scratch, const SparseNext* next = nullptr);

// Highest instruction set the optimized kernels may use (run-time dispatch
// takes min(this, what the CPU has)). kPlain = portable C++ only: tests force
// it to check the fallback; KWS_FORCE_PORTABLE=1 in the environment sets it at
// start-up. Affects every kernel in kernels/optimized/. Not thread-safe
// against concurrent Invoke calls (set it before running).
enum class Isa { kPlain = 0, kAvx2 = 1, kAvx512 = 2 };
void SetMaxIsa(Isa isa);
Isa MaxIsa();
// min(MaxIsa(), what this CPU supports).
Isa ActiveIsa();
inline void SetForcePortable(bool force) { SetMaxIsa(force ? Isa::kPlain : Isa::kAvx512); }

}  // namespace kws::rt::opt
