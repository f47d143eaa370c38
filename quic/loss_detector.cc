#include "quic/loss_detector.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <utility>

namespace wt::quic {

using State = SentPacketMap::State;

void AckOutcome::clear() {
  acked.clear();
  lost.clear();
  rtt_sampled = false;
  congestion_event = false;
  ecn_ce_increased = false;
  persistent_congestion = false;
}

void TimeoutOutcome::clear() {
  kind = Kind::none;
  space = PnSpace::initial;
  probes = 0;
  anti_deadlock = false;
  persistent_congestion = false;
  lost.clear();
}

LossDetector::LossDetector(const LossDetectorConfig& config)
    : LossDetector(config, make_congestion_controller(config.congestion, config.max_datagram_size)) {}

LossDetector::LossDetector(const LossDetectorConfig& config,
                           std::unique_ptr<CongestionController> cc)
    : config_(config), rtt_(config.initial_rtt), cc_(std::move(cc)) {
  if (!cc_) cc_ = make_congestion_controller(config.congestion, config.max_datagram_size);
  if (config_.pto_probe_packets == 0) config_.pto_probe_packets = 1;
}

// ---------------------------------------------------------------- sending

void LossDetector::on_packet_sent(PnSpace space, SentPacket&& packet, Time now) {
  Space& s = sp(space);
  if (s.discarded) return;
  assert(!s.sent.any_sent() || packet.pn > s.sent.largest_sent());
  if (s.sent.any_sent() && packet.pn <= s.sent.largest_sent()) return;

  packet.time_sent = now;
  const bool in_flight = packet.in_flight;
  ++stats_.packets_sent;
  if (in_flight) {
    // RFC 9002 A.5
    if (packet.ack_eliciting) {
      ++s.ack_eliciting_in_flight;
      s.last_ack_eliciting_sent = now;
    }
    bytes_in_flight_ += packet.bytes;
    cc_->on_packet_sent(packet.bytes, bytes_in_flight_, now);
  }
  s.sent.push(std::move(packet));

  // Bound memory held by ACK-only packets the peer never has to acknowledge.
  while (s.sent.outstanding() > config_.max_tracked_packets) {
    s.sent.trim();
    if (s.sent.empty() || s.sent[0].packet.in_flight) break;
    s.sent.pop_front();
  }
  if (in_flight) {
    timer_dirty_ = true;  // set_timer(now), deferred to the next read
    timer_now_ = now;
  }
}

// ---------------------------------------------------------- acknowledgment

Status LossDetector::on_ack_received(PnSpace space, std::span<const AckRange> ranges,
                                     Duration ack_delay, const EcnCounts* ecn, Time now,
                                     AckOutcome& out) {
  out.clear();
  if (ranges.empty()) {
    return Error(TransportError::frame_encoding_error, "ACK without ranges",
                 ecn ? frame_type::ack_ecn : frame_type::ack);
  }
  return process_ack(space, ranges, ranges.front().largest, ack_delay, ecn, now, out);
}

Status LossDetector::on_ack_received(PnSpace space, const AckFrame& frame, Duration ack_delay,
                                     Time now, AckOutcome& out) {
  out.clear();
  return process_ack(space, frame, frame.largest_acknowledged, ack_delay,
                     frame.has_ecn ? &frame.ecn : nullptr, now, out);
}

template <class Ranges>
Status LossDetector::process_ack(PnSpace space, const Ranges& ranges, uint64_t largest,
                                 Duration ack_delay, const EcnCounts* ecn, Time now,
                                 AckOutcome& out) {
  Space& s = sp(space);
  if (s.discarded) return {};
  const uint64_t ftype = ecn ? frame_type::ack_ecn : frame_type::ack;

  // Validate everything before changing any state.
  bool first = true;
  uint64_t prev_smallest = 0;
  for (const AckRange& r : ranges) {
    if (r.smallest > r.largest || (first && r.largest != largest) ||
        (!first && r.largest >= prev_smallest)) {
      return Error(TransportError::frame_encoding_error, "ACK ranges not descending", ftype);
    }
    first = false;
    prev_smallest = r.smallest;
  }
  // RFC 9000 §13.1: acknowledging a packet never sent. Numbers below the
  // oldest tracked packet are settled history and cannot be checked.
  if (!s.sent.any_sent() || largest > s.sent.largest_sent()) {
    return Error(TransportError::protocol_violation, "ACK of a packet never sent", ftype);
  }
  if (!s.sent.empty()) {
    const uint64_t front = s.sent[0].packet.pn;
    for (const AckRange& r : ranges) {
      if (r.largest < front) break;
      const uint64_t lo = std::max(r.smallest, front);
      const size_t a = s.sent.lower_bound(lo);
      const size_t b = s.sent.lower_bound(r.largest + 1);
      if (b - a != r.largest - lo + 1) {
        // A skipped packet number (RFC 9000 §21.4 optimistic ACK defence).
        return Error(TransportError::protocol_violation, "ACK of a skipped packet number", ftype);
      }
    }
  }

  // RFC 9002 A.7
  if (!s.has_largest_acked || largest > s.largest_acked) {
    s.largest_acked = largest;
    s.has_largest_acked = true;
  }
  // RFC 9002 A.6: a client's address is validated once a Handshake packet
  // of ours was acknowledged.
  if (space == PnSpace::handshake) peer_validated_ = true;

  // Newly acknowledged packets: ranges come newest first; walk each range
  // downward and reverse once for ascending order. A single range (the
  // common case) is walked upward: no reversal of the packets.
  // Tombstones are settled. (Lost packets are always a prefix of the
  // outstanding ones, so their tombstones are trimmed at once and a late ACK
  // for them lands below the front: spurious losses go unnoticed.)
  auto take_acked = [&](size_t i) {
    if (s.sent[i].state == State::outstanding) out.acked.push_back(remove(s, i, State::acked));
  };
  if (std::next(ranges.begin()) == ranges.end()) {
    const AckRange r = *ranges.begin();
    if (!s.sent.empty() && r.largest >= s.sent[0].packet.pn) {
      const size_t end = s.sent.lower_bound(r.largest + 1);
      for (size_t i = s.sent.lower_bound(std::max(r.smallest, s.sent[0].packet.pn)); i < end; ++i)
        take_acked(i);
    }
  } else {
    for (const AckRange& r : ranges) {
      if (s.sent.empty() || r.largest < s.sent[0].packet.pn) break;
      const size_t a = s.sent.lower_bound(std::max(r.smallest, s.sent[0].packet.pn));
      for (size_t i = s.sent.lower_bound(r.largest + 1); i-- > a;) take_acked(i);
    }
    std::reverse(out.acked.begin(), out.acked.end());
  }
  if (out.acked.empty()) {
    s.sent.trim();
    return {};
  }
  stats_.packets_acked += out.acked.size();

  // RFC 9002 §5.1: sample when the largest acknowledged is newly acked and
  // at least one newly acked packet is ack-eliciting.
  const SentPacket& newest = out.acked.back();
  if (newest.pn == largest &&
      std::any_of(out.acked.begin(), out.acked.end(),
                  [](const SentPacket& p) { return p.ack_eliciting; })) {
    // RFC 9002 §5.3: Initial ACKs are not delayed by the peer (RFC 9000
    // §13.2.1), so their ack_delay is ignored.
    const Duration delay = space == PnSpace::initial ? Duration{0} : ack_delay;
    rtt_.update(now - newest.time_sent, delay, handshake_confirmed_, now);
    out.rtt_sampled = true;
  }

  // RFC 9002 §7.1, B.7; RFC 9000 §13.4.2: an increased ECN-CE count is a
  // congestion signal dated by the newest acknowledged packet.
  if (ecn && ecn->ce > s.ecn_ce) {
    s.ecn_ce = ecn->ce;
    out.ecn_ce_increased = true;
    if (!cc_->in_recovery(newest.time_sent)) {
      out.congestion_event = true;
      ++stats_.congestion_events;
    }
    cc_->on_congestion_event(newest.time_sent, now);
  }

  LossSummary sum;
  detect_lost(s, now, out.lost, sum);
  if (on_packets_lost(sum, now)) out.congestion_event = true;
  out.persistent_congestion = sum.persistent;

  // RFC 9002 B.5: losses first, so that a new recovery period already
  // blocks growth from packets sent before it.
  for (const SentPacket& p : out.acked) {
    if (p.in_flight) cc_->on_packet_acked(p.bytes, p.time_sent, rtt_, now);
  }

  // RFC 9002 A.7: reset the backoff unless a client cannot yet be sure the
  // server validated its address (§6.2.1).
  if (peer_completed_address_validation()) pto_count_ = 0;
  set_timer(now);
  return {};
}

SentPacket LossDetector::remove(Space& s, size_t i, State state) {
  SentPacket p = s.sent.take(i, state);
  if (p.in_flight) {
    bytes_in_flight_ -= std::min<uint64_t>(bytes_in_flight_, p.bytes);
    if (p.ack_eliciting && s.ack_eliciting_in_flight > 0) --s.ack_eliciting_in_flight;
  }
  return p;
}

// ---------------------------------------------------------- loss detection

Duration LossDetector::persistent_congestion_duration() const {
  // RFC 9002 §7.6.1: max_ack_delay included whatever the space.
  return (rtt_.pto_base() + rtt_.max_ack_delay()) * kPersistentCongestionThreshold;
}

void LossDetector::detect_lost(Space& s, Time now, std::vector<SentPacket>& lost,
                               LossSummary& sum) {
  // RFC 9002 A.10
  s.loss_time = kTimeInfinite;
  if (!s.has_largest_acked) return;
  // RFC 9002 §6.1.2: 9/8 * max(smoothed_rtt, latest_rtt), at least kGranularity.
  const Duration base = std::max(rtt_.latest_rtt(), rtt_.smoothed_rtt());
  const Duration loss_delay =
      std::max(base * kTimeThresholdNum / kTimeThresholdDen, RttEstimator::kGranularity);
  const Time lost_send_time = now - loss_delay;
  const Duration pc_duration = persistent_congestion_duration();

  // RFC 9002 §7.6.2: a run of lost ack-eliciting packets, sent after the
  // first RTT sample, with no acknowledged packet between them and spanning
  // more than the persistent congestion duration. Within one space lost
  // packets are a prefix of the outstanding ones (both thresholds are
  // monotonic in pn), so acknowledged tombstones are the only interruptions.
  bool run = false;
  Time run_start{};

  for (size_t i = 0; i < s.sent.size(); ++i) {
    SentPacketMap::Entry& e = s.sent[i];
    if (e.packet.pn > s.largest_acked) break;
    if (e.state == State::acked) {
      run = false;
      continue;
    }
    if (e.state != State::outstanding) continue;
    const SentPacket& p = e.packet;
    // RFC 9002 §6.1.1 packet threshold, §6.1.2 time threshold.
    if (p.time_sent <= lost_send_time || s.largest_acked >= p.pn + kPacketThreshold) {
      if (p.ack_eliciting && !p.is_pmtu_probe && rtt_.has_sample() &&
          p.time_sent > rtt_.first_sample_time()) {
        if (!run) {
          run = true;
          run_start = p.time_sent;
        } else if (p.time_sent - run_start > pc_duration) {
          sum.persistent = true;
        }
      }
      // RFC 9000 §14.4: a lost PMTU probe is no congestion signal.
      if (p.in_flight && !p.is_pmtu_probe) {
        sum.any_congestion_loss = true;
        sum.newest_lost_sent = std::max(sum.newest_lost_sent, p.time_sent);
      }
      ++stats_.packets_lost;
      stats_.bytes_lost += p.bytes;
      lost.push_back(remove(s, i, State::lost));
    } else {
      s.loss_time = std::min(s.loss_time, p.time_sent + loss_delay);
    }
  }
  s.sent.trim();
}

bool LossDetector::on_packets_lost(const LossSummary& sum, Time now) {
  // RFC 9002 B.8
  bool reduced = false;
  if (sum.any_congestion_loss) {
    reduced = !cc_->in_recovery(sum.newest_lost_sent);
    if (reduced) ++stats_.congestion_events;
    cc_->on_congestion_event(sum.newest_lost_sent, now);
  }
  if (sum.persistent) {
    ++stats_.persistent_congestion;
    cc_->on_persistent_congestion(now);
    rtt_.on_persistent_congestion();  // RFC 9002 §5.2
  }
  return reduced;
}

// ------------------------------------------------------------------ timers

Duration LossDetector::backoff(Duration d) const {
  // RFC 9002 §6.2.1: the PTO doubles each time it expires; saturated.
  const uint32_t shift = std::min<uint32_t>(pto_count_, 62);
  if (d >= kMaxPto || d.count() > (kMaxPto.count() >> shift)) return kMaxPto;
  return d * (int64_t{1} << shift);
}

Duration LossDetector::pto_period() const {
  return rtt_.pto_base() + rtt_.max_ack_delay();
}

LossDetector::PtoTime LossDetector::pto_time_and_space(Time now) const {
  // RFC 9002 A.8 GetPtoTimeAndSpace
  Duration duration = backoff(rtt_.pto_base());
  if (ack_eliciting_in_flight() == 0) {
    // Anti-deadlock PTO (§6.2.2.1) counts from now.
    const bool handshake = has_handshake_keys_ || sp(PnSpace::initial).discarded;
    return {now + duration, handshake ? PnSpace::handshake : PnSpace::initial};
  }
  PtoTime best{kTimeInfinite, PnSpace::initial};
  for (int i = 0; i < kNumPnSpaces; ++i) {
    const auto space = static_cast<PnSpace>(i);
    const Space& s = sp(space);
    if (s.discarded || s.ack_eliciting_in_flight == 0) continue;
    if (space == PnSpace::application) {
      // §6.2.1: no Application PTO before the handshake is confirmed; then
      // it includes max_ack_delay (with backoff).
      if (!handshake_confirmed_) break;
      duration += backoff(rtt_.max_ack_delay());
    }
    const Time t = s.last_ack_eliciting_sent + duration;
    if (t < best.time) best = {t, space};
  }
  return best;
}

void LossDetector::refresh_timer() const {
  timer_ = compute_timer(timer_now_);
  timer_dirty_ = false;
}

void LossDetector::set_timer(Time now) {
  timer_ = compute_timer(now);
  timer_dirty_ = false;
}

Time LossDetector::compute_timer(Time now) const {
  // RFC 9002 A.8 SetLossDetectionTimer
  Time loss_time = kTimeInfinite;
  for (const Space& s : spaces_) loss_time = std::min(loss_time, s.loss_time);
  if (loss_time != kTimeInfinite) return loss_time;
  if (amplification_limited_) return kTimeInfinite;  // nothing could be sent anyway
  if (ack_eliciting_in_flight() == 0 && peer_completed_address_validation()) return kTimeInfinite;
  return pto_time_and_space(now).time;
}

void LossDetector::on_timeout(Time now, TimeoutOutcome& out) {
  // RFC 9002 A.9 OnLossDetectionTimeout
  out.clear();
  const Time timer = loss_detection_timer();
  if (timer == kTimeInfinite || now < timer) return;

  Time loss_time = kTimeInfinite;
  PnSpace loss_space = PnSpace::initial;
  for (int i = 0; i < kNumPnSpaces; ++i) {
    const Space& s = spaces_[static_cast<size_t>(i)];
    if (s.loss_time < loss_time) {
      loss_time = s.loss_time;
      loss_space = static_cast<PnSpace>(i);
    }
  }
  if (loss_time != kTimeInfinite) {
    LossSummary sum;
    detect_lost(sp(loss_space), now, out.lost, sum);
    on_packets_lost(sum, now);
    out.kind = TimeoutOutcome::Kind::loss;
    out.space = loss_space;
    out.persistent_congestion = sum.persistent;
    set_timer(now);
    return;
  }

  out.kind = TimeoutOutcome::Kind::pto;
  if (ack_eliciting_in_flight() == 0) {
    // §6.2.2.1: client anti-deadlock probe; a Handshake packet proves
    // address ownership, a padded Initial earns amplification credit.
    out.anti_deadlock = true;
    out.probes = 1;
    out.space = has_handshake_keys_ || sp(PnSpace::initial).discarded ? PnSpace::handshake
                                                                      : PnSpace::initial;
  } else {
    out.probes = config_.pto_probe_packets;
    out.space = pto_time_and_space(now).space;
  }
  ++pto_count_;
  ++stats_.pto_count;
  set_timer(now);
}

// ------------------------------------------------------- state transitions

void LossDetector::discard_space(PnSpace space, Time now) {
  // RFC 9002 §6.4, A.11: only Initial and Handshake keys are discarded.
  if (space == PnSpace::application) return;
  Space& s = sp(space);
  if (s.discarded) return;
  for (size_t i = 0; i < s.sent.size(); ++i) {
    const SentPacketMap::Entry& e = s.sent[i];
    if (e.state == State::outstanding && e.packet.in_flight) {
      bytes_in_flight_ -= std::min<uint64_t>(bytes_in_flight_, e.packet.bytes);
    }
  }
  s.sent = SentPacketMap();  // never used again: free its ring
  s.discarded = true;
  s.ack_eliciting_in_flight = 0;
  s.last_ack_eliciting_sent = Time{};
  s.loss_time = kTimeInfinite;
  pto_count_ = 0;
  set_timer(now);
}

void LossDetector::take_unacked(PnSpace space, Time now, std::vector<SentPacket>& out) {
  Space& s = sp(space);
  for (size_t i = 0; i < s.sent.size(); ++i) {
    if (s.sent[i].state == State::outstanding) out.push_back(remove(s, i, State::lost));
  }
  s.sent.trim();
  s.loss_time = kTimeInfinite;
  set_timer(now);
}

void LossDetector::on_retry(Time now, std::vector<SentPacket>& unacked) {
  // RFC 9002 §6.3: reset congestion control and loss recovery state.
  take_unacked(PnSpace::initial, now, unacked);
  take_unacked(PnSpace::application, now, unacked);
  cc_->reset();
  pto_count_ = 0;
  set_timer(now);
}

void LossDetector::set_handshake_confirmed(Time now) {
  handshake_confirmed_ = true;
  set_timer(now);
}

void LossDetector::set_peer_address_validated(Time now) {
  peer_validated_ = true;
  set_timer(now);
}

void LossDetector::set_has_handshake_keys(bool v, Time now) {
  has_handshake_keys_ = v;
  set_timer(now);
}

void LossDetector::set_amplification_limited(bool blocked, Time now) {
  if (blocked == amplification_limited_) return;
  amplification_limited_ = blocked;
  set_timer(now);
}

bool LossDetector::peer_completed_address_validation() const {
  // RFC 9002 A.6: servers treat the client's address as validated (clients
  // validate servers implicitly); a client knows once a Handshake packet
  // was acknowledged or the handshake is confirmed.
  return config_.is_server || peer_validated_ || handshake_confirmed_;
}

uint64_t LossDetector::ack_eliciting_in_flight() const {
  uint64_t n = 0;
  for (const Space& s : spaces_) n += s.ack_eliciting_in_flight;
  return n;
}

Time LossDetector::last_ack_eliciting_sent() const {
  Time t{};
  for (const Space& s : spaces_) t = std::max(t, s.last_ack_eliciting_sent);
  return t;
}

}  // namespace wt::quic
