// kws invoke: run a .tflite on raw input bytes with kws's runtime and print
// output tensor 0 (raw values), or summarize the model (--info). --steps runs a
// streaming model once per input-sized block of the file, state carried over.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/command.h"
#include "runtime/interpreter.h"
#include "tflite/metadata.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/text.h"

namespace {

struct Opts {
  std::string model;
  std::string input_raw;
  std::string output_raw;
  bool info = false;
  bool json = false;
  bool reference = false;
  bool steps = false;
  std::string input_shape;
  std::string arithmetic = "xnnpack";
};

std::string FormatFloat(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", double(v));
  std::string s = buf;
  if (s == "nan" || s == "-nan" || s == "inf" || s == "-inf") s = "\"" + s + "\"";  // keep the output valid JSON
  return s;
}

std::string OutputJson(const kws::rt::TensorInfo& info, const void* data) {
  std::string s = "[";
  for (int64_t i = 0; i < info.elements(); ++i) {
    if (i) s += ",";
    switch (info.type) {
      case kws::rt::DType::kFloat32: {
        float v;
        std::memcpy(&v, static_cast<const char*>(data) + 4 * i, 4);
        s += FormatFloat(v);
        break;
      }
      case kws::rt::DType::kInt8: s += std::to_string(int(static_cast<const int8_t*>(data)[i])); break;
      case kws::rt::DType::kUInt8: s += std::to_string(int(static_cast<const uint8_t*>(data)[i])); break;
      case kws::rt::DType::kInt32: {
        int32_t v;
        std::memcpy(&v, static_cast<const char*>(data) + 4 * i, 4);
        s += std::to_string(v);
        break;
      }
      case kws::rt::DType::kBool: s += static_cast<const uint8_t*>(data)[i] ? "true" : "false"; break;
      case kws::rt::DType::kResource: break;
    }
  }
  return s + "]";
}

nlohmann::json TensorJson(const kws::rt::TensorInfo& t, int index) {
  nlohmann::json j = {{"index", index}, {"name", t.name}, {"shape", t.shape}, {"type", kws::rt::DTypeName(t.type)},
                      {"bytes", t.bytes}};
  if (t.signature != t.shape) j["shape_signature"] = t.signature;
  if (t.type == kws::rt::DType::kInt8) {
    j["scale"] = t.scale;
    j["zero_point"] = t.zero_point;
  }
  return j;
}

void PrintInfo(const Opts& o, kws::rt::Interpreter& it) {
  nlohmann::json j;
  j["model"] = o.model;
  j["kind"] = it.model_kind();
  j["description"] = it.description();
  j["arena_bytes"] = it.arena_bytes();
  j["macs"] = it.macs();
  j["weights"] = it.num_weights();
  j["nonzero_weights"] = it.num_nonzero_weights();
  std::optional<kws::tfl::KwsMetadata> md;
  if (it.has_metadata(kws::tfl::kKwsMetadataName)) {
    md = kws::tfl::KwsMetadataFromJson(it.metadata(kws::tfl::kKwsMetadataName), o.model);
    j["kws_metadata"] = nlohmann::json::parse(kws::tfl::KwsMetadataToJson(*md));
  }
  j["has_kws_metadata"] = md.has_value();
  j["subgraphs"] = it.num_subgraphs();
  j["supported_ops"] = kws::rt::SupportedOps();
  j["prepared"] = it.prepared();
  if (!it.prepared()) j["prepare_error"] = it.prepare_error();
  for (int i = 0; i < it.num_inputs(); ++i) j["inputs"].push_back(TensorJson(it.input(i), i));
  for (int i = 0; i < it.num_outputs(); ++i) j["outputs"].push_back(TensorJson(it.output(i), i));
  for (const auto& op : it.ops())
    j["ops"].push_back({{"subgraph", op.subgraph}, {"op", op.op}, {"kernel", op.kernel}, {"inputs", op.inputs},
                        {"outputs", op.outputs}, {"macs", op.macs}});
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  using kws::Printable;  // names, labels and the description come from the file
  std::printf("model        %s (%s)\n", Printable(o.model).c_str(), it.model_kind().c_str());
  if (!it.prepared()) std::printf("not prepared %s\n", Printable(it.prepare_error()).c_str());
  if (it.num_subgraphs() > 1) std::printf("subgraphs    %d\n", it.num_subgraphs());
  std::printf("arena        %zu bytes\n", it.arena_bytes());
  std::printf("MACs         %lld\n", static_cast<long long>(it.macs()));
  std::printf("weights      %lld (%lld non-zero)\n", static_cast<long long>(it.num_weights()),
              static_cast<long long>(it.num_nonzero_weights()));
  if (md) {
    std::string labels;
    for (const auto& l : md->labels) labels += (labels.empty() ? "" : ", ") + l;
    std::printf("labels       %s\n", Printable(labels).c_str());
    std::printf("features     %s\n", Printable(md->features.ToString()).c_str());
    if (!md->detector.is_null())
      std::printf("detector     %s (kws listen / stream-eval defaults)\n", Printable(md->detector.dump()).c_str());
  } else {
    std::printf("labels       (no kws metadata)\n");
  }
  auto shape = [](const std::vector<int>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
    return r + "]";
  };
  auto tensor_line = [&](const char* role, int i, const kws::rt::TensorInfo& t) {
    std::printf("%-6s %d     %-12s %-8s %s", role, i, shape(t.shape).c_str(), kws::rt::DTypeName(t.type),
                Printable(t.name).c_str());
    if (t.signature != t.shape) std::printf("  (shape signature %s)", shape(t.signature).c_str());
    if (t.type == kws::rt::DType::kInt8) std::printf("  (scale %g, zero point %d)", double(t.scale), t.zero_point);
    std::printf("\n");
  };
  for (int i = 0; i < it.num_inputs(); ++i) tensor_line("input", i, it.input(i));
  for (int i = 0; i < it.num_outputs(); ++i) tensor_line("output", i, it.output(i));
  int k = 0, sub = 0;
  for (const auto& op : it.ops()) {
    if (op.subgraph != sub) std::printf("subgraph %d\n", sub = op.subgraph), k = 0;
    const std::string out = op.outputs.empty() ? "-" : shape(it.tensor(op.outputs[0], op.subgraph).shape);
    std::printf("op %-3d %-18s %-12s -> %-14s %lld MACs\n", k++, op.op.c_str(),
                op.kernel.empty() ? "-" : op.kernel.c_str(), out.c_str(),
                static_cast<long long>(op.macs));
  }
  std::string all;
  for (const auto& name : kws::rt::SupportedOps()) all += (all.empty() ? "" : " ") + name;
  std::printf("kws runs     %s\n", all.c_str());
}

std::vector<int> ParseShape(const std::string& text) {
  std::vector<int> dims;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t end = std::min(text.find(',', at), text.size());
    const std::string part = text.substr(at, end - at);
    char* stop = nullptr;
    const long v = std::strtol(part.c_str(), &stop, 10);
    if (part.empty() || *stop != '\0' || v <= 0 || v > (1L << 30))
      throw kws::UsageError("--input-shape '" + text + "': expected positive integers separated by commas");
    dims.push_back(int(v));
    at = end + 1;
  }
  return dims;
}

