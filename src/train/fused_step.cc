#include "train/fused_step.h"

#include "util/cpu.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/global_average_pool.h"
#include "layers/relu.h"
#include "layers/softmax_cross_entropy.h"
#include "util/error.h"
#include "util/parallel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace kws {

// One Conv2D -> BatchNorm -> ReLU block and its buffers (rows = pixels of the conv output, C channels).
struct FusedConvStep::Block {
  Conv2DLayer* conv = nullptr;
  BatchNormLayer* bn = nullptr;
  size_t in_sz = 0, out_sz = 0;  // floats per sample
  int hw = 0, C = 0;
  std::vector<float> z;   // conv output (batch, out_sz)
  std::vector<float> a;   // relu(bn(z)), written by the NEXT phase
  std::vector<float> dy;  // dL/d(bn output) after the relu mask; then dL/dz in place
  std::vector<float> mean, invstd, var_unbiased, scale, shift;  // this step's batch statistics
  std::vector<float> k, kx, k0;                                  // backward: dz = k*dy + kx*z + k0
  // Per share: pixel count, sum and squared deviations about the share mean (forward);
  // sum(dy) and sum(dy * xhat) (backward); conv weight/bias gradient partials.
  std::vector<long> rows;
  std::vector<std::vector<double>> sum, m2, sum_d, sum_dx;
  std::vector<std::vector<float>> dw, db;
  std::vector<Conv2DScratch> scratch;
};

FusedConvStep::~FusedConvStep() = default;

namespace {

// Per-channel sums of rows [0, M) of a (M, C) matrix: blocks of 64 rows in float, then double.
template <class F>
void ShareSums(double* out, long M, int C, F f) {
  float blk[256];
  std::fill(out, out + C, 0.0);
  for (long m0 = 0; m0 < M; m0 += 64) {
    const long m1 = std::min(M, m0 + 64);
    std::fill(blk, blk + C, 0.0f);
    for (long m = m0; m < m1; ++m) f(blk, m);
    for (int c = 0; c < C; ++c) out[c] += blk[c];
  }
}

// Forward statistics of one share: sum and squared deviations about the share's own mean.
void ShareStats(double* sum, double* m2, const float* z, long M, int C) {
  ShareSums(sum, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict x = z + m * C;
    for (int c = 0; c < C; ++c) acc[c] += x[c];
  });
  float mean[256];
  for (int c = 0; c < C; ++c) mean[c] = M ? float(sum[c] / double(M)) : 0.0f;
  ShareSums(m2, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict x = z + m * C;
    for (int c = 0; c < C; ++c) {
      const float d = x[c] - mean[c];
      acc[c] += d * d;
    }
  });
  // m2 is about the float mean; shift it to the exact share mean (sum/M) for Chan's merge.
  for (int c = 0; c < C; ++c) {
    const double dm = double(mean[c]) - (M ? sum[c] / double(M) : 0.0);
    m2[c] -= double(M) * dm * dm;
  }
}

// a = relu(z * scale + shift)   (the BatchNorm forward formula of batchnorm.cc, then relu)
void BnRelu(float* __restrict a, const float* __restrict z, const float* __restrict scale,
            const float* __restrict shift, long M, int C) {
  for (long m = 0; m < M; ++m)
    for (int c = 0; c < C; ++c) a[m * C + c] = std::max(z[m * C + c] * scale[c] + shift[c], 0.0f);
}

// dy = a > 0 ? dy : 0 in place, plus the BN backward partial sums of the share.
void MaskAndSums(float* __restrict dy, const float* __restrict a, const float* __restrict z,
                 const float* __restrict mean, const float* __restrict invstd, double* sum_d, double* sum_dx, long M,
                 int C) {
  for (long i = 0; i < M * C; ++i) dy[i] = a[i] > 0.0f ? dy[i] : 0.0f;
  ShareSums(sum_d, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict d = dy + m * C;
    for (int c = 0; c < C; ++c) acc[c] += d[c];
  });
  ShareSums(sum_dx, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict d = dy + m * C;
    const float* __restrict x = z + m * C;
    for (int c = 0; c < C; ++c) acc[c] += d[c] * ((x[c] - mean[c]) * invstd[c]);
  });
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// ---------------------------------------------------------------------------
// 16 channels = one AVX-512 register per pixel: the same loops as above with the
// channel loop as one vector op (same per-channel summation order; chosen at run time).
// ---------------------------------------------------------------------------
#define KWS_FUSED_AVX512 1
#define KWS_T512 __attribute__((target("avx512f")))

