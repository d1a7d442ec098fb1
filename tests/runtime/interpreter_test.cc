// Interpreter: loading, running, arena planning, metadata, and the loader's
// rejection of broken files (each with a message naming the problem).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "kws_tflite_generated.h"
#include "runtime/interpreter.h"
#include "support/synthetic_model.h"
#include "tflite/builder.h"
#include "util/error.h"
#include "util/rng.h"

using kws::rt::Interpreter;
using kws::rt::SyntheticModelOptions;
using Kind = SyntheticModelOptions::Kind;

namespace {

std::vector<float> Features(const Interpreter& it, uint64_t seed) {
  const std::string raw = kws::rt::SyntheticInputFloat(it.input(0).elements(), seed);
  std::vector<float> f(raw.size() / 4);
  std::memcpy(f.data(), raw.data(), raw.size());
  return f;
}

// Expects FromBuffer to throw BadInput whose message starts with `name: ` and contains `needle`.
void ExpectRejected(const std::string& bytes, const std::string& needle) {
  try {
    Interpreter::FromBuffer("m.tflite", bytes);
    ADD_FAILURE() << "accepted a model that should be rejected (" << needle << ")";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput) << e.what();
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("m.tflite: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg << "\nexpected to contain: " << needle;
  }
}

// A hand-written FULLY_CONNECTED model through the generated FlatBuffer API,
// with knobs that break one thing at a time.
struct RawFc {
  uint32_t version = 3;
  int subgraphs = 1;
  int op_input = 0;                 // tensor index the op reads
  size_t weight_bytes = 48;         // weights [3,4] float
  int8_t deprecated_code = 9;       // FULLY_CONNECTED
  tflite::BuiltinOperator code = tflite::BuiltinOperator::FULLY_CONNECTED;
  std::vector<int> out_shape = {1, 3};
  std::vector<int> in_shape = {1, 4};
  tflite::TensorType in_type = tflite::TensorType::FLOAT32;
  uint32_t bias_buffer = 2;
  bool options = true;

