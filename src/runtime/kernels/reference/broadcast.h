// Broadcasting for the binary element-wise kernels (ADD, SUB, MUL): both inputs
// are right-aligned to rank 4 (missing leading dimensions are 1) and every
// dimension must be equal or 1 on one side, as TFLite's (numpy-style) rules.
#pragma once
#include <cstdint>
#include <vector>

namespace kws::rt::ref {

struct Broadcast4 {
  int out[4] = {1, 1, 1, 1};
  int64_t stride1[4] = {0, 0, 0, 0};  // element strides; 0 along broadcast dimensions
  int64_t stride2[4] = {0, 0, 0, 0};
  int64_t size() const { return int64_t(out[0]) * out[1] * out[2] * out[3]; }
};

// False if the shapes do not broadcast or have rank > 4; fills `b` otherwise.
inline bool MakeBroadcast4(const std::vector<int>& a, const std::vector<int>& c, Broadcast4* b) {
  if (a.size() > 4 || c.size() > 4) return false;
  int da[4] = {1, 1, 1, 1}, dc[4] = {1, 1, 1, 1};
  for (size_t i = 0; i < a.size(); ++i) da[4 - a.size() + i] = a[i];
  for (size_t i = 0; i < c.size(); ++i) dc[4 - c.size() + i] = c[i];
  int64_t sa = 1, sc = 1;
  for (int d = 3; d >= 0; --d) {
    if (da[d] != dc[d] && da[d] != 1 && dc[d] != 1) return false;
    b->out[d] = da[d] == 1 ? dc[d] : da[d];
    b->stride1[d] = da[d] == 1 ? 0 : sa;
    b->stride2[d] = dc[d] == 1 ? 0 : sc;
    sa *= da[d];
    sc *= dc[d];
  }
  return true;
}

// Calls f(out_index, in1_index, in2_index) for every output element in order.
template <typename F>
inline void ForEachBroadcast(const Broadcast4& b, F&& f) {
  int64_t o = 0;
  for (int i0 = 0; i0 < b.out[0]; ++i0)
    for (int i1 = 0; i1 < b.out[1]; ++i1)
      for (int i2 = 0; i2 < b.out[2]; ++i2) {
        const int64_t base1 = i0 * b.stride1[0] + i1 * b.stride1[1] + i2 * b.stride1[2];
        const int64_t base2 = i0 * b.stride2[0] + i1 * b.stride2[1] + i2 * b.stride2[2];
        for (int i3 = 0; i3 < b.out[3]; ++i3) f(o++, base1 + i3 * b.stride1[3], base2 + i3 * b.stride2[3]);
      }
}

}  // namespace kws::rt::ref