KWS_T512 inline void AddToDouble16(double* out, __m512 v) {
  _mm512_storeu_pd(out, _mm512_add_pd(_mm512_loadu_pd(out), _mm512_cvtps_pd(_mm512_castps512_ps256(v))));
  _mm512_storeu_pd(out + 8, _mm512_add_pd(_mm512_loadu_pd(out + 8),
                                          _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))));
}

KWS_T512 void ShareStats16(double* sum, double* m2, const float* z, long M) {
  std::fill(sum, sum + 16, 0.0);
  std::fill(m2, m2 + 16, 0.0);
  for (long m0 = 0; m0 < M; m0 += 64) {
    const long m1 = std::min(M, m0 + 64);
    __m512 acc = _mm512_setzero_ps();
    for (long m = m0; m < m1; ++m) acc = _mm512_add_ps(acc, _mm512_loadu_ps(z + m * 16));
    AddToDouble16(sum, acc);
  }
  alignas(64) float mean[16];
  for (int c = 0; c < 16; ++c) mean[c] = M ? float(sum[c] / double(M)) : 0.0f;
  const __m512 mv = _mm512_load_ps(mean);
  for (long m0 = 0; m0 < M; m0 += 64) {
    const long m1 = std::min(M, m0 + 64);
    __m512 acc = _mm512_setzero_ps();
    for (long m = m0; m < m1; ++m) {
      const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(z + m * 16), mv);
      acc = _mm512_add_ps(acc, _mm512_mul_ps(d, d));
    }
    AddToDouble16(m2, acc);
  }
  for (int c = 0; c < 16; ++c) {
    const double dm = double(mean[c]) - (M ? sum[c] / double(M) : 0.0);
    m2[c] -= double(M) * dm * dm;
  }
}

KWS_T512 void BnRelu16(float* a, const float* z, const float* scale, const float* shift, long M) {
  const __m512 sc = _mm512_loadu_ps(scale), sh = _mm512_loadu_ps(shift), zero = _mm512_setzero_ps();
  for (long m = 0; m < M; ++m)
    _mm512_storeu_ps(a + m * 16, _mm512_max_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(z + m * 16), sc), sh), zero));
}

KWS_T512 void MaskAndSums16(float* dy, const float* a, const float* z, const float* mean, const float* invstd,
                            double* sum_d, double* sum_dx, long M) {
  std::fill(sum_d, sum_d + 16, 0.0);
  std::fill(sum_dx, sum_dx + 16, 0.0);
  const __m512 mv = _mm512_loadu_ps(mean), iv = _mm512_loadu_ps(invstd), zero = _mm512_setzero_ps();
  for (long m0 = 0; m0 < M; m0 += 64) {
    const long m1 = std::min(M, m0 + 64);
    __m512 s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps();
    for (long m = m0; m < m1; ++m) {
      const __mmask16 keep = _mm512_cmp_ps_mask(_mm512_loadu_ps(a + m * 16), zero, _CMP_GT_OQ);
      const __m512 d = _mm512_maskz_mov_ps(keep, _mm512_loadu_ps(dy + m * 16));
      _mm512_storeu_ps(dy + m * 16, d);
      s1 = _mm512_add_ps(s1, d);
      const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(z + m * 16), mv), iv);
      s2 = _mm512_add_ps(s2, _mm512_mul_ps(d, xhat));
    }
    AddToDouble16(sum_d, s1);
    AddToDouble16(sum_dx, s2);
  }
}

// dz = k*dy + kx*z + k0 in place.
KWS_T512 void BnBackwardApply16(float* dz, const float* z, const float* k, const float* kx, const float* k0, long M) {
  const __m512 kv = _mm512_loadu_ps(k), kxv = _mm512_loadu_ps(kx), k0v = _mm512_loadu_ps(k0);
  for (long m = 0; m < M; ++m) {
    const __m512 r = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(kv, _mm512_loadu_ps(dz + m * 16)),
                                                 _mm512_mul_ps(kxv, _mm512_loadu_ps(z + m * 16))), k0v);
    _mm512_storeu_ps(dz + m * 16, r);
  }
}

