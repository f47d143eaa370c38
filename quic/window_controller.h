// Shared machinery of window-based, loss-driven controllers (NewReno,
// CUBIC): slow start, the recovery period, the minimum window, app-limited
// tracking and PMTU changes, all per RFC 9002 §7 / Appendix B. Subclasses
// supply congestion-avoidance growth and the multiplicative decrease.
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
  void set_max_datagram_size(uint32_t max_datagram_size) override;
  void reset() override;

  uint64_t cwnd() const override { return cwnd_; }
  uint64_t ssthresh() const override { return ssthresh_; }
  bool in_slow_start() const override { return cwnd_ < ssthresh_; }
  bool in_recovery(Time time_sent) const override {
    return has_recovery_ && time_sent <= recovery_start_;  // RFC 9002 B.4
  }
  bool app_limited() const override { return app_limited_; }
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

  uint64_t cwnd_;
  uint64_t ssthresh_ = kNoSsthresh;
  uint32_t mds_;

 private:
  Time recovery_start_{};
  Time app_limited_since_{};
  bool has_recovery_ = false;
  bool app_limited_ = false;
  bool window_touched_ = false;  // cwnd moved away from the initial window
};

}  // namespace wt::quic
