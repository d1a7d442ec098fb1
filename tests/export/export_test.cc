// Exporter tests: schema/builder layout, metadata, reference evaluator, quantization rules, sizes.
#include <gtest/gtest.h>
#include <zip.h>

#include <cmath>
#include <cstring>
#include <set>

#include "export/graph.h"
#include "export/reference_eval.h"
#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "tflite/builder.h"
#include "tflite/metadata.h"
#include "util/error.h"

namespace kws {
namespace {

using ::tflite::BuiltinOperator;
using ::tflite::BuiltinOptions;
using ::tflite::TensorType;

const ::tflite::Model* Load(const std::string& bytes) { return tfl::VerifiedModel(bytes, "test"); }

const ::tflite::Tensor* FindTensor(const ::tflite::Model* m, const std::string& name) {
  for (const auto* t : *m->subgraphs()->Get(0)->tensors())
    if (t->name() && t->name()->str() == name) return t;
  return nullptr;
}

TEST(Builder, WritesOfficialLayout) {
  tfl::ModelBuilder b;
  int x = b.AddTensor("in", {1, 4, 4, 1}, TensorType::FLOAT32);
  std::vector<float> w(18, 0.5f);
  int wt = b.AddConstTensor("w", {2, 3, 3, 1}, TensorType::FLOAT32, w);
  int y = b.AddTensor("out", {1, 4, 4, 2}, TensorType::FLOAT32);
  int axes = b.AddConstTensor("axes", {2}, TensorType::INT32, std::vector<int32_t>{1, 2});
  int z = b.AddTensor("mean", {1, 2}, TensorType::FLOAT32);
  int q = b.AddTensor("q", {1, 2}, TensorType::INT8, 0, tfl::QuantParams::PerTensor(0.5f, -3));
  b.AddOperator(BuiltinOperator::CONV_2D, {x, wt, -1}, {y},
                tfl::Conv2DOptions{.padding = ::tflite::Padding::VALID, .stride_w = 2, .stride_h = 1,
                                   .activation = ::tflite::ActivationFunctionType::RELU6});
  b.AddOperator(BuiltinOperator::MEAN, {y, axes}, {z}, tfl::ReducerOptions{true}, 2);
  b.AddOperator(BuiltinOperator::QUANTIZE, {z}, {q}, tfl::QuantizeOptions{});
  b.AddOperator(BuiltinOperator::CONV_2D, {x, wt, -1}, {y}, tfl::Conv2DOptions{});  // same code reused
  b.SetInputs({x});
  b.SetOutputs({q});
  b.AddMetadata("hello", "world");
  std::string bytes = b.Finish();

  ASSERT_EQ(bytes.substr(4, 4), "TFL3");
  const auto* m = Load(bytes);
  EXPECT_EQ(m->version(), 3u);
  ASSERT_EQ(m->operator_codes()->size(), 3u);  // conv v1, mean v2, quantize v1
  const auto* c0 = m->operator_codes()->Get(0);
  EXPECT_EQ(c0->deprecated_builtin_code(), 3);
  EXPECT_EQ(c0->builtin_code(), BuiltinOperator::CONV_2D);
  const auto* c2 = m->operator_codes()->Get(2);
  EXPECT_EQ(int(c2->builtin_code()), 114);
  EXPECT_EQ(c2->deprecated_builtin_code(), 114);
  EXPECT_EQ(m->operator_codes()->Get(1)->version(), 2);
  // Buffer 0 is the empty sentinel; constant data is 16-byte aligned within the file.
  ASSERT_GE(m->buffers()->size(), 3u);
  EXPECT_TRUE(m->buffers()->Get(0)->data() == nullptr || m->buffers()->Get(0)->data()->size() == 0);
  for (size_t i = 1; i < m->buffers()->size(); ++i) {
    const auto* d = m->buffers()->Get(i)->data();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ((reinterpret_cast<const char*>(d->data()) - bytes.data()) % 16, 0) << "buffer " << i;
  }
  const auto* sg = m->subgraphs()->Get(0);
  ASSERT_EQ(sg->operators()->size(), 4u);
  const auto* op0 = sg->operators()->Get(0);
  EXPECT_EQ(op0->builtin_options_type(), BuiltinOptions::Conv2DOptions);
  EXPECT_EQ(uint8_t(op0->builtin_options_type()), 1);
  const auto* co = op0->builtin_options_as_Conv2DOptions();
  ASSERT_NE(co, nullptr);
  EXPECT_EQ(co->padding(), ::tflite::Padding::VALID);
  EXPECT_EQ(co->stride_w(), 2);
  EXPECT_EQ(co->stride_h(), 1);
  EXPECT_EQ(co->fused_activation_function(), ::tflite::ActivationFunctionType::RELU6);
  EXPECT_EQ(co->dilation_w_factor(), 1);
  EXPECT_EQ(op0->inputs()->Get(2), -1);
  EXPECT_EQ(uint8_t(sg->operators()->Get(1)->builtin_options_type()), 27);  // ReducerOptions
  EXPECT_TRUE(sg->operators()->Get(1)->builtin_options_as_ReducerOptions()->keep_dims());
  EXPECT_EQ(uint8_t(sg->operators()->Get(2)->builtin_options_type()), 89);  // QuantizeOptions
  EXPECT_EQ(sg->operators()->Get(3)->opcode_index(), 0u);
  const auto* tq = FindTensor(m, "q");
  ASSERT_NE(tq, nullptr);
  EXPECT_EQ(tq->type(), TensorType::INT8);
  EXPECT_FLOAT_EQ(tq->quantization()->scale()->Get(0), 0.5f);
  EXPECT_EQ(tq->quantization()->zero_point()->Get(0), -3);
  const auto* tw = FindTensor(m, "w");
  const auto* wd = m->buffers()->Get(tw->buffer())->data();
  ASSERT_EQ(wd->size(), 18u * 4);
  float w0;
  std::memcpy(&w0, wd->data(), 4);
  EXPECT_EQ(w0, 0.5f);
  EXPECT_EQ(tfl::ReadMetadataEntry(bytes, "hello").value(), "world");
  EXPECT_FALSE(tfl::ReadMetadataEntry(bytes, "absent").has_value());
}

TEST(Builder, EffectiveCodeTakesLargerOfOldAndNewField) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(::tflite::CreateOperatorCode(fbb, 9, 0, 1, BuiltinOperator::ADD));  // old converter style
  const auto* oc = flatbuffers::GetRoot<::tflite::OperatorCode>(fbb.GetBufferPointer());
  EXPECT_EQ(tfl::EffectiveBuiltinCode(*oc), BuiltinOperator::FULLY_CONNECTED);
}

TEST(Builder, RejectsBadGraphs) {
  tfl::ModelBuilder b;
  int x = b.AddTensor("in", {1, 2}, TensorType::FLOAT32);
  b.SetInputs({x});
  b.SetOutputs({5});
  EXPECT_THROW(b.Finish(), Error);
  EXPECT_THROW(b.AddConstTensor("w", {2, 2}, TensorType::FLOAT32, std::vector<float>(3)), Error);
  tfl::QuantParams q{{0.1f, 0.2f}, {0, 0}, 1, {}, {}};
  EXPECT_THROW(b.AddTensor("pc", {2, 3}, TensorType::INT8, 0, q), Error);  // dim 1 has 3, not 2
}

TEST(Builder, VerifierRejectsGarbage) {
  EXPECT_THROW(tfl::VerifiedModel("abc", "x.tflite"), Error);
  std::string good = ExportTflite(ir::MakeSyntheticGraph({}), ExportOptions{});
  EXPECT_NO_THROW(tfl::VerifiedModel(good, "x.tflite"));
  EXPECT_THROW(tfl::VerifiedModel(good.substr(0, good.size() / 2), "x.tflite"), Error);  // truncated
  try {
    tfl::VerifiedModel(std::string(64, 'x'), "bad.tflite");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.tflite"), std::string::npos);
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  }
}

TEST(Metadata, RoundTripsThroughModel) {
  ir::SyntheticOptions so;
  so.classes = 4;
  ir::Graph g = ir::MakeSyntheticGraph(so);
  ExportOptions eo;
  tfl::KwsMetadata md;
  md.labels = {"_silence_", "_unknown_", "yes", "no"};
  md.features.num_mel_bins = 20;
  md.features.upper_hz = 6000;
  md.features.window = "hann";
  md.extra = {{"run", "abc"}};
  eo.metadata = md;
  eo.quant = QuantMode::kDynamic;
  std::string bytes = ExportTflite(g, eo);
  auto back = tfl::ReadKwsMetadata(bytes, "m.tflite");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->labels, md.labels);
  EXPECT_EQ(back->features.num_mel_bins, 20);
  EXPECT_EQ(back->features.upper_hz, 6000);
  EXPECT_EQ(back->features.window, "hann");
  EXPECT_EQ(back->features.frame_step_s, md.features.frame_step_s);
  EXPECT_EQ(back->quant, "dynamic");
  EXPECT_EQ(back->input, "log-mel");
  EXPECT_EQ(back->extra["run"], "abc");
  EXPECT_TRUE(back->detector.is_null());  // none given: none written
  md.detector = {{"threshold", 0.75}, {"smooth_ms", 500}};
  eo.metadata = md;
  auto with_detector = tfl::ReadKwsMetadata(ExportTflite(g, eo), "m.tflite");
  ASSERT_TRUE(with_detector.has_value());
  EXPECT_EQ(with_detector->detector, md.detector);
  EXPECT_THROW(tfl::KwsMetadataFromJson("{\"detector\":0.5}", "m"), Error);
  // No metadata -> nullopt; malformed -> BadInput.
  EXPECT_FALSE(tfl::ReadKwsMetadata(ExportTflite(g, ExportOptions{})).has_value());
  EXPECT_THROW(tfl::KwsMetadataFromJson("{\"format\":2}", "m"), Error);
  EXPECT_THROW(tfl::KwsMetadataFromJson("[1]", "m"), Error);
  EXPECT_THROW(tfl::KwsMetadataFromJson("{\"labels\":5}", "m"), Error);
}

