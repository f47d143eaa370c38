// Loss detection and the congestion controller of one connection
// (RFC 9002 §6, §7, Appendix A), sans-I/O.
//
// The connection reports every packet it sends (on_packet_sent), every ACK
// frame it receives (on_ack_received) and fires on_timeout() when
// loss_detection_timer() passes. Results come back through caller-owned
// outcome structs whose vectors are reused (clear() keeps capacity), so the
// steady state does not allocate beyond the SentFrames the caller put in.
//
// Owned here: the three packet number spaces' sent packets, bytes_in_flight,
// the RTT estimator and the congestion controller (made by
// make_congestion_controller, or injected).
//
// Inputs the connection must keep current:
//  - set_peer_max_ack_delay() from the peer's transport parameters;
//  - set_handshake_confirmed() (RFC 9001 §4.1.2): enables the Application
//    space PTO and the max_ack_delay cap on ack_delay;
//  - clients: set_has_handshake_keys() and, if known by other means,
//    set_peer_address_validated(); a Handshake ACK also validates (A.6);
//  - servers: set_amplification_limited() while the anti-amplification
//    limit blocks sending (no PTO is armed then, A.8);
//  - discard_space() when Initial/Handshake keys are dropped (§6.4).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lib/clock.h"
#include "lib/result.h"
#include "quic/congestion.h"
#include "quic/frame.h"
#include "quic/packet_type.h"
#include "quic/rtt_estimator.h"
#include "quic/sent_packet_map.h"

namespace wt::quic {

struct LossDetectorConfig {
  bool is_server = false;
  CcAlgorithm congestion = CcAlgorithm::cubic;
  Duration initial_rtt = RttEstimator::kDefaultInitialRtt;
  uint32_t max_datagram_size = kDefaultMaxDatagramSize;
  // Ack-eliciting packets to send when a PTO fires (RFC 9002 §6.2.4: one or
  // two). The anti-deadlock probe of a client is always one packet.
  uint32_t pto_probe_packets = 2;
  // Outstanding packets per space beyond which the oldest non-in-flight
  // (ACK-only) packets are forgotten: a peer need not acknowledge them
  // until we send something ack-eliciting (RFC 9000 §13.2.4).
  size_t max_tracked_packets = 1u << 15;
};

// What an ACK frame did.
struct AckOutcome {
  std::vector<SentPacket> acked;  // newly acknowledged, ascending pn, frames intact
  std::vector<SentPacket> lost;   // declared lost now, ascending pn, frames intact
  bool rtt_sampled = false;            // RFC 9002 §5.1
  bool congestion_event = false;       // loss or ECN-CE reduced the window
  bool ecn_ce_increased = false;       // RFC 9000 §13.4.2
  bool persistent_congestion = false;  // RFC 9002 §7.6
  void clear();
};

// What the loss detection timer asks for.
struct TimeoutOutcome {
  enum class Kind : uint8_t {
    none,  // the timer had not expired
    loss,  // time-threshold losses were declared (in `lost`)
    pto,   // send `probes` ack-eliciting packets in `space` (RFC 9002 §6.2.4)
  };
  Kind kind = Kind::none;
  PnSpace space = PnSpace::initial;
  uint32_t probes = 0;
  // RFC 9002 §6.2.2.1: client with nothing in flight whose address the
  // server may not have validated: one padded Initial or a Handshake packet.
  bool anti_deadlock = false;
  bool persistent_congestion = false;
  std::vector<SentPacket> lost;
  void clear();
};

struct RecoveryStats {
  uint64_t packets_sent = 0;
  uint64_t packets_acked = 0;
  uint64_t packets_lost = 0;
  uint64_t bytes_lost = 0;
  uint64_t pto_count = 0;        // PTO expirations
  uint64_t congestion_events = 0;
  uint64_t persistent_congestion = 0;
};

class LossDetector {
 public:
  static constexpr uint64_t kPacketThreshold = 3;                 // RFC 9002 §6.1.1
  static constexpr int kTimeThresholdNum = 9;                     // RFC 9002 §6.1.2: 9/8
  static constexpr int kTimeThresholdDen = 8;
  static constexpr uint64_t kPersistentCongestionThreshold = 3;  // RFC 9002 §7.6.1
  static constexpr Duration kMaxPto = std::chrono::hours(24);    // backoff saturation

