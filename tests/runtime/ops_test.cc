// The ops added for microWakeWord / openWakeWord models and the control-flow,
// variable and dynamic-shape machinery, on tiny hand-computed models
// (test_graph.h). Their agreement with the official interpreters is checked
// in new_ops_official_test.cc and wake_word_models_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "runtime/interpreter.h"
#include "runtime/op.h"
#include "test_graph.h"
#include "util/error.h"

namespace {

using kws::rt::Interpreter;
using kws::test::TestGraph;
using BO = tflite::BuiltinOperator;
using TT = tflite::TensorType;
constexpr TT F32 = TT::FLOAT32, I32 = TT::INT32, I8 = TT::INT8, BOOL = TT::BOOL, RES = TT::RESOURCE;

template <class T>
std::vector<T> Infer(Interpreter& it, const std::vector<T>& x, int input = 0) {
  EXPECT_EQ(it.input(input).bytes, x.size() * sizeof(T));
  std::memcpy(it.input_data(input), x.data(), it.input(input).bytes);
  it.Invoke();
  std::vector<T> y(it.output(0).bytes / sizeof(T));
  std::memcpy(y.data(), it.output_data(0), it.output(0).bytes);
  return y;
}

// Both kernel sets give `want`.
template <class T>
void ExpectBoth(Interpreter& it, const std::vector<T>& x, const std::vector<T>& want) {
  for (auto k : {kws::rt::KernelSet::kOptimized, kws::rt::KernelSet::kReference}) {
    it.set_kernels(k);
    EXPECT_EQ(Infer(it, x), want);
  }
}

void ExpectRejected(const std::string& bytes, const std::string& needle) {
  try {
    Interpreter::FromBuffer("m.tflite", bytes);
    ADD_FAILURE() << "accepted a model that should be rejected (" << needle << ")";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what() << "\nexpected: " << needle;
  }
}

kws::test::Options StridedSliceOpts(int begin_mask, int end_mask, int shrink = 0) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return std::make_pair(tflite::BuiltinOptions::StridedSliceOptions,
                          tflite::CreateStridedSliceOptions(b, begin_mask, end_mask, 0, 0, shrink).Union());
  };
}

// One op y = OP(x, params...) on float input of `shape`.
struct Single {
  TestGraph g;
  int x, y;
  Single(const std::vector<int>& in, const std::vector<int>& out, TT type = F32, TT out_type = F32) {
    x = g.Tensor(0, in, type);
    y = g.Tensor(0, out, out_type);
  }
  Interpreter Load(BO code, std::vector<int> params = {}, kws::test::Options o = nullptr) {
    params.insert(params.begin(), x);
    g.Op(0, code, params, {y}, std::move(o));
    g.Io(0, {x}, {y});
    return Interpreter::FromBuffer("single", g.Build());
  }
};

// ---- slicing and layout ----------------------------------------------------

TEST(Ops, StridedSliceMasksAsMicroWakeWordUsesThem) {
  // [1,5,1,2] = 0..9; begin [0,3,0,0], begin_mask 0b1101, end_mask 0b1111: rows 3..4 of axis 1.
  Single s({1, 5, 1, 2}, {1, 2, 1, 2});
  const int b = s.g.Const<int32_t>(0, {4}, I32, {0, 3, 0, 0}), e = s.g.Const<int32_t>(0, {4}, I32, {0, 0, 0, 0});
  const int st = s.g.Const<int32_t>(0, {4}, I32, {1, 1, 1, 1});
  auto it = s.Load(BO::STRIDED_SLICE, {b, e, st}, StridedSliceOpts(13, 15));
  std::vector<float> x(10);
  std::iota(x.begin(), x.end(), 0.0f);
  ExpectBoth<float>(it, x, {6, 7, 8, 9});
}