TEST(Graph, ShapesFollowTfliteRules) {
  EXPECT_EQ(ir::OutputSize(97, 3, 2, ir::Padding::kSame), 49);
  EXPECT_EQ(ir::OutputSize(20, 3, 2, ir::Padding::kSame), 10);
  EXPECT_EQ(ir::OutputSize(97, 3, 2, ir::Padding::kValid), 48);
  EXPECT_EQ(ir::PadBefore(97, 3, 2, ir::Padding::kSame), 1);  // total 2
  EXPECT_EQ(ir::PadBefore(20, 3, 2, ir::Padding::kSame), 0);  // total 1: the extra pad goes after
  ir::Graph g = ir::MakeSyntheticGraph({});
  EXPECT_EQ(g.shapes[1], (std::vector<int>{1, 49, 10, 16}));
  EXPECT_EQ(g.shapes[g.output], (std::vector<int>{1, 12}));
  EXPECT_EQ(g.OpsUsed(), (std::vector<std::string>{"CONV_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"}));
  ir::Graph bad;
  int x = bad.AddInput({1, 4, 4, 2});
  EXPECT_THROW(bad.Conv2D(x, std::vector<float>(9), {1, 3, 3, 1}, {}, 1, 1, ir::Padding::kSame,
                          ir::Activation::kNone, "c"),
               Error);
}

