#include <algorithm>

#include "lib/io/handler.h"

namespace wt::io {

SendBuffer::SendBuffer(size_t slots, size_t slot_bytes)
    // Not value-initialised: untouched slots cost no memory.
    : memory_(std::make_unique_for_overwrite<uint8_t[]>(slots * slot_bytes)),
      batches_(std::make_unique<Batch[]>(slots)),
      slots_(slots),
      slot_bytes_(slot_bytes) {}

void SendBuffer::commit(size_t bytes, size_t segment_size, const Address& peer,
                        const Address& local, Ecn ecn) {
  if (!has_space() || bytes == 0) return;
  size_t slot = (head_ + count_) % slots_;
  Batch& b = batches_[slot];
  b.data = memory_.get() + slot_bytes_ * slot;
  b.bytes = std::min(bytes, slot_bytes_);
  b.segment_size = segment_size && segment_size < b.bytes ? segment_size : b.bytes;
  b.peer = peer;
  b.local = local;
  b.ecn = ecn;
  ++count_;
}

void SendBuffer::advance(size_t n, size_t offset) {
  n = std::min(n, count_);
  head_ = (head_ + n) % slots_;
  count_ -= n;
  head_offset_ = count_ ? offset : 0;
}

SendBuffer::Message SendBuffer::next_message(const Batch& b, size_t offset, bool gso) {
  size_t left = b.bytes - offset;
  size_t seg = b.segment_size;
  if (!gso || left <= seg) return {std::min(left, seg), 0};
  size_t segs = std::min(kMaxGsoSegments, kMaxGsoBytes / seg);
  if (segs < 2) return {std::min(left, seg), 0};
  size_t len = std::min(left, segs * seg);
  if (len <= seg) return {len, 0};
  return {len, static_cast<uint16_t>(seg)};
}

}  // namespace wt::io
