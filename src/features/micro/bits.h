// Integer helpers shared by the micro front end's stages (TFLite Micro's
// tensorflow/lite/experimental/microfrontend/lib/bits.h defines the same
// quantities): the position of the most significant set bit, counted from 1
// (MostSignificantBit(1) = 1, MostSignificantBit(0) = 0).
#pragma once
#include <bit>
#include <charconv>
#include <cstdint>
#include <string>

namespace kws::micro {

inline int MostSignificantBit32(uint32_t n) { return 32 - std::countl_zero(n); }
inline int MostSignificantBit64(uint64_t n) { return 64 - std::countl_zero(n); }

// The C semantics the reference arithmetic relies on, spelled out: an int
// stored into an int16_t or int32_t keeps its low bits (two's complement).
inline int16_t Wrap16(int32_t v) { return static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint32_t>(v))); }
inline int32_t Wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

// A float setting in messages: the shortest text that reads back to it ("7500", "0.025").
inline std::string FloatText(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace kws::micro