TEST(ReferenceEval, ConvSamePaddingAndPools) {
  ir::Graph g;
  int x = g.AddInput({1, 3, 3, 1});
  // 3x3 all-ones kernel, SAME, stride 2 -> 2x2; bias 1.
  x = g.Conv2D(x, std::vector<float>(9, 1.0f), {1, 3, 3, 1}, {1.0f}, 2, 2, ir::Padding::kSame,
               ir::Activation::kNone, "c");
  g.SetOutput(x);
  std::vector<float> in{1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto out = ir::Evaluate(g, in.data());
  // pad total = (2-1)*2+3-3 = 2 -> 1 before: windows centred on (0,0),(0,2),(2,0),(2,2)
  EXPECT_EQ(out, (std::vector<float>{1 + 1 + 2 + 4 + 5, 1 + 2 + 3 + 5 + 6, 1 + 4 + 5 + 7 + 8, 1 + 5 + 6 + 8 + 9}));

  ir::Graph p;
  int y = p.AddInput({1, 3, 3, 1});
  y = p.AveragePool2D(y, 2, 2, 2, 2, ir::Padding::kSame, "avg");  // 2x2 output, edge windows partial
  p.SetOutput(y);
  auto avg = ir::Evaluate(p, in.data());
  EXPECT_EQ(avg, (std::vector<float>{3.0f, 4.5f, 7.5f, 9.0f}));  // padding excluded from the count

  ir::Graph d;
  int z = d.AddInput({1, 2, 2, 2});
  // depthwise 1x1 multiplier 2: out channel o uses input channel o/2
  z = d.DepthwiseConv2D(z, {1, 2, 3, 4}, {1, 1, 1, 4}, {}, 2, 1, 1, ir::Padding::kValid, ir::Activation::kRelu, "dw");
  z = d.Mean(z, "mean");
  z = d.Softmax(z, 1.0f, "sm");
  d.SetOutput(z);
  std::vector<float> din{1, -1, 2, -2, 3, -3, 4, -4};
  auto all = ir::EvaluateAll(d, din.data());
  EXPECT_EQ(all[1], (std::vector<float>{1, 2, 0, 0, 2, 4, 0, 0, 3, 6, 0, 0, 4, 8, 0, 0}));
  EXPECT_EQ(all[2], (std::vector<float>{2.5f, 5.0f, 0, 0}));
  double s = 0;
  for (float v : all[3]) s += v;
  EXPECT_NEAR(s, 1.0, 1e-6);
  EXPECT_NEAR(all[3][1] / all[3][0], std::exp(2.5), 1e-3);
}

TEST(Quant, Int8ParamsAndSymmetricWeights) {
  auto a = ChooseInt8Params(0.0f, 6.0f);  // ReLU-like
  EXPECT_EQ(a.zero_point, -128);
  EXPECT_FLOAT_EQ(a.scale, 6.0f / 255.0f);
  auto b = ChooseInt8Params(-1.0f, 1.0f);
  EXPECT_NEAR(b.scale, 2.0f / 255.0f, 1e-9);
  EXPECT_EQ(b.zero_point, -1);  // -128 + 127.5 = -0.5 rounds half away from zero
  auto c = ChooseInt8Params(2.0f, 3.0f);  // widened to include 0
  EXPECT_EQ(c.zero_point, -128);
  EXPECT_FLOAT_EQ(c.scale, 3.0f / 255.0f);
  auto d = ChooseInt8Params(-12.0f, -1.0f);
  EXPECT_EQ(d.zero_point, 127);

  std::vector<int8_t> q;
  // dims [2, 1, 1, 2] per channel along 0: channel 0 = {1, -2}, channel 1 = {0.5, 0.25}
  auto s = QuantizeSymmetric({1.0f, -2.0f, 0.5f, 0.25f}, {2, 1, 1, 2}, 0, &q);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_FLOAT_EQ(s[0], 2.0f / 127);
  EXPECT_FLOAT_EQ(s[1], 0.5f / 127);
  EXPECT_EQ(q, (std::vector<int8_t>{64, -127, 127, 64}));
  // along axis 3 (depthwise): channel = index % 2
  s = QuantizeSymmetric({1.0f, -2.0f, 0.5f, 0.25f}, {1, 1, 2, 2}, 3, &q);
  EXPECT_FLOAT_EQ(s[0], 1.0f / 127);
  EXPECT_FLOAT_EQ(s[1], 2.0f / 127);
  EXPECT_EQ(q, (std::vector<int8_t>{127, -127, 64, 16}));
  // all-zero channel keeps a valid positive scale
  s = QuantizeSymmetric({0, 0, 1, 1}, {2, 2}, 0, &q);
  EXPECT_GT(s[0], 0.0f);
  EXPECT_EQ(q[0], 0);
}

TEST(Export, FloatKeepsWeightsExactly) {
  ir::Graph g = ir::MakeSyntheticGraph({});
  std::string bytes = ExportTflite(g, ExportOptions{.const_tensor_names = true});
  const auto* m = Load(bytes);
  const auto* w = FindTensor(m, g.ops[1].name + "/weights");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type(), TensorType::FLOAT32);
  const auto* d = m->buffers()->Get(w->buffer())->data();
  ASSERT_EQ(d->size(), g.ops[1].weights.size() * 4);
  EXPECT_EQ(std::memcmp(d->data(), g.ops[1].weights.data(), d->size()), 0);
  const auto* sg = m->subgraphs()->Get(0);
  EXPECT_EQ(sg->operators()->size(), g.ops.size());
  for (const auto* oc : *m->operator_codes()) EXPECT_EQ(oc->version(), 1);
}

