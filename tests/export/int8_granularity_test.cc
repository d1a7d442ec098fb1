// Exporter options for issue 4 (int8 file size): per-tensor int8 weights and MEAN written as a
// whole-extent AVERAGE_POOL_2D; plus the CLI's validation of both flags.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "export/graph.h"
#include "export/reference_eval.h"
#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "runtime/interpreter.h"
#include "tflite/builder.h"
#include "util/error.h"

namespace kws {
namespace {

using ::tflite::BuiltinOperator;

ir::Graph SeedGraph() {
  ir::SyntheticOptions so;
  so.kind = "seed";
  so.classes = 4;
  so.seed = 3;
  so.sparsity = 0.5;
  return ir::MakeSyntheticGraph(so);
}

TEST(Int8Weights, PerTensorHasOneScaleAndIsSmaller) {
  ir::Graph g = SeedGraph();
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 16, 7));
  ExportOptions eo;
  eo.quant = QuantMode::kInt8;
  const std::string per_channel = ExportTflite(g, eo, &cal);
  eo.int8_weights = Int8Weights::kPerTensor;
  const std::string per_tensor = ExportTflite(g, eo, &cal);
  EXPECT_LT(per_tensor.size(), per_channel.size());
  const auto* m = tfl::VerifiedModel(per_tensor, "per_tensor");
  const auto* sg = m->subgraphs()->Get(0);
  const auto* tensors = sg->tensors();
  int weighted = 0;
  for (const auto* op : *sg->operators()) {
    auto code = tfl::EffectiveBuiltinCode(*m->operator_codes()->Get(op->opcode_index()));
    if (code != BuiltinOperator::CONV_2D && code != BuiltinOperator::DEPTHWISE_CONV_2D &&
        code != BuiltinOperator::FULLY_CONNECTED)
      continue;
    ++weighted;
    const auto* x = tensors->Get(op->inputs()->Get(0));
    const auto* w = tensors->Get(op->inputs()->Get(1));
    const auto* b = tensors->Get(op->inputs()->Get(2));
    ASSERT_EQ(w->quantization()->scale()->size(), 1u);
    ASSERT_EQ(w->quantization()->zero_point()->size(), 1u);
    EXPECT_EQ(w->quantization()->zero_point()->Get(0), 0);
    ASSERT_EQ(b->quantization()->scale()->size(), 1u);
    EXPECT_FLOAT_EQ(b->quantization()->scale()->Get(0),
                    x->quantization()->scale()->Get(0) * w->quantization()->scale()->Get(0));
    EXPECT_EQ(b->quantization()->zero_point()->Get(0), 0);
    // The weight scale is max|w| / 127 over the whole tensor: some weight reaches +-127.
    int maxq = 0;
    const auto* buf = m->buffers()->Get(w->buffer())->data();
    for (size_t i = 0; i < buf->size(); ++i) maxq = std::max(maxq, std::abs(int(int8_t(buf->Get(i)))));
    EXPECT_EQ(maxq, 127);
  }
  EXPECT_GE(weighted, 2);
  // Loads and runs in kws's runtime, and stays close to the float graph.
  auto rt = rt::Interpreter::FromBuffer("per_tensor.tflite", per_tensor);
  EXPECT_EQ(rt.model_kind(), "int8");
}

TEST(GlobalPool, AvgPoolReplacesMeanAndDropsAxes) {
  ir::Graph g = SeedGraph();
  bool has_mean = false;
  for (const auto& op : g.ops) has_mean = has_mean || op.kind == ir::OpKind::kMean;
  ASSERT_TRUE(has_mean) << "the seed synthetic graph has no MEAN: test would be vacuous";
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 16, 7));
  for (QuantMode q : {QuantMode::kFloat, QuantMode::kInt8}) {
    ExportOptions eo;
    eo.quant = q;
    ExportInfo mean_info, pool_info;
    const std::string mean = ExportTflite(g, eo, &cal, &mean_info);
    eo.global_pool = GlobalPool::kAveragePool;
    const std::string pool = ExportTflite(g, eo, &cal, &pool_info);
    EXPECT_LT(pool.size(), mean.size()) << QuantModeName(q);
    const auto* m = tfl::VerifiedModel(pool, "pool");
    int pools = 0;
    for (const auto* oc : *m->operator_codes()) {
      EXPECT_NE(tfl::EffectiveBuiltinCode(*oc), BuiltinOperator::MEAN);
      pools += tfl::EffectiveBuiltinCode(*oc) == BuiltinOperator::AVERAGE_POOL_2D;
    }
    EXPECT_EQ(pools, 1);
    EXPECT_EQ(std::count(pool_info.ops_used.begin(), pool_info.ops_used.end(), "MEAN"), 0);
    EXPECT_EQ(std::count(pool_info.ops_used.begin(), pool_info.ops_used.end(), "AVERAGE_POOL_2D"), 1);
    auto rt = rt::Interpreter::FromBuffer("pool.tflite", pool);
    if (q == QuantMode::kFloat) {  // float: the same numbers as the MEAN graph up to rounding
      auto x = ir::SyntheticInputs(g, 1, 5)[0];
      std::vector<float> ref = ir::Evaluate(g, x.data()), mine = rt.RunFloat(x.data());
      ASSERT_EQ(ref.size(), mine.size());
      for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(mine[i], ref[i], 1e-4);
    }
  }
}

TEST(Int8Weights, ParseNamesTheFlag) {
  EXPECT_EQ(ParseInt8Weights("per-tensor"), Int8Weights::kPerTensor);
  EXPECT_EQ(ParseInt8Weights("per-channel"), Int8Weights::kPerChannel);
  EXPECT_EQ(ParseGlobalPool("avg-pool"), GlobalPool::kAveragePool);
  EXPECT_EQ(ParseGlobalPool("mean"), GlobalPool::kMean);
  try {
    ParseInt8Weights("per-row");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("--int8-weights"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ParseGlobalPool("max"), Error);
}

TEST(Int8Weights, CliRejectsBadValue) {
  namespace fs = std::filesystem;
  if (!fs::exists(KWS_BINARY)) GTEST_SKIP() << "kws binary not built at " << KWS_BINARY;
  fs::path err = fs::temp_directory_path() / ("kws_int8w_err_" + std::to_string(::getpid()) + ".txt");
  std::string cmd = std::string(KWS_BINARY) + " export --model /nonexistent --out /tmp/x.tflite --quant int8 "
                    "--int8-weights per-row 2> " + err.string() + " > /dev/null";
  int rc = std::system(cmd.c_str());
  std::ifstream f(err);
  std::stringstream ss;
  ss << f.rdbuf();
  fs::remove(err);
  EXPECT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1) << ss.str();
  EXPECT_NE(ss.str().find("--int8-weights"), std::string::npos) << ss.str();
}

}  // namespace
}  // namespace kws