TEST(Ops, StridedSliceNegativeStrideAndShrink) {
  {
    Single s({6}, {3});  // [5, 3, 1]: begin −1 (= 5), end 0 exclusive, stride −2
    auto it = s.Load(BO::STRIDED_SLICE,
                     {s.g.Const<int32_t>(0, {1}, I32, {-1}), s.g.Const<int32_t>(0, {1}, I32, {0}),
                      s.g.Const<int32_t>(0, {1}, I32, {-2})},
                     StridedSliceOpts(0, 0));
    ExpectBoth<float>(it, {0, 1, 2, 3, 4, 5}, {5, 3, 1});
  }
  {
    Single s({6}, {5});  // begin_mask overrides begin 4: elements 0..4
    auto it = s.Load(BO::STRIDED_SLICE,
                     {s.g.Const<int32_t>(0, {1}, I32, {4}), s.g.Const<int32_t>(0, {1}, I32, {5}),
                      s.g.Const<int32_t>(0, {1}, I32, {1})},
                     StridedSliceOpts(1, 0));
    ExpectBoth<float>(it, {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4});
  }
  {
    Single s({2, 3}, {3});  // row 1, axis 0 shrunk
    auto it = s.Load(BO::STRIDED_SLICE,
                     {s.g.Const<int32_t>(0, {2}, I32, {1, 0}), s.g.Const<int32_t>(0, {2}, I32, {2, 3}),
                      s.g.Const<int32_t>(0, {2}, I32, {1, 1})},
                     StridedSliceOpts(0, 0, 1));
    ExpectBoth<float>(it, {0, 1, 2, 3, 4, 5}, {3, 4, 5});
  }
}

