// How often a receiver acknowledges 1-RTT packets.
//
// RFC 9000 §13.2.2 recommends an ACK after every second ack-eliciting
// packet but allows other strategies. At high packet rates that is one ACK
// datagram per two received, and each costs the sender a receive and ACK
// processing: measured on loopback, an ACK every 2 packets caps a transfer
// at about a quarter of what one ACK per receive burst allows. So once an
// RTT is known, ACKs for the application space are limited to about
// ConnectionConfig::acks_per_rtt per smoothed RTT (never later than our
// max_ack_delay), or one per kMaxPacketsPerAck packets, whichever comes
// first; reordering and ECN-CE still get an immediate ACK (§13.2.1), and
// Initial and Handshake packets are always acknowledged at once. The sender
// keeps its ACK clock (several ACKs per RTT, as with a window / 8 ACK
// frequency in draft-ietf-quic-ack-frequency) without an extension frame.
#include <algorithm>

#include "quic/connection.h"

namespace wt::quic {

namespace {
// At most this many ack-eliciting packets wait for one ACK (about 300 KB).
constexpr uint32_t kMaxPacketsPerAck = 256;
// ACKs of a busy receiver are at least this far apart: on a path of a few
// tens of microseconds an RTT fraction would mean an ACK every datagram or
// two. Only a sender whose whole window fits in this time waits for it
// (early in slow start), and window validation lets a window that the ACK
// delay holds back grow (window_controller.h).
constexpr Duration kMinInterval = std::chrono::microseconds(50);
}  // namespace

void Connection::update_ack_interval() {
  const RttEstimator& rtt = recovery_.rtt();
  if (cfg_.acks_per_rtt == 0 || !rtt.has_sample()) return;
  const Duration interval =
      std::min(std::max(rtt.smoothed_rtt() / cfg_.acks_per_rtt, kMinInterval), cfg_.max_ack_delay);
  spaces_[static_cast<int>(PnSpace::application)].acks.set_ack_interval(interval, kMaxPacketsPerAck);
}

}  // namespace wt::quic
