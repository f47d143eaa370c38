// Frame decoding (RFC 9000 §19, RFC 9221 §4). Encoding is in frame_encode.cc.
#include <bit>
#include <cstring>

#include "quic/frame.h"

namespace wt::quic {
namespace {

namespace ft = frame_type;

// A raw cursor: the decoder checks bounds itself and updates the Reader once.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;

  size_t left() const { return static_cast<size_t>(end - p); }

  // RFC 9000 §16. Unrolled by length; false on truncation.
  bool varint(uint64_t& v) {
    if (p == end) return false;
    uint8_t b = *p;
    switch (b >> 6) {
      case 0:
        v = b;
        p += 1;
        return true;
      case 1:
        if (left() < 2) return false;
        v = (uint64_t{b & 0x3fu} << 8) | p[1];
        p += 2;
        return true;
      case 2: {
        if (left() < 4) return false;
        uint32_t x;
        std::memcpy(&x, p, 4);
        if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap32(x);
        v = x & 0x3fffffffu;
        p += 4;
        return true;
      }
      default: {
        if (left() < 8) return false;
        uint64_t x;
        std::memcpy(&x, p, 8);
        if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
        v = x & kVarintMax;
        p += 8;
        return true;
      }
    }
  }
  bool bytes(uint64_t n, Bytes& out) {
    if (n > left()) return false;
    out = Bytes{p, static_cast<size_t>(n)};
    p += n;
    return true;
  }
};

Error malformed(uint64_t type, const char* detail) {
  return Error(TransportError::frame_encoding_error, detail, type);
}
Error truncated(uint64_t type) { return malformed(type, "truncated frame"); }

// The parsers of the receive fast path fill a caller's struct and return
// nullptr or what is malformed (FRAME_ENCODING_ERROR of this type): a
// struct or Status returned by value makes g++ copy it through the stack
// with store-forwarding stalls.
using ParseError = const char*;
constexpr ParseError kTruncated = "truncated frame";

// RFC 9000 §19.3
ParseError parse_ack(Cursor& c, uint64_t type, AckFrame& f) {
  f = AckFrame{};
  f.has_ecn = type == ft::ack_ecn;
  if (!c.varint(f.largest_acknowledged) || !c.varint(f.ack_delay) || !c.varint(f.range_count) ||
      !c.varint(f.first_ack_range)) {
    return kTruncated;
  }
  // RFC 9000 §19.3.1: a range reaching below packet number 0 is an error.
  if (f.first_ack_range > f.largest_acknowledged) return "ACK range below 0";
  // Each (gap, length) pair takes at least 2 bytes: bound the loop first.
  if (f.range_count > c.left() / 2) return kTruncated;
  const uint8_t* start = c.p;
  uint64_t smallest = f.largest_acknowledged - f.first_ack_range;
  for (uint64_t i = 0; i < f.range_count; ++i) {
    uint64_t gap, len;
    if (!c.varint(gap) || !c.varint(len)) return kTruncated;
    if (gap + 2 > smallest) return "ACK gap below 0";
    uint64_t largest = smallest - gap - 2;
    if (len > largest) return "ACK range below 0";
    smallest = largest - len;
  }
  f.encoded_ranges = Bytes{start, static_cast<size_t>(c.p - start)};
  if (f.has_ecn && (!c.varint(f.ecn.ect0) || !c.varint(f.ecn.ect1) || !c.varint(f.ecn.ce))) {
    return kTruncated;
  }
  return nullptr;
}

// RFC 9000 §19.8
ParseError parse_stream(Cursor& c, uint64_t type, StreamFrame& f) {
  f.offset = 0;
  f.fin = (type & ft::stream_fin_bit) != 0;
  f.has_length = (type & ft::stream_len_bit) != 0;
  if (!c.varint(f.stream_id)) return kTruncated;
  if ((type & ft::stream_off_bit) && !c.varint(f.offset)) return kTruncated;
  uint64_t len;
  if (f.has_length) {
    if (!c.varint(len)) return kTruncated;
  } else {
    len = c.left();
  }
  if (!c.bytes(len, f.data)) return kTruncated;
  // RFC 9000 §19.8: offset + length cannot exceed 2^62-1.
  if (f.offset + len > kVarintMax) return "STREAM offset+length above 2^62-1";
  return nullptr;
}

template <class T>
Result<Frame> decode_as_frame(Cursor& c, uint64_t type, ParseError (*parse)(Cursor&, uint64_t, T&)) {
  T f;
  if (ParseError e = parse(c, type, f)) return malformed(type, e);
  return Frame{f};
}

// RFC 9221 §4
Result<Frame> decode_datagram(Cursor& c, uint64_t type) {
  DatagramFrame f;
  f.has_length = type == ft::datagram_len;
  uint64_t len;
  if (f.has_length) {
    if (!c.varint(len)) return truncated(type);
  } else {
    len = c.left();
  }
  if (!c.bytes(len, f.data)) return truncated(type);
  return Frame{f};
}

// Frames off the data path.
Result<Frame> decode_other(Cursor& c, uint64_t type) {
  switch (type) {
    case ft::reset_stream: {  // RFC 9000 §19.4
      ResetStreamFrame f;
      if (!c.varint(f.stream_id) || !c.varint(f.application_error_code) ||
          !c.varint(f.final_size)) {
        return truncated(type);
      }
      return Frame{f};
    }
    case ft::stop_sending: {  // RFC 9000 §19.5
      StopSendingFrame f;
      if (!c.varint(f.stream_id) || !c.varint(f.application_error_code)) return truncated(type);
      return Frame{f};
    }
    case ft::crypto: {  // RFC 9000 §19.6
      CryptoFrame f;
      uint64_t len;
      if (!c.varint(f.offset) || !c.varint(len) || !c.bytes(len, f.data)) return truncated(type);
      // RFC 9000 §19.6: offset + length cannot exceed 2^62-1.
      if (f.offset + len > kVarintMax) return malformed(type, "CRYPTO offset+length above 2^62-1");
      return Frame{f};
    }
    case ft::new_token: {  // RFC 9000 §19.7
      NewTokenFrame f;
      uint64_t len;
      if (!c.varint(len)) return truncated(type);
      // RFC 9000 §19.7: an empty token is FRAME_ENCODING_ERROR.
      if (len == 0) return malformed(type, "empty NEW_TOKEN");
      if (!c.bytes(len, f.token)) return truncated(type);
      return Frame{f};
    }
    case ft::max_data: {  // RFC 9000 §19.9
      MaxDataFrame f;
      if (!c.varint(f.maximum_data)) return truncated(type);
      return Frame{f};
    }
    case ft::max_stream_data: {  // RFC 9000 §19.10
      MaxStreamDataFrame f;
      if (!c.varint(f.stream_id) || !c.varint(f.maximum_stream_data)) return truncated(type);
      return Frame{f};
    }
    case ft::max_streams_bidi:
    case ft::max_streams_uni: {  // RFC 9000 §19.11
      MaxStreamsFrame f;
      f.bidirectional = type == ft::max_streams_bidi;
      if (!c.varint(f.maximum_streams)) return truncated(type);
      if (f.maximum_streams > kMaxStreamCount) return malformed(type, "MAX_STREAMS above 2^60");
      return Frame{f};
    }
    case ft::data_blocked: {  // RFC 9000 §19.12
      DataBlockedFrame f;
      if (!c.varint(f.maximum_data)) return truncated(type);
      return Frame{f};
    }
    case ft::stream_data_blocked: {  // RFC 9000 §19.13
      StreamDataBlockedFrame f;
      if (!c.varint(f.stream_id) || !c.varint(f.maximum_stream_data)) return truncated(type);
      return Frame{f};
    }
    case ft::streams_blocked_bidi:
    case ft::streams_blocked_uni: {  // RFC 9000 §19.14
      StreamsBlockedFrame f;
      f.bidirectional = type == ft::streams_blocked_bidi;
      if (!c.varint(f.maximum_streams)) return truncated(type);
      if (f.maximum_streams > kMaxStreamCount) {
        return malformed(type, "STREAMS_BLOCKED above 2^60");
      }
      return Frame{f};
    }
    case ft::new_connection_id: {  // RFC 9000 §19.15
      NewConnectionIdFrame f;
      if (!c.varint(f.sequence_number) || !c.varint(f.retire_prior_to) || c.left() < 1) {
        return truncated(type);
      }
      size_t len = *c.p++;
      // RFC 9000 §19.15: lengths outside 1..20 are FRAME_ENCODING_ERROR.
      if (len < 1 || len > kMaxCidLength) return malformed(type, "bad connection ID length");
      Bytes cid, token;
      if (!c.bytes(len, cid) || !c.bytes(f.stateless_reset_token.size(), token)) {
        return truncated(type);
      }
      // RFC 9000 §19.15: Retire Prior To > Sequence Number is an error.
      if (f.retire_prior_to > f.sequence_number) {
        return malformed(type, "Retire Prior To above Sequence Number");
      }
      f.connection_id = ConnectionId(cid);
      std::memcpy(f.stateless_reset_token.data(), token.data(), token.size());
      return Frame{f};
    }
    case ft::retire_connection_id: {  // RFC 9000 §19.16
      RetireConnectionIdFrame f;
      if (!c.varint(f.sequence_number)) return truncated(type);
      return Frame{f};
    }
    case ft::path_challenge:
    case ft::path_response: {  // RFC 9000 §19.17, §19.18
      Bytes d;
      if (!c.bytes(8, d)) return truncated(type);
      std::array<uint8_t, 8> data;
      std::memcpy(data.data(), d.data(), 8);
      if (type == ft::path_challenge) return Frame{PathChallengeFrame{data}};
      return Frame{PathResponseFrame{data}};
    }
    case ft::connection_close:
    case ft::connection_close_app: {  // RFC 9000 §19.19
      ConnectionCloseFrame f;
      f.application = type == ft::connection_close_app;
      uint64_t len;
      if (!c.varint(f.error_code) || (!f.application && !c.varint(f.frame_type)) ||
          !c.varint(len) || !c.bytes(len, f.reason)) {
        return truncated(type);
      }
      return Frame{f};
    }
    case ft::handshake_done:  // RFC 9000 §19.20
      return Frame{HandshakeDoneFrame{}};
    default:
      // RFC 9000 §12.4: unknown frame types are FRAME_ENCODING_ERROR.
      return malformed(type, "unknown frame type");
  }
}

}  // namespace

