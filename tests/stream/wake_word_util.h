// Helpers for the wake-word tests: a small model with a microWakeWord model's interface, and audio
// with loud bursts it responds to.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tflite/builder.h"
#include "util/rng.h"

namespace kws::test {

// A small model: int8 input [1, shape...] -> RESHAPE [1, n] -> FULLY_CONNECTED (one output) ->
// QUANTIZE -> uint8 [1, 1]. The output rises with the mean feature value (stateless).
inline std::string TinyModel(const std::vector<int>& input_shape, tflite::TensorType in_type = tflite::TensorType::INT8,
                      tflite::TensorType out_type = tflite::TensorType::UINT8) {
  using tflite::TensorType;
  kws::tfl::ModelBuilder b;
  int n = 1;
  for (int d : input_shape) n *= d;
  const auto q_in = kws::tfl::QuantParams::PerTensor(26.0f / 255.0f, -128);
  const bool float_in = in_type == TensorType::FLOAT32;
  const int x = b.AddTensor("input", input_shape, in_type, 0, float_in ? kws::tfl::QuantParams{} : q_in);
  int flat = x;
  if (float_in) {
    flat = b.AddTensor("quantized", input_shape, TensorType::INT8, 0, q_in);
    b.AddOperator(tflite::BuiltinOperator::QUANTIZE, {x}, {flat}, kws::tfl::QuantizeOptions{});
  }
  const int reshaped = b.AddTensor("flat", {1, n}, TensorType::INT8, 0, q_in);
  const int shape = b.AddConstTensor<int32_t>("shape", {2}, TensorType::INT32, std::vector<int32_t>{1, n});
  b.AddOperator(tflite::BuiltinOperator::RESHAPE, {flat, shape}, {reshaped}, kws::tfl::ReshapeOptions{{1, n}});
  // Weights all 1 (scale 1/n): the output is the mean of the input values; bias -12 -> centred near 12.
  const int w = b.AddConstTensor<int8_t>("w", {1, n}, TensorType::INT8, std::vector<int8_t>(size_t(n), 1),
                                         kws::tfl::QuantParams::PerTensor(1.0f / float(n), 0));
  const float bias_scale = (26.0f / 255.0f) / float(n);
  const int bias = b.AddConstTensor<int32_t>("b", {1}, TensorType::INT32,
                                             std::vector<int32_t>{int32_t(std::lround(-12.0f / bias_scale))},
                                             kws::tfl::QuantParams::PerTensor(bias_scale, 0));
  const auto q_out = kws::tfl::QuantParams::PerTensor(1.0f / 16.0f, 0);
  const int fc = b.AddTensor("fc", {1, 1}, TensorType::INT8, 0, q_out);
  b.AddOperator(tflite::BuiltinOperator::FULLY_CONNECTED, {reshaped, w, bias}, {fc}, kws::tfl::FullyConnectedOptions{});
  int y = fc;
  if (out_type != TensorType::INT8) {
    y = b.AddTensor("probability", {1, 1}, out_type, 0, kws::tfl::QuantParams::PerTensor(1.0f / 16.0f, 128));
    b.AddOperator(tflite::BuiltinOperator::QUANTIZE, {fc}, {y}, kws::tfl::QuantizeOptions{});
  }
  b.SetInputs({x});
  b.SetOutputs({y});
  return b.Finish();
}

// Seconds of quiet noise with loud noise bursts (the small model's output follows the loudness).
inline std::vector<float> Bursts(double seconds, uint64_t seed) {
  kws::Rng rng(seed);
  std::vector<float> x(size_t(seconds * 16000));
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = double(i) / 16000;
    const bool loud = std::fmod(t, 2.0) > 1.2 && std::fmod(t, 2.0) < 1.8;
    x[i] = float((loud ? 0.3 : 0.002) * (rng.Uniform() * 2 - 1));
  }
  return x;
}

}  // namespace kws::test