  std::string Build() const {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<tflite::Buffer>> bufs;
    bufs.push_back(tflite::CreateBuffer(b));
    std::vector<float> w(12);
    std::iota(w.begin(), w.end(), 1.0f);
    std::vector<uint8_t> wb(weight_bytes);
    std::memcpy(wb.data(), w.data(), std::min(weight_bytes, size_t(48)));
    bufs.push_back(tflite::CreateBuffer(b, b.CreateVector(wb)));
    const std::vector<float> bias{0.5f, -1.0f, 2.0f};
    bufs.push_back(tflite::CreateBuffer(b, b.CreateVector(reinterpret_cast<const uint8_t*>(bias.data()), 12)));
    std::vector<flatbuffers::Offset<tflite::Tensor>> ts;
    ts.push_back(tflite::CreateTensor(b, b.CreateVector(in_shape), in_type, 0, b.CreateString("in")));
    ts.push_back(tflite::CreateTensor(b, b.CreateVector(std::vector<int>{3, 4}), tflite::TensorType::FLOAT32, 1,
                                      b.CreateString("w")));
    ts.push_back(tflite::CreateTensor(b, b.CreateVector(std::vector<int>{3}), tflite::TensorType::FLOAT32, bias_buffer,
                                      b.CreateString("b")));
    ts.push_back(tflite::CreateTensor(b, b.CreateVector(out_shape), tflite::TensorType::FLOAT32, 0, b.CreateString("out")));
    const auto opt = tflite::CreateFullyConnectedOptions(b);
    std::vector<flatbuffers::Offset<tflite::Operator>> ops;
    ops.push_back(tflite::CreateOperator(b, 0, b.CreateVector(std::vector<int>{op_input, 1, 2}),
                                         b.CreateVector(std::vector<int>{3}),
                                         options ? tflite::BuiltinOptions::FullyConnectedOptions
                                                 : tflite::BuiltinOptions::NONE,
                                         options ? opt.Union() : 0));
    std::vector<flatbuffers::Offset<tflite::SubGraph>> sgs;
    for (int i = 0; i < subgraphs; ++i)
      sgs.push_back(tflite::CreateSubGraph(b, b.CreateVector(ts), b.CreateVector(std::vector<int>{0}),
                                           b.CreateVector(std::vector<int>{3}), b.CreateVector(ops)));
    std::vector<flatbuffers::Offset<tflite::OperatorCode>> codes;
    codes.push_back(tflite::CreateOperatorCode(b, deprecated_code, 0, 1, code));
    const auto model = tflite::CreateModel(b, version, b.CreateVector(codes), b.CreateVector(sgs),
                                           b.CreateString("raw"), b.CreateVector(bufs));
    tflite::FinishModelBuffer(b, model);
    return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  }
};

// ---- running ------------------------------------------------------------------

TEST(Interpreter, HandWrittenFullyConnectedComputesExactValues) {
  Interpreter it = Interpreter::FromBuffer("raw", RawFc{}.Build());
  ASSERT_EQ(it.num_inputs(), 1);
  ASSERT_EQ(it.num_outputs(), 1);
  EXPECT_EQ(it.input(0).shape, (std::vector<int>{1, 4}));
  EXPECT_EQ(it.output(0).shape, (std::vector<int>{1, 3}));
  EXPECT_EQ(it.macs(), 12);
  EXPECT_EQ(it.num_weights(), 15);
  EXPECT_EQ(it.num_nonzero_weights(), 15);
  const float x[4] = {1, 0, -1, 2};
  // rows: [1..4]·x = 1 − 3 + 8 = 6, [5..8]·x = 5 − 7 + 16 = 14, [9..12]·x = 9 − 11 + 24 = 22; + bias.
  const auto y = it.RunFloat(x);
  EXPECT_EQ(y, (std::vector<float>{6.5f, 13.0f, 24.0f}));
  it.set_kernels(kws::rt::KernelSet::kReference);
  EXPECT_EQ(it.RunFloat(x), y);
}

TEST(Interpreter, OldConvertersDeprecatedBuiltinCodeIsHonoured) {
  RawFc m;
  m.code = tflite::BuiltinOperator::ADD;  // 0: only deprecated_builtin_code says FULLY_CONNECTED
  Interpreter it = Interpreter::FromBuffer("old", m.Build());
  EXPECT_EQ(it.ops()[0].op, "FULLY_CONNECTED");
}

TEST(Interpreter, SeedModelsRunAndAgree) {
  SyntheticModelOptions o;
  Interpreter f = Interpreter::FromBuffer("float", kws::rt::MakeSyntheticModel(o));
  o.kind = Kind::kInt8;
  o.float_io = true;
  Interpreter q = Interpreter::FromBuffer("int8", kws::rt::MakeSyntheticModel(o));
  o.kind = Kind::kHybrid;
  Interpreter h = Interpreter::FromBuffer("hybrid", kws::rt::MakeSyntheticModel(o));
  EXPECT_EQ(f.model_kind(), "float32");
  EXPECT_EQ(q.model_kind(), "int8");
  EXPECT_EQ(h.model_kind(), "hybrid");
  // 97×20×16·9 + 49×10×16·144 + 25×5×16·144 + 25×5×16·144 + 16·12
  const int64_t macs = 97 * 20 * 16 * 9 + 49 * 10 * 16 * 144 + 2 * 25 * 5 * 16 * 144 + 16 * 12;
  EXPECT_EQ(f.macs(), macs);
  EXPECT_EQ(q.macs(), macs);
  // Arena: at most the two largest activations alive at once plus scratch, far below the sum of all.
  EXPECT_GT(f.arena_bytes(), size_t(97 * 20 * 16 * 4));
  EXPECT_LT(f.arena_bytes(), size_t(97 * 20 * 16 * 4 * 2 + 49 * 10 * 144 * 4 + 4096));
  EXPECT_LT(q.arena_bytes(), f.arena_bytes());
  double worst_q = 0, worst_h = 0;
  for (uint64_t s = 0; s < 5; ++s) {
    const auto x = Features(f, s);
    const auto yf = f.RunFloat(x.data());
    const auto yq = q.RunFloat(x.data());
    const auto yh = h.RunFloat(x.data());
    ASSERT_EQ(yf.size(), 12u);
    EXPECT_NEAR(std::accumulate(yf.begin(), yf.end(), 0.0), 1.0, 1e-5);
    for (size_t i = 0; i < yf.size(); ++i) {
      worst_q = std::max(worst_q, double(std::fabs(yf[i] - yq[i])));
      worst_h = std::max(worst_h, double(std::fabs(yf[i] - yh[i])));
    }
    // Reference kernels: float within 1e-5, int8 identical.
    f.set_kernels(kws::rt::KernelSet::kReference);
    q.set_kernels(kws::rt::KernelSet::kReference);
    const auto rf = f.RunFloat(x.data());
    const auto rq = q.RunFloat(x.data());
    for (size_t i = 0; i < yf.size(); ++i) EXPECT_NEAR(rf[i], yf[i], 1e-5);
    EXPECT_EQ(rq, yq);
    f.set_kernels(kws::rt::KernelSet::kOptimized);
    q.set_kernels(kws::rt::KernelSet::kOptimized);
  }
  EXPECT_LT(worst_q, 0.08) << "int8 model drifts from float";
  EXPECT_LT(worst_h, 0.02) << "hybrid model drifts from float";
}

TEST(Interpreter, SparsityCountsAndMetadata) {
  SyntheticModelOptions o;
  o.sparsity = 0.85f;
  Interpreter it = Interpreter::FromBuffer("sparse", kws::rt::MakeSyntheticModel(o));
  EXPECT_LT(double(it.num_nonzero_weights()), 0.3 * double(it.num_weights()));
  EXPECT_FALSE(it.has_metadata("kws"));
  EXPECT_EQ(it.metadata("kws"), "");

  kws::tfl::ModelBuilder b;
  const int x = b.AddTensor("x", {1, 4}, tflite::TensorType::FLOAT32);
  const int y = b.AddTensor("y", {1, 4}, tflite::TensorType::FLOAT32);
  b.AddOperator(tflite::BuiltinOperator::SOFTMAX, {x}, {y}, kws::tfl::SoftmaxOptions{1.0f});
  b.SetInputs({x});
  b.SetOutputs({y});
  b.AddMetadata("kws", R"({"labels":["yes","no"]})");
  Interpreter m = Interpreter::FromBuffer("meta", b.Finish());
  EXPECT_TRUE(m.has_metadata("kws"));
  EXPECT_EQ(m.metadata("kws"), R"({"labels":["yes","no"]})");
  const float in[4] = {0, 0, 0, 0};
  EXPECT_EQ(m.RunFloat(in), (std::vector<float>{0.25f, 0.25f, 0.25f, 0.25f}));
}

TEST(Interpreter, MovedInterpreterKeepsWorkingAndOutOfRangeIndexIsUsageError) {
  Interpreter a = Interpreter::FromBuffer("raw", RawFc{}.Build());
  Interpreter b = std::move(a);
  const float x[4] = {0, 0, 0, 0};
  EXPECT_EQ(b.RunFloat(x), (std::vector<float>{0.5f, -1.0f, 2.0f}));
  try {
    b.input(1);
    ADD_FAILURE();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
  }
}

// ---- rejection ------------------------------------------------------------------

TEST(Loader, RejectsBrokenFilesWithClearMessages) {
  const std::string good = RawFc{}.Build();
  ExpectRejected(good.substr(0, good.size() / 2), "corrupt");
  ExpectRejected("abc", "too small");
  kws::Rng rng(1);
  std::string noise(4000, '\0');
  for (auto& c : noise) c = char(rng.Below(256));
  ExpectRejected(noise, "TFL3");
  std::string wrong_id = good;
  wrong_id[4] = 'X';
  ExpectRejected(wrong_id, "TFL3");
  // Random bytes behind a valid identifier.
  std::string id_noise = noise;
  std::memcpy(&id_noise[4], "TFL3", 4);
  ExpectRejected(id_noise, "corrupt");

  RawFc m;
  m.version = 2;
  ExpectRejected(m.Build(), "schema version 2");
  m = RawFc{};
  m.subgraphs = 2;  // subgraph 0 runs (as in TFLite); the others are only reachable by control flow
  EXPECT_NO_THROW(Interpreter::FromBuffer("m.tflite", m.Build()));
  m = RawFc{};
  m.op_input = 7;
  ExpectRejected(m.Build(), "input tensor index 7 out of range");
  m = RawFc{};
  m.weight_bytes = 40;
  ExpectRejected(m.Build(), "holds 40 bytes, shape × type needs 48");
  m = RawFc{};
  m.bias_buffer = 9;
  ExpectRejected(m.Build(), "buffer index 9 out of range");
  m = RawFc{};
  m.out_shape = {1, 4};
  ExpectRejected(m.Build(), "has shape [1,4], the op produces [1,3]");
  m = RawFc{};
  m.in_shape = {1, 0};
  ExpectRejected(m.Build(), "dimension 0");
  m = RawFc{};
  m.in_shape = {1, 5};
  ExpectRejected(m.Build(), "cannot be split into rows of 4");
  m = RawFc{};
  m.in_type = tflite::TensorType::UINT8;
  ExpectRejected(m.Build(), "graph input tensor 0 is uint8 without per-tensor quantization");
  m = RawFc{};
  m.in_type = tflite::TensorType::INT8;
  ExpectRejected(m.Build(), "int8 without per-tensor quantization");
  m = RawFc{};
  m.options = false;
  ExpectRejected(m.Build(), "missing FullyConnectedOptions");
  m = RawFc{};
  m.op_input = 3;  // reads its own output
  ExpectRejected(m.Build(), "read before any operator writes it");
  m = RawFc{};
  m.deprecated_code = 0;
  m.code = static_cast<tflite::BuiltinOperator>(116);  // ROUND
  ExpectRejected(m.Build(), "operator 0: unknown operator (builtin 116) is not supported");
}

TEST(Loader, RejectsUnsupportedOpsAndBadQuantization) {
  {
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 4}, tflite::TensorType::FLOAT32);
    const int y = b.AddTensor("y", {1, 4}, tflite::TensorType::FLOAT32);
    b.AddOperator(static_cast<tflite::BuiltinOperator>(116), {x}, {y});  // ROUND
    b.SetInputs({x});
    b.SetOutputs({y});
    ExpectRejected(b.Finish(), "operator 0: unknown operator (builtin 116) is not supported");
  }
  {
    // int8 softmax whose output is not 1/256, −128.
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 4}, tflite::TensorType::INT8, 0, kws::tfl::QuantParams::PerTensor(0.1f, 0));
    const int y = b.AddTensor("y", {1, 4}, tflite::TensorType::INT8, 0, kws::tfl::QuantParams::PerTensor(0.1f, 0));
    b.AddOperator(tflite::BuiltinOperator::SOFTMAX, {x}, {y}, kws::tfl::SoftmaxOptions{1.0f});
    b.SetInputs({x});
    b.SetOutputs({y});
    ExpectRejected(b.Finish(), "scale 1/256 and zero point -128");
  }
  {
    // Asymmetric (non-zero zero point) conv weights, and a non-constant filter.
    kws::tfl::ModelBuilder b;
    const auto q = kws::tfl::QuantParams::PerTensor(0.1f, 0);
    const int x = b.AddTensor("x", {1, 4, 4, 2}, tflite::TensorType::INT8, 0, q);
    kws::tfl::QuantParams wq;
    wq.scale = {0.1f};
    wq.zero_point = {3};
    const int w = b.AddConstTensor<int8_t>("w", {3, 1, 1, 2}, tflite::TensorType::INT8, std::vector<int8_t>(6, 1), wq);
    const int y = b.AddTensor("y", {1, 4, 4, 3}, tflite::TensorType::INT8, 0, q);
    b.AddOperator(tflite::BuiltinOperator::CONV_2D, {x, w, -1}, {y}, kws::tfl::Conv2DOptions{});
    b.SetInputs({x});
    b.SetOutputs({y});
    ExpectRejected(b.Finish(), "weight tensor 1 has a non-zero zero point");
  }
  {
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 4, 4, 2}, tflite::TensorType::FLOAT32);
    const int w = b.AddTensor("w", {3, 1, 1, 2}, tflite::TensorType::FLOAT32);
    const int y = b.AddTensor("y", {1, 4, 4, 3}, tflite::TensorType::FLOAT32);
    b.AddOperator(tflite::BuiltinOperator::CONV_2D, {x, w, -1}, {y}, kws::tfl::Conv2DOptions{});
    b.SetInputs({x, w});
    b.SetOutputs({y});
    ExpectRejected(b.Finish(), "filter tensor 1 must be a constant");
  }
  {
    // A huge activation is refused before anything is allocated.
    kws::tfl::ModelBuilder b;
    const int x = b.AddTensor("x", {1, 100000, 100000, 1}, tflite::TensorType::FLOAT32);
    const int y = b.AddTensor("y", {1, 100000, 100000, 1}, tflite::TensorType::FLOAT32);
    b.AddOperator(tflite::BuiltinOperator::SOFTMAX, {x}, {y}, kws::tfl::SoftmaxOptions{1.0f});
    b.SetInputs({x});
    b.SetOutputs({y});
    ExpectRejected(b.Finish(), "too many elements");
  }
}

TEST(Loader, FromFileNamesThePath) {
  const auto path = std::filesystem::temp_directory_path() / ("kws_rt_" + std::to_string(::getpid()) + ".tflite");
  {
    std::ofstream f(path, std::ios::binary);
    f << "definitely not a model";
  }
  try {
    Interpreter::FromFile(path.string());
    ADD_FAILURE();
  } catch (const kws::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path.string() + ": ", 0), 0u) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
