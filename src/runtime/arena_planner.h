// Greedy arena planner (the approach of TFLite's GreedyMemoryPlanner): buffers
// with a size and a lifetime [first, last] in time steps are placed largest
// first, each at the lowest offset where it overlaps no already placed buffer
// that is alive at the same time. Offsets are multiples of the buffers' sizes'
// alignment (callers pass sizes rounded up to 64 bytes).
#pragma once
#include <cstddef>
#include <vector>

namespace kws::rt {

class ArenaPlanner {
 public:
  // Returns the buffer's id (its index, in order of adding).
  int Add(size_t bytes, int first, int last);
  // Places every buffer; returns the arena size needed.
  size_t Plan();
  size_t offset(int id) const { return items_[size_t(id)].offset; }
  size_t size() const { return items_.size(); }

 private:
  struct Item {
    size_t bytes;
    int first, last;
    size_t offset = 0;
  };
  std::vector<Item> items_;
};

}  // namespace kws::rt