TEST(Ops, SplitVWithRestSize) {
  TestGraph g;
  const int x = g.Tensor(0, {1, 4, 2}, F32), a = g.Tensor(0, {1, 1, 2}, F32), c = g.Tensor(0, {1, 3, 2}, F32);
  g.Op(0, BO::SPLIT_V, {x, g.Const<int32_t>(0, {2}, I32, {1, -1}), g.Const<int32_t>(0, {}, I32, {1})}, {a, c},
       [](auto& b) { return std::make_pair(tflite::BuiltinOptions::SplitVOptions, tflite::CreateSplitVOptions(b, 2).Union()); });
  g.Io(0, {x}, {c, a});
  auto it = Interpreter::FromBuffer("split", g.Build());
  EXPECT_EQ(Infer<float>(it, {0, 1, 2, 3, 4, 5, 6, 7}), (std::vector<float>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(it.output(1).shape, (std::vector<int>{1, 1, 2}));
  EXPECT_EQ(std::vector<float>(static_cast<const float*>(it.output_data(1)), static_cast<const float*>(it.output_data(1)) + 2),
            (std::vector<float>{0, 1}));
}

TEST(Ops, TransposeExpandDimsSqueeze) {
  {
    Single s({2, 3}, {3, 2});
    auto it = s.Load(BO::TRANSPOSE, {s.g.Const<int32_t>(0, {2}, I32, {1, 0})});
    ExpectBoth<float>(it, {1, 2, 3, 4, 5, 6}, {1, 4, 2, 5, 3, 6});
  }
  {
    Single s({2, 3}, {2, 1, 3});
    auto it = s.Load(BO::EXPAND_DIMS, {s.g.Const<int32_t>(0, {}, I32, {-2})});
    EXPECT_EQ(it.output(0).shape, (std::vector<int>{2, 1, 3}));
    ExpectBoth<float>(it, {1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6});
  }
  {
    Single s({1, 3, 1}, {1, 3});
    auto it = s.Load(BO::SQUEEZE, {}, [](auto& b) {
      return std::make_pair(tflite::BuiltinOptions::SqueezeOptions,
                            tflite::CreateSqueezeOptions(b, b.CreateVector(std::vector<int>{-1})).Union());
    });
    ExpectBoth<float>(it, {7, 8, 9}, {7, 8, 9});
  }
}

TEST(Ops, PackAlongANewAxis) {
  for (int axis : {0, 1, -1}) {
    Single s({2}, {axis == 0 ? 2 : 2, 2});
    auto it = s.Load(BO::PACK, {s.g.Const<float>(0, {2}, F32, {7, 8})}, [axis](auto& b) {
      return std::make_pair(tflite::BuiltinOptions::PackOptions, tflite::CreatePackOptions(b, 2, axis).Union());
    });
    // axis 0: [[1,2],[7,8]]; axis 1 (= −1): [[1,7],[2,8]].
    ExpectBoth<float>(it, {1, 2}, axis == 0 ? std::vector<float>{1, 2, 7, 8} : std::vector<float>{1, 7, 2, 8});
  }
}

// ---- arithmetic ------------------------------------------------------------

TEST(Ops, BatchMatMulAdjointsAndBroadcast) {
  {
    // [2,2] · [2,3]: rows (1,2), (3,4) times columns of [[1,0,2],[0,1,3]].
    Single s({2, 2}, {2, 3});
    auto it = s.Load(BO::BATCH_MATMUL, {s.g.Const<float>(0, {2, 3}, F32, {1, 0, 2, 0, 1, 3})});
    ExpectBoth<float>(it, {1, 2, 3, 4}, {1, 2, 8, 3, 4, 18});
  }
  {
    // adj_x: lhs [2 batches, K=2, M=1]; rhs [2,1] shared by both batches.
    Single s({2, 2, 1}, {2, 1, 1});
    auto it = s.Load(BO::BATCH_MATMUL, {s.g.Const<float>(0, {2, 1}, F32, {10, 1})}, [](auto& b) {
      return std::make_pair(tflite::BuiltinOptions::BatchMatMulOptions, tflite::CreateBatchMatMulOptions(b, true).Union());
    });
    ExpectBoth<float>(it, {1, 2, 3, 4}, {12, 34});
    EXPECT_EQ(it.macs(), 4);
  }
}

TEST(Ops, MaximumMinimumReduceMaxLogRsqrtLeakyRelu) {
  {
    Single s({4}, {4});
    auto it = s.Load(BO::MAXIMUM, {s.g.Const<float>(0, {}, F32, {0.5f})});
    ExpectBoth<float>(it, {-1, 0.25f, 0.75f, 3}, {0.5f, 0.5f, 0.75f, 3});
  }
  {
    Single s({4}, {4});
    auto it = s.Load(BO::MINIMUM, {s.g.Const<float>(0, {}, F32, {0.5f})});
    ExpectBoth<float>(it, {-1, 0.25f, 0.75f, 3}, {-1, 0.25f, 0.5f, 0.5f});
  }
  {
    Single s({2, 3}, {2});
    auto it = s.Load(BO::REDUCE_MAX, {s.g.Const<int32_t>(0, {1}, I32, {1})});
    ExpectBoth<float>(it, {1, 5, -2, -7, -3, -9}, {5, -3});
  }
  {
    Single s({2, 3}, {});  // every axis, keep_dims false → a scalar (openWakeWord's melspectrogram)
    auto it = s.Load(BO::REDUCE_MAX, {s.g.Const<int32_t>(0, {2}, I32, {0, 1})});
    ExpectBoth<float>(it, {1, 5, -2, -7, -3, -9}, {5});
  }
  {
    Single s({3}, {3});
    auto it = s.Load(BO::LOG);
    const auto y = Infer<float>(it, {1.0f, float(M_E), 4.0f});
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_NEAR(y[1], 1.0f, 1e-7f);
    EXPECT_EQ(y[2], std::log(4.0f));
  }
  {
    Single s({2}, {2});
    auto it = s.Load(BO::RSQRT);
    ExpectBoth<float>(it, {4, 0.25f}, {0.5f, 2});
  }
  {
    Single s({3}, {3});
    auto it = s.Load(BO::LEAKY_RELU, {}, [](auto& b) {
      return std::make_pair(tflite::BuiltinOptions::LeakyReluOptions, tflite::CreateLeakyReluOptions(b, 0.25f).Union());
    });
    ExpectBoth<float>(it, {-2, 0, 3}, {-0.5f, 0, 3});
  }
}

TEST(Ops, GreaterEqualGivesBool) {
  Single s({3}, {3}, F32, BOOL);
  auto it = s.Load(BO::GREATER_EQUAL, {s.g.Const<float>(0, {}, F32, {2})});
  EXPECT_EQ(it.output(0).type, kws::rt::DType::kBool);
  ExpectBoth<uint8_t>(it, std::vector<uint8_t>(12, 0), {0, 0, 0});  // +0.0f >= 2: false
  std::vector<float> x = {1, 2, 3};
  std::memcpy(it.input_data(0), x.data(), 12);
  it.Invoke();
  const auto* y = static_cast<const uint8_t*>(it.output_data(0));
  EXPECT_EQ(std::vector<int>(y, y + 3), (std::vector<int>{0, 1, 1}));
}

TEST(Ops, HardSwishFloatAndInt8) {
  {
    Single s({7}, {7});
    auto it = s.Load(BO::HARD_SWISH);
    // x·relu6(x+3)/6: −4 → 0, −3 → 0, −1 → −1·2/6, 0 → 0, 1 → 4/6, 3 → 3, 4 → 4.
    const auto y = Infer<float>(it, {-4, -3, -1, 0, 1, 3, 4});
    const std::vector<float> want = {0, 0, -1.0f / 3, 0, 2.0f / 3, 3, 4};
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-7f) << i;
  }
  {
    // int8 (TFLite's 16-bit fixed point): within one step of the rounded float result for all 256 inputs.
    TestGraph g;
    const int x = g.Tensor(0, {256}, I8, 0.05f, 3), y = g.Tensor(0, {256}, I8, 0.03f, -60);
    g.Op(0, BO::HARD_SWISH, {x}, {y});
    g.Io(0, {x}, {y});
    auto it = Interpreter::FromBuffer("hs", g.Build());
    std::vector<int8_t> in(256);
    for (int i = 0; i < 256; ++i) in[size_t(i)] = int8_t(i - 128);
    const auto out = Infer(it, in);
    int exact = 0;
    for (int i = 0; i < 256; ++i) {
      const float v = 0.05f * float(in[size_t(i)] - 3);
      const float f = v * std::min(6.0f, std::max(0.0f, v + 3)) / 6;
      const int want = std::clamp(int(std::lround(f / 0.03f)) - 60, -128, 127);
      EXPECT_LE(std::abs(out[size_t(i)] - want), 1) << "input " << int(in[size_t(i)]);
      exact += out[size_t(i)] == want;
    }
    EXPECT_GT(exact, 200);
  }
}

// ---- resource variables, CALL_ONCE, IF, WHILE ------------------------------

// The smallest streaming model: y = x + (the x of the previous call); the
// state starts at [10, 20] (assigned by the CALL_ONCE init subgraph).
std::string StreamingModel() {
  TestGraph g;
  auto handle = [](auto& b) {
    return std::make_pair(tflite::BuiltinOptions::VarHandleOptions,
                          tflite::CreateVarHandleOptions(b, b.CreateString(""), b.CreateString("state")).Union());
  };
  const int init = g.AddSubgraph();
  const int h1 = g.Tensor(init, {}, RES), c = g.Const<float>(init, {1, 2}, F32, {10, 20});
  g.Op(init, BO::VAR_HANDLE, {}, {h1}, handle);
  g.Op(init, BO::ASSIGN_VARIABLE, {h1, c}, {});
  const int x = g.Tensor(0, {1, 2}, F32), h = g.Tensor(0, {}, RES), prev = g.Tensor(0, {1, 2}, F32);
  const int y = g.Tensor(0, {1, 2}, F32);
  g.Op(0, BO::CALL_ONCE, {}, {}, [init](auto& b) {
    return std::make_pair(tflite::BuiltinOptions::CallOnceOptions, tflite::CreateCallOnceOptions(b, init).Union());
  });
  g.Op(0, BO::VAR_HANDLE, {}, {h}, handle);
  g.Op(0, BO::READ_VARIABLE, {h}, {prev});
  g.Op(0, BO::ADD, {x, prev}, {y});
  g.Op(0, BO::ASSIGN_VARIABLE, {h, x}, {});
  g.Io(0, {x}, {y});
  return g.Build();
}

TEST(ControlFlow, VariablesCarryStateAcrossInvokeAndReset) {
  auto it = Interpreter::FromBuffer("stream", StreamingModel());
  EXPECT_EQ(it.num_subgraphs(), 2);
  EXPECT_EQ(Infer<float>(it, {1, 2}), (std::vector<float>{11, 22}));  // + the initial state
  EXPECT_EQ(Infer<float>(it, {3, 4}), (std::vector<float>{4, 6}));    // + the previous input
  EXPECT_EQ(Infer<float>(it, {5, 6}), (std::vector<float>{8, 10}));
  it.ResetVariables();
  EXPECT_EQ(Infer<float>(it, {3, 4}), (std::vector<float>{13, 24}));  // CALL_ONCE ran again
  it.set_kernels(kws::rt::KernelSet::kReference);
  EXPECT_EQ(Infer<float>(it, {0, 0}), (std::vector<float>{3, 4}));
  EXPECT_GE(it.arena_bytes(), 8u);  // includes the variable
}

TEST(ControlFlow, IfRunsTheChosenBranch) {
  // y = x >= 2 ? x + 100 : x (else branch: a pass-through without operators).
  TestGraph g;
  const int then_s = g.AddSubgraph(), else_s = g.AddSubgraph();
  const int tx = g.Tensor(then_s, {1}, F32), ty = g.Tensor(then_s, {1}, F32);
  g.Op(then_s, BO::ADD, {tx, g.Const<float>(then_s, {1}, F32, {100})}, {ty});
  g.Io(then_s, {tx}, {ty});
  const int ex = g.Tensor(else_s, {1}, F32);
  g.Io(else_s, {ex}, {ex});
  const int x = g.Tensor(0, {1}, F32), c = g.Tensor(0, {1}, BOOL), cs = g.Tensor(0, {}, BOOL), y = g.Tensor(0, {1}, F32);
  g.Op(0, BO::GREATER_EQUAL, {x, g.Const<float>(0, {}, F32, {2})}, {c});
  g.Op(0, BO::RESHAPE, {c, g.Const<int32_t>(0, {0}, I32, {})}, {cs});
  g.Op(0, BO::IF, {cs, x}, {y}, [=](auto& b) {
    return std::make_pair(tflite::BuiltinOptions::IfOptions, tflite::CreateIfOptions(b, then_s, else_s).Union());
  });
  g.Io(0, {x}, {y});
  auto it = Interpreter::FromBuffer("if", g.Build());
  EXPECT_EQ(Infer<float>(it, {5}), (std::vector<float>{105}));
  EXPECT_EQ(Infer<float>(it, {1}), (std::vector<float>{1}));
  EXPECT_EQ(Infer<float>(it, {2}), (std::vector<float>{102}));
}

// WHILE 4 >= i: i += 1, acc *= 2 (from i = 0, acc = 1: five iterations).
std::string WhileModel(float limit) {
  TestGraph g;
  const int cond = g.AddSubgraph(), body = g.AddSubgraph();
  const int ci = g.Tensor(cond, {1}, F32), ca = g.Tensor(cond, {1}, F32), cb = g.Tensor(cond, {1}, BOOL);
  const int cs = g.Tensor(cond, {}, BOOL);
  g.Op(cond, BO::GREATER_EQUAL, {g.Const<float>(cond, {1}, F32, {limit}), ci}, {cb});
  g.Op(cond, BO::RESHAPE, {cb, g.Const<int32_t>(cond, {0}, I32, {})}, {cs});
  g.Io(cond, {ci, ca}, {cs});
  const int bi = g.Tensor(body, {1}, F32), ba = g.Tensor(body, {1}, F32);
  const int bi2 = g.Tensor(body, {1}, F32), ba2 = g.Tensor(body, {1}, F32);
  g.Op(body, BO::ADD, {bi, g.Const<float>(body, {1}, F32, {1})}, {bi2});
  g.Op(body, BO::MUL, {ba, g.Const<float>(body, {1}, F32, {2})}, {ba2});
  g.Io(body, {bi, ba}, {bi2, ba2});
  const int i = g.Tensor(0, {1}, F32), a = g.Tensor(0, {1}, F32), io = g.Tensor(0, {1}, F32), ao = g.Tensor(0, {1}, F32);
  g.Op(0, BO::WHILE, {i, a}, {io, ao}, [=](auto& b) {
    return std::make_pair(tflite::BuiltinOptions::WhileOptions, tflite::CreateWhileOptions(b, cond, body).Union());
  });
  g.Io(0, {i, a}, {ao, io});
  return g.Build();
}

TEST(ControlFlow, WhileLoopsUntilTheConditionFails) {
  auto it = Interpreter::FromBuffer("while", WhileModel(4));
  const float i0 = 0, a0 = 1;
  std::memcpy(it.input_data(0), &i0, 4);
  std::memcpy(it.input_data(1), &a0, 4);
  it.Invoke();
  EXPECT_EQ(*static_cast<const float*>(it.output_data(0)), 32.0f);
  EXPECT_EQ(*static_cast<const float*>(it.output_data(1)), 5.0f);
  // A loop that never ends is stopped by LoadLimits::max_subgraph_runs.
  kws::rt::LoadLimits limits;
  limits.max_subgraph_runs = 1000;
  auto forever = Interpreter::FromBuffer("forever", WhileModel(1e30f), limits);
  std::memset(forever.input_data(0), 0, 4);
  std::memset(forever.input_data(1), 0, 4);
  try {
    forever.Invoke();
    ADD_FAILURE() << "expected an error";
  } catch (const kws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("forever: more than 1000 subgraph runs in one Invoke"), std::string::npos)
        << e.what();
  }
}

