// Magnitude pruning with TF Model Optimization semantics (TF Model Optimization, tensorflow_model_optimization/python/core/sparsity/keras/), and
// structured (whole-filter) pruning.
//
// Unstructured, per step of training (step = 0-based optimizer iteration):
//   UpdatePruningMasks(params, schedule, step);   // before Forward, like TFMOT's wrapper
//   ... forward / backward ...
//   optimizer.Step(params, lr);                   // keeps masked weights at 0
// Masks are recomputed only when schedule.ShouldPrune(step); in between the
// last mask stays (Param::mask) and the optimizer re-zeroes pruned weights.
// Only Param::prunable tensors (conv2d/dense kernels) get masks.
//
// Threshold per tensor, as TFMOT's pruning_impl._update_mask computes it:
//   k = max(1, round_half_even(float32(N) * float32(1 - s)))   (tf.math.round is banker's rounding)
//   threshold = the k-th largest |w|;  mask = |w| >= threshold
// Exactly-tied magnitudes at the threshold are all kept (so more than k can
// survive, only when values tie exactly), which is deterministic and matches TFMOT.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace kws {

struct PruningSchedule {
  std::string type = "polynomial";  // "polynomial" (PolynomialDecay) | "constant" (ConstantSparsity)
  double initial_sparsity = 0.2;    // polynomial only
  double final_sparsity = 0.85;     // polynomial: final; constant: the target
  long begin_step = 0;
  long end_step = 1000;             // constant: -1 = no end
  double power = 3.0;               // polynomial
  long frequency = 100;

  void Validate() const;  // throws UsageError("pruning: ...")
  // begin <= step <= end (or end == -1 for constant) and (step - begin) % frequency == 0
  bool ShouldPrune(long step) const;
  // polynomial: p = clip((step-begin)/(end-begin), 0, 1); s = final + (initial-final)*(1-p)^power
  // constant:   s = final_sparsity
  double Sparsity(long step) const;
  nlohmann::json ToJson() const;
  static PruningSchedule FromJson(const nlohmann::json& j);  // keys as the fields; "target_sparsity" = final
};

// Number of weights kept for n weights at sparsity s: max(1, round_half_even(float(n)*float(1-s))).
size_t KeptCount(size_t n, double sparsity);
// Mask keeping every |w| >= the KeptCount-th largest |w|.
std::vector<uint8_t> MagnitudeMask(const std::vector<float>& w, double sparsity);

// If schedule.ShouldPrune(step): recomputes the mask of every prunable param at
// schedule.Sparsity(step) and zeroes the pruned weights; returns true. Else false.
bool UpdatePruningMasks(const std::vector<Param*>& params, const PruningSchedule& schedule, long step);

struct TensorSparsity {
  std::string name;
  size_t size = 0, zeros = 0;
  double sparsity = 0.0;  // zeros / size, realised
};
// Realised sparsity of every prunable param (zeros counted in the values).
std::vector<TensorSparsity> SparsityReport(const std::vector<Param*>& params);
// Drops the masks (TFMOT strip_pruning); the zeroed weights stay zero.
void StripMasks(const std::vector<Param*>& params);

// ---------------------------------------------------------------------------
// Structured pruning: remove whole output filters of a conv2d.
//
// RemoveFilters MUTATES the layers in place. layers[conv_index] must be a
// conv2d; its output filters not in `keep` are deleted (kernel columns, bias,
// mask). Then the channels are followed downstream: batchnorm (gamma, beta,
// moving stats shrink), channel-wise layers (relu, dropout, pools,
// global_average_pool: only input_shape.c changes), depthwise_conv2d (its
// channels shrink and the walk continues with its outputs), up to and
// including the next conv2d (input-channel rows of its kernel removed) or
// dense (rows removed for every spatial position). Optimizer state of resized
// params restarts from zero (Optimizer keys state by name and size).
// Throws UsageError on a bad index/keep list or a layer type it cannot follow.
// ---------------------------------------------------------------------------
// L1 norm of each output filter of a conv2d kernel (KH,KW,IC,OC): sum over KH,KW,IC of |w|.
std::vector<double> FilterL1Norms(const Layer& conv);
// The `count` filters with the largest L1 norms (ties -> lower index), ascending.
std::vector<int> SelectFiltersByL1(const std::vector<double>& l1, int count);
void RemoveFilters(std::vector<std::unique_ptr<Layer>>& layers, size_t conv_index, const std::vector<int>& keep);
// The same along an explicit chain of layer indices: chain[0] the conv2d, then the channel-wise layers its
// output flows through, ending at the conv2d or dense that reads it (graph models: see FilterChain).
void RemoveFiltersAlong(std::vector<std::unique_ptr<Layer>>& layers, const std::vector<size_t>& chain,
                        const std::vector<int>& keep);
// In a graph (inputs[i] = producers of layer i, -1 = the model input): the chain from conv layer
// `conv_index` through layers that each read only its predecessor and are its only reader, with
// channel-wise types (batchnorm, relu, dropout, pools, depthwise_conv2d, swish, hard_swish, mean),
// to the conv2d or dense that ends it; empty when the channels fan out, meet a sum or concatenation,
// or reach the output (then the filters cannot be removed without changing other layers).
std::vector<size_t> FilterChain(const std::vector<std::unique_ptr<Layer>>& layers,
                                const std::vector<std::vector<int>>& inputs, size_t conv_index);
// Keeps max(1, round(filters*(1-fraction))) filters, or `count` when count > 0. Returns the kept indices.
std::vector<int> PruneFiltersL1(std::vector<std::unique_ptr<Layer>>& layers, size_t conv_index, double fraction,
                                int count = 0);

}  // namespace kws
