// Schema conformance: files written with kws's subset schema are decoded by flatc with the OFFICIAL
// TFLite schema (../shared/reference/tflite_schema.fbs, read-only; a temporary copy drops the
// `(deprecated)` attribute that flatc 2.0.8 cannot parse on enum values) and every field kws writes must
// come back under its official name with the value kws meant. Then that decoding is re-encoded with the
// official schema and read back with kws's generated code, field by field (ops, options, tensors,
// buffers, quantization).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "tflite/builder.h"
#include "util/fs.h"

namespace kws {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class OfficialSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path official = fs::path(KWS_SOURCE_DIR) / "../shared/reference/tflite_schema.fbs";
    if (!fs::exists(official)) GTEST_SKIP() << official << " not present (shared/ reference missing)";
    if (std::system("flatc --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "flatc not installed";
    dir_ = fs::temp_directory_path() / ("kws_schema_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::string text = ReadFile(official);
    text = std::regex_replace(text, std::regex(R"(\s*\(deprecated\))"), "");  // flatc 2.0.8 limitation
    AtomicWriteFile(dir_ / "official.fbs", text);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  // Decodes .tflite bytes with a schema into JSON.
  json Decode(const std::string& bytes, const fs::path& schema) {
    AtomicWriteFile(dir_ / "m.tflite", bytes);
    std::string cmd = "cd " + dir_.string() + " && flatc --json --strict-json --raw-binary --defaults-json " +
                      schema.string() + " -- m.tflite > flatc.log 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(dir_ / "flatc.log");
    return json::parse(ReadFile(dir_ / "m.json"));
  }
  fs::path dir_;
};

TEST_F(OfficialSchema, KwsFilesDecodeWithOfficialNames) {
  // Depthwise variant (conv, depthwise with multiplier, relu6, mean, FC) as int8 with float I/O
  // (QUANTIZE/DEQUANTIZE), plus a pools+reshape variant as dynamic-range.
  ir::SyntheticOptions so;
  so.kind = "depthwise";
  ir::Graph g = ir::MakeSyntheticGraph(so);
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 4, 1));
  ExportOptions eo;
  eo.quant = QuantMode::kInt8;
  eo.int8_io = false;
  tfl::KwsMetadata md;
  md.labels = {"a", "b"};
  eo.metadata = md;
  eo.write_signature = true;
  eo.const_tensor_names = true;
  std::string bytes = ExportTflite(g, eo, &cal);
  json j = Decode(bytes, dir_ / "official.fbs");

  EXPECT_EQ(j["version"], 3);
  const json& sg = j["subgraphs"][0];
  std::vector<std::string> ops, options;
  for (const auto& op : sg["operators"]) {
    ops.push_back(j["operator_codes"][op["opcode_index"].get<int>()]["builtin_code"]);
    options.push_back(op.value("builtin_options_type", "NONE"));
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"QUANTIZE", "CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "DEPTHWISE_CONV_2D",
                                           "CONV_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX", "DEQUANTIZE"}));
  EXPECT_EQ(options, (std::vector<std::string>{"QuantizeOptions", "Conv2DOptions", "DepthwiseConv2DOptions",
                                               "Conv2DOptions", "DepthwiseConv2DOptions", "Conv2DOptions",
                                               "ReducerOptions", "FullyConnectedOptions", "SoftmaxOptions",
                                               "DequantizeOptions"}));
  // deprecated_builtin_code carries the same code for every op (< 127).
  for (const auto& oc : j["operator_codes"]) {
    EXPECT_GT(oc["deprecated_builtin_code"].get<int>(), 0);
    EXPECT_EQ(oc["version"].get<int>() >= 1, true);
  }
  // Options values under official names.
  const json& dw2 = sg["operators"][4]["builtin_options"];
  EXPECT_EQ(dw2["depth_multiplier"], 2);
  EXPECT_EQ(dw2["stride_w"], 2);
  EXPECT_EQ(dw2["padding"], "SAME");
  EXPECT_EQ(dw2["fused_activation_function"], "RELU");
  EXPECT_EQ(sg["operators"][5]["builtin_options"]["fused_activation_function"], "RELU6");
  EXPECT_EQ(sg["operators"][5]["builtin_options"]["padding"], "VALID");
  EXPECT_EQ(sg["operators"][6]["builtin_options"]["keep_dims"], false);
  EXPECT_FLOAT_EQ(sg["operators"][8]["builtin_options"]["beta"].get<float>(), 1.0f);
  // Tensors: types, per-channel quantization on the official axis.
  int per_channel_dw = 0, int32_bias = 0;
  for (const auto& t : sg["tensors"]) {
    std::string name = t["name"];
    if (name.find("depthwise") != std::string::npos && name.find("/weights") != std::string::npos) {
      EXPECT_EQ(t["type"], "INT8");
      EXPECT_EQ(t["quantization"]["quantized_dimension"], 3);
      EXPECT_EQ(t["quantization"]["scale"].size(), t["shape"][3].get<size_t>());
      ++per_channel_dw;
    }
    if (name.find("/bias") != std::string::npos) {
      EXPECT_EQ(t["type"], "INT32");
      ++int32_bias;
    }
  }
  EXPECT_EQ(per_channel_dw, 2);
  EXPECT_EQ(int32_bias, 6);
  EXPECT_EQ(sg["tensors"][sg["inputs"][0].get<int>()]["type"], "FLOAT32");
  // Metadata and signature under their official names.
  ASSERT_EQ(j["metadata"].size(), 1u);
  EXPECT_EQ(j["metadata"][0]["name"], "kws");
  EXPECT_EQ(j["signature_defs"][0]["signature_key"], "serving_default");
  EXPECT_EQ(j["buffers"][0].value("data", json::array()).size(), 0u);  // empty sentinel

  // The official JSON re-encoded with the official schema reads back identically with kws's code.
  fs::copy_file(dir_ / "m.json", dir_ / "back.json");  // flatc's own text (union type before value)
  std::string cmd = "cd " + dir_.string() + " && flatc -b official.fbs back.json > flatc.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFile(dir_ / "flatc.log");
  std::string back = ReadFile(dir_ / "back.tflite");
  const auto* a = tfl::VerifiedModel(bytes, "kws");
  const auto* b = tfl::VerifiedModel(back, "official re-encoding");
  ASSERT_EQ(a->subgraphs()->Get(0)->operators()->size(), b->subgraphs()->Get(0)->operators()->size());
  for (size_t i = 0; i < a->subgraphs()->Get(0)->operators()->size(); ++i) {
    const auto* oa = a->subgraphs()->Get(0)->operators()->Get(i);
    const auto* ob = b->subgraphs()->Get(0)->operators()->Get(i);
    EXPECT_EQ(oa->builtin_options_type(), ob->builtin_options_type());
    EXPECT_EQ(tfl::EffectiveBuiltinCode(*a->operator_codes()->Get(oa->opcode_index())),
              tfl::EffectiveBuiltinCode(*b->operator_codes()->Get(ob->opcode_index())));
  }
  for (size_t t = 0; t < a->subgraphs()->Get(0)->tensors()->size(); ++t) {
    const auto* ta = a->subgraphs()->Get(0)->tensors()->Get(t);
    const auto* tb = b->subgraphs()->Get(0)->tensors()->Get(t);
    EXPECT_EQ(ta->name() ? ta->name()->str() : "", tb->name() ? tb->name()->str() : "");
    EXPECT_EQ(ta->type(), tb->type());
    const auto* da = a->buffers()->Get(ta->buffer())->data();
    const auto* db = b->buffers()->Get(tb->buffer())->data();
    EXPECT_EQ(da ? da->size() : 0, db ? db->size() : 0);
    if (da && db) EXPECT_EQ(std::memcmp(da->data(), db->data(), da->size()), 0);
    if (ta->quantization() && ta->quantization()->scale()) {
      ASSERT_TRUE(tb->quantization() && tb->quantization()->scale());
      EXPECT_EQ(ta->quantization()->quantized_dimension(), tb->quantization()->quantized_dimension());
      for (size_t c = 0; c < ta->quantization()->scale()->size(); ++c)
        EXPECT_NEAR(ta->quantization()->scale()->Get(c), tb->quantization()->scale()->Get(c),
                    5.1e-7 + 1e-5 * ta->quantization()->scale()->Get(c));  // flatc's JSON keeps 6 decimals
    }
  }

  // Dynamic-range FC: asymmetric_quantize_inputs under its official name.
  ir::SyntheticOptions r;
  r.kind = "reshape";
  ExportOptions ed;
  ed.quant = QuantMode::kDynamic;
  json jd = Decode(ExportTflite(ir::MakeSyntheticGraph(r), ed), dir_ / "official.fbs");
  bool saw = false;
  for (const auto& op : jd["subgraphs"][0]["operators"])
    if (op.value("builtin_options_type", "") == "FullyConnectedOptions" &&
        op["builtin_options"]["asymmetric_quantize_inputs"] == true)
      saw = true;
  EXPECT_TRUE(saw);
  bool reshape_opts = false;
  for (const auto& op : jd["subgraphs"][0]["operators"])
    if (op.value("builtin_options_type", "") == "ReshapeOptions") reshape_opts = op["builtin_options"]["new_shape"].size() == 2;
  EXPECT_TRUE(reshape_opts);
}

}  // namespace
}  // namespace kws
