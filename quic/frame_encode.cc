// Frame encoding, sizes and names (RFC 9000 §19, RFC 9221 §4).
#include <algorithm>

#include "quic/frame.h"

namespace wt::quic {
namespace {

namespace ft = frame_type;

constexpr size_t vs(uint64_t v) { return varint_size(v); }

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Re-runs the decoder's RFC 9000 §19.3.1 checks over hand-built ACK bytes so
// that encode_frame never emits an ACK the peer would reject.
bool ack_pairs_valid(const AckFrame& f) {
  if (f.first_ack_range > f.largest_acknowledged) return false;
  uint64_t smallest = f.largest_acknowledged - f.first_ack_range;
  const uint8_t* p = f.encoded_ranges.data();
  const uint8_t* end = p + f.encoded_ranges.size();
  for (uint64_t i = 0; i < f.range_count; ++i) {
    uint64_t gap, len;
    size_t n = varint_decode(p, end, gap);
    if (n == 0) return false;
    p += n;
    n = varint_decode(p, end, len);
    if (n == 0) return false;
    p += n;
    if (gap + 2 > smallest) return false;
    uint64_t largest = smallest - gap - 2;
    if (len > largest) return false;
    smallest = largest - len;
  }
  return p == end;
}

size_t size_of(const PaddingFrame& f) { return f.length; }
size_t size_of(const PingFrame&) { return 1; }
size_t size_of(const AckFrame& f) {
  return 1 + vs(f.largest_acknowledged) + vs(f.ack_delay) + vs(f.range_count) +
         vs(f.first_ack_range) + f.encoded_ranges.size() +
         (f.has_ecn ? vs(f.ecn.ect0) + vs(f.ecn.ect1) + vs(f.ecn.ce) : 0);
}
size_t size_of(const ResetStreamFrame& f) {
  return 1 + vs(f.stream_id) + vs(f.application_error_code) + vs(f.final_size);
}
size_t size_of(const StopSendingFrame& f) {
  return 1 + vs(f.stream_id) + vs(f.application_error_code);
}
size_t size_of(const CryptoFrame& f) {
  return crypto_frame_header_size(f.offset, f.data.size()) + f.data.size();
}
size_t size_of(const NewTokenFrame& f) { return 1 + vs(f.token.size()) + f.token.size(); }
size_t size_of(const StreamFrame& f) {
  return stream_frame_header_size(f.stream_id, f.offset, f.data.size(), f.has_length) +
         f.data.size();
}
size_t size_of(const MaxDataFrame& f) { return 1 + vs(f.maximum_data); }
size_t size_of(const MaxStreamDataFrame& f) {
  return 1 + vs(f.stream_id) + vs(f.maximum_stream_data);
}
size_t size_of(const MaxStreamsFrame& f) { return 1 + vs(f.maximum_streams); }
size_t size_of(const DataBlockedFrame& f) { return 1 + vs(f.maximum_data); }
size_t size_of(const StreamDataBlockedFrame& f) {
  return 1 + vs(f.stream_id) + vs(f.maximum_stream_data);
}
size_t size_of(const StreamsBlockedFrame& f) { return 1 + vs(f.maximum_streams); }
size_t size_of(const NewConnectionIdFrame& f) {
  return 1 + vs(f.sequence_number) + vs(f.retire_prior_to) + 1 + f.connection_id.size() +
         f.stateless_reset_token.size();
}
size_t size_of(const RetireConnectionIdFrame& f) { return 1 + vs(f.sequence_number); }
size_t size_of(const PathChallengeFrame&) { return 9; }
size_t size_of(const PathResponseFrame&) { return 9; }
size_t size_of(const ConnectionCloseFrame& f) {
  return 1 + vs(f.error_code) + (f.application ? 0 : vs(f.frame_type)) + vs(f.reason.size()) +
         f.reason.size();
}
size_t size_of(const HandshakeDoneFrame&) { return 1; }
size_t size_of(const DatagramFrame& f) { return datagram_frame_size(f.data.size(), f.has_length); }

bool write(Writer& w, const PaddingFrame& f) { return f.length > 0 ? w.zeros(f.length) : w.fail(); }
bool write(Writer& w, const PingFrame&) { return w.u8(ft::ping); }
bool write(Writer& w, const AckFrame& f) {
  if (!ack_pairs_valid(f)) return w.fail();
  w.u8(static_cast<uint8_t>(f.has_ecn ? ft::ack_ecn : ft::ack));
  w.varint(f.largest_acknowledged);
  w.varint(f.ack_delay);
  w.varint(f.range_count);
  w.varint(f.first_ack_range);
  w.bytes(f.encoded_ranges);
  if (f.has_ecn) {
    w.varint(f.ecn.ect0);
    w.varint(f.ecn.ect1);
    w.varint(f.ecn.ce);
  }
  return w.ok();
}
bool write(Writer& w, const ResetStreamFrame& f) {
  w.u8(ft::reset_stream);
  w.varint(f.stream_id);
  w.varint(f.application_error_code);
  return w.varint(f.final_size);
}
bool write(Writer& w, const StopSendingFrame& f) {
  w.u8(ft::stop_sending);
  w.varint(f.stream_id);
  return w.varint(f.application_error_code);
}
bool write(Writer& w, const CryptoFrame& f) {
  return write_crypto_frame_header(w, f.offset, f.data.size()) && w.bytes(f.data);
}
bool write(Writer& w, const NewTokenFrame& f) {
  if (f.token.empty()) return w.fail();  // RFC 9000 §19.7
  w.u8(ft::new_token);
  w.varint(f.token.size());
  return w.bytes(f.token);
}
bool write(Writer& w, const StreamFrame& f) {
  return write_stream_frame(w, f.stream_id, f.offset, f.data, f.fin, f.has_length);
}
bool write(Writer& w, const MaxDataFrame& f) {
  w.u8(ft::max_data);
  return w.varint(f.maximum_data);
}
bool write(Writer& w, const MaxStreamDataFrame& f) {
  w.u8(ft::max_stream_data);
  w.varint(f.stream_id);
  return w.varint(f.maximum_stream_data);
}
bool write(Writer& w, const MaxStreamsFrame& f) {
  if (f.maximum_streams > kMaxStreamCount) return w.fail();  // RFC 9000 §19.11
  w.u8(f.bidirectional ? ft::max_streams_bidi : ft::max_streams_uni);
  return w.varint(f.maximum_streams);
}
bool write(Writer& w, const DataBlockedFrame& f) {
  w.u8(ft::data_blocked);
  return w.varint(f.maximum_data);
}
bool write(Writer& w, const StreamDataBlockedFrame& f) {
  w.u8(ft::stream_data_blocked);
  w.varint(f.stream_id);
  return w.varint(f.maximum_stream_data);
}
bool write(Writer& w, const StreamsBlockedFrame& f) {
  if (f.maximum_streams > kMaxStreamCount) return w.fail();  // RFC 9000 §19.14
  w.u8(f.bidirectional ? ft::streams_blocked_bidi : ft::streams_blocked_uni);
  return w.varint(f.maximum_streams);
}
bool write(Writer& w, const NewConnectionIdFrame& f) {
  // RFC 9000 §19.15: CID length 1..20, Retire Prior To <= Sequence Number.
  if (f.connection_id.empty() || f.retire_prior_to > f.sequence_number) return w.fail();
  w.u8(ft::new_connection_id);
  w.varint(f.sequence_number);
  w.varint(f.retire_prior_to);
  w.u8(static_cast<uint8_t>(f.connection_id.size()));
  w.bytes(f.connection_id.bytes());
  return w.bytes(f.stateless_reset_token);
}
bool write(Writer& w, const RetireConnectionIdFrame& f) {
  w.u8(ft::retire_connection_id);
  return w.varint(f.sequence_number);
}
bool write(Writer& w, const PathChallengeFrame& f) {
  w.u8(ft::path_challenge);
  return w.bytes(f.data);
}
bool write(Writer& w, const PathResponseFrame& f) {
  w.u8(ft::path_response);
  return w.bytes(f.data);
}
bool write(Writer& w, const ConnectionCloseFrame& f) {
  w.u8(f.application ? ft::connection_close_app : ft::connection_close);
  w.varint(f.error_code);
  if (!f.application) w.varint(f.frame_type);
  w.varint(f.reason.size());
  return w.bytes(f.reason);
}
bool write(Writer& w, const HandshakeDoneFrame&) { return w.u8(ft::handshake_done); }
bool write(Writer& w, const DatagramFrame& f) {
  return write_datagram_frame_header(w, f.data.size(), f.has_length) && w.bytes(f.data);
}

// Sum of the (gap, length) pair sizes for ranges[1..k).
size_t ack_pair_size(const AckRange& prev, const AckRange& cur) {
  return vs(prev.smallest - cur.largest - 2) + vs(cur.largest - cur.smallest);
}

size_t ack_fixed_size(const AckRange& first, uint64_t ack_delay, const EcnCounts* ecn) {
  return 1 + vs(first.largest) + vs(ack_delay) + vs(first.largest - first.smallest) +
         (ecn ? vs(ecn->ect0) + vs(ecn->ect1) + vs(ecn->ce) : 0);
}

bool ack_ranges_valid(std::span<const AckRange> ranges) {
  if (ranges.empty()) return false;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const AckRange& r = ranges[i];
    if (r.smallest > r.largest || r.largest > kVarintMax) return false;
    // RFC 9000 §19.3.1: a Gap of 0 means one missing packet, so ranges must
    // be separated by at least one unacknowledged packet.
    if (i > 0 && r.largest + 2 > ranges[i - 1].smallest) return false;
  }
  return true;
}

}  // namespace

