// Stream ID -> owned object, for the HTTP/3 client's streams and the
// server's exchanges: open addressing with linear probing and backward-shift
// deletion, so a lookup, insert or erase is a few instructions and never
// allocates in steady state (std::map allocated or rebalanced per request).
//
// Keys are QUIC stream IDs; the live ones of a connection are a window of
// consecutive IDs, which a multiplicative hash spreads over distinct slots.
// The load factor stays at or below 1/2; the table halves when it falls
// below 1/8 of its slots (after a burst) and doubles when it fills.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace wt::net {

template <class T>
class StreamTable {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T* find(uint64_t id) const {
    if (size_ == 0) return nullptr;
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.value) return nullptr;
      if (s.key == id) return s.value.get();
    }
  }

  // Adds `value` (not null) under `id`; an object already there is
  // returned (the caller decides its fate), otherwise null.
  std::unique_ptr<T> insert(uint64_t id, std::unique_ptr<T> value) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? kMinSlots : slots_.size() * 2);
    size_t i = home(id);
    for (; slots_[i].value; i = (i + 1) & mask_)
      if (slots_[i].key == id) return std::exchange(slots_[i].value, std::move(value));
    slots_[i].key = id;
    slots_[i].value = std::move(value);
    ++size_;
    return nullptr;
  }

  // Removes `id` if it holds `expected` (any object when null) and returns
  // its owner; null when absent.
  std::unique_ptr<T> take(uint64_t id, const T* expected = nullptr) {
    if (size_ == 0) return nullptr;
    size_t i = home(id);
    for (;; i = (i + 1) & mask_) {
      if (!slots_[i].value) return nullptr;
      if (slots_[i].key == id) break;
    }
    if (expected && slots_[i].value.get() != expected) return nullptr;
    std::unique_ptr<T> out = std::move(slots_[i].value);
    --size_;
    // Backward shift: pull later entries of the probe run into the hole
    // unless their home lies cyclically in (hole, j].
    for (size_t j = (i + 1) & mask_; slots_[j].value; j = (j + 1) & mask_) {
      const size_t h = home(slots_[j].key);
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = std::move(slots_[j]);
        i = j;
      }
    }
    if (slots_.size() > kMinSlots && size_ * 8 < slots_.size()) rehash(slots_.size() / 2);
    return out;
  }

  // Calls f(T&) for every element; f must not insert or take.
  template <class F>
  void for_each(F&& f) const {
    if (size_ == 0) return;
    for (const Slot& s : slots_)
      if (s.value) f(*s.value);
  }

  void clear() {
    slots_.clear();
    size_ = 0;
    mask_ = 0;
    shift_ = 64;
  }

 private:
  static constexpr size_t kMinSlots = 16;
  struct Slot {
    uint64_t key = 0;
    std::unique_ptr<T> value;  // null: free
  };

  size_t home(uint64_t id) const {
    // Fibonacci hashing: consecutive stream IDs land in distinct slots.
    return static_cast<size_t>((id * 0x9e3779b97f4a7c15ull) >> shift_);
  }

  void rehash(size_t n) {  // n: a power of two, above 2 * size_
    std::vector<Slot> old = std::move(slots_);
    slots_ = std::vector<Slot>(n);
    mask_ = n - 1;
    shift_ = 64;
    for (size_t m = n; m > 1; m >>= 1) --shift_;
    for (Slot& s : old) {
      if (!s.value) continue;
      size_t i = home(s.key);
      while (slots_[i].value) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  unsigned shift_ = 64;
};

}  // namespace wt::net
