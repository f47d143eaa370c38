// Settings of one QUIC connection: what we announce and how we behave.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

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

  uint32_t version = 0x00000001;
  size_t cid_length = 8;  // our connection IDs

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

  // Behaviour.
  CongestionControl congestion_control = CongestionControl::cubic;
  bool pacing = true;
  Duration initial_rtt = std::chrono::milliseconds(333);
  Duration keep_alive = Duration::zero();  // PING this often when idle; 0 = off
  uint32_t ack_eliciting_threshold = 2;    // RFC 9000 §13.2.2
  size_t max_send_packet_size = 1200;      // until PMTU discovery says more
  size_t max_packets_per_send = 64;        // GSO batch limit

  // Testing and benchmarks only: protect 1-RTT packets with the null cipher
  // (no confidentiality, no integrity) so protocol cost can be measured apart
  // from crypto and crafted packets can be injected. Both peers must agree.
  bool null_cipher = false;

  // qlog events of this connection go here (quic/qlog.h); null: none.
  std::shared_ptr<QlogSink> qlog;
};

}  // namespace wt::quic