TEST(Export, DynamicRangeFollowsConverterRules) {
  ir::SyntheticOptions so;
  so.kind = "depthwise";
  so.filters = 32;  // depthwise 3x3x32 = 288 < 1024 stays float; 1x1 conv 32x32 = 1024 gets quantized
  ir::Graph g = ir::MakeSyntheticGraph(so);
  ExportInfo info;
  ExportOptions eo;
  eo.quant = QuantMode::kDynamic;
  eo.const_tensor_names = true;
  std::string bytes = ExportTflite(g, eo, nullptr, &info);
  const auto* m = Load(bytes);
  const auto* sg = m->subgraphs()->Get(0);
  int quantized = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const ir::Op& op = g.ops[i];
    if (op.weights.empty()) continue;
    const auto* w = FindTensor(m, op.name + "/weights");
    const auto* b = FindTensor(m, op.name + "/bias");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(b->type(), TensorType::FLOAT32) << op.name;  // biases stay float
    const auto* code = m->operator_codes()->Get(sg->operators()->Get(i)->opcode_index());
    if (op.weights.size() < 1024) {
      EXPECT_EQ(w->type(), TensorType::FLOAT32) << op.name;
      EXPECT_EQ(code->version(), 1);
      continue;
    }
    ++quantized;
    EXPECT_EQ(w->type(), TensorType::INT8) << op.name;
    const auto* q = w->quantization();
    ASSERT_NE(q, nullptr);
    int channels = op.kind == ir::OpKind::kDepthwiseConv2D ? op.weight_dims[3] : op.weight_dims[0];
    if (op.kind == ir::OpKind::kFullyConnected) channels = 1;
    ASSERT_EQ(int(q->scale()->size()), channels) << op.name;
    EXPECT_EQ(q->quantized_dimension(), op.kind == ir::OpKind::kDepthwiseConv2D ? 3 : 0);
    for (auto zp : *q->zero_point()) EXPECT_EQ(zp, 0);
    // Values dequantize to within half a step of the float weights.
    const auto* d = m->buffers()->Get(w->buffer())->data();
    const int8_t* qv = reinterpret_cast<const int8_t*>(d->data());
    size_t inner = op.weights.size() / size_t(op.weight_dims[0]);
    for (size_t k = 0; k < op.weights.size(); ++k) {
      size_t c = op.kind == ir::OpKind::kConv2D ? k / inner : 0;
      float sc = q->scale()->Get(c);
      EXPECT_GE(qv[k], -127);
      EXPECT_NEAR(qv[k] * sc, op.weights[k], sc * 0.5f + 1e-7f);
    }
    if (op.kind == ir::OpKind::kConv2D) EXPECT_EQ(code->version(), 5);
  }
  EXPECT_EQ(quantized, 2);  // the two 1x1 convs (1024 weights each)
  EXPECT_EQ(info.quantized_weight_tensors, 2);

  // FC hybrid: asymmetric_quantize_inputs, version 9.
  ir::SyntheticOptions r;
  r.kind = "reshape";
  ir::Graph gr = ir::MakeSyntheticGraph(r);
  const auto* mr = Load(ExportTflite(gr, eo));
  bool saw_fc = false;
  for (const auto* op : *mr->subgraphs()->Get(0)->operators()) {
    const auto* o = op->builtin_options_as_FullyConnectedOptions();
    if (!o) continue;
    const auto* w = mr->subgraphs()->Get(0)->tensors()->Get(op->inputs()->Get(1));
    if (w->type() != TensorType::INT8) continue;
    saw_fc = true;
    EXPECT_TRUE(o->asymmetric_quantize_inputs());
    EXPECT_EQ(w->quantization()->scale()->size(), 1u);
    EXPECT_EQ(mr->operator_codes()->Get(op->opcode_index())->version(), 9);
  }
  EXPECT_TRUE(saw_fc);
}