TEST(ControlFlow, RejectsRecursionAndUnassignedHandles) {
  {
    TestGraph g;  // IF whose branch is subgraph 0 itself
    const int x = g.Tensor(0, {1}, F32), c = g.Tensor(0, {}, BOOL), y = g.Tensor(0, {1}, F32);
    g.Op(0, BO::IF, {c, x}, {y}, [](auto& b) {
      return std::make_pair(tflite::BuiltinOptions::IfOptions, tflite::CreateIfOptions(b, 0, 0).Union());
    });
    g.Io(0, {c, x}, {y});
    ExpectRejected(g.Build(), "operator 0 (IF): subgraph 0 calls itself");
  }
  {
    TestGraph g;  // READ_VARIABLE of a tensor no VAR_HANDLE wrote
    const int x = g.Tensor(0, {}, F32), y = g.Tensor(0, {1}, F32);
    g.Op(0, BO::READ_VARIABLE, {x}, {y});
    g.Io(0, {x}, {y});
    ExpectRejected(g.Build(), "operator 0 (READ_VARIABLE): input 0 is not a variable handle");
  }
  {
    TestGraph g;  // a variable assigned two different shapes
    const int h = g.Tensor(0, {}, RES), x = g.Tensor(0, {2}, F32), y = g.Tensor(0, {2}, F32);
    auto handle = [](auto& b) {
      return std::make_pair(tflite::BuiltinOptions::VarHandleOptions,
                            tflite::CreateVarHandleOptions(b, 0, b.CreateString("v")).Union());
    };
    g.Op(0, BO::VAR_HANDLE, {}, {h}, handle);
    g.Op(0, BO::ASSIGN_VARIABLE, {h, x}, {});
    g.Op(0, BO::ASSIGN_VARIABLE, {h, g.Const<float>(0, {3}, F32, {1, 2, 3})}, {});
    g.Op(0, BO::RELU, {x}, {y});
    g.Io(0, {x}, {y});
    ExpectRejected(g.Build(), "operator 2 (ASSIGN_VARIABLE): assigns float32 [3] to variable 'v' (float32 [2])");
  }
}

