// Shared machinery of window-based, loss-driven controllers (NewReno,
// CUBIC): slow start, the recovery period, the minimum window, app-limited
// and window-utilisation tracking and PMTU changes, all per RFC 9002 §7 /
// Appendix B. Subclasses supply congestion-avoidance growth and the
// multiplicative decrease.
//
// Window utilisation (RFC 9002 §7.8): besides the connection's explicit
// on_app_limited(), the controller watches bytes_in_flight at every send, as
// Linux TCP does (tcp_cwnd_validate): per round trip it remembers whether a
// send found the window full (less than one datagram left) and the most
// bytes in flight. The window grows only if it was full in the current
// round, or in slow start if more than half of it was in use. A sender held
// back by anything else (CPU, flow control, a full socket buffer) keeps its
// window instead of inflating it without bound; held back by pacing, it
// counts as full (on_pacing_limited). The round ends when a
// packet sent after the last update is acknowledged; the next send starts
// the new one. Before the first send the window counts as used. This check
// is off by default (RFC 9002 Appendix B growth, as the recovery tests
// expect); connections turn it on (set_window_validation).
#pragma once
#include <cstdint>
#include <limits>

#include "quic/congestion.h"

namespace wt::quic {

class WindowController : public CongestionController {
 public:
  explicit WindowController(uint32_t max_datagram_size);

  void on_packet_sent(uint32_t bytes, uint64_t bytes_in_flight, Time now) override;
  void on_packet_acked(uint32_t bytes, Time time_sent, const RttEstimator& rtt,
                       Time now) override;
  void on_congestion_event(Time time_sent, Time now) override;
  void on_persistent_congestion(Time now) override;
  void on_app_limited(Time now) override;
  void on_pacing_limited(Time now) override;
  void set_max_datagram_size(uint32_t max_datagram_size) override;
  void reset() override;

  uint64_t cwnd() const override { return cwnd_; }
  uint64_t ssthresh() const override { return ssthresh_; }
  bool in_slow_start() const override { return cwnd_ < ssthresh_; }
  bool in_recovery(Time time_sent) const override {
    return has_recovery_ && time_sent <= recovery_start_;  // RFC 9002 B.4
  }
  bool app_limited() const override { return app_limited_; }
  bool cwnd_limited() const override { return cwnd_limited_; }
  void set_window_validation(bool on) override { validate_ = on; }
  uint64_t max_bytes_in_flight() const { return max_in_flight_; }
  uint32_t max_datagram_size() const override { return mds_; }

 protected:
  static constexpr uint64_t kNoSsthresh = std::numeric_limits<uint64_t>::max();

  // Congestion avoidance growth for one acked packet (cwnd >= ssthresh, not
  // in recovery, not app-limited).
  virtual void grow_congestion_avoidance(uint32_t bytes, const RttEstimator& rtt, Time now) = 0;
  // Multiplicative decrease on entering recovery: set ssthresh_ and cwnd_
  // (cwnd_ at least min_window()).
  virtual void reduce_window(Time now) = 0;
  // Hooks with default no-ops.
  virtual void on_persistent_congestion_hook() {}
  virtual void on_app_limited_end(Duration /*paused*/) {}
  virtual void on_reset_hook() {}

  uint64_t min_window() const { return minimum_congestion_window(mds_); }
  bool window_used() const;

  uint64_t cwnd_;
  uint64_t ssthresh_ = kNoSsthresh;
  uint32_t mds_;

 private:
  Time recovery_start_{};
  Time app_limited_since_{};
  bool has_recovery_ = false;
  bool app_limited_ = false;
  bool window_touched_ = false;  // cwnd moved away from the initial window
  // Window utilisation of the current round (see the header comment).
  bool validate_ = false;
  bool cwnd_limited_ = true;
  bool round_done_ = true;  // the first send starts a round
  uint64_t max_in_flight_ = 0;
  Time usage_mark_{};
};

}  // namespace wt::quic
