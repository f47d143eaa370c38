// Session resumption and 0-RTT (RFC 9001 §4.5, §4.6; RFC 9000 §7.4.1):
// per-connection TLS setup (tickets to resume, early data on or off, the
// server's 0-RTT context), 0-RTT keys, the remembered transport parameters
// the client obeys meanwhile, and what happens when the server accepts or
// rejects the early data. Also the server's side of a validated token.
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>

#include "lib/log.h"
#include "quic/connection.h"
#include "quic/packet_cipher.h"
#include "quic/session_state.h"
#include "quic/tls_config.h"
#include "quic/version.h"

namespace wt::quic {

namespace {

// RFC 9001 §4.6.1: what the server's 0-RTT acceptance depends on. A ticket
// carries this context; early data is accepted only when it is unchanged,
// so clients never rely on limits we no longer grant.
std::vector<uint8_t> early_data_context(const TransportParameters& local) {
  static constexpr uint8_t kLabel[] = {'w', 't', '0', 'r', 't', 't', '1'};
  std::vector<uint8_t> out(256);
  Writer w{MutBytes{out}};
  w.bytes(kLabel);
  if (!remembered_params(local).encode(w).ok()) return {};
  out.resize(w.written());
  return out;
}

}  // namespace

Status Connection::bind_tickets_to_version() {
  // RFC 9369 §5: session tickets are specific to the QUIC version of the
  // connection that issued them (the negotiated one). The TLS session ID
  // context, which BoringSSL stores in tickets and checks on resumption,
  // gets the version appended, so a ticket from another version gives a
  // full handshake without 0-RTT.
  SSL* ssl = tls_->native_handle();
  size_t len = 0;
  const uint8_t* cur = SSL_get0_session_id_context(ssl, &len);
  uint8_t ctx[SSL_MAX_SID_CTX_LENGTH];
  const size_t base = tickets_bound_ ? len - 4 : std::min(len, sizeof ctx - 4);
  if (base) std::memcpy(ctx, cur, base);
  Writer w{MutBytes{ctx + base, 4}};
  w.u32(version_);
  if (!SSL_set_session_id_context(ssl, ctx, base + 4))
    return Error(TransportError::internal_error, "cannot set session id context");
  tickets_bound_ = true;
  return {};
}

Status Connection::setup_tls_extensions(Time now) {
  SSL* ssl = tls_->native_handle();
  if (role_ == Role::server) {
    if (!original_version_) original_version_ = version_;
    WT_TRY(bind_tickets_to_version());
    if (retry_original_dcid_) {
      // RFC 9000 §7.3: after a Retry, original_destination_connection_id is
      // the client's first DCID (from our token) and
      // retry_source_connection_id the Retry's SCID, which the client now
      // uses as DCID.
      local_tp_.original_destination_connection_id = *retry_original_dcid_;
      local_tp_.retry_source_connection_id = original_dcid_;
      stats_.retries = 1;
      WT_TRY(reencode_local_params());
    }
    if (token_validated_ && !address_validated_) {
      // RFC 9000 §8.1: a valid token lifts the anti-amplification limit.
      address_validated_ = true;
      recovery_.set_peer_address_validated(now);
    }
    if (cfg_.early_data && cfg_.tls->options().early_data) {
      WT_TRY(tls_->set_early_data_context(early_data_context(local_tp_)));
    } else {
      // Rejects offered early data, and our tickets do not offer it.
      SSL_set_early_data_enabled(ssl, 0);
    }
    return {};
  }
  if (!retry_received_ && initial_token_.empty()) initial_token_ = cfg_.token;
  if (!cfg_.resume_session.empty()) {
    WT_ASSIGN(SessionState state, SessionState::decode(cfg_.resume_session));
    bssl::UniquePtr<SSL_SESSION> session(SSL_SESSION_from_bytes(
        state.tls_session.data(), state.tls_session.size(), SSL_get_SSL_CTX(ssl)));
    if (!session) return Error(TransportError::internal_error, "invalid resume_session");
    // RFC 9369 §5: a session resumes only a connection of its own version.
    // We start in that version if we speak it (RFC 9369 §6: its server
    // meant to keep speaking it), unless Version Negotiation chose another.
    const auto ours = our_versions();
    if (state.version != version_ && !original_version_ && is_supported_version(state.version) &&
        std::find(ours.begin(), ours.end(), state.version) != ours.end()) {
      version_ = state.version;
      local_tp_.version_information = local_version_information();
      WT_TRY(reencode_local_params());
    }
    if (state.version == version_) {
      if (!SSL_set_session(ssl, session.get()))
        return Error(TransportError::internal_error, "cannot set resume_session");
      remembered_tp_ = std::make_unique<TransportParameters>(state.params);
    }
  }
  if (!original_version_) original_version_ = version_;
  // RFC 9001 §4.6.1: 0-RTT only when asked for, and not in a second attempt
  // after Version Negotiation (its first flight already went unanswered).
  if (!cfg_.early_data || vn_received_ || !remembered_tp_) SSL_set_early_data_enabled(ssl, 0);
  return {};
}

Status Connection::install_early_secret(const TlsSecret& s) {
  auto suite = cipher_suite_from_tls_id(s.cipher_suite);
  if (!suite) return Error(TransportError::internal_error, "unknown cipher suite");
  // RFC 9369 §4: 0-RTT packets are always in the client's original version,
  // even when the server negotiates another one.
  const uint32_t v = is_supported_version(original_version_) ? original_version_ : crypto_version();
  WT_ASSIGN(PacketCipher c, make_packet_cipher(*suite, s.secret(), v));
  if (s.direction == SecretDirection::read) {
    if (role_ == Role::server) zero_rtt_rx_.emplace(std::move(c));
    return {};
  }
  if (role_ != Role::client) return {};
  zero_rtt_tx_.emplace(std::move(c));
  early_data_attempted_ = true;
  if (remembered_tp_ && !peer_tp_applied_) {
    // RFC 9000 §7.4.1: until the server's parameters arrive, 0-RTT obeys
    // the ones remembered with the ticket.
    const TransportParameters& r = *remembered_tp_;
    PeerStreamLimits lim;
    lim.max_streams_bidi = r.initial_max_streams_bidi;
    lim.max_streams_uni = r.initial_max_streams_uni;
    lim.max_stream_data_bidi_local = r.initial_max_stream_data_bidi_local;
    lim.max_stream_data_bidi_remote = r.initial_max_stream_data_bidi_remote;
    lim.max_stream_data_uni = r.initial_max_stream_data_uni;
    streams_.set_peer_limits(lim);
    conn_credit_.raise_limit(r.initial_max_data);
  }
  return {};
}

Status Connection::check_early_data(Time now) {
  if (role_ != Role::client || !early_data_attempted_ || early_data_outcome_) return {};
  if (tls_->early_data_rejected()) {
    early_data_outcome_ = true;
    zero_rtt_tx_.reset();
    // RFC 9001 §4.6.2: every 0-RTT packet is lost. Nothing has been sent
    // with 1-RTT keys yet, so the Application space holds only those; their
    // frames are sent again in 1-RTT, without a congestion signal.
    std::vector<SentPacket> lost;
    recovery_.take_unacked(PnSpace::application, now, lost);
    for (const SentPacket& p : lost) {
      for (const SentFrame& f : p.frames) {
        if (f.kind == SentFrame::Kind::stream) stats_.zero_rtt_bytes_resent += f.length;
        on_frame_lost(PnSpace::application, f);
      }
    }
    log::debug("quic: 0-RTT rejected ({}), {} stream bytes to resend", tls_->early_data_reason(),
               stats_.zero_rtt_bytes_resent);
    return {};
  }
  if (!spaces_[static_cast<int>(PnSpace::application)].tx) return {};  // not decided yet
  early_data_outcome_ = true;
  // RFC 9001 §4.9.3: 0-RTT keys go once 1-RTT keys are installed.
  zero_rtt_tx_.reset();
  if (tls_->early_data_accepted() && remembered_tp_ && peer_tp_applied_) {
    // RFC 9000 §7.4.1: a server that accepts 0-RTT must not reduce the
    // limits the early data relied on.
    const TransportParameters& r = *remembered_tp_;
    const TransportParameters& p = peer_tp_;
    if (p.initial_max_data < r.initial_max_data ||
        p.initial_max_stream_data_bidi_local < r.initial_max_stream_data_bidi_local ||
        p.initial_max_stream_data_bidi_remote < r.initial_max_stream_data_bidi_remote ||
        p.initial_max_stream_data_uni < r.initial_max_stream_data_uni ||
        p.initial_max_streams_bidi < r.initial_max_streams_bidi ||
        p.initial_max_streams_uni < r.initial_max_streams_uni ||
        p.active_connection_id_limit < r.active_connection_id_limit ||
        p.max_datagram_frame_size < r.max_datagram_frame_size)
      return Error(TransportError::protocol_violation,
                   "server reduced transport parameters after accepting 0-RTT");
  }
  return {};
}

bool Connection::early_data_accepted() const { return tls_ && tls_->early_data_accepted(); }

std::optional<std::vector<uint8_t>> Connection::take_session_ticket() {
  if (role_ != Role::client || !peer_tp_applied_ || !tls_) return std::nullopt;
  std::vector<uint8_t> ticket;
  if (!tls_->poll_session_ticket(ticket)) return std::nullopt;
  SessionState state;
  state.version = version_;
  state.params = remembered_params(peer_tp_);
  state.tls_session = std::move(ticket);
  return state.encode();
}

}  // namespace wt::quic
