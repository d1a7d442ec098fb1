// One training step of a plain conv stack, fused and batch-parallel:
//
//   [Conv2D -> BatchNorm -> ReLU] x L -> GlobalAveragePool -> Dense -> softmax cross-entropy
//
// (the seed recipe's network). The math is the layers' own (conv2d_forward / conv2d_backward on
// sub-batches, the BatchNorm and ReLU formulas of batchnorm.cc / relu.cc), but organised for a
// tiny network where the generic layer-by-layer path spends most of its time in fork/join:
//  - each thread takes one contiguous share of the batch through every layer, so a step has
//    2L+1 parallel phases (L forward, the head, L backward) instead of ~8 per conv block;
//  - BatchNorm statistics are combined across the shares at the phase boundaries (per-share mean
//    and squared deviations, merged with Chan's formula in share order: deterministic for a
//    given thread count);
//  - BN apply + ReLU run inside the next conv's phase, ReLU + BN backward inside the conv's
//    backward phase, GAP + Dense + loss + their backward in one phase.
// Gradients accumulate (+=) into Param::grad like Model::Backward; the BatchNorm moving statistics
// are updated like BatchNormLayer::Forward(training = true). Results equal the generic path up to
// float rounding (different summation order); tests/train hold the two to each other.
//
//   auto fused = FusedConvStep::TryCreate(model);   // nullptr: the model has another shape
//   float loss = fused->Step(x, labels, n);         // after ZeroGrads(params)
//   const float* p = fused->probs();                // (n, classes)
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"

namespace kws {

// For tests: false runs the portable loops instead of the AVX-512 ones for 16-channel blocks.
void FusedConvStepAllowAvx512(bool allow);

class FusedConvStep {
 public:
  // nullptr unless the model is exactly the stack above (any conv geometry, with or without bias).
  static std::unique_ptr<FusedConvStep> TryCreate(Model& model);
  ~FusedConvStep();

  // Forward (training mode), loss, backward for `batch` inputs (batch, H, W, C). Returns the mean loss.
  // `soft` (may be null): (batch, classes) soft targets, as Model::Loss.
  float Step(const float* x, const int32_t* labels, int batch, const float* soft = nullptr);
  const float* probs() const { return probs_.data(); }

 private:
  struct Block;
  FusedConvStep() = default;
  void Reserve(int batch);
  // Step's phases; `used[s]` marks the thread shares that ran (their partial sums are merged in share order).
  void ForwardBlock(int l, const float* x, int batch, std::vector<char>& used);
  void MergeBatchStatistics(Block& b, int batch, const std::vector<char>& used);
  double HeadForwardBackward(const int32_t* labels, int batch, const float* soft, const std::vector<char>& used);
  void BackwardBlock(int l, const float* x, int batch, const std::vector<char>& used);

  std::vector<Block> blocks_;
  class DenseLayer* dense_ = nullptr;
  int classes_ = 0, in_size_ = 0, capacity_ = 0;
  std::vector<float> probs_, logits_, gap_, dgap_;
  std::vector<std::vector<float>> ddense_w_, ddense_b_;  // per share
  std::vector<double> loss_part_;
  CrossEntropyOptions loss_opts_;  // the model's, at TryCreate
};

}  // namespace kws
