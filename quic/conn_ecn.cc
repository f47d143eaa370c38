// ECN on the connection (RFC 9000 §13.4): marking batches of 1-RTT packets
// ECT(0), validating the peer's counts (EcnValidator) and keeping the
// counts of a path that failed validation away from congestion control.
#include "lib/log.h"
#include "quic/connection.h"

namespace wt::quic {

Ecn Connection::ecn_mark() const {
  // Only batches of 1-RTT packets are marked: once the handshake spaces are
  // gone every packet of a batch is in the space we validate.
  if (!spaces_[0].discarded || !spaces_[1].discarded) return Ecn::not_ect;
  return ecn_.mark();
}

const AckFrame& Connection::ecn_filter_ack(PnSpace space, const AckFrame& f,
                                           AckFrame& scratch) const {
  // RFC 9000 §13.4.2.2: after failed validation the counts are ignored, so
  // CE reports of a misbehaving path or peer do not shrink the window.
  if (space != PnSpace::application || !f.has_ecn || ecn_.counts_trusted()) return f;
  scratch = f;
  scratch.has_ecn = false;
  return scratch;
}

void Connection::ecn_on_ack(const AckFrame& f) {
  if (!ecn_.counts_trusted()) return;
  uint64_t newly_marked = 0;
  for (const SentPacket& p : ack_outcome_.acked)
    if (ecn_.was_marked(p.pn)) ++newly_marked;
  const EcnValidator::State before = ecn_.state();
  (void)ecn_.on_ack(f.has_ecn ? &f.ecn : nullptr, newly_marked, ack_largest_increased_);
  // RFC 9002 §7.1: the loss detector treated the CE increase as congestion.
  if (ack_outcome_.ecn_ce_increased && ecn_.counts_trusted()) ++ecn_ce_events_;
  if (ecn_.state() != before)
    log::debug("quic: ECN on {}: {} -> {}", path_.remote.to_string(),
               EcnValidator::state_name(before), EcnValidator::state_name(ecn_.state()));
}

}  // namespace wt::quic
