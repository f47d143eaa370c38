// Settings of one QUIC connection: what we announce and how we behave.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/address.h"
#include "lib/clock.h"
#include "lib/qlog_sink.h"

namespace wt {
class Random;
}

namespace wt::quic {

class TlsConfig;

enum class CongestionControl : uint8_t { new_reno, cubic };

struct ConnectionConfig {
  std::shared_ptr<TlsConfig> tls;  // required: certificates, ALPN, verification
  std::string server_name;         // client: SNI and name to verify
  Random* rng = nullptr;           // required: CIDs, tokens, GREASE

  // Client: the version of the first Initial (may be a reserved version, to
  // exercise Version Negotiation). Server: ignored (see `versions`).
  uint32_t version = 0x00000001;
  size_t cid_length = 8;  // our connection IDs

  // --- Versions, address validation, resumption (conn_version.cc,
  // conn_retry.cc, conn_early_data.cc).
  // Versions we speak, most preferred first (RFC 9368). Client: offered in
  // version_information as compatible with `version` (a server preferring
  // one of them switches to it), and the choices after a Version
  // Negotiation packet; empty means {version}. Server: the versions it
  // accepts, in the order it prefers them when a client offers several;
  // empty means {v1, v2}.
  std::vector<uint32_t> versions;
  // Client: an address validation token from a NEW_TOKEN frame of an earlier
  // connection to the same server (Connection::take_new_token), sent in the
  // Initial so the server can skip Retry (RFC 9000 §8.1.3). Valid only for
  // the QUIC version of the connection that received it (RFC 9369 §5).
  std::vector<uint8_t> token;
  // Client: a session from Connection::take_session_ticket() of an earlier
  // connection to resume (TLS ticket plus the server's remembered transport
  // parameters); empty: a full handshake. Sessions belong to one QUIC
  // version (RFC 9369 §5): the client starts in the session's version if it
  // is `version` or in `versions`, and makes a full handshake otherwise.
  std::vector<uint8_t> resume_session;
  // 0-RTT (RFC 9001 §4.6). Client: send early data when resuming a session
  // that allows it. Server: accept early data; otherwise it is rejected and
  // tickets do not offer it. Both also need TlsConfigOptions::early_data.
  bool early_data = false;

  // Transport parameters we announce (RFC 9000 §18.2).
  Duration idle_timeout = std::chrono::seconds(30);
  uint64_t initial_max_data = 16u << 20;
  uint64_t initial_max_stream_data = 4u << 20;  // bidi local/remote and uni
  uint64_t max_streams_bidi = 100;
  uint64_t max_streams_uni = 100;
  uint64_t active_connection_id_limit = 4;
  uint64_t max_udp_payload_size = 1472;  // what we accept
  uint64_t max_datagram_frame_size = 0;  // 0: DATAGRAM frames not offered
  Duration max_ack_delay = std::chrono::milliseconds(25);
  uint64_t ack_delay_exponent = 3;
  bool disable_active_migration = false;

  // Receive-window auto-tuning caps (RFC 9000 §4.2 leaves the policy to us).
  uint64_t max_connection_window = 64u << 20;
  uint64_t max_stream_window = 16u << 20;
  // Bytes a stream buffers for sending before it stops accepting writes.
  uint64_t stream_send_buffer = 4u << 20;
  // ... of which at most this many not yet sent (like TCP_NOTSENT_LOWAT):
  // a short backlog is still in the CPU cache when it is packetized.
  // stream_writable comes when half of it has gone out.
  uint64_t stream_send_unsent = 512u << 10;

  // Behaviour.
  CongestionControl congestion_control = CongestionControl::cubic;
  bool pacing = true;
  Duration initial_rtt = std::chrono::milliseconds(333);
  Duration keep_alive = Duration::zero();  // PING this often when idle; 0 = off
  uint32_t ack_eliciting_threshold = 2;    // RFC 9000 §13.2.2
  // A bulk receiver sends ACKs about this often per smoothed RTT instead of
  // after every `ack_eliciting_threshold` packets (quic/ack_frequency.cc);
  // 0: the plain threshold.
  uint32_t acks_per_rtt = 8;
  size_t max_send_packet_size = 1200;      // until PMTU discovery says more
  size_t max_packets_per_send = 64;        // GSO batch limit

  // --- Key update, paths, ECN, PMTU, stateless reset (conn_key_update.cc,
  // conn_paths.cc, conn_ecn.cc, conn_pmtud.cc).
  // RFC 9001 §6: update the 1-RTT keys after this many packets sent with
  // one key (0 = only when asked, or before the AEAD confidentiality limit).
  uint64_t key_update_interval_packets = 0;
  // RFC 9000 §13.4: mark packets ECT(0) and validate the path's ECN.
  bool ecn = true;
  // RFC 8899 / RFC 9000 §14.3: probe for packets larger than
  // max_send_packet_size, up to this IP MTU (minus IP and UDP headers) and
  // the peer's max_udp_payload_size.
  bool pmtud = true;
  size_t max_mtu = 1500;
  // Server: announce this address in preferred_address (RFC 9000 §9.6)
  // with a fresh CID; the endpoint routes it like any other of our CIDs.
  std::optional<Address> preferred_address;
  // Client: migrate to a server's preferred address once confirmed.
  bool use_preferred_address = true;
  // RFC 9000 §10.3.2: static key for stateless reset tokens (Endpoint sets
  // its own here); unset: random per connection.
  std::optional<std::array<uint8_t, 32>> reset_key;

  // Testing and benchmarks only: protect 1-RTT packets with the null cipher
  // (no confidentiality, no integrity) so protocol cost can be measured apart
  // from crypto and crafted packets can be injected. Both peers must agree.
  bool null_cipher = false;

  // qlog events of this connection go here (quic/qlog.h); null: none.
  std::shared_ptr<QlogSink> qlog;
};

}  // namespace wt::quic
