// HTTP/3 Datagrams (RFC 9297 §2.1): a QUIC DATAGRAM frame payload is
// Quarter Stream ID (i) followed by the HTTP Datagram Payload, where the
// quarter stream ID is the client-initiated bidirectional request stream's ID
// divided by four.
#pragma once
#include <cstdint>
#include <vector>

#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::h3 {

// RFC 9297 §2.1: stream IDs are below 2^62, so quarter stream IDs below 2^60.
inline constexpr uint64_t kMaxQuarterStreamId = (uint64_t{1} << 60) - 1;

struct HttpDatagram {
  uint64_t stream_id = 0;  // the request stream
  Bytes payload;           // into the decoded input
};

// Bytes the prefix adds for `stream_id`.
size_t http_datagram_overhead(uint64_t stream_id);
// `stream_id` must be a client-initiated bidirectional stream (id % 4 == 0).
void append_http_datagram(std::vector<uint8_t>& out, uint64_t stream_id, Bytes payload);
std::vector<uint8_t> encode_http_datagram(uint64_t stream_id, Bytes payload);
// Errors (H3_DATAGRAM_ERROR, RFC 9297 §2.1): no complete quarter stream ID,
// or one above kMaxQuarterStreamId.
Result<HttpDatagram> decode_http_datagram(Bytes datagram);

}  // namespace wt::h3
