// Sent packets of one packet number space, in packet number order.
//
// A ring buffer of entries sorted by packet number: packets are appended in
// increasing order (gaps allowed: skipped numbers are simply absent), found
// by binary search, and leave the ring from the front once they are no longer
// outstanding. Acknowledged and lost packets stay as tombstones (frames moved
// out) until everything older is settled, so the loss detector can tell
// "acknowledged", "declared lost" and "never sent" apart for any number from
// the oldest outstanding packet up. The ring grows by doubling and never
// shrinks: no allocation per packet in steady state.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/clock.h"
#include "quic/sent_frame.h"

namespace wt::quic {

struct SentPacket {
  uint64_t pn = 0;
  Time time_sent{};
  uint32_t bytes = 0;          // UDP payload bytes the packet occupied
  bool ack_eliciting = false;  // RFC 9002 §2
  bool in_flight = false;      // counts toward bytes_in_flight (RFC 9002 §2)
  bool is_pmtu_probe = false;  // RFC 9000 §14.4: its loss is no congestion signal
  SentFrames frames;
};

class SentPacketMap {
 public:
  enum class State : uint8_t { outstanding, acked, lost };
  struct Entry {
    SentPacket packet;
    State state = State::outstanding;
  };

  // Appends; `p.pn` must exceed every packet number appended before.
  void push(SentPacket&& p);

  size_t size() const { return size_; }  // entries, tombstones included
  bool empty() const { return size_ == 0; }
  size_t outstanding() const { return outstanding_; }
  Entry& operator[](size_t i) { return buf_[(head_ + i) & mask_]; }
  const Entry& operator[](size_t i) const { return buf_[(head_ + i) & mask_]; }
  // Index of the first entry with packet number >= pn (size() if none).
  size_t lower_bound(uint64_t pn) const;

  // Moves the packet of entry i out and leaves a tombstone in `state`.
  SentPacket take(size_t i, State state);
  // Drops settled entries (tombstones) from the front.
  void trim();
  // Drops the front entry whatever its state (used to bound memory).
  void pop_front();
  void clear();

  bool any_sent() const { return any_sent_; }
  uint64_t largest_sent() const { return largest_sent_; }

 private:
  void grow();

  std::vector<Entry> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
  size_t mask_ = 0;
  size_t outstanding_ = 0;
  uint64_t largest_sent_ = 0;
  bool any_sent_ = false;
};

}  // namespace wt::quic
