// kws invoke: run a .tflite on raw input bytes with kws's runtime and print
// output tensor 0 (raw values), or summarize the model (--info).
#include <cstdio>
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
    }
  }
  return s + "]";
}

nlohmann::json TensorJson(const kws::rt::TensorInfo& t, int index) {
  nlohmann::json j = {{"index", index}, {"name", t.name}, {"shape", t.shape}, {"type", kws::rt::DTypeName(t.type)},
                      {"bytes", t.bytes}};
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
  for (int i = 0; i < it.num_inputs(); ++i) j["inputs"].push_back(TensorJson(it.input(i), i));
  for (int i = 0; i < it.num_outputs(); ++i) j["outputs"].push_back(TensorJson(it.output(i), i));
  for (const auto& op : it.ops())
    j["ops"].push_back({{"op", op.op}, {"kernel", op.kernel}, {"inputs", op.inputs}, {"outputs", op.outputs},
                        {"macs", op.macs}});
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  using kws::Printable;  // names, labels and the description come from the file
  std::printf("model        %s (%s)\n", Printable(o.model).c_str(), it.model_kind().c_str());
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
    if (t.type == kws::rt::DType::kInt8) std::printf("  (scale %g, zero point %d)", double(t.scale), t.zero_point);
    std::printf("\n");
  };
  for (int i = 0; i < it.num_inputs(); ++i) tensor_line("input", i, it.input(i));
  for (int i = 0; i < it.num_outputs(); ++i) tensor_line("output", i, it.output(i));
  int k = 0;
  for (const auto& op : it.ops()) {
    const auto out = it.tensor(op.outputs[0]);
    std::printf("op %-3d %-18s %-12s -> %-14s %lld MACs\n", k++, op.op.c_str(), op.kernel.c_str(),
                shape(out.shape).c_str(), static_cast<long long>(op.macs));
  }
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
          PrintInfo(*o, it);
          return 0;
        }
        if (o->input_raw.empty()) throw kws::UsageError("--input-raw is required (or use --info)");
        const auto in = it.input(0);
        // The size is checked before reading: the input is exactly the tensor's bytes.
        const int64_t size = kws::RegularFileSize(o->input_raw, "raw input");
        if (uint64_t(size) != in.bytes)
          throw kws::BadInput(o->input_raw + ": " + std::to_string(size) + " bytes, input tensor '" + in.name +
                              "' (" + kws::rt::DTypeName(in.type) + ") needs " + std::to_string(in.bytes));
        const std::string raw = kws::ReadFileLimited(o->input_raw, kws::Limits().raw_bytes, "raw input");
        if (raw.size() != in.bytes) throw kws::BadInput(o->input_raw + ": changed while being read");
        std::memcpy(it.input_data(0), raw.data(), raw.size());
        it.Invoke();
        const auto out = it.output(0);
        if (!o->output_raw.empty())
          kws::AtomicWriteFile(o->output_raw,
                               std::string_view(static_cast<const char*>(it.output_data(0)), out.bytes));
        std::printf("%s\n", OutputJson(out, it.output_data(0)).c_str());
        return 0;
      };
    },
    "Examples:\n"
    "  kws invoke --model model.tflite --input-raw features.bin\n"
    "  kws invoke --model model.tflite --info --json");

}  // namespace
