// A set of byte offsets stored as disjoint, non-adjacent half-open ranges
// [start, end): the bookkeeping behind stream reassembly (received ranges)
// and retransmission (acknowledged and lost ranges). O(log n) per operation;
// merging reuses map nodes, so in-order or reverse-order runs of adjacent
// ranges cost no allocation once the first node exists.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>

namespace wt::quic {

class StreamRangeSet {
 public:
  struct Range {
    uint64_t start;
    uint64_t end;
    bool operator==(const Range&) const = default;
  };

  bool empty() const { return m_.empty(); }
  size_t range_count() const { return m_.size(); }
  // Lowest range; the set must not be empty.
  Range front() const { return {m_.begin()->first, m_.begin()->second}; }
  void clear() { m_.clear(); }

  // Adds [start, end), merging with overlapping and adjacent ranges.
  void insert(uint64_t start, uint64_t end);
  // Removes [start, end), splitting a range that spans it.
  void erase(uint64_t start, uint64_t end);
  // Every offset of [start, end) is in the set (true for an empty range).
  bool contains(uint64_t start, uint64_t end) const;
  // End of the range holding `offset`, or `offset` itself when none does:
  // the set covers [offset, contiguous_end(offset)) without a gap.
  uint64_t contiguous_end(uint64_t offset) const;
  // Calls f(start, end) for each maximal sub-range of [start, end) that is
  // NOT in the set, in increasing order.
  template <class F>
  void for_each_gap(uint64_t start, uint64_t end, F&& f) const {
    uint64_t cur = start;
    auto it = m_.upper_bound(start);
    if (it != m_.begin()) cur = std::max(cur, std::prev(it)->second);
    while (cur < end) {
      if (it == m_.end() || it->first >= end) {
        f(cur, end);
        return;
      }
      if (it->first > cur) f(cur, it->first);
      cur = std::max(cur, it->second);
      ++it;
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [s, e] : m_) f(s, e);
  }

 private:
  using Map = std::map<uint64_t, uint64_t>;  // start -> end
  void absorb_following(Map::iterator it);
  Map m_;
};

}  // namespace wt::quic
