// IR -> .tflite exporters: float32, dynamic-range ("hybrid", the TFLite converter's default
// optimization) and full int8 (calibrated on a representative set), plus C-source output and the
// in-memory zip size used for the size budget.
//
// Conventions (the TFLite 8-bit quantization specification, tensorflow.org/lite/performance/quantization_spec):
//  * dynamic: Conv2D weights int8 symmetric per output channel (quantized_dimension 0), DepthwiseConv2D
//    per channel (dimension 3), FullyConnected per tensor; scale = max|w|/127, zero point 0, values in
//    [-127, 127]. Weight tensors with fewer than `dynamic_min_elements` (1024) elements stay float and
//    their op stays a plain float op. Activations and biases stay float. FULLY_CONNECTED hybrid ops get
//    asymmetric_quantize_inputs = true (what the modern converter writes; op version 9): the runtime
//    then quantizes the FC input asymmetrically per batch row. Conv2D has no such option: TFLite's
//    per-channel hybrid conv always quantizes its input asymmetrically per batch item, the per-tensor one
//    (a single output channel) symmetrically.
//  * int8: activations int8 asymmetric per tensor from the calibration min/max (range widened to
//    include 0; zero point nudged into [-128, 127]); int8 input and output tensors (or float I/O with
//    QUANTIZE/DEQUANTIZE when int8_io = false); weights as above but always quantized; biases int32 with
//    scale input_scale * weight_scale[c], zero point 0; softmax output scale 1/256, zero point -128;
//    average/max pool and reshape outputs keep their input's scale and zero point; MEAN gets its own
//    calibrated range (TFLite's int8 MEAN requantizes). All-zero weight channels (pruned) get scale 1/127.
//    int8_weights = kPerTensor: conv/depthwise/FC weights get one scale (max|w|/127 over the whole
//    tensor) and the bias one scale input_scale * weight_scale; saves the per-channel scale vectors of
//    weights and bias (8 B per output channel per layer; all-zero zero-point vectors are shared) at some
//    accuracy risk for channels with small weights. kPerChannel with `per_tensor_ops` mixes the two per
//    op (export/export_model.h's "fit" picks them under a byte budget).
//  * global_pool = kAveragePool: a MEAN over H,W whose result feeds only FULLY_CONNECTED ops is written as
//    AVERAGE_POOL_2D with the whole spatial extent as window (VALID, output [1,1,1,C]; FC flattens it), so
//    no axes constant; in int8 its output keeps the input's scale and zero point (no requantization, so
//    int8 rounding differs slightly from MEAN's; the file's runtimes agree with each other).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "export/graph.h"
#include "tflite/builder.h"
#include "tflite/metadata.h"

namespace kws {

enum class QuantMode { kFloat, kDynamic, kInt8 };
enum class Int8Weights { kPerChannel, kPerTensor, kFit };
enum class GlobalPool { kMean, kAveragePool };
const char* QuantModeName(QuantMode m);                 // "float" | "dynamic" | "int8"
QuantMode ParseQuantMode(const std::string& s);         // throws UsageError naming --quant
const char* Int8WeightsName(Int8Weights w);             // "per-channel" | "per-tensor" | "fit"
Int8Weights ParseInt8Weights(const std::string& s);     // throws UsageError naming --int8-weights
const char* GlobalPoolName(GlobalPool p);               // "mean" | "avg-pool"
GlobalPool ParseGlobalPool(const std::string& s);       // throws UsageError naming --global-pool

// TFLite-style asymmetric int8 parameters for a real range (widened to include 0: ChooseInt8Params).
struct AffineQuant { float scale = 1.0f; int zero_point = 0; };

struct ExportOptions {
  QuantMode quant = QuantMode::kFloat;
  int dynamic_min_elements = 1024;         // converter default: smaller weight tensors stay float
  bool dynamic_fc_asymmetric_inputs = true;
  bool int8_io = true;                     // int8 model: int8 input/output tensors (micro-style)
  Int8Weights int8_weights = Int8Weights::kPerChannel;  // int8 model: weight scale granularity (not kFit)
  // int8, kPerChannel: indices into g.ops of conv/depthwise ops whose weights get one scale anyway.
  std::vector<int> per_tensor_ops;
  GlobalPool global_pool = GlobalPool::kMean;            // how a global average pool (MEAN over H,W) is written
  std::string description = "kws";
  bool write_signature = false;            // "serving_default" SignatureDef
  bool legacy_opcodes = false;             // old-converter op codes (deprecated_builtin_code only), for reader tests
  // Names on constant tensors ("conv2d_1/weights"). Off by default: no reader needs them (TFLite, TFLite
  // Micro and Arm NN find constants by index; activations and graph inputs/outputs keep their names),
  // and they cost ~20 bytes each (~230 B on the seed model).
  bool const_tensor_names = false;
  std::optional<tfl::KwsMetadata> metadata;  // written as the "kws" metadata entry (quant is filled in)
  // int8 model: the input's scale and zero point, instead of the calibrated range. For the micro
  // front end (features/micro/frontend.h) they are micro::kInputScale and -128, so the input takes the
  // front end's int8 output as is.
  std::optional<AffineQuant> input_quant;