TEST(Export, Int8QuantizationParameters) {
  ir::SyntheticOptions so;
  so.kind = "pools";
  ir::Graph g = ir::MakeSyntheticGraph(so);
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 16, 7));
  ExportOptions eo;
  eo.quant = QuantMode::kInt8;
  ExportInfo info;
  std::string bytes = ExportTflite(g, eo, &cal, &info);
  const auto* m = Load(bytes);
  const auto* sg = m->subgraphs()->Get(0);
  const auto* tensors = sg->tensors();
  auto tq = [&](int t) { return std::make_pair(tensors->Get(t)->quantization()->scale()->Get(0),
                                               tensors->Get(t)->quantization()->zero_point()->Get(0)); };
  const auto* in = tensors->Get(sg->inputs()->Get(0));
  const auto* out = tensors->Get(sg->outputs()->Get(0));
  EXPECT_EQ(in->type(), TensorType::INT8);
  EXPECT_EQ(out->type(), TensorType::INT8);
  EXPECT_FLOAT_EQ(out->quantization()->scale()->Get(0), 1.0f / 256);
  EXPECT_EQ(out->quantization()->zero_point()->Get(0), -128);
  AffineQuant expect_in = ChooseInt8Params(cal.min[0], cal.max[0]);
  EXPECT_FLOAT_EQ(in->quantization()->scale()->Get(0), expect_in.scale);
  EXPECT_EQ(in->quantization()->zero_point()->Get(0), expect_in.zero_point);
  for (const auto* op : *sg->operators()) {
    auto code = tfl::EffectiveBuiltinCode(*m->operator_codes()->Get(op->opcode_index()));
    int x = op->inputs()->Get(0), y = op->outputs()->Get(0);
    if (code == BuiltinOperator::MAX_POOL_2D || code == BuiltinOperator::AVERAGE_POOL_2D) {
      EXPECT_EQ(tq(x), tq(y));
    }
    if (code == BuiltinOperator::CONV_2D || code == BuiltinOperator::FULLY_CONNECTED) {
      const auto* w = tensors->Get(op->inputs()->Get(1));
      const auto* b = tensors->Get(op->inputs()->Get(2));
      EXPECT_EQ(w->type(), TensorType::INT8);
      EXPECT_EQ(b->type(), TensorType::INT32);
      float s_in = tq(x).first;
      ASSERT_EQ(b->quantization()->scale()->size(), w->quantization()->scale()->size());
      for (size_t c = 0; c < w->quantization()->scale()->size(); ++c) {
        EXPECT_FLOAT_EQ(b->quantization()->scale()->Get(c), s_in * w->quantization()->scale()->Get(c));
        EXPECT_EQ(b->quantization()->zero_point()->Get(c), 0);
      }
      if (code == BuiltinOperator::CONV_2D) {
        EXPECT_EQ(w->quantization()->scale()->size(), size_t(w->shape()->Get(0)));
        // fused ReLU: the output range starts at 0 -> zero point -128
        EXPECT_EQ(tq(y).second, -128);
        EXPECT_EQ(m->operator_codes()->Get(op->opcode_index())->version(), 3);
      } else {
        EXPECT_EQ(w->quantization()->scale()->size(), 1u);
      }
    }
  }
  // float I/O variant: QUANTIZE first, DEQUANTIZE last.
  eo.int8_io = false;
  const auto* m2 = Load(ExportTflite(g, eo, &cal));
  const auto* sg2 = m2->subgraphs()->Get(0);
  EXPECT_EQ(sg2->tensors()->Get(sg2->inputs()->Get(0))->type(), TensorType::FLOAT32);
  EXPECT_EQ(sg2->tensors()->Get(sg2->outputs()->Get(0))->type(), TensorType::FLOAT32);
  auto first = tfl::EffectiveBuiltinCode(*m2->operator_codes()->Get(sg2->operators()->Get(0)->opcode_index()));
  auto last = tfl::EffectiveBuiltinCode(
      *m2->operator_codes()->Get(sg2->operators()->Get(sg2->operators()->size() - 1)->opcode_index()));
  EXPECT_EQ(first, BuiltinOperator::QUANTIZE);
  EXPECT_EQ(last, BuiltinOperator::DEQUANTIZE);
  // Calibration errors are reported.
  EXPECT_THROW(ExportTflite(g, ExportOptions{.quant = QuantMode::kInt8}), Error);
  EXPECT_THROW(Calibrate(g, {}), Error);
  EXPECT_THROW(Calibrate(g, {std::vector<float>(3)}), Error);
}

