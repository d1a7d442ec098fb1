#include "runtime/arena_planner.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace kws::rt {

int ArenaPlanner::Add(size_t bytes, int first, int last) {
  items_.push_back(Item{bytes, first, last});
  return int(items_.size()) - 1;
}

size_t ArenaPlanner::Plan() {
  std::vector<size_t> order(items_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items_[a].bytes > items_[b].bytes; });
  std::vector<size_t> placed;
  size_t total = 0;
  for (size_t id : order) {
    Item& it = items_[id];
    std::vector<std::pair<size_t, size_t>> busy;  // [offset, offset+bytes) of overlapping-in-time buffers
    for (size_t p : placed) {
      const Item& q = items_[p];
      if (q.first <= it.last && it.first <= q.last) busy.emplace_back(q.offset, q.offset + q.bytes);
    }
    std::sort(busy.begin(), busy.end());
    size_t off = 0;
    for (auto& [b, e] : busy) {
      if (off + it.bytes <= b) break;
      off = std::max(off, e);
    }
    it.offset = off;
    total = std::max(total, off + it.bytes);
    placed.push_back(id);
  }
  return total;
}

}  // namespace kws::rt
