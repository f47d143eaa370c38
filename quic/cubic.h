// CUBIC congestion control (RFC 9438) on top of the QUIC recovery rules of
// RFC 9002 §7 (slow start, recovery period, minimum window of 2 datagrams).
//
// Windows are kept in bytes: W_cubic(t) = C * max_datagram_size * (t - K)^3
// + W_max with t and K in seconds, which is RFC 9438's segment formula scaled
// by the datagram size. Slow start is standard (RFC 9438 §4.10 allows it);
// HyStart++ is not implemented.
#pragma once
#include <cstdint>

#include "quic/window_controller.h"

namespace wt::quic {

class Cubic final : public WindowController {
 public:
  static constexpr double kC = 0.4;      // RFC 9438 §5.1
  static constexpr double kBeta = 0.7;   // RFC 9438 §4.6, β_cubic
  // RFC 9438 §4.3: α_cubic = 3 * (1 - β) / (1 + β).
  static constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

  explicit Cubic(uint32_t max_datagram_size = kDefaultMaxDatagramSize,
                 bool fast_convergence = true)
      : WindowController(max_datagram_size), fast_convergence_(fast_convergence) {}

  CcAlgorithm algorithm() const override { return CcAlgorithm::cubic; }

  // State, in bytes and seconds (for tests and qlog).
  double w_max() const { return w_max_; }
  double w_est() const { return w_est_; }
  double k() const { return k_; }
  double cwnd_prior() const { return cwnd_prior_; }
  bool in_epoch() const { return has_epoch_; }
  Time epoch_start() const { return t_epoch_; }
  // RFC 9438 Figure 1, in bytes: W_cubic(t) for t seconds into the epoch.
  double w_cubic(double t) const;

 private:
  void grow_congestion_avoidance(uint32_t bytes, const RttEstimator& rtt, Time now) override;
  void reduce_window(Time now) override;
  void on_persistent_congestion_hook() override;
  void on_app_limited_end(Duration paused) override;
  void on_reset_hook() override;
  void start_epoch(Time now);

  bool fast_convergence_;
  bool has_epoch_ = false;
  Time t_epoch_{};
  double w_max_ = 0;       // 0: unset (no reduction yet, or after persistent congestion)
  double cwnd_prior_ = 0;  // cwnd when ssthresh was last set (RFC 9438 §4.3)
  double k_ = 0;
  double w_est_ = 0;
  double frac_ = 0;  // sub-byte cwnd growth carried between ACKs
};

}  // namespace wt::quic
