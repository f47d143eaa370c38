// What a connection tells its user (pulled with Connection::poll_event).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace wt::quic {

// How a connection ended (RFC 9000 §10).
struct CloseInfo {
  uint64_t error_code = 0;
  uint64_t frame_type = 0;
  bool application = false;  // CONNECTION_CLOSE 0x1d
  bool by_peer = false;      // the peer sent it (else: we closed / timed out)
  bool idle_timeout = false;
  bool stateless_reset = false;
  std::string reason;
};

struct Event {
  enum class Type : uint8_t {
    handshake_done,     // 1-RTT keys available and handshake complete
    stream_opened,      // the peer opened stream_id
    stream_readable,    // stream_id has data (or FIN) to read
    stream_writable,    // stream_id can accept more data after being blocked
    stream_finished,    // all data we sent on stream_id was acknowledged
    stream_reset,       // the peer reset stream_id with error_code
    stop_sending,       // the peer asked us to stop sending on stream_id
    datagram_received,  // data holds the DATAGRAM payload
    connection_closed,  // close holds the reason; no further events
  };
  Type type;
  uint64_t stream_id = 0;
  uint64_t error_code = 0;
  std::vector<uint8_t> data;
  CloseInfo close;
};

const char* event_type_name(Event::Type t);

}  // namespace wt::quic