// Input 0's dynamic (−1) dimensions from the number of elements given: the
// batch (dimension 0) is 1 when it is not the only dynamic one, and the one
// dynamic dimension left takes what remains.
std::vector<int> ResolveShape(const kws::rt::TensorInfo& in, int64_t elements, const std::string& file) {
  std::vector<int> dims = in.signature;
  int unknown = 0;
  for (int d : dims) unknown += d < 0;
  if (unknown > 1 && dims[0] < 0) dims[0] = 1, --unknown;
  int64_t known = 1;
  int at = -1;
  for (size_t d = 0; d < dims.size(); ++d) (dims[d] < 0 ? at = int(d) : known *= dims[d]);
  if (unknown > 1)
    throw kws::UsageError(file + ": input '" + in.name + "' has " + std::to_string(unknown) +
                          " dynamic dimensions; give --input-shape");
  if (at >= 0 && known > 0 && elements % known == 0 && elements / known > 0) dims[size_t(at)] = int(elements / known);
  return dims;
}

// Sizes input 0 for `raw` (--input-shape, or its dynamic dimensions from the
// data), so that it takes `raw` (or, with --steps, blocks of it).
void SizeInput(const Opts& o, kws::rt::Interpreter& it, size_t raw_bytes) {
  if (!o.input_shape.empty()) {
    it.ResizeInput(0, ParseShape(o.input_shape));
    return;
  }
  const auto in = it.input(0);
  bool dynamic = false;
  for (int d : in.signature) dynamic |= d < 0;
  if (!dynamic || o.steps || (it.prepared() && raw_bytes == in.bytes)) return;
  const size_t es = in.type == kws::rt::DType::kFloat32 || in.type == kws::rt::DType::kInt32 ? 4 : 1;
  if (raw_bytes % es == 0) it.ResizeInput(0, ResolveShape(in, int64_t(raw_bytes / es), o.input_raw));
}

