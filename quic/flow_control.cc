#include "quic/flow_control.h"

#include <algorithm>

#include "lib/varint.h"

namespace wt::quic {

void SendCredit::on_blocked() {
  if (available() != 0 || blocked_at_ == limit_) return;
  blocked_at_ = limit_;
  blocked_pending_ = true;
}

uint64_t SendCredit::take_blocked() {
  blocked_pending_ = false;
  return limit_;
}

void SendCredit::on_blocked_lost(uint64_t limit) {
  if (limit == limit_ && available() == 0) blocked_pending_ = true;
}

RecvWindow::RecvWindow(uint64_t window, uint64_t max_window)
    : window_(std::min(window, kVarintMax)),
      max_window_(std::max(window_, std::min(max_window, kVarintMax))),
      limit_(window_) {}

Error RecvWindow::flow_control_error(uint64_t frame_type) {
  // RFC 9000 §4.1
  return Error(TransportError::flow_control_error, "data exceeds flow control limit", frame_type);
}

uint64_t RecvWindow::take_update(Time now, Duration rtt) {
  if (threshold_reached()) {
    // Consumed a window's half within 2 RTTs of the previous update: the
    // window limits throughput, so grow it.
    if (have_last_update_ && now - last_update_ < 2 * rtt) {
      window_ = std::min(window_ * 2, max_window_);
    }
    last_update_ = now;
    have_last_update_ = true;
    limit_ = std::max(limit_, std::min(consumed_ + window_, kVarintMax));
  }
  resend_ = false;
  return limit_;
}

void RecvWindow::on_update_lost(uint64_t limit) {
  if (limit == limit_) resend_ = true;
}

}  // namespace wt::quic
