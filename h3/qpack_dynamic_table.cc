#include "h3/qpack_dynamic_table.h"

#include <utility>

namespace wt::h3 {

void QpackDynamicTable::set_capacity(uint64_t capacity) {
  capacity_ = capacity;
  while (size_ > capacity_) evict_oldest();
}

uint64_t QpackDynamicTable::evict_point(uint64_t size) const {
  uint64_t need = bytes_to_free(size);
  uint64_t abs = dropped();
  for (; need > 0 && abs < insert_count_; ++abs) {
    const uint64_t s = at(abs).size();
    need = s >= need ? 0 : need - s;
  }
  return abs;
}

void QpackDynamicTable::evict_oldest() {
  if (count_ == 0) return;
  Entry& e = ring_[head_];
  size_ -= e.size();
  e.name.clear();
  e.value.clear();
  head_ = (head_ + 1) & (ring_.size() - 1);
  --count_;
}

void QpackDynamicTable::grow() {
  const size_t n = ring_.empty() ? 16 : ring_.size() * 2;
  std::vector<Entry> next(n);
  for (size_t i = 0; i < count_; ++i) next[i] = std::move(ring_[slot(i)]);
  ring_ = std::move(next);
  head_ = 0;
}

void QpackDynamicTable::insert(std::string name, std::string value) {
  const uint64_t s = entry_size(name, value);
  while (count_ > 0 && size_ + s > capacity_) evict_oldest();
  if (count_ == ring_.size()) grow();
  Entry& e = ring_[slot(count_)];
  e.name = std::move(name);
  e.value = std::move(value);
  ++count_;
  ++insert_count_;
  size_ += s;
}

}  // namespace wt::h3