size_t encoded_size(const Frame& f) {
  return std::visit([](const auto& x) { return size_of(x); }, f);
}

bool encode_frame(Writer& w, const Frame& f) {
  return std::visit([&w](const auto& x) { return write(w, x); }, f);
}

uint64_t frame_type_of(const Frame& f) {
  return std::visit(
      Overloaded{
          [](const PaddingFrame&) { return ft::padding; },
          [](const PingFrame&) { return ft::ping; },
          [](const AckFrame& x) { return x.has_ecn ? ft::ack_ecn : ft::ack; },
          [](const ResetStreamFrame&) { return ft::reset_stream; },
          [](const StopSendingFrame&) { return ft::stop_sending; },
          [](const CryptoFrame&) { return ft::crypto; },
          [](const NewTokenFrame&) { return ft::new_token; },
          [](const StreamFrame& x) {
            return ft::stream | (x.offset ? ft::stream_off_bit : 0) |
                   (x.has_length ? ft::stream_len_bit : 0) | (x.fin ? ft::stream_fin_bit : 0);
          },
          [](const MaxDataFrame&) { return ft::max_data; },
          [](const MaxStreamDataFrame&) { return ft::max_stream_data; },
          [](const MaxStreamsFrame& x) {
            return x.bidirectional ? ft::max_streams_bidi : ft::max_streams_uni;
          },
          [](const DataBlockedFrame&) { return ft::data_blocked; },
          [](const StreamDataBlockedFrame&) { return ft::stream_data_blocked; },
          [](const StreamsBlockedFrame& x) {
            return x.bidirectional ? ft::streams_blocked_bidi : ft::streams_blocked_uni;
          },
          [](const NewConnectionIdFrame&) { return ft::new_connection_id; },
          [](const RetireConnectionIdFrame&) { return ft::retire_connection_id; },
          [](const PathChallengeFrame&) { return ft::path_challenge; },
          [](const PathResponseFrame&) { return ft::path_response; },
          [](const ConnectionCloseFrame& x) {
            return x.application ? ft::connection_close_app : ft::connection_close;
          },
          [](const HandshakeDoneFrame&) { return ft::handshake_done; },
          [](const DatagramFrame& x) { return x.has_length ? ft::datagram_len : ft::datagram; },
      },
      f);
}

