// The QPACK dynamic table (RFC 9204 §3.2): a FIFO of field lines addressed by
// absolute index (§3.2.4), bounded by a capacity in bytes where each entry
// counts name + value + 32 (§3.2.1). Shared by the encoder and the decoder;
// which entries may be evicted is the encoder's business (§2.1.1).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wt::h3 {

class QpackDynamicTable {
 public:
  struct Entry {
    std::string name;
    std::string value;
    uint64_t size() const { return name.size() + value.size() + kEntryOverhead; }
  };
  static constexpr uint64_t kEntryOverhead = 32;  // RFC 9204 §3.2.1
  static uint64_t entry_size(std::string_view name, std::string_view value) {
    return name.size() + value.size() + kEntryOverhead;
  }

  uint64_t capacity() const { return capacity_; }
  uint64_t size() const { return size_; }
  size_t count() const { return count_; }
  // Total insertions so far; the absolute index of the next entry.
  uint64_t insert_count() const { return insert_count_; }
  // Absolute index of the oldest entry still present.
  uint64_t dropped() const { return insert_count_ - count_; }
  bool contains(uint64_t abs) const { return abs >= dropped() && abs < insert_count_; }
  // Precondition: contains(abs).
  const Entry& at(uint64_t abs) const { return ring_[slot(abs - dropped())]; }
  const Entry& oldest() const { return ring_[head_]; }

  // Evicts the oldest entries until size() <= capacity (RFC 9204 §3.2.3).
  void set_capacity(uint64_t capacity);
  // Bytes that must be freed for a new entry of `size` bytes to fit.
  uint64_t bytes_to_free(uint64_t size) const {
    return size_ + size > capacity_ ? size_ + size - capacity_ : 0;
  }
  // Absolute index of the oldest entry left after making room for an entry
  // of `size` bytes. Precondition: size <= capacity().
  uint64_t evict_point(uint64_t size) const;
  // Whether evicting only entries with absolute index below `bound` makes
  // room for an entry of `size` bytes.
  bool can_fit(uint64_t size, uint64_t bound) const {
    return size <= capacity_ && evict_point(size) <= bound;
  }
  void evict_oldest();
  // Evicts as needed, then appends. Precondition: size <= capacity().
  void insert(std::string name, std::string value);

 private:
  size_t slot(uint64_t offset) const { return (head_ + offset) & (ring_.size() - 1); }
  void grow();

  std::vector<Entry> ring_;  // power-of-two size; entries [head_, head_+count_)
  size_t head_ = 0;
  size_t count_ = 0;
  uint64_t insert_count_ = 0;
  uint64_t size_ = 0;
  uint64_t capacity_ = 0;
};

}  // namespace wt::h3
