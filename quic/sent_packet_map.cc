#include "quic/sent_packet_map.h"

#include <cassert>
#include <utility>

namespace wt::quic {

void SentPacketMap::grow() {
  const size_t cap = buf_.empty() ? 16 : buf_.size() * 2;
  std::vector<Entry> next(cap);
  for (size_t i = 0; i < size_; ++i) next[i] = std::move((*this)[i]);
  buf_ = std::move(next);
  head_ = 0;
  mask_ = cap - 1;
}

void SentPacketMap::push(SentPacket&& p) {
  assert(!any_sent_ || p.pn > largest_sent_);
  if (size_ == buf_.size()) grow();
  Entry& e = buf_[(head_ + size_) & mask_];
  e.packet = std::move(p);
  e.state = State::outstanding;
  ++size_;
  ++outstanding_;
  largest_sent_ = e.packet.pn;
  any_sent_ = true;
}

size_t SentPacketMap::lower_bound(uint64_t pn) const {
  size_t lo = 0, hi = size_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if ((*this)[mid].packet.pn < pn) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

SentPacket SentPacketMap::take(size_t i, State state) {
  Entry& e = (*this)[i];
  assert(e.state == State::outstanding && state != State::outstanding);
  SentPacket p = std::move(e.packet);
  e.packet.frames.clear();  // moved-from: make it definitely empty
  e.packet.pn = p.pn;       // the tombstone keeps its number for searches
  e.state = state;
  --outstanding_;
  return p;
}

void SentPacketMap::trim() {
  while (size_ > 0 && buf_[head_].state != State::outstanding) {
    head_ = (head_ + 1) & mask_;
    --size_;
  }
}

void SentPacketMap::pop_front() {
  if (size_ == 0) return;
  Entry& e = buf_[head_];
  if (e.state == State::outstanding) --outstanding_;
  e.packet.frames.clear();
  e.state = State::acked;
  head_ = (head_ + 1) & mask_;
  --size_;
}

void SentPacketMap::clear() {
  for (size_t i = 0; i < size_; ++i) (*this)[i].packet.frames.clear();
  head_ = 0;
  size_ = 0;
  outstanding_ = 0;
}

}  // namespace wt::quic
