// PMTU discovery on the connection (RFC 8899 DPLPMTUD, RFC 9000 §14.3):
// starting the search once the path is validated, sending PING + PADDING
// probes, applying a larger packet size when a probe is acknowledged, and
// falling back to the base size when large packets vanish (black hole).
#include <algorithm>

#include "lib/log.h"
#include "quic/connection.h"

namespace wt::quic {

namespace {
constexpr int kApp = static_cast<int>(PnSpace::application);
// RFC 8899 §4.3 leaves black-hole detection to the PL: this many PTOs in a
// row while sending packets above the base.
constexpr uint32_t kBlackHolePtos = 3;
}  // namespace

size_t Connection::base_packet_size() const {
  size_t base = std::max(Pmtud::kBase, cfg_.max_send_packet_size);
  if (peer_tp_applied_)
    base = static_cast<size_t>(std::min<uint64_t>(base, peer_tp_.max_udp_payload_size));
  return std::max(base, Pmtud::kBase);
}

void Connection::set_packet_size(size_t size) {
  if (size == max_packet_size_) return;
  log::debug("quic: packet size {} -> {}", max_packet_size_, size);
  max_packet_size_ = size;
  // RFC 9002 §7.2: the congestion windows follow max_datagram_size.
  recovery_.set_max_datagram_size(static_cast<uint32_t>(size));
}

bool Connection::pmtud_send_probe(MutBytes out, SendBatch& b, Time now) {
  if (!cfg_.pmtud) return false;
  if (!pmtud_started_) {
    if (!handshake_confirmed_ || !peer_tp_applied_ || !path_validated()) return false;
    const size_t overhead = path_.remote.family == 6 ? 48 : 28;  // IP + UDP headers
    size_t max_payload = cfg_.max_mtu > overhead ? cfg_.max_mtu - overhead : 0;
    // RFC 9000 §18.2: never above the peer's max_udp_payload_size.
    max_payload =
        static_cast<size_t>(std::min<uint64_t>(max_payload, peer_tp_.max_udp_payload_size));
    pmtud_.start(base_packet_size(), max_payload, overhead);
    pmtud_started_ = true;
  }
  // Probes are congestion controlled (RFC 8899 §3) and wait for validation.
  if (path_amplification_limited() || !recovery_.can_send()) return false;
  const size_t size = pmtud_.probe_size(now);
  if (size == 0 || size > out.size()) return false;
  const uint64_t pn = spaces_[kApp].next_pn;
  const size_t n = build_path_packet(out, active_path(), size, now);
  if (n == 0) return false;
  pmtud_.on_probe_sent(pn, size);
  b.bytes = b.segment_size = n;
  b.path = path_;
  b.ecn = Ecn::not_ect;
  return true;
}

void Connection::pmtud_on_ack() {
  if (!pmtud_.probe_outstanding()) return;
  for (const SentPacket& p : ack_outcome_.acked) {
    if (p.pn != pmtud_.probe_pn()) continue;
    // RFC 8899 §5.2: an acknowledged probe confirms the larger size.
    if (pmtud_.on_probe_acked(p.pn)) set_packet_size(pmtud_.plpmtu());
    return;
  }
}

void Connection::pmtud_check_black_hole() {
  if (!pmtud_started_ || max_packet_size_ <= base_packet_size()) return;
  if (recovery_.pto_count() < kBlackHolePtos) return;
  // RFC 8899 §4.3: full-size packets keep vanishing: back to the base size
  // (the PTO probes then go out small) and search again.
  log::debug("quic: PMTU black hole suspected at {} bytes", max_packet_size_);
  pmtud_.on_black_hole();
  set_packet_size(pmtud_.plpmtu());
}

}  // namespace wt::quic
