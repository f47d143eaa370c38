#include "quic/flow_control.h"

#include <algorithm>

#include "lib/varint.h"

namespace wt::quic {

bool SendCredit::raise_limit(uint64_t limit) {
  if (limit <= limit_) return false;  // RFC 9000 §19.9/§19.10: ignore
  limit_ = limit;
  blocked_pending_ = false;  // a BLOCKED frame for the old limit is stale
  return true;
}

void SendCredit::consume(uint64_t n) { used_ += std::min(n, available()); }

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

Status RecvWindow::on_received(uint64_t n, uint64_t frame_type) {
  if (n > limit_ - received_) {
    return Error(TransportError::flow_control_error, "data exceeds flow control limit",
                 frame_type);  // RFC 9000 §4.1
  }
  received_ += n;
  return {};
}

void RecvWindow::on_consumed(uint64_t n) { consumed_ = std::min(consumed_ + n, received_); }

bool RecvWindow::threshold_reached() const {
  // Half the window consumed, and the new limit would actually be larger.
  uint64_t target = std::min(consumed_ + window_, kVarintMax);
  return target > limit_ && limit_ - consumed_ <= window_ / 2;
}

bool RecvWindow::update_needed() const { return resend_ || threshold_reached(); }

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