size_t padding_run_length(Bytes b) {
  const uint8_t* p = b.data();
  const uint8_t* end = p + b.size();
  if constexpr (std::endian::native == std::endian::little) {
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w != 0) return static_cast<size_t>(p - b.data()) + (std::countr_zero(w) >> 3);
      p += 8;
    }
  }
  while (p < end && *p == 0) ++p;
  return static_cast<size_t>(p - b.data());
}

namespace {

Result<Frame> decode_at(Cursor& c) {
  uint64_t type = *c.p;
  if (type < 0x40) [[likely]] {
    ++c.p;
    if ((type & ~uint64_t{7}) == ft::stream) return decode_as_frame(c, type, parse_stream);
    if (type == ft::ack || type == ft::ack_ecn) return decode_as_frame(c, type, parse_ack);
    if (type == ft::padding) {
      // RFC 9000 §19.1: coalesce the run into one frame.
      size_t n = padding_run_length(Bytes{c.p, c.left()});
      c.p += n;
      return Frame{PaddingFrame{n + 1}};
    }
    if (type == ft::ping) return Frame{PingFrame{}};  // RFC 9000 §19.2
    if (type == ft::datagram || type == ft::datagram_len) return decode_datagram(c, type);
    return decode_other(c, type);
  }
  // Every frame type we know fits one byte, so a longer type is either a
  // non-minimal encoding or unknown.
  const uint8_t* start = c.p;
  if (!c.varint(type)) return truncated(0);
  if (varint_size(type) < static_cast<size_t>(c.p - start)) {
    // RFC 9000 §12.4: MAY treat as PROTOCOL_VIOLATION.
    return Error(TransportError::protocol_violation, "frame type not minimally encoded", type);
  }
  return malformed(type, "unknown frame type");
}

}  // namespace