const char* frame_name(uint64_t type) {
  if (type >= ft::stream && type <= ft::stream_max) return "STREAM";
  switch (type) {
    case ft::padding: return "PADDING";
    case ft::ping: return "PING";
    case ft::ack:
    case ft::ack_ecn: return "ACK";
    case ft::reset_stream: return "RESET_STREAM";
    case ft::stop_sending: return "STOP_SENDING";
    case ft::crypto: return "CRYPTO";
    case ft::new_token: return "NEW_TOKEN";
    case ft::max_data: return "MAX_DATA";
    case ft::max_stream_data: return "MAX_STREAM_DATA";
    case ft::max_streams_bidi:
    case ft::max_streams_uni: return "MAX_STREAMS";
    case ft::data_blocked: return "DATA_BLOCKED";
    case ft::stream_data_blocked: return "STREAM_DATA_BLOCKED";
    case ft::streams_blocked_bidi:
    case ft::streams_blocked_uni: return "STREAMS_BLOCKED";
    case ft::new_connection_id: return "NEW_CONNECTION_ID";
    case ft::retire_connection_id: return "RETIRE_CONNECTION_ID";
    case ft::path_challenge: return "PATH_CHALLENGE";
    case ft::path_response: return "PATH_RESPONSE";
    case ft::connection_close:
    case ft::connection_close_app: return "CONNECTION_CLOSE";
    case ft::handshake_done: return "HANDSHAKE_DONE";
    case ft::datagram:
    case ft::datagram_len: return "DATAGRAM";
    default: return "UNKNOWN";
  }
}

