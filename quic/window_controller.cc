#include "quic/window_controller.h"

#include <algorithm>

namespace wt::quic {

WindowController::WindowController(uint32_t max_datagram_size)
    : cwnd_(initial_congestion_window(max_datagram_size)), mds_(max_datagram_size) {}

void WindowController::on_packet_sent(uint32_t /*bytes*/, uint64_t bytes_in_flight, Time now) {
  // RFC 9002 §7.8: the window is being used once no full-sized datagram
  // fits any more; that ends an app-limited period.
  const bool full = bytes_in_flight + mds_ > cwnd_;
  if (app_limited_ && full) {
    app_limited_ = false;
    on_app_limited_end(now - app_limited_since_);
  }
  // A new round, a full window, or (while not known to be full) a new
  // high of bytes in flight updates the round's utilisation.
  if (round_done_ || full || (!cwnd_limited_ && bytes_in_flight > max_in_flight_)) {
    cwnd_limited_ = full;
    max_in_flight_ = bytes_in_flight;
    usage_mark_ = now;
    round_done_ = false;
  }
}

bool WindowController::window_used() const {
  // RFC 9002 §7.8: no growth while the window is underutilised. Slow start
  // doubles the window per round, so half of it in use is enough there.
  if (!validate_) return true;
  return cwnd_limited_ || (cwnd_ < ssthresh_ && 2 * max_in_flight_ > cwnd_);
}

void WindowController::on_pacing_limited(Time now) {
  // RFC 9002 §7.8: underutilised means below the window and not pacing
  // limited; this round used the window.
  cwnd_limited_ = true;
  usage_mark_ = now;
  round_done_ = false;
}

void WindowController::on_app_limited(Time now) {
  if (app_limited_) return;
  app_limited_ = true;
  app_limited_since_ = now;
}

void WindowController::on_packet_acked(uint32_t bytes, Time time_sent, const RttEstimator& rtt,
                                       Time now) {
  // RFC 9002 §7.3.2: no growth for packets sent before recovery started.
  if (in_recovery(time_sent)) return;
  // A packet sent after the last utilisation update closes the round.
  if (time_sent > usage_mark_) round_done_ = true;
  // RFC 9002 §7.8: no growth while the window is not the limit.
  if (app_limited_ || !window_used()) return;
  window_touched_ = true;
  if (cwnd_ < ssthresh_) {
    cwnd_ += bytes;  // RFC 9002 §7.3.1 slow start, B.5
    return;
  }
  grow_congestion_avoidance(bytes, rtt, now);
}

void WindowController::on_congestion_event(Time time_sent, Time now) {
  // RFC 9002 §7.3.2: one reduction per recovery period.
  if (in_recovery(time_sent)) return;
  has_recovery_ = true;
  recovery_start_ = now;
  window_touched_ = true;
  reduce_window(now);
  cwnd_ = std::max(cwnd_, min_window());
}

void WindowController::on_persistent_congestion(Time /*now*/) {
  // RFC 9002 §7.6.2, B.8: minimum window, recovery period ends.
  cwnd_ = min_window();
  has_recovery_ = false;
  window_touched_ = true;
  on_persistent_congestion_hook();
}

void WindowController::set_max_datagram_size(uint32_t max_datagram_size) {
  if (max_datagram_size == mds_ || max_datagram_size == 0) return;
  mds_ = max_datagram_size;
  // RFC 9002 §7.2: recompute the initial window with the new size; a window
  // that already evolved is kept, but never below the new minimum.
  if (!window_touched_) cwnd_ = initial_congestion_window(mds_);
  cwnd_ = std::max(cwnd_, min_window());
}

void WindowController::reset() {
  cwnd_ = initial_congestion_window(mds_);
  ssthresh_ = kNoSsthresh;
  has_recovery_ = false;
  app_limited_ = false;
  window_touched_ = false;
  cwnd_limited_ = true;
  round_done_ = true;
  max_in_flight_ = 0;
  usage_mark_ = Time{};
  on_reset_hook();
}

}  // namespace wt::quic
