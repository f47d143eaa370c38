// QUIC frames: RFC 9000 §19 and DATAGRAM (RFC 9221 §4).
//
// Decoding never allocates: payload fields are views (Bytes) into the packet
// buffer and stay valid only as long as that buffer. Every frame type has a
// struct; Frame is the variant of all of them. The sender's hot path uses the
// header writers below (STREAM, CRYPTO, DATAGRAM, ACK) and copies data after.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <variant>

#include "lib/bytes.h"
#include "lib/result.h"
#include "lib/varint.h"
#include "quic/connection_id.h"
#include "quic/packet_type.h"

namespace wt::quic {

// Frame type values, RFC 9000 §12.4 Table 3 and RFC 9221 §4.
namespace frame_type {
inline constexpr uint64_t padding = 0x00;
inline constexpr uint64_t ping = 0x01;
inline constexpr uint64_t ack = 0x02;
inline constexpr uint64_t ack_ecn = 0x03;
inline constexpr uint64_t reset_stream = 0x04;
inline constexpr uint64_t stop_sending = 0x05;
inline constexpr uint64_t crypto = 0x06;
inline constexpr uint64_t new_token = 0x07;
inline constexpr uint64_t stream = 0x08;  // 0x08-0x0f, low bits below
inline constexpr uint64_t stream_fin_bit = 0x01;
inline constexpr uint64_t stream_len_bit = 0x02;
inline constexpr uint64_t stream_off_bit = 0x04;
inline constexpr uint64_t stream_max = 0x0f;
inline constexpr uint64_t max_data = 0x10;
inline constexpr uint64_t max_stream_data = 0x11;
inline constexpr uint64_t max_streams_bidi = 0x12;
inline constexpr uint64_t max_streams_uni = 0x13;
inline constexpr uint64_t data_blocked = 0x14;
inline constexpr uint64_t stream_data_blocked = 0x15;
inline constexpr uint64_t streams_blocked_bidi = 0x16;
inline constexpr uint64_t streams_blocked_uni = 0x17;
inline constexpr uint64_t new_connection_id = 0x18;
inline constexpr uint64_t retire_connection_id = 0x19;
inline constexpr uint64_t path_challenge = 0x1a;
inline constexpr uint64_t path_response = 0x1b;
inline constexpr uint64_t connection_close = 0x1c;
inline constexpr uint64_t connection_close_app = 0x1d;
inline constexpr uint64_t handshake_done = 0x1e;
inline constexpr uint64_t datagram = 0x30;      // RFC 9221 §4: no Length field
inline constexpr uint64_t datagram_len = 0x31;  // RFC 9221 §4: with Length field
}  // namespace frame_type

// RFC 9000 §19.11, §19.14: stream counts cannot exceed 2^60.
inline constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;

namespace detail {
inline bool bytes_equal(Bytes a, Bytes b) { return std::ranges::equal(a, b); }
}  // namespace detail

// RFC 9000 §19.1. A run of consecutive PADDING bytes decodes as one frame.
struct PaddingFrame {
  size_t length = 1;
  bool operator==(const PaddingFrame&) const = default;
};

// RFC 9000 §19.2
struct PingFrame {
  bool operator==(const PingFrame&) const = default;
};

// RFC 9000 §19.3.2
struct EcnCounts {
  uint64_t ect0 = 0;
  uint64_t ect1 = 0;
  uint64_t ce = 0;
  bool operator==(const EcnCounts&) const = default;
};

// An inclusive range of acknowledged packet numbers.
struct AckRange {
  uint64_t smallest = 0;
  uint64_t largest = 0;
  bool operator==(const AckRange&) const = default;
};

// Walks the ranges of an ACK frame in descending order. For a frame produced
// by decode_frame every range was validated, so iteration cannot fail; for a
// hand-built frame with bad bytes it stops early.
class AckRangeIterator {
 public:
  using value_type = AckRange;
  using difference_type = std::ptrdiff_t;
  using iterator_category = std::input_iterator_tag;
  using pointer = const AckRange*;
  using reference = const AckRange&;

  AckRangeIterator() = default;
  AckRangeIterator(AckRange first, Bytes pairs, uint64_t pair_count)
      : p_(pairs.data()), end_(pairs.data() + pairs.size()), left_(pair_count + 1), cur_(first) {}