const char* frame_name(const Frame& f) { return frame_name(frame_type_of(f)); }

size_t ack_frame_size(std::span<const AckRange> ranges, uint64_t ack_delay,
                      const EcnCounts* ecn) {
  if (ranges.empty()) return 0;
  size_t n = ack_fixed_size(ranges[0], ack_delay, ecn) + vs(ranges.size() - 1);
  for (size_t i = 1; i < ranges.size(); ++i) n += ack_pair_size(ranges[i - 1], ranges[i]);
  return n;
}

bool encode_ack(Writer& w, std::span<const AckRange> ranges, uint64_t ack_delay,
                const EcnCounts* ecn) {
  if (!ack_ranges_valid(ranges) || ack_delay > kVarintMax) return w.fail();
  if (w.remaining() < ack_frame_size(ranges, ack_delay, ecn)) return w.fail();
  // RFC 9000 §19.3
  w.u8(static_cast<uint8_t>(ecn ? ft::ack_ecn : ft::ack));
  w.varint(ranges[0].largest);
  w.varint(ack_delay);
  w.varint(ranges.size() - 1);
  w.varint(ranges[0].largest - ranges[0].smallest);
  for (size_t i = 1; i < ranges.size(); ++i) {
    w.varint(ranges[i - 1].smallest - ranges[i].largest - 2);  // Gap
    w.varint(ranges[i].largest - ranges[i].smallest);          // ACK Range Length
  }
  if (ecn) {  // RFC 9000 §19.3.2
    w.varint(ecn->ect0);
    w.varint(ecn->ect1);
    w.varint(ecn->ce);
  }
  return w.ok();
}

size_t ack_ranges_fitting(std::span<const AckRange> ranges, uint64_t ack_delay,
                          const EcnCounts* ecn, size_t budget) {
  if (ranges.empty()) return 0;
  size_t base = ack_fixed_size(ranges[0], ack_delay, ecn);
  if (base + 1 > budget) return 0;
  size_t pairs = 0;
  size_t k = 1;
  for (; k < ranges.size(); ++k) {
    size_t next = pairs + ack_pair_size(ranges[k - 1], ranges[k]);
    if (base + vs(k) + next > budget) break;  // Range Count would become k
    pairs = next;
  }
  return k;
}

size_t encode_ack_within(Writer& w, std::span<const AckRange> ranges, uint64_t ack_delay,
                         const EcnCounts* ecn, size_t budget) {
  size_t k = ack_ranges_fitting(ranges, ack_delay, ecn, std::min(budget, w.remaining()));
  if (k == 0) return 0;
  return encode_ack(w, ranges.first(k), ack_delay, ecn) ? k : 0;
}

}  // namespace wt::quic
