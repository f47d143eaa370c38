// Versions: the client's reaction to Version Negotiation (RFC 9000 §6.2),
// compatible version negotiation on both sides (RFC 9368 §2.3 with QUIC v2,
// RFC 9369 §4), version_information and its downgrade checks (RFC 9368 §3,
// §4), and which keys open a received packet of a given type and version.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "lib/log.h"
#include "quic/client_hello.h"
#include "quic/connection.h"
#include "quic/version.h"

namespace wt::quic {

namespace {
constexpr size_t kMaxClientHello = 64 * 1024;  // beyond this TLS gives up anyway

bool contains(const std::vector<uint32_t>& v, uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

Error vn_error(const char* what) { return Error(TransportError::version_negotiation_error, what); }
}  // namespace

std::vector<uint32_t> Connection::our_versions() const {
  if (!cfg_.versions.empty()) return cfg_.versions;
  if (role_ == Role::server) return {kQuicV1, kQuicV2};
  return {cfg_.version};
}

uint32_t Connection::crypto_version() const {
  // A reserved version is only ever sent to provoke Version Negotiation: its
  // packets use v1's format and keys.
  return is_supported_version(version_) ? version_ : kQuicV1;
}

VersionInformation Connection::local_version_information() const {
  // RFC 9368 §3: the chosen version, and the versions we speak in order of
  // preference (a client's list includes the chosen one). v1 and v2 are
  // compatible with each other (RFC 9369 §4), so every supported version
  // qualifies.
  VersionInformation vi;
  vi.chosen_version = version_;
  for (uint32_t v : our_versions())
    if (is_supported_version(v) && !contains(vi.available_versions, v))
      vi.available_versions.push_back(v);
  // A client's chosen version is always listed (first, if not preferred).
  if ((role_ == Role::client || vi.available_versions.empty()) &&
      !contains(vi.available_versions, version_))
    vi.available_versions.insert(vi.available_versions.begin(), version_);
  return vi;
}

Status Connection::reencode_local_params() {
  std::vector<uint8_t> tp(1024);
  Writer w{MutBytes{tp}};
  WT_TRY(local_tp_.encode(w));
  tp.resize(w.written());
  return tls_->set_local_transport_params(tp);
}

// ---------------------------------------------------------------- client: VN

void Connection::on_version_negotiation(const PacketHeader& hdr, Time now) {
  // RFC 9000 §6.2: only a client that has received nothing else from the
  // server acts on Version Negotiation, and only once per connection.
  if (role_ != Role::client || have_peer_scid_ || retry_received_ || vn_received_ ||
      stats_.packets_received > 0 || state_ != State::handshaking) {
    ++stats_.packets_dropped;
    return;
  }
  // RFC 9000 §17.2.1: the packet echoes our CIDs; a blind attacker cannot.
  if (hdr.dcid.size() != local_scid_.size() || ConnectionId(hdr.dcid) != local_scid_ ||
      hdr.scid.size() != original_dcid_.size() || ConnectionId(hdr.scid) != original_dcid_) {
    ++stats_.packets_dropped;
    return;
  }
  // RFC 9000 §6.2, RFC 9368 §4: a list with our version is not meant for
  // us (or is a downgrade attempt): ignore it.
  std::vector<uint32_t> offered;
  for (size_t i = 0; i < hdr.version_count(); ++i) {
    const uint32_t v = hdr.version_at(i);
    if (v == version_) {
      ++stats_.packets_dropped;
      return;
    }
    offered.push_back(v);
  }
  ++stats_.version_negotiations;
  // RFC 9368 §2.2: our most preferred version that the server also speaks.
  for (uint32_t v : our_versions()) {
    if (!is_supported_version(v) || !contains(offered, v)) continue;
    log::debug("quic: Version Negotiation: retrying with version {:#010x}", v);
    if (Status st = restart_with_version(v, now); !st.ok()) {
      close_info_ = CloseInfo{};
      close_info_.error_code = st.error().code;
      close_info_.reason = st.error().detail;
      finish_close();
    }
    return;
  }
  // No common version: the attempt is over. The server kept no state, so
  // there is nothing to close on the wire.
  std::string list;
  for (uint32_t v : offered) list += fmt::format("{}{:#010x}", list.empty() ? "" : " ", v);
  close_info_ = CloseInfo{};
  close_info_.error_code = static_cast<uint64_t>(TransportError::version_negotiation_error);
  close_info_.reason = fmt::format(
      "no common QUIC version: the server speaks [{}], we offered {:#010x}", list, version_);
  finish_close();
}

Status Connection::restart_with_version(uint32_t version, Time now) {
  // RFC 9368 §2.2: a new connection attempt in `version`; our SCID stays so
  // the endpoint still routes to us, the DCID is new (RFC 9000 §7.2).
  vn_received_ = true;
  vn_chosen_ = version;
  version_ = version;
  original_dcid_ = ConnectionId::random(rng_, 8);
  dcid_ = original_dcid_;
  // Nothing sent so far counts; 0-RTT stream data goes again in 1-RTT, as
  // after a Retry (RFC 9002 §6.3).
  std::vector<SentPacket> dropped;
  recovery_.on_retry(now, dropped);
  zero_rtt_tx_.reset();
  early_data_attempted_ = false;
  for (Space& s : spaces_) {
    s.crypto_send.reset();  // made again when needed (conn_crypto.cc)
    s.crypto_recv.reset();
    s.crypto_send_base = s.crypto_recv_base = 0;
    s.rx.reset();
    s.tx.reset();
    s.probes = 0;
  }
  for (const SentPacket& p : dropped)
    for (const SentFrame& f : p.frames)
      if (f.kind != SentFrame::Kind::crypto) on_frame_lost(PnSpace::application, f);
  recovery_.set_has_handshake_keys(false, now);

  local_tp_ = make_local_params();
  std::vector<uint8_t> tp(1024);
  Writer w{MutBytes{tp}};
  WT_TRY(local_tp_.encode(w));
  tp.resize(w.written());
  TlsSessionOptions opts;
  opts.server_name = cfg_.server_name;
  opts.transport_params = std::move(tp);
  WT_ASSIGN(tls_, TlsSession::create(cfg_.tls, opts));
  WT_TRY(setup_tls_extensions(now));
  WT_ASSIGN(auto initial, make_initial_ciphers(version_, original_dcid_.bytes()));
  spaces_[0].tx.emplace(std::move(initial.client));
  spaces_[0].rx.emplace(std::move(initial.server));
  return drive_tls(now);
}

// ------------------------------------------------- server: compatible VN

Status Connection::collect_client_hello(Bytes crypto) {
  if (client_hello_buf_.size() + crypto.size() > kMaxClientHello) {
    client_hello_done_ = true;  // TLS will reject it; stay on the client's version
    client_hello_buf_ = {};
    return {};
  }
  client_hello_buf_.insert(client_hello_buf_.end(), crypto.begin(), crypto.end());
  const size_t need = tls_handshake_message_size(client_hello_buf_);
  if (need == 0 || client_hello_buf_.size() < need) return {};
  client_hello_done_ = true;
  const std::vector<uint8_t> buf = std::move(client_hello_buf_);
  client_hello_buf_ = {};
  // Malformed input is left to TLS and apply_peer_params() to report.
  auto ch = parse_client_hello(Bytes{buf}.first(need));
  if (!ch || !ch->quic_transport_parameters) return {};
  auto tp = TransportParameters::decode(*ch->quic_transport_parameters, Role::client);
  if (!tp || !tp->version_information) return {};
  const VersionInformation& vi = *tp->version_information;
  // RFC 9368 §4: the client's Chosen Version is the version of its Initial.
  if (vi.chosen_version != original_version_)
    return vn_error("client's chosen version differs from its packets");
  // RFC 9368 §2.3: our most preferred version among those the client says
  // its first flight is compatible with.
  for (uint32_t v : our_versions()) {
    if (!is_supported_version(v) || !contains(vi.available_versions, v)) continue;
    return v == version_ ? Status{} : switch_server_version(v);
  }
  return {};
}

Status Connection::switch_server_version(uint32_t version) {
  // RFC 9368 §2.3: from our first packet on we speak the negotiated version,
  // with its Initial keys from the same client DCID (RFC 9369 §3.3.1); the
  // client's Initials in the original version stay readable meanwhile.
  WT_ASSIGN(auto keys, make_initial_ciphers(version, original_dcid_.bytes()));
  Space& in = spaces_[0];
  initial_rx_original_ = std::move(in.rx);
  in.rx.emplace(std::move(keys.client));
  in.tx.emplace(std::move(keys.server));
  log::debug("quic: compatible version negotiation: {:#010x} -> {:#010x}", version_, version);
  version_ = version;
  local_tp_.version_information = local_version_information();
  WT_TRY(bind_tickets_to_version());
  return reencode_local_params();
}

// --------------------------------------------- version_information checks

Status Connection::validate_version_information() const {
  const auto& vi = peer_tp_.version_information;
  if (role_ == Role::server) {
    // RFC 9368 §4: the client's Chosen Version is the version it started with.
    if (vi && vi->chosen_version != original_version_)
      return vn_error("client's chosen version differs from its packets");
    return {};
  }
  const bool negotiated = version_ != original_version_ || vn_received_;
  if (!vi) {
    // RFC 9368 §4: after any negotiation the server must confirm it.
    if (negotiated) return vn_error("server sent no version_information");
    return {};
  }
  // RFC 9368 §4: the server's Chosen Version is the version in use.
  if (vi->chosen_version != version_)
    return vn_error("server's chosen version is not the one in use");
  if (vn_received_) {
    // RFC 9368 §4: knowing every version the server speaks, we would have
    // picked the same one after Version Negotiation; otherwise the VN
    // packet was forged to downgrade us.
    for (uint32_t v : our_versions()) {
      if (!is_supported_version(v) || !contains(vi->available_versions, v)) continue;
      if (v != vn_chosen_) return vn_error("version downgrade detected");
      break;
    }
  }
  return {};
}

// ------------------------------------------------------ receive keys

PacketCipher* Connection::rx_cipher_for(const PacketHeader& hdr) {
  Space& sp = spaces_[static_cast<int>(pn_space_of(hdr.type))];
  if (sp.discarded) return nullptr;
  // RFC 9000 §17.2.2: a server's Initial has no token; a client drops one that does.
  if (role_ == Role::client && hdr.type == PacketType::initial && !hdr.token.empty())
    return nullptr;
  if (hdr.type == PacketType::zero_rtt) {
    // RFC 9001 §4.6.1: only a server that accepted early data reads 0-RTT,
    // always in the client's original version (RFC 9369 §4).
    if (role_ != Role::server || !zero_rtt_rx_ || hdr.version != original_version_) return nullptr;
    return &*zero_rtt_rx_;
  }
  if (!hdr.is_long() || hdr.version == version_) return sp.rx ? &*sp.rx : nullptr;
  if (hdr.type != PacketType::initial) return nullptr;
  if (role_ == Role::server) {
    // RFC 9368 §2.3: the client may still send Initials in the original version.
    if (hdr.version != original_version_ || !initial_rx_original_) return nullptr;
    return &*initial_rx_original_;
  }
  // Client: the server's first Initial in another version we offered
  // (RFC 9368 §2.3): try its Initial keys; on_packet_authenticated() commits.
  if (have_peer_scid_ || !is_supported_version(hdr.version) ||
      !contains(local_tp_.version_information ? local_tp_.version_information->available_versions
                                              : std::vector<uint32_t>{},
                hdr.version))
    return nullptr;
  const ConnectionId& key_cid = retry_received_ ? retry_scid_ : original_dcid_;
  auto keys = make_initial_ciphers(hdr.version, key_cid.bytes());
  if (!keys) return nullptr;
  pending_initial_.emplace(std::move(*keys));
  return &pending_initial_->server;
}

Status Connection::on_packet_authenticated(const PacketHeader& hdr, Time now) {
  (void)now;
  if (hdr.type == PacketType::zero_rtt) {
    ++stats_.zero_rtt_packets_received;
    return {};
  }
  if (role_ == Role::server) {
    // RFC 9001 §4.9.3: once the client sends 1-RTT its 0-RTT is over.
    if (hdr.type == PacketType::one_rtt && zero_rtt_rx_) zero_rtt_rx_.reset();
    return {};
  }
  if (!hdr.is_long() || hdr.version == version_ || !pending_initial_) return {};
  // Client: the server switched to a version we offered; so do we, before
  // TLS hands out Handshake secrets to derive with its labels.
  log::debug("quic: server chose version {:#010x} (we started with {:#010x})", hdr.version,
             version_);
  version_ = hdr.version;
  spaces_[0].rx.emplace(std::move(pending_initial_->server));
  spaces_[0].tx.emplace(std::move(pending_initial_->client));
  pending_initial_.reset();
  // 0-RTT keys were derived with the old version's labels; what was sent
  // with them is recovered as lost and resent in 1-RTT.
  zero_rtt_tx_.reset();
  return {};
}

}  // namespace wt::quic