  const AckRange& operator*() const { return cur_; }
  const AckRange* operator->() const { return &cur_; }
  AckRangeIterator& operator++() {
    if (--left_ == 0) return *this;
    uint64_t gap = 0, len = 0;
    size_t n = varint_decode(p_, end_, gap);
    size_t m = n ? varint_decode(p_ + n, end_, len) : 0;
    if (m == 0) {
      left_ = 0;
      return *this;
    }
    p_ += n + m;
    // RFC 9000 §19.3.1: largest = previous smallest - gap - 2.
    cur_.largest = cur_.smallest - gap - 2;
    cur_.smallest = cur_.largest - len;
    return *this;
  }
  AckRangeIterator operator++(int) {
    AckRangeIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const AckRangeIterator& o) const { return left_ == o.left_; }

 private:
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t left_ = 0;  // ranges still to yield, including the current one
  AckRange cur_;
};

// RFC 9000 §19.3. `ack_delay` is the raw field; the receiver multiplies it by
// 2^ack_delay_exponent microseconds. `encoded_ranges` holds the `range_count`
// (Gap, ACK Range Length) pairs exactly as on the wire.
struct AckFrame {
  uint64_t largest_acknowledged = 0;
  uint64_t ack_delay = 0;
  uint64_t first_ack_range = 0;
  uint64_t range_count = 0;
  Bytes encoded_ranges;
  bool has_ecn = false;  // type 0x03
  EcnCounts ecn;