// ---- dynamic shapes ----------------------------------------------------------

TEST(DynamicShapes, ResizeInputPreparesAgain) {
  // x [-1, 4] (stored [1, 4]) → y = relu(x) · [1, 2, 3, 4].
  TestGraph g;
  const int x = g.Tensor(0, {1, 4}, F32, 0, 0, {-1, 4}), r = g.Tensor(0, {1, 4}, F32, 0, 0, {-1, 4});
  const int y = g.Tensor(0, {1, 4}, F32, 0, 0, {-1, 4});
  g.Op(0, BO::RELU, {x}, {r});
  g.Op(0, BO::MUL, {r, g.Const<float>(0, {4}, F32, {1, 2, 3, 4})}, {y});
  g.Io(0, {x}, {y});
  auto it = Interpreter::FromBuffer("dyn", g.Build());
  EXPECT_EQ(it.input(0).signature, (std::vector<int>{-1, 4}));
  EXPECT_EQ(Infer<float>(it, {1, 1, -1, 1}), (std::vector<float>{1, 2, 0, 4}));
  it.ResizeInput(0, {2, 4});
  EXPECT_EQ(it.output(0).shape, (std::vector<int>{2, 4}));
  EXPECT_EQ(Infer<float>(it, {1, 1, 1, 1, 2, 2, -2, 2}), (std::vector<float>{1, 2, 3, 4, 2, 4, 0, 8}));
  EXPECT_THROW(it.ResizeInput(0, {2, 5}), kws::Error);  // 4 is not dynamic
  EXPECT_EQ(it.output(0).shape, (std::vector<int>{2, 4}));  // the previous preparation stays
}

