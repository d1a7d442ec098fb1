#include "export/graph.h"

#include <algorithm>
#include <sstream>

#include "util/error.h"

namespace kws::ir {

const char* OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kConv2D: return "CONV_2D";
    case OpKind::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpKind::kFullyConnected: return "FULLY_CONNECTED";
    case OpKind::kAveragePool2D: return "AVERAGE_POOL_2D";
    case OpKind::kMaxPool2D: return "MAX_POOL_2D";
    case OpKind::kMean: return "MEAN";
    case OpKind::kReshape: return "RESHAPE";
    case OpKind::kSoftmax: return "SOFTMAX";
    case OpKind::kAdd: return "ADD";
    case OpKind::kMul: return "MUL";
    case OpKind::kConcatenation: return "CONCATENATION";
    case OpKind::kLogistic: return "LOGISTIC";
    case OpKind::kHardSwish: return "HARD_SWISH";
    case OpKind::kPad: return "PAD";
  }
  return "?";
}

int OutputSize(int in, int k, int stride, Padding p) {
  if (p == Padding::kSame) return (in + stride - 1) / stride;
  return (in - k + stride) / stride;
}

int PadBefore(int in, int k, int stride, Padding p) {
  if (p == Padding::kValid) return 0;
  int out = OutputSize(in, k, stride, p);
  int total = std::max((out - 1) * stride + k - in, 0);
  return total / 2;
}

namespace {

size_t Count(const std::vector<int>& s) {
  size_t n = 1;
  for (int d : s) n *= size_t(d);
  return n;
}

[[noreturn]] void Fail(const std::string& op, const std::string& msg) {
  throw InternalError("graph: op '" + op + "': " + msg);
}

std::string ShapeStr(const std::vector<int>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

}  // namespace

size_t Graph::NumElements(int v) const { return Count(shapes.at(v)); }

int Graph::AddValue(const std::vector<int>& shape, const std::string& name) {
  shapes.push_back(shape);
  names.push_back(name);
  return int(shapes.size()) - 1;
}

int Graph::AddInput(const std::vector<int>& shape, const std::string& name) {
  if (!shapes.empty()) throw InternalError("graph: the input must be the first value");
  input = AddValue(shape, name);
  output = input;
  return input;
}

int Graph::Conv2D(int x, std::vector<float> w, const std::vector<int>& dims, std::vector<float> bias, int sh,
                  int sw, Padding p, Activation act, const std::string& name, int dh, int dw) {
  const auto& in = shapes.at(x);
  if (in.size() != 4) Fail(name, "input must be NHWC, got " + ShapeStr(in));
  if (dims.size() != 4 || dims[3] != in[3]) Fail(name, "weights " + ShapeStr(dims) + " do not fit input " + ShapeStr(in));
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1) Fail(name, "strides and dilations must be >= 1");
  int oh = OutputSize(in[1], (dims[1] - 1) * dh + 1, sh, p), ow = OutputSize(in[2], (dims[2] - 1) * dw + 1, sw, p);
  if (oh < 1 || ow < 1) Fail(name, "kernel larger than the VALID input " + ShapeStr(in));
  if (bias.empty()) bias.assign(dims[0], 0.0f);
  Op op{OpKind::kConv2D, name, x, 0, std::move(w), dims, std::move(bias), sh, sw, p, act};
  op.dilation_h = dh, op.dilation_w = dw;
  op.output = AddValue({in[0], oh, ow, dims[0]}, name);
  ops.push_back(std::move(op));
  output = ops.back().output;
  return output;
}

