// Round-trip time estimation (RFC 9002 §5).
//
// Samples come from the loss detector: latest_rtt = ack time - send time of
// the largest newly acknowledged packet (§5.1), plus the peer's reported
// ack_delay already decoded with its ack_delay_exponent. All arithmetic is
// integer nanoseconds; the 3/4, 1/4, 7/8, 1/8 weights truncate toward zero.
#pragma once
#include <chrono>

#include "lib/clock.h"

namespace wt::quic {

class RttEstimator {
 public:
  static constexpr Duration kGranularity = std::chrono::milliseconds(1);        // RFC 9002 §6.1.2
  static constexpr Duration kDefaultInitialRtt = std::chrono::milliseconds(333);  // RFC 9002 §6.2.2
  static constexpr Duration kDefaultMaxAckDelay = std::chrono::milliseconds(25);  // RFC 9000 §18.2

  explicit RttEstimator(Duration initial_rtt = kDefaultInitialRtt) { reset(initial_rtt); }

  // Before the first sample only (e.g. an RTT remembered from a previous
  // connection, or measured Initial->Retry, RFC 9002 §6.3). Ignored later.
  void set_initial_rtt(Duration initial_rtt);
  // The peer's max_ack_delay transport parameter (RFC 9000 §18.2).
  void set_max_ack_delay(Duration d) { max_ack_delay_ = d; }
  Duration max_ack_delay() const { return max_ack_delay_; }

  // One RTT sample (RFC 9002 §5.3). `ack_delay` is capped by max_ack_delay
  // once the handshake is confirmed and never makes the sample drop below
  // min_rtt. Negative samples (clock misuse by the caller) count as zero.
  void update(Duration latest_rtt, Duration ack_delay, bool handshake_confirmed, Time now);

  // RFC 9002 §5.2: after persistent congestion, min_rtt restarts from the
  // newest sample.
  void on_persistent_congestion() { min_rtt_ = latest_rtt_; }

  // Back to the initial state (path change, RFC 9000 §9.4).
  void reset(Duration initial_rtt);
  void reset() { reset(initial_rtt_); }

  Duration latest_rtt() const { return latest_rtt_; }
  Duration min_rtt() const { return min_rtt_; }
  Duration smoothed_rtt() const { return smoothed_rtt_; }
  Duration rttvar() const { return rttvar_; }
  bool has_sample() const { return has_sample_; }
  // When the first sample was taken (RFC 9002 §7.6.2: persistent congestion
  // only counts packets sent after it). Meaningless without a sample.
  Time first_sample_time() const { return first_sample_time_; }

  // smoothed_rtt + max(4*rttvar, kGranularity): the PTO period without
  // max_ack_delay and without backoff (RFC 9002 §6.2.1).
  Duration pto_base() const;

 private:
  Duration initial_rtt_ = kDefaultInitialRtt;
  Duration latest_rtt_{0};
  Duration min_rtt_{0};
  Duration smoothed_rtt_ = kDefaultInitialRtt;
  Duration rttvar_ = kDefaultInitialRtt / 2;
  Duration max_ack_delay_ = kDefaultMaxAckDelay;
  Time first_sample_time_{};
  bool has_sample_ = false;
};

}  // namespace wt::quic
