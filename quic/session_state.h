// What a client keeps from one connection to resume the next (RFC 9001
// §4.5, §4.6): the TLS session (ticket) and the server's transport
// parameters that 0-RTT data must respect (RFC 9000 §7.4.1). Opaque bytes
// for the user: Connection::take_session_ticket() hands them out,
// ConnectionConfig::resume_session takes them back.
//
// Serialized form: "wtSS" | format (1) | QUIC version (4) |
//   varint length + transport parameters (RFC 9000 §18 encoding) |
//   varint length + TLS session (BoringSSL's SSL_SESSION_to_bytes)
#pragma once
#include <cstdint>
#include <vector>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/transport_params.h"

namespace wt::quic {

struct SessionState {
  uint32_t version = 0;              // QUIC version of the issuing connection
  TransportParameters params;        // remembered_params() of the server's
  std::vector<uint8_t> tls_session;  // from TlsSession::poll_session_ticket

  std::vector<uint8_t> encode() const;
  // Errors: internal_error for anything that is not a SessionState.
  static Result<SessionState> decode(Bytes b);
};

// The server parameters a client remembers for 0-RTT (RFC 9000 §7.4.1:
// active_connection_id_limit, initial_max_data, initial_max_stream_data_*,
// initial_max_streams_*; RFC 9221 §3: max_datagram_frame_size); every other
// field keeps its default. Also what a server commits to in its 0-RTT
// context, so that changing any of them rejects old tickets' early data.
TransportParameters remembered_params(const TransportParameters& server);

}  // namespace wt::quic