int Graph::DepthwiseConv2D(int x, std::vector<float> w, const std::vector<int>& dims, std::vector<float> bias,
                           int mult, int sh, int sw, Padding p, Activation act, const std::string& name, int dh,
                           int dw) {
  const auto& in = shapes.at(x);
  if (in.size() != 4) Fail(name, "input must be NHWC, got " + ShapeStr(in));
  if (mult < 1 || dims.size() != 4 || dims[0] != 1 || dims[3] != in[3] * mult)
    Fail(name, "weights " + ShapeStr(dims) + " do not fit input " + ShapeStr(in) + " with multiplier " + std::to_string(mult));
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1) Fail(name, "strides and dilations must be >= 1");
  int oh = OutputSize(in[1], (dims[1] - 1) * dh + 1, sh, p), ow = OutputSize(in[2], (dims[2] - 1) * dw + 1, sw, p);
  if (oh < 1 || ow < 1) Fail(name, "kernel larger than the VALID input " + ShapeStr(in));
  if (bias.empty()) bias.assign(dims[3], 0.0f);
  Op op{OpKind::kDepthwiseConv2D, name, x, 0, std::move(w), dims, std::move(bias), sh, sw, p, act, mult};
  op.dilation_h = dh, op.dilation_w = dw;
  op.output = AddValue({in[0], oh, ow, dims[3]}, name);
  ops.push_back(std::move(op));
  output = ops.back().output;
  return output;
}

int Graph::FullyConnected(int x, std::vector<float> w, const std::vector<int>& dims, std::vector<float> bias,
                          Activation act, const std::string& name) {
  const auto& in = shapes.at(x);
  if (dims.size() != 2) Fail(name, "weights must be [out, in], got " + ShapeStr(dims));
  size_t n = Count(in);
  int batch = in.empty() ? 1 : in[0];
  if (batch < 1 || n % size_t(batch) != 0 || n / size_t(batch) != size_t(dims[1]))
    Fail(name, "weights " + ShapeStr(dims) + " do not fit input " + ShapeStr(in));
  if (bias.empty()) bias.assign(dims[0], 0.0f);
  Op op{OpKind::kFullyConnected, name, x, 0, std::move(w), dims, std::move(bias), 1, 1, Padding::kValid, act};
  op.output = AddValue({batch, dims[0]}, name);
  ops.push_back(std::move(op));
  output = ops.back().output;
  return output;
}

int Graph::SumClasses(int x, const std::vector<int>& output_of, const std::string& name) {
  if (output_of.empty()) Fail(name, "no classes to sum");
  const int K = int(output_of.size()), O = *std::max_element(output_of.begin(), output_of.end()) + 1;
  std::vector<float> w(size_t(O) * size_t(K), 0.0f);
  for (int k = 0; k < K; ++k) {
    if (output_of[size_t(k)] < 0) Fail(name, "negative output index");
    w[size_t(output_of[size_t(k)]) * size_t(K) + size_t(k)] = 1.0f;
  }
  return FullyConnected(x, std::move(w), {O, K}, {}, Activation::kNone, name);
}

int Graph::AddPool(OpKind kind, int x, int fh, int fw, int sh, int sw, Padding p, const std::string& name) {
  const auto& in = shapes.at(x);
  if (in.size() != 4) Fail(name, "input must be NHWC, got " + ShapeStr(in));
  if (fh < 1 || fw < 1 || sh < 1 || sw < 1) Fail(name, "filter and strides must be >= 1");
  int oh = OutputSize(in[1], fh, sh, p), ow = OutputSize(in[2], fw, sw, p);
  if (oh < 1 || ow < 1) Fail(name, "filter larger than the VALID input " + ShapeStr(in));
  Op op{kind, name, x};
  op.filter_h = fh;
  op.filter_w = fw;
  op.stride_h = sh;
  op.stride_w = sw;
  op.padding = p;
  op.output = AddValue({in[0], oh, ow, in[3]}, name);
  ops.push_back(std::move(op));
  output = ops.back().output;
  return output;
}

int Graph::AveragePool2D(int x, int fh, int fw, int sh, int sw, Padding p, const std::string& name) {
  return AddPool(OpKind::kAveragePool2D, x, fh, fw, sh, sw, p, name);
}
int Graph::MaxPool2D(int x, int fh, int fw, int sh, int sw, Padding p, const std::string& name) {
  return AddPool(OpKind::kMaxPool2D, x, fh, fw, sh, sw, p, name);
}

int Graph::Mean(int x, const std::string& name) {
  const auto& in = shapes.at(x);
  if (in.size() != 4) Fail(name, "MEAN over H,W needs an NHWC input, got " + ShapeStr(in));
  Op op{OpKind::kMean, name, x};
  op.output = AddValue({in[0], in[3]}, name);
  ops.push_back(std::move(op));
  output = ops.back().output;
  return output;
}

