#include "quic/ack_tracker.h"

#include <algorithm>

namespace wt::quic {

bool AckTracker::is_duplicate(uint64_t pn) const {
  if (pn < floor_) return true;
  for (const auto& r : ranges_) {
    if (pn > r.largest) return false;
    if (pn >= r.smallest) return true;
  }
  return false;
}

void AckTracker::on_packet_received(uint64_t pn, bool ack_eliciting, Ecn ecn, Time now) {
  ++received_;
  switch (ecn) {
    case Ecn::ect0: ++ecn_.ect0; break;
    case Ecn::ect1: ++ecn_.ect1; break;
    case Ecn::ce:
      ++ecn_.ce;
      out_of_order_ = true;  // RFC 9000 §13.2.1: CE-marked packets are acknowledged at once
      break;
    default: break;
  }
  const bool newest = ranges_.empty() || pn > ranges_.front().largest;
  // RFC 9000 §13.2.1: a gap below the new packet, or a packet that fills an
  // earlier gap, warrants an immediate ACK.
  if (!ranges_.empty() && (newest ? pn != ranges_.front().largest + 1 : true)) out_of_order_ = true;
  if (newest) largest_time_ = now;

  // Insert into descending ranges, merging neighbours. Most packets arrive in
  // order, so the front is the common case.
  auto it = ranges_.begin();
  while (it != ranges_.end() && it->smallest > pn + 1) ++it;
  if (it == ranges_.end()) {
    ranges_.push_back({pn, pn});
  } else if (pn + 1 == it->smallest) {
    it->smallest = pn;
    auto next = it + 1;
    if (next != ranges_.end() && next->largest + 1 == pn) {
      it->smallest = next->smallest;
      ranges_.erase(next);
    }
  } else if (pn >= it->smallest && pn <= it->largest) {
    return;  // duplicate; callers check is_duplicate first
  } else if (pn == it->largest + 1) {
    it->largest = pn;
  } else {
    // pn > it->largest + 1: new range before `it`; check merge with previous.
    if (it != ranges_.begin() && (it - 1)->smallest == pn + 1) {
      (it - 1)->smallest = pn;
    } else {
      ranges_.insert(it, {pn, pn});
    }
  }
  if (ranges_.size() > kMaxRanges) {
    floor_ = ranges_.back().largest + 1;
    ranges_.pop_back();
  }

  if (!ack_eliciting) {
    // A non-eliciting packet alone never triggers an ACK, but is reported
    // in the next one.
    return;
  }
  ack_pending_ = true;
  ++eliciting_since_ack_;
  if (ack_deadline_ == kTimeInfinite) ack_deadline_ = now + max_ack_delay_;
}

bool AckTracker::ack_due(Time now) const {
  if (!ack_pending_) return false;
  if (immediate_ || out_of_order_) return true;
  if (eliciting_since_ack_ >= threshold_) {
    // RFC 9000 §13.2.2 allows other strategies than every second packet: a
    // bulk receiver ACKs once per interval (or per burst of packets).
    if (interval_ == Duration::zero() || eliciting_since_ack_ >= interval_max_packets_) return true;
    if (now >= last_ack_sent_ + interval_) return true;
  }
  return now >= ack_deadline_;
}

Time AckTracker::ack_deadline() const {
  if (ack_pending_ && interval_ > Duration::zero() && eliciting_since_ack_ >= threshold_)
    return std::min(ack_deadline_, last_ack_sent_ + interval_);
  return ack_deadline_;
}

void AckTracker::on_ack_sent(Time now) {
  last_ack_sent_ = now;
  ack_pending_ = false;
  out_of_order_ = false;
  eliciting_since_ack_ = 0;
  ack_deadline_ = kTimeInfinite;
}

void AckTracker::on_ack_acked(uint64_t largest_acked) {
  // RFC 9000 §13.2.4: stop reporting packets at or below the largest
  // acknowledged of an ACK that the peer has received — but keep the newest
  // range so duplicates are still recognised via floor_.
  if (largest_acked + 1 <= floor_) return;
  while (ranges_.size() > 1 && ranges_.back().largest <= largest_acked) {
    floor_ = std::max(floor_, ranges_.back().largest + 1);
    ranges_.pop_back();
  }
  if (ranges_.size() > 1 && ranges_.back().smallest <= largest_acked) {
    floor_ = std::max(floor_, largest_acked + 1);
    ranges_.back().smallest = largest_acked + 1;
  }
}

}  // namespace wt::quic