TEST(DynamicShapes, StoredPlaceholderShapeWaitsForResize) {
  // x [1, -1] stored as [1, 1]: a VALID 1×3 convolution cannot run on one sample.
  TestGraph g;
  const int x = g.Tensor(0, {1, 1}, F32, 0, 0, {1, -1}), x4 = g.Tensor(0, {1, 1, 1, 1}, F32, 0, 0, {1, 1, -1, 1});
  const int y = g.Tensor(0, {1, 1, 1, 1}, F32, 0, 0, {1, 1, -1, 1});
  g.Op(0, BO::RESHAPE, {x, g.Const<int32_t>(0, {4}, I32, {1, 1, -1, 1})}, {x4});
  g.Op(0, BO::CONV_2D, {x4, g.Const<float>(0, {1, 1, 3, 1}, F32, {1, 2, 3}), -1}, {y}, [](auto& b) {
    return std::make_pair(tflite::BuiltinOptions::Conv2DOptions,
                          tflite::CreateConv2DOptions(b, tflite::Padding::VALID, 1, 1).Union());
  });
  g.Io(0, {x}, {y});
  auto it = Interpreter::FromBuffer("placeholder", g.Build());
  EXPECT_FALSE(it.prepared());
  EXPECT_NE(it.prepare_error().find("window 3 larger than input 1"), std::string::npos) << it.prepare_error();
  EXPECT_THROW(it.Invoke(), kws::Error);
  it.ResizeInput(0, {1, 5});
  EXPECT_TRUE(it.prepared());
  EXPECT_EQ(Infer<float>(it, {1, 0, 0, 2, 1}), (std::vector<float>{1, 6, 7}));  // Σ w·x over windows of 3
}

// ---- the registry --------------------------------------------------------------

TEST(Registry, EveryRegistrationNamesItsBuiltin) {
  const auto& all = kws::rt::AllOps();
  EXPECT_GE(all.size(), 40u);
  for (const auto* r : all) {
    const char* schema = tflite::EnumNameBuiltinOperator(r->code);
    EXPECT_STREQ(r->name, schema) << int(r->code);
    EXPECT_EQ(kws::rt::FindOp(int(r->code)), r);
    EXPECT_NE(kws::rt::SupportedOpsList().find(r->name), std::string::npos);
  }
  EXPECT_EQ(kws::rt::FindOp(116), nullptr);  // ROUND
}

}  // namespace
