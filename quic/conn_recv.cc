// Receive path: datagram -> packets -> unprotect -> frames (RFC 9000 §12, §17).
#include <algorithm>
#include <cstring>

#include "lib/log.h"
#include "quic/connection.h"
#include "quic/packet_protection.h"
#include "quic/version.h"

namespace wt::quic {

namespace {
// Inline: CIDs are at most 20 bytes, and a memcmp call per packet costs more.
bool cid_is(const ConnectionId& c, Bytes d) {
  const Bytes a = c.bytes();
  if (a.size() != d.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < d.size(); ++i) diff |= static_cast<uint8_t>(a[i] ^ d[i]);
  return diff == 0;
}
}  // namespace

void Connection::receive(MutBytes datagram, const Path& path, Ecn ecn, Time now) {
  note_activity();  // the endpoint visits us (endpoint_schedule.cc)
  if (state_ == State::closed || state_ == State::draining) return;
  stats_.bytes_received += datagram.size();
  bytes_received_ += datagram.size();
  if (state_ == State::closing) {
    // RFC 9000 §10.2.1: answer incoming packets with CONNECTION_CLOSE, at a
    // limited rate (here: once per received datagram batch via send()).
    close_pending_ = true;
    return;
  }
  // Paths, migration and NAT rebinding (conn_paths.cc).
  if (!on_datagram_path(path, datagram.size())) {
    ++stats_.packets_dropped;
    return;
  }

  // Kept aside: unprotecting in place overwrites a failed packet, and a
  // stateless reset is recognised by the datagram's last 16 bytes.
  std::array<uint8_t, 16> tail{};
  if (datagram.size() >= 21) std::memcpy(tail.data(), datagram.data() + datagram.size() - 16, 16);
  const bool maybe_reset = datagram.size() >= 21 && !(datagram[0] & 0x80);

  // RFC 9000 §14.1: a server discards Initial packets in datagrams smaller
  // than 1200 bytes.
  rx_datagram_small_ = datagram.size() < 1200;

  HeaderParseOptions opts;
  opts.short_dcid_len = cfg_.cid_length;
  DatagramSplitter split(datagram, opts);
  while (!split.done() && state_ != State::closed && state_ != State::draining) {
    auto hdr = split.next();
    if (!hdr.ok()) {
      ++stats_.packets_dropped;
      break;  // the rest of the datagram cannot be delimited (RFC 9000 §12.2)
    }
    receive_packet(split.packet(), *hdr, maybe_reset ? Bytes{tail} : Bytes{}, ecn, now);
    if (state_ == State::closing) break;
  }
}

void Connection::receive_packet(MutBytes packet, const PacketHeader& hdr, Bytes reset_tail, Ecn ecn,
                                Time now) {
  if (hdr.type == PacketType::version_negotiation) {
    on_version_negotiation(hdr, now);  // conn_version.cc
    return;
  }
  if (hdr.type == PacketType::retry) {
    on_retry_packet(packet, hdr, now);  // conn_retry.cc
    return;
  }
  if (role_ == Role::server && hdr.type == PacketType::initial && rx_datagram_small_) {
    ++stats_.packets_dropped;
    return;
  }
  // RFC 9000 §7.2: after the server's first Initial, a client discards
  // packets carrying another Source Connection ID.
  if (role_ == Role::client && hdr.is_long() && have_peer_scid_ &&
      !(ConnectionId(hdr.scid) == peer_initial_scid_)) {
    ++stats_.packets_dropped;
    return;
  }
  const PnSpace space = pn_space_of(hdr.type);
  Space& sp = spaces_[static_cast<int>(space)];
  // Keys for this packet's type and version; none when not yet available,
  // discarded, or of a version we do not take (conn_version.cc).
  PacketCipher* rx = rx_cipher_for(hdr);
  if (!rx) {
    ++stats_.packets_dropped;
    return;
  }
  // RFC 9000 §5.2: packets whose DCID is not one of ours are dropped.
  if (hdr.type == PacketType::one_rtt || role_ == Role::client) {
    bool ours = std::any_of(local_cids_.begin(), local_cids_.end(),
                            [&](const LocalCid& c) { return cid_is(c.cid, hdr.dcid); });
    if (!ours) {
      ++stats_.packets_dropped;
      return;
    }
  }

  // 1-RTT keys follow key updates (conn_key_update.cc).
  auto up = hdr.type == PacketType::one_rtt ? unprotect_one_rtt(packet, hdr.pn_offset, now)
                                            : unprotect_packet(packet, hdr.pn_offset, sp.largest_rx, *rx);
  if (!up.ok()) {
    if (is_connection_error(up.error())) {
      close_with_error(Error(TransportError::protocol_violation, "reserved header bits set"), now);
      return;
    }
    ++stats_.packets_dropped;
    // RFC 9000 §10.3.1: a datagram ending in a stateless reset token.
    if (hdr.type == PacketType::one_rtt && is_stateless_reset(reset_tail)) {
      close_info_ = CloseInfo{};
      close_info_.stateless_reset = true;
      close_info_.by_peer = true;
      close_info_.reason = "stateless reset";
      enter_draining(now);
      finish_close();
    }
    return;
  }
  if (sp.acks.is_duplicate(up->pn)) {
    ++stats_.packets_dropped;
    return;
  }
  // Version switch (RFC 9368 §2.3), 0-RTT bookkeeping (conn_version.cc).
  if (Status vs = on_packet_authenticated(hdr, now); !vs.ok()) {
    close_with_error(vs.error(), now);
    return;
  }
  if (hdr.type == PacketType::initial && role_ == Role::client && !have_peer_scid_) {
    // RFC 9000 §7.2: the client switches to the server's chosen CID.
    dcid_ = ConnectionId(hdr.scid);
    peer_initial_scid_ = dcid_;
    have_peer_scid_ = true;
    peer_cids_.push_back({0, dcid_, {}, false});
  }

  if (qlog_.enabled()) qlog_.packet_received(now, hdr.type, up->pn, packet.size(), up->payload);
  if (hdr.type == PacketType::one_rtt) on_packet_path(hdr.dcid);  // conn_paths.cc
  bool ack_eliciting = false;
  Status st = process_frames(space, hdr.type, up->payload, now, ack_eliciting);
  if (!st.ok()) {
    close_with_error(st.error(), now);
    return;
  }
  // RFC 9000 §9.3: did the peer move? (conn_paths.cc)
  if (hdr.type == PacketType::one_rtt)
    after_packet_path(up->pn, sp.largest_rx == kNoPacketNumber || up->pn > sp.largest_rx, now);
  ++stats_.packets_received;
  sp.largest_rx = sp.largest_rx == kNoPacketNumber ? up->pn : std::max(sp.largest_rx, up->pn);
  sp.acks.on_packet_received(up->pn, ack_eliciting, ecn, now);
  reset_idle_timer(now);
  ack_eliciting_sent_since_rx_ = false;

  // RFC 9001 §4.9.1: a server drops Initial keys once it receives a
  // Handshake packet; receiving one also validates the client's address
  // (RFC 9000 §8.1).
  if (role_ == Role::server && space == PnSpace::handshake) {
    if (!address_validated_) {
      address_validated_ = true;
      recovery_.set_peer_address_validated(now);
    }
    discard_space(PnSpace::initial, now);
  }
}

Status Connection::process_frames(PnSpace space, PacketType type, MutBytes payload, Time now,
                                  bool& ack_eliciting) {
  // RFC 9000 §12.4: a packet with no frames is a PROTOCOL_VIOLATION.
  if (payload.empty()) return Error(TransportError::protocol_violation, "packet without frames");
  Reader r{Bytes{payload}};
  while (!r.empty()) {
    // The bulk of the traffic, STREAM and ACK frames, skips the Frame variant.
    const uint8_t b = *r.pos();
    if (is_stream_frame_type(b) && frame_allowed_in(b, type)) {
      StreamFrame sf;
      WT_TRY(decode_stream_frame(r, sf));
      ack_eliciting = true;
      rx_non_probing_ = true;  // RFC 9000 §9.1
      WT_TRY(on_stream(sf));
      continue;
    }
    if (is_ack_frame_type(b) && frame_allowed_in(b, type)) {
      AckFrame af;
      WT_TRY(decode_ack_frame(r, af));
      rx_non_probing_ = true;
      WT_TRY(on_ack(space, af, now));
      if (state_ == State::draining || state_ == State::closed) break;
      continue;
    }
    WT_ASSIGN(Frame f, decode_frame(r));
    const uint64_t ft = frame_type_of(f);
    if (!frame_allowed_in(ft, type))
      return Error(TransportError::protocol_violation, "frame not allowed in this packet type", ft);
    if (is_ack_eliciting(ft)) ack_eliciting = true;
    if (!is_probing_frame(ft)) rx_non_probing_ = true;  // RFC 9000 §9.1
    WT_TRY(on_frame(space, f, now));
    if (state_ == State::draining || state_ == State::closed) break;
  }
  return {};
}

bool Connection::is_stateless_reset(Bytes tail) const {
  // RFC 9000 §10.3.1: the last 16 bytes of a datagram of at least 21 bytes
  // that starts with a short header.
  if (tail.size() != 16) return false;
  for (const auto& p : peer_cids_) {
    if (p.has_token && std::equal(tail.begin(), tail.end(), p.token.begin())) return true;
  }
  return false;
}

}  // namespace wt::quic