bool g_fused_avx512 = true;
bool Use512(int C) { return C == 16 && cpu::UseAvx512() && g_fused_avx512; }
#else
[[maybe_unused]] bool Use512(int) { return false; }
#endif

void BnReluAny(float* a, const float* z, const float* scale, const float* shift, long M, int C) {
#ifdef KWS_FUSED_AVX512
  if (Use512(C)) return BnRelu16(a, z, scale, shift, M);
#endif
  BnRelu(a, z, scale, shift, M, C);
}

void ShareStatsAny(double* sum, double* m2, const float* z, long M, int C) {
#ifdef KWS_FUSED_AVX512
  if (Use512(C)) return ShareStats16(sum, m2, z, M);
#endif
  ShareStats(sum, m2, z, M, C);
}

void MaskAndSumsAny(float* dy, const float* a, const float* z, const float* mean, const float* invstd, double* sum_d,
                    double* sum_dx, long M, int C) {
#ifdef KWS_FUSED_AVX512
  if (Use512(C)) return MaskAndSums16(dy, a, z, mean, invstd, sum_d, sum_dx, M);
#endif
  MaskAndSums(dy, a, z, mean, invstd, sum_d, sum_dx, M, C);
}

void BnBackwardApply(float* __restrict dz, const float* __restrict z, const float* k, const float* kx, const float* k0,
                     long M, int C) {
#ifdef KWS_FUSED_AVX512
  if (Use512(C)) return BnBackwardApply16(dz, z, k, kx, k0, M);
#endif
  for (long m = 0; m < M; ++m)
    for (int ch = 0; ch < C; ++ch) {
      const size_t i = size_t(m) * C + ch;
      dz[i] = k[ch] * dz[i] + kx[ch] * z[i] + k0[ch];
    }
}

}  // namespace

void FusedConvStepAllowAvx512(bool allow) {
#ifdef KWS_FUSED_AVX512
  g_fused_avx512 = allow;
#endif
}

std::unique_ptr<FusedConvStep> FusedConvStep::TryCreate(Model& model) {
  if (!model.IsSequential()) return nullptr;  // graphs (branches, sums) train layer by layer
  auto& layers = model.mutable_layers();
  std::unique_ptr<FusedConvStep> f(new FusedConvStep());
  f->loss_opts_ = model.loss_options();
  size_t i = 0;
  while (i + 2 < layers.size()) {
    auto* conv = dynamic_cast<Conv2DLayer*>(layers[i].get());
    auto* bn = dynamic_cast<BatchNormLayer*>(layers[i + 1].get());
    auto* relu = dynamic_cast<ReluLayer*>(layers[i + 2].get());
    if (!conv || !bn || !relu) break;
    Block b;
    b.conv = conv, b.bn = bn;
    const Shape out = conv->OutputShape(conv->input_shape);
    if (!(bn->input_shape == out) || out.c > 256) return nullptr;
    b.in_sz = conv->input_shape.size(), b.out_sz = out.size(), b.hw = out.h * out.w, b.C = out.c;
    f->blocks_.push_back(std::move(b));
    i += 3;
  }
  if (f->blocks_.empty() || i + 2 != layers.size()) return nullptr;
  auto* gap = dynamic_cast<GlobalAveragePoolLayer*>(layers[i].get());
  auto* dense = dynamic_cast<DenseLayer*>(layers[i + 1].get());
  if (!gap || !dense) return nullptr;
  const Block& last = f->blocks_.back();
  if (int(dense->input_shape.size()) != last.C || dense->units != model.num_classes()) return nullptr;
  for (size_t j = 1; j < f->blocks_.size(); ++j)
    if (f->blocks_[j].in_sz != f->blocks_[j - 1].out_sz) return nullptr;
  f->dense_ = dense;
  f->classes_ = dense->units;
  f->in_size_ = int(f->blocks_.front().in_sz);
  return f;
}