int Graph::Reshape(int x, const std::vector<int>& new_shape, const std::string& name) {
  if (Count(new_shape) != Count(shapes.at(x)))
    Fail(name, "cannot reshape " + ShapeStr(shapes.at(x)) + " to " + ShapeStr(new_shape));
  Op op{OpKind::kReshape, name, x};
  op.new_shape = new_shape;
  op.output = AddValue(new_shape, name);
  ops.push_back(std::move(op));
  output = ops.back().output;
  return output;
}

int Graph::Softmax(int x, float beta, const std::string& name) {
  const auto& in = shapes.at(x);
  if (in.empty()) Fail(name, "softmax needs at least one dimension");
  Op op{OpKind::kSoftmax, name, x};
  op.beta = beta;
  op.output = AddValue(in, name);
  ops.push_back(std::move(op));
  output = ops.back().output;
  return output;
}

int Graph::MeanAxes(int x, const std::vector<int>& axes, const std::string& name) {
  std::vector<int> out = shapes.at(x);
  if (out.size() != 4) Fail(name, "MEAN over axes needs an NHWC input, got " + ShapeStr(out));
  for (int a : axes) {
    if (a < 1 || a > 3) Fail(name, "MEAN axis " + std::to_string(a) + " (expected 1, 2 or 3)");
    out[size_t(a)] = 1;
  }
  Op op{OpKind::kMean, name, x};
  op.axes = axes;
  op.output = AddValue(out, name);
  ops.push_back(std::move(op));
  return output = ops.back().output;
}

int Graph::AddUnary(OpKind kind, int x, const std::string& name) {
  Op op{kind, name, x};
  op.output = AddValue(shapes.at(x), name);
  ops.push_back(std::move(op));
  return output = ops.back().output;
}

int Graph::Logistic(int x, const std::string& name) { return AddUnary(OpKind::kLogistic, x, name); }
int Graph::HardSwish(int x, const std::string& name) { return AddUnary(OpKind::kHardSwish, x, name); }

// a (op b or constant c [dims]) with NumPy broadcasting of the 4-D shapes.
int Graph::AddBinary(OpKind kind, int a, int b, std::vector<float> c, const std::vector<int>& dims, Activation act,
                     const std::string& name) {
  const std::vector<int>& sa = shapes.at(a);
  const std::vector<int> sb = b >= 0 ? shapes.at(b) : dims;
  if (b < 0 && c.size() != Count(dims)) Fail(name, std::to_string(c.size()) + " constants for dims " + ShapeStr(dims));
  if (sa.size() != sb.size()) Fail(name, "operands " + ShapeStr(sa) + " and " + ShapeStr(sb) + " differ in rank");
  std::vector<int> out(sa.size());
  for (size_t d = 0; d < sa.size(); ++d) {
    if (sa[d] != sb[d] && sa[d] != 1 && sb[d] != 1)
      Fail(name, "operands " + ShapeStr(sa) + " and " + ShapeStr(sb) + " do not broadcast");
    out[d] = std::max(sa[d], sb[d]);
  }
  Op op{kind, name, a};
  if (b >= 0) op.more_inputs = {b};
  op.weights = std::move(c);
  if (b < 0) op.weight_dims = dims;
  op.activation = act;
  op.output = AddValue(out, name);
  ops.push_back(std::move(op));
  return output = ops.back().output;
}

int Graph::Add(int a, int b, Activation act, const std::string& name) {
  return AddBinary(OpKind::kAdd, a, b, {}, {}, act, name);
}
int Graph::Mul(int a, int b, const std::string& name) {
  return AddBinary(OpKind::kMul, a, b, {}, {}, Activation::kNone, name);
}
int Graph::AddConst(int x, std::vector<float> c, const std::vector<int>& dims, const std::string& name) {
  return AddBinary(OpKind::kAdd, x, -1, std::move(c), dims, Activation::kNone, name);
}
int Graph::MulConst(int x, std::vector<float> c, const std::vector<int>& dims, const std::string& name) {
  return AddBinary(OpKind::kMul, x, -1, std::move(c), dims, Activation::kNone, name);
}

