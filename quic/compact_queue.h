// A FIFO queue that costs no heap memory while it has never been used, and
// gives its storage back on shrink() once drained: for the many queues of a
// connection that are empty most of its life (events, DATAGRAM frames to
// send, tokens). libstdc++'s std::deque allocates ~600 bytes at
// construction, even when nothing is ever queued.
//
// A vector with a read index: push_back() appends, pop_front() advances the
// index, and the storage is reused from the start once the queue is empty,
// so a queue that fills and drains repeatedly allocates nothing.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace wt::quic {

template <class T>
class CompactQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& back() { return items_.back(); }
  const T& back() const { return items_.back(); }
  T& operator[](size_t i) { return items_[head_ + i]; }
  const T& operator[](size_t i) const { return items_[head_ + i]; }

  void push_back(T v) {
    compact_if_wasteful();
    items_.push_back(std::move(v));
  }
  template <class... A>
  T& emplace_back(A&&... a) {
    compact_if_wasteful();
    return items_.emplace_back(std::forward<A>(a)...);
  }
  void pop_front() {
    items_[head_] = T();  // release what the element holds now
    if (++head_ == items_.size()) clear();
  }
  void clear() {
    items_.clear();
    head_ = 0;
  }
  // Frees the storage of an empty queue.
  void shrink() {
    if (!empty()) return;
    std::vector<T>().swap(items_);
    head_ = 0;
  }
  size_t capacity() const { return items_.capacity(); }

 private:
  // A queue that never fully drains would grow without bound: move the
  // live elements to the front once the consumed ones are the majority.
  void compact_if_wasteful() {
    if (head_ < 32 || head_ * 2 < items_.size()) return;
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }

  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace wt::quic
