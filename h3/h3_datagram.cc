#include "h3/h3_datagram.h"

#include "h3/h3_error.h"
#include "h3/h3_frame.h"

namespace wt::h3 {

size_t http_datagram_overhead(uint64_t stream_id) { return varint_size(stream_id / 4); }

void append_http_datagram(std::vector<uint8_t>& out, uint64_t stream_id, Bytes payload) {
  append_varint(out, stream_id / 4);
  append_bytes(out, payload);
}

std::vector<uint8_t> encode_http_datagram(uint64_t stream_id, Bytes payload) {
  std::vector<uint8_t> out;
  out.reserve(http_datagram_overhead(stream_id) + payload.size());
  append_http_datagram(out, stream_id, payload);
  return out;
}

Result<HttpDatagram> decode_http_datagram(Bytes datagram) {
  Reader r{datagram};
  uint64_t q = 0;
  if (!r.varint(q)) return h3_error(H3Error::datagram_error, "datagram without quarter stream ID");
  if (q > kMaxQuarterStreamId) return h3_error(H3Error::datagram_error, "quarter stream ID too large");
  return HttpDatagram{q * 4, r.rest()};
}

}  // namespace wt::h3
