// Received packet numbers of one packet number space, and when to ACK them
// (RFC 9000 §13.2).
#pragma once
#include <cstdint>
#include <vector>

#include "lib/address.h"
#include "lib/clock.h"
#include "quic/frame.h"
#include "quic/packet_type.h"

namespace wt::quic {


using wt::Ecn;

class AckTracker {
 public:
  // Ranges kept at most; older ones are dropped (RFC 9000 §13.2.4).
  static constexpr size_t kMaxRanges = 64;

  // True if `pn` was already received, or is below what we still track
  // (then it is treated as a duplicate, RFC 9000 §13.2.3).
  bool is_duplicate(uint64_t pn) const;

  // Records a packet that was successfully processed.
  void on_packet_received(uint64_t pn, bool ack_eliciting, Ecn ecn, Time now);

  // Whether an ACK frame should go out now, given the ack-eliciting
  // threshold, the ACK interval and the ack-delay timer (RFC 9000
  // §13.2.1/13.2.2).
  bool ack_due(Time now) const;
  // Whether there is anything to acknowledge at all.
  bool has_unacked() const { return !ranges_.empty() && ack_pending_; }
  // When an ACK becomes due without further packets (the max_ack_delay
  // timer, or the end of the ACK interval), or infinite.
  Time ack_deadline() const;

  // Ranges, newest first, for an ACK frame.
  const std::vector<AckRange>& ranges() const { return ranges_; }
  uint64_t largest() const { return ranges_.empty() ? 0 : ranges_.front().largest; }
  Time largest_recv_time() const { return largest_time_; }
  const EcnCounts& ecn() const { return ecn_; }
  bool has_ecn() const { return (ecn_.ect0 | ecn_.ect1 | ecn_.ce) != 0; }

  // Called when an ACK frame reflecting the current state was sent.
  void on_ack_sent(Time now);
  void on_ack_sent() { on_ack_sent(Time{}); }
  // Called when a packet carrying one of our ACKs with this largest
  // acknowledged was itself acknowledged: older ranges need no repeating.
  void on_ack_acked(uint64_t largest_acked);

  void set_max_ack_delay(Duration d) { max_ack_delay_ = d; }
  // Ack-eliciting packets received before an immediate ACK (RFC 9000 §13.2.2
  // suggests 2; the driver may prefer one ACK per receive batch).
  void set_ack_eliciting_threshold(uint32_t n) { threshold_ = n ? n : 1; }
  // Initial and Handshake packets are acknowledged immediately (§13.2.1).
  void set_immediate(bool v) { immediate_ = v; }
  // ACK rate limit for bulk receivers (quic/ack_frequency.cc): once the
  // threshold is met, the next ACK waits until `interval` after the last
  // one, unless `max_packets` ack-eliciting packets are unacknowledged.
  // Reordering and ECN-CE still get immediate ACKs. Zero: no limit.
  void set_ack_interval(Duration interval, uint32_t max_packets) {
    interval_ = interval;
    interval_max_packets_ = max_packets ? max_packets : 1;
  }
  Duration ack_interval() const { return interval_; }
  size_t packets_received() const { return received_; }

 private:
  std::vector<AckRange> ranges_;  // descending, non-adjacent
  uint64_t floor_ = 0;             // packets below this are duplicates
  Time largest_time_{};
  Time ack_deadline_ = kTimeInfinite;
  Duration max_ack_delay_ = std::chrono::milliseconds(25);
  EcnCounts ecn_;
  uint32_t threshold_ = 2;
  uint32_t eliciting_since_ack_ = 0;
  Duration interval_{0};
  uint32_t interval_max_packets_ = UINT32_MAX;
  Time last_ack_sent_{};
  bool ack_pending_ = false;
  bool immediate_ = false;
  bool out_of_order_ = false;
  size_t received_ = 0;
};

}  // namespace wt::quic
