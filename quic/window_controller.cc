#include "quic/window_controller.h"

#include <algorithm>

namespace wt::quic {

WindowController::WindowController(uint32_t max_datagram_size)
    : cwnd_(initial_congestion_window(max_datagram_size)), mds_(max_datagram_size) {}

void WindowController::on_packet_sent(uint32_t /*bytes*/, uint64_t bytes_in_flight, Time now) {
  // RFC 9002 §7.8: the window is being used once no full-sized datagram
  // fits any more; that ends an app-limited period.
  if (app_limited_ && bytes_in_flight + mds_ > cwnd_) {
    app_limited_ = false;
    on_app_limited_end(now - app_limited_since_);
  }
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
  // RFC 9002 §7.8: no growth while the window is not the limit.
  if (app_limited_) return;
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
  on_reset_hook();
}

}  // namespace wt::quic