  AckRangeIterator begin() const {
    return {{largest_acknowledged - first_ack_range, largest_acknowledged}, encoded_ranges,
            range_count};
  }
  AckRangeIterator end() const { return {}; }
  // f(AckRange) for each range, largest first.
  template <class F>
  void for_each_range(F&& f) const {
    for (const AckRange& r : *this) f(r);
  }
  uint64_t smallest_acknowledged() const {
    uint64_t s = largest_acknowledged - first_ack_range;
    for (const AckRange& r : *this) s = r.smallest;
    return s;
  }
  // Compares the acknowledged ranges, not their byte encoding.
  bool operator==(const AckFrame& o) const;
};

// RFC 9000 §19.4
struct ResetStreamFrame {
  uint64_t stream_id = 0;
  uint64_t application_error_code = 0;
  uint64_t final_size = 0;
  bool operator==(const ResetStreamFrame&) const = default;
};

// RFC 9000 §19.5
struct StopSendingFrame {
  uint64_t stream_id = 0;
  uint64_t application_error_code = 0;
  bool operator==(const StopSendingFrame&) const = default;
};

// RFC 9000 §19.6
struct CryptoFrame {
  uint64_t offset = 0;
  Bytes data;
  bool operator==(const CryptoFrame& o) const {
    return offset == o.offset && detail::bytes_equal(data, o.data);
  }
};

// RFC 9000 §19.7
struct NewTokenFrame {
  Bytes token;
  bool operator==(const NewTokenFrame& o) const { return detail::bytes_equal(token, o.token); }
};

// RFC 9000 §19.8. Without a Length field (has_length false) the data runs to
// the end of the packet, so such a frame must be the packet's last.
struct StreamFrame {
  uint64_t stream_id = 0;
  uint64_t offset = 0;
  Bytes data;
  bool fin = false;
  bool has_length = true;
  bool operator==(const StreamFrame& o) const {
    return stream_id == o.stream_id && offset == o.offset && fin == o.fin &&
           has_length == o.has_length && detail::bytes_equal(data, o.data);
  }
};

// RFC 9000 §19.9
struct MaxDataFrame {
  uint64_t maximum_data = 0;
  bool operator==(const MaxDataFrame&) const = default;
};

// RFC 9000 §19.10
struct MaxStreamDataFrame {
  uint64_t stream_id = 0;
  uint64_t maximum_stream_data = 0;
  bool operator==(const MaxStreamDataFrame&) const = default;
};

// RFC 9000 §19.11
struct MaxStreamsFrame {
  bool bidirectional = true;
  uint64_t maximum_streams = 0;
  bool operator==(const MaxStreamsFrame&) const = default;
};

// RFC 9000 §19.12
struct DataBlockedFrame {
  uint64_t maximum_data = 0;
  bool operator==(const DataBlockedFrame&) const = default;
};

// RFC 9000 §19.13
struct StreamDataBlockedFrame {
  uint64_t stream_id = 0;
  uint64_t maximum_stream_data = 0;
  bool operator==(const StreamDataBlockedFrame&) const = default;
};

// RFC 9000 §19.14
struct StreamsBlockedFrame {
  bool bidirectional = true;
  uint64_t maximum_streams = 0;
  bool operator==(const StreamsBlockedFrame&) const = default;
};

// RFC 9000 §19.15
struct NewConnectionIdFrame {
  uint64_t sequence_number = 0;
  uint64_t retire_prior_to = 0;
  ConnectionId connection_id;
  StatelessResetToken stateless_reset_token{};
  bool operator==(const NewConnectionIdFrame&) const = default;
};

// RFC 9000 §19.16
struct RetireConnectionIdFrame {
  uint64_t sequence_number = 0;
  bool operator==(const RetireConnectionIdFrame&) const = default;
};

// RFC 9000 §19.17. The 8 bytes are copied: a PATH_RESPONSE echoes them later.
struct PathChallengeFrame {
  std::array<uint8_t, 8> data{};
  bool operator==(const PathChallengeFrame&) const = default;
};

// RFC 9000 §19.18
struct PathResponseFrame {
  std::array<uint8_t, 8> data{};
  bool operator==(const PathResponseFrame&) const = default;
};

// RFC 9000 §19.19. Type 0x1c (transport: error_code is a TransportError and
// frame_type is carried) or 0x1d (application: frame_type is not encoded).
struct ConnectionCloseFrame {
  bool application = false;
  uint64_t error_code = 0;
  uint64_t frame_type = 0;
  Bytes reason;
  bool operator==(const ConnectionCloseFrame& o) const {
    return application == o.application && error_code == o.error_code &&
           (application || frame_type == o.frame_type) && detail::bytes_equal(reason, o.reason);
  }
};

// RFC 9000 §19.20
struct HandshakeDoneFrame {
  bool operator==(const HandshakeDoneFrame&) const = default;
};

// RFC 9221 §4. Without a Length field the data runs to the end of the packet.
struct DatagramFrame {
  Bytes data;
  bool has_length = true;
  bool operator==(const DatagramFrame& o) const {
    return has_length == o.has_length && detail::bytes_equal(data, o.data);
  }
};

using Frame = std::variant<PaddingFrame, PingFrame, AckFrame, ResetStreamFrame, StopSendingFrame,
                           CryptoFrame, NewTokenFrame, StreamFrame, MaxDataFrame,
                           MaxStreamDataFrame, MaxStreamsFrame, DataBlockedFrame,
                           StreamDataBlockedFrame, StreamsBlockedFrame, NewConnectionIdFrame,
                           RetireConnectionIdFrame, PathChallengeFrame, PathResponseFrame,
                           ConnectionCloseFrame, HandshakeDoneFrame, DatagramFrame>;

// ---------------------------------------------------------------------------
// Generic codec.

// Decodes one frame and advances the reader past it. Malformed input yields
// FRAME_ENCODING_ERROR with the frame type set; a frame type with a
// non-minimal encoding yields PROTOCOL_VIOLATION (RFC 9000 §12.4). On error
// the reader is marked failed. DATAGRAM frames are decoded regardless of
// negotiation; the connection checks max_datagram_frame_size (RFC 9221 §3).
Result<Frame> decode_frame(Reader& r);

// The same for a frame whose first byte is known to be a STREAM type
// (is_stream_frame_type) or an ACK type (0x02/0x03), into `out`: no Frame
// variant, for the receive path's common frames. Another type is a
// FRAME_ENCODING_ERROR.
Status decode_stream_frame(Reader& r, StreamFrame& out);
Status decode_ack_frame(Reader& r, AckFrame& out);
constexpr bool is_stream_frame_type(uint8_t b) { return (b & ~7u) == frame_type::stream; }
constexpr bool is_ack_frame_type(uint8_t b) {
  return b == frame_type::ack || b == frame_type::ack_ecn;
}

// Number of consecutive zero bytes at the start of `b` (a PADDING run).
size_t padding_run_length(Bytes b);

size_t encoded_size(const Frame& f);
// Writes `f`; false (and the writer failed) if it does not fit or holds a
// value that cannot be encoded (varint > 2^62-1, empty CID, ...).
bool encode_frame(Writer& w, const Frame& f);
// The wire type the frame encodes with (e.g. 0x0e for STREAM with OFF+LEN).
uint64_t frame_type_of(const Frame& f);
const char* frame_name(uint64_t type);
const char* frame_name(const Frame& f);

// ---------------------------------------------------------------------------
// Frame type properties.

constexpr bool is_known_frame_type(uint64_t t) {
  return t <= frame_type::handshake_done || t == frame_type::datagram ||
         t == frame_type::datagram_len;
}

// RFC 9000 §12.4 Table 3 ("Pkts"); receipt elsewhere is PROTOCOL_VIOLATION.
constexpr bool frame_allowed_in(uint64_t t, PacketType pt) {
  namespace ft = frame_type;
  switch (pt) {
    case PacketType::initial:
    case PacketType::handshake:
      // Only CONNECTION_CLOSE of type 0x1c ("ih").
      return t == ft::padding || t == ft::ping || t == ft::ack || t == ft::ack_ecn ||
             t == ft::crypto || t == ft::connection_close;
    case PacketType::zero_rtt:
      // RFC 9001 §4: these cannot be sent in 0-RTT; a server MAY treat
      // receipt as PROTOCOL_VIOLATION, and we do.
      return is_known_frame_type(t) && t != ft::ack && t != ft::ack_ecn && t != ft::crypto &&
             t != ft::handshake_done && t != ft::new_token && t != ft::path_response &&
             t != ft::retire_connection_id;
    case PacketType::one_rtt:
      return is_known_frame_type(t);
    default:
      return false;  // Retry and Version Negotiation carry no frames
  }
}

// RFC 9002 §2: all frames except ACK, PADDING and CONNECTION_CLOSE.
constexpr bool is_ack_eliciting(uint64_t t) {
  return t != frame_type::padding && t != frame_type::ack && t != frame_type::ack_ecn &&
         t != frame_type::connection_close && t != frame_type::connection_close_app;
}

// RFC 9002 §2: in-flight packets carry an ack-eliciting frame or PADDING.
constexpr bool counts_in_flight(uint64_t t) {
  return t == frame_type::padding || is_ack_eliciting(t);
}

// RFC 9000 §9.1: packets of only these frames are probing packets.
constexpr bool is_probing_frame(uint64_t t) {
  return t == frame_type::padding || t == frame_type::new_connection_id ||
         t == frame_type::path_challenge || t == frame_type::path_response;
}

// ---------------------------------------------------------------------------
// Sender fast path: write a frame header, then copy the payload after it.

namespace detail {
// Largest L with L + varint_size(L) <= rem (rem >= 1).
constexpr uint64_t max_len_with_prefix(uint64_t rem) {
  uint64_t l = rem - varint_size(std::min(rem, kVarintMax));
  size_t n = varint_size(l);
  uint64_t limit = n == 1 ? 63 : n == 2 ? 16383 : n == 4 ? 1073741823 : kVarintMax;
  return std::min(rem - n, limit);
}
}  // namespace detail

// RFC 9000 §19.8: type, Stream ID, [Offset], [Length]. Offset 0 is omitted.
constexpr size_t stream_frame_header_size(uint64_t stream_id, uint64_t offset, uint64_t length,
                                          bool with_length) {
  return 1 + varint_size(stream_id) + (offset ? varint_size(offset) : 0) +
         (with_length ? varint_size(length) : 0);
}

// Writes a STREAM frame header for `length` bytes of data that the caller
// copies right after. False (nothing written, writer failed) if it does not
// fit or offset + length > 2^62-1.
inline bool write_stream_frame_header(Writer& w, uint64_t stream_id, uint64_t offset,
                                      uint64_t length, bool fin, bool with_length) {
  if (stream_id > kVarintMax || offset > kVarintMax || length > kVarintMax - offset) {
    return w.fail();
  }
  size_t h = stream_frame_header_size(stream_id, offset, length, with_length);
  if (w.remaining() < h) return w.fail();
  uint8_t* p = w.pos();
  uint8_t type = static_cast<uint8_t>(frame_type::stream | (offset ? frame_type::stream_off_bit : 0) |
                                      (with_length ? frame_type::stream_len_bit : 0) |
                                      (fin ? frame_type::stream_fin_bit : 0));
  *p++ = type;
  p = varint_encode(p, stream_id);
  if (offset) p = varint_encode(p, offset);
  if (with_length) varint_encode(p, length);
  return w.skip(h);
}

// Header plus data.
inline bool write_stream_frame(Writer& w, uint64_t stream_id, uint64_t offset, Bytes data,
                               bool fin, bool with_length) {
  return write_stream_frame_header(w, stream_id, offset, data.size(), fin, with_length) &&
         w.bytes(data);
}

// The most stream data that fits in a STREAM frame of at most `budget` bytes
// (0 if not even one byte does; a FIN-only frame fits when
// stream_frame_header_size(id, offset, 0, with_length) <= budget).
constexpr size_t max_stream_data_fitting(size_t budget, uint64_t stream_id, uint64_t offset,
                                         bool with_length) {
  size_t fixed = 1 + varint_size(stream_id) + (offset ? varint_size(offset) : 0);
  if (budget <= fixed) return 0;
  uint64_t rem = budget - fixed;
  if (!with_length) return static_cast<size_t>(rem);
  return rem < 2 ? 0 : static_cast<size_t>(detail::max_len_with_prefix(rem));
}

// RFC 9000 §19.6: type, Offset, Length.
constexpr size_t crypto_frame_header_size(uint64_t offset, uint64_t length) {
  return 1 + varint_size(offset) + varint_size(length);
}

inline bool write_crypto_frame_header(Writer& w, uint64_t offset, uint64_t length) {
  if (offset > kVarintMax || length > kVarintMax - offset) return w.fail();
  size_t h = crypto_frame_header_size(offset, length);
  if (w.remaining() < h) return w.fail();
  uint8_t* p = w.pos();
  *p++ = static_cast<uint8_t>(frame_type::crypto);
  p = varint_encode(p, offset);
  varint_encode(p, length);
  return w.skip(h);
}

constexpr size_t max_crypto_data_fitting(size_t budget, uint64_t offset) {
  size_t fixed = 1 + varint_size(offset);
  if (budget < fixed + 2) return 0;
  return static_cast<size_t>(detail::max_len_with_prefix(budget - fixed));
}

// RFC 9221 §4: type 0x30 (no Length) or 0x31 (Length).
constexpr size_t datagram_frame_header_size(uint64_t length, bool with_length) {
  return 1 + (with_length ? varint_size(length) : 0);
}
constexpr size_t datagram_frame_size(uint64_t length, bool with_length) {
  return datagram_frame_header_size(length, with_length) + length;
}

inline bool write_datagram_frame_header(Writer& w, uint64_t length, bool with_length) {
  if (length > kVarintMax) return w.fail();
  size_t h = datagram_frame_header_size(length, with_length);
  if (w.remaining() < h) return w.fail();
  uint8_t* p = w.pos();
  *p++ = static_cast<uint8_t>(with_length ? frame_type::datagram_len : frame_type::datagram);
  if (with_length) varint_encode(p, length);
  return w.skip(h);
}

// The largest datagram payload a DATAGRAM frame of at most `budget` bytes
// holds (also: the payload limit implied by max_datagram_frame_size).
constexpr size_t max_datagram_data_fitting(size_t budget, bool with_length) {
  if (budget < 2) return 0;
  if (!with_length) return budget - 1;
  return static_cast<size_t>(detail::max_len_with_prefix(budget - 1));
}

// ---------------------------------------------------------------------------
// ACK encoding from the receiver's ranges. `ranges` is in descending order,
// non-empty, each smallest <= largest, and separated by at least one missing
// packet (next.largest + 2 <= prev.smallest). `ecn` null: type 0x02.

size_t ack_frame_size(std::span<const AckRange> ranges, uint64_t ack_delay,
                      const EcnCounts* ecn);
// False (writer failed) if the ranges are invalid or the frame does not fit.
bool encode_ack(Writer& w, std::span<const AckRange> ranges, uint64_t ack_delay,
                const EcnCounts* ecn);
// How many leading (newest) ranges fit in `budget` bytes; 0 if none does.
size_t ack_ranges_fitting(std::span<const AckRange> ranges, uint64_t ack_delay,
                          const EcnCounts* ecn, size_t budget);
// Encodes as many leading ranges as fit in min(budget, w.remaining()),
// dropping the oldest. Returns the number of ranges written; 0 when not even
// one range fits (nothing written, writer still ok) or the ranges are invalid
// (writer failed).
size_t encode_ack_within(Writer& w, std::span<const AckRange> ranges, uint64_t ack_delay,
                         const EcnCounts* ecn, size_t budget);

}  // namespace wt::quic
