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

// ------------------------------------------------------------ CRYPTO streams
//
// A space's CRYPTO stream objects are made when data first needs them and
// freed once they hold nothing (all sent data acknowledged, all received data
// handed to TLS) and when the space is discarded: after the handshake an idle
// connection keeps none. A later object continues at the stream offset where
// the last one ended (crypto_*_base).

SendStream& Connection::crypto_sender(Space& s) {
  // CRYPTO data has no flow control; TLS bounds what it buffers (RFC 9000 §7.5).
  if (!s.crypto_send) s.crypto_send = std::make_unique<SendStream>(UINT64_MAX / 4, UINT64_MAX / 4);
  return *s.crypto_send;
}

void Connection::crypto_on_acked(PnSpace space, const SentFrame& f) {
  Space& sp = spaces_[static_cast<int>(space)];
  if (!sp.crypto_send || f.offset + f.length <= sp.crypto_send_base) return;  // freed: all acked
  const uint64_t skip = sp.crypto_send_base > f.offset ? sp.crypto_send_base - f.offset : 0;
  (void)sp.crypto_send->on_acked(f.offset + skip - sp.crypto_send_base, f.length - skip, false);
  release_crypto_streams(sp);
}

void Connection::crypto_on_lost(PnSpace space, const SentFrame& f) {
  Space& sp = spaces_[static_cast<int>(space)];
  if (sp.discarded || !sp.crypto_send || f.offset + f.length <= sp.crypto_send_base) return;
  const uint64_t skip = sp.crypto_send_base > f.offset ? sp.crypto_send_base - f.offset : 0;
  sp.crypto_send->on_lost(f.offset + skip - sp.crypto_send_base, f.length - skip, false);
}

void Connection::release_crypto_streams(Space& s) {
  if (s.crypto_send && s.crypto_send->buffered() == 0 && !s.crypto_send->wants_to_send()) {
    s.crypto_send_base += s.crypto_send->written();
    s.crypto_send.reset();
  }
  // Everything received was read, and nothing arrived out of order.
  if (s.crypto_recv && s.crypto_recv->readable_bytes() == 0 &&
      s.crypto_recv->range_count() == (s.crypto_recv->read_offset() > 0 ? 1u : 0u)) {
    s.crypto_recv_base += s.crypto_recv->read_offset();
    s.crypto_recv.reset();
  }
}

Status Connection::on_crypto(PnSpace space, const CryptoFrame& f, Time now) {
  Space& sp = spaces_[static_cast<int>(space)];
  // The rest of a packet whose space was discarded while it was processed.
  if (sp.discarded) return {};
  // Bytes below the base were received and handed to TLS already.
  uint64_t offset = f.offset;
  Bytes data = f.data;
  if (offset + data.size() <= sp.crypto_recv_base) return {};
  if (offset < sp.crypto_recv_base) {
    data = data.subspan(static_cast<size_t>(sp.crypto_recv_base - offset));
    offset = sp.crypto_recv_base;
  }
  if (!sp.crypto_recv)
    sp.crypto_recv = std::make_unique<RecvStream>(kCryptoBufferLimit, kCryptoBufferLimit);
  auto r = sp.crypto_recv->on_stream_frame(offset - sp.crypto_recv_base, data, false);
  if (!r.ok()) {
    // RFC 9000 §7.5: more buffered CRYPTO data than we accept.
    return Error(TransportError::crypto_buffer_exceeded, "too much out-of-order CRYPTO data",
                 frame_type::crypto);
  }
  // Hand contiguous bytes to TLS.
  bool fed = false;
  while (true) {
    Bytes b = sp.crypto_recv->peek();
    if (b.empty()) break;
    // Server: read the ClientHello's versions before TLS answers it (conn_version.cc).
    if (space == PnSpace::initial && !client_hello_done_ && role_ == Role::server)
      WT_TRY(collect_client_hello(b));
    WT_TRY(tls_->provide_data(level_of(space), b));
    (void)sp.crypto_recv->consume(b.size());
    fed = true;
  }
  // The CRYPTO receive limit slides with what TLS consumed (RFC 9000 §7.5).
  if (sp.crypto_recv->window_update_pending()) (void)sp.crypto_recv->take_window_update(now, Duration::zero());
  if (fed) WT_TRY(drive_tls(now));
  // 1-RTT CRYPTO data (tickets) is rare: keep no buffers for it in between.
  if (space == PnSpace::application && !sp.discarded) release_crypto_streams(sp);
  return {};
}

// ------------------------------------------------------------ TLS

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
    if (!s.discarded) WT_TRY(crypto_sender(s).write(b));
    tls_->consume_crypto(l, b.size());
  }
  if (!peer_tp_applied_ && !tls_->peer_transport_params().empty()) WT_TRY(apply_peer_params(now));
  WT_TRY(check_early_data(now));  // 0-RTT accepted or rejected (conn_early_data.cc)
  if (progress == TlsProgress::complete && !handshake_complete_) {
    WT_TRY(on_handshake_complete(now));
    // A server needs nothing more from TLS: its tickets are out (conn_memory.cc).
    if (role_ == Role::server) (void)release_tls();
  }
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
  arm_compaction(now);  // conn_memory.cc
}

void Connection::discard_space(PnSpace space, Time now) {
  Space& sp = spaces_[static_cast<int>(space)];
  if (sp.discarded) return;
  sp.discarded = true;
  sp.rx.reset();
  sp.tx.reset();
  sp.probes = 0;
  // Nothing is sent or received in this space any more.
  sp.crypto_send.reset();
  sp.crypto_recv.reset();
  sp.acks = AckTracker();
  if (space == PnSpace::initial) {
    initial_rx_original_.reset();
    pending_initial_.reset();
    std::vector<uint8_t>().swap(initial_token_);  // only Initial packets carry it
  }
  recovery_.discard_space(space, now);
}

}  // namespace wt::quic