TEST(Export, CSourceAndZip) {
  std::string bytes("\x00\x01\xfe\xff TFL3", 9);
  std::string c = ToCSource(bytes, "g_model", "ops: CONV_2D\narena ~ 1 KB");
  EXPECT_NE(c.find("const unsigned char g_model[] = {"), std::string::npos);
  EXPECT_NE(c.find("0x00, 0x01, 0xfe, 0xff, 0x20"), std::string::npos);
  EXPECT_NE(c.find("const unsigned int g_model_len = 9;"), std::string::npos);
  EXPECT_NE(c.find("// arena ~ 1 KB"), std::string::npos);
  EXPECT_NE(c.find("_Alignas(16)"), std::string::npos);
  EXPECT_THROW(ToCSource(bytes, "1bad", ""), Error);

  // The zip really is a zip holding the bytes.
  std::string payload(5000, 'a');
  std::string zip = ZipBytes(payload, "model.tflite");
  EXPECT_EQ(zip.substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_LT(zip.size(), 300u);  // 5000 identical bytes deflate to almost nothing
  EXPECT_EQ(ZipSize(payload), zip.size());
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(zip.data(), zip.size(), 0, &err);
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY, &err);
  ASSERT_NE(za, nullptr);
  zip_stat_t st;
  ASSERT_EQ(zip_stat(za, "model.tflite", 0, &st), 0);
  EXPECT_EQ(st.size, 5000u);
  EXPECT_EQ(st.comp_method, ZIP_CM_DEFLATE);
  zip_file_t* f = zip_fopen(za, "model.tflite", 0);
  std::string back(5000, '\0');
  EXPECT_EQ(zip_fread(f, back.data(), 5000), 5000);
  EXPECT_EQ(back, payload);
  zip_fclose(f);
  zip_close(za);
}

