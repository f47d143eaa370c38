// Flow control credit (RFC 9000 §4), one object per limit: the connection
// (MAX_DATA) and each stream direction (MAX_STREAM_DATA).
//
// SendCredit is the peer's limit on what we send; RecvWindow is the limit we
// advertise for what the peer sends, with receive-window auto-tuning.
#pragma once
#include <cstdint>

#include <algorithm>

#include "lib/clock.h"
#include "lib/result.h"
#include "lib/varint.h"

namespace wt::quic {

// Send side: how much more we may send under the peer's limit, and whether a
// DATA_BLOCKED / STREAM_DATA_BLOCKED frame is due.
class SendCredit {
 public:
  explicit SendCredit(uint64_t limit = 0) : limit_(limit) {}

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }
  uint64_t available() const { return limit_ - used_; }

  // A new limit from MAX_DATA / MAX_STREAM_DATA or the transport parameters.
  // RFC 9000 §19.9/§19.10: a value that does not increase the limit is
  // ignored. Returns true when the limit grew.
  bool raise_limit(uint64_t limit) {
    if (limit <= limit_) return false;  // RFC 9000 §19.9/§19.10: ignore
    limit_ = limit;
    blocked_pending_ = false;  // a BLOCKED frame for the old limit is stale
    return true;
  }
  // Records `n` bytes of new data sent (n <= available(); excess is clamped).
  void consume(uint64_t n) { used_ += std::min(n, available()); }

  // The sender has data it cannot send for lack of credit. RFC 9000 §4.1: a
  // sender SHOULD send a BLOCKED frame once when it hits the limit, so this
  // arms one frame per limit value.
  void on_blocked();
  bool blocked_pending() const { return blocked_pending_; }
  // The limit to put in the BLOCKED frame; clears the pending flag.
  uint64_t take_blocked();
  // The packet carrying a BLOCKED frame with `limit` was lost: resend it if
  // we are still blocked at that limit (RFC 9000 §13.3).
  void on_blocked_lost(uint64_t limit);

 private:
  static constexpr uint64_t kNone = ~uint64_t{0};
  uint64_t limit_;
  uint64_t used_ = 0;
  uint64_t blocked_at_ = kNone;  // limit for which a BLOCKED frame was armed
  bool blocked_pending_ = false;
};

// Receive side: the limit we advertised, what the peer used, what the
// application consumed, and when to advertise more.
//
// An update is due once half the window is consumed (the credit the peer
// still has, limit - consumed, is at most window/2); the new limit is
// consumed + window. Auto-tuning (as in quiche and quinn): if updates are
// needed less than 2 RTTs apart, the window is the bottleneck, so it doubles,
// up to max_window.
class RecvWindow {
 public:
  // Initial limit = `window` (our transport parameter); max_window caps
  // auto-tuning (values below `window` mean no growth).
  RecvWindow(uint64_t window, uint64_t max_window);

  uint64_t limit() const { return limit_; }
  uint64_t window() const { return window_; }
  uint64_t max_window() const { return max_window_; }
  uint64_t received() const { return received_; }
  uint64_t consumed() const { return consumed_; }

  // `n` more bytes of the limit used by the peer (for a stream: growth of the
  // highest received offset; for the connection: the sum over streams).
  // RFC 9000 §4.1: exceeding the limit is a FLOW_CONTROL_ERROR. On error
  // nothing changes.
  // Inline: called for every STREAM frame.
  Status on_received(uint64_t n, uint64_t frame_type = 0) {
    if (n > limit_ - received_) [[unlikely]]
      return flow_control_error(frame_type);  // RFC 9000 §4.1
    received_ += n;
    return {};
  }
  // `n` bytes delivered to the application or discarded (never to be read).
  void on_consumed(uint64_t n) { consumed_ = std::min(consumed_ + n, received_); }

  // Whether a MAX_DATA / MAX_STREAM_DATA frame should be sent.
  bool update_needed() const { return resend_ || threshold_reached(); }
  // Applies auto-tuning, raises the limit and returns the value to send.
  // `rtt` is the smoothed RTT.
  uint64_t take_update(Time now, Duration rtt);
  // The packet carrying an update with `limit` was lost: resend if it is
  // still the current limit (RFC 9000 §13.3).
  void on_update_lost(uint64_t limit);

 private:
  static Error flow_control_error(uint64_t frame_type);
  bool threshold_reached() const {
    // Half the window consumed, and the new limit would actually be larger.
    uint64_t target = std::min(consumed_ + window_, kVarintMax);
    return target > limit_ && limit_ - consumed_ <= window_ / 2;
  }
  uint64_t window_;
  uint64_t max_window_;
  uint64_t limit_;
  uint64_t received_ = 0;
  uint64_t consumed_ = 0;
  Time last_update_{};
  bool have_last_update_ = false;
  bool resend_ = false;
};

}  // namespace wt::quic