void FusedConvStep::Reserve(int batch) {
  const size_t shares = size_t(NumThreads());
  if (batch <= capacity_ && blocks_.front().scratch.size() == shares) return;
  capacity_ = std::max(capacity_, batch);
  for (Block& b : blocks_) {
    const size_t C = size_t(b.C);
    b.z.assign(size_t(capacity_) * b.out_sz, 0.0f);
    b.a.assign(size_t(capacity_) * b.out_sz, 0.0f);
    b.dy.assign(size_t(capacity_) * b.out_sz, 0.0f);
    for (auto* v : {&b.mean, &b.invstd, &b.var_unbiased, &b.scale, &b.shift, &b.k, &b.kx, &b.k0}) v->assign(C, 0.0f);
    b.rows.assign(shares, 0);
    for (auto* v : {&b.sum, &b.m2, &b.sum_d, &b.sum_dx}) v->assign(shares, std::vector<double>(C, 0.0));
    b.dw.assign(shares, std::vector<float>(b.conv->kernel.value.size(), 0.0f));
    b.db.assign(shares, std::vector<float>(C, 0.0f));
    b.scratch.resize(shares);
  }
  const size_t K = size_t(blocks_.back().C), U = size_t(classes_);
  probs_.assign(size_t(capacity_) * U, 0.0f);
  logits_.assign(size_t(capacity_) * U, 0.0f);
  gap_.assign(size_t(capacity_) * K, 0.0f);
  dgap_.assign(size_t(capacity_) * K, 0.0f);
  ddense_w_.assign(shares, std::vector<float>(K * U, 0.0f));
  ddense_b_.assign(shares, std::vector<float>(U, 0.0f));
  loss_part_.assign(shares, 0.0);
}

// Phase l of the forward pass: BN+ReLU of block l-1 (its statistics are known), conv l, and the per-share
// statistics of conv l's output.
void FusedConvStep::ForwardBlock(int l, const float* x, int batch, std::vector<char>& used) {
  Block& b = blocks_[size_t(l)];
  Block* prev = l > 0 ? &blocks_[size_t(l - 1)] : nullptr;
  const float* kern = b.conv->kernel.value.data();
  const float* bias = b.conv->use_bias ? b.conv->bias.value.data() : nullptr;
  ParallelFor(batch, [&](long s0, long s1, int c) {
    used[size_t(c)] = 1;
    const float* in = x + size_t(s0) * b.in_sz;
    if (prev) {
      float* a = prev->a.data() + size_t(s0) * prev->out_sz;
      BnReluAny(a, prev->z.data() + size_t(s0) * prev->out_sz, prev->scale.data(), prev->shift.data(),
             (s1 - s0) * prev->hw, prev->C);
      in = a;
    }
    float* z = b.z.data() + size_t(s0) * b.out_sz;
    conv2d_forward(z, in, kern, bias, b.conv->Geometry(int(s1 - s0)), b.scratch[size_t(c)]);
    b.rows[size_t(c)] = (s1 - s0) * b.hw;
    ShareStatsAny(b.sum[size_t(c)].data(), b.m2[size_t(c)].data(), z, b.rows[size_t(c)], b.C);
  });
  MergeBatchStatistics(b, batch, used);
}