int Graph::Concatenation(const std::vector<int>& xs, const std::string& name) {
  if (xs.size() < 2) Fail(name, "CONCATENATION needs at least 2 inputs");
  std::vector<int> out = shapes.at(xs[0]);
  out.back() = 0;
  for (int x : xs) {
    const auto& s = shapes.at(x);
    if (s.size() != out.size() || !std::equal(s.begin(), s.end() - 1, out.begin()))
      Fail(name, "inputs " + ShapeStr(shapes.at(xs[0])) + " and " + ShapeStr(s) + " differ outside the last axis");
    out.back() += s.back();
  }
  Op op{OpKind::kConcatenation, name, xs[0]};
  op.more_inputs.assign(xs.begin() + 1, xs.end());
  op.output = AddValue(out, name);
  ops.push_back(std::move(op));
  return output = ops.back().output;
}

int Graph::Pad(int x, int top, int bottom, int left, int right, const std::string& name) {
  std::vector<int> out = shapes.at(x);
  if (out.size() != 4) Fail(name, "PAD needs an NHWC input, got " + ShapeStr(out));
  if (top < 0 || bottom < 0 || left < 0 || right < 0) Fail(name, "negative padding");
  out[1] += top + bottom, out[2] += left + right;
  Op op{OpKind::kPad, name, x};
  op.paddings = {top, bottom, left, right};
  op.output = AddValue(out, name);
  ops.push_back(std::move(op));
  return output = ops.back().output;
}

void Graph::Validate() const {
  if (input != 0 || shapes.empty()) throw InternalError("graph: no input");
  if (output < 0 || output >= int(shapes.size())) throw InternalError("graph: no output");
  if (shapes[input].empty() || shapes[input][0] != 1)
    throw InternalError("graph: input " + ShapeStr(shapes[input]) + " must have batch 1");
  std::vector<bool> defined(shapes.size(), false);
  defined[input] = true;
  for (const Op& op : ops) {
    if (op.input < 0 || op.input >= int(shapes.size()) || !defined[op.input])
      Fail(op.name, "input value " + std::to_string(op.input) + " is not defined before use");
    for (int m : op.more_inputs)
      if (m < 0 || m >= int(shapes.size()) || !defined[m])
        Fail(op.name, "input value " + std::to_string(m) + " is not defined before use");
    if (op.output <= 0 || op.output >= int(shapes.size()) || defined[op.output])
      Fail(op.name, "output value " + std::to_string(op.output) + " is invalid or written twice");
    defined[op.output] = true;
    bool weighted = op.kind == OpKind::kConv2D || op.kind == OpKind::kDepthwiseConv2D ||
                    op.kind == OpKind::kFullyConnected;
    if (weighted) {
      if (op.weights.size() != Count(op.weight_dims))
        Fail(op.name, std::to_string(op.weights.size()) + " weights for dims " + ShapeStr(op.weight_dims));
      int out_c = op.kind == OpKind::kDepthwiseConv2D ? op.weight_dims[3] : op.weight_dims[0];
      if (int(op.bias.size()) != out_c) Fail(op.name, "bias size " + std::to_string(op.bias.size()) + " != " + std::to_string(out_c));
      if (shapes[op.output].back() != out_c) Fail(op.name, "output channels do not match the weights");
    }
  }
  if (!defined[output]) throw InternalError("graph: output value is never computed");
}

std::string Graph::Summary() const {
  std::ostringstream os;
  os << "input " << names[input] << " " << ShapeStr(shapes[input]) << "\n";
  for (const Op& op : ops) {
    os << OpKindName(op.kind) << " " << op.name << " -> " << ShapeStr(shapes[op.output]);
    if (!op.weight_dims.empty()) os << (op.kind == OpKind::kAdd || op.kind == OpKind::kMul ? " constant " : " weights ")
                                     << ShapeStr(op.weight_dims);
    if (op.dilation_h != 1 || op.dilation_w != 1) os << " dilation " << op.dilation_h << "x" << op.dilation_w;
    if (op.activation == Activation::kRelu) os << " relu";
    if (op.activation == Activation::kRelu6) os << " relu6";
    os << "\n";
  }
  return os.str();
}

std::vector<std::string> Graph::OpsUsed() const {
  std::vector<std::string> r;
  for (const Op& op : ops) {
    std::string n = OpKindName(op.kind);
    if (std::find(r.begin(), r.end(), n) == r.end()) r.push_back(n);
  }
  return r;
}

}  // namespace kws::ir
