// Retry and address validation tokens on the connection: the client acting
// on a Retry packet (RFC 9000 §17.2.5.2, RFC 9002 §6.3), the server taking
// what its endpoint learnt from a token (RFC 9000 §8.1, §7.3), and NEW_TOKEN
// frames in both directions (RFC 9000 §8.1.3, §19.7).
#include "lib/log.h"
#include "quic/connection.h"
#include "quic/retry.h"

namespace wt::quic {

namespace {
constexpr size_t kMaxStoredTokens = 4;
}

void Connection::apply_initial_info(const InitialInfo& initial) {
  retry_original_dcid_ = initial.retry_original_dcid;
  token_validated_ = initial.address_validated;
}

void Connection::on_retry_packet(MutBytes packet, const PacketHeader& hdr, Time now) {
  // RFC 9000 §17.2.5.2: a client acts on at most one Retry, and on none
  // once it has processed an Initial (or Retry) from the server.
  if (role_ != Role::client || retry_received_ || have_peer_scid_ || hdr.version != version_ ||
      state_ != State::handshaking) {
    ++stats_.packets_dropped;
    return;
  }
  if (hdr.dcid.size() != local_scid_.size() || ConnectionId(hdr.dcid) != local_scid_) {
    ++stats_.packets_dropped;
    return;
  }
  // RFC 9000 §17.2.5.2: an empty token, or a tag that does not verify over
  // the DCID we first sent to (RFC 9001 §5.8), and the Retry is discarded.
  if (hdr.token.empty() || !verify_retry_integrity_tag(version_, original_dcid_.bytes(), packet)) {
    ++stats_.packets_dropped;
    return;
  }
  const ConnectionId scid(hdr.scid);
  auto keys = make_initial_ciphers(crypto_version(), scid.bytes());
  if (!keys) {
    ++stats_.packets_dropped;
    return;
  }
  retry_received_ = true;
  ++stats_.retries;
  // RFC 9000 §17.2.5.2: the Retry's SCID becomes our DCID (and changes the
  // Initial keys, RFC 9001 §5.2); the token goes in every later Initial.
  retry_scid_ = scid;
  dcid_ = scid;
  initial_token_.assign(hdr.token.begin(), hdr.token.end());
  spaces_[0].tx.emplace(std::move(keys->client));
  spaces_[0].rx.emplace(std::move(keys->server));
  log::debug("quic: Retry received, new DCID {}", scid.hex());
  // RFC 9002 §6.3: the Retry acknowledges nothing; loss recovery and
  // congestion control start over and everything sent goes again (packet
  // numbers keep increasing, RFC 9000 §17.2.5.3). The same ClientHello is
  // resent (RFC 9000 §17.2.5.3), and 0-RTT data too.
  std::vector<SentPacket> unacked;
  recovery_.on_retry(now, unacked);
  for (const SentPacket& p : unacked) {
    for (const SentFrame& f : p.frames) {
      if (f.kind == SentFrame::Kind::crypto)
        crypto_on_lost(PnSpace::initial, f);
      else
        on_frame_lost(PnSpace::application, f);
    }
  }
}

Status Connection::on_new_token(const NewTokenFrame& f) {
  // RFC 9000 §19.7: an empty token is a FRAME_ENCODING_ERROR.
  if (f.token.empty())
    return Error(TransportError::frame_encoding_error, "empty NEW_TOKEN", frame_type::new_token);
  // A client may keep several; the newest are the most useful.
  if (new_tokens_.size() >= kMaxStoredTokens) new_tokens_.pop_front();
  new_tokens_.emplace_back(f.token.begin(), f.token.end());
  return {};
}

std::optional<std::vector<uint8_t>> Connection::take_new_token() {
  if (new_tokens_.empty()) return std::nullopt;
  std::vector<uint8_t> t = std::move(new_tokens_.back());
  new_tokens_.clear();  // older ones are superseded
  return t;
}

bool Connection::wants_new_token() const {
  return role_ == Role::server && handshake_complete_ && !new_token_queued_ &&
         state_ == State::established;
}

void Connection::queue_new_token(Bytes token) {
  note_activity();
  // RFC 9000 §8.1.3: sent once the handshake is complete, in 1-RTT.
  new_token_out_.assign(token.begin(), token.end());
  new_token_pending_ = true;
  new_token_queued_ = true;
}

}  // namespace wt::quic