// Batch mean and variance of block b from its shares, BN's scale and shift, and the moving statistics.
void FusedConvStep::MergeBatchStatistics(Block& b, int batch, const std::vector<char>& used) {
  const size_t shares = used.size();
  // Merge the shares in order (Chan et al.): M2 = sum M2_s + n_s (mean_s - mean)^2.
  const long M = long(batch) * b.hw;
  BatchNormLayer& bn = *b.bn;
  const float eps = float(bn.epsilon), mom = float(bn.momentum);
  for (int ch = 0; ch < b.C; ++ch) {
    double sum = 0;
    for (size_t s = 0; s < shares; ++s)
      if (used[s]) sum += b.sum[s][size_t(ch)];
    const double mean = sum / double(M);
    double m2 = 0;
    for (size_t s = 0; s < shares; ++s) {
      if (!used[s] || b.rows[s] == 0) continue;
      const double d = b.sum[s][size_t(ch)] / double(b.rows[s]) - mean;
      m2 += b.m2[s][size_t(ch)] + double(b.rows[s]) * d * d;
    }
    m2 = std::max(m2, 0.0);
    const double var = m2 / double(M);
    b.mean[size_t(ch)] = float(mean);
    b.invstd[size_t(ch)] = float(1.0 / std::sqrt(var + eps));
    b.var_unbiased[size_t(ch)] = float(M > 1 ? m2 / double(M - 1) : var);
    b.scale[size_t(ch)] = bn.gamma.value[size_t(ch)] * b.invstd[size_t(ch)];
    b.shift[size_t(ch)] = bn.beta.value[size_t(ch)] - b.mean[size_t(ch)] * b.scale[size_t(ch)];
    // Moving statistics exactly as BatchNormLayer::Forward(training = true).
    float v = b.var_unbiased[size_t(ch)];
    if (!bn.unbiased_moving_variance && M > 1) v = float(double(v) * double(M - 1) / double(M));
    bn.moving_mean.value[size_t(ch)] = bn.moving_mean.value[size_t(ch)] * mom + b.mean[size_t(ch)] * (1.0f - mom);
    bn.moving_variance.value[size_t(ch)] = bn.moving_variance.value[size_t(ch)] * mom + v * (1.0f - mom);
  }
}

// BN+ReLU of the last block, GAP, Dense, softmax cross-entropy and their backward; returns the summed loss.
double FusedConvStep::HeadForwardBackward(const int32_t* labels, int batch, const float* soft,
                                          const std::vector<char>& used) {
  const size_t shares = used.size();
  Block& last = blocks_.back();
  const int K = last.C, U = classes_;
  const float* wd = dense_->kernel.value.data();
  const float* bd = dense_->use_bias ? dense_->bias.value.data() : nullptr;
  ParallelFor(batch, [&](long s0, long s1, int c) {
    float* a = last.a.data() + size_t(s0) * last.out_sz;
    const long rows = (s1 - s0) * last.hw;
    BnReluAny(a, last.z.data() + size_t(s0) * last.out_sz, last.scale.data(), last.shift.data(), rows, K);
    const long ns = s1 - s0;
    float* g = gap_.data() + size_t(s0) * K;
    global_average_pool_forward(g, a, int(ns), last.hw, K);
    float* lg = logits_.data() + size_t(s0) * U;
    dense_forward(lg, g, wd, bd, int(ns), K, U);
    float* p = probs_.data() + size_t(s0) * U;
    const float* t = soft ? soft + size_t(s0) * U : nullptr;
    loss_part_[size_t(c)] =
        double(softmax_cross_entropy_forward(p, lg, labels + s0, int(ns), U, loss_opts_, t)) * double(ns);
    // dlogits (into logits_, no longer needed), normalised by the full batch size.
    softmax_cross_entropy_backward(lg, p, labels + s0, int(ns), U, loss_opts_, batch, t);
    auto& dw = ddense_w_[size_t(c)];
    auto& db = ddense_b_[size_t(c)];
    std::fill(dw.begin(), dw.end(), 0.0f);
    std::fill(db.begin(), db.end(), 0.0f);
    float* dg = dgap_.data() + size_t(s0) * K;
    dense_backward(dg, dw.data(), bd ? db.data() : nullptr, lg, g, wd, int(ns), K, U);
    float* dy = last.dy.data() + size_t(s0) * last.out_sz;
    global_average_pool_backward(dy, dg, int(ns), last.hw, K);
    MaskAndSumsAny(dy, a, last.z.data() + size_t(s0) * last.out_sz, last.mean.data(), last.invstd.data(),
                last.sum_d[size_t(c)].data(), last.sum_dx[size_t(c)].data(), rows, K);
  });
  double loss = 0;
  for (size_t s = 0; s < shares; ++s) {
    if (!used[s]) continue;
    loss += loss_part_[s];
    for (size_t i = 0; i < ddense_w_[s].size(); ++i) dense_->kernel.grad[i] += ddense_w_[s][i];
    if (bd)
      for (int u = 0; u < U; ++u) dense_->bias.grad[size_t(u)] += ddense_b_[s][size_t(u)];
  }
  return loss;
}

