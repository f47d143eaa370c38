// TLS integration: CRYPTO data, keys per encryption level, transport
// parameters, handshake completion and key discarding (RFC 9001 §4).
#include <algorithm>

#include <fmt/format.h>

#include "lib/log.h"
#include "quic/connection.h"
#include "quic/key_schedule.h"

namespace wt::quic {

EncryptionLevel Connection::level_of(PnSpace s) {
  switch (s) {
    case PnSpace::initial: return EncryptionLevel::initial;
    case PnSpace::handshake: return EncryptionLevel::handshake;
    default: return EncryptionLevel::application;
  }
}

static std::optional<PnSpace> space_of(EncryptionLevel l) {
  switch (l) {
    case EncryptionLevel::initial: return PnSpace::initial;
    case EncryptionLevel::handshake: return PnSpace::handshake;
    case EncryptionLevel::application: return PnSpace::application;
    default: return std::nullopt;  // 0-RTT keys are not used yet
  }
}

Status Connection::drive_tls(Time now) {
  WT_ASSIGN(TlsProgress progress, tls_->do_handshake());
  TlsSecret secret;
  while (tls_->poll_secret(secret)) WT_TRY(install_secret(secret, now));
  // Outgoing handshake bytes become CRYPTO stream data of their level.
  for (EncryptionLevel l : {EncryptionLevel::initial, EncryptionLevel::handshake,
                            EncryptionLevel::application}) {
    Bytes b = tls_->pending_crypto(l);
    if (b.empty()) continue;
    auto sp = space_of(l);
    Space& s = spaces_[static_cast<int>(*sp)];
    if (!s.discarded) WT_TRY(s.crypto_send->write(b));
    tls_->consume_crypto(l, b.size());
  }
  if (!peer_tp_applied_ && !tls_->peer_transport_params().empty()) WT_TRY(apply_peer_params(now));
  WT_TRY(check_early_data(now));  // 0-RTT accepted or rejected (conn_early_data.cc)
  if (progress == TlsProgress::complete && !handshake_complete_) WT_TRY(on_handshake_complete(now));
  return {};
}

Status Connection::install_secret(const TlsSecret& s, Time now) {
  if (s.level == EncryptionLevel::early_data) return install_early_secret(s);  // conn_early_data.cc
  auto sp = space_of(s.level);
  if (!sp) return {};
  auto suite = cipher_suite_from_tls_id(s.cipher_suite);
  if (!suite) return Error(TransportError::internal_error, "unknown cipher suite");
  WT_ASSIGN(PacketCipher c, make_packet_cipher(*suite, s.secret(), version_));
  if (cfg_.null_cipher && *sp == PnSpace::application) c = PacketCipher::null_cipher();
  Space& space = spaces_[static_cast<int>(*sp)];
  if (qlog_.enabled()) {
    static const char* names[] = {"initial", "0rtt", "handshake", "1rtt"};
    const bool server_key = (s.direction == SecretDirection::write) == (role_ == Role::server);
    qlog_.key_updated(now, fmt::format("{}_{}_secret", server_key ? "server" : "client",
                                       names[static_cast<int>(s.level)]));
  }
  if (s.direction == SecretDirection::read) {
    space.rx.emplace(std::move(c));
  } else {
    space.tx.emplace(std::move(c));
  }
  if (*sp == PnSpace::handshake && space.tx && space.rx) recovery_.set_has_handshake_keys(true, now);
  // Key updates derive from the 1-RTT secrets (conn_key_update.cc).
  if (*sp == PnSpace::application) WT_TRY(keep_app_secret(s, *suite));
  return {};
}

Status Connection::apply_peer_params(Time now) {
  const Role sender = role_ == Role::client ? Role::server : Role::client;
  WT_ASSIGN(peer_tp_, TransportParameters::decode(tls_->peer_transport_params(), sender));
  // RFC 9000 §7.3: authenticate the connection IDs used during the handshake.
  WT_TRY(peer_tp_.authenticate_connection_ids(sender, peer_initial_scid_,
                                              role_ == Role::client ? &original_dcid_ : nullptr,
                                              retry_received_ ? &retry_scid_ : nullptr));
  WT_TRY(validate_version_information());  // RFC 9368 §4 (conn_version.cc)
  peer_tp_applied_ = true;
  if (qlog_.enabled()) {
    qlog_.parameters_set(now, false, fmt::format(
        R"({{"initial_max_data":{},"initial_max_stream_data_bidi_local":{},"initial_max_streams_bidi":{},)"
        R"("max_idle_timeout":{},"max_udp_payload_size":{},"max_datagram_frame_size":{}}})",
        peer_tp_.initial_max_data, peer_tp_.initial_max_stream_data_bidi_local,
        peer_tp_.initial_max_streams_bidi, peer_tp_.max_idle_timeout_ms,
        peer_tp_.max_udp_payload_size, peer_tp_.max_datagram_frame_size));
  }
  // RFC 9000 §10.1: the effective idle timeout is the minimum of both.
  if (peer_tp_.max_idle_timeout_ms) {
    Duration peer_idle = std::chrono::milliseconds(peer_tp_.max_idle_timeout_ms);
    if (idle_timeout_ == Duration::zero() || peer_idle < idle_timeout_) idle_timeout_ = peer_idle;
  }
  reset_idle_timer(now);
  recovery_.set_peer_max_ack_delay(std::chrono::milliseconds(peer_tp_.max_ack_delay_ms));
  // Never send datagrams larger than the peer accepts (RFC 9000 §18.2).
  if (peer_tp_.max_udp_payload_size < max_packet_size_)
    max_packet_size_ = static_cast<size_t>(peer_tp_.max_udp_payload_size);

  PeerStreamLimits lim;
  lim.max_streams_bidi = peer_tp_.initial_max_streams_bidi;
  lim.max_streams_uni = peer_tp_.initial_max_streams_uni;
  lim.max_stream_data_bidi_local = peer_tp_.initial_max_stream_data_bidi_local;
  lim.max_stream_data_bidi_remote = peer_tp_.initial_max_stream_data_bidi_remote;
  lim.max_stream_data_uni = peer_tp_.initial_max_stream_data_uni;
  streams_.set_peer_limits(lim);
  conn_credit_.raise_limit(peer_tp_.initial_max_data);

  if (role_ == Role::client && peer_tp_.stateless_reset_token && !peer_cids_.empty()) {
    peer_cids_[0].token = *peer_tp_.stateless_reset_token;
    peer_cids_[0].has_token = true;
  }
  return on_peer_params_applied(now);  // preferred_address (conn_paths.cc)
}

Status Connection::on_handshake_complete(Time now) {
  handshake_complete_ = true;
  if (!peer_tp_applied_)
    return Error(TransportError::transport_parameter_error, "peer sent no transport parameters");
  state_ = State::established;
  if (role_ == Role::server) {
    // RFC 9001 §4.1.2: the server's handshake is confirmed at completion;
    // it sends HANDSHAKE_DONE (RFC 9000 §19.20).
    pending_.handshake_done = true;
    confirm_handshake(now);
  }
  issue_cids();
  emit(Event{Event::Type::handshake_done});
  return {};
}

void Connection::confirm_handshake(Time now) {
  if (handshake_confirmed_) return;
  handshake_confirmed_ = true;
  recovery_.set_handshake_confirmed(now);
  if (role_ == Role::client && !address_validated_) {
    address_validated_ = true;
    recovery_.set_peer_address_validated(now);
  }
  // RFC 9001 §4.9.2: Handshake keys are discarded once confirmed.
  discard_space(PnSpace::handshake, now);
}

void Connection::discard_space(PnSpace space, Time now) {
  Space& sp = spaces_[static_cast<int>(space)];
  if (sp.discarded) return;
  sp.discarded = true;
  sp.rx.reset();
  sp.tx.reset();
  sp.probes = 0;
  recovery_.discard_space(space, now);
}

}  // namespace wt::quic
