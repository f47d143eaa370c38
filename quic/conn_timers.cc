// Timers: loss detection and PTO (RFC 9002 §6), idle timeout (RFC 9000
// §10.1), keep-alive, the closing and draining periods (RFC 9000 §10.2),
// ACK delay and pacing.
#include <algorithm>

#include "lib/log.h"
#include "quic/connection.h"

namespace wt::quic {

Duration Connection::pto() const { return recovery_.pto_period(); }

void Connection::reset_idle_timer(Time now) {
  if (idle_timeout_ > Duration::zero()) {
    // RFC 9000 §10.1: at least three PTOs, so probes can be retried.
    idle_deadline_ = now + std::max(idle_timeout_, 3 * pto());
  }
  if (cfg_.keep_alive > Duration::zero()) keep_alive_deadline_ = now + cfg_.keep_alive;
  arm_compaction(now);  // free memory once quiet (conn_memory.cc)
}

Time Connection::next_timeout() const {
  switch (state_) {
    case State::closed: return kTimeInfinite;
    case State::closing:
    case State::draining: return close_deadline_;
    default: break;
  }
  Time t = std::min({idle_deadline_, recovery_.loss_detection_timer(), keep_alive_deadline_,
                     pacing_deadline_, aux_deadline(),  // aux: paths, old keys (conn_paths.cc)
                     compact_deadline_});               // conn_memory.cc
  // An ACK the amplification limit keeps in cannot be sent when its timer
  // fires; it leaves with the next datagram the peer's bytes allow.
  if (ack_blocked_by_amplification()) return t;  // conn_paths.cc
  for (const Space& s : spaces_) {
    if (!s.discarded && s.tx && s.acks.has_unacked()) t = std::min(t, s.acks.ack_deadline());
  }
  return t;
}

void Connection::on_timeout(Time now) {
  note_activity();
  if (state_ == State::closed) return;
  if (state_ == State::closing || state_ == State::draining) {
    if (now >= close_deadline_) finish_close();
    return;
  }
  if (now >= idle_deadline_) {
    // RFC 9000 §10.1: the connection is silently closed.
    close_info_ = CloseInfo{};
    close_info_.idle_timeout = true;
    close_info_.reason = "idle timeout";
    finish_close();
    return;
  }
  if (now >= pacing_deadline_) pacing_deadline_ = kTimeInfinite;
  if (now >= compact_deadline_) compact(now);  // conn_memory.cc
  on_aux_timeout(now);  // path validation, old 1-RTT keys (conn_paths.cc)
  if (now >= keep_alive_deadline_) {
    pending_.ping = true;
    keep_alive_deadline_ = now + cfg_.keep_alive;
  }
  if (now >= recovery_.loss_detection_timer()) {
    timeout_outcome_.clear();
    recovery_.on_timeout(now, timeout_outcome_);
    if (timeout_outcome_.kind == TimeoutOutcome::Kind::loss) {
      on_packets_lost(timeout_outcome_.space, timeout_outcome_.lost);
    } else if (timeout_outcome_.kind == TimeoutOutcome::Kind::pto) {
      Space& sp = spaces_[static_cast<int>(timeout_outcome_.space)];
      sp.probes = std::max<uint32_t>(timeout_outcome_.probes, 1);
      // RFC 9002 §6.2.4: probes should carry data; for the handshake spaces
      // resend all unacknowledged CRYPTO data.
      if (timeout_outcome_.space != PnSpace::application && !sp.discarded) {
        recovery_.for_each_unacked(timeout_outcome_.space, [&](const SentPacket& p) {
          for (const SentFrame& f : p.frames)
            if (f.kind == SentFrame::Kind::crypto) crypto_on_lost(timeout_outcome_.space, f);
        });
      }
    }
  }
}

void Connection::enter_closing(const Error& e, Time now, std::string reason) {
  if (qlog_.enabled()) qlog_.connection_closed(now, true, e.code, e.application, reason);
  state_ = State::closing;
  close_error_ = e;
  close_reason_ = std::move(reason);
  close_pending_ = true;
  // RFC 9000 §10.2: the closing period lasts three PTOs. Without a time
  // (an API call), it starts when the CONNECTION_CLOSE is sent.
  close_deadline_ = now == kTimeZero ? kTimeInfinite : now + 3 * pto();
  emit_closed();
}

void Connection::enter_draining(Time now) {
  if (qlog_.enabled())
    qlog_.connection_closed(now, false, close_info_.error_code, close_info_.application, close_info_.reason);
  state_ = State::draining;
  close_pending_ = false;
  close_deadline_ = now + 3 * pto();
  emit_closed();
}

void Connection::finish_close() {
  state_ = State::closed;
  emit_closed();
}

}  // namespace wt::quic