  explicit LossDetector(const LossDetectorConfig& config = {});
  LossDetector(const LossDetectorConfig& config, std::unique_ptr<CongestionController> cc);

  // A packet was sent at `now` (packet.time_sent is overwritten with it).
  // Packet numbers must increase within a space; numbers never reported
  // count as never sent, so an ACK for them is a PROTOCOL_VIOLATION.
  void on_packet_sent(PnSpace space, SentPacket&& packet, Time now);

  // An ACK frame received in `space`. `ranges` descending (largest first,
  // as in quic/frame.h); `ack_delay` already scaled by the peer's
  // ack_delay_exponent; `ecn` null for frame type 0x02. Errors:
  // PROTOCOL_VIOLATION for an acknowledged packet number never sent
  // (RFC 9000 §13.1), FRAME_ENCODING_ERROR for malformed ranges. `out` is
  // cleared first; on error nothing changed.
  Status on_ack_received(PnSpace space, std::span<const AckRange> ranges, Duration ack_delay,
                         const EcnCounts* ecn, Time now, AckOutcome& out);
  // Same, walking a decoded frame's ranges in place (no copy).
  Status on_ack_received(PnSpace space, const AckFrame& frame, Duration ack_delay, Time now,
                         AckOutcome& out);

  // When loss_detection_timer() <= now. Earlier calls return Kind::none.
  void on_timeout(Time now, TimeoutOutcome& out);
  Time loss_detection_timer() const {
    if (timer_dirty_) refresh_timer();
    return timer_;
  }

  // RFC 9002 §6.4: keys for Initial or Handshake dropped. Their packets
  // leave bytes_in_flight without being declared lost; PTO backoff resets.
  void discard_space(PnSpace space, Time now);
  bool space_discarded(PnSpace space) const { return sp(space).discarded; }

  // RFC 9002 §6.3: the client got a Retry. Every outstanding Initial and
  // 0-RTT (Application) packet is moved to `unacked` for retransmission and
  // loss recovery and congestion control start over. Packet numbers keep
  // increasing (RFC 9000 §17.2.5.3).
  void on_retry(Time now, std::vector<SentPacket>& unacked);
  // Outstanding packets of `space` leave flight without a congestion signal
  // and are appended to `out` (e.g. 0-RTT rejected: RFC 9001 §4.6.2).
  void take_unacked(PnSpace space, Time now, std::vector<SentPacket>& out);

  // Inputs (see the header comment). The setters re-arm the timer at `now`.
  void set_peer_max_ack_delay(Duration d) { rtt_.set_max_ack_delay(d); }
  void set_handshake_confirmed(Time now);
  void set_peer_address_validated(Time now);
  void set_has_handshake_keys(bool v, Time now);
  void set_amplification_limited(bool blocked, Time now);
  void set_max_datagram_size(uint32_t mds) { cc_->set_max_datagram_size(mds); }

  bool handshake_confirmed() const { return handshake_confirmed_; }
  bool peer_completed_address_validation() const;  // RFC 9002 A.6

