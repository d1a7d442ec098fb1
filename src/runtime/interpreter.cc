// The public interpreter (interpreter.h): load (loader.cc) → prepare for the
// input shapes (graph.cc, every op's prepare from ops/) → Invoke = the
// interpreter loop over subgraph 0 (graph.cc), with uint8 graph inputs and
// outputs shown to the kernels as int8.
#include "runtime/interpreter.h"

#include <algorithm>
#include <cstring>

#include "runtime/graph.h"
#include "runtime/kernels/optimized/optimized.h"
#include "runtime/kernels/reference/quantize.h"
#include "runtime/model.h"
#include "runtime/op.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws::rt {

const char* DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kUInt8: return "uint8";
    case DType::kBool: return "bool";
    case DType::kResource: return "resource";
  }
  return "?";
}

std::vector<std::string> SupportedOps() {
  std::vector<std::string> r;
  for (const OpRegistration* op : AllOps()) r.push_back(op->name);
  return r;
}

struct Interpreter::Impl {
  Model model;
  std::unique_ptr<Graph> graph;  // null while the model needs input shapes
  std::string prepare_error;
  KernelSet kernels = KernelSet::kOptimized;
  Int8Arithmetic arithmetic = Int8Arithmetic::kXnnpack;

  void Prepare(const std::vector<std::vector<int>>& input_shapes) {
    auto g = std::make_unique<Graph>(model);
    g->optimized = kernels == KernelSet::kOptimized;
    g->xnnpack = arithmetic == Int8Arithmetic::kXnnpack;
    g->Prepare(input_shapes);
    graph = std::move(g);
    prepare_error.clear();
  }
  Graph& Ready() {
    if (!graph)
      throw UsageError(model.name + ": not prepared (" + prepare_error +
                       "); give the input's shape first (Interpreter::ResizeInput, kws invoke --input-shape)");
    return *graph;
  }
  const std::vector<Tensor>& Tensors0() const {
    return graph ? graph->subgraphs[0].tensors : model.subgraphs[0].tensors;
  }
  const Tensor& T0(int t) const { return Tensors0()[size_t(t)]; }
  uint8_t* Data(int t) { return Ready().subgraphs[0].tensors[size_t(t)].data; }
  void Invoke();
  TensorInfo Info(const Tensor& x) const;
};

void Interpreter::Impl::Invoke() {
  Graph& g = Ready();
  const Subgraph& sg = g.subgraphs[0];
  // uint8 graph inputs arrive as uint8: flip to the int8 view (and back at the end).
  auto flip = [&](int t) {
    uint8_t* p = sg.tensors[size_t(t)].data;
    for (size_t k = 0; k < sg.tensors[size_t(t)].bytes; ++k) p[k] ^= 0x80;
  };
  for (int t : sg.inputs)
    if (sg.tensors[size_t(t)].uint8) flip(t);
  g.subgraph_runs = 0;
  g.Run(0);
  for (int t : sg.inputs)
    if (sg.tensors[size_t(t)].uint8) flip(t);
  for (size_t i = 0; i < sg.outputs.size(); ++i) {
    const int t = sg.outputs[i];
    bool seen = std::find(sg.inputs.begin(), sg.inputs.end(), t) != sg.inputs.end();  // already uint8 again
    for (size_t j = 0; j < i; ++j) seen |= sg.outputs[j] == t;
    if (sg.tensors[size_t(t)].uint8 && !seen) flip(t);
  }
}