// The recipe's numbers (the course recipe: README): dynamic-range .tflite 11,883 bytes, zipped 4,305 bytes, for a 4 x 16
// filter network pruned to 85 % sparsity. Our file for the same shape must not be bigger.
TEST(Sizes, PrunedSeedModelWithinRecipeBudget) {
  ir::SyntheticOptions so;
  so.sparsity = 0.85;
  so.classes = 12;
  ir::Graph g = ir::MakeSyntheticGraph(so);
  ExportOptions eo;
  tfl::KwsMetadata md;
  md.labels = {"_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
  eo.metadata = md;
  eo.quant = QuantMode::kDynamic;
  std::string dyn = ExportTflite(g, eo);
  size_t dyn_zip = ZipSize(dyn);
  eo.quant = QuantMode::kInt8;
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 8, 3));
  std::string i8 = ExportTflite(g, eo, &cal);
  eo.quant = QuantMode::kFloat;
  std::string f32 = ExportTflite(g, eo);
  std::printf("seed-shaped, 85%% sparse, 12 classes: float %zu B (zip %zu), dynamic %zu B (zip %zu), int8 %zu B (zip %zu)\n",
              f32.size(), ZipSize(f32), dyn.size(), dyn_zip, i8.size(), ZipSize(i8));
  EXPECT_LE(dyn.size(), 11883u);
  EXPECT_LE(dyn_zip, 4305u);
  // int8 also quantizes the small tensors dynamic-range keeps float (conv1 144, FC 192 values) but adds
  // per-channel quantization parameters for every conv weight and bias; the builder shares identical
  // vectors (the all-zero int64 zero points), which keeps the int8 file the smallest.
  EXPECT_LT(i8.size(), dyn.size());
  EXPECT_LE(ZipSize(i8), 4305u);
  EXPECT_LT(dyn.size(), f32.size() / 2);
}

}  // namespace
}  // namespace kws