  // State for the connection.
  uint64_t bytes_in_flight() const { return bytes_in_flight_; }
  bool can_send() const { return cc_->can_send(bytes_in_flight_); }
  uint64_t congestion_available() const { return cc_->available(bytes_in_flight_); }
  uint64_t ack_eliciting_in_flight() const;
  uint64_t ack_eliciting_in_flight(PnSpace space) const { return sp(space).ack_eliciting_in_flight; }
  // Send time of the newest ack-eliciting packet (RFC 9000 §10.1 idle timer);
  // Time{} if none was sent (or the space was discarded).
  Time last_ack_eliciting_sent(PnSpace space) const { return sp(space).last_ack_eliciting_sent; }
  Time last_ack_eliciting_sent() const;
  // Outstanding (not acknowledged, not lost) packets, any kind.
  size_t outstanding(PnSpace space) const { return sp(space).sent.outstanding(); }
  // Largest packet number acknowledged by the peer in `space`, if any.
  bool has_largest_acked(PnSpace space) const { return sp(space).has_largest_acked; }
  uint64_t largest_acked(PnSpace space) const { return sp(space).largest_acked; }
  uint32_t pto_count() const { return pto_count_; }
  // PTO period without backoff, including max_ack_delay: the unit of the
  // closing/draining period and idle timeout floor (RFC 9000 §10).
  Duration pto_period() const;

  // f(const SentPacket&) for each outstanding packet of `space`, oldest
  // first, e.g. to pick data to retransmit in a PTO probe.
  template <class F>
  void for_each_unacked(PnSpace space, F&& f) const {
    const SentPacketMap& m = sp(space).sent;
    for (size_t i = 0; i < m.size(); ++i) {
      if (m[i].state == SentPacketMap::State::outstanding) f(m[i].packet);
    }
  }

  RttEstimator& rtt() { return rtt_; }
  const RttEstimator& rtt() const { return rtt_; }
  CongestionController& congestion() { return *cc_; }
  const CongestionController& congestion() const { return *cc_; }
  const RecoveryStats& stats() const { return stats_; }

 private:
  struct Space {
    SentPacketMap sent;
    uint64_t largest_acked = 0;
    bool has_largest_acked = false;
    bool discarded = false;
    uint64_t ack_eliciting_in_flight = 0;
    Time last_ack_eliciting_sent{};
    Time loss_time = kTimeInfinite;  // infinite: unset
    uint64_t ecn_ce = 0;
  };
  // What loss detection found, for the congestion controller.
  struct LossSummary {
    bool any_congestion_loss = false;
    Time newest_lost_sent{};
    bool persistent = false;
  };

  Space& sp(PnSpace s) { return spaces_[static_cast<size_t>(s)]; }
  const Space& sp(PnSpace s) const { return spaces_[static_cast<size_t>(s)]; }

  template <class Ranges>
  Status process_ack(PnSpace space, const Ranges& ranges, uint64_t largest, Duration ack_delay,
                     const EcnCounts* ecn, Time now, AckOutcome& out);
  SentPacket remove(Space& s, size_t i, SentPacketMap::State state);
  void detect_lost(Space& s, Time now, std::vector<SentPacket>& lost, LossSummary& sum);
  bool on_packets_lost(const LossSummary& sum, Time now);
  void set_timer(Time now);
  // Packets sent only mark the timer stale: it is computed when read, once
  // per batch instead of once per packet.
  void refresh_timer() const;
  Time compute_timer(Time now) const;
  Duration backoff(Duration d) const;
  struct PtoTime {
    Time time;
    PnSpace space;
  };
  PtoTime pto_time_and_space(Time now) const;
  Duration persistent_congestion_duration() const;

  LossDetectorConfig config_;
  RttEstimator rtt_;
  std::unique_ptr<CongestionController> cc_;
  std::array<Space, kNumPnSpaces> spaces_;
  uint64_t bytes_in_flight_ = 0;
  mutable Time timer_ = kTimeInfinite;
  mutable bool timer_dirty_ = false;  // recompute timer_ as set_timer(timer_now_) would
  Time timer_now_{};
  uint32_t pto_count_ = 0;
  bool handshake_confirmed_ = false;
  bool peer_validated_ = false;  // explicit input or Handshake ACK received
  bool has_handshake_keys_ = false;
  bool amplification_limited_ = false;
  RecoveryStats stats_;
};

}  // namespace wt::quic
