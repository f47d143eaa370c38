#include "quic/cubic.h"

#include <algorithm>
#include <cmath>

#include "quic/rtt_estimator.h"

namespace wt::quic {
namespace {

double seconds(Duration d) { return static_cast<double>(d.count()) * 1e-9; }

}  // namespace

double Cubic::w_cubic(double t) const {
  const double d = t - k_;
  return kC * static_cast<double>(mds_) * d * d * d + w_max_;  // RFC 9438 §4.2 Figure 1
}

void Cubic::start_epoch(Time now) {
  // RFC 9438 §4.2: a congestion avoidance stage begins; cwnd_epoch = cwnd.
  has_epoch_ = true;
  t_epoch_ = now;
  const double cwnd_epoch = static_cast<double>(cwnd_);
  if (w_max_ <= 0) {
    // No W_max yet, or first stage after a timeout (RFC 9438 §4.8): W_max is
    // the window at the start of the stage and K = 0.
    w_max_ = cwnd_epoch;
    k_ = 0;
  } else {
    // RFC 9438 §4.2 Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), in
    // segments. Negative when W_max < cwnd_epoch; W_cubic(0) is then still
    // cwnd_epoch.
    k_ = std::cbrt((w_max_ - cwnd_epoch) / (kC * static_cast<double>(mds_)));
  }
  // RFC 9438 §4.3: W_est starts at cwnd_epoch.
  w_est_ = cwnd_epoch;
  frac_ = 0;
}

void Cubic::grow_congestion_avoidance(uint32_t bytes, const RttEstimator& rtt, Time now) {
  if (!has_epoch_) start_epoch(now);
  const double cwnd = static_cast<double>(cwnd_);
  const double acked = static_cast<double>(bytes);
  const double mds = static_cast<double>(mds_);
  const double t = seconds(now - t_epoch_);

  // RFC 9438 §4.3: W_est += α * segments_acked / cwnd (segments); α becomes
  // 1 once W_est has reached cwnd_prior.
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlpha;
  w_est_ += alpha * mds * acked / cwnd;

  if (w_cubic(t) < w_est_) {
    // RFC 9438 §4.3: Reno-friendly region, cwnd = W_est (never lowered here).
    cwnd_ = std::max(cwnd_, static_cast<uint64_t>(w_est_));
    frac_ = 0;
    return;
  }
  // RFC 9438 §4.2: target = W_cubic(t + RTT) bounded to [cwnd, 1.5 cwnd];
  // §4.4/§4.5: cwnd += (target - cwnd) / cwnd per acknowledged segment.
  const double target =
      std::clamp(w_cubic(t + seconds(rtt.smoothed_rtt())), cwnd, 1.5 * cwnd);
  const double next = cwnd + (target - cwnd) * acked / cwnd + frac_;
  const double whole = std::floor(next);
  frac_ = next - whole;
  cwnd_ = static_cast<uint64_t>(whole);
}

void Cubic::reduce_window(Time /*now*/) {
  const double cwnd = static_cast<double>(cwnd_);
  // RFC 9438 §4.7 fast convergence: a flow whose window did not get back to
  // W_max releases bandwidth by lowering W_max further.
  if (fast_convergence_ && cwnd < w_max_) {
    w_max_ = cwnd * (1.0 + kBeta) / 2.0;
  } else {
    w_max_ = cwnd;
  }
  cwnd_prior_ = cwnd;
  // RFC 9438 §4.6: ssthresh = cwnd * β_cubic, cwnd = ssthresh; QUIC keeps
  // its 2-datagram minimum (RFC 9002 §7.2), applied by the caller.
  ssthresh_ = std::max<uint64_t>(cwnd_ * 7 / 10, min_window());
  cwnd_ = ssthresh_;
  has_epoch_ = false;
  frac_ = 0;
}

void Cubic::on_persistent_congestion_hook() {
  // RFC 9438 §4.8: after a timeout the next stage uses K = 0 and W_max =
  // cwnd at its start.
  w_max_ = 0;
  has_epoch_ = false;
  frac_ = 0;
}

void Cubic::on_app_limited_end(Duration paused) {
  // RFC 9438 §5.8: t must not include app-limited periods.
  if (has_epoch_) t_epoch_ += paused;
}

void Cubic::on_reset_hook() {
  has_epoch_ = false;
  w_max_ = 0;
  cwnd_prior_ = 0;
  k_ = 0;
  w_est_ = 0;
  frac_ = 0;
}

}  // namespace wt::quic
