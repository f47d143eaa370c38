// Why an HTTP/3 exchange or connection on sockets ended, in words a person
// can act on: shared by net/h3_client.h and net/h3_server.h.
#pragma once
#include <cstdint>
#include <string>

#include "lib/address.h"
#include "quic/connection_events.h"

namespace wt::net {

struct H3Failure {
  enum class Kind : uint8_t {
    none,       // no failure: the exchange or connection ended normally
    connect,    // no connection: socket, address, or the handshake never got an answer
    tls,        // the TLS handshake failed (certificate, ALPN, alert)
    timeout,    // connect, request or idle timeout
    closed,     // the connection closed before the exchange was complete
    reset,      // the peer reset the stream
    protocol,   // the peer broke HTTP/3 or QUIC (malformed message, frame error)
    rejected,   // not processed by the server (GOAWAY, H3_REQUEST_REJECTED): safe to retry
    cancelled,  // ended locally (cancel(), close(), shutdown)
  };
  Kind kind = Kind::none;
  uint64_t code = 0;  // the wire error code, when there is one
  std::string message;

  bool ok() const { return kind == Kind::none; }
  static H3Failure make(Kind k, std::string msg, uint64_t code = 0) { return {k, code, std::move(msg)}; }
};

const char* failure_kind_name(H3Failure::Kind k);

// "H3_REQUEST_REJECTED (0x10b)", "PROTOCOL_VIOLATION (0xa)",
// "TLS alert 42 bad certificate (0x12a)".
std::string describe_error_code(uint64_t code, bool application);

// How a QUIC connection's close reads for the application. `established`:
// the handshake had completed; `peer`: the remote address, for messages;
// `tls_detail`: our TLS stack's description of a local handshake failure
// (quic::TlsSession::last_error()), if any.
H3Failure failure_from_close(const quic::CloseInfo& info, bool established, const Address& peer,
                             const std::string& tls_detail = {});

}  // namespace wt::net
