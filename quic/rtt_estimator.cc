#include "quic/rtt_estimator.h"

#include <algorithm>

namespace wt::quic {

void RttEstimator::reset(Duration initial_rtt) {
  initial_rtt_ = initial_rtt;
  // RFC 9002 §5.3: before the first sample.
  smoothed_rtt_ = initial_rtt;
  rttvar_ = initial_rtt / 2;
  latest_rtt_ = Duration{0};
  min_rtt_ = Duration{0};
  first_sample_time_ = Time{};
  has_sample_ = false;
}

void RttEstimator::set_initial_rtt(Duration initial_rtt) {
  if (!has_sample_) reset(initial_rtt);
}

void RttEstimator::update(Duration latest_rtt, Duration ack_delay, bool handshake_confirmed,
                          Time now) {
  latest_rtt = std::max(latest_rtt, Duration{0});
  ack_delay = std::max(ack_delay, Duration{0});
  latest_rtt_ = latest_rtt;

  if (!has_sample_) {
    // RFC 9002 §5.3: the first sample initializes everything; ack_delay is
    // not subtracted.
    has_sample_ = true;
    first_sample_time_ = now;
    min_rtt_ = latest_rtt;
    smoothed_rtt_ = latest_rtt;
    rttvar_ = latest_rtt / 2;
    return;
  }

  // RFC 9002 §5.2: min_rtt ignores ack_delay.
  min_rtt_ = std::min(min_rtt_, latest_rtt);

  // RFC 9002 §5.3: cap by max_ack_delay once the handshake is confirmed
  // (before that the peer's value may not be known or honoured).
  if (handshake_confirmed) ack_delay = std::min(ack_delay, max_ack_delay_);

  // RFC 9002 §5.3: never subtract below min_rtt.
  Duration adjusted = latest_rtt;
  if (latest_rtt >= min_rtt_ + ack_delay) adjusted = latest_rtt - ack_delay;

  const Duration diff = smoothed_rtt_ > adjusted ? smoothed_rtt_ - adjusted : adjusted - smoothed_rtt_;
  rttvar_ = (3 * rttvar_ + diff) / 4;
  smoothed_rtt_ = (7 * smoothed_rtt_ + adjusted) / 8;
}

Duration RttEstimator::pto_base() const {
  return smoothed_rtt_ + std::max(4 * rttvar_, kGranularity);
}

}  // namespace wt::quic