namespace kws {
namespace {

// The byte accounting adds up to the file, and the lean defaults hold: constants carry no names,
// activations and graph I/O keep theirs, identical quantization is written once.
TEST(Export, ByteAccountingAndLeanDefaults) {
  ir::SyntheticOptions so;
  so.kind = "pools";
  ir::Graph g = ir::MakeSyntheticGraph(so);
  auto cal = Calibrate(g, ir::SyntheticInputs(g, 4, 1));
  for (QuantMode q : {QuantMode::kFloat, QuantMode::kDynamic, QuantMode::kInt8}) {
    ExportOptions eo;
    eo.quant = q;
    ExportInfo info;
    std::string bytes = ExportTflite(g, eo, &cal, &info);
    size_t sum = 0;
    for (const auto& [part, n] : info.bytes.parts) sum += n;
    EXPECT_EQ(info.bytes.total, bytes.size()) << QuantModeName(q);
    EXPECT_EQ(sum, bytes.size()) << info.bytes.Table();
    const auto* m = tfl::VerifiedModel(bytes, "m");
    const auto* sg = m->subgraphs()->Get(0);
    for (const auto* t : *sg->tensors()) {
      const bool is_const = m->buffers()->Get(t->buffer())->data() != nullptr;
      EXPECT_EQ(t->name() == nullptr, is_const);
    }
    EXPECT_EQ(sg->tensors()->Get(sg->inputs()->Get(0))->name()->str(), g.names[g.input]);
    ExportOptions named = eo;
    named.const_tensor_names = true;
    EXPECT_GT(ExportTflite(g, named, &cal).size(), bytes.size());
    if (q == QuantMode::kInt8) {
      // Pool outputs keep their input's quantization: the same table, not a copy.
      int shared = 0;
      std::set<const void*> seen;
      for (const auto* t : *sg->tensors())
        if (t->quantization() && !seen.insert(t->quantization()).second) ++shared;
      EXPECT_GT(shared, 0);
    }
  }
}

}  // namespace
}  // namespace kws
