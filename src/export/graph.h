// The exporter's float graph IR: an inference-only network in TFLite's own terms (NHWC, batch 1,
// BatchNorm already folded, ReLU fused), from which the .tflite writers (export/tflite_export.h) produce
// float32, dynamic-range and full-int8 models, and which the reference evaluator
// (export/reference_eval.h) runs in plain float for calibration and tests.
//
//   kws::ir::Graph g;
//   int x = g.AddInput({1, 97, 20, 1}, "input");
//   x = g.Conv2D(x, w /*OHWI*/, {16, 3, 3, 1}, bias, 2, 2, ir::Padding::kSame, ir::Activation::kRelu, "conv1");
//   x = g.Mean(x, "gap");                      // [1,H,W,C] -> [1,C]
//   x = g.FullyConnected(x, wfc /*[out,in]*/, {12, 16}, bfc, ir::Activation::kNone, "dense");
//   x = g.Softmax(x, 1.0f, "softmax");
//   g.SetOutput(x);
//
// Values (activation tensors) are numbered; value 0 is the input. Shapes follow TFLite's rules:
// SAME: out = ceil(in / stride); VALID: out = ceil((in - k + 1) / stride).
#pragma once
#include <string>
#include <vector>

namespace kws::ir {

enum class OpKind {
  kConv2D, kDepthwiseConv2D, kFullyConnected, kAveragePool2D, kMaxPool2D, kMean, kReshape, kSoftmax,
  kAdd, kMul, kConcatenation, kLogistic, kHardSwish, kPad
};
enum class Padding { kSame, kValid };
enum class Activation { kNone, kRelu, kRelu6 };

const char* OpKindName(OpKind k);  // "CONV_2D", ... (TFLite op names)

struct Op {
  OpKind kind;
  std::string name;
  int input = 0;   // value id
  int output = 0;  // value id
  // Conv2D: OHWI [out, kh, kw, in]; DepthwiseConv2D: [1, kh, kw, in*multiplier]; FullyConnected: [out, in].
  std::vector<float> weights;
  std::vector<int> weight_dims;
  std::vector<float> bias;  // size = output channels (never empty after construction; zeros if absent)
  int stride_h = 1, stride_w = 1;
  Padding padding = Padding::kValid;
  Activation activation = Activation::kNone;
  int depth_multiplier = 1;
  int filter_h = 1, filter_w = 1;  // pools
  std::vector<int> new_shape;      // reshape
  float beta = 1.0f;               // softmax
  // ADD / MUL / CONCATENATION: the operands after `input` (value ids). ADD and MUL with no second value
  // take a constant instead: `weights` with dims `weight_dims` (broadcast against the input, NHWC).
  std::vector<int> more_inputs;
  int dilation_h = 1, dilation_w = 1;  // conv / depthwise
  std::vector<int> axes;               // MEAN over these axes with keep_dims (empty: H,W, no keep_dims)
  std::vector<int> paddings;           // PAD: top, bottom, left, right (H and W; batch/channels unpadded)
};

struct Graph {
  std::vector<std::vector<int>> shapes;  // shape of each value
  std::vector<std::string> names;        // name of each value
  std::vector<Op> ops;                   // execution order; op i produces value ops[i].output
  int input = -1;
  int output = -1;

  int AddInput(const std::vector<int>& shape, const std::string& name = "input");
  int Conv2D(int x, std::vector<float> weights_ohwi, const std::vector<int>& dims, std::vector<float> bias,
             int stride_h, int stride_w, Padding padding, Activation act, const std::string& name,
             int dilation_h = 1, int dilation_w = 1);
  // weights [1, kh, kw, in*multiplier]
  int DepthwiseConv2D(int x, std::vector<float> weights, const std::vector<int>& dims, std::vector<float> bias,
                      int multiplier, int stride_h, int stride_w, Padding padding, Activation act,
                      const std::string& name, int dilation_h = 1, int dilation_w = 1);
  // x: [1, in] (or any shape whose element count is `in`: flattened); weights [out, in]
  int FullyConnected(int x, std::vector<float> weights, const std::vector<int>& dims, std::vector<float> bias,
                     Activation act, const std::string& name);
  // Output o = the sum of the inputs k with output_of[k] == o: a FULLY_CONNECTED with 0/1 weights
  // [max(output_of) + 1, in] (data.unknown_subclasses' merge of class probabilities).
  int SumClasses(int x, const std::vector<int>& output_of, const std::string& name);
  int AveragePool2D(int x, int filter_h, int filter_w, int stride_h, int stride_w, Padding padding,
                    const std::string& name);
  int MaxPool2D(int x, int filter_h, int filter_w, int stride_h, int stride_w, Padding padding,
                const std::string& name);
  int Mean(int x, const std::string& name);  // over H,W: [1,H,W,C] -> [1,C]
  // Over the given axes of an NHWC value, keeping them as 1 ([1,H,W,C] -> [1,H,1,C] for axes {2}).
  int MeanAxes(int x, const std::vector<int>& axes, const std::string& name);
  // Element-wise with NumPy broadcasting of NHWC shapes (each axis equal or 1).
  int Add(int a, int b, Activation act, const std::string& name);
  int Mul(int a, int b, const std::string& name);
  // With a constant operand `c` of shape `dims` (broadcastable to x's shape).
  int AddConst(int x, std::vector<float> c, const std::vector<int>& dims, const std::string& name);
  int MulConst(int x, std::vector<float> c, const std::vector<int>& dims, const std::string& name);
  int Concatenation(const std::vector<int>& xs, const std::string& name);  // along channels (the last axis)
  int Logistic(int x, const std::string& name);
  int HardSwish(int x, const std::string& name);
  int Pad(int x, int top, int bottom, int left, int right, const std::string& name);  // zeros around H, W
  int Reshape(int x, const std::vector<int>& new_shape, const std::string& name);
  int Softmax(int x, float beta, const std::string& name);
  void SetOutput(int v) { output = v; }

  // Checks value ids, shapes, weight sizes; throws InternalError("graph: op 'conv1': ...").
  void Validate() const;

  size_t NumElements(int v) const;
  std::string Summary() const;  // one line per op
  std::vector<std::string> OpsUsed() const;  // distinct TFLite op names in order of first use

 private:
  int AddValue(const std::vector<int>& shape, const std::string& name);
  int AddUnary(OpKind kind, int x, const std::string& name);
  int AddBinary(OpKind kind, int a, int b, std::vector<float> c, const std::vector<int>& dims, Activation act,
                const std::string& name);
  int AddPool(OpKind kind, int x, int fh, int fw, int sh, int sw, Padding p, const std::string& name);
};

// TFLite output size along one dimension.
int OutputSize(int in, int k, int stride, Padding p);
// TFLite padding before along one dimension (SAME: floor(total/2), VALID: 0).
int PadBefore(int in, int k, int stride, Padding p);

}  // namespace kws::ir
