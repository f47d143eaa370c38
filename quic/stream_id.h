// Stream identifiers (RFC 9000 §2.1): the two low bits give the initiator
// (bit 0: 0 client, 1 server) and the direction (bit 1: 0 bidi, 1 uni); the
// rest is the index among streams of that type, in opening order.
#pragma once
#include <cstdint>

#include "quic/role.h"

namespace wt::quic {

enum class StreamDir : uint8_t { bidi, uni };

// RFC 9000 §4.6: at most 2^60 streams of each type, so index < 2^60 and every
// stream ID fits a varint (< 2^62).
inline constexpr uint64_t kMaxStreamsPerType = uint64_t{1} << 60;

constexpr Role stream_initiator(uint64_t id) { return (id & 1) ? Role::server : Role::client; }
constexpr StreamDir stream_dir(uint64_t id) { return (id & 2) ? StreamDir::uni : StreamDir::bidi; }
constexpr bool is_bidi_stream(uint64_t id) { return (id & 2) == 0; }
constexpr uint64_t stream_index(uint64_t id) { return id >> 2; }
// 0..3: client bidi, server bidi, client uni, server uni.
constexpr unsigned stream_type_bits(uint64_t id) { return static_cast<unsigned>(id & 3); }

// `index` must be < kMaxStreamsPerType.
constexpr uint64_t make_stream_id(uint64_t index, Role initiator, StreamDir dir) {
  return (index << 2) | (dir == StreamDir::uni ? 2u : 0u) | (initiator == Role::server ? 1u : 0u);
}

// Opened by the endpoint playing `local`.
constexpr bool is_local_stream(uint64_t id, Role local) { return stream_initiator(id) == local; }

// RFC 9000 §2.1: a unidirectional stream carries data from its initiator only.
constexpr bool can_send_on(uint64_t id, Role local) {
  return is_bidi_stream(id) || is_local_stream(id, local);
}
constexpr bool can_recv_on(uint64_t id, Role local) {
  return is_bidi_stream(id) || !is_local_stream(id, local);
}

}  // namespace wt::quic