int Run(const Opts& o, kws::rt::Interpreter& it) {
  const std::string raw = kws::ReadFileLimited(o.input_raw, kws::Limits().raw_bytes, "raw input");
  SizeInput(o, it, raw.size());
  const auto in = it.input(0);
  const size_t n = o.steps && in.bytes > 0 ? raw.size() / in.bytes : 1;
  if (raw.size() != n * in.bytes || n == 0)
    throw kws::BadInput(o.input_raw + ": " + std::to_string(raw.size()) + " bytes, input tensor '" + in.name + "' (" +
                        kws::rt::DTypeName(in.type) + ") needs " + (o.steps ? "a multiple of " : "") +
                        std::to_string(in.bytes));
  std::string out_bytes, json = o.steps ? "[" : "";
  for (size_t s = 0; s < n; ++s) {
    std::memcpy(it.input_data(0), raw.data() + s * in.bytes, in.bytes);
    it.Invoke();
    const auto out = it.output(0);
    out_bytes.append(static_cast<const char*>(it.output_data(0)), out.bytes);
    json += (s ? ",\n " : "") + OutputJson(out, it.output_data(0));
  }
  if (!o.output_raw.empty()) kws::AtomicWriteFile(o.output_raw, out_bytes);
  std::printf("%s%s\n", json.c_str(), o.steps ? "]" : "");
  return 0;
}

kws::cli::Registrar reg(
    "invoke", "Run a .tflite model with kws's runtime on raw input bytes (or summarize it with --info)",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->model, "Model file (.tflite)")->required();
      app.add_option("--input-raw", o->input_raw, "Raw bytes of input tensor 0 (its own type, little-endian)");
      app.add_option("--output-raw", o->output_raw, "Also write output tensor 0's raw bytes here");
      app.add_flag("--info", o->info, "Print the model's tensors, ops, arena size and MACs instead of running it");
      app.add_flag("--json", o->json, "With --info: print JSON");
      app.add_flag("--reference", o->reference, "Use the plain reference kernels instead of the optimized ones");
      app.add_flag("--steps", o->steps,
                   "The input file holds N inputs back to back: run N times in order (a streaming model keeps its "
                   "state between runs) and print N outputs");
      app.add_option("--input-shape", o->input_shape,
                     "Shape of input 0 (e.g. 1,1760) for inputs with dynamic dimensions; by default they follow "
                     "the input file's size (batch 1)");
      app.add_option("--int8-arithmetic", o->arithmetic,
                     "int8 requantization: xnnpack (= official TFLite on CPU, default) or reference "
                     "(= TFLite reference kernels / TFLite Micro)")
          ->check(CLI::IsMember({"xnnpack", "reference"}));
      return [o]() -> int {
        auto it = kws::rt::Interpreter::FromBuffer(o->model, kws::ReadTfliteFile(o->model));
        if (o->reference) it.set_kernels(kws::rt::KernelSet::kReference);
        it.set_int8_arithmetic(o->arithmetic == "reference" ? kws::rt::Int8Arithmetic::kReference
                                                            : kws::rt::Int8Arithmetic::kXnnpack);
        if (o->info) {
          if (!o->input_shape.empty()) it.ResizeInput(0, ParseShape(o->input_shape));
          PrintInfo(*o, it);
          return 0;
        }
        if (o->input_raw.empty()) throw kws::UsageError("--input-raw is required (or use --info)");
        return Run(*o, it);
      };
    },
    "Examples:\n"
    "  kws invoke --model model.tflite --input-raw features.bin\n"
    "  kws invoke --model okay_nabu.tflite --input-raw frames.bin --steps   # N x 120 int8 values, N outputs\n"
    "  kws invoke --model melspectrogram.tflite --input-raw audio.f32       # [1, samples] from the file size\n"
    "  kws invoke --model model.tflite --info --json");

}  // namespace