Result<Frame> decode_frame(Reader& r) {
  if (!r.ok() || r.empty()) {
    r.fail();
    return truncated(0);
  }
  Cursor c{r.pos(), r.pos() + r.remaining()};
  Result<Frame> res = decode_at(c);
  if (res.ok()) {
    r.skip(static_cast<size_t>(c.p - r.pos()));
  } else {
    r.fail();
  }
  return res;
}

namespace {
// The receive fast path: one frame type known from its first byte.
template <class T>
Status decode_typed(Reader& r, bool type_ok, ParseError (*parse)(Cursor&, uint64_t, T&), T& out) {
  if (!r.ok() || r.empty() || !type_ok) {
    const uint64_t t = r.ok() && !r.empty() ? *r.pos() : 0;
    r.fail();
    return malformed(t, "unexpected frame type");
  }
  const uint64_t type = *r.pos();
  Cursor c{r.pos() + 1, r.pos() + r.remaining()};
  if (ParseError e = parse(c, type, out)) {
    r.fail();
    return malformed(type, e);
  }
  r.skip(static_cast<size_t>(c.p - r.pos()));
  return {};
}
}  // namespace

Status decode_stream_frame(Reader& r, StreamFrame& out) {
  return decode_typed(r, !r.empty() && is_stream_frame_type(*r.pos()), parse_stream, out);
}

Status decode_ack_frame(Reader& r, AckFrame& out) {
  return decode_typed(r, !r.empty() && is_ack_frame_type(*r.pos()), parse_ack, out);
}

bool AckFrame::operator==(const AckFrame& o) const {
  if (largest_acknowledged != o.largest_acknowledged || ack_delay != o.ack_delay ||
      first_ack_range != o.first_ack_range || range_count != o.range_count ||
      has_ecn != o.has_ecn || (has_ecn && ecn != o.ecn)) {
    return false;
  }
  AckRangeIterator a = begin(), b = o.begin();
  for (; a != end() && b != o.end(); ++a, ++b) {
    if (*a != *b) return false;
  }
  return a == end() && b == o.end();
}

}  // namespace wt::quic