  void Validate() const;  // throws UsageError
};

// Per-value activation ranges from running the float graph over a representative set.
struct Calibration {
  std::vector<float> min, max;  // indexed by graph value id
  int samples = 0;
};
// samples: each one input tensor (graph.NumElements(graph.input) floats). Throws UsageError if empty or
// a sample has the wrong size.
Calibration Calibrate(const ir::Graph& g, const std::vector<std::vector<float>>& samples);

AffineQuant ChooseInt8Params(float min, float max);

// Symmetric int8 quantization of a weight tensor along `axis` (-1 = per tensor): values in
// [-127,127], zero point 0; returns the per-channel (or single) scales.
std::vector<float> QuantizeSymmetric(const std::vector<float>& w, const std::vector<int>& dims, int axis,
                                     std::vector<int8_t>* q);

// How much int8 per-channel weight scales help op `op` of the graph over one scale per tensor: the mean
// over output channels of the drop in quantization noise-to-signal power, (S^2 - s_c^2) n_c / (12 |w_c|^2)
// (S = max|w|/127, s_c = max|w_c|/127, n_c weights of channel c). 0 for ops without per-channel weights
// (FULLY_CONNECTED stays per tensor) and for all-zero channels.
double PerChannelGain(const ir::Op& op);
// The ops that can take per-channel weight scales (CONV_2D, DEPTHWISE_CONV_2D), by index into g.ops,
// and each one's output channels.
std::vector<std::pair<int, int>> PerChannelCandidates(const ir::Graph& g);

struct ExportInfo {
  std::vector<std::string> ops_used;     // TFLite op names in order of first use
  size_t arena_bytes_estimate = 0;       // peak bytes of live activations (+ hybrid scratch), approximate
  int quantized_weight_tensors = 0;
  int float_weight_tensors = 0;
  AffineQuant input_quant, output_quant;  // int8 only
  tfl::ByteAccount bytes;                 // where the file's bytes went
};

// Builds the .tflite bytes. `calibration` is required for int8 (see Calibrate).
std::string ExportTflite(const ir::Graph& g, const ExportOptions& opts, const Calibration* calibration = nullptr,
                         ExportInfo* info = nullptr);

// C source: a header comment, then
//   alignas(16) const unsigned char <name>[] = {...};
//   const unsigned int <name>_len = N;
// `name` must be a C identifier (UsageError otherwise).
std::string ToCSource(std::string_view bytes, const std::string& name, const std::string& comment);

// The bytes of a .zip archive (deflate, libzip, in memory) holding `bytes` as `entry_name`, and its size.
// level: 1..9, or 0 for zlib's default (6, as Python's zipfile uses).
std::string ZipBytes(std::string_view bytes, const std::string& entry_name = "model.tflite", int level = 0);
size_t ZipSize(std::string_view bytes, const std::string& entry_name = "model.tflite", int level = 0);

}  // namespace kws
