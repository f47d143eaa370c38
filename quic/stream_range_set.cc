#include "quic/stream_range_set.h"

namespace wt::quic {

void StreamRangeSet::absorb_following(Map::iterator it) {
  auto next = std::next(it);
  while (next != m_.end() && next->first <= it->second) {
    it->second = std::max(it->second, next->second);
    next = m_.erase(next);
  }
}

void StreamRangeSet::insert(uint64_t start, uint64_t end) {
  if (start >= end) return;
  auto it = m_.upper_bound(start);  // first range starting after `start`
  if (it != m_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= start) {  // overlaps or touches the previous range
      if (prev->second >= end) return;
      prev->second = end;
      absorb_following(prev);
      return;
    }
  }
  if (it != m_.end() && it->first <= end) {
    // Extends `it` downwards: re-key its node instead of allocating one.
    auto node = m_.extract(it);
    node.key() = start;
    node.mapped() = std::max(node.mapped(), end);
    absorb_following(m_.insert(std::move(node)).position);
    return;
  }
  m_.emplace_hint(it, start, end);
}

void StreamRangeSet::erase(uint64_t start, uint64_t end) {
  if (start >= end) return;
  auto it = m_.lower_bound(start);  // first range starting at or after `start`
  if (it != m_.begin()) {
    auto prev = std::prev(it);  // starts before `start`
    if (prev->second > start) {
      uint64_t prev_end = prev->second;
      prev->second = start;
      if (prev_end > end) {
        m_.emplace_hint(it, end, prev_end);
        return;
      }
    }
  }
  while (it != m_.end() && it->first < end) {
    if (it->second <= end) {
      it = m_.erase(it);
    } else {
      auto node = m_.extract(it);
      node.key() = end;
      m_.insert(std::move(node));
      return;
    }
  }
}

bool StreamRangeSet::contains(uint64_t start, uint64_t end) const {
  if (start >= end) return true;
  auto it = m_.upper_bound(start);
  if (it == m_.begin()) return false;
  return std::prev(it)->second >= end;
}

uint64_t StreamRangeSet::contiguous_end(uint64_t offset) const {
  auto it = m_.upper_bound(offset);
  if (it == m_.begin()) return offset;
  return std::max(offset, std::prev(it)->second);
}

}  // namespace wt::quic