// Phase l of the backward pass: dz of block l from its BN coefficients, conv l backward, and the masked sums
// of block l-1 for its own BN backward.
void FusedConvStep::BackwardBlock(int l, const float* x, int batch, const std::vector<char>& used) {
  const size_t shares = used.size();
  Block& b = blocks_[size_t(l)];
  Block* prev = l > 0 ? &blocks_[size_t(l - 1)] : nullptr;
  const long M = long(batch) * b.hw;
  BatchNormLayer& bn = *b.bn;
  for (int ch = 0; ch < b.C; ++ch) {  // BN backward coefficients, as batchnorm_backward
    double sd = 0, sdx = 0;
    for (size_t s = 0; s < shares; ++s)
      if (used[s]) sd += b.sum_d[s][size_t(ch)], sdx += b.sum_dx[s][size_t(ch)];
    bn.gamma.grad[size_t(ch)] += float(sdx);
    bn.beta.grad[size_t(ch)] += float(sd);
    const float kc = bn.gamma.value[size_t(ch)] * b.invstd[size_t(ch)];
    const float av = float(sd / double(M)), bv = float(sdx / double(M));
    b.k[size_t(ch)] = kc;
    b.kx[size_t(ch)] = -kc * bv * b.invstd[size_t(ch)];
    b.k0[size_t(ch)] = kc * (bv * b.invstd[size_t(ch)] * b.mean[size_t(ch)] - av);
  }
  const float* kern = b.conv->kernel.value.data();
  const bool has_bias = b.conv->use_bias;
  ParallelFor(batch, [&](long s0, long s1, int c) {
    const long rows = (s1 - s0) * b.hw;
    float* dz = b.dy.data() + size_t(s0) * b.out_sz;
    BnBackwardApply(dz, b.z.data() + size_t(s0) * b.out_sz, b.k.data(), b.kx.data(), b.k0.data(), rows, b.C);
    auto& dw = b.dw[size_t(c)];
    auto& db = b.db[size_t(c)];
    std::fill(dw.begin(), dw.end(), 0.0f);
    std::fill(db.begin(), db.end(), 0.0f);
    const float* in = prev ? prev->a.data() + size_t(s0) * b.in_sz : x + size_t(s0) * b.in_sz;
    float* din = prev ? prev->dy.data() + size_t(s0) * b.in_sz : nullptr;
    conv2d_backward(din, dw.data(), has_bias ? db.data() : nullptr, dz, in, kern, b.conv->Geometry(int(s1 - s0)),
                    b.scratch[size_t(c)]);
    if (prev)
      MaskAndSumsAny(din, prev->a.data() + size_t(s0) * prev->out_sz, prev->z.data() + size_t(s0) * prev->out_sz,
                  prev->mean.data(), prev->invstd.data(), prev->sum_d[size_t(c)].data(),
                  prev->sum_dx[size_t(c)].data(), (s1 - s0) * prev->hw, prev->C);
  });
  for (size_t s = 0; s < shares; ++s) {  // share order: deterministic sums
    if (!used[s]) continue;
    float* g = b.conv->kernel.grad.data();
    for (size_t i = 0; i < b.dw[s].size(); ++i) g[i] += b.dw[s][i];
    if (has_bias)
      for (int ch = 0; ch < b.C; ++ch) b.conv->bias.grad[size_t(ch)] += b.db[s][size_t(ch)];
  }
}

float FusedConvStep::Step(const float* x, const int32_t* labels, int batch, const float* soft) {
  if (batch < 1) throw InternalError("FusedConvStep: batch < 1");
  for (int n = 0; n < batch; ++n)
    if (labels[n] < 0 || labels[n] >= classes_)
      throw UsageError("softmax_cross_entropy: label " + std::to_string(labels[n]) + " of sample " +
                       std::to_string(n) + " outside [0, " + std::to_string(classes_) + ")");
  Reserve(batch);
  std::vector<char> used(size_t(NumThreads()), 0);
  const int L = int(blocks_.size());
  for (int l = 0; l < L; ++l) ForwardBlock(l, x, batch, used);
  const double loss = HeadForwardBackward(labels, batch, soft, used);
  for (int l = L - 1; l >= 0; --l) BackwardBlock(l, x, batch, used);
  return float(loss / double(batch));
}

}  // namespace kws