TensorInfo Interpreter::Impl::Info(const Tensor& x) const {
  TensorInfo r;
  r.name = x.name;
  r.shape = x.shape;
  r.signature = x.signature;
  r.type = x.type;
  r.bytes = x.bytes;
  if (x.type == DType::kInt8 && !x.scales.empty()) {
    r.scale = x.scales[0];
    r.zero_point = int32_t(x.zero_points[0]);
  }
  if (x.uint8) {  // as the file says: uint8 values, zero point in [0, 255]
    r.type = DType::kUInt8;
    r.zero_point += 128;
  }
  return r;
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::Interpreter(Interpreter&&) noexcept = default;
Interpreter& Interpreter::operator=(Interpreter&&) noexcept = default;
Interpreter::~Interpreter() = default;

Interpreter Interpreter::FromFile(const std::string& path, const LoadLimits& limits) {
  const std::string bytes = ReadFile(path);
  return FromBuffer(path, bytes, limits);
}

Interpreter Interpreter::FromBuffer(const std::string& name, std::string_view bytes, const LoadLimits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->model.name = name;
  impl->model.limits = limits;
  LoadModel(bytes, &impl->model);
  const bool dynamic = impl->model.has_dynamic_inputs();
  try {
    impl->Prepare({});
  } catch (const Error& e) {
    // The file's placeholder shapes of dynamic inputs need not run (openWakeWord's
    // melspectrogram stores [1,1] for audio of any length): wait for ResizeInput.
    if (!dynamic || e.kind() != ErrorKind::kBadInput) throw;
    impl->prepare_error = e.what();
  }
  if (!dynamic) impl->model.ReleaseBytes();  // every option has been read
  return Interpreter(std::move(impl));
}

int Interpreter::num_inputs() const { return int(impl_->model.subgraphs[0].inputs.size()); }
int Interpreter::num_outputs() const { return int(impl_->model.subgraphs[0].outputs.size()); }

TensorInfo Interpreter::input(int i) const {
  if (i < 0 || i >= num_inputs()) throw UsageError(impl_->model.name + ": no input " + std::to_string(i));
  return impl_->Info(impl_->T0(impl_->model.subgraphs[0].inputs[size_t(i)]));
}
TensorInfo Interpreter::output(int i) const {
  if (i < 0 || i >= num_outputs()) throw UsageError(impl_->model.name + ": no output " + std::to_string(i));
  return impl_->Info(impl_->T0(impl_->model.subgraphs[0].outputs[size_t(i)]));
}
void* Interpreter::input_data(int i) {
  if (i < 0 || i >= num_inputs()) throw UsageError(impl_->model.name + ": no input " + std::to_string(i));
  return impl_->Data(impl_->model.subgraphs[0].inputs[size_t(i)]);
}
const void* Interpreter::output_data(int i) const {
  if (i < 0 || i >= num_outputs()) throw UsageError(impl_->model.name + ": no output " + std::to_string(i));
  return impl_->Data(impl_->model.subgraphs[0].outputs[size_t(i)]);
}

void Interpreter::Invoke() { impl_->Invoke(); }

void Interpreter::ResizeInput(int i, const std::vector<int>& shape) {
  if (i < 0 || i >= num_inputs()) throw UsageError(impl_->model.name + ": no input " + std::to_string(i));
  const Tensor& t = impl_->T0(impl_->model.subgraphs[0].inputs[size_t(i)]);
  bool ok = shape.size() == t.signature.size();
  for (size_t d = 0; ok && d < shape.size(); ++d)
    ok = shape[d] > 0 && (t.signature[d] < 0 || t.signature[d] == shape[d]);
  if (!ok)
    throw UsageError(impl_->model.name + ": input " + std::to_string(i) + " '" + t.name + "' has shape signature " +
                     ShapeStr(t.signature) + ", cannot take shape " + ShapeStr(shape));
  if (impl_->graph && shape == t.shape) {  // nothing changes
    impl_->graph->ResetVariables();
    return;
  }
  std::vector<std::vector<int>> shapes;
  for (int k = 0; k < num_inputs(); ++k)
    shapes.push_back(k == i ? shape : impl_->T0(impl_->model.subgraphs[0].inputs[size_t(k)]).shape);
  impl_->Prepare(shapes);
}

bool Interpreter::prepared() const { return impl_->graph != nullptr; }
std::string Interpreter::prepare_error() const { return impl_->prepare_error; }

void Interpreter::ResetVariables() {
  if (impl_->graph) impl_->graph->ResetVariables();
}

void Interpreter::RunFloat(const float* features, float* out) {
  const Subgraph& sg = impl_->Ready().subgraphs[0];
  const int xi = sg.inputs[0], yi = sg.outputs[0];
  const Tensor& x = sg.tensors[size_t(xi)];
  const Tensor& y = sg.tensors[size_t(yi)];
  const std::string& name = impl_->model.name;
  if (x.uint8) {
    ref::QuantizeFloatToUInt8(x.scales[0], int32_t(x.zero_points[0]) + 128, false, x.elements, features, x.data);
  } else if (x.type == DType::kFloat32) {
    std::memcpy(x.data, features, x.bytes);
  } else if (x.type == DType::kInt8) {
    int8_t* q = reinterpret_cast<int8_t*>(x.data);
    if (impl_->kernels == KernelSet::kOptimized)  // identical results, vectorized
      opt::QuantizeFloatToInt8(x.scales[0], int32_t(x.zero_points[0]), x.elements, features, q);
    else
      ref::QuantizeFloatToInt8(x.scales[0], int32_t(x.zero_points[0]), x.elements, features, q);
  } else {
    throw BadInput(name + ": input 0 is " + DTypeName(x.type) + " (RunFloat needs float32 or int8)");
  }
  Invoke();
  if (y.uint8) {
    ref::DequantizeUInt8(y.scales[0], int32_t(y.zero_points[0]) + 128, y.elements, y.data, out);
  } else if (y.type == DType::kFloat32) {
    std::memcpy(out, y.data, y.bytes);
  } else if (y.type == DType::kInt8) {
    ref::DequantizeInt8(y.scales.empty() ? 1.0f : y.scales[0], y.zero_points.empty() ? 0 : int32_t(y.zero_points[0]),
                        y.elements, reinterpret_cast<const int8_t*>(y.data), out);
  } else {
    throw BadInput(name + ": output 0 is " + DTypeName(y.type) + " (RunFloat needs float32 or int8)");
  }
}

std::vector<float> Interpreter::RunFloat(const float* features) {
  std::vector<float> out(size_t(impl_->Ready().subgraphs[0].tensors[size_t(impl_->model.subgraphs[0].outputs[0])].elements));
  RunFloat(features, out.data());
  return out;
}

void Interpreter::set_kernels(KernelSet k) {
  impl_->kernels = k;
  if (impl_->graph) impl_->graph->optimized = k == KernelSet::kOptimized;
}
void Interpreter::set_int8_arithmetic(Int8Arithmetic a) {
  impl_->arithmetic = a;
  if (impl_->graph) impl_->graph->xnnpack = a == Int8Arithmetic::kXnnpack;
}
Int8Arithmetic Interpreter::int8_arithmetic() const { return impl_->arithmetic; }
KernelSet Interpreter::kernels() const { return impl_->kernels; }
size_t Interpreter::arena_bytes() const { return impl_->graph ? impl_->graph->total_arena_bytes : 0; }
int64_t Interpreter::macs() const { return impl_->graph ? impl_->graph->macs : 0; }
int64_t Interpreter::num_weights() const { return impl_->graph ? impl_->graph->weights : 0; }
int64_t Interpreter::num_nonzero_weights() const { return impl_->graph ? impl_->graph->nonzero_weights : 0; }
std::string Interpreter::description() const { return impl_->model.description; }
int Interpreter::num_subgraphs() const { return int(impl_->model.subgraphs.size()); }

int Interpreter::num_tensors(int subgraph) const {
  if (subgraph < 0 || subgraph >= num_subgraphs())
    throw UsageError(impl_->model.name + ": no subgraph " + std::to_string(subgraph));
  return int(impl_->model.subgraphs[size_t(subgraph)].tensors.size());
}

TensorInfo Interpreter::tensor(int t, int subgraph) const {
  if (t < 0 || t >= num_tensors(subgraph)) throw UsageError(impl_->model.name + ": no tensor " + std::to_string(t));
  const auto& ts = impl_->graph ? impl_->graph->subgraphs[size_t(subgraph)].tensors
                                : impl_->model.subgraphs[size_t(subgraph)].tensors;
  return impl_->Info(ts[size_t(t)]);
}

bool Interpreter::has_metadata(const std::string& name) const {
  for (const auto& [n, v] : impl_->model.metadata)
    if (n == name) return true;
  return false;
}

std::string Interpreter::metadata(const std::string& name) const {
  for (const auto& [n, v] : impl_->model.metadata)
    if (n == name) return v;
  return "";
}

std::vector<OpInfo> Interpreter::ops() const {
  std::vector<OpInfo> r;
  if (!impl_->graph) {
    for (const auto& n : impl_->model.subgraphs[0].nodes) r.push_back({0, n.reg->name, "", n.in, n.out, 0});
    return r;
  }
  for (const auto& sg : impl_->graph->subgraphs)
    if (sg.state == Subgraph::State::kPrepared)
      for (const auto& n : sg.nodes) r.push_back({sg.index, n.reg->name, n.kernel, n.in, n.out, n.macs});
  return r;
}

std::string Interpreter::model_kind() const {
  bool int8 = false;
  for (const auto& o : ops()) {
    if (o.kernel == "hybrid") return "hybrid";
    if (o.kernel != "float" && !o.kernel.empty()) int8 = true;
  }
  return int8 ? "int8" : "float32";
}

}  // namespace kws::rt
