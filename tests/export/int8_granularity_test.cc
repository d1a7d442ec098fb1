// Exporter options for issue 4 (int8 file size): per-tensor int8 weights and MEAN written as a
// whole-extent AVERAGE_POOL_2D; per-channel scales only where they pay within a byte budget ("fit");
// plus the CLI's validation of the flags.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "export/export_model.h"
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

ir::Graph Synthetic(const std::string& kind, int filters, uint64_t seed, double sparsity) {
  ir::SyntheticOptions so;
  so.kind = kind;
  so.classes = 4;
  so.filters = filters;
  so.seed = seed;
  so.sparsity = sparsity;
  return ir::MakeSyntheticGraph(so);
}

ir::Graph SeedGraph() { return Synthetic("seed", 16, 3, 0.5); }

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

ir::Graph DepthwiseGraph() { return Synthetic("depthwise", 16, 5, 0.0); }

// Multiplies output channel c of op i's weights (and bias) by f.
void ScaleChannel(ir::Graph& g, int i, int c, float f) {
  ir::Op& op = g.ops[size_t(i)];
  const int axis = op.kind == ir::OpKind::kConv2D ? 0 : 3;
  size_t inner = 1;
  for (size_t d = size_t(axis) + 1; d < op.weight_dims.size(); ++d) inner *= size_t(op.weight_dims[d]);
  const size_t channels = size_t(op.weight_dims[size_t(axis)]);
  for (size_t k = 0; k < op.weights.size(); ++k)
    if ((k / inner) % channels == size_t(c)) op.weights[k] *= f;
  op.bias[size_t(c)] *= f;
}

TEST(Int8Weights, PerChannelGainGrowsWithTheSpreadOfChannelScales) {
  ir::Graph g = DepthwiseGraph();
  const auto candidates = PerChannelCandidates(g);
  ASSERT_EQ(candidates.size(), 5u);  // 3 conv + 2 depthwise; the dense layer stays per tensor
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].kind == ir::OpKind::kFullyConnected) EXPECT_EQ(PerChannelGain(g.ops[i]), 0.0);
  const int conv = candidates[2].first;
  // Every channel with the same largest |w|: one scale loses nothing.
  ir::Op& op = g.ops[size_t(conv)];
  const size_t channels = size_t(op.weight_dims[0]), inner = op.weights.size() / channels;
  for (size_t c = 0; c < channels; ++c) {
    op.weights[c * inner] = 1.0f;
    for (size_t k = 1; k < inner; ++k) op.weights[c * inner + k] = 0.5f * (float(k % 5) - 2.0f) / 2.0f;
  }
  EXPECT_NEAR(PerChannelGain(op), 0.0, 1e-12);
  ScaleChannel(g, conv, 3, 0.1f);
  const double one_small = PerChannelGain(g.ops[size_t(conv)]);
  EXPECT_GT(one_small, 0.0);
  ScaleChannel(g, conv, 3, 0.1f);
  EXPECT_GT(PerChannelGain(g.ops[size_t(conv)]), 50.0 * one_small);  // ~100x: noise/signal grows as 1/f^2
}

TEST(Int8Weights, FitSpendsTheBudgetOnTheLayersThatGainMost) {
  ir::Graph g = DepthwiseGraph();
  const auto candidates = PerChannelCandidates(g);
  const int favoured = candidates[1].first;  // the first depthwise: one channel 1/30 of the others
  ScaleChannel(g, favoured, 0, 1.0f / 30.0f);
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 16, 7));
  ExportOptions eo;
  eo.quant = QuantMode::kInt8;
  const long per_channel = long(ExportTflite(g, eo, &cal).size());
  eo.int8_weights = Int8Weights::kPerTensor;
  const long per_tensor = long(ExportTflite(g, eo, &cal).size());
  eo.int8_weights = Int8Weights::kPerChannel;
  ASSERT_LT(per_tensor, per_channel);
  auto size_with = [&](const std::vector<int>& per_tensor_ops) {
    ExportOptions t = eo;
    t.per_tensor_ops = per_tensor_ops;
    return long(ExportTflite(g, t, &cal).size());
  };
  // A budget above the all-per-channel size changes nothing; one below the all-per-tensor size gives up all.
  EXPECT_TRUE(FitPerChannel(g, eo, cal, per_channel).empty());
  EXPECT_EQ(FitPerChannel(g, eo, cal, per_tensor - 1).size(), candidates.size());
  // Just room for the favoured layer's scales: it keeps them, every other layer gives them up.
  std::vector<int> all_but_favoured;
  for (const auto& [i, channels] : candidates)
    if (i != favoured) all_but_favoured.push_back(i);
  const long budget = size_with(all_but_favoured);
  ASSERT_LT(budget, per_channel);
  std::vector<int> fit = FitPerChannel(g, eo, cal, budget);
  EXPECT_EQ(fit.size(), all_but_favoured.size());
  EXPECT_EQ(std::count(fit.begin(), fit.end(), favoured), 0);
  // In between: within the budget, and one layer fewer per-tensor would not be.
  const long middle = (per_tensor + per_channel) / 2;
  fit = FitPerChannel(g, eo, cal, middle);
  ASSERT_FALSE(fit.empty());
  ASSERT_LT(fit.size(), candidates.size());
  EXPECT_LE(size_with(fit), middle);
  std::vector<int> fewer(fit.begin(), fit.end() - 1);
  EXPECT_GT(size_with(fewer), middle);
  // The mixed file loads and runs in kws's runtime.
  eo.per_tensor_ops = fit;
  auto rt = rt::Interpreter::FromBuffer("fit.tflite", ExportTflite(g, eo, &cal));
  EXPECT_EQ(rt.model_kind(), "int8");
}

TEST(Int8Weights, ParseNamesTheFlag) {
  EXPECT_EQ(ParseInt8Weights("per-tensor"), Int8Weights::kPerTensor);
  EXPECT_EQ(ParseInt8Weights("per-channel"), Int8Weights::kPerChannel);
  EXPECT_EQ(ParseInt8Weights("fit"), Int8Weights::kFit);
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
