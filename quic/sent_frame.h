// What a sent packet carried, compactly, so recovery can tell the connection
// what to retransmit (RFC 9000 §13.3: retransmit information, not packets).
#pragma once
#include <cstdint>
#include "lib/small_vector.h"

namespace wt::quic {

struct SentFrame {
  enum class Kind : uint8_t {
    stream,                // id=stream id, offset, length, fin
    crypto,                // offset, length (level from the packet's space)
    reset_stream,          // id
    stop_sending,          // id
    max_data,              // value in offset
    max_stream_data,       // id, value in offset
    max_streams_bidi,      // value in offset
    max_streams_uni,       // value in offset
    data_blocked,          // value in offset
    stream_data_blocked,   // id, value in offset
    streams_blocked_bidi,  // value in offset
    streams_blocked_uni,   // value in offset
    new_connection_id,     // id = sequence number
    retire_connection_id,  // id = sequence number
    handshake_done,
    new_token,
    ping,
    ack,                   // offset = largest acknowledged in the ACK frame
    path_challenge,
    path_response,
    datagram,              // never retransmitted (RFC 9221 §5.2)
    padding,
  };
  Kind kind;
  bool fin = false;
  uint64_t id = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Most packets carry one to three retransmittable frames: no allocation.
using SentFrames = SmallVector<SentFrame, 4>;

}  // namespace wt::quic
